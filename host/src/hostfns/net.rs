//! `net`: name resolution and TCP reachability, classified as an operator would read `nc -vz`.
//!
//! Names are resolved by the system resolver (`getaddrinfo`), as the producer's own client
//! resolves them: `/etc/hosts`, nsswitch and resolv.conf apply. `getaddrinfo` blocks and
//! cannot be cancelled, so every lookup runs on a blocking thread that we stop *waiting* for
//! at its timeout; the thread itself lingers until the resolver gives up (30 s and more
//! against a nameserver that never answers). Two consequences are handled here: the number
//! of such threads is capped ([`MAX_LOOKUPS_IN_FLIGHT`]), and the process does not wait for
//! them when the run ends (`cli::execute` shuts the runtime down without them; issue 7).

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::Semaphore;
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

/// Longest `net.resolve` waits for the resolver, within the step's deadline. glibc's defaults
/// (resolv.conf `timeout:5 attempts:2`) ask the next nameserver after 5 s of silence from the
/// first; 10 s lets that answer arrive, and a resolver silent for longer is broken as far as
/// a Kafka client is concerned. In a step with a longer budget, stopping here leaves the
/// plugin time to report the timeout as a finding.
const MAX_RESOLVE_WAIT: Duration = Duration::from_secs(10);

/// Name lookups that may wait on the system resolver at once, across all steps. A lookup we
/// stopped waiting for still holds its thread until `getaddrinfo` returns; without a cap, a
/// plugin calling `tcp-connect` in a loop against a silent resolver would pin every thread of
/// the blocking pool that file scans and system statistics need too.
const MAX_LOOKUPS_IN_FLIGHT: usize = 32;

/// The process's name lookups (see [`MAX_LOOKUPS_IN_FLIGHT`]).
static LOOKUPS: Lookups = Lookups::new(MAX_LOOKUPS_IN_FLIGHT);

impl Host for StepState {
    async fn resolve(&mut self, host: String) -> Result<Resolved, HostError> {
        self.env
            .grant
            .check_resolve(&host)
            .map_err(HostError::Denied)?;
        before(self.deadline(), async {
            let started = Instant::now();
            let addresses =
                lookup(&host, 0, MAX_RESOLVE_WAIT)
                    .await
                    .map_err(|error| match error {
                        LookupError::Failed(why) => HostError::Unavailable(why),
                        LookupError::TimedOut(_) => HostError::Timeout,
                    })?;
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

/// Why a name did not turn into addresses.
#[derive(Debug)]
enum LookupError {
    /// The resolver answered: no such name, or no address.
    Failed(String),
    /// The resolver did not answer in time (or too many lookups already wait for it).
    TimedOut(String),
}

impl LookupError {
    fn detail(self) -> String {
        match self {
            LookupError::Failed(detail) | LookupError::TimedOut(detail) => detail,
        }
    }
}

/// Resolve `host` with the system resolver, waiting at most `within`.
async fn lookup(host: &str, port: u16, within: Duration) -> Result<Vec<SocketAddr>, LookupError> {
    // An address needs no resolver (and must not queue behind stuck lookups).
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let target = (host.to_owned(), port);
    let answer = LOOKUPS
        .run(within, move || {
            target.to_socket_addrs().map(Iterator::collect::<Vec<_>>)
        })
        .await
        .map_err(LookupError::TimedOut)?;
    let addresses =
        answer.map_err(|e| LookupError::Failed(format!("{host} does not resolve: {e}")))?;
    if addresses.is_empty() {
        return Err(LookupError::Failed(format!(
            "{host} resolved to no address"
        )));
    }
    Ok(addresses)
}

/// Blocking resolver calls, at most `limit` at once.
struct Lookups {
    in_flight: Semaphore,
    limit: usize,
}

impl Lookups {
    const fn new(limit: usize) -> Lookups {
        Lookups {
            in_flight: Semaphore::const_new(limit),
            limit,
        }
    }

    /// Run `resolve` on a blocking thread and wait at most `within` for it (queueing for a
    /// free slot included). The thread keeps its slot until `resolve` returns, however long
    /// after we stopped waiting. `Err` says why nothing came back in time.
    async fn run<T: Send + 'static>(
        &'static self,
        within: Duration,
        resolve: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let deadline = Instant::now() + within;
        let permit = match tokio::time::timeout_at(deadline, self.in_flight.acquire()).await {
            Ok(permit) => permit.expect("the lookup semaphore is never closed"),
            Err(_) => {
                return Err(format!(
                    "no name lookup could start within {} ms: {} earlier lookups are still \
                     waiting for the resolver",
                    within.as_millis(),
                    self.limit
                ));
            }
        };
        let task = tokio::task::spawn_blocking(move || {
            let _slot = permit;
            resolve()
        });
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(panicked)) => Err(format!("the lookup failed: {panicked}")),
            Err(_) => Err(format!(
                "the resolver did not answer within {} ms",
                within.as_millis()
            )),
        }
    }
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
    // The plugin's timeout bounds the whole attempt, name lookup included: a resolver that
    // never answers is a DNS failure within that time, not a step that hangs.
    let addresses = match lookup(&host, port, timeout).await {
        Ok(addresses) => addresses,
        Err(error) => {
            let result = ConnectResult {
                host,
                port,
                address: None,
                outcome: ConnectOutcome::DnsFailure,
                latency_us: micros(started),
                detail: error.detail(),
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// A resolver call that blocks until told to return.
    fn stuck_resolver() -> (mpsc::Sender<()>, impl FnOnce() + Send + 'static) {
        let (release, wait) = mpsc::channel::<()>();
        (release, move || {
            let _ = wait.recv();
        })
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_stuck_lookup_is_abandoned_at_its_timeout_but_keeps_its_slot_until_it_returns() {
        static TWO_AT_ONCE: Lookups = Lookups::new(2);
        let wait = Duration::from_millis(50);
        let (release_first, first) = stuck_resolver();
        let (_release_second, second) = stuck_resolver();
        for stuck in [TWO_AT_ONCE.run(wait, first), TWO_AT_ONCE.run(wait, second)] {
            let error = stuck.await.unwrap_err();
            assert_eq!(error, "the resolver did not answer within 50 ms");
        }
        let queued = TWO_AT_ONCE.run(wait, || "answer").await.unwrap_err();
        assert!(
            queued.contains("2 earlier lookups are still waiting for the resolver"),
            "{queued}"
        );
        release_first.send(()).unwrap();
        let answered = TWO_AT_ONCE.run(Duration::from_secs(5), || "answer").await;
        assert_eq!(answered, Ok("answer"));
    }

    #[tokio::test]
    async fn an_address_needs_no_resolver() {
        let addresses = lookup("127.0.0.1", 9092, Duration::ZERO).await.unwrap();
        assert_eq!(addresses, vec!["127.0.0.1:9092".parse().unwrap()]);
    }
}
