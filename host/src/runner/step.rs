//! One step: build its environment, run its plugin, turn the outcome into a [`StepResult`].

use std::sync::Arc;

use tokio::time::Instant;

use super::RunEvents;
use crate::hostfns::{StepEnv, StepEvents};
use crate::kafka::KafkaConnection;
use crate::playbook::plan::PlannedStep;
use crate::report::model::{Status, StepResult};
use crate::runtime::{Plugin, RunOutcome, Runtime, StepLimits};

/// Run one step's plugin within its budget.
pub async fn execute(
    runtime: &Runtime,
    plugin: &Plugin,
    step: PlannedStep,
    events: Arc<dyn RunEvents>,
    kafka: Option<Arc<KafkaConnection>>,
) -> StepResult {
    let started = Instant::now();
    let limits = StepLimits {
        timeout: step.timeout,
        memory: step.memory,
    };
    // Trait upcasting: host functions only see the step-level events.
    let events: Arc<dyn StepEvents> = events;
    let env = StepEnv {
        step_id: step.id.clone(),
        grant: step.grant.clone(),
        deadline: started + step.timeout,
        events,
        kafka,
    };
    let params = step.params.to_string();
    let outcome = runtime.run(plugin, &params, env, limits).await;
    let mut result = StepResult {
        id: step.id,
        plugin: step.plugin,
        title: step.title,
        status: Status::Error,
        duration_ms: started.elapsed().as_millis() as u64,
        summary: String::new(),
        findings: Vec::new(),
        facts: Default::default(),
    };
    match outcome {
        RunOutcome::Completed(report) => {
            result.status = report.status.unwrap_or(Status::Pass);
            result.summary = report.summary;
            result.findings = report.findings;
            result.facts = report.facts;
        }
        RunOutcome::InvalidParams(why) => {
            result.summary = format!("the plugin refused the step's params: {why}");
        }
        RunOutcome::Failed(why) => result.summary = format!("the check could not run: {why}"),
        RunOutcome::Trapped(why) => result.summary = why,
        RunOutcome::TimedOut(after) => {
            result.summary = format!(
                "timed out after {}: the plugin was stopped (raise the step's `timeout` if the \
                 check needs longer)",
                humantime::format_duration(after)
            );
        }
        RunOutcome::OutOfMemory { limit, asked } => {
            result.summary = format!(
                "exceeded its memory budget: asked for {} MiB, the step allows {} MiB (the \
                 step's `memory`)",
                asked >> 20,
                limit >> 20
            );
        }
    }
    result
}

/// A step that did not run.
pub fn skipped(step: &PlannedStep, reason: String) -> StepResult {
    StepResult {
        id: step.id.clone(),
        plugin: step.plugin.clone(),
        title: step.title.clone(),
        status: Status::Skipped,
        duration_ms: 0,
        summary: reason,
        findings: Vec::new(),
        facts: Default::default(),
    }
}
