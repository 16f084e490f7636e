//! `net-probe`: can this machine reach each server, and if not, why?
//!
//! The operator's `nc -vz host port`, for every server of a list, with the failure classified:
//! a name that does not resolve (DNS), a refused connection (host up, nothing listening), a
//! timeout (a firewall dropping packets) or no route. Each failure is a finding with the fix an
//! experienced operator would suggest.
//!
//! Params:
//! - `servers` (required): comma-separated `host:port` list, e.g. `"{{bootstrap}}"`.
//! - `timeout_ms` (default 3000): per-connection timeout.
//! - `kafka_handshake` (default false): after connecting, speak Kafka's ApiVersions and
//!   report a server that accepts TCP but is not a Kafka listener.

use serde::Deserialize;
use triage_sdk::net::{self, ConnectOutcome, ConnectResult};
use triage_sdk::{Check, Finding, HostError, PluginInfo, Report, RunError, cause, export_check};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    servers: String,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u32,
    /// After connecting, also speak Kafka's ApiVersions handshake.
    #[serde(default)]
    kafka_handshake: bool,
}

fn default_timeout_ms() -> u32 {
    3_000
}

struct NetProbe;

impl Check for NetProbe {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "net-probe",
            "DNS and TCP reachability of each host:port, with the failure classified",
        )
        .param("servers", "Comma-separated host:port list", true)
        .param(
            "timeout_ms",
            "Per-connection timeout in milliseconds (default 3000)",
            false,
        )
        .param(
            "kafka_handshake",
            "Also perform Kafka's ApiVersions handshake (default false)",
            false,
        )
        .needs("net")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let servers = parse_servers(&params.servers).map_err(RunError::InvalidParams)?;
        let mut report = Report::new("");
        let mut reachable = 0;
        for (host, port) in &servers {
            triage_sdk::log::progress(&format!("connecting to {host}:{port}"));
            match net::tcp_connect(host, *port, params.timeout_ms) {
                Ok(result) if result.outcome == ConnectOutcome::Connected => {
                    report.push_fact(format!("latency_us.{host}:{port}"), result.latency_us);
                    let not_kafka = params
                        .kafka_handshake
                        .then(|| handshake(host, *port, params.timeout_ms, &mut report))
                        .flatten();
                    match not_kafka {
                        Some(finding) => report.push(finding),
                        None => reachable += 1,
                    }
                }
                Ok(result) => report.push(unreachable_finding(&result)),
                Err(error) => report.push(host_error_finding(host, *port, &error)),
            }
        }
        let summary = format!("{reachable} of {} servers reachable", servers.len());
        Ok(report
            .summary(summary)
            .fact("reachable", reachable)
            .fact("unreachable", servers.len() - reachable))
    }
}

export_check!(NetProbe);

/// Speak ApiVersions to a server that accepted TCP; a finding when it does not answer.
fn handshake(host: &str, port: u16, timeout_ms: u32, report: &mut Report) -> Option<Finding> {
    match net::kafka_handshake(host, port, timeout_ms) {
        Ok(h) if h.error.is_none() && h.connect.outcome == ConnectOutcome::Connected => {
            report.push_fact(format!("kafka_apis.{host}:{port}"), h.api_versions.len());
            None
        }
        Ok(h) => Some(
            Finding::fail(
                "net.not-kafka",
                format!("{host}:{port} accepts TCP but does not answer Kafka's handshake"),
            )
            .cause(cause::NET_NOT_KAFKA)
            .evidence("net.kafka-handshake", h.error.unwrap_or(h.connect.detail))
            .fix(format!(
                "Check that {port} is the broker's client listener (not a TLS, SASL or another \
                 service's port) and that bootstrap.servers uses the right port and protocol."
            )),
        ),
        Err(error) => Some(host_error_finding(host, port, &error)),
    }
}

/// Split `"a:1, b:2"` into `(host, port)` pairs; `[v6]:port` is accepted.
fn parse_servers(list: &str) -> Result<Vec<(String, u16)>, String> {
    let servers: Vec<(String, u16)> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_server)
        .collect::<Result<_, _>>()?;
    if servers.is_empty() {
        return Err("`servers` is empty: give at least one host:port".into());
    }
    Ok(servers)
}

fn parse_server(server: &str) -> Result<(String, u16), String> {
    let (host, port) = server
        .rsplit_once(':')
        .ok_or_else(|| format!("`{server}` has no port: write it as host:port"))?;
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("`{server}`: `{port}` is not a TCP port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), port))
}

fn unreachable_finding(r: &ConnectResult) -> Finding {
    let target = format!("{}:{}", r.host, r.port);
    let address = r.address.as_deref().unwrap_or("no address");
    let evidence = format!(
        "{target} ({address}): {} after {} ms",
        r.detail,
        r.latency_us / 1000
    );
    let (id, cause, title, fix) = match r.outcome {
        ConnectOutcome::DnsFailure => (
            "net.dns",
            cause::DNS_UNRESOLVABLE,
            format!("{} does not resolve", r.host),
            format!(
                "Fix the name or its DNS record (or /etc/hosts) so that {} resolves from where \
                 the producer runs; check for a typo in bootstrap.servers.",
                r.host
            ),
        ),
        ConnectOutcome::Refused => (
            "net.refused",
            cause::NET_REFUSED,
            format!(
                "{target} refused the connection: nothing listens on port {}",
                r.port
            ),
            format!(
                "Start the broker on {}, or check that its `listeners` include port {} \
                 (and that bootstrap.servers names the right port).",
                r.host, r.port
            ),
        ),
        ConnectOutcome::TimedOut => (
            "net.filtered",
            cause::NET_FILTERED,
            format!("{target} did not answer: packets are dropped (firewall?)"),
            format!(
                "Open TCP port {} from this host to {} in the firewall / security group \
                 (e.g. `ufw allow {}/tcp`); `nc -vz {} {}` should then connect.",
                r.port, r.host, r.port, r.host, r.port
            ),
        ),
        ConnectOutcome::Unreachable | ConnectOutcome::Connected => (
            "net.unreachable",
            cause::NET_UNREACHABLE,
            format!("{target} is unreachable: no route to host"),
            format!(
                "Check routing and that {} is up; from the producer's host, `ping {}` and \
                 `ip route get` should show a path.",
                r.host, r.host
            ),
        ),
    };
    Finding::fail(id, title)
        .cause(cause)
        .evidence("net.tcp-connect", evidence)
        .fix(fix)
}

fn host_error_finding(host: &str, port: u16, error: &HostError) -> Finding {
    Finding::fail(
        "net.not-checked",
        format!("{host}:{port} could not be checked"),
    )
    .evidence("net.tcp-connect", error.reason())
    .fix("Grant the step `net` access to this host:port in the playbook's `allow`.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_with_spaces_and_ipv6() {
        assert_eq!(
            parse_servers(" a:1, [::1]:9092 ,").unwrap(),
            vec![("a".to_owned(), 1), ("::1".to_owned(), 9092)]
        );
    }

    #[test]
    fn rejects_missing_or_bad_ports() {
        assert!(parse_servers("broker").unwrap_err().contains("no port"));
        assert!(
            parse_servers("broker:x")
                .unwrap_err()
                .contains("not a TCP port")
        );
        assert!(parse_servers(" , ").unwrap_err().contains("empty"));
    }
}
