//! `triage`: diagnose broken Kafka pipelines by running playbooks of sandboxed check plugins.
//!
//! # Layout
//!
//! Data flows one way: parse → validate → schedule → instantiate → host call → report.
//!
//! - [`playbook`]: the RON playbook model, its parser (with source spans) and its validator.
//!   Knows nothing of WebAssembly; never prints.
//! - [`plugins`]: where plugins come from (embedded in this binary, `--plugin-dir`, a path).
//! - [`runtime`]: the wasmtime engine, the compiled-component cache, per-step Stores with
//!   deadlines and memory caps. Returns results; renders nothing.
//! - [`caps`]: what a step is granted. `caps` decides; host functions enforce.
//! - [`http_url`]: the one validated, normalised URL type of the `http` capability.
//! - [`hostfns`]: the host side of each WIT interface, one file per interface.
//! - [`kafka`]: the run's Kafka clients (librdkafka, plus a small wire-protocol client).
//! - [`scan`]: the host-side multi-pattern line scanner behind `files.grep`.
//! - [`catalogue`]: the log signature catalogue's host side: `validate` of signature files
//!   (regexes compiled with the scan's engine) and `list --signatures`.
//! - [`secrets`]: what counts as a secret (one definition), masked in files and command lines.
//! - [`runner`]: the step DAG on tokio: `needs`, `when`, timeouts, skips.
//! - [`report`]: the run's results, the ranked diagnosis, and their renderings.
//! - [`cli`]: the command line; `main.rs` only maps its outcome to an exit code.

pub mod caps;
pub mod catalogue;
pub mod cli;
pub mod exit;
pub mod hostfns;
pub mod http_url;
pub mod kafka;
pub mod playbook;
pub mod plugins;
pub mod report;
pub mod runner;
pub mod runtime;
pub mod scan;
pub mod secrets;
pub mod wit;
