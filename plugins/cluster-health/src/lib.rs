//! `cluster-health`: is the cluster up? The operator's `kafka-topics.sh --list` and
//! `kafka-metadata-quorum.sh describe --status`, read the way they would read them.
//!
//! - the ids of brokers that hold replicas but are not registered: those are down
//!   (`broker.down`, the only way this check concludes it);
//! - brokers registered vs expected (`expect_brokers`, else the `bootstrap` list's length):
//!   fewer registered than expected is `broker.missing` — a count, not a named broker;
//! - no broker answering at all is its own outcome: `kafka.unreachable`, fact
//!   `reachable=false` — never `broker.down` (issue 7, item 13: a misspelt bootstrap host
//!   was reported as "brokers are down", and a broker restarted for it);
//! - an active controller (the KRaft quorum leader), and quorum voters caught up;
//! - partitions without a leader;
//! - topics listable at all.
//!
//! Params: `expect_brokers` (number), `bootstrap` (the list the application uses; its
//! length is the expected broker count when `expect_brokers` is absent), `max_voter_lag`
//! (metadata records a voter may trail by, default 1000).

use std::collections::BTreeSet;

use serde::Deserialize;
use triage_sdk::kafka::{self, Cluster};
use triage_sdk::{Check, Finding, HostError, PluginInfo, Report, RunError, cause, export_check};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    expect_brokers: Option<u32>,
    #[serde(default)]
    bootstrap: Option<String>,
    #[serde(default = "default_max_voter_lag")]
    max_voter_lag: i64,
}

fn default_max_voter_lag() -> i64 {
    1000
}

struct ClusterHealth;

impl Check for ClusterHealth {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "cluster-health",
            "Is the cluster up? Brokers vs expected, controller, KRaft quorum, leaderless partitions",
        )
        .param("expect_brokers", "How many brokers should be registered", false)
        .param("bootstrap", "Bootstrap list; its length is the expected count by default", false)
        .param("max_voter_lag", "Records a quorum voter may trail by (default 1000)", false)
        .needs("kafka")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let cluster = match kafka::metadata(&[]) {
            Ok(cluster) => cluster,
            Err(error @ HostError::Unavailable(_) | error @ HostError::Timeout) => {
                return Ok(kafka::unavailable_report("metadata", &error));
            }
            Err(error) => return Err(error.into()),
        };
        let mut report = Report::new("");
        let live: BTreeSet<i32> = cluster.brokers.iter().map(|b| b.id).collect();
        let missing = missing_brokers(&cluster, &live);
        let expected = params.expect_brokers.or_else(|| {
            params
                .bootstrap
                .as_deref()
                .map(|b| b.split(',').filter(|s| !s.trim().is_empty()).count() as u32)
        });

        if !missing.is_empty() {
            report.push(brokers_down(&cluster, &missing, &live));
        }
        if let Some(expected) = expected
            && (live.len() as u32) < expected
            && missing.is_empty()
        {
            // A count names no broker, and a bootstrap list's length is only a guess at the
            // cluster's size (it may list a load balancer, or a subset): a warning of its
            // own, unless the playbook stated the size.
            let title = format!(
                "{} of {expected} expected brokers are registered",
                live.len()
            );
            let finding = if params.expect_brokers.is_some() {
                Finding::fail("broker.missing", title)
            } else {
                Finding::warn(
                    "broker.missing",
                    format!("{title} (expected: one per bootstrap server)"),
                )
            };
            report.push(
                finding
                    .cause("broker.missing")
                    .evidence("kafka.metadata", format!("registered brokers: {:?}", live))
                    .fix("Start the missing brokers and check that they can reach the controller."),
            );
        }

        let mode = check_controller(&cluster, params.max_voter_lag, &mut report);

        let leaderless: Vec<String> = cluster
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .filter(|p| p.leader.is_none())
                    .map(move |p| format!("{}-{}", t.name, p.id))
            })
            .collect();
        if !leaderless.is_empty() {
            let mut finding = Finding::fail(
                "partition.offline",
                format!("{} partitions have no leader: nothing can be written to them", leaderless.len()),
            )
            .cause(cause::PARTITION_OFFLINE)
            .fix("Bring back the brokers holding their replicas; an offline partition has no live replica to lead.");
            for partition in leaderless.iter().take(10) {
                finding = finding.evidence("kafka.metadata", partition);
            }
            report.push(finding);
        }

        let topics = cluster.topics.iter().filter(|t| !t.internal).count();
        let mut summary = format!("{} brokers up", live.len());
        if let Some(expected) = expected {
            summary = format!("{} of {expected} brokers up", live.len());
        }
        if !missing.is_empty() {
            let ids: Vec<String> = missing.iter().map(ToString::to_string).collect();
            summary.push_str(&format!(" (down: {})", ids.join(", ")));
        }
        match cluster.controller_id {
            Some(id) => summary.push_str(&format!(", controller {id}")),
            None => summary.push_str(", no controller"),
        }
        summary.push_str(&format!(
            ", {topics} topic{}",
            if topics == 1 { "" } else { "s" }
        ));
        Ok(report
            .summary(summary)
            .fact("reachable", true)
            .fact("brokers", live.len())
            .fact("missing_brokers", join(&missing))
            .fact("topics", topics)
            .fact("mode", mode)
            .fact(
                "controller",
                cluster
                    .controller_id
                    .map_or("none".into(), |c| c.to_string()),
            ))
    }
}

export_check!(ClusterHealth);

/// One finding for every broker that holds replicas but is not registered, quoting a few
/// of the partitions that lost a replica with it.
fn brokers_down(cluster: &Cluster, missing: &[i32], live: &BTreeSet<i32>) -> Finding {
    let ids = join(missing).replace(',', ", ");
    let (noun, verb) = if missing.len() == 1 {
        ("Broker", "is")
    } else {
        ("Brokers", "are")
    };
    let mut finding = Finding::fail(
        "broker.down",
        format!("{noun} {ids} {verb} down: holding replicas but not registered"),
    )
    .cause(cause::BROKER_DOWN)
    .evidence("kafka.metadata", format!("registered brokers: {live:?}"))
    .fix(format!(
        "Restart {} {ids} (e.g. `systemctl restart kafka` on {} host) and read the server.log \
         for why it stopped (disk full, OOM, fenced).",
        noun.to_lowercase(),
        if missing.len() == 1 { "its" } else { "each" }
    ));
    let affected = cluster
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(move |p| (t, p)))
        .filter(|(_, p)| p.replicas.iter().any(|r| missing.contains(r)))
        .take(5);
    for (topic, partition) in affected {
        finding = finding.evidence(
            "kafka.metadata",
            format!(
                "{}-{}: replicas {:?}, ISR {:?}",
                topic.name, partition.id, partition.replicas, partition.isr
            ),
        );
    }
    finding
}

/// Broker ids that hold replicas but are not registered: the cluster expects them.
fn missing_brokers(cluster: &Cluster, live: &BTreeSet<i32>) -> Vec<i32> {
    let assigned: BTreeSet<i32> = cluster
        .topics
        .iter()
        .flat_map(|t| &t.partitions)
        .flat_map(|p| p.replicas.iter().copied())
        .collect();
    assigned.difference(live).copied().collect()
}

/// Controller and quorum findings; returns the cluster's mode (`kraft` or `zookeeper`).
fn check_controller(cluster: &Cluster, max_lag: i64, report: &mut Report) -> &'static str {
    match kafka::describe_quorum() {
        Ok(Some(quorum)) => {
            if quorum.leader_id < 0 {
                report.push(
                    Finding::fail("controller.none", "The KRaft quorum has no leader: no active controller")
                        .cause(cause::CONTROLLER_MISSING)
                        .evidence("kafka.describe-quorum", format!("leader id {}", quorum.leader_id))
                        .fix("Start the controllers; a majority of the voters must be up to elect a leader."),
                );
            }
            for voter in quorum.voters.iter().filter(|v| v.lag > max_lag) {
                report.push(
                    Finding::warn(
                        "quorum.lagging",
                        format!("Controller voter {} trails the metadata log by {} records", voter.id, voter.lag),
                    )
                    .cause(cause::CONTROLLER_MISSING)
                    .evidence(
                        "kafka.describe-quorum",
                        format!(
                            "voter {}: log end offset {}, high watermark {}, last caught up {} ms ago",
                            voter.id,
                            voter.log_end_offset,
                            quorum.high_watermark,
                            voter.last_caught_up_ms_ago.map_or("never".into(), |ms| ms.to_string())
                        ),
                    )
                    .fix("Check that controller's health, disk and network; a lagging voter weakens the quorum."),
                );
            }
            "kraft"
        }
        Ok(None) => {
            if cluster.controller_id.is_none() {
                report.push(
                    Finding::fail("controller.none", "No active controller")
                        .cause(cause::CONTROLLER_MISSING)
                        .evidence("kafka.metadata", "the metadata names no controller")
                        .fix("Check ZooKeeper and the brokers' connection to it; one broker must win the controller election."),
                );
            }
            "zookeeper"
        }
        Err(error) => {
            report.push(
                Finding::info(
                    "quorum.unchecked",
                    "The controller quorum could not be checked",
                )
                .evidence("kafka.describe-quorum", error.reason()),
            );
            "unknown"
        }
    }
}

fn join(ids: &[i32]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
