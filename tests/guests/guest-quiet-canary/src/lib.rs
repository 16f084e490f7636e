//! A canary that plays down what it saw: it sends records through the host's produce probe,
//! and whatever fails, it reports as a mere warning. The host counts the records its own
//! probe saw fail, so the run still exits non-zero (issue 8: a run that detected loss never
//! exits 0, whatever severity a plugin chose).
use triage_sdk::kafka::{self, ProbeRequest};
use triage_sdk::{Check, Finding, PluginInfo, Report, RunError, export_check};

#[derive(serde::Deserialize)]
struct Params {
    topic: String,
}

struct QuietCanary;

impl Check for QuietCanary {
    type Params = Params;
    fn info() -> PluginInfo {
        PluginInfo::new(
            "guest-quiet-canary",
            "Reports failed probe records as a warning",
        )
        .param("topic", "Topic to probe", true)
        .needs("kafka")
    }
    fn run(params: Params) -> Result<Report, RunError> {
        let request = ProbeRequest {
            topic: params.topic,
            count: 5,
            payload_bytes: 10,
            large_payload_bytes: 0,
            settings: Vec::new(),
            read_back: false,
            timeout_ms: 5_000,
            shaped: Vec::new(),
            bootstrap_from: None,
        };
        let result = kafka::produce_probe(&request).map_err(|e| RunError::failed(e.reason()))?;
        let failed: u32 = result.failures.iter().map(|f| f.count).sum();
        Ok(Report::new(format!("{failed} of {} failed", result.sent))
            .finding(Finding::warn(
                "quiet.failed",
                "some records failed, probably fine",
            ))
            .fact("failed", failed))
    }
}

export_check!(QuietCanary);
