//! The results of a run, as data: what every renderer (human, JSON) reads.
//!
//! These types are the stable JSON schema (`triage run --format json`): fields are only
//! ever added.

use std::collections::BTreeMap;

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Degraded or risky.
    Warn,
    /// Broken.
    Fail,
}

/// The verdict of a step or a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing wrong.
    Pass,
    /// Degraded or risky.
    Warn,
    /// The check found a problem.
    Fail,
    /// The check could not do its job (plugin trapped, timed out, refused its params).
    Error,
    /// Not run; see the step's `skipped_reason`.
    Skipped,
}

impl Status {
    /// Order used to combine verdicts: the run is as bad as its worst step.
    pub fn rank(self) -> u8 {
        match self {
            Status::Skipped => 0,
            Status::Pass => 1,
            Status::Warn => 2,
            Status::Fail => 3,
            Status::Error => 4,
        }
    }

    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }

    /// Does this status stop the steps that `need` it?
    pub fn blocks_dependents(self) -> bool {
        matches!(self, Status::Fail | Status::Error | Status::Skipped)
    }
}

/// What a finding rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Host call or `file:line`.
    pub source: String,
    /// The observed text.
    pub excerpt: String,
}

/// One problem (or notable fact) a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id within the plugin.
    pub id: String,
    /// Cause-catalog key, when the finding supports one.
    pub cause: Option<String>,
    /// How bad it is.
    pub severity: Severity,
    /// One line for the operator.
    pub title: String,
    /// What it rests on.
    pub evidence: Vec<Evidence>,
    /// What to do about it.
    pub fix: Option<String>,
}

/// What a plugin returned, after bounding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepReport {
    /// The plugin's verdict.
    pub status: Option<Status>,
    /// One line.
    pub summary: String,
    /// Findings, bounded in number and size.
    pub findings: Vec<Finding>,
    /// Facts for `when` conditions.
    pub facts: BTreeMap<String, String>,
}

/// One step of a run.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// Step id.
    pub id: String,
    /// Plugin name (or path).
    pub plugin: String,
    /// Step title.
    pub title: String,
    /// Verdict.
    pub status: Status,
    /// Wall-clock time of the step (0 when skipped).
    pub duration_ms: u64,
    /// One line: the plugin's summary, or why it errored or was skipped.
    pub summary: String,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Facts.
    pub facts: BTreeMap<String, String>,
}

/// One ranked cause in the diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    /// Cause-catalog key (or the finding id when the finding named no cause).
    pub cause: String,
    /// The most severe finding's severity.
    pub severity: Severity,
    /// 0..=1: how strongly the run supports this cause (severity and corroboration).
    pub confidence: f64,
    /// The headline: the most severe finding's title.
    pub title: String,
    /// Steps whose findings support this cause, in run order.
    pub steps: Vec<String>,
    /// All supporting evidence, deduplicated.
    pub evidence: Vec<Evidence>,
    /// The fix.
    pub fix: Option<String>,
    /// Other causes in this diagnosis that this one explains (its symptoms): fixing this
    /// cause should clear them too.
    pub explains: Vec<String>,
    /// This cause and the symptoms it explains, as one sentence of titles joined by `→`.
    pub chain: Option<String>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Playbook name.
    pub playbook: String,
    /// Playbook title.
    pub title: String,
    /// Worst step status (`pass` when every step passed or was skipped).
    pub status: Status,
    /// Wall-clock time of the run.
    pub duration_ms: u64,
    /// Every step, in playbook order.
    pub steps: Vec<StepResult>,
    /// Causes, most likely first.
    pub diagnosis: Vec<Cause>,
    /// What to look at next: checks that did not run for want of an input, and where to
    /// look when every check passed but events still fail.
    pub next_steps: Vec<String>,
}
