//! `log-grep` against `grep` on the same generated 1 GiB broker log, in the same run.
//!
//! - `triage log-grep (8 patterns)`: `triage run` of a one-step playbook: process start,
//!   plugin load from the warm cache, one host-side pass counting each of the 8 default
//!   Kafka patterns with first/last/example lines.
//! - `grep -c -E (8 patterns)`: one GNU grep pass over an alternation of the same patterns,
//!   reporting only a total count (strictly less work), with `LC_ALL=C`, grep's fastest mode.
//! - `triage log-grep (1 pattern)` and `grep -c (1 pattern)`: `Shrinking ISR` alone, what an
//!   operator types first.
//!
//! The log is generated once into the target directory (about 1 GiB of realistic broker
//! lines, one matching line in ~5,000). Run with `cargo bench -p triage --bench log_scan`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use criterion::{Criterion, criterion_group, criterion_main};

const LOG_BYTES: u64 = 1 << 30;

/// The default patterns as one POSIX ERE (case-insensitive parts spelled out).
const GREP_ALTERNATION: &str = "Connection refused|is Denied Operation|not authorized|authorization failed|AuthorizationException|SaslAuthenticationException|Authentication failed|Shrinking ISR|NotEnoughReplicas|Expiring [0-9]+ record|TimeoutException|OutOfMemoryError|No space left on device";

fn log_path() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("server-1g.log")
}

fn generate(path: &Path) {
    if path.metadata().is_ok_and(|m| m.len() >= LOG_BYTES) {
        return;
    }
    let normal = [
        "INFO [ReplicaFetcher replicaId=2, leaderId=1, fetcherId=0] Truncating partition orders-3 with TruncationState(offset=1290, completed=true) due to leader epoch and offset EpochEndOffset(errorCode=0, partition=3, leaderEpoch=7, endOffset=1290) (kafka.server.ReplicaFetcherThread)",
        "INFO [GroupCoordinator 1]: Member consumer-billing-1-8d1f assigned partitions orders-0, orders-1 in group billing (kafka.coordinator.group.GroupCoordinator)",
        "INFO [LocalLog partition=orders-7, dir=/var/lib/kafka/data] Rolled new log segment at offset 18273645 in 2 ms. (kafka.log.LocalLog)",
        "DEBUG [SocketServer listenerType=BROKER, nodeId=1] Accepted connection from /10.1.2.3:53122 on /10.1.0.1:9092 (kafka.network.SocketServer)",
    ];
    let rare = [
        "INFO [Partition orders-0 broker=1] Shrinking ISR from 1,2,3 to 1,2. Leader: (highWatermark: 1200, endOffset: 1250) (kafka.cluster.Partition)",
        "ERROR org.apache.kafka.common.errors.NotEnoughReplicasException: The size of the current ISR : 1 is insufficient",
        "WARN [Producer clientId=app] Expiring 12 record(s) for orders-0:120000 ms has passed since batch creation",
    ];
    let file = std::fs::File::create(path).unwrap();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut line = 0u64;
    while written < LOG_BYTES {
        let text = if line % 5_000 == 4_999 {
            rare[(line / 5_000 % 3) as usize]
        } else {
            normal[(line % 4) as usize]
        };
        let record = format!(
            "[2026-11-20 10:{:02}:{:02},{:03}] {text}\n",
            line / 60_000 % 60,
            line / 1_000 % 60,
            line % 1_000
        );
        out.write_all(record.as_bytes()).unwrap();
        written += record.len() as u64;
        line += 1;
    }
    out.flush().unwrap();
}

fn scan(c: &mut Criterion) {
    let log = log_path();
    generate(&log);
    let dir = tempfile::tempdir().unwrap();
    let playbook = |name: &str, patterns: &str| {
        let path = dir.path().join(name);
        let text = format!(
            r#"Playbook(name: "scan", title: "scan", inputs: {{ "log": Input(help: "log") }},
               steps: [Step(id: "scan", plugin: "log-grep",
                            with: {{ "path": "{{{{log}}}}"{patterns} }},
                            allow: (files: ["{{{{log}}}}"]), timeout: "120s")])"#
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let default_patterns = playbook("default.ron", "");
    let one_pattern = playbook(
        "one.ron",
        r#", "patterns": [{ "name": "isr-shrink", "regex": "Shrinking ISR" }]"#,
    );
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-cache");
    let triage = |playbook: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_triage"))
            .args([
                "run",
                playbook.to_str().unwrap(),
                "--format",
                "json",
                "--set",
            ])
            .arg(format!("log={}", log.display()))
            .env("TRIAGE_CACHE_DIR", &cache)
            .stderr(Stdio::null())
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        report["steps"][0]["facts"]["count.isr-shrink"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let grep = |args: &[&str]| {
        let output = Command::new("grep")
            .args(args)
            .arg(&log)
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    // The counts agree with grep's before anything is timed (this also warms the page cache
    // and the compile cache).
    let expected = grep(&["-c", "Shrinking ISR"]);
    assert_eq!(triage(&default_patterns), expected.trim());
    assert_eq!(triage(&one_pattern), expected.trim());

    let mut group = c.benchmark_group("scan-1GiB");
    group.sample_size(10);
    group.throughput(criterion::Throughput::Bytes(log.metadata().unwrap().len()));
    group.bench_function("triage log-grep (8 patterns)", |b| {
        b.iter(|| triage(&default_patterns))
    });
    group.bench_function("grep -c -E (8 patterns)", |b| {
        b.iter(|| grep(&["-c", "-E", GREP_ALTERNATION]))
    });
    group.bench_function("triage log-grep (1 pattern)", |b| {
        b.iter(|| triage(&one_pattern))
    });
    group.bench_function("grep -c (1 pattern)", |b| {
        b.iter(|| grep(&["-c", "Shrinking ISR"]))
    });
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
