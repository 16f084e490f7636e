//! Rules 6, 7 and 9: the settings against the live cluster — the brokers' replica lag and
//! size limits, and the application's topic as it is now (exists, has live leaders, and with
//! acks=all a replication factor and ISR that satisfy `min.insync.replicas`).

use triage_sdk::kafka::Partition;
use triage_sdk::min_isr::MinIsrRule;
use triage_sdk::{Finding, cause};

use super::Audit;
use crate::cluster::TopicFacts;
use crate::config::{Acks, Dialect};

/// Partitions quoted per finding; the rest are counted.
const QUOTED: usize = 10;

/// Rule 6: with acks=all the leader answers once every in-sync follower has the record; a
/// stalled follower stays in the ISR for up to `replica.lag.time.max.ms`. A request timeout
/// shorter than that times requests out while the ISR has yet to shrink.
pub(super) fn request_timeout_vs_replica_lag(audit: &Audit) -> Vec<Finding> {
    let config = &audit.config;
    if config.acks.value != Acks::All {
        return Vec::new();
    }
    let Some(facts) = audit.cluster.facts() else {
        return Vec::new();
    };
    let Some(lag) = facts.broker.replica_lag_time_max_ms else {
        return Vec::new();
    };
    let request = &config.request_timeout_ms;
    if request.value >= lag {
        return Vec::new();
    }
    let finding = Finding::warn(
        "config.request-timeout",
        format!(
            "{} is shorter than the brokers' replica.lag.time.max.ms={lag}: acks=all requests \
             can time out while a stalled follower is still in the ISR",
            request.origin.shown()
        ),
    )
    .cause(cause::CLIENT_TIMEOUT)
    .fix(format!(
        "Raise request.timeout.ms to at least {lag}, or lower replica.lag.time.max.ms on the \
         brokers so that a stalled follower leaves the ISR before producers give up. Each \
         timed-out request is retried (a duplicate without idempotence) and eats into the \
         delivery timeout."
    ));
    vec![audit.cite(finding, &request.origin).evidence(
        "kafka.describe-configs",
        format!(
                "broker {}: replica.lag.time.max.ms={lag}",
                facts
                    .broker
                    .broker_id
                    .map_or_else(|| "?".to_owned(), |id| id.to_string())
            ),
    )]
}

/// Rule 7: a request larger than the topic's `max.message.bytes` (falling back to the
/// broker's `message.max.bytes`) is refused by the broker, so every record between the two
/// limits fails.
pub(super) fn message_size(audit: &Audit) -> Vec<Finding> {
    let Some(facts) = audit.cluster.facts() else {
        return Vec::new();
    };
    let topic_limit = facts
        .topic
        .as_ref()
        .and_then(|t| t.max_message_bytes.map(|limit| (t, limit)));
    let (limit, subject, evidence) = match (topic_limit, facts.broker.message_max_bytes) {
        (Some((topic, limit)), _) => (
            limit,
            format!("max.message.bytes={limit} of topic {}", topic.name),
            format!("topic {}: max.message.bytes={limit}", topic.name),
        ),
        (None, Some(limit)) => (
            limit,
            format!("the brokers' message.max.bytes={limit}"),
            format!(
                "broker {}: message.max.bytes={limit}",
                facts
                    .broker
                    .broker_id
                    .map_or_else(|| "?".to_owned(), |id| id.to_string())
            ),
        ),
        (None, None) => return Vec::new(),
    };
    let size = &audit.config.max_request_size;
    if size.value <= limit {
        return Vec::new();
    }
    let error = match audit.config.dialect {
        Dialect::Java => "RecordTooLargeException (MESSAGE_TOO_LARGE)",
        Dialect::Librdkafka => "MSG_SIZE_TOO_LARGE",
    };
    let raise = match &facts.topic {
        Some(topic) => format!(
            "kafka-configs.sh --bootstrap-server HOST:PORT --alter --entity-type topics \
             --entity-name {} --add-config max.message.bytes={}",
            topic.name, size.value
        ),
        None => format!("message.max.bytes={} on every broker", size.value),
    };
    let finding = Finding::fail(
        "config.message-size",
        format!(
            "{} is above {subject}: records between {limit} and {} bytes fail with {error}",
            size.origin.shown(),
            size.value
        ),
    )
    .cause(cause::CONFIG_MESSAGE_SIZE)
    .fix(format!(
        "Set {}={limit} or less so that oversized records fail fast in the producer, or, if \
         such records are expected, raise the limit ({raise}) — consumers' fetch sizes must \
         allow them too.",
        size.origin.key()
    ));
    let mut finding = audit
        .cite(finding, &size.origin)
        .evidence("kafka.describe-configs", evidence);
    if let (Some(_), Some(broker)) = (topic_limit, facts.broker.message_max_bytes) {
        finding = finding.evidence(
            "kafka.describe-configs",
            format!("brokers: message.max.bytes={broker}"),
        );
    }
    vec![finding]
}

/// Rule 9: the topic as it is now. A missing topic or a partition without a live leader
/// refuses every write; with acks=all, a replication factor below `min.insync.replicas`
/// refuses every write, and a partition whose ISR has shrunk below it refuses writes now.
pub(super) fn topic_accepts_writes(audit: &Audit) -> Vec<Finding> {
    let Some(topic) = audit.cluster.facts().and_then(|f| f.topic.as_ref()) else {
        return Vec::new();
    };
    let name = &topic.name;
    if let Some(error) = &topic.error {
        // Anything but "unknown topic" (an authorization error, a transient one) is not
        // evidence that the topic is missing.
        if !error.contains("UnknownTopic") && !error.contains("not in the metadata") {
            return vec![
                Finding::warn(
                    "config.topic-unchecked",
                    format!("Topic {name} could not be described: its checks were skipped"),
                )
                .evidence("kafka.metadata", format!("{name}: {error}")),
            ];
        }
        return vec![
            Finding::fail(
                "config.topic-missing",
                format!("Topic {name} does not exist: the producer's writes to it fail"),
            )
            .cause(cause::TOPIC_MISSING)
            .evidence("kafka.metadata", format!("{name}: {error}"))
            .fix(format!(
                "Create {name} with the intended partitions and replication factor (\
                 kafka-topics.sh --create --topic {name} --replication-factor 3 …), or fix the \
                 topic name the application writes to."
            )),
        ];
    }
    let mut findings = Vec::new();
    let offline: Vec<&Partition> = topic
        .partitions
        .iter()
        .filter(|p| !p.leader.is_some_and(|l| topic.live.contains(&l)))
        .collect();
    if !offline.is_empty() {
        findings.push(with_partitions(
            Finding::fail(
                "config.partition-offline",
                format!(
                    "{name}: {} without a live leader refuse every write now",
                    partition_list(name, &offline)
                ),
            )
            .cause(cause::PARTITION_OFFLINE)
            .fix("Restore the brokers that hold these partitions' replicas; a partition takes writes again as soon as one in-sync replica is back."),
            topic,
            &offline,
        ));
    }
    let acks = &audit.config.acks;
    // min.insync.replicas binds only acks=all writes.
    if acks.value != Acks::All {
        return findings;
    }
    let Some(min) = topic.min_insync_replicas else {
        return findings;
    };
    let min_evidence = format!("topic {name}: min.insync.replicas={min}");
    let replication = topic.replication_factor();
    // Kafka 3.7+ caps min.insync.replicas at the replica count (one definition of the rule:
    // triage_sdk::min_isr); only a broker known to apply it as configured refuses every
    // write. With no version known, nothing is claimed here: isr-check judges the ISR.
    let refuses_as_configured = topic
        .min_isr_rules
        .values()
        .any(|rule| *rule == MinIsrRule::AsConfigured);
    if (replication as u64) < min && refuses_as_configured {
        let finding = Finding::fail(
            "config.min-insync-unsatisfiable",
            format!(
                "{name}: replication factor {replication} < min.insync.replicas={min}: every \
                 acks=all write fails with NOT_ENOUGH_REPLICAS"
            ),
        )
        .cause(cause::ISR_BELOW_MIN)
        .fix(format!(
            "Set the topic's min.insync.replicas to at most {replication} (kafka-configs.sh \
             --alter --entity-type topics --entity-name {name} --add-config \
             min.insync.replicas={}), or raise its replication factor above {min} with \
             kafka-reassign-partitions.sh. acks=1 would hide the error and lose events on the \
             next leader failure.",
            replication.max(1)
        ));
        let all: Vec<&Partition> = topic.partitions.iter().collect();
        findings.push(with_partitions(
            audit
                .cite(finding, &acks.origin)
                .evidence("kafka.describe-configs", min_evidence)
                .evidence("net.kafka-handshake", MinIsrRule::AsConfigured.describe()),
            topic,
            &all,
        ));
        return findings;
    }
    let below: Vec<&Partition> = topic
        .partitions
        .iter()
        .filter(|p| p.leader.is_some_and(|l| topic.live.contains(&l)))
        .filter(|p| {
            let effective = if refuses_as_configured {
                min
            } else {
                min.min(p.replicas.len().max(1) as u64)
            };
            (p.isr.len() as u64) < effective
        })
        .collect();
    if !below.is_empty() {
        let finding = Finding::fail(
            "config.isr-below-min",
            format!(
                "{name}: {} have fewer in-sync replicas than min.insync.replicas={min}: acks=all \
                 writes to them fail now with NOT_ENOUGH_REPLICAS",
                partition_list(name, &below)
            ),
        )
        .cause(cause::ISR_BELOW_MIN)
        .fix(format!(
            "Restore the brokers missing from these partitions' ISR; until then the producer \
             retries and drops the records after its delivery timeout. Lowering the topic's \
             min.insync.replicas restores writes at the cost of durability (kafka-configs.sh \
             --alter --entity-type topics --entity-name {name} --add-config min.insync.replicas=1)."
        ));
        findings.push(with_partitions(
            audit
                .cite(finding, &acks.origin)
                .evidence("kafka.describe-configs", min_evidence),
            topic,
            &below,
        ));
    }
    findings
}

/// "orders-0, orders-2" (or "3 partitions: orders-0, …").
fn partition_list(topic: &str, partitions: &[&Partition]) -> String {
    let mut names: Vec<String> = partitions
        .iter()
        .take(QUOTED)
        .map(|p| format!("{topic}-{}", p.id))
        .collect();
    if partitions.len() > QUOTED {
        names.push(format!("… {} more", partitions.len() - QUOTED));
    }
    format!(
        "{} partition{} ({})",
        partitions.len(),
        if partitions.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

fn with_partitions(mut finding: Finding, topic: &TopicFacts, partitions: &[&Partition]) -> Finding {
    for partition in partitions.iter().take(QUOTED) {
        let leader = match partition.leader {
            Some(l) if topic.live.contains(&l) => l.to_string(),
            Some(l) => format!("{l} (not live)"),
            None => "none".into(),
        };
        finding = finding.evidence(
            "kafka.metadata",
            format!(
                "{}-{}: leader {leader}, replicas {:?}, ISR {:?}",
                topic.name, partition.id, partition.replicas, partition.isr
            ),
        );
    }
    finding
}
