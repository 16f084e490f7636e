//! The Kafka lab (tests/lab/lab) from Rust tests: one real 3-broker KRaft cluster per test
//! binary, started on first use and torn down by the lab's watchdog when the test process
//! exits — also when a test panics or the run is killed.
//!
//! Tests that break the cluster take [`Lab::exclusive`], which serialises them and undoes
//! their faults when dropped (even on panic): stopped brokers are started again, changed
//! listeners are reset, ZooKeeper is stopped, and broker faults (a paused JVM, a full,
//! read-only or removed log dir, a lowered open-file limit, a small heap) are undone by
//! `lab restore`, which also starts a broker the fault ended.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// A running lab.
pub struct Lab {
    dir: PathBuf,
    /// `host:port,...` of every broker's client listener.
    pub bootstrap: String,
}

static LAB: OnceLock<Lab> = OnceLock::new();
static EXCLUSIVE: Mutex<()> = Mutex::new(());

impl Lab {
    /// The binary's lab, started on first use.
    pub fn shared() -> &'static Lab {
        LAB.get_or_init(|| {
            let base = if std::path::Path::new("/dev/shm").is_dir() {
                PathBuf::from("/dev/shm")
            } else {
                std::env::temp_dir()
            };
            let test_binary = std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "tests".into());
            let dir = base.join(format!("triage-lab-{test_binary}-{}", std::process::id()));
            let mut lab = Lab {
                dir,
                bootstrap: String::new(),
            };
            let pid = std::process::id().to_string();
            // Auto-creation off, as in most production clusters: a missing topic stays missing.
            let out = lab.run(&[
                "up",
                "--brokers",
                "3",
                "--config",
                "auto.create.topics.enable=false",
                "--watch",
                &pid,
            ]);
            lab.bootstrap = value_of(&out, "BOOTSTRAP");
            lab
        })
    }

    /// The lab, for a test that changes it; faults are undone when the guard drops.
    pub fn exclusive() -> Scenario {
        let lab = Lab::shared();
        let lock = EXCLUSIVE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Scenario {
            lab,
            _lock: lock,
            stopped: BTreeSet::new(),
            advertised: BTreeSet::new(),
            zookeeper: false,
            faulted: BTreeSet::new(),
        }
    }

    /// Run `tests/lab/lab ARGS` against this lab; panics with its stderr on failure.
    pub fn run(&self, args: &[&str]) -> String {
        let output = Command::new(super::root().join("tests/lab/lab"))
            .args(args)
            .env("LAB_DIR", &self.dir)
            .output()
            .expect("running tests/lab/lab (needs python3)");
        assert!(
            output.status.success(),
            "lab {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Path of a node's server.log: `"1"`..`"3"` or `"controller"`.
    pub fn log_path(&self, node: &str) -> PathBuf {
        PathBuf::from(self.run(&["logs", node]).trim())
    }

    /// Produce `count` records of `size` bytes with Kafka's console producer (the Java
    /// client), its log4j output going to `client_log`; returns the producer's exit code.
    pub fn produce(
        &self,
        topic: &str,
        size: usize,
        count: usize,
        properties: &[&str],
        client_log: &std::path::Path,
    ) -> i32 {
        let size = size.to_string();
        let count = count.to_string();
        let log = client_log.to_string_lossy();
        let mut args = vec![
            "produce", topic, "--size", &size, "--count", &count, "--log", &log,
        ];
        for property in properties {
            args.extend(["--property", property]);
        }
        value_of(&self.run(&args), "PRODUCER_EXIT")
            .parse()
            .expect("PRODUCER_EXIT is a number")
    }

    /// Create a topic (idempotent across tests: a name is created once per lab).
    pub fn topic(&self, name: &str, partitions: u32, rf: u32, configs: &[&str]) {
        static CREATED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        let mut created = CREATED.lock().unwrap_or_else(|p| p.into_inner());
        if created.contains(name) {
            return;
        }
        let partitions = partitions.to_string();
        let rf = rf.to_string();
        let mut args = vec!["topic", name, "--partitions", &partitions, "--rf", &rf];
        for config in configs {
            args.extend(["--config", config]);
        }
        self.run(&args);
        created.insert(name.to_owned());
    }
}

/// Exclusive use of the lab; restores it on drop.
pub struct Scenario {
    lab: &'static Lab,
    _lock: MutexGuard<'static, ()>,
    stopped: BTreeSet<u32>,
    advertised: BTreeSet<u32>,
    zookeeper: bool,
    /// Brokers given a fault that `lab restore` undoes.
    faulted: BTreeSet<u32>,
}

impl Scenario {
    /// The lab.
    pub fn lab(&self) -> &'static Lab {
        self.lab
    }

    /// Stop a broker (controlled shutdown); returns once metadata no longer lists it.
    pub fn stop(&mut self, broker: u32) {
        self.stopped.insert(broker);
        self.lab.run(&["stop", &broker.to_string()]);
    }

    /// SIGKILL a broker; returns once the controller has fenced it.
    pub fn kill(&mut self, broker: u32) {
        self.stopped.insert(broker);
        self.lab.run(&["stop", &broker.to_string(), "--kill"]);
    }

    /// SIGSTOP a broker's JVM; returns once the controller has fenced it.
    pub fn pause(&mut self, broker: u32) {
        self.faulted.insert(broker);
        self.lab.run(&["pause", &broker.to_string()]);
    }

    /// SIGCONT a paused broker; returns once it is unfenced.
    pub fn resume(&mut self, broker: u32) {
        self.lab.run(&["resume", &broker.to_string()]);
    }

    /// Break a broker's log dir: `"full"`, `"readonly"` or `"remove"` (see `lab --help`).
    pub fn break_log_dir(&mut self, broker: u32, how: &str) {
        self.faulted.insert(broker);
        self.lab
            .run(&["logdir", &broker.to_string(), how, "--size", "32m"]);
    }

    /// Lower a running broker's open-file limit and open connections until it runs out.
    pub fn exhaust_file_limit(&mut self, broker: u32) {
        self.faulted.insert(broker);
        self.lab.run(&["nofile", &broker.to_string()]);
    }

    /// Restart a broker with a heap of `size` (e.g. `"128m"`), Kafka logging any OOM.
    pub fn shrink_heap(&mut self, broker: u32, size: &str) {
        self.faulted.insert(broker);
        self.lab.run(&["heap", &broker.to_string(), size]);
    }

    /// Make a broker advertise an unresolvable client listener.
    pub fn advertise(&mut self, broker: u32, host: &str) {
        self.advertised.insert(broker);
        self.lab.run(&["advertise", &broker.to_string(), host]);
    }

    /// Start a standalone ZooKeeper; returns `host:port`.
    pub fn zookeeper_up(&mut self) -> String {
        self.zookeeper = true;
        value_of(&self.lab.run(&["zk", "up"]), "ZOOKEEPER")
    }

    /// Stop the ZooKeeper.
    pub fn zookeeper_down(&mut self) {
        self.lab.run(&["zk", "down"]);
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        for broker in &self.faulted {
            self.lab.run(&["restore", &broker.to_string()]);
        }
        for broker in &self.advertised {
            self.lab
                .run(&["broker-config", &broker.to_string(), "--reset"]);
        }
        for broker in &self.stopped {
            self.lab.run(&["start", &broker.to_string()]);
        }
        if self.zookeeper {
            self.lab.run(&["zk", "down"]);
        }
    }
}

fn value_of(output: &str, key: &str) -> String {
    output
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in lab output:\n{output}"))
        .to_owned()
}

/// `triage run kafka-producer-drops` against the lab, JSON out, with `--set` pairs.
pub fn producer_drops(lab: &Lab, sets: &[(&str, String)]) -> super::Outcome {
    let mut args: Vec<String> = [
        "run",
        "kafka-producer-drops",
        "--bootstrap",
        &lab.bootstrap,
        "--format",
        "json",
    ]
    .map(str::to_owned)
    .to_vec();
    for (name, value) in sets {
        args.push("--set".into());
        args.push(format!("{name}={value}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    super::run(&args)
}
