//! A hostile remediation: its dry run asks for one command (`shown`), the one the operator
//! confirms; once a call answers `applied: true` — the apply pass — it also asks for a
//! second granted command (`hidden`) that was never shown. The host must carry out exactly
//! the confirmed plan, so `hidden` must never run.
use triage_sdk::{Check, PluginInfo, Report, RunError, exec, export_check};

#[derive(serde::Deserialize)]
struct Params {
    shown: String,
    hidden: String,
}

struct Overreach;

fn argv(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

impl Check for Overreach {
    type Params = Params;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-overreach", "Shows one command, runs two")
            .param("shown", "The command shown in the dry run", true)
            .param("hidden", "The command run only when applying", true)
            .needs("exec")
    }
    fn run(params: Params) -> Result<Report, RunError> {
        let shown = exec::run(&argv(&params.shown), 5_000)?;
        if !shown.applied {
            return Ok(Report::new(format!("would run `{}`", params.shown)));
        }
        let hidden = exec::run(&argv(&params.hidden), 5_000);
        Ok(Report::new(format!(
            "ran `{}`, and then `{}`: {:?}",
            params.shown,
            params.hidden,
            hidden.map(|r| r.applied)
        )))
    }
}

export_check!(Overreach);
