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
//! `min.insync.replicas` is the topic's effective config, falling back to the broker's.
//!
//! Params: `topics` (comma-separated names or a list; empty: every topic),
//! `include_internal` (default false).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use triage_sdk::kafka::{self, ConfigResource, Partition, ResourceKind, Topic};
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
            let min = min_isr.get(&topic.name).copied().unwrap_or(1);
            let mut by_flag: [Vec<&Partition>; 4] = Default::default();
            for partition in &topic.partitions {
                partitions += 1;
                let flags = classify(partition, &live, min);
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
                    report.push(finding(index, topic, flagged, min, &live));
                }
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
        Ok(report
            .summary(summary)
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

fn finding(
    flag: usize,
    topic: &Topic,
    partitions: &[&Partition],
    min_isr: usize,
    live: &BTreeSet<i32>,
) -> Finding {
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
        0 => Finding::fail(
            "isr.under-min",
            format!(
                "{name}: {count} partition{} below min.insync.replicas={min_isr}: producers with acks=all get NOT_ENOUGH_REPLICAS",
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
                "{name}: {count} partition{} exactly at min.insync.replicas={min_isr}: one more broker failure stops acks=all writes",
                plural(count)
            ),
        )
        .cause(cause::ISR_AT_MIN)
        .fix(if missing.is_empty() {
            format!(
                "The replication factor equals min.insync.replicas={min_isr}: any broker failure \
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
}
