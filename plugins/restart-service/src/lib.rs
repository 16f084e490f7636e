//! `restart-service`: remediation that runs one command, e.g. `systemctl restart kafka` on a
//! broker host whose broker is down.
//!
//! The command must be granted word for word (`allow: (exec: ["systemctl restart kafka"])`)
//! and the step marked `remediation: true`: without `triage run --apply` the host only
//! records what would run; with it, the operator confirms first (or passes `--yes`).
//!
//! Params: `command` (required), `timeout_ms` (default 60000).

use serde::Deserialize;
use triage_sdk::{Check, Finding, PluginInfo, Report, RunError, Status, exec, export_check};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    command: String,
    #[serde(default = "default_timeout")]
    timeout_ms: u32,
}

fn default_timeout() -> u32 {
    60_000
}

struct RestartService;

impl Check for RestartService {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "restart-service",
            "Remediation: run one granted command (e.g. systemctl restart kafka)",
        )
        .param(
            "command",
            "The command line, exactly as granted in `exec`",
            true,
        )
        .param(
            "timeout_ms",
            "How long the command may take (default 60000)",
            false,
        )
        .needs("exec")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let argv: Vec<String> = params
            .command
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if argv.is_empty() {
            return Err(RunError::InvalidParams("`command` is empty".into()));
        }
        let result = exec::run(&argv, params.timeout_ms)?;
        if !result.applied {
            return Ok(Report::new(format!("would run `{}`", params.command)));
        }
        Ok(match result.exit_code {
            Some(0) => Report::new(format!("`{}` succeeded", params.command)),
            code => Report::new(format!("`{}` failed", params.command))
                .status(Status::Fail)
                .finding(
                    Finding::fail(
                        "remediation.failed",
                        format!("`{}` exited with {:?}", params.command, code),
                    )
                    .evidence(
                        "exec.run",
                        if result.stderr.is_empty() {
                            result.stdout
                        } else {
                            result.stderr
                        },
                    )
                    .fix("Run the command by hand on the host and read its output."),
                ),
        })
    }
}

export_check!(RestartService);
