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
    /// exactly what it would do; with `--apply` it asks for confirmation (unless `--yes`),
    /// and the host carries out exactly the actions confirmed.
    #[serde(default)]
    pub remediation: bool,
    /// The cause key a remediation fixes, e.g. `"broker.down"`; required on remediation
    /// steps. Remediations run after every other step, and only when the diagnosis of those
    /// steps establishes this cause (a `fail` finding) and ranks it first; otherwise they are
    /// skipped with the reason (issue 7, item 13: a restart ran because "no broker answered"
    /// was read as "the brokers are down").
    #[serde(default)]
    pub fixes: Option<Spanned<String>>,
    /// Causes that may rank above `fixes` without stopping the remediation: a mitigation of
    /// `isr.below-min` (lowering `min.insync.replicas`) may run while `broker.down`, its
    /// root, ranks first. Named one by one, so that any other cause ranking first still
    /// stops it.
    #[serde(default)]
    pub even_below: Vec<Spanned<String>>,
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

impl Allow {
    /// One line per granted capability, as written (inputs shown through `shown`), for
    /// `triage explain`. Every field is listed here — the destructuring below does not
    /// compile when a capability is added and not described (issue 7, item 3: `explain`
    /// showed "none (deny all)" for a step holding an exec grant).
    pub fn describe(&self, shown: impl Fn(&str) -> String) -> Vec<String> {
        let Allow {
            net,
            files,
            sys,
            kafka,
            http,
            exec,
        } = self;
        let mut lines = Vec::new();
        lines.extend(net.iter().map(|n| format!("net: {}", shown(&n.value))));
        lines.extend(
            files
                .iter()
                .map(|f| format!("files (read-only): {}", shown(&f.value))),
        );
        if *sys {
            lines.push(crate::caps::SYS_DESCRIPTION.to_owned());
        }
        if let Some(kafka) = kafka {
            lines.push(shown(&kafka.describe()));
        }
        lines.extend(
            http.iter()
                .map(|u| format!("http GET: {}", shown(&u.value))),
        );
        lines.extend(exec.iter().map(|c| format!("exec: {}", shown(&c.value))));
        lines
    }
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
    /// Every condition holds: `All([InputSet("canary"), InputSet("bootstrap")])`.
    All(Vec<When>),
}

impl When {
    /// The steps this condition waits for.
    pub fn steps(&self) -> Vec<&str> {
        match self {
            When::Status { step, .. } | When::Fact { step, .. } => vec![step],
            When::InputSet(_) => Vec::new(),
            When::All(conditions) => conditions.iter().flat_map(When::steps).collect(),
        }
    }

    /// The inputs this condition requires to be set.
    pub fn inputs(&self) -> Vec<&str> {
        match self {
            When::InputSet(input) => vec![input],
            When::Status { .. } | When::Fact { .. } => Vec::new(),
            When::All(conditions) => conditions.iter().flat_map(When::inputs).collect(),
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
