//! One signature: a log line's wording, what it means, the cause it supports and the fix, with
//! the Kafka source the wording comes from and example lines that must match it.
//!
//! The shape follows SigmaHQ's detection rules (a stable id, a level, references, test
//! samples): knowledge as data an operator can read, review and extend without Rust.
//!
//! [`parse`] reads a signature file (a RON list of entries) and points every problem at its
//! file, line and column: RON syntax and shape errors come from `ron`; the semantic ones (an
//! unknown cause key, a duplicate id, an entry with no regex) are located through the source
//! slice of the value they concern.

use std::collections::BTreeSet;
use std::fmt;

use ron::value::RawValue;
use serde::{Deserialize, Deserializer, Serialize};

use crate::cause;

/// How bad a match is. `Info` lines are context (a controller change during a maintenance
/// window), never a cause of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    /// Worth knowing, not a problem by itself.
    Info,
    /// Degraded: a problem that does not lose records by itself.
    Warn,
    /// Records are refused, lost, or a broker is out of service.
    Fail,
}

/// The process whose log holds the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Component {
    /// A broker's server.log (and, in combined KRaft mode, the controller's lines in it).
    Broker,
    /// A KRaft controller (or the ZooKeeper-mode controller's controller.log).
    Controller,
    /// A ZooKeeper server.
    ZooKeeper,
    /// A client application's log: the Java client or librdkafka.
    Client,
}

/// One entry of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Unique in the catalogue, kebab-case: `isr-shrink`.
    pub id: String,
    /// The cause key a match supports (see [`cause::is_known`]).
    pub cause: String,
    /// How bad a match is.
    pub severity: Severity,
    /// What a match means, in one sentence an operator reads first.
    pub meaning: String,
    /// What to do about it.
    pub fix: String,
    /// Every wording of the line, as regexes in the syntax of the `regex` crate; a line
    /// matches the signature when any of them matches.
    pub regexes: Vec<String>,
    /// Where the wording comes from: Kafka version range and the class or file that logs it.
    #[serde(default)]
    pub source: Vec<String>,
    /// Which processes write the line.
    #[serde(default)]
    pub components: Vec<Component>,
    /// Lines in the exact format the source writes (or captured from a real cluster); each
    /// must match one of `regexes`.
    #[serde(default)]
    pub examples: Vec<String>,
}

impl Signature {
    /// What is wrong with this entry on its own (without regex compilation, which is the
    /// matcher's business): an empty field, an id that is not kebab-case, an unknown cause.
    pub fn problems(&self) -> Vec<(Field, String)> {
        let mut problems = Vec::new();
        if !is_kebab_case(&self.id) {
            problems.push((
                Field::Id,
                format!(
                    "id `{}` is not kebab-case: use lower-case words joined by `-`, such as `isr-shrink`",
                    self.id
                ),
            ));
        }
        if !cause::is_known(&self.cause) {
            problems.push((
                Field::Cause,
                format!(
                    "cause `{}` is not a known cause key: use one `triage list` shows (such as \
                     `isr.under-replicated`), or your own as `team.something`",
                    self.cause
                ),
            ));
        }
        if self.regexes.is_empty() {
            problems.push((
                Field::Entry,
                "no regexes: give at least one wording of the log line".into(),
            ));
        }
        for (index, regex) in self.regexes.iter().enumerate() {
            if regex.trim().is_empty() {
                problems.push((
                    Field::Regex(index),
                    "an empty regex matches every line: write the wording of the log line".into(),
                ));
            }
        }
        if self.meaning.trim().is_empty() {
            problems.push((
                Field::Entry,
                "`meaning` is empty: say what a match means".into(),
            ));
        }
        if self.fix.trim().is_empty() {
            problems.push((
                Field::Entry,
                "`fix` is empty: say what to do about it".into(),
            ));
        }
        problems
    }
}

/// The part of an entry a problem is about, for locating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The entry as a whole.
    Entry,
    /// Its `id`.
    Id,
    /// Its `cause`.
    Cause,
    /// Its regex at this index.
    Regex(usize),
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A 1-based line and column (columns count characters) in a signature file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Where the parts of one entry are in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPositions {
    /// The entry's opening parenthesis.
    pub entry: Position,
    /// Its `id` value.
    pub id: Position,
    /// Its `cause` value.
    pub cause: Position,
    /// Each regex, in order.
    pub regexes: Vec<Position>,
}

impl EntryPositions {
    /// The position of `field`.
    pub fn of(&self, field: Field) -> Position {
        match field {
            Field::Entry => self.entry,
            Field::Id => self.id,
            Field::Cause => self.cause,
            Field::Regex(index) => self.regexes.get(index).copied().unwrap_or(self.entry),
        }
    }
}

/// A parsed signature file: its entries and where each is.
#[derive(Debug, Clone)]
pub struct SignatureFile {
    /// What errors call the file (its path, or `catalogue/<name>` for an embedded one).
    pub name: String,
    /// The entries, in file order.
    pub signatures: Vec<Signature>,
    /// Where each entry's parts are, parallel to `signatures`.
    pub positions: Vec<EntryPositions>,
}

impl SignatureFile {
    /// A problem located at `field` of entry `index`.
    pub fn problem(&self, index: usize, field: Field, message: impl Into<String>) -> Problem {
        let at = self.positions[index].of(field);
        Problem {
            file: self.name.clone(),
            line: at.line,
            column: at.column,
            message: message.into(),
        }
    }
}

/// One thing wrong with a signature file, at a place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file's name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Everything wrong with a signature file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// A value with the source slice it was parsed from: the slice's address within the file's
/// text *is* its position (the host's playbook parser uses the same trick).
struct Located<'a, T> {
    text: &'a str,
    value: T,
}

impl<'de: 'a, 'a, T: serde::de::DeserializeOwned> Deserialize<'de> for Located<'a, T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?.trim();
        let value = raw
            .into_rust::<T>()
            .map_err(|error| serde::de::Error::custom(error.code))?;
        Ok(Located {
            text: raw.get_ron(),
            value,
        })
    }
}

/// An entry as written, with the slices of the parts errors point at.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenEntry<'a> {
    #[serde(borrow)]
    id: Located<'a, String>,
    #[serde(borrow)]
    cause: Located<'a, String>,
    severity: Severity,
    meaning: String,
    fix: String,
    #[serde(borrow)]
    regexes: Vec<Located<'a, String>>,
    #[serde(default)]
    source: Vec<String>,
    #[serde(default)]
    components: Vec<Component>,
    #[serde(default)]
    examples: Vec<String>,
}

/// Parse a signature file: a RON list of entries. `name` is what errors call the file.
///
/// Every entry is checked ([`Signature::problems`]) and ids must be unique within the file;
/// all problems are reported at once, each with its line and column.
pub fn parse(name: &str, text: &str) -> Result<SignatureFile, ParseError> {
    let at = |offset: usize| position_of(text, offset);
    let syntax = |error: ron::error::SpannedError, base: Position| ParseError {
        problems: vec![Problem {
            file: name.to_owned(),
            line: base.line + error.span.start.line - 1,
            column: if error.span.start.line == 1 {
                base.column + error.span.start.col - 1
            } else {
                error.span.start.col
            },
            message: format!(
                "{}; a signature file is a list of entries `[ (id: ..., cause: ..., ...), ]`",
                error.code
            ),
        }],
    };
    let entries: Vec<&RawValue> =
        ron::from_str(text).map_err(|error| syntax(error, Position { line: 1, column: 1 }))?;
    let mut file = SignatureFile {
        name: name.to_owned(),
        signatures: Vec::with_capacity(entries.len()),
        positions: Vec::with_capacity(entries.len()),
    };
    let mut problems = Vec::new();
    for raw in entries {
        let raw = raw.trim();
        let entry_text = raw.get_ron();
        let entry_at = at(offset_in(text, entry_text));
        let written: WrittenEntry<'_> = match raw.into_rust() {
            Ok(written) => written,
            Err(error) => {
                problems.extend(syntax(error, entry_at).problems);
                continue;
            }
        };
        file.positions.push(EntryPositions {
            entry: entry_at,
            id: at(offset_in(text, written.id.text)),
            cause: at(offset_in(text, written.cause.text)),
            regexes: written
                .regexes
                .iter()
                .map(|regex| at(offset_in(text, regex.text)))
                .collect(),
        });
        file.signatures.push(Signature {
            id: written.id.value,
            cause: written.cause.value,
            severity: written.severity,
            meaning: written.meaning,
            fix: written.fix,
            regexes: written.regexes.into_iter().map(|r| r.value).collect(),
            source: written.source,
            components: written.components,
            examples: written.examples,
        });
    }
    let mut seen = BTreeSet::new();
    for (index, signature) in file.signatures.iter().enumerate() {
        for (field, message) in signature.problems() {
            problems.push(file.problem(index, field, message));
        }
        if !seen.insert(signature.id.as_str()) {
            problems.push(file.problem(
                index,
                Field::Id,
                format!(
                    "id `{}` is used by an earlier entry: ids must be unique",
                    signature.id
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        problems.sort_by_key(|p| (p.line, p.column));
        Err(ParseError { problems })
    }
}

/// Offset of `part`, a slice borrowed from `whole`, within it.
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .wrapping_sub(whole.as_ptr() as usize)
        .min(whole.len())
}

fn position_of(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    Position {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"[
    (
        id: "isr-shrink",
        cause: "isr.under-replicated",
        severity: Warn,
        meaning: "ISR shrank.",
        fix: "Check the followers.",
        regexes: [r"Shrinking ISR from"],
        source: ["kafka 2.x Partition.scala"],
        components: [Broker],
        examples: ["Shrinking ISR from 1,2,3 to 1,2"],
    ),
]"#;

    #[test]
    fn a_good_file_parses_with_positions() {
        let file = parse("ours.ron", GOOD).unwrap();
        assert_eq!(file.signatures.len(), 1);
        assert_eq!(file.signatures[0].severity, Severity::Warn);
        assert_eq!(file.positions[0].entry, Position { line: 2, column: 5 });
        assert_eq!(
            file.positions[0].cause,
            Position {
                line: 4,
                column: 16
            }
        );
        assert_eq!(
            file.positions[0].regexes,
            vec![Position {
                line: 8,
                column: 19
            }]
        );
    }

    #[test]
    fn an_unknown_cause_and_a_duplicate_id_point_at_their_values() {
        let text = GOOD.replace("isr.under-replicated", "isr.under-replicatd");
        let text = text.replace("\n]", "\n    (id: \"isr-shrink\", cause: \"team.ours\", severity: Info, meaning: \"m\", fix: \"f\", regexes: [\"x\"]),\n]");
        let error = parse("ours.ron", &text).unwrap_err().to_string();
        assert!(
            error.contains("ours.ron:4:16: cause `isr.under-replicatd` is not a known cause key"),
            "{error}"
        );
        assert!(
            error.contains("ours.ron:13:10: id `isr-shrink` is used by an earlier entry"),
            "{error}"
        );
    }

    #[test]
    fn a_shape_error_inside_an_entry_points_into_the_file() {
        let text = GOOD.replace("severity: Warn", "severity: Bad");
        let error = parse("ours.ron", &text).unwrap_err();
        let problem = &error.problems[0];
        assert_eq!(problem.file, "ours.ron");
        assert!(problem.line >= 2, "{problem}");
        let text = GOOD.replace("fix:", "fixx:");
        let error = parse("ours.ron", &text).unwrap_err().to_string();
        assert!(error.contains("fixx"), "{error}");
        assert!(error.starts_with("ours.ron:"), "{error}");
    }
}
