//! Masking secrets in the text of files a plugin reads (`files.read` and `files.grep`).
//!
//! Masking is applied to every text a plugin gets through the files interface — any file, not
//! only `*.properties`, because secrets also live in `.jaas` and `.conf` files, environment
//! files, JSON and YAML, and logs that echo a config — and `grep` matches the *masked*
//! lines, so that a count cannot be used as an oracle to guess a secret one character at a
//! time. Which keys hold a secret is [`is_sensitive_key`]'s decision, the one definition.
//!
//! # How a value is masked
//!
//! Line by line: `KEY=VALUE`, `KEY: VALUE`, `KEY VALUE` (the three separators of Java's
//! `Properties`; the last only at the start of a line), `"KEY": "VALUE"` (JSON, YAML) and
//! `KEY="VALUE"` (JAAS). A quoted value keeps its quotes (`password="<redacted: set>";`), an
//! unquoted one is masked to the end of the line. A value continued on the next line by a
//! trailing backslash — the usual way to write `sasl.jaas.config` — masks the continuation
//! lines too, keeping their backslashes so that a properties parser still reads one key.
//! Left as they are: an empty value, and Kafka's own renderings of a password, `null` and
//! `[hidden]` — they reveal nothing, and "set" would mislead.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::is_sensitive_key;

/// What replaces a sensitive value.
pub const MASK: &str = "<redacted: set>";

/// A key as the patterns find it; [`is_sensitive_key`] decides whether its value is masked.
const KEY: &str = r"[A-Za-z0-9_.\-]+";

/// `KEY=VALUE`, `KEY: VALUE`, `"KEY": "VALUE"`, `KEY="VALUE"` anywhere in a line.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?:^|[^A-Za-z0-9_.\-])(?P<key>{})["']?[ \t]*[=:][ \t]*(?P<value>"(?:[^"\\\r\n]|\\.)*"?|'[^'\r\n]*'?|[^\r\n]*)"#,
        KEY
    ))
    .expect("the assignment pattern compiles")
});

/// `KEY VALUE` at the start of a line (Java properties' whitespace separator).
static PROPERTY_WITH_SPACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"^[ \t]*(?P<key>{})[ \t]+(?P<value>[^=:\s][^\r\n]*)"#,
        KEY
    ))
    .expect("the property pattern compiles")
});

/// Every sensitive key contains one of these words (a unit test holds [`is_sensitive_key`] to
/// it); lines without any are passed through without running the full patterns (logs are
/// gigabytes of lines without a secret). Short words and ASCII-only case folding keep this
/// search at memory speed: Unicode case folding (`s` also matches `ſ`, `k` the Kelvin sign)
/// made it 7 times slower, measured.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u:pass|pw|secret|token|api|credential|store|ssl|sasl)|user_")
        .expect("the candidate pattern compiles")
});

/// [`is_sensitive_key`] of a key the patterns found (ASCII, by their construction).
fn is_sensitive(key: &[u8]) -> bool {
    std::str::from_utf8(key).is_ok_and(is_sensitive_key)
}

/// Masks sensitive values in a stream of lines. It carries one bit between calls: whether
/// the previous line's secret continues (trailing backslash) on the next.
#[derive(Debug, Default)]
pub struct Masker {
    continued: bool,
}

impl Masker {
    /// A masker at the start of a file.
    pub fn new() -> Masker {
        Masker::default()
    }

    /// Mask every sensitive value in `text`: whole lines, the last possibly without its
    /// terminator. Borrows when nothing is masked (the common case, cheaply).
    pub fn mask<'a>(&mut self, text: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        let mut pos = 0;
        while pos < text.len() {
            let start = if self.continued {
                pos
            } else {
                let Some(found) = CANDIDATE.find_at(text, pos) else {
                    break;
                };
                memchr::memrchr(b'\n', &text[..found.start()])
                    .map_or(0, |i| i + 1)
                    .max(pos)
            };
            let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
            let line = &text[start..end];
            let continues = ends_with_continuation(line);
            if let Some(masked) = self.mask_line(line, continues) {
                let out = out.get_or_insert_with(|| Vec::with_capacity(text.len() + 64));
                out.extend_from_slice(&text[copied..start]);
                out.extend_from_slice(&masked);
                copied = end;
            }
            pos = end + 1;
        }
        match out {
            None => Cow::Borrowed(text),
            Some(mut out) => {
                out.extend_from_slice(&text[copied..]);
                Cow::Owned(out)
            }
        }
    }

    /// Mask one line of which only `prefix` is kept (a line cut at a length cap);
    /// `continues` says whether the whole line ended with a continuation backslash.
    pub fn mask_cut_line<'a>(&mut self, prefix: &'a [u8], continues: bool) -> Cow<'a, [u8]> {
        match self.mask_line(prefix, continues) {
            Some(masked) => Cow::Owned(masked),
            None => Cow::Borrowed(prefix),
        }
    }

    /// One line without its `\n`; `None` when nothing in it is sensitive.
    fn mask_line(&mut self, line: &[u8], continues: bool) -> Option<Vec<u8>> {
        let (body, cr) = match line.strip_suffix(b"\r") {
            Some(body) => (body, &b"\r"[..]),
            None => (line, &b""[..]),
        };
        if self.continued {
            // The line is the rest of a secret: keep its indentation and its backslash.
            self.continued = continues;
            let indent = body
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            let mut out = body[..indent].to_vec();
            if continues {
                out.push(b'\\');
            }
            out.extend_from_slice(cr);
            return Some(out);
        }
        let mut out = Vec::new();
        let mut copied = 0;
        let mut at = 0;
        while let Some(found) = ASSIGNMENT.captures_at(body, at) {
            let key = found.name("key").expect("key group");
            if !is_sensitive(key.as_bytes()) {
                // Not a secret: look again right after this key, where the next one may be.
                at = key.end();
                continue;
            }
            let value = found.name("value").expect("value group");
            let to_the_end = value.end() == body.len();
            if let Some(masked) = self.masked_value(value.as_bytes(), to_the_end && continues) {
                out.extend_from_slice(&body[copied..value.start()]);
                out.extend_from_slice(&masked);
                copied = value.end();
            }
            if to_the_end {
                break;
            }
            at = found.get(0).expect("whole match").end();
        }
        if copied == 0
            && let Some(found) = PROPERTY_WITH_SPACE.captures(body)
            && found["key"].iter().any(|&b| b == b'.' || b == b'_')
            && is_sensitive(&found["key"])
        {
            let value = found.name("value").expect("value group");
            if let Some(masked) = self.masked_value(value.as_bytes(), continues) {
                out.extend_from_slice(&body[..value.start()]);
                out.extend_from_slice(&masked);
                copied = value.end();
            }
        }
        if copied == 0 {
            return None;
        }
        out.extend_from_slice(&body[copied..]);
        out.extend_from_slice(cr);
        Some(out)
    }

    /// The masked form of `value`, or `None` when it reveals nothing. `continues`: the value
    /// runs to the end of a line that continues on the next.
    fn masked_value(&mut self, value: &[u8], continues: bool) -> Option<Vec<u8>> {
        let quote = value.first().copied().filter(|q| matches!(q, b'"' | b'\''));
        let (content, closing) = match quote {
            Some(q) => {
                let closed = value.len() >= 2 && value.last() == Some(&q);
                let inner = &value[1..value.len() - usize::from(closed)];
                (inner, closed.then_some(q))
            }
            None => (value, None),
        };
        let content = content.trim_ascii();
        let content = if continues {
            content.strip_suffix(b"\\").unwrap_or(content).trim_ascii()
        } else {
            content
        };
        let placeholder = matches!(content, b"null" | b"[hidden]");
        if (content.is_empty() && !continues) || placeholder {
            return None;
        }
        let mut out = Vec::with_capacity(MASK.len() + 3);
        out.extend(quote);
        out.extend_from_slice(MASK.as_bytes());
        out.extend(closing);
        if continues {
            out.push(b'\\');
            self.continued = true;
        }
        Some(out)
    }
}

/// Does `line` end with an odd number of backslashes (Java properties' line continuation)?
pub fn ends_with_continuation(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        String::from_utf8(Masker::new().mask(text.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn every_sensitive_key_is_a_candidate() {
        use crate::secrets::{
            KAFKA_PASSWORD_KEYS, LIBRDKAFKA_SECRET_KEYS, SECRET_WHOLE_WORDS, SECRET_WORDS,
        };
        for key in KAFKA_PASSWORD_KEYS
            .iter()
            .chain(LIBRDKAFKA_SECRET_KEYS)
            .chain(SECRET_WORDS)
            .chain(SECRET_WHOLE_WORDS)
            .chain(&["clientSecret", "user_alice", "X-Api-Key"])
        {
            assert!(is_sensitive_key(key), "{key}");
            assert!(
                CANDIDATE.is_match(key.as_bytes()),
                "{key} is not a candidate"
            );
        }
    }

    #[test]
    fn only_sensitive_keys_are_masked() {
        let text = "acks=all ssl.truststore.location=/etc/ts.jks sasl.username=app db.password=x\n";
        assert_eq!(
            masked(text),
            "acks=all ssl.truststore.location=/etc/ts.jks sasl.username=app db.password=<redacted: set>\n"
        );
    }

    #[test]
    fn values_are_masked_in_every_separator_style() {
        assert_eq!(
            masked("ssl.key.password=s3\n"),
            "ssl.key.password=<redacted: set>\n"
        );
        assert_eq!(
            masked("ssl.key.password = s3\n"),
            "ssl.key.password = <redacted: set>\n"
        );
        assert_eq!(
            masked("ssl.key.password: s3"),
            "ssl.key.password: <redacted: set>"
        );
        assert_eq!(
            masked("ssl.key.password s3\r\n"),
            "ssl.key.password <redacted: set>\r\n"
        );
        assert_eq!(
            masked(r#"{"ssl.keystore.password": "s3", "acks": "all"}"#),
            r#"{"ssl.keystore.password": "<redacted: set>", "acks": "all"}"#
        );
        assert_eq!(
            masked("-Dsasl.jaas.config=x -Xmx1g"),
            "-Dsasl.jaas.config=<redacted: set>"
        );
        assert_eq!(
            masked("  # ssl.key.password=old\n"),
            "  # ssl.key.password=<redacted: set>\n"
        );
    }

    #[test]
    fn jaas_options_keep_their_quotes_and_neighbours() {
        assert_eq!(
            masked(r#"  username="admin" password="s3" user_bob="b0b";"#),
            r#"  username="admin" password="<redacted: set>" user_bob="<redacted: set>";"#
        );
        assert_eq!(
            masked(r#"clientId="x" clientSecret="s3";"#),
            r#"clientId="x" clientSecret="<redacted: set>";"#
        );
    }

    #[test]
    fn a_continued_value_masks_its_continuation_lines() {
        let text = "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n    username=\"app\" \\\n    password=\"s3\";\nacks=all\n";
        assert_eq!(
            masked(text),
            "sasl.jaas.config=<redacted: set>\\\n    \\\n    \nacks=all\n"
        );
        // An escaped backslash at the end does not continue.
        assert_eq!(
            masked("ssl.key.password=a\\\\\nacks=all\n"),
            "ssl.key.password=<redacted: set>\nacks=all\n"
        );
    }

    #[test]
    fn what_reveals_nothing_is_left_alone() {
        for text in [
            "ssl.key.password=\n",
            "ssl.key.password = null\n",
            "ssl.truststore.password = [hidden]\n",
            "ssl.truststore.location=/etc/ts.jks\n",
            "Failed authentication (Authentication failed: Invalid username or password)\n",
            "password\n",
        ] {
            assert_eq!(masked(text), text);
        }
    }

    #[test]
    fn a_cut_line_keeps_the_continuation_of_its_real_end() {
        let mut masker = Masker::new();
        assert_eq!(
            masker
                .mask_cut_line(b"ssl.ca.pem=-----BEGIN", true)
                .as_ref(),
            b"ssl.ca.pem=<redacted: set>\\"
        );
        assert_eq!(masker.mask(b"MIIB...\nacks=1\n").as_ref(), b"\nacks=1\n");
    }
}
