//! Log signatures against real Kafka: each test injects one fault into the brokers of the
//! Kafka 4.4 lab (tests/lab/lab), takes the lines Kafka itself wrote while it happened, and
//! asserts that `triage run` of a log-grep step over them names the cause, with one of
//! Kafka's own lines as the evidence.
//!
//! Only the part of a log written after the fault was injected is scanned (the lab is shared
//! by the tests of this binary, so earlier faults are in the same files). Each segment is kept
//! under the target directory (`lab-logs/`) for inspection.
//!
//! Where the broker writes nothing at INFO for a fault (an oversized record, an unknown topic
//! with auto-creation off), the evidence is the Java producer's own log4j output.
//!
//! The last test scores log-grep over the labelled corpus of such logs captured earlier
//! (tests/corpus/logs, labels in labels.ron written before log-grep ever ran on them).

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use support::lab::Lab;
use support::{Outcome, run_steps};

/// Where a log stood before a fault: the bytes after `offset` are what the fault produced.
struct Mark {
    path: PathBuf,
    offset: u64,
}

fn mark(path: PathBuf) -> Mark {
    let offset = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Mark { path, offset }
}

/// Wait until none of the logs has grown for a second (Kafka finished writing about the
/// fault; at most 20 s), then write what they gained since their marks into one file.
fn segment(name: &str, marks: &[Mark]) -> PathBuf {
    let size = |m: &Mark| std::fs::metadata(&m.path).map(|x| x.len()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last: Vec<u64> = marks.iter().map(size).collect();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now: Vec<u64> = marks.iter().map(size).collect();
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
    }
    let mut text = Vec::new();
    for m in marks {
        let bytes = std::fs::read(&m.path).unwrap_or_else(|e| panic!("{}: {e}", m.path.display()));
        let start = usize::try_from(m.offset).unwrap().min(bytes.len());
        text.extend_from_slice(&bytes[start..]);
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lab-logs");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.log"));
    std::fs::write(&path, &text).unwrap();
    assert!(!text.is_empty(), "Kafka wrote nothing for {name}");
    path
}

/// `triage run` of one log-grep step (the default signatures) over `log`.
fn log_grep(log: &Path) -> Outcome {
    let log = log.display();
    run_steps(
        &format!(
            r#"Step(id: "logs", plugin: "log-grep", with: {{ "path": "{log}" }},
                    allow: (files: ["{log}"]))"#
        ),
        &[],
    )
}

fn causes(outcome: &Outcome) -> Vec<String> {
    outcome.json()["diagnosis"]
        .as_array()
        .expect("a diagnosis")
        .iter()
        .map(|c| c["cause"].as_str().unwrap().to_owned())
        .collect()
}

/// Assert that the diagnosis names `cause`, with evidence that is a line of `log` containing
/// one of `wording` (the words Kafka uses for it).
fn assert_named(outcome: &Outcome, log: &Path, cause: &str, wording: &[&str]) {
    let diagnosis = outcome.json()["diagnosis"].clone();
    let found = diagnosis
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cause"] == cause)
        .unwrap_or_else(|| {
            panic!(
                "{cause} not named from {}; diagnosis: {:?}\nstep: {}",
                log.display(),
                causes(outcome),
                outcome.step("logs")
            )
        });
    let text = std::fs::read_to_string(log).unwrap();
    let evidence: Vec<&str> = found["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["excerpt"].as_str().unwrap())
        .collect();
    // The host keeps a bounded excerpt (cut with " …"): Kafka's line starts with it.
    let from_log = |excerpt: &str| {
        let kept = excerpt.trim_end().trim_end_matches(" …");
        text.lines().any(|line| line.starts_with(kept))
    };
    assert!(
        evidence
            .iter()
            .any(|e| from_log(e) && wording.iter().any(|w| e.contains(w))),
        "{cause}: no evidence line from {} saying any of {wording:?}: {evidence:#?}",
        log.display()
    );
}

/// Causes that would be a false diagnosis for a fault.
fn assert_not_named(outcome: &Outcome, forbidden: &[&str]) {
    let named = causes(outcome);
    for cause in forbidden {
        assert!(
            !named.iter().any(|c| c == cause),
            "{cause} named falsely: {named:?}"
        );
    }
}

/// The diagnosis leads with one of `expected`.
fn assert_first(outcome: &Outcome, expected: &[&str]) {
    let named = causes(outcome);
    assert!(
        named
            .first()
            .is_some_and(|c| expected.contains(&c.as_str())),
        "diagnosis[0] should be one of {expected:?}: {named:?}"
    );
}

const DISK_AND_MEMORY: [&str; 4] = [
    "broker.disk-full",
    "broker.log-dir-failed",
    "broker.file-limit",
    "broker.out-of-memory",
];

#[test]
fn a_stopped_broker_shrinks_the_isr_on_the_surviving_brokers() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("sig-isr", 3, 3, &["min.insync.replicas=2"]);
    let marks = [mark(lab.log_path("1")), mark(lab.log_path("2"))];
    scenario.stop(3);
    let log = segment("broker-stop.survivors", &marks);
    let outcome = log_grep(&log);
    // Kafka 4.x writes no "Shrinking ISR" here: the controller shrinks the ISR and the
    // survivors log the new partition registration.
    assert_named(&outcome, &log, "isr.under-replicated", &["isr=[", "ISR ["]);
    assert_first(&outcome, &["isr.under-replicated"]);
    assert_not_named(&outcome, &DISK_AND_MEMORY);
}

#[test]
fn a_killed_broker_is_fenced_by_the_controller_and_leaves_the_isr() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("sig-isr", 3, 3, &["min.insync.replicas=2"]);
    let controller = [mark(lab.log_path("controller"))];
    let survivors = [mark(lab.log_path("1")), mark(lab.log_path("2"))];
    scenario.kill(3);

    let log = segment("broker-kill.controller", &controller);
    let outcome = log_grep(&log);
    assert_named(&outcome, &log, "broker.fenced", &["Fencing broker 3"]);
    assert_first(&outcome, &["broker.fenced"]);
    assert_not_named(&outcome, &DISK_AND_MEMORY);

    let log = segment("broker-kill.survivors", &survivors);
    let outcome = log_grep(&log);
    assert_named(&outcome, &log, "isr.under-replicated", &["isr=[", "ISR ["]);
    assert_not_named(&outcome, &DISK_AND_MEMORY);
}

#[test]
fn a_paused_broker_is_fenced_when_its_session_times_out() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("sig-isr", 3, 3, &["min.insync.replicas=2"]);
    let controller = [mark(lab.log_path("controller"))];
    scenario.pause(3);
    let log = segment("broker-pause.controller", &controller);
    scenario.resume(3);
    let outcome = log_grep(&log);
    assert_named(
        &outcome,
        &log,
        "broker.fenced",
        &["because its session has timed out"],
    );
    assert_first(&outcome, &["broker.fenced"]);
    assert_not_named(&outcome, &DISK_AND_MEMORY);
}

#[test]
fn a_full_log_dir_is_named_disk_full_and_takes_the_log_dir_offline() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("sig-isr", 3, 3, &["min.insync.replicas=2"]);
    let broker = [mark(lab.log_path("3"))];
    scenario.break_log_dir(3, "full");
    let log = segment("disk-full", &broker);
    let outcome = log_grep(&log);
    assert_named(
        &outcome,
        &log,
        "broker.disk-full",
        &["No space left on device"],
    );
    assert_named(
        &outcome,
        &log,
        "broker.log-dir-failed",
        &[
            "KafkaStorageException",
            "LogDirFailureChannel",
            "log directory has failed",
            "Stopping serving logs in dir",
            "all log dirs in",
        ],
    );
    assert_first(&outcome, &["broker.disk-full", "broker.log-dir-failed"]);
    assert_not_named(&outcome, &["broker.file-limit", "broker.out-of-memory"]);
}

#[test]
fn a_removed_log_dir_is_a_log_dir_failure() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("sig-isr", 3, 3, &["min.insync.replicas=2"]);
    let broker = [mark(lab.log_path("3"))];
    scenario.break_log_dir(3, "remove");
    let log = segment("logdir-removed", &broker);
    let outcome = log_grep(&log);
    assert_named(
        &outcome,
        &log,
        "broker.log-dir-failed",
        &[
            "KafkaStorageException",
            "LogDirFailureChannel",
            "log directory has failed",
            "Stopping serving logs in dir",
            "all log dirs in",
        ],
    );
    assert_first(&outcome, &["broker.log-dir-failed"]);
    assert_not_named(
        &outcome,
        &[
            "broker.disk-full",
            "broker.file-limit",
            "broker.out-of-memory",
        ],
    );
}

#[test]
fn a_read_only_log_dir_is_a_log_dir_failure() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    let broker = [mark(lab.log_path("3"))];
    scenario.break_log_dir(3, "readonly");
    let log = segment("logdir-readonly", &broker);
    let outcome = log_grep(&log);
    assert_named(
        &outcome,
        &log,
        "broker.log-dir-failed",
        &["Read-only file system"],
    );
    assert_first(&outcome, &["broker.log-dir-failed"]);
    assert_not_named(
        &outcome,
        &[
            "broker.disk-full",
            "broker.file-limit",
            "broker.out-of-memory",
        ],
    );
}

#[test]
fn running_out_of_file_descriptors_is_named_file_limit() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    let broker = [mark(lab.log_path("3"))];
    scenario.exhaust_file_limit(3);
    let log = segment("file-limit", &broker);
    let outcome = log_grep(&log);
    assert_named(
        &outcome,
        &log,
        "broker.file-limit",
        &["Too many open files"],
    );
    assert_first(&outcome, &["broker.file-limit", "broker.log-dir-failed"]);
    assert_not_named(&outcome, &["broker.disk-full", "broker.out-of-memory"]);
}

#[test]
fn a_heap_too_small_is_named_out_of_memory() {
    let mut scenario = Lab::exclusive();
    let lab = scenario.lab();
    let broker = [mark(lab.log_path("3"))];
    scenario.shrink_heap(3, "128m");
    let log = segment("heap-oom", &broker);
    let outcome = log_grep(&log);
    assert_named(
        &outcome,
        &log,
        "broker.out-of-memory",
        &["OutOfMemoryError"],
    );
    assert_first(&outcome, &["broker.out-of-memory"]);
    assert_not_named(
        &outcome,
        &[
            "broker.disk-full",
            "broker.file-limit",
            "broker.log-dir-failed",
        ],
    );
}

/// The broker rejects the record without a word at INFO; the producer's log says why.
#[test]
fn an_oversized_record_is_named_from_the_producers_log() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("sig-big", 1, 3, &["max.message.bytes=100000"]);
    let dir = tempfile::tempdir().unwrap();
    let client = dir.path().join("producer.log");
    // max.request.size above the record, so the broker (not the client) refuses it.
    lab.produce(
        "sig-big",
        200_000,
        1,
        &["max.request.size=4000000"],
        &client,
    );
    let log = segment("client-record-too-large", &[mark_from_start(client)]);
    let outcome = log_grep(&log);
    assert_named(
        &outcome,
        &log,
        "config.message-size",
        &[
            "RecordTooLargeException",
            "larger than the max message size",
        ],
    );
    assert_first(&outcome, &["config.message-size"]);
    assert_not_named(&outcome, &["topic.missing"]);
}

/// Auto-creation is off in the lab: the producer waits for metadata that never comes.
#[test]
fn an_unknown_topic_is_named_from_the_producers_log() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    let dir = tempfile::tempdir().unwrap();
    let client = dir.path().join("producer.log");
    lab.produce("sig-nosuch", 100, 1, &["max.block.ms=4000"], &client);
    let log = segment("client-unknown-topic", &[mark_from_start(client)]);
    let outcome = log_grep(&log);
    assert_named(
        &outcome,
        &log,
        "topic.missing",
        &["UNKNOWN_TOPIC_OR_PARTITION", "not present in metadata"],
    );
    assert_first(&outcome, &["topic.missing"]);
    assert_not_named(&outcome, &["config.message-size"]);
}

fn mark_from_start(path: PathBuf) -> Mark {
    Mark { path, offset: 0 }
}

/// One labelled file of tests/corpus/logs (see labels.ron for the meaning of the lists).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Label {
    file: String,
    fault: String,
    expect: Vec<String>,
    also: Vec<String>,
    forbid: Vec<String>,
}

/// Recall and precision of log-grep's default signatures over the lab-produced corpus.
/// recall = expected causes named / expected causes; precision = named causes that are
/// expected or truly shown (`also`) / named causes. A forbidden cause is never acceptable.
#[test]
fn lab_log_corpus_recall_and_precision() {
    let corpus = support::root().join("tests/corpus/logs");
    let labels: Vec<Label> =
        ron::from_str(&std::fs::read_to_string(corpus.join("labels.ron")).unwrap()).unwrap();
    let steps: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let log = corpus.join(&label.file);
            assert!(log.is_file(), "{} is labelled but missing", log.display());
            format!(
                r#"Step(id: "f{i}", plugin: "log-grep", with: {{ "path": "{log}" }},
                        allow: (files: ["{log}"]))"#,
                log = log.display()
            )
        })
        .collect();
    let outcome = run_steps(&steps.join(",\n"), &[]);
    let (mut expected, mut found, mut reported, mut right) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    let mut wrong = Vec::new();
    let mut forbidden = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let step = outcome.step(&format!("f{i}"));
        let named: BTreeSet<String> = step["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["cause"].as_str().map(str::to_owned))
            .collect();
        for cause in &label.expect {
            expected += 1;
            if named.contains(cause) {
                found += 1;
            } else {
                misses.push(format!("{}: {cause} ({})", label.file, label.fault));
            }
        }
        for cause in &named {
            reported += 1;
            if label.expect.contains(cause) || label.also.contains(cause) {
                right += 1;
            } else {
                wrong.push(format!("{}: {cause}", label.file));
            }
            if label.forbid.contains(cause) {
                forbidden.push(format!("{}: {cause}", label.file));
            }
        }
    }
    let ratio = |a: u32, b: u32| {
        if b == 0 {
            1.0
        } else {
            f64::from(a) / f64::from(b)
        }
    };
    let (recall, precision) = (ratio(found, expected), ratio(right, reported));
    println!(
        "lab log corpus ({} files): recall = {found}/{expected} = {recall:.2}, \
         precision = {right}/{reported} = {precision:.2}",
        labels.len()
    );
    println!("missed: {misses:#?}\nnamed outside the labels: {wrong:#?}");
    assert!(forbidden.is_empty(), "false causes named: {forbidden:#?}");
    assert!(
        recall >= 0.9,
        "recall {recall:.2} below 0.90; missed: {misses:#?}"
    );
    // 17/19 when this floor was set: `leader-moved-kraft` names controller.failover for a
    // leadership move after a plain broker stop, and the paused broker's own log truly shows
    // its ISR shrink, which its label (written first) did not list. Both stay counted.
    assert!(
        precision >= 0.85,
        "precision {precision:.2} below 0.85; named outside the labels: {wrong:#?}"
    );
}
