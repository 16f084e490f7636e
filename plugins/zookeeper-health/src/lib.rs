//! `zookeeper-health`: for ZooKeeper-based deployments, what an operator learns from
//! `echo ruok | nc`, `echo srvr | nc` and `echo mntr | nc` on each server of the
//! `zookeeper.connect` string: reachable, `imok`, mode (leader / follower / standalone),
//! quorum formed, outstanding requests, latency.
//!
//! Without a `connect` string it asks the cluster: a KRaft cluster does not use ZooKeeper,
//! and the check says so plainly instead of failing.
//!
//! Params: `connect` (e.g. `zk1:2181,zk2:2181/kafka`), `timeout_ms` (default 3000),
//! `max_outstanding` (default 10), `max_avg_latency_ms` (default 100).

use std::collections::BTreeMap;

use serde::Deserialize;
use triage_sdk::net::{self, ConnectOutcome};
use triage_sdk::{
    Check, Finding, PluginInfo, Report, RunError, Status, cause, export_check, kafka,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    connect: Option<String>,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u32,
    #[serde(default = "default_max_outstanding")]
    max_outstanding: u64,
    #[serde(default = "default_max_latency")]
    max_avg_latency_ms: f64,
}

fn default_timeout_ms() -> u32 {
    3_000
}
fn default_max_outstanding() -> u64 {
    10
}
fn default_max_latency() -> f64 {
    100.0
}

/// What one server said.
struct Server {
    address: String,
    mode: Option<String>,
}

struct ZookeeperHealth;

impl Check for ZookeeperHealth {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "zookeeper-health",
            "ZooKeeper through ruok/srvr/mntr: reachable, mode, quorum, backlog, latency (or: the cluster runs KRaft)",
        )
        .param("connect", "zookeeper.connect string, e.g. zk1:2181,zk2:2181/kafka", false)
        .param("timeout_ms", "Per-command timeout in milliseconds (default 3000)", false)
        .param("max_outstanding", "Outstanding requests tolerated (default 10)", false)
        .param("max_avg_latency_ms", "Average latency tolerated in ms (default 100)", false)
        .needs("net")
        .needs("kafka")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let servers = match params.connect.as_deref().map(parse_connect) {
            Some(Ok(servers)) if !servers.is_empty() => servers,
            Some(Err(why)) => return Err(RunError::InvalidParams(why)),
            _ => return Ok(without_connect_string()),
        };
        let mut report = Report::new("");
        let mut answered = Vec::new();
        for (host, port) in &servers {
            if let Some(server) = check_server(host, *port, &params, &mut report) {
                answered.push(server);
            }
        }
        let leaders = answered
            .iter()
            .filter(|s| s.mode.as_deref() == Some("leader"))
            .count();
        let standalone = answered
            .iter()
            .any(|s| s.mode.as_deref() == Some("standalone"));
        let majority = servers.len() / 2 + 1;
        if servers.len() > 1 && (answered.len() < majority || leaders != 1) {
            report.push(
                Finding::fail(
                    "zookeeper.no-quorum",
                    format!(
                        "The ensemble has no quorum: {} of {} servers serving, {leaders} leader{}",
                        answered.len(),
                        servers.len(),
                        if leaders == 1 { "" } else { "s" }
                    ),
                )
                .cause(cause::ZOOKEEPER_NO_QUORUM)
                .evidence("net.tcp-exchange", modes(&answered))
                .fix(format!(
                    "Start the ZooKeeper servers that are down: at least {majority} of {} must be up \
                     to elect a leader; without it Kafka cannot elect a controller.",
                    servers.len()
                )),
            );
        }
        let summary = format!(
            "{} of {} ZooKeeper server{} serving{}",
            answered.len(),
            servers.len(),
            if servers.len() == 1 { "" } else { "s" },
            if answered.is_empty() {
                String::new()
            } else {
                format!(" ({})", modes(&answered))
            }
        );
        let mut report = report
            .summary(summary)
            .fact("servers_up", answered.len())
            .fact(
                "mode",
                if standalone {
                    "standalone"
                } else if leaders == 1 {
                    "ensemble"
                } else {
                    "none"
                },
            );
        for server in &answered {
            report = report.fact(
                format!("mode.{}", server.address),
                server.mode.as_deref().unwrap_or("unknown"),
            );
        }
        Ok(report)
    }
}

export_check!(ZookeeperHealth);

/// No connect string: tell a KRaft cluster from a misconfigured playbook.
fn without_connect_string() -> Report {
    match kafka::describe_quorum() {
        Ok(Some(quorum)) => Report::new(format!(
            "The cluster runs in KRaft mode (controller {}): ZooKeeper is not used",
            quorum.leader_id
        ))
        .fact("mode", "kraft"),
        Ok(None) => Report::new("The cluster uses ZooKeeper, but no `connect` string was given").finding(
            Finding::warn("zookeeper.unchecked", "ZooKeeper was not checked: no connect string")
                .fix("Pass the brokers' zookeeper.connect value (e.g. --set zookeeper=zk1:2181,zk2:2181)."),
        ),
        Err(error) => Report::new("No ZooKeeper connect string given; the cluster's mode is unknown")
            .status(Status::Skipped)
            .finding(Finding::info("zookeeper.unchecked", "ZooKeeper was not checked").evidence("kafka.describe-quorum", error.reason())),
    }
}

/// Ask one server `ruok`, `srvr` and `mntr`; findings go into `report`.
fn check_server(host: &str, port: u16, params: &Params, report: &mut Report) -> Option<Server> {
    let address = format!("{host}:{port}");
    let ask = |word: &str| net::tcp_exchange(host, port, word, 64 * 1024, params.timeout_ms);
    let ruok = match ask("ruok") {
        Ok(answer) => answer,
        Err(error) => {
            report.push(
                Finding::fail(
                    "zookeeper.unchecked",
                    format!("ZooKeeper {address} could not be checked"),
                )
                .evidence("net.tcp-exchange", error.reason())
                .fix("Grant the step `net` access to the ZooKeeper servers."),
            );
            return None;
        }
    };
    if ruok.connect.outcome != ConnectOutcome::Connected {
        report.push(
            Finding::fail("zookeeper.down", format!("ZooKeeper {address} is not reachable ({:?})", ruok.connect.outcome))
                .cause(cause::ZOOKEEPER_DOWN)
                .evidence("net.tcp-exchange", format!("{address}: {}", ruok.connect.detail))
                .fix(format!(
                    "Start ZooKeeper on {host} (`systemctl start zookeeper`) and check that port {port} \
                     is open from the brokers."
                )),
        );
        return None;
    }
    if ruok.response.contains("not in the whitelist") || ruok.response.contains("not executed") {
        report.push(
            Finding::warn("zookeeper.4lw-disabled", format!("ZooKeeper {address} does not allow four-letter words"))
                .evidence("net.tcp-exchange", ruok.response.trim())
                .fix("Add `4lw.commands.whitelist=ruok,srvr,mntr` to zoo.cfg so that health can be checked."),
        );
        return Some(Server {
            address,
            mode: None,
        });
    }
    if ruok.response.trim() != "imok" {
        report.push(
            Finding::fail("zookeeper.not-ok", format!("ZooKeeper {address} is not serving: `ruok` got `{}`", ruok.response.trim()))
                .cause(cause::ZOOKEEPER_DOWN)
                .evidence("net.tcp-exchange", format!("ruok → {:?}", ruok.response))
                .fix("Read the ZooKeeper server's log; a server that does not answer imok is not serving requests."),
        );
        return None;
    }
    let srvr = ask("srvr").map(|a| a.response).unwrap_or_default();
    // `ruok` only says the process runs; a server without a quorum (or still starting)
    // answers `srvr` with this instead of its mode.
    if srvr.contains("not currently serving requests") {
        report.push(
            Finding::fail(
                "zookeeper.not-serving",
                format!("ZooKeeper {address} runs but is not serving requests"),
            )
            .cause(cause::ZOOKEEPER_NO_QUORUM)
            .evidence("net.tcp-exchange", format!("srvr → {}", srvr.trim()))
            .fix("It has not joined a quorum: start enough servers of the ensemble, and check that they reach each other on their quorum and election ports."),
        );
        return None;
    }
    let mntr = ask("mntr")
        .map(|a| parse_mntr(&a.response))
        .unwrap_or_default();
    let mode = srvr
        .lines()
        .find_map(|l| l.strip_prefix("Mode:"))
        .map(|m| m.trim().to_owned())
        .or_else(|| mntr.get("zk_server_state").cloned());
    let outstanding: u64 = mntr
        .get("zk_outstanding_requests")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if outstanding > params.max_outstanding {
        report.push(
            Finding::warn(
                "zookeeper.backlog",
                format!("ZooKeeper {address} has {outstanding} outstanding requests"),
            )
            .cause(cause::ZOOKEEPER_DEGRADED)
            .evidence(
                "net.tcp-exchange",
                format!("mntr: zk_outstanding_requests {outstanding}"),
            )
            .fix("ZooKeeper cannot keep up: check its disk (fsync latency) and GC pauses."),
        );
    }
    let latency: f64 = mntr
        .get("zk_avg_latency")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    if latency > params.max_avg_latency_ms {
        report.push(
            Finding::warn(
                "zookeeper.slow",
                format!("ZooKeeper {address} answers in {latency} ms on average"),
            )
            .cause(cause::ZOOKEEPER_DEGRADED)
            .evidence(
                "net.tcp-exchange",
                format!("mntr: zk_avg_latency {latency}"),
            )
            .fix("Put ZooKeeper's transaction log on a dedicated, fast disk; check for swapping."),
        );
    }
    Some(Server { address, mode })
}

/// `host:port,host:port/chroot` → servers (default port 2181).
fn parse_connect(connect: &str) -> Result<Vec<(String, u16)>, String> {
    let servers = connect.split('/').next().unwrap_or_default();
    servers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|server| match server.rsplit_once(':') {
            Some((host, port)) => port
                .parse()
                .map(|p| (host.to_owned(), p))
                .map_err(|_| format!("`{server}`: `{port}` is not a port")),
            None => Ok((server.to_owned(), 2181)),
        })
        .collect()
}

/// `mntr` answers `key<TAB>value` lines.
fn parse_mntr(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn modes(servers: &[Server]) -> String {
    servers
        .iter()
        .map(|s| format!("{} {}", s.address, s.mode.as_deref().unwrap_or("unknown")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_strings_with_chroot_and_default_port() {
        assert_eq!(
            parse_connect("zk1:2182,zk2/kafka").unwrap(),
            vec![("zk1".to_owned(), 2182), ("zk2".to_owned(), 2181)]
        );
        assert!(parse_connect("zk1:x").is_err());
    }

    #[test]
    fn mntr_lines_parse() {
        let parsed = parse_mntr("zk_version\t3.9.5\nzk_outstanding_requests\t0\n");
        assert_eq!(parsed["zk_outstanding_requests"], "0");
    }
}
