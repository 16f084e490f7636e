//! The rules: one function each, from an [`Audit`] (the typed configuration, what the cluster
//! said, what probing the bootstrap servers showed) to findings. Pure functions: every host
//! call happens before, in [`Audit::prepare`] and [`crate::cluster::gather`], so each rule
//! is unit-tested with an inline properties text and hand-written cluster facts.
//!
//! Every finding quotes the setting (`file:line`, or the default assumed and whose), the
//! rule, and what to set instead with the reason.

mod bootstrap;
mod cluster;
mod schema;
mod settings;
#[cfg(test)]
mod tests;

use triage_sdk::Finding;
use triage_sdk::cause::CONFIG_INVALID_VALUE;

use crate::bootstrap::{BadEntry, Probe, Server};
use crate::cluster::ClusterView;
use crate::config::{Dialect, Origin, ProducerConfig};

/// Everything the rules judge.
#[derive(Debug, Clone)]
pub struct Audit {
    /// The producer configuration.
    pub config: ProducerConfig,
    /// What the cluster said.
    pub cluster: ClusterView,
    /// Each parsed bootstrap entry and what probing it showed.
    pub servers: Vec<(Server, Probe)>,
    /// Bootstrap entries the client cannot parse.
    pub bad_entries: Vec<BadEntry>,
    /// The servers the playbook was given (the step's `bootstrap` param).
    pub given_bootstrap: Vec<Server>,
}

impl Audit {
    /// Parse the bootstrap list and probe each entry with `probe` (the host's handshake in a
    /// run, a stub in tests).
    pub fn prepare(
        config: ProducerConfig,
        cluster: ClusterView,
        given_bootstrap: &str,
        mut probe: impl FnMut(&Server) -> Probe,
    ) -> Audit {
        let (servers, bad_entries) = match &config.bootstrap_servers {
            Some(list) => crate::bootstrap::parse_list(&list.value, config.dialect),
            None => (Vec::new(), Vec::new()),
        };
        let servers = servers
            .into_iter()
            .map(|server| {
                let probed = probe(&server);
                (server, probed)
            })
            .collect();
        Audit {
            given_bootstrap: crate::bootstrap::parse_list(given_bootstrap, Dialect::Java).0,
            config,
            cluster,
            servers,
            bad_entries,
        }
    }

    /// Listeners known to be right: the cluster's advertised ones and the playbook's
    /// bootstrap servers.
    fn known_listeners(&self) -> Vec<Known> {
        let mut known: Vec<Known> = Vec::new();
        if let Some(facts) = self.cluster.facts() {
            for (id, server) in &facts.listeners {
                known.push(Known {
                    server: server.clone(),
                    source: "kafka.metadata",
                    excerpt: format!("broker {id} advertises {server}"),
                });
            }
        }
        for server in &self.given_bootstrap {
            if !known.iter().any(|k| k.server == *server) {
                known.push(Known {
                    server: server.clone(),
                    source: "step param bootstrap",
                    excerpt: format!("the playbook was given {server}"),
                });
            }
        }
        known
    }

    /// Was triage given nothing to compare `bootstrap.servers` with — no bootstrap servers
    /// (no `--bootstrap`, `--set bootstrap`, nor `bootstrap.servers` in `--kafka-config`)
    /// and so no cluster? Then an entry that cannot be probed is not judged at all (issue 7,
    /// item 14: entries were once judged against a `localhost:9092` nobody chose).
    pub fn nothing_to_compare_with(&self) -> bool {
        self.given_bootstrap.is_empty() && self.cluster.facts().is_none()
    }

    /// Add the evidence of where a setting comes from.
    fn cite(&self, finding: Finding, origin: &Origin) -> Finding {
        finding.evidence(origin.source(&self.config.file), origin.excerpt())
    }
}

/// A listener known to be right, with the evidence it rests on.
struct Known {
    server: Server,
    source: &'static str,
    excerpt: String,
}

/// One rule.
pub struct Rule {
    /// What it checks, for the log.
    pub name: &'static str,
    /// The check.
    pub check: fn(&Audit) -> Vec<Finding>,
}

/// Every rule, in the order the findings are reported.
pub const RULES: &[Rule] = &[
    Rule {
        name: "values the client accepts",
        check: invalid_values,
    },
    Rule {
        name: "keys and values the client knows",
        check: schema::keys,
    },
    Rule {
        name: "a client that still exists",
        check: schema::legacy_file,
    },
    Rule {
        name: "bootstrap.servers resolvable and reachable",
        check: bootstrap::bootstrap_servers,
    },
    Rule {
        name: "acks survive a leader failure",
        check: settings::acks_durable,
    },
    Rule {
        name: "retries ride out transient errors",
        check: settings::retries,
    },
    Rule {
        name: "idempotence and its requirements",
        check: settings::idempotence,
    },
    Rule {
        name: "delivery.timeout.ms >= linger.ms + request.timeout.ms",
        check: settings::delivery_timeout,
    },
    Rule {
        name: "request.timeout.ms vs replica.lag.time.max.ms",
        check: cluster::request_timeout_vs_replica_lag,
    },
    Rule {
        name: "max.request.size fits max.message.bytes",
        check: cluster::message_size,
    },
    Rule {
        name: "buffers and blocking",
        check: settings::buffers,
    },
    Rule {
        name: "the topic accepts the producer's writes now",
        check: cluster::topic_accepts_writes,
    },
    Rule {
        name: "cluster cross-checks possible",
        check: cluster_reachable,
    },
    Rule {
        name: "defaults assumed",
        check: defaults_assumed,
    },
];

/// Values the client refuses at start-up (a ConfigException in Java, `rd_kafka_new`
/// failing in librdkafka).
fn invalid_values(audit: &Audit) -> Vec<Finding> {
    let client = audit.config.dialect.client();
    audit
        .config
        .invalid
        .iter()
        .map(|invalid| {
            let finding = Finding::fail(
                "config.invalid",
                format!(
                    "{} is not a valid value: {client} refuses to start",
                    invalid.origin.shown()
                ),
            )
            .cause(CONFIG_INVALID_VALUE)
            .fix(format!(
                "Set {} to {}. The other rules assumed the default ({}).",
                invalid.origin.key(),
                invalid.expected,
                invalid.assumed.shown()
            ));
            audit.cite(finding, &invalid.origin)
        })
        .collect()
}

/// Which of the defaults assumed were different in older Java clients, from the schema dumps
/// of older kafka-clients versions, the newest that differs ("linger.ms was 0 in
/// kafka-clients 3.9.1").
fn default_changes(defaults: &[&Origin]) -> String {
    let catalogue = crate::schema::catalogue();
    let changes: Vec<String> = defaults
        .iter()
        .filter_map(|origin| match origin {
            Origin::Default {
                key,
                raw,
                dialect: Dialect::Java,
                ..
            } => {
                let history = catalogue.java_default_history(key);
                let (version, old) = history.first()?;
                Some(format!(
                    "{key} was {old} in kafka-clients {version} ({raw} now)"
                ))
            }
            _ => None,
        })
        .collect();
    if changes.is_empty() {
        "Defaults change between client versions: set the ones that matter explicitly.".to_owned()
    } else {
        format!(
            "Defaults change between client versions — {}: set the ones that matter explicitly.",
            changes.join(", ")
        )
    }
}

/// Say when the cluster could not be asked, so that silence is not read as a pass.
fn cluster_reachable(audit: &Audit) -> Vec<Finding> {
    match &audit.cluster {
        ClusterView::Known(_) => Vec::new(),
        ClusterView::NotGranted(why) => vec![
            Finding::info(
                "config.cluster-unchecked",
                "Settings not compared with the cluster (message size, replica lag, topic ISR): the step has no `kafka: Read` grant",
            )
            .evidence("kafka.metadata", why.clone())
            .fix("Add `kafka: Read` to the step's `allow` to compare the settings with the live cluster."),
        ],
        ClusterView::Unavailable(why) => vec![
            Finding::warn(
                "config.cluster-unchecked",
                "Settings not compared with the cluster (message size, replica lag, topic ISR): Kafka is unavailable from this step",
            )
            .evidence("kafka.metadata", why.clone())
            .fix("Check that the brokers are running and reachable at the run's --bootstrap servers."),
        ],
    }
}

/// Every default assumed, in one place, for the operator to confirm against the client
/// version the application runs.
fn defaults_assumed(audit: &Audit) -> Vec<Finding> {
    let config = &audit.config;
    let defaults = config.defaults_assumed();
    if defaults.is_empty() {
        return Vec::new();
    }
    let mut finding = Finding::info(
        "config.defaults",
        format!(
            "{} setting{} not in the file: {} defaults assumed",
            defaults.len(),
            if defaults.len() == 1 { "" } else { "s" },
            match config.dialect {
                Dialect::Java => "the Java client's (4.x)",
                Dialect::Librdkafka => "librdkafka's (2.x)",
            }
        ),
    )
    .fix(default_changes(&defaults));
    for origin in defaults {
        finding = audit.cite(finding, origin);
    }
    vec![finding]
}
