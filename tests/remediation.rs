//! Remediation, never by surprise: a remediation step is a dry run that reports exactly what
//! it would do unless `--apply`; with `--apply` it needs a confirmation (`--yes` when there
//! is no terminal); it can run only the command lines it was granted, word for word.

mod support;

use std::path::Path;

use support::{Outcome, playbook_with_steps, run, write_playbook};

/// A playbook with one remediation step running `touch FLAG`, granted `granted`.
fn touch_playbook(dir: &Path, flag: &Path, granted: &str) -> String {
    let command = format!("touch {}", flag.display());
    let path = write_playbook(
        dir,
        &playbook_with_steps(&format!(
            r#"Step(id: "fix", plugin: "restart-service", title: "Restart the service", remediation: true,
                    with: {{ "command": "{command}" }}, allow: (exec: ["{granted}"]))"#
        )),
    );
    path.to_str().unwrap().to_owned()
}

fn run_fix(playbook: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["run", playbook, "--format", "json"];
    args.extend(extra);
    run(&args)
}

#[test]
fn without_apply_a_remediation_only_says_what_it_would_run() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("restarted");
    let playbook = touch_playbook(dir.path(), &flag, &format!("touch {}", flag.display()));
    let outcome = run_fix(&playbook, &[]);
    let step = outcome.step("fix");
    assert_eq!(step["status"], "skipped", "{step}");
    assert_eq!(
        step["summary"],
        format!(
            "dry run: would run `touch {}`; pass --apply to do it",
            flag.display()
        )
    );
    assert!(!flag.exists(), "a dry run changed something");
    assert_eq!(outcome.code, 0);
}

#[test]
fn apply_with_yes_runs_the_granted_command() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("restarted");
    let playbook = touch_playbook(dir.path(), &flag, &format!("touch {}", flag.display()));
    let outcome = run_fix(&playbook, &["--apply", "--yes"]);
    let step = outcome.step("fix");
    assert_eq!(step["status"], "pass", "{step}");
    assert!(
        step["summary"]
            .as_str()
            .unwrap()
            .starts_with("applied: run `touch "),
        "{step}"
    );
    assert!(flag.exists(), "the command did not run");
}

#[test]
fn apply_without_a_terminal_and_without_yes_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("restarted");
    let playbook = touch_playbook(dir.path(), &flag, &format!("touch {}", flag.display()));
    let outcome = run_fix(&playbook, &["--apply"]);
    let step = outcome.step("fix");
    assert_eq!(step["status"], "skipped", "{step}");
    assert!(
        step["summary"]
            .as_str()
            .unwrap()
            .contains("needs a terminal to confirm on"),
        "{step}"
    );
    assert!(!flag.exists());
}

#[test]
fn only_the_granted_command_line_may_run() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("restarted");
    let playbook = touch_playbook(dir.path(), &flag, "touch /tmp/something-else");
    let outcome = run_fix(&playbook, &["--apply", "--yes"]);
    let step = outcome.step("fix");
    assert_eq!(step["status"], "error", "{step}");
    assert!(
        step["summary"]
            .as_str()
            .unwrap()
            .contains("is not granted to this step"),
        "{step}"
    );
    assert!(!flag.exists());
}

#[test]
fn changes_are_refused_outside_remediation_steps() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_playbook(
        dir.path(),
        &playbook_with_steps(
            r#"Step(id: "sneaky", plugin: "restart-service", with: { "command": "true" }, allow: (exec: ["true"]))"#,
        ),
    );
    let outcome = run(&["run", path.to_str().unwrap()]);
    assert_eq!(outcome.code, 2, "{outcome:?}");
    assert!(
        outcome
            .stderr_flat()
            .contains("may change things (exec or kafka: Admin) but is not a remediation"),
        "{}",
        outcome.stderr
    );
}
