//! How a broker applies `min.insync.replicas` to a partition with fewer replicas than that,
//! by Kafka version: one definition for every check that judges it.
//!
//! Kafka 3.7 (KAFKA-15583, `Partition.effectiveMinIsr`) caps the value at the partition's
//! replica count; before 3.7 a value above it refuses every `acks=all` write with
//! NOT_ENOUGH_REPLICAS. The version is read from each broker's ApiVersions answer.

use std::collections::BTreeMap;

use crate::kafka::Broker;
use crate::net;

/// How a broker applies `min.insync.replicas` to a partition with fewer replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinIsrRule {
    /// Kafka 3.7 and later: `min(min.insync.replicas, replica count)` (KAFKA-15583).
    CappedAtReplicas,
    /// Before Kafka 3.7: as configured, so a value above the replica count refuses every
    /// acks=all write.
    AsConfigured,
}

/// ApiVersions key of Produce.
const PRODUCE_API: i16 = 0;
/// Produce v10 (KIP-951) first shipped in Kafka 3.7.0, the release that also brought the
/// capped min ISR (clients/src/main/resources/common/message/ProduceRequest.json: 3.6.2
/// lists `0-9`, 3.7.0 `0-10`).
const PRODUCE_V10: i16 = 10;

impl MinIsrRule {
    /// The rule a broker applies, from its ApiVersions answer; `None` when the answer does
    /// not list Produce.
    pub fn from_api_versions(versions: &[(i16, i16, i16)]) -> Option<Self> {
        let (_, _, max) = versions.iter().find(|(key, _, _)| *key == PRODUCE_API)?;
        Some(if *max >= PRODUCE_V10 {
            MinIsrRule::CappedAtReplicas
        } else {
            MinIsrRule::AsConfigured
        })
    }

    /// The rule and how it was known, as evidence.
    pub fn describe(self) -> &'static str {
        match self {
            MinIsrRule::CappedAtReplicas => {
                "Kafka 3.7 or later (ApiVersions: Produce v10+): the leader caps min.insync.replicas at the replica count"
            }
            MinIsrRule::AsConfigured => {
                "Kafka before 3.7 (ApiVersions: Produce up to v9): min.insync.replicas applies as configured"
            }
        }
    }
}

/// The rule each live broker applies, from a Kafka handshake with it (allowed by `kafka:
/// Read` for the listeners the cluster advertises). A broker that does not answer is left
/// out.
pub fn broker_rules(brokers: &[Broker]) -> BTreeMap<i32, MinIsrRule> {
    brokers
        .iter()
        .filter_map(|broker| {
            let answer = net::kafka_handshake(&broker.host, broker.port, 3_000).ok()?;
            Some((
                broker.id,
                MinIsrRule::from_api_versions(&answer.api_versions)?,
            ))
        })
        .collect()
}
