//! The host-side line scanner behind `files.grep`: many named patterns over many files, in
//! one pass, with counts, first / last / example matches and optional context.
//!
//! Why host-side: a plugin scanning a multi-gigabyte broker log through a bounded `read` would
//! copy every byte into the sandbox. Here the bytes stay in the host and the scan runs at
//! ripgrep's speed: `grep-searcher` finds candidate lines with one combined matcher (literal
//! prefilters, SIMD), and only the rare matching line is tested against each pattern to
//! attribute it.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use grep_regex::RegexMatcherBuilder;
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkContext, SinkMatch};
use regex::bytes::{RegexSet, RegexSetBuilder};

/// Longest line kept in a result; longer ones are cut (with a marker).
pub const MAX_LINE_BYTES: usize = 1024;

/// What to look for.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// `(name, regex)` pairs.
    pub patterns: Vec<(String, String)>,
    /// Match case-insensitively.
    pub case_insensitive: bool,
    /// Lines of context kept around example matches.
    pub context: usize,
    /// Example matches kept per pattern (first and last are kept separately).
    pub max_examples: usize,
    /// Stop after scanning this many bytes in total.
    pub max_bytes: u64,
}

/// One matching line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The file it is in.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: u64,
    /// The line, without its terminator, cut at [`MAX_LINE_BYTES`].
    pub text: String,
    /// Context lines before it.
    pub before: Vec<String>,
    /// Context lines after it.
    pub after: Vec<String>,
}

/// Everything found for one pattern.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatternHits {
    /// The pattern's name.
    pub name: String,
    /// Matching lines.
    pub count: u64,
    /// The first matching line.
    pub first: Option<Hit>,
    /// The last matching line.
    pub last: Option<Hit>,
    /// Up to `max_examples` matching lines, in order.
    pub examples: Vec<Hit>,
}

/// The result of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanResult {
    /// Files opened and scanned (fully or until the byte cap).
    pub files_scanned: u32,
    /// Bytes read.
    pub bytes_scanned: u64,
    /// True when the byte cap stopped the scan before the end.
    pub truncated: bool,
    /// One entry per requested pattern, in request order.
    pub hits: Vec<PatternHits>,
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A pattern does not compile.
    #[error("invalid pattern `{name}`: {reason}")]
    InvalidPattern {
        /// The pattern's name.
        name: String,
        /// The regex engine's message.
        reason: String,
    },
    /// The caller's deadline passed.
    #[error("the scan was cancelled at the deadline")]
    Cancelled,
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// Scan `files` in order. `cancelled` is polled between reads so that a scan stops promptly
/// at the step's deadline.
pub fn scan(
    files: &[PathBuf],
    request: &ScanRequest,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<ScanResult, ScanError> {
    for (name, regex) in &request.patterns {
        regex::bytes::RegexBuilder::new(regex)
            .build()
            .map_err(|e| ScanError::InvalidPattern {
                name: name.clone(),
                reason: e.to_string(),
            })?;
    }
    let regexes: Vec<&str> = request.patterns.iter().map(|(_, r)| r.as_str()).collect();
    let matcher = RegexMatcherBuilder::new()
        .case_insensitive(request.case_insensitive)
        .line_terminator(Some(b'\n'))
        .build_many(&regexes)
        .map_err(|e| ScanError::InvalidPattern {
            name: "(combined)".into(),
            reason: e.to_string(),
        })?;
    let attribution = RegexSetBuilder::new(&regexes)
        .case_insensitive(request.case_insensitive)
        .build()
        .map_err(|e| ScanError::InvalidPattern {
            name: "(set)".into(),
            reason: e.to_string(),
        })?;
    let mut searcher = SearcherBuilder::new()
        .line_number(true)
        .before_context(request.context)
        .after_context(request.context)
        .binary_detection(BinaryDetection::none())
        .build();

    let mut result = ScanResult {
        hits: request
            .patterns
            .iter()
            .map(|(name, _)| PatternHits {
                name: name.clone(),
                ..PatternHits::default()
            })
            .collect(),
        ..ScanResult::default()
    };
    let mut remaining = request.max_bytes;
    for path in files {
        if remaining == 0 {
            result.truncated = true;
            break;
        }
        let file = File::open(path).map_err(|source| ScanError::Io {
            path: path.clone(),
            source,
        })?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut reader = BoundedReader {
            inner: file,
            remaining,
            read: 0,
            cancelled,
        };
        let mut sink = HitSink {
            file: path,
            set: &attribution,
            request,
            hits: &mut result.hits,
            before: Vec::new(),
            current: None,
        };
        let outcome = searcher.search_reader(&matcher, &mut reader, &mut sink);
        sink.finish();
        result.files_scanned += 1;
        result.bytes_scanned += reader.read;
        remaining -= reader.read;
        if let Err(error) = outcome {
            if cancelled() {
                return Err(ScanError::Cancelled);
            }
            return Err(ScanError::Io {
                path: path.clone(),
                source: error,
            });
        }
        if reader.read < size {
            result.truncated = true;
        }
    }
    Ok(result)
}

/// Reads at most `remaining` bytes and fails once the caller cancels.
struct BoundedReader<'a, R> {
    inner: R,
    remaining: u64,
    read: u64,
    cancelled: &'a (dyn Fn() -> bool + Sync),
}

impl<R: Read> Read for BoundedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if (self.cancelled)() {
            return Err(io::Error::other("cancelled at the deadline"));
        }
        let room = usize::try_from(self.remaining - self.read)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..room])?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Collects matches; context lines are attached to the match they surround.
struct HitSink<'a> {
    file: &'a Path,
    set: &'a RegexSet,
    request: &'a ScanRequest,
    hits: &'a mut [PatternHits],
    /// Context lines seen since the last match.
    before: Vec<String>,
    /// The latest match and the patterns it matched, still collecting after-context.
    current: Option<(Hit, Vec<usize>)>,
}

impl HitSink<'_> {
    /// File the pending match under each pattern it matched.
    fn finish(&mut self) {
        let Some((hit, patterns)) = self.current.take() else {
            return;
        };
        for index in patterns {
            let entry = &mut self.hits[index];
            if entry.first.is_none() {
                entry.first = Some(hit.clone());
            }
            if entry.examples.len() < self.request.max_examples {
                entry.examples.push(hit.clone());
            }
            entry.last = Some(hit.clone());
        }
    }
}

impl Sink for HitSink<'_> {
    type Error = io::Error;

    fn matched(&mut self, _: &Searcher, found: &SinkMatch<'_>) -> Result<bool, io::Error> {
        self.finish();
        let line = trim_terminator(found.bytes());
        let patterns: Vec<usize> = self.set.matches(line).into_iter().collect();
        for &index in &patterns {
            self.hits[index].count += 1;
        }
        let hit = Hit {
            file: self.file.to_path_buf(),
            line: found.line_number().unwrap_or(0),
            text: lossy_line(line),
            before: std::mem::take(&mut self.before),
            after: Vec::new(),
        };
        self.current = Some((hit, patterns));
        Ok(true)
    }

    fn context(&mut self, _: &Searcher, context: &SinkContext<'_>) -> Result<bool, io::Error> {
        let line = lossy_line(trim_terminator(context.bytes()));
        match (context.kind(), self.current.as_mut()) {
            (grep_searcher::SinkContextKind::After, Some((hit, _))) => hit.after.push(line),
            _ => {
                self.before.push(line);
                // Before-context of the next match only: keep the newest lines.
                if self.before.len() > self.request.context {
                    self.before.remove(0);
                }
            }
        }
        Ok(true)
    }
}

fn trim_terminator(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn lossy_line(line: &[u8]) -> String {
    if line.len() <= MAX_LINE_BYTES {
        return String::from_utf8_lossy(line).into_owned();
    }
    let mut text = String::from_utf8_lossy(&line[..MAX_LINE_BYTES]).into_owned();
    text.push_str(" …");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(patterns: &[(&str, &str)]) -> ScanRequest {
        ScanRequest {
            patterns: patterns
                .iter()
                .map(|(n, r)| (n.to_string(), r.to_string()))
                .collect(),
            case_insensitive: false,
            context: 0,
            max_examples: 2,
            max_bytes: u64::MAX,
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn counts_each_pattern_with_first_last_and_examples() {
        let dir = tempfile::tempdir().unwrap();
        let log = write(
            dir.path(),
            "server.log",
            "ok\nShrinking ISR for p-0\nok\nShrinking ISR for p-1\nTimeoutException x\nShrinking ISR for p-2\n",
        );
        let result = scan(
            &[log],
            &request(&[
                ("isr", "Shrinking ISR"),
                ("timeout", "TimeoutException"),
                ("oom", "OutOfMemory"),
            ]),
            &|| false,
        )
        .unwrap();
        let isr = &result.hits[0];
        assert_eq!(isr.count, 3);
        assert_eq!(isr.first.as_ref().unwrap().line, 2);
        assert_eq!(isr.last.as_ref().unwrap().text, "Shrinking ISR for p-2");
        assert_eq!(isr.examples.len(), 2);
        assert_eq!(result.hits[1].count, 1);
        assert_eq!(result.hits[2].count, 0);
        assert!(!result.truncated);
    }

    #[test]
    fn one_line_matching_two_patterns_counts_for_both() {
        let dir = tempfile::tempdir().unwrap();
        let log = write(dir.path(), "a.log", "NotEnoughReplicas TimeoutException\n");
        let result = scan(
            &[log],
            &request(&[("a", "NotEnough"), ("b", "Timeout")]),
            &|| false,
        )
        .unwrap();
        assert_eq!((result.hits[0].count, result.hits[1].count), (1, 1));
    }

    #[test]
    fn context_lines_attach_to_their_match() {
        let dir = tempfile::tempdir().unwrap();
        let log = write(dir.path(), "a.log", "1\n2\nERROR boom\n4\n5\n6\n");
        let mut req = request(&[("err", "ERROR")]);
        req.context = 1;
        let result = scan(&[log], &req, &|| false).unwrap();
        let hit = result.hits[0].first.clone().unwrap();
        assert_eq!(
            (hit.before, hit.after),
            (vec!["2".to_owned()], vec!["4".to_owned()])
        );
    }

    #[test]
    fn byte_cap_truncates_and_cancel_stops() {
        let dir = tempfile::tempdir().unwrap();
        let log = write(dir.path(), "a.log", &"ERROR\n".repeat(1000));
        let mut req = request(&[("err", "ERROR")]);
        req.max_bytes = 60;
        let result = scan(std::slice::from_ref(&log), &req, &|| false).unwrap();
        assert!(result.truncated);
        assert_eq!(result.hits[0].count, 10);
        assert!(matches!(
            scan(&[log], &request(&[("err", "ERROR")]), &|| true),
            Err(ScanError::Cancelled)
        ));
    }

    #[test]
    fn a_bad_regex_is_named() {
        let err = scan(&[], &request(&[("broken", "(")]), &|| false).unwrap_err();
        assert!(err.to_string().contains("`broken`"), "{err}");
    }
}
