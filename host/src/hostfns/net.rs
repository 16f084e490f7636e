//! `net`: name resolution and TCP reachability, classified as an operator would read `nc -vz`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{StepState, before};
use crate::wit::HostError;
use crate::wit::triage::plugin::net::{ConnectOutcome, ConnectResult, Host, Resolved};

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
    let started = Instant::now();
    let addresses = match lookup(&host, port).await {
        Ok(addresses) => addresses,
        Err(detail) => {
            return Ok(ConnectResult {
                host,
                port,
                address: None,
                outcome: ConnectOutcome::DnsFailure,
                latency_us: micros(started),
                detail,
            });
        }
    };
    let mut last = None;
    for address in addresses {
        let attempt = Instant::now();
        let (outcome, detail) =
            match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
                Ok(Ok(_stream)) => (ConnectOutcome::Connected, "connected".to_owned()),
                Ok(Err(error)) => (classify(&error), error.to_string()),
                Err(_) => (
                    ConnectOutcome::TimedOut,
                    format!("no answer within {} ms", timeout.as_millis()),
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
        if outcome == ConnectOutcome::Connected {
            return Ok(result);
        }
        last = Some(result);
    }
    Ok(last.expect("lookup returns at least one address"))
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
