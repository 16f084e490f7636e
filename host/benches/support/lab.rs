//! A private Kafka lab for one benchmark: started on creation (watched, so it goes away
//! with the benchmark process even if it panics), stopped on drop.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A running lab.
pub struct Lab {
    /// Its state directory.
    pub dir: PathBuf,
    /// `host:port,...` of the brokers' client listeners.
    pub bootstrap: String,
    heap: Option<&'static str>,
}

impl Lab {
    /// Start `brokers` brokers; `heap` overrides the JVM heap (`LAB_HEAP`).
    pub fn start(name: &str, brokers: u32, heap: Option<&'static str>) -> Lab {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let mut lab = Lab {
            dir: base.join(format!("triage-bench-{name}-{}", std::process::id())),
            bootstrap: String::new(),
            heap,
        };
        let pid = std::process::id().to_string();
        let env = lab.run(&["up", "--brokers", &brokers.to_string(), "--watch", &pid]);
        lab.bootstrap = env
            .lines()
            .find_map(|l| l.strip_prefix("BOOTSTRAP="))
            .expect("lab up prints BOOTSTRAP")
            .to_owned();
        lab
    }

    /// Run `tests/lab/lab ARGS` against this lab; panics when it fails.
    pub fn run(&self, args: &[&str]) -> String {
        let mut command = Command::new(root().join("tests/lab/lab"));
        command
            .args(args)
            .env("LAB_DIR", &self.dir)
            .stderr(Stdio::inherit());
        if let Some(heap) = self.heap {
            command.env("LAB_HEAP", heap);
        }
        let output = command.output().expect("running tests/lab/lab");
        assert!(output.status.success(), "lab {args:?} failed");
        String::from_utf8(output.stdout).expect("lab output is text")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.run(&["down"]);
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is in the workspace")
        .to_path_buf()
}
