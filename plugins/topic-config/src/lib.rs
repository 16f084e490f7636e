//! `topic-config`: remediation that sets one topic config, leaving the others as they are,
//! e.g. lowering `min.insync.replicas` so that `acks=all` writes resume while a broker is
//! being restored (at the price of durability: say so, and undo it afterwards).
//!
//! Needs `kafka: Admin`, `remediation: true` and the cause it fixes (`fixes:
//! "isr.below-min"`). The plugin only plans: the host records the change with the value it
//! replaces and answers `applied: false`. With `triage run --apply`, once the operator
//! confirms (or passes `--yes`), the host makes exactly that change itself — and only if
//! the value it replaces is still the one shown.
//!
//! Params: `topic`, `key`, `value` (all required).

use serde::Deserialize;
use triage_sdk::{Check, Finding, PluginInfo, Report, RunError, Status, export_check, kafka};

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
        if let Some(reason) = nothing_to_do(&params)? {
            return Ok(Report::new(format!("no change: {reason}")).status(Status::Skipped));
        }
        // Planned, not made: the host makes the change once the plan is confirmed.
        let result = kafka::alter_topic_config(&params.topic, &params.key, &params.value)?;
        let was = result.previous.as_deref().unwrap_or("the default");
        let change = format!(
            "{}={} on `{}` (was {was})",
            params.key, params.value, params.topic
        );
        Ok(Report::new(format!("would set {change}")).finding(
            Finding::info(
                "remediation.undo",
                format!("How to undo: set {} back to {was}", params.key),
            )
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

/// Why no change is needed, if none is: the topic does not exist, or — for
/// `min.insync.replicas` — no partition's ISR is below it (lowering it would weaken
/// durability for nothing).
fn nothing_to_do(params: &Params) -> Result<Option<String>, RunError> {
    let cluster = kafka::metadata(std::slice::from_ref(&params.topic))?;
    let Some(topic) = cluster.topics.iter().find(|t| t.name == params.topic) else {
        return Ok(Some(format!("topic `{}` not found", params.topic)));
    };
    if topic.error.is_some() {
        return Ok(Some(format!("topic `{}` does not exist", params.topic)));
    }
    if params.key != "min.insync.replicas" {
        return Ok(None);
    }
    let resource = kafka::ConfigResource {
        kind: kafka::ResourceKind::Topic,
        name: params.topic.clone(),
    };
    let current: Option<usize> =
        kafka::describe_configs(&[resource], std::slice::from_ref(&params.key))?
            .first()
            .and_then(|r| r.entries.first())
            .and_then(|e| e.value.as_deref())
            .and_then(|v| v.parse().ok());
    let Some(current) = current else {
        return Ok(None);
    };
    let below = topic
        .partitions
        .iter()
        .filter(|p| p.isr.len() < current)
        .count();
    Ok((below == 0).then(|| {
        format!(
            "no partition of `{}` has fewer in-sync replicas than min.insync.replicas={current}",
            params.topic
        )
    }))
}
