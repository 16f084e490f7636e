//! Shared by the end-to-end tests: run the real `triage` binary, write playbooks, read JSON.

#![allow(dead_code)]

pub mod component;
pub mod lab;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Paths of the compiled test guests (`tests/guests/*`), built by host/build.rs.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// What a `triage` invocation did.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// stdout as JSON (for `--format json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// stderr with miette's line wrapping undone (frames and newlines collapsed to spaces),
    /// for assertions on sentences that may wrap.
    pub fn stderr_flat(&self) -> String {
        self.stderr
            .replace(['│', '\n'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The step with this id in the JSON report.
    pub fn step(&self, id: &str) -> serde_json::Value {
        self.json()["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no step {id} in {}", self.stdout))
            .clone()
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A compile cache shared by every test, so each plugin is compiled once per test run.
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("triage-cache")
}

/// The `triage` binary with a test cache and no colour.
pub fn triage() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_triage"));
    command
        .env("TRIAGE_CACHE_DIR", cache_dir())
        .env("NO_COLOR", "1")
        .current_dir(root());
    command
}

/// Run `triage ARGS` to completion.
pub fn run(args: &[&str]) -> Outcome {
    run_command(triage().args(args))
}

/// Run a prepared command to completion.
pub fn run_command(command: &mut Command) -> Outcome {
    let started = Instant::now();
    let output = command.output().expect("running triage");
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Run a prepared command to completion, and measure the most memory it held: its peak
/// resident set, from `wait4`'s resource usage (std's `wait` does not report it).
#[allow(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, not by std"
)]
pub fn run_measuring_memory(command: &mut Command) -> (Outcome, u64) {
    use std::io::Read;
    use std::process::Stdio;
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running triage");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes)
                .expect("reading triage's output");
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: `rusage` is plain old data, valid when zeroed; `wait4` writes both out
    // parameters, and reaps a child this function spawned and `child` never waits for.
    #[allow(unsafe_code)]
    let (waited, usage) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        (libc::wait4(pid, &mut status, 0, &mut usage), usage)
    };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let outcome = Outcome {
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        elapsed: started.elapsed(),
    };
    // Linux reports ru_maxrss in KiB.
    (outcome, u64::try_from(usage.ru_maxrss).unwrap() * 1024)
}

/// Write a playbook into `dir` and return its path.
pub fn write_playbook(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("playbook.ron");
    std::fs::write(&path, text).unwrap();
    path
}

/// Write `steps` (RON `Step(...)` items) into a playbook in a fresh directory and
/// `triage run` it with `--format json` and `extra` arguments.
pub fn run_steps(steps: &str, extra: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = write_playbook(dir.path(), &playbook_with_steps(steps));
    let mut args = vec!["run", path.to_str().unwrap(), "--format", "json"];
    args.extend(extra);
    run(&args)
}

/// A one-playbook-many-steps helper: `steps` are RON `Step(...)` items.
pub fn playbook_with_steps(steps: &str) -> String {
    format!("Playbook(name: \"test\", title: \"test\", steps: [{steps}])")
}

/// The causes of a JSON report's diagnosis, most likely first.
pub fn causes(outcome: &Outcome) -> Vec<String> {
    outcome.json()["diagnosis"]
        .as_array()
        .expect("a diagnosis")
        .iter()
        .map(|c| c["cause"].as_str().unwrap().to_owned())
        .collect()
}

/// The cause ranked first; panics with the report when there is none.
pub fn first_cause(outcome: &Outcome) -> String {
    causes(outcome)
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no diagnosis in {}", outcome.stdout))
}
