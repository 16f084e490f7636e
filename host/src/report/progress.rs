//! Live progress on stderr: a spinner per running step on a terminal, plain log lines
//! otherwise. Plugin log lines are shown by level (`-v` info, `-vv` debug).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::hostfns::{LogLevel, StepEvents};
use crate::playbook::plan::PlannedStep;
use crate::report::model::StepResult;
use crate::runner::RunEvents;

/// Shows a run as it happens.
pub struct Progress {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    /// Lowest plugin log level shown.
    threshold: LogLevel,
    live: bool,
}

impl Progress {
    /// Spinners only when stderr is a terminal; `verbose` counts `-v` flags.
    pub fn new(verbose: u8) -> Progress {
        let live = std::io::stderr().is_terminal();
        let target = if live {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(HashMap::new()),
            threshold: match verbose {
                0 => LogLevel::Warn,
                1 => LogLevel::Info,
                _ => LogLevel::Debug,
            },
            live,
        }
    }

    /// Hide the spinners while `work` uses the terminal (a confirmation prompt).
    pub fn suspend<T>(&self, work: impl FnOnce() -> T) -> T {
        self.multi.suspend(work)
    }

    fn println(&self, line: &str) {
        if self.live {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }
}

impl StepEvents for Progress {
    fn log(&self, step: &str, level: LogLevel, message: &str) {
        if level >= self.threshold {
            let level = format!("{level:?}").to_lowercase();
            self.println(&format!("[{step}] {level}: {message}"));
        }
    }

    fn progress(&self, step: &str, message: &str) {
        if let Some(bar) = self.bars.lock().expect("progress lock").get(step) {
            bar.set_message(message.to_owned());
        }
    }
}

impl RunEvents for Progress {
    fn step_started(&self, step: &PlannedStep) {
        if !self.live {
            return;
        }
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg:.dim}")
                .expect("static template"),
        );
        bar.set_prefix(step.id.clone());
        bar.set_message(step.title.clone());
        bar.enable_steady_tick(Duration::from_millis(100));
        self.bars
            .lock()
            .expect("progress lock")
            .insert(step.id.clone(), bar);
    }

    fn step_finished(&self, result: &StepResult) {
        if let Some(bar) = self.bars.lock().expect("progress lock").remove(&result.id) {
            bar.finish_and_clear();
        }
    }
}
