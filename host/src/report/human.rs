//! The terminal report: one line per step, its findings, then the diagnosis.
//!
//! Writes ANSI styles unconditionally; the caller's `anstream` stream strips them when
//! stdout is not a terminal or `NO_COLOR` is set.
//!
//! Plugin text arrives neutralised (`runtime::plugin_text`): no control characters, and line
//! breaks only in evidence excerpts and fixes. Those are written with their continuation
//! lines behind a gutter, so no line a plugin wrote can pass for a status line.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::model::{Cause, RunReport, Severity, Status, StepResult};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn status_style(status: Status) -> Style {
    let color = match status {
        Status::Pass => AnsiColor::Green,
        Status::Warn => AnsiColor::Yellow,
        Status::Fail | Status::Error => AnsiColor::Red,
        Status::Skipped => AnsiColor::BrightBlack,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Fail => status_style(Status::Fail),
        Severity::Warn => status_style(Status::Warn),
        Severity::Info => DIM,
    }
}

fn label(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Error => "ERROR",
        Status::Skipped => "SKIP",
    }
}

/// Render the whole report.
pub fn write(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{BOLD}{}{BOLD:#} — {}", report.playbook, report.title)?;
    writeln!(out)?;
    let id_width = report.steps.iter().map(|s| s.id.len()).max().unwrap_or(0);
    let title_width = report
        .steps
        .iter()
        .map(|s| s.title.len())
        .max()
        .unwrap_or(0)
        .min(40);
    for step in &report.steps {
        write_step(step, id_width, title_width, out)?;
    }
    writeln!(out)?;
    write_diagnosis(report, out)?;
    if !report.next_steps.is_empty() {
        writeln!(out)?;
        writeln!(out, "{BOLD}What to look at next{BOLD:#}")?;
        for hint in &report.next_steps {
            writeln!(out, "  - {hint}")?;
        }
    }
    writeln!(out)?;
    write_totals(report, out)
}

fn write_step(
    step: &StepResult,
    id_width: usize,
    title_width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let style = status_style(step.status);
    let duration = if step.status == Status::Skipped {
        String::new()
    } else {
        format!("{} ms", step.duration_ms)
    };
    writeln!(
        out,
        " {style}{:<5}{style:#}  {:<id_width$}  {:<title_width$}  {DIM}{:>8}{DIM:#}  {}",
        label(step.status),
        step.id,
        step.title,
        duration,
        step.summary,
    )?;
    let indent = " ".repeat(9 + id_width);
    for finding in step.findings.iter().filter(|f| f.severity > Severity::Info) {
        let style = severity_style(finding.severity);
        let mark = if finding.severity == Severity::Fail {
            "✗"
        } else {
            "!"
        };
        writeln!(out, "{indent}{style}{mark}{style:#} {}", finding.title)?;
    }
    Ok(())
}

fn write_diagnosis(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{BOLD}Diagnosis{BOLD:#} — most likely cause first")?;
    if report.diagnosis.is_empty() {
        let ran = report
            .steps
            .iter()
            .any(|s| matches!(s.status, Status::Pass | Status::Warn));
        if ran {
            writeln!(
                out,
                "  Nothing found that would stop events: every check that ran passed."
            )?;
        } else {
            writeln!(out, "  No check produced a verdict.")?;
        }
    }
    for (rank, cause) in report.diagnosis.iter().enumerate() {
        write_cause(rank + 1, cause, out)?;
    }
    let unchecked: Vec<&StepResult> = report
        .steps
        .iter()
        .filter(|s| s.status == Status::Error)
        .collect();
    if !unchecked.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "  {}Not checked{:#} (the plugin could not run):",
            status_style(Status::Error),
            status_style(Status::Error)
        )?;
        for step in unchecked {
            writeln!(out, "    {}: {}", step.id, step.summary)?;
        }
    }
    Ok(())
}

fn write_cause(rank: usize, cause: &Cause, out: &mut dyn Write) -> io::Result<()> {
    let style = severity_style(cause.severity);
    writeln!(
        out,
        " {style}{rank}.{style:#} {BOLD}{}{BOLD:#}",
        cause.title
    )?;
    writeln!(
        out,
        "    {DIM}cause {} · {} · confidence {:.2} · seen by {}{DIM:#}",
        cause.cause,
        match cause.severity {
            Severity::Fail => "fail",
            Severity::Warn => "warn",
            Severity::Info => "info",
        },
        cause.confidence,
        cause.steps.join(", ")
    )?;
    for evidence in cause.evidence.iter().take(5) {
        writeln!(
            out,
            "    evidence  {DIM}{}:{DIM:#} {}",
            evidence.source,
            continued(&evidence.excerpt)
        )?;
    }
    if cause.evidence.len() > 5 {
        writeln!(
            out,
            "    {DIM}… {} more (see --format json){DIM:#}",
            cause.evidence.len() - 5
        )?;
    }
    if let Some(chain) = &cause.chain {
        writeln!(out, "    chain     {chain}")?;
    }
    if let Some(fix) = &cause.fix {
        writeln!(out, "    fix       {}", continued(fix))?;
    }
    Ok(())
}

/// Multi-line text under a label (`    evidence  `, `    fix       `): every line after the
/// first is indented past the label and behind a gutter.
fn continued(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join("\n              │ ")
}

fn write_totals(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let count = |status: Status| report.steps.iter().filter(|s| s.status == status).count();
    let parts: Vec<String> = [
        (Status::Fail, "failed"),
        (Status::Error, "errored"),
        (Status::Warn, "warned"),
        (Status::Pass, "passed"),
        (Status::Skipped, "skipped"),
    ]
    .into_iter()
    .filter(|(status, _)| count(*status) > 0)
    .map(|(status, word)| format!("{} {word}", count(status)))
    .collect();
    let style = status_style(report.status);
    writeln!(
        out,
        "{style}{}{style:#}: {} in {:.2} s",
        label(report.status),
        parts.join(", "),
        report.duration_ms as f64 / 1000.0
    )
}
