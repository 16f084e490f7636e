//! The sandbox, proven with purpose-built hostile plugins run by the real binary: deadlines,
//! memory budgets (also across many memories), panics, floods (of findings and of log lines),
//! forged terminal text, denied files and ports, refused plugins, a tampered compile cache.
//! Each step that misbehaves ends as `error`; the run goes on.

mod support;

use std::net::TcpListener;

use support::component::{self, HostileComponent};
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

// ---- Memory budget across memories and tables (issue 7) ----

const MIB: u64 = 1 << 20;

/// Run a playbook of `steps` whose `plugin: "hostile.wasm"` is `component`, measuring the
/// peak memory of the triage process.
fn run_hostile_component(component: &[u8], steps: &str) -> (support::Outcome, u64) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hostile.wasm"), component).unwrap();
    let path = write_playbook(dir.path(), &playbook_with_steps(steps));
    support::run_measuring_memory(support::triage().args([
        "run",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]))
}

#[test]
fn many_memories_share_one_step_budget_and_the_host_stays_within_it() {
    // Eight memories (the canonical one and seven more), each grown to 48 MiB and written
    // to, in a 64 MiB step: each alone fits, together they are 336 MiB.
    let hostile = HostileComponent {
        extra_memories: 7,
        initial_pages: 1,
        grow_pages: (48 * MIB / u64::from(component::PAGE)) as u32,
        ..HostileComponent::default()
    };
    let (outcome, peak) = run_hostile_component(
        &hostile.component(),
        r#"Step(id: "hog", plugin: "hostile.wasm", memory: "64MiB")"#,
    );
    assert_eq!(outcome.code, 1, "{outcome:?}");
    let hog = outcome.step("hog");
    assert_eq!(hog["status"], "error", "{hog}");
    let summary = hog["summary"].as_str().unwrap();
    assert!(summary.contains("exceeded its memory budget"), "{summary}");
    assert!(summary.contains("the step allows 64 MiB"), "{summary}");
    assert!(
        peak < 64 * MIB + 150 * MIB,
        "triage held {} MiB at its peak",
        peak / MIB
    );
}

#[test]
fn memories_declared_large_count_together_before_anything_runs() {
    // Three 100 MiB memories: each under the 256 MiB that info() may use, together over it.
    let hostile = HostileComponent {
        extra_memories: 3,
        initial_pages: (100 * MIB / u64::from(component::PAGE)) as u32,
        ..HostileComponent::default()
    };
    let (outcome, _) = run_hostile_component(
        &hostile.component(),
        r#"Step(id: "hog", plugin: "hostile.wasm")"#,
    );
    assert_eq!(outcome.code, 2, "refused before anything ran: {outcome:?}");
    let stderr = outcome.stderr_flat();
    assert!(
        stderr.contains("exceeded its memory budget: asked to hold 300 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_plugin_creating_more_memories_than_a_step_allows_is_refused() {
    // The issue's attack: 16 extra memories, each grown to its own cap.
    let hostile = HostileComponent {
        extra_memories: 16,
        initial_pages: 1,
        grow_pages: (32 * MIB / u64::from(component::PAGE)) as u32,
        ..HostileComponent::default()
    };
    let (outcome, peak) = run_hostile_component(
        &hostile.component(),
        r#"Step(id: "hog", plugin: "hostile.wasm")"#,
    );
    assert_eq!(outcome.code, 2, "refused before anything ran: {outcome:?}");
    let stderr = outcome.stderr_flat();
    assert!(stderr.contains("memory count too high"), "{stderr}");
    assert!(
        stderr.contains("at most 32 instances, 8 memories and 32 tables"),
        "{stderr}"
    );
    assert!(
        peak < 150 * MIB,
        "triage held {} MiB at its peak",
        peak / MIB
    );
}

#[test]
fn a_plugin_creating_more_tables_than_a_step_allows_is_refused() {
    let hostile = HostileComponent {
        tables: 40,
        ..HostileComponent::default()
    };
    let (outcome, _) = run_hostile_component(
        &hostile.component(),
        r#"Step(id: "tables", plugin: "hostile.wasm")"#,
    );
    assert_eq!(outcome.code, 2, "refused before anything ran: {outcome:?}");
    assert!(
        outcome.stderr_flat().contains("table count too high"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn a_plugin_creating_more_instances_than_a_step_allows_is_refused() {
    // Instances cost host memory (a VM context each) that no memory budget sees.
    let hostile = HostileComponent {
        extra_instances: 40,
        ..HostileComponent::default()
    };
    let (outcome, _) = run_hostile_component(
        &hostile.component(),
        r#"Step(id: "instances", plugin: "hostile.wasm")"#,
    );
    assert_eq!(outcome.code, 2, "refused before anything ran: {outcome:?}");
    assert!(
        outcome.stderr_flat().contains("instance count too high"),
        "{}",
        outcome.stderr
    );
    // A few extra instances are within the cap and run.
    let few = HostileComponent {
        extra_instances: 8,
        ..HostileComponent::default()
    };
    let (outcome, _) = run_hostile_component(
        &few.component(),
        r#"Step(id: "instances", plugin: "hostile.wasm")"#,
    );
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(outcome.step("instances")["summary"], "grew");
}

#[test]
fn a_well_behaved_component_with_a_few_memories_runs() {
    // The budget is not a ban: a few small memories within it are fine.
    let modest = HostileComponent {
        extra_memories: 3,
        initial_pages: 1,
        grow_pages: 16,
        tables: 2,
        ..HostileComponent::default()
    };
    let (outcome, _) = run_hostile_component(
        &modest.component(),
        r#"Step(id: "modest", plugin: "hostile.wasm", memory: "64MiB")"#,
    );
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(outcome.step("modest")["summary"], "grew");
}

// ---- Plugin text on the terminal (issue 7) ----

const STATUS_WORDS: [&str; 5] = ["PASS", "WARN", "FAIL", "ERROR", "SKIP"];

/// The forging guest in every mode, after the genuine failure it tries to hide.
fn forge_steps() -> String {
    let forge = guests::GUEST_FORGE;
    format!(
        r#"Step(id: "real", plugin: "{forge}", title: "Broker health", with: {{ "mode": "honest" }}),
           Step(id: "forge", plugin: "{forge}", with: {{ "mode": "report" }}),
           Step(id: "refuse", plugin: "{forge}", with: {{ "mode": "fail" }}),
           Step(id: "boom", plugin: "{forge}", with: {{ "mode": "panic" }})"#
    )
}

fn run_forge_human(colour: bool) -> support::Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = write_playbook(dir.path(), &playbook_with_steps(&forge_steps()));
    let mut command = support::triage();
    command.args(["run", path.to_str().unwrap()]);
    if colour {
        // Styles on even though stdout is a pipe: what a terminal would receive.
        command.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
    }
    support::run_command(&mut command)
}

#[test]
fn plugin_text_cannot_forge_or_erase_lines_of_the_report() {
    let outcome = run_forge_human(false);
    assert_eq!(outcome.code, 1, "{outcome:?}");
    for (stream, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        assert!(!text.contains('\x1b'), "ESC on {stream}:\n{text}");
        assert!(!text.contains('\r'), "CR on {stream}:\n{text}");
        assert!(!text.contains('\u{9b}'), "C1 CSI on {stream}:\n{text}");
        assert!(
            !text.contains('\u{202E}'),
            "bidi override on {stream}:\n{text}"
        );
    }
    // Every line that starts with a status word is a genuine step line or the total.
    let status_lines: Vec<&str> = outcome
        .stdout
        .lines()
        .chain(outcome.stderr.lines())
        .filter(|line| {
            STATUS_WORDS
                .iter()
                .any(|w| line.trim_start().starts_with(w))
        })
        .collect();
    let genuine = [
        " FAIL   real ",
        " WARN   forge ",
        " ERROR  refuse ",
        " ERROR  boom ",
        "ERROR: ",
    ];
    assert_eq!(status_lines.len(), genuine.len(), "{status_lines:#?}");
    for (line, expected) in status_lines.iter().zip(genuine) {
        assert!(line.starts_with(expected), "forged line {line:?}");
    }
    assert!(
        status_lines[0].ends_with("broker 2 of 3 is DOWN"),
        "the genuine failure is intact: {:?}",
        status_lines[0]
    );
    // The forgery is shown for what it is, not silently dropped.
    assert!(
        outcome.stdout.contains(r"\u{1b}[1A\u{1b}[2K\u{d} PASS"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stderr.contains(r"[forge] warn: log\u{1b}[1A"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn on_a_terminal_the_only_escape_sequences_are_triages_own_styles() {
    let outcome = run_forge_human(true);
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert!(
        outcome.stdout.contains('\x1b'),
        "styles are on: {}",
        outcome.stdout
    );
    // SGR (`ESC [ params m`) only: no cursor movement, no erasing, no hyperlinks or titles.
    let sgr = regex::Regex::new(r"\x1b\[[0-9;]*m").unwrap();
    let rest = sgr.replace_all(&outcome.stdout, "");
    assert!(!rest.contains('\x1b'), "a foreign escape sequence:\n{rest}");
    assert!(!outcome.stderr.contains('\x1b'), "{}", outcome.stderr);
}

#[test]
fn list_and_explain_show_a_hostile_plugins_info_bounded_and_inert() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(guests::GUEST_FORGE, dir.path().join("forge.wasm")).unwrap();
    let plugin_dir = dir.path().to_str().unwrap();
    let list = run(&["list", "--plugin-dir", plugin_dir]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let line = list
        .stdout
        .lines()
        .find(|line| line.trim_start().starts_with("forge "))
        .unwrap_or_else(|| {
            panic!(
                "no forge line in\n{}",
                &list.stdout[..4096.min(list.stdout.len())]
            )
        });
    assert!(line.len() < 2048, "a {} byte line", line.len());
    assert!(
        list.stdout.len() < 64 << 10,
        "list wrote {} bytes",
        list.stdout.len()
    );

    let path = write_playbook(
        dir.path(),
        &playbook_with_steps(r#"Step(id: "forge", plugin: "forge")"#),
    );
    let explain = run(&[
        "explain",
        path.to_str().unwrap(),
        "--plugin-dir",
        plugin_dir,
    ]);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    assert!(
        explain.stdout.len() < 64 << 10,
        "explain wrote {} bytes",
        explain.stdout.len()
    );
    for output in [&list.stdout, &explain.stdout] {
        assert!(
            !output.contains('\x1b') && !output.contains('\r'),
            "{output}"
        );
        assert!(
            !output.lines().any(|line| STATUS_WORDS
                .iter()
                .any(|w| line.trim_start().starts_with(w))),
            "{output}"
        );
    }
}

// ---- Log floods (issue 7) ----

#[test]
fn a_plugin_flooding_its_log_is_cut_with_one_note() {
    let outcome = run_steps(&format!(
        r#"Step(id: "flood", plugin: "{}", with: {{ "log_lines": 200000 }})"#,
        guests::GUEST_FLOOD
    ));
    assert_eq!(
        outcome.code,
        0,
        "{}",
        &outcome.stderr[..4096.min(outcome.stderr.len())]
    );
    assert_eq!(outcome.step("flood")["summary"], "logged 200000 lines");
    assert!(
        outcome.stderr.len() < 512 << 10,
        "stderr holds {} bytes",
        outcome.stderr.len()
    );
    assert!(
        outcome.stderr.starts_with("[flood] warn: flood line 0 "),
        "{}",
        &outcome.stderr[..200]
    );
    let notes: Vec<&str> = outcome
        .stderr
        .lines()
        .filter(|line| line.contains("more log lines dropped"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("[flood] warn: … 199000 more log lines dropped"),
        "{}",
        notes[0]
    );
}

// ---- The compile cache (issue 7) ----

/// The `.cwasm` entries in a cache directory.
fn cache_entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
                .collect()
        })
        .unwrap_or_default()
}

/// Run `steps` with `cache` as the compile cache.
fn run_with_cache(cache: &std::path::Path, steps: &str) -> support::Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = write_playbook(dir.path(), &playbook_with_steps(steps));
    support::run_command(
        support::triage()
            .args(["run", path.to_str().unwrap(), "--format", "json"])
            .env("TRIAGE_CACHE_DIR", cache),
    )
}

#[test]
fn a_tampered_cache_entry_is_refused_and_the_plugin_compiled_again() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let reach = format!(
        r#"Step(id: "reach", plugin: "net-probe", with: {{ "servers": {closed:?} }}, allow: (net: [{closed:?}]))"#
    );
    let root = tempfile::tempdir().unwrap();
    let victim = root.path().join("victim");
    let honest = run_with_cache(&victim, &reach);
    assert_eq!(honest.step("reach")["status"], "fail", "{honest:?}");
    let [net_probe] = cache_entries(&victim).try_into().unwrap();

    // The attacker's plugin takes the same `servers` and always passes; a real triage
    // compiles it into another cache, and the attacker copies the entry over net-probe's.
    let attacker_plugin = HostileComponent {
        param: Some("servers"),
        ..HostileComponent::default()
    };
    let attacker = root.path().join("attacker");
    std::fs::create_dir(&attacker).unwrap();
    std::fs::write(attacker.join("net-probe.wasm"), attacker_plugin.component()).unwrap();
    let other = root.path().join("other");
    let passing = support::run_command(
        support::triage()
            .args([
                "run",
                write_playbook(&attacker, &playbook_with_steps(&reach))
                    .to_str()
                    .unwrap(),
            ])
            .args([
                "--plugin-dir",
                attacker.to_str().unwrap(),
                "--format",
                "json",
            ])
            .env("TRIAGE_CACHE_DIR", &other),
    );
    assert_eq!(passing.step("reach")["status"], "pass", "{passing:?}");
    let [always_passes] = cache_entries(&other).try_into().unwrap();
    std::fs::copy(&always_passes, &net_probe).unwrap();

    let attacked = run_with_cache(&victim, &reach);
    let step = attacked.step("reach");
    assert_eq!(step["status"], "fail", "the honest verdict: {step}");
    assert_eq!(step["plugin"], "net-probe");
    let stderr = attacked.stderr_flat();
    assert!(stderr.contains("failed its integrity check"), "{stderr}");
    assert!(
        stderr.contains(&net_probe.display().to_string()),
        "{stderr}"
    );

    // The entry was replaced: the next run loads it without complaint.
    let again = run_with_cache(&victim, &reach);
    assert_eq!(again.step("reach")["status"], "fail");
    assert!(!again.stderr.contains("integrity"), "{}", again.stderr);
}

#[test]
fn a_cache_dir_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let outcome = run_with_cache(
        &shared,
        &format!(
            r#"Step(id: "hello", plugin: "{}", with: {{ "name": "cache" }})"#,
            guests::GUEST_MINIMAL
        ),
    );
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(outcome.step("hello")["summary"], "hello, cache");
    let stderr = outcome.stderr_flat();
    assert!(
        stderr.contains(&format!(
            "not using the compile cache {}: it is writable by other users (mode 0777)",
            shared.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("not using the compile cache").count(),
        1,
        "warned once: {stderr}"
    );
    assert!(
        std::fs::read_dir(&shared).unwrap().next().is_none(),
        "nothing was written to it"
    );
}

#[test]
fn a_cache_key_others_can_read_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let hello = format!(
        r#"Step(id: "hello", plugin: "{}", with: {{ "name": "cache" }})"#,
        guests::GUEST_MINIMAL
    );
    let first = run_with_cache(&cache, &hello);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(!first.stderr.contains("warning"), "{}", first.stderr);
    // Whoever can read the key can sign entries of their own.
    let key = cache.join("key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let outcome = run_with_cache(&cache, &hello);
    assert_eq!(outcome.step("hello")["summary"], "hello, cache");
    let stderr = outcome.stderr_flat();
    assert!(
        stderr.contains(&format!(
            "not using the compile cache {}: its key {}: it is readable or writable by other \
             users (mode 0644)",
            cache.display(),
            key.display()
        )),
        "{stderr}"
    );
}
