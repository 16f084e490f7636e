//! Host work has bounds, proven on the real binary with real stuck system calls: a host call
//! ends by its step's deadline, the process exits when the run ends whatever host work is
//! still stuck (a resolver that never answers, a FIFO nobody writes), and what the host tells
//! a plugin about the machine's processes is present and redacted.
//!
//! The resolver tests run `triage` in fresh network and mount namespaces (util-linux
//! `unshare`; root, or unprivileged user namespaces) where the only nameserver is a UDP socket
//! that never answers. They fail, never skip, when that cannot be set up.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::{Outcome, guests, playbook_with_steps, write_playbook};

/// How long after its start a `triage` that should long have exited is killed.
const HANG_LIMIT: Duration = Duration::from_secs(15);

/// How long a process may live on after printing its report: the runtime's shutdown grace
/// (250 ms) and the exit itself, with room for a loaded machine.
const EXIT_AFTER_REPORT: Duration = Duration::from_secs(1);

/// A `triage` run that ended by itself.
struct Ended {
    outcome: Outcome,
    /// From the first byte of the report on stdout to the process's exit (`None`: no report).
    lingered: Option<Duration>,
}

/// Run `command` (a `triage` invocation), killing it if it is still running after
/// [`HANG_LIMIT`]; a hang is reported with what it had printed.
fn run_bounded(command: &mut Command) -> Ended {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > HANG_LIMIT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let exited = Instant::now();
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let (stdout, report_started) = stdout.join().unwrap();
    let outcome = Outcome {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout,
        stderr: stderr.join().unwrap().0,
        elapsed: exited - started,
    };
    assert!(
        status.is_some(),
        "triage was still running {HANG_LIMIT:?} after it started and was killed; \
         what it had printed:\n{}\nstderr:\n{}",
        outcome.stdout,
        outcome.stderr
    );
    Ended {
        lingered: report_started.map(|at| exited.saturating_duration_since(at)),
        outcome,
    }
}

/// Read `pipe` to its end on a thread; returns the text and when its first byte came.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<(String, Option<Instant>)> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut first = None;
        let mut chunk = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            first.get_or_insert_with(Instant::now);
            bytes.extend_from_slice(&chunk[..n]);
        }
        (String::from_utf8_lossy(&bytes).into_owned(), first)
    })
}

/// The run ended at its 2 s deadline and the process right after its report.
fn assert_ended_promptly(ended: &Ended) {
    let run_ms = ended.outcome.json()["duration_ms"].as_u64().unwrap();
    assert!(
        run_ms < 2500,
        "the run's only step had a 2 s deadline, but the run took {run_ms} ms"
    );
    let lingered = ended.lingered.expect("a report");
    assert!(
        lingered < EXIT_AFTER_REPORT,
        "the process lived on {lingered:?} after printing its report:\n{}",
        ended.outcome.stdout
    );
}

/// A resolv.conf whose only nameserver never answers, patient enough (30 s per query) to
/// outlast every deadline under test: a lookup that is not abandoned shows as a hang.
const SILENT_RESOLV_CONF: &str = "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n";

/// Names come from /etc/hosts, then DNS: no other resolver service of the machine is asked.
const NSSWITCH_CONF: &str = "hosts: files dns\n";

/// Runs inside the new namespaces: bring the loopback interface up (it starts down), put the
/// two files above over the machine's, bind a UDP socket on 127.0.0.1:53 that never reads
/// nor answers, and exec the command, which inherits the socket and so keeps the silent
/// nameserver alive exactly as long as it runs.
const SILENT_NAMESERVER: &str = r#"
import fcntl, os, socket, struct, subprocess, sys
resolv_conf, nsswitch_conf, command = sys.argv[1], sys.argv[2], sys.argv[3:]
SIOCSIFFLAGS, IFF_UP = 0x8914, 0x1
fcntl.ioctl(socket.socket(), SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", IFF_UP))
for source, target in ((resolv_conf, "/etc/resolv.conf"), (nsswitch_conf, "/etc/nsswitch.conf")):
    subprocess.run(["mount", "--bind", source, target], check=True)
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", 53))
os.set_inheritable(silent.fileno(), True)
os.execvp(command[0], command)
"#;

/// Run a playbook of `steps` with `triage run --format json` where DNS never answers.
fn run_with_a_silent_resolver(steps: &str) -> Ended {
    let dir = tempfile::tempdir().unwrap();
    let resolv_conf = dir.path().join("resolv.conf");
    let nsswitch_conf = dir.path().join("nsswitch.conf");
    std::fs::write(&resolv_conf, SILENT_RESOLV_CONF).unwrap();
    std::fs::write(&nsswitch_conf, NSSWITCH_CONF).unwrap();
    let playbook = write_playbook(dir.path(), &playbook_with_steps(steps));

    let mut command = Command::new("unshare");
    // Root makes the namespaces directly; anyone else through a user namespace.
    if !is_root() {
        command.args(["--user", "--map-root-user"]);
    }
    command
        .args(["--net", "--mount", "--", "python3", "-c", SILENT_NAMESERVER])
        .arg(&resolv_conf)
        .arg(&nsswitch_conf)
        .arg(env!("CARGO_BIN_EXE_triage"))
        .args(["run", playbook.to_str().unwrap(), "--format", "json"])
        .env("TRIAGE_CACHE_DIR", support::cache_dir())
        .env("NO_COLOR", "1")
        .current_dir(support::root());
    let ended = run_bounded(&mut command);
    let outcome = &ended.outcome;
    assert!(
        !(outcome.stdout.is_empty()
            && (outcome.stderr.contains("unshare:") || outcome.stderr.contains("Traceback"))),
        "could not give triage a network namespace with a silent nameserver (these tests need \
         util-linux `unshare`, `mount` and python3, as root or with unprivileged user \
         namespaces):\n{}",
        outcome.stderr
    );
    ended
}

fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|uids| uids.split_whitespace().nth(1))
        == Some("0")
}

#[test]
fn a_resolver_that_never_answers_is_a_dns_finding_within_the_probe_timeout() {
    let ended = run_with_a_silent_resolver(
        r#"Step(id: "reach", plugin: "net-probe", timeout: "2s",
                with: { "servers": "broker.silent.test:9092", "timeout_ms": 1000 },
                allow: (net: ["broker.silent.test:9092"]))"#,
    );
    let reach = ended.outcome.step("reach");
    assert_eq!(reach["status"], "fail", "{reach}");
    let finding = &reach["findings"][0];
    assert_eq!(finding["id"], "net.dns", "{finding}");
    let evidence = finding["evidence"][0]["excerpt"].as_str().unwrap();
    assert!(
        evidence.contains("the resolver did not answer within 1000 ms"),
        "{evidence}"
    );
    assert_ended_promptly(&ended);
}

#[test]
fn net_resolve_stops_at_the_step_deadline_and_the_stuck_lookup_does_not_hold_the_process() {
    let ended = run_with_a_silent_resolver(&format!(
        r#"Step(id: "resolve", plugin: "{}", timeout: "2s",
                with: {{ "hosts": ["broker.silent.test"] }},
                allow: (net: ["broker.silent.test:9092"]))"#,
        guests::GUEST_RESOLVE
    ));
    let resolve = ended.outcome.step("resolve");
    // The call ends at the deadline; whether the plugin still gets to record the timeout
    // before the step is stopped is a matter of microseconds.
    let stopped = resolve["status"] == "error"
        && resolve["summary"]
            .as_str()
            .unwrap()
            .contains("timed out after 2s");
    let recorded = resolve["facts"]["resolve broker.silent.test"] == "timed out";
    assert!(stopped || recorded, "{resolve}");
    let ran_ms = resolve["duration_ms"].as_u64().unwrap();
    assert!((2000..2500).contains(&ran_ms), "the step ran {ran_ms} ms");
    assert_ended_promptly(&ended);
}

#[test]
fn a_fifo_read_does_not_keep_the_process_alive() {
    // Opening a FIFO that nobody writes blocks in the kernel. Whether the host refuses the
    // FIFO or abandons the open at the deadline, the run ends and so does the process.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("server.log");
    mkfifo(&fifo);
    let path = fifo.display().to_string();
    let playbook = write_playbook(
        dir.path(),
        &playbook_with_steps(&format!(
            r#"Step(id: "read", plugin: "{}", timeout: "2s",
                    with: {{ "read": [{path:?}] }}, allow: (files: [{path:?}]))"#,
            guests::GUEST_PROBE
        )),
    );
    let ended = run_bounded(support::triage().args([
        "run",
        playbook.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let read = ended.outcome.step("read");
    let answer = &read["facts"][format!("read {path}")];
    assert!(
        !answer.as_str().is_some_and(|a| a.starts_with("ok")),
        "nothing was read from a FIFO nobody writes: {read}"
    );
    assert_ended_promptly(&ended);
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A process this test started, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Wait until `pid` runs python (it may start as an interpreter shim that execs python).
fn wait_for_python(pid: u32) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.starts_with("python") {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("process {pid} did not start python within 10 s");
}

#[test]
fn processes_named_shows_the_command_line_with_every_secret_masked() {
    let marker = format!("--marker=triage-host-bounds-{}", std::process::id());
    let jaas = r#"-Dsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="jaas-hunter2";"#;
    // A busy loop (so that its CPU usage shows), then the arguments under test, which python
    // ignores.
    let busy = Command::new("python3")
        .args([
            "-c",
            "while True: pass",
            &marker,
            jaas,
            "-Xmx1g",
            "--password",
            "pw-hunter2",
            "--api-key=key-hunter2",
            "-u",
            "alice:curl-hunter2",
            "http://bob:url-hunter2@example.com:8080/x",
        ])
        .stdin(Stdio::null())
        .spawn()
        .expect("python3");
    let busy = Running(busy);
    let pid = busy.0.id();
    wait_for_python(pid);

    let outcome = support::run_steps(
        &format!(
            r#"Step(id: "ps", plugin: "{}", with: {{ "names": [{marker:?}, "pw-hunter2"] }},
                    allow: (sys: true))"#,
            guests::GUEST_SYS
        ),
        &[],
    );
    let facts = &outcome.step("ps")["facts"];
    assert_eq!(facts[format!("{marker}: count")], "1", "{facts}");
    let command = facts[format!("{marker}: {pid}: command")]
        .as_str()
        .unwrap_or_else(|| panic!("no command for {pid}: {facts}"));
    for shown in [
        "while True: pass",
        marker.as_str(),
        "-Dsasl.jaas.config=*** -Xmx1g",
        "--password *** --api-key=***",
        "-u alice:***",
        "http://bob:***@example.com:8080/x",
    ] {
        assert!(command.contains(shown), "`{shown}` not in: {command}");
    }
    assert!(!command.contains("hunter2"), "a secret leaked: {command}");
    // Searching for a secret finds nothing: the search sees only what the plugin may see.
    assert_eq!(facts["pw-hunter2: count"], "0", "{facts}");
    let cpu: f32 = facts[format!("{marker}: {pid}: cpu")]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(cpu > 1.0, "a busy loop shows {cpu}% CPU");
}
