//! The scheduler: steps as a DAG on tokio.
//!
//! A step starts as soon as every step it waits for (its `needs`, and the steps its `when`
//! tests) has finished, so independent steps run concurrently. A step is skipped, with the
//! reason, when a step it `needs` failed, errored or was skipped, when its `when` does not
//! hold, or when it uses an optional input that has no value.
//!
//! Remediations come last: each waits for every check (every non-remediation step), and
//! runs only when the checks' diagnosis establishes the cause it fixes ([`gate`]).

mod apply;
mod gate;
mod step;

pub use step::{Confirm, RemediationPolicy};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

use crate::hostfns::StepEvents;
use crate::kafka::KafkaConnection;
use crate::playbook::model::{StatusName, When};
use crate::playbook::plan::PlannedStep;
use crate::plugins::LoadedPlugins;
use crate::report::diagnosis::diagnose;
use crate::report::model::{Cause, RunReport, Status, StepResult};
use crate::runtime::{Plugin, Runtime};

/// Observes a run as it happens (live progress); the final report is returned, not streamed.
pub trait RunEvents: StepEvents {
    /// A step's plugin is about to run.
    fn step_started(&self, step: &PlannedStep);
    /// A step finished, ran or not.
    fn step_finished(&self, result: &StepResult);
}

/// What identifies the run in its report.
pub struct RunMeta {
    /// Playbook name.
    pub playbook: String,
    /// Playbook title.
    pub title: String,
    /// Cause relations declared by the playbook.
    pub explains: BTreeMap<String, Vec<String>>,
    /// The run's Kafka clients, shared by every step granted `kafka`.
    pub kafka: Option<Arc<KafkaConnection>>,
    /// Each input's help text, for hints about steps skipped for want of it.
    pub inputs: BTreeMap<String, String>,
    /// Whether remediation steps may change things, and who confirms.
    pub remediation: RemediationPolicy,
}

/// Run every planned step; never fails: a step that cannot run is a result with a reason.
pub async fn run(
    runtime: Arc<Runtime>,
    plugins: &LoadedPlugins,
    meta: RunMeta,
    steps: Vec<PlannedStep>,
    events: Arc<dyn RunEvents>,
) -> RunReport {
    let started = Instant::now();
    let order: Vec<String> = steps.iter().map(|s| s.id.clone()).collect();
    let checks: Vec<String> = steps
        .iter()
        .filter(|s| !s.remediation)
        .map(|s| s.id.clone())
        .collect();
    let mut pending: Vec<PlannedStep> = steps;
    // A remediation is decided on the diagnosis of every check, so it waits for them all.
    // (Validation refuses checks that wait for remediations: no cycle can arise.)
    for step in pending.iter_mut().filter(|s| s.remediation) {
        for check in &checks {
            if !step.waits_for.contains(check) {
                step.waits_for.push(check.clone());
            }
        }
    }
    let mut checks_diagnosis: Option<Vec<Cause>> = None;
    let mut done: HashMap<String, StepResult> = HashMap::new();
    let mut running: JoinSet<StepResult> = JoinSet::new();
    let mut in_flight: HashMap<tokio::task::Id, PlannedStep> = HashMap::new();

    loop {
        // Decide every step whose prerequisites are settled; a skip can settle others, so
        // repeat until nothing changes.
        let mut progressed = true;
        while progressed {
            progressed = false;
            let mut index = 0;
            while index < pending.len() {
                if !pending[index]
                    .waits_for
                    .iter()
                    .all(|d| done.contains_key(d))
                {
                    index += 1;
                    continue;
                }
                let step = pending.remove(index);
                progressed = true;
                let mut reason = skip_reason(&step, &done);
                if reason.is_none() && step.remediation {
                    let diagnosis = checks_diagnosis.get_or_insert_with(|| {
                        let results: Vec<StepResult> = checks
                            .iter()
                            .filter_map(|id| done.get(id).cloned())
                            .collect();
                        diagnose(&results, &meta.explains)
                    });
                    reason = match &step.fixes {
                        Some(fixes) => gate::refusal(fixes, diagnosis),
                        None => Some("not run: it does not say which cause it fixes".to_owned()),
                    };
                }
                if let Some(reason) = reason {
                    let result = step::skipped(&step, reason);
                    events.step_finished(&result);
                    done.insert(step.id.clone(), result);
                    continue;
                }
                let plugin: Plugin = plugins
                    .get(&step.plugin)
                    .cloned()
                    .expect("validation guarantees every plugin is loaded");
                events.step_started(&step);
                let runtime = runtime.clone();
                let step_events: Arc<dyn RunEvents> = events.clone();
                let kafka = meta.kafka.clone();
                let policy = meta.remediation.clone();
                let identity = step.clone();
                let handle = running.spawn(async move {
                    step::execute(&runtime, &plugin, step, step_events, kafka, policy).await
                });
                in_flight.insert(handle.id(), identity);
            }
        }
        let result = match running.join_next_with_id().await {
            Some(Ok((task, result))) => {
                in_flight.remove(&task);
                result
            }
            // A panic in host code for one step must not take the run down: the step ends
            // as `error` and the steps after it are decided as usual.
            Some(Err(join_error)) => {
                let step = in_flight
                    .remove(&join_error.id())
                    .expect("every running task is a step");
                let mut result =
                    step::skipped(&step, format!("internal error in triage: {join_error}"));
                result.status = Status::Error;
                result
            }
            None => break,
        };
        events.step_finished(&result);
        done.insert(result.id.clone(), result);
    }

    let steps: Vec<StepResult> = order.iter().filter_map(|id| done.remove(id)).collect();
    let status = steps
        .iter()
        .map(|s| s.status)
        .max_by_key(|s| s.rank())
        .map(|worst| {
            if worst == Status::Skipped {
                Status::Pass
            } else {
                worst
            }
        })
        .unwrap_or(Status::Pass);
    let records_failed = meta.kafka.as_ref().map_or(0, |k| k.records_failed());
    let status = status_with_loss(status, records_failed);
    let diagnosis = diagnose(&steps, &meta.explains);
    let next_steps = next_steps(&steps, &diagnosis, &meta.inputs);
    RunReport {
        next_steps,
        playbook: meta.playbook,
        title: meta.title,
        status,
        duration_ms: started.elapsed().as_millis() as u64,
        steps,
        diagnosis,
    }
}

/// The run's status once the records the host's own probes saw fail are counted: a run that
/// detected loss is a failed run (exit 1), whatever severity a plugin gave it (issue 8).
fn status_with_loss(status: Status, records_failed: u64) -> Status {
    if records_failed > 0 && status.rank() < Status::Fail.rank() {
        Status::Fail
    } else {
        status
    }
}

/// Hints for the operator: each step skipped for want of an input (and how to give it), and
/// where to look when nothing failed.
fn next_steps(
    steps: &[StepResult],
    diagnosis: &[crate::report::model::Cause],
    inputs: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut hints = Vec::new();
    for step in steps.iter().filter(|s| s.status == Status::Skipped) {
        let Some(input) = step
            .summary
            .strip_prefix("input `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name)
        else {
            continue;
        };
        let help = inputs
            .get(input)
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        hints.push(format!(
            "`{}` did not run: pass --set {input}=...{help} to check {}",
            step.id,
            step.title
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        ));
    }
    let failed = diagnosis
        .iter()
        .any(|c| c.severity == crate::report::model::Severity::Fail);
    if !failed {
        hints.push(
            "Every check that ran passed. If the application still sees TimeoutException or \
             expired records on send, look at broker load during its peak (request-handler \
             and network idle ratios), at the network path from the application's own host \
             (run triage there), and at how the application handles delivery errors."
                .to_owned(),
        );
    }
    hints
}

/// Why a ready step should not run, if it should not.
fn skip_reason(step: &PlannedStep, done: &HashMap<String, StepResult>) -> Option<String> {
    if let Some(reason) = &step.skip {
        return Some(reason.clone());
    }
    for need in &step.needs {
        let status = done[need].status;
        if status.blocks_dependents() {
            return Some(format!(
                "needs `{need}`, which {}",
                match status {
                    Status::Skipped => "was skipped".to_owned(),
                    other => format!("ended with {}", other.as_str()),
                }
            ));
        }
    }
    step.when.as_ref().and_then(|when| unmet(when, done))
}

/// Why `when` does not hold, if it does not.
fn unmet(when: &When, done: &HashMap<String, StepResult>) -> Option<String> {
    match when {
        // Decided when planning: inputs are known before the run starts.
        When::InputSet(_) => None,
        When::All(conditions) => conditions.iter().find_map(|c| unmet(c, done)),
        When::Status { step: target, is } => {
            let status = done[target].status;
            let accepted = is.iter().any(|name| status_of(*name) == status);
            (!accepted).then(|| {
                format!(
                    "`{target}` ended with {}, and this step runs only when it is {}",
                    status.as_str(),
                    is.iter()
                        .map(|n| status_of(*n).as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            })
        }
        When::Fact {
            step: target,
            key,
            equals,
        } => {
            let actual = done[target].facts.get(key);
            (actual != Some(equals)).then(|| match actual {
                Some(actual) => format!("`{target}` reported {key}={actual}, not {equals}"),
                None => format!("`{target}` reported no fact `{key}`"),
            })
        }
    }
}

fn status_of(name: StatusName) -> Status {
    match name {
        StatusName::Pass => Status::Pass,
        StatusName::Warn => Status::Warn,
        StatusName::Fail => Status::Fail,
        StatusName::Error => Status::Error,
        StatusName::Skipped => Status::Skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_seen_failing_fail_the_run_whatever_the_steps_said() {
        assert_eq!(status_with_loss(Status::Pass, 0), Status::Pass);
        assert_eq!(status_with_loss(Status::Warn, 0), Status::Warn);
        assert_eq!(status_with_loss(Status::Warn, 3), Status::Fail);
        assert_eq!(status_with_loss(Status::Pass, 1), Status::Fail);
        // An errored step stays the worse verdict.
        assert_eq!(status_with_loss(Status::Error, 1), Status::Error);
    }
}
