//! isr-check at scale against the Kafka CLI, on the same real cluster in the same run.
//!
//! Starts a 3-broker lab (tests/lab), creates 100 topics × 100 partitions (RF 3: 10,000
//! partitions, 30,000 replicas), then times:
//!
//! - `triage isr-check`: `triage run` of a one-step playbook checking every topic —
//!   process start, plugin from the warm cache, metadata, topic and broker configs,
//!   classification of every partition, report;
//! - `kafka TopicCommand --under-min-isr-partitions`: the CLI an operator would run
//!   (`kafka-topics.sh --describe --under-min-isr-partitions`), via the lab's `cli`.
//!
//! Also prints triage's peak RSS. Run with `cargo bench -p triage --bench isr_scale`
//! (about two minutes, most of it creating the partitions).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/lab.rs"]
mod lab;

use lab::{Lab, root};

/// Run a command to completion; returns its stdout and its own peak RSS in MiB (from
/// `wait4`, so other children of the bench do not count).
// The child is reaped by `wait4` below, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_measured(command: &mut Command) -> (Vec<u8>, f64) {
    use std::io::Read;
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: wait4 reaps our own child and fills a plain struct we own; std's `Child` is
    // not waited on afterwards (the zombie is reaped by wait4 itself).
    #[allow(unsafe_code)]
    let usage = unsafe {
        let pid = libc::wait4(
            child.id() as libc::pid_t,
            &mut status,
            0,
            usage.as_mut_ptr(),
        );
        assert_eq!(pid, child.id() as libc::pid_t);
        usage.assume_init()
    };
    (stdout, usage.ru_maxrss as f64 / 1024.0)
}

fn isr_at_scale(c: &mut Criterion) {
    let lab = Lab::start("isr", 3, Some("-Xms256m -Xmx1g"));
    lab.run(&[
        "topics",
        "--count",
        "100",
        "--partitions",
        "100",
        "--rf",
        "3",
        "--prefix",
        "bench",
    ]);

    let dir = tempfile::tempdir().unwrap();
    let playbook = dir.path().join("isr.ron");
    std::fs::write(
        &playbook,
        r#"Playbook(name: "isr", title: "isr", steps: [
            Step(id: "isr", plugin: "isr-check", allow: (kafka: Read), timeout: "60s")])"#,
    )
    .unwrap();
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-cache");
    let triage = || {
        let (stdout, peak_rss) = run_measured(
            Command::new(env!("CARGO_BIN_EXE_triage"))
                .args(["run", playbook.to_str().unwrap(), "--format", "json"])
                .args(["--bootstrap", &lab.bootstrap])
                .env("TRIAGE_CACHE_DIR", &cache),
        );
        let report: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
        let partitions: u64 = report["steps"][0]["facts"]["partitions"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            partitions >= 10_000,
            "isr-check saw {partitions} partitions: {report}"
        );
        (partitions, peak_rss)
    };
    let topic_command = || {
        let output = Command::new(root().join("tests/lab/lab"))
            .args([
                "cli",
                "org.apache.kafka.tools.TopicCommand",
                "--bootstrap-server",
                &lab.bootstrap,
            ])
            .args(["--describe", "--under-min-isr-partitions"])
            .env("LAB_DIR", &lab.dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout.len()
    };
    let (partitions, peak_rss) = triage();
    topic_command();
    println!("isr-check saw {partitions} partitions; triage peak RSS {peak_rss:.1} MiB");

    let mut group = c.benchmark_group("isr-10k-partitions");
    group.sample_size(10);
    group.bench_function("triage isr-check", |b| b.iter(triage));
    group.bench_function("kafka TopicCommand --under-min-isr-partitions", |b| {
        b.iter(topic_command)
    });
    group.finish();
}

criterion_group!(benches, isr_at_scale);
criterion_main!(benches);
