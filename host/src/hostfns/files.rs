//! `files`: bounded reads and host-side grep over granted paths. Read-only by construction:
//! nothing here opens a file for writing.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{StepState, before, blocking};
use crate::caps::{FileDenied, Grant};
use crate::scan::{self, Hit, ScanError, ScanRequest};
use crate::wit::HostError;
use crate::wit::triage::plugin::files::{
    FileContent, GrepRequest, GrepResult, Host, MatchLine, PatternHits,
};

/// Most bytes one `read` returns, whatever the plugin asks.
const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;
/// Bytes one `grep` scans when the plugin sets no cap.
const DEFAULT_SCAN_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Most bytes one `grep` may scan.
const MAX_SCAN_BYTES: u64 = 64 * 1024 * 1024 * 1024;
/// Most files one `grep` of a directory visits.
const MAX_FILES: usize = 10_000;
/// Most patterns in one request; each costs a pass over matching lines.
const MAX_PATTERNS: usize = 64;
/// Most examples kept per pattern.
const MAX_EXAMPLES: u32 = 20;
/// Most context lines on each side of an example.
const MAX_CONTEXT: u32 = 10;

impl Host for StepState {
    async fn read(&mut self, path: String, max_bytes: u64) -> Result<FileContent, HostError> {
        let canonical = self.env.grant.check_read(&path).map_err(denied)?;
        let limit = max_bytes.clamp(1, MAX_READ_BYTES);
        before(
            self.deadline(),
            blocking(move || read_bounded(&canonical, limit)),
        )
        .await
    }

    async fn grep(&mut self, request: GrepRequest) -> Result<GrepResult, HostError> {
        let root = self.env.grant.check_read(&request.path).map_err(denied)?;
        if request.patterns.is_empty() || request.patterns.len() > MAX_PATTERNS {
            return Err(HostError::Invalid(format!(
                "grep takes 1 to {MAX_PATTERNS} patterns, got {}",
                request.patterns.len()
            )));
        }
        let grant = self.env.grant.clone();
        let scan_request = ScanRequest {
            patterns: request
                .patterns
                .into_iter()
                .map(|p| (p.name, p.regex))
                .collect(),
            case_insensitive: request.case_insensitive,
            context: request.context.min(MAX_CONTEXT) as usize,
            max_examples: request.max_examples.min(MAX_EXAMPLES) as usize,
            max_bytes: match request.max_bytes {
                0 => DEFAULT_SCAN_BYTES,
                n => n.min(MAX_SCAN_BYTES),
            },
        };
        // The blocking scan outlives a dropped future, so it is told to stop explicitly
        // when the deadline passes.
        let cancelled = Arc::new(AtomicBool::new(false));
        let flag = cancelled.clone();
        let deadline = self.env.deadline;
        let outcome = before(
            deadline,
            blocking(move || {
                let files = files_under(&root, &grant)?;
                let stop =
                    || flag.load(Ordering::Relaxed) || tokio::time::Instant::now() >= deadline;
                scan::scan(&files, &scan_request, &stop).map_err(|e| match e {
                    ScanError::InvalidPattern { .. } => HostError::Invalid(e.to_string()),
                    ScanError::Cancelled => HostError::Timeout,
                    ScanError::Io { .. } => HostError::Unavailable(e.to_string()),
                })
            }),
        )
        .await;
        cancelled.store(true, Ordering::Relaxed);
        let result = outcome?;
        Ok(GrepResult {
            files_scanned: result.files_scanned,
            bytes_scanned: result.bytes_scanned,
            truncated: result.truncated,
            hits: result
                .hits
                .into_iter()
                .map(|h| PatternHits {
                    name: h.name,
                    count: h.count,
                    first: h.first.map(match_line),
                    last: h.last.map(match_line),
                    examples: h.examples.into_iter().map(match_line).collect(),
                })
                .collect(),
        })
    }
}

fn denied(error: FileDenied) -> HostError {
    match error {
        FileDenied::Denied(why) => HostError::Denied(why),
        FileDenied::Unavailable(why) => HostError::Unavailable(why),
    }
}

fn read_bounded(path: &Path, limit: u64) -> Result<FileContent, HostError> {
    let unavailable =
        |e: std::io::Error| HostError::Unavailable(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(unavailable)?;
    let size = file.metadata().map_err(unavailable)?.len();
    if !path.is_file() {
        return Err(HostError::Invalid(format!(
            "{} is not a file",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(unavailable)?;
    Ok(FileContent {
        path: path.display().to_string(),
        text: String::from_utf8_lossy(&bytes).into_owned(),
        size,
        truncated: (bytes.len() as u64) < size,
    })
}

/// The regular files to scan: `root` itself, or every file below it in name order. Entries
/// that resolve outside the grant (a symlink out of a granted directory) are skipped.
fn files_under(root: &Path, grant: &Grant) -> Result<Vec<PathBuf>, HostError> {
    if root.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| HostError::Unavailable(format!("{}: {e}", dir.display())))?;
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children.into_iter().rev() {
            let Ok(real) = std::fs::canonicalize(&child) else {
                continue;
            };
            if !grant.covers_canonical(&real) {
                continue;
            }
            if real.is_dir() {
                pending.push(real);
            } else if real.is_file() {
                files.push(real);
                if files.len() > MAX_FILES {
                    return Err(HostError::Invalid(format!(
                        "{} holds more than {MAX_FILES} files; grep a narrower path",
                        root.display()
                    )));
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

fn match_line(hit: Hit) -> MatchLine {
    MatchLine {
        file: hit.file.display().to_string(),
        line: hit.line,
        text: hit.text,
        before: hit.before,
        after: hit.after,
    }
}
