//! Rule 1: every `bootstrap.servers` entry resolves, connects and speaks Kafka — probed
//! when the step may, otherwise compared with the cluster's advertised listeners and the
//! playbook's bootstrap servers (a wrong port, a typo).

use triage_sdk::net::ConnectOutcome;
use triage_sdk::{Finding, Severity, cause};

use super::{Audit, Known};
use crate::bootstrap::{self, Match, Probe, Server};
use crate::config::{Dialect, Origin};

/// Every entry, judged. One working entry is enough for the client to start, so problems are
/// failures only when no entry is known to work or left unchecked.
pub(super) fn bootstrap_servers(audit: &Audit) -> Vec<Finding> {
    // An unsubstituted `${...}` is reported once, by the schema rule.
    if audit.config.placeholder_values.iter().any(|key| {
        crate::config::spec(crate::config::Setting::BootstrapServers)
            .spelling(audit.config.dialect)
            .is_some_and(|s| s.names.contains(&key.as_str()))
    }) {
        return Vec::new();
    }
    let config = &audit.config;
    let Some(list) = &config.bootstrap_servers else {
        let names = match config.dialect {
            Dialect::Java => "bootstrap.servers",
            Dialect::Librdkafka => "metadata.broker.list / bootstrap.servers",
        };
        let finding = Finding::warn(
            "config.bootstrap.missing",
            format!(
                "{names} is not set: unless the application sets it in code, the producer \
                 cannot find the cluster"
            ),
        )
        .cause(cause::CONFIG_BOOTSTRAP)
        .evidence(
            config.file.clone(),
            format!("{names} not set (there is no default)"),
        )
        .fix(format!(
            "Set bootstrap.servers to the cluster's client listeners{}.",
            listeners_hint(audit)
        ));
        return vec![finding];
    };
    let known = audit.known_listeners();
    let mut working = 0;
    let mut problems: Vec<Finding> = Vec::new();
    let mut unchecked: Vec<String> = Vec::new();
    for bad in &audit.bad_entries {
        let finding = Finding::fail(
            "config.bootstrap.invalid",
            format!("bootstrap.servers entry {}", bad.reason),
        )
        .cause(cause::CONFIG_BOOTSTRAP)
        .fix(format!(
            "Write every entry as host:port{}.",
            listeners_hint(audit)
        ));
        problems.push(audit.cite(finding, &list.origin));
    }
    for (server, probe) in &audit.servers {
        match judge_entry(audit, &list.origin, server, probe, &known) {
            Entry::Works => working += 1,
            Entry::Unchecked(why) => unchecked.push(format!("{server}: {why}")),
            Entry::Problem(finding) => problems.push(finding),
        }
    }
    let entries = audit.servers.len() + audit.bad_entries.len();
    let mut findings: Vec<Finding> = problems
        .into_iter()
        .map(|mut finding| {
            // Another entry works (or may): the client bootstraps from it, and this one only
            // slows start-up and is one fewer way in.
            if working > 0 || !unchecked.is_empty() {
                finding.severity = Severity::Warn;
                finding.title = format!(
                    "{} ({working} of {entries} entries work{})",
                    finding.title,
                    if unchecked.is_empty() {
                        ""
                    } else {
                        ", others unchecked"
                    }
                );
            }
            finding
        })
        .collect();
    if !unchecked.is_empty() && audit.nothing_to_compare_with() {
        let mut finding = Finding::info(
            "config.bootstrap.not-compared",
            format!(
                "bootstrap.servers was not checked: no bootstrap servers were given to triage, \
                 so there is nothing to compare its {} entr{} with",
                unchecked.len(),
                if unchecked.len() == 1 { "y" } else { "ies" }
            ),
        );
        finding = audit.cite(finding, &list.origin);
        findings.push(finding.fix(
            "Pass the cluster this producer should reach (--bootstrap HOST:PORT, or \
             bootstrap.servers in --kafka-config) to check each entry against it.",
        ));
    } else if !unchecked.is_empty() {
        let mut finding = Finding::warn(
            "config.bootstrap.unchecked",
            format!(
                "{} bootstrap.servers entr{} could not be checked: not granted to this step and \
                 not a listener the cluster advertises",
                unchecked.len(),
                if unchecked.len() == 1 { "y" } else { "ies" }
            ),
        );
        finding = audit.cite(finding, &list.origin);
        for why in &unchecked {
            finding = finding.evidence("net.kafka-handshake", why.clone());
        }
        findings.push(finding.fix(
            "Grant the step `net` access to these entries (`allow: (net: [\"HOST:PORT\"])`) to \
             probe them, or `kafka: Read` to compare them with the cluster's listeners.",
        ));
    }
    findings
}

/// What one bootstrap entry amounts to.
enum Entry {
    /// It answered Kafka's handshake, or is exactly an advertised listener.
    Works,
    /// Neither probed nor comparable with anything known; why.
    Unchecked(String),
    /// It cannot work; the finding says why.
    Problem(Finding),
}

/// Judge one entry from its probe and how it compares with the known listeners. A wrong
/// port or a typo is named whatever the probe saw, since it is the cause to fix; otherwise
/// the probe's outcome is classified as `net-probe` does.
fn judge_entry(
    audit: &Audit,
    list: &Origin,
    server: &Server,
    probe: &Probe,
    known: &[Known],
) -> Entry {
    let probe_evidence = match probe {
        Probe::Kafka => return Entry::Works,
        Probe::NotKafka(error) => format!("{server}: {error}"),
        Probe::Unreachable(connect) => format!(
            "{server} ({}): {} after {} ms",
            connect.address.as_deref().unwrap_or("no address"),
            connect.detail,
            connect.latency_us / 1000
        ),
        Probe::NotGranted(why) | Probe::Failed(why) => format!("not probed: {why}"),
    };
    let known_servers: Vec<Server> = known.iter().map(|k| k.server.clone()).collect();
    let matched = bootstrap::compare(server, &known_servers);
    // A name that resolves is a real host, not a typo: only an unresolvable or unprobed name
    // is taken for a misspelt known one.
    let may_be_typo = match probe {
        Probe::NotGranted(_) => true,
        Probe::Unreachable(connect) => connect.outcome == ConnectOutcome::DnsFailure,
        _ => false,
    };
    let finding = match (&matched, probe) {
        (Match::WrongPort(ports), _) => wrong_port_finding(audit, server, ports, &known_servers),
        (Match::Typo(suggestion), _) if may_be_typo => {
            let state = match probe {
                Probe::Unreachable(_) => "does not resolve",
                _ => "is not a listener of the cluster",
            };
            Finding::fail(
                "config.bootstrap.typo",
                format!("bootstrap.servers has {server}, which {state}: did you mean {suggestion}?"),
            )
            .cause(cause::CONFIG_BOOTSTRAP)
            .fix(format!(
                "Correct the entry to {suggestion}{}.",
                listeners_hint(audit)
            ))
        }
        // Not probed, but exactly what the cluster advertises.
        (Match::Listener, Probe::NotGranted(_)) => return Entry::Works,
        (_, Probe::NotGranted(_) | Probe::Failed(_)) => return Entry::Unchecked(probe_evidence),
        (_, Probe::NotKafka(_)) => Finding::fail(
            "config.bootstrap.not-kafka",
            format!("bootstrap.servers has {server}, which accepts TCP but does not answer Kafka's handshake"),
        )
        .cause(cause::NET_NOT_KAFKA)
        .fix(format!(
            "Use the brokers' plaintext client listener, or configure the client for the \
             listener's protocol (security.protocol=SSL / SASL_SSL){}.",
            listeners_hint(audit)
        )),
        (_, Probe::Unreachable(connect)) => unreachable_finding(server, connect.outcome),
        (_, Probe::Kafka) => return Entry::Works,
    };
    let mut finding = audit
        .cite(finding, list)
        .evidence("net.kafka-handshake", probe_evidence);
    for listener in known {
        let relevant = match &matched {
            Match::WrongPort(_) => bootstrap::same_host(&listener.server.host, &server.host),
            Match::Typo(suggestion) => listener.server == *suggestion,
            _ => false,
        };
        if relevant {
            finding = finding.evidence(listener.source, listener.excerpt.clone());
        }
    }
    Entry::Problem(finding)
}

fn wrong_port_finding(audit: &Audit, server: &Server, ports: &[u16], known: &[Server]) -> Finding {
    let listens = ports
        .iter()
        .map(|p| format!("{}:{p}", server.host))
        .collect::<Vec<_>>()
        .join(", ");
    let example = known
        .iter()
        .find(|k| bootstrap::same_host(&k.host, &server.host))
        .map_or_else(|| server.to_string(), Server::to_string);
    Finding::fail(
        "config.bootstrap.wrong-port",
        format!(
            "bootstrap.servers has {server} but the cluster listens on {listens} — wrong port?"
        ),
    )
    .cause(cause::CONFIG_BOOTSTRAP)
    .fix(format!(
        "Point bootstrap.servers at the brokers' client listener port, not the controller's or \
         an inter-broker listener's{}; `kafka-broker-api-versions.sh --bootstrap-server \
         {example}` should answer.",
        listeners_hint(audit)
    ))
}

/// The known listeners, for a fix: " (the cluster's listeners: a:1,b:2)".
fn listeners_hint(audit: &Audit) -> String {
    let known = audit.known_listeners();
    if known.is_empty() {
        return String::new();
    }
    format!(
        " (the cluster's listeners: {})",
        known
            .iter()
            .map(|k| k.server.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn unreachable_finding(server: &Server, outcome: ConnectOutcome) -> Finding {
    let (id, cause, title, fix) = match outcome {
        ConnectOutcome::DnsFailure => (
            "config.bootstrap.dns",
            cause::DNS_UNRESOLVABLE,
            format!(
                "bootstrap.servers has {server}, but {} does not resolve",
                server.host
            ),
            format!(
                "Fix the name or its DNS record (or /etc/hosts) so that {} resolves where the producer runs.",
                server.host
            ),
        ),
        ConnectOutcome::Refused => (
            "config.bootstrap.refused",
            cause::NET_REFUSED,
            format!(
                "bootstrap.servers has {server}, which refused the connection: nothing listens on port {}",
                server.port
            ),
            format!(
                "Start the broker on {}, or correct the port in bootstrap.servers.",
                server.host
            ),
        ),
        ConnectOutcome::TimedOut => (
            "config.bootstrap.filtered",
            cause::NET_FILTERED,
            format!(
                "bootstrap.servers has {server}, which did not answer: packets are dropped (firewall?)"
            ),
            format!(
                "Open TCP port {} from the producer's host to {} in the firewall / security group.",
                server.port, server.host
            ),
        ),
        ConnectOutcome::Unreachable | ConnectOutcome::Connected => (
            "config.bootstrap.unreachable",
            cause::NET_UNREACHABLE,
            format!("bootstrap.servers has {server}, which is unreachable: no route to host"),
            format!("Check routing to {} from the producer's host.", server.host),
        ),
    };
    Finding::fail(id, title).cause(cause).fix(fix)
}
