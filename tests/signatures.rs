//! The signature catalogue end to end: log-grep scanning with it (real plugin, real runtime),
//! a team's own signatures from a playbook, `triage validate` of a signature file,
//! `triage list --signatures`, and rotated / compressed logs in a scanned directory.

mod support;

use std::io::Write;
use std::path::Path;

use support::{Outcome, playbook_with_steps, run, write_playbook};

/// Run log-grep over `log` (a file or directory) with extra `with` entries (RON, each ending
/// in a comma), granting `grants` besides the log.
fn log_grep(dir: &Path, log: &Path, with: &str, grants: &[&Path]) -> Outcome {
    let mut files = vec![format!("{:?}", log.display().to_string())];
    files.extend(
        grants
            .iter()
            .map(|g| format!("{:?}", g.display().to_string())),
    );
    let playbook = write_playbook(
        dir,
        &playbook_with_steps(&format!(
            r#"Step(id: "logs", plugin: "log-grep",
                    with: {{ "path": {log:?}, {with} }},
                    allow: (files: [{files}]))"#,
            log = log.display().to_string(),
            files = files.join(", "),
        )),
    );
    run(&["run", playbook.to_str().unwrap(), "--format", "json"])
}

fn finding<'a>(step: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    step["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {step}"))
}

fn lab_log(name: &str) -> std::path::PathBuf {
    support::root().join("knowledge/tests/lab").join(name)
}

/// Before issue 8, none of log-grep's patterns fired on the surviving broker's log of the
/// 4.4 KRaft lab after a broker was stopped, although its partitions' ISRs shrank.
#[test]
fn the_isr_shrink_and_fencing_are_named_from_kafka_4_4s_own_log() {
    let dir = tempfile::tempdir().unwrap();
    let broker = lab_log("broker-1-after-stop-and-kill.log");
    let outcome = log_grep(dir.path(), &broker, "", &[]);
    let step = outcome.step("logs");
    let isr = finding(&step, "log.isr-shrunk-kraft");
    assert_eq!(isr["cause"], "isr.under-replicated", "{isr}");
    assert!(
        isr["evidence"][0]["excerpt"]
            .as_str()
            .unwrap()
            .contains("isr=[1, 2]"),
        "{isr}"
    );
    assert_eq!(
        finding(&step, "log.replica-fetcher-error")["cause"],
        "replication.fetch-failed"
    );

    let controller = lab_log("controller-after-stop-and-kill.log");
    let outcome = log_grep(dir.path(), &controller, "", &[]);
    let fenced = finding(&outcome.step("logs"), "log.broker-fenced-session-timeout").clone();
    assert_eq!(fenced["cause"], "broker.fenced");
    assert_eq!(fenced["severity"], "fail");
}

#[test]
fn nothing_fires_on_the_healthy_labs_logs() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["healthy-1.log", "healthy-controller.log"] {
        let outcome = log_grep(dir.path(), &lab_log(name), "", &[]);
        let step = outcome.step("logs");
        assert_eq!(step["status"], "pass", "{name}: {step}");
        assert_eq!(step["findings"].as_array().unwrap().len(), 0, "{step}");
    }
}

#[test]
fn rotated_and_gzipped_logs_in_a_directory_are_scanned_and_other_archives_reported() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let write = |name: &str, text: &str| std::fs::write(logs.join(name), text).unwrap();
    write(
        "server.log",
        "[2026-11-29 10:00:00,000] INFO all well (kafka.Kafka)\n",
    );
    write(
        "server.log.1",
        "[2026-11-29 09:00:00,000] INFO [Partition orders-0 broker=1] Shrinking ISR from 1,2,3 to 1,2. Leader: (highWatermark: 5, endOffset: 5). Out of sync replicas: (brokerId: 3, endOffset: 4, lastCaughtUpTimeMs: 1) (kafka.cluster.Partition)\n",
    );
    write(
        "server.log.2023-11-29-10",
        "[2023-11-29 10:00:00,000] ERROR Error while appending records to orders-0 in dir /data (org.apache.kafka.storage.internals.log.LogDirFailureChannel)\njava.io.IOException: No space left on device\n",
    );
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(logs.join("server.log.2023-11-28-10.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(b"java.lang.OutOfMemoryError: Java heap space\n")
        .unwrap();
    gz.finish().unwrap();
    // zstd's magic number, then text the scan must not see raw.
    std::fs::write(
        logs.join("server.log.3.zst"),
        b"\x28\xb5\x2f\xfdjava.io.IOException: Too many open files\n",
    )
    .unwrap();

    let outcome = log_grep(dir.path(), &logs, "", &[]);
    let step = outcome.step("logs");
    assert_eq!(step["facts"]["files_scanned"], "4", "{step}");
    assert_eq!(step["facts"]["count.isr-shrink"], "1", "{step}");
    assert_eq!(step["facts"]["count.disk-full"], "1", "{step}");
    assert_eq!(step["facts"]["count.log-dir-io-error"], "1", "{step}");
    assert_eq!(
        step["facts"]["count.out-of-memory"], "1",
        "the .gz is read: {step}"
    );
    assert_eq!(step["facts"]["count.too-many-open-files"], "0", "{step}");
    // The zstd file is left out, and the run says so rather than counting it as scanned.
    assert_eq!(step["facts"]["truncated"], "true", "{step}");
    assert!(
        step["summary"]
            .as_str()
            .unwrap()
            .contains("not everything was scanned"),
        "{step}"
    );
}

const TEAM_FILE: &str = r#"// Our own signatures.
[
    (
        id: "payments-dlq",
        cause: "team.payments",
        severity: Fail,
        meaning: "Payments went to the dead-letter topic.",
        fix: "Replay the DLQ after fixing the consumer.",
        regexes: [r"sent \d+ records? to payments-dlq"],
        components: [Client],
        examples: ["sent 3 records to payments-dlq"],
    ),
]
"#;

#[test]
fn a_teams_signature_file_adds_to_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.ron");
    std::fs::write(&ours, TEAM_FILE).unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(
        &log,
        "sent 3 records to payments-dlq\njava.lang.OutOfMemoryError: Java heap space\n",
    )
    .unwrap();
    let with = format!("\"signatures\": {:?},", ours.display().to_string());
    let outcome = log_grep(dir.path(), &log, &with, &[&ours]);
    let step = outcome.step("logs");
    let dlq = finding(&step, "log.payments-dlq");
    assert_eq!(dlq["cause"], "team.payments", "{dlq}");
    assert_eq!(dlq["severity"], "fail");
    // The catalogue still applies.
    assert_eq!(
        finding(&step, "log.out-of-memory")["cause"],
        "broker.out-of-memory"
    );
}

#[test]
fn inline_signatures_work_and_a_bad_one_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "sent 3 records to payments-dlq\n").unwrap();
    let entry = |cause: &str| {
        format!(
            r#""signatures": [{{ "id": "payments-dlq", "cause": "{cause}", "severity": "Warn",
                 "meaning": "DLQ", "fix": "Replay it.", "regexes": ["payments-dlq"] }}],
               "catalogue": false,"#
        )
    };
    let outcome = log_grep(dir.path(), &log, &entry("team.payments"), &[]);
    let step = outcome.step("logs");
    assert_eq!(finding(&step, "log.payments-dlq")["cause"], "team.payments");
    assert_eq!(step["facts"]["count.payments-dlq"], "1");

    let outcome = log_grep(dir.path(), &log, &entry("payments.dlq"), &[]);
    let step = outcome.step("logs");
    assert_eq!(step["status"], "error", "{step}");
    let text = step.to_string();
    assert!(
        text.contains(
            "signatures[0] (id `payments-dlq`): cause `payments.dlq` is not a known cause key"
        ),
        "{text}"
    );
}

#[test]
fn a_bad_team_signature_file_is_pointed_at_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.ron");
    std::fs::write(
        &ours,
        TEAM_FILE.replace("team.payments", "isr.under-replicatd"),
    )
    .unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "x\n").unwrap();
    let with = format!("\"signatures\": {:?},", ours.display().to_string());
    let step = log_grep(dir.path(), &log, &with, &[&ours]).step("logs");
    assert_eq!(step["status"], "error", "{step}");
    let text = step.to_string();
    assert!(
        text.contains(&format!(
            "{}:5:16: cause `isr.under-replicatd` is not a known cause key",
            ours.display()
        )),
        "{text}"
    );
}

#[test]
fn validate_checks_a_signature_file_and_list_shows_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.ron");
    std::fs::write(&ours, TEAM_FILE).unwrap();
    let outcome = run(&["validate", ours.to_str().unwrap()]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert!(
        outcome.stdout.contains("(1 signatures)"),
        "{}",
        outcome.stdout
    );

    // A regex the scan's engine rejects, and an unknown cause: both located.
    std::fs::write(
        &ours,
        TEAM_FILE
            .replace(r"records? to", r"records? (to")
            .replace("team.payments", "payments"),
    )
    .unwrap();
    let outcome = run(&["validate", ours.to_str().unwrap()]);
    assert_eq!(outcome.code, 2, "{}", outcome.stderr);
    let shown = ours.display();
    assert!(
        outcome.stderr.contains(&format!(
            "{shown}:5:16: cause `payments` is not a known cause key"
        )),
        "{}",
        outcome.stderr
    );

    std::fs::write(&ours, TEAM_FILE.replace(r"records? to", r"records? (to")).unwrap();
    let outcome = run(&["validate", ours.to_str().unwrap()]);
    assert_eq!(outcome.code, 2, "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains(&format!(
            "{shown}:9:19: regex of `payments-dlq` does not compile"
        )),
        "{}",
        outcome.stderr
    );

    let outcome = run(&["list", "--signatures"]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    for signature in triage_knowledge::catalogue() {
        assert!(outcome.stdout.contains(&signature.id), "{}", signature.id);
    }
    assert!(outcome.stdout.contains("isr.under-replicated"));
}
