//! The Prometheus text exposition format (version 0.0.4), as a JMX exporter serves it:
//! `# HELP` / `# TYPE` lines, other comments, and samples
//! `name{label="value",...} value [timestamp]` with escaped label values, `NaN` and `±Inf`
//! values and optional millisecond timestamps.
//!
//! Why not a crate: none we found was both adequate and maintained. `prometheus-parse` splits
//! label pairs on `,` and `=` and never unescapes (a value holding `,`, `=`, `}` or `\"`
//! breaks the line) and pulls `chrono` and `regex` into the plugin; `openmetrics-parser` is
//! LGPL-3.0 (awkward to link statically into an Apache-2.0 binary) and refuses a whole page
//! for one odd line; `prom_text_format_parser` is a two-commit sketch from 2023 that keeps
//! escapes undecoded. The format is small and exactly specified, so this module follows the
//! specification line by line and is tested against its own example.
//!
//! A malformed line is not fatal: it is reported with its line number (and metric name when
//! that much parsed), so a caller can say "the page has your metric, but unreadable" instead
//! of silently treating it as absent.

use std::collections::BTreeMap;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric name as written (case kept).
    pub name: String,
    /// Label pairs in page order, values unescaped.
    pub labels: Vec<(String, String)>,
    /// The value; may be NaN or infinite.
    pub value: f64,
    /// Milliseconds since the epoch, when the line carries one.
    pub timestamp_ms: Option<i64>,
    /// 1-based line number.
    pub line: usize,
}

impl Sample {
    /// The value of label `name`, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A line that does not follow the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// The metric name, when the line got that far.
    pub name: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// A parsed page.
#[derive(Debug, Default)]
pub struct Exposition {
    /// Every well-formed sample, in page order.
    pub samples: Vec<Sample>,
    /// `# TYPE` declarations: metric family name → type (`counter`, `gauge`, …).
    pub types: BTreeMap<String, String>,
    /// `# HELP` texts, unescaped.
    pub help: BTreeMap<String, String>,
    /// Lines that could not be read.
    pub errors: Vec<LineError>,
}

/// Parse a whole page.
pub fn parse(page: &str) -> Exposition {
    let mut exposition = Exposition::default();
    for (index, raw) in page.split('\n').enumerate() {
        let line = index + 1;
        // The format ends lines with \n; a server on Windows may add \r.
        let text = raw
            .strip_suffix('\r')
            .unwrap_or(raw)
            .trim_start_matches(is_blank);
        if text.trim_end_matches(is_blank).is_empty() {
            continue;
        }
        if let Some(comment) = text.strip_prefix('#') {
            read_comment(comment, &mut exposition);
            continue;
        }
        match read_sample(text, line) {
            Ok(sample) => exposition.samples.push(sample),
            Err((name, reason)) => exposition.errors.push(LineError { line, name, reason }),
        }
    }
    exposition
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `# HELP name text`, `# TYPE name type`; anything else after `#` is a plain comment.
fn read_comment(comment: &str, exposition: &mut Exposition) {
    let mut words = comment.trim_start_matches(is_blank).splitn(2, is_blank);
    let keyword = words.next().unwrap_or_default();
    let rest = words
        .next()
        .unwrap_or_default()
        .trim_start_matches(is_blank);
    let (name, text) = rest.split_once(is_blank).unwrap_or((rest, ""));
    if name.is_empty() || !is_metric_name(name) {
        return;
    }
    match keyword {
        "HELP" => {
            // HELP text escapes only `\\` and `\n`.
            let text = unescape(text, false).unwrap_or_else(|_| text.to_owned());
            exposition.help.insert(name.to_owned(), text);
        }
        "TYPE" => {
            exposition
                .types
                .insert(name.to_owned(), text.trim_matches(is_blank).to_owned());
        }
        _ => {}
    }
}

/// `name{labels} value [timestamp]`; on error, the name (if read) and why.
fn read_sample(text: &str, line: usize) -> Result<Sample, (Option<String>, String)> {
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    if !is_metric_name(name) {
        return Err((None, format!("`{}` is not a metric name", first_word(text))));
    }
    let fail = |reason: String| (Some(name.to_owned()), reason);
    let mut rest = text[name_end..].trim_start_matches(is_blank);
    let mut labels = Vec::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        rest = read_labels(after_brace, &mut labels).map_err(fail)?;
    }
    let mut fields = rest.split(is_blank).filter(|f| !f.is_empty());
    let value_text = fields
        .next()
        .ok_or_else(|| fail("no value after the name".into()))?;
    let value =
        parse_value(value_text).ok_or_else(|| fail(format!("`{value_text}` is not a number")))?;
    let timestamp_ms = match fields.next() {
        None => None,
        Some(ts) => Some(
            ts.parse::<i64>()
                .map_err(|_| fail(format!("`{ts}` is not a timestamp (integer milliseconds)")))?,
        ),
    };
    if let Some(extra) = fields.next() {
        return Err(fail(format!("unexpected `{extra}` after the timestamp")));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
        timestamp_ms,
        line,
    })
}

/// Read `label="value", ...}` (the opening brace already consumed); returns what follows
/// the closing brace.
fn read_labels<'a>(
    mut text: &'a str,
    labels: &mut Vec<(String, String)>,
) -> Result<&'a str, String> {
    loop {
        text = text.trim_start_matches(is_blank);
        if let Some(after) = text.strip_prefix('}') {
            return Ok(after.trim_start_matches(is_blank));
        }
        let name_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let label = &text[..name_end];
        if label.is_empty() || label.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("`{}` is not a label name", first_word(text)));
        }
        text = text[name_end..].trim_start_matches(is_blank);
        text = text
            .strip_prefix('=')
            .ok_or_else(|| format!("label `{label}` has no `=`"))?
            .trim_start_matches(is_blank);
        text = text
            .strip_prefix('"')
            .ok_or_else(|| format!("the value of label `{label}` is not quoted"))?;
        let close = closing_quote(text)
            .ok_or_else(|| format!("the value of label `{label}` is not closed"))?;
        let value = unescape(&text[..close], true)
            .map_err(|escape| format!("label `{label}` has an invalid escape `{escape}`"))?;
        labels.push((label.to_owned(), value));
        text = text[close + 1..].trim_start_matches(is_blank);
        if let Some(after) = text.strip_prefix(',') {
            text = after;
        } else if !text.starts_with('}') {
            return Err(format!("expected `,` or `}}` after label `{label}`"));
        }
    }
}

/// Byte index of the `"` that ends a label value (skipping escaped characters).
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return Some(at),
            _ => {}
        }
    }
    None
}

/// Undo `\\`, `\n` and (in label values) `\"`; any other escape is an error.
fn unescape(text: &str, quotes: bool) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quotes => out.push('"'),
            Some(other) => return Err(format!("\\{other}")),
            None => return Err("\\".into()),
        }
    }
    Ok(out)
}

/// A sample value as Go's `ParseFloat` reads it: decimal or exponent notation, `NaN`,
/// `+Inf`, `-Inf` (case-insensitive).
fn parse_value(text: &str) -> Option<f64> {
    let unsigned = text.trim_start_matches(['+', '-']);
    let is_word = unsigned.eq_ignore_ascii_case("inf")
        || unsigned.eq_ignore_ascii_case("infinity")
        || unsigned.eq_ignore_ascii_case("nan");
    let is_number = unsigned
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !(is_word || is_number) || text.len() - unsigned.len() > 1 {
        return None;
    }
    text.parse().ok()
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn first_word(text: &str) -> &str {
    let word = text.split(is_blank).next().unwrap_or_default();
    match word.char_indices().nth(40) {
        Some((cut, _)) => &word[..cut],
        None => word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example page of the exposition format specification (Prometheus docs,
    /// "Exposition formats", text format example), verbatim.
    const SPEC_EXAMPLE: &str = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.05"} 3272
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.9"} 9001
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
"#;

    #[test]
    fn the_specification_example_parses_exactly() {
        let page = parse(SPEC_EXAMPLE);
        assert!(page.errors.is_empty(), "{:?}", page.errors);
        assert_eq!(page.samples.len(), 20);
        let first = &page.samples[0];
        assert_eq!(first.name, "http_requests_total");
        assert_eq!(first.label("code"), Some("200"));
        assert_eq!(
            (first.value, first.timestamp_ms),
            (1027.0, Some(1395066363000))
        );
        assert_eq!(
            page.samples[1].value, 3.0,
            "several blanks before the value"
        );
        let msdos = &page.samples[2];
        assert_eq!(msdos.label("path"), Some(r"C:\DIR\FILE.TXT"));
        assert_eq!(
            msdos.label("error"),
            Some("Cannot find file:\n\"FILE.TXT\"")
        );
        assert_eq!(msdos.value, 1.458255915e9);
        assert_eq!(page.samples[3].timestamp_ms, None);
        let weird = &page.samples[4];
        assert_eq!(weird.value, f64::INFINITY);
        assert_eq!(weird.timestamp_ms, Some(-3982045));
        assert_eq!(page.samples[10].label("le"), Some("+Inf"));
        assert_eq!(page.samples[18].value, 1.7560473e7);
        assert_eq!(page.types["http_requests_total"], "counter");
        assert_eq!(page.types["rpc_duration_seconds"], "summary");
        assert_eq!(
            page.help["http_requests_total"],
            "The total number of HTTP requests."
        );
    }

    #[test]
    fn labels_may_hold_separators_braces_and_escapes() {
        let page = parse(
            "m{a=\"x,y=z}\",b = \"q\\\"{}\" , c=\"\"} 0.5 17\n\
             m { trailing=\"comma\", } NaN\n\
             m\t-Inf\r\n",
        );
        assert!(page.errors.is_empty(), "{:?}", page.errors);
        let first = &page.samples[0];
        assert_eq!(first.label("a"), Some("x,y=z}"));
        assert_eq!(first.label("b"), Some("q\"{}"));
        assert_eq!(first.label("c"), Some(""));
        assert_eq!((first.value, first.timestamp_ms), (0.5, Some(17)));
        assert!(page.samples[1].value.is_nan());
        assert_eq!(page.samples[1].label("trailing"), Some("comma"));
        assert_eq!(page.samples[2].value, f64::NEG_INFINITY);
    }

    #[test]
    fn malformed_lines_are_reported_with_their_metric_not_dropped() {
        let page = parse(
            "good 1\n\
             idle{a=\"unclosed} 0.2\n\
             idle{a=\"x\" b=\"y\"} 0.2\n\
             idle{a=\"\\t\"} 0.2\n\
             idle 0.2 1.5\n\
             idle 0,2\n\
             idle 0.2 17 extra\n\
             idle\n\
             9lives 1\n\
             # TYPE idle gauge\n\
             #plain comment\n",
        );
        assert_eq!(page.samples.len(), 1);
        let lines: Vec<(usize, Option<&str>)> = page
            .errors
            .iter()
            .map(|e| (e.line, e.name.as_deref()))
            .collect();
        assert_eq!(
            lines,
            [
                (2, Some("idle")),
                (3, Some("idle")),
                (4, Some("idle")),
                (5, Some("idle")),
                (6, Some("idle")),
                (7, Some("idle")),
                (8, Some("idle")),
                (9, None),
            ]
        );
        assert!(
            page.errors[3].reason.contains("not a timestamp"),
            "{:?}",
            page.errors[3]
        );
        assert_eq!(page.types["idle"], "gauge");
    }
}
