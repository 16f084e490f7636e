//! `kafka`: questions about the cluster, answered by the run's shared clients
//! ([`crate::kafka::KafkaConnection`]). Needs `kafka: Read`.

use super::StepState;
use crate::wit::HostError;
use crate::wit::triage::plugin::kafka::{
    AlterResult, BrokerLogDirs, Cluster, ConfigResource, ConfigResult, Host, ProbeRequest,
    ProbeResult, Quorum, ResourceKind,
};

impl StepState {
    fn connection(&self) -> Result<std::sync::Arc<crate::kafka::KafkaConnection>, HostError> {
        self.env.kafka.clone().ok_or_else(|| {
            HostError::Unavailable("no Kafka connection: pass --bootstrap HOST:PORT".into())
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
        let deadline = self.deadline();
        kafka.produce_probe(&request, deadline).await
    }

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
        let kafka = self.connection()?;
        let deadline = self.deadline();
        let resource = ConfigResource {
            kind: ResourceKind::Topic,
            name: topic.clone(),
        };
        let previous = kafka
            .describe_configs(&[resource], std::slice::from_ref(&key), deadline)
            .await?
            .into_iter()
            .next()
            .and_then(|r| r.entries.into_iter().next())
            .filter(|e| !e.is_default)
            .and_then(|e| e.value);
        let was = previous.as_deref().unwrap_or("its default");
        let apply = self
            .env
            .actions
            .record(format!("set {key}={value} on topic `{topic}` (was {was})"));
        if apply {
            kafka
                .alter_topic_config(&topic, &key, &value, deadline)
                .await?;
        }
        Ok(AlterResult {
            applied: apply,
            previous,
        })
    }

    async fn describe_quorum(&mut self) -> Result<Option<Quorum>, HostError> {
        let kafka = self.kafka()?;
        let deadline = self.deadline();
        kafka.quorum(deadline).await
    }
}
