//! A hostile file reader. It reads, greps and asks the disk usage of the paths it is told,
//! `rounds` times over, and reports everything the host answered, so that a test can prove
//! that no byte from outside the grant (or from a secret) ever reached a plugin:
//!
//! - facts `read PATH`, `grep PATH`, `disk PATH`: the last answer for each path;
//! - facts `ok`, `denied`, `unavailable`, `invalid`, `timeout`: answers of each kind, all rounds;
//! - fact `leaks`: answers that carried `look_for` (a marker only forbidden content holds), and
//!   `first leak`: the first such text;
//! - one finding per path read or grepped, whose evidence is every text the host returned for
//!   it in the last round (read text, or matching lines with their context).
use triage_sdk::{
    Check, Finding, HostError, PluginInfo, Report, RunError, export_check, files, sys,
};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    read: Vec<String>,
    #[serde(default)]
    grep: Vec<String>,
    /// The pattern every grep uses.
    #[serde(default = "any_line")]
    regex: String,
    #[serde(default)]
    context: u32,
    #[serde(default)]
    disk: Vec<String>,
    #[serde(default = "one")]
    rounds: u32,
    #[serde(default)]
    look_for: Option<String>,
    #[serde(default = "read_cap")]
    max_bytes: u64,
}

fn any_line() -> String {
    ".".into()
}

fn one() -> u32 {
    1
}

fn read_cap() -> u64 {
    1 << 20
}

/// Bytes of text per evidence entry (the host keeps 4 KiB of each).
const EXCERPT: usize = 3000;

#[derive(Default)]
struct Tally {
    ok: u64,
    denied: u64,
    unavailable: u64,
    invalid: u64,
    timeout: u64,
    leaks: u64,
    first_leak: Option<String>,
}

impl Tally {
    fn error(&mut self, error: &HostError) -> String {
        match error {
            HostError::Denied(_) => self.denied += 1,
            HostError::Unavailable(_) => self.unavailable += 1,
            HostError::Invalid(_) => self.invalid += 1,
            HostError::Timeout => self.timeout += 1,
        }
        error.reason()
    }

    fn texts<'a>(&mut self, look_for: Option<&str>, texts: impl IntoIterator<Item = &'a str>) {
        let Some(marker) = look_for else { return };
        for text in texts {
            if text.contains(marker) {
                self.leaks += 1;
                self.first_leak
                    .get_or_insert_with(|| text.chars().take(200).collect());
            }
        }
    }
}

struct Files;

impl Check for Files {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "guest-files",
            "Reads, greps and sizes what it is told, repeatedly",
        )
        .param("read", "Paths to read", false)
        .param("grep", "Paths to grep", false)
        .param("regex", "The pattern of every grep", false)
        .param("context", "Context lines of every grep", false)
        .param("disk", "Paths to ask the disk usage of", false)
        .param("rounds", "How many times to do it all", false)
        .param("look_for", "A marker that must never arrive", false)
        .param("max_bytes", "Bytes asked of every read", false)
        .needs("files")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let look_for = params.look_for.as_deref();
        let mut tally = Tally::default();
        let mut report = Report::new("probed");
        let mut texts: Vec<(String, Vec<String>)> = Vec::new();
        for round in 0..params.rounds {
            let last = round + 1 == params.rounds;
            for path in &params.read {
                let answer = match files::read(path, params.max_bytes) {
                    Ok(content) => {
                        tally.ok += 1;
                        tally.texts(look_for, [content.text.as_str()]);
                        if last {
                            texts.push((format!("read {path}"), vec![content.text.clone()]));
                        }
                        format!(
                            "ok: {} bytes, size {}, truncated {}",
                            content.text.len(),
                            content.size,
                            content.truncated
                        )
                    }
                    Err(error) => tally.error(&error),
                };
                if last {
                    report = report.fact(format!("read {path}"), answer);
                }
            }
            for path in &params.grep {
                let request = files::GrepRequest {
                    path: path.clone(),
                    patterns: vec![files::Pattern {
                        name: "pattern".into(),
                        regex: params.regex.clone(),
                    }],
                    case_insensitive: false,
                    context: params.context,
                    max_examples: 20,
                    max_bytes: 0,
                };
                let answer = match files::grep(&request) {
                    Ok(result) => {
                        tally.ok += 1;
                        let hits = &result.hits[0];
                        let mut lines = Vec::new();
                        for line in hits.first.iter().chain(&hits.examples).chain(&hits.last) {
                            lines.push(line.text.clone());
                            lines.extend(line.before.iter().cloned());
                            lines.extend(line.after.iter().cloned());
                        }
                        tally.texts(look_for, lines.iter().map(String::as_str));
                        if last {
                            texts.push((format!("grep {path}"), lines));
                        }
                        format!(
                            "ok: {} files, {} bytes, truncated {}, {} matches",
                            result.files_scanned,
                            result.bytes_scanned,
                            result.truncated,
                            hits.count
                        )
                    }
                    Err(error) => tally.error(&error),
                };
                if last {
                    report = report.fact(format!("grep {path}"), answer);
                }
            }
            for path in &params.disk {
                let answer = match sys::disk_usage_of(path) {
                    Ok(disk) => {
                        tally.ok += 1;
                        format!(
                            "ok: {} bytes free on {}",
                            disk.available_bytes, disk.mount_point
                        )
                    }
                    Err(error) => tally.error(&error),
                };
                if last {
                    report = report.fact(format!("disk {path}"), answer);
                }
            }
        }
        for (what, answers) in texts {
            let mut finding = Finding::info("text", what.clone());
            for text in answers {
                let chars: Vec<char> = text.chars().collect();
                for chunk in chars.chunks(EXCERPT) {
                    finding = finding.evidence(what.clone(), chunk.iter().collect::<String>());
                }
            }
            report.push(finding);
        }
        Ok(report
            .fact("ok", tally.ok)
            .fact("denied", tally.denied)
            .fact("unavailable", tally.unavailable)
            .fact("invalid", tally.invalid)
            .fact("timeout", tally.timeout)
            .fact("leaks", tally.leaks)
            .fact("first leak", tally.first_leak.unwrap_or_default()))
    }
}

export_check!(Files);
