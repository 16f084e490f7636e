//! Playbooks: RON files of steps, each step a check plugin with its params and grants.
//!
//! - [`model`]: the serde types, with source spans on every value an error may point at.
//! - [`parse`]: RON text → model; syntax and shape errors with file:line:column.
//! - [`validate`]: everything checkable before running (plugins, params, `needs` cycles,
//!   durations, inputs, grants), all problems at once.
//! - [`plan`]: inputs bound, templates expanded, grants built: the steps the runner runs.
//!
//! Nothing here knows about WebAssembly, and nothing here prints.

pub mod model;
pub mod parse;
pub mod plan;
pub mod problem;
pub mod template;
pub mod validate;

pub use model::Playbook;
pub use parse::{Spanned, parse};
pub use problem::{PlaybookError, Problem};
