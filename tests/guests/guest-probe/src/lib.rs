//! Tries what it is told and reports the host's answer as facts, so tests can see exactly
//! what the sandbox allowed: `read` a path, `connect` to host:port.
use triage_sdk::{Check, PluginInfo, Report, RunError, export_check, files, net};

#[derive(serde::Deserialize)]
struct Params {
    #[serde(default)]
    read: Vec<String>,
    #[serde(default)]
    connect: Vec<String>,
    /// Also try the guest's own standard library (raw WASI) on files and the environment.
    #[serde(default)]
    wasi: bool,
}

struct Probe;

impl Check for Probe {
    type Params = Params;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-probe", "Reports what the host allows")
            .param("read", "Paths to read", false)
            .param("connect", "host:port targets", false)
            .param("wasi", "Try raw WASI file and env access", false)
    }
    fn run(params: Params) -> Result<Report, RunError> {
        let mut report = Report::new("probed");
        for path in params.read {
            let answer = match files::read(&path, 64) {
                Ok(content) => format!("ok: {} bytes", content.text.len()),
                Err(error) => error.reason(),
            };
            report = report.fact(format!("read {path}"), answer);
        }
        for target in params.connect {
            let (host, port) = target.rsplit_once(':').expect("host:port");
            let answer = match net::tcp_connect(host, port.parse().expect("port"), 1_000) {
                Ok(result) => format!("{:?}", result.outcome),
                Err(error) => error.reason(),
            };
            report = report.fact(format!("connect {target}"), answer);
        }
        if params.wasi {
            let answer = match std::fs::read_to_string("/etc/passwd") {
                Ok(text) => format!("ok: {} bytes", text.len()),
                Err(error) => format!("error: {error}"),
            };
            report = report
                .fact("wasi read /etc/passwd", answer)
                .fact("wasi env vars", std::env::vars().count());
        }
        Ok(report)
    }
}

export_check!(Probe);
