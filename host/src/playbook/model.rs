//! The playbook as written, in RON:
//!
//! ```ron
//! Playbook(
//!     name: "connectivity",
//!     title: "Can this host reach the brokers?",
//!     inputs: {
//!         "servers": Input(help: "Comma-separated host:port list"),
//!         "broker_log": Input(help: "A broker's server.log", optional: true),
//!     },
//!     steps: [
//!         Step(id: "reach", plugin: "net-probe", with: { "servers": "{{servers}}" },
//!              allow: (net: ["{{servers}}"]), timeout: "10s"),
//!         Step(id: "logs", plugin: "log-grep", needs: ["reach"],
//!              with: { "path": "{{broker_log}}" }, allow: (files: ["{{broker_log}}"])),
//!     ],
//! )
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::parse::Spanned;

/// A playbook file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Short name, used by `triage run NAME` for shipped playbooks.
    pub name: String,
    /// One line: the question the playbook answers.
    pub title: String,
    /// Longer text for `triage explain`.
    #[serde(default)]
    pub description: String,
    /// Named inputs, filled by `--set NAME=VALUE` or their defaults.
    #[serde(default)]
    pub inputs: BTreeMap<String, Input>,
    /// The steps, in display order; `needs` decides execution order.
    pub steps: Vec<Step>,
    /// Cause keys that explain other causes: `"broker.down": ["isr.below-min"]` ranks a
    /// down broker above the ISR shrink it produces.
    #[serde(default)]
    pub explains: BTreeMap<String, Vec<String>>,
}

/// One input of a playbook.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// What to pass; shown by `triage explain` and in errors.
    pub help: String,
    /// Used when no `--set` is given.
    #[serde(default)]
    pub default: Option<String>,
    /// An optional input may stay unset; steps that use it are then skipped.
    #[serde(default)]
    pub optional: bool,
}

/// One step: a plugin run with params and grants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the playbook.
    pub id: Spanned<String>,
    /// A shipped plugin's name, a plugin in `--plugin-dir`, or a path to a `.wasm` file
    /// (relative to the playbook).
    pub plugin: Spanned<String>,
    /// One line shown in reports.
    #[serde(default)]
    pub title: Option<String>,
    /// The plugin's params; string values may use `{{input}}`.
    #[serde(default)]
    pub with: BTreeMap<String, Spanned<ron::Value>>,
    /// What the step may touch. Nothing by default.
    #[serde(default)]
    pub allow: Allow,
    /// Steps that must finish first; if one fails, errors or is skipped, this step is skipped.
    #[serde(default)]
    pub needs: Vec<Spanned<String>>,
    /// Run only when this holds.
    #[serde(default)]
    pub when: Option<Spanned<When>>,
    /// Wall-clock budget, e.g. `"10s"`; default 30 s.
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    /// Memory budget, e.g. `"64MiB"`; default 256 MiB.
    #[serde(default)]
    pub memory: Option<Spanned<String>>,
    /// A remediation changes things: without `--apply` it runs as a dry run that reports
    /// exactly what it would do; with `--apply` it asks for confirmation (unless `--yes`).
    #[serde(default)]
    pub remediation: bool,
}

/// A step's grants. Everything not listed is denied.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// `host:port` or `host:first-last`; `"{{servers}}"` expands a comma-separated list.
    #[serde(default)]
    pub net: Vec<Spanned<String>>,
    /// Files or directories, read-only.
    #[serde(default)]
    pub files: Vec<Spanned<String>>,
    /// CPU, memory, load, disk usage and process stats of this machine.
    #[serde(default)]
    pub sys: bool,
    /// The run's Kafka connection: `kafka: Read`, or `kafka: Produce(["topic"])`.
    #[serde(default)]
    pub kafka: Option<crate::caps::KafkaAccess>,
    /// URL prefixes the step may GET: `http: ["http://broker-1:7071/metrics"]`.
    #[serde(default)]
    pub http: Vec<Spanned<String>>,
    /// Exact command lines a remediation step may run: `exec: ["systemctl restart kafka"]`.
    #[serde(default)]
    pub exec: Vec<Spanned<String>>,
}

/// A condition on an earlier step or an input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum When {
    /// The step ended with one of these statuses: `Status(step: "reach", is: [Fail])`.
    Status {
        /// The earlier step.
        step: String,
        /// Accepted statuses.
        is: Vec<StatusName>,
    },
    /// The step reported this fact: `Fact(step: "zk", key: "mode", equals: "zookeeper")`.
    Fact {
        /// The earlier step.
        step: String,
        /// Fact key.
        key: String,
        /// Expected value.
        equals: String,
    },
    /// The input has a value: `InputSet("broker_log")`.
    InputSet(String),
}

impl When {
    /// The step this condition waits for, if any.
    pub fn step(&self) -> Option<&str> {
        match self {
            When::Status { step, .. } | When::Fact { step, .. } => Some(step),
            When::InputSet(_) => None,
        }
    }
}

/// A step status as written in `when`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum StatusName {
    /// `pass`
    Pass,
    /// `warn`
    Warn,
    /// `fail`
    Fail,
    /// `error`
    Error,
    /// `skipped`
    Skipped,
}
