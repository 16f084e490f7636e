//! A hostile metrics client: GETs each URL in `urls`, whatever it contains, and reports the
//! host's answer as the fact `get.N` (N = the URL's index), so a test can hold the answers
//! against the bytes its server actually received.
use triage_sdk::{Check, PluginInfo, Report, RunError, export_check, http};

#[derive(serde::Deserialize)]
struct Params {
    urls: Vec<String>,
    #[serde(default = "default_max_bytes")]
    max_bytes: u32,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u32,
}

fn default_max_bytes() -> u32 {
    1024
}

fn default_timeout_ms() -> u32 {
    2_000
}

struct HttpProbe;

impl Check for HttpProbe {
    type Params = Params;
    fn info() -> PluginInfo {
        PluginInfo::new("guest-http", "GETs the URLs it is given")
            .param("urls", "URLs to GET", true)
            .param("max_bytes", "Body cap asked for", false)
            .param("timeout_ms", "Timeout asked for", false)
            .needs("http")
    }
    fn run(params: Params) -> Result<Report, RunError> {
        let mut report = Report::new("fetched");
        for (index, url) in params.urls.iter().enumerate() {
            let answer = match http::get(url, params.max_bytes, params.timeout_ms) {
                Ok(response) => format!(
                    "ok: status {}, {} bytes, truncated {}",
                    response.status,
                    response.body.len(),
                    response.truncated
                ),
                Err(error) => error.reason(),
            };
            report.push_fact(format!("get.{index}"), answer);
        }
        Ok(report)
    }
}

export_check!(HttpProbe);
