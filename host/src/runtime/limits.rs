//! Per-step budgets: a wall-clock deadline, and a memory budget shared by all the step's
//! memories and tables (see [`MemoryCap`]).
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

/// A step's memory budget: one cap on everything the step's instances hold, plus caps on how
/// many instances, memories and tables it may create.
///
/// wasmtime's `StoreLimits` caps each linear memory on its own, so a component that declares
/// 16 memories could grow each to just under the cap: 16 × 200 MiB inside a "256 MiB" step
/// (issue 7). This limiter keeps a running total of the bytes held by every memory and table
/// of the step's Store and refuses any growth (or creation: wasmtime announces a new memory
/// as a growth from 0) that would take the total past the budget. A refusal traps the guest
/// rather than returning -1 from `memory.grow`, and is recorded so the runner can say
/// "memory budget" instead of repeating a generic trap message.
#[derive(Debug, Clone)]
pub struct MemoryCap {
    limit: usize,
    /// Bytes held by the step's memories and tables together.
    ///
    /// Counted when a growth is approved and never given back: wasmtime may still fail an
    /// approved growth (a memory's declared maximum, mmap), but its failure callback does
    /// not say which growth failed, and it is also called for growths that were never
    /// approved, so "giving back" would let a guest alternate a real growth with a doomed
    /// one and reclaim budget. Over-counting a failed growth only costs the guest itself.
    held: usize,
    /// The total the guest asked to hold when it was refused, if it was.
    pub refused: Option<usize>,
}

/// Host bytes per table element: wasmtime keeps a pointer per element.
const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();

/// Core instances a step may create. A component built by `cargo component` or
/// `wasm32-wasip2` has a handful (the module, wit-component's shim and fixup modules, an
/// adapter); composed components a few more. Each instance costs host memory outside the
/// byte budget (its VM context), so the count is bounded too.
pub const MAX_INSTANCES: usize = 32;
/// Linear memories a step may create. Every memory reserves its own address space
/// (guard regions included) whatever its size, so their number is bounded apart from
/// their bytes. One per component is the norm; a few composed components fit.
pub const MAX_MEMORIES: usize = 8;
/// Tables a step may create (wit-component's shims use one or two each).
pub const MAX_TABLES: usize = 32;

impl MemoryCap {
    /// A budget of `limit` bytes for all the step's memories and tables together.
    pub fn new(limit: usize) -> MemoryCap {
        MemoryCap {
            limit,
            held: 0,
            refused: None,
        }
    }

    /// The budget in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Approve growing something the step holds from `current` to `desired` bytes, unless
    /// the step's total would pass the budget.
    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.held.saturating_add(growth);
        if total > self.limit {
            self.refused = Some(total);
            wasmtime::bail!(
                "memory budget exceeded: the plugin asked to hold {} MiB across its memories \
                 and tables, the step allows {} MiB",
                total >> 20,
                self.limit >> 20
            );
        }
        self.held = total;
        Ok(true)
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(current, desired)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(
            current.saturating_mul(TABLE_ELEMENT_BYTES),
            desired.saturating_mul(TABLE_ELEMENT_BYTES),
        )
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn the_budget_is_shared_by_every_memory_and_table() {
        let mut cap = MemoryCap::new(64 * MIB);
        assert!(cap.memory_growing(0, 30 * MIB, None).unwrap());
        assert!(cap.memory_growing(0, 30 * MIB, None).unwrap());
        // Each memory alone would fit; together they would not.
        assert!(cap.memory_growing(0, 30 * MIB, None).is_err());
        assert_eq!(cap.refused, Some(90 * MIB));
        // Tables count by their elements' host size.
        let mut cap = MemoryCap::new(MIB);
        assert!(
            cap.table_growing(0, MIB / TABLE_ELEMENT_BYTES, None)
                .unwrap()
        );
        assert!(cap.memory_growing(0, 64 << 10, None).is_err());
    }

    #[test]
    fn a_failed_growth_gives_no_budget_back() {
        let mut cap = MemoryCap::new(64 * MIB);
        assert!(cap.memory_growing(0, 40 * MIB, None).unwrap());
        // wasmtime reports a doomed growth (beyond a memory's maximum) after or instead of
        // asking: the 40 MiB already held must stay counted.
        cap.memory_grow_failed(wasmtime::format_err!("maximum exceeded"))
            .unwrap();
        assert!(cap.memory_growing(0, 40 * MIB, None).is_err());
    }

    #[test]
    fn growth_is_measured_from_the_current_size() {
        let mut cap = MemoryCap::new(64 * MIB);
        assert!(cap.memory_growing(0, 40 * MIB, None).unwrap());
        assert!(cap.memory_growing(40 * MIB, 60 * MIB, None).unwrap());
        assert!(cap.memory_growing(60 * MIB, 65 * MIB, None).is_err());
    }
}
