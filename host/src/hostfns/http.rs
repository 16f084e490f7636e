//! `http`: GET of a granted URL, for metrics pages (a Prometheus JMX exporter on a broker).
//!
//! The URL is parsed once into an [`HttpUrl`] (control characters, encoded slashes and dots
//! refused, dot segments resolved), checked against the grant, and that same parsed URL is
//! what the client requests: the wire never sees text the grant did not see. Requests go
//! through `reqwest` (hyper underneath), which frames requests and parses responses — chunk
//! sizes, header limits — as a maintained HTTP/1.1 implementation does; issue 7 found a
//! request line built by concatenation (CR/LF smuggled a second request) and a hand-written
//! chunk decoder that panicked on a chunk size of `ffffffffffffffff`.
//!
//! What the client may do is kept to what the grant can police:
//! - no redirects: a 3xx is returned to the plugin as it is, so the only target ever
//!   contacted is the granted one (a plugin that wants to follow one asks again, and that
//!   URL is checked like any other);
//! - no proxy, whatever the environment says (a proxy would be a second, ungranted target);
//! - no connection reuse between calls, so nothing carries over from one step to the next;
//! - the body read up to the plugin's cap (at most [`MAX_BODY_BYTES`]) and then dropped;
//! - the whole exchange, headers and body, within the plugin's timeout (at most
//!   [`MAX_TIMEOUT`]) and the step's deadline. hyper refuses a response head over its limit
//!   (about 400 KiB), so endless headers end as an error too.

use std::time::Duration;

use tokio::time::Instant;

use super::{StepState, before};
use crate::http_url::HttpUrl;
use crate::wit::HostError;
use crate::wit::triage::plugin::http::{Host, Response};

/// Largest body returned, whatever the plugin asks.
const MAX_BODY_BYTES: u32 = 16 << 20;
/// Longest a GET may take, whatever the plugin asks.
const MAX_TIMEOUT: Duration = Duration::from_secs(30);

impl Host for StepState {
    async fn get(
        &mut self,
        url: String,
        max_bytes: u32,
        timeout_ms: u32,
    ) -> Result<Response, HostError> {
        let written = url;
        let url = HttpUrl::parse(&written).map_err(|e| HostError::Invalid(e.to_string()))?;
        self.env.grant.check_http(&url).map_err(|why| {
            // Name what the plugin wrote when normalising changed it (`/metrics/../admin`).
            if written == url.as_url().as_str() {
                HostError::Denied(why)
            } else {
                HostError::Denied(format!("{why} (the plugin asked for `{written}`)"))
            }
        })?;
        let limit = max_bytes.clamp(1, MAX_BODY_BYTES) as usize;
        let timeout =
            Duration::from_millis(timeout_ms.into()).clamp(Duration::from_millis(1), MAX_TIMEOUT);
        before(self.deadline(), async move {
            tokio::time::timeout(timeout, fetch(&url, limit, timeout))
                .await
                .map_err(|_| {
                    HostError::Unavailable(format!("{url}: no complete answer within {timeout:?}"))
                })?
                .map_err(|e| HostError::Unavailable(format!("{url}: {}", chain(&e))))
        })
        .await
    }
}

/// GET `url`, reading at most `limit` bytes of body.
async fn fetch(url: &HttpUrl, limit: usize, timeout: Duration) -> Result<Response, reqwest::Error> {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(0)
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("triage/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut response = client
        .get(url.as_url().clone())
        .header(reqwest::header::ACCEPT, "text/plain, */*")
        .send()
        .await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
        truncated,
        latency_us: started.elapsed().as_micros() as u64,
    })
}

/// An error with its causes, `outer: inner: innermost` (reqwest's own text is only the
/// outermost, "error sending request").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
