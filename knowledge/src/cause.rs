//! The catalog of cause keys: the one definition the SDK, the plugins, the host and the
//! signature catalogue share.
//!
//! A finding names the cause it supports; the host groups findings by cause across steps and
//! ranks the causes into the diagnosis. Use these keys when one fits so that your plugin's
//! findings corroborate the shipped ones; use your own `team.something` key otherwise (see
//! [`is_known`] for the rule).

/// The host does not answer at all (no route, host down).
pub const NET_UNREACHABLE: &str = "net.unreachable";
/// Packets are dropped: connection attempts time out (typically a firewall).
pub const NET_FILTERED: &str = "net.filtered";
/// The host answers but nothing listens on the port.
pub const NET_REFUSED: &str = "net.refused";
/// A host name does not resolve.
pub const DNS_UNRESOLVABLE: &str = "dns.unresolvable";
/// A broker advertises a listener clients cannot reach or resolve.
pub const LISTENER_UNRESOLVABLE: &str = "listener.unresolvable";
/// A broker is down: the cluster, reached, lists replicas on a broker it does not have.
/// Only ever concluded from a cluster that answered — see [`KAFKA_UNREACHABLE`].
pub const BROKER_DOWN: &str = "broker.down";
/// No broker answered at the bootstrap servers: the cluster could not be looked at. Not a
/// conclusion about the brokers (they may be fine and the name, port or network wrong); the
/// network causes that explain it rank above it.
pub const KAFKA_UNREACHABLE: &str = "kafka.unreachable";
/// A broker is saturated (CPU, request handlers, network threads).
pub const BROKER_OVERLOADED: &str = "broker.overloaded";
/// A broker's disk is full or failing.
pub const BROKER_DISK_FULL: &str = "broker.disk-full";
/// A broker ran out of memory.
pub const BROKER_OOM: &str = "broker.out-of-memory";
/// Fewer in-sync replicas than `min.insync.replicas`: `acks=all` writes are refused.
pub const ISR_BELOW_MIN: &str = "isr.below-min";
/// Replicas are out of sync.
pub const ISR_UNDER_REPLICATED: &str = "isr.under-replicated";
/// The topic does not exist.
pub const TOPIC_MISSING: &str = "topic.missing";
/// Authorization or ACL denied the client.
pub const AUTH_DENIED: &str = "auth.denied";
/// Records expired in the producer before delivery.
pub const PRODUCER_EXPIRED: &str = "producer.records-expired";
/// Requests timed out.
pub const CLIENT_TIMEOUT: &str = "client.timeout";
/// Partitions without a live leader: no writes, no reads.
pub const PARTITION_OFFLINE: &str = "partition.offline";
/// ISR exactly at `min.insync.replicas`: one more failure stops `acks=all` writes.
pub const ISR_AT_MIN: &str = "isr.at-min";
/// No active controller (KRaft quorum leader or ZooKeeper-mode controller).
pub const CONTROLLER_MISSING: &str = "controller.missing";
/// A port accepts TCP but does not speak Kafka (wrong port, TLS listener, proxy).
pub const NET_NOT_KAFKA: &str = "net.not-kafka";
/// A ZooKeeper server is down or unreachable.
pub const ZOOKEEPER_DOWN: &str = "zookeeper.down";
/// The ZooKeeper ensemble has no quorum (no leader, or too few servers up).
pub const ZOOKEEPER_NO_QUORUM: &str = "zookeeper.no-quorum";
/// ZooKeeper is slow or backlogged.
pub const ZOOKEEPER_DEGRADED: &str = "zookeeper.degraded";
/// The producer's `bootstrap.servers` names no reachable listener of the cluster (wrong port,
/// a typo in a host name, a missing entry).
pub const CONFIG_BOOTSTRAP: &str = "config.bootstrap";
/// `acks=0` or `acks=1`: records count as sent but are lost when the leader fails.
pub const CONFIG_ACKS_WEAK: &str = "config.acks-weak";
/// `retries` is 0 or too low: one transient error drops the record.
pub const CONFIG_RETRIES: &str = "config.retries";
/// `enable.idempotence=true` contradicted by acks, retries or max-in-flight: the producer
/// refuses to start, or idempotence is silently off.
pub const CONFIG_IDEMPOTENCE: &str = "config.idempotence";
/// `delivery.timeout.ms` shorter than `linger.ms + request.timeout.ms`: the Java producer
/// refuses to start.
pub const CONFIG_DELIVERY_TIMEOUT: &str = "config.delivery-timeout";
/// The producer's maximum request size exceeds what the topic or broker accepts.
pub const CONFIG_MESSAGE_SIZE: &str = "config.message-size";
/// Producer buffers or blocking limits so small that sends fail under normal load.
pub const CONFIG_BUFFERS: &str = "config.buffers";
/// A key the client does not know: misspelled, another client's, or removed.
pub const CONFIG_UNKNOWN_KEY: &str = "config.unknown-key";
/// A value the client refuses at start-up: wrong type, out of range, not one of its values.
pub const CONFIG_INVALID_VALUE: &str = "config.invalid-value";
/// An unsubstituted `${...}` template placeholder.
pub const CONFIG_PLACEHOLDER: &str = "config.placeholder";
/// A configuration written for a client that no longer exists (the 0.8 Scala producer).
pub const CONFIG_LEGACY_CLIENT: &str = "config.legacy-client";
/// A producer's send result is never checked: no callback, the future or error is dropped.
pub const CLIENT_UNCHECKED_SEND: &str = "client.unchecked-send";
/// Buffered records are never flushed before the producer goes away or the process exits.
pub const CLIENT_NO_FLUSH: &str = "client.no-flush";
/// A producer is never closed.
pub const CLIENT_NOT_CLOSED: &str = "client.not-closed";
/// A librdkafka-based producer is never polled: delivery reports are never served.
pub const CLIENT_NO_POLL: &str = "client.no-poll";
/// Delivery errors are only logged at debug or trace level, invisible in production.
pub const CLIENT_ERRORS_HIDDEN: &str = "client.errors-hidden";
/// A client's identity was rejected: SASL mechanism not enabled, wrong credentials, expired
/// token. Not an ACL denial ([`AUTH_DENIED`]): the fix is in the client's or broker's
/// authentication setup, not in the ACLs.
pub const AUTH_AUTHENTICATION_FAILED: &str = "auth.authentication-failed";
/// A TLS handshake failed: untrusted or expired certificate, host name not in the
/// certificate, no common protocol or cipher, plaintext spoken to a TLS listener.
pub const TLS_HANDSHAKE_FAILED: &str = "tls.handshake-failed";
/// The controller fenced a broker (lost heartbeats or session): its partitions moved away.
pub const BROKER_FENCED: &str = "broker.fenced";
/// A broker's log directory failed (I/O error, read-only or removed): its replicas on that
/// directory went offline (`KafkaStorageException`).
pub const BROKER_LOG_DIR_FAILED: &str = "broker.log-dir-failed";
/// A broker ran out of file descriptors ("Too many open files").
pub const BROKER_FILE_LIMIT: &str = "broker.file-limit";
/// Long JVM garbage-collection pauses stall a broker (sessions expire, requests time out).
pub const BROKER_GC_PAUSE: &str = "broker.gc-pause";
/// The active controller changed, or partition leaders were re-elected.
pub const CONTROLLER_FAILOVER: &str = "controller.failover";
/// An out-of-sync replica was elected leader: acknowledged records were lost.
pub const PARTITION_UNCLEAN_ELECTION: &str = "partition.unclean-election";
/// A broker's ZooKeeper session expired (pause, network, overloaded ZooKeeper).
pub const ZOOKEEPER_SESSION_EXPIRED: &str = "zookeeper.session-expired";
/// Records failed their checksum (CRC): corrupted on disk or in transit.
pub const RECORD_CORRUPT: &str = "record.corrupt";
/// A transactional or idempotent producer was fenced by a newer instance with the same
/// `transactional.id`, or its epoch is no longer valid.
pub const PRODUCER_FENCED: &str = "producer.fenced";
/// The broker saw an idempotent producer's sequence numbers out of order: records were lost
/// or reordered between producer and broker.
pub const PRODUCER_OUT_OF_ORDER: &str = "producer.out-of-order-sequence";
/// Follower replicas fail to fetch from their leaders.
pub const REPLICATION_FETCH_FAILED: &str = "replication.fetch-failed";
/// Quotas throttle clients (produce, fetch or request rate).
pub const QUOTA_THROTTLED: &str = "quota.throttled";
/// Retention or compaction deleted records before they were read (offsets out of range,
/// segments deleted earlier than expected).
pub const RETENTION_DELETED: &str = "retention.deleted";
/// A compacted topic (`cleanup.policy=compact`) rejects records without a key.
pub const TOPIC_COMPACTION_NEEDS_KEY: &str = "topic.compaction-needs-key";
/// Records are rejected because their timestamps fall outside the topic's
/// `message.timestamp.*` bounds.
pub const TOPIC_TIMESTAMP_OUT_OF_RANGE: &str = "topic.timestamp-out-of-range";

/// Every shipped cause key with its meaning in one line, for `triage list` and for judging
/// whether a key in a playbook or a signature file is known.
pub const ALL: &[(&str, &str)] = &[
    (
        NET_UNREACHABLE,
        "The host does not answer at all (no route, host down).",
    ),
    (
        NET_FILTERED,
        "Packets are dropped: connection attempts time out (typically a firewall).",
    ),
    (
        NET_REFUSED,
        "The host answers but nothing listens on the port.",
    ),
    (DNS_UNRESOLVABLE, "A host name does not resolve."),
    (
        LISTENER_UNRESOLVABLE,
        "A broker advertises a listener clients cannot reach or resolve.",
    ),
    (
        BROKER_DOWN,
        "A broker is down: the cluster, reached, lists replicas on a broker it does not have.",
    ),
    (
        KAFKA_UNREACHABLE,
        "No broker answered at the bootstrap servers: the cluster could not be looked at.",
    ),
    (
        BROKER_OVERLOADED,
        "A broker is saturated (CPU, request handlers, network threads).",
    ),
    (BROKER_DISK_FULL, "A broker's disk is full or failing."),
    (BROKER_OOM, "A broker ran out of memory."),
    (
        ISR_BELOW_MIN,
        "Fewer in-sync replicas than `min.insync.replicas`: `acks=all` writes are refused.",
    ),
    (ISR_UNDER_REPLICATED, "Replicas are out of sync."),
    (TOPIC_MISSING, "The topic does not exist."),
    (AUTH_DENIED, "Authorization or ACL denied the client."),
    (
        PRODUCER_EXPIRED,
        "Records expired in the producer before delivery.",
    ),
    (CLIENT_TIMEOUT, "Requests timed out."),
    (
        PARTITION_OFFLINE,
        "Partitions without a live leader: no writes, no reads.",
    ),
    (
        ISR_AT_MIN,
        "ISR exactly at `min.insync.replicas`: one more failure stops `acks=all` writes.",
    ),
    (
        CONTROLLER_MISSING,
        "No active controller (KRaft quorum leader or ZooKeeper-mode controller).",
    ),
    (
        NET_NOT_KAFKA,
        "A port accepts TCP but does not speak Kafka (wrong port, TLS listener, proxy).",
    ),
    (ZOOKEEPER_DOWN, "A ZooKeeper server is down or unreachable."),
    (
        ZOOKEEPER_NO_QUORUM,
        "The ZooKeeper ensemble has no quorum (no leader, or too few servers up).",
    ),
    (ZOOKEEPER_DEGRADED, "ZooKeeper is slow or backlogged."),
    (
        CONFIG_BOOTSTRAP,
        "The producer's `bootstrap.servers` names no reachable listener of the cluster (wrong port, a typo in a host name, a missing entry).",
    ),
    (
        CONFIG_ACKS_WEAK,
        "`acks=0` or `acks=1`: records count as sent but are lost when the leader fails.",
    ),
    (
        CONFIG_RETRIES,
        "`retries` is 0 or too low: one transient error drops the record.",
    ),
    (
        CONFIG_IDEMPOTENCE,
        "`enable.idempotence=true` contradicted by acks, retries or max-in-flight: the producer refuses to start, or idempotence is silently off.",
    ),
    (
        CONFIG_DELIVERY_TIMEOUT,
        "`delivery.timeout.ms` shorter than `linger.ms + request.timeout.ms`: the Java producer refuses to start.",
    ),
    (
        CONFIG_MESSAGE_SIZE,
        "The producer's maximum request size exceeds what the topic or broker accepts.",
    ),
    (
        CONFIG_BUFFERS,
        "Producer buffers or blocking limits so small that sends fail under normal load.",
    ),
    (
        CONFIG_UNKNOWN_KEY,
        "A key the client does not know: misspelled, another client's, or removed.",
    ),
    (
        CONFIG_INVALID_VALUE,
        "A value the client refuses at start-up: wrong type, out of range, not one of its values.",
    ),
    (
        CONFIG_PLACEHOLDER,
        "An unsubstituted `${...}` template placeholder.",
    ),
    (
        CONFIG_LEGACY_CLIENT,
        "A configuration written for a client that no longer exists (the 0.8 Scala producer).",
    ),
    (
        CLIENT_UNCHECKED_SEND,
        "A producer's send result is never checked: no callback, the future or error is dropped.",
    ),
    (
        CLIENT_NO_FLUSH,
        "Buffered records are never flushed before the producer goes away or the process exits.",
    ),
    (CLIENT_NOT_CLOSED, "A producer is never closed."),
    (
        CLIENT_NO_POLL,
        "A librdkafka-based producer is never polled: delivery reports are never served.",
    ),
    (
        CLIENT_ERRORS_HIDDEN,
        "Delivery errors are only logged at debug or trace level, invisible in production.",
    ),
    (
        AUTH_AUTHENTICATION_FAILED,
        "A client's identity was rejected: SASL mechanism not enabled, wrong credentials, expired token.",
    ),
    (
        TLS_HANDSHAKE_FAILED,
        "A TLS handshake failed: untrusted or expired certificate, host name not in the certificate, no common protocol or cipher, plaintext spoken to a TLS listener.",
    ),
    (
        BROKER_FENCED,
        "The controller fenced a broker (lost heartbeats or session): its partitions moved away.",
    ),
    (
        BROKER_LOG_DIR_FAILED,
        "A broker's log directory failed (I/O error, read-only or removed): its replicas on that directory went offline (`KafkaStorageException`).",
    ),
    (
        BROKER_FILE_LIMIT,
        r#"A broker ran out of file descriptors ("Too many open files")."#,
    ),
    (
        BROKER_GC_PAUSE,
        "Long JVM garbage-collection pauses stall a broker (sessions expire, requests time out).",
    ),
    (
        CONTROLLER_FAILOVER,
        "The active controller changed, or partition leaders were re-elected.",
    ),
    (
        PARTITION_UNCLEAN_ELECTION,
        "An out-of-sync replica was elected leader: acknowledged records were lost.",
    ),
    (
        ZOOKEEPER_SESSION_EXPIRED,
        "A broker's ZooKeeper session expired (pause, network, overloaded ZooKeeper).",
    ),
    (
        RECORD_CORRUPT,
        "Records failed their checksum (CRC): corrupted on disk or in transit.",
    ),
    (
        PRODUCER_FENCED,
        "A transactional or idempotent producer was fenced by a newer instance with the same `transactional.id`, or its epoch is no longer valid.",
    ),
    (
        PRODUCER_OUT_OF_ORDER,
        "The broker saw an idempotent producer's sequence numbers out of order: records were lost or reordered between producer and broker.",
    ),
    (
        REPLICATION_FETCH_FAILED,
        "Follower replicas fail to fetch from their leaders.",
    ),
    (
        QUOTA_THROTTLED,
        "Quotas throttle clients (produce, fetch or request rate).",
    ),
    (
        RETENTION_DELETED,
        "Retention or compaction deleted records before they were read (offsets out of range, segments deleted earlier than expected).",
    ),
    (
        TOPIC_COMPACTION_NEEDS_KEY,
        "A compacted topic (`cleanup.policy=compact`) rejects records without a key.",
    ),
    (
        TOPIC_TIMESTAMP_OUT_OF_RANGE,
        "Records are rejected because their timestamps fall outside the topic's `message.timestamp.*` bounds.",
    ),
];

/// The prefix of a team's own cause keys: `team.` followed by one or more segments.
pub const TEAM_PREFIX: &str = "team.";

/// Whether `key` is a cause the host can rank: a shipped key from [`ALL`], or a team's own
/// key.
///
/// The rule for a team key: `team.` and then one or more segments joined by `.`, each made of
/// lower-case ASCII letters, digits, `-` and `_` (`team.payments`, `team.orders.dlq-full`).
/// Anything else — a misspelled shipped key (`isr.under-replicatd`), an upper-case or empty
/// segment, another prefix — is unknown: a typo must not silently become a new cause that
/// corroborates nothing.
pub fn is_known(key: &str) -> bool {
    ALL.iter().any(|(known, _)| *known == key) || is_team_key(key)
}

/// Whether `key` is a team's own key (see [`is_known`]).
pub fn is_team_key(key: &str) -> bool {
    key.strip_prefix(TEAM_PREFIX).is_some_and(|rest| {
        rest.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        })
    })
}

/// The meaning of a shipped key, for listings.
pub fn meaning(key: &str) -> Option<&'static str> {
    ALL.iter()
        .find(|(known, _)| *known == key)
        .map(|(_, meaning)| *meaning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_listed_once() {
        let mut keys: Vec<&str> = ALL.iter().map(|(key, _)| *key).collect();
        let count = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), count, "a key is listed twice in ALL");
        assert!(ALL.iter().all(|(_, meaning)| !meaning.is_empty()));
    }

    #[test]
    fn shipped_and_team_keys_are_known_and_typos_are_not() {
        for key in [
            BROKER_DOWN,
            ISR_UNDER_REPLICATED,
            "team.payments",
            "team.orders.dlq-full",
            "team.my_cause2",
        ] {
            assert!(is_known(key), "{key}");
        }
        for key in [
            "",
            "isr.under-replicatd",
            "team.",
            "team..x",
            "team.Payments",
            "ours.x",
            "broker.down ",
        ] {
            assert!(!is_known(key), "{key:?}");
        }
    }
}
