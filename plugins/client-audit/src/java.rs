//! Java and Kotlin: the Apache Kafka client (`org.apache.kafka.clients.producer`).
//!
//! `KafkaProducer.send` only enqueues: it returns a `Future<RecordMetadata>` at once, and a
//! failure (an expired batch, an authorization error, a record too large) surfaces only
//! through that future or the callback. What this module flags:
//!
//! - **unchecked send**: `producer.send(record)` with no callback (or a `null` one) whose
//!   future is dropped — not assigned, returned, passed on, or chained (`.get()`), and the
//!   producer not transactional (a failed send makes `commitTransaction` throw); the same
//!   hidden in `forEach(producer::send)` or `forEach(r -> producer.send(r))`; a callback that
//!   never looks at its exception; a blocking `.get()` whose `catch` is empty.
//! - **no flush**: the producer's I/O thread is a daemon thread, so records still buffered
//!   when the JVM exits are dropped. Flagged for a producer created in `main` that is never
//!   flushed or closed, and for `System.exit` / `exitProcess` after a send with no flush or
//!   close before it (in the same method) and no shutdown hook that closes it.
//! - **not closed**: a producer this file creates and owns that is never closed. A producer
//!   returned (a factory, a Spring `@Bean`, which Spring closes) or handed to another object
//!   is not this file's to close; try-with-resources and Kotlin `use {}` close it.
//! - **errors hidden**: a callback (lambda or `onCompletion`) or `catch` around `.get()`
//!   whose only reaction to the exception is a debug/trace log.
//!
//! Producers are recognised by their declared type (`Producer<K, V> producer`,
//! `val producer: Producer<K, V>`) or their construction (`new KafkaProducer<>(...)`), so a
//! producer obtained from a method with an inferred type (`var p = factory.create()`) is not
//! followed. A send in a lambda given to something that discards its value (`forEach`, an
//! executor's `execute`, `new Thread(...)`, `scheduleAtFixedRate`) drops its future. Spring's
//! `KafkaTemplate` is judged in [`crate::spring`].

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::model::{FileAudit, Issue, Kind};
use crate::reaction::{self, Reaction};
use crate::source::{
    Context, Source, ends_with_assignment, last_identifier, offset_in, split_arguments,
};

/// Which of the two languages a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `.java`
    Java,
    /// `.kt`, `.kts`
    Kotlin,
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

static JAVA_TYPED: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:Kafka)?Producer\s*<[^;(){}=]*>\s+([A-Za-z_]\w*)\s*[;=,)]"));
static JAVA_ASSIGNED: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b([A-Za-z_]\w*)\s*=\s*new\s+(?:[\w.]+\.)?KafkaProducer\b"));
static KOTLIN_TYPED: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b([A-Za-z_]\w*)\s*:\s*(?:[\w.]+\.)?(?:Kafka)?Producer\s*<"));
static KOTLIN_ASSIGNED: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b([A-Za-z_]\w*)\s*(?::[^=\n]*)?=\s*(?:[\w.]+\.)?KafkaProducer\b"));
static JAVA_NEW: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\bnew\s+(?:[\w.]+\.)?KafkaProducer\s*(?:<[^;{}()]*>)?\s*\("));
static KOTLIN_NEW: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:[\w.]+\.)?KafkaProducer\s*(?:<[^;{}()]*>)?\s*\("));
static USE_PARAMETER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\.use\s*\{\s*(?:([A-Za-z_]\w*)\s*->)?"));
static SEND: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:this\s*\.\s*)?([A-Za-z_]\w*)\s*(?:\?|!!)?\s*\.\s*send\s*\("));
static BINDING: LazyLock<Regex> = LazyLock::new(|| regex(r"([A-Za-z_]\w*)\s*(?::[^=]*)?=$"));
static JAVA_LAMBDA: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^\(?\s*(?:[\w<>\[\]?.]+\s+)?\w+\s*,\s*(?:[\w<>\[\]?.]+\s+)?(\w+)\s*\)?\s*->\s*")
});
static KOTLIN_LAMBDA: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:Callback\s*)?\{\s*\w+(?:\s*:\s*[\w?<>.]+)?\s*,\s*(\w+)(?:\s*:\s*[\w?<>.]+)?\s*->")
});
static JAVA_ON_COMPLETION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\bonCompletion\s*\(\s*(?:final\s+)?(?:[\w.]+\.)?RecordMetadata\s+\w+\s*,\s*(?:final\s+)?(?:[\w.]+\.)?Exception\s+(\w+)\s*\)\s*\{",
    )
});
static KOTLIN_ON_COMPLETION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\bfun\s+onCompletion\s*\(\s*\w+\s*:\s*RecordMetadata\??\s*,\s*(\w+)\s*:\s*Exception\??\s*\)\s*\{",
    )
});
static EXIT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\bSystem\s*\.\s*exit\s*\(|\bRuntime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*(?:exit|halt)\s*\(|\bexitProcess\s*\(",
    )
});
static FOR_EACH_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\.\s*(?:forEach|forEachOrdered)\s*\(\s*(?:this\s*\.\s*)?([A-Za-z_]\w*)\s*::\s*send\s*\)",
    )
});
static KOTLIN_FUNCTION: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\bfun\s+(?:<[^>]*>\s*)?(?:[\w.]+\.)?(\w+)\s*\("));
static JAVA_METHOD: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[\s>\]])(\w+)\s*\([^()]*\)\s*(?:throws\s+[\w.,\s]+)?$"));

/// Calls whose lambda's value is thrown away: a future returned there is dropped.
/// Threads, executors and timers that take a `Runnable` discard it too.
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
/// Kotlin calls whose lambda's last expression is kept: a future there is collected.
const MAPPING: &[&str] = &[
    "map",
    "mapNotNull",
    "mapIndexed",
    "flatMap",
    "associateWith",
    "async",
    "supplyAsync",
    "submit",
];
/// Keywords whose `(...)` precedes a block without making it a method.
const CONTROL: &[&str] = &[
    "if",
    "for",
    "while",
    "switch",
    "catch",
    "synchronized",
    "try",
    "return",
    "new",
];

/// Audit one Java or Kotlin file.
pub fn audit(source: &Source, dialect: Dialect) -> FileAudit {
    let mut audit = FileAudit {
        calls: source.calls(),
        ..FileAudit::default()
    };
    if !source.text().contains("org.apache.kafka.clients.producer") {
        return audit;
    }
    let java = Java { source, dialect };
    let names = java.producer_names();
    let sends = java.sends(&names, &mut audit);
    java.constructions(&sends, &mut audit);
    java.callbacks(&mut audit);
    java.exits(&sends, &mut audit);
    audit
}

/// A send call on a known producer.
struct Send {
    producer: String,
    offset: usize,
    /// Blocks on the Future (`.get()`) right away.
    blocking: bool,
}

struct Java<'a> {
    source: &'a Source,
    dialect: Dialect,
}

impl Java<'_> {
    fn code(&self) -> &str {
        self.source.code()
    }

    fn kotlin(&self) -> bool {
        self.dialect == Dialect::Kotlin
    }

    /// Every variable, field or parameter declared as a producer.
    fn producer_names(&self) -> BTreeSet<String> {
        let patterns: [&Regex; 2] = if self.kotlin() {
            [&KOTLIN_TYPED, &KOTLIN_ASSIGNED]
        } else {
            [&JAVA_TYPED, &JAVA_ASSIGNED]
        };
        let mut names: BTreeSet<String> = patterns
            .iter()
            .flat_map(|p| p.captures_iter(self.code()))
            .map(|c| c[1].to_owned())
            .collect();
        if self.kotlin() {
            for found in KOTLIN_NEW.find_iter(self.code()) {
                let Some(close) = self.source.partner(found.end() - 1) else {
                    continue;
                };
                let after = self.code()[close + 1..].trim_start();
                if let Some(parameter) = USE_PARAMETER.captures(after) {
                    names.insert(parameter.get(1).map_or("it", |m| m.as_str()).to_owned());
                }
            }
        }
        names
    }

    /// Producers this file creates, and whether it closes (or, in `main`, flushes) them.
    fn constructions(&self, sends: &[Send], audit: &mut FileAudit) {
        let pattern: &Regex = if self.kotlin() {
            &KOTLIN_NEW
        } else {
            &JAVA_NEW
        };
        for found in pattern.find_iter(self.code()) {
            // `class Audited : KafkaProducer<..>(..)` names a supertype, not a construction.
            if self.code()[..found.start()].trim_end().ends_with(':') {
                continue;
            }
            let Some(close) = self.source.partner(found.end() - 1) else {
                continue;
            };
            audit.producers += 1;
            let line = self.source.line(found.start());
            let context = self.source.context(found.start(), close + 1);
            // Closed by `use {}` or try-with-resources, handed to a caller or another object:
            // nothing for this file to close.
            if context.after.starts_with(".use")
                || context.enclosing.is_some()
                || context.before.starts_with("return")
                || !ends_with_assignment(context.before)
            {
                continue;
            }
            let Some(binding) = BINDING.captures(context.before) else {
                continue;
            };
            let name = binding[1].to_owned();
            if self.escapes(&name) {
                continue;
            }
            let in_main = self
                .enclosing_function(found.start())
                .is_some_and(|(_, function)| function == "main");
            // A producer whose every send blocks on `.get()` holds nothing at exit.
            let buffers = sends
                .iter()
                .any(|send| send.producer == name && !send.blocking);
            let issue = if in_main && buffers {
                Issue::new(
                    Kind::NoFlush,
                    line,
                    format!(
                        "`{name}` is never flushed or closed before `main` returns: the \
                         producer's I/O thread is a daemon thread, so records still buffered \
                         are dropped when the JVM exits"
                    ),
                    if self.kotlin() {
                        format!(
                            "Wrap it in `use {{ }}` (`KafkaProducer<K, V>(props).use {{ {name} -> ... }}`) \
                             or call `{name}.close()` — which flushes — before `main` returns."
                        )
                    } else {
                        format!(
                            "Create it in try-with-resources (`try (var {name} = new \
                             KafkaProducer<K, V>(props)) {{ ... }}`) or call `{name}.close()` — \
                             which flushes — before `main` returns."
                        )
                    },
                )
                .unless(&[&name], &["close", "flush", "use"])
            } else {
                Issue::new(
                    Kind::NotClosed,
                    line,
                    format!(
                        "KafkaProducer `{name}` is never closed: records still buffered at \
                         shutdown are lost, and its threads and connections leak"
                    ),
                    format!(
                        "Close it when the application stops — `{name}.close()` in a \
                         `@PreDestroy`/`close()` method or a shutdown hook \
                         (`Runtime.getRuntime().addShutdownHook(new Thread({name}::close))`); \
                         `close()` flushes buffered records first."
                    ),
                )
                .unless(&[&name], &["close", "use"])
            };
            audit.issues.push(issue.about_producer(line));
        }
    }

    /// Is the producer handed over (passed as an argument, returned)? Then its owner closes it.
    fn escapes(&self, name: &str) -> bool {
        let name = regex::escape(name);
        regex(&format!(
            r"[(,]\s*(?:this\s*\.\s*)?{name}\s*[,)]|\breturn\s+(?:this\s*\.\s*)?{name}\b"
        ))
        .is_match(self.code())
    }

    /// The opening brace and name of the method or function around `at`.
    fn enclosing_function(&self, at: usize) -> Option<(usize, &str)> {
        self.source.enclosing_braces(at).find_map(|open| {
            let header = self.source.header(open);
            let name = if self.kotlin() {
                KOTLIN_FUNCTION
                    .captures(header)
                    .map(|c| c.get(1).expect("group 1").as_str())
            } else {
                JAVA_METHOD
                    .captures(header)
                    .map(|c| c.get(1).expect("group 1").as_str())
                    .filter(|name| !CONTROL.contains(name))
                    .filter(|_| !header.contains("new ") && !header.ends_with("->"))
            };
            name.map(|name| (open, name))
        })
    }

    /// Every `producer.send(...)`, judged.
    fn sends(&self, names: &BTreeSet<String>, audit: &mut FileAudit) -> Vec<Send> {
        let mut sends = Vec::new();
        for found in SEND.captures_iter(self.code()) {
            let name = &found[1];
            if !names.contains(name) {
                continue;
            }
            let whole = found.get(0).expect("match");
            let open = whole.end() - 1;
            let Some(close) = self.source.partner(open) else {
                continue;
            };
            audit.send_sites += 1;
            let line = self.source.line(whole.start());
            let context = self.source.context(whole.start(), close + 1);
            sends.push(Send {
                producer: name.to_owned(),
                offset: whole.start(),
                blocking: context.after.starts_with(".get("),
            });
            let arguments = split_arguments(&self.code()[open + 1..close]);
            let callback = arguments
                .get(1)
                .copied()
                .filter(|c| *c != "null")
                .or_else(|| {
                    (self.kotlin() && context.after.starts_with('{')).then_some(context.after)
                });
            match callback {
                Some(callback) => self.judge_callback(callback, line, audit),
                // In a transaction, a failed send makes `commitTransaction` throw.
                None if !self.result_used(&context)
                    && !audit.has_call(name, "commitTransaction") =>
                {
                    audit.issues.push(Issue::new(
                        Kind::UncheckedSend,
                        line,
                        format!(
                            "`{name}.send(...)` drops the returned Future and passes no \
                             callback: a failed send is never seen"
                        ),
                        self.callback_fix(name),
                    ))
                }
                None if context.after.contains(".get(") => {
                    self.judge_catches(whole.start(), audit);
                }
                None => {}
            }
        }
        for found in FOR_EACH_REFERENCE.captures_iter(self.code()) {
            let name = &found[1];
            if names.contains(name) {
                audit.send_sites += 1;
                audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    self.source.line(found.get(0).expect("match").start()),
                    format!(
                        "`forEach({name}::send)` drops every returned Future: no callback sees \
                         a failed send"
                    ),
                    self.callback_fix(name),
                ));
            }
        }
        sends
    }

    fn callback_fix(&self, name: &str) -> String {
        if self.kotlin() {
            format!(
                "Pass a callback that handles the exception — `{name}.send(record) {{ _, e -> \
                 if (e != null) log.error(\"send failed\", e) }}` — or call `.get()` on the \
                 Future where blocking is acceptable."
            )
        } else {
            format!(
                "Pass a callback that handles the exception — `{name}.send(record, (metadata, \
                 e) -> {{ if (e != null) log.error(\"send failed\", e); }})` — or call `.get()` \
                 on the Future where blocking is acceptable."
            )
        }
    }

    /// Is the Future kept, chained or handed on?
    fn result_used(&self, context: &Context<'_>) -> bool {
        if context.after.starts_with('.') {
            return true;
        }
        if let Some(paren) = context.enclosing {
            let callee = last_identifier(&self.code()[..paren]);
            let lambda_value = context.before.ends_with("->");
            return !(lambda_value && DISCARDING.contains(&callee));
        }
        if context.before.starts_with("return") || ends_with_assignment(context.before) {
            return true;
        }
        self.kotlin() && self.kept_as_lambda_value(context)
    }

    /// Kotlin: the call is the last expression of a mapping lambda (`records.map { producer.send(it) }`).
    fn kept_as_lambda_value(&self, context: &Context<'_>) -> bool {
        let Some(open) = self.source.enclosing(context.start) else {
            return false;
        };
        let last = self.code()[context.end..].trim_start().starts_with('}');
        last && self.code().as_bytes()[open] == b'{'
            && MAPPING.contains(&last_identifier(self.source.header(open)))
    }

    /// A lambda callback passed to `send`: does it look at the exception, and how?
    fn judge_callback(&self, callback: &str, line: usize, audit: &mut FileAudit) {
        let pattern: &Regex = if self.kotlin() {
            &KOTLIN_LAMBDA
        } else {
            &JAVA_LAMBDA
        };
        let Some(lambda) = pattern.captures(callback) else {
            return; // a named callback or a `Callback` object: its `onCompletion` is judged on its own
        };
        let error = lambda.get(1).expect("group 1").as_str();
        let start = offset_in(self.code(), callback) + lambda.get(0).expect("match").end();
        let body = if self.kotlin() {
            let lambda_open = offset_in(self.code(), callback) + callback.find('{').unwrap_or(0);
            start..self.source.partner(lambda_open).unwrap_or(start)
        } else if self.code()[start..].starts_with('{') {
            start + 1..self.source.partner(start).unwrap_or(start + 1)
        } else {
            start..offset_in(self.code(), callback) + callback.len()
        };
        let reaction = reaction::callback(self.source, body, error);
        report_reaction(reaction, line, "The callback passed to `send`", audit);
    }

    /// `onCompletion` implementations: anonymous `Callback`s and named classes alike.
    fn callbacks(&self, audit: &mut FileAudit) {
        let pattern: &Regex = if self.kotlin() {
            &KOTLIN_ON_COMPLETION
        } else {
            &JAVA_ON_COMPLETION
        };
        for found in pattern.captures_iter(self.code()) {
            let whole = found.get(0).expect("match");
            let open = whole.end() - 1;
            let Some(close) = self.source.partner(open) else {
                continue;
            };
            let reaction = reaction::callback(self.source, open + 1..close, &found[1]);
            report_reaction(
                reaction,
                self.source.line(whole.start()),
                "This `onCompletion` callback",
                audit,
            );
        }
    }

    /// `try { producer.send(r).get(); } catch (...) { ... }`: what happens to the failure.
    fn judge_catches(&self, at: usize, audit: &mut FileAudit) {
        for (catch_at, reaction) in reaction::enclosing_catches(self.source, at) {
            let line = self.source.line(catch_at);
            match reaction {
                Reaction::Handled => {}
                Reaction::Ignored => audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    line,
                    "The failure of a blocking send is caught and ignored",
                    "Log the exception at ERROR and fail or retry the operation that produced \
                     the record.",
                )),
                Reaction::QuietLog => audit.issues.push(quiet_log_issue(line)),
            }
        }
    }

    /// `System.exit` after a send, with nothing flushing the producer first.
    fn exits(&self, sends: &[Send], audit: &mut FileAudit) {
        let hooked = self.code().contains("addShutdownHook");
        for exit in EXIT.find_iter(self.code()) {
            let Some((function, _)) = self.enclosing_function(exit.start()) else {
                continue;
            };
            let before_exit = function..exit.start();
            let unflushed = sends.iter().find(|send| {
                let flushed = regex(&format!(
                    r"\b{}\s*(?:\?|!!)?\s*\.\s*(?:flush|close)\s*\(",
                    regex::escape(&send.producer)
                ))
                .is_match(&self.code()[before_exit.clone()]);
                let hook_closes = hooked
                    && ["close", "flush"]
                        .iter()
                        .any(|method| audit.has_call(&send.producer, method));
                before_exit.contains(&send.offset)
                    && !send.blocking
                    && !flushed
                    && !hook_closes
                    && !self.closed_before(send.offset, exit.start())
            });
            if let Some(send) = unflushed {
                let name = &send.producer;
                let call = exit.as_str().trim_end_matches('(').trim();
                audit.issues.push(Issue::new(
                    Kind::NoFlush,
                    self.source.line(exit.start()),
                    format!(
                        "`{call}` runs while `{name}` may still hold unsent records: nothing \
                         flushes or closes it first, and exiting skips `finally` blocks and \
                         try-with-resources"
                    ),
                    format!(
                        "Call `{name}.flush()` or `{name}.close()` before exiting, or close the \
                         producer in a shutdown hook \
                         (`Runtime.getRuntime().addShutdownHook(new Thread({name}::close))`)."
                    ),
                ));
            }
        }
    }

    /// Was the send made in a try-with-resources or `use {}` block that ended before `exit`?
    fn closed_before(&self, send: usize, exit: usize) -> bool {
        self.source.enclosing_braces(send).any(|open| {
            let header = self.source.header(open);
            let closing = header.starts_with("try (")
                || header.starts_with("try(")
                || last_identifier(header) == "use";
            closing && self.source.partner(open).is_some_and(|close| close < exit)
        })
    }
}

/// Turn a callback's reaction to a failed send into an issue, if it is one.
fn report_reaction(reaction: Reaction, line: usize, subject: &str, audit: &mut FileAudit) {
    match reaction {
        Reaction::Handled => {}
        Reaction::Ignored => audit.issues.push(Issue::new(
            Kind::UncheckedSend,
            line,
            format!("{subject} never looks at its exception: a failed send looks like a success"),
            "Check the exception in the callback (`if (exception != null)`) and log it at \
             ERROR, count it, or retry.",
        )),
        Reaction::QuietLog => audit.issues.push(quiet_log_issue(line)),
    }
}

/// The issue for a delivery error that only reaches a debug or trace log.
fn quiet_log_issue(line: usize) -> Issue {
    Issue::new(
        Kind::ErrorsHidden,
        line,
        "Send failures are only logged at debug/trace level: invisible at production log levels",
        "Log send failures at ERROR (or WARN) with the exception, and count them in a metric \
         so that lost records raise an alert.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{JAVA, KOTLIN};

    fn issues(text: &str, dialect: Dialect) -> Vec<(Kind, usize)> {
        let syntax = if dialect == Dialect::Java {
            &JAVA
        } else {
            &KOTLIN
        };
        let source = Source::new(text, syntax);
        crate::model::settled_in_one_file("x", "x", audit(&source, dialect))
    }

    const IMPORTS: &str = "import org.apache.kafka.clients.producer.*;\n";

    #[test]
    fn a_dropped_future_without_callback_is_flagged_and_kept_ones_are_not() {
        let text = format!(
            "{IMPORTS}class Publisher {{
    private final Producer<String, String> producer;
    void publish(ProducerRecord<String, String> r) throws Exception {{
        producer.send(r);
        producer.send(r, null);
        producer.send(r).get();
        Future<RecordMetadata> f = producer.send(r);
        futures.add(producer.send(r));
        records.forEach(x -> producer.send(x));
        records.forEach(producer::send);
        mailer.send(r);
    }}
    Future<RecordMetadata> async(ProducerRecord<String, String> r) {{
        return producer.send(r);
    }}
}}"
        );
        assert_eq!(
            issues(&text, Dialect::Java),
            [
                (Kind::UncheckedSend, 5),
                (Kind::UncheckedSend, 6),
                (Kind::UncheckedSend, 10),
                (Kind::UncheckedSend, 11)
            ]
        );
    }

    #[test]
    fn callbacks_are_judged_by_what_they_do_with_the_exception() {
        let text = format!(
            "{IMPORTS}class Publisher {{
    private final Producer<String, String> producer;
    void publish(ProducerRecord<String, String> r) {{
        producer.send(r, (metadata, exception) -> {{
            if (exception != null) {{
                log.debug(\"send failed\", exception);
            }}
        }});
        producer.send(r, (m, e) -> latch.countDown());
        producer.send(r, (m, e) -> {{ if (e != null) log.error(\"failed\", e); }});
        producer.send(r, callback);
        producer.send(r, new Callback() {{
            @Override
            public void onCompletion(RecordMetadata metadata, Exception e) {{
                if (e != null) {{ log.trace(\"failed\", e); }}
            }}
        }});
    }}
}}"
        );
        assert_eq!(
            issues(&text, Dialect::Java),
            [
                (Kind::ErrorsHidden, 5),
                (Kind::UncheckedSend, 10),
                (Kind::ErrorsHidden, 15)
            ]
        );
    }

    #[test]
    fn producers_in_main_must_be_flushed_and_owned_ones_closed() {
        let text = format!(
            "{IMPORTS}public class App {{
    public static void main(String[] args) {{
        KafkaProducer<String, String> producer = new KafkaProducer<>(props());
        producer.send(new ProducerRecord<>(\"t\", \"v\"), callback);
    }}
}}
class Service {{
    private final KafkaProducer<String, String> producer = new KafkaProducer<>(props());
}}
class Factory {{
    KafkaProducer<String, String> create() {{ return new KafkaProducer<>(props()); }}
}}
class Main {{
    public static void main(String[] args) {{
        try (Producer<String, String> producer = new KafkaProducer<>(props())) {{
            producer.send(record).get();
        }}
    }}
}}"
        );
        assert_eq!(
            issues(&text, Dialect::Java),
            [(Kind::NoFlush, 4), (Kind::NotClosed, 9)]
        );
    }

    #[test]
    fn system_exit_after_a_send_needs_a_flush_first() {
        let text = format!(
            "{IMPORTS}class Tool {{
    static void run(Producer<String, String> producer) {{
        producer.send(record, callback);
        System.exit(0);
    }}
    static void ok(Producer<String, String> producer) {{
        producer.send(record, callback);
        producer.flush();
        System.exit(0);
    }}
}}"
        );
        assert_eq!(issues(&text, Dialect::Java), [(Kind::NoFlush, 5)]);
    }

    #[test]
    fn catch_around_a_blocking_send() {
        let text = format!(
            "{IMPORTS}class Sync {{
    private final Producer<String, String> producer;
    void send(ProducerRecord<String, String> r) {{
        try {{
            producer.send(r).get(10, TimeUnit.SECONDS);
        }} catch (InterruptedException | ExecutionException e) {{
            LOG.debug(\"send failed\", e);
        }}
    }}
}}"
        );
        assert_eq!(issues(&text, Dialect::Java), [(Kind::ErrorsHidden, 7)]);
    }

    #[test]
    fn kotlin_trailing_lambdas_use_blocks_and_mapping() {
        let text = format!(
            "{IMPORTS}class Publisher(private val producer: Producer<String, String>) {{
    fun publish(r: ProducerRecord<String, String>) {{
        producer.send(r)
        producer.send(r) {{ _, e -> if (e != null) log.error(\"failed\", e) }}
        producer.send(r) {{ _, e -> if (e != null) {{ log.debug(\"failed\", e) }} }}
        val futures = records.map {{ producer.send(it) }}
        records.forEach {{ producer.send(it) }}
    }}
}}
fun main() {{
    KafkaProducer<String, String>(props()).use {{ p ->
        p.send(record).get()
    }}
    val leaked = KafkaProducer<String, String>(props())
    leaked.send(record) {{ _, e -> if (e != null) log.error(\"failed\", e) }}
    exitProcess(1)
}}"
        );
        assert_eq!(
            issues(&text, Dialect::Kotlin),
            [
                (Kind::UncheckedSend, 4),
                (Kind::ErrorsHidden, 6),
                (Kind::UncheckedSend, 8),
                (Kind::NoFlush, 15),
                (Kind::NoFlush, 17)
            ]
        );
    }

    #[test]
    fn sends_in_a_transaction_are_checked_by_the_commit() {
        let text = format!(
            "{IMPORTS}class Transfer {{
    private final Producer<String, String> producer;
    void move(ProducerRecord<String, String> debit, ProducerRecord<String, String> credit) {{
        producer.beginTransaction();
        producer.send(debit);
        producer.send(credit);
        producer.commitTransaction();
    }}
}}"
        );
        assert!(issues(&text, Dialect::Java).is_empty());
    }

    #[test]
    fn files_without_the_kafka_client_are_ignored() {
        let text = "class Mail { void f() { sender.send(m); } }";
        assert!(issues(text, Dialect::Java).is_empty());
    }
}
