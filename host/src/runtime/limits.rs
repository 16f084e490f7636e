//! Per-step budgets: a wall-clock deadline and a memory cap.
//!
//! The deadline is enforced twice. The primary mechanism is cooperative: the engine's epoch
//! advances every [`EPOCH_TICK`], a guest yields to tokio at every tick, and the runner's
//! `timeout_at` drops the call at the deadline. The backstop is a trap: if a guest is still
//! running [`BACKSTOP`] after its deadline (the future kept being polled), the epoch callback
//! interrupts it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{Engine, ResourceLimiter};

/// How often the epoch advances; also the granularity of deadline checks in guest code.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How long past its deadline a guest may run before it is trapped.
pub const BACKSTOP: Duration = Duration::from_millis(500);

/// Advances the engine's epoch on a background thread until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Start ticking `engine`.
    pub fn start(engine: &Engine) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("triage-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("spawning the epoch thread");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A step's memory cap.
///
/// This is wasmtime's `StoreLimits` with `trap_on_grow_failure(true)`, plus a record of the
/// refusal: a guest that hits the cap traps, and the runner can then say "memory limit"
/// rather than repeat a generic trap message.
#[derive(Debug, Clone)]
pub struct MemoryCap {
    limit: usize,
    /// The size a guest asked for when it was refused, if it was.
    pub refused: Option<usize>,
}

/// Most table elements a step may allocate; generous for any real plugin.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

impl MemoryCap {
    /// A cap of `limit` bytes of linear memory per memory.
    pub fn new(limit: usize) -> MemoryCap {
        MemoryCap {
            limit,
            refused: None,
        }
    }

    /// The cap in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.refused = Some(desired);
            wasmtime::bail!(
                "memory limit exceeded: the plugin asked for {} MiB, the step allows {} MiB",
                desired >> 20,
                self.limit >> 20
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
