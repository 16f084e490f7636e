//! `net`: name resolution and TCP reachability, classified as an operator would read `nc -vz`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{StepState, before};
use crate::kafka::wire;
use crate::wit::HostError;
use crate::wit::triage::plugin::net::{
    ConnectOutcome, ConnectResult, ExchangeResult, HandshakeResult, Host, Resolved,
};

/// Most bytes `tcp-exchange` reads back.
const MAX_EXCHANGE_BYTES: u32 = 1 << 20;

/// Upper bound on one connection attempt, whatever the plugin asks.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

impl Host for StepState {
    async fn resolve(&mut self, host: String) -> Result<Resolved, HostError> {
        self.env
            .grant
            .check_resolve(&host)
            .map_err(HostError::Denied)?;
        before(self.deadline(), async {
            let started = Instant::now();
            let addresses = lookup(&host, 0).await.map_err(HostError::Unavailable)?;
            Ok(Resolved {
                host: host.clone(),
                addresses: addresses.iter().map(|a| a.ip().to_string()).collect(),
                latency_us: micros(started),
            })
        })
        .await
    }

    async fn tcp_connect(
        &mut self,
        host: String,
        port: u16,
        timeout_ms: u32,
    ) -> Result<ConnectResult, HostError> {
        self.env
            .grant
            .check_connect(&host, port)
            .map_err(HostError::Denied)?;
        let timeout = Duration::from_millis(timeout_ms.into()).min(MAX_CONNECT_TIMEOUT);
        before(self.deadline(), connect(host, port, timeout)).await
    }

    async fn kafka_handshake(
        &mut self,
        host: String,
        port: u16,
        timeout_ms: u32,
    ) -> Result<HandshakeResult, HostError> {
        // A listener the cluster itself advertises is fair game for a step that may read
        // the cluster: that is how clients find it.
        let advertised = self.env.grant.check_kafka_read().is_ok()
            && self
                .env
                .kafka
                .as_ref()
                .is_some_and(|k| k.is_advertised(&host, port));
        if !advertised {
            self.env
                .grant
                .check_connect(&host, port)
                .map_err(|denied| {
                    HostError::Denied(format!(
                        "{denied} (or grant `kafka: Read` for listeners the cluster advertises)"
                    ))
                })?;
        }
        let timeout = Duration::from_millis(timeout_ms.into()).min(MAX_CONNECT_TIMEOUT);
        before(self.deadline(), handshake(host, port, timeout)).await
    }

    async fn tcp_exchange(
        &mut self,
        host: String,
        port: u16,
        request: String,
        max_bytes: u32,
        timeout_ms: u32,
    ) -> Result<ExchangeResult, HostError> {
        self.env
            .grant
            .check_connect(&host, port)
            .map_err(HostError::Denied)?;
        let timeout = Duration::from_millis(timeout_ms.into()).min(MAX_CONNECT_TIMEOUT);
        let limit = max_bytes.clamp(1, MAX_EXCHANGE_BYTES) as usize;
        before(
            self.deadline(),
            exchange(host, port, request, limit, timeout),
        )
        .await
    }
}

/// Connect (classified as in `tcp-connect`), then ApiVersions on that connection.
async fn handshake(
    host: String,
    port: u16,
    timeout: Duration,
) -> Result<HandshakeResult, HostError> {
    let started = Instant::now();
    let (connect, stream) = connect_stream(host, port, timeout).await;
    let (api_versions, error) = match stream {
        None => (Vec::new(), None),
        Some(stream) => match wire::Connection::over(stream, timeout).await {
            Ok(connection) => (connection.supported(), None),
            Err(error) => (Vec::new(), Some(error.to_string())),
        },
    };
    Ok(HandshakeResult {
        connect,
        api_versions,
        error,
        latency_us: micros(started),
    })
}

/// Send a request and read until the peer closes, `limit` bytes, or the timeout.
async fn exchange(
    host: String,
    port: u16,
    request: String,
    limit: usize,
    timeout: Duration,
) -> Result<ExchangeResult, HostError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (connect, stream) = connect_stream(host, port, timeout).await;
    let Some(mut stream) = stream else {
        return Ok(ExchangeResult {
            connect,
            response: String::new(),
            truncated: false,
        });
    };
    let talk = async {
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 || response.len() >= limit {
                break;
            }
            response.extend_from_slice(&chunk[..n]);
        }
        Ok::<_, io::Error>(response)
    };
    let (response, error) = match tokio::time::timeout(timeout, talk).await {
        Ok(Ok(response)) => (response, None),
        Ok(Err(error)) => (Vec::new(), Some(error.to_string())),
        Err(_) => (
            Vec::new(),
            Some(format!(
                "no complete answer within {} ms",
                timeout.as_millis()
            )),
        ),
    };
    let truncated = response.len() > limit;
    let mut text = String::from_utf8_lossy(&response[..response.len().min(limit)]).into_owned();
    if let Some(error) = error {
        text = format!(
            "{text}{}(error: {error})",
            if text.is_empty() { "" } else { " " }
        );
    }
    Ok(ExchangeResult {
        connect,
        response: text,
        truncated,
    })
}

async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("{host} resolved to no address"));
    }
    Ok(addresses)
}

/// Try each resolved address in turn; the first that connects wins, otherwise the outcome
/// of the last attempt is reported (the resolver's order puts the preferred address first).
async fn connect(host: String, port: u16, timeout: Duration) -> Result<ConnectResult, HostError> {
    Ok(connect_stream(host, port, timeout).await.0)
}

/// [`connect`], keeping the connected stream for a conversation.
async fn connect_stream(
    host: String,
    port: u16,
    timeout: Duration,
) -> (ConnectResult, Option<TcpStream>) {
    let started = Instant::now();
    let addresses = match lookup(&host, port).await {
        Ok(addresses) => addresses,
        Err(detail) => {
            let result = ConnectResult {
                host,
                port,
                address: None,
                outcome: ConnectOutcome::DnsFailure,
                latency_us: micros(started),
                detail,
            };
            return (result, None);
        }
    };
    let mut last = None;
    for address in addresses {
        let attempt = Instant::now();
        let (outcome, detail, stream) =
            match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => (
                    ConnectOutcome::Connected,
                    "connected".to_owned(),
                    Some(stream),
                ),
                Ok(Err(error)) => (classify(&error), error.to_string(), None),
                Err(_) => (
                    ConnectOutcome::TimedOut,
                    format!("no answer within {} ms", timeout.as_millis()),
                    None,
                ),
            };
        let result = ConnectResult {
            host: host.clone(),
            port,
            address: Some(address.to_string()),
            outcome,
            latency_us: micros(attempt),
            detail,
        };
        if stream.is_some() {
            return (result, stream);
        }
        last = Some(result);
    }
    (last.expect("lookup returns at least one address"), None)
}

fn classify(error: &io::Error) -> ConnectOutcome {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => ConnectOutcome::Refused,
        io::ErrorKind::TimedOut => ConnectOutcome::TimedOut,
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            ConnectOutcome::Unreachable
        }
        _ => ConnectOutcome::Unreachable,
    }
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}
