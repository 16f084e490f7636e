//! One step: build its environment, run its plugin, turn the outcome into a [`StepResult`].

use std::sync::Arc;

use tokio::time::Instant;

use super::RunEvents;
use crate::hostfns::{ActionLog, MAX_ACTIONS, MAX_PLAN_BYTES, Plan, StepEnv, StepEvents};
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

/// Run one step. A remediation's plugin runs once, as a dry run that plans its changes;
/// only with `--apply`, once the whole plan is confirmed, does the host carry it out —
/// itself, action by action, exactly as confirmed ([`super::apply`]).
pub async fn execute(
    runtime: &Runtime,
    plugin: &Plugin,
    step: PlannedStep,
    events: Arc<dyn RunEvents>,
    kafka: Option<Arc<KafkaConnection>>,
    policy: RemediationPolicy,
) -> StepResult {
    let started = Instant::now();
    let (mut dry, plan) = run_once(runtime, plugin, &step, events, kafka.clone()).await;
    if !step.remediation {
        return dry;
    }
    if dry.status == Status::Error {
        // Without --apply nothing was asked to change: a dry run that could not finish is
        // a plan not made, not a failure of the run (issue 7, item 13).
        if !policy.apply {
            dry.status = Status::Skipped;
            dry.summary = format!(
                "dry run could not finish; nothing was changed: {}",
                dry.summary
            );
        }
        return dry;
    }
    if plan.actions.is_empty() && plan.is_complete() {
        return dry;
    }
    let shown = plan.describe();
    if !plan.is_complete() {
        dry.status = if policy.apply {
            Status::Error
        } else {
            Status::Skipped
        };
        dry.summary = format!(
            "{}would {shown}, and asked for {} more actions than a plan may hold ({} actions, \
             {} bytes): triage will not carry out a plan it cannot show whole",
            if policy.apply {
                "not applied: "
            } else {
                "dry run: "
            },
            plan.refused,
            MAX_ACTIONS,
            MAX_PLAN_BYTES
        );
        return dry;
    }
    if !policy.apply {
        dry.status = Status::Skipped;
        dry.summary = format!("dry run: would {shown}; pass --apply to do it");
        return dry;
    }
    let confirm = policy.confirm.clone();
    let (id, title) = (step.id.clone(), step.title.clone());
    let lines: Vec<String> = plan.actions.iter().map(ToString::to_string).collect();
    let answer = tokio::task::spawn_blocking(move || confirm.confirm(&id, &title, &lines))
        .await
        .unwrap_or_else(|e| Err(format!("confirmation failed: {e}")));
    if let Err(reason) = answer {
        dry.status = Status::Skipped;
        dry.summary = format!("not applied ({reason}): would {shown}");
        return dry;
    }
    let deadline = Instant::now() + step.timeout;
    let applied = super::apply::carry_out(&plan.actions, &step, kafka.as_deref(), deadline).await;
    // The dry run's findings stay (how to undo the change, say), with what applying found.
    let mut findings = dry.findings.clone();
    findings.extend(applied.findings);
    StepResult {
        status: applied.status,
        summary: applied.summary,
        findings,
        duration_ms: started.elapsed().as_millis() as u64,
        ..dry
    }
}

/// Run the step's plugin once within its budget; returns the result and the changes it
/// planned (a plugin never carries out a change itself).
async fn run_once(
    runtime: &Runtime,
    plugin: &Plugin,
    step: &PlannedStep,
    events: Arc<dyn RunEvents>,
    kafka: Option<Arc<KafkaConnection>>,
) -> (StepResult, Plan) {
    let step = step.clone();
    let actions = Arc::new(ActionLog::new());
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
    (result, actions.plan())
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
