//! What the live cluster says, asked once before the rules run: its advertised listeners,
//! the broker limits the producer settings must fit (`message.max.bytes`,
//! `replica.lag.time.max.ms`), and the application's topic (partitions, ISR,
//! `min.insync.replicas`, `max.message.bytes`).
//!
//! Plain data, so that the rules are pure functions a unit test can feed.

use std::collections::{BTreeMap, BTreeSet};

use triage_sdk::HostError;
use triage_sdk::kafka::{self, ConfigResource, ConfigResult, Partition, ResourceKind};
use triage_sdk::min_isr::{self, MinIsrRule};

use crate::bootstrap::Server;

/// The cluster as the rules see it.
#[derive(Debug, Clone)]
pub enum ClusterView {
    /// The step has no `kafka: Read` grant; the host's words.
    NotGranted(String),
    /// No broker answered; the host's words.
    Unavailable(String),
    /// The cluster answered.
    Known(ClusterFacts),
}

impl ClusterView {
    /// The facts, when the cluster answered.
    pub fn facts(&self) -> Option<&ClusterFacts> {
        match self {
            ClusterView::Known(facts) => Some(facts),
            _ => None,
        }
    }
}

/// What the cluster answered.
#[derive(Debug, Clone, Default)]
pub struct ClusterFacts {
    /// Every live broker's advertised client listener, with its id.
    pub listeners: Vec<(i32, Server)>,
    /// Limits read from one live broker.
    pub broker: BrokerLimits,
    /// The application's topic, when the step names one.
    pub topic: Option<TopicFacts>,
}

/// Broker settings the producer's must fit. `None`: not readable.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BrokerLimits {
    /// The broker the values were read from.
    pub broker_id: Option<i32>,
    /// `message.max.bytes`: the largest record batch the broker accepts.
    pub message_max_bytes: Option<u64>,
    /// `replica.lag.time.max.ms`: how long a stalled follower stays in the ISR.
    pub replica_lag_time_max_ms: Option<u64>,
}

/// The application's topic.
#[derive(Debug, Clone, Default)]
pub struct TopicFacts {
    /// Its name.
    pub name: String,
    /// The metadata error when the topic does not exist (or could not be described).
    pub error: Option<String>,
    /// Its partitions.
    pub partitions: Vec<Partition>,
    /// Ids of the live brokers, to tell a live leader from a stale one.
    pub live: BTreeSet<i32>,
    /// Effective `min.insync.replicas` (the topic's, else the broker default).
    pub min_insync_replicas: Option<u64>,
    /// Effective `max.message.bytes` (the topic's, else the broker's `message.max.bytes`).
    pub max_message_bytes: Option<u64>,
    /// How each live broker's Kafka version applies `min.insync.replicas` above the replica
    /// count (from its ApiVersions); empty when no broker answered a handshake.
    pub min_isr_rules: BTreeMap<i32, MinIsrRule>,
}

impl TopicFacts {
    /// The replication factor: the most replicas any partition has.
    pub fn replication_factor(&self) -> usize {
        self.partitions
            .iter()
            .map(|p| p.replicas.len())
            .max()
            .unwrap_or(0)
    }
}

/// Ask the cluster, through the host, for everything the rules use.
pub fn gather(topic: Option<&str>) -> ClusterView {
    let wanted: Vec<String> = topic.map(str::to_owned).into_iter().collect();
    let cluster = match kafka::metadata(&wanted) {
        Ok(cluster) => cluster,
        Err(HostError::Denied(why)) => return ClusterView::NotGranted(why),
        Err(error) => return ClusterView::Unavailable(error.reason()),
    };
    let listeners: Vec<(i32, Server)> = cluster
        .brokers
        .iter()
        .map(|b| {
            (
                b.id,
                Server {
                    host: b.host.to_ascii_lowercase(),
                    port: b.port,
                },
            )
        })
        .collect();
    let live: BTreeSet<i32> = cluster.brokers.iter().map(|b| b.id).collect();
    let broker = broker_limits(live.first().copied());
    let topic = topic.map(|name| {
        let found = cluster.topics.iter().find(|t| t.name == name);
        let mut facts = TopicFacts {
            name: name.to_owned(),
            error: found.map_or_else(
                || Some("not in the metadata response".to_owned()),
                |t| t.error.clone(),
            ),
            partitions: found.map(|t| t.partitions.clone()).unwrap_or_default(),
            live: live.clone(),
            ..TopicFacts::default()
        };
        if found.is_some() {
            facts.min_isr_rules = min_isr::broker_rules(&cluster.brokers);
        }
        if facts.error.is_none() {
            let resource = ConfigResource {
                kind: ResourceKind::Topic,
                name: name.to_owned(),
            };
            let keys = ["min.insync.replicas", "max.message.bytes"].map(str::to_owned);
            if let Ok(results) = kafka::describe_configs(&[resource], &keys) {
                facts.min_insync_replicas = number(&results, "min.insync.replicas");
                facts.max_message_bytes = number(&results, "max.message.bytes");
            }
        }
        facts
    });
    ClusterView::Known(ClusterFacts {
        listeners,
        broker,
        topic,
    })
}

fn broker_limits(broker_id: Option<i32>) -> BrokerLimits {
    let Some(id) = broker_id else {
        return BrokerLimits::default();
    };
    let resource = ConfigResource {
        kind: ResourceKind::Broker,
        name: id.to_string(),
    };
    let keys = ["message.max.bytes", "replica.lag.time.max.ms"].map(str::to_owned);
    let results = kafka::describe_configs(&[resource], &keys).unwrap_or_default();
    BrokerLimits {
        broker_id: Some(id),
        message_max_bytes: number(&results, "message.max.bytes"),
        replica_lag_time_max_ms: number(&results, "replica.lag.time.max.ms"),
    }
}

/// A numeric config value from the first resource that has it.
fn number(results: &[ConfigResult], key: &str) -> Option<u64> {
    results
        .iter()
        .filter(|r| r.error.is_none())
        .flat_map(|r| &r.entries)
        .find(|e| e.name == key)?
        .value
        .as_deref()?
        .trim()
        .parse()
        .ok()
}
