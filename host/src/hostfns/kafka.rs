//! `kafka`: questions about the cluster, answered by the run's shared clients
//! ([`crate::kafka::KafkaConnection`]). Needs `kafka: Read`.

use super::{Action, StepState, truncate};
use crate::kafka::KafkaConnection;
use crate::wit::HostError;
use crate::wit::triage::plugin::kafka::{
    AlterResult, BrokerLogDirs, Cluster, ConfigResource, ConfigResult, Host, ProbeRequest,
    ProbeResult, Quorum, ResourceKind,
};

/// Longest topic name Kafka accepts (`org.apache.kafka.common.internals.Topic`:
/// `MAX_NAME_LENGTH = 249`, legal characters `[a-zA-Z0-9._-]`).
const MAX_TOPIC_NAME: usize = 249;
/// Most of a producer properties file read for its bootstrap list.
const MAX_PROPERTIES_BYTES: u64 = 1 << 20;
/// Longest config key or value a planned change may carry: a plan is read by a person.
const MAX_CONFIG_TEXT: usize = 1024;

/// A config change a plan may hold: a legal Kafka topic name, a config key in Kafka's own
/// spelling (`min.insync.replicas`), a value without control characters — so that nothing a
/// plugin passes can redraw the confirmation prompt it is shown in.
fn check_alter_request(topic: &str, key: &str, value: &str) -> Result<(), String> {
    let legal_topic = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if topic.is_empty()
        || topic.len() > MAX_TOPIC_NAME
        || topic == "."
        || topic == ".."
        || !topic.chars().all(legal_topic)
    {
        return Err(format!(
            "{:?} is not a Kafka topic name (1 to {MAX_TOPIC_NAME} of a-z, A-Z, 0-9, `.`, `_`, `-`)",
            truncate(topic, 64)
        ));
    }
    let legal_key = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if key.is_empty() || key.len() > MAX_CONFIG_TEXT || !key.chars().all(legal_key) {
        return Err(format!(
            "{:?} is not a topic config key (lower-case words joined by `.`, such as \
             min.insync.replicas)",
            truncate(key, 64)
        ));
    }
    if value.len() > MAX_CONFIG_TEXT || value.chars().any(char::is_control) {
        return Err(format!(
            "the value for {key} is longer than {MAX_CONFIG_TEXT} bytes or holds control \
             characters"
        ));
    }
    Ok(())
}

/// The value of `key` set on `topic` itself, `None` when the topic uses the default (the
/// broker's or Kafka's). What a planned change replaces, and what must still be there when
/// the change is carried out.
pub async fn topic_config_value(
    kafka: &KafkaConnection,
    topic: &str,
    key: &str,
    deadline: tokio::time::Instant,
) -> Result<Option<String>, HostError> {
    let resource = ConfigResource {
        kind: ResourceKind::Topic,
        name: topic.to_owned(),
    };
    Ok(kafka
        .describe_configs(&[resource], &[key.to_owned()], deadline)
        .await?
        .into_iter()
        .next()
        .and_then(|r| r.entries.into_iter().next())
        .filter(|e| !e.is_default)
        .and_then(|e| e.value))
}

impl StepState {
    fn connection(&self) -> Result<std::sync::Arc<crate::kafka::KafkaConnection>, HostError> {
        self.env.kafka.clone().ok_or_else(|| {
            HostError::Unavailable("no Kafka connection: pass --bootstrap HOST:PORT".into())
        })
    }

    /// `bootstrap.servers` (or librdkafka's legacy `metadata.broker.list`) of a granted
    /// producer properties file.
    async fn application_bootstrap(
        &mut self,
        path: &str,
    ) -> Result<crate::kafka::probe::ProbeBootstrap, HostError> {
        let content = crate::wit::triage::plugin::files::Host::read(
            self,
            path.to_owned(),
            MAX_PROPERTIES_BYTES,
        )
        .await?;
        let properties: std::collections::HashMap<String, String> =
            java_properties::read(content.text.as_bytes()).map_err(|e| {
                HostError::Invalid(format!("{}: not a properties file: {e}", content.path))
            })?;
        ["bootstrap.servers", "metadata.broker.list"]
            .iter()
            .find_map(|key| {
                let servers = properties.get(*key)?.trim();
                (!servers.is_empty()).then(|| crate::kafka::probe::ProbeBootstrap {
                    servers: servers.to_owned(),
                })
            })
            .ok_or_else(|| {
                HostError::Invalid(format!("{} sets no bootstrap.servers", content.path))
            })
    }

    fn kafka(&self) -> Result<std::sync::Arc<crate::kafka::KafkaConnection>, HostError> {
        self.env
            .grant
            .check_kafka_read()
            .map_err(HostError::Denied)?;
        self.env.kafka.clone().ok_or_else(|| {
            HostError::Unavailable(
                "no Kafka connection: pass --bootstrap HOST:PORT (or set the playbook's \
                 `bootstrap` input)"
                    .into(),
            )
        })
    }
}

impl Host for StepState {
    async fn metadata(&mut self, topics: Vec<String>) -> Result<Cluster, HostError> {
        let kafka = self.kafka()?;
        let deadline = self.deadline();
        kafka.metadata(&topics, deadline).await
    }

    async fn describe_configs(
        &mut self,
        resources: Vec<ConfigResource>,
        keys: Vec<String>,
    ) -> Result<Vec<ConfigResult>, HostError> {
        let kafka = self.kafka()?;
        let deadline = self.deadline();
        kafka.describe_configs(&resources, &keys, deadline).await
    }

    async fn describe_log_dirs(
        &mut self,
        brokers: Vec<i32>,
    ) -> Result<Vec<BrokerLogDirs>, HostError> {
        let kafka = self.kafka()?;
        let deadline = self.deadline();
        kafka.log_dirs(&brokers, deadline).await
    }

    async fn produce_probe(&mut self, request: ProbeRequest) -> Result<ProbeResult, HostError> {
        self.env
            .grant
            .check_kafka_produce(&request.topic)
            .map_err(HostError::Denied)?;
        let kafka = self.connection()?;
        // The application's bootstrap list comes from a file the step is granted, read
        // here: a plugin names the file, never the addresses the run's credentials go to.
        let application = match &request.bootstrap_from {
            Some(path) => Some(self.application_bootstrap(path).await?),
            None => None,
        };
        let deadline = self.deadline();
        kafka.produce_probe(&request, application, deadline).await
    }

    /// Never changes anything: the change is checked against the grant, recorded in the
    /// step's plan with the value it replaces, and answered `applied: false`. The runner
    /// carries out the confirmed plan itself (see [`super::exec`] for why).
    async fn alter_topic_config(
        &mut self,
        topic: String,
        key: String,
        value: String,
    ) -> Result<AlterResult, HostError> {
        self.env
            .grant
            .check_kafka_admin()
            .map_err(HostError::Denied)?;
        // These strings reach the operator's confirmation prompt and the report verbatim.
        check_alter_request(&topic, &key, &value).map_err(HostError::Invalid)?;
        // Refused before the cluster is asked anything: a plugin asking for millions of
        // changes must not cost millions of lookups.
        self.env
            .actions
            .room_for(topic.len() + key.len() + value.len())
            .map_err(HostError::Denied)?;
        let kafka = self.connection()?;
        let previous = topic_config_value(&kafka, &topic, &key, self.deadline()).await?;
        self.env
            .actions
            .record(Action::AlterTopicConfig {
                topic,
                key,
                value,
                previous: previous.clone(),
            })
            .map_err(HostError::Denied)?;
        Ok(AlterResult {
            applied: false,
            previous,
        })
    }

    async fn describe_quorum(&mut self) -> Result<Option<Quorum>, HostError> {
        let kafka = self.kafka()?;
        let deadline = self.deadline();
        kafka.quorum(deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planned_config_change_is_plain_kafka_text() {
        assert!(check_alter_request("orders", "min.insync.replicas", "1").is_ok());
        assert!(check_alter_request("a.b_c-1", "retention.ms", "3600000").is_ok());
        for (topic, key, value) in [
            ("", "min.insync.replicas", "1"),
            ("..", "min.insync.replicas", "1"),
            ("orders\x1b[2K", "min.insync.replicas", "1"),
            ("orders", "Min.Insync", "1"),
            (
                "orders",
                "min.insync.replicas",
                "1\r\nPASS everything is fine",
            ),
        ] {
            assert!(
                check_alter_request(topic, key, value).is_err(),
                "{topic:?} {key:?} {value:?}"
            );
        }
        assert!(check_alter_request(&"t".repeat(250), "k", "v").is_err());
    }
}
