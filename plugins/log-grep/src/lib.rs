//! `log-grep`: the operator's `grep -c` / `grep -m` over broker logs, for many patterns at
//! once, with the verdict and the fix attached to each pattern.
//!
//! The scan runs in the host (`files.grep`): gigabytes of log never enter the sandbox. The
//! host decompresses rotated `*.gz` logs; a file it cannot read as text is not counted as
//! scanned, and a scan that read nothing ends `skipped`, never `pass`.
//!
//! Params:
//! - `path` (required): a granted log file or directory.
//! - `patterns` (optional): `[{ "name", "regex", "meaning", "severity": "info|warn|fail",
//!   "cause", "fix" }]`;
//!   defaults to [`kafka_broker_patterns`].
//! - `case_insensitive` (default false), `examples` (default 3), `context` (default 0),
//!   `max_bytes` (default: the host's cap).

use serde::Deserialize;
use triage_sdk::files::{self, GrepRequest, MatchLine, Pattern};
use triage_sdk::{
    Check, Finding, HostError, PluginInfo, Report, RunError, Severity, Status, cause, export_check,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    path: String,
    #[serde(default)]
    patterns: Option<Vec<NamedPattern>>,
    #[serde(default)]
    case_insensitive: bool,
    #[serde(default = "default_examples")]
    examples: u32,
    #[serde(default)]
    context: u32,
    #[serde(default)]
    max_bytes: u64,
    /// The application's address (host or IP): connections from it that the broker
    /// refused, denied or dropped get a pattern of their own.
    #[serde(default)]
    client_address: Option<String>,
}

fn default_examples() -> u32 {
    3
}

/// A pattern and what a match means.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedPattern {
    name: String,
    regex: String,
    /// What a match means, in words ("ISR shrinks"); defaults to the name.
    #[serde(default)]
    meaning: Option<String>,
    #[serde(default = "default_severity", with = "severity_name")]
    severity: Severity,
    #[serde(default)]
    cause: Option<String>,
    #[serde(default)]
    fix: Option<String>,
}

fn default_severity() -> Severity {
    Severity::Warn
}

mod severity_name {
    use serde::{Deserialize, Deserializer};
    use triage_sdk::Severity;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
        match String::deserialize(d)?.as_str() {
            "info" => Ok(Severity::Info),
            "warn" => Ok(Severity::Warn),
            "fail" => Ok(Severity::Fail),
            other => Err(serde::de::Error::custom(format!(
                "severity `{other}` is not info, warn or fail"
            ))),
        }
    }
}

/// What an experienced operator greps a Kafka broker's server.log for, and what each means.
fn kafka_broker_patterns() -> Vec<NamedPattern> {
    let p =
        |name: &str, meaning: &str, regex: &str, severity, cause: &str, fix: &str| NamedPattern {
            name: name.into(),
            meaning: Some(meaning.into()),
            regex: regex.into(),
            severity,
            cause: Some(cause.into()),
            fix: Some(fix.into()),
        };
    vec![
        p(
            "connection-refused",
            "Connections refused",
            r"Connection refused",
            Severity::Warn,
            cause::NET_REFUSED,
            "A broker could not reach a peer or the controller: check that every broker is up \
             and that its listeners are reachable from the others.",
        ),
        p(
            "authorization-denied",
            "Authorization / ACL denials",
            r"(?i)(is Denied Operation|not authorized|authorization failed|AuthorizationException|SaslAuthenticationException|Authentication failed)",
            Severity::Fail,
            cause::AUTH_DENIED,
            "The broker rejects the client: grant its principal the operation (e.g. \
             `kafka-acls --add --allow-principal User:APP --operation Write --topic TOPIC`) or \
             fix its SASL/SSL credentials.",
        ),
        p(
            "isr-shrink",
            "ISR shrinks",
            r"Shrinking ISR",
            Severity::Warn,
            cause::ISR_UNDER_REPLICATED,
            "Followers fall out of sync: check the follower brokers' health, disks and network; \
             ISR shrinks that continue will stop acks=all writes at min.insync.replicas.",
        ),
        p(
            "not-enough-replicas",
            "Writes refused for NotEnoughReplicas",
            r"NotEnoughReplicas",
            Severity::Fail,
            cause::ISR_BELOW_MIN,
            "Writes with acks=all are refused because the ISR is below min.insync.replicas: \
             restore the missing brokers (or, knowing it weakens durability, lower \
             min.insync.replicas).",
        ),
        p(
            "expiring-records",
            "Records expired before delivery",
            r"Expiring \d+ record",
            Severity::Fail,
            cause::PRODUCER_EXPIRED,
            "Records expired before they could be delivered: the partition leader was \
             unavailable or too slow for delivery.timeout.ms; fix the leader's availability \
             first, then review the producer's timeouts.",
        ),
        p(
            "timeout",
            "Timeouts",
            r"TimeoutException",
            Severity::Warn,
            cause::CLIENT_TIMEOUT,
            "Requests time out: look for an overloaded broker (request handler idle ratio), \
             a network partition, or a leader that moved.",
        ),
        p(
            "out-of-memory",
            "Out-of-memory errors",
            r"OutOfMemoryError",
            Severity::Fail,
            cause::BROKER_OOM,
            "The broker JVM ran out of memory: raise its heap (KAFKA_HEAP_OPTS) or reduce its \
             load, then restart it.",
        ),
        p(
            "disk-full",
            "Disk full (No space left on device)",
            r"No space left on device",
            Severity::Fail,
            cause::BROKER_DISK_FULL,
            "A log directory is full, which takes the broker offline: free space (retention, \
             old segments) or add disk, then restart the broker.",
        ),
    ]
}

/// Lines where the broker refused, denied or dropped the application's own connections.
fn client_pattern(address: &str) -> NamedPattern {
    let meaning = format!("Connections from the application ({address}) refused or denied");
    let address = regex_escape(address);
    let verdict = "(?:denied|refused|failed|disconnected|closed|unauthorized|not authorized)";
    NamedPattern {
        name: "client-rejected".into(),
        meaning: Some(meaning),
        regex: format!("(?i)(?:{address}\\b.*{verdict}|{verdict}.*{address}\\b)"),
        severity: Severity::Fail,
        cause: Some(cause::AUTH_DENIED.into()),
        fix: Some(
            "The broker turns the application away: read these lines for the reason (ACL, SASL \
             or SSL authentication, connection quota, listener) and fix that side."
                .into(),
        ),
    }
}

/// Escape regex metacharacters (an address has dots, an IPv6 one colons and brackets).
fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

struct LogGrep;

impl Check for LogGrep {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "log-grep",
            "Known failure patterns in broker logs: counts, first/last occurrence, examples",
        )
        .param("path", "A granted log file or directory", true)
        .param(
            "patterns",
            "[{name, regex, severity, cause, fix}] (default: Kafka broker patterns)",
            false,
        )
        .param(
            "case_insensitive",
            "Match case-insensitively (default false)",
            false,
        )
        .param(
            "examples",
            "Example lines kept per pattern (default 3)",
            false,
        )
        .param(
            "context",
            "Context lines around examples (default 0)",
            false,
        )
        .param(
            "max_bytes",
            "Stop after scanning this many bytes (default: host cap)",
            false,
        )
        .param(
            "client_address",
            "The application's host or IP: its refused or denied connections",
            false,
        )
        .needs("files")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let mut patterns = params.patterns.unwrap_or_else(kafka_broker_patterns);
        if let Some(address) = params
            .client_address
            .as_deref()
            .filter(|a| !a.trim().is_empty())
        {
            patterns.push(client_pattern(address.trim()));
        }
        triage_sdk::log::progress(&format!("scanning {}", params.path));
        let request = GrepRequest {
            path: params.path.clone(),
            patterns: patterns
                .iter()
                .map(|p| Pattern {
                    name: p.name.clone(),
                    regex: p.regex.clone(),
                })
                .collect(),
            case_insensitive: params.case_insensitive,
            context: params.context,
            max_examples: params.examples,
            max_bytes: params.max_bytes,
        };
        let result = match files::grep(&request) {
            Ok(result) => result,
            Err(HostError::Invalid(why)) => return Err(RunError::InvalidParams(why)),
            Err(error) => {
                return Ok(Report::new(format!("{} could not be scanned", params.path))
                    .status(Status::Error)
                    .finding(
                        Finding::warn("log.unreadable", format!("cannot scan {}", params.path))
                            .evidence("files.grep", error.reason())
                            .fix("Check the path and grant it in the step's `allow: (files: [...])`."),
                    ));
            }
        };

        let mut report = Report::new("");
        let mut matched = 0;
        for (pattern, hits) in patterns.iter().zip(&result.hits) {
            report = report.fact(format!("count.{}", pattern.name), hits.count);
            if hits.count == 0 {
                continue;
            }
            matched += 1;
            let mut finding = Finding::new(
                pattern.severity,
                format!("log.{}", pattern.name),
                format!(
                    "{}: {} line{} in the log",
                    pattern.meaning.as_deref().unwrap_or(&pattern.name),
                    hits.count,
                    plural(hits.count)
                ),
            );
            if let Some(cause) = &pattern.cause {
                finding = finding.cause(cause);
            }
            let mut quoted: Vec<&MatchLine> = hits.first.iter().collect();
            quoted.extend(hits.examples.iter().skip(1));
            quoted.extend(hits.last.iter().filter(|last| {
                hits.count > 1
                    && !hits
                        .examples
                        .iter()
                        .any(|e| e.line == last.line && e.file == last.file)
            }));
            for line in quoted {
                finding = finding.evidence(format!("{}:{}", line.file, line.line), &line.text);
            }
            if let Some(fix) = &pattern.fix {
                finding = finding.fix(fix);
            }
            report.push(finding);
        }
        // Nothing read is nothing checked: no pass for an empty directory, or one whose logs
        // the host could not read as text (compressed in a format it does not decode).
        if result.files_scanned == 0 {
            return Ok(report
                .summary(format!("{} holds no log the host could read", params.path))
                .status(Status::Skipped)
                .finding(
                    Finding::info("log.unscanned", format!("nothing was scanned in {}", params.path))
                        .evidence("files.grep", "0 files scanned")
                        .fix("Point `path` at the broker's server.log or its directory (plain text or gzip)."),
                )
                .fact("files_scanned", 0)
                .fact("bytes_scanned", result.bytes_scanned)
                .fact("truncated", result.truncated));
        }
        let mut summary = format!(
            "{matched} of {} patterns matched in {} file{} ({} scanned)",
            patterns.len(),
            result.files_scanned,
            plural(result.files_scanned.into()),
            human_bytes(result.bytes_scanned)
        );
        if result.truncated {
            // The host says `truncated` when it stopped at the byte cap, cut a line longer
            // than it scans, or left a file out (special, hard-linked, not text).
            summary.push_str(
                "; not everything was scanned (byte cap, over-long lines cut, or files left out)",
            );
        }
        Ok(report
            .summary(summary)
            .fact("files_scanned", result.files_scanned)
            .fact("bytes_scanned", result.bytes_scanned)
            .fact("truncated", result.truncated))
    }
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

export_check!(LogGrep);
