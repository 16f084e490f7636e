//! JavaScript and TypeScript: kafkajs (and the KafkaJS-compatible API of
//! `@confluentinc/kafka-javascript`, which has the same shape), and node-rdkafka.
//!
//! kafkajs `producer.send({ topic, messages })` returns a promise that rejects when the
//! write fails (after retries). Flagged:
//!
//! - **unchecked send**: a send whose promise is neither awaited, returned, assigned, passed
//!   on, nor given a rejection handler (`.catch`, or `.then(ok, fail)`); `void send(...)`;
//!   `.then(ok)` or `.finally(...)` alone; a concise arrow returning it to a caller that
//!   discards it (`forEach`, `setInterval`, event listeners); a `.catch(() => {})` or an
//!   empty `catch` around an awaited send.
//! - **errors hidden**: a `.catch` handler or `catch` block around an awaited send whose only
//!   reaction is `logger.debug` / `console.debug`.
//! - **not closed**: a producer created here (`kafka.producer()`) that is never
//!   `disconnect()`ed.
//!
//! A send counts when its receiver is a producer created in the file, or is named like one
//! (`producer`, `this.eventProducer`) in a file that imports kafkajs, or when its payload has
//! kafkajs' shape (`{ topic, messages }`) — so a producer passed in from elsewhere is still
//! judged, and an AMQP or job-queue "producer" is not. kafkajs
//! has no client-side buffer to flush (a send resolves once the broker acknowledged), so
//! there is no flush check.
//!
//! An awaited send inside an async callback whose promise the caller ignores
//! (`setInterval(async () => { await producer.send(...) })`, an event listener) with no
//! `try`/`catch` inside it is an **unchecked send**: its failure is an unhandled rejection.
//! A `catch` block or `.catch` handler runs only on failure, so whatever it does (count,
//! record, rethrow) is a reaction; only an empty one is "empty".
//!
//! **node-rdkafka** (`new Kafka.Producer(...)`, `HighLevelProducer`): `produce()` only
//! enqueues. Flagged: a `delivery-report` listener while the config sets neither `dr_cb` nor
//! `dr_msg_cb` (the event is never emitted), or sends with no delivery report at all
//! (**unchecked send**); reports wanted but nothing polls (**no poll**); a producer never
//! flushed nor disconnected (**no flush**).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::model::{FileAudit, Issue, Kind};
use crate::reaction::{self, Reaction};
use crate::source::{
    Context, Source, ends_with_assignment, last_identifier, offset_in, split_arguments,
};

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

static KAFKAJS_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"['"](?:kafkajs|@confluentinc/kafka-javascript)['"]"#));
static PRODUCER_NEW: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:\bthis\s*\.\s*)?\b([A-Za-z_$][\w$]*)\s*\.\s*producer\s*\("));
static RDKAFKA_IMPORT: LazyLock<Regex> = LazyLock::new(|| regex(r#"['"]node-rdkafka['"]"#));
static RDKAFKA_NEW: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\bnew\s+(?:[A-Za-z_$][\w$]*\s*\.\s*)?(Producer|HighLevelProducer)\s*\(")
});
static TYPED: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b([A-Za-z_$][\w$]*)\s*\??\s*:\s*Producer\b"));
static BINDING: LazyLock<Regex> = LazyLock::new(|| regex(r"([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=$"));
static SEND: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:this\s*\.\s*)?([A-Za-z_$][\w$]*)\s*\.\s*(send|sendBatch)\s*\("));
static KAFKAJS_PAYLOAD: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\{[\s\S]*\b(?:topic\b[\s\S]*\bmessages|topicMessages)\b"));
static CATCH_HANDLER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^\.catch\s*\(\s*(?:async\s+)?(?:\(\s*([A-Za-z_$][\w$]*)?\s*(?::[^)]*)?\)|([A-Za-z_$][\w$]*)|function\s*[\w$]*\s*\(\s*([A-Za-z_$][\w$]*)?[^)]*\))\s*(?:=>)?\s*",
    )
});

/// Callers that throw away what their callback returns: a promise returned there is lost.
const DISCARDING: &[&str] = &[
    "forEach",
    "setInterval",
    "setTimeout",
    "setImmediate",
    "on",
    "once",
    "addListener",
];

/// Audit one JavaScript or TypeScript file.
pub fn audit(source: &Source) -> FileAudit {
    let mut audit = FileAudit {
        calls: source.calls(),
        ..FileAudit::default()
    };
    let script = Script { source };
    let imports_kafkajs = KAFKAJS_IMPORT.is_match(source.text());
    let mut names: BTreeSet<String> = if imports_kafkajs {
        TYPED
            .captures_iter(source.code())
            .map(|c| c[1].to_owned())
            .collect()
    } else {
        BTreeSet::new()
    };
    script.producers(imports_kafkajs, &mut names, &mut audit);
    script.sends(imports_kafkajs, &names, &mut audit);
    if RDKAFKA_IMPORT.is_match(source.text()) {
        script.node_rdkafka(&mut audit);
    }
    audit
}

struct Script<'a> {
    source: &'a Source,
}

impl Script<'_> {
    fn code(&self) -> &str {
        self.source.code()
    }

    /// `kafka.producer()` calls: counted, named, and checked for a `disconnect()`.
    fn producers(
        &self,
        imports_kafkajs: bool,
        names: &mut BTreeSet<String>,
        audit: &mut FileAudit,
    ) {
        for found in PRODUCER_NEW.captures_iter(self.code()) {
            let client = &found[1];
            if !imports_kafkajs && !client.to_lowercase().contains("kafka") {
                continue;
            }
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            audit.producers += 1;
            let context = self.source.context(whole.start(), close + 1);
            if context.enclosing.is_some()
                || context.before.starts_with("return")
                || !ends_with_assignment(context.before)
            {
                continue;
            }
            let Some(binding) = BINDING.captures(context.before) else {
                continue;
            };
            let name = binding[1].to_owned();
            let line = self.source.line(whole.start());
            let module_level = self.source.enclosing(whole.start()).is_none();
            audit.issues.push(
                Issue::new(
                    Kind::NotClosed,
                    line,
                    format!(
                        "Producer `{name}` is never disconnected: in-flight requests are cut \
                         off at shutdown and its connections leak"
                    ),
                    format!(
                        "`await {name}.disconnect()` on shutdown (e.g. in a `SIGTERM` handler), \
                         after the last send has been awaited."
                    ),
                )
                .unless(&[&name], &["disconnect"])
                .shared(module_level)
                .about_producer(line),
            );
            names.insert(name);
        }
    }

    fn sends(&self, imports_kafkajs: bool, names: &BTreeSet<String>, audit: &mut FileAudit) {
        for found in SEND.captures_iter(self.code()) {
            let name = &found[1];
            let whole = found.get(0).expect("match");
            let open = whole.end() - 1;
            let Some(close) = self.source.partner(open) else {
                continue;
            };
            let arguments = split_arguments(&self.code()[open + 1..close]);
            let shaped = arguments
                .first()
                .is_some_and(|a| KAFKAJS_PAYLOAD.is_match(a));
            // Without the import, only a kafkajs-shaped payload says a `producer.send` is
            // Kafka's: AMQP and job-queue clients have producers too.
            let named = imports_kafkajs && name.to_lowercase().contains("producer");
            if !shaped && !names.contains(name) && !named {
                continue;
            }
            audit.send_sites += 1;
            let line = self.source.line(whole.start());
            let call = format!("{name}.{}", &found[2]);
            let context = self.source.context(whole.start(), close + 1);
            self.judge(&call, line, whole.start(), &context, audit);
        }
    }

    fn judge(
        &self,
        call: &str,
        line: usize,
        at: usize,
        context: &Context<'_>,
        audit: &mut FileAudit,
    ) {
        let chain = context.after;
        if chain.contains(".catch(") {
            self.judge_catch_handler(call, line, chain, audit);
            return;
        }
        // Awaited, returned or stored, the promise (chain included) carries a rejection to
        // whoever holds it.
        if context.before.split_whitespace().last() == Some("await") {
            let catches = reaction::enclosing_catches(self.source, at);
            for &(catch_at, reaction) in &catches {
                report_reaction(reaction, self.source.line(catch_at), audit);
            }
            if let Some(caller) = self.unhandled_in_discarded_callback(at) {
                audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    line,
                    format!(
                        "`await {call}(...)` runs in an async callback given to `{caller}`, \
                         which ignores the promise it returns, and no `try` around it catches a \
                         failure: a failed send is an unhandled rejection"
                    ),
                    format!(
                        "Wrap the body of the `{caller}` callback in `try {{ ... }} catch (err) \
                         {{ logger.error('send failed', err) }}`."
                    ),
                ));
            }
            return;
        }
        if self.promise_kept(context) {
            return;
        }
        let rejection_handled = chain
            .strip_prefix(".then")
            .and_then(|then| then.trim_start().strip_prefix('('))
            .is_some_and(|rest| {
                let open = offset_in(self.code(), rest) - 1;
                let close = self.source.partner(open).unwrap_or(open);
                split_arguments(&self.code()[open + 1..close]).len() >= 2
            });
        if rejection_handled {
            return;
        }
        if chain.starts_with(".then") || chain.starts_with(".finally") {
            audit.issues.push(no_rejection_handler(call, line));
            return;
        }
        audit.issues.push(Issue::new(
            Kind::UncheckedSend,
            line,
            format!(
                "`{call}(...)` is not awaited and has no `.catch`: a failed send becomes an \
                 unhandled rejection nobody checks"
            ),
            format!(
                "`await {call}(...)` inside a `try {{ }} catch (err) {{ logger.error(...) }}`, \
                 or chain `.catch(err => logger.error('send failed', err))`."
            ),
        ));
    }

    /// node-rdkafka (`lib/producer.js`, 1.x to 3.x): `produce()` only enqueues; the result
    /// of a delivery is emitted as a `delivery-report` event only when the config sets
    /// `dr_cb` (or `dr_msg_cb`), and only while something polls (`setPollInterval`,
    /// `poll()`). `disconnect()` flushes first (5 s by default) since 2.3.0, so it counts as
    /// a flush; with an older release it does not, which this module cannot tell from code.
    /// `HighLevelProducer` takes a callback per `produce` and is judged on flushing only.
    fn node_rdkafka(&self, audit: &mut FileAudit) {
        static REPORTS_ON: LazyLock<Regex> = LazyLock::new(|| {
            regex(r#"\bdr_(?:msg_)?cb['"]?\s*:\s*(function\b|\(|async\b|[A-Za-z_$][\w$]*)"#)
        });
        let text = self.source.text();
        let dr = REPORTS_ON.captures(text).map(|c| c[1].to_owned());
        let reports_on = dr.as_deref().is_some_and(|value| value != "false");
        let report_function = dr
            .as_deref()
            .is_some_and(|value| !matches!(value, "true" | "false" | "1" | "0"));
        for found in RDKAFKA_NEW.captures_iter(self.code()) {
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            audit.producers += 1;
            let line = self.source.line(whole.start());
            let context = self.source.context(whole.start(), close + 1);
            let Some(binding) = BINDING.captures(context.before) else {
                continue;
            };
            let name = binding[1].to_owned();
            let escaped = regex::escape(&name);
            let listener = regex(&format!(
                r#"\b{escaped}\s*\.\s*on\s*\(\s*['"]delivery-report['"]"#
            ))
            .find(text);
            let produces: Vec<usize> = regex(&format!(r"\b{escaped}\s*\.\s*produce\s*\("))
                .find_iter(self.code())
                .map(|m| m.start())
                .collect();
            audit.send_sites += produces.len();
            let module_level = self.source.enclosing(whole.start()).is_none();
            if &found[1] == "Producer" {
                match (listener, reports_on) {
                    (Some(on), false) => audit.issues.push(Issue::new(
                        Kind::UncheckedSend,
                        self.source.line(on.start()),
                        format!(
                            "`{name}` listens for 'delivery-report', but its config sets neither \
                             `dr_cb` nor `dr_msg_cb`: node-rdkafka never emits the event, so a \
                             failed delivery is never seen"
                        ),
                        "Set `dr_cb: true` in the producer's config, and log the `err` of each \
                         'delivery-report' at error level.",
                    )),
                    (None, _) if !report_function && !produces.is_empty() => {
                        audit.issues.push(Issue::new(
                            Kind::UncheckedSend,
                            self.source.line(produces[0]),
                            format!(
                                "`{name}.produce(...)` only enqueues, and nothing listens for \
                                 'delivery-report': whether a message was delivered is never \
                                 checked"
                            ),
                            format!(
                                "Set `dr_cb: true` in the config and handle \
                                 `{name}.on('delivery-report', (err, report) => {{ if (err) \
                                 logger.error(...) }})`, polling with `{name}.setPollInterval(100)`."
                            ),
                        ));
                    }
                    _ => {}
                }
                if reports_on || listener.is_some() {
                    audit.issues.push(
                        Issue::new(
                            Kind::NoPoll,
                            line,
                            format!(
                                "`{name}` is never polled: delivery reports are only served by \
                                 `poll()`, so the 'delivery-report' handler never runs"
                            ),
                            format!(
                                "Call `{name}.setPollInterval(100)` once it is created (or \
                                 `{name}.poll()` after producing)."
                            ),
                        )
                        .unless(&[&name], &["setPollInterval", "poll"])
                        .shared(module_level)
                        .about_producer(line),
                    );
                }
            }
            audit.issues.push(
                Issue::new(
                    Kind::NoFlush,
                    line,
                    format!(
                        "`{name}` is never flushed nor disconnected: messages still in \
                         librdkafka's queue are lost when the process exits"
                    ),
                    format!(
                        "On shutdown call `{name}.flush(timeout, () => {name}.disconnect())` \
                         before exiting (`disconnect()` alone flushes for 5 s first only since \
                         node-rdkafka 2.3.0)."
                    ),
                )
                .unless(&[&name], &["flush", "disconnect"])
                .shared(module_level)
                .about_producer(line),
            );
        }
    }

    /// The caller that discards the promise of the async function around `at`
    /// (`setInterval(async () => { ... })`), when no `try` inside that function catches it.
    fn unhandled_in_discarded_callback(&self, at: usize) -> Option<&str> {
        for open in self.source.enclosing_braces(at) {
            let header = self.source.header(open);
            if header == "try" {
                // A `try` with a `catch` handles the rejection; `try/finally` does not.
                let close = self.source.partner(open)?;
                if self.code()[close + 1..].trim_start().starts_with("catch") {
                    return None;
                }
                continue;
            }
            let function = header.ends_with("=>") || crate::source::mentions(header, "function");
            if !function {
                continue;
            }
            let paren = self.source.enclosing(open)?;
            let callee = last_identifier(&self.code()[..paren]);
            return DISCARDING.contains(&callee).then_some(callee);
        }
        None
    }

    /// Is the promise awaited later, returned, stored or handed to something that keeps it?
    fn promise_kept(&self, context: &Context<'_>) -> bool {
        let before = context.before;
        if before == "void" || before.ends_with(" void") {
            return false;
        }
        if let Some(paren) = context.enclosing {
            let callee = last_identifier(&self.code()[..paren]);
            return !(before.ends_with("=>") && DISCARDING.contains(&callee));
        }
        ["return", "yield", "await"]
            .iter()
            .any(|keyword| before.starts_with(keyword))
            || ends_with_assignment(before)
            || before.ends_with("=>")
    }

    /// `.catch(handler)`: does the handler do anything visible with the error?
    fn judge_catch_handler(&self, call: &str, line: usize, chain: &str, audit: &mut FileAudit) {
        let from = chain.find(".catch").unwrap_or(0);
        let catch = &chain[from..];
        let Some(handler) = CATCH_HANDLER.captures(catch) else {
            return; // a named handler function: not followed
        };
        if handler.get(2).is_some() && !handler[0].contains("=>") {
            return; // `.catch(onSendError)`: a named handler function, not followed
        }
        let start = offset_in(self.code(), catch) + handler.get(0).expect("match").end();
        let open_paren = offset_in(self.code(), catch) + catch.find('(').unwrap_or(0);
        let end = self.source.partner(open_paren).unwrap_or(start);
        let body = if self.code()[start..].starts_with('{') {
            start + 1..self.source.partner(start).unwrap_or(start + 1)
        } else {
            start..end
        };
        let catch_line = self.source.line(offset_in(self.code(), catch));
        // A `.catch` handler runs only on failure: whatever it does (count, record, log) is
        // its reaction, whether or not it names the error.
        let reaction = reaction::classify(self.source.statements_between(body.start, body.end));
        match reaction {
            Reaction::Ignored => audit.issues.push(Issue::new(
                Kind::UncheckedSend,
                line,
                format!("`{call}(...)` failures are swallowed by an empty `.catch`"),
                "Log the error in the handler — `.catch(err => logger.error('send failed', \
                 err))` — and alert, retry or fail the request.",
            )),
            reaction => report_reaction(reaction, catch_line, audit),
        }
    }
}

fn no_rejection_handler(call: &str, line: usize) -> Issue {
    Issue::new(
        Kind::UncheckedSend,
        line,
        format!(
            "`{call}(...)` has no rejection handler (`.then` without one, or `.finally` only): a \
             failed send is never checked"
        ),
        "Add `.catch(err => logger.error('send failed', err))`, or `await` the send in a \
         `try`/`catch` that logs the error.",
    )
}

fn report_reaction(reaction: Reaction, line: usize, audit: &mut FileAudit) {
    match reaction {
        Reaction::Handled => {}
        Reaction::Ignored => audit.issues.push(Issue::new(
            Kind::UncheckedSend,
            line,
            "This `catch` around a send is empty: a failed send is caught and ignored",
            "Log the error with `logger.error(...)`, and alert, retry or fail the request.",
        )),
        Reaction::QuietLog => audit.issues.push(Issue::new(
            Kind::ErrorsHidden,
            line,
            "Send failures are only logged at debug level: invisible at production log levels",
            "Log send failures with `logger.error(...)` (or `warn`) including the error, and \
             count them in a metric so that lost messages raise an alert.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::settled_in_one_file;
    use crate::source::JAVASCRIPT;

    fn issues(text: &str) -> Vec<(Kind, usize)> {
        settled_in_one_file("x.js", "javascript", audit(&Source::new(text, &JAVASCRIPT)))
    }

    #[test]
    fn promises_dropped_or_kept() {
        let text = r#"const { Kafka } = require('kafkajs')
const kafka = new Kafka({ brokers: ['localhost:9092'] })
const producer = kafka.producer()

async function publish(order) {
  producer.send({ topic: 'orders', messages: [{ value: JSON.stringify(order) }] })
  await producer.send({ topic: 'orders', messages: [] })
  const result = await producer.send({ topic: 'orders', messages: [] })
  void producer.send({ topic: 'orders', messages: [] })
  producer.send({ topic: 'orders', messages: [] }).then(() => sent++)
  producer.send({ topic: 'orders', messages: [] }).then(() => sent++, (err) => logger.error(err))
  producer
    .send({ topic: 'orders', messages: [] })
    .catch((err) => logger.error('send failed', err))
  orders.forEach((o) => producer.send({ topic: 'orders', messages: [o] }))
  await Promise.all(orders.map((o) => producer.send({ topic: 'orders', messages: [o] })))
  return producer.send({ topic: 'orders', messages: [] }).then(() => sent++)
}
"#;
        assert_eq!(
            issues(text),
            [
                (Kind::NotClosed, 3),
                (Kind::UncheckedSend, 6),
                (Kind::UncheckedSend, 9),
                (Kind::UncheckedSend, 10),
                (Kind::UncheckedSend, 15)
            ]
        );
    }

    #[test]
    fn catch_handlers_and_blocks() {
        let text = r#"import { Kafka } from 'kafkajs'

export class Events {
  constructor(kafka) {
    this.producer = kafka.producer()
  }
  async emit(event) {
    try {
      await this.producer.send({ topic: 'events', messages: [event] })
    } catch (err) {
      logger.debug('send failed', err)
    }
    this.producer.send({ topic: 'events', messages: [event] }).catch(() => {})
    this.producer.send({ topic: 'events', messages: [event] }).catch((e) => console.debug(e))
  }
  async stop() {
    await this.producer.disconnect()
  }
}
"#;
        assert_eq!(
            issues(text),
            [
                (Kind::ErrorsHidden, 10),
                (Kind::UncheckedSend, 13),
                (Kind::ErrorsHidden, 14)
            ]
        );
    }

    #[test]
    fn injected_producers_are_recognised_by_the_payload() {
        let text = "export async function audit(bus, entry) {\n  bus.send({ topic: 'audit', messages: [entry] })\n  socket.send({ type: 'ping' })\n  producer.send('jobs', entry)\n}\n";
        assert_eq!(issues(text), [(Kind::UncheckedSend, 2)]);
    }

    #[test]
    fn awaited_sends_in_callbacks_whose_promise_is_discarded() {
        let text = r#"const { Kafka } = require('kafkajs')
const producer = new Kafka({}).producer()
setInterval(async () => {
  await producer.send({ topic: 't', messages: [] })
}, 1000)
setInterval(async () => {
  try {
    await producer.send({ topic: 't', messages: [] })
  } catch (err) {
    logger.error('x', err)
  }
}, 1000)
emitter.on('x', async function () {
  try {
    await producer.send({ topic: 't', messages: [] })
  } finally {
    done()
  }
})
async function kept() {
  await producer.send({ topic: 't', messages: [] })
}
process.on('SIGTERM', () => producer.disconnect())
"#;
        assert_eq!(
            issues(text),
            [(Kind::UncheckedSend, 4), (Kind::UncheckedSend, 15)]
        );
    }

    #[test]
    fn a_catch_that_records_the_failure_is_not_empty() {
        let text = r#"import { Kafka } from 'kafkajs'
const producer = new Kafka({}).producer()
export async function f(metrics) {
  try {
    await producer.send({ topic: 't', messages: [] })
  } catch (err) {
    metrics.failures.inc()
  }
  producer.send({ topic: 't', messages: [] }).catch(() => { failed += 1 })
  producer.send({ topic: 't', messages: [] }).catch(onSendError)
  producer.send({ topic: 't', messages: [] }).catch(() => {})
  try {
    await producer.send({ topic: 't', messages: [] })
  } catch (err) {}
  await producer.disconnect()
}
"#;
        assert_eq!(
            issues(text),
            [(Kind::UncheckedSend, 11), (Kind::UncheckedSend, 14)]
        );
    }

    #[test]
    fn node_rdkafka_reports_polling_and_flushing() {
        let text = r#"const Kafka = require('node-rdkafka')
const producer = new Kafka.Producer({ 'metadata.broker.list': 'k:9092' })
producer.on('delivery-report', (err) => { if (err) console.error(err) })
producer.produce('t', null, Buffer.from('x'))
"#;
        assert_eq!(
            issues(text),
            [
                (Kind::NoFlush, 2),
                (Kind::NoPoll, 2),
                (Kind::UncheckedSend, 3)
            ]
        );
        let fixed = text
            .replace("'k:9092' }", "'k:9092', 'dr_cb': true }")
            .replace(
                "producer.produce",
                "producer.setPollInterval(100)\nproducer.produce",
            )
            + "process.on('SIGTERM', () => producer.disconnect())\n";
        assert!(issues(&fixed).is_empty(), "{:?}", issues(&fixed));
        let unreported = "const { Producer } = require('node-rdkafka')\nconst p = new Producer({})\np.produce('t', null, Buffer.from('x'))\np.flush(1000)\n";
        assert_eq!(issues(unreported), [(Kind::UncheckedSend, 3)]);
    }
}
