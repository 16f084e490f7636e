//! `log`: plugin messages to the operator, routed to the runner's [`StepEvents`].

use super::StepState;
use crate::wit::triage::plugin::log::{Host, Level};

/// Longest log line kept; a plugin cannot flood the terminal with one message.
const MAX_MESSAGE_BYTES: usize = 4 * 1024;

/// Severity of a plugin's log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Shown with `-vv`.
    Debug,
    /// Shown with `-v`.
    Info,
    /// Always shown.
    Warn,
    /// Always shown.
    Error,
}

impl From<Level> for LogLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        }
    }
}

impl Host for StepState {
    async fn log(&mut self, level: Level, message: String) {
        let message = truncate(&message, MAX_MESSAGE_BYTES);
        self.env
            .events
            .log(&self.env.step_id, level.into(), message);
    }

    async fn progress(&mut self, message: String) {
        let message = truncate(&message, 256);
        self.env.events.progress(&self.env.step_id, message);
    }
}

/// Cut `text` at a char boundary at most `max` bytes in.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
