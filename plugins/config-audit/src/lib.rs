//! `config-audit`: does the application's producer configuration explain why its events never
//! arrive?
//!
//! Reads the producer's configuration file — a Java client `.properties` file, a
//! librdkafka-style one, or one written for the 0.8 Scala producer, recognised by scoring every
//! key against each client's schema ([`schema`]) — and judges it the way the client itself
//! will, then against the live cluster:
//!
//! | rule | finding | cause |
//! | --- | --- | --- |
//! | every key against the client's schema: unknown (with the key meant), consumer/admin key, the other dialect's, a 0.8 key (with its replacement), an unsubstituted `${...}`; every value against the key's type, range and listed values | `config.unknown-key`, `config.client-key`, `config.foreign-key`, `config.legacy-key`, `config.placeholder`, `config.invalid`, `config.deprecated-key` | `config.unknown-key`, `config.placeholder`, `config.invalid-value` (plugin constants, not yet in the SDK catalogue) |
//! | a file for the 0.8 Scala producer (removed in Kafka 2.0) | `config.legacy-client` | `config.legacy-client` |
//! | each `bootstrap.servers` entry resolves, connects and speaks Kafka (probed when granted, else compared with the advertised listeners: wrong port, typo) | `config.bootstrap.*` | `config.bootstrap`, `net.*`, `dns.unresolvable` |
//! | `acks` 0 (fail) or 1 (warn) | `config.acks` | `config.acks-weak` |
//! | `retries` 0 (fail) or below 3 (warn) | `config.retries` | `config.retries` |
//! | `enable.idempotence=true` (or `transactional.id`) with acks ≠ all, retries 0 or more than 5 in flight; `transactional.id` with `enable.idempotence=false` | `config.idempotence` | `config.idempotence` |
//! | `delivery.timeout.ms >= linger.ms + request.timeout.ms` (librdkafka: `message.timeout.ms > linger.ms`) | `config.delivery-timeout` | `config.delivery-timeout` |
//! | `request.timeout.ms` vs the brokers' `replica.lag.time.max.ms` (acks=all) | `config.request-timeout` | `client.timeout` |
//! | `max.request.size` vs the topic's `max.message.bytes` (else the brokers' `message.max.bytes`) | `config.message-size` | `config.message-size` |
//! | `buffer.memory`, `queue.buffering.max.*`, `max.block.ms` 0 (fail) or under 1 s, a small buffer with `max.block.ms=0` (fail), `batch.size` above `buffer.memory` (fail) or `max.request.size`, `batch.num.messages` above `queue.buffering.max.messages` | `config.buffers.*`, `config.batch-size` | `config.buffers`, `config.message-size` |
//! | the topic exists, has live leaders, and (acks=all) RF and ISR satisfy `min.insync.replicas` | `config.topic-missing`, `config.partition-offline`, `config.min-insync-unsatisfiable`, `config.isr-below-min` | `topic.missing`, `partition.offline`, `isr.below-min` |
//!
//! Every finding quotes the setting with its `file:line`; a setting absent from the file
//! takes the client's documented default, and the finding says which default was assumed.
//!
//! Params: `path` (required, a granted file), `topic` (the topic the application writes to),
//! `bootstrap` (the servers the playbook was given), `timeout_ms` (per probe, default 3000).
//! Grants: `files` for `path`; `net` for the bootstrap entries to probe them; `kafka: Read`
//! for the cluster cross-checks (and to probe the listeners the cluster advertises).
//!
//! # Layout
//!
//! - [`schema`]: the clients' schemas (data in `schema/`, embedded): which client knows a key,
//!   the dialect by score, value checks, did-you-mean.
//! - [`config`]: the file parsed with line numbers, the dialect, the defaults table, the
//!   typed model.
//! - [`bootstrap`]: bootstrap entries parsed, probed, compared with the known listeners.
//! - [`cluster`]: what the cluster says, gathered once.
//! - [`rules`]: one pure function per rule — the bootstrap list, the client's own settings,
//!   the settings against the cluster.

pub mod bootstrap;
pub mod cluster;
pub mod config;
pub mod rules;
pub mod schema;

use serde::Deserialize;
use triage_sdk::files;
use triage_sdk::{Check, Finding, HostError, PluginInfo, Report, RunError, Severity, export_check};

use crate::config::{Acks, ProducerConfig};
use crate::rules::{Audit, RULES};

/// Producer configuration files are a few KiB; anything near this is not one.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The step's parameters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// The producer's configuration file.
    path: String,
    /// The topic the application writes to.
    #[serde(default)]
    topic: Option<String>,
    /// The bootstrap servers the playbook was given, `host:port,...`.
    #[serde(default)]
    bootstrap: Option<String>,
    /// Per-probe timeout in milliseconds.
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u32,
}

fn default_timeout_ms() -> u32 {
    3_000
}

struct ConfigAudit;

impl Check for ConfigAudit {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "config-audit",
            "Audits a producer configuration file (Java client or librdkafka) against the client's rules and the live cluster",
        )
        .param("path", "The producer's configuration file (.properties or librdkafka key=value)", true)
        .param("topic", "The topic the application writes to (enables the topic checks)", false)
        .param("bootstrap", "The bootstrap servers the playbook was given, host:port,...", false)
        .param("timeout_ms", "Per-probe timeout in milliseconds (default 3000)", false)
        .needs("files")
        .needs("net")
        .needs("kafka")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let content = match files::read(&params.path, MAX_FILE_BYTES) {
            Ok(content) => content,
            // Without the file there is nothing to judge: a playbook or path mistake.
            Err(error @ (HostError::Denied(_) | HostError::Invalid(_))) => {
                return Err(RunError::InvalidParams(format!(
                    "cannot read {}: {}",
                    params.path,
                    error.reason()
                )));
            }
            Err(error) => {
                return Err(RunError::failed(format!(
                    "cannot read {}: {}",
                    params.path,
                    error.reason()
                )));
            }
        };
        if content.truncated {
            return Err(RunError::failed(format!(
                "{} is {} bytes: not a producer configuration file",
                params.path, content.size
            )));
        }
        let entries = match config::parse_properties(&content.text) {
            Ok(entries) => entries,
            Err(error) => return Ok(unparseable_report(&params.path, &error)),
        };
        let config = ProducerConfig::load(&params.path, &entries);
        triage_sdk::log::progress(&format!(
            "{}: {} keys, read as a {} file",
            params.path,
            config.entries,
            config.family.name()
        ));
        let topic = params
            .topic
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let cluster = cluster::gather(topic);
        let audit = Audit::prepare(
            config,
            cluster,
            params.bootstrap.as_deref().unwrap_or(""),
            |server| {
                triage_sdk::log::progress(&format!("probing bootstrap server {server}"));
                bootstrap::probe(server, params.timeout_ms)
            },
        );
        Ok(report(&audit))
    }
}

export_check!(ConfigAudit);

/// Run every rule and summarise.
fn report(audit: &Audit) -> Report {
    let config = &audit.config;
    let mut report = Report::new("");
    let (mut failed, mut warned, mut not_checked) = (0, 0, 0);
    for rule in RULES {
        let findings = (rule.check)(audit);
        let worst = findings.iter().map(|f| f.severity).max_by_key(|s| rank(*s));
        match worst {
            Some(Severity::Fail) => failed += 1,
            Some(Severity::Warn) => warned += 1,
            // A rule that could not look did not pass.
            _ if findings.iter().any(|f| f.id.ends_with(".not-compared")) => not_checked += 1,
            _ => {}
        }
        triage_sdk::log::debug(&format!(
            "rule `{}`: {} findings",
            rule.name,
            findings.len()
        ));
        for finding in findings {
            report.push(finding);
        }
    }
    let passed = RULES.len() - failed - warned - not_checked;
    let mut summary = format!(
        "{} ({}, {} key{}): {failed} rule{} failed, {warned} warned, {passed} passed",
        config.file,
        config.family.client().trim_start_matches("the "),
        config.entries,
        plural(config.entries),
        plural(failed),
    );
    if not_checked > 0 {
        summary.push_str(&format!(
            ", {not_checked} not checked (no bootstrap servers given)"
        ));
    }
    let working = audit
        .servers
        .iter()
        .filter(|(_, probe)| matches!(probe, bootstrap::Probe::Kafka))
        .count();
    report
        .summary(summary)
        .fact("dialect", config.family.name())
        .fact(
            "acks",
            match config.acks.value {
                Acks::All => "all",
                Acks::Leader => "1",
                Acks::None => "0",
            },
        )
        .fact("idempotence", config.enable_idempotence.value)
        .fact("retries", config.retries.value)
        .fact("linger_ms", config.linger_ms.value)
        .fact("request_timeout_ms", config.request_timeout_ms.value)
        .fact("delivery_timeout_ms", config.delivery_timeout_ms.value)
        .fact("max_request_size", config.max_request_size.value)
        .fact("bootstrap_reachable", working)
        .fact("bootstrap_compared", !audit.nothing_to_compare_with())
        .fact("rules_failed", failed)
        .fact("rules_warned", warned)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn rank(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 0,
        Severity::Warn => 1,
        Severity::Fail => 2,
    }
}

/// A file the client cannot load either.
fn unparseable_report(path: &str, error: &config::ParseError) -> Report {
    let source = match error.line {
        Some(line) => format!("{path}:{line}"),
        None => path.to_owned(),
    };
    Report::new(format!("{path} is not a valid properties file")).finding(
        Finding::fail(
            "config.unparseable",
            format!("{path} is not a valid properties file: the client cannot load it"),
        )
        .evidence(source, error.message.clone())
        .fix("Fix the line shown (an invalid \\u escape is the usual culprit); `key=value` per line, `#` for comments."),
    )
}
