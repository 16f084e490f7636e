//! `isr-check`: the partitions that make producers lose or stall events, with exactly the
//! semantics of `kafka-topics.sh --describe`'s filters:
//!
//! | filter | condition |
//! | --- | --- |
//! | `--under-replicated-partitions` | \|ISR\| < replicas |
//! | `--under-min-isr-partitions` | no leader, or \|ISR\| < `min.insync.replicas` |
//! | `--at-min-isr-partitions` | \|ISR\| = `min.insync.replicas` |
//! | `--unavailable-partitions` | no live leader |
//!
//! `min.insync.replicas` is the topic's effective config, falling back to the broker's, and
//! it is judged the way the partition leader's Kafka version judges it: since Kafka 3.7
//! (KAFKA-15583, `Partition.effectiveMinIsr` in core/src/main/scala/kafka/cluster/
//! Partition.scala) the leader caps it at the partition's replica count, so a topic with
//! `min.insync.replicas=3` and two replicas accepts acks=all writes while both replicas are
//! in sync; before 3.7 the same topic refuses every acks=all write with NOT_ENOUGH_REPLICAS.
//! The version comes from the leader's ApiVersions answer (see [`MinIsrRule::from_api_versions`]).
//!
//! Params: `topics` (comma-separated names or a list; empty: every topic),
//! `include_internal` (default false).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use triage_sdk::kafka::{self, ConfigResource, Partition, ResourceKind, Topic};
use triage_sdk::min_isr::{MinIsrRule, broker_rules};
use triage_sdk::{Check, Finding, HostError, PluginInfo, Report, RunError, cause, export_check};

/// Partitions quoted per finding; the rest are counted.
const QUOTED: usize = 10;

#[derive(Deserialize)]
#[serde(untagged)]
enum Topics {
    List(Vec<String>),
    Csv(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    topics: Option<Topics>,
    #[serde(default)]
    include_internal: bool,
}

/// What `kafka-topics.sh --describe` would flag for one partition.
#[derive(Debug, Default, PartialEq, Eq)]
struct Flags {
    under_replicated: bool,
    under_min_isr: bool,
    at_min_isr: bool,
    unavailable: bool,
}

/// `min.insync.replicas` as the partition's leader applies it, and the rule used. A leader
/// whose version could not be read is judged like the other brokers (clusters run one
/// version outside rolling upgrades); with no version at all, as Kafka 3.7+ does, and the
/// caller says so.
fn effective_min_isr(
    partition: &Partition,
    configured: usize,
    rules: &BTreeMap<i32, MinIsrRule>,
) -> (usize, Option<MinIsrRule>) {
    let rule = partition
        .leader
        .and_then(|leader| rules.get(&leader).copied())
        .or_else(|| rules.values().next().copied());
    let effective = match rule {
        Some(MinIsrRule::AsConfigured) => configured,
        Some(MinIsrRule::CappedAtReplicas) | None => {
            configured.min(partition.replicas.len().max(1))
        }
    };
    (effective, rule)
}

fn classify(partition: &Partition, live: &BTreeSet<i32>, min_isr: usize) -> Flags {
    let has_live_leader = partition.leader.is_some_and(|l| live.contains(&l));
    let isr = partition.isr.len();
    Flags {
        under_replicated: isr < partition.replicas.len(),
        under_min_isr: !has_live_leader || isr < min_isr,
        at_min_isr: isr == min_isr,
        unavailable: !has_live_leader,
    }
}

struct IsrCheck;

impl Check for IsrCheck {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "isr-check",
            "Under-replicated, under-min-ISR, at-min-ISR and unavailable partitions (kafka-topics --describe semantics)",
        )
        .param("topics", "Topics to check: comma-separated or a list (default: all)", false)
        .param("include_internal", "Also check internal topics such as __consumer_offsets", false)
        .needs("kafka")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let wanted: Vec<String> = match params.topics {
            None => Vec::new(),
            Some(Topics::List(list)) => list,
            Some(Topics::Csv(text)) => text
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let cluster = match kafka::metadata(&wanted) {
            Ok(cluster) => cluster,
            Err(error @ (HostError::Unavailable(_) | HostError::Timeout)) => {
                return Ok(kafka::unavailable_report("metadata", &error));
            }
            Err(error) => return Err(error.into()),
        };
        let live: BTreeSet<i32> = cluster.brokers.iter().map(|b| b.id).collect();
        let topics: Vec<&Topic> = cluster
            .topics
            .iter()
            .filter(|t| params.include_internal || !t.internal || wanted.contains(&t.name))
            .collect();
        let min_isr = min_insync_replicas(&topics, &live);
        let rules = broker_rules(&cluster.brokers);

        let mut report = Report::new("");
        let mut totals = [0usize; 4];
        let mut partitions = 0;
        for topic in &topics {
            if let Some(error) = &topic.error {
                if error.contains("UnknownTopic") {
                    // The metadata asked for holds only the requested topics; a typo is
                    // judged against every topic the cluster has.
                    let all = kafka::metadata(&[]).map(|c| c.topics).unwrap_or_default();
                    let existing: Vec<&str> = all
                        .iter()
                        .filter(|t| t.error.is_none() && !t.internal)
                        .map(|t| t.name.as_str())
                        .collect();
                    report.push(missing_topic(
                        &topic.name,
                        error,
                        auto_create(&live),
                        &existing,
                    ));
                }
                continue;
            }
            let configured = min_isr.get(&topic.name).copied().unwrap_or(1);
            let mut min = MinIsr {
                configured,
                effective: configured,
                rule: None,
            };
            let mut by_flag: [Vec<&Partition>; 4] = Default::default();
            for partition in &topic.partitions {
                partitions += 1;
                let (effective, rule) = effective_min_isr(partition, configured, &rules);
                min.effective = effective;
                min.rule = rule;
                let flags = classify(partition, &live, effective);
                for (index, flagged) in [
                    flags.under_min_isr,
                    flags.unavailable,
                    flags.at_min_isr,
                    flags.under_replicated,
                ]
                .into_iter()
                .enumerate()
                {
                    if flagged {
                        by_flag[index].push(partition);
                        totals[index] += 1;
                    }
                }
            }
            for (index, flagged) in by_flag.iter().enumerate() {
                if !flagged.is_empty() {
                    report.push(finding(index, topic, flagged, &min, &live));
                }
            }
            if let Some(note) = min_isr_above_replicas(topic, &min) {
                report.push(note);
            }
        }
        let [under_min, unavailable, at_min, under_replicated] = totals;
        let summary = if under_min + unavailable + at_min + under_replicated == 0 {
            format!(
                "{partitions} partitions in {} topic{}, all fully replicated",
                topics.len(),
                plural(topics.len())
            )
        } else {
            format!(
                "{partitions} partitions in {} topic{}: {under_replicated} under-replicated, \
                 {under_min} under min ISR, {at_min} at min ISR, {unavailable} unavailable",
                topics.len(),
                plural(topics.len())
            )
        };
        let versions: BTreeSet<&str> = rules.values().map(|r| r.describe()).collect();
        Ok(report
            .summary(summary)
            .fact(
                "min_isr_rule",
                if versions.is_empty() {
                    "unknown: no broker answered a Kafka handshake".to_owned()
                } else {
                    versions.into_iter().collect::<Vec<_>>().join("; ")
                },
            )
            .fact("partitions", partitions)
            .fact("under_replicated", under_replicated)
            .fact("under_min_isr", under_min)
            .fact("at_min_isr", at_min)
            .fact("unavailable", unavailable))
    }
}

export_check!(IsrCheck);

/// The brokers' `auto.create.topics.enable`, if it can be read.
fn auto_create(live: &BTreeSet<i32>) -> Option<bool> {
    let id = live.iter().next()?;
    let resource = ConfigResource {
        kind: ResourceKind::Broker,
        name: id.to_string(),
    };
    let results =
        kafka::describe_configs(&[resource], &["auto.create.topics.enable".to_owned()]).ok()?;
    let value = results.first()?.entries.first()?.value.clone()?;
    Some(value == "true")
}

/// A topic the producer names that does not exist; whether auto-creation hides it, and
/// which existing topic it may be a typo of.
fn missing_topic(name: &str, error: &str, auto_create: Option<bool>, existing: &[&str]) -> Finding {
    let close = existing
        .iter()
        .map(|t| (edit_distance(name, t), *t))
        .filter(|(d, t)| *d <= 2.max(t.len() / 4))
        .min()
        .map(|(_, t)| t);
    let typo = close
        .map(|t| format!(" Did you mean `{t}`?"))
        .unwrap_or_default();
    let finding = match auto_create {
        Some(true) => Finding::warn(
            "topic.missing",
            format!("Topic `{name}` does not exist; auto-creation will create it on the first write"),
        )
        .fix(format!(
            "auto.create.topics.enable=true creates `{name}` with the broker defaults \
             (num.partitions, default.replication.factor) on first use, so a typo in a topic \
             name silently writes somewhere nobody reads.{typo} Create the topic explicitly, \
             and consider auto.create.topics.enable=false."
        )),
        _ => Finding::fail(
            "topic.missing",
            format!("Topic `{name}` does not exist: writes to it are refused (UNKNOWN_TOPIC_OR_PARTITION)"),
        )
        .fix(format!(
            "Create the topic with the intended partitions and replication factor \
             (kafka-topics --create --topic {name} ...), or fix the topic name the producer \
             uses.{typo}"
        )),
    };
    let setting = match auto_create {
        Some(value) => format!("auto.create.topics.enable={value}"),
        None => "auto.create.topics.enable could not be read".to_owned(),
    };
    finding
        .cause(cause::TOPIC_MISSING)
        .evidence("kafka.metadata", error)
        .evidence("kafka.describe-configs", setting)
}

/// Levenshtein distance, for "did you mean" on topic names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Effective `min.insync.replicas` per topic, falling back to the broker's setting.
fn min_insync_replicas(topics: &[&Topic], live: &BTreeSet<i32>) -> BTreeMap<String, usize> {
    let key = vec!["min.insync.replicas".to_owned()];
    let parse = |results: &[kafka::ConfigResult]| -> BTreeMap<String, usize> {
        results
            .iter()
            .filter_map(|r| {
                let value = r
                    .entries
                    .iter()
                    .find(|e| e.name == key[0])?
                    .value
                    .as_deref()?
                    .parse()
                    .ok()?;
                Some((r.subject.name.clone(), value))
            })
            .collect()
    };
    let broker_default = live
        .iter()
        .next()
        .and_then(|id| {
            let resource = ConfigResource {
                kind: ResourceKind::Broker,
                name: id.to_string(),
            };
            kafka::describe_configs(&[resource], &key).ok()
        })
        .and_then(|results| parse(&results).into_values().next())
        .unwrap_or(1);
    let resources: Vec<ConfigResource> = topics
        .iter()
        .filter(|t| t.error.is_none())
        .map(|t| ConfigResource {
            kind: ResourceKind::Topic,
            name: t.name.clone(),
        })
        .collect();
    let mut per_topic = kafka::describe_configs(&resources, &key)
        .map(|r| parse(&r))
        .unwrap_or_default();
    for topic in topics {
        per_topic
            .entry(topic.name.clone())
            .or_insert(broker_default);
    }
    per_topic
}

/// A topic's `min.insync.replicas` as configured and as its leaders apply it.
struct MinIsr {
    configured: usize,
    effective: usize,
    rule: Option<MinIsrRule>,
}

impl MinIsr {
    /// `min.insync.replicas=3`, or `min.insync.replicas=3 (the broker caps it at 2 ...)`.
    fn label(&self) -> String {
        if self.effective == self.configured {
            format!("min.insync.replicas={}", self.configured)
        } else {
            format!(
                "the effective min ISR {} (min.insync.replicas={}, which the broker caps at the replica count)",
                self.effective, self.configured
            )
        }
    }
}

/// `min.insync.replicas` above the replication factor: what it means depends on the
/// version the leader runs. Reported only when the version cannot be read (the reader must
/// know which of the two it is); with a version, the partition flags above say it.
fn min_isr_above_replicas(topic: &Topic, min: &MinIsr) -> Option<Finding> {
    let replicas = topic.partitions.first()?.replicas.len();
    if min.configured <= replicas {
        return None;
    }
    let name = &topic.name;
    let configured = min.configured;
    match min.rule {
        Some(MinIsrRule::CappedAtReplicas) => Some(
            Finding::info(
                "isr.min-capped",
                format!(
                    "{name}: min.insync.replicas={configured} exceeds the replication factor {replicas}; \
                     the broker caps it at {replicas} (Kafka 3.7+), so acks=all writes need every replica in sync"
                ),
            )
            .evidence("net.kafka-handshake", MinIsrRule::CappedAtReplicas.describe())
            .fix(format!(
                "Writes work, but any replica falling out of sync stops acks=all writes. Set \
                 min.insync.replicas to at most {replicas} to say what is meant, or raise the \
                 replication factor."
            )),
        ),
        Some(MinIsrRule::AsConfigured) => None,
        None => Some(
            Finding::warn(
                "isr.min-above-replicas",
                format!(
                    "{name}: min.insync.replicas={configured} exceeds the replication factor {replicas}, \
                     and the brokers' version could not be read"
                ),
            )
            .cause(cause::ISR_AT_MIN)
            .fix(format!(
                "Kafka before 3.7 refuses every acks=all write to this topic (NOT_ENOUGH_REPLICAS); \
                 3.7 and later cap the value at {replicas}. Set min.insync.replicas to at most \
                 {replicas} or raise the replication factor."
            )),
        ),
    }
}

fn finding(
    flag: usize,
    topic: &Topic,
    partitions: &[&Partition],
    min: &MinIsr,
    live: &BTreeSet<i32>,
) -> Finding {
    let min_label = min.label();
    let above_rf_before_3_7 = min.rule == Some(MinIsrRule::AsConfigured)
        && partitions.iter().any(|p| min.configured > p.replicas.len());
    let name = &topic.name;
    let count = partitions.len();
    let missing: BTreeSet<i32> = partitions
        .iter()
        .flat_map(|p| p.replicas.iter().filter(|r| !p.isr.contains(r)).copied())
        .collect();
    let missing_text = missing
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let restore = if missing.is_empty() {
        "Restore the brokers holding these replicas".to_owned()
    } else {
        format!(
            "Restore broker{} {missing_text} (missing from the ISR)",
            if missing.len() == 1 { "" } else { "s" }
        )
    };
    let mut finding = match flag {
        0 if above_rf_before_3_7 => Finding::fail(
            "isr.under-min",
            format!(
                "{name}: min.insync.replicas={} exceeds the replication factor: this broker (before Kafka 3.7) refuses every acks=all write with NOT_ENOUGH_REPLICAS",
                min.configured
            ),
        )
        .cause(cause::ISR_BELOW_MIN)
        .evidence("net.kafka-handshake", MinIsrRule::AsConfigured.describe())
        .fix(format!(
            "Set min.insync.replicas to at most the replication factor (kafka-configs --alter \
             --entity-type topics --entity-name {name} --add-config min.insync.replicas=N), or \
             add replicas (kafka-reassign-partitions). Kafka 3.7+ caps the value itself."
        )),
        0 => Finding::fail(
            "isr.under-min",
            format!(
                "{name}: {count} partition{} below {min_label}: producers with acks=all get NOT_ENOUGH_REPLICAS",
                plural(count)
            ),
        )
        .cause(cause::ISR_BELOW_MIN)
        .fix(format!(
            "{restore}. Until then producers with acks=all get NOT_ENOUGH_REPLICAS and, after \
             delivery.timeout.ms, drop events. Adding replicas (kafka-reassign-partitions) helps \
             once brokers are back; lowering min.insync.replicas (kafka-configs --alter \
             --entity-type topics --entity-name {name} --add-config min.insync.replicas=1) \
             restores writes but weakens durability; acks=1 hides the problem and loses \
             events on the next leader failure."
        )),
        1 => Finding::fail(
            "partition.unavailable",
            format!("{name}: {count} partition{} without a live leader: no reads or writes", plural(count)),
        )
        .cause(cause::PARTITION_OFFLINE)
        .fix(format!("{restore}; a partition is writable again as soon as one of its replicas is back.")),
        2 => Finding::warn(
            "isr.at-min",
            format!(
                "{name}: {count} partition{} exactly at {min_label}: one more broker failure stops acks=all writes",
                plural(count)
            ),
        )
        .cause(cause::ISR_AT_MIN)
        .fix(if missing.is_empty() {
            format!(
                "The replication factor equals {min_label}: any broker failure \
                 stops acks=all writes. Raise the replication factor (kafka-reassign-partitions) \
                 above min.insync.replicas."
            )
        } else {
            format!("{restore} before another broker fails.")
        }),
        _ => Finding::warn(
            "isr.under-replicated",
            format!("{name}: {count} under-replicated partition{}", plural(count)),
        )
        .cause(cause::ISR_UNDER_REPLICATED)
        .fix(format!("{restore}; followers catch up on their own once their broker is healthy.")),
    };
    for partition in partitions.iter().take(QUOTED) {
        let absent: Vec<i32> = partition
            .replicas
            .iter()
            .filter(|r| !partition.isr.contains(r))
            .copied()
            .collect();
        let leader = match partition.leader {
            Some(l) if live.contains(&l) => l.to_string(),
            Some(l) => format!("{l} (not live)"),
            None => "none".into(),
        };
        finding = finding.evidence(
            "kafka.metadata",
            format!(
                "{name}-{}: leader {leader}, replicas {:?}, ISR {:?}, missing {:?}",
                partition.id, partition.replicas, partition.isr, absent
            ),
        );
    }
    if count > QUOTED {
        finding = finding.evidence(
            "kafka.metadata",
            format!("… and {} more partitions", count - QUOTED),
        );
    }
    finding
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(leader: Option<i32>, replicas: &[i32], isr: &[i32]) -> Partition {
        Partition {
            id: 0,
            leader,
            replicas: replicas.to_vec(),
            isr: isr.to_vec(),
            offline_replicas: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn missing_topics_say_whether_auto_creation_hides_them_and_suggest_typos() {
        let off = missing_topic(
            "ordres",
            "UnknownTopicOrPartition",
            Some(false),
            &["orders", "payments"],
        );
        assert!(off.title.contains("writes to it are refused"));
        assert!(
            off.fix
                .as_deref()
                .unwrap()
                .contains("Did you mean `orders`?")
        );
        let on = missing_topic(
            "ordres",
            "UnknownTopicOrPartition",
            Some(true),
            &["payments"],
        );
        assert!(on.title.contains("auto-creation will create it"));
        assert!(!on.fix.as_deref().unwrap().contains("Did you mean"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn classification_follows_kafka_topics_describe() {
        let live: BTreeSet<i32> = [1, 2].into();
        // RF 3, min ISR 2, one broker down: under-replicated and at min ISR.
        assert_eq!(
            classify(&partition(Some(1), &[1, 2, 3], &[1, 2]), &live, 2),
            Flags {
                under_replicated: true,
                at_min_isr: true,
                ..Flags::default()
            }
        );
        // Two down: below min ISR.
        let flags = classify(&partition(Some(1), &[1, 2, 3], &[1]), &live, 2);
        assert!(flags.under_min_isr && flags.under_replicated && !flags.unavailable);
        // Leader not live: unavailable and under min ISR whatever the ISR says.
        let flags = classify(&partition(Some(3), &[3], &[3]), &live, 1);
        assert!(flags.unavailable && flags.under_min_isr);
        // Healthy.
        assert_eq!(
            classify(&partition(Some(1), &[1, 2], &[1, 2]), &live, 1),
            Flags::default()
        );
    }

    #[test]
    fn min_isr_above_the_replica_count_is_judged_by_the_leaders_version() {
        // ApiVersions of Kafka 3.6 (Produce 0-9) and 3.7+ (Produce 0-10 and up).
        let old = MinIsrRule::from_api_versions(&[(0, 0, 9), (1, 0, 15)]);
        let new = MinIsrRule::from_api_versions(&[(0, 3, 12), (1, 4, 17)]);
        assert_eq!(old, Some(MinIsrRule::AsConfigured));
        assert_eq!(new, Some(MinIsrRule::CappedAtReplicas));
        assert_eq!(MinIsrRule::from_api_versions(&[(1, 0, 15)]), None);

        let live: BTreeSet<i32> = [1, 2].into();
        let two_replicas = partition(Some(1), &[1, 2], &[1, 2]);
        let rules = |rule| BTreeMap::from([(1, rule), (2, rule)]);
        // Kafka 4.x: min.insync.replicas=3 on two in-sync replicas is at (not below) min.
        let (effective, _) =
            effective_min_isr(&two_replicas, 3, &rules(MinIsrRule::CappedAtReplicas));
        assert_eq!(effective, 2);
        let flags = classify(&two_replicas, &live, effective);
        assert!(!flags.under_min_isr && flags.at_min_isr);
        // Kafka 3.6: the same partition refuses acks=all writes.
        let (effective, _) = effective_min_isr(&two_replicas, 3, &rules(MinIsrRule::AsConfigured));
        assert!(classify(&two_replicas, &live, effective).under_min_isr);
        // The leader's version decides.
        let mixed = BTreeMap::from([
            (1, MinIsrRule::AsConfigured),
            (2, MinIsrRule::CappedAtReplicas),
        ]);
        assert_eq!(effective_min_isr(&two_replicas, 3, &mixed).0, 3);
    }
}
