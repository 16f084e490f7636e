//! Write check plugins for `triage`.
//!
//! A check plugin is a WebAssembly component that `triage` runs in a sandbox as one step of a
//! playbook. It receives the step's parameters, asks the host questions through typed host
//! calls (resolve a name, connect to a port, grep a log, read the load average), and returns a
//! [`Report`]: a verdict, findings with evidence and fixes, and facts for later steps.
//!
//! An author implements one trait, [`Check`], and calls one macro, [`export_check!`]:
//!
//! ```no_run
//! use triage_sdk::{Check, Finding, PluginInfo, Report, RunError, export_check, net};
//!
//! #[derive(serde::Deserialize)]
//! struct Params { host: String, port: u16 }
//!
//! struct PortOpen;
//!
//! impl Check for PortOpen {
//!     type Params = Params;
//!     fn info() -> PluginInfo {
//!         PluginInfo::new("port-open", "Is a TCP port open?").param("host", "Host name", true)
//!             .param("port", "TCP port", true).needs("net")
//!     }
//!     fn run(p: Params) -> Result<Report, RunError> {
//!         let c = net::tcp_connect(&p.host, p.port, 2_000)?;
//!         Ok(match c.outcome {
//!             net::ConnectOutcome::Connected => Report::new(format!("{}:{} is open", p.host, p.port)),
//!             other => Report::new("port closed").finding(
//!                 Finding::fail("port.closed", format!("{}:{} {other:?}", p.host, p.port)),
//!             ),
//!         })
//!     }
//! }
//!
//! export_check!(PortOpen);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` and point a playbook step at the
//! `.wasm` file (`plugin: "./port_open.wasm"`) or run `triage --plugin-dir DIR`.
//!
//! # Layout
//!
//! - [`Check`] and [`export_check!`]: what an author writes.
//! - [`Report`], [`Finding`], [`Evidence`], [`PluginInfo`]: the result types, with builders.
//! - [`cause`]: the catalog of cause keys the host ranks findings by.
//! - [`log`], [`net`], [`files`], [`sys`], [`kafka`], [`http`], [`exec`]: host calls. Each returns `Result<_, HostError>`;
//!   a denied, timed-out or unavailable call is a value to turn into a finding, never a crash.
//!
//! The WIT bindings are generated in a private module; this crate re-exports an explicit list,
//! so the plugin API changes only when we mean it to.

// `wit_bindgen::generate!` and the export macro refer to this crate by name; this makes the
// name resolve inside the crate itself too.
extern crate self as triage_sdk;

/// The catalog of cause keys. Defined once in `triage-knowledge` (shared with the host and the
/// signature catalogue) and re-exported here, so `triage_sdk::cause::BROKER_DOWN` keeps working.
pub use triage_knowledge::cause;
pub mod min_isr;
mod report;

pub use report::IntoEvidence;

/// The version of the WIT contract (`triage:plugin`) this SDK builds plugins against.
///
/// The host compares it with its own before instantiating a plugin.
pub const WIT_VERSION: &str = "0.1.0";

#[doc(hidden)]
pub mod __private {
    //! Support for [`export_check!`](crate::export_check). Not part of the public API.

    pub use serde_json;
    pub use wit_bindgen;

    #[allow(missing_docs, unsafe_code)]
    pub mod wit {
        wit_bindgen::generate!({
            world: "check",
            path: "wit",
            pub_export_macro: true,
            export_macro_name: "__export_check_world",
            default_bindings_module: "::triage_sdk::__private::wit",
            runtime_path: "::triage_sdk::__private::wit_bindgen::rt",
        });
    }

    use crate::{Check, PluginInfo, Report, RunError};

    /// `info` as exported: fills in the plugin crate's version when the author left it out.
    pub fn info<C: Check>(crate_version: &str) -> PluginInfo {
        let mut info = C::info();
        if info.version.is_empty() {
            info.version = crate_version.to_owned();
        }
        info
    }

    /// `run` as exported: decodes the params, then hands over to the author's code.
    pub fn run<C: Check>(params_json: &str) -> Result<Report, RunError> {
        let params: C::Params = serde_json::from_str(params_json)
            .map_err(|e| RunError::InvalidParams(e.to_string()))?;
        C::run(params)
    }
}

use __private::wit::triage::plugin as wit;

pub use wit::types::{
    Evidence, Finding, HostError, Param, PluginInfo, Report, RunError, Severity, Status,
};

/// A check: what a plugin does when its step runs.
///
/// `Params` is decoded from the step's `with` map (inputs already substituted). Use
/// `#[serde(default)]` for optional parameters and declare every parameter in [`Check::info`]
/// so that `triage validate` can catch a misspelt one before anything runs.
///
/// ```
/// use triage_sdk::{Check, PluginInfo, Report, RunError};
///
/// struct AlwaysFine;
///
/// impl Check for AlwaysFine {
///     type Params = serde_json::Value;
///     fn info() -> PluginInfo {
///         PluginInfo::new("always-fine", "Passes, always")
///     }
///     fn run(_: Self::Params) -> Result<Report, RunError> {
///         Ok(Report::new("all good"))
///     }
/// }
/// ```
pub trait Check {
    /// The step's parameters.
    type Params: serde::de::DeserializeOwned;

    /// Name, description, parameters and the capabilities the plugin needs.
    fn info() -> PluginInfo;

    /// Run the check. Problems found are findings in the returned [`Report`]; return `Err`
    /// only when the check cannot judge at all.
    fn run(params: Self::Params) -> Result<Report, RunError>;
}

/// Export a [`Check`] implementation as the plugin's component exports.
///
/// Call it once, at the crate root of a `cdylib` crate:
///
/// ```no_run
/// # use triage_sdk::{Check, PluginInfo, Report, RunError};
/// # struct MyCheck;
/// # impl Check for MyCheck {
/// #     type Params = serde_json::Value;
/// #     fn info() -> PluginInfo { PluginInfo::new("my-check", "An example") }
/// #     fn run(_: Self::Params) -> Result<Report, RunError> { Ok(Report::new("ok")) }
/// # }
/// triage_sdk::export_check!(MyCheck);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_check {
    ($check:ty) => {
        #[doc(hidden)]
        struct __TriageExport;

        impl $crate::__private::wit::Guest for __TriageExport {
            fn info() -> $crate::PluginInfo {
                $crate::__private::info::<$check>(env!("CARGO_PKG_VERSION"))
            }

            fn run(params_json: String) -> Result<$crate::Report, $crate::RunError> {
                $crate::__private::run::<$check>(&params_json)
            }
        }

        $crate::__private::wit::__export_check_world!(__TriageExport with_types_in $crate::__private::wit);
    };
}

/// Messages to the operator while the check runs.
///
/// ```no_run
/// triage_sdk::log::progress("scanning /var/log/kafka");
/// triage_sdk::log::warn("server.log is 3 GB; scanning the first 512 MB");
/// ```
pub mod log {
    pub use super::wit::log::progress;
    use super::wit::log::{Level, log};

    /// Detail for `triage run -vv`.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }

    /// Shown with `triage run -v`.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Always shown.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// Always shown.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}

/// Name resolution and TCP reachability. Needs a `net` grant covering the `host:port`.
///
/// ```no_run
/// use triage_sdk::net::{self, ConnectOutcome};
///
/// match net::tcp_connect("broker-1", 9092, 3_000) {
///     Ok(c) if c.outcome == ConnectOutcome::Connected => {}
///     Ok(c) => println!("{}:{} {:?}: {}", c.host, c.port, c.outcome, c.detail),
///     Err(e) => println!("not allowed or invalid: {e}"),
/// }
/// ```
pub mod net {
    pub use super::wit::net::{
        ConnectOutcome, ConnectResult, ExchangeResult, HandshakeResult, Resolved, kafka_handshake,
        resolve, tcp_connect, tcp_exchange,
    };
}

/// The Kafka cluster the run is connected to, through the host's clients. Needs
/// `kafka: Read`. Connection settings and credentials stay in the host.
///
/// ```no_run
/// use triage_sdk::kafka;
///
/// match kafka::metadata(&[]) {
///     Ok(cluster) => println!("{} brokers", cluster.brokers.len()),
///     Err(error) => println!("cluster unavailable: {}", error.reason()),
/// }
/// ```
pub mod kafka {
    use crate::{Finding, HostError, Report, cause};

    /// The report of a check that could not reach the cluster at all: a `fail` saying that
    /// no broker answered (cause [`cause::KAFKA_UNREACHABLE`]), with the host's own words as
    /// evidence. It says nothing about whether the brokers are up: a misspelt bootstrap
    /// host looks exactly the same from here.
    pub fn unavailable_report(call: &str, error: &HostError) -> Report {
        Report::new(format!("Kafka unavailable: {}", error.reason()))
            .finding(
                Finding::fail(
                    "kafka.unavailable",
                    "No broker answered at the bootstrap servers: the cluster could not be checked from here",
                )
                .cause(cause::KAFKA_UNREACHABLE)
                .evidence(format!("kafka.{call}"), error.reason())
                .fix(
                    "Check the bootstrap servers first: do they resolve, and does \
                     `kafka-broker-api-versions.sh --bootstrap-server HOST:PORT` answer from \
                     this host? Then check that the brokers are running.",
                ),
            )
            .fact("reachable", false)
    }

    pub use super::wit::kafka::{
        AlterResult, Broker, BrokerLogDirs, Cluster, ConfigEntry, ConfigResource, ConfigResult,
        DeliveryFailure, LogDir, Partition, ProbeRequest, ProbeResult, Quorum, ResourceKind,
        ShapedOutcome, ShapedRecord, Topic, Voter, alter_topic_config, describe_configs,
        describe_log_dirs, describe_quorum, metadata, produce_probe,
    };
}

/// HTTP GET of granted URLs (e.g. a Prometheus metrics page). Needs `http: ["URL prefix"]`.
///
/// ```no_run
/// let page = triage_sdk::http::get("http://broker-1:7071/metrics", 1 << 20, 3_000);
/// ```
pub mod http {
    pub use super::wit::http::{Response, get};
}

/// Plan a granted command (remediation steps only): the host records it, and runs exactly
/// the planned commands itself after `triage run --apply` and a confirmation.
///
/// ```no_run
/// let result = triage_sdk::exec::run(&["systemctl".into(), "restart".into(), "kafka".into()], 60_000);
/// ```
pub mod exec {
    pub use super::wit::exec::{ExecResult, run};
}

/// Read-only access to granted files; scanning runs host-side.
///
/// ```no_run
/// use triage_sdk::files::{self, GrepRequest, Pattern};
///
/// let result = files::grep(&GrepRequest {
///     path: "/var/log/kafka/server.log".into(),
///     patterns: vec![Pattern { name: "isr-shrink".into(), regex: "Shrinking ISR".into() }],
///     case_insensitive: false,
///     context: 0,
///     max_examples: 3,
///     max_bytes: 0,
/// });
/// ```
pub mod files {
    pub use super::wit::files::{
        FileContent, GrepRequest, GrepResult, MatchLine, Pattern, PatternHits, grep, read,
    };
}

/// CPU, memory, load, disk and processes of the machine `triage` runs on. Needs `sys: true`.
///
/// ```no_run
/// let load = triage_sdk::sys::load_average();
/// ```
pub mod sys {
    pub use super::wit::sys::{
        Cpu, DiskUsage, Load, Memory, Process, cpu_stats, disk_usage_of, load_average,
        memory_stats, processes_named,
    };
}
