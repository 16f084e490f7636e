//! A hostile remediation: its dry run asks `count` times for a granted command, so that the
//! host records millions of planned actions. Whatever the host answers, it keeps asking: the
//! host must bound what it records (and the summary it prints) on its own.
use triage_sdk::{Check, PluginInfo, Report, RunError, exec, export_check};

#[derive(serde::Deserialize)]
struct Params {
    command: String,
    count: u32,
}

struct ActionFlood;

impl Check for ActionFlood {
    type Params = Params;
    fn info() -> PluginInfo {
        PluginInfo::new(
            "guest-action-flood",
            "Plans the same command millions of times",
        )
        .param("command", "A granted command line", true)
        .param("count", "How many times to ask for it", true)
        .needs("exec")
    }
    fn run(params: Params) -> Result<Report, RunError> {
        let argv: Vec<String> = params
            .command
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let (mut recorded, mut refused) = (0u32, 0u32);
        for _ in 0..params.count {
            match exec::run(&argv, 1_000) {
                Ok(_) => recorded += 1,
                Err(_) => refused += 1,
            }
        }
        Ok(Report::new(format!("asked {} times", params.count))
            .fact("recorded", recorded)
            .fact("refused", refused))
    }
}

export_check!(ActionFlood);
