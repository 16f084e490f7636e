//! The run's connection to Kafka: one set of clients, created on first use and shared by
//! every step, answering the `kafka` WIT interface.
//!
//! librdkafka (through `rdkafka`) serves metadata and configs: it speaks every security
//! protocol the application's own client does. The few admin APIs librdkafka lacks
//! (DescribeQuorum, DescribeLogDirs, the ApiVersions handshake with its latency) go through a
//! small wire-protocol client ([`wire`]), PLAINTEXT only.
//!
//! Every call is bounded twice: by the configured per-call timeout and by the calling step's
//! deadline. A cluster that does not answer becomes `unavailable` quickly, never a hang.

pub mod probe;
pub mod settings;
pub mod wire;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeQuorumRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use tokio::time::Instant;

pub use self::settings::{DEFAULT_CALL_TIMEOUT, KafkaSettings, SettingsError};
use crate::wit::HostError;
use crate::wit::triage::plugin::kafka::{
    Broker, BrokerLogDirs, Cluster, ConfigEntry, ConfigResource, ConfigResult, LogDir, Partition,
    Quorum, ResourceKind, Topic, Voter,
};

/// The topic-partition of the KRaft metadata log, whose quorum DescribeQuorum describes.
const METADATA_TOPIC: &str = "__cluster_metadata";

/// Shared Kafka clients for one run.
pub struct KafkaConnection {
    settings: KafkaSettings,
    admin: OnceLock<Result<Arc<AdminClient<DefaultClientContext>>, String>>,
    /// Listeners the cluster advertised in the last metadata answer: a step with
    /// `kafka: Read` may handshake with these without a separate `net` grant.
    advertised: Mutex<HashSet<(String, u16)>>,
    /// Records the host's own produce probes saw fail or go missing in this run, whatever
    /// the plugins then reported: a run that detected loss never exits 0 (issue 8).
    records_failed: std::sync::atomic::AtomicU64,
}

impl KafkaConnection {
    /// Clients are created lazily: a playbook without Kafka steps never connects.
    pub fn new(settings: KafkaSettings) -> KafkaConnection {
        KafkaConnection {
            settings,
            admin: OnceLock::new(),
            advertised: Mutex::new(HashSet::new()),
            records_failed: Default::default(),
        }
    }

    /// Probe records that failed or were proven lost so far in this run (records only not
    /// read back are unknown, not counted).
    pub fn records_failed(&self) -> u64 {
        self.records_failed
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The settings (for messages; secrets stay inside).
    pub fn bootstrap(&self) -> &str {
        &self.settings.bootstrap
    }

    /// Did the last metadata answer advertise this listener?
    pub fn is_advertised(&self, host: &str, port: u16) -> bool {
        self.advertised
            .lock()
            .expect("advertised lock")
            .contains(&(host.to_ascii_lowercase(), port))
    }

    fn admin(&self) -> Result<Arc<AdminClient<DefaultClientContext>>, HostError> {
        if self.settings.bootstrap.trim().is_empty() {
            return Err(HostError::Unavailable(
                "no Kafka bootstrap servers: pass --bootstrap HOST:PORT (or set the playbook's \
                 `bootstrap` input)"
                    .into(),
            ));
        }
        self.admin
            .get_or_init(|| {
                let mut config = ClientConfig::new();
                config.set("bootstrap.servers", &self.settings.bootstrap);
                for (key, value) in &self.settings.client {
                    config.set(key, value);
                }
                config
                    .create::<AdminClient<DefaultClientContext>>()
                    .map(Arc::new)
                    .map_err(|e| format!("cannot create a Kafka client: {e}"))
            })
            .clone()
            .map_err(HostError::Unavailable)
    }

    /// How long the next call may take: the per-call bound, cut by the step's deadline.
    fn budget(&self, deadline: Instant) -> Result<Duration, HostError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HostError::Timeout);
        }
        Ok(left.min(self.settings.call_timeout))
    }

    /// Brokers, topics, partitions; `topics` empty means all.
    ///
    /// Over PLAINTEXT the wire client asks for it directly (one round trip on a fresh
    /// connection: about 15 ms for 10,000 partitions, where librdkafka's first fetch takes
    /// 70 ms, and the answer includes offline replicas and racks); otherwise, or when that
    /// fails, librdkafka, which speaks every security protocol.
    pub async fn metadata(
        &self,
        topics: &[String],
        deadline: Instant,
    ) -> Result<Cluster, HostError> {
        let (fetched, quorum) = tokio::join!(self.fetch_metadata(deadline), self.quorum(deadline));
        let mut cluster = fetched?;
        // The active controller is the KRaft quorum leader; the metadata's own controller id
        // is a random broker on KRaft clusters.
        if let Ok(Some(quorum)) = quorum {
            cluster.controller_id = Some(quorum.leader_id);
        }
        *self.advertised.lock().expect("advertised lock") = cluster
            .brokers
            .iter()
            .map(|b| (b.host.to_ascii_lowercase(), b.port))
            .collect();
        let wanted: HashSet<&str> = topics.iter().map(String::as_str).collect();
        cluster
            .topics
            .retain(|t| wanted.is_empty() || wanted.contains(t.name.as_str()));
        for name in topics {
            if !cluster.topics.iter().any(|t| &t.name == name) {
                cluster.topics.push(Topic {
                    name: name.clone(),
                    internal: false,
                    partitions: Vec::new(),
                    error: Some("UnknownTopicOrPartition: the topic does not exist".into()),
                });
            }
        }
        cluster.topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cluster)
    }

    /// Every broker and topic, by the fastest client that can speak to the cluster.
    async fn fetch_metadata(&self, deadline: Instant) -> Result<Cluster, HostError> {
        if self.settings.plaintext()
            && let Ok(cluster) = self.wire_metadata(deadline).await
        {
            return Ok(cluster);
        }
        self.librdkafka_metadata(deadline).await
    }

    async fn wire_metadata(&self, deadline: Instant) -> Result<Cluster, HostError> {
        use kafka_protocol::messages::MetadataRequest;
        let mut connection = self.any_broker(deadline).await?;
        // All topics (`None`), never auto-created.
        let request = MetadataRequest::default()
            .with_topics(None)
            .with_allow_auto_topic_creation(false);
        let response = connection
            .call("Metadata", &request)
            .await
            .map_err(|e| HostError::Unavailable(format!("Metadata: {e}")))?;
        let brokers: Vec<Broker> = response
            .brokers
            .iter()
            .map(|b| Broker {
                id: b.node_id.0,
                host: b.host.to_string(),
                port: u16::try_from(b.port).unwrap_or(0),
                rack: b.rack.as_ref().map(ToString::to_string),
            })
            .collect();
        let topics = response
            .topics
            .iter()
            .map(|t| Topic {
                name: t.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default(),
                internal: t.is_internal,
                error: error_name(t.error_code),
                partitions: t
                    .partitions
                    .iter()
                    .map(|p| Partition {
                        id: p.partition_index,
                        leader: (p.leader_id.0 >= 0).then_some(p.leader_id.0),
                        replicas: p.replica_nodes.iter().map(|r| r.0).collect(),
                        isr: p.isr_nodes.iter().map(|r| r.0).collect(),
                        offline_replicas: p.offline_replicas.iter().map(|r| r.0).collect(),
                        error: error_name(p.error_code),
                    })
                    .collect(),
            })
            .collect();
        Ok(Cluster {
            cluster_id: response.cluster_id.as_ref().map(ToString::to_string),
            controller_id: (response.controller_id.0 >= 0).then_some(response.controller_id.0),
            brokers,
            topics,
        })
    }

    async fn librdkafka_metadata(&self, deadline: Instant) -> Result<Cluster, HostError> {
        let admin = self.admin()?;
        let budget = self.budget(deadline)?;
        let bootstrap = self.settings.bootstrap.clone();
        let (metadata, cluster_id) = tokio::task::spawn_blocking(move || {
            // All topics at once: asking for one topic by name could auto-create it.
            let metadata = admin.inner().fetch_metadata(None, budget);
            let cluster_id = metadata
                .as_ref()
                .ok()
                .and_then(|_| admin.inner().fetch_cluster_id(budget));
            (metadata, cluster_id)
        })
        .await
        .map_err(|e| HostError::Unavailable(format!("metadata task failed: {e}")))?;
        let metadata = metadata.map_err(|e| {
            HostError::Unavailable(format!(
                "no broker at {bootstrap} answered a metadata request within {budget:?}: {e}"
            ))
        })?;
        let brokers: Vec<Broker> = metadata
            .brokers()
            .iter()
            .map(|b| Broker {
                id: b.id(),
                host: b.host().to_owned(),
                port: u16::try_from(b.port()).unwrap_or(0),
                rack: None,
            })
            .collect();
        let live: HashSet<i32> = brokers.iter().map(|b| b.id).collect();
        let topics = metadata
            .topics()
            .iter()
            .map(|t| Topic {
                name: t.name().to_owned(),
                internal: t.name().starts_with("__"),
                error: t.error().map(|e| format!("{e:?}")),
                partitions: t
                    .partitions()
                    .iter()
                    .map(|p| Partition {
                        id: p.id(),
                        leader: (p.leader() >= 0).then_some(p.leader()),
                        replicas: p.replicas().to_vec(),
                        isr: p.isr().to_vec(),
                        // librdkafka does not report them: replicas on brokers not live.
                        offline_replicas: p
                            .replicas()
                            .iter()
                            .copied()
                            .filter(|r| !live.contains(r))
                            .collect(),
                        error: p.error().map(|e| format!("{e:?}")),
                    })
                    .collect(),
            })
            .collect();
        Ok(Cluster {
            cluster_id,
            controller_id: None,
            brokers,
            topics,
        })
    }

    /// Configs of topics and brokers; sensitive values are withheld.
    pub async fn describe_configs(
        &self,
        resources: &[ConfigResource],
        keys: &[String],
        deadline: Instant,
    ) -> Result<Vec<ConfigResult>, HostError> {
        let admin = self.admin()?;
        let budget = self.budget(deadline)?;
        let mut specifiers = Vec::with_capacity(resources.len());
        for resource in resources {
            specifiers.push(match resource.kind {
                ResourceKind::Topic => ResourceSpecifier::Topic(&resource.name),
                ResourceKind::Broker => {
                    ResourceSpecifier::Broker(resource.name.parse().map_err(|_| {
                        HostError::Invalid(format!("`{}` is not a broker id", resource.name))
                    })?)
                }
            });
        }
        let options = AdminOptions::new().request_timeout(Some(budget));
        let results = tokio::time::timeout(budget, admin.describe_configs(&specifiers, &options))
            .await
            .map_err(|_| {
                HostError::Unavailable(format!("no answer to describe-configs within {budget:?}"))
            })?
            .map_err(|e| HostError::Unavailable(format!("describe-configs failed: {e}")))?;
        Ok(resources
            .iter()
            .zip(results)
            .map(|(resource, result)| match result {
                Ok(found) => ConfigResult {
                    subject: resource.clone(),
                    error: None,
                    entries: found
                        .entries
                        .into_iter()
                        .filter(|e| keys.is_empty() || keys.contains(&e.name))
                        .map(|e| ConfigEntry {
                            value: if e.is_sensitive { None } else { e.value },
                            source: source_name(&e.source).into(),
                            name: e.name,
                            is_default: e.is_default,
                            is_sensitive: e.is_sensitive,
                            is_read_only: e.is_read_only,
                        })
                        .collect(),
                },
                Err(code) => ConfigResult {
                    subject: resource.clone(),
                    error: Some(format!("{code:?}")),
                    entries: Vec::new(),
                },
            })
            .collect())
    }

    /// Open a wire connection to one of the bootstrap servers.
    async fn any_broker(&self, deadline: Instant) -> Result<wire::Connection, HostError> {
        if !self.settings.plaintext() {
            return Err(HostError::Unavailable(
                "this call needs a PLAINTEXT listener; the configured security.protocol is \
                 not supported by triage's wire client yet"
                    .into(),
            ));
        }
        let budget = self.budget(deadline)?;
        let mut last_error = String::from("no bootstrap servers");
        for address in self
            .settings
            .bootstrap
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            match wire::Connection::open(address, budget).await {
                Ok(connection) => return Ok(connection),
                Err(error) => last_error = format!("{address}: {error}"),
            }
        }
        Err(HostError::Unavailable(format!(
            "no bootstrap server answered: {last_error}"
        )))
    }

    /// The KRaft quorum, or `None` on a ZooKeeper-mode cluster.
    pub async fn quorum(&self, deadline: Instant) -> Result<Option<Quorum>, HostError> {
        let mut connection = self.any_broker(deadline).await?;
        let request = DescribeQuorumRequest::default().with_topics(vec![
            TopicData::default()
                .with_topic_name(TopicName(StrBytes::from_static_str(METADATA_TOPIC)))
                .with_partitions(vec![PartitionData::default().with_partition_index(0)]),
        ]);
        let response = match connection.call("DescribeQuorum", &request).await {
            Ok(response) => response,
            // ZooKeeper-mode brokers do not offer DescribeQuorum at all.
            Err(wire::WireError::Unsupported { .. }) => return Ok(None),
            Err(error) => return Err(HostError::Unavailable(format!("DescribeQuorum: {error}"))),
        };
        if response.error_code != 0 {
            return Err(HostError::Unavailable(format!(
                "DescribeQuorum returned error code {}",
                response.error_code
            )));
        }
        let partition = response
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .ok_or_else(|| HostError::Unavailable("DescribeQuorum returned no partition".into()))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let high_watermark = partition.high_watermark;
        let voter =
            |state: &kafka_protocol::messages::describe_quorum_response::ReplicaState| Voter {
                id: state.replica_id.0,
                log_end_offset: state.log_end_offset,
                lag: (high_watermark - state.log_end_offset).max(0),
                last_fetch_ms_ago: (state.last_fetch_timestamp >= 0)
                    .then(|| now - state.last_fetch_timestamp),
                last_caught_up_ms_ago: (state.last_caught_up_timestamp >= 0)
                    .then(|| now - state.last_caught_up_timestamp),
            };
        Ok(Some(Quorum {
            leader_id: partition.leader_id.0,
            leader_epoch: partition.leader_epoch,
            high_watermark,
            voters: partition.current_voters.iter().map(voter).collect(),
            observers: partition.observers.iter().map(voter).collect(),
        }))
    }

    /// Produce and read back probe records (see [`probe`]), at the application's own
    /// bootstrap list when the caller read one from a granted file, else at the run's.
    pub async fn produce_probe(
        &self,
        request: &crate::wit::triage::plugin::kafka::ProbeRequest,
        application_bootstrap: Option<probe::ProbeBootstrap>,
        deadline: Instant,
    ) -> Result<crate::wit::triage::plugin::kafka::ProbeResult, HostError> {
        if application_bootstrap.is_none() && self.settings.bootstrap.trim().is_empty() {
            return Err(HostError::Unavailable(
                "no Kafka bootstrap servers: pass --bootstrap HOST:PORT".into(),
            ));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let asked = Duration::from_millis(request.timeout_ms.into());
        let budget = if asked.is_zero() {
            left
        } else {
            asked.min(left)
        };
        let bootstrap = application_bootstrap.unwrap_or_else(|| probe::ProbeBootstrap {
            servers: self.settings.bootstrap.clone(),
        });
        let result = probe::run(&self.settings, &bootstrap, request, budget).await?;
        let failed: u64 = result.failures.iter().map(|f| u64::from(f.count)).sum();
        self.records_failed.fetch_add(
            failed + u64::from(result.lost),
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(result)
    }

    /// Set one topic config with IncrementalAlterConfigs, leaving the others alone (the
    /// legacy AlterConfigs librdkafka offers would reset every unspecified key).
    pub async fn alter_topic_config(
        &self,
        topic: &str,
        key: &str,
        value: &str,
        deadline: Instant,
    ) -> Result<(), HostError> {
        use kafka_protocol::messages::IncrementalAlterConfigsRequest;
        use kafka_protocol::messages::incremental_alter_configs_request::{
            AlterConfigsResource, AlterableConfig,
        };
        /// Resource type 2 is a topic; operation 0 is SET.
        const TOPIC: i8 = 2;
        const SET: i8 = 0;
        let mut connection = self.any_broker(deadline).await?;
        let request = IncrementalAlterConfigsRequest::default().with_resources(vec![
            AlterConfigsResource::default()
                .with_resource_type(TOPIC)
                .with_resource_name(StrBytes::from_string(topic.to_owned()))
                .with_configs(vec![
                    AlterableConfig::default()
                        .with_name(StrBytes::from_string(key.to_owned()))
                        .with_config_operation(SET)
                        .with_value(Some(StrBytes::from_string(value.to_owned()))),
                ]),
        ]);
        let response = connection
            .call("IncrementalAlterConfigs", &request)
            .await
            .map_err(|e| HostError::Unavailable(format!("IncrementalAlterConfigs: {e}")))?;
        match response.responses.first() {
            Some(r) if r.error_code != 0 => Err(HostError::Invalid(format!(
                "the broker refused {key}={value} on `{topic}`: error code {}{}",
                r.error_code,
                r.error_message
                    .as_ref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ))),
            _ => Ok(()),
        }
    }

    /// Log directories of each broker (all live brokers when `brokers` is empty).
    pub async fn log_dirs(
        &self,
        brokers: &[i32],
        deadline: Instant,
    ) -> Result<Vec<BrokerLogDirs>, HostError> {
        if !self.settings.plaintext() {
            return Err(HostError::Unavailable(
                "log-dirs needs a PLAINTEXT listener; the configured security.protocol is not \
                 supported by triage's wire client yet"
                    .into(),
            ));
        }
        let cluster = self.metadata(&[], deadline).await?;
        let targets: Vec<&Broker> = cluster
            .brokers
            .iter()
            .filter(|b| brokers.is_empty() || brokers.contains(&b.id))
            .collect();
        let mut results = Vec::new();
        for id in brokers
            .iter()
            .filter(|id| !targets.iter().any(|b| b.id == **id))
        {
            results.push(BrokerLogDirs {
                broker: *id,
                error: Some("the broker is not live (not in the cluster's metadata)".into()),
                dirs: Vec::new(),
            });
        }
        for broker in targets {
            let budget = self.budget(deadline)?;
            let address = format!("{}:{}", broker.host, broker.port);
            let answer = async {
                let mut connection = wire::Connection::open(&address, budget).await?;
                connection
                    .call(
                        "DescribeLogDirs",
                        &DescribeLogDirsRequest::default().with_topics(None),
                    )
                    .await
            }
            .await;
            results.push(match answer {
                Ok(response) => BrokerLogDirs {
                    broker: broker.id,
                    error: (response.error_code != 0)
                        .then(|| format!("error code {}", response.error_code)),
                    dirs: response
                        .results
                        .iter()
                        .map(|dir| LogDir {
                            path: dir.log_dir.to_string(),
                            error: (dir.error_code != 0)
                                .then(|| format!("error code {}", dir.error_code)),
                            total_bytes: u64::try_from(dir.total_bytes).ok(),
                            usable_bytes: u64::try_from(dir.usable_bytes).ok(),
                            size_bytes: dir
                                .topics
                                .iter()
                                .flat_map(|t| &t.partitions)
                                .map(|p| p.partition_size.max(0) as u64)
                                .sum(),
                            partitions: dir.topics.iter().map(|t| t.partitions.len() as u32).sum(),
                        })
                        .collect(),
                },
                Err(error) => BrokerLogDirs {
                    broker: broker.id,
                    error: Some(format!("{address}: {error}")),
                    dirs: Vec::new(),
                },
            });
        }
        results.sort_by_key(|r| r.broker);
        Ok(results)
    }
}

/// Kafka's name for a protocol error code (the few a metadata answer carries), `None` for 0.
fn error_name(code: i16) -> Option<String> {
    let name = match code {
        0 => return None,
        3 => "UnknownTopicOrPartition",
        5 => "LeaderNotAvailable",
        6 => "NotLeaderOrFollower",
        9 => "ReplicaNotAvailable",
        29 => "TopicAuthorizationFailed",
        other => return Some(format!("error code {other}")),
    };
    Some(name.to_owned())
}

fn source_name(source: &ConfigSource) -> &'static str {
    match source {
        ConfigSource::Unknown => "unknown",
        ConfigSource::DynamicTopic => "dynamic-topic",
        ConfigSource::DynamicBroker => "dynamic-broker",
        ConfigSource::DynamicDefaultBroker => "dynamic-default-broker",
        ConfigSource::StaticBroker => "static-broker",
        ConfigSource::Default => "default",
    }
}
