//! Floods the host. By default it returns 100,000 findings of ~100 bytes (≈10 MB): the host
//! must bound the report. With `log_lines: N` it logs N warnings of ~100 bytes instead (a
//! plugin once wrote 1.2 GB to stderr in 5 s): the host must bound what a step logs.
use triage_sdk::{Check, Finding, PluginInfo, Report, RunError, export_check, log};

#[derive(serde::Deserialize)]
struct Params {
    #[serde(default)]
    log_lines: Option<u64>,
}

struct Flood;

impl Check for Flood {
    type Params = Params;
    fn info() -> PluginInfo {
        PluginInfo::new(
            "guest-flood",
            "Returns 10 MB of findings, or logs without end",
        )
        .param("log_lines", "Log this many lines instead", false)
    }
    fn run(params: Params) -> Result<Report, RunError> {
        if let Some(lines) = params.log_lines {
            for i in 0..lines {
                log::warn(&format!("flood line {i} {}", "x".repeat(80)));
            }
            return Ok(Report::new(format!("logged {lines} lines")));
        }
        let mut report = Report::new("flooding");
        for i in 0..100_000 {
            report.push(Finding::fail(format!("flood.{i}"), "x".repeat(100)));
        }
        Ok(report)
    }
}

export_check!(Flood);
