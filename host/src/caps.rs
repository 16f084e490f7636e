//! Capability grants: what one step's plugin may touch.
//!
//! Deny by default. A step starts with nothing; its playbook `allow` grants network targets
//! (`host:port`, port ranges), file paths (read-only, opened beneath the granted directory)
//! and system stats. `caps` decides; every host function asks before it acts, and a denial
//! names the grant that would have allowed the call, so the playbook author can fix it in
//! one edit.
//!
//! File grants live in [`files`] (opening beneath a granted directory handle) and what a
//! plugin may not see even inside a grant in [`crate::secrets`] (sensitive values, masked).

pub mod files;

use std::fmt;
use std::ops::RangeInclusive;

pub use self::files::{FileDenied, FileRule, Granted, Space, Withheld};

use crate::http_url::HttpUrl;

/// Everything one step is allowed to do, after `{{input}}` substitution.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    /// Network targets the step may resolve and connect to.
    pub net: Vec<NetRule>,
    /// Files and directories the step may read.
    pub files: Vec<FileRule>,
    /// Files no file grant exposes, whatever names them (the `--kafka-config` file).
    pub withheld: Vec<Withheld>,
    /// Whether the step may read CPU, memory, load, disk and process stats.
    pub sys: bool,
    /// What the step may do with the run's Kafka connection.
    pub kafka: Option<KafkaAccess>,
    /// URLs the step may GET, each covering its path and what lies below it
    /// (`http://host:port/path`, see [`HttpUrl::covers`]).
    pub http: Vec<HttpUrl>,
    /// Command lines the step may run, word for word (remediation steps only).
    pub exec: Vec<Vec<String>>,
}

/// How `triage explain` describes a `sys: true` grant.
pub const SYS_DESCRIPTION: &str = "sys: cpu, memory, load, disk usage, processes";

/// Access to the Kafka cluster, through the host's clients.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub enum KafkaAccess {
    /// Metadata, configs, log dirs, quorum, and handshakes with advertised listeners.
    Read,
    /// `Read`, plus producing probe records to these topics, and only these.
    Produce(Vec<String>),
    /// `Read`, plus changing topic configs (remediation steps only).
    Admin,
}

impl KafkaAccess {
    /// One line for `triage explain`.
    pub fn describe(&self) -> String {
        match self {
            KafkaAccess::Read => {
                "kafka: read (metadata, configs, log dirs, quorum, advertised listeners)".into()
            }
            KafkaAccess::Produce(topics) => format!(
                "kafka: read, and produce probe records to {} only",
                topics.join(", ")
            ),
            KafkaAccess::Admin => {
                "kafka: read, and alter topic configs (remediation: planned in a dry run, \
                 carried out only with --apply, once confirmed)"
                    .into()
            }
        }
    }
}

/// One `allow.net` entry: a host and a port range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRule {
    /// Lower-cased host name or address, exactly as granted (no resolution: granting
    /// `kafka-1:9092` does not grant the address it resolves to, and vice versa).
    pub host: String,
    /// Ports allowed on that host.
    pub ports: RangeInclusive<u16>,
}

/// A malformed grant in a playbook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{entry}` is not a valid {kind} grant: {reason}")]
pub struct GrantError {
    /// `net` or `files`.
    pub kind: &'static str,
    /// The offending entry.
    pub entry: String,
    /// Why it is rejected.
    pub reason: String,
}

impl NetRule {
    /// Parse `host:port`, `host:lo-hi` or `[v6]:port`.
    pub fn parse(entry: &str) -> Result<NetRule, GrantError> {
        let error = |reason: &str| GrantError {
            kind: "net",
            entry: entry.to_owned(),
            reason: reason.to_owned(),
        };
        let (host, ports) = entry
            .trim()
            .rsplit_once(':')
            .ok_or_else(|| error("expected host:port or host:first-last"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(error("the host is empty"));
        }
        let port = |s: &str| {
            s.parse::<u16>()
                .map_err(|_| error(&format!("`{s}` is not a port (0-65535)")))
        };
        let ports = match ports.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (port(first)?, port(last)?);
                if first > last {
                    return Err(error("the port range is reversed"));
                }
                first..=last
            }
            None => {
                let p = port(ports)?;
                p..=p
            }
        };
        Ok(NetRule {
            host: host.to_ascii_lowercase(),
            ports,
        })
    }

    fn allows(&self, host: &str, port: u16) -> bool {
        self.host.eq_ignore_ascii_case(host) && self.ports.contains(&port)
    }
}

impl fmt::Display for NetRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.ports.start() == self.ports.end() {
            write!(f, "{host}:{}", self.ports.start())
        } else {
            write!(f, "{host}:{}-{}", self.ports.start(), self.ports.end())
        }
    }
}

impl Grant {
    /// May the step connect to `host:port`?
    pub fn check_connect(&self, host: &str, port: u16) -> Result<(), String> {
        if self.net.iter().any(|rule| rule.allows(host, port)) {
            return Ok(());
        }
        Err(format!(
            "connecting to {} is not granted to this step ({}); to allow it, add \"{}\" to the \
             step's `allow: (net: [...])`",
            display_target(host, port),
            self.describe_net(),
            display_target(host, port),
        ))
    }

    /// May the step resolve `host`? Only hosts it may connect to: a free resolver would be a
    /// way to leak data through DNS queries.
    pub fn check_resolve(&self, host: &str) -> Result<(), String> {
        if self
            .net
            .iter()
            .any(|rule| rule.host.eq_ignore_ascii_case(host))
        {
            return Ok(());
        }
        Err(format!(
            "resolving {host} is not granted to this step ({}); to allow it, add \"{host}:PORT\" \
             to the step's `allow: (net: [...])`",
            self.describe_net()
        ))
    }

    /// May the step read `requested`? Returns it resolved against the grant that covers it,
    /// to be opened beneath that grant's directory handle (see [`files`]). Checked lexically
    /// (`..` resolved first, so it cannot climb out); a path outside every grant is refused
    /// without revealing whether it exists.
    pub fn check_read(&self, requested: &str) -> Result<Granted, FileDenied> {
        files::resolve(&self.files, &self.withheld, requested, |lexical| {
            FileDenied::Denied(format!(
                "reading {} is not granted to this step ({}); to allow it, add \"{}\" to the \
                 step's `allow: (files: [...])`",
                lexical.display(),
                self.describe_files(),
                lexical.display()
            ))
        })
    }

    /// May the step read system statistics?
    pub fn check_sys(&self) -> Result<(), String> {
        if self.sys {
            Ok(())
        } else {
            Err(
                "system statistics are not granted to this step; to allow them, add `sys: true` \
                 to the step's `allow`"
                    .into(),
            )
        }
    }

    /// May the step GET `url`? Scheme, host and port must equal a grant's, and the grant's
    /// path segments must be a prefix of the URL's (both normalised by [`HttpUrl`]).
    pub fn check_http(&self, url: &HttpUrl) -> Result<(), String> {
        if self.http.iter().any(|grant| grant.covers(url)) {
            return Ok(());
        }
        Err(format!(
            "GET {url} is not granted to this step ({}); to allow it, add \"{}\" to the \
             step's `allow: (http: [...])`",
            self.describe_http(),
            url.as_grant()
        ))
    }

    /// May the step read the cluster?
    pub fn check_kafka_read(&self) -> Result<(), String> {
        match self.kafka {
            Some(KafkaAccess::Read | KafkaAccess::Produce(_) | KafkaAccess::Admin) => Ok(()),
            None => Err(
                "Kafka access is not granted to this step; to allow it, add \
                         `kafka: Read` to the step's `allow`"
                    .into(),
            ),
        }
    }

    /// May the step change topic configs?
    pub fn check_kafka_admin(&self) -> Result<(), String> {
        match self.kafka {
            Some(KafkaAccess::Admin) => Ok(()),
            _ => Err(
                "changing Kafka configs is not granted to this step; to allow it, use \
                      `kafka: Admin` in a remediation step's `allow`"
                    .into(),
            ),
        }
    }

    /// May the step run `command` (program and arguments)? Only an exact, word-for-word
    /// match of a granted command line.
    pub fn check_exec(&self, command: &[String]) -> Result<(), String> {
        if self
            .exec
            .iter()
            .any(|granted| granted.as_slice() == command)
        {
            return Ok(());
        }
        let line = command.join(" ");
        let granted = if self.exec.is_empty() {
            "it has no exec grant".to_owned()
        } else {
            let lines: Vec<String> = self.exec.iter().map(|c| c.join(" ")).collect();
            format!("granted: {}", lines.join("; "))
        };
        Err(format!(
            "running `{line}` is not granted to this step ({granted}); to allow it, add \
             \"{line}\" to a remediation step's `allow: (exec: [...])`"
        ))
    }

    /// May the step produce (probe records) to `topic`?
    pub fn check_kafka_produce(&self, topic: &str) -> Result<(), String> {
        match &self.kafka {
            Some(KafkaAccess::Produce(topics)) if topics.iter().any(|t| t == topic) => Ok(()),
            Some(KafkaAccess::Produce(topics)) => Err(format!(
                "producing to `{topic}` is not granted to this step (granted: {}); to allow it, \
                 add it: `kafka: Produce([\"{topic}\"])`",
                topics.join(", ")
            )),
            _ => Err(format!(
                "producing is not granted to this step; to allow it for `{topic}` only, use \
                 `kafka: Produce([\"{topic}\"])` in the step's `allow`"
            )),
        }
    }

    fn describe_net(&self) -> String {
        if self.net.is_empty() {
            return "it has no network grant".into();
        }
        let rules: Vec<String> = self.net.iter().map(ToString::to_string).collect();
        format!("granted: {}", rules.join(", "))
    }

    fn describe_http(&self) -> String {
        if self.http.is_empty() {
            return "it has no http grant".into();
        }
        let grants: Vec<String> = self.http.iter().map(ToString::to_string).collect();
        format!("granted: {}", grants.join(", "))
    }

    fn describe_files(&self) -> String {
        if self.files.is_empty() {
            return "it has no file grant".into();
        }
        let rules: Vec<String> = self
            .files
            .iter()
            .map(|r| r.root.display().to_string())
            .collect();
        format!("granted: {}", rules.join(", "))
    }
}

fn display_target(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant_net(rules: &[&str]) -> Grant {
        Grant {
            net: rules.iter().map(|r| NetRule::parse(r).unwrap()).collect(),
            ..Grant::default()
        }
    }

    #[test]
    fn net_rules_parse_ports_ranges_and_ipv6() {
        assert_eq!(NetRule::parse("Kafka-1:9092").unwrap().host, "kafka-1");
        assert_eq!(NetRule::parse("h:9000-9100").unwrap().ports, 9000..=9100);
        assert_eq!(NetRule::parse("[::1]:80").unwrap().host, "::1");
        assert!(NetRule::parse("h").is_err());
        assert!(NetRule::parse("h:99999").is_err());
        assert!(NetRule::parse("h:20-10").is_err());
        assert!(NetRule::parse(":80").is_err());
    }

    #[test]
    fn connect_is_denied_outside_the_grant_and_names_the_fix() {
        let grant = grant_net(&["127.0.0.1:9092", "kafka:9000-9010"]);
        assert!(grant.check_connect("127.0.0.1", 9092).is_ok());
        assert!(grant.check_connect("KAFKA", 9005).is_ok());
        let denied = grant.check_connect("127.0.0.1", 22).unwrap_err();
        assert!(denied.contains("add \"127.0.0.1:22\""), "{denied}");
        assert!(
            denied.contains("127.0.0.1:9092, kafka:9000-9010"),
            "{denied}"
        );
        assert!(grant.check_resolve("kafka").is_ok());
        assert!(grant.check_resolve("evil.example").is_err());
    }

    #[test]
    fn http_grants_match_target_exactly_and_path_by_whole_segments() {
        let grant = Grant {
            http: vec![HttpUrl::parse_grant("http://broker-1:7071/metrics").unwrap()],
            ..Grant::default()
        };
        let check = |url: &str| {
            HttpUrl::parse(url)
                .map_err(|e| e.to_string())
                .and_then(|url| grant.check_http(&url))
        };
        assert!(check("http://broker-1:7071/metrics").is_ok());
        assert!(check("http://broker-1:7071/metrics?name[]=x").is_ok());
        assert!(check("http://broker-1:7071/metrics/jvm").is_ok());
        assert!(check("http://broker-1:7071/admin").is_err());
        assert!(check("http://broker-1:7071/metricsX").is_err());
        assert!(check("http://broker-1:7071/metrics/../admin").is_err());
        assert!(check("http://broker-1:7071.evil/metrics").is_err());
        let denied = check("http://other:7071/metrics?x=1").unwrap_err();
        assert!(
            denied.contains("(granted: http://broker-1:7071/metrics)"),
            "{denied}"
        );
        assert!(
            denied.contains("add \"http://other:7071/metrics\" to the step's `allow: (http"),
            "{denied}"
        );
        assert!(
            Grant::default()
                .check_http(&HttpUrl::parse("http://b/m").unwrap())
                .unwrap_err()
                .contains("it has no http grant")
        );
    }

    #[test]
    fn exec_grants_match_word_for_word() {
        let grant = Grant {
            exec: vec![vec!["systemctl".into(), "restart".into(), "kafka".into()]],
            ..Grant::default()
        };
        let argv = |line: &str| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert!(grant.check_exec(&argv("systemctl restart kafka")).is_ok());
        assert!(
            grant
                .check_exec(&argv("systemctl restart kafka; rm -rf /"))
                .is_err()
        );
        assert!(
            grant
                .check_exec(&argv("systemctl stop kafka"))
                .unwrap_err()
                .contains("granted: systemctl restart kafka")
        );
        assert!(Grant::default().check_kafka_admin().is_err());
    }

    #[test]
    fn a_grant_of_nothing_denies_everything() {
        let grant = Grant::default();
        assert!(grant.check_connect("localhost", 9092).is_err());
        assert!(grant.check_sys().is_err());
        assert!(
            grant
                .check_kafka_read()
                .unwrap_err()
                .contains("kafka: Read")
        );
        assert!(matches!(
            grant.check_read("/tmp"),
            Err(FileDenied::Denied(_))
        ));
    }
}
