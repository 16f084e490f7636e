//! `listener-check`: does every broker's advertised listener — the address the cluster tells
//! clients to use, as returned in metadata — resolve and answer a Kafka handshake from here?
//!
//! The classic "bootstrap works, then nothing": the bootstrap server answers, hands out
//! `advertised.listeners` that only resolve inside the brokers' network (a container name,
//! an internal DNS zone), and the producer then fails to reach the partition leaders.
//!
//! Params: `timeout_ms` (default 3000) per handshake.

use serde::Deserialize;
use triage_sdk::kafka;
use triage_sdk::net::{self, ConnectOutcome};
use triage_sdk::{Check, Finding, HostError, PluginInfo, Report, RunError, cause, export_check};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u32,
}

fn default_timeout_ms() -> u32 {
    3_000
}

struct ListenerCheck;

impl Check for ListenerCheck {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "listener-check",
            "Does every advertised listener resolve and answer a Kafka handshake from here?",
        )
        .param(
            "timeout_ms",
            "Per-handshake timeout in milliseconds (default 3000)",
            false,
        )
        .needs("kafka")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let cluster = match kafka::metadata(&[]) {
            Ok(cluster) => cluster,
            Err(error @ (HostError::Unavailable(_) | HostError::Timeout)) => {
                return Ok(kafka::unavailable_report("metadata", &error));
            }
            Err(error) => return Err(error.into()),
        };
        let mut report = Report::new("");
        let mut good = 0;
        for broker in &cluster.brokers {
            let listener = format!("{}:{}", broker.host, broker.port);
            triage_sdk::log::progress(&format!("broker {}: {listener}", broker.id));
            let handshake = match net::kafka_handshake(&broker.host, broker.port, params.timeout_ms)
            {
                Ok(handshake) => handshake,
                Err(error) => {
                    report.push(
                        Finding::warn(
                            "listener.unchecked",
                            format!("Broker {} ({listener}) could not be checked", broker.id),
                        )
                        .evidence("net.kafka-handshake", error.reason()),
                    );
                    continue;
                }
            };
            let evidence = format!(
                "broker {} advertises {listener}: {}",
                broker.id,
                handshake
                    .error
                    .as_deref()
                    .unwrap_or(&handshake.connect.detail)
            );
            let fix_listener = format!(
                "Set broker {}'s advertised.listeners to an address clients can resolve and reach \
                 (e.g. PLAINTEXT://<reachable-host>:{}) and restart it: bootstrap works, but \
                 producers fail as soon as they talk to the partitions it leads.",
                broker.id, broker.port
            );
            let finding = match handshake.connect.outcome {
                ConnectOutcome::DnsFailure => Finding::fail(
                    "listener.unresolvable",
                    format!("Broker {} advertises {listener}, which does not resolve from here", broker.id),
                )
                .cause(cause::LISTENER_UNRESOLVABLE),
                ConnectOutcome::Refused => Finding::fail(
                    "listener.refused",
                    format!("Broker {} advertises {listener}, which refuses connections", broker.id),
                )
                .cause(cause::NET_REFUSED),
                ConnectOutcome::TimedOut => Finding::fail(
                    "listener.filtered",
                    format!("Broker {} advertises {listener}, which does not answer (firewall?)", broker.id),
                )
                .cause(cause::NET_FILTERED),
                ConnectOutcome::Unreachable => Finding::fail(
                    "listener.unreachable",
                    format!("Broker {} advertises {listener}, which is unreachable", broker.id),
                )
                .cause(cause::NET_UNREACHABLE),
                ConnectOutcome::Connected if handshake.error.is_some() => Finding::fail(
                    "listener.not-kafka",
                    format!("Broker {} advertises {listener}, which accepts TCP but does not answer Kafka's handshake", broker.id),
                )
                .cause(cause::NET_NOT_KAFKA),
                ConnectOutcome::Connected => {
                    good += 1;
                    report = report.fact(format!("handshake_us.{}", broker.id), handshake.latency_us);
                    continue;
                }
            };
            report.push(
                finding
                    .evidence("net.kafka-handshake", evidence)
                    .fix(fix_listener),
            );
        }
        let summary = format!(
            "{good} of {} advertised listeners answer a Kafka handshake",
            cluster.brokers.len()
        );
        Ok(report.summary(summary).fact("listeners_ok", good))
    }
}

export_check!(ListenerCheck);
