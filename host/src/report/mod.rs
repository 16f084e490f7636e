//! The run's results and their renderings. Reads results; runs nothing.
//!
//! - [`model`]: the data (and the JSON schema).
//! - [`diagnosis`]: findings grouped by cause and ranked, most likely first.
//! - [`human`]: the terminal report; [`json`]: one JSON document.
//! - [`progress`]: live per-step progress on stderr while the run goes on.

pub mod diagnosis;
pub mod human;
pub mod json;
pub mod model;
pub mod progress;

/// How to render a finished run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: steps, findings, and the ranked diagnosis.
    Human,
    /// One JSON document on stdout, for automation.
    Json,
}
