//! Playbooks: every invalid playbook in `tests/playbooks/invalid/` is refused with exit code
//! 2 and an exact, snapshotted error pointing at file:line:column; valid ones run with the
//! scheduling rules (`needs`, `when`, optional inputs) observable in the JSON report.

mod support;

use std::net::TcpListener;

use support::{guests, playbook_with_steps, run, write_playbook};

#[test]
fn invalid_playbooks_are_refused_with_located_errors() {
    let dir = support::root().join("tests/playbooks/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the invalid corpus is missing");
    for file in files {
        let relative = file
            .strip_prefix(support::root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let outcome = run(&["validate", &relative]);
        let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
        assert_eq!(outcome.code, 2, "{name}: {outcome:?}");
        insta::assert_snapshot!(name, format!("exit: {}\n{}", outcome.code, outcome.stderr));
    }
}

#[test]
fn shipped_playbooks_are_valid() {
    let outcome = run(&[
        "validate",
        "playbooks/connectivity.ron",
        "playbooks/kafka-cluster.ron",
        "playbooks/kafka-producer-drops.ron",
    ]);
    assert_eq!(outcome.code, 0, "{outcome:?}");
    for expected in [
        "ok: playbooks/connectivity.ron (2 steps)",
        "ok: playbooks/kafka-cluster.ron (4 steps)",
        "ok: playbooks/kafka-producer-drops.ron (",
    ] {
        assert!(outcome.stdout.contains(expected), "{}", outcome.stdout);
    }
}

#[test]
fn a_missing_playbook_is_an_argument_error() {
    let outcome = run(&["run", "no-such-playbook"]);
    assert_eq!(outcome.code, 2);
    assert!(
        outcome
            .stderr_flat()
            .contains("no playbook `no-such-playbook`"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr_flat().contains("connectivity"),
        "names the shipped ones: {}",
        outcome.stderr
    );
}

#[test]
fn unknown_and_missing_inputs_are_argument_errors() {
    let outcome = run(&["run", "connectivity", "--set", "server=127.0.0.1:1"]);
    assert_eq!(outcome.code, 2, "{outcome:?}");
    assert!(
        outcome
            .stderr_flat()
            .contains("unknown input `server` (did you mean `servers`?)"),
        "{}",
        outcome.stderr
    );
    let outcome = run(&["run", "connectivity"]);
    assert_eq!(outcome.code, 2, "{outcome:?}");
    assert!(
        outcome
            .stderr_flat()
            .contains("missing required input `servers`"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stdout.is_empty());
}

#[test]
fn list_shows_playbooks_and_plugins_with_descriptions() {
    let outcome = run(&["list"]);
    assert_eq!(outcome.code, 0, "{outcome:?}");
    for expected in [
        "connectivity",
        "Can this host reach the brokers?",
        "net-probe",
        "log-grep",
        "DNS and TCP reachability",
    ] {
        assert!(
            outcome.stdout.contains(expected),
            "missing {expected}: {}",
            outcome.stdout
        );
    }
}

#[test]
fn explain_prints_each_step_with_its_effective_grants_before_running() {
    let outcome = run(&[
        "explain",
        "connectivity",
        "--set",
        "servers=kafka-1:9092,kafka-2:9093",
    ]);
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let text = &outcome.stdout;
    assert!(text.contains("Step reach"), "{text}");
    assert!(
        text.contains("plugin   net-probe v0.1.0 (shipped)"),
        "{text}"
    );
    assert!(
        text.contains("grants   net: kafka-1:9092,kafka-2:9093"),
        "{text}"
    );
    assert!(
        text.contains("grants   files (read-only): {{broker_log}}"),
        "unset inputs stay visible: {text}"
    );
    assert!(text.contains("plugin asks for: net"), "{text}");
}

#[test]
fn needs_when_and_optional_inputs_decide_what_runs() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"Playbook(name: "flow", title: "flow",
            inputs: {{ "extra": Input(help: "optional", optional: true) }},
            steps: [
                Step(id: "probe", plugin: "net-probe", with: {{ "servers": "{closed}" }}, allow: (net: ["{closed}"])),
                Step(id: "after-probe", plugin: "{hello}", needs: ["probe"], with: {{ "name": "a" }}),
                Step(id: "on-failure", plugin: "{hello}", when: Status(step: "probe", is: [Fail]), with: {{ "name": "b" }}),
                Step(id: "on-pass", plugin: "{hello}", when: Status(step: "probe", is: [Pass]), with: {{ "name": "c" }}),
                Step(id: "on-fact", plugin: "{hello}", when: Fact(step: "probe", key: "unreachable", equals: "1"), with: {{ "name": "d" }}),
                Step(id: "uses-extra", plugin: "{hello}", with: {{ "name": "{{{{extra}}}}" }}),
            ])"#,
        hello = guests::GUEST_MINIMAL
    );
    // GUEST_MINIMAL is also exercised by the runtime tests; here it is a step that passes.
    let path = write_playbook(dir.path(), &text);
    let outcome = run(&["run", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert_eq!(outcome.step("probe")["status"], "fail");
    let skipped = outcome.step("after-probe");
    assert_eq!(skipped["status"], "skipped");
    assert_eq!(skipped["summary"], "needs `probe`, which ended with fail");
    assert_eq!(outcome.step("on-failure")["status"], "pass");
    assert_eq!(outcome.step("on-pass")["status"], "skipped");
    assert_eq!(outcome.step("on-fact")["status"], "pass");
    assert_eq!(
        outcome.step("uses-extra")["summary"],
        "input `extra` not set"
    );

    let outcome = run(&[
        "run",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--set",
        "extra=set",
    ]);
    assert_eq!(outcome.step("uses-extra")["summary"], "hello, set");
}

#[test]
fn independent_steps_run_concurrently() {
    // Four steps that each wait one second in a host call (a listener that never answers),
    // so the measure is about overlap, not about how busy the CPU is.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = silent.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let steps: Vec<String> = (0..4)
        .map(|i| {
            format!(
                r#"Step(id: "wait{i}", plugin: "zookeeper-health",
                        with: {{ "connect": "{target}", "timeout_ms": 1000 }}, allow: (net: ["{target}"]))"#
            )
        })
        .collect();
    let path = write_playbook(dir.path(), &playbook_with_steps(&steps.join(",")));
    let outcome = run(&["run", path.to_str().unwrap(), "--format", "json"]);
    for i in 0..4 {
        let step = outcome.step(&format!("wait{i}"));
        assert!(
            step["duration_ms"].as_u64().unwrap() >= 1000,
            "each step waits 1 s: {step}"
        );
    }
    let total = outcome.json()["duration_ms"].as_u64().unwrap();
    assert!(
        total < 3000,
        "four 1 s steps took {total} ms in total: they did not overlap"
    );
}
