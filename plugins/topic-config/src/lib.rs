//! `topic-config`: remediation that sets one topic config, leaving the others as they are,
//! e.g. lowering `min.insync.replicas` so that `acks=all` writes resume while a broker is
//! being restored (at the price of durability: say so, and undo it afterwards).
//!
//! Needs `kafka: Admin` and `remediation: true`: without `triage run --apply` the host only
//! records the change it would make (with the current value); with it, the operator confirms
//! first (or passes `--yes`).
//!
//! Params: `topic`, `key`, `value` (all required).

use serde::Deserialize;
use triage_sdk::{Check, Finding, PluginInfo, Report, RunError, export_check, kafka};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    topic: String,
    key: String,
    value: String,
}

struct TopicConfig;

impl Check for TopicConfig {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "topic-config",
            "Remediation: set one topic config (e.g. min.insync.replicas)",
        )
        .param("topic", "The topic", true)
        .param("key", "The config key", true)
        .param("value", "The new value", true)
        .needs("kafka")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let result = kafka::alter_topic_config(&params.topic, &params.key, &params.value)?;
        let was = result.previous.as_deref().unwrap_or("the default");
        let change = format!(
            "{}={} on `{}` (was {was})",
            params.key, params.value, params.topic
        );
        if !result.applied {
            return Ok(Report::new(format!("would set {change}")));
        }
        Ok(Report::new(format!("set {change}")).finding(
            Finding::info("remediation.applied", format!("Set {change}"))
                .evidence("kafka.alter-topic-config", format!("previous value: {was}"))
                .fix(format!(
                    "Undo it once the cause is fixed: kafka-configs --alter --entity-type topics \
                     --entity-name {} --add-config {}={was}",
                    params.topic, params.key
                )),
        ))
    }
}

export_check!(TopicConfig);
