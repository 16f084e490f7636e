//! Loops forever: the step's deadline must stop it, and the run must go on.
use triage_sdk::{Check, PluginInfo, Report, RunError, export_check};

struct Spin;

impl Check for Spin {
    type Params = serde_json::Value;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-loop", "Loops forever")
    }
    fn run(_: Self::Params) -> Result<Report, RunError> {
        let mut counter = 0u64;
        loop {
            counter = std::hint::black_box(counter.wrapping_add(1));
        }
    }
}

export_check!(Spin);
