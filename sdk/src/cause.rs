//! The catalog of cause keys.
//!
//! A finding names the cause it supports; the host groups findings by cause across steps and
//! ranks the causes into the diagnosis. Use these keys when one fits so that your plugin's
//! findings corroborate the shipped ones; use your own `team.something` key otherwise.

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
