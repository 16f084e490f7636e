//! A validated playbook plus input values → the concrete steps the runner executes: params
//! as JSON with `{{inputs}}` substituted, grants parsed, budgets resolved.

use std::collections::BTreeMap;
use std::time::Duration;

use miette::NamedSource;

use super::model::{Playbook, When};
use super::problem::{PlaybookError, Problem};
use super::template::expand;
use super::validate::{closest, dependencies, inputs_used, parse_memory, parse_timeout};
use crate::caps::{FileRule, Grant, KafkaAccess, NetRule};
use crate::http_url::HttpUrl;

/// Default wall-clock budget of a step.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default memory budget of a step.
pub const DEFAULT_MEMORY: usize = 256 << 20;

/// A step ready to run.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    /// Step id.
    pub id: String,
    /// Plugin reference as written.
    pub plugin: String,
    /// Title for reports (the id when the playbook gives none).
    pub title: String,
    /// The `with` map as JSON, inputs substituted.
    pub params: serde_json::Value,
    /// What the step may touch.
    pub grant: Grant,
    /// Steps to wait for (its `needs` and its `when` target).
    pub waits_for: Vec<String>,
    /// Its `needs`: a failure there skips this step.
    pub needs: Vec<String>,
    /// Condition to run.
    pub when: Option<When>,
    /// Wall-clock budget.
    pub timeout: Duration,
    /// Memory budget.
    pub memory: usize,
    /// A remediation: dry run unless `--apply`.
    pub remediation: bool,
    /// For a remediation: the cause it fixes, and when it may run.
    pub fixes: Option<Fixes>,
    /// Why the step will not run, decided before the run: an optional input it uses has no
    /// value, or its `when: InputSet(..)` input is empty.
    pub skip: Option<String>,
}

/// What a remediation fixes: it runs only when the checks' diagnosis establishes `cause`
/// and ranks it first — or ranks only causes named in `even_below` above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixes {
    /// The cause key.
    pub cause: String,
    /// Causes that may rank above it.
    pub even_below: Vec<String>,
}

/// A problem with `--set` values (not with the playbook text).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// `--set` of an input the playbook does not declare.
    #[error("unknown input `{name}`{}; this playbook takes: {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), known.join(", "))]
    Unknown {
        /// What was given.
        name: String,
        /// A close declared name.
        suggestion: Option<String>,
        /// Declared names.
        known: Vec<String>,
    },
    /// A required input with no value.
    #[error("missing required input `{name}` ({help}): pass --set {name}=VALUE")]
    Missing {
        /// The input.
        name: String,
        /// Its help text.
        help: String,
    },
    /// `--set` without `=`.
    #[error("--set `{0}` is not NAME=VALUE")]
    Malformed(String),
}

/// Parse `NAME=VALUE`.
pub fn parse_set(text: &str) -> Result<(String, String), InputError> {
    text.split_once('=')
        .filter(|(name, _)| !name.trim().is_empty())
        .map(|(n, v)| (n.trim().to_owned(), v.to_owned()))
        .ok_or_else(|| InputError::Malformed(text.to_owned()))
}

/// The value of every input: `--set` first, then defaults. Optional inputs may stay unset.
pub fn bind_inputs(
    playbook: &Playbook,
    sets: &[(String, String)],
) -> Result<BTreeMap<String, String>, InputError> {
    let mut values = BTreeMap::new();
    for (name, value) in sets {
        if !playbook.inputs.contains_key(name) {
            let known: Vec<String> = playbook.inputs.keys().cloned().collect();
            return Err(InputError::Unknown {
                name: name.clone(),
                suggestion: closest(name, known.iter().map(String::as_str)).map(str::to_owned),
                known,
            });
        }
        values.insert(name.clone(), value.clone());
    }
    for (name, input) in &playbook.inputs {
        if values.contains_key(name) {
            continue;
        }
        match (&input.default, input.optional) {
            (Some(default), _) => {
                values.insert(name.clone(), default.clone());
            }
            (None, true) => {}
            (None, false) => {
                return Err(InputError::Missing {
                    name: name.clone(),
                    help: input.help.clone(),
                });
            }
        }
    }
    Ok(values)
}

/// Build the runnable steps. Errors (a grant that is malformed once substituted) point at
/// the playbook text.
pub fn plan(
    name: &str,
    source: &str,
    playbook: &Playbook,
    values: &BTreeMap<String, String>,
) -> Result<Vec<PlannedStep>, PlaybookError> {
    let mut problems = Vec::new();
    let mut planned = Vec::new();
    for step in &playbook.steps {
        let unset_inputs: Vec<String> = inputs_used(step)
            .into_iter()
            .filter(|input| !values.contains_key(input))
            .collect();
        let skip = if !unset_inputs.is_empty() {
            let names: Vec<String> = unset_inputs.iter().map(|i| format!("`{i}`")).collect();
            Some(format!(
                "input{} {} not set",
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ))
        } else {
            step.when
                .as_ref()
                .map(|w| w.value.inputs())
                .unwrap_or_default()
                .into_iter()
                .find(|input| values.get(*input).is_none_or(|v| v.trim().is_empty()))
                .map(|input| format!("input `{input}` not set"))
        };
        let mut grant = Grant {
            sys: step.allow.sys,
            kafka: step.allow.kafka.as_ref().map(|access| match access {
                KafkaAccess::Read => KafkaAccess::Read,
                KafkaAccess::Admin => KafkaAccess::Admin,
                KafkaAccess::Produce(topics) => KafkaAccess::Produce(
                    topics
                        .iter()
                        .map(|t| expand(t, values).unwrap_or_else(|_| t.clone()))
                        .collect(),
                ),
            }),
            ..Grant::default()
        };
        let mut params = serde_json::Map::new();
        if unset_inputs.is_empty() {
            for entry in &step.allow.net {
                let expanded = expand(&entry.value, values).unwrap_or_default();
                for target in expanded.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    match NetRule::parse(target) {
                        Ok(rule) => grant.net.push(rule),
                        Err(error) => problems.push(
                            Problem::new(
                                error.to_string(),
                                entry.source_span(),
                                "this grant, once substituted",
                            )
                            .help("inputs used in `net` grants must be host:port lists"),
                        ),
                    }
                }
            }
            for entry in &step.allow.files {
                let expanded = expand(&entry.value, values).unwrap_or_default();
                // An optional input left empty grants nothing (rather than everything).
                if expanded.trim().is_empty() && !entry.value.trim().is_empty() {
                    continue;
                }
                match FileRule::new(&expanded) {
                    Ok(rule) => grant.files.push(rule),
                    Err(error) => problems.push(Problem::new(
                        error.to_string(),
                        entry.source_span(),
                        "this grant",
                    )),
                }
            }
            for entry in &step.allow.exec {
                let expanded = expand(&entry.value, values).unwrap_or_default();
                let argv: Vec<String> = expanded.split_whitespace().map(str::to_owned).collect();
                if !argv.is_empty() {
                    grant.exec.push(argv);
                }
            }
            for entry in &step.allow.http {
                let expanded = expand(&entry.value, values).unwrap_or_default();
                // An optional input left empty grants nothing (rather than everything).
                if expanded.trim().is_empty() {
                    continue;
                }
                match HttpUrl::parse_grant(expanded.trim()) {
                    Ok(url) => grant.http.push(url),
                    Err(error) => problems.push(
                        Problem::new(
                            format!("invalid http grant: {error}"),
                            entry.source_span(),
                            "this grant, once substituted",
                        )
                        .help("write a URL such as \"http://broker-1:7071/metrics\""),
                    ),
                }
            }
            for (key, value) in &step.with {
                match substitute(&value.value, values) {
                    Ok(json) => {
                        params.insert(key.clone(), json);
                    }
                    Err(why) => problems.push(Problem::new(why, value.source_span(), "this value")),
                }
            }
        }
        planned.push(PlannedStep {
            id: step.id.value.clone(),
            plugin: step.plugin.value.clone(),
            title: step.title.clone().unwrap_or_else(|| step.id.value.clone()),
            params: serde_json::Value::Object(params),
            grant,
            waits_for: dependencies(step)
                .into_iter()
                .map(|(id, _)| id.to_owned())
                .collect(),
            needs: step.needs.iter().map(|n| n.value.clone()).collect(),
            when: step.when.as_ref().map(|w| w.value.clone()),
            timeout: step
                .timeout
                .as_ref()
                .and_then(|t| parse_timeout(&t.value).ok())
                .unwrap_or(DEFAULT_TIMEOUT),
            memory: step
                .memory
                .as_ref()
                .and_then(|m| parse_memory(&m.value).ok())
                .unwrap_or(DEFAULT_MEMORY),
            remediation: step.remediation,
            fixes: step.fixes.as_ref().map(|cause| Fixes {
                cause: cause.value.clone(),
                even_below: step.even_below.iter().map(|c| c.value.clone()).collect(),
            }),
            skip,
        });
    }
    if problems.is_empty() {
        Ok(planned)
    } else {
        Err(PlaybookError::new(
            NamedSource::new(name, source.to_owned()),
            problems,
        ))
    }
}

/// A RON param value as JSON, with `{{inputs}}` substituted in every string.
fn substitute(
    value: &ron::Value,
    values: &BTreeMap<String, String>,
) -> Result<serde_json::Value, String> {
    let json = serde_json::to_value(value)
        .map_err(|e| format!("this value cannot be passed to a plugin: {e}"))?;
    fn walk(json: serde_json::Value, values: &BTreeMap<String, String>) -> serde_json::Value {
        match json {
            serde_json::Value::String(s) => {
                serde_json::Value::String(expand(&s, values).unwrap_or(s))
            }
            serde_json::Value::Array(items) => items.into_iter().map(|i| walk(i, values)).collect(),
            serde_json::Value::Object(map) => {
                map.into_iter().map(|(k, v)| (k, walk(v, values))).collect()
            }
            other => other,
        }
    }
    Ok(walk(json, values))
}
