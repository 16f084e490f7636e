//! `--format json`: one JSON document, the [`RunReport`] as-is. The schema only grows.

use std::io::Write;

use super::model::RunReport;

/// Write the report as pretty JSON followed by a newline.
pub fn write(report: &RunReport, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
