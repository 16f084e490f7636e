//! Asks `sys.processes-named` for each name it is given and reports every answer as facts,
//! so tests can see exactly what a plugin learns about the machine's processes: the command
//! line (with secrets masked by the host), CPU and memory.
use triage_sdk::{Check, PluginInfo, Report, RunError, export_check, sys};

#[derive(serde::Deserialize)]
struct Params {
    names: Vec<String>,
}

struct Processes;

impl Check for Processes {
    type Params = Params;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-sys", "Reports the processes the host lists")
            .param(
                "names",
                "Names (or command-line fragments) to look for",
                true,
            )
            .needs("sys")
    }
    fn run(params: Params) -> Result<Report, RunError> {
        let mut report = Report::new("listed");
        for name in params.names {
            match sys::processes_named(&name) {
                Ok(processes) => {
                    report = report.fact(format!("{name}: count"), processes.len());
                    for process in processes {
                        let key = format!("{name}: {}", process.pid);
                        report = report
                            .fact(format!("{key}: command"), process.command)
                            .fact(format!("{key}: cpu"), process.cpu_percent)
                            .fact(format!("{key}: memory"), process.memory_bytes);
                    }
                }
                Err(error) => report = report.fact(format!("{name}: error"), error.reason()),
            }
        }
        Ok(report)
    }
}

export_check!(Processes);
