//! `http`: GET of a granted URL, for metrics pages (a Prometheus JMX exporter on a broker).
//!
//! Deliberately small: plain HTTP/1.1 with `Connection: close`, bounded body, chunked
//! transfer decoded. A metrics scrape needs nothing more, and a full client would bring TLS
//! and redirects that the grant model would then have to police.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{StepState, before};
use crate::wit::HostError;
use crate::wit::triage::plugin::http::{Host, Response};

/// Largest body returned, whatever the plugin asks.
const MAX_BODY_BYTES: u32 = 16 << 20;
/// Longest a GET may take, whatever the plugin asks.
const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// The parts of an `http://` URL a GET needs.
#[derive(Debug, PartialEq, Eq)]
pub struct Url {
    /// Host name or address.
    pub host: String,
    /// Port (80 by default).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub target: String,
}

/// Parse `http://host[:port][/path][?query]`.
pub fn parse_url(url: &str) -> Result<Url, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}`: only http:// URLs are supported"))?;
    let (authority, target) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => (
            host.trim_start_matches('[').trim_end_matches(']'),
            port.parse()
                .map_err(|_| format!("`{url}`: `{port}` is not a port"))?,
        ),
        _ => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    Ok(Url {
        host: host.to_owned(),
        port,
        target: target.to_owned(),
    })
}

impl Host for StepState {
    async fn get(
        &mut self,
        url: String,
        max_bytes: u32,
        timeout_ms: u32,
    ) -> Result<Response, HostError> {
        self.env.grant.check_http(&url).map_err(HostError::Denied)?;
        let parsed = parse_url(&url).map_err(HostError::Invalid)?;
        let limit = max_bytes.clamp(1, MAX_BODY_BYTES) as usize;
        let timeout = Duration::from_millis(timeout_ms.into()).min(MAX_TIMEOUT);
        before(self.deadline(), async move {
            tokio::time::timeout(timeout, fetch(&parsed, limit))
                .await
                .map_err(|_| {
                    HostError::Unavailable(format!("{url}: no complete answer within {timeout:?}"))
                })?
                .map_err(|e| HostError::Unavailable(format!("{url}: {e}")))
        })
        .await
    }
}

async fn fetch(url: &Url, limit: usize) -> std::io::Result<Response> {
    let started = Instant::now();
    let mut stream = TcpStream::connect((url.host.as_str(), url.port)).await?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: triage\r\nAccept: text/plain, */*\r\nConnection: close\r\n\r\n",
        url.target, url.host, url.port
    );
    stream.write_all(request.as_bytes()).await?;
    // Read the head plus at most `limit` bytes of body (and a little slack for chunk framing).
    let mut raw = Vec::new();
    let cap = limit + 64 * 1024;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if raw.len() >= cap {
            break;
        }
    }
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("not an HTTP response (no header end)"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response (no status line)"))?;
    let header = |name: &str| {
        head.lines()
            .skip(1)
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v.trim().to_owned())
    };
    let mut body = raw[head_end + 4..].to_vec();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body);
    }
    let truncated = body.len() > limit || raw.len() >= cap;
    body.truncate(limit);
    Ok(Response {
        status,
        content_type: header("content-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
        truncated,
        latency_us: started.elapsed().as_micros() as u64,
    })
}

/// Decode `Transfer-Encoding: chunked`, keeping what arrived of a cut-off body.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        if end + 2 > data.len() {
            break;
        }
        data = &data[end + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_default_port_and_path() {
        assert_eq!(
            parse_url("http://broker-1:7071/metrics?name=x").unwrap(),
            Url {
                host: "broker-1".into(),
                port: 7071,
                target: "/metrics?name=x".into()
            }
        );
        assert_eq!(parse_url("http://b").unwrap().port, 80);
        assert!(
            parse_url("https://b/metrics")
                .unwrap_err()
                .contains("only http://")
        );
        assert!(parse_url("http://b:x/").is_err());
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        assert_eq!(
            dechunk(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            b"hello world"
        );
        assert_eq!(dechunk(b"5\r\nhel"), b"hel");
    }
}
