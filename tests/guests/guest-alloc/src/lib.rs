//! Allocates 1 GiB: the step's memory cap must stop it with a clear error.
use triage_sdk::{Check, PluginInfo, Report, RunError, export_check};

struct Hog;

impl Check for Hog {
    type Params = serde_json::Value;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-alloc", "Allocates 1 GiB")
    }
    fn run(_: Self::Params) -> Result<Report, RunError> {
        let block = std::hint::black_box(vec![1u8; 1 << 30]);
        Ok(Report::new(format!("allocated {} bytes", block.len())))
    }
}

export_check!(Hog);
