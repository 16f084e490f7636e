//! Documented exit codes, shared by `main` and the tests.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | every step passed, warned or was skipped |
//! | 1 | a check failed, a plugin errored (trapped, timed out, refused its params), or records the host's produce probe sent failed or were lost (whatever the plugin reported) |
//! | 2 | invalid playbook, plugin or arguments: nothing was run |
//! | 3 | the engine itself failed (could not start the runtime, I/O on our side) |

/// Nothing failed.
pub const OK: u8 = 0;
/// A check failed or errored, or probe records failed or were lost.
pub const CHECK_FAILED: u8 = 1;
/// Invalid playbook or arguments; nothing was run.
pub const INVALID_INPUT: u8 = 2;
/// The engine itself failed.
pub const ENGINE_FAILED: u8 = 3;
