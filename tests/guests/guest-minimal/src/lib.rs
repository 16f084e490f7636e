//! The smallest useful plugin: greets whoever `name` says.
use triage_sdk::{Check, PluginInfo, Report, RunError, export_check};

#[derive(serde::Deserialize)]
struct Params {
    name: String,
}

struct Hello;

impl Check for Hello {
    type Params = Params;
    fn info() -> PluginInfo {
        PluginInfo::new("hello", "Says hello").param("name", "Who to greet", true)
    }
    fn run(params: Params) -> Result<Report, RunError> {
        Ok(Report::new(format!("hello, {}", params.name)))
    }
}

export_check!(Hello);
