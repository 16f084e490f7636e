//! `log`: plugin messages to the operator, routed to the runner's [`StepEvents`](super::StepEvents).
//!
//! Every message is plugin text: neutralised and bounded by [`plugin_text`] before it goes
//! anywhere. What a step may log is bounded too: a plugin once wrote 1.2 GB to stderr in five
//! seconds (issue 7). Past [`MAX_LOG_LINES_PER_STEP`] lines or [`MAX_LOG_BYTES_PER_STEP`]
//! bytes, lines are counted and dropped, and one note says how many when the step ends.

use super::StepState;
use crate::runtime::{Layout, plugin_text};
use crate::wit::triage::plugin::log::{Host, Level};

/// Longest log line kept; a plugin cannot flood the terminal with one message.
const MAX_MESSAGE_BYTES: usize = 4 * 1024;
/// Longest progress message kept: it is one line of a spinner.
const MAX_PROGRESS_BYTES: usize = 256;
/// Log lines one step may send to the operator. Generous for a check that narrates its work
/// (a line per broker, per file); a loop that logs per record or per line is cut.
pub const MAX_LOG_LINES_PER_STEP: usize = 1000;
/// Bytes of log text one step may send to the operator.
pub const MAX_LOG_BYTES_PER_STEP: usize = 256 * 1024;

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

/// What one step has logged so far, against its budget.
#[derive(Debug, Default)]
pub struct LogBudget {
    lines: usize,
    bytes: usize,
    dropped: usize,
    /// The most severe level among dropped lines: the closing note is shown at that level,
    /// so dropped debug chatter does not produce a warning nobody asked for.
    dropped_level: Option<LogLevel>,
}

impl LogBudget {
    /// Count a line of `bytes` at `level`; false when it is over budget and must be dropped.
    fn admit(&mut self, level: LogLevel, bytes: usize) -> bool {
        if self.lines < MAX_LOG_LINES_PER_STEP && self.bytes + bytes <= MAX_LOG_BYTES_PER_STEP {
            self.lines += 1;
            self.bytes += bytes;
            return true;
        }
        self.dropped += 1;
        self.dropped_level = self.dropped_level.max(Some(level));
        false
    }

    /// The closing note, when lines were dropped.
    fn dropped_note(&self) -> Option<(LogLevel, String)> {
        let level = self.dropped_level?;
        Some((
            level,
            format!(
                "… {} more log lines dropped (a step may log {MAX_LOG_LINES_PER_STEP} lines \
                 or {} KiB)",
                self.dropped,
                MAX_LOG_BYTES_PER_STEP >> 10
            ),
        ))
    }
}

impl StepState {
    /// Tell the operator how many log lines the step dropped, if any. Called once, when
    /// the step's plugin call has ended (however it ended).
    pub(crate) fn report_dropped_log_lines(&self) {
        if let Some((level, note)) = self.log_budget.dropped_note() {
            self.env.events.log(&self.env.step_id, level, &note);
        }
    }
}

impl Host for StepState {
    async fn log(&mut self, level: Level, message: String) {
        let level = LogLevel::from(level);
        if !self
            .log_budget
            .admit(level, message.len().min(MAX_MESSAGE_BYTES))
        {
            return;
        }
        let message = plugin_text(&message, MAX_MESSAGE_BYTES, Layout::Line);
        self.env.events.log(&self.env.step_id, level, &message);
    }

    async fn progress(&mut self, message: String) {
        let message = plugin_text(&message, MAX_PROGRESS_BYTES, Layout::Line);
        self.env.events.progress(&self.env.step_id, &message);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_logs_within_its_budget_then_one_note_counts_the_rest() {
        let mut budget = LogBudget::default();
        for _ in 0..MAX_LOG_LINES_PER_STEP {
            assert!(budget.admit(LogLevel::Info, 10));
        }
        assert_eq!(budget.dropped_note(), None);
        assert!(!budget.admit(LogLevel::Debug, 10));
        assert!(!budget.admit(LogLevel::Warn, 10));
        assert!(!budget.admit(LogLevel::Info, 10));
        let (level, note) = budget.dropped_note().unwrap();
        assert_eq!(level, LogLevel::Warn);
        assert!(note.starts_with("… 3 more log lines dropped"), "{note}");
    }

    #[test]
    fn the_byte_budget_holds_for_long_lines() {
        let mut budget = LogBudget::default();
        let line = MAX_MESSAGE_BYTES;
        let fitting = MAX_LOG_BYTES_PER_STEP / line;
        for _ in 0..fitting {
            assert!(budget.admit(LogLevel::Warn, line));
        }
        assert!(!budget.admit(LogLevel::Warn, line));
    }
}
