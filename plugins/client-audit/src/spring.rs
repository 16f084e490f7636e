//! Spring for Apache Kafka: `KafkaTemplate` / `KafkaOperations`, in Java and Kotlin.
//!
//! `template.send(...)` hands the record to a `KafkaProducer` and returns at once: a
//! `ListenableFuture<SendResult>` up to 2.9, a `CompletableFuture<SendResult>` from 3.0
//! (`KafkaOperations.send`/`sendDefault` in spring-kafka's `core` package). A failed
//! delivery is seen only through that future. What this module flags, for both:
//!
//! - **unchecked send**: the future dropped (not assigned, returned, passed on, chained); a
//!   `whenComplete`/`handle` callback that never looks at its exception; a `thenAccept` /
//!   `thenApply` / `thenRun` chain with nothing for the failure; a 2.x `addCallback(ok, fail)`
//!   or 3.x `exceptionally` whose failure branch is empty; a `.get()` whose `catch` is empty.
//! - **errors hidden**: any of those failure branches whose only reaction is a debug log.
//!
//! The template itself is a Spring bean whose producer factory Spring closes and flushes:
//! there is nothing to close here. A template obtained under another type (`var t =
//! ctx.getBean(...)`) is not followed, nor is a send inside `executeInTransaction` (its
//! failure fails the transaction).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::java::Dialect;
use crate::model::{FileAudit, Issue, Kind};
use crate::reaction::{self, Reaction};
use crate::source::{Source, ends_with_assignment, last_identifier, offset_in, split_arguments};

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

static JAVA_TYPED: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\bKafka(?:Template|Operations)\s*<[^;(){}=]*>\s+([A-Za-z_]\w*)\s*[;=,)]")
});
static KOTLIN_TYPED: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b([A-Za-z_]\w*)\s*:\s*(?:[\w.]+\.)?Kafka(?:Template|Operations)\s*<")
});
static SEND: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b(?:this\s*\.\s*)?([A-Za-z_]\w*)\s*(?:\?|!!)?\s*\.\s*(send|sendDefault)\s*\(")
});
/// `(result, ex) ->` (Java) or `{ result, ex ->` (Kotlin): the exception's name.
static TWO_PARAMETER_LAMBDA: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:\(?\s*(?:[\w<>\[\]?.]+\s+)?\w+\s*,\s*(?:[\w<>\[\]?.]+\s+)?(\w+)\s*\)?\s*->\s*|\{\s*\w+(?:\s*:\s*[\w?<>.]+)?\s*,\s*(\w+)(?:\s*:\s*[\w?<>.]+)?\s*->\s*)",
    )
});
/// `ex ->`, `(Throwable ex) ->` (Java) or `{ ex ->` (Kotlin).
static ONE_PARAMETER_LAMBDA: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:\(?\s*(?:[\w<>\[\]?.]+\s+)?\w+\s*\)?\s*->\s*|\{\s*\w+(?:\s*:\s*[\w?<>.]+)?\s*->\s*)",
    )
});

/// Calls whose lambda's value is thrown away: a future returned there is dropped.
const DISCARDING: &[&str] = &[
    "forEach",
    "forEachOrdered",
    "ifPresent",
    "peek",
    "onEach",
    "execute",
    "Thread",
    "runAsync",
    "scheduleAtFixedRate",
    "scheduleWithFixedDelay",
];

/// Audit the `KafkaTemplate` sends of one Java or Kotlin file into `audit`.
pub fn audit(source: &Source, dialect: Dialect, audit: &mut FileAudit) {
    if !source.text().contains("org.springframework.kafka") {
        return;
    }
    let typed: &Regex = match dialect {
        Dialect::Java => &JAVA_TYPED,
        Dialect::Kotlin => &KOTLIN_TYPED,
    };
    let names: BTreeSet<String> = typed
        .captures_iter(source.code())
        .map(|c| c[1].to_owned())
        .collect();
    if audit.calls.is_empty() {
        audit.calls = source.calls();
    }
    let spring = Spring { source };
    for found in SEND.captures_iter(source.code()) {
        let name = &found[1];
        if !names.contains(name) {
            continue;
        }
        let whole = found.get(0).expect("match");
        let Some(close) = source.partner(whole.end() - 1) else {
            continue;
        };
        audit.send_sites += 1;
        let call = format!("{name}.{}", &found[2]);
        spring.judge(&call, whole.start(), close, audit);
    }
}

struct Spring<'a> {
    source: &'a Source,
}

impl Spring<'_> {
    fn code(&self) -> &str {
        self.source.code()
    }

    /// What happens to the future of the send spanning `start..=close`.
    fn judge(&self, call: &str, start: usize, close: usize, audit: &mut FileAudit) {
        let line = self.source.line(start);
        let context = self.source.context(start, close + 1);
        let chain = context.after;
        if chain.starts_with(".get(") || chain.starts_with(".join(") {
            for (catch_at, reaction) in reaction::enclosing_catches(self.source, start) {
                report(reaction, self.source.line(catch_at), call, audit);
            }
            return;
        }
        if chain.starts_with('.') {
            self.judge_chain(call, line, chain, audit);
            return;
        }
        if let Some(paren) = context.enclosing {
            let callee = last_identifier(&self.code()[..paren]);
            if !(context.before.ends_with("->") && DISCARDING.contains(&callee)) {
                return;
            }
        } else if context.before.starts_with("return") || ends_with_assignment(context.before) {
            return;
        }
        audit.issues.push(Issue::new(
            Kind::UncheckedSend,
            line,
            format!(
                "`{call}(...)` drops the future it returns (a CompletableFuture in Spring Kafka \
                 3.x, a ListenableFuture in 2.x): a failed send is never seen"
            ),
            format!(
                "Chain a handler that logs the failure at ERROR — `{call}(...).whenComplete((r, \
                 ex) -> {{ if (ex != null) log.error(\"send failed\", ex); }})` (3.x) or \
                 `.addCallback(r -> {{}}, ex -> log.error(\"send failed\", ex))` (2.x) — or \
                 `.get(10, TimeUnit.SECONDS)` where blocking is acceptable."
            ),
        ));
    }

    /// `.whenComplete(...)`, `.handle(...)`, `.exceptionally(...)`, `.addCallback(...)`,
    /// `.thenAccept(...)`: is the failure looked at?
    fn judge_chain(&self, call: &str, line: usize, chain: &str, audit: &mut FileAudit) {
        let code = self.code();
        let mut dot = offset_in(code, chain);
        let chain_end = dot + chain.len();
        loop {
            let method: String = code[dot + 1..chain_end]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let open = self.source.skip_whitespace(dot + 1 + method.len());
            if open >= chain_end || !matches!(code.as_bytes()[open], b'(' | b'{') {
                return;
            }
            let Some(close) = self.source.partner(open) else {
                return;
            };
            let arguments = if code.as_bytes()[open] == b'{' {
                vec![&code[open..=close]]
            } else {
                split_arguments(&code[open + 1..close])
            };
            match method.as_str() {
                "whenComplete" | "handle" | "whenCompleteAsync" | "handleAsync" => {
                    let Some(lambda) = arguments.first().copied() else {
                        return;
                    };
                    let Some(found) = TWO_PARAMETER_LAMBDA.captures(lambda) else {
                        return; // a named BiConsumer: not followed
                    };
                    let error = found.get(1).or(found.get(2)).expect("a group").as_str();
                    let body = self.body(lambda, found.get(0).expect("match").end());
                    let reaction = reaction::callback(self.source, body, error);
                    report(reaction, line, call, audit);
                    return;
                }
                "exceptionally" | "addCallback" => {
                    let failure = match (method.as_str(), arguments.as_slice()) {
                        ("addCallback", [_, failure, ..]) => *failure,
                        ("exceptionally", [failure, ..]) => *failure,
                        // A ListenableFutureCallback object: not followed.
                        _ => return,
                    };
                    let Some(found) = ONE_PARAMETER_LAMBDA.captures(failure) else {
                        return;
                    };
                    let body = self.body(failure, found.get(0).expect("match").end());
                    // The failure branch runs only on failure: whatever it does is its
                    // reaction.
                    let reaction =
                        reaction::classify(self.source.statements_between(body.start, body.end));
                    report(reaction, line, call, audit);
                    return;
                }
                "thenAccept" | "thenApply" | "thenRun" | "thenCompose" => {}
                _ => return,
            }
            let next = self.source.skip_whitespace(close + 1);
            if next >= chain_end || code.as_bytes()[next] != b'.' {
                break;
            }
            dot = next;
        }
        // Only success stages were chained (a failure stage returns above).
        audit.issues.push(Issue::new(
            Kind::UncheckedSend,
            line,
            format!(
                "`{call}(...)` is only followed on success (`thenAccept`/`thenApply`): a \
                 failed send is never seen"
            ),
            "Add `.exceptionally(ex -> { log.error(\"send failed\", ex); return null; })` \
             or use `whenComplete((r, ex) -> ...)` and check `ex`.",
        ));
    }

    /// The body of a lambda (a slice of the code) whose parameters end at `after_arrow`:
    /// inside its braces, or the expression.
    fn body(&self, lambda: &str, after_arrow: usize) -> std::ops::Range<usize> {
        let start = offset_in(self.code(), lambda) + after_arrow;
        let start = self.source.skip_whitespace(start);
        if self.code()[start..].starts_with('{') {
            return start + 1..self.source.partner(start).unwrap_or(start + 1);
        }
        let end = offset_in(self.code(), lambda) + lambda.len();
        // A Kotlin trailing lambda ends with its own `}`.
        let end = if lambda.ends_with('}') && lambda.starts_with('{') {
            end - 1
        } else {
            end
        };
        start..end.max(start)
    }
}

fn report(reaction: Reaction, line: usize, call: &str, audit: &mut FileAudit) {
    match reaction {
        Reaction::Handled => {}
        Reaction::Ignored => audit.issues.push(Issue::new(
            Kind::UncheckedSend,
            line,
            format!(
                "The failure of `{call}(...)` reaches a handler that ignores it: a failed send \
                 looks like a success"
            ),
            "In the handler, check the exception (`if (ex != null)`) and log it at ERROR, count \
             it, or retry.",
        )),
        Reaction::QuietLog => audit.issues.push(Issue::new(
            Kind::ErrorsHidden,
            line,
            format!(
                "Failures of `{call}(...)` are only logged at debug level: invisible at \
                 production log levels"
            ),
            "Log send failures at ERROR (or WARN) with the exception, and count them in a \
             metric so that lost messages raise an alert.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::settled_in_one_file;
    use crate::source::{JAVA, KOTLIN};

    fn issues(text: &str, dialect: Dialect) -> Vec<(Kind, usize)> {
        let syntax = match dialect {
            Dialect::Java => &JAVA,
            Dialect::Kotlin => &KOTLIN,
        };
        let source = Source::new(text, syntax);
        let mut audit = FileAudit::default();
        super::audit(&source, dialect, &mut audit);
        settled_in_one_file("X.java", "file:X.java", audit)
    }

    #[test]
    fn template_futures_in_java() {
        let text = r#"import org.springframework.kafka.core.KafkaTemplate;
class Events {
    private final KafkaTemplate<String, String> template;
    void a(String v) {
        template.send("t", v);
        template.send("t", v).whenComplete((r, ex) -> sent++);
        template.send("t", v).whenComplete((r, ex) -> { if (ex != null) log.debug("x", ex); });
        template.send("t", v).whenComplete((r, ex) -> { if (ex != null) log.error("x", ex); });
        template.send("t", v).thenAccept(r -> sent++);
        template.send("t", v).addCallback(r -> sent++, ex -> log.error("x", ex));
        template.send("t", v).addCallback(r -> sent++, ex -> {});
        var f = template.send("t", v);
        values.forEach(x -> template.send("t", x));
        template.send("t", v).thenAccept(r -> sent++).exceptionally(ex -> { failed++; return null; });
    }
}
"#;
        assert_eq!(
            issues(text, Dialect::Java),
            [
                (Kind::UncheckedSend, 5),
                (Kind::UncheckedSend, 6),
                (Kind::ErrorsHidden, 7),
                (Kind::UncheckedSend, 9),
                (Kind::UncheckedSend, 11),
                (Kind::UncheckedSend, 13)
            ]
        );
    }

    #[test]
    fn template_futures_in_kotlin() {
        let text = r#"import org.springframework.kafka.core.KafkaTemplate
class Events(private val template: KafkaTemplate<String, String>) {
    fun a(v: String) {
        template.send("t", v)
        template.send("t", v).whenComplete { _, ex -> if (ex != null) log.error("x", ex) }
    }
}
"#;
        assert_eq!(issues(text, Dialect::Kotlin), [(Kind::UncheckedSend, 4)]);
    }
}
