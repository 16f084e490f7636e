//! End to end: the real `triage` binary runs `client-audit` over realistic application
//! trees in `tests/fixtures/apps/` — the same small apps (Java, Kotlin, Python with
//! kafka-python and confluent-kafka, Go with confluent-kafka-go and segmentio/kafka-go,
//! kafkajs in JavaScript and TypeScript, Rust with rdkafka) written carelessly (`broken/`,
//! each bug on a known line) and carefully (`correct/`), plus a tree with look-alike
//! `send` calls and no Kafka at all (`no-kafka/`).

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{Outcome, run, write_playbook};

fn apps(tree: &str) -> PathBuf {
    support::root().join("tests/fixtures/apps").join(tree)
}

/// Run a one-step playbook auditing `dir`, with `dir` granted.
fn audit(dir: &Path) -> Outcome {
    audit_with_grant(dir, dir)
}

fn audit_with_grant(dir: &Path, granted: &Path) -> Outcome {
    let temp = tempfile::tempdir().unwrap();
    let playbook = write_playbook(
        temp.path(),
        &format!(
            r#"Playbook(name: "client", title: "Producer code review", steps: [
                Step(id: "client", plugin: "client-audit", with: {{ "path": "{}" }},
                     allow: (files: ["{}"])),
            ])"#,
            dir.display(),
            granted.display()
        ),
    );
    run(&["run", playbook.to_str().unwrap(), "--format", "json"])
}

/// `(finding id, file:line relative to the tree)` of every finding, in report order.
fn findings(step: &Value, tree: &Path) -> Vec<(String, String)> {
    let prefix = format!("{}/", tree.display());
    step["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            let source = finding["evidence"][0]["source"].as_str().unwrap();
            (
                finding["id"].as_str().unwrap().to_owned(),
                source.strip_prefix(&prefix).unwrap_or(source).to_owned(),
            )
        })
        .collect()
}

/// Every bug planted in `tests/fixtures/apps/broken`, where it is, and what it is.
const BROKEN: &[(&str, &str)] = &[
    // confluent-kafka-go: Close without Flush, Events() never drained ...
    ("client.no-flush", "go-shipping/cmd/shipping/main.go:14"),
    ("client.no-poll", "go-shipping/cmd/shipping/main.go:14"),
    // ... and a Produce whose error and delivery report nobody looks at.
    (
        "client.unchecked-send",
        "go-shipping/internal/events/publisher.go:34",
    ),
    // segmentio/kafka-go: an async writer never closed, without Completion, errors dropped
    // or logged at debug.
    ("client.no-flush", "go-tracking/main.go:21"),
    ("client.unchecked-send", "go-tracking/main.go:25"),
    ("client.unchecked-send", "go-tracking/main.go:35"),
    ("client.errors-hidden", "go-tracking/main.go:45"),
    // Java: a callback that only debug-logs; forEach(producer::send).
    (
        "client.errors-hidden",
        "java-orders/src/main/java/com/example/orders/OrderPublisher.java:29",
    ),
    (
        "client.unchecked-send",
        "java-orders/src/main/java/com/example/orders/OrderPublisher.java:40",
    ),
    // Java main: never flushed or closed, a dropped Future, System.exit after sends.
    (
        "client.no-flush",
        "java-orders/src/main/java/com/example/orders/OrdersApp.java:35",
    ),
    (
        "client.unchecked-send",
        "java-orders/src/main/java/com/example/orders/OrdersApp.java:45",
    ),
    (
        "client.no-flush",
        "java-orders/src/main/java/com/example/orders/OrdersApp.java:49",
    ),
    // Java: an owned producer never closed; an onCompletion that only trace-logs.
    (
        "client.not-closed",
        "java-orders/src/main/java/com/example/orders/StatusEmitter.java:19",
    ),
    (
        "client.errors-hidden",
        "java-orders/src/main/java/com/example/orders/StatusEmitter.java:24",
    ),
    // Kotlin: never closed, a dropped Future, a trailing-lambda callback at debug.
    (
        "client.not-closed",
        "kotlin-billing/src/main/kotlin/com/example/billing/InvoicePublisher.kt:13",
    ),
    (
        "client.unchecked-send",
        "kotlin-billing/src/main/kotlin/com/example/billing/InvoicePublisher.kt:17",
    ),
    (
        "client.errors-hidden",
        "kotlin-billing/src/main/kotlin/com/example/billing/InvoicePublisher.kt:22",
    ),
    // kafkajs: never disconnected, a send not awaited, a catch at debug, .then without a
    // rejection handler (TypeScript).
    ("client.not-closed", "node-notifications/src/kafka.js:12"),
    (
        "client.unchecked-send",
        "node-notifications/src/notify.js:12",
    ),
    (
        "client.errors-hidden",
        "node-notifications/src/notify.js:24",
    ),
    ("client.unchecked-send", "node-notifications/src/push.ts:13"),
    // kafka-python: a module-level producer never flushed, a dropped future, a success-only
    // callback.
    ("client.no-flush", "python-inventory/inventory/events.py:12"),
    (
        "client.unchecked-send",
        "python-inventory/inventory/events.py:21",
    ),
    (
        "client.unchecked-send",
        "python-inventory/inventory/events.py:26",
    ),
    // confluent-kafka: a delivery report at debug, never flushed nor polled, a produce
    // without callback.
    (
        "client.errors-hidden",
        "python-payments/payments/publisher.py:11",
    ),
    (
        "client.no-flush",
        "python-payments/payments/publisher.py:21",
    ),
    ("client.no-poll", "python-payments/payments/publisher.py:21"),
    (
        "client.unchecked-send",
        "python-payments/payments/publisher.py:32",
    ),
    // rdkafka: a BaseProducer with the default context, never flushed nor polled, its
    // enqueue result dropped ...
    ("client.unchecked-send", "rust-ledger/src/main.rs:16"),
    ("client.no-flush", "rust-ledger/src/main.rs:16"),
    ("client.no-poll", "rust-ledger/src/main.rs:16"),
    ("client.unchecked-send", "rust-ledger/src/main.rs:30"),
    // ... and a FutureProducer send never awaited, a delivery error at debug.
    ("client.unchecked-send", "rust-ledger/src/publisher.rs:26"),
    ("client.errors-hidden", "rust-ledger/src/publisher.rs:32"),
];

#[test]
fn every_planted_bug_is_found_where_it_is_and_nothing_else() {
    let tree = apps("broken");
    let outcome = audit(&tree);
    assert_eq!(
        outcome.code, 1,
        "unchecked sends fail the check: {outcome:?}"
    );
    let step = outcome.step("client");
    assert_eq!(step["status"], "fail", "{step}");
    let expected: Vec<(String, String)> = BROKEN
        .iter()
        .map(|(id, at)| ((*id).to_owned(), (*at).to_owned()))
        .collect();
    assert_eq!(findings(&step, &tree), expected);

    for finding in step["findings"].as_array().unwrap() {
        assert_eq!(finding["cause"], finding["id"], "{finding}");
        assert!(
            finding["fix"].as_str().is_some_and(|fix| fix.len() > 20),
            "a concrete fix: {finding}"
        );
        let severity = if ["client.not-closed", "client.errors-hidden"]
            .contains(&finding["id"].as_str().unwrap())
        {
            "warn"
        } else {
            "fail"
        };
        assert_eq!(finding["severity"], severity, "{finding}");
    }

    let facts = &step["facts"];
    assert_eq!(facts["count.unchecked-send"], "14");
    assert_eq!(facts["count.no-flush"], "7");
    assert_eq!(facts["count.no-poll"], "3");
    assert_eq!(facts["count.not-closed"], "3");
    assert_eq!(facts["count.errors-hidden"], "7");
    assert_eq!(facts["files_audited"], "14");
    assert_eq!(facts["producers"], "10");
    assert_eq!(facts["send_sites"], "19");
    assert!(
        facts["files_scanned"]
            .as_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            > 14,
        "every file of the tree is scanned, not only the audited ones: {facts}"
    );
    assert_eq!(
        step["summary"],
        "14 unchecked sends, 7 missing flushes, 3 missing polls, 3 producers never closed, \
         7 delivery errors logged only at debug level in 14 files with producer code"
    );
}

#[test]
fn evidence_quotes_the_line_it_points_at() {
    let tree = apps("broken/java-orders");
    let step = audit(&tree).step("client");
    let send = step["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["evidence"][0]["source"]
                .as_str()
                .unwrap()
                .ends_with("OrdersApp.java:45")
        })
        .expect("the dropped Future in OrdersApp")
        .clone();
    assert_eq!(
        send["evidence"][0]["excerpt"],
        r#"producer.send(new ProducerRecord<>("orders", order.id(), line));"#
    );
    assert!(send["fix"].as_str().unwrap().contains("if (e != null)"));
}

#[test]
fn the_same_apps_written_carefully_have_no_finding() {
    let tree = apps("correct");
    let outcome = audit(&tree);
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let step = outcome.step("client");
    assert_eq!(step["status"], "pass", "{step}");
    assert_eq!(findings(&step, &tree), Vec::<(String, String)>::new());
    assert_eq!(
        step["summary"],
        "10 producers and 19 send sites in 14 files: no misuse found"
    );
    assert_eq!(step["facts"]["files_audited"], "14");
    assert_eq!(step["facts"]["count.unchecked-send"], "0");
}

#[test]
fn dropped_futures_and_no_flush_rank_unchecked_send_first() {
    // kafka-python: two dropped futures and a producer never flushed.
    for tree in [apps("broken/python-inventory"), apps("broken")] {
        let outcome = audit(&tree);
        let diagnosis = outcome.json()["diagnosis"].clone();
        let causes: Vec<&str> = diagnosis
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["cause"].as_str().unwrap())
            .collect();
        assert_eq!(
            causes[0],
            "client.unchecked-send",
            "{}: {causes:?}",
            tree.display()
        );
        assert!(causes.contains(&"client.no-flush"), "{causes:?}");
        assert_eq!(diagnosis[0]["severity"], "fail");
        assert_eq!(diagnosis[0]["steps"][0], "client");
    }
}

#[test]
fn a_tree_without_kafka_producer_code_passes_and_says_so() {
    // Look-alikes: a mail `Transport.send`, a job-queue `producer.send`, an AMQP producer, a
    // WebSocket `send`, a Rust mpsc `producer.send`, a Go channel send.
    let tree = apps("no-kafka");
    let outcome = audit(&tree);
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let step = outcome.step("client");
    assert_eq!(step["status"], "pass");
    assert!(step["findings"].as_array().unwrap().is_empty(), "{step}");
    assert_eq!(
        step["summary"],
        format!(
            "No Kafka producer code found in 5 files under {}",
            tree.display()
        )
    );
    assert_eq!(step["facts"]["files_audited"], "0");
}

#[test]
fn a_path_outside_the_grant_is_an_error_not_a_pass() {
    let outcome = audit_with_grant(&apps("broken"), &apps("correct"));
    let step = outcome.step("client");
    assert_eq!(step["status"], "error", "{step}");
    let finding = &step["findings"][0];
    assert_eq!(finding["id"], "client.unreadable");
    assert!(
        finding["evidence"][0]["excerpt"]
            .as_str()
            .unwrap()
            .starts_with("denied"),
        "{finding}"
    );
}

/// The labelled corpus in `tests/corpus/code/`: programs written for it, one per planted
/// misuse and one correct control per client, labelled (`labels.ron`) before the tool was
/// first run on them. Each file is audited by its own step, so that a `flush` in one file
/// cannot clear another's producer. Scored per `(file, cause)`: recall is the labelled
/// causes found, precision the reported causes that were labelled.
#[test]
fn corpus_recall_and_precision() {
    let corpus = support::root().join("tests/corpus/code");
    let labels: std::collections::BTreeMap<String, Vec<String>> =
        ron::from_str(&std::fs::read_to_string(corpus.join("labels.ron")).unwrap()).unwrap();
    let files: Vec<&String> = labels.keys().collect();
    for file in &files {
        assert!(corpus.join(file).is_file(), "labelled file missing: {file}");
    }
    let steps: String = files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            format!(
                r#"Step(id: "f{index}", plugin: "client-audit", with: {{ "path": "{}" }},
                        allow: (files: ["{}"])),"#,
                corpus.join(file).display(),
                corpus.display()
            )
        })
        .collect();
    let outcome = support::run_steps(&steps, &[]);

    let mut expected = std::collections::BTreeSet::new();
    let mut reported = std::collections::BTreeSet::new();
    for (index, file) in files.iter().enumerate() {
        for cause in &labels[*file] {
            if cause != "clean" {
                expected.insert(((*file).clone(), cause.clone()));
            }
        }
        let step = outcome.step(&format!("f{index}"));
        assert_ne!(step["status"], "error", "{file}: {step}");
        for finding in step["findings"].as_array().unwrap() {
            reported.insert((
                (*file).clone(),
                finding["cause"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let found = expected.intersection(&reported).count();
    let missed: Vec<_> = expected.difference(&reported).collect();
    let wrong: Vec<_> = reported.difference(&expected).collect();
    println!("missed: {missed:#?}");
    println!("wrong: {wrong:#?}");
    let recall = found as f64 / expected.len() as f64;
    let precision = if reported.is_empty() {
        1.0
    } else {
        found as f64 / reported.len() as f64
    };
    println!(
        "recall = {found}/{} = {recall:.2}, precision = {found}/{} = {precision:.2}",
        expected.len(),
        reported.len()
    );
    assert!(
        recall >= RECALL_FLOOR,
        "recall {recall:.2} below {RECALL_FLOOR}"
    );
    assert!(
        precision >= PRECISION_FLOOR,
        "precision {precision:.2} below {PRECISION_FLOOR}"
    );
}

/// The figures the corpus must keep (raise, never lower). Measured: before this work, on
/// the first batch, recall 9/32 and precision 9/10; the second and third batches, on their
/// first run, 7/9 and 7/7, then 6/6 and 6/7; all 47 labelled causes with 47/48 now (the one
/// unlabelled finding: confluent-kafka-go's per-send "nothing reads Events()" next to the
/// per-producer no-poll finding for the same cause).
const RECALL_FLOOR: f64 = 1.0;
const PRECISION_FLOOR: f64 = 0.97;
