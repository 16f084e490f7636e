//! What the language audits report, in terms shared by every language: the kinds of misuse,
//! issues at a line, and how an issue that depends on other code is settled.
//!
//! Some questions cannot be answered from one file. A module-level Python producer is often
//! flushed by the module that imports it; a Go producer built in `producer.go` is closed in
//! `main.go` of the same package. Such an issue carries a [`Clearance`]: the calls that would
//! discharge it (`producer.flush`, any `.Events()`), and whether to look for them in the file
//! alone or in every file that shares its scope. [`settle`] looks, once every file is read.

use std::collections::{BTreeMap, BTreeSet};

use triage_sdk::{Severity, cause};

/// A kind of producer misuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A send whose outcome nothing looks at.
    UncheckedSend,
    /// Buffered records that are never flushed before the producer or the process goes away.
    NoFlush,
    /// A producer that is never closed.
    NotClosed,
    /// A librdkafka-based producer whose delivery reports are never served.
    NoPoll,
    /// A delivery error whose only reaction is a debug or trace log.
    ErrorsHidden,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 5] = [
        Kind::UncheckedSend,
        Kind::NoFlush,
        Kind::NoPoll,
        Kind::NotClosed,
        Kind::ErrorsHidden,
    ];

    /// The cause key findings of this kind support.
    pub fn cause(self) -> &'static str {
        match self {
            Kind::UncheckedSend => cause::CLIENT_UNCHECKED_SEND,
            Kind::NoFlush => cause::CLIENT_NO_FLUSH,
            Kind::NotClosed => cause::CLIENT_NOT_CLOSED,
            Kind::NoPoll => cause::CLIENT_NO_POLL,
            Kind::ErrorsHidden => cause::CLIENT_ERRORS_HIDDEN,
        }
    }

    /// Lost events are a `fail`; a leak or a hidden error is a `warn`.
    pub fn severity(self) -> Severity {
        match self {
            Kind::UncheckedSend | Kind::NoFlush | Kind::NoPoll => Severity::Fail,
            Kind::NotClosed | Kind::ErrorsHidden => Severity::Warn,
        }
    }

    /// The cause key without its `client.` prefix, for fact names.
    pub fn label(self) -> &'static str {
        self.cause().trim_start_matches("client.")
    }

    /// How the summary counts `n` of them.
    pub fn counted(self, n: usize) -> String {
        let (one, many) = match self {
            Kind::UncheckedSend => ("unchecked send", "unchecked sends"),
            Kind::NoFlush => ("missing flush", "missing flushes"),
            Kind::NoPoll => ("missing poll", "missing polls"),
            Kind::NotClosed => ("producer never closed", "producers never closed"),
            Kind::ErrorsHidden => (
                "delivery error logged only at debug level",
                "delivery errors logged only at debug level",
            ),
        };
        format!("{n} {}", if n == 1 { one } else { many })
    }
}

/// Calls that, if present, discharge an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearance {
    /// The variables the call may be made on (the producer, and the fields it was stored
    /// in); empty accepts any receiver (Go's `Events()` is drained wherever the producer was
    /// passed to).
    pub receivers: Vec<String>,
    /// Any of these methods will do (`close` flushes too, for the Java client).
    pub methods: &'static [&'static str],
    /// Look in every file of the same scope (a Go package, all Python or JavaScript modules),
    /// not only in the issue's own file.
    pub shared: bool,
}

/// A problem found at a line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// What kind of misuse.
    pub kind: Kind,
    /// 1-based line the evidence quotes.
    pub line: usize,
    /// One sentence for the operator.
    pub title: String,
    /// The concrete change that fixes it.
    pub fix: String,
    /// The issue stands unless these calls are found.
    pub unless: Option<Clearance>,
    /// The line of the producer the issue is about, for producer-level issues: a producer
    /// that loses records at exit is reported once, as [`Kind::NoFlush`], whose fix (flush,
    /// or close, which flushes) also covers [`Kind::NotClosed`].
    pub producer: Option<usize>,
}

impl Issue {
    /// An issue that stands whatever the rest of the code does.
    pub fn new(kind: Kind, line: usize, title: impl Into<String>, fix: impl Into<String>) -> Self {
        Issue {
            kind,
            line,
            title: title.into(),
            fix: fix.into(),
            unless: None,
            producer: None,
        }
    }

    /// The issue stands unless one of `methods` is called on one of `receivers` (on
    /// anything, when `receivers` is empty).
    pub fn unless(mut self, receivers: &[&str], methods: &'static [&'static str]) -> Self {
        self.unless = Some(Clearance {
            receivers: receivers.iter().map(|r| (*r).to_owned()).collect(),
            methods,
            shared: false,
        });
        self
    }

    /// Look for the clearing calls in every file of the same scope.
    pub fn shared(mut self, shared: bool) -> Self {
        if let Some(clearance) = &mut self.unless {
            clearance.shared = shared;
        }
        self
    }

    /// The issue is about the producer created at `line`.
    pub fn about_producer(mut self, line: usize) -> Self {
        self.producer = Some(line);
        self
    }
}

/// What one file's audit found.
#[derive(Debug, Default)]
pub struct FileAudit {
    /// Producers created in the file.
    pub producers: usize,
    /// Calls that send a record.
    pub send_sites: usize,
    /// Problems, some pending a [`Clearance`].
    pub issues: Vec<Issue>,
    /// Every `receiver.method` in the code, to settle clearances with.
    pub calls: BTreeSet<(String, String)>,
}

impl FileAudit {
    /// Does the file call `method` on `receiver` (`producer.commitTransaction`)?
    pub fn has_call(&self, receiver: &str, method: &str) -> bool {
        self.calls.iter().any(|(r, m)| r == receiver && m == method)
    }

    /// Does the file hold any producer code at all?
    pub fn has_producer_code(&self) -> bool {
        self.producers > 0 || self.send_sites > 0
    }
}

/// One audited file, with the scope its module-level names are visible in.
pub struct Audited {
    /// The file's path, as quoted in evidence.
    pub path: String,
    /// Files with the same scope see each other's shared producers (`go:DIR`, `python`).
    pub scope: String,
    /// What its audit found.
    pub audit: FileAudit,
}

/// An issue that stood: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The file.
    pub path: String,
    /// The issue.
    pub issue: Issue,
}

/// Drop the issues whose clearing calls exist, and the not-closed issues of producers
/// already reported as losing records; the rest, in file, line and kind order.
pub fn settle(files: &[Audited]) -> Vec<Settled> {
    let mut scope_calls: BTreeMap<&str, BTreeSet<&(String, String)>> = BTreeMap::new();
    for file in files {
        scope_calls
            .entry(file.scope.as_str())
            .or_default()
            .extend(file.audit.calls.iter());
    }
    let mut settled = Vec::new();
    for file in files {
        let cleared = |clearance: &Clearance| {
            let mut calls: Box<dyn Iterator<Item = &(String, String)>> = if clearance.shared {
                Box::new(scope_calls[file.scope.as_str()].iter().copied())
            } else {
                Box::new(file.audit.calls.iter())
            };
            calls.any(|(receiver, method)| {
                clearance.methods.contains(&method.as_str())
                    && (clearance.receivers.is_empty() || clearance.receivers.contains(receiver))
            })
        };
        let standing: Vec<&Issue> = file
            .audit
            .issues
            .iter()
            .filter(|issue| !issue.unless.as_ref().is_some_and(cleared))
            .collect();
        let loses_records: BTreeSet<usize> = standing
            .iter()
            .filter(|issue| issue.kind == Kind::NoFlush)
            .filter_map(|issue| issue.producer)
            .collect();
        let mut seen = BTreeSet::new();
        for issue in standing {
            let superseded = issue.kind == Kind::NotClosed
                && issue.producer.is_some_and(|p| loses_records.contains(&p));
            // Two heuristics can hit the same line with the same kind (a Go `Produce` whose
            // error is ignored and whose delivery report is never read); one finding is enough.
            if superseded || !seen.insert((issue.kind, issue.line)) {
                continue;
            }
            settled.push(Settled {
                path: file.path.clone(),
                issue: issue.clone(),
            });
        }
    }
    settled.sort_by(|a, b| {
        (&a.path, a.issue.line, a.issue.kind).cmp(&(&b.path, b.issue.line, b.issue.kind))
    });
    settled
}

/// For the language modules' tests: the issues one file's audit leaves standing, as
/// `(kind, line)`.
#[cfg(test)]
pub fn settled_in_one_file(path: &str, scope: &str, audit: FileAudit) -> Vec<(Kind, usize)> {
    let files = [Audited {
        path: path.into(),
        scope: scope.into(),
        audit,
    }];
    settle(&files)
        .into_iter()
        .map(|s| (s.issue.kind, s.issue.line))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audited(path: &str, scope: &str, issues: Vec<Issue>, calls: &[(&str, &str)]) -> Audited {
        Audited {
            path: path.into(),
            scope: scope.into(),
            audit: FileAudit {
                issues,
                calls: calls
                    .iter()
                    .map(|(r, m)| (r.to_string(), m.to_string()))
                    .collect(),
                ..FileAudit::default()
            },
        }
    }

    #[test]
    fn clearances_look_in_the_file_or_the_whole_scope() {
        let local = Issue::new(Kind::NoFlush, 3, "t", "f").unless(&["p"], &["flush"]);
        let shared = local.clone().shared(true);
        let files = [
            audited("a.py", "python", vec![local, shared], &[]),
            audited("b.py", "python", vec![], &[("p", "flush")]),
        ];
        let settled = settle(&files);
        assert_eq!(settled.len(), 1, "{settled:?}");
        assert!(settled[0].issue.unless.as_ref().is_some_and(|c| !c.shared));
    }

    #[test]
    fn a_producer_losing_records_is_not_also_reported_unclosed() {
        let files = [audited(
            "Main.java",
            "java",
            vec![
                Issue::new(Kind::NoFlush, 9, "t", "f").about_producer(9),
                Issue::new(Kind::NotClosed, 9, "t", "f").about_producer(9),
                Issue::new(Kind::NotClosed, 20, "t", "f").about_producer(20),
            ],
            &[],
        )];
        let kinds: Vec<(Kind, usize)> = settle(&files)
            .iter()
            .map(|s| (s.issue.kind, s.issue.line))
            .collect();
        assert_eq!(kinds, [(Kind::NoFlush, 9), (Kind::NotClosed, 20)]);
    }

    #[test]
    fn any_receiver_clearance() {
        let issue = Issue::new(Kind::NoPoll, 1, "t", "f").unless(&[], &["Events"]);
        let files = [audited(
            "p.go",
            "go:x",
            vec![issue],
            &[("producer", "Events")],
        )];
        assert!(settle(&files).is_empty());
    }
}
