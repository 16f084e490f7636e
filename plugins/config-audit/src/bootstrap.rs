//! `bootstrap.servers`: each entry parsed, probed when the step may, and otherwise compared
//! with what the cluster is known to listen on.
//!
//! A producer whose bootstrap list names no live listener never gets metadata, and its
//! records expire in the buffer with nothing but a timeout to show for it. The usual culprits
//! are a wrong port (the controller's, an internal listener's, a copy-pasted 9093) and a typo
//! in a host name; both can be named without touching the network, by comparing the entry
//! with the cluster's advertised listeners and the servers the playbook was given.

use triage_sdk::HostError;
use triage_sdk::net::{self, ConnectOutcome, ConnectResult};

use crate::config::Dialect;

/// The port librdkafka assumes for an entry without one.
const LIBRDKAFKA_DEFAULT_PORT: u16 = 9092;

/// Host names this close (in edits) to a known one are taken for a typo of it.
const TYPO_DISTANCE: usize = 2;

/// One `host:port` of a bootstrap list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Host name or address, without IPv6 brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// An entry the client cannot use at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEntry {
    /// The entry as written.
    pub written: String,
    /// Why the client refuses it.
    pub reason: String,
}

/// Split a bootstrap list into servers. librdkafka accepts `proto://host[:port]` and assumes
/// port 9092; the Java client insists on `host:port` (anything else is a ConfigException).
pub fn parse_list(list: &str, dialect: Dialect) -> (Vec<Server>, Vec<BadEntry>) {
    let mut servers = Vec::new();
    let mut bad = Vec::new();
    for written in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match parse_entry(written, dialect) {
            Ok(server) => servers.push(server),
            Err(reason) => bad.push(BadEntry {
                written: written.to_owned(),
                reason,
            }),
        }
    }
    (servers, bad)
}

fn parse_entry(written: &str, dialect: Dialect) -> Result<Server, String> {
    let address = match (dialect, written.split_once("://")) {
        (Dialect::Librdkafka, Some((_, rest))) => rest,
        _ => written,
    };
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{written}`: unclosed `[` around an IPv6 address"))?;
        (host, after.strip_prefix(':'))
    } else if address.matches(':').count() == 1 {
        let (host, port) = address.split_once(':').expect("one colon");
        (host, Some(port))
    } else {
        (address, None)
    };
    if host.is_empty() || host.contains('/') {
        return Err(format!("`{written}` is not host:port"));
    }
    let port = match (port, dialect) {
        (Some(port), _) => port
            .parse::<u16>()
            .map_err(|_| format!("`{written}`: `{port}` is not a TCP port"))?,
        (None, Dialect::Librdkafka) => LIBRDKAFKA_DEFAULT_PORT,
        (None, Dialect::Java) => {
            return Err(format!(
                "`{written}` has no port: the Java client refuses it (\"Invalid url in \
                 bootstrap.servers\")"
            ));
        }
    };
    Ok(Server {
        host: host.to_ascii_lowercase(),
        port,
    })
}

/// What probing one entry showed.
#[derive(Debug, Clone)]
pub enum Probe {
    /// It answered Kafka's ApiVersions handshake.
    Kafka,
    /// TCP connected, but the handshake failed: not a (plaintext) Kafka listener.
    NotKafka(String),
    /// No TCP connection: refused, filtered, unreachable or not resolvable.
    Unreachable(ConnectResult),
    /// The step may not connect there; the host's words.
    NotGranted(String),
    /// The probe itself failed (step deadline, malformed address).
    Failed(String),
}

/// Probe one entry with Kafka's handshake: allowed by a `net` grant for it, or by
/// `kafka: Read` when the cluster advertises it.
pub fn probe(server: &Server, timeout_ms: u32) -> Probe {
    match net::kafka_handshake(&server.host, server.port, timeout_ms) {
        Ok(handshake) if handshake.connect.outcome != ConnectOutcome::Connected => {
            Probe::Unreachable(handshake.connect)
        }
        Ok(handshake) => match handshake.error {
            None => Probe::Kafka,
            Some(error) => Probe::NotKafka(error),
        },
        Err(HostError::Denied(why)) => Probe::NotGranted(why),
        Err(error) => Probe::Failed(error.reason()),
    }
}

/// How an entry compares with the listeners the cluster is known to have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// It is one of them.
    Listener,
    /// The host is known, the port is not: the ports it does listen on.
    WrongPort(Vec<u16>),
    /// The host is unknown but within a typo of a known listener.
    Typo(Server),
    /// Nothing known is like it (or nothing is known).
    Unknown,
}

/// Compare `server` with the `known` listeners. Loopback names are compared as one host:
/// the step may not resolve names it has no grant for, and `localhost`/`127.0.0.1`/`::1` are
/// the one equivalence known without DNS.
pub fn compare(server: &Server, known: &[Server]) -> Match {
    let host = canonical_host(&server.host);
    if known
        .iter()
        .any(|k| canonical_host(&k.host) == host && k.port == server.port)
    {
        return Match::Listener;
    }
    let mut ports: Vec<u16> = known
        .iter()
        .filter(|k| canonical_host(&k.host) == host)
        .map(|k| k.port)
        .collect();
    if !ports.is_empty() {
        ports.sort_unstable();
        ports.dedup();
        return Match::WrongPort(ports);
    }
    known
        .iter()
        .map(|k| (strsim::levenshtein(host, canonical_host(&k.host)), k))
        .filter(|(distance, _)| *distance <= TYPO_DISTANCE)
        // Prefer the closest name, then the same port.
        .min_by_key(|(distance, k)| (*distance, k.port != server.port))
        .map_or(Match::Unknown, |(_, k)| Match::Typo(k.clone()))
}

/// Do two host names denote the same host, as far as can be told without DNS?
pub fn same_host(a: &str, b: &str) -> bool {
    canonical_host(a) == canonical_host(b)
}

fn canonical_host(host: &str) -> &str {
    match host {
        "localhost" | "127.0.0.1" | "::1" => "localhost",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(host: &str, port: u16) -> Server {
        Server {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_both_dialects() {
        let (servers, bad) = parse_list(" kafka-1:9092, [::1]:9093 ,,", Dialect::Java);
        assert_eq!(servers, [server("kafka-1", 9092), server("::1", 9093)]);
        assert!(bad.is_empty());

        let (_, bad) = parse_list("kafka-1", Dialect::Java);
        assert!(bad[0].reason.contains("no port"), "{bad:?}");
        let (servers, bad) = parse_list("SSL://kafka-1,kafka-2:x", Dialect::Librdkafka);
        assert_eq!(servers, [server("kafka-1", 9092)]);
        assert!(bad[0].reason.contains("not a TCP port"), "{bad:?}");
    }

    #[test]
    fn names_a_wrong_port_and_a_typo() {
        let known = [server("127.0.0.1", 9092), server("kafka-broker-1", 9092)];
        assert_eq!(compare(&server("localhost", 9092), &known), Match::Listener);
        assert_eq!(
            compare(&server("127.0.0.1", 9093), &known),
            Match::WrongPort(vec![9092])
        );
        assert_eq!(
            compare(&server("kafka-brokr-1", 9092), &known),
            Match::Typo(server("kafka-broker-1", 9092))
        );
        assert_eq!(compare(&server("elsewhere", 9092), &known), Match::Unknown);
        assert_eq!(compare(&server("elsewhere", 9092), &[]), Match::Unknown);
    }
}
