//! The host boundary for everything a plugin says: its report, its `info()`, its log and
//! progress lines, the reasons it gives for failing and the panic message it leaves behind.
//! Every such string passes through [`plugin_text`] where the WIT value becomes a host value,
//! and every list is bounded in length, before anything is kept, ranked or rendered.
//!
//! Plugin text is data, never terminal control (issue 7). Raw, it let a plugin erase a
//! genuine `FAIL broker 2 of 3 is DOWN` line with ESC sequences and draw forged `PASS` lines;
//! CR and newline forged status lines even when output was piped; bidi overrides reorder what
//! the operator reads ("Trojan Source", CVE-2021-42574); a 5 MiB description was printed
//! whole. Neutralising once, here, means every renderer (terminal, JSON, JUnit, those still
//! to come) receives clean, bounded text without having to remember to clean it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::hostfns::truncate;
use crate::report::model::{Evidence, Finding, Severity, Status, StepReport};
use crate::wit;

/// Findings kept per step.
pub const MAX_FINDINGS: usize = 200;
/// Evidence entries kept per finding.
pub const MAX_EVIDENCE: usize = 20;
/// Facts kept per step.
pub const MAX_FACTS: usize = 200;
/// Bytes kept of a title, summary, fix, fact, evidence source, description or reason.
pub const MAX_TEXT: usize = 1024;
/// Bytes kept of one evidence excerpt.
pub const MAX_EXCERPT: usize = 4096;
/// Bytes of text kept for a whole step; findings past it are dropped.
pub const MAX_REPORT_BYTES: usize = 1 << 20;
/// Bytes kept of a name: a plugin's name and version, a parameter's name, a capability.
pub const MAX_NAME: usize = 128;
/// Parameters kept of a plugin's `info()`.
pub const MAX_PARAMS: usize = 64;
/// Capabilities kept of a plugin's `info()` (there are a handful).
pub const MAX_NEEDS: usize = 16;

/// How much layout a piece of plugin text may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One line (a title, a summary, a name): every control character is escaped, line
    /// breaks included, so the text can never start a line of its own.
    Line,
    /// Host-written prose that quotes multi-line plugin text (a panic message, a wasm
    /// backtrace): line breaks become spaces, every other control character is escaped.
    Flowed,
    /// Multi-line text (an evidence excerpt, a fix): `\n` and `\t` are kept and a CR that
    /// ends a line (CRLF) is dropped; every other control character is escaped. Renderers
    /// must indent continuation lines so that they cannot pass for a line of their own.
    Block,
}

/// Unicode's explicit bidirectional formatting characters (UAX #9: LRE, RLE, PDF, LRO, RLO,
/// LRI, RLI, FSI, PDI) and the implicit marks (ALM, LRM, RLM), plus the line and paragraph
/// separators some renderers break lines at. `char::is_control` covers the C0 and C1 control
/// characters and DEL; this fixed list is the rest of what can rearrange a terminal line.
/// A crate would be a table lookup for twelve code points (and `unicode-bidi`'s classes do
/// not include the marks), so they are listed here.
const LAYOUT_CONTROLS: &[char] = &[
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{2028}', '\u{2029}',
];

/// Plugin text made safe to keep and render: at most `max` bytes (plus a ` …` when cut), with
/// every control character the `layout` does not allow shown as a visible escape
/// (`\u{1b}`), never interpreted by a terminal.
///
/// The one definition of "plugin text made safe": reports, `info()`, log and progress lines
/// and error reasons all go through it.
pub fn plugin_text(text: &str, max: usize, layout: Layout) -> String {
    // Cut the input first: a 5 MiB description is not scanned to keep 1 KiB of it.
    let input = truncate(text, max);
    let mut cut = input.len() < text.len();
    let mut out = String::with_capacity(input.len().min(max));
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match (layout, c) {
            (Layout::Block, '\n' | '\t') => out.push(c),
            (Layout::Block, '\r') if chars.peek() == Some(&'\n') => {}
            (Layout::Flowed, '\r') if chars.peek() == Some(&'\n') => {}
            (Layout::Flowed, '\n' | '\r' | '\t') => out.push(' '),
            _ if c.is_control() || LAYOUT_CONTROLS.contains(&c) => {
                let _ = write!(out, "{}", c.escape_unicode());
            }
            _ => out.push(c),
        }
        // Escapes make the text longer than its input: bound what is kept, not what came.
        if out.len() > max {
            out.truncate(truncate(&out, max).len());
            cut = true;
            break;
        }
    }
    if cut {
        out.push_str(" …");
    }
    out
}

/// Convert and bound a plugin's report; say so in a finding when something was cut.
pub fn bound(report: wit::Report) -> StepReport {
    let total_findings = report.findings.len();
    let mut budget = MAX_REPORT_BYTES;
    let mut findings = Vec::new();
    for finding in report.findings.into_iter().take(MAX_FINDINGS) {
        let finding = bound_finding(finding);
        let size = finding_size(&finding);
        if size > budget {
            break;
        }
        budget -= size;
        findings.push(finding);
    }
    if findings.len() < total_findings {
        findings.push(Finding {
            id: "triage.report-truncated".into(),
            cause: None,
            severity: Severity::Warn,
            title: format!(
                "The plugin returned {total_findings} findings; the first {} are kept",
                findings.len()
            ),
            evidence: Vec::new(),
            fix: Some(format!(
                "A report is limited to {MAX_FINDINGS} findings and {} KiB of text; \
                 the plugin should aggregate.",
                MAX_REPORT_BYTES >> 10
            )),
        });
    }
    let facts: BTreeMap<String, String> = report
        .facts
        .into_iter()
        .take(MAX_FACTS)
        .map(|(k, v)| (line(&k, MAX_TEXT), line(&v, MAX_TEXT)))
        .collect();
    StepReport {
        status: Some(status(report.status)),
        summary: line(&report.summary, MAX_TEXT),
        findings,
        facts,
    }
}

/// Bound and neutralise a plugin's `info()`, once, when it is loaded: `list`, `explain` and
/// `validate` show these fields.
pub fn bound_info(info: wit::PluginInfo) -> wit::PluginInfo {
    wit::PluginInfo {
        name: line(&info.name, MAX_NAME),
        version: line(&info.version, MAX_NAME),
        description: line(&info.description, MAX_TEXT),
        params: info
            .params
            .into_iter()
            .take(MAX_PARAMS)
            .map(|p| wit::Param {
                name: line(&p.name, MAX_NAME),
                help: line(&p.help, MAX_TEXT),
                required: p.required,
            })
            .collect(),
        needs: info
            .needs
            .into_iter()
            .take(MAX_NEEDS)
            .map(|n| line(&n, MAX_NAME))
            .collect(),
    }
}

fn bound_finding(finding: wit::Finding) -> Finding {
    Finding {
        id: line(&finding.id, MAX_TEXT),
        cause: finding.cause.map(|c| line(&c, MAX_TEXT)),
        severity: match finding.severity {
            wit::Severity::Info => Severity::Info,
            wit::Severity::Warn => Severity::Warn,
            wit::Severity::Fail => Severity::Fail,
        },
        title: line(&finding.title, MAX_TEXT),
        evidence: finding
            .evidence
            .into_iter()
            .take(MAX_EVIDENCE)
            .map(|e| Evidence {
                source: line(&e.source, MAX_TEXT),
                excerpt: plugin_text(&e.excerpt, MAX_EXCERPT, Layout::Block),
            })
            .collect(),
        fix: finding
            .fix
            .map(|f| plugin_text(&f, MAX_TEXT, Layout::Block)),
    }
}

fn line(text: &str, max: usize) -> String {
    plugin_text(text, max, Layout::Line)
}

fn finding_size(f: &Finding) -> usize {
    f.id.len()
        + f.title.len()
        + f.fix.as_ref().map_or(0, String::len)
        + f.evidence
            .iter()
            .map(|e| e.source.len() + e.excerpt.len())
            .sum::<usize>()
}

fn status(status: wit::Status) -> Status {
    match status {
        wit::Status::Pass => Status::Pass,
        wit::Status::Warn => Status::Warn,
        wit::Status::Fail => Status::Fail,
        wit::Status::Error => Status::Error,
        wit::Status::Skipped => Status::Skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(title: String) -> wit::Finding {
        wit::Finding {
            id: "x".into(),
            cause: None,
            severity: wit::Severity::Fail,
            title,
            evidence: vec![],
            fix: None,
        }
    }

    #[test]
    fn many_findings_are_capped_with_a_note() {
        let report = wit::Report {
            status: wit::Status::Fail,
            summary: "s".repeat(5000),
            findings: (0..10_000).map(|i| finding(format!("f{i}"))).collect(),
            facts: vec![],
        };
        let bounded = bound(report);
        assert_eq!(bounded.findings.len(), MAX_FINDINGS + 1);
        assert_eq!(
            bounded.findings.last().unwrap().id,
            "triage.report-truncated"
        );
        assert!(bounded.summary.len() <= MAX_TEXT + 4);
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        let forged = "ok\x1b[1A\x1b[2K\r PASS  fake\n FAIL\u{9b}2K\u{7f}";
        assert_eq!(
            plugin_text(forged, 200, Layout::Line),
            r"ok\u{1b}[1A\u{1b}[2K\u{d} PASS  fake\u{a} FAIL\u{9b}2K\u{7f}"
        );
        assert_eq!(
            plugin_text("a\u{202E}gnp.exe\u{2066}b\u{2028}", 200, Layout::Line),
            r"a\u{202e}gnp.exe\u{2066}b\u{2028}"
        );
        assert_eq!(
            plugin_text("plain ünïcödé ✓", 200, Layout::Line),
            "plain ünïcödé ✓"
        );
    }

    #[test]
    fn blocks_keep_their_lines_and_flowed_text_joins_them() {
        let excerpt = "first\r\n\tat Foo.bar\rPASS\x1b[0m";
        assert_eq!(
            plugin_text(excerpt, 200, Layout::Block),
            "first\n\tat Foo.bar\\u{d}PASS\\u{1b}[0m"
        );
        assert_eq!(
            plugin_text("panicked at x:\nboom\r\n", 200, Layout::Flowed),
            "panicked at x: boom "
        );
    }

    #[test]
    fn text_is_bounded_after_escaping() {
        let escapes = "\x1b".repeat(1000);
        let kept = plugin_text(&escapes, 100, Layout::Line);
        assert!(kept.len() <= 100 + " …".len(), "{} bytes", kept.len());
        assert!(kept.ends_with(" …"));
        let huge = "d".repeat(5 << 20);
        assert_eq!(
            plugin_text(&huge, MAX_TEXT, Layout::Line).len(),
            MAX_TEXT + 4
        );
    }

    #[test]
    fn info_fields_and_lists_are_bounded() {
        let info = wit::PluginInfo {
            name: "evil\x1b]0;title\x07".into(),
            version: "1.0\r".into(),
            description: "x".repeat(5 << 20),
            params: (0..1000)
                .map(|i| wit::Param {
                    name: format!("p{i}"),
                    help: "h\nPASS".into(),
                    required: false,
                })
                .collect(),
            needs: vec!["net\x1b[2K".into(); 100],
        };
        let info = bound_info(info);
        assert_eq!(info.name, r"evil\u{1b}]0;title\u{7}");
        assert_eq!(info.version, r"1.0\u{d}");
        assert!(info.description.len() <= MAX_TEXT + 4);
        assert_eq!(info.params.len(), MAX_PARAMS);
        assert_eq!(info.params[0].help, r"h\u{a}PASS");
        assert_eq!(info.needs.len(), MAX_NEEDS);
        assert_eq!(info.needs[0], r"net\u{1b}[2K");
    }
}
