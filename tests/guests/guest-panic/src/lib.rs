//! Panics: the step must be `error` with the panic message, and the run must go on.
use triage_sdk::{Check, PluginInfo, Report, RunError, export_check};

struct Boom;

impl Check for Boom {
    type Params = serde_json::Value;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-panic", "Panics")
    }
    fn run(_: Self::Params) -> Result<Report, RunError> {
        panic!("the guest gave up on purpose");
    }
}

export_check!(Boom);
