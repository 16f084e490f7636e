//! The sandbox, proven with purpose-built hostile plugins run by the real binary: deadlines,
//! memory caps, panics, floods, denied files and ports, refused plugins. Each step that
//! misbehaves ends as `error`; the run goes on.

mod support;

use std::net::TcpListener;

use support::{guests, playbook_with_steps, run, write_playbook};

fn run_steps(steps: &str) -> support::Outcome {
    support::run_steps(steps, &[])
}

#[test]
fn an_infinite_loop_is_stopped_at_its_deadline_and_the_run_goes_on() {
    let outcome = run_steps(&format!(
        r#"Step(id: "spin", plugin: "{}", timeout: "1s"),
           Step(id: "hello", plugin: "{}", with: {{ "name": "after" }})"#,
        guests::GUEST_LOOP,
        guests::GUEST_MINIMAL
    ));
    assert_eq!(outcome.code, 1, "{outcome:?}");
    let spin = outcome.step("spin");
    assert_eq!(spin["status"], "error");
    assert!(
        spin["summary"]
            .as_str()
            .unwrap()
            .contains("timed out after 1s"),
        "{spin}"
    );
    let spin_ms = spin["duration_ms"].as_u64().unwrap();
    assert!((1000..2000).contains(&spin_ms), "the loop ran {spin_ms} ms");
    assert!(
        outcome.elapsed.as_secs_f64() < 3.0,
        "the run took {:?}",
        outcome.elapsed
    );
    assert_eq!(outcome.step("hello")["status"], "pass");
    assert_eq!(outcome.step("hello")["summary"], "hello, after");
}

#[test]
fn a_one_gib_allocation_fails_the_step_with_a_clear_error() {
    let outcome = run_steps(&format!(
        r#"Step(id: "hog", plugin: "{}", memory: "64MiB")"#,
        guests::GUEST_ALLOC
    ));
    assert_eq!(outcome.code, 1, "{outcome:?}");
    let hog = outcome.step("hog");
    assert_eq!(hog["status"], "error");
    let summary = hog["summary"].as_str().unwrap();
    assert!(summary.contains("exceeded its memory budget"), "{summary}");
    assert!(summary.contains("the step allows 64 MiB"), "{summary}");
}

#[test]
fn a_panic_is_a_step_error_that_quotes_the_panic() {
    let outcome = run_steps(&format!(
        r#"Step(id: "boom", plugin: "{}"), Step(id: "hello", plugin: "{}", with: {{ "name": "x" }})"#,
        guests::GUEST_PANIC,
        guests::GUEST_MINIMAL
    ));
    let boom = outcome.step("boom");
    assert_eq!(boom["status"], "error");
    let summary = boom["summary"].as_str().unwrap();
    assert!(summary.contains("the plugin panicked"), "{summary}");
    assert!(
        summary.contains("the guest gave up on purpose"),
        "{summary}"
    );
    assert_eq!(outcome.step("hello")["status"], "pass");
}

#[test]
fn ten_megabytes_of_findings_are_bounded() {
    let outcome = run_steps(&format!(
        r#"Step(id: "flood", plugin: "{}")"#,
        guests::GUEST_FLOOD
    ));
    let flood = outcome.step("flood");
    let findings = flood["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 201, "200 kept plus the truncation note");
    assert_eq!(findings.last().unwrap()["id"], "triage.report-truncated");
    assert!(
        outcome.stdout.len() < 2 << 20,
        "report is {} bytes",
        outcome.stdout.len()
    );
}

#[test]
fn files_outside_the_grant_are_denied_also_through_dotdot_and_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("server.log"), "hello").unwrap();
    std::fs::write(dir.path().join("secret"), "s3cret").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret"), logs.join("link")).unwrap();
    let reads = [
        "/etc/passwd".to_owned(),
        format!("{}/../secret", logs.display()),
        format!("{}/link", logs.display()),
        format!("{}/server.log", logs.display()),
    ];
    let outcome = run_steps(&format!(
        r#"Step(id: "probe", plugin: "{}", with: {{ "read": {:?} }}, allow: (files: [{:?}]))"#,
        guests::GUEST_PROBE,
        reads,
        logs.display().to_string()
    ));
    let facts = &outcome.step("probe")["facts"];
    let answer = |path: &str| facts[format!("read {path}")].as_str().unwrap().to_owned();
    assert!(
        answer(&reads[0]).starts_with("denied: reading /etc/passwd is not granted"),
        "{facts}"
    );
    assert!(
        answer(&reads[0]).contains("add \"/etc/passwd\""),
        "the denial names the grant: {facts}"
    );
    assert!(answer(&reads[1]).starts_with("denied:"), "{facts}");
    assert!(
        answer(&reads[1]).contains("/secret"),
        "`..` is resolved before the check: {facts}"
    );
    assert!(
        answer(&reads[2]).starts_with("denied:") && answer(&reads[2]).contains("symlink"),
        "{facts}"
    );
    assert_eq!(answer(&reads[3]), "ok: 5 bytes");
}

#[test]
fn the_wasi_layer_grants_nothing() {
    // Even without our interfaces, the guest's standard library sees no files and no env.
    let outcome = run_steps(&format!(
        r#"Step(id: "probe", plugin: "{}", with: {{ "wasi": true }})"#,
        guests::GUEST_PROBE
    ));
    let facts = &outcome.step("probe")["facts"];
    assert!(
        facts["wasi read /etc/passwd"]
            .as_str()
            .unwrap()
            .starts_with("error"),
        "{facts}"
    );
    assert_eq!(facts["wasi env vars"], "0", "{facts}");
}

#[test]
fn a_port_outside_the_grant_is_denied() {
    let granted = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let granted_target = granted.local_addr().unwrap().to_string();
    let other_target = other.local_addr().unwrap().to_string();
    let outcome = run_steps(&format!(
        r#"Step(id: "probe", plugin: "{}", with: {{ "connect": [{granted_target:?}, {other_target:?}] }},
                allow: (net: [{granted_target:?}]))"#,
        guests::GUEST_PROBE
    ));
    let facts = &outcome.step("probe")["facts"];
    assert_eq!(
        facts[format!("connect {granted_target}")],
        "ConnectOutcome::Connected",
        "{facts}"
    );
    let denied = facts[format!("connect {other_target}")].as_str().unwrap();
    assert!(denied.starts_with("denied:"), "{denied}");
    assert!(
        denied.contains(&format!("add \"{other_target}\"")),
        "{denied}"
    );
}

fn refused(plugin: &str) -> support::Outcome {
    let outcome = run_steps(&format!(r#"Step(id: "bad", plugin: "{plugin}")"#));
    assert_eq!(
        outcome.code, 2,
        "a bad plugin is invalid input: {outcome:?}"
    );
    assert!(outcome.stdout.is_empty(), "nothing ran: {}", outcome.stdout);
    outcome
}

#[test]
fn a_plugin_for_another_contract_version_is_refused_naming_both_versions() {
    let outcome = refused(guests::GUEST_WRONG_VERSION);
    assert!(
        outcome
            .stderr_flat()
            .contains("built for triage:plugin@9.0.0"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome
            .stderr_flat()
            .contains("this triage runs triage:plugin@0.1.0"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn a_component_that_exports_nothing_is_refused() {
    let outcome = refused(guests::GUEST_EMPTY);
    assert!(
        outcome
            .stderr_flat()
            .contains("does not export `info` and `run`"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn files_that_are_not_components_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.wasm");
    std::fs::write(&text, "not wasm at all").unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let outcome = refused(text.to_str().unwrap());
    assert!(
        outcome.stderr_flat().contains("not a WebAssembly file"),
        "{}",
        outcome.stderr
    );
    let outcome = refused(core.to_str().unwrap());
    assert!(
        outcome
            .stderr_flat()
            .contains("a core WebAssembly module, not a component"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn an_unusable_cache_dir_falls_back_to_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let path = write_playbook(
        dir.path(),
        &playbook_with_steps(&format!(
            r#"Step(id: "hello", plugin: "{}", with: {{ "name": "cache" }})"#,
            guests::GUEST_MINIMAL
        )),
    );
    let outcome = support::run_command(
        support::triage()
            .args(["run", path.to_str().unwrap(), "--format", "json"])
            .env("TRIAGE_CACHE_DIR", &not_a_dir),
    );
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(outcome.step("hello")["summary"], "hello, cache");
}

#[test]
fn a_third_party_plugin_loads_from_a_plugin_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(guests::GUEST_MINIMAL, dir.path().join("hello.wasm")).unwrap();
    let path = write_playbook(
        dir.path(),
        &playbook_with_steps(r#"Step(id: "hi", plugin: "hello", with: { "name": "dir" })"#),
    );
    let outcome = run(&[
        "run",
        path.to_str().unwrap(),
        "--plugin-dir",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(outcome.step("hi")["summary"], "hello, dir");
}
