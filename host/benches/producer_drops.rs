//! The whole `kafka-producer-drops` playbook (canary off) on a healthy 3-broker lab, against
//! the same questions answered with the Kafka CLI tools, in the same run:
//!
//! - `triage kafka-producer-drops`: every step (network, listeners, load, cluster, producer
//!   config against the cluster, ZooKeeper/KRaft, topic) in one process;
//! - `kafka CLI tools`: what an operator runs by hand for the same answers — `TopicCommand
//!   --describe` for the topic, `ConfigCommand --describe` for the topic and for the brokers,
//!   and `BrokerApiVersionsCommand` — one JVM each, in sequence.
//!
//! Run with `cargo bench -p triage --bench producer_drops`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/lab.rs"]
mod lab;

use lab::{Lab, root};

fn whole_playbook(c: &mut Criterion) {
    let lab = Lab::start("pd", 3, None);
    lab.run(&[
        "topic",
        "orders",
        "--partitions",
        "6",
        "--rf",
        "3",
        "--config",
        "min.insync.replicas=2",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("producer.properties");
    std::fs::write(
        &config,
        format!(
            "bootstrap.servers={}\nacks=all\nenable.idempotence=true\nlinger.ms=5\n",
            lab.bootstrap
        ),
    )
    .unwrap();
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-cache");

    let triage = || {
        let output = Command::new(env!("CARGO_BIN_EXE_triage"))
            .args([
                "run",
                "kafka-producer-drops",
                "--format",
                "json",
                "--bootstrap",
                &lab.bootstrap,
            ])
            .args(["--set", "topic=orders", "--set"])
            .arg(format!("producer_config={}", config.display()))
            .env("TRIAGE_CACHE_DIR", &cache)
            .stderr(Stdio::null())
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["status"], "pass", "{report}");
        report["duration_ms"].as_u64().unwrap()
    };
    let cli = |class: &str, args: &[&str]| {
        let output = Command::new(root().join("tests/lab/lab"))
            .args(["cli", class])
            .args(args)
            .env("LAB_DIR", &lab.dir)
            .stderr(Stdio::null())
            .output()
            .unwrap();
        assert!(output.status.success(), "{class} failed");
    };
    let bootstrap = lab.bootstrap.as_str();
    let kafka_tools = || {
        cli(
            "org.apache.kafka.tools.TopicCommand",
            &[
                "--bootstrap-server",
                bootstrap,
                "--describe",
                "--topic",
                "orders",
            ],
        );
        cli(
            "org.apache.kafka.tools.ConfigCommand",
            &[
                "--bootstrap-server",
                bootstrap,
                "--describe",
                "--entity-type",
                "topics",
                "--entity-name",
                "orders",
            ],
        );
        cli(
            "org.apache.kafka.tools.ConfigCommand",
            &[
                "--bootstrap-server",
                bootstrap,
                "--describe",
                "--entity-type",
                "brokers",
                "--all",
            ],
        );
        cli(
            "org.apache.kafka.tools.BrokerApiVersionsCommand",
            &["--bootstrap-server", bootstrap],
        );
    };
    println!("triage's own report: the run took {} ms", triage());

    let mut group = c.benchmark_group("producer-drops-healthy");
    group.sample_size(10);
    group.bench_function("triage kafka-producer-drops (canary off)", |b| {
        b.iter(triage)
    });
    group.bench_function("kafka CLI tools (4 commands)", |b| b.iter(kafka_tools));
    group.finish();
}

criterion_group!(benches, whole_playbook);
criterion_main!(benches);
