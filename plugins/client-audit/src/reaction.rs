//! What code does when a delivery fails: nothing, only a debug-level log, or something an
//! operator would notice.
//!
//! A delivery callback or error branch whose only reaction is `log.debug(...)` is the
//! quietest way to lose events: the code *looks* handled in review, and production runs at
//! INFO. The language modules find the error branch (a callback's `if (exception != null)`
//! block, a `catch`, a Go `if err != nil`, a Rust `Err(..) =>` arm) and split it into
//! statements; this module judges the statements.

use std::sync::LazyLock;

use regex::Regex;

use crate::source::{Source, mentions};

/// The reaction to a delivery error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// Nothing happens (empty branch, or the error is never looked at).
    Ignored,
    /// Only debug or trace logging: invisible at the usual production log level.
    QuietLog,
    /// Anything else: an error or warning log, a rethrow, a metric, a retry.
    Handled,
}

/// Logging at a level production does not show: `log.debug(`, `logger.trace(`,
/// `LOG.fine(`, `log.Debugf(`, `debug!(`, `tracing::trace!(`, `console.debug(`,
/// `logger.log(Level.FINE, ...)`, `logger.debug { ... }` (kotlin-logging).
static QUIET_LOG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(?:
            (?:[A-Za-z_][\w.]*\s*\.\s*)?(?:debug|trace|fine|finer|finest|verbose|Debug|Trace)(?:f|w|ln)?\s*[({]
          | (?:[\w:]+::)?(?:debug|trace)!\s*[(\[{]
          | (?:[A-Za-z_][\w.]*\s*\.\s*)?log\s*\(\s*(?:[\w.]+\.)?(?:FINE|FINER|FINEST|DEBUG|TRACE)\b
        )",
    )
    .expect("valid regex")
});

/// A guard that only runs its block when debug logging is on.
static DEBUG_GUARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^if\b.*\b(?:isDebugEnabled|isTraceEnabled|isEnabledFor\s*\(\s*logging\.DEBUG)")
        .expect("valid regex")
});

/// Statements that change nothing about what the operator sees.
fn is_neutral(statement: &str) -> bool {
    matches!(
        statement.trim_end_matches(';').trim(),
        "return" | "break" | "continue" | "pass" | "return null" | "return None" | "{}" | "()"
    )
}

/// Is this statement only a debug- or trace-level log call?
pub fn is_quiet_log(statement: &str) -> bool {
    let statement = statement.trim();
    QUIET_LOG.is_match(statement)
        || (DEBUG_GUARD.is_match(statement) && !mentions(statement, "else"))
}

/// Judge the statements of an error branch.
pub fn classify<'a>(statements: impl IntoIterator<Item = &'a str>) -> Reaction {
    let mut reaction = Reaction::Ignored;
    for statement in statements {
        if is_neutral(statement) {
            continue;
        }
        if !is_quiet_log(statement) {
            return Reaction::Handled;
        }
        reaction = Reaction::QuietLog;
    }
    reaction
}

/// Judge a callback body in a brace language, given the name of its error parameter:
/// find the branch taken on error (`if (e != null) {..}`, `if err != nil {..}`,
/// `if (e == null) {..} else {..}`, `e?.let {..}`) and judge it; without such a branch, judge
/// the statements that mention the error.
pub fn callback(source: &Source, body: std::ops::Range<usize>, error: &str) -> Reaction {
    let code = &source.code()[body.clone()];
    if error == "_" || !mentions(code, error) {
        return Reaction::Ignored;
    }
    let escaped = regex::escape(error);
    let on_error = Regex::new(&format!(
        r"\bif\s*(?:\(\s*(?:null\s*!==?\s*{escaped}|{escaped}\s*!==?\s*(?:null|nil|undefined)|{escaped})\s*\)|{escaped}\s*!=\s*nil)|\b{escaped}\s*\?\.\s*let\b"
    ))
    .expect("escaped identifier");
    if let Some(found) = on_error.find(code) {
        return classify(branch(source, body.start + found.end()));
    }
    let on_success = Regex::new(&format!(
        r"\bif\s*\(\s*(?:{escaped}\s*===?\s*(?:null|undefined)|null\s*===?\s*{escaped}|!\s*{escaped})\s*\)\s*\{{"
    ))
    .expect("escaped identifier");
    if let Some(found) = on_success.find(code) {
        let then_open = body.start + found.end() - 1;
        if let Some(else_open) = else_block(source, then_open) {
            return classify(source.statements(else_open));
        }
    }
    let statements = source.statements_between(body.start, body.end);
    classify(
        statements
            .into_iter()
            .filter(|statement| mentions(statement, error)),
    )
}

/// The statements of the branch that starts at `from`: a `{ ... }` block, or the single
/// statement of a brace-less `if (e != null) log.debug(...)`.
fn branch(source: &Source, from: usize) -> Vec<&str> {
    let start = source.skip_whitespace(from);
    if source.code()[start..].starts_with('{') {
        return source.statements(start);
    }
    let end = source.context(start, start).end;
    vec![source.code()[start..end].trim()]
}

/// The `{` of the `else` block after the block opened at `then_open`, if any.
pub fn else_block(source: &Source, then_open: usize) -> Option<usize> {
    let then_close = source.partner(then_open)?;
    let rest = &source.code()[then_close + 1..];
    let trimmed = rest.trim_start();
    let after_else = trimmed.strip_prefix("else")?.trim_start();
    if !after_else.starts_with('{') {
        return None;
    }
    Some(source.code().len() - after_else.len())
}

/// The reactions of the `catch` blocks of every `try` around `at`, with the offset of each
/// `catch`: a send awaited inside `try { .. } catch (e) { log.debug(..) }` hides its error
/// there.
pub fn enclosing_catches(source: &Source, at: usize) -> Vec<(usize, Reaction)> {
    static CATCH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*catch\s*(?:\(\s*(?:[\w.|\s]+\s+)?\w+\s*(?::\s*[\w.|\s]+)?\)\s*)?\{")
            .expect("valid regex")
    });
    let mut reactions = Vec::new();
    for open in source.enclosing_braces(at) {
        let header = source.header(open);
        if !(header == "try" || header.starts_with("try (") || header.starts_with("try(")) {
            continue;
        }
        let Some(mut close) = source.partner(open) else {
            continue;
        };
        while let Some(found) = CATCH.captures(&source.code()[close + 1..]) {
            let whole = found.get(0).expect("match");
            let catch_at = close
                + 1
                + whole.start()
                + (whole.as_str().len() - whole.as_str().trim_start().len());
            let catch_open = close + whole.end();
            let Some(catch_close) = source.partner(catch_open) else {
                break;
            };
            // A `catch` block runs only on failure: whatever it does (count the failure,
            // record it, rethrow) is its reaction, whether or not it names the exception.
            // Only an empty block (or `return`, `pass`) ignores it.
            let reaction = classify(source.statements(catch_open));
            reactions.push((catch_at, reaction));
            close = catch_close;
        }
    }
    reactions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{GO, JAVA, JAVASCRIPT};

    #[test]
    fn debug_and_trace_calls_are_quiet_in_every_dialect() {
        for quiet in [
            "log.debug(\"failed\", e)",
            "LOGGER.trace(\"x\")",
            "logger.fine(e.getMessage())",
            "log.Debugf(\"x %v\", err)",
            "slog.Debug(\"x\", \"err\", err)",
            "debug!(\"x {e}\")",
            "tracing::trace!(error = %e)",
            "console.debug(err)",
            "logger.log(Level.FINE, \"x\", e)",
            "logger.debug { \"x\" }",
            "self._log.debug(\"x\")",
            "if (log.isDebugEnabled()) { log.debug(\"x\", e); }",
        ] {
            assert!(is_quiet_log(quiet), "{quiet}");
        }
        for loud in [
            "log.error(\"x\", e)",
            "log.warn(\"x\")",
            "throw new RuntimeException(e)",
            "metrics.increment(\"x\")",
            "debugger.attach()",
            "log.Printf(\"x %v\", err)",
        ] {
            assert!(!is_quiet_log(loud), "{loud}");
        }
    }

    #[test]
    fn classification() {
        assert_eq!(classify([]), Reaction::Ignored);
        assert_eq!(classify(["return;"]), Reaction::Ignored);
        assert_eq!(classify(["log.debug(x)", "return"]), Reaction::QuietLog);
        assert_eq!(
            classify(["log.debug(x)", "failed.inc()"]),
            Reaction::Handled
        );
    }

    fn judge(text: &str, syntax: &crate::source::Syntax, error: &str) -> Reaction {
        let source = Source::new(text, syntax);
        let open = text.find('{').unwrap();
        let close = source.partner(open).unwrap();
        callback(&source, open + 1..close, error)
    }

    #[test]
    fn callback_bodies() {
        let quiet = "{ if (exception != null) { log.debug(\"send failed\", exception); } }";
        assert_eq!(judge(quiet, &JAVA, "exception"), Reaction::QuietLog);
        let loud = "{ if (e != null) { log.error(\"send failed\", e); failures.increment(); } }";
        assert_eq!(judge(loud, &JAVA, "e"), Reaction::Handled);
        let ignored = "{ latch.countDown(); }";
        assert_eq!(judge(ignored, &JAVA, "e"), Reaction::Ignored);
        let inverted = "{ if (e == null) { sent++; } else { log.trace(\"x\", e); } }";
        assert_eq!(judge(inverted, &JAVA, "e"), Reaction::QuietLog);
        let go = "{ if err != nil {\n\tlog.Debugf(\"x %v\", err)\n} }";
        assert_eq!(judge(go, &GO, "err"), Reaction::QuietLog);
        let braceless = "{ if (e != null) log.debug(\"x\", e)\n sent++ }";
        assert_eq!(
            judge(braceless, &crate::source::KOTLIN, "e"),
            Reaction::QuietLog
        );
        let unbranched = "{ log.debug(\"sent\", m, e) }";
        assert_eq!(judge(unbranched, &JAVASCRIPT, "e"), Reaction::QuietLog);
    }

    #[test]
    fn catch_blocks_around_a_call() {
        let text = "async function f() {\n try {\n  await producer.send(m)\n } catch (err) {\n  logger.debug('x', err)\n }\n}";
        let source = Source::new(text, &JAVASCRIPT);
        let at = text.find("producer").unwrap();
        let catches = enclosing_catches(&source, at);
        assert_eq!(catches.len(), 1);
        assert_eq!(source.line(catches[0].0), 4);
        assert_eq!(catches[0].1, Reaction::QuietLog);
    }
}
