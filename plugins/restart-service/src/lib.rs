//! `restart-service`: remediation that runs one command, e.g. `systemctl restart kafka` on a
//! broker host whose broker is down.
//!
//! The command must be granted word for word (`allow: (exec: ["systemctl restart kafka"])`)
//! and the step marked `remediation: true` with the cause it fixes (`fixes: "broker.down"`).
//! The plugin only plans: its `exec.run` is recorded by the host and answered
//! `applied: false`. With `triage run --apply`, once the operator confirms (or passes
//! `--yes`), the host runs exactly the planned command itself and reports its exit status.
//!
//! Params: `command` (required), `timeout_ms` (default 60000).

use serde::Deserialize;
use triage_sdk::{Check, PluginInfo, Report, RunError, exec, export_check};

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
        // Planned, not run: the host runs it once the plan is confirmed.
        exec::run(&argv, params.timeout_ms)?;
        Ok(Report::new(format!("would run `{}`", params.command)))
    }
}

export_check!(RestartService);
