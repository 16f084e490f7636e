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
/// A broker is down or not registered.
pub const BROKER_DOWN: &str = "broker.down";
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
