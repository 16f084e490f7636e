//! The plugin runtime: one wasmtime `Engine` per process, plugins compiled once (or loaded
//! from the on-disk cache) and pre-linked into an `InstancePre`, and a fresh `Store` per
//! step with its own deadline and memory budget.
//!
//! A fresh Store per step is not only hygiene: a trapped instance cannot be re-entered, and
//! steps must not see each other's memory. Instantiating from an `InstancePre` costs about
//! 25 µs, so isolation is cheap.
//!
//! The runtime returns [`RunOutcome`]s; it renders nothing. Every string in them that a
//! plugin wrote (its report, its `info()`, its reasons, its panic message) has been through
//! [`plugin_text`]: neutralised and bounded at this boundary, before anyone renders it.

mod bound;
mod cache;
mod contract;
mod limits;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, Trap, UpdateDeadline};

pub use self::bound::{Layout, plugin_text};
pub use self::cache::{CacheEvent, CompileCache};
pub use self::limits::{BACKSTOP, EPOCH_TICK, MAX_INSTANCES, MAX_MEMORIES, MAX_TABLES, MemoryCap};
use crate::hostfns::{NoEvents, StepEnv, StepState};
use crate::report::model::StepReport;
use crate::wit::{Check, CheckPre, PluginInfo, RunError};

/// Default memory cap of a step.
pub const DEFAULT_MEMORY_LIMIT: usize = 256 << 20;

/// How long `info()` may take; it should be instant.
const INFO_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a plugin cannot be loaded. Reported before anything runs.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// Not a WebAssembly binary at all.
    #[error("not a WebAssembly file (no `\\0asm` header)")]
    NotWasm,
    /// A core module, not a component.
    #[error(
        "a core WebAssembly module, not a component: build plugins with \
         `cargo build --target wasm32-wasip2` against triage-sdk"
    )]
    CoreModule,
    /// Built against another major version of the contract.
    #[error(
        "built for triage:plugin@{plugin}, but this triage runs triage:plugin@{host}: \
         rebuild the plugin against a matching triage-sdk"
    )]
    IncompatibleVersion {
        /// The version the plugin imports.
        plugin: String,
        /// The version this host implements.
        host: String,
    },
    /// A component that does not export the check functions.
    #[error(
        "does not export {}: is it a triage check plugin (world `check`)?",
        missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" and ")
    )]
    NotACheck {
        /// The missing export names.
        missing: Vec<String>,
    },
    /// Compilation or linking failed (imports this host does not provide, say).
    #[error("{0}")]
    Invalid(String),
    /// `info()` trapped or timed out.
    #[error("its info() failed: {0}")]
    Info(String),
}

/// Why the runtime itself could not start.
#[derive(Debug, thiserror::Error)]
#[error("could not start the WebAssembly runtime: {0}")]
pub struct EngineError(String);

impl EngineError {
    /// The async runtime (tokio) could not start.
    pub fn from_io(error: &std::io::Error) -> EngineError {
        EngineError(format!("starting the async runtime: {error}"))
    }
}

/// A loaded, pre-linked plugin, ready to be instantiated for each step.
#[derive(Clone)]
pub struct Plugin {
    pre: CheckPre<StepState>,
    /// What the plugin says about itself.
    pub info: PluginInfo,
    /// How the component was obtained.
    pub cache_event: CacheEvent,
}

/// The budget of one step.
#[derive(Debug, Clone, Copy)]
pub struct StepLimits {
    /// Wall-clock time for instantiation, `run` and every host call in it.
    pub timeout: Duration,
    /// Bytes of linear memory.
    pub memory: usize,
}

/// How a step's plugin call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// `run` returned a report (bounded).
    Completed(StepReport),
    /// `run` refused the step's params.
    InvalidParams(String),
    /// `run` gave up, with its reason.
    Failed(String),
    /// The plugin trapped (a panic, say); the text says how, with its stderr.
    Trapped(String),
    /// The step's deadline passed.
    TimedOut(Duration),
    /// The plugin tried to grow its memory beyond the cap.
    OutOfMemory {
        /// The cap.
        limit: usize,
        /// What it asked for.
        asked: usize,
    },
}

/// The engine, the linker with every host interface, and the compile cache.
pub struct Runtime {
    engine: Engine,
    linker: Linker<StepState>,
    cache: Option<CompileCache>,
    _ticker: limits::EpochTicker,
}

impl Runtime {
    /// Start the runtime. `cache_dir: None` compiles every plugin on each start.
    pub fn new(cache_dir: Option<PathBuf>) -> Result<Runtime, EngineError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        let engine = Engine::new(&config).map_err(|e| EngineError(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| EngineError(format!("linking WASI: {e:#}")))?;
        Check::add_to_linker::<_, HasSelf<_>>(&mut linker, |state: &mut StepState| state)
            .map_err(|e| EngineError(format!("linking host interfaces: {e:#}")))?;
        let cache = cache_dir.map(|dir| CompileCache::new(dir, &engine));
        let ticker = limits::EpochTicker::start(&engine);
        Ok(Runtime {
            engine,
            linker,
            cache,
            _ticker: ticker,
        })
    }

    /// The compile cache, if any.
    pub fn cache(&self) -> Option<&CompileCache> {
        self.cache.as_ref()
    }

    /// What the runtime has to tell the operator (a refused or tampered compile cache),
    /// each message once; the caller shows them.
    pub fn take_warnings(&self) -> Vec<String> {
        self.cache
            .as_ref()
            .map(CompileCache::take_warnings)
            .unwrap_or_default()
    }

    /// Check, compile (or load from cache), pre-link a plugin, and ask for its `info()`.
    pub async fn load(&self, wasm: &[u8]) -> Result<Plugin, PluginError> {
        contract::check_bytes(wasm)?;
        // Compile and link errors quote names the plugin chose (imports, exports, functions).
        let invalid = |e: wasmtime::Error| {
            PluginError::Invalid(plugin_text(&format!("{e:#}"), MAX_REASON, Layout::Flowed))
        };
        let (component, cache_event) = match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, wasm),
            None => Component::new(&self.engine, wasm).map(|c| (c, CacheEvent::Bypassed)),
        }
        .map_err(invalid)?;
        contract::check_component(&self.engine, &component)?;
        let instance_pre = self.linker.instantiate_pre(&component).map_err(invalid)?;
        let pre = CheckPre::new(instance_pre).map_err(invalid)?;
        let info = bound::bound_info(self.info(&pre).await?);
        Ok(Plugin {
            pre,
            info,
            cache_event,
        })
    }

    async fn info(&self, pre: &CheckPre<StepState>) -> Result<PluginInfo, PluginError> {
        let env = Arc::new(StepEnv {
            step_id: "info".into(),
            grant: Default::default(),
            deadline: Instant::now() + INFO_TIMEOUT,
            events: Arc::new(NoEvents),
            kafka: None,
            actions: Arc::new(crate::hostfns::ActionLog::new()),
        });
        let limits = StepLimits {
            timeout: INFO_TIMEOUT,
            memory: DEFAULT_MEMORY_LIMIT,
        };
        let mut store = self.store(env, limits);
        let call = async {
            let check = pre
                .instantiate_async(&mut store)
                .await
                .map_err(Failure::Instantiate)?;
            check.call_info(&mut store).await.map_err(Failure::Call)
        };
        match tokio::time::timeout(INFO_TIMEOUT, call).await {
            Ok(Ok(info)) => Ok(info),
            Ok(Err(failure)) => Err(PluginError::Info(
                match classify_failure(&failure, store.data(), INFO_TIMEOUT) {
                    RunOutcome::OutOfMemory { limit, asked } => format!(
                        "exceeded its memory budget: asked to hold {} MiB across its memories \
                         and tables, info() may use {} MiB",
                        asked >> 20,
                        limit >> 20
                    ),
                    RunOutcome::TimedOut(_) => "timed out".into(),
                    RunOutcome::Trapped(why)
                    | RunOutcome::Failed(why)
                    | RunOutcome::InvalidParams(why) => why,
                    RunOutcome::Completed(_) => "it failed".into(),
                },
            )),
            Err(_) => Err(PluginError::Info("timed out".into())),
        }
    }

    /// Run `plugin` for one step: fresh Store, instantiate, `run(params)`, drop.
    pub async fn run(
        &self,
        plugin: &Plugin,
        params_json: &str,
        env: StepEnv,
        limits: StepLimits,
    ) -> RunOutcome {
        let deadline = env.deadline;
        let mut store = self.store(Arc::new(env), limits);
        let call = async {
            let check = plugin
                .pre
                .instantiate_async(&mut store)
                .await
                .map_err(Failure::Instantiate)?;
            check
                .call_run(&mut store, params_json)
                .await
                .map_err(Failure::Call)
        };
        let outcome = tokio::time::timeout_at(deadline, call).await;
        store.data().report_dropped_log_lines();
        let reason = |why: &str| plugin_text(why, MAX_REASON, Layout::Line);
        match outcome {
            Ok(Ok(Ok(report))) => RunOutcome::Completed(bound::bound(report)),
            Ok(Ok(Err(RunError::InvalidParams(why)))) => RunOutcome::InvalidParams(reason(&why)),
            Ok(Ok(Err(RunError::Failed(why)))) => RunOutcome::Failed(reason(&why)),
            Ok(Err(failure)) => classify_failure(&failure, store.data(), limits.timeout),
            Err(_) => RunOutcome::TimedOut(limits.timeout),
        }
    }

    fn store(&self, env: Arc<StepEnv>, limits: StepLimits) -> Store<StepState> {
        let backstop = std::time::Instant::now() + limits.timeout + BACKSTOP;
        let mut store = Store::new(
            &self.engine,
            StepState::new(env, MemoryCap::new(limits.memory)),
        );
        store.limiter(|state| &mut state.memory);
        // Every Store needs an epoch deadline, or the guest traps at its first check.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if std::time::Instant::now() >= backstop {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store
    }
}

/// Bytes kept of a reason a plugin gives (`run-error`), or of a trap message that quotes
/// its stderr: one line of a report.
const MAX_REASON: usize = 2 * 1024;

/// Where a plugin call failed: instantiating it (before any of its code ran, so a resource
/// limit: too many instances, memories or tables), or in its own code.
enum Failure {
    Instantiate(wasmtime::Error),
    Call(wasmtime::Error),
}

/// Turn a failure into words an operator (or the plugin's author) can act on. The text
/// quotes the plugin (its stderr, the names in a backtrace), so it is plugin text.
fn classify_failure(failure: &Failure, state: &StepState, timeout: Duration) -> RunOutcome {
    if let Some(asked) = state.memory.refused {
        return RunOutcome::OutOfMemory {
            limit: state.memory.limit(),
            asked,
        };
    }
    let error = match failure {
        // A core start function is plugin code that can trap; anything else that stops an
        // instantiation the linker already accepted is a resource limit.
        Failure::Instantiate(error) if error.downcast_ref::<Trap>().is_none() => {
            return RunOutcome::Trapped(plugin_text(
                &format!(
                    "the plugin could not be instantiated within the step's limits (a step \
                     may create at most {MAX_INSTANCES} instances, {MAX_MEMORIES} memories and \
                     {MAX_TABLES} tables): {error:#}"
                ),
                MAX_REASON,
                Layout::Flowed,
            ));
        }
        Failure::Instantiate(error) | Failure::Call(error) => error,
    };
    let stderr = state.stderr_text();
    let what = match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => {
            return RunOutcome::TimedOut(timeout);
        }
        Some(Trap::UnreachableCodeReached) if !stderr.is_empty() => "the plugin panicked".into(),
        Some(trap) => format!("the plugin trapped: {trap}"),
        None => format!("the plugin failed: {error:#}"),
    };
    let text = if stderr.is_empty() {
        what
    } else {
        format!("{what}: {stderr}")
    };
    RunOutcome::Trapped(plugin_text(&text, MAX_REASON, Layout::Flowed))
}
