//! `client-audit`: reads an application's source the way a careful reviewer reads its Kafka
//! producer code, and flags the misuse that makes events silently disappear.
//!
//! A producer's `send` only enqueues. Whether the record arrives is told later — by a
//! future, a callback, a delivery report — and code that never asks never learns. The broker
//! and the network look healthy; the events are simply not there. This check looks for:
//!
//! | finding | cause | severity |
//! | --- | --- | --- |
//! | a send whose result nothing checks | `client.unchecked-send` | fail |
//! | buffered records never flushed before close or exit | `client.no-flush` | fail |
//! | a librdkafka producer never polled, a result channel never drained | `client.no-poll` | fail |
//! | a producer never closed | `client.not-closed` | warn |
//! | delivery errors only logged at debug level | `client.errors-hidden` | warn |
//!
//! The clients, and the versions each module's rules hold for (the module docs say why):
//!
//! | language | client | versions | module |
//! | --- | --- | --- | --- |
//! | Java, Kotlin | Apache Kafka `KafkaProducer` | every release (send returns a `Future`) | [`java`] |
//! | Java, Kotlin | Spring for Apache Kafka `KafkaTemplate` | 2.x (`ListenableFuture`), 3.x (`CompletableFuture`) | [`spring`] |
//! | Python | kafka-python | 1.x–3.x; the exit hook's timeout differs (0 up to 3.0.6, 1 s from 3.0.7) | [`python`] |
//! | Python | confluent-kafka | every release | [`python`] |
//! | Python | aiokafka | every release up to 0.14 | [`python`] |
//! | Go | confluent-kafka-go, as `github.com/.../confluent-kafka-go[/v2]/kafka` or `gopkg.in/.../confluent-kafka-go.v1/kafka` | v1, v2 | [`go`] |
//! | Go | segmentio/kafka-go | every release | [`go`] |
//! | Go | Sarama, as `github.com/Shopify/sarama` or `github.com/IBM/sarama` | every release | [`go`] |
//! | JavaScript, TypeScript | kafkajs (and `@confluentinc/kafka-javascript`'s KafkaJS API) | every release (send returns a promise) | [`javascript`] |
//! | JavaScript, TypeScript | node-rdkafka | 1.x–3.x; `disconnect()` flushes first only from 2.3.0 | [`javascript`] |
//! | Rust | rdkafka | every release with `FutureProducer`/`BaseProducer`/`ThreadedProducer` | [`rust`] |
//!
//! Producers are followed where real code keeps them: in `main`, in methods, fields and
//! attributes, module globals (also when a helper builds them), and sends are judged inside
//! closures, lambdas, threads, executors, timers, goroutines and forked worker processes.
//!
//! How: `files.grep` finds the candidate files host-side (imports of a Kafka client,
//! producer constructions and sends), then each candidate is read (at most
//! [`MAX_FILE_BYTES`]) and analysed here, statement by statement. Vendored and generated
//! trees (`node_modules`, `vendor`, `target`, virtualenvs) are skipped: their code is not the
//! application's.
//!
//! Params: `path` (required), a granted source directory (or file).
//!
//! # Layout
//!
//! - [`source`]: a file with comments and strings masked, and its bracket structure.
//! - [`model`]: kinds of misuse, issues, and settling issues that depend on other files.
//! - [`reaction`]: what an error branch does (nothing, a debug log, something real).
//! - [`java`], [`spring`], [`python`], [`go`], [`javascript`], [`rust`]: the per-language
//!   (and per-client) heuristics.

mod go;
mod java;
mod javascript;
mod model;
mod python;
mod reaction;
mod rust;
mod source;
mod spring;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use triage_sdk::files::{self, GrepRequest, GrepResult, Pattern};
use triage_sdk::{Check, Finding, HostError, PluginInfo, Report, RunError, Status, export_check};

use model::{Audited, FileAudit, Kind, settle};
use source::Source;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    path: String,
}

/// Most bytes read of one source file. Hand-written producer code lives in files far
/// smaller; a larger file is generated or bundled, and is audited up to this size.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Example matches kept per grep pattern: the host's maximum. Each example names a file, so
/// this bounds how many files one marker can bring in (see [`MARKERS`]).
const EXAMPLES: u32 = 20;

/// Longest evidence excerpt, in characters.
const MAX_EXCERPT_CHARS: usize = 200;

/// Lines that mark a file as holding producer code, as `(name, regex)`. Several narrow
/// markers rather than one broad one: grep keeps [`EXAMPLES`] matches per marker, and a
/// marker that matches once per file (an import) brings in that many files.
const MARKERS: &[(&str, &str)] = &[
    (
        "java-import",
        r"^\s*import\s+org\.apache\.kafka\.clients\.producer\.",
    ),
    (
        "java-new",
        r"\bnew\s+(?:[\w.]+\.)?KafkaProducer\b|[=(]\s*KafkaProducer\s*(?:<.*>)?\s*\(",
    ),
    (
        "python-confluent",
        r"^\s*(?:from\s+confluent_kafka\b|import\s+confluent_kafka\b)",
    ),
    (
        "python-kafka",
        r"^\s*(?:from\s+kafka(?:\.producer)?\s+import\b|import\s+kafka\b)",
    ),
    (
        "python-aiokafka",
        r"^\s*(?:from\s+aiokafka\b|import\s+aiokafka\b)",
    ),
    (
        "java-spring-kafka",
        r"^\s*import\s+org\.springframework\.kafka\.core\.",
    ),
    (
        "go-confluent",
        r#""(?:github\.com/confluentinc/confluent-kafka-go(?:/v\d+)?|gopkg\.in/confluentinc/confluent-kafka-go\.v\d+)/kafka""#,
    ),
    ("go-segmentio", r#""github\.com/segmentio/kafka-go""#),
    ("go-sarama", r#""github\.com/(?:IBM|Shopify)/sarama""#),
    (
        "js-kafka-client",
        r#"(?:require\s*\(\s*|from\s+|import\s+)['"](?:kafkajs|@confluentinc/kafka-javascript|node-rdkafka)['"]"#,
    ),
    ("rust-rdkafka", r"\brdkafka::"),
    (
        "producer-send",
        r"(?i)producer\w*\s*\.\s*(?:send|produce|sendBatch)\s*\(",
    ),
];

/// Directories whose code is not the application's own: dependencies, build output,
/// virtualenvs. Matched against the path below the audited directory.
const NOT_THE_APPLICATION: &[&str] = &[
    "node_modules",
    "vendor",
    "target",
    ".git",
    "venv",
    ".venv",
    "site-packages",
    "__pycache__",
    "dist",
    ".gradle",
    ".tox",
];

/// The languages audited, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Language {
    Java,
    Kotlin,
    Python,
    Go,
    JavaScript,
    Rust,
}

impl Language {
    fn of(path: &str) -> Option<Language> {
        let extension = path.rsplit_once('.')?.1;
        Some(match extension {
            "java" => Language::Java,
            "kt" | "kts" => Language::Kotlin,
            "py" => Language::Python,
            "go" => Language::Go,
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => Language::JavaScript,
            "rs" => Language::Rust,
            _ => return None,
        })
    }

    fn audit(self, text: &str) -> FileAudit {
        match self {
            Language::Java | Language::Kotlin => {
                let (syntax, dialect) = if self == Language::Java {
                    (&source::JAVA, java::Dialect::Java)
                } else {
                    (&source::KOTLIN, java::Dialect::Kotlin)
                };
                let source = Source::new(text, syntax);
                let mut audit = java::audit(&source, dialect);
                spring::audit(&source, dialect, &mut audit);
                audit
            }
            Language::Python => python::audit(&Source::new(text, &source::PYTHON)),
            Language::Go => go::audit(&Source::new(text, &source::GO)),
            Language::JavaScript => javascript::audit(&Source::new(text, &source::JAVASCRIPT)),
            Language::Rust => rust::audit(&Source::new(text, &source::RUST)),
        }
    }

    /// The files whose shared producers see each other: Go producers are handed between
    /// packages; Python and JavaScript modules import each other's producers by name.
    fn scope(self, path: &str) -> String {
        match self {
            Language::Go => "go".to_owned(),
            Language::Python => "python".to_owned(),
            Language::JavaScript => "javascript".to_owned(),
            Language::Java | Language::Kotlin | Language::Rust => format!("file:{path}"),
        }
    }
}

struct ClientAudit;

impl Check for ClientAudit {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "client-audit",
            "Kafka producer misuse in application source: unchecked sends, missing \
             flush/close/poll, delivery errors logged at debug",
        )
        .param(
            "path",
            "A granted source directory (or file) to audit",
            true,
        )
        .needs("files")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        triage_sdk::log::progress(&format!("looking for producer code in {}", params.path));
        let scan = match files::grep(&GrepRequest {
            path: params.path.clone(),
            patterns: MARKERS
                .iter()
                .map(|(name, regex)| Pattern {
                    name: (*name).to_owned(),
                    regex: (*regex).to_owned(),
                })
                .collect(),
            case_insensitive: false,
            context: 0,
            max_examples: EXAMPLES,
            max_bytes: 0,
        }) {
            Ok(scan) => scan,
            Err(HostError::Invalid(why)) => return Err(RunError::InvalidParams(why)),
            Err(error) => {
                return Ok(Report::new(format!("{} could not be scanned", params.path))
                    .status(Status::Error)
                    .finding(
                        Finding::warn("client.unreadable", format!("cannot scan {}", params.path))
                            .evidence("files.grep", error.reason())
                            .fix(
                                "Check the path and grant it in the step's \
                                 `allow: (files: [...])`.",
                            ),
                    ));
            }
        };
        let (candidates, missed) = candidates(&scan, &params.path);

        let mut audited = Vec::new();
        let mut texts = BTreeMap::new();
        let mut unreadable = 0;
        for (index, path) in candidates.iter().enumerate() {
            let Some(language) = Language::of(path) else {
                continue;
            };
            triage_sdk::log::progress(&format!(
                "auditing {path} ({} of {})",
                index + 1,
                candidates.len()
            ));
            let content = match files::read(path, MAX_FILE_BYTES) {
                Ok(content) => content,
                Err(error) => {
                    triage_sdk::log::warn(&format!("skipping {path}: {}", error.reason()));
                    unreadable += 1;
                    continue;
                }
            };
            if content.truncated {
                triage_sdk::log::warn(&format!(
                    "{path} is larger than {MAX_FILE_BYTES} bytes; auditing its beginning"
                ));
            }
            let audit = language.audit(&content.text);
            if audit.has_producer_code() {
                audited.push(Audited {
                    path: path.clone(),
                    scope: language.scope(path),
                    audit,
                });
                texts.insert(path.clone(), content.text);
            }
        }
        Ok(report(
            &params.path,
            &scan,
            &audited,
            &texts,
            missed,
            unreadable,
        ))
    }
}

/// The source files the markers found, in path order, minus dependencies and build output;
/// and whether some marker matched more lines than grep kept, so that files may be missed.
fn candidates(scan: &GrepResult, root: &str) -> (Vec<String>, bool) {
    let mut files = BTreeSet::new();
    let mut missed = false;
    for hits in &scan.hits {
        let mut kept = BTreeSet::new();
        for hit in hits.first.iter().chain(&hits.examples).chain(&hits.last) {
            kept.insert((hit.file.as_str(), hit.line));
            files.insert(hit.file.clone());
        }
        // Examples are the first matches in scan order (files sorted, then lines): when the
        // last example and the last match are in the same file, the matches grep did not
        // keep are all in that file too, and no file was missed.
        let unseen_elsewhere = match (hits.examples.last(), &hits.last) {
            (Some(example), Some(last)) => example.file != last.file,
            _ => false,
        };
        missed |= hits.count > kept.len() as u64 && unseen_elsewhere;
    }
    let files = files
        .into_iter()
        .filter(|file| Language::of(file).is_some())
        .filter(|file| {
            !below(root, file)
                .split('/')
                .any(|component| NOT_THE_APPLICATION.contains(&component))
        })
        .collect();
    (files, missed)
}

/// The part of `file` (a canonical path, as grep reports it) below the audited `root` (as the
/// playbook gave it, possibly relative): the root's own name must not decide what is
/// vendored (`/home/me/vendor/app` is the application). Without a recognisable root, only
/// the file name is returned, and nothing is skipped.
fn below<'a>(root: &str, file: &'a str) -> &'a str {
    let root = root.trim_end_matches('/');
    if let Some(rest) = file.strip_prefix(root).filter(|_| root.starts_with('/')) {
        return rest;
    }
    let tail: String = root
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/");
    if !tail.is_empty()
        && !tail.contains("..")
        && let Some(at) = file.rfind(&format!("/{tail}/"))
    {
        return &file[at + tail.len() + 1..];
    }
    file.rsplit('/').next().unwrap_or(file)
}

/// The report: one finding per standing issue, counts as facts, and a summary that says
/// plainly when there was no producer code at all.
fn report(
    root: &str,
    scan: &GrepResult,
    audited: &[Audited],
    texts: &BTreeMap<String, String>,
    missed: bool,
    unreadable: usize,
) -> Report {
    let producers: usize = audited.iter().map(|a| a.audit.producers).sum();
    let send_sites: usize = audited.iter().map(|a| a.audit.send_sites).sum();
    let settled = settle(audited);
    let mut report = Report::new("");
    for standing in &settled {
        let issue = &standing.issue;
        let excerpt: String = texts
            .get(&standing.path)
            .and_then(|text| text.lines().nth(issue.line - 1))
            .unwrap_or_default()
            .trim()
            .chars()
            .take(MAX_EXCERPT_CHARS)
            .collect();
        report.push(
            Finding::new(issue.kind.severity(), issue.kind.cause(), &issue.title)
                .cause(issue.kind.cause())
                .evidence(format!("{}:{}", standing.path, issue.line), excerpt)
                .fix(&issue.fix),
        );
    }

    let counts: Vec<(Kind, usize)> = Kind::ALL
        .iter()
        .map(|&kind| {
            (
                kind,
                settled.iter().filter(|s| s.issue.kind == kind).count(),
            )
        })
        .collect();
    let files = audited.len();
    let mut summary = if audited.is_empty() {
        format!(
            "No Kafka producer code found in {} file{} under {root}",
            scan.files_scanned,
            plural(scan.files_scanned as usize)
        )
    } else if settled.is_empty() {
        format!(
            "{producers} producer{} and {send_sites} send site{} in {files} file{}: no misuse found",
            plural(producers),
            plural(send_sites),
            plural(files)
        )
    } else {
        let found: Vec<String> = counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|&(kind, n)| kind.counted(n))
            .collect();
        format!(
            "{} in {files} file{} with producer code",
            found.join(", "),
            plural(files)
        )
    };
    if missed {
        summary
            .push_str("; some markers matched more files than were audited: audit a narrower path");
    }
    if unreadable > 0 {
        summary.push_str(&format!(
            "; {unreadable} file{} unreadable",
            plural(unreadable)
        ));
    }
    report = report
        .summary(summary)
        .fact("files_scanned", scan.files_scanned)
        .fact("files_audited", files)
        .fact("producers", producers)
        .fact("send_sites", send_sites)
        .fact("candidates_missed", missed);
    for (kind, n) in counts {
        report.push_fact(format!("count.{}", kind.label()), n);
    }
    report
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

export_check!(ClientAudit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_directories_are_judged_below_the_root_only() {
        assert_eq!(
            below("/src/vendor/app", "/src/vendor/app/main.go"),
            "/main.go"
        );
        assert_eq!(
            below("apps/orders/", "/srv/apps/orders/node_modules/x/index.js"),
            "/node_modules/x/index.js"
        );
        assert_eq!(below(".", "/srv/app/vendor/x.go"), "x.go");
    }

    fn hit(file: &str, line: u64) -> triage_sdk::files::MatchLine {
        triage_sdk::files::MatchLine {
            file: file.into(),
            line,
            text: String::new(),
            before: Vec::new(),
            after: Vec::new(),
        }
    }

    fn scan(count: u64, examples: Vec<triage_sdk::files::MatchLine>, last: &str) -> GrepResult {
        GrepResult {
            files_scanned: 3,
            bytes_scanned: 0,
            truncated: false,
            hits: vec![triage_sdk::files::PatternHits {
                name: "producer-send".into(),
                count,
                first: examples.first().cloned(),
                last: Some(hit(last, 99)),
                examples,
            }],
        }
    }

    #[test]
    fn candidates_skip_dependencies_and_know_when_files_may_be_missed() {
        let many_in_one_file: Vec<_> = (1..=20).map(|l| hit("/app/src/a.py", l)).collect();
        let (files, missed) =
            candidates(&scan(30, many_in_one_file.clone(), "/app/src/a.py"), "/app");
        assert_eq!((files, missed), (vec!["/app/src/a.py".to_owned()], false));
        let (files, missed) = candidates(&scan(30, many_in_one_file, "/app/src/z.py"), "/app");
        assert_eq!(files.len(), 2);
        assert!(missed, "matches between a.py and z.py were not kept");
        let vendored = vec![
            hit("/app/node_modules/kafkajs/index.js", 1),
            hit("/app/README.md", 2),
        ];
        let (files, _) = candidates(&scan(2, vendored, "/app/web/send.js"), "/app");
        assert_eq!(files, ["/app/web/send.js"]);
    }

    #[test]
    fn every_marker_compiles() {
        for (name, pattern) in MARKERS {
            assert!(regex::Regex::new(pattern).is_ok(), "{name}");
        }
    }

    #[test]
    fn languages_by_extension() {
        assert_eq!(Language::of("/a/App.java"), Some(Language::Java));
        assert_eq!(Language::of("/a/build.gradle.kts"), Some(Language::Kotlin));
        assert_eq!(Language::of("/a/index.tsx"), Some(Language::JavaScript));
        assert_eq!(Language::of("/a/README.md"), None);
        assert_eq!(
            Language::Go.scope("/a/pkg/producer.go"),
            Language::Go.scope("/a/pkg/main.go")
        );
    }
}
