//! `log-grep`: the operator's `grep -c` / `grep -m` over broker and client logs, for the whole
//! signature catalogue at once, with the verdict and the fix attached to each signature.
//!
//! The scan runs in the host (`files.grep`): gigabytes of log never enter the sandbox. The
//! host decompresses rotated `*.gz` logs; a file it cannot read as text is not counted as
//! scanned, and a scan that read nothing ends `skipped`, never `pass`.
//!
//! What it looks for, by default: the shipped catalogue (`triage_knowledge::catalogue`, every
//! `knowledge/signatures/*.ron`; `triage list --signatures` shows it). A team adds its own
//! entries, in the same format, without writing Rust:
//!
//! - `signatures: "path/to/ours.ron"`: a signature file, read through the step's `files`
//!   grant (so grant it as well as the logs);
//! - `signatures: [ { "id": ..., "cause": ..., "severity": "Warn", ... } ]`: inline entries.
//!
//! A team entry whose id is a catalogue id replaces that entry (to tune a severity or a fix);
//! `catalogue: false` scans for the team's entries only. A bad entry (unknown field or cause
//! key, empty regex list, duplicate id) fails the step with the file, line and column; a regex
//! that does not compile is reported by the host with the signature's id.
//!
//! Params:
//! - `path` (required): a granted log file or directory.
//! - `signatures` (optional): a signature file path or inline entries, as above.
//! - `catalogue` (default true): include the shipped catalogue.
//! - `patterns` (optional, older form): `[{ "name", "regex", "meaning",
//!   "severity": "info|warn|fail", "cause", "fix" }]`; given, they replace the catalogue.
//! - `case_insensitive` (default false), `examples` (default 3), `context` (default 0),
//!   `max_bytes` (default: the host's cap).

use serde::Deserialize;
use triage_knowledge::Signature;
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
    signatures: Option<TeamSignatures>,
    #[serde(default = "default_true")]
    catalogue: bool,
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

fn default_true() -> bool {
    true
}

/// A team's own signatures: a file (read through the `files` grant) or inline entries.
#[derive(Deserialize)]
#[serde(untagged)]
enum TeamSignatures {
    File(String),
    Inline(Vec<serde_json::Value>),
}

/// The largest signature file read: a catalogue of a few hundred entries is tens of KiB.
const MAX_SIGNATURE_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// What the scan looks for and what a match means, from a signature or an older pattern.
struct Rule {
    name: String,
    meaning: String,
    regex: String,
    severity: Severity,
    cause: Option<String>,
    fix: Option<String>,
}

impl Rule {
    fn from_signature(signature: &Signature) -> Rule {
        Rule {
            name: signature.id.clone(),
            meaning: signature.meaning.clone(),
            // One host pattern per signature: its wordings as alternatives, each in its own
            // group so that flags such as `(?i)` stay inside their wording.
            regex: signature
                .regexes
                .iter()
                .map(|regex| format!("(?:{regex})"))
                .collect::<Vec<_>>()
                .join("|"),
            severity: match signature.severity {
                triage_knowledge::Severity::Info => Severity::Info,
                triage_knowledge::Severity::Warn => Severity::Warn,
                triage_knowledge::Severity::Fail => Severity::Fail,
            },
            cause: Some(signature.cause.clone()),
            fix: Some(signature.fix.clone()),
        }
    }

    fn from_pattern(pattern: NamedPattern) -> Rule {
        Rule {
            meaning: pattern.meaning.unwrap_or_else(|| pattern.name.clone()),
            name: pattern.name,
            regex: pattern.regex,
            severity: pattern.severity,
            cause: pattern.cause,
            fix: pattern.fix,
        }
    }
}

/// The rules of this run: the older `patterns` alone when given; otherwise the catalogue
/// (unless turned off) with the team's signatures added or replacing entries of the same id.
fn rules(params: &mut Params) -> Result<Vec<Rule>, RunError> {
    if let Some(patterns) = params.patterns.take() {
        return Ok(patterns.into_iter().map(Rule::from_pattern).collect());
    }
    let mut signatures: Vec<Signature> = if params.catalogue {
        triage_knowledge::catalogue().to_vec()
    } else {
        Vec::new()
    };
    let team = match params.signatures.take() {
        None => Vec::new(),
        Some(TeamSignatures::File(path)) => read_signature_file(&path)?,
        Some(TeamSignatures::Inline(entries)) => inline_signatures(entries)?,
    };
    for signature in team {
        match signatures.iter_mut().find(|s| s.id == signature.id) {
            Some(shipped) => *shipped = signature,
            None => signatures.push(signature),
        }
    }
    if signatures.is_empty() {
        return Err(RunError::InvalidParams(
            "nothing to look for: `catalogue: false` and no `signatures` (give a signature file or inline entries)".into(),
        ));
    }
    Ok(signatures.iter().map(Rule::from_signature).collect())
}

fn read_signature_file(path: &str) -> Result<Vec<Signature>, RunError> {
    let file = files::read(path, MAX_SIGNATURE_FILE_BYTES).map_err(|error| {
        RunError::InvalidParams(format!(
            "cannot read the signature file {path}: {}; grant it in the step's `allow: (files: [...])`",
            error.reason()
        ))
    })?;
    if file.truncated {
        return Err(RunError::InvalidParams(format!(
            "the signature file {path} is larger than {MAX_SIGNATURE_FILE_BYTES} bytes; split it"
        )));
    }
    triage_knowledge::parse(path, &file.text)
        .map(|file| file.signatures)
        .map_err(|error| RunError::InvalidParams(format!("bad signature file:\n{error}")))
}

fn inline_signatures(entries: Vec<serde_json::Value>) -> Result<Vec<Signature>, RunError> {
    let mut signatures: Vec<Signature> = Vec::with_capacity(entries.len());
    let mut problems = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let id = entry
            .get("id")
            .and_then(|id| id.as_str())
            .unwrap_or("?")
            .to_owned();
        let at = format!("signatures[{index}] (id `{id}`)");
        match serde_json::from_value::<Signature>(entry) {
            Ok(signature) => {
                problems.extend(signature.problems().into_iter().map(|(_, why)| format!("{at}: {why}")));
                if signatures.iter().any(|s| s.id == signature.id) {
                    problems.push(format!("{at}: id `{id}` is used by an earlier entry: ids must be unique"));
                }
                signatures.push(signature);
            }
            Err(error) => problems.push(format!(
                "{at}: {error} (an entry has id, cause, severity: \"Info\"|\"Warn\"|\"Fail\", meaning, fix, regexes, and optionally source, components, examples)"
            )),
        }
    }
    if problems.is_empty() {
        Ok(signatures)
    } else {
        Err(RunError::InvalidParams(format!(
            "bad inline signatures:\n{}",
            problems.join("\n")
        )))
    }
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
            "signatures",
            "A team's signature file (granted path) or inline entries, added to the catalogue",
            false,
        )
        .param(
            "catalogue",
            "Include the shipped signature catalogue (default true)",
            false,
        )
        .param(
            "patterns",
            "[{name, regex, severity, cause, fix}] (older form; replaces the catalogue)",
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

    fn run(mut params: Params) -> Result<Report, RunError> {
        let mut patterns = rules(&mut params)?;
        if let Some(address) = params
            .client_address
            .as_deref()
            .filter(|a| !a.trim().is_empty())
        {
            patterns.push(Rule::from_pattern(client_pattern(address.trim())));
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
                    pattern.meaning,
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
            "{matched} of {} signatures matched in {} file{} ({} scanned)",
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
