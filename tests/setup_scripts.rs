//! The README's two commands on a fresh machine: both the demo (`tests/lab/demo`) and the
//! tests (`tests/run`) must install what the build needs through the one setup script,
//! before they build anything. (The demo once died five minutes into librdkafka's build on a
//! machine without the curl headers, because only `tests/run` installed them.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The first line of `text` (comments aside) that contains `needle`.
fn first_line_with(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|line| !line.trim_start().starts_with('#') && line.contains(needle))
}

#[test]
fn both_readme_commands_run_the_setup_before_building() {
    let readme = script("README.md");
    for command in ["tests/lab/demo", "tests/run"] {
        assert!(
            readme.contains(&format!("```sh\n{command}\n```")),
            "the README no longer shows `{command}` as one of its two commands"
        );
        let text = script(command);
        let setup = first_line_with(&text, "tests/setup")
            .unwrap_or_else(|| panic!("{command} does not run tests/setup"));
        let build = first_line_with(&text, "cargo ")
            .unwrap_or_else(|| panic!("{command} does not build anything"));
        assert!(
            setup < build,
            "{command} builds (line {}) before it sets up (line {})",
            build + 1,
            setup + 1
        );
    }
}

/// Runs the real setup script with stand-ins for `dpkg`, `apt-get` and `rustup` first on
/// PATH: a machine where the wasm target is present but the curl headers are not must get
/// them installed.
#[test]
fn setup_installs_the_missing_build_packages() {
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("apt.log");
    let stub = |name: &str, body: &str| {
        let path = bin.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    };
    stub("rustup", "echo wasm32-wasip2");
    // Every package is installed except the curl headers.
    stub(
        "dpkg",
        r#"[ "$2" = libcurl4-openssl-dev ] && exit 1; exit 0"#,
    );
    stub("apt-get", &format!("echo \"$@\" >> {}", log.display()));
    stub("id", "echo 0");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(repo().join("tests/setup"))
        .arg("--build")
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "setup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let asked = std::fs::read_to_string(&log).expect("apt-get was not called");
    assert!(
        asked.contains("install") && asked.contains("libcurl4-openssl-dev"),
        "apt-get was asked: {asked}"
    );
    assert!(
        !asked.contains("libssl-dev"),
        "installed packages are not reinstalled: {asked}"
    );
}
