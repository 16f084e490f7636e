//! The shipped catalogue checked as a whole: it parses, it is big enough, every regex compiles,
//! every example matches its own signature and no signature of another cause, and nothing
//! matches the healthy lab's own startup log (a signature that fires on a healthy cluster is
//! noise the operator learns to ignore).
//!
//! The healthy logs in `tests/lab/` were captured from `tests/lab/lab up` (Kafka 4.4, one
//! KRaft controller, three brokers) plus one topic created, with the lab directory replaced
//! by `LAB_DIR`.

use regex::Regex;
use triage_knowledge::{Signature, catalogue, cause, load_catalogue};

fn compiled(signature: &Signature) -> Vec<Regex> {
    signature
        .regexes
        .iter()
        .map(|r| {
            Regex::new(r)
                .unwrap_or_else(|e| panic!("{}: regex {r:?} does not compile: {e}", signature.id))
        })
        .collect()
}

fn matches(regexes: &[Regex], line: &str) -> bool {
    regexes.iter().any(|r| r.is_match(line))
}

#[test]
fn the_catalogue_parses_and_covers_every_class() {
    let signatures = load_catalogue().unwrap_or_else(|e| panic!("{e}"));
    assert!(signatures.len() >= 60, "{} signatures", signatures.len());
    for signature in &signatures {
        assert!(!signature.source.is_empty(), "{}: no source", signature.id);
        assert!(
            !signature.components.is_empty(),
            "{}: no components",
            signature.id
        );
        assert!(
            !signature.examples.is_empty(),
            "{}: no examples",
            signature.id
        );
        assert!(
            cause::is_known(&signature.cause),
            "{}: {}",
            signature.id,
            signature.cause
        );
    }
    // The failure classes issue 8 names, by the cause each must support.
    let causes: std::collections::BTreeSet<&str> =
        signatures.iter().map(|s| s.cause.as_str()).collect();
    for needed in [
        cause::ISR_UNDER_REPLICATED,
        cause::ISR_BELOW_MIN,
        cause::BROKER_FENCED,
        cause::CONTROLLER_FAILOVER,
        cause::PARTITION_UNCLEAN_ELECTION,
        cause::ZOOKEEPER_SESSION_EXPIRED,
        cause::BROKER_LOG_DIR_FAILED,
        cause::BROKER_DISK_FULL,
        cause::BROKER_FILE_LIMIT,
        cause::BROKER_OOM,
        cause::BROKER_GC_PAUSE,
        cause::TLS_HANDSHAKE_FAILED,
        cause::AUTH_AUTHENTICATION_FAILED,
        cause::AUTH_DENIED,
        cause::CONFIG_MESSAGE_SIZE,
        cause::RECORD_CORRUPT,
        cause::CLIENT_TIMEOUT,
        cause::PRODUCER_EXPIRED,
        cause::NET_REFUSED,
        cause::DNS_UNRESOLVABLE,
        cause::TOPIC_MISSING,
        cause::PRODUCER_OUT_OF_ORDER,
        cause::PRODUCER_FENCED,
        cause::REPLICATION_FETCH_FAILED,
        cause::QUOTA_THROTTLED,
        cause::RETENTION_DELETED,
        cause::TOPIC_COMPACTION_NEEDS_KEY,
        cause::TOPIC_TIMESTAMP_OUT_OF_RANGE,
    ] {
        assert!(causes.contains(needed), "no signature supports {needed}");
    }
    assert_eq!(catalogue().len(), signatures.len());
}

#[test]
fn every_example_matches_its_own_signature_and_no_other_cause() {
    let signatures = catalogue();
    let all: Vec<(&Signature, Vec<Regex>)> = signatures.iter().map(|s| (s, compiled(s))).collect();
    let mut problems = Vec::new();
    for (signature, regexes) in &all {
        for example in &signature.examples {
            if !matches(regexes, example) {
                problems.push(format!(
                    "{}: its example does not match: {example}",
                    signature.id
                ));
            }
            // An example claimed by a signature of another cause would be named twice, once
            // wrongly: the wordings of different causes must stay apart.
            for (other, other_regexes) in &all {
                if other.cause != signature.cause && matches(other_regexes, example) {
                    problems.push(format!(
                        "{} ({}) also matches {}'s example ({}): {example}",
                        other.id, other.cause, signature.id, signature.cause
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn nothing_matches_the_healthy_labs_startup_log() {
    let healthy = [
        include_str!("lab/healthy-1.log"),
        include_str!("lab/healthy-controller.log"),
    ];
    let mut problems = Vec::new();
    for signature in catalogue() {
        let regexes = compiled(signature);
        for line in healthy.iter().flat_map(|log| log.lines()) {
            if matches(&regexes, line) {
                problems.push(format!("{} matches a healthy line: {line}", signature.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Lines Kafka 4.4 wrote on the lab when a fault was injected (captured from the faults of
/// tests/log_signatures_lab.rs; lab directory shown as LAB_DIR), with the cause an operator
/// must be told. Every line must be named with that cause, and with no cause outside `also`.
const LAB_LINES: &[(&str, &str)] = &[
    // `lab stop 3`: the survivors' ISR change, KRaft wording (no "Shrinking ISR").
    (
        "[2026-11-29 15:45:42,386] INFO [Broker id=1] Skipped the become-leader state change for orders-2 with topic id Some(7yIcZ9E0QVGqliZCCjTeEA), partition registration PartitionRegistration(replicas=[1, 2, 3], directories=[0MW707m7euVEfphSqcGr3A, JckqPtNuO3IgIpC3FaDx_w, B5VHiPiywxsYNKqxHyUrzw], isr=[1, 2], removingReplicas=[], addingReplicas=[], elr=[], lastKnownElr=[], leader=1, leaderRecoveryState=RECOVERED, leaderEpoch=0, partitionEpoch=1) and isNew=false since it is already the leader with leader epoch 0. Current high watermark 0, ISR [1,2], adding replicas [] and removing replicas []. (state.change.logger)",
        cause::ISR_UNDER_REPLICATED,
    ),
    (
        "[2026-11-29 15:45:42,397] INFO [Broker id=1] Skipped the become-follower state change for orders-0 with topic id Some(7yIcZ9E0QVGqliZCCjTeEA), partition registration PartitionRegistration(replicas=[2, 3, 1], directories=[JckqPtNuO3IgIpC3FaDx_w, B5VHiPiywxsYNKqxHyUrzw, 0MW707m7euVEfphSqcGr3A], isr=[2, 1], removingReplicas=[], addingReplicas=[], elr=[], lastKnownElr=[], leader=2, leaderRecoveryState=RECOVERED, leaderEpoch=0, partitionEpoch=1) and isNew=false since it is already a follower with leader epoch 0. (state.change.logger)",
        cause::ISR_UNDER_REPLICATED,
    ),
    (
        "[2026-11-29 15:45:42,363] INFO [Broker id=1] Leader orders-1 with topic id Some(7yIcZ9E0QVGqliZCCjTeEA) starts at leader epoch 1 from offset 0 with partition epoch 1, high watermark 0, ISR [1,2], adding replicas [] and removing replicas [] . Previous leader Some(3) and previous leader epoch was 0. (state.change.logger)",
        cause::CONTROLLER_FAILOVER,
    ),
    (
        "[2026-11-29 15:45:42,225] INFO [QuorumController id=100] Unfenced broker 3 has requested and been granted a controlled shutdown. (org.apache.kafka.controller.BrokerHeartbeatManager)",
        cause::BROKER_FENCED,
    ),
    (
        "[2026-11-29 15:45:42,232] INFO [QuorumController id=100] enterControlledShutdown[3]: changing 3 partition(s) (org.apache.kafka.controller.ReplicationControlManager)",
        cause::BROKER_FENCED,
    ),
    // `lab stop 3 --kill`, `lab pause 3`.
    (
        "[2026-11-29 15:46:05,103] INFO [QuorumController id=100] Fencing broker 3 at epoch 108 because its session has timed out. (org.apache.kafka.controller.ReplicationControlManager)",
        cause::BROKER_FENCED,
    ),
    (
        "[2026-11-29 15:46:05,105] INFO [QuorumController id=100] handleBrokerFenced: changing 3 partition(s) (org.apache.kafka.controller.ReplicationControlManager)",
        cause::BROKER_FENCED,
    ),
    (
        "[2026-11-29 15:48:08,924] INFO [RaftManager id=3] Disconnecting from node 100 due to request timeout. (org.apache.kafka.clients.NetworkClient)",
        cause::CLIENT_TIMEOUT,
    ),
    (
        "[2026-11-29 15:49:14,798] WARN [ReplicaFetcher replicaId=1, leaderId=2, fetcherId=0] Connection to node 2 (/127.0.0.1:49189) could not be established. Node may not be available. (org.apache.kafka.clients.NetworkClient)",
        cause::REPLICATION_FETCH_FAILED,
    ),
    // `lab logdir 3 full`.
    (
        "[2026-11-29 15:49:12,393] ERROR Error while writing to checkpoint file LAB_DIR/broker-3/data/replication-offset-checkpoint (org.apache.kafka.storage.internals.log.LogDirFailureChannel)",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    (
        "java.io.IOException: No space left on device",
        cause::BROKER_DISK_FULL,
    ),
    (
        "Caused by: java.io.IOException: No space left on device",
        cause::BROKER_DISK_FULL,
    ),
    (
        "[2026-11-29 15:49:12,396] WARN [ReplicaManager broker=3] Stopping serving replicas in dir LAB_DIR/broker-3/data with uuid Optional[B5VHiPiywxsYNKqxHyUrzw] because the log directory has failed. (kafka.server.ReplicaManager)",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    (
        "[2026-11-29 15:49:12,400] ERROR [ReplicaManager broker=3] Error while writing to highwatermark file in directory LAB_DIR/broker-3/data (kafka.server.ReplicaManager)",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    (
        "org.apache.kafka.common.errors.KafkaStorageException: Error while writing to checkpoint file LAB_DIR/broker-3/data/replication-offset-checkpoint",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    (
        "[2026-11-29 15:49:12,479] WARN [ReplicaManager broker=3] Broker 3 stopped fetcher for partitions orders-0,orders-1,orders-2 and stopped moving logs for partitions  because they are in the failed log directory LAB_DIR/broker-3/data. (kafka.server.ReplicaManager)",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    (
        "[2026-11-29 15:49:12,480] WARN Stopping serving logs in dir LAB_DIR/broker-3/data (org.apache.kafka.storage.internals.log.LogManager)",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    (
        "[2026-11-29 15:49:12,480] ERROR Shutdown broker because all log dirs in LAB_DIR/broker-3/data have failed (org.apache.kafka.storage.internals.log.LogManager)",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    // `lab logdir 3 remove`.
    (
        "[2026-11-29 15:50:45,372] ERROR Error while reading checkpoint file LAB_DIR/broker-3/data/cleaner-offset-checkpoint (org.apache.kafka.storage.internals.log.LogDirFailureChannel)",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    (
        "java.nio.file.NoSuchFileException: LAB_DIR/broker-3/data/cleaner-offset-checkpoint",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    (
        "[2026-11-29 15:50:45,376] ERROR Failed to access checkpoint file cleaner-offset-checkpoint in dir LAB_DIR/broker-3/data (kafka.log.LogCleaner)",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    (
        "org.apache.kafka.common.errors.KafkaStorageException: Error while reading checkpoint file LAB_DIR/broker-3/data/cleaner-offset-checkpoint",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    // `lab logdir 3 readonly`.
    (
        "java.nio.file.FileSystemException: LAB_DIR/broker-3/data/__cluster_metadata-0/00000000000000000000.log: Read-only file system",
        cause::BROKER_LOG_DIR_FAILED,
    ),
    // `lab nofile 3`.
    (
        "java.io.IOException: Too many open files",
        cause::BROKER_FILE_LIMIT,
    ),
    (
        "java.io.FileNotFoundException: LAB_DIR/broker-3/data/replication-offset-checkpoint.tmp (Too many open files)",
        cause::BROKER_FILE_LIMIT,
    ),
    // `lab heap 3 128m`.
    (
        "java.lang.OutOfMemoryError: Java heap space",
        cause::BROKER_OOM,
    ),
    (
        "Terminating due to java.lang.OutOfMemoryError: Java heap space",
        cause::BROKER_OOM,
    ),
    // `lab produce big --size 200000` (client log).
    (
        "org.apache.kafka.common.errors.RecordTooLargeException: The request included a message larger than the max message size the server will accept.",
        cause::CONFIG_MESSAGE_SIZE,
    ),
    // `lab produce nosuch` with auto-create off (client log).
    (
        "[2026-11-29 15:54:17,582] WARN [Producer clientId=console-producer] The metadata response from the cluster reported a recoverable issue with correlation id 2 : {nosuch=UNKNOWN_TOPIC_OR_PARTITION} (org.apache.kafka.clients.NetworkClient)",
        cause::TOPIC_MISSING,
    ),
    (
        "org.apache.kafka.common.errors.TimeoutException: Topic nosuch not present in metadata after 4000 ms.",
        cause::TOPIC_MISSING,
    ),
    (
        "Caused by: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.",
        cause::TOPIC_MISSING,
    ),
];

#[test]
fn the_labs_fault_lines_are_named_with_the_right_cause() {
    let all: Vec<(&Signature, Vec<Regex>)> = catalogue().iter().map(|s| (s, compiled(s))).collect();
    let mut problems = Vec::new();
    for (line, expected) in LAB_LINES {
        let named: Vec<(&str, &str)> = all
            .iter()
            .filter(|(_, regexes)| matches(regexes, line))
            .map(|(s, _)| (s.id.as_str(), s.cause.as_str()))
            .collect();
        if named.is_empty() {
            problems.push(format!("nothing names {expected}: {line}"));
        }
        for (id, cause) in &named {
            if cause != expected {
                problems.push(format!("{id} names {cause}, not {expected}: {line}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
