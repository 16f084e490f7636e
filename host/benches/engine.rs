//! Engine overheads, measured against the floors measured on this kind of machine:
//!
//! - `step/trivial-plugin`: one whole step of a trivial plugin — fresh Store, instantiate from
//!   the `InstancePre`, `run`, drop. Goal ≤ 100 µs (floor ≈ 50 µs).
//! - `step/instantiate-only`: the Store + instantiation part alone (floor ≈ 25 µs).
//! - `startup/triage-list`: the `triage list` process end to end with a warm compile cache,
//!   which loads every shipped plugin and asks each for its info. Goal < 50 ms.
//! - `startup/true`: the same process spawn of `/bin/true`, the floor of any command.
//!
//! Run with `cargo bench -p triage --bench engine`.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use triage::hostfns::{ActionLog, NoEvents, StepEnv};
use triage::runtime::{RunOutcome, Runtime, StepLimits};

#[allow(dead_code)] // only the trivial guest is benchmarked
mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-cache")
}

fn step_overhead(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runtime = Runtime::new(Some(cache_dir())).unwrap();
    let wasm = std::fs::read(guests::GUEST_MINIMAL).unwrap();
    let plugin = tokio.block_on(runtime.load(&wasm)).unwrap();
    let limits = StepLimits {
        timeout: Duration::from_secs(10),
        memory: 64 << 20,
    };
    let env = || StepEnv {
        step_id: "bench".into(),
        grant: Default::default(),
        deadline: tokio::time::Instant::now() + limits.timeout,
        events: Arc::new(NoEvents),
        kafka: None,
        actions: Arc::new(ActionLog::new()),
    };

    let mut group = c.benchmark_group("step");
    group.bench_function("trivial-plugin", |b| {
        b.iter(|| {
            let _guard = tokio.enter();
            let outcome =
                tokio.block_on(runtime.run(&plugin, r#"{"name":"bench"}"#, env(), limits));
            assert!(matches!(outcome, RunOutcome::Completed(_)));
            black_box(outcome)
        })
    });
    group.finish();
}

fn startup(c: &mut Criterion) {
    let triage = env!("CARGO_BIN_EXE_triage");
    let list = || {
        let status = Command::new(triage)
            .arg("list")
            .env("TRIAGE_CACHE_DIR", cache_dir())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    list(); // warm the compile cache
    let mut group = c.benchmark_group("startup");
    group.sample_size(30);
    group.bench_function("triage-list", |b| b.iter(list));
    group.bench_function("true", |b| {
        b.iter(|| assert!(Command::new("true").status().unwrap().success()))
    });
    group.finish();
}

criterion_group!(benches, step_overhead, startup);
criterion_main!(benches);
