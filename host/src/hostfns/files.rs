//! `files`: bounded reads and host-side grep over granted paths. Read-only by construction:
//! nothing here opens a file for writing.
//!
//! Every file is opened beneath its grant's directory handle and checked on its descriptor
//! ([`crate::caps::files`]); every byte a plugin gets has its secrets masked
//! ([`crate::secrets`]); every read, walk and scan polls the step's deadline, so host
//! work stops when the step does (a blocking task outlives the future that awaited it).

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::time::Instant;

use super::{StepState, before, blocking};
use crate::caps::files::{FileDenied, Target};
use crate::scan::{self, Hit, Opened, ScanError, ScanRequest};
use crate::secrets::Masker;
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
/// Longest pattern: compiled programs grow with it (the regex crate caps them too).
const MAX_PATTERN_BYTES: usize = 4096;
/// Most example lines kept per pattern.
const MAX_EXAMPLES: u32 = 20;
/// Most context lines on each side of an example.
const MAX_CONTEXT: u32 = 10;
/// Bytes read at a time by `read`, between two looks at the deadline.
const READ_CHUNK: usize = 64 * 1024;

impl Host for StepState {
    async fn read(&mut self, path: String, max_bytes: u64) -> Result<FileContent, HostError> {
        let granted = self.env.grant.check_read(&path).map_err(refused)?;
        let limit = max_bytes.clamp(1, MAX_READ_BYTES);
        let (cancelled, stop) = stop_at(self.deadline());
        let outcome = before(
            self.deadline(),
            blocking(move || {
                let opened = granted.open_file().map_err(refused)?;
                let mut text = scan::text_reader(opened.file)
                    .map_err(|e| HostError::Denied(e.reason(&opened.shown)))?;
                // One byte past the limit tells a file that ends there from a longer one.
                let mut bytes = Vec::new();
                let mut chunk = vec![0u8; READ_CHUNK];
                while bytes.len() as u64 <= limit {
                    if stop() {
                        return Err(HostError::Timeout);
                    }
                    let room = (limit + 1 - bytes.len() as u64).min(READ_CHUNK as u64) as usize;
                    let n = text.read(&mut chunk[..room]).map_err(|e| {
                        HostError::Unavailable(format!("{}: {e}", opened.shown.display()))
                    })?;
                    if n == 0 {
                        break;
                    }
                    bytes.extend_from_slice(&chunk[..n]);
                }
                let truncated = bytes.len() as u64 > limit;
                bytes.truncate(limit as usize);
                Ok(FileContent {
                    path: opened.shown.display().to_string(),
                    text: String::from_utf8_lossy(&Masker::new().mask(&bytes)).into_owned(),
                    size: opened.size,
                    truncated,
                })
            }),
        )
        .await;
        cancelled.store(true, Ordering::Relaxed);
        outcome
    }

    async fn grep(&mut self, request: GrepRequest) -> Result<GrepResult, HostError> {
        let granted = self.env.grant.check_read(&request.path).map_err(refused)?;
        if request.patterns.is_empty() || request.patterns.len() > MAX_PATTERNS {
            return Err(HostError::Invalid(format!(
                "grep takes 1 to {MAX_PATTERNS} patterns, got {}",
                request.patterns.len()
            )));
        }
        if let Some(long) = request
            .patterns
            .iter()
            .find(|p| p.regex.len() > MAX_PATTERN_BYTES)
        {
            return Err(HostError::Invalid(format!(
                "pattern `{}` is {} bytes long; the most is {MAX_PATTERN_BYTES}",
                long.name,
                long.regex.len()
            )));
        }
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
        let (cancelled, stop) = stop_at(self.deadline());
        let outcome = before(
            self.deadline(),
            blocking(move || {
                let scanned = match granted.open().map_err(refused)? {
                    Target::File(opened) => {
                        let mut file = Some(opened.file);
                        let result = scan::scan(
                            std::slice::from_ref(&opened.shown),
                            &mut |_| file.take().map_or(Opened::Duplicate, Opened::File),
                            &scan_request,
                            &stop,
                        )
                        .map_err(scan_error)?;
                        // The one file asked for could not be read as text: say why.
                        if result.files_scanned == 0
                            && let Some(why) = &result.first_skip
                        {
                            return Err(HostError::Denied(why.clone()));
                        }
                        result
                    }
                    Target::Dir(dir) => {
                        let walk = dir.walk(&stop, MAX_FILES).map_err(refused)?;
                        let names: Vec<PathBuf> =
                            walk.files.iter().map(|f| dir.shown.join(f)).collect();
                        // A file reached through a symlink and by its own name is scanned once.
                        let mut seen = HashSet::new();
                        let mut result = scan::scan(
                            &names,
                            &mut |i| match dir.open(&walk.files[i]) {
                                Ok(opened) => match opened.file.metadata() {
                                    Ok(m) if !seen.insert((m.dev(), m.ino())) => Opened::Duplicate,
                                    _ => Opened::File(opened.file),
                                },
                                Err(
                                    FileDenied::Denied(why)
                                    | FileDenied::Unavailable(why)
                                    | FileDenied::Invalid(why),
                                ) => Opened::Refused(why),
                                Err(FileDenied::TimedOut) => Opened::Refused("timed out".into()),
                            },
                            &scan_request,
                            &stop,
                        )
                        .map_err(scan_error)?;
                        result.skipped += walk.skipped;
                        result.truncated |= walk.skipped > 0;
                        result
                    }
                };
                Ok(scanned)
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

/// A flag set when the host call returns (deadline or not), and the test the blocking work
/// polls: the flag, or the deadline itself. The blocking task outlives a dropped future, so
/// it must be told to stop.
fn stop_at(deadline: Instant) -> (Arc<AtomicBool>, impl Fn() -> bool + Send + Sync + 'static) {
    let cancelled = Arc::new(AtomicBool::new(false));
    let flag = cancelled.clone();
    let stop = move || flag.load(Ordering::Relaxed) || Instant::now() >= deadline;
    (cancelled, stop)
}

fn refused(error: FileDenied) -> HostError {
    match error {
        FileDenied::Denied(why) => HostError::Denied(why),
        FileDenied::Unavailable(why) => HostError::Unavailable(why),
        FileDenied::Invalid(why) => HostError::Invalid(why),
        FileDenied::TimedOut => HostError::Timeout,
    }
}

fn scan_error(error: ScanError) -> HostError {
    match error {
        ScanError::InvalidPattern { .. } => HostError::Invalid(error.to_string()),
        ScanError::Cancelled => HostError::Timeout,
    }
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
