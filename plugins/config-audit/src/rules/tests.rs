//! Each rule against inline properties texts and hand-written cluster facts.

use std::collections::{BTreeMap, BTreeSet};

use triage_sdk::cause::{CONFIG_INVALID_VALUE, CONFIG_LEGACY_CLIENT};
use triage_sdk::kafka::Partition;
use triage_sdk::min_isr::MinIsrRule;
use triage_sdk::net::{ConnectOutcome, ConnectResult};
use triage_sdk::{Severity, cause};

use super::bootstrap::bootstrap_servers;
use super::cluster::{message_size, request_timeout_vs_replica_lag, topic_accepts_writes};
use super::settings::{acks_durable, buffers, delivery_timeout, idempotence, retries};
use super::*;
use crate::bootstrap::{Probe, Server};
use crate::cluster::{BrokerLimits, ClusterFacts, TopicFacts};
use crate::config::parse_properties;

const FILE: &str = "app.properties";

fn config(text: &str) -> ProducerConfig {
    ProducerConfig::load(FILE, &parse_properties(text).unwrap())
}

/// An audit with every bootstrap entry reachable and no cluster access.
fn audit(text: &str) -> Audit {
    Audit::prepare(
        config(text),
        ClusterView::NotGranted("no kafka grant".into()),
        "",
        |_| Probe::Kafka,
    )
}

fn with_cluster(text: &str, facts: ClusterFacts) -> Audit {
    Audit::prepare(config(text), ClusterView::Known(facts), "", |_| {
        Probe::Kafka
    })
}

fn server(host: &str, port: u16) -> Server {
    Server {
        host: host.into(),
        port,
    }
}

fn lab_listeners() -> Vec<(i32, Server)> {
    (1..=3)
        .map(|id| (id, server("127.0.0.1", 9090 + id as u16)))
        .collect()
}

fn partition(id: i32, leader: Option<i32>, replicas: &[i32], isr: &[i32]) -> Partition {
    Partition {
        id,
        leader,
        replicas: replicas.to_vec(),
        isr: isr.to_vec(),
        offline_replicas: Vec::new(),
        error: None,
    }
}

fn topic(partitions: Vec<Partition>, min_insync: u64) -> TopicFacts {
    TopicFacts {
        name: "orders".into(),
        error: None,
        partitions,
        live: BTreeSet::from([1, 2, 3]),
        min_insync_replicas: Some(min_insync),
        max_message_bytes: Some(1_048_588),
        min_isr_rules: BTreeMap::new(),
    }
}

/// A topic whose brokers run Kafka before 3.7: min.insync.replicas applies as configured.
fn topic_before_3_7(partitions: Vec<Partition>, min_insync: u64) -> TopicFacts {
    TopicFacts {
        min_isr_rules: BTreeMap::from([(1, MinIsrRule::AsConfigured)]),
        ..topic(partitions, min_insync)
    }
}

fn ids(findings: &[Finding]) -> Vec<(&str, Severity)> {
    findings
        .iter()
        .map(|f| (f.id.as_str(), f.severity))
        .collect()
}

fn evidence(finding: &Finding) -> Vec<String> {
    finding
        .evidence
        .iter()
        .map(|e| format!("{} | {}", e.source, e.excerpt))
        .collect()
}

#[test]
fn a_sound_java_config_passes_every_rule() {
    let facts = ClusterFacts {
        listeners: lab_listeners(),
        broker: BrokerLimits {
            broker_id: Some(1),
            message_max_bytes: Some(1_048_588),
            replica_lag_time_max_ms: Some(30_000),
        },
        topic: Some(topic(
            vec![partition(0, Some(1), &[1, 2, 3], &[1, 2, 3])],
            2,
        )),
    };
    let audit = with_cluster(
        "bootstrap.servers=127.0.0.1:9091\nacks=all\nenable.idempotence=true\n\
         delivery.timeout.ms=120000\nlinger.ms=5\nrequest.timeout.ms=30000\n",
        facts,
    );
    let failing: Vec<Finding> = RULES
        .iter()
        .flat_map(|rule| (rule.check)(&audit))
        .filter(|f| f.severity != Severity::Info)
        .collect();
    assert!(failing.is_empty(), "{failing:#?}");
}

#[test]
fn bootstrap_wrong_port_is_named_from_the_advertised_listeners_when_not_granted() {
    let audit = Audit::prepare(
        config("bootstrap.servers=127.0.0.1:9093\n"),
        ClusterView::Known(ClusterFacts {
            listeners: vec![(1, server("127.0.0.1", 9092))],
            ..ClusterFacts::default()
        }),
        "",
        |_| Probe::NotGranted("connecting to 127.0.0.1:9093 is not granted".into()),
    );
    let findings = bootstrap_servers(&audit);
    assert_eq!(
        ids(&findings),
        [("config.bootstrap.wrong-port", Severity::Fail)]
    );
    let finding = &findings[0];
    assert_eq!(
        finding.title,
        "bootstrap.servers has 127.0.0.1:9093 but the cluster listens on 127.0.0.1:9092 — wrong port?"
    );
    assert_eq!(finding.cause.as_deref(), Some(cause::CONFIG_BOOTSTRAP));
    let evidence = evidence(finding);
    assert_eq!(
        evidence[0],
        "app.properties:1 | bootstrap.servers=127.0.0.1:9093"
    );
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("broker 1 advertises 127.0.0.1:9092"))
    );
}

#[test]
fn bootstrap_wrong_port_is_a_warning_when_another_entry_works() {
    let audit = Audit::prepare(
        config("bootstrap.servers=localhost:9092,localhost:9093\n"),
        ClusterView::NotGranted("none".into()),
        "127.0.0.1:9092",
        |s| {
            if s.port == 9092 {
                Probe::Kafka
            } else {
                Probe::Unreachable(ConnectResult {
                    host: s.host.clone(),
                    port: s.port,
                    address: Some("127.0.0.1".into()),
                    outcome: ConnectOutcome::Refused,
                    latency_us: 100,
                    detail: "Connection refused (os error 111)".into(),
                })
            }
        },
    );
    let findings = bootstrap_servers(&audit);
    assert_eq!(
        ids(&findings),
        [("config.bootstrap.wrong-port", Severity::Warn)]
    );
    assert!(
        findings[0].title.ends_with("(1 of 2 entries work)"),
        "{}",
        findings[0].title
    );
    assert!(
        evidence(&findings[0])
            .iter()
            .any(|e| e.contains("Connection refused"))
    );
}

#[test]
fn bootstrap_typo_dns_failure_and_unchecked_entries() {
    let dns = |s: &Server| {
        Probe::Unreachable(ConnectResult {
            host: s.host.clone(),
            port: s.port,
            address: None,
            outcome: ConnectOutcome::DnsFailure,
            latency_us: 10,
            detail: "failed to lookup address information".into(),
        })
    };
    let audit = Audit::prepare(
        config("bootstrap.servers=kafka-brokr-1:9092\n"),
        ClusterView::NotGranted("none".into()),
        "kafka-broker-1:9092",
        dns,
    );
    let findings = bootstrap_servers(&audit);
    assert_eq!(ids(&findings), [("config.bootstrap.typo", Severity::Fail)]);
    assert!(
        findings[0]
            .title
            .contains("did you mean kafka-broker-1:9092?")
    );

    let audit = Audit::prepare(
        config("bootstrap.servers=elsewhere:9092\n"),
        ClusterView::NotGranted("none".into()),
        "",
        dns,
    );
    let findings = bootstrap_servers(&audit);
    assert_eq!(ids(&findings), [("config.bootstrap.dns", Severity::Fail)]);
    assert_eq!(findings[0].cause.as_deref(), Some(cause::DNS_UNRESOLVABLE));

    let audit = Audit::prepare(
        config("bootstrap.servers=elsewhere:9092\n"),
        ClusterView::NotGranted("none".into()),
        "kafka-broker-1:9092",
        |_| Probe::NotGranted("not granted".into()),
    );
    assert_eq!(
        ids(&bootstrap_servers(&audit)),
        [("config.bootstrap.unchecked", Severity::Warn)]
    );
}

/// Issue 7, item 14: with no bootstrap given there is nothing to compare with, so an entry
/// on another port of this host is no "wrong port?", only a note that nothing was compared.
#[test]
fn bootstrap_without_a_given_bootstrap_is_noted_not_judged() {
    let audit = Audit::prepare(
        config("bootstrap.servers=127.0.0.1:19092,kafka-b:9092\n"),
        ClusterView::Unavailable("no Kafka bootstrap servers".into()),
        "",
        |_| Probe::NotGranted("not granted".into()),
    );
    assert!(audit.nothing_to_compare_with());
    let findings = bootstrap_servers(&audit);
    assert_eq!(
        ids(&findings),
        [("config.bootstrap.not-compared", Severity::Info)]
    );
    assert_eq!(findings[0].cause, None);
    assert!(
        findings[0]
            .title
            .contains("no bootstrap servers were given to triage"),
        "{}",
        findings[0].title
    );
    // Given the bootstrap, the same entry is judged against it.
    let audit = Audit::prepare(
        config("bootstrap.servers=127.0.0.1:19092\n"),
        ClusterView::Unavailable("no broker answered".into()),
        "localhost:9092",
        |_| Probe::NotGranted("not granted".into()),
    );
    assert_eq!(
        ids(&bootstrap_servers(&audit)),
        [("config.bootstrap.wrong-port", Severity::Fail)]
    );
}

#[test]
fn bootstrap_missing_or_malformed() {
    assert_eq!(
        ids(&bootstrap_servers(&audit("acks=all\n"))),
        [("config.bootstrap.missing", Severity::Warn)]
    );
    assert_eq!(
        ids(&bootstrap_servers(&audit("bootstrap.servers=kafka-1\n"))),
        [("config.bootstrap.invalid", Severity::Fail)]
    );
}

#[test]
fn weak_acks_fail_for_0_and_warn_for_1_in_both_dialects() {
    assert_eq!(
        ids(&acks_durable(&audit("acks=0\n"))),
        [("config.acks", Severity::Fail)]
    );
    let findings = acks_durable(&audit("request.required.acks=1\n"));
    assert_eq!(ids(&findings), [("config.acks", Severity::Warn)]);
    assert_eq!(findings[0].cause.as_deref(), Some(cause::CONFIG_ACKS_WEAK));
    assert_eq!(
        evidence(&findings[0]),
        ["app.properties:1 | request.required.acks=1"]
    );
    assert!(acks_durable(&audit("acks=-1\n")).is_empty());
    assert!(acks_durable(&audit("")).is_empty(), "the default is all");
}

#[test]
fn retries_zero_fails_and_low_warns() {
    let findings = retries(&audit("retries=0\n"));
    assert_eq!(ids(&findings), [("config.retries", Severity::Fail)]);
    assert!(
        findings[0]
            .fix
            .as_ref()
            .unwrap()
            .contains("delivery.timeout.ms")
    );
    assert_eq!(
        ids(&retries(&audit("message.send.max.retries=2\n"))),
        [("config.retries", Severity::Warn)]
    );
    assert!(retries(&audit("retries=10\n")).is_empty());
    assert!(retries(&audit("")).is_empty());
}

#[test]
fn idempotence_conflicts_refuse_to_start_only_when_written() {
    let findings = idempotence(&audit(
        "enable.idempotence=true\nacks=1\nmax.in.flight.requests.per.connection=10\n",
    ));
    assert_eq!(ids(&findings), [("config.idempotence", Severity::Fail)]);
    assert!(
        findings[0]
            .title
            .contains("acks=1, max.in.flight.requests.per.connection=10")
    );
    assert!(
        findings[0]
            .fix
            .as_ref()
            .unwrap()
            .contains("Must set acks to all")
    );

    // The Java default is on: the same conflict silently disables it.
    assert_eq!(
        ids(&idempotence(&audit("retries=0\n"))),
        [("config.idempotence", Severity::Info)]
    );
    // librdkafka lowers its own max.in.flight default (1000000) to 5.
    assert!(
        idempotence(&audit(
            "enable.idempotence=true\nmessage.send.max.retries=5\n"
        ))
        .is_empty()
    );
    assert!(idempotence(&audit("enable.idempotence=false\nacks=0\n")).is_empty());
}

#[test]
fn delivery_timeout_below_linger_plus_request_timeout() {
    let findings = delivery_timeout(&audit(
        "delivery.timeout.ms=30000\nlinger.ms=100\nrequest.timeout.ms=30000\n",
    ));
    assert_eq!(
        ids(&findings),
        [("config.delivery-timeout", Severity::Fail)]
    );
    assert_eq!(
        findings[0].title,
        "delivery.timeout.ms=30000 < linger.ms=100 + request.timeout.ms=30000 = 30100: the \
         Java client refuses to start"
    );
    assert_eq!(
        evidence(&findings[0]),
        [
            "app.properties:1 | delivery.timeout.ms=30000",
            "app.properties:2 | linger.ms=100",
            "app.properties:3 | request.timeout.ms=30000",
        ]
    );
    // Not written: the Java client raises its default instead.
    assert_eq!(
        ids(&delivery_timeout(&audit("request.timeout.ms=200000\n"))),
        [("config.delivery-timeout", Severity::Info)]
    );
    assert!(delivery_timeout(&audit("")).is_empty());
}

#[test]
fn librdkafka_message_timeout_rules() {
    assert_eq!(
        ids(&delivery_timeout(&audit(
            "message.timeout.ms=100\nqueue.buffering.max.ms=200\n"
        ))),
        [("config.delivery-timeout", Severity::Fail)]
    );
    assert_eq!(
        ids(&delivery_timeout(&audit(
            "message.timeout.ms=10000\nlinger.ms=5\ndebug=msg\n"
        ))),
        [("config.delivery-timeout", Severity::Warn)]
    );
    assert!(delivery_timeout(&audit("message.timeout.ms=0\n")).is_empty());
}

#[test]
fn request_timeout_shorter_than_replica_lag_warns_for_acks_all() {
    let facts = ClusterFacts {
        broker: BrokerLimits {
            broker_id: Some(2),
            replica_lag_time_max_ms: Some(30_000),
            ..BrokerLimits::default()
        },
        ..ClusterFacts::default()
    };
    let findings =
        request_timeout_vs_replica_lag(&with_cluster("request.timeout.ms=10000\n", facts.clone()));
    assert_eq!(ids(&findings), [("config.request-timeout", Severity::Warn)]);
    assert!(
        evidence(&findings[0]).contains(
            &"kafka.describe-configs | broker 2: replica.lag.time.max.ms=30000".to_owned()
        )
    );
    assert!(
        request_timeout_vs_replica_lag(&with_cluster(
            "acks=1\nrequest.timeout.ms=10000\n",
            facts.clone()
        ))
        .is_empty()
    );
    assert!(request_timeout_vs_replica_lag(&with_cluster("", facts)).is_empty());
}

#[test]
fn max_request_size_above_the_topic_limit_fails() {
    let mut orders = topic(Vec::new(), 1);
    orders.max_message_bytes = Some(100_000);
    let facts = ClusterFacts {
        broker: BrokerLimits {
            message_max_bytes: Some(1_048_588),
            ..BrokerLimits::default()
        },
        topic: Some(orders),
        ..ClusterFacts::default()
    };
    let findings = message_size(&with_cluster("max.request.size=2097152\n", facts.clone()));
    assert_eq!(ids(&findings), [("config.message-size", Severity::Fail)]);
    assert_eq!(
        findings[0].title,
        "max.request.size=2097152 is above max.message.bytes=100000 of topic orders: records \
         between 100000 and 2097152 bytes fail with RecordTooLargeException (MESSAGE_TOO_LARGE)"
    );
    // The default (1 MiB) is above 100000 too, and says it is a default.
    let findings = message_size(&with_cluster("", facts.clone()));
    assert!(
        findings[0]
            .title
            .starts_with("max.request.size=1048576 (default)")
    );
    assert!(message_size(&with_cluster("max.request.size=100000\n", facts)).is_empty());
}

#[test]
fn tiny_buffers_warn_and_fail_when_send_may_not_wait() {
    // max.block.ms=0: send() throws instead of waiting for metadata or buffer space, so the
    // first record to each topic and every record while the buffer is full fail (issue 8).
    assert_eq!(
        ids(&buffers(&audit("buffer.memory=65536\nmax.block.ms=0\n"))),
        [
            ("config.buffers.memory", Severity::Fail),
            ("config.buffers.max-block", Severity::Fail)
        ]
    );
    assert_eq!(
        ids(&buffers(&audit("buffer.memory=65536\n"))),
        [("config.buffers.memory", Severity::Warn)]
    );
    assert_eq!(
        ids(&buffers(&audit("max.block.ms=100\n"))),
        [("config.buffers.max-block", Severity::Warn)]
    );
    assert_eq!(
        ids(&buffers(&audit(
            "queue.buffering.max.kbytes=64\nqueue.buffering.max.messages=10\n"
        ))),
        [
            ("config.buffers.memory", Severity::Warn),
            ("config.buffers.messages", Severity::Warn)
        ]
    );
    assert!(buffers(&audit("queue.buffering.max.messages=0\n")).is_empty());
    assert!(buffers(&audit("")).is_empty());
}

#[test]
fn batches_that_cannot_fit_the_buffer_queue_or_request() {
    // BufferPool.allocate throws IllegalArgumentException for a batch above buffer.memory.
    assert_eq!(
        ids(&buffers(&audit(
            "batch.size=1048576\nbuffer.memory=2097152\n"
        ))),
        Vec::<(&str, Severity)>::new()
    );
    let findings = buffers(&audit("batch.size=4194304\nbuffer.memory=2097152\n"));
    assert_eq!(
        ids(&findings),
        [("config.buffers.batch-size", Severity::Fail)]
    );
    assert_eq!(
        evidence(&findings[0])[0],
        "app.properties:1 | batch.size=4194304"
    );
    assert_eq!(
        ids(&buffers(&audit("batch.size=4194304\n"))),
        [("config.batch-size", Severity::Warn)]
    );
    assert_eq!(
        ids(&buffers(&audit(
            "debug=msg\nqueue.buffering.max.messages=20000\nbatch.num.messages=50000\n"
        ))),
        [("config.buffers.batch-messages", Severity::Warn)]
    );
}

#[test]
fn a_transactional_id_needs_idempotence_in_both_clients() {
    let findings = idempotence(&audit("transactional.id=tx\nenable.idempotence=false\n"));
    assert_eq!(ids(&findings), [("config.idempotence", Severity::Fail)]);
    assert_eq!(
        evidence(&findings[0])[0],
        "app.properties:2 | enable.idempotence=false"
    );
    let findings = idempotence(&audit(
        "debug=msg\ntransactional.id=tx\nenable.idempotence=false\n",
    ));
    assert_eq!(ids(&findings), [("config.idempotence", Severity::Fail)]);
    // Left to its default, each client turns idempotence on for a transactional producer.
    assert!(idempotence(&audit("debug=msg\ntransactional.id=tx\n")).is_empty());
}

#[test]
fn topic_writes_fail_when_rf_or_isr_cannot_satisfy_min_insync() {
    let facts = |t: TopicFacts| ClusterFacts {
        topic: Some(t),
        ..ClusterFacts::default()
    };
    let findings = topic_accepts_writes(&with_cluster(
        "",
        facts(topic_before_3_7(vec![partition(0, Some(1), &[1], &[1])], 2)),
    ));
    assert_eq!(
        ids(&findings),
        [("config.min-insync-unsatisfiable", Severity::Fail)]
    );
    assert_eq!(findings[0].cause.as_deref(), Some(cause::ISR_BELOW_MIN));
    assert!(evidence(&findings[0])[0].starts_with("app.properties | acks not set: assuming"));

    // Kafka 3.7+ (or a version not known): one replica and min.insync.replicas=2 take
    // acks=all writes, capped at the replica count (KAFKA-15583).
    let capped = topic_accepts_writes(&with_cluster(
        "",
        facts(topic(vec![partition(0, Some(1), &[1], &[1])], 2)),
    ));
    assert_eq!(ids(&capped), []);

    let findings = topic_accepts_writes(&with_cluster(
        "acks=all\n",
        facts(topic(
            vec![
                partition(0, Some(1), &[1, 2, 3], &[1]),
                partition(1, Some(2), &[2, 3, 1], &[2, 3, 1]),
                partition(2, Some(3), &[3, 1, 2], &[3]),
            ],
            2,
        )),
    ));
    assert_eq!(ids(&findings), [("config.isr-below-min", Severity::Fail)]);
    assert!(
        findings[0]
            .title
            .contains("2 partitions (orders-0, orders-2)"),
        "{}",
        findings[0].title
    );

    // acks=1 is not bound by min.insync.replicas; an offline partition refuses anyway.
    let findings = topic_accepts_writes(&with_cluster(
        "acks=1\n",
        facts(topic(
            vec![
                partition(0, Some(1), &[1], &[1]),
                partition(1, None, &[4], &[]),
            ],
            2,
        )),
    ));
    assert_eq!(
        ids(&findings),
        [("config.partition-offline", Severity::Fail)]
    );

    let mut missing = topic(Vec::new(), 1);
    missing.error = Some("UnknownTopicOrPartition".into());
    assert_eq!(
        ids(&topic_accepts_writes(&with_cluster("", facts(missing)))),
        [("config.topic-missing", Severity::Fail)]
    );
}

#[test]
fn invalid_and_foreign_keys_are_reported_with_their_lines() {
    let findings = invalid_values(&audit("acks=2\n"));
    assert_eq!(ids(&findings), [("config.invalid", Severity::Fail)]);
    assert!(
        findings[0]
            .fix
            .as_ref()
            .unwrap()
            .contains("acks=all (default)")
    );
    let findings = schema::keys(&audit(
        "key.serializer=x\nvalue.serializer=y\nmessage.timeout.ms=50\n",
    ));
    assert_eq!(ids(&findings), [("config.foreign-key", Severity::Warn)]);
    assert_eq!(
        findings[0].fix.as_deref(),
        Some("Write it as delivery.timeout.ms=50.")
    );
    assert_eq!(
        evidence(&findings[0])[0],
        "app.properties:3 | message.timeout.ms=50"
    );
    // librdkafka counts its queue in KiB, the Java client its buffer in bytes.
    let findings = schema::keys(&audit(
        "debug=msg\nstatistics.interval.ms=1\nbuffer.memory=33554432\n",
    ));
    assert_eq!(ids(&findings), [("config.foreign-key", Severity::Fail)]);
    assert_eq!(
        findings[0].fix.as_deref(),
        Some("Write it as queue.buffering.max.kbytes=32768.")
    );
}

#[test]
fn unknown_keys_name_the_key_meant_and_follow_what_the_client_does() {
    let java = schema::keys(&audit(
        "bootstrap.servers=a:9092\nretires=5\nschema.registry.url=http://r\n",
    ));
    assert_eq!(ids(&java), [("config.unknown-key", Severity::Warn)]);
    assert!(
        java[0]
            .fix
            .as_deref()
            .unwrap()
            .starts_with("Did you mean retries?")
    );
    // librdkafka refuses what it does not know: the producer is never created.
    let librdkafka = schema::keys(&audit("debug=msg\nenable.idempotance=true\n"));
    assert_eq!(ids(&librdkafka), [("config.unknown-key", Severity::Fail)]);
    // The required key misspelled: the Java client refuses to start.
    let missing = schema::keys(&audit("bootstrap.server=a:9092\n"));
    assert_eq!(ids(&missing), [("config.unknown-key", Severity::Fail)]);
    // Removed after 3.9: ignored by 4.x.
    let removed = schema::keys(&audit("auto.include.jmx.reporter=false\n"));
    assert!(
        removed[0].title.contains("after kafka-clients 3.9.1"),
        "{}",
        removed[0].title
    );
}

#[test]
fn keys_of_other_clients_and_of_the_0_8_producer() {
    let consumer = schema::keys(&audit("key.serializer=x\ngroup.id=g\nkey.deserializer=y\n"));
    assert_eq!(
        ids(&consumer),
        [
            ("config.client-key", Severity::Warn),
            ("config.client-key", Severity::Warn)
        ]
    );
    let legacy = schema::keys(&audit(
        "key.serializer=x\nvalue.serializer=y\nrequest.required.acks=1\n",
    ));
    assert_eq!(ids(&legacy), [("config.legacy-key", Severity::Warn)]);
    assert!(legacy[0].fix.as_deref().unwrap().starts_with("use acks"));
    let file = audit(
        "metadata.broker.list=a:9092\nrequest.required.acks=1\nproducer.type=async\n\
         serializer.class=kafka.serializer.StringEncoder\n",
    );
    assert!(schema::keys(&file).is_empty(), "judged as a whole");
    let whole = schema::legacy_file(&file);
    assert_eq!(ids(&whole), [("config.legacy-client", Severity::Fail)]);
    assert_eq!(whole[0].cause.as_deref(), Some(CONFIG_LEGACY_CLIENT));
    assert_eq!(
        evidence(&whole[0])[0],
        "app.properties:3 | producer.type=async — remove it (the Java client is always asynchronous: call send(record).get() for a synchronous send)"
    );
}

#[test]
fn values_are_checked_against_the_schema_once() {
    let text = "linger.ms=10ms\ncompression.type=brotli\nretries=-1\nacks=ALL\n";
    let findings = schema::keys(&audit(text));
    assert_eq!(
        ids(&findings),
        [
            ("config.invalid", Severity::Fail),
            ("config.invalid", Severity::Fail)
        ]
    );
    assert_eq!(findings[0].cause.as_deref(), Some(CONFIG_INVALID_VALUE));
    assert!(
        findings[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("one of none, gzip, snappy, lz4, zstd")
    );
    assert!(
        findings[1].title.starts_with("acks=ALL"),
        "{}",
        findings[1].title
    );
    // linger.ms and retries are typed settings: reported by `invalid_values`, not twice.
    assert_eq!(
        ids(&invalid_values(&audit(text))),
        [
            ("config.invalid", Severity::Fail),
            ("config.invalid", Severity::Fail)
        ]
    );
}

#[test]
fn placeholders_are_reported_by_impact_and_resolved_providers_pass() {
    let findings = schema::keys(&audit(
        "bootstrap.servers=${BROKERS}\nclient.id=${HOST}\nlinger.ms=${LINGER}\n",
    ));
    assert_eq!(
        ids(&findings),
        [
            ("config.placeholder", Severity::Fail),
            ("config.placeholder", Severity::Warn),
            ("config.placeholder", Severity::Fail)
        ]
    );
    assert!(bootstrap_servers(&audit("bootstrap.servers=${BROKERS}\n")).is_empty());
    let provided = audit(
        "config.providers=env\nconfig.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider\n\
         ssl.truststore.location=${env:TRUSTSTORE}\n",
    );
    assert!(schema::keys(&provided).is_empty());
}

#[test]
fn defaults_and_cluster_access_are_stated() {
    let findings = defaults_assumed(&audit("acks=all\n"));
    assert_eq!(ids(&findings), [("config.defaults", Severity::Info)]);
    let fix = findings[0].fix.as_deref().unwrap();
    assert!(
        fix.contains("linger.ms was 0 in kafka-clients 3.9.1 (5 now)")
            && fix.contains("enable.idempotence was false in kafka-clients 2.8.2 (true now)")
            && !fix.contains("acks was"),
        "{fix}"
    );
    assert!(evidence(&findings[0]).iter().any(|e| e
        == "app.properties | retries not set: assuming the Java client default retries=2147483647 (since 2.1)"));
    assert_eq!(
        ids(&cluster_reachable(&audit(""))),
        [("config.cluster-unchecked", Severity::Info)]
    );
}
