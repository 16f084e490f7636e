//! Host bindings for the `triage:plugin` WIT package (`sdk/wit`), the one source of truth
//! for the host⇄plugin contract.

#[allow(missing_docs)]
mod bindings {
    // Every import is async so that host calls can await I/O and honour the step's deadline
    // without blocking the executor; exports are async so that a step can be cancelled.
    wasmtime::component::bindgen!({
        world: "check",
        path: "../sdk/wit",
        imports: { default: async },
        exports: { default: async },
    });
}

pub use bindings::*;

// `PluginInfo`, `Report` and `RunError` are used by the world itself, so bindgen already
// exports them at this level.
pub use self::bindings::triage::plugin::types::{
    Evidence, Finding, HostError, Param, Severity, Status,
};

/// The WIT package version this host implements (the `@x.y.z` of `triage:plugin`).
pub const WIT_VERSION: &str = "0.1.0";

/// The package name plugins import from.
pub const WIT_PACKAGE: &str = "triage:plugin";
