//! Rust: rdkafka (`FutureProducer`, `BaseProducer`, `ThreadedProducer`).
//!
//! - **FutureProducer** `send(record, timeout)` is an `async fn`: until it is awaited nothing
//!   happens, not even the enqueue. Flagged: a send never awaited (nor stored, returned or
//!   passed on); an awaited result discarded (`let _ = ...await`, `...await;`); a
//!   `send_result` whose `DeliveryFuture` is dropped; an `Err(..)` arm or `if let Err(..)`
//!   that does nothing (unchecked) or only `debug!`/`trace!`s (errors hidden).
//! - **BaseProducer / ThreadedProducer** `send` returns whether the record was *queued*;
//!   the delivery result goes to the context's `delivery` callback. Flagged: the queue
//!   result ignored (`let _ =`, a bare statement, `.ok()`); a producer built with `create()`,
//!   whose `DefaultProducerContext` discards delivery failures (unchecked send); a
//!   `ProducerContext::delivery` that never looks at the error or only debug-logs it; no
//!   `flush` (**no flush**: dropping the producer purges what is queued); a `BaseProducer`
//!   never `poll`ed (**no poll**) when it is a struct field, sends in a loop, or is not
//!   flushed either (`flush` polls). `ThreadedProducer` polls on its own thread.
//!
//! Producers are recognised by type (`producer: FutureProducer`, `create::<BaseProducer>()`,
//! a function returning one); a producer hidden behind a type alias or a generic is not.
//! Nothing is "not closed" in Rust: dropping a producer closes it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::model::{FileAudit, Issue, Kind};
use crate::reaction::{self, Reaction};
use crate::source::{Context, Source, ends_with_assignment, mentions};

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

/// The three producer types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Future,
    Base,
    Threaded,
}

impl Flavour {
    fn from_type(text: &str) -> Option<Flavour> {
        let found = PRODUCER_TYPE.find(text)?;
        Some(match found.as_str() {
            "FutureProducer" => Flavour::Future,
            "BaseProducer" => Flavour::Base,
            _ => Flavour::Threaded,
        })
    }

    fn type_name(self) -> &'static str {
        match self {
            Flavour::Future => "FutureProducer",
            Flavour::Base => "BaseProducer",
            Flavour::Threaded => "ThreadedProducer",
        }
    }
}

static PRODUCER_TYPE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:FutureProducer|BaseProducer|ThreadedProducer)\b"));
static TYPED: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b([A-Za-z_]\w*)\s*:\s*&?\s*(?:'\w+\s+)?(?:mut\s+)?(?:Arc\s*<\s*)?(?:[\w:]+::)?((?:FutureProducer|BaseProducer|ThreadedProducer)\b[^,;=){]*)",
    )
});
static CREATE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\.\s*create(_with_context)?\s*(?:::\s*<([^>]*(?:<[^>]*>)?[^>]*)>\s*)?\(")
});
static LET_BINDING: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^let\s+(?:mut\s+)?([A-Za-z_]\w*)\s*(?::\s*([^=]+))?="));
static FIELD_BINDING: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[,{]\s*)([A-Za-z_]\w*)\s*:\s*ClientConfig\b"));
static RETURN_TYPE: LazyLock<Regex> = LazyLock::new(|| regex(r"->\s*([^{]+)$"));
static SEND: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:self\s*\.\s*)?([A-Za-z_]\w*)\s*\.\s*(send_result|send)\s*\("));
static DISCARD: LazyLock<Regex> = LazyLock::new(|| regex(r"^let\s+_\s*(?::[^=]*)?=$"));
static DELIVERY: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\bfn\s+delivery\s*\(\s*&\s*self\s*,\s*([A-Za-z_]\w*)\s*:\s*&\s*DeliveryResult\b[^{]*\{")
});
static ERR_PATTERN: LazyLock<Regex> = LazyLock::new(|| regex(r"\bErr\s*\("));

/// Audit one Rust file.
pub fn audit(source: &Source) -> FileAudit {
    let mut audit = FileAudit {
        calls: source.calls(),
        ..FileAudit::default()
    };
    if !source.text().contains("rdkafka") {
        return audit;
    }
    let rust = Rust { source };
    let mut producers: BTreeMap<String, Flavour> = TYPED
        .captures_iter(source.code())
        .filter_map(|c| Some((c[1].to_owned(), Flavour::from_type(&c[2])?)))
        .collect();
    let created = rust.creations(&mut producers, &mut audit);
    let loops = rust.sends(&producers, &mut audit);
    rust.deliveries(&mut audit);
    for creation in created {
        rust.duties(&creation, loops.contains(&creation.name), &mut audit);
    }
    audit
}

/// A producer built in this file.
struct Creation {
    name: String,
    flavour: Flavour,
    line: usize,
    /// Built into a struct field: lives as long as its owner.
    field: bool,
}

struct Rust<'a> {
    source: &'a Source,
}

impl Rust<'_> {
    fn code(&self) -> &str {
        self.source.code()
    }

    /// `ClientConfig::new()...create()` calls that build a producer.
    fn creations(
        &self,
        producers: &mut BTreeMap<String, Flavour>,
        audit: &mut FileAudit,
    ) -> Vec<Creation> {
        let mut created = Vec::new();
        for found in CREATE.captures_iter(self.code()) {
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            let context = self.source.context(whole.start(), close + 1);
            // Quote the statement's first line (`let producer: BaseProducer = ...`), not `.create()`.
            let line = self.source.line(self.source.skip_whitespace(context.start));
            let (name, field, annotation) =
                if let Some(binding) = LET_BINDING.captures(context.before) {
                    (
                        Some(binding[1].to_owned()),
                        false,
                        binding.get(2).map(|m| m.as_str()),
                    )
                } else if let Some(binding) = FIELD_BINDING.captures(context.before) {
                    (Some(binding[1].to_owned()), true, None)
                } else {
                    (None, false, None)
                };
            let flavour = found
                .get(2)
                .and_then(|turbofish| Flavour::from_type(turbofish.as_str()))
                .or_else(|| annotation.and_then(Flavour::from_type))
                .or_else(|| name.as_ref().and_then(|n| producers.get(n).copied()))
                .or_else(|| self.returned_type(whole.start()));
            let Some(flavour) = flavour else {
                continue; // a consumer or an admin client
            };
            audit.producers += 1;
            let default_context = found.get(1).is_none();
            if default_context && flavour != Flavour::Future {
                audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    line,
                    format!(
                        "{} built with `create()` uses `DefaultProducerContext`, which discards \
                         delivery reports: failed deliveries are never seen",
                        flavour.type_name()
                    ),
                    "Implement `ProducerContext::delivery` to log failures at error level (and \
                     count them), and build the producer with `create_with_context(context)`.",
                ));
            }
            if let Some(name) = name {
                producers.insert(name.clone(), flavour);
                created.push(Creation {
                    name,
                    flavour,
                    line,
                    field,
                });
            }
        }
        created
    }

    /// The producer type a function around `at` returns, if any.
    fn returned_type(&self, at: usize) -> Option<Flavour> {
        self.source.enclosing_braces(at).find_map(|open| {
            let header = self.source.header(open);
            header
                .contains("fn ")
                .then(|| RETURN_TYPE.captures(header))
                .flatten()
                .and_then(|r| Flavour::from_type(&r[1]))
        })
    }

    /// Every send on a known producer, judged; returns the producers that send in a loop.
    fn sends(&self, producers: &BTreeMap<String, Flavour>, audit: &mut FileAudit) -> Vec<String> {
        let mut in_loop = Vec::new();
        for found in SEND.captures_iter(self.code()) {
            let name = &found[1];
            let Some(&flavour) = producers.get(name) else {
                continue;
            };
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            audit.send_sites += 1;
            if self.in_loop(whole.start()) {
                in_loop.push(name.to_owned());
            }
            let line = self.source.line(whole.start());
            let context = self.source.context(whole.start(), close + 1);
            let method = &found[2];
            let problem = match (flavour, method) {
                (Flavour::Future, "send") => self.judge_future_send(&context),
                _ => self.judge_queue_result(&context),
            };
            if let Some(problem) = problem {
                audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    line,
                    format!("`{name}.{method}(...)`: {problem}"),
                    match flavour {
                        Flavour::Future => format!(
                            "Await the send and handle the error: `match {name}.send(record, \
                             timeout).await {{ Ok(_) => {{}}, Err((e, _)) => error!(\"delivery \
                             failed: {{e}}\") }}`."
                        ),
                        _ => format!(
                            "Handle the enqueue error (`if let Err((e, record)) = \
                             {name}.send(record) {{ error!(\"enqueue failed: {{e}}\"); ... }}`), \
                             retrying after a `poll` on `QueueFull`."
                        ),
                    },
                ));
            } else {
                self.judge_error_arms(context.start..context.end, audit);
            }
        }
        in_loop
    }

    /// `FutureProducer::send`: what is wrong with how its future is used, if anything.
    fn judge_future_send(&self, context: &Context<'_>) -> Option<&'static str> {
        let Some(rest) = context.after.strip_prefix(".await") else {
            return (!self.kept(context) || DISCARD.is_match(context.before))
                .then_some("the future is never awaited, so the record is never even queued");
        };
        let rest = rest.trim_start();
        if DISCARD.is_match(context.before) {
            return Some("the delivery result is discarded with `let _ =`");
        }
        let chained = rest.starts_with('?') || (rest.starts_with('.') && rest != ".ok()");
        if chained || rest.starts_with('{') || self.kept(context) || branches(context.before) {
            return None;
        }
        Some("the delivery result is dropped: a failed delivery is never seen")
    }

    /// `send_result`, and `BaseProducer`/`ThreadedProducer::send`: the enqueue result.
    fn judge_queue_result(&self, context: &Context<'_>) -> Option<&'static str> {
        if DISCARD.is_match(context.before) {
            return Some(
                "the result is discarded with `let _ =`: a record that was not queued is lost silently",
            );
        }
        let rest = context.after;
        let chained = rest.starts_with('?') || (rest.starts_with('.') && rest != ".ok()");
        if chained || self.kept(context) || branches(context.before) {
            return None;
        }
        Some("the result is ignored: a record that was not queued is lost silently")
    }

    /// Is the value kept: bound to a name, returned, passed on, an arm's value, or the
    /// value of its block (`tokio::spawn(async move { producer.send(r, t).await })`)?
    fn kept(&self, context: &Context<'_>) -> bool {
        let tail = self.code().as_bytes().get(context.end) == Some(&b'}');
        tail || context.enclosing.is_some()
            || context.before.starts_with("return")
            || context.before.ends_with("=>")
            || (ends_with_assignment(context.before) && !DISCARD.is_match(context.before))
    }

    /// `Err(..) => ...` arms and `if let Err(..) = ... { }` blocks in `range`.
    fn judge_error_arms(&self, range: std::ops::Range<usize>, audit: &mut FileAudit) {
        for found in ERR_PATTERN.find_iter(&self.code()[range.clone()]) {
            let open = range.start + found.end() - 1;
            let Some(close) = self.source.partner(open) else {
                continue;
            };
            let after = self.code()[close + 1..].trim_start();
            let statements = if let Some(arm) = after.strip_prefix("=>") {
                let body = arm.trim_start();
                let at = self.code().len() - body.len();
                if body.starts_with('{') {
                    self.source.statements(at)
                } else {
                    let end = self.source.context(at, at).end;
                    vec![self.code()[at..end].trim()]
                }
            } else if self.code()[..range.start + found.start()]
                .trim_end()
                .ends_with("let")
            {
                match self.block_after(close + 1) {
                    Some(block) => self.source.statements(block),
                    None => continue,
                }
            } else {
                continue;
            };
            let line = self.source.line(range.start + found.start());
            report_reaction(reaction::classify(statements), line, audit);
        }
    }

    /// The `{` that opens the block of an `if let` / `while let` whose pattern ends at `from`.
    fn block_after(&self, from: usize) -> Option<usize> {
        let code = self.code().as_bytes();
        let mut i = from;
        while i < code.len() {
            match code[i] {
                b'(' | b'[' => i = self.source.partner(i)? + 1,
                b'{' => return Some(i),
                b';' | b'}' => return None,
                _ => i += 1,
            }
        }
        None
    }

    /// `impl ProducerContext`'s `delivery`: does it look at failures, and how?
    fn deliveries(&self, audit: &mut FileAudit) {
        for found in DELIVERY.captures_iter(self.code()) {
            let whole = found.get(0).expect("match");
            let open = whole.end() - 1;
            let Some(close) = self.source.partner(open) else {
                continue;
            };
            let body = &self.code()[open..close];
            if ERR_PATTERN.is_match(body) {
                self.judge_error_arms(open..close, audit);
            } else if !mentions(body, &found[1]) {
                report_reaction(Reaction::Ignored, self.source.line(whole.start()), audit);
            }
        }
    }

    /// Producer-level duties: flush before drop, and poll.
    fn duties(&self, creation: &Creation, sends_in_loop: bool, audit: &mut FileAudit) {
        let Creation {
            name,
            flavour,
            line,
            field,
        } = creation;
        let (name, line) = (name.as_str(), *line);
        if *flavour == Flavour::Future {
            return;
        }
        audit.issues.push(
            Issue::new(
                Kind::NoFlush,
                line,
                format!(
                    "{} `{name}` is never flushed: records still queued when it is dropped are \
                     purged, never delivered",
                    flavour.type_name()
                ),
                format!(
                    "Call `{name}.flush(Duration::from_secs(10))` before dropping the producer \
                     (on shutdown) and log its error."
                ),
            )
            .unless(&[name], &["flush"])
            .about_producer(line),
        );
        if *flavour == Flavour::Base {
            let polled_by: &'static [&'static str] = if *field || sends_in_loop {
                &["poll"]
            } else {
                &["poll", "flush"]
            };
            audit.issues.push(
                Issue::new(
                    Kind::NoPoll,
                    line,
                    format!(
                        "BaseProducer `{name}` is never polled: delivery callbacks never run and \
                         the queue fills until sends fail with QueueFull"
                    ),
                    format!(
                        "Call `{name}.poll(Duration::ZERO)` after each send (or use a \
                         `ThreadedProducer`, which polls on its own thread)."
                    ),
                )
                .unless(&[name], polled_by)
                .about_producer(line),
            );
        }
    }

    fn in_loop(&self, at: usize) -> bool {
        for open in self.source.enclosing_braces(at) {
            let header = self.source.header(open);
            if header.starts_with("for ") || header.starts_with("while ") || header == "loop" {
                return true;
            }
            if header.contains("fn ") {
                return false;
            }
        }
        false
    }
}

/// Is the value the scrutinee of a `match` or `if let` (whose arms are judged separately)?
fn branches(before: &str) -> bool {
    before.starts_with("match") || before.starts_with("if let") || before.starts_with("while let")
}

fn report_reaction(reaction: Reaction, line: usize, audit: &mut FileAudit) {
    match reaction {
        Reaction::Handled => {}
        Reaction::Ignored => audit.issues.push(Issue::new(
            Kind::UncheckedSend,
            line,
            "Delivery errors reach this point and are ignored: a failed delivery looks like a \
             success",
            "Log the error at error level (`error!(\"delivery failed: {e}\")`), count it, or \
             retry.",
        )),
        Reaction::QuietLog => audit.issues.push(Issue::new(
            Kind::ErrorsHidden,
            line,
            "Delivery failures are only logged at debug/trace level: invisible at production \
             log levels",
            "Log delivery failures with `error!` (or `warn!`) including the error, and count \
             them in a metric so that lost records raise an alert.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::settled_in_one_file;
    use crate::source::RUST;

    fn issues(text: &str) -> Vec<(Kind, usize)> {
        settled_in_one_file("x.rs", "file:x.rs", audit(&Source::new(text, &RUST)))
    }

    #[test]
    fn future_producer_sends() {
        let text = r#"use rdkafka::producer::{FutureProducer, FutureRecord};

pub struct Publisher {
    producer: FutureProducer,
}

fn spawned(producer: FutureProducer) {
    tokio::spawn(async move { producer.send(FutureRecord::to("t"), TIMEOUT).await });
}

impl Publisher {
    pub async fn publish(&self, key: &str, payload: &[u8]) -> anyhow::Result<()> {
        self.producer.send(FutureRecord::to("t").key(key).payload(payload), TIMEOUT);
        let _ = self.producer.send(FutureRecord::to("t").payload(payload), TIMEOUT).await;
        self.producer.send(FutureRecord::to("t").payload(payload), TIMEOUT).await;
        self.producer.send(FutureRecord::to("t").payload(payload), TIMEOUT).await.map_err(|(e, _)| e)?;
        if let Err((e, _)) = self.producer.send(FutureRecord::to("t").payload(payload), TIMEOUT).await {
            debug!("delivery failed: {e}");
        }
        match self.producer.send(FutureRecord::to("t").payload(payload), TIMEOUT).await {
            Ok(_) => {}
            Err((e, _)) => error!("delivery failed: {e}"),
        }
        tokio::spawn(async move { producer.send(FutureRecord::to("t").payload(payload), TIMEOUT).await });
        Ok(())
    }
}
"#;
        assert_eq!(
            issues(text),
            [
                (Kind::UncheckedSend, 13),
                (Kind::UncheckedSend, 14),
                (Kind::UncheckedSend, 15),
                (Kind::ErrorsHidden, 17)
            ]
        );
    }

    #[test]
    fn base_producer_with_default_context_no_poll_no_flush() {
        let text = r#"use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord};

fn main() {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", "localhost:9092")
        .create()
        .expect("producer");
    for i in 0..100 {
        let _ = producer.send(BaseRecord::to("t").key("k").payload("v"));
        producer.send(BaseRecord::to("t").key("k").payload("v")).expect("queued");
    }
}
"#;
        assert_eq!(
            issues(text),
            [
                (Kind::UncheckedSend, 5),
                (Kind::NoFlush, 5),
                (Kind::NoPoll, 5),
                (Kind::UncheckedSend, 10)
            ]
        );
    }

    #[test]
    fn threaded_producer_with_a_context_that_logs_at_debug() {
        let text = r#"use rdkafka::producer::{DeliveryResult, ProducerContext, ThreadedProducer};

struct Quiet;

impl ProducerContext for Quiet {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: Self::DeliveryOpaque) {
        match result {
            Ok(_) => {}
            Err((e, _)) => tracing::debug!("delivery failed: {e}"),
        }
    }
}

fn build() -> ThreadedProducer<Quiet> {
    let producer = ClientConfig::new().create_with_context(Quiet).unwrap();
    producer.flush(Duration::from_secs(1)).unwrap();
    producer
}
"#;
        assert_eq!(issues(text), [(Kind::ErrorsHidden, 10)]);
    }
}
