//! The signature catalogue on the host's side: `triage validate` of a team's signature file
//! and `triage list --signatures`.
//!
//! The catalogue itself is data (`knowledge/signatures/*.ron`, the `triage-knowledge`
//! crate); the log-grep plugin scans with it. What only the host can do is compile the regexes
//! with the engine the scan uses (the plugins carry no regex engine), so a file that
//! validates here scans there. Kept out of `cli` so that the command line stays generic
//! (issue 9: domain text out of the runner).

use std::io::{self, Write};

use triage_knowledge::{Field, Problem, Signature, SignatureFile, cause};

/// Whether `text` is a signature file rather than a playbook: a signature file is a RON list
/// (`[ (...), ]`), a playbook a `Playbook(...)` struct. Comments and blank lines before the
/// first value are skipped.
pub fn is_signature_file(text: &str) -> bool {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.split_once('\n').map_or("", |(_, next)| next);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, next)| next);
        } else {
            return rest.starts_with('[');
        }
    }
}

/// Check a signature file: it parses (shape, known cause keys, unique kebab-case ids) and
/// every regex compiles with the scan's engine. Returns the parsed file, or every problem
/// with its file, line and column.
pub fn validate(name: &str, text: &str) -> Result<SignatureFile, Vec<Problem>> {
    let file = triage_knowledge::parse(name, text).map_err(|error| error.problems)?;
    let mut problems = Vec::new();
    for (index, signature) in file.signatures.iter().enumerate() {
        for (at, regex) in signature.regexes.iter().enumerate() {
            if let Err(error) = compile(regex) {
                problems.push(file.problem(
                    index,
                    Field::Regex(at),
                    format!(
                        "regex of `{}` does not compile: {}",
                        signature.id,
                        one_line(&error)
                    ),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(problems)
    }
}

/// Compile a regex exactly as the scan does (`scan::scan` builds each pattern with the
/// `regex` crate's byte-oriented builder and its default size limits).
fn compile(regex: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(regex).build()
}

/// The `regex` crate's errors span several lines (the pattern, a caret, the reason).
fn one_line(error: &regex::Error) -> String {
    error
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Print the shipped catalogue: one line per signature (id, cause, severity, components),
/// grouped under the cause keys' meanings.
pub fn list(out: &mut dyn Write) -> io::Result<()> {
    let signatures = triage_knowledge::catalogue();
    let bold = anstyle::Style::new().bold();
    writeln!(
        out,
        "{bold}Signatures{bold:#} ({} in the catalogue; log-grep scans for all of them)",
        signatures.len()
    )?;
    let mut by_cause: Vec<&Signature> = signatures.iter().collect();
    by_cause.sort_by(|a, b| (&a.cause, &a.id).cmp(&(&b.cause, &b.id)));
    let mut current = None;
    for signature in by_cause {
        if current != Some(&signature.cause) {
            current = Some(&signature.cause);
            let meaning = cause::meaning(&signature.cause).unwrap_or("a team's own cause");
            writeln!(out, "  {bold}{}{bold:#}  {meaning}", signature.cause)?;
        }
        let components = signature
            .components
            .iter()
            .map(|c| format!("{c:?}"))
            .collect::<Vec<_>>()
            .join(",");
        writeln!(
            out,
            "    {:<36} {:<5} {components}",
            signature.id,
            format!("{:?}", signature.severity).to_lowercase(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = r#"// ours
[
    (
        id: "payments-dlq",
        cause: "team.payments",
        severity: Warn,
        meaning: "Records went to the dead-letter topic.",
        fix: "Read the DLQ.",
        regexes: [r"sent to DLQ", r"DLQ ("],
    ),
]"#;

    #[test]
    fn a_signature_file_is_told_from_a_playbook() {
        assert!(is_signature_file(ENTRY));
        assert!(is_signature_file("/* c */ [ ]"));
        assert!(!is_signature_file("// x\nPlaybook(\n title: \"t\")"));
    }

    #[test]
    fn a_regex_that_does_not_compile_is_pointed_at() {
        let problems = validate("ours.ron", ENTRY).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        let shown = problems[0].to_string();
        assert!(
            shown.starts_with("ours.ron:9:35: regex of `payments-dlq` does not compile:"),
            "{shown}"
        );
        let fixed = ENTRY.replace(r#"r"DLQ (""#, r#"r"DLQ \(""#);
        assert_eq!(validate("ours.ron", &fixed).unwrap().signatures.len(), 1);
    }

    #[test]
    fn every_shipped_regex_compiles_with_the_scans_engine() {
        for (name, text) in triage_knowledge::files() {
            if let Err(problems) = validate(name, text) {
                panic!("{problems:?}");
            }
        }
    }

    #[test]
    fn the_listing_names_every_signature_with_its_cause() {
        let mut out = Vec::new();
        list(&mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        for signature in triage_knowledge::catalogue() {
            assert!(out.contains(&signature.id), "{}", signature.id);
            assert!(out.contains(&signature.cause), "{}", signature.cause);
        }
        assert!(out.contains("isr-shrunk-kraft"));
    }
}
