//! `log-grep` with the WHOLE signature catalogue against ripgrep and GNU grep, with the same
//! patterns, on the same generated ≥ 1 GiB broker log, in the same run (issue 8, item 9).
//!
//! - `triage log-grep (catalogue)`: `triage run` of a one-step playbook with log-grep's
//!   defaults: process start, plugin load from the warm compile cache, one host-side pass that
//!   counts every signature of the catalogue separately, with first/last/example lines.
//! - `rg -c (catalogue)`: ripgrep counting the lines that match any regex of the catalogue,
//!   each given with `-e` (ripgrep speaks the same regex syntax). A total count only: less
//!   work than attributing each line to its signature.
//! - `grep -E -c (catalogue)`: GNU grep, the same regexes as POSIX ERE (`\d` → `[0-9]`,
//!   `(?:` → `(`, ...), `LC_ALL=C`, grep's fastest mode.
//!
//! Before anything is timed, the counts are checked: rg and grep agree on the total, and
//! triage's `isr-shrink` count equals grep's for that signature. ripgrep is installed with
//! apt when it is missing. The log is generated once into the target directory: realistic
//! broker lines, with one line in ~5,000 taken from the catalogue's examples.
//!
//! Run with `cargo bench -p triage --bench log_scan` (not run in CI).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use criterion::{Criterion, criterion_group, criterion_main};

const LOG_BYTES: u64 = 1 << 30;

fn log_path() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("server-1g-catalogue.log")
}

/// Every regex of the catalogue, as ripgrep takes them.
fn catalogue_regexes() -> Vec<String> {
    triage_knowledge::catalogue()
        .iter()
        .flat_map(|s| s.regexes.iter().cloned())
        .collect()
}

/// A catalogue regex as POSIX ERE for GNU grep. The catalogue uses a small subset of the
/// `regex` crate's syntax beyond ERE; the totals are compared with ripgrep's before timing,
/// so a translation this misses fails the benchmark instead of skewing it.
fn to_ere(regex: &str) -> String {
    regex
        .replace("(?:", "(")
        .replace(r"[^\n]", ".")
        .replace(r"[^/\s]", "[^/[:space:]]")
        .replace(r"[^\]]", "[^]]")
        .replace(r"\d", "[0-9]")
        .replace("*?", "*")
}

fn ensure_ripgrep() {
    if Command::new("rg").arg("--version").output().is_ok() {
        return;
    }
    let installed = Command::new("apt-get")
        .args(["install", "-y", "ripgrep"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed,
        "ripgrep is missing and `apt-get install -y ripgrep` failed: install it"
    );
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
        "INFO [Broker id=1] Skipped the become-leader state change for orders-0 with topic id Some(x3iOJzsVQOKVyV_DjHO24w), partition registration PartitionRegistration(replicas=[1, 2, 3], directories=[f97OuTWvuz5kKTp4GFeIZw, jIS9Q_MI_TPxNSteowp2Gw, P8dWvPyvagVOCLxy8rb5rA], isr=[1, 2, 3], removingReplicas=[], addingReplicas=[], elr=[], lastKnownElr=[], leader=1, leaderRecoveryState=RECOVERED, leaderEpoch=0, partitionEpoch=1) and isNew=false since it is already the leader with leader epoch 0. (state.change.logger)",
        "INFO [MetadataLoader id=1] handleCommit: The loader is still catching up because we have loaded up to offset 41, but the high water mark is 42 (org.apache.kafka.image.loader.MetadataLoader)",
    ];
    let rare: Vec<String> = triage_knowledge::catalogue()
        .iter()
        .flat_map(|s| s.examples.iter().cloned())
        .collect();
    let file = std::fs::File::create(path).unwrap();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut line = 0u64;
    while written < LOG_BYTES {
        let record = if line % 5_000 == 4_999 {
            format!("{}\n", rare[(line / 5_000) as usize % rare.len()])
        } else {
            format!(
                "[2026-11-20 10:{:02}:{:02},{:03}] {}\n",
                line / 60_000 % 60,
                line / 1_000 % 60,
                line % 1_000,
                normal[(line % normal.len() as u64) as usize]
            )
        };
        out.write_all(record.as_bytes()).unwrap();
        written += record.len() as u64;
        line += 1;
    }
    out.flush().unwrap();
}

fn scan(c: &mut Criterion) {
    ensure_ripgrep();
    let log = log_path();
    generate(&log);
    let dir = tempfile::tempdir().unwrap();
    let playbook = dir.path().join("catalogue.ron");
    std::fs::write(
        &playbook,
        r#"Playbook(name: "scan", title: "scan", inputs: { "log": Input(help: "log") },
           steps: [Step(id: "scan", plugin: "log-grep", with: { "path": "{{log}}" },
                        allow: (files: ["{{log}}"]), timeout: "300s")])"#,
    )
    .unwrap();
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-cache");
    let triage = || {
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
    let regexes = catalogue_regexes();
    let count = |program: &str, extra: &[&str], patterns: &[String]| {
        let mut command = Command::new(program);
        command.args(extra).arg("-c");
        for pattern in patterns {
            command.arg("-e").arg(pattern);
        }
        let output = command.arg(&log).env("LC_ALL", "C").output().unwrap();
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let ere: Vec<String> = regexes.iter().map(|r| to_ere(r)).collect();
    let isr_shrink: Vec<String> = triage_knowledge::catalogue()
        .iter()
        .find(|s| s.id == "isr-shrink")
        .unwrap()
        .regexes
        .iter()
        .map(|r| to_ere(r))
        .collect();

    // The counts agree before anything is timed (this also warms the page cache and the
    // compile cache).
    let rg_total = count("rg", &[], &regexes);
    let grep_total = count("grep", &["-E"], &ere);
    assert_eq!(
        rg_total, grep_total,
        "rg and grep -E disagree on the catalogue"
    );
    assert_eq!(triage(), count("grep", &["-E"], &isr_shrink));

    let mut group = c.benchmark_group("scan-1GiB-catalogue");
    group.sample_size(10);
    group.throughput(criterion::Throughput::Bytes(log.metadata().unwrap().len()));
    let signatures = triage_knowledge::catalogue().len();
    group.bench_function(format!("triage log-grep ({signatures} signatures)"), |b| {
        b.iter(&triage)
    });
    group.bench_function(format!("rg -c ({} regexes)", regexes.len()), |b| {
        b.iter(|| count("rg", &[], &regexes))
    });
    group.bench_function(format!("grep -E -c ({} regexes)", ere.len()), |b| {
        b.iter(|| count("grep", &["-E"], &ere))
    });
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
