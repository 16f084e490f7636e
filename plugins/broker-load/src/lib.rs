//! `broker-load`: is a broker too busy to answer the producer in time?
//!
//! - Always: the brokers' `num.io.threads` and `num.network.threads` (describe-configs),
//!   to name the setting to raise. Settings are context, not a load measurement.
//! - With `metrics_url` (a Prometheus JMX-exporter page, `http` grant): Kafka's own
//!   saturation gauges, `RequestHandlerAvgIdlePercent` (I/O threads) and
//!   `NetworkProcessorAvgIdlePercent` (network threads), against Kafka's guidance that idle
//!   should stay above 0.3; the finding names the saturated pool and the setting to raise.
//!   The page is parsed per the exposition format ([`exposition`]); which names carry the
//!   ratios is in [`idle`].
//! - With `on_broker_host: true` (`sys` grant): CPU, memory, load per core, and the disk
//!   holding `log_dir`.
//!
//! **No PASS without evidence** (issue 7: this step passed, "no sign of overload", with no
//! reachable cluster and a metrics page that had no idle metrics): the summary lists what
//! was measured and what could not be, and a run that measured nothing ends `skipped` with
//! the reasons. A metrics page that was asked for but could not be read is a warning.
//!
//! Params: `metrics_url`, `on_broker_host` (default false), `log_dir`, `min_idle` (default
//! 0.3), `max_load_per_core` (default 1.5).

mod exposition;
mod idle;

use serde::Deserialize;
use triage_sdk::kafka::{self, ConfigResource, ResourceKind};
use triage_sdk::{
    Check, Finding, HostError, PluginInfo, Report, RunError, Status, cause, export_check, http, sys,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    metrics_url: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    on_broker_host: bool,
    #[serde(default)]
    log_dir: Option<String>,
    #[serde(default = "default_min_idle")]
    min_idle: f64,
    #[serde(default = "default_max_load")]
    max_load_per_core: f64,
}

/// A flag given as a boolean, or as text from a playbook input (`"true"`, `"false"`, `""`).
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Flag::deserialize(deserializer)? {
        Flag::Bool(value) => Ok(value),
        Flag::Text(text) => match text.trim() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "`{other}` is not true or false"
            ))),
        },
    }
}

fn default_min_idle() -> f64 {
    0.3
}
fn default_max_load() -> f64 {
    1.5
}

/// What a run measured and what it could not, for the summary and the verdict.
#[derive(Default)]
struct Coverage {
    /// Measurements made ("request handler idle 0.82").
    measured: Vec<String>,
    /// What could not be measured, each with its reason.
    unmeasured: Vec<String>,
}

struct BrokerLoad;

impl Check for BrokerLoad {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "broker-load",
            "Broker overload: handler and network idle ratios, thread pools, CPU, memory, load, disk",
        )
        .param("metrics_url", "A broker's Prometheus (JMX exporter) metrics page", false)
        .param("on_broker_host", "triage runs on a broker: also check CPU, memory, load, disk", false)
        .param("log_dir", "The broker's log directory, for its disk usage", false)
        .param("min_idle", "Idle ratio below which a pool is saturated (default 0.3)", false)
        .param("max_load_per_core", "Load average per core tolerated (default 1.5)", false)
        .needs("kafka")
        .needs("http")
        .needs("sys")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let mut report = Report::new("");
        let mut coverage = Coverage::default();
        let broker = broker_settings(&mut report);
        let threads = broker.threads;
        // The disk to watch: the given directory, else the broker's first log.dirs entry.
        let log_dir = params
            .log_dir
            .clone()
            .filter(|d| !d.is_empty())
            .or_else(|| {
                broker
                    .log_dirs
                    .and_then(|d| d.split(',').next().map(str::to_owned))
            });
        let cores = if params.on_broker_host {
            check_host(&params, log_dir.as_deref(), &mut report, &mut coverage)
        } else {
            coverage
                .unmeasured
                .push("host CPU, memory and disk (on_broker_host is false)".into());
            None
        };
        match params
            .metrics_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            Some(url) => check_metrics(url, params.min_idle, &threads, &mut report, &mut coverage),
            None => coverage
                .unmeasured
                .push("thread-pool idle ratios (no metrics_url given)".into()),
        }
        if let (Some(cores), Some((io, network))) = (cores, threads) {
            report.push_fact("cores", cores);
            if io + network > cores * 4 {
                report.push(
                    Finding::info(
                        "threads.oversubscribed",
                        format!("{io} I/O + {network} network threads on {cores} cores"),
                    )
                    .evidence(
                        "kafka.describe-configs",
                        format!("num.io.threads={io}, num.network.threads={network}"),
                    ),
                );
            }
        }
        Ok(verdict(report, &coverage, broker.unavailable.as_deref()))
    }
}

export_check!(BrokerLoad);

/// The summary and status from what was found and what was measured: nothing measured is
/// `skipped` with the reasons, never a pass.
fn verdict(report: Report, coverage: &Coverage, settings_unavailable: Option<&str>) -> Report {
    let mut unmeasured = coverage.unmeasured.clone();
    if let Some(why) = settings_unavailable {
        unmeasured.push(format!("thread-pool settings ({why})"));
    }
    let not_measured = if unmeasured.is_empty() {
        String::new()
    } else {
        format!("; not measured: {}", unmeasured.join("; "))
    };
    if coverage.measured.is_empty() {
        return report
            .status(Status::Skipped)
            .summary(format!("could not check broker load{not_measured}"));
    }
    // Signs of overload are the findings with a cause; a warning that something could not
    // be read is not one.
    let signs = report
        .findings
        .iter()
        .filter(|f| f.cause.is_some() && f.severity != triage_sdk::Severity::Info)
        .count();
    let verdict = match signs {
        0 => "no sign of overload".to_owned(),
        n => format!("{n} sign{} of overload", if n == 1 { "" } else { "s" }),
    };
    let summary = format!(
        "{verdict} (measured: {}{not_measured})",
        coverage.measured.join(", ")
    );
    report.summary(summary)
}

/// The first live broker's thread pools and log directories.
#[derive(Default)]
struct BrokerSettings {
    threads: Option<(u32, u32)>,
    log_dirs: Option<String>,
    /// Why the settings could not be read, if they could not.
    unavailable: Option<String>,
}

/// `num.io.threads`, `num.network.threads` and `log.dirs` of the first live broker, in one
/// describe-configs call.
fn broker_settings(report: &mut Report) -> BrokerSettings {
    let unavailable = |why: String| BrokerSettings {
        unavailable: Some(why),
        ..BrokerSettings::default()
    };
    let broker = match kafka::metadata(&[]) {
        Ok(cluster) => match cluster.brokers.first() {
            Some(broker) => broker.id,
            None => return unavailable("the cluster lists no broker".into()),
        },
        Err(error) => return unavailable(format!("kafka.metadata {}", error.reason())),
    };
    let resource = ConfigResource {
        kind: ResourceKind::Broker,
        name: broker.to_string(),
    };
    let keys: Vec<String> = [
        "num.io.threads",
        "num.network.threads",
        "log.dirs",
        "log.dir",
    ]
    .map(str::to_owned)
    .to_vec();
    let entries = match kafka::describe_configs(&[resource], &keys) {
        Ok(resources) => match resources.into_iter().next() {
            Some(entries) => entries,
            None => return unavailable(format!("broker {broker} returned no configs")),
        },
        Err(error) => return unavailable(format!("kafka.describe-configs {}", error.reason())),
    };
    let value = |key: &str| {
        entries
            .entries
            .iter()
            .find(|e| e.name == key)
            .and_then(|e| e.value.clone())
    };
    let number = |key: &str| value(key).and_then(|v| v.parse::<u32>().ok());
    let threads = number("num.io.threads").zip(number("num.network.threads"));
    if let Some((io, network)) = threads {
        report.push_fact("num.io.threads", io);
        report.push_fact("num.network.threads", network);
    }
    BrokerSettings {
        threads,
        log_dirs: value("log.dirs").or_else(|| value("log.dir")),
        unavailable: None,
    }
}

/// CPU, memory, load and disk of this (broker) host; returns the core count.
fn check_host(
    params: &Params,
    log_dir: Option<&str>,
    report: &mut Report,
    coverage: &mut Coverage,
) -> Option<u32> {
    let cpu = match sys::cpu_stats() {
        Ok(cpu) => cpu,
        Err(error) => {
            report.push(
                Finding::info("host.unchecked", "Host statistics unavailable")
                    .evidence("sys.cpu-stats", error.reason()),
            );
            coverage
                .unmeasured
                .push(format!("host statistics ({})", error.reason()));
            return None;
        }
    };
    report.push_fact("cpu_percent", format!("{:.0}", cpu.usage_percent));
    coverage.measured.push(format!(
        "CPU {:.0}% on {} cores",
        cpu.usage_percent, cpu.cores
    ));
    if let Ok(load) = sys::load_average() {
        let per_core = load.one / f64::from(cpu.cores.max(1));
        report.push_fact("load_per_core", format!("{per_core:.2}"));
        coverage
            .measured
            .push(format!("load {per_core:.2} per core"));
        if per_core > params.max_load_per_core {
            report.push(
                Finding::warn("host.load", format!("Load average {:.1} on {} cores ({per_core:.1} per core)", load.one, cpu.cores))
                    .cause(cause::BROKER_OVERLOADED)
                    .evidence("sys.load-average", format!("1m {:.2}, 5m {:.2}, 15m {:.2}", load.one, load.five, load.fifteen))
                    .fix("The broker host is overloaded: find what else runs there, or move partitions/leaders to other brokers."),
            );
        }
    }
    if let Ok(memory) = sys::memory_stats()
        && memory.total_bytes > 0
    {
        let available = memory.available_bytes as f64 / memory.total_bytes as f64;
        coverage
            .measured
            .push(format!("{:.0}% of memory available", available * 100.0));
        if available < 0.05 {
            report.push(
                Finding::warn("host.memory", format!("Only {:.0}% of memory available", available * 100.0))
                    .cause(cause::BROKER_OVERLOADED)
                    .evidence("sys.memory-stats", format!("{} of {} MiB available", memory.available_bytes >> 20, memory.total_bytes >> 20))
                    .fix("Memory pressure evicts the page cache Kafka reads from: reduce other processes or add memory."),
            );
        }
    }
    if let Some(dir) = log_dir {
        match sys::disk_usage_of(dir) {
            Ok(disk) if disk.total_bytes > 0 => {
                let free = disk.available_bytes as f64 / disk.total_bytes as f64;
                report.push_fact("log_dir_free_percent", format!("{:.0}", free * 100.0));
                coverage
                    .measured
                    .push(format!("{dir} {:.0}% free", free * 100.0));
                if free < 0.10 {
                    let finding = if free < 0.02 {
                        Finding::fail("disk.full", format!("{dir} is full"))
                    } else {
                        Finding::warn("disk.low", format!("{dir} has {:.0}% free", free * 100.0))
                    };
                    report.push(
                        finding
                            .cause(cause::BROKER_DISK_FULL)
                            .evidence("sys.disk-usage-of", format!("{} of {} MiB free on {}", disk.available_bytes >> 20, disk.total_bytes >> 20, disk.mount_point))
                            .fix("A full log directory takes the broker offline: lower retention, delete old segments, or add disk."),
                    );
                }
            }
            Ok(_) => coverage
                .unmeasured
                .push(format!("disk of {dir} (it reports a size of 0)")),
            Err(error) => {
                coverage
                    .unmeasured
                    .push(format!("disk of {dir} ({})", error.reason()));
                report.push(
                    Finding::info("disk.unchecked", format!("{dir}: disk usage unavailable"))
                        .evidence("sys.disk-usage-of", error.reason()),
                )
            }
        }
    }
    Some(cpu.cores)
}

/// Read the metrics page and judge each pool's idle ratio.
fn check_metrics(
    url: &str,
    min_idle: f64,
    threads: &Option<(u32, u32)>,
    report: &mut Report,
    coverage: &mut Coverage,
) {
    let unreadable = |report: &mut Report, coverage: &mut Coverage, title: String, why: String| {
        coverage
            .unmeasured
            .push(format!("thread-pool idle ratios ({title})"));
        report.push(
            Finding::warn("metrics.unreadable", title)
                .evidence(format!("http.get {url}"), why)
                .fix(
                    "Check the JMX exporter agent on the broker, its port, and that its rules \
                     export kafka.server:type=KafkaRequestHandlerPool,name=RequestHandlerAvgIdlePercent \
                     and kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent \
                     (the exporter's example Kafka config does).",
                ),
        );
    };
    let page = match http::get(url, 8 << 20, 5_000) {
        Ok(page) if page.status == 200 => page,
        Ok(page) => {
            let title = format!("{url} answered HTTP {}", page.status);
            return unreadable(report, coverage, title, format!("HTTP {}", page.status));
        }
        Err(error @ HostError::Denied(_)) => {
            let title = "the metrics page is not granted to this step".to_owned();
            return unreadable(report, coverage, title, error.reason());
        }
        Err(error) => {
            let title = format!("the metrics page {url} could not be read");
            return unreadable(report, coverage, title, error.reason());
        }
    };
    if page.truncated {
        let title = format!("{url} is larger than 8 MiB");
        return unreadable(report, coverage, title, "the body was cut at 8 MiB".into());
    }
    let exposition = exposition::parse(&page.body);
    for (index, pool) in idle::POOLS.iter().enumerate() {
        let (idle, attribute, sample) = match pool.read(&exposition) {
            idle::Reading::Idle {
                idle,
                attribute,
                sample,
            } => (idle, attribute, sample),
            idle::Reading::Unreadable(why) => {
                let title = format!("the {} idle ratio on {url} could not be read", pool.name);
                unreadable(report, coverage, title, why);
                continue;
            }
            idle::Reading::Absent => {
                let title = format!("{url} has no idle ratio for the {}", pool.name);
                let why = format!(
                    "{} samples on the page, none of them the pool's idle metric",
                    exposition.samples.len()
                );
                unreadable(report, coverage, title, why);
                continue;
            }
        };
        report.push_fact(format!("idle.{}", pool.setting), format!("{idle:.2}"));
        coverage
            .measured
            .push(format!("{} idle {idle:.2}", pool.name));
        if idle >= min_idle {
            continue;
        }
        let current = threads.map(|(io, network)| if index == 0 { io } else { network });
        let now = current.map(|n| format!(" (now {n})")).unwrap_or_default();
        report.push(
            Finding::fail(
                format!("overload.{}", pool.setting),
                format!("The broker's {} are saturated: idle {idle:.2}, below Kafka's guidance of {min_idle}", pool.name),
            )
            .cause(cause::BROKER_OVERLOADED)
            .evidence(
                format!("http.get {url} line {}", sample.line),
                format!("{} = {} ({})", sample.name, sample.value, attribute.note()),
            )
            .fix(format!(
                "Requests queue up behind busy {}: producers see request timeouts and, after \
                 delivery.timeout.ms, expired records. Raise {}{now}, spread partition \
                 leadership over more brokers, or find the client flooding this broker.",
                pool.name, pool.setting
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_of(coverage: &Coverage) -> Report {
        verdict(
            Report::new(""),
            coverage,
            Some("kafka.metadata unavailable: no broker"),
        )
    }

    #[test]
    fn measuring_nothing_is_skipped_with_the_reasons_never_a_pass() {
        let coverage = Coverage {
            measured: vec![],
            unmeasured: vec!["thread-pool idle ratios (no metrics_url given)".into()],
        };
        let report = report_of(&coverage);
        assert_eq!(report.status, Status::Skipped);
        assert!(
            report.summary.contains("could not check broker load"),
            "{}",
            report.summary
        );
        assert!(
            report.summary.contains("no metrics_url given"),
            "{}",
            report.summary
        );
        assert!(
            report.summary.contains("kafka.metadata unavailable"),
            "{}",
            report.summary
        );
    }

    #[test]
    fn a_pass_names_what_it_measured_and_what_it_could_not() {
        let coverage = Coverage {
            measured: vec!["network processor threads idle 0.71".into()],
            unmeasured: vec!["host CPU, memory and disk (on_broker_host is false)".into()],
        };
        let report = report_of(&coverage);
        assert_eq!(report.status, Status::Pass);
        assert!(
            report.summary.starts_with("no sign of overload (measured: network processor threads idle 0.71; not measured: host CPU"),
            "{}",
            report.summary
        );
    }
}
