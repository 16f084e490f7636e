//! One step: build its environment, run its plugin, turn the outcome into a [`StepResult`].

use std::sync::Arc;

use tokio::time::Instant;

use super::RunEvents;
use crate::hostfns::{ActionLog, StepEnv, StepEvents};
use crate::kafka::KafkaConnection;
use crate::playbook::plan::PlannedStep;
use crate::report::model::{Status, StepResult};
use crate::runtime::{Plugin, RunOutcome, Runtime, StepLimits};

/// Asks the operator before a remediation changes anything.
pub trait Confirm: Send + Sync {
    /// `Ok` to go ahead; `Err` says why not (declined, no terminal to ask on).
    fn confirm(&self, step: &str, title: &str, actions: &[String]) -> Result<(), String>;
}

/// How remediation steps behave in this run.
#[derive(Clone)]
pub struct RemediationPolicy {
    /// `--apply`: carry changes out (after confirmation); otherwise dry runs only.
    pub apply: bool,
    /// Who confirms.
    pub confirm: Arc<dyn Confirm>,
}

/// Run one step. A remediation first runs as a dry run that records what it would change;
/// only with `--apply`, and once confirmed, does it run again for real.
pub async fn execute(
    runtime: &Runtime,
    plugin: &Plugin,
    step: PlannedStep,
    events: Arc<dyn RunEvents>,
    kafka: Option<Arc<KafkaConnection>>,
    policy: RemediationPolicy,
) -> StepResult {
    let started = Instant::now();
    let (mut dry, actions) =
        run_once(runtime, plugin, &step, events.clone(), kafka.clone(), false).await;
    if !step.remediation || actions.is_empty() || dry.status == Status::Error {
        return dry;
    }
    let plan = actions.join("; ");
    if !policy.apply {
        dry.status = Status::Skipped;
        dry.summary = format!("dry run: would {plan}; pass --apply to do it");
        return dry;
    }
    let confirm = policy.confirm.clone();
    let (id, title) = (step.id.clone(), step.title.clone());
    let answer = tokio::task::spawn_blocking(move || confirm.confirm(&id, &title, &actions))
        .await
        .unwrap_or_else(|e| Err(format!("confirmation failed: {e}")));
    if let Err(reason) = answer {
        dry.status = Status::Skipped;
        dry.summary = format!("not applied ({reason}): would {plan}");
        return dry;
    }
    let (mut applied, done) = run_once(runtime, plugin, &step, events, kafka, true).await;
    applied.duration_ms = started.elapsed().as_millis() as u64;
    applied.summary = format!("applied: {}; {}", done.join("; "), applied.summary);
    applied
}

/// Run the step's plugin once within its budget; returns the result and the changes it
/// made (or, when `apply` is false, would have made).
async fn run_once(
    runtime: &Runtime,
    plugin: &Plugin,
    step: &PlannedStep,
    events: Arc<dyn RunEvents>,
    kafka: Option<Arc<KafkaConnection>>,
    apply: bool,
) -> (StepResult, Vec<String>) {
    let step = step.clone();
    let actions = Arc::new(ActionLog::new(apply));
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
        actions: actions.clone(),
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
    (result, actions.recorded())
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
