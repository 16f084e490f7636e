//! `broker-load`: is a broker too busy to answer the producer in time?
//!
//! - Always: the brokers' `num.io.threads` and `num.network.threads` (describe-configs).
//! - With `metrics_url` (a Prometheus JMX-exporter page, `http` grant): Kafka's own
//!   saturation gauges, `RequestHandlerAvgIdlePercent` (I/O threads) and
//!   `NetworkProcessorAvgIdlePercent` (network threads), against Kafka's guidance that idle
//!   should stay above 0.3; the finding names the saturated pool and the setting to raise.
//! - With `on_broker_host: true` (`sys` grant): CPU, memory, load per core, and the disk
//!   holding `log_dir`.
//!
//! Params: `metrics_url`, `on_broker_host` (default false), `log_dir`, `min_idle` (default
//! 0.3), `max_load_per_core` (default 1.5).

use serde::Deserialize;
use triage_sdk::kafka::{self, ConfigResource, ResourceKind};
use triage_sdk::{
    Check, Finding, HostError, PluginInfo, Report, RunError, cause, export_check, http, sys,
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

/// A thread pool whose idle ratio Kafka reports.
struct Pool {
    /// Substring of the exporter's metric name (lower case).
    metric: &'static str,
    /// How operators call it.
    name: &'static str,
    /// The broker setting that sizes it.
    setting: &'static str,
}

const POOLS: [Pool; 2] = [
    Pool {
        metric: "requesthandleravgidlepercent",
        name: "request handler (I/O) threads",
        setting: "num.io.threads",
    },
    Pool {
        metric: "networkprocessoravgidlepercent",
        name: "network processor threads",
        setting: "num.network.threads",
    },
];

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
            check_host(&params, log_dir.as_deref(), &mut report)
        } else {
            None
        };
        if let Some(url) = params.metrics_url.as_deref().filter(|u| !u.is_empty()) {
            check_metrics(url, params.min_idle, &threads, &mut report);
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
        let summary = match report
            .findings
            .iter()
            .filter(|f| f.severity != triage_sdk::Severity::Info)
            .count()
        {
            0 => "no sign of overload".to_owned(),
            n => format!("{n} sign{} of overload", if n == 1 { "" } else { "s" }),
        };
        Ok(report.summary(summary))
    }
}

export_check!(BrokerLoad);

/// The first live broker's thread pools and log directories.
#[derive(Default)]
struct BrokerSettings {
    threads: Option<(u32, u32)>,
    log_dirs: Option<String>,
}

/// `num.io.threads`, `num.network.threads` and `log.dirs` of the first live broker, in one
/// describe-configs call.
fn broker_settings(report: &mut Report) -> BrokerSettings {
    let Some(broker) = kafka::metadata(&[])
        .ok()
        .and_then(|c| c.brokers.first().map(|b| b.id))
    else {
        return BrokerSettings::default();
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
    let Some(entries) = kafka::describe_configs(&[resource], &keys)
        .ok()
        .and_then(|r| r.into_iter().next())
    else {
        return BrokerSettings::default();
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
    }
}

/// CPU, memory, load and disk of this (broker) host; returns the core count.
fn check_host(params: &Params, log_dir: Option<&str>, report: &mut Report) -> Option<u32> {
    let cpu = match sys::cpu_stats() {
        Ok(cpu) => cpu,
        Err(error) => {
            report.push(
                Finding::info("host.unchecked", "Host statistics unavailable")
                    .evidence("sys", error.reason()),
            );
            return None;
        }
    };
    report.push_fact("cpu_percent", format!("{:.0}", cpu.usage_percent));
    if let Ok(load) = sys::load_average() {
        let per_core = load.one / f64::from(cpu.cores.max(1));
        report.push_fact("load_per_core", format!("{per_core:.2}"));
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
            Ok(_) => {}
            Err(error) => report.push(
                Finding::info("disk.unchecked", format!("{dir}: disk usage unavailable"))
                    .evidence("sys.disk-usage-of", error.reason()),
            ),
        }
    }
    Some(cpu.cores)
}

/// Read the metrics page and judge each pool's idle ratio.
fn check_metrics(url: &str, min_idle: f64, threads: &Option<(u32, u32)>, report: &mut Report) {
    let page = match http::get(url, 8 << 20, 5_000) {
        Ok(page) if page.status == 200 => page,
        Ok(page) => {
            report.push(
                Finding::warn(
                    "metrics.unavailable",
                    format!("{url} answered HTTP {}", page.status),
                )
                .evidence("http.get", url),
            );
            return;
        }
        Err(HostError::Denied(why)) => {
            report.push(
                Finding::warn("metrics.denied", "The metrics page is not granted")
                    .evidence("http.get", why),
            );
            return;
        }
        Err(error) => {
            report.push(
                Finding::warn(
                    "metrics.unavailable",
                    format!("The metrics page {url} could not be read"),
                )
                .evidence("http.get", error.reason())
                .fix("Check the JMX exporter agent on the broker (and its port)."),
            );
            return;
        }
    };
    for (index, pool) in POOLS.iter().enumerate() {
        let Some((metric, idle)) = idle_ratio(&page.body, pool.metric) else {
            continue;
        };
        report.push_fact(format!("idle.{}", pool.setting), format!("{idle:.2}"));
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
            .evidence(format!("http.get {url}"), metric)
            .fix(format!(
                "Requests queue up behind busy {}: producers see request timeouts and, after \\
                 delivery.timeout.ms, expired records. Raise {}{now}, spread partition \\
                 leadership over more brokers, or find the client flooding this broker.",
                pool.name, pool.setting
            )),
        );
    }
}

/// The lowest idle ratio among the page's samples of `metric` (gauges or one-minute rates;
/// counters are skipped), normalised to 0..1, with the sample line as evidence.
fn idle_ratio(page: &str, metric: &str) -> Option<(String, f64)> {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let name = line.split(['{', ' ']).next()?.to_ascii_lowercase();
            if !name.contains(metric) || name.ends_with("_count") || name.ends_with("_total") {
                return None;
            }
            let rate_kind = ["meanrate", "fiveminuterate", "fifteenminuterate"];
            if rate_kind.iter().any(|k| name.ends_with(k)) {
                return None;
            }
            let value: f64 = line.rsplit(' ').next()?.parse().ok()?;
            let ratio = if value > 1.0 { value / 100.0 } else { value };
            Some((line.to_owned(), ratio))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_ratios_come_from_gauges_and_one_minute_rates_only() {
        let page = "\
# HELP kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_total counter
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_total 12345.0
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_oneminuterate 0.05
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent_meanrate 0.9
kafka_network_socketserver_networkprocessoravgidlepercent 0.82
";
        let (line, idle) = idle_ratio(page, POOLS[0].metric).unwrap();
        assert_eq!(idle, 0.05);
        assert!(line.ends_with("_oneminuterate 0.05"));
        assert_eq!(idle_ratio(page, POOLS[1].metric).unwrap().1, 0.82);
        assert_eq!(
            idle_ratio("kafka_x_networkprocessoravgidlepercent 45", POOLS[1].metric)
                .unwrap()
                .1,
            0.45
        );
        assert!(idle_ratio("", POOLS[0].metric).is_none());
    }
}
