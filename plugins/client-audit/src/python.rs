//! Python: kafka-python (`KafkaProducer`), confluent-kafka (`Producer`,
//! `SerializingProducer`) and aiokafka (`AIOKafkaProducer`).
//!
//! The two clients fail differently, so they are judged differently:
//!
//! - **kafka-python** `send()` returns a `FutureRecordMetadata`. Flagged: a future dropped
//!   (not assigned, returned, passed on, `.get()`-ed, or given an errback); a future given only
//!   `add_callback` (success), never `add_errback`; an errback or `except` around `.get()`
//!   that only debug-logs (errors hidden) or does nothing. At interpreter exit kafka-python
//!   closes the producer itself with a short timeout (0 up to 3.0.6, 1 s from 3.0.7),
//!   aborting what is still buffered then: a producer created
//!   at script level (module level, in `main()` or under `if __name__ == "__main__"`) whose
//!   sends do not all block, and that is never flushed or closed, is **no flush**; one never
//!   closed is **not closed**.
//! - **confluent-kafka** `produce()` returns nothing: the delivery report reaches the
//!   `on_delivery`/`callback` function, and only while something calls `poll()` or `flush()`.
//!   Flagged: `produce()` with no delivery callback (none set in the config as
//!   `'on_delivery'` either, and no transaction whose commit would fail) is an **unchecked
//!   send**; a callback that ignores `err` or only
//!   debug-logs it; a producer never flushed (**no flush**: librdkafka's queue is lost at
//!   exit); a producer never polled (**no poll**) when it is long-lived (an attribute), sends
//!   in a loop, or is not flushed either — a one-shot `produce(); flush()` is fine.
//!
//! A module-level producer is usually imported elsewhere, so its `flush`/`close`/`poll` are
//! looked for in every Python file audited; others only in their own file. A producer
//! returned or yielded by a factory, or passed to a class (`Publisher(producer)`), belongs
//! to its new owner and is not judged here — but one built by a helper of this file
//! (`producer = make_producer()`, whose `make_producer` returns a construction) is judged
//! where it is kept. Constructions are recognised under import aliases (`import
//! confluent_kafka as ck`, `from kafka import KafkaProducer as KP`).
//!
//! - **kafka-python at exit**: the producer's `atexit` hook closes it with `timeout=0` in
//!   1.x to 3.0.6 and with `timeout=1` from 3.0.7 (`KafkaProducer._cleanup_factory`); the
//!   findings say so rather than claim one behaviour for every version.
//! - **forked workers** (both clients): a function run by `multiprocessing.Process(target=)`,
//!   a process pool's `map`/`apply_async`/`submit`, or an `os.fork()` child branch (`if pid
//!   == 0:`, and the functions it calls), that sends with a producer it did not create is
//!   **no flush**: the producer's I/O thread does not survive `fork`, and the child leaves
//!   through `os._exit` without exit hooks. In a file that starts processes, a thread pool's
//!   `map`/`submit` targets are judged the same way (the names do not tell them apart).
//! - **sends in threads**: a send in a lambda that is a thread's `target` or a timer's
//!   callback drops its future.
//! - **aiokafka** (every release up to 0.14): `send()` not awaited never even enqueues;
//!   `await send()` whose returned delivery future is dropped is unchecked; `send_and_wait`
//!   is judged by its `except` blocks; a producer never `stop()`ped (which flushes) is **no
//!   flush**. `faust` is not covered.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::model::{FileAudit, Issue, Kind};
use crate::reaction::{Reaction, classify};
use crate::source::{Context, Source, ends_with_assignment, mentions, offset_in, split_arguments};

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

static KAFKA_PYTHON_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?m)^\s*(?:from\s+kafka(?:\.producer)?\s+import\b|import\s+kafka\b)"));
static AIOKAFKA_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?m)^\s*(?:from\s+aiokafka(?:\.[\w.]+)?\s+import\b|import\s+aiokafka\b)")
});
static AIOKAFKA_SEND: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b(?:self\s*\.\s*)?([A-Za-z_]\w*)\s*\.\s*(send|send_and_wait|send_batch)\s*\(")
});
/// A process started from a function: `Process(target=work)`, `pool.map(work, ...)`,
/// `executor.submit(work, ...)` (with a process pool).
static FORKED_TARGET: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\bProcess\s*\([^()]*?\btarget\s*=\s*([A-Za-z_]\w*)|\.\s*(?:map|map_async|imap|imap_unordered|starmap|starmap_async|apply|apply_async|submit)\s*\(\s*([A-Za-z_]\w*)\s*[,)]",
    )
});
/// Something in the file starts worker processes.
static PROCESSES: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\bmultiprocessing\b|\bProcessPoolExecutor\b|\bos\s*\.\s*fork\s*\("));
/// Callers that run a lambda and throw away what it returns (a thread, a timer, a signal
/// handler): a future returned there is dropped.
const DISCARDING: &[&str] = &[
    "Thread",
    "Timer",
    "call_soon",
    "call_later",
    "signal",
    "register",
];
static BINDING: LazyLock<Regex> = LazyLock::new(|| regex(r"([A-Za-z_]\w*)\s*(?::[^=]*)?=$"));
static PRODUCE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:self\s*\.\s*)?([A-Za-z_]\w*)\s*\.\s*produce\s*\("));
static SEND: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:self\s*\.\s*)?([A-Za-z_]\w*)\s*\.\s*send\s*\("));
static CALLBACK_ARGUMENT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:callback|on_delivery)\s*=\s*"));
static CONFIGURED_CALLBACK: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"['"]on_delivery['"]\s*:\s*(?:self\s*\.\s*)?([A-Za-z_]\w*)"#));
static ERRBACK: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\.add_errback\s*\(\s*(?:self\s*\.\s*)?(lambda\b|[A-Za-z_]\w*)"));
static LAMBDA: LazyLock<Regex> = LazyLock::new(|| regex(r"^lambda\s+([^:]*):(.*)$"));
static LOOP_HEADER: LazyLock<Regex> = LazyLock::new(|| regex(r"^(?:async\s+)?(?:for|while)\b"));
static MAIN_GUARD: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^if\s+__name__\s*==\s*['"]\s*__main__\s*['"]|^def\s+main\s*\("#));

/// What kafka-python's exit hook does with a producer nobody closed (`KafkaProducer.
/// _cleanup_factory`, registered with `atexit`): 1.x to 3.0.6 call `close(timeout=0)`, which
/// force-closes at once; 3.0.7 (the "stalled shutdown" fix) calls `close(timeout=1)`, which
/// flushes for at most one second and then force-closes. Either way, records not delivered
/// by then are aborted — and a process ended by a signal or `os._exit` runs no hook at all.
const KAFKA_PYTHON_AT_EXIT: &str = "at interpreter exit kafka-python closes it itself — with \
     timeout=0 in versions up to 3.0.6 (records still buffered are aborted at once), with \
     timeout=1 from 3.0.7 (records not delivered within one second are aborted) — and not at \
     all when the process is killed or leaves through os._exit";

/// Which parameter of a callback holds the error.
#[derive(Clone, Copy)]
enum ErrorParameter {
    /// confluent-kafka's `on_delivery(err, msg)`.
    First,
    /// kafka-python's `add_errback(f, *args)` calls `f(*args, exception)`.
    Last,
}

/// Audit one Python file.
pub fn audit(source: &Source) -> FileAudit {
    let mut audit = FileAudit {
        calls: source.calls(),
        ..FileAudit::default()
    };
    let python = Python { source };
    if source.text().contains("confluent_kafka") {
        let constructor = constructor(
            source.text(),
            "confluent_kafka",
            &["Producer", "SerializingProducer", "AvroProducer"],
        );
        python.confluent(&constructor, &mut audit);
    }
    if KAFKA_PYTHON_IMPORT.is_match(source.text()) {
        let constructor = constructor(source.text(), "kafka", &["KafkaProducer"]);
        python.kafka_python(&constructor, &mut audit);
    }
    if AIOKAFKA_IMPORT.is_match(source.text()) {
        let constructor = constructor(source.text(), "aiokafka", &["AIOKafkaProducer"]);
        python.aiokafka(&constructor, &mut audit);
    }
    audit
}

/// How `module`'s producer classes are constructed in this file: by their own names, through
/// the module or an alias of it (`import confluent_kafka as ck` … `ck.Producer(`), or under
/// an imported alias (`from kafka import KafkaProducer as KP`).
fn constructor(text: &str, module: &str, classes: &[&str]) -> Regex {
    let module_escaped = regex::escape(module);
    let mut modules = vec![module_escaped.clone()];
    let mut names: Vec<String> = classes.iter().map(|c| (*c).to_owned()).collect();
    let module_alias = regex(&format!(
        r"(?m)^\s*import\s+{module_escaped}\s+as\s+([A-Za-z_]\w*)"
    ));
    modules.extend(module_alias.captures_iter(text).map(|c| c[1].to_owned()));
    let from_import = regex(&format!(
        r"(?m)^\s*from\s+{module_escaped}(?:\.[\w.]+)?\s+import\s+\(?([^)\n]*)"
    ));
    for imported in from_import.captures_iter(text) {
        for item in imported[1].split(',') {
            let mut words = item.split_whitespace();
            if let (Some(class), Some("as"), Some(alias)) =
                (words.next(), words.next(), words.next())
                && classes.contains(&class)
            {
                names.push(alias.to_owned());
            }
        }
    }
    regex(&format!(
        r"\b(?:(?:{})\s*\.\s*)?(?:{})\s*\(",
        modules.join("|"),
        names.join("|")
    ))
}

/// A producer created in this file and kept in a variable or attribute.
struct Created {
    name: String,
    line: usize,
    /// `self.producer = ...`: lives as long as its object.
    attribute: bool,
    /// Created at module level: other modules import it.
    module_level: bool,
}

struct Python<'a> {
    source: &'a Source,
}

impl Python<'_> {
    fn code(&self) -> &str {
        self.source.code()
    }

    /// Producers constructed with `pattern`, counted, with those this file owns returned.
    fn created(&self, pattern: &Regex, audit: &mut FileAudit) -> Vec<Created> {
        let mut created = Vec::new();
        for found in pattern.find_iter(self.code()) {
            let before = self.code()[..found.start()].trim_end();
            if before.ends_with("class") || before.ends_with("def") || before.ends_with('.') {
                continue;
            }
            let Some(close) = self.source.partner(found.end() - 1) else {
                continue;
            };
            audit.producers += 1;
            let context = self.source.context(found.start(), close + 1);
            let line = self.source.line(found.start());
            if context.before == "return" {
                // A helper that builds the producer: whoever calls it owns what it returns.
                if let Some(factory) = self.enclosing_def(line) {
                    created.extend(self.built_by(&factory));
                }
                continue;
            }
            if context.enclosing.is_some() || !ends_with_assignment(context.before) {
                continue;
            }
            let Some(binding) = BINDING.captures(context.before) else {
                continue;
            };
            let name = binding[1].to_owned();
            if self.handed_over(&name) {
                continue;
            }
            created.push(Created {
                attribute: context.before.starts_with("self.")
                    || context.before.starts_with("cls."),
                module_level: indent(self.source.code_line(line)) == 0,
                name,
                line,
            });
        }
        created
    }

    /// The name of the function whose body holds `line`, if any.
    fn enclosing_def(&self, line: usize) -> Option<String> {
        static DEF: LazyLock<Regex> =
            LazyLock::new(|| regex(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\("));
        self.headers(line).into_iter().find_map(|header| {
            DEF.captures(self.source.code_line(header).trim())
                .map(|c| c[1].to_owned())
        })
    }

    /// Producers kept from a call to the helper `factory` (`producer = make_producer()`,
    /// `self.producer = make_producer()`), as if constructed there.
    fn built_by(&self, factory: &str) -> Vec<Created> {
        let call = regex(&format!(
            r"(?m)^([ \t]*)((?:self\s*\.\s*|cls\s*\.\s*)?)([A-Za-z_]\w*)\s*(?::[^=\n]*)?=\s*(?:self\s*\.\s*|cls\s*\.\s*)?{}\s*\(",
            regex::escape(factory)
        ));
        call.captures_iter(self.code())
            .filter(|found| !self.handed_over(&found[3]))
            .map(|found| Created {
                name: found[3].to_owned(),
                line: self.source.line(found.get(3).expect("group 3").start()),
                attribute: !found[2].is_empty(),
                module_level: found[1].is_empty(),
            })
            .collect()
    }

    /// Sends made in a function that runs in a forked worker process
    /// (`multiprocessing.Process(target=work)`, `pool.map(work, ...)`) with a producer the
    /// worker did not create: it was built in the parent. librdkafka's and kafka-python's
    /// background threads do not survive `fork`, and a multiprocessing child leaves through
    /// `os._exit` without running exit hooks, so what the worker enqueues is never delivered.
    /// `send` matches a send and captures the producer's name in group 1.
    fn forked_sends(&self, send: &Regex, audit: &mut FileAudit) {
        static FORK: LazyLock<Regex> =
            LazyLock::new(|| regex(r"(?m)^[ \t]*([A-Za-z_]\w*)\s*=\s*os\s*\.\s*fork\s*\(\s*\)"));
        static CALL: LazyLock<Regex> = LazyLock::new(|| regex(r"\b([A-Za-z_]\w*)\s*\("));
        if !PROCESSES.is_match(self.code()) {
            return;
        }
        // What runs in a child process: worker functions, and `os.fork()` child branches
        // (`if pid == 0:`) with the functions they call.
        let mut children: Vec<(String, Vec<usize>)> = Vec::new();
        let mut workers: BTreeSet<&str> = FORKED_TARGET
            .captures_iter(self.code())
            .filter_map(|c| c.get(1).or(c.get(2)))
            .map(|m| m.as_str())
            .collect();
        for fork in FORK.captures_iter(self.code()) {
            let pid = regex::escape(&fork[1]);
            let child = regex(&format!(
                r"(?m)^[ \t]*if\s+(?:{pid}\s*==\s*0|not\s+{pid})\s*:"
            ));
            let from = fork.get(0).expect("match").end();
            let Some(found) = child.find_at(self.code(), from) else {
                continue;
            };
            let body = self.block(self.source.line(found.start()));
            for &line in &body {
                for call in CALL.captures_iter(self.source.code_line(line)) {
                    workers.insert(call.get(1).expect("group 1").as_str());
                }
            }
            children.push(("the `os.fork()` child".to_owned(), body));
        }
        for worker in workers {
            let def = regex(&format!(r"(?m)^[ \t]*def\s+{}\s*\(", regex::escape(worker)));
            if let Some(found) = def.find(self.code()) {
                let body = self.block(self.source.line(found.start()));
                children.push((format!("`{worker}`"), body));
            }
        }
        for (child, body) in children {
            let text: String = body
                .iter()
                .map(|&l| self.source.code_line(l))
                .collect::<Vec<_>>()
                .join("\n");
            for send in send.captures_iter(&text) {
                let name = &send[1];
                let own = regex(&format!(r"\b{}\s*(?::[^=\n]*)?=[^=]", regex::escape(name)));
                if own.is_match(&text) {
                    continue;
                }
                let at = send.get(0).expect("match").start();
                let line = body[text[..at].matches('\n').count()];
                audit.issues.push(Issue::new(
                    Kind::NoFlush,
                    line,
                    format!(
                        "{child} runs in a forked process and sends with `{name}`, which the \
                         parent process created: the producer's background thread does not \
                         survive the fork and the child exits without flushing, so these \
                         records are never delivered"
                    ),
                    "Create the producer in the child (inside the worker, or in the pool's \
                     `initializer`) and `flush()` it before the child exits; never share a \
                     producer across `fork`.",
                ));
                break;
            }
        }
    }

    /// Returned or yielded (a factory, a fixture), or passed to a class: owned elsewhere.
    fn handed_over(&self, name: &str) -> bool {
        let name = regex::escape(name);
        regex(&format!(
            r"\b(?:return|yield)\s+(?:self\s*\.\s*)?{name}\b|\b[A-Z]\w*\s*\((?:[^()]*[,(]\s*)?(?:\w+\s*=\s*)?(?:self\s*\.\s*)?{name}\s*[,)]"
        ))
        .is_match(self.code())
    }

    fn confluent(&self, constructor: &Regex, audit: &mut FileAudit) {
        self.forked_sends(&PRODUCE, audit);
        let created = self.created(constructor, audit);
        let names: BTreeSet<&str> = created.iter().map(|c| c.name.as_str()).collect();
        let configured = CONFIGURED_CALLBACK
            .captures(self.source.text())
            .map(|c| c[1].to_owned());
        if let Some(callback) = &configured {
            self.judge_function(callback, ErrorParameter::First, audit);
        }
        let mut in_loop = BTreeSet::new();
        for found in PRODUCE.captures_iter(self.code()) {
            let name = &found[1];
            if !names.contains(name) && !name.to_lowercase().contains("producer") {
                continue;
            }
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            audit.send_sites += 1;
            let line = self.source.line(whole.start());
            if self.in_loop(line) {
                in_loop.insert(name.to_owned());
            }
            let arguments = &self.code()[whole.end()..close];
            match callback_argument(arguments) {
                Some(value) => {
                    let at = whole.end() + offset_in(arguments, value);
                    self.judge_callback_value(value, at, ErrorParameter::First, audit);
                }
                // In a transaction, a failed delivery makes `commit_transaction` raise.
                None if configured.is_some() || audit.has_call(name, "commit_transaction") => {}
                None => audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    line,
                    format!(
                        "`{name}.produce(...)` has no delivery callback: whether the message \
                         was delivered is never checked"
                    ),
                    format!(
                        "Pass `on_delivery=delivery_report` and log `err` at ERROR in it — `def \
                         delivery_report(err, msg): if err is not None: log.error(\"delivery \
                         failed: %s\", err)` — then call `{name}.poll(0)` after each produce."
                    ),
                )),
            }
        }
        for producer in &created {
            let name = &producer.name;
            audit.issues.push(
                Issue::new(
                    Kind::NoFlush,
                    producer.line,
                    format!(
                        "confluent-kafka producer `{name}` is never flushed: messages still in \
                         librdkafka's queue are lost when the process exits"
                    ),
                    format!(
                        "Call `{name}.flush()` before the process exits (on shutdown, or \
                         `atexit.register({name}.flush)`), and log it when it returns a \
                         non-zero count of undelivered messages."
                    ),
                )
                .unless(&[name], &["flush"])
                .shared(producer.module_level)
                .about_producer(producer.line),
            );
            let polled_by: &'static [&'static str] = if producer.attribute || in_loop.contains(name)
            {
                &["poll"]
            } else {
                &["poll", "flush"]
            };
            audit.issues.push(
                Issue::new(
                    Kind::NoPoll,
                    producer.line,
                    format!(
                        "`{name}` is never polled: delivery callbacks never run, and the local \
                         queue fills until `produce()` raises BufferError"
                    ),
                    format!(
                        "Call `{name}.poll(0)` after each `produce()` (or poll from a \
                         background thread) so that delivery reports are served."
                    ),
                )
                .unless(&[name], polled_by)
                .shared(producer.module_level)
                .about_producer(producer.line),
            );
        }
    }

    fn kafka_python(&self, constructor: &Regex, audit: &mut FileAudit) {
        self.forked_sends(&SEND, audit);
        let created = self.created(constructor, audit);
        let names: BTreeSet<&str> = created.iter().map(|c| c.name.as_str()).collect();
        let mut buffering = BTreeSet::new();
        for found in SEND.captures_iter(self.code()) {
            let name = &found[1];
            if !names.contains(name) && !name.to_lowercase().contains("producer") {
                continue;
            }
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            audit.send_sites += 1;
            let line = self.source.line(whole.start());
            let context = self.source.context(whole.start(), close + 1);
            let chain = context.after;
            if chain.contains(".get(") {
                self.judge_excepts(line, audit);
                continue;
            }
            buffering.insert(name.to_owned());
            if let Some(errback) = ERRBACK.captures(chain) {
                let target = errback.get(1).expect("group 1");
                let at = offset_in(self.code(), chain) + target.start();
                // A lambda runs to the `)` closing `add_errback(`: its body has commas and
                // parentheses of its own (`lambda e: log.error("lost: %s", e)`).
                let whole = errback.get(0).expect("match");
                let open = offset_in(self.code(), chain)
                    + whole.start()
                    + whole.as_str().find('(').unwrap_or_default();
                let value = match self.source.partner(open) {
                    Some(close) if target.as_str() == "lambda" => &self.code()[at..close],
                    _ => self.code()[at..]
                        .split([')', ','])
                        .next()
                        .unwrap_or_default(),
                };
                self.judge_callback_value(value, at, ErrorParameter::Last, audit);
                continue;
            }
            if chain.contains(".add_both(") || future_kept(self.source, &context) {
                continue;
            }
            audit.issues.push(if chain.contains(".add_callback(") {
                Issue::new(
                    Kind::UncheckedSend,
                    line,
                    format!(
                        "`{name}.send(...)` only has a success callback (`add_callback`): a \
                         failed send is never seen"
                    ),
                    "Add an errback that logs the exception at ERROR: \
                     `.add_errback(lambda e: log.error(\"send failed: %s\", e))`.",
                )
            } else {
                Issue::new(
                    Kind::UncheckedSend,
                    line,
                    format!(
                        "`{name}.send(...)` drops the returned future: a failed send is never \
                         seen"
                    ),
                    "Chain an errback that logs the exception at ERROR — \
                     `.add_errback(on_send_error)` — or call `.get(timeout=10)` where blocking \
                     is acceptable.",
                )
            });
        }
        for producer in &created {
            let name = &producer.name;
            if self.script_level(producer.line) && buffering.contains(name) {
                audit.issues.push(
                    Issue::new(
                        Kind::NoFlush,
                        producer.line,
                        format!(
                            "`{name}` is never flushed or closed before the script ends: \
                             {KAFKA_PYTHON_AT_EXIT}"
                        ),
                        format!(
                            "Call `{name}.flush()` and `{name}.close()` before the script ends."
                        ),
                    )
                    .unless(&[name], &["flush", "close"])
                    .shared(producer.module_level)
                    .about_producer(producer.line),
                );
            }
            audit.issues.push(
                Issue::new(
                    Kind::NotClosed,
                    producer.line,
                    format!(
                        "kafka-python producer `{name}` is never closed: {KAFKA_PYTHON_AT_EXIT}"
                    ),
                    format!(
                        "Call `{name}.close()` on shutdown (it flushes first), e.g. from the \
                         application's shutdown handler or `atexit.register({name}.close)`."
                    ),
                )
                .unless(&[name], &["close"])
                .shared(producer.module_level)
                .about_producer(producer.line),
            );
        }
    }

    /// aiokafka (every release up to 0.14): `send()` is a coroutine that enqueues the record
    /// and returns an `asyncio.Future` of its delivery; `send_and_wait()` awaits both;
    /// `stop()` flushes the pending batches and closes (`aiokafka/producer/producer.py`).
    fn aiokafka(&self, constructor: &Regex, audit: &mut FileAudit) {
        let created = self.created(constructor, audit);
        let names: BTreeSet<&str> = created.iter().map(|c| c.name.as_str()).collect();
        for found in AIOKAFKA_SEND.captures_iter(self.code()) {
            let name = &found[1];
            if !names.contains(name) && !name.to_lowercase().contains("producer") {
                continue;
            }
            let method = &found[2];
            let whole = found.get(0).expect("match");
            let Some(close) = self.source.partner(whole.end() - 1) else {
                continue;
            };
            audit.send_sites += 1;
            let line = self.source.line(whole.start());
            let context = self.source.context(whole.start(), close + 1);
            let before = context.before;
            let awaited =
                before == "await" || before.ends_with(" await") || before.ends_with("=await");
            if !awaited {
                // A coroutine handed on (`create_task(...)`, `gather(...)`, assigned,
                // returned) is its new holder's to await.
                if future_kept(self.source, &context) {
                    continue;
                }
                audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    line,
                    format!(
                        "`{name}.{method}(...)` is never awaited: the coroutine never runs, so \
                         the record is not even enqueued"
                    ),
                    format!("`await {name}.send_and_wait(...)` in a `try` that logs the error."),
                ));
                continue;
            }
            if method == "send_and_wait" {
                self.judge_excepts(line, audit);
                continue;
            }
            if before == "await" && context.enclosing.is_none() && context.after.is_empty() {
                audit.issues.push(Issue::new(
                    Kind::UncheckedSend,
                    line,
                    format!(
                        "`await {name}.{method}(...)` only enqueues the record: the delivery \
                         future it returns is dropped, so a failed delivery is never seen"
                    ),
                    format!(
                        "Use `await {name}.send_and_wait(...)`, or keep the returned future and \
                         `await` it in a `try` that logs the error at ERROR."
                    ),
                ));
            }
        }
        for producer in &created {
            let name = &producer.name;
            audit.issues.push(
                Issue::new(
                    Kind::NoFlush,
                    producer.line,
                    format!(
                        "aiokafka producer `{name}` is never stopped: `stop()` is what flushes \
                         the batches still pending (lingering or not yet sent), so they are lost \
                         when the event loop ends"
                    ),
                    format!(
                        "`await {name}.stop()` on shutdown (in a `finally`), or use `async with \
                         AIOKafkaProducer(...) as {name}:`."
                    ),
                )
                .unless(&[name], &["stop", "flush"])
                .shared(producer.module_level)
                .about_producer(producer.line),
            );
        }
    }

    /// A callback given as `lambda err, msg: ...`, `name` or `self.name`.
    fn judge_callback_value(
        &self,
        value: &str,
        at: usize,
        which: ErrorParameter,
        audit: &mut FileAudit,
    ) {
        let line = self.source.line(at);
        if let Some(lambda) = LAMBDA.captures(value) {
            let Some(error) = pick(&lambda[1], which) else {
                return;
            };
            let body = lambda[2].trim();
            let reaction = if mentions(body, &error) {
                classify([body])
            } else {
                Reaction::Ignored
            };
            report_reaction(reaction, line, audit);
        } else {
            let name = value.trim_start_matches("self.").trim();
            if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                self.judge_function(name, which, audit);
            }
        }
    }

    /// The callback `def name(...)` in this file: what it does with the error.
    fn judge_function(&self, name: &str, which: ErrorParameter, audit: &mut FileAudit) {
        let def = regex(&format!(
            r"(?m)^[ \t]*(?:async\s+)?def\s+{}\s*\(([^)]*)\)[^:]*:",
            regex::escape(name)
        ));
        let Some(found) = def.captures(self.code()) else {
            return; // defined elsewhere: not judged
        };
        let Some(error) = pick(&found[1], which) else {
            return;
        };
        let header = self.source.line(found.get(0).expect("match").start());
        let body = self.block(header);
        let reaction = self.callback_reaction(&body, &error);
        report_reaction(reaction, header, audit);
    }

    /// Judge a callback body: the branch taken on error if there is one, else the
    /// statements that mention the error.
    fn callback_reaction(&self, body: &[usize], error: &str) -> Reaction {
        let all: String = body
            .iter()
            .map(|&l| self.source.code_line(l))
            .collect::<Vec<_>>()
            .join("\n");
        if !mentions(&all, error) {
            return Reaction::Ignored;
        }
        let escaped = regex::escape(error);
        let on_error = regex(&format!(
            r"^\s*if\s+(?:{escaped}\s+is\s+not\s+None|{escaped}\s*!=\s*None|{escaped}|not\s+{escaped}\s+is\s+None)\s*:(.*)$"
        ));
        let on_success = regex(&format!(
            r"^\s*if\s+(?:{escaped}\s+is\s+None|not\s+{escaped})\s*:"
        ));
        for &line in body {
            let code = self.source.code_line(line);
            if let Some(found) = on_error.captures(code) {
                let inline = found[1].trim();
                if !inline.is_empty() {
                    return classify([inline]);
                }
                return self.classify_block(line);
            }
            if on_success.is_match(code) {
                let else_line = self.block(line).last().map(|&l| l + 1).and_then(|next| {
                    (next..=self.source.line_count())
                        .find(|&l| !self.source.code_line(l).trim().is_empty())
                });
                if let Some(else_line) =
                    else_line.filter(|&l| self.source.code_line(l).trim() == "else:")
                {
                    return self.classify_block(else_line);
                }
            }
        }
        let statements = self.statements(body);
        classify(
            statements
                .iter()
                .map(String::as_str)
                .filter(|statement| mentions(statement, error)),
        )
    }

    fn classify_block(&self, header: usize) -> Reaction {
        let statements = self.statements(&self.block(header));
        classify(statements.iter().map(String::as_str))
    }

    /// `try: ... producer.send(...).get() ... except ...:` — what each `except` does.
    fn judge_excepts(&self, line: usize, audit: &mut FileAudit) {
        for header in self.headers(line) {
            let code = self.source.code_line(header).trim();
            if code != "try:" {
                continue;
            }
            let level = indent(self.source.code_line(header));
            let mut next = self.block(header).last().map_or(header + 1, |l| l + 1);
            while next <= self.source.line_count() {
                let code = self.source.code_line(next);
                if code.trim().is_empty() {
                    next += 1;
                    continue;
                }
                if indent(code) != level || !code.trim_start().starts_with("except") {
                    break;
                }
                match self.classify_block(next) {
                    Reaction::Handled => {}
                    Reaction::Ignored => audit.issues.push(Issue::new(
                        Kind::UncheckedSend,
                        next,
                        "The failure of a blocking send is caught and ignored",
                        "Log the exception at ERROR and fail or retry the operation that \
                         produced the record.",
                    )),
                    Reaction::QuietLog => audit.issues.push(quiet_log_issue(next)),
                }
                next = self.block(next).last().map_or(next + 1, |l| l + 1);
            }
        }
    }

    /// The lines of the block under the header at `header` (deeper-indented, blank lines
    /// inside included).
    fn block(&self, header: usize) -> Vec<usize> {
        let level = indent(self.source.code_line(header));
        let mut lines = Vec::new();
        let mut depth = bracket_depth(self.source.code_line(header));
        for line in header + 1..=self.source.line_count() {
            let code = self.source.code_line(line);
            if depth <= 0 && !code.trim().is_empty() && indent(code) <= level {
                break;
            }
            depth += bracket_depth(code);
            lines.push(line);
        }
        while lines
            .last()
            .is_some_and(|&l| self.source.code_line(l).trim().is_empty())
        {
            lines.pop();
        }
        lines
    }

    /// The top-level statements of a block, each with its continuation lines and nested
    /// blocks, as masked code.
    fn statements(&self, block: &[usize]) -> Vec<String> {
        let Some(level) = block
            .iter()
            .map(|&l| self.source.code_line(l))
            .find(|code| !code.trim().is_empty())
            .map(indent)
        else {
            return Vec::new();
        };
        let mut statements: Vec<String> = Vec::new();
        let mut depth = 0;
        for &line in block {
            let code = self.source.code_line(line);
            if code.trim().is_empty() {
                continue;
            }
            if depth <= 0 && indent(code) == level {
                statements.push(code.trim().to_owned());
            } else if let Some(last) = statements.last_mut() {
                last.push('\n');
                last.push_str(code.trim());
            }
            depth += bracket_depth(code);
        }
        statements
    }

    /// The headers (`def`, `for`, `try:` ...) that enclose a line, innermost first.
    fn headers(&self, line: usize) -> Vec<usize> {
        let mut headers = Vec::new();
        let mut level = indent(self.source.code_line(line));
        for candidate in (1..line).rev() {
            if level == 0 {
                break;
            }
            let code = self.source.code_line(candidate);
            if code.trim().is_empty() || indent(code) >= level {
                continue;
            }
            // A continuation line of a bracketed expression is not a header.
            if !code.trim_end().ends_with(':') {
                continue;
            }
            level = indent(code);
            headers.push(candidate);
        }
        headers
    }

    fn in_loop(&self, line: usize) -> bool {
        for header in self.headers(line) {
            let code = self.source.code_line(header).trim();
            if LOOP_HEADER.is_match(code) {
                return true;
            }
            if code.starts_with("def ")
                || code.starts_with("async def ")
                || code.starts_with("class ")
            {
                return false;
            }
        }
        false
    }

    /// Module level, in `main()` or under `if __name__ == "__main__":`.
    fn script_level(&self, line: usize) -> bool {
        let headers = self.headers(line);
        headers.is_empty()
            || headers
                .iter()
                .any(|&h| MAIN_GUARD.is_match(self.source.code_line(h).trim()))
    }
}

/// The value of a `callback=` / `on_delivery=` keyword argument, unless it is `None`. A
/// lambda runs to the end of the list: its own commas would split it.
fn callback_argument(arguments: &str) -> Option<&str> {
    let keyword = CALLBACK_ARGUMENT.find(arguments)?;
    let rest = &arguments[keyword.end()..];
    let value = if rest.starts_with("lambda") {
        rest.trim_end()
    } else {
        split_arguments(rest).into_iter().next()?
    };
    (value != "None").then_some(value)
}

/// Is the future kept for later (assigned, returned, passed on, or a lambda's value)? Not
/// when the lambda is a thread's `target` or a timer's callback: their value is discarded.
fn future_kept(source: &Source, context: &Context<'_>) -> bool {
    static DISCARDED_LAMBDA: LazyLock<Regex> =
        LazyLock::new(|| regex(r"(?:^|[\s,(])(?:target\s*=\s*)?lambda\b[^:]*:$"));
    let before = context.before;
    if let Some(paren) = context.enclosing
        && DISCARDED_LAMBDA.is_match(before)
    {
        let callee = crate::source::last_identifier(&source.code()[..paren]);
        if DISCARDING.contains(&callee) || before.contains("target") {
            return false;
        }
    }
    context.enclosing.is_some()
        || ends_with_assignment(before)
        || ["return", "yield", "await", "lambda"]
            .iter()
            .any(|keyword| before.starts_with(keyword))
}

/// The error parameter's name from a parameter list (`self` and `*args` skipped).
fn pick(parameters: &str, which: ErrorParameter) -> Option<String> {
    let names: Vec<&str> = parameters
        .split(',')
        .map(|p| p.split([':', '=']).next().unwrap_or_default().trim())
        .filter(|p| !p.is_empty() && !p.starts_with('*') && *p != "self" && *p != "cls")
        .collect();
    let name = match which {
        ErrorParameter::First => names.first(),
        ErrorParameter::Last => names.last(),
    };
    name.map(|n| (*n).to_owned())
}

fn report_reaction(reaction: Reaction, line: usize, audit: &mut FileAudit) {
    match reaction {
        Reaction::Handled => {}
        Reaction::Ignored => audit.issues.push(Issue::new(
            Kind::UncheckedSend,
            line,
            "This delivery callback never looks at the error: a failed delivery looks like a \
             success",
            "Check the error in the callback (`if err is not None:`) and log it at ERROR, \
             count it, or retry.",
        )),
        Reaction::QuietLog => audit.issues.push(quiet_log_issue(line)),
    }
}

fn quiet_log_issue(line: usize) -> Issue {
    Issue::new(
        Kind::ErrorsHidden,
        line,
        "Delivery failures are only logged at debug level: invisible at production log levels",
        "Log delivery failures with `logger.error(...)` (or `warning`) including the error, and \
         count them in a metric so that lost messages raise an alert.",
    )
}

fn indent(code: &str) -> usize {
    code.len() - code.trim_start().len()
}

/// Opened minus closed brackets on a line of masked code.
fn bracket_depth(code: &str) -> i32 {
    code.chars()
        .map(|c| match c {
            '(' | '[' | '{' => 1,
            ')' | ']' | '}' => -1,
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::settled_in_one_file;
    use crate::source::PYTHON;

    fn issues(text: &str) -> Vec<(Kind, usize)> {
        settled_in_one_file("x.py", "python", audit(&Source::new(text, &PYTHON)))
    }

    #[test]
    fn kafka_python_futures() {
        let text = r#"from kafka import KafkaProducer

class Publisher:
    def __init__(self, producer):
        self._producer = producer

    def publish(self, order):
        self._producer.send("orders", order)
        self._producer.send("orders", order).add_callback(on_ok)
        self._producer.send("orders", order).add_callback(on_ok).add_errback(on_error)
        future = self._producer.send("orders", order)
        return self._producer.send("orders", order)

def on_error(exc):
    log.debug("send failed: %s", exc)
"#;
        assert_eq!(
            issues(text),
            [
                (Kind::UncheckedSend, 8),
                (Kind::UncheckedSend, 9),
                (Kind::ErrorsHidden, 14)
            ]
        );
    }

    #[test]
    fn kafka_python_script_that_never_flushes() {
        let text = r#"import json
from kafka import KafkaProducer

producer = KafkaProducer(bootstrap_servers="localhost:9092")
for order in orders:
    producer.send("orders", json.dumps(order).encode()).add_errback(on_error)

def on_error(exc):
    log.error("send failed", exc_info=exc)
"#;
        assert_eq!(issues(text), [(Kind::NoFlush, 4)]);
        let flushed = format!("{text}producer.flush()\n");
        assert_eq!(issues(&flushed), [(Kind::NotClosed, 4)]);
        let closed = format!("{text}producer.close()\n");
        assert!(issues(&closed).is_empty());
    }

    #[test]
    fn blocking_sends_and_their_except_blocks() {
        let text = r#"from kafka import KafkaProducer
from kafka.errors import KafkaError

def send(producer, record):
    try:
        producer.send("t", record).get(timeout=10)
    except KafkaError as e:
        logger.debug("failed %s", e)
    try:
        producer.send("t", record).get(timeout=10)
    except KafkaError:
        pass
"#;
        assert_eq!(
            issues(text),
            [(Kind::ErrorsHidden, 7), (Kind::UncheckedSend, 11)]
        );
    }

    #[test]
    fn confluent_produce_callbacks_flush_and_poll() {
        let text = r#"from confluent_kafka import Producer

def delivery_report(err, msg):
    if err is not None:
        logger.debug("delivery failed: %s", err)

def main():
    producer = Producer({"bootstrap.servers": "localhost:9092"})
    for order in orders:
        producer.produce("orders", value=order)
        producer.produce("orders", value=order, on_delivery=delivery_report)
        producer.produce("orders", value=order, callback=lambda err, msg: None)
"#;
        assert_eq!(
            issues(text),
            [
                (Kind::ErrorsHidden, 3),
                (Kind::NoFlush, 8),
                (Kind::NoPoll, 8),
                (Kind::UncheckedSend, 10),
                (Kind::UncheckedSend, 12)
            ]
        );
    }

    #[test]
    fn confluent_one_shot_script_with_flush_needs_no_poll() {
        let text = r#"import confluent_kafka

def report(err, msg):
    if err:
        log.error("delivery failed: %s", err)
        raise SystemExit(1)

producer = confluent_kafka.Producer(conf)
producer.produce("audit", b"started", on_delivery=report)
producer.flush(10)
"#;
        assert!(issues(text).is_empty(), "{:?}", issues(text));
    }

    #[test]
    fn confluent_callback_in_config_and_long_lived_producer() {
        let text = r#"from confluent_kafka import Producer

class Events:
    def __init__(self, conf):
        self.producer = Producer({**conf, "on_delivery": self._delivered})

    def _delivered(self, err, msg):
        if err is None:
            metrics.sent.inc()
        else:
            logger.error("delivery failed: %s", err)

    def emit(self, event):
        self.producer.produce("events", event)

    def close(self):
        self.producer.flush()
"#;
        assert_eq!(issues(text), [(Kind::NoPoll, 5)]);
    }
}

#[cfg(test)]
mod depth_tests {
    use super::*;
    use crate::model::settled_in_one_file;
    use crate::source::PYTHON;

    fn issues(text: &str) -> Vec<(Kind, usize)> {
        settled_in_one_file("x.py", "python", audit(&Source::new(text, &PYTHON)))
    }

    #[test]
    fn aiokafka_sends_and_stop() {
        let text = r#"import asyncio

from aiokafka import AIOKafkaProducer


async def main():
    producer = AIOKafkaProducer(bootstrap_servers="localhost:9092", linger_ms=100)
    await producer.start()
    for i in range(100):
        await producer.send_and_wait("ticks", str(i).encode())
    producer.send("ticks", b"x")
    await producer.send("ticks", b"x")
    fut = await producer.send("ticks", b"x")
    asyncio.create_task(producer.send_and_wait("ticks", b"x"))


asyncio.run(main())
"#;
        assert_eq!(
            issues(text),
            [
                (Kind::NoFlush, 7),
                (Kind::UncheckedSend, 11),
                (Kind::UncheckedSend, 12)
            ]
        );
        let stopped = text.replace(
            "asyncio.run(main())",
            "asyncio.run(main())\nproducer.stop()",
        );
        assert_eq!(issues(&stopped).len(), 2);
    }

    #[test]
    fn producers_from_helpers_and_aliases() {
        let helper = r#"from confluent_kafka import Producer

def build():
    return Producer({"bootstrap.servers": "k:9092"})

producer = build()

def publish(v):
    producer.produce("t", v, on_delivery=report)
    producer.poll(0)

def report(err, msg):
    if err is not None:
        log.error("x %s", err)
"#;
        assert_eq!(issues(helper), [(Kind::NoFlush, 6)]);
        let aliased = r#"import confluent_kafka as ck
from kafka import KafkaProducer as KP

def publish(rows):
    p = ck.Producer(conf)
    for row in rows:
        p.produce("rows", row)
    p.flush()
    q = KP(bootstrap_servers="k:9092")
    q.send("t", b"x").add_errback(on_error)
    q.close()

def on_error(exc):
    log.error("x", exc_info=exc)
"#;
        assert_eq!(
            issues(aliased),
            [(Kind::NoPoll, 5), (Kind::UncheckedSend, 7)]
        );
    }

    #[test]
    fn forked_workers_with_the_parents_producer() {
        let text = r#"import multiprocessing
from kafka import KafkaProducer

producer = KafkaProducer(bootstrap_servers="k:9092")

def worker(rows):
    for row in rows:
        producer.send("rows", row).add_errback(on_error)

def own(rows):
    p = KafkaProducer(bootstrap_servers="k:9092")
    p.send("rows", rows).add_errback(on_error)
    p.close()

def on_error(exc):
    log.error("x", exc_info=exc)

if __name__ == "__main__":
    multiprocessing.Process(target=worker, args=([b"a"],)).start()
    with multiprocessing.Pool(2) as pool:
        pool.map(own, [b"a"])
    producer.close()
"#;
        assert_eq!(issues(text), [(Kind::NoFlush, 8)]);
        let threads = text.replace("multiprocessing.Process", "threading.Thread");
        let threads = threads.replace("import multiprocessing\n", "import threading\n");
        let threads = threads.replace(
            "    with multiprocessing.Pool(2) as pool:\n        pool.map(own, [b\"a\"])\n",
            "",
        );
        assert!(issues(&threads).is_empty(), "{:?}", issues(&threads));
    }

    #[test]
    fn a_send_in_a_thread_lambda_drops_its_future() {
        let text = r#"import threading
from kafka import KafkaProducer

class Beat:
    def __init__(self):
        self.producer = KafkaProducer()

    def beat(self):
        threading.Thread(target=lambda: self.producer.send("b", b"x")).start()
        values = list(map(lambda v: self.producer.send("b", v), vs))

    def close(self):
        self.producer.close()
"#;
        assert_eq!(issues(text), [(Kind::UncheckedSend, 9)]);
    }

    #[test]
    fn the_exit_hook_is_described_for_each_kafka_python_version() {
        let text = "from kafka import KafkaProducer\n\nproducer = KafkaProducer()\nproducer.send(\"t\", b\"x\").add_errback(on_error)\n";
        let audit = audit(&Source::new(text, &PYTHON));
        let no_flush = audit
            .issues
            .iter()
            .find(|i| i.kind == Kind::NoFlush)
            .expect("a no-flush issue");
        assert!(no_flush.title.contains("up to 3.0.6"), "{}", no_flush.title);
        assert!(
            no_flush.title.contains("timeout=1 from 3.0.7"),
            "{}",
            no_flush.title
        );
    }

    #[test]
    fn an_os_fork_child_sending_with_the_parents_producer() {
        let text = r#"import os
from confluent_kafka import Producer

producer = Producer({"bootstrap.servers": "k:9092"})

def index(doc):
    producer.produce("docs", doc, on_delivery=report)

def report(err, msg):
    if err is not None:
        log.error("x %s", err)

pid = os.fork()
if pid == 0:
    index(b"a")
    os._exit(0)
producer.poll(0)
producer.flush()
"#;
        assert_eq!(issues(text), [(Kind::NoFlush, 7)]);
    }

    #[test]
    fn an_errback_lambda_is_read_to_its_closing_parenthesis() {
        let text = r#"from kafka import KafkaProducer

def write(producer, row):
    producer.send("rows", row).add_errback(lambda e: log.error("lost: %s", e))
    producer.send("rows", row).add_errback(lambda e: log.debug("lost: %s", e))
    producer.send("rows", row).add_errback(lambda e: None)
"#;
        assert_eq!(
            issues(text),
            [(Kind::ErrorsHidden, 5), (Kind::UncheckedSend, 6)]
        );
    }
}
