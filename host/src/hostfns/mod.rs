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

pub use self::exec::{CommandError, CommandOutput, MAX_OUTPUT, run_command};
pub use self::kafka::topic_config_value;
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

/// One change a remediation asks for, as data: what the dry run shows, what the operator
/// confirms, and what the host itself carries out afterwards — never a string read back,
/// never the plugin run again (issue 7, item 3: an apply pass that re-ran the plugin let it
/// do what the confirmed plan did not show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run a granted command line (program and arguments, no shell).
    Exec {
        /// Program and arguments, exactly as granted.
        argv: Vec<String>,
        /// How long the command may take (the step's deadline still applies).
        timeout: std::time::Duration,
    },
    /// Set one topic config, leaving the others as they are (IncrementalAlterConfigs).
    AlterTopicConfig {
        /// The topic.
        topic: String,
        /// The config key.
        key: String,
        /// The new value.
        value: String,
        /// The value set on the topic when the plan was made (`None`: the default); the
        /// change is carried out only if it is still the same.
        previous: Option<String>,
    },
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Exec { argv, .. } => write!(f, "run `{}`", argv.join(" ")),
            Action::AlterTopicConfig {
                topic,
                key,
                value,
                previous,
            } => write!(
                f,
                "set {key}={value} on topic `{topic}` (was {})",
                previous.as_deref().unwrap_or("its default")
            ),
        }
    }
}

/// Most actions one remediation may plan: a plan is read and confirmed by a person, and a
/// remediation that needs more than a handful of changes should be several steps.
pub const MAX_ACTIONS: usize = 32;
/// Most bytes of action text (as shown) one plan may hold; keeps the confirmation prompt,
/// the summary and the report small whatever the plugin asks for.
pub const MAX_PLAN_BYTES: usize = 8 * 1024;

/// The changes one remediation step plans. Every `exec` and config change a plugin asks
/// for is checked against the grant, recorded here and answered `applied: false`; only the
/// host carries a plan out, after confirmation, and only a complete one.
///
/// Bounded (issue 7, item 10: twenty million recorded actions once took 2.4 GB): past
/// [`MAX_ACTIONS`] or [`MAX_PLAN_BYTES`] further actions are refused and counted, and the
/// plan is marked incomplete.
#[derive(Debug, Default)]
pub struct ActionLog {
    plan: std::sync::Mutex<Plan>,
}

/// What a dry run planned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The recorded actions, in order.
    pub actions: Vec<Action>,
    /// Bytes of action text recorded.
    pub bytes: usize,
    /// Actions asked for past the bounds, refused and not recorded.
    pub refused: u64,
}

impl Plan {
    /// Did the plugin get every action it asked for recorded?
    pub fn is_complete(&self) -> bool {
        self.refused == 0
    }

    /// The actions as the operator reads them: `run `a b`; set k=v on topic `t` (was 1)`.
    pub fn describe(&self) -> String {
        self.actions
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl ActionLog {
    /// An empty log.
    pub fn new() -> ActionLog {
        ActionLog::default()
    }

    /// Is there room for an action of `bytes` (as shown)? Asked before work the action
    /// needs (a config lookup), so that refused actions cost nothing. A refusal is
    /// counted; the text says why, for the plugin.
    pub fn room_for(&self, bytes: usize) -> Result<(), String> {
        Self::make_room(&mut self.plan.lock().expect("action log"), bytes)
    }

    /// Record `action` if there is room; otherwise refuse it (and count the refusal).
    pub fn record(&self, action: Action) -> Result<(), String> {
        let bytes = action.to_string().len();
        let mut plan = self.plan.lock().expect("action log");
        Self::make_room(&mut plan, bytes)?;
        plan.bytes += bytes;
        plan.actions.push(action);
        Ok(())
    }

    fn make_room(plan: &mut Plan, bytes: usize) -> Result<(), String> {
        if plan.actions.len() < MAX_ACTIONS && plan.bytes.saturating_add(bytes) <= MAX_PLAN_BYTES {
            return Ok(());
        }
        plan.refused += 1;
        Err(format!(
            "this remediation already plans {} actions ({} bytes); a plan holds at most \
             {MAX_ACTIONS} actions and {MAX_PLAN_BYTES} bytes, so this one was not recorded \
             and the plan will not be carried out: split the remediation into several steps",
            plan.actions.len(),
            plan.bytes
        ))
    }

    /// The plan so far.
    pub fn plan(&self) -> Plan {
        self.plan.lock().expect("action log").clone()
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
    /// What the step has logged so far: a step's log lines are bounded, not only each line.
    pub(crate) log_budget: log::LogBudget,
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
            log_budget: log::LogBudget::default(),
            env,
        }
    }

    /// The plugin's captured stderr, lossily decoded and trimmed. Plugin text: the caller
    /// neutralises it before showing it.
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
