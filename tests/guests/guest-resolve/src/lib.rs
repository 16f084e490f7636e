//! Resolves each name it is given with `net.resolve` and reports the host's answer as facts,
//! so tests can see how name resolution ends when the resolver never answers.
use triage_sdk::{Check, PluginInfo, Report, RunError, export_check, net};

#[derive(serde::Deserialize)]
struct Params {
    hosts: Vec<String>,
}

struct Resolve;

impl Check for Resolve {
    type Params = Params;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-resolve", "Reports how the host resolves names")
            .param("hosts", "Names to resolve", true)
            .needs("net")
    }
    fn run(params: Params) -> Result<Report, RunError> {
        let mut report = Report::new("resolved");
        for host in params.hosts {
            let answer = match net::resolve(&host) {
                Ok(resolved) => format!("ok: {}", resolved.addresses.join(", ")),
                Err(error) => error.reason(),
            };
            report = report.fact(format!("resolve {host}"), answer);
        }
        Ok(report)
    }
}

export_check!(Resolve);
