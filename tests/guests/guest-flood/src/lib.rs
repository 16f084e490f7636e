//! Returns 100,000 findings of ~100 bytes (≈10 MB): the host must bound the report.
use triage_sdk::{Check, Finding, PluginInfo, Report, RunError, export_check};

struct Flood;

impl Check for Flood {
    type Params = serde_json::Value;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-flood", "Returns 10 MB of findings")
    }
    fn run(_: Self::Params) -> Result<Report, RunError> {
        let mut report = Report::new("flooding");
        for i in 0..100_000 {
            report.push(Finding::fail(format!("flood.{i}"), "x".repeat(100)));
        }
        Ok(report)
    }
}

export_check!(Flood);
