//! RON text → [`Playbook`], keeping the source span of every value an error may point at.
//!
//! `ron` reports the position of syntax and shape errors, but deserialized values carry no
//! position. [`Spanned<T>`] recovers it: it deserializes as a `ron::value::RawValue`, which
//! borrows the exact slice of the source text, and the slice's offset in the source *is* the
//! span. The value itself is then parsed from that slice.

use std::cell::Cell;
use std::fmt;
use std::ops::Range;

use miette::{NamedSource, SourceSpan};
use ron::extensions::Extensions;
use ron::value::RawValue;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use super::model::Playbook;
use super::problem::{PlaybookError, Problem};

/// A value with the byte range it was parsed from.
#[derive(Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Byte range in the playbook source; empty when the value was not parsed from one.
    pub span: Range<usize>,
}

impl<T> Spanned<T> {
    /// A value with no source (built in code, e.g. in tests).
    pub fn detached(value: T) -> Spanned<T> {
        Spanned { value, span: 0..0 }
    }

    /// The span as miette wants it.
    pub fn source_span(&self) -> SourceSpan {
        (self.span.start, self.span.len()).into()
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

thread_local! {
    /// The source being parsed on this thread: its address and length.
    static SOURCE: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    /// Where a value failed to parse inside a [`Spanned`], which `ron` cannot know.
    static INNER_ERROR: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?.trim();
        let text = raw.get_ron();
        let (base, len) = SOURCE.get();
        let start = (text.as_ptr() as usize).wrapping_sub(base);
        let span = if base != 0 && start <= len {
            start..start + text.len()
        } else {
            0..0
        };
        match options().from_str::<T>(text) {
            Ok(value) => Ok(Spanned { value, span }),
            Err(error) => {
                INNER_ERROR.set(Some((span.start, span.len())));
                Err(D::Error::custom(error.code))
            }
        }
    }
}

/// The RON dialect of playbooks: `Some(..)` may be left out around optional values.
fn options() -> ron::Options {
    ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME)
}

/// Parse a playbook. `name` is what errors call the file (its path, usually).
pub fn parse(name: &str, source: &str) -> Result<Playbook, PlaybookError> {
    SOURCE.set((source.as_ptr() as usize, source.len()));
    INNER_ERROR.set(None);
    let parsed = options().from_str::<Playbook>(source);
    SOURCE.set((0, 0));
    let inner = INNER_ERROR.take();
    parsed.map_err(|error| {
        let span = match inner {
            Some((start, len)) => SourceSpan::from((start, len.max(1))),
            None => {
                let at = offset_of(source, error.span.start.line, error.span.start.col);
                let end = offset_of(source, error.span.end.line, error.span.end.col);
                SourceSpan::from((at, end.saturating_sub(at).max(1)))
            }
        };
        PlaybookError::new(
            NamedSource::new(name, source.to_owned()),
            vec![Problem::new(describe(&error.code), span, "here")],
        )
    })
}

/// Byte offset of a 1-based line and column (columns count characters).
fn offset_of(source: &str, line: usize, col: usize) -> usize {
    let line_start: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &source[line_start.min(source.len())..];
    let within: usize = rest
        .chars()
        .take(col.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    (line_start + within).min(source.len().saturating_sub(1))
}

/// `ron`'s messages, phrased for a playbook author.
fn describe(error: &ron::Error) -> String {
    match error {
        ron::Error::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "unknown field `{found}`{}; expected one of {}",
            outer
                .as_ref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default(),
            expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ron::Error::MissingStructField { field, outer } => format!(
            "missing field `{field}`{}",
            outer
                .as_ref()
                .map(|o| format!(" in {o}"))
                .unwrap_or_default()
        ),
        other => format!("invalid playbook: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_the_value_text() {
        let source = r#"Playbook(name: "p", title: "t", steps: [
            Step(id: "reach", plugin: "net-probe", needs: ["a", "b"]),
        ])"#;
        let playbook = parse("p.ron", source).unwrap();
        let step = &playbook.steps[0];
        assert_eq!(&source[step.plugin.span.clone()], "\"net-probe\"");
        assert_eq!(step.plugin.value, "net-probe");
        assert_eq!(&source[step.needs[1].span.clone()], "\"b\"");
    }

    #[test]
    fn offsets_count_lines_and_characters() {
        let source = "ab\ncdé\nfg";
        assert_eq!(offset_of(source, 2, 3), 5);
        assert_eq!(offset_of(source, 3, 1), 8);
    }
}
