//! Bound what a plugin returns before it enters the host's report: a buggy or hostile plugin
//! returning megabytes of findings must not flood the terminal, the JSON or memory.

use std::collections::BTreeMap;

use crate::hostfns::truncate;
use crate::report::model::{Evidence, Finding, Severity, Status, StepReport};
use crate::wit;

/// Findings kept per step.
pub const MAX_FINDINGS: usize = 200;
/// Evidence entries kept per finding.
pub const MAX_EVIDENCE: usize = 20;
/// Facts kept per step.
pub const MAX_FACTS: usize = 200;
/// Bytes kept of a title, summary, fix, fact or evidence source.
pub const MAX_TEXT: usize = 1024;
/// Bytes kept of one evidence excerpt.
pub const MAX_EXCERPT: usize = 4096;
/// Bytes of text kept for a whole step; findings past it are dropped.
pub const MAX_REPORT_BYTES: usize = 1 << 20;

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
        .map(|(k, v)| (cut(&k, MAX_TEXT), cut(&v, MAX_TEXT)))
        .collect();
    StepReport {
        status: Some(status(report.status)),
        summary: cut(&report.summary, MAX_TEXT),
        findings,
        facts,
    }
}

fn bound_finding(finding: wit::Finding) -> Finding {
    Finding {
        id: cut(&finding.id, MAX_TEXT),
        cause: finding.cause.map(|c| cut(&c, MAX_TEXT)),
        severity: match finding.severity {
            wit::Severity::Info => Severity::Info,
            wit::Severity::Warn => Severity::Warn,
            wit::Severity::Fail => Severity::Fail,
        },
        title: cut(&finding.title, MAX_TEXT),
        evidence: finding
            .evidence
            .into_iter()
            .take(MAX_EVIDENCE)
            .map(|e| Evidence {
                source: cut(&e.source, MAX_TEXT),
                excerpt: cut(&e.excerpt, MAX_EXCERPT),
            })
            .collect(),
        fix: finding.fix.map(|f| cut(&f, MAX_TEXT)),
    }
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

fn cut(text: &str, max: usize) -> String {
    let kept = truncate(text, max);
    if kept.len() < text.len() {
        format!("{kept} …")
    } else {
        kept.to_owned()
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
}
