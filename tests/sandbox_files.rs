//! The files sandbox, attacked: a hostile guest (tests/guests/guest-files) reads, greps and
//! sizes paths through the real `triage` binary while the test races it, hands it special
//! files, symlink loops, hard links, secrets, the `--kafka-config` file, gigabyte lines and
//! rotated gzip logs. Nothing outside a grant and no secret may reach it; every host call
//! stops at the step's deadline; the process exits; its memory stays small.

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Outcome, guests, playbook_with_steps, write_playbook};

/// One step of the hostile guest: `with` (its params, as JSON, which is also RON) and the
/// step's `allow`.
fn guest_step(with: &Value, allow: &str, timeout: &str) -> String {
    format!(
        r#"Step(id: "probe", plugin: "{}", with: {with}, allow: ({allow}), timeout: "{timeout}")"#,
        guests::GUEST_FILES
    )
}

/// `allow: (files: [...])` for these paths.
fn files_grant(paths: &[&Path]) -> String {
    let quoted: Vec<String> = paths
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    format!("files: [{}]", quoted.join(", "))
}

fn run_guest(with: &Value, allow: &str, timeout: &str, extra: &[&str]) -> Outcome {
    support::run_steps(&guest_step(with, allow, timeout), extra)
}

fn fact(outcome: &Outcome, key: &str) -> String {
    let facts = &outcome.step("probe")["facts"];
    facts[key]
        .as_str()
        .unwrap_or_else(|| panic!("no fact `{key}` in {facts}\nstderr: {}", outcome.stderr))
        .to_owned()
}

fn count(outcome: &Outcome, key: &str) -> u64 {
    fact(outcome, key).parse().unwrap()
}

/// Every text the guest got for `what` (`read PATH` or `grep PATH`), joined.
fn texts(outcome: &Outcome, what: &str) -> String {
    outcome.step("probe")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["title"] == what)
        .flat_map(|f| f["evidence"].as_array().unwrap().clone())
        .map(|e| e["excerpt"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// What a bounded run of `triage` did, and what it cost.
struct Measured {
    outcome: Outcome,
    /// False when the process had to be killed at the limit.
    exited: bool,
    /// The process's own peak resident memory (wait4's ru_maxrss), in MiB.
    peak_rss_mib: f64,
}

/// Run `triage run PLAYBOOK --format json` and kill it if it is still running after `limit`.
fn run_bounded(steps: &str, limit: Duration) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let playbook = write_playbook(dir.path(), &playbook_with_steps(steps));
    let mut command = support::triage();
    command
        .args(["run", playbook.to_str().unwrap(), "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("running triage");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let (status, peak_rss_mib, exited) = reap_within(&mut child, limit);
    let elapsed = started.elapsed();
    Measured {
        outcome: Outcome {
            code: status,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
            elapsed,
        },
        exited,
        peak_rss_mib,
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Wait for `child` up to `limit` (then kill it); returns its exit code, its own peak RSS in
/// MiB and whether it exited by itself. `wait4` reports the child's own rusage, so other
/// processes this test binary starts do not count.
// The child is reaped by wait4 below, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn reap_within(child: &mut Child, limit: Duration) -> (i32, f64, bool) {
    let pid = child.id() as libc::pid_t;
    let deadline = Instant::now() + limit;
    let mut exited = true;
    loop {
        let mut status = 0;
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        let options = if exited { libc::WNOHANG } else { 0 };
        // SAFETY: wait4 reaps our own child and fills a plain struct we own; std's `Child`
        // is not waited on afterwards.
        #[allow(unsafe_code)]
        let (reaped, usage) = unsafe {
            let reaped = libc::wait4(pid, &mut status, options, usage.as_mut_ptr());
            (reaped, usage.assume_init())
        };
        assert!(reaped >= 0, "wait4 failed");
        if reaped == pid {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
            return (code, usage.ru_maxrss as f64 / 1024.0, exited);
        }
        if Instant::now() >= deadline && exited {
            exited = false;
            child.kill().unwrap();
            continue;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------
// Issue 7, item 7: capability-based opening.

#[test]
fn a_directory_swapped_for_a_symlink_in_a_tight_loop_never_leaks_a_file_outside_the_grant() {
    let dir = tempfile::tempdir().unwrap();
    let grant = dir.path().join("grant");
    let sub = grant.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("server.log"), "harmless line\n").unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("server.log"), "SECRET line\n").unwrap();
    // The symlink that takes `sub`'s place, pointing out of the grant.
    let link = grant.join("sub.link");
    std::os::unix::fs::symlink(&outside, &link).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (stop, swaps, sub, link) = (stop.clone(), swaps.clone(), sub.clone(), link.clone());
        let parked = grant.join("sub.real");
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // dir -> symlink to outside -> dir, as fast as rename(2) goes.
                std::fs::rename(&sub, &parked).unwrap();
                std::fs::rename(&link, &sub).unwrap();
                std::fs::rename(&sub, &link).unwrap();
                std::fs::rename(&parked, &sub).unwrap();
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let file = sub.join("server.log");
    let outcome = run_guest(
        &json!({
            "read": [path(&file), path(&file), path(&file), path(&file)],
            "grep": [path(&sub), path(&grant)],
            "regex": "line",
            "rounds": 2500,
            "look_for": "SECRET",
        }),
        &files_grant(&[&grant]),
        "120s",
        &[],
    );
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    eprintln!(
        "swap race: {swaps:?} swaps; {} answers ok, {} denied, {} unavailable, {} leaks in {:?}",
        fact(&outcome, "ok"),
        fact(&outcome, "denied"),
        fact(&outcome, "unavailable"),
        fact(&outcome, "leaks"),
        outcome.elapsed
    );

    assert_eq!(
        count(&outcome, "leaks"),
        0,
        "{}",
        fact(&outcome, "first leak")
    );
    // The race was real: the file was read many times, and refused many times.
    assert!(count(&outcome, "ok") > 1000, "{}", outcome.stdout);
    assert!(
        count(&outcome, "denied") + count(&outcome, "unavailable") > 100,
        "{}",
        outcome.stdout
    );
    assert!(swaps.load(Ordering::Relaxed) > 1000, "only {swaps:?} swaps");
    assert_eq!(count(&outcome, "timeout"), 0, "{}", outcome.stdout);
}

#[test]
fn a_hard_link_to_a_file_outside_the_grant_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let grant = dir.path().join("grant");
    std::fs::create_dir(&grant).unwrap();
    std::fs::write(grant.join("server.log"), "harmless line\n").unwrap();
    let secret = dir.path().join("shadow");
    std::fs::write(&secret, "SECRET line\n").unwrap();
    let linked = grant.join("linked.log");
    std::fs::hard_link(&secret, &linked).unwrap();

    let outcome = run_guest(
        &json!({ "read": [path(&linked)], "grep": [path(&grant), path(&linked)], "regex": "line",
                 "look_for": "SECRET" }),
        &files_grant(&[&grant]),
        "10s",
        &[],
    );
    assert_eq!(
        count(&outcome, "leaks"),
        0,
        "{}",
        fact(&outcome, "first leak")
    );
    let read = fact(&outcome, &format!("read {}", linked.display()));
    assert!(
        read.starts_with("denied:") && read.contains("hard link"),
        "{read}"
    );
    let grep_file = fact(&outcome, &format!("grep {}", linked.display()));
    assert!(
        grep_file.starts_with("denied:") && grep_file.contains("hard link"),
        "{grep_file}"
    );
    // The directory scan reads the honest file and leaves the linked one out of its count.
    let grep_dir = fact(&outcome, &format!("grep {}", grant.display()));
    assert!(grep_dir.starts_with("ok: 1 files,"), "{grep_dir}");
    assert!(grep_dir.contains("1 matches"), "{grep_dir}");
}

#[test]
fn a_grant_written_as_a_symlinked_directory_covers_what_it_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("data-disk-1/kafka-logs");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::write(real.join("server.log"), "Shrinking ISR for orders-0\n").unwrap();
    let alias = dir.path().join("kafka-logs");
    std::os::unix::fs::symlink(&real, &alias).unwrap();

    let by_alias = alias.join("server.log");
    let by_real = real.join("server.log");
    let outcome = run_guest(
        &json!({ "read": [path(&by_alias), path(&by_real)], "grep": [path(&alias)],
                 "regex": "Shrinking ISR" }),
        &files_grant(&[&alias]),
        "10s",
        &[],
    );
    for file in [&by_alias, &by_real] {
        let read = fact(&outcome, &format!("read {}", file.display()));
        assert!(
            read.starts_with("ok: 27 bytes"),
            "{}: {read}",
            file.display()
        );
    }
    let grep = fact(&outcome, &format!("grep {}", alias.display()));
    assert!(
        grep.starts_with("ok: 1 files,") && grep.contains("1 matches"),
        "{grep}"
    );
}

#[test]
fn disk_usage_needs_a_files_grant_covering_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let granted = dir.path().join("kafka-logs");
    std::fs::create_dir(&granted).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let missing = dir.path().join("does-not-exist");

    let outcome = run_guest(
        &json!({ "disk": [path(&granted), path(&elsewhere), path(&missing)] }),
        &format!("sys: true, {}", files_grant(&[&granted])),
        "10s",
        &[],
    );
    let ok = fact(&outcome, &format!("disk {}", granted.display()));
    assert!(ok.starts_with("ok:"), "{ok}");
    // Outside the files grant: denied, the same for a path that exists and one that does
    // not (no existence oracle), and the denial names the grant that would allow it.
    for path in [&elsewhere, &missing] {
        let denied = fact(&outcome, &format!("disk {}", path.display()));
        assert!(denied.starts_with("denied:"), "{denied}");
        assert!(
            denied.contains(&format!("add \"{}\"", path.display())),
            "{denied}"
        );
        assert!(denied.contains("allow: (files"), "{denied}");
    }

    // `sys: true` alone grants no path at all.
    let outcome = run_guest(
        &json!({ "disk": [path(&granted)] }),
        "sys: true",
        "10s",
        &[],
    );
    let denied = fact(&outcome, &format!("disk {}", granted.display()));
    assert!(
        denied.starts_with("denied:") && denied.contains("allow: (files"),
        "{denied}"
    );
}

// ---------------------------------------------------------------------------------------
// Issue 7, item 4: secrets.

/// A producer.properties as applications have them: JAAS with line continuations, every
/// separator Java's Properties accepts, librdkafka's keys, a per-listener override.
const PRODUCER_PROPERTIES: &str = r#"bootstrap.servers=kafka-1:9093
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
    username="app" \
    password="jaas-Secret-1";
ssl.truststore.location=/etc/app/truststore.jks
ssl.truststore.password=truststore-Secret-2
ssl.keystore.password : keystore-Secret-3
ssl.key.password keypass-Secret-4
sasl.password=rdkafka-Secret-5
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="listener-Secret-6";
acks=all
"#;

const SERVER_JAAS: &str = r#"KafkaServer {
   org.apache.kafka.common.security.plain.PlainLoginModule required
   username="admin"
   password="server-Secret-7"
   user_admin="admin-Secret-8"
   user_alice="alice-Secret-9";
};
"#;

const APP_ENV: &str = r#"KAFKA_SSL_KEY_PASSWORD=env-Secret-10
SETTINGS={"ssl.keystore.password": "json-Secret-11", "acks": "all"}
"#;

#[test]
fn sensitive_values_are_masked_in_reads_and_greps() {
    let dir = tempfile::tempdir().unwrap();
    let properties = dir.path().join("producer.properties");
    std::fs::write(&properties, PRODUCER_PROPERTIES).unwrap();
    let jaas = dir.path().join("kafka_server_jaas.conf");
    std::fs::write(&jaas, SERVER_JAAS).unwrap();
    let env = dir.path().join("app.env");
    std::fs::write(&env, APP_ENV).unwrap();
    let files = [path(&properties), path(&jaas), path(&env)];

    // Read everything; grep every line; and grep for the secrets themselves, which must
    // match nothing (a count is an oracle too).
    let grant = files_grant(&[dir.path()]);
    let every_line = run_guest(
        &json!({ "read": files, "grep": [path(dir.path())], "regex": ".", "context": 2,
                 "look_for": "Secret-" }),
        &grant,
        "10s",
        &[],
    );
    assert_eq!(
        count(&every_line, "leaks"),
        0,
        "{}",
        fact(&every_line, "first leak")
    );
    assert!(
        !every_line.stdout.contains("Secret-"),
        "{}",
        every_line.stdout
    );
    let text = texts(&every_line, &format!("read {}", properties.display()));
    for masked in [
        "sasl.jaas.config=<redacted: set>",
        "ssl.truststore.password=<redacted: set>",
        "ssl.keystore.password : <redacted: set>",
        "ssl.key.password <redacted: set>",
        "sasl.password=<redacted: set>",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=<redacted: set>",
        // What is not secret stays readable.
        "acks=all",
        "ssl.truststore.location=/etc/app/truststore.jks",
    ] {
        assert!(text.contains(masked), "`{masked}` not in:\n{text}");
    }
    let text = texts(&every_line, &format!("read {}", jaas.display()));
    for masked in [
        "username=\"admin\"",
        "password=\"<redacted: set>\"",
        "user_admin=\"<redacted: set>\"",
        "user_alice=\"<redacted: set>\";",
    ] {
        assert!(text.contains(masked), "`{masked}` not in:\n{text}");
    }
    let text = texts(&every_line, &format!("read {}", env.display()));
    assert!(
        text.contains("KAFKA_SSL_KEY_PASSWORD=<redacted: set>"),
        "{text}"
    );
    assert!(
        text.contains("\"ssl.keystore.password\": \"<redacted: set>\""),
        "{text}"
    );

    let oracle = run_guest(
        &json!({ "grep": [path(dir.path())], "regex": "Secret-|jaas-S|alice-S" }),
        &grant,
        "10s",
        &[],
    );
    let answer = fact(&oracle, &format!("grep {}", dir.path().display()));
    assert!(
        answer.starts_with("ok: 3 files,") && answer.ends_with(" 0 matches"),
        "{answer}"
    );
}

/// The keys a Kafka class's own config documentation (its `main`, which prints the HTML of
/// the Kafka site) declares with type `password`, from the lab's real Kafka jars.
fn kafka_password_keys(class: &str) -> Vec<String> {
    let output = Command::new(support::root().join("tests/lab/lab"))
        .args(["cli", class])
        .output()
        .expect("running tests/lab/lab cli (needs python3 and Java)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let html = String::from_utf8(output.stdout).unwrap();
    let mut keys = Vec::new();
    for entry in html.split("<li>").skip(1) {
        let Some(name) = entry
            .split("<a id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
        else {
            continue;
        };
        if entry.contains("<tr><th>Type:</th><td>password</td></tr>") {
            keys.push(name.to_owned());
        }
    }
    keys
}

#[test]
fn every_key_kafka_declares_a_password_is_masked() {
    let mut keys = Vec::new();
    for class in [
        "org.apache.kafka.clients.producer.ProducerConfig",
        "org.apache.kafka.clients.consumer.ConsumerConfig",
        "org.apache.kafka.clients.admin.AdminClientConfig",
        "kafka.server.KafkaConfig",
    ] {
        let found = kafka_password_keys(class);
        assert!(!found.is_empty(), "{class} documents no password keys");
        keys.extend(found);
    }
    keys.sort();
    keys.dedup();
    assert!(keys.iter().any(|k| k == "sasl.jaas.config"), "{keys:?}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("every.properties");
    let body: String = keys
        .iter()
        .enumerate()
        .map(|(i, key)| format!("{key}=Kafka-Secret-{i}\n"))
        .collect();
    std::fs::write(&file, body).unwrap();
    let outcome = run_guest(
        &json!({ "read": [path(&file)], "grep": [path(&file)], "look_for": "Kafka-Secret" }),
        &files_grant(&[&file]),
        "10s",
        &[],
    );
    assert_eq!(
        count(&outcome, "leaks"),
        0,
        "{}",
        fact(&outcome, "first leak")
    );
    let text = texts(&outcome, &format!("read {}", file.display()));
    for key in &keys {
        assert!(
            text.contains(&format!("{key}=<redacted: set>")),
            "{key} in:\n{text}"
        );
    }
}

#[test]
fn the_kafka_config_file_is_kept_out_of_every_grant() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    let config = app.join("client.properties");
    std::fs::write(
        &config,
        "bootstrap.servers=127.0.0.1:9\nclient.id=kc-marker\nsasl.password=kc-Secret\n",
    )
    .unwrap();
    let alias = app.join("alias.properties");
    std::os::unix::fs::symlink(&config, &alias).unwrap();
    let hard = app.join("hard.properties");
    std::fs::hard_link(&config, &hard).unwrap();
    std::fs::write(app.join("app.log"), "started kc-free\n").unwrap();

    let outcome = run_guest(
        &json!({ "read": [path(&config), path(&alias), path(&hard)],
                 "grep": [path(&app), path(&config)], "regex": "kc-", "look_for": "kc-marker" }),
        &files_grant(&[&app, &config]),
        "10s",
        &["--kafka-config", config.to_str().unwrap()],
    );
    assert_eq!(
        count(&outcome, "leaks"),
        0,
        "{}",
        fact(&outcome, "first leak")
    );
    for file in [&config, &alias, &hard] {
        let read = fact(&outcome, &format!("read {}", file.display()));
        assert!(
            read.starts_with("denied:") && read.contains("--kafka-config"),
            "{read}"
        );
    }
    let grep = fact(&outcome, &format!("grep {}", config.display()));
    assert!(
        grep.starts_with("denied:") && grep.contains("--kafka-config"),
        "{grep}"
    );
    // The directory scan reads the log, and neither name of the config.
    let grep = fact(&outcome, &format!("grep {}", app.display()));
    assert!(
        grep.starts_with("ok: 1 files,") && grep.contains("1 matches"),
        "{grep}"
    );
}

// ---------------------------------------------------------------------------------------
// Issue 7, item 9: host work stops at the deadline; special files; symlink loops.

#[test]
fn special_files_are_refused_quickly_and_the_process_exits() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("server.log"), "Shrinking ISR\n").unwrap();
    let fifo = logs.join("server.log.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let socket = logs.join("agent.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let (zero, random) = (Path::new("/dev/zero"), Path::new("/dev/urandom"));

    let timeout = 2;
    let steps = guest_step(
        &json!({
            "read": [path(&fifo), path(&socket), path(zero), path(random)],
            "grep": [path(&fifo), path(zero), path(random), path(&logs)],
            "regex": "Shrinking ISR",
        }),
        &files_grant(&[&logs, zero, random]),
        &format!("{timeout}s"),
    );
    let run = run_bounded(&steps, Duration::from_secs(timeout + 10));
    assert!(
        run.exited,
        "triage did not exit by itself: {:?}",
        run.outcome
    );
    assert!(
        run.outcome.elapsed < Duration::from_secs(timeout + 2),
        "triage ran {:?} for a {timeout}s step",
        run.outcome.elapsed
    );
    let outcome = &run.outcome;
    for (file, kind) in [
        (&fifo, "FIFO"),
        (&socket, "socket"),
        (&zero.to_path_buf(), "character device"),
        (&random.to_path_buf(), "character device"),
    ] {
        let read = fact(outcome, &format!("read {}", file.display()));
        assert!(
            read.contains("not a regular file") && read.contains(kind),
            "{read}"
        );
    }
    for file in [&fifo, &zero.to_path_buf(), &random.to_path_buf()] {
        let grep = fact(outcome, &format!("grep {}", file.display()));
        assert!(grep.contains("not a regular file"), "{grep}");
    }
    // In a directory the special files are skipped (and said to be: truncated), the log is read.
    let grep = fact(outcome, &format!("grep {}", logs.display()));
    assert!(
        grep.starts_with("ok: 1 files,") && grep.contains("truncated true, 1 matches"),
        "{grep}"
    );
}

#[test]
fn symlink_loops_in_a_granted_directory_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(logs.join("a/b")).unwrap();
    std::fs::write(logs.join("a/b/server.log"), "Shrinking ISR\n").unwrap();
    std::os::unix::fs::symlink(".", logs.join("self")).unwrap();
    std::os::unix::fs::symlink("..", logs.join("a/b/up")).unwrap();
    std::os::unix::fs::symlink(&logs, logs.join("a/root")).unwrap();
    std::os::unix::fs::symlink("knot", logs.join("knot")).unwrap();
    std::os::unix::fs::symlink("ping", logs.join("pong")).unwrap();
    std::os::unix::fs::symlink("pong", logs.join("ping")).unwrap();

    let started = Instant::now();
    let outcome = run_guest(
        &json!({ "grep": [path(&logs)], "read": [path(&logs.join("knot"))],
                 "regex": "Shrinking ISR" }),
        &files_grant(&[&logs]),
        "10s",
        &[],
    );
    let grep = fact(&outcome, &format!("grep {}", logs.display()));
    assert!(
        grep.starts_with("ok: 1 files,") && grep.contains(" 1 matches"),
        "{grep}"
    );
    let read = fact(&outcome, &format!("read {}", logs.join("knot").display()));
    assert!(read.contains("symlink"), "{read}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A file of `size` bytes of pseudo-random `a`/`b`, with a newline every `line` bytes (none
/// when `line` is 0).
fn lines_of_a_and_b(file: &Path, size: usize, line: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).unwrap());
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..size / chunk.len() {
        for byte in chunk.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = if state & 1 == 0 { b'a' } else { b'b' };
        }
        if line > 0 {
            for end in chunk.iter_mut().skip(line - 1).step_by(line) {
                *end = b'\n';
            }
        }
        out.write_all(&chunk).unwrap();
    }
    out.flush().unwrap();
}

#[test]
fn a_slow_regex_over_one_200_mb_line_stops_with_its_step() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one-line.log");
    lines_of_a_and_b(&file, 200 << 20, 0);
    // No literal to skip ahead with, never a match, and a DFA that must remember 40
    // letters: the regex engine falls back to its slow path (a few MB/s).
    let slow = "[ab]{20}a[ab]{20}[^ab]";
    let timeout = 3;
    let steps = guest_step(
        &json!({ "grep": [path(&file)], "regex": slow }),
        &files_grant(&[&file]),
        &format!("{timeout}s"),
    );
    let run = run_bounded(&steps, Duration::from_secs(30));
    eprintln!(
        "200 MB line, slow regex: triage exited after {:?}",
        run.outcome.elapsed
    );
    assert!(run.exited, "{:?}", run.outcome);
    assert!(
        run.outcome.elapsed < Duration::from_secs(timeout + 2),
        "triage ran {:?} for a {timeout}s step",
        run.outcome.elapsed
    );
    let grep = fact(&run.outcome, &format!("grep {}", file.display()));
    // Either the line was cut (scanned up to the cap) or the step's deadline stopped it.
    assert!(
        grep.contains("truncated true") || grep == "timed out",
        "{grep}"
    );

    // The same 200 MB in 32 KiB lines, each under the cap: all of it is for the slow path,
    // and only the deadline, polled between reads, stops the host's work.
    lines_of_a_and_b(&file, 200 << 20, 32 << 10);
    let run = run_bounded(&steps, Duration::from_secs(30));
    eprintln!(
        "200 MB of 32 KiB lines, slow regex: triage exited after {:?}",
        run.outcome.elapsed
    );
    assert!(run.exited, "{:?}", run.outcome);
    assert!(
        run.outcome.elapsed < Duration::from_secs(timeout + 2),
        "triage ran {:?} for a {timeout}s step",
        run.outcome.elapsed
    );
}

#[test]
fn grep_of_a_two_gib_line_holds_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sparse.log");
    // Sparse: reads as 2 GiB of zero bytes, and not one newline.
    std::fs::File::create(&file)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let steps = guest_step(
        &json!({ "grep": [path(&file)], "regex": "Shrinking ISR|\\x00{8}x" }),
        &files_grant(&[&file]),
        "60s",
    );
    let steps = steps.replacen("timeout:", "memory: \"16MiB\", timeout:", 1);
    let run = run_bounded(&steps, Duration::from_secs(90));
    eprintln!(
        "2 GiB line: peak RSS {:.0} MiB, {:?}",
        run.peak_rss_mib, run.outcome.elapsed
    );
    assert!(run.exited, "{:?}", run.outcome);
    let grep = fact(&run.outcome, &format!("grep {}", file.display()));
    assert!(
        grep.starts_with("ok: 1 files, 2147483648 bytes, truncated true"),
        "{grep}"
    );
    assert!(
        run.peak_rss_mib < 200.0,
        "peak RSS {:.0} MiB",
        run.peak_rss_mib
    );
}

// ---------------------------------------------------------------------------------------
// Issue 7, item 11: a rotated gzip log is read, never merely counted.

#[test]
fn a_rotated_gzip_log_is_scanned_and_other_archives_are_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(
        logs.join("server.log"),
        "INFO ok\nWARN Shrinking ISR for p-0\n",
    )
    .unwrap();
    let rotated = logs.join("server.log.2");
    std::fs::write(
        &rotated,
        "WARN Shrinking ISR for p-1\nINFO ok\nWARN Shrinking ISR for p-2\n",
    )
    .unwrap();
    let gzipped = Command::new("gzip").arg(&rotated).status().unwrap();
    assert!(gzipped.success());
    assert!(logs.join("server.log.2.gz").is_file());
    // A zstd frame (magic number and garbage): not read, so not counted.
    std::fs::write(
        logs.join("server.log.3.zst"),
        b"\x28\xb5\x2f\xfdShrinking ISR junk",
    )
    .unwrap();

    let steps = format!(
        r#"Step(id: "logs", plugin: "log-grep",
                with: {{ "path": {:?}, "patterns": [{{ "name": "isr", "regex": "Shrinking ISR" }}] }},
                allow: (files: [{:?}]))"#,
        path(&logs),
        path(&logs)
    );
    let outcome = support::run_steps(&steps, &[]);
    let step = outcome.step("logs");
    assert_eq!(step["facts"]["count.isr"], "3", "{step}");
    let summary = step["summary"].as_str().unwrap();
    assert!(summary.contains("in 2 files"), "{summary}");

    // Through the guest: the gzip is decompressed for a read too, so what it holds is
    // masked like any text (a plugin must not get compressed secrets to inflate itself).
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    let config = secrets.join("producer.properties");
    std::fs::write(&config, "sasl.password=gz-Secret\nacks=all\n").unwrap();
    assert!(
        Command::new("gzip")
            .arg(&config)
            .status()
            .unwrap()
            .success()
    );
    let gz = secrets.join("producer.properties.gz");
    let outcome = run_guest(
        &json!({ "read": [path(&gz)], "grep": [path(&gz)], "look_for": "gz-Secret" }),
        &files_grant(&[&secrets]),
        "10s",
        &[],
    );
    assert_eq!(
        count(&outcome, "leaks"),
        0,
        "{}",
        fact(&outcome, "first leak")
    );
    let text = texts(&outcome, &format!("read {}", gz.display()));
    assert!(
        text.contains("sasl.password=<redacted: set>") && text.contains("acks=all"),
        "{text}"
    );
}
