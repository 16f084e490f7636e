//! Go: confluent-kafka-go (`kafka.NewProducer`), segmentio/kafka-go (`kafka.Writer`) and
//! Sarama (`sarama.NewAsyncProducer`, `sarama.NewSyncProducer`).
//!
//! - **confluent-kafka-go** `Produce(msg, deliveryChan)` enqueues; its error says only
//!   whether the message was queued (a full queue drops it), and the delivery report goes to
//!   `deliveryChan` or, when that is `nil`, to `producer.Events()`. Flagged: `Produce` whose
//!   error is dropped (a bare statement, `_ =`, `go`); a `nil` delivery channel while nothing
//!   reads `.Events()` (outside a transaction, whose commit would fail instead); a delivery channel never received from; delivery
//!   reports read without ever checking `TopicPartition.Error`; an error branch that only
//!   debug-logs. Per producer: no `Flush` (`Close` does not flush: queued messages are lost)
//!   is **no flush**, no `Close` is **not closed**, and `Events()` never drained while sends
//!   rely on it is **no poll** (undrained reports also keep `Flush` from ever finishing).
//! - **segmentio/kafka-go** `Writer.WriteMessages` returns the write's error. Flagged: that
//!   error dropped; an error branch that only debug-logs; an `Async: true` writer without a
//!   `Completion` function (its errors go nowhere); a writer never closed (**no flush** when
//!   async, since `Close` flushes its pending batches; **not closed** otherwise).
//!
//! A producer is built in one package and handed to another (`main` builds it, a publisher
//! sends with it, a goroutine drains its events), so `Flush`, `Close` and `Events()` are
//! looked for in every audited Go file.
//! - **Sarama** (`github.com/IBM/sarama`, formerly `github.com/Shopify/sarama`, every
//!   release): an `AsyncProducer`'s `Errors()` must be read (`Return.Errors` is true by
//!   default) or the producer deadlocks once the channel is full, and `Successes()` too when
//!   `Return.Successes` is set (**no poll**); `Return.Errors = false` drops failures unseen
//!   (**unchecked send**); never `Close`d/`AsyncClose`d loses what is buffered (**no flush**,
//!   per `async_producer.go`); a `SyncProducer`'s `SendMessage(s)` error is judged like any
//!   returned error, and a sync producer never closed is **not closed**.
//!
//! confluent-kafka-go is recognised under every module path it was published as:
//! `github.com/confluentinc/confluent-kafka-go/kafka`, `.../v2/kafka` and
//! `gopkg.in/confluentinc/confluent-kafka-go.v1/kafka`, under any import alias.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::model::{FileAudit, Issue, Kind};
use crate::reaction::{self, Reaction};
use crate::source::{Source, split_arguments};

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

static CONFLUENT_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)^\s*(?:import\s+)?(?:([A-Za-z_]\w*)\s+)?"(?:github\.com/confluentinc/confluent-kafka-go(?:/v\d+)?|gopkg\.in/confluentinc/confluent-kafka-go\.v\d+)/kafka""#,
    )
});
static SEGMENTIO_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"(?m)^\s*(?:import\s+)?(?:([A-Za-z_]\w*)\s+)?"github\.com/segmentio/kafka-go""#)
});
/// Sarama under both module paths it was published as (Shopify's, then IBM's from 1.38).
static SARAMA_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"(?m)^\s*(?:import\s+)?(?:([A-Za-z_]\w*)\s+)?"github\.com/(?:IBM|Shopify)/sarama""#)
});
static PAIR_BINDING: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[\s.])([A-Za-z_]\w*)\s*,\s*[A-Za-z_]\w*\s*:?=$"));
static BINDING: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[\s.])([A-Za-z_]\w*)\s*(?::?=|:)$"));
static IF_ASSIGNED: LazyLock<Regex> = LazyLock::new(|| regex(r"^if\s+([A-Za-z_]\w*)\s*:?=$"));
/// `err =`, `err :=`, `var err error =`, and `_, _, err :=` (the error comes last).
static ASSIGNED: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:var\s+)?(?:[A-Za-z_]\w*\s*,\s*)*([A-Za-z_]\w*)\s*(?:error\s*)?:?=$")
});
/// `p.`, `s.producer.`: the receiver chain before the producer's own name, so that a send's
/// statement context starts at the whole expression.
const RECEIVER_CHAIN: &str = r"\b(?:[A-Za-z_]\w*\s*\.\s*)*?";

static DELIVERY_CHECK: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\bif\s+[\w.]+\.TopicPartition\.Error\s*!=\s*nil\s*\{"));

/// Audit one Go file.
pub fn audit(source: &Source) -> FileAudit {
    let mut audit = FileAudit {
        calls: source.calls(),
        ..FileAudit::default()
    };
    let go = Go { source };
    if let Some(import) = CONFLUENT_IMPORT.captures(source.text()) {
        go.confluent(import.get(1).map_or("kafka", |m| m.as_str()), &mut audit);
    }
    if let Some(import) = SEGMENTIO_IMPORT.captures(source.text()) {
        go.segmentio(import.get(1).map_or("kafka", |m| m.as_str()), &mut audit);
    }
    if let Some(import) = SARAMA_IMPORT.captures(source.text()) {
        go.sarama(import.get(1).map_or("sarama", |m| m.as_str()), &mut audit);
    }
    audit
}

struct Go<'a> {
    source: &'a Source,
}

impl Go<'_> {
    fn code(&self) -> &str {
        self.source.code()
    }

    /// Names declared with the given type (`producer *kafka.Producer`, fields and params).
    /// `package` is the import's name, an identifier: it needs no regex escaping.
    fn typed(&self, package: &str, type_name: &str) -> BTreeSet<String> {
        regex(&format!(r"\b([A-Za-z_]\w*)\s+\*{package}\.{type_name}\b"))
            .captures_iter(self.code())
            .map(|c| c[1].to_owned())
            .collect()
    }

    fn confluent(&self, package: &str, audit: &mut FileAudit) {
        let typed = self.typed(package, "Producer");
        let mut names = typed.clone();
        let mut created = Vec::new();
        for found in regex(&format!(r"\b{package}\s*\.\s*NewProducer\s*\(")).find_iter(self.code())
        {
            let Some(close) = self.source.partner(found.end() - 1) else {
                continue;
            };
            audit.producers += 1;
            let context = self.source.context(found.start(), close + 1);
            if let Some(binding) = PAIR_BINDING.captures(context.before) {
                names.insert(binding[1].to_owned());
                created.push((binding[1].to_owned(), self.source.line(found.start())));
            }
        }

        let mut relies_on_events = BTreeSet::new();
        let produce = regex(&format!(
            r"{RECEIVER_CHAIN}([A-Za-z_]\w*)\s*\.\s*Produce\s*\("
        ));
        for found in produce.captures_iter(self.code()) {
            let name = &found[1];
            if !names.contains(name) {
                continue;
            }
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            audit.send_sites += 1;
            let line = self.source.line(whole.start());
            self.judge_error(whole.start(), close, &format!("{name}.Produce"), audit);
            let arguments = split_arguments(&self.code()[whole.end()..close]);
            match arguments.get(1).copied() {
                Some("nil") | None => {
                    relies_on_events.insert(name.to_owned());
                    // In a transaction, a failed delivery makes `CommitTransaction` fail.
                    if !audit.has_call(name, "CommitTransaction") {
                        audit.issues.push(events_unread(line, name));
                    }
                }
                Some(channel) if is_identifier(channel) => {
                    let received = regex(&format!(
                        r"<-\s*{0}\b|\brange\s+{0}\b",
                        regex::escape(channel)
                    ));
                    if !received.is_match(self.code()) {
                        audit.issues.push(Issue::new(
                            Kind::UncheckedSend,
                            line,
                            format!(
                                "The delivery channel `{channel}` passed to `{name}.Produce` is \
                                 never received from: delivery reports are never checked"
                            ),
                            format!(
                                "Receive the report and check it: `e := <-{channel}; if m := \
                                 e.(*kafka.Message); m.TopicPartition.Error != nil {{ \
                                 log.Printf(\"delivery failed: %v\", m.TopicPartition.Error) }}`."
                            ),
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        let produce_channel = regex(&format!(
            r"{RECEIVER_CHAIN}([A-Za-z_]\w*)\s*\.\s*ProduceChannel\s*\(\s*\)\s*<-"
        ));
        for found in produce_channel.captures_iter(self.code()) {
            let name = &found[1];
            if names.contains(name) {
                audit.send_sites += 1;
                relies_on_events.insert(name.to_owned());
                let line = self.source.line(found.get(0).expect("match").start());
                audit.issues.push(events_unread(line, name));
            }
        }

        self.delivery_checks(package, audit);

        for (name, line) in created {
            let owners = self.owners(&name, &typed);
            let owners: Vec<&str> = owners.iter().map(String::as_str).collect();
            audit.issues.push(
                Issue::new(
                    Kind::NoFlush,
                    line,
                    format!(
                        "Producer `{name}` is never flushed: `Close()` does not flush, so \
                         messages still queued are lost"
                    ),
                    format!(
                        "Call `{name}.Flush(15 * 1000)` before `{name}.Close()` (loop while it \
                         returns a non-zero count of undelivered messages, and log what is left)."
                    ),
                )
                .unless(&owners, &["Flush"])
                .shared(true)
                .about_producer(line),
            );
            audit.issues.push(
                Issue::new(
                    Kind::NotClosed,
                    line,
                    format!("Producer `{name}` is never closed: its librdkafka handle leaks"),
                    format!("`defer {name}.Close()` right after a successful `NewProducer` (after a `Flush`)."),
                )
                .unless(&owners, &["Close"])
                .shared(true)
                .about_producer(line),
            );
            // Sends made elsewhere (the producer handed to a publisher) usually go the same
            // way: with no delivery channel, their reports land in `Events()`.
            let sends_here = produce_on(&name, self.code());
            if relies_on_events.contains(&name) || !sends_here {
                audit.issues.push(
                    Issue::new(
                        Kind::NoPoll,
                        line,
                        format!(
                            "`{name}.Events()` is never drained: delivery reports pile up \
                             unread, and `Flush` waits for them until it times out"
                        ),
                        format!(
                            "Drain the events in a goroutine: `go func() {{ for e := range \
                             {name}.Events() {{ ... }} }}()`, checking each `*kafka.Message`'s \
                             `TopicPartition.Error`."
                        ),
                    )
                    .unless(&[], &["Events"])
                    .shared(true)
                    .about_producer(line),
                );
            }
        }
    }

    /// Where delivery reports are read: is `TopicPartition.Error` checked, and how?
    fn delivery_checks(&self, package: &str, audit: &mut FileAudit) {
        for found in DELIVERY_CHECK.find_iter(self.code()) {
            let line = self.source.line(found.start());
            let reaction = reaction::classify(self.source.statements(found.end() - 1));
            report_reaction(reaction, line, audit);
        }
        let message = regex(&format!(
            r"\.\(\s*\*{package}\.Message\s*\)|\bcase\s+\*{package}\.Message\b"
        ));
        if let Some(found) = message.find(self.code())
            && !self.code().contains("TopicPartition.Error")
        {
            audit.issues.push(Issue::new(
                Kind::UncheckedSend,
                self.source.line(found.start()),
                "Delivery reports are read, but `TopicPartition.Error` is never checked: failed \
                 deliveries look delivered",
                "For each `*kafka.Message` report, check `m.TopicPartition.Error != nil` and log \
                 it at error level (or count and alert on it).",
            ));
        }
    }

    fn segmentio(&self, package: &str, audit: &mut FileAudit) {
        let typed = self.typed(package, "Writer");
        let mut names = typed.clone();
        let constructions = regex(&format!(
            r"&\s*{package}\s*\.\s*Writer\s*\{{|\b{package}\s*\.\s*NewWriter\s*\("
        ));
        let mut created = Vec::new();
        for found in constructions.find_iter(self.code()) {
            let open = found.end() - 1;
            let Some(close) = self.source.partner(open) else {
                continue;
            };
            audit.producers += 1;
            let line = self.source.line(found.start());
            let literal = &self.code()[open..close];
            let asynchronous = regex(r"\bAsync\s*:\s*true\b").find(literal);
            if let Some(flag) = asynchronous
                && !regex(r"\bCompletion\s*:").is_match(literal)
            {
                audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    self.source.line(open + flag.start()),
                    "Async writer without a `Completion` function: `WriteMessages` returns nil \
                     at once, and failed writes are dropped unseen",
                    "Set `Completion: func(messages []kafka.Message, err error) { if err != nil \
                     { log.Printf(\"write failed: %v\", err) } }` on the writer, or make it \
                     synchronous.",
                ));
            }
            let context = self.source.context(found.start(), close + 1);
            if let Some(binding) = BINDING.captures(context.before) {
                let name = binding[1].to_owned();
                names.insert(name.clone());
                created.push((name, line, asynchronous.is_some()));
            }
        }
        let write = regex(&format!(
            r"{RECEIVER_CHAIN}([A-Za-z_]\w*)\s*\.\s*WriteMessages\s*\("
        ));
        for found in write.captures_iter(self.code()) {
            let name = &found[1];
            if !names.contains(name) {
                continue;
            }
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            audit.send_sites += 1;
            self.judge_error(
                whole.start(),
                close,
                &format!("{name}.WriteMessages"),
                audit,
            );
        }
        for (name, line, asynchronous) in created {
            let owners = self.owners(&name, &typed);
            let owners: Vec<&str> = owners.iter().map(String::as_str).collect();
            let issue = if asynchronous {
                Issue::new(
                    Kind::NoFlush,
                    line,
                    format!(
                        "Async writer `{name}` is never closed: batches still pending when the \
                         process exits are lost (`Close` flushes them)"
                    ),
                    format!("`defer {name}.Close()` and check its error on shutdown."),
                )
            } else {
                Issue::new(
                    Kind::NotClosed,
                    line,
                    format!("Writer `{name}` is never closed: its connections leak"),
                    format!("`defer {name}.Close()` and check its error on shutdown."),
                )
            };
            audit.issues.push(
                issue
                    .unless(&owners, &["Close"])
                    .shared(true)
                    .about_producer(line),
            );
        }
    }

    /// Sarama (every release, Shopify's and IBM's module path): an `AsyncProducer` takes
    /// messages on `Input()` and reports failures on `Errors()` — which must be read, or the
    /// producer deadlocks once the channel is full (`Return.Errors` is true by default;
    /// false drops failures unseen) — and the same for `Successes()` when
    /// `Return.Successes` is set. `Close()` flushes what is buffered; `AsyncClose()` too, if
    /// the channels are drained. A `SyncProducer`'s `SendMessage(s)` returns the error.
    fn sarama(&self, package: &str, audit: &mut FileAudit) {
        let code = self.code();
        // Reading a channel is a call, `p.Errors()`; the config field `Return.Errors` is
        // not. Record the reads as `Errors()` / `Successes()` so that only they clear.
        let reads = regex(r"\b([A-Za-z_]\w*)\s*\.\s*(Errors|Successes)\s*\(\s*\)");
        for read in reads.captures_iter(code) {
            audit
                .calls
                .insert((read[1].to_owned(), format!("{}()", &read[2])));
        }
        let errors_disabled = regex(r"\.Producer\.Return\.Errors\s*=\s*false\b").find(code);
        let successes_enabled = regex(r"\.Producer\.Return\.Successes\s*=\s*true\b").is_match(code);
        let asynchronous = regex(&format!(
            r"\b{package}\s*\.\s*NewAsyncProducer(?:FromClient)?\s*\("
        ));
        let typed_async = self.typed_value(package, "AsyncProducer");
        for found in asynchronous.find_iter(code) {
            let Some(close) = self.source.partner(found.end() - 1) else {
                continue;
            };
            audit.producers += 1;
            let line = self.source.line(found.start());
            let context = self.source.context(found.start(), close + 1);
            if let Some(flag) = errors_disabled {
                audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    self.source.line(flag.start()),
                    "`Producer.Return.Errors = false`: Sarama drops every failed message \
                     without telling anyone",
                    "Leave `Return.Errors` true and read `Errors()` in a goroutine, logging each \
                     `*ProducerError` at error level.",
                ));
            } else {
                audit.issues.push(
                    Issue::new(
                        Kind::NoPoll,
                        line,
                        "Nothing reads this async producer's `Errors()` channel: failures are \
                         never seen, and once the channel is full the producer deadlocks",
                        "Drain it in a goroutine: `go func() { for err := range \
                         producer.Errors() { log.Printf(\"send failed: %v\", err) } }()`.",
                    )
                    .unless(&[], &["Errors()"])
                    .shared(true)
                    .about_producer(line),
                );
            }
            if successes_enabled {
                audit.issues.push(
                    Issue::new(
                        Kind::NoPoll,
                        line,
                        "`Return.Successes` is set but nothing reads `Successes()`: the \
                         producer deadlocks once that channel is full",
                        "Read `Successes()` (in the same `select` as `Errors()`), or leave \
                         `Return.Successes` false for an async producer.",
                    )
                    .unless(&[], &["Successes()"])
                    .shared(true)
                    .about_producer(line),
                );
            }
            if context.before.starts_with("return") {
                continue; // built for a caller, who closes it
            }
            let Some(binding) = PAIR_BINDING.captures(context.before) else {
                continue;
            };
            let name = binding[1].to_owned();
            let owners = self.owners(&name, &typed_async);
            let owners: Vec<&str> = owners.iter().map(String::as_str).collect();
            audit.issues.push(
                Issue::new(
                    Kind::NoFlush,
                    line,
                    format!(
                        "Async producer `{name}` is never closed: messages still buffered are \
                         lost when the process exits (`Close` flushes them)"
                    ),
                    format!(
                        "On shutdown call `{name}.Close()` and log the errors it returns (or \
                         `AsyncClose()` and keep draining `Errors()` until it is closed)."
                    ),
                )
                .unless(&owners, &["Close", "AsyncClose"])
                .shared(true)
                .about_producer(line),
            );
        }

        let typed_sync = self.typed_value(package, "SyncProducer");
        let mut names = typed_sync.clone();
        let synchronous = regex(&format!(
            r"\b{package}\s*\.\s*NewSyncProducer(?:FromClient)?\s*\("
        ));
        for found in synchronous.find_iter(code) {
            let Some(close) = self.source.partner(found.end() - 1) else {
                continue;
            };
            audit.producers += 1;
            let line = self.source.line(found.start());
            let context = self.source.context(found.start(), close + 1);
            let Some(binding) = PAIR_BINDING.captures(context.before) else {
                continue;
            };
            let name = binding[1].to_owned();
            names.insert(name.clone());
            let owners = self.owners(&name, &typed_sync);
            let owners: Vec<&str> = owners.iter().map(String::as_str).collect();
            audit.issues.push(
                Issue::new(
                    Kind::NotClosed,
                    line,
                    format!("Sync producer `{name}` is never closed: its connections leak"),
                    format!("`defer {name}.Close()` after a successful `NewSyncProducer`."),
                )
                .unless(&owners, &["Close"])
                .shared(true)
                .about_producer(line),
            );
        }
        let send = regex(&format!(
            r"{RECEIVER_CHAIN}([A-Za-z_]\w*)\s*\.\s*(SendMessages?)\s*\("
        ));
        for found in send.captures_iter(code) {
            let name = &found[1];
            if !names.contains(name) {
                continue;
            }
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            audit.send_sites += 1;
            self.judge_error(
                whole.start(),
                close,
                &format!("{name}.{}", &found[2]),
                audit,
            );
        }
        let input = regex(&format!(
            r"{RECEIVER_CHAIN}([A-Za-z_]\w*)\s*\.\s*Input\s*\(\s*\)\s*<-"
        ));
        audit.send_sites += input.find_iter(code).count();
    }

    /// Names declared with an interface type of `package` (`producer sarama.AsyncProducer`).
    fn typed_value(&self, package: &str, type_name: &str) -> BTreeSet<String> {
        regex(&format!(r"\b([A-Za-z_]\w*)\s+{package}\.{type_name}\b"))
            .captures_iter(self.code())
            .map(|c| c[1].to_owned())
            .collect()
    }

    /// Who may flush and close a created producer: its variable, and — when the variable
    /// is handed over (returned, stored in a struct, passed to a function) — every variable,
    /// field or parameter of the producer's type.
    fn owners(&self, created: &str, typed: &BTreeSet<String>) -> Vec<String> {
        let name = regex::escape(created);
        let handed_over = regex(&format!(
            r"[(,:{{]\s*&?{name}\s*[,)}}]|\breturn\s+&?{name}\b"
        ));
        let mut owners = vec![created.to_owned()];
        if handed_over.is_match(self.code()) {
            owners.extend(typed.iter().cloned());
        }
        owners
    }

    /// The error a send call returns: dropped, or checked — and then how?
    fn judge_error(&self, start: usize, close: usize, call: &str, audit: &mut FileAudit) {
        let context = self.source.context(start, close + 1);
        let line = self.source.line(start);
        if context.enclosing.is_some() || context.before.starts_with("return") {
            return;
        }
        let dropped = (context.before.is_empty() && context.after.is_empty())
            || regex(r"^_\s*:?=$").is_match(context.before)
            || context.before == "go"
            || context.before == "defer";
        if dropped {
            audit.issues.push(Issue::new(
                Kind::UncheckedSend,
                line,
                format!("The error returned by `{call}` is ignored: a failed send is never seen"),
                format!(
                    "Check it: `if err := {call}(...); err != nil {{ log.Printf(\"send failed: \
                     %v\", err) }}` — and alert, retry or fail the request."
                ),
            ));
            return;
        }
        let (error, rest) = if let Some(found) = IF_ASSIGNED.captures(context.before) {
            (found[1].to_owned(), &self.code()[close + 1..])
        } else if let Some(found) = ASSIGNED.captures(context.before) {
            (found[1].to_owned(), &self.code()[context.end..])
        } else {
            return;
        };
        let check = regex(&format!(
            r"^\s*;?\s*(?:if\s+)?{}\s*!=\s*nil\s*\{{",
            regex::escape(&error)
        ));
        if let Some(found) = check.find(rest) {
            let open = self.code().len() - rest.len() + found.end() - 1;
            let reaction = reaction::classify(self.source.statements(open));
            report_reaction(reaction, self.source.line(open), audit);
        }
    }
}

/// Does `code` call `Produce` on `name`?
fn produce_on(name: &str, code: &str) -> bool {
    regex(&format!(r"\b{}\s*\.\s*Produce\s*\(", regex::escape(name))).is_match(code)
}

/// A send whose delivery report goes to `Events()`, unless something in the package reads it.
fn events_unread(line: usize, name: &str) -> Issue {
    Issue::new(
        Kind::UncheckedSend,
        line,
        format!(
            "`{name}` sends with no delivery channel and nothing reads `{name}.Events()`: \
             delivery reports are never checked"
        ),
        format!(
            "Read `{name}.Events()` in a goroutine and check each `*kafka.Message`'s \
             `TopicPartition.Error`, or pass a delivery channel and receive from it."
        ),
    )
    .unless(&[], &["Events"])
    .shared(true)
}

fn report_reaction(reaction: Reaction, line: usize, audit: &mut FileAudit) {
    match reaction {
        Reaction::Handled => {}
        Reaction::Ignored => audit.issues.push(Issue::new(
            Kind::UncheckedSend,
            line,
            "This error branch is empty: a failed send is caught and ignored",
            "Log the error at error level and alert, retry or fail the request.",
        )),
        Reaction::QuietLog => audit.issues.push(Issue::new(
            Kind::ErrorsHidden,
            line,
            "Send failures are only logged at debug level: invisible at production log levels",
            "Log send failures at error level with the error value, and count them in a metric \
             so that lost messages raise an alert.",
        )),
    }
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Audited, settle};
    use crate::source::GO;

    fn issues(files: &[(&str, &str)]) -> Vec<(String, Kind, usize)> {
        let audited: Vec<Audited> = files
            .iter()
            .map(|(path, text)| Audited {
                path: (*path).into(),
                scope: "go:pkg".into(),
                audit: audit(&Source::new(text, &GO)),
            })
            .collect();
        settle(&audited)
            .into_iter()
            .map(|s| (s.path, s.issue.kind, s.issue.line))
            .collect()
    }

    const CONFLUENT: &str =
        "package main\n\nimport \"github.com/confluentinc/confluent-kafka-go/v2/kafka\"\n";

    #[test]
    fn confluent_produce_without_checks() {
        let text = format!(
            "{CONFLUENT}
func main() {{
\tp, err := kafka.NewProducer(&kafka.ConfigMap{{\"bootstrap.servers\": \"localhost\"}})
\tif err != nil {{
\t\tpanic(err)
\t}}
\tdefer p.Close()
\tp.Produce(&kafka.Message{{Value: []byte(\"x\")}}, nil)
\tif err := p.Produce(msg, nil); err != nil {{
\t\tlog.Debugf(\"produce failed: %v\", err)
\t}}
}}
"
        );
        assert_eq!(
            issues(&[("main.go", &text)]),
            [
                ("main.go".into(), Kind::NoFlush, 6),
                ("main.go".into(), Kind::NoPoll, 6),
                ("main.go".into(), Kind::UncheckedSend, 11),
                ("main.go".into(), Kind::UncheckedSend, 12),
                ("main.go".into(), Kind::ErrorsHidden, 12)
            ]
        );
    }

    #[test]
    fn confluent_events_drained_in_another_file_of_the_package() {
        let main = format!(
            "{CONFLUENT}
func main() {{
\tp, err := kafka.NewProducer(cfg)
\tif err != nil {{ log.Fatal(err) }}
\tgo handle(p)
\tif err := p.Produce(msg, nil); err != nil {{
\t\tlog.Printf(\"produce failed: %v\", err)
\t}}
\tp.Flush(15000)
\tp.Close()
}}
"
        );
        let events = format!(
            "{CONFLUENT}
func handle(producer *kafka.Producer) {{
\tfor e := range producer.Events() {{
\t\tswitch ev := e.(type) {{
\t\tcase *kafka.Message:
\t\t\tif ev.TopicPartition.Error != nil {{
\t\t\t\tlog.Printf(\"delivery failed: %v\", ev.TopicPartition.Error)
\t\t\t}}
\t\t}}
\t}}
}}
"
        );
        assert_eq!(issues(&[("main.go", &main), ("events.go", &events)]), []);
    }

    #[test]
    fn confluent_delivery_channel_and_report_checks() {
        let text = format!(
            "{CONFLUENT}
func send(p *kafka.Producer, msg *kafka.Message) error {{
\tdone := make(chan kafka.Event, 1)
\tif err := p.Produce(msg, done); err != nil {{
\t\treturn err
\t}}
\tm := (<-done).(*kafka.Message)
\tlog.Printf(\"delivered to %v\", m.TopicPartition)
\treturn nil
}}
"
        );
        assert_eq!(
            issues(&[("send.go", &text)]),
            [("send.go".into(), Kind::UncheckedSend, 10)]
        );
    }

    #[test]
    fn segmentio_writer() {
        let text = "package events

import (
\t\"context\"

\t\"github.com/segmentio/kafka-go\"
)

type Publisher struct {
\twriter *kafka.Writer
}

func New() *Publisher {
\tw := &kafka.Writer{
\t\tAddr:  kafka.TCP(\"localhost:9092\"),
\t\tAsync: true,
\t}
\treturn &Publisher{writer: w}
}

func (p *Publisher) Publish(ctx context.Context, m kafka.Message) {
\t_ = p.writer.WriteMessages(ctx, m)
\terr := p.writer.WriteMessages(ctx, m)
\tif err != nil {
\t\tslog.Debug(\"write failed\", \"err\", err)
\t}
}
";
        assert_eq!(
            issues(&[("publisher.go", text)]),
            [
                ("publisher.go".into(), Kind::NoFlush, 14),
                ("publisher.go".into(), Kind::UncheckedSend, 16),
                ("publisher.go".into(), Kind::UncheckedSend, 22),
                ("publisher.go".into(), Kind::ErrorsHidden, 24)
            ]
        );
    }

    const SARAMA: &str = "package main\n\nimport \"github.com/IBM/sarama\"\n";

    #[test]
    fn sarama_async_channels_and_close() {
        let text = format!(
            "{SARAMA}\nfunc main() {{\n\tcfg := sarama.NewConfig()\n\tcfg.Producer.Return.Successes = true\n\tp, err := sarama.NewAsyncProducer(brokers, cfg)\n\tif err != nil {{\n\t\tpanic(err)\n\t}}\n\tp.Input() <- msg\n}}\n"
        );
        assert_eq!(
            issues(&[("a.go", &text)]),
            // Errors() and Successes() both unread: one finding per producer and kind.
            [
                ("a.go".to_owned(), Kind::NoFlush, 8),
                ("a.go".to_owned(), Kind::NoPoll, 8),
            ]
        );
        let drained = text.replace(
            "\tp.Input() <- msg\n",
            "\tgo func() {\n\t\tfor e := range p.Errors() {\n\t\t\tlog.Print(e)\n\t\t}\n\t}()\n\tgo func() {\n\t\tfor range p.Successes() {\n\t\t}\n\t}()\n\tp.Input() <- msg\n\tp.AsyncClose()\n",
        );
        assert!(issues(&[("a.go", &drained)]).is_empty());
        let shopify = "package x\n\nimport \"github.com/Shopify/sarama\"\n\nfunc New(b []string) (sarama.AsyncProducer, error) {\n\tc := sarama.NewConfig()\n\tc.Producer.Return.Errors = false\n\treturn sarama.NewAsyncProducer(b, c)\n}\n";
        assert_eq!(
            issues(&[("b.go", shopify)]),
            [("b.go".to_owned(), Kind::UncheckedSend, 7)]
        );
    }

    #[test]
    fn sarama_sync_errors() {
        let text = format!(
            "{SARAMA}\nfunc Record(p sarama.SyncProducer, m *sarama.ProducerMessage) {{\n\tp.SendMessage(m)\n\t_, _, err := p.SendMessage(m)\n\tif err != nil {{\n\t\tslog.Debug(\"x\", \"err\", err)\n\t}}\n}}\n"
        );
        assert_eq!(
            issues(&[("a.go", &text)]),
            [
                ("a.go".to_owned(), Kind::UncheckedSend, 6),
                ("a.go".to_owned(), Kind::ErrorsHidden, 8),
            ]
        );
    }

    #[test]
    fn confluent_under_the_gopkg_module_path() {
        let text = "package main\n\nimport \"gopkg.in/confluentinc/confluent-kafka-go.v1/kafka\"\n\nfunc main() {\n\tp, _ := kafka.NewProducer(&kafka.ConfigMap{})\n\tdefer p.Close()\n}\n";
        let kinds: Vec<Kind> = issues(&[("a.go", text)]).into_iter().map(|i| i.1).collect();
        assert_eq!(kinds, [Kind::NoFlush, Kind::NoPoll]);
    }
}
