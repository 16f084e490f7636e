//! Rules the *topic* and the broker version enforce, and the canary that proves them, with
//! real application clients on the real lab (issue 8, items 7 and 8).
//!
//! Every test first makes a real client — the Java client (kafka-clients, run as a
//! single-file program from tests/lab/clients/Produce.java) and kafka-python
//! (tests/lab/clients/produce.py, installed by tests/setup) — show what happens to the
//! application's records, then runs `triage run kafka-producer-drops` and checks that the
//! diagnosis names that cause first, with the exit code automation reads.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::lab::{Lab, producer_drops};
use support::{causes, first_cause};

/// What a client program printed and how it exited.
struct ClientRun {
    delivered_all: bool,
    line: String,
}

fn lab_cache() -> PathBuf {
    std::env::var_os("TRIAGE_LAB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/triage-lab")
        })
}

fn client(command: &mut Command) -> ClientRun {
    let output = command.output().expect("running a lab client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("sent="))
        .unwrap_or_else(|| {
            panic!(
                "the client printed no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
        .to_owned();
    ClientRun {
        delivered_all: output.status.success(),
        line,
    }
}

/// The Java client (kafka-clients 4.4, from the lab's jars) sending `count` records of `shape`.
fn java(lab: &Lab, topic: &str, shape: &str, count: u32, settings: &[&str]) -> ClientRun {
    let jars = lab_cache().join("kafka-4.4.0/libs/*");
    let mut command = Command::new("java");
    command
        .arg("-cp")
        .arg(jars)
        .arg(support::root().join("tests/lab/clients/Produce.java"))
        .args([&lab.bootstrap, topic, shape, &count.to_string()])
        .args(settings);
    client(&mut command)
}

/// kafka-python (installed by tests/setup) sending `count` records of `shape`.
fn python(lab: &Lab, topic: &str, shape: &str, count: u32, settings: &[&str]) -> ClientRun {
    let mut command = Command::new(lab_cache().join("python-clients/bin/python"));
    command
        .arg(support::root().join("tests/lab/clients/produce.py"))
        .args([&lab.bootstrap, topic, shape, &count.to_string()])
        .args(settings);
    client(&mut command)
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("producer.properties");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn keyless_records_to_a_compacted_topic_are_named_and_fail_the_run() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic(
        "tr-compacted",
        3,
        3,
        &["cleanup.policy=compact", "min.insync.replicas=2"],
    );
    // The applications' keyless records really are refused by the broker...
    let java = java(lab, "tr-compacted", "keyless", 5, &["acks=all"]);
    assert!(!java.delivered_all, "{}", java.line);
    assert!(
        java.line.contains("InvalidRecordException"),
        "{}",
        java.line
    );
    let python = python(lab, "tr-compacted", "keyless", 5, &["acks=all"]);
    assert!(!python.delivered_all, "{}", python.line);
    // ...while keyed records go through: the rule is about keys, nothing else.
    assert!(java_keyed_ok(lab, "tr-compacted"));

    let outcome = producer_drops(
        lab,
        &[
            ("topic", "tr-compacted".into()),
            ("canary", "tr-compacted".into()),
        ],
    );
    assert_eq!(
        first_cause(&outcome),
        "topic.compaction-needs-key",
        "{:?}\n{}",
        causes(&outcome),
        outcome.stdout
    );
    let root = &outcome.json()["diagnosis"][0];
    assert_eq!(root["severity"], "fail", "{root}");
    let evidence = root.to_string();
    assert!(evidence.contains("cleanup.policy=compact"), "{evidence}");
    assert!(evidence.contains("INVALID_RECORD"), "{evidence}");
    assert_eq!(outcome.code, 1, "records are refused: {}", outcome.stdout);
}

fn java_keyed_ok(lab: &Lab, topic: &str) -> bool {
    let run = java(lab, topic, "keyed", 3, &["acks=all"]);
    assert!(run.delivered_all, "{}", run.line);
    true
}

#[test]
fn records_older_than_the_topic_accepts_are_named_and_fail_the_run() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    // One hour back at most; Kafka 4's default after.max.ms (one hour ahead) stays.
    lab.topic(
        "tr-timestamps",
        3,
        3,
        &[
            "message.timestamp.before.max.ms=3600000",
            "min.insync.replicas=2",
        ],
    );
    let java = java(lab, "tr-timestamps", "old", 5, &["acks=all"]);
    assert!(!java.delivered_all, "{}", java.line);
    assert!(
        java.line.contains("InvalidTimestampException"),
        "{}",
        java.line
    );
    let python = python(lab, "tr-timestamps", "old", 5, &["acks=all"]);
    assert!(!python.delivered_all, "{}", python.line);
    assert!(java_keyed_ok(lab, "tr-timestamps"));

    let outcome = producer_drops(
        lab,
        &[
            ("topic", "tr-timestamps".into()),
            ("canary", "tr-timestamps".into()),
        ],
    );
    assert_eq!(
        first_cause(&outcome),
        "topic.timestamp-out-of-range",
        "{:?}\n{}",
        causes(&outcome),
        outcome.stdout
    );
    let root = &outcome.json()["diagnosis"][0];
    assert_eq!(root["severity"], "fail", "{root}");
    let evidence = root.to_string();
    assert!(
        evidence.contains("message.timestamp.before.max.ms=3600000"),
        "{evidence}"
    );
    assert!(evidence.contains("INVALID_TIMESTAMP"), "{evidence}");
    assert_eq!(outcome.code, 1, "records are refused: {}", outcome.stdout);
}

#[test]
fn min_insync_above_the_replication_factor_is_no_alarm_on_kafka_4() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("tr-minisr-above-rf", 3, 2, &["min.insync.replicas=3"]);
    // Kafka 3.7+ caps the effective min ISR at the replica count: acks=all writes succeed.
    let java = java(lab, "tr-minisr-above-rf", "keyed", 5, &["acks=all"]);
    assert!(java.delivered_all, "{}", java.line);
    let python = python(lab, "tr-minisr-above-rf", "keyed", 5, &["acks=all"]);
    assert!(python.delivered_all, "{}", python.line);

    let outcome = producer_drops(
        lab,
        &[
            ("topic", "tr-minisr-above-rf".into()),
            ("canary", "tr-minisr-above-rf".into()),
        ],
    );
    let all = causes(&outcome);
    assert!(
        !all.iter().any(|c| c == "isr.below-min"),
        "a false alarm: {all:?}\n{}",
        outcome.stdout
    );
    let failing: Vec<serde_json::Value> = outcome.json()["diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["severity"] == "fail")
        .cloned()
        .collect();
    assert!(failing.is_empty(), "{failing:?}");
    assert_eq!(outcome.step("canary")["facts"]["delivered"], "20");
    // The check says why it does not alarm: the broker's cap, and the version it judged.
    let topic = outcome.step("topic").to_string();
    assert!(topic.contains("caps"), "{topic}");
    assert_eq!(outcome.code, 0, "{}", outcome.stdout);
}

#[test]
fn the_canary_writes_zstd_like_the_application() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("tr-zstd", 3, 3, &["min.insync.replicas=2"]);
    let settings = ["acks=all", "compression.type=zstd"];
    let java = java(lab, "tr-zstd", "keyed", 5, &settings);
    assert!(java.delivered_all, "{}", java.line);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "bootstrap.servers={}\nacks=all\nenable.idempotence=true\ncompression.type=zstd\n",
            lab.bootstrap
        ),
    );
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "tr-zstd".into()),
            ("canary", "tr-zstd".into()),
            ("producer_config", config.display().to_string()),
        ],
    );
    let canary = outcome.step("canary");
    assert_eq!(canary["status"], "pass", "{canary}");
    assert_eq!(canary["facts"]["delivered"], "20", "{canary}");
    assert!(
        canary["facts"]["settings"]
            .as_str()
            .unwrap()
            .contains("compression.type=zstd"),
        "{canary}"
    );
    assert_eq!(outcome.code, 0, "{}", outcome.stdout);
}

#[test]
fn the_canary_probes_the_applications_own_bootstrap_and_stops_early() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    lab.topic("tr-app-bootstrap", 3, 3, &["min.insync.replicas=2"]);
    // Nothing listens on this port: the application's list is wrong, the operator's is right.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let java = Command::new("java")
        .arg("-cp")
        .arg(lab_cache().join("kafka-4.4.0/libs/*"))
        .arg(support::root().join("tests/lab/clients/Produce.java"))
        .args([&dead, "tr-app-bootstrap", "keyed", "2", "max.block.ms=3000"])
        .output()
        .unwrap();
    assert!(
        !java.status.success(),
        "{}",
        String::from_utf8_lossy(&java.stdout)
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("bootstrap.servers={dead}\nacks=all\nenable.idempotence=true\n"),
    );
    let started = std::time::Instant::now();
    let outcome = producer_drops(
        lab,
        &[
            ("topic", "tr-app-bootstrap".into()),
            ("canary", "tr-app-bootstrap".into()),
            ("producer_config", config.display().to_string()),
        ],
    );
    let elapsed = started.elapsed();
    let canary = outcome.step("canary");
    // Which list was probed, in the evidence and the facts.
    assert_eq!(canary["facts"]["bootstrap"], dead.as_str(), "{canary}");
    assert!(canary.to_string().contains("bootstrap.servers"), "{canary}");
    assert_eq!(canary["facts"]["delivered"], "0", "{canary}");
    // Nothing was acknowledged, so nothing is "lost".
    assert_eq!(canary["facts"]["lost"], "0", "{canary}");
    assert!(
        elapsed < std::time::Duration::from_secs(20),
        "the canary waited out its deadline: {elapsed:?}"
    );
    assert_eq!(outcome.code, 1, "{}", outcome.stdout);
    let first = first_cause(&outcome);
    assert!(
        ["config.bootstrap", "net.refused", "kafka.unreachable"].contains(&first.as_str()),
        "{first}: {:?}",
        causes(&outcome)
    );
}

#[test]
fn records_the_host_saw_fail_make_the_run_fail_whatever_the_plugin_says() {
    let scenario = Lab::exclusive();
    let lab = scenario.lab();
    // Auto-creation is off in the lab: every record to a missing topic fails, as the Java
    // client shows.
    let java = java(lab, "tr-no-such-topic", "keyed", 2, &["max.block.ms=3000"]);
    assert!(!java.delivered_all, "{}", java.line);
    let outcome = support::run_steps(
        &format!(
            r#"Step(id: "quiet", plugin: "{}", with: {{ "topic": "tr-no-such-topic" }}, allow: (kafka: Produce(["tr-no-such-topic"])), timeout: "20s")"#,
            support::guests::GUEST_QUIET_CANARY
        ),
        &["--bootstrap", &lab.bootstrap],
    );
    let step = outcome.step("quiet");
    assert_eq!(step["status"], "warn", "the plugin said warn: {step}");
    assert_ne!(step["facts"]["failed"], "0", "{step}");
    assert_eq!(outcome.json()["status"], "fail", "{}", outcome.stdout);
    assert_eq!(outcome.code, 1, "records failed: {}", outcome.stdout);
}
