//! The host side of each WIT interface, one file per interface.
//!
//! Every host function follows the same discipline: ask [`crate::caps`] first, then act
//! within the step's deadline, and turn every expected failure (denied, timed out, target
//! down, malformed request) into a `host-error` value. Nothing here traps on purpose: a trap
//! is reserved for a plugin that misbehaves.

mod exec;
mod files;
mod http;
mod kafka;
mod log;
mod net;
mod sys;

use std::future::Future;
use std::sync::Arc;

use tokio::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::caps::Grant;
use crate::runtime::MemoryCap;
use crate::wit::HostError;

pub use self::log::{LogLevel, truncate};

/// Receives what plugins say while they run (log lines, progress); the runner decides how to
/// show it. Implementations must be cheap: they are called from host functions.
pub trait StepEvents: Send + Sync {
    /// A log line from the plugin of step `step`.
    fn log(&self, step: &str, level: LogLevel, message: &str);
    /// The step's new progress message.
    fn progress(&self, step: &str, message: &str);
}

/// Discards everything; for `triage list` and benchmarks.
pub struct NoEvents;

impl StepEvents for NoEvents {
    fn log(&self, _: &str, _: LogLevel, _: &str) {}
    fn progress(&self, _: &str, _: &str) {}
}

/// What a step's host functions know: its grant, its deadline, where to send its messages.
/// Not the schedule, not the other steps.
pub struct StepEnv {
    /// The step id, for messages.
    pub step_id: String,
    /// What the step may touch.
    pub grant: Grant,
    /// When the step's time is up; host calls stop waiting at this instant.
    pub deadline: Instant,
    /// Where log lines and progress go.
    pub events: Arc<dyn StepEvents>,
    /// The run's Kafka clients, when the run has a Kafka connection.
    pub kafka: Option<Arc<crate::kafka::KafkaConnection>>,
    /// Changes the step makes (or, in a dry run, would make).
    pub actions: Arc<ActionLog>,
}

/// The changes one step makes: every `exec` and config change is recorded here, and is
/// only carried out when the run was started with `--apply`.
#[derive(Debug, Default)]
pub struct ActionLog {
    apply: bool,
    recorded: std::sync::Mutex<Vec<String>>,
}

impl ActionLog {
    /// A log for a dry run (`apply: false`) or a real one.
    pub fn new(apply: bool) -> ActionLog {
        ActionLog {
            apply,
            recorded: Default::default(),
        }
    }

    /// Record `action`; returns whether to carry it out.
    pub fn record(&self, action: String) -> bool {
        self.recorded.lock().expect("action log").push(action);
        self.apply
    }

    /// What was recorded, in order.
    pub fn recorded(&self) -> Vec<String> {
        self.recorded.lock().expect("action log").clone()
    }
}

/// The data of one step's Store.
pub struct StepState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The memory cap, consulted by wasmtime on every `memory.grow`.
    pub(crate) memory: MemoryCap,
    /// What the guest wrote to stderr (a panic message, typically), bounded.
    pub(crate) stderr: MemoryOutputPipe,
    pub(crate) env: Arc<StepEnv>,
}

/// Bytes of a plugin's stderr kept for its error message.
const STDERR_CAPTURE_BYTES: usize = 16 * 1024;

impl StepState {
    /// A fresh state for one step.
    ///
    /// The WASI context exists only because `wit-bindgen` guests import `wasi:*` for their
    /// standard library; it grants nothing: no preopened directories, no environment, no
    /// arguments, no stdin, no sockets (TCP, UDP and name lookup off, every address denied).
    /// stderr goes to a bounded in-memory pipe so that a panicking plugin's message reaches
    /// the report.
    pub fn new(env: Arc<StepEnv>, memory: MemoryCap) -> StepState {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        StepState {
            wasi,
            table: ResourceTable::new(),
            memory,
            stderr,
            env,
        }
    }

    /// The plugin's captured stderr, lossily decoded and trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_owned()
    }

    /// When the step's time is up.
    fn deadline(&self) -> Instant {
        self.env.deadline
    }
}

/// Run `work` unless `deadline` passes first. (A free function: holding `&StepState` across
/// an await would make host futures non-`Send`.)
async fn before<T>(
    deadline: Instant,
    work: impl Future<Output = Result<T, HostError>>,
) -> Result<T, HostError> {
    tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or(Err(HostError::Timeout))
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl crate::wit::triage::plugin::types::Host for StepState {}

/// Run blocking work (file scans, system stats) off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HostError> + Send + 'static,
) -> Result<T, HostError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(HostError::Unavailable(format!("host task failed: {e}"))))
}
