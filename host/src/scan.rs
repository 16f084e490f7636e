//! The host-side line scanner behind `files.grep`: many named patterns over many files, in
//! one pass, with counts, first / last / example matches and optional context.
//!
//! Why host-side: a plugin scanning a multi-gigabyte broker log through a bounded `read` would
//! copy every byte into the sandbox. Here the bytes stay in the host and the scan runs at
//! ripgrep's speed: `grep-searcher` finds candidate lines with one combined matcher, and only
//! the rare matching line is tested against each pattern to attribute it. With the whole
//! signature catalogue (160+ wordings) one combined regex is slow whatever the engine; the
//! combined matcher is then [`prefilter::Prefilter`]: an Aho-Corasick pass over the words
//! every match must contain, the regex only on the lines that have one (issue 8, item 9).

mod prefilter;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use grep_matcher::{LineMatchKind, LineTerminator, Match, Matcher, NoCaptures};
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkContext, SinkMatch};
use regex::bytes::{RegexSet, RegexSetBuilder};

use crate::secrets::Masker;

/// Longest line kept in a result; longer ones are cut (with a marker).
pub const MAX_LINE_BYTES: usize = 1024;

/// Longest part of a line the scan looks at. The rest of a longer line is read past, not
/// matched, and the result says `truncated`. Without it a file with no newline made the
/// searcher hold the whole file as one line (issue 7: 3.8 GB for a 2 GiB file) and gave one
/// slow regex search a 200 MB haystack no deadline could interrupt.
pub const SCAN_LINE_CAP: usize = 64 * 1024;

/// Most bytes of the searcher's own line buffer (context lines included); a backstop, as
/// lines are cut at [`SCAN_LINE_CAP`].
const SEARCHER_HEAP_LIMIT: usize = 8 << 20;

/// Most bytes of example text (lines and their context) one scan keeps; past it, matches
/// are still counted, and first/last still kept, but no more examples.
const EXAMPLE_BUDGET: usize = 2 << 20;

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

/// The combined matcher: literals first when every pattern has necessary ones, the plain
/// regex matcher otherwise (a case-insensitive scan, a pattern such as `\d+ms`).
enum LineMatcher {
    Prefiltered(prefilter::Prefilter),
    Regex(RegexMatcher),
}

impl Matcher for LineMatcher {
    type Captures = NoCaptures;
    type Error = grep_matcher::NoError;

    fn find_at(&self, haystack: &[u8], at: usize) -> Result<Option<Match>, Self::Error> {
        match self {
            LineMatcher::Prefiltered(m) => m.find_at(haystack, at),
            // RegexMatcher's error type is `NoError` too: searching never fails.
            LineMatcher::Regex(m) => Ok(m.find_at(haystack, at).unwrap_or(None)),
        }
    }

    fn new_captures(&self) -> Result<NoCaptures, Self::Error> {
        Ok(NoCaptures::new())
    }

    fn line_terminator(&self) -> Option<LineTerminator> {
        match self {
            LineMatcher::Prefiltered(m) => m.line_terminator(),
            LineMatcher::Regex(m) => m.line_terminator(),
        }
    }

    fn find_candidate_line(&self, haystack: &[u8]) -> Result<Option<LineMatchKind>, Self::Error> {
        match self {
            LineMatcher::Prefiltered(m) => m.find_candidate_line(haystack),
            LineMatcher::Regex(m) => Ok(m.find_candidate_line(haystack).unwrap_or(None)),
        }
    }
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
    /// Files read to their end (or to the byte cap). A file that could not be read as text
    /// is not counted, whatever its name says.
    pub files_scanned: u32,
    /// Bytes read (after decompression).
    pub bytes_scanned: u64,
    /// True when not everything was looked at: the byte cap, a line cut at
    /// [`SCAN_LINE_CAP`], or a file left out.
    pub truncated: bool,
    /// Files left out: refused, not text (compressed in a format the host does not read),
    /// or failing part-way.
    pub skipped: u32,
    /// Why the first file left out was, for an operator.
    pub first_skip: Option<String>,
    /// Lines longer than [`SCAN_LINE_CAP`], scanned up to it.
    pub lines_cut: u64,
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
}

/// What the caller's opener made of one file.
pub enum Opened {
    /// Open, checked, ready to scan.
    File(File),
    /// Already scanned under another name: left out, and not a loss.
    Duplicate,
    /// Refused or unreadable, with the reason: left out, and said so.
    Refused(String),
}

/// Why a file is not read as text.
#[derive(Debug)]
pub enum NotText {
    /// Compressed (or archived) in a format the host does not decode; the format's name.
    Compressed(&'static str),
    /// Reading its first bytes failed.
    Io(io::Error),
}

impl NotText {
    /// The reason, for an operator.
    pub fn reason(&self, path: &Path) -> String {
        match self {
            NotText::Compressed(format) => format!(
                "{} is {format}: triage reads plain text and gzip, so that what a plugin gets \
                 can be bounded and its secrets masked; decompress it to check it",
                path.display()
            ),
            NotText::Io(error) => format!("{}: {error}", path.display()),
        }
    }
}

/// Compressed and archive formats, by magic number, that a plugin must not get raw: it
/// could inflate them itself, past the host's masking. gzip (rotated logs) is decoded.
const NOT_TEXT: &[(&[u8], &str)] = &[
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"\x04\x22\x4d\x18", "lz4-compressed"),
    (b"PK\x03\x04", "a zip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-zip archive"),
    (b"\xff\x06\x00\x00sNaPpY", "snappy-compressed"),
];

/// The text of `file`: itself, or what its gzip members decompress to.
pub fn text_reader(file: File) -> Result<Box<dyn Read + Send>, NotText> {
    let mut buffered = BufReader::with_capacity(64 * 1024, file);
    let head = buffered.fill_buf().map_err(NotText::Io)?;
    if head.starts_with(b"\x1f\x8b") {
        // Multi-member: `cat a.gz b.gz` and some rotators write several members.
        return Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)));
    }
    let bzip2 = head.len() >= 4 && head.starts_with(b"BZh") && head[3].is_ascii_digit();
    if bzip2 {
        return Err(NotText::Compressed("bzip2-compressed"));
    }
    if let Some((_, format)) = NOT_TEXT.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Err(NotText::Compressed(format));
    }
    Ok(Box::new(buffered))
}

/// Scan the files named `names`, in order, opening each (through `open`, with its index)
/// only when the scan reaches it. `cancelled` is polled on every read — inside one long line
/// too — so that a scan stops promptly at the step's deadline.
pub fn scan(
    names: &[PathBuf],
    open: &mut dyn FnMut(usize) -> Opened,
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
    let prefiltered = if request.case_insensitive {
        None
    } else {
        prefilter::Prefilter::new(&regexes)
    };
    let matcher = match prefiltered {
        Some(prefilter) => LineMatcher::Prefiltered(prefilter),
        None => LineMatcher::Regex(
            RegexMatcherBuilder::new()
                .case_insensitive(request.case_insensitive)
                .line_terminator(Some(b'\n'))
                .build_many(&regexes)
                .map_err(|e| ScanError::InvalidPattern {
                    name: "(combined)".into(),
                    reason: e.to_string(),
                })?,
        ),
    };
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
        .heap_limit(Some(SEARCHER_HEAP_LIMIT))
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
    let skip = |result: &mut ScanResult, why: String| {
        result.skipped += 1;
        result.first_skip.get_or_insert(why);
    };
    let mut remaining = request.max_bytes;
    let mut example_budget = EXAMPLE_BUDGET;
    for (index, path) in names.iter().enumerate() {
        if cancelled() {
            return Err(ScanError::Cancelled);
        }
        if remaining == 0 {
            result.truncated = true;
            break;
        }
        let file = match open(index) {
            Opened::File(file) => file,
            Opened::Duplicate => continue,
            Opened::Refused(why) => {
                skip(&mut result, why);
                continue;
            }
        };
        let text = match text_reader(file) {
            Ok(text) => text,
            Err(not_text) => {
                skip(&mut result, not_text.reason(path));
                continue;
            }
        };
        let mut bounded = BoundedReader {
            inner: text,
            remaining,
            read: 0,
            hit_cap: false,
            cancelled,
        };
        let mut lines = LineGuard::new(&mut bounded);
        let mut sink = HitSink {
            file: path,
            set: &attribution,
            request,
            hits: &mut result.hits,
            before: Vec::new(),
            current: None,
            example_budget: &mut example_budget,
        };
        let outcome = searcher.search_reader(&matcher, &mut lines, &mut sink);
        sink.finish();
        result.lines_cut += lines.lines_cut;
        result.bytes_scanned += bounded.read;
        remaining -= bounded.read;
        if let Err(error) = outcome {
            if cancelled() {
                return Err(ScanError::Cancelled);
            }
            // A gzip member corrupt half-way, a disk error: what was read counts, the file
            // does not.
            skip(&mut result, format!("{}: {error}", path.display()));
            continue;
        }
        result.files_scanned += 1;
        if bounded.hit_cap {
            result.truncated = true;
        }
    }
    result.truncated |= result.lines_cut > 0 || result.skipped > 0;
    Ok(result)
}

/// Reads at most `remaining` bytes and fails once the caller cancels. `hit_cap` says whether
/// the cap stopped it before the end.
struct BoundedReader<'a, R> {
    inner: R,
    remaining: u64,
    read: u64,
    hit_cap: bool,
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
        if room == 0 {
            if !buf.is_empty() && !self.hit_cap {
                // One byte more tells a file that ends exactly at the cap from a longer one.
                self.hit_cap = self.inner.read(&mut [0u8; 1])? > 0;
            }
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..room])?;
        self.read += n as u64;
        Ok(n)
    }
}

/// What the searcher reads: the file's lines, each cut at [`SCAN_LINE_CAP`] (the rest read
/// past), with sensitive values masked ([`Masker`]), so that a pattern can neither match a
/// secret nor count one. Holds at most a few times [`SCAN_LINE_CAP`].
struct LineGuard<R> {
    inner: R,
    chunk: Vec<u8>,
    /// The current line's start, from earlier chunks; never longer than the cap.
    carry: Vec<u8>,
    /// The current line passed the cap: its remaining bytes are dropped until its end.
    cutting: bool,
    /// Whether what was dropped so far ends in an odd run of backslashes (a continued
    /// properties value, which the masker must know about).
    cut_continues: bool,
    out: Vec<u8>,
    out_at: usize,
    masker: Masker,
    done: bool,
    lines_cut: u64,
}

impl<R: Read> LineGuard<R> {
    fn new(inner: R) -> LineGuard<R> {
        LineGuard {
            inner,
            chunk: vec![0; SCAN_LINE_CAP],
            carry: Vec::with_capacity(SCAN_LINE_CAP),
            cutting: false,
            cut_continues: false,
            out: Vec::new(),
            out_at: 0,
            masker: Masker::new(),
            done: false,
            lines_cut: 0,
        }
    }

    /// Read one chunk and turn it into output lines.
    fn refill(&mut self) -> io::Result<()> {
        let mut chunk = std::mem::take(&mut self.chunk);
        let n = loop {
            match self.inner.read(&mut chunk) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = match n {
            Ok(n) => n,
            Err(error) => {
                self.chunk = chunk;
                return Err(error);
            }
        };
        if n == 0 {
            self.done = true;
            if self.cutting || !self.carry.is_empty() {
                self.end_line(false);
            }
        } else {
            self.take(&chunk[..n]);
        }
        self.chunk = chunk;
        Ok(())
    }

    fn take(&mut self, mut data: &[u8]) {
        // The line in progress, begun in an earlier chunk.
        if self.cutting || !self.carry.is_empty() {
            let newline = memchr::memchr(b'\n', data);
            let line = &data[..newline.unwrap_or(data.len())];
            if self.cutting {
                self.drop_bytes(line);
            } else {
                let room = SCAN_LINE_CAP - self.carry.len();
                if line.len() <= room {
                    self.carry.extend_from_slice(line);
                } else {
                    self.carry.extend_from_slice(&line[..room]);
                    self.start_cutting(&line[room..]);
                }
            }
            let Some(newline) = newline else { return };
            self.end_line(true);
            data = &data[newline + 1..];
        }
        // Whole lines, each shorter than a chunk and so than the cap.
        if let Some(last) = memchr::memrchr(b'\n', data) {
            let masked = self.masker.mask(&data[..=last]);
            self.out.extend_from_slice(&masked);
            data = &data[last + 1..];
        }
        // The start of the next line.
        self.carry.extend_from_slice(data);
    }

    fn start_cutting(&mut self, dropped: &[u8]) {
        self.cutting = true;
        self.cut_continues = trailing_backslashes(&self.carry) % 2 == 1;
        self.drop_bytes(dropped);
    }

    fn drop_bytes(&mut self, dropped: &[u8]) {
        let dropped = dropped.strip_suffix(b"\r").unwrap_or(dropped);
        let run = trailing_backslashes(dropped);
        if run == dropped.len() {
            self.cut_continues ^= run % 2 == 1;
        } else {
            self.cut_continues = run % 2 == 1;
        }
    }

    fn end_line(&mut self, newline: bool) {
        if self.cutting {
            let masked = self.masker.mask_cut_line(&self.carry, self.cut_continues);
            self.out.extend_from_slice(&masked);
            self.lines_cut += 1;
            self.cutting = false;
        } else {
            let masked = self.masker.mask(&self.carry);
            self.out.extend_from_slice(&masked);
        }
        if newline {
            self.out.push(b'\n');
        }
        self.carry.clear();
    }
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_at == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.out.clear();
            self.out_at = 0;
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.out_at);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

fn trailing_backslashes(bytes: &[u8]) -> usize {
    bytes.iter().rev().take_while(|&&b| b == b'\\').count()
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
    /// Bytes of example text the scan may still keep.
    example_budget: &'a mut usize,
}

impl HitSink<'_> {
    /// File the pending match under each pattern it matched.
    fn finish(&mut self) {
        let Some((hit, patterns)) = self.current.take() else {
            return;
        };
        let size = hit.text.len()
            + hit
                .before
                .iter()
                .chain(&hit.after)
                .map(String::len)
                .sum::<usize>();
        for index in patterns {
            let entry = &mut self.hits[index];
            if entry.first.is_none() {
                entry.first = Some(hit.clone());
            }
            if entry.examples.len() < self.request.max_examples && size <= *self.example_budget {
                *self.example_budget -= size;
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
    use std::io::Write;

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

    /// Scan files by path (the tests' opener: no grant involved).
    fn scan_files(
        files: &[PathBuf],
        request: &ScanRequest,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<ScanResult, ScanError> {
        scan(
            files,
            &mut |i| match File::open(&files[i]) {
                Ok(file) => Opened::File(file),
                Err(e) => Opened::Refused(e.to_string()),
            },
            request,
            cancelled,
        )
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
        let result = scan_files(
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
        let result = scan_files(
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
        let result = scan_files(&[log], &req, &|| false).unwrap();
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
        let result = scan_files(std::slice::from_ref(&log), &req, &|| false).unwrap();
        assert!(result.truncated);
        assert_eq!(result.hits[0].count, 10);
        assert!(matches!(
            scan_files(&[log], &request(&[("err", "ERROR")]), &|| true),
            Err(ScanError::Cancelled)
        ));
    }

    #[test]
    fn a_bad_regex_is_named() {
        let err = scan_files(&[], &request(&[("broken", "(")]), &|| false).unwrap_err();
        assert!(err.to_string().contains("`broken`"), "{err}");
    }

    #[test]
    fn a_line_longer_than_the_cap_is_scanned_up_to_it_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = "x".repeat(SCAN_LINE_CAP - 5);
        text.push_str("ERROR here, past the cap ERROR");
        text.push_str("\nERROR on the next line\n");
        let log = write(dir.path(), "long.log", &text);
        let result = scan_files(&[log], &request(&[("err", "ERROR")]), &|| false).unwrap();
        assert_eq!(result.lines_cut, 1);
        assert!(result.truncated);
        // The first ERROR starts before the cap (its match is cut); the second is past it.
        assert_eq!(result.hits[0].count, 2);
        assert_eq!(result.hits[0].last.as_ref().unwrap().line, 2);
        assert_eq!(result.bytes_scanned, text.len() as u64);
    }

    #[test]
    fn lines_longer_than_a_chunk_keep_their_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for i in 0..5 {
            text.push_str(&"y".repeat(SCAN_LINE_CAP * 2 + i));
            text.push('\n');
            text.push_str(&format!("match {i}\n"));
        }
        let log = write(dir.path(), "a.log", &text);
        let result = scan_files(&[log], &request(&[("m", "^match")]), &|| false).unwrap();
        assert_eq!(result.hits[0].count, 5);
        assert_eq!(result.hits[0].last.as_ref().unwrap().line, 10);
        assert_eq!(result.lines_cut, 5);
    }

    #[test]
    fn secrets_are_masked_before_patterns_see_them() {
        let dir = tempfile::tempdir().unwrap();
        let config = write(
            dir.path(),
            "producer.properties",
            "acks=all\nsasl.jaas.config=x required \\\n  password=\"hunter2\";\nssl.key.password=hunter2\n",
        );
        let mut req = request(&[("secret", "hunter2"), ("key", "password")]);
        req.context = 1;
        let result = scan_files(&[config], &req, &|| false).unwrap();
        assert_eq!(result.hits[0].count, 0);
        assert_eq!(
            result.hits[1].last.as_ref().unwrap().text,
            "ssl.key.password=<redacted: set>"
        );
    }

    #[test]
    fn gzip_is_decompressed_and_other_archives_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("server.log.1.gz");
        let mut encoder =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        encoder.write_all(b"ERROR one\nok\nERROR two\n").unwrap();
        encoder.finish().unwrap();
        let zst = dir.path().join("server.log.2.zst");
        std::fs::write(&zst, b"\x28\xb5\x2f\xfdERROR").unwrap();
        let result =
            scan_files(&[gz, zst.clone()], &request(&[("err", "ERROR")]), &|| false).unwrap();
        assert_eq!(result.hits[0].count, 2);
        assert_eq!((result.files_scanned, result.skipped), (1, 1));
        assert!(result.truncated);
        assert!(result.first_skip.unwrap().contains("zstd-compressed"));
    }
}
