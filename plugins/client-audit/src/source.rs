//! A source file prepared for the language heuristics.
//!
//! The heuristics ask statement-level questions ("is the result of this call assigned,
//! awaited, chained, passed on?"). Asking them of raw text goes wrong the moment a comment
//! says `// producer.send(record) is fire-and-forget` or a log message contains a brace, so
//! every question is asked of [`Source::code`]: the file with comments and the contents of
//! string literals blanked out, byte for byte, so that offsets and line numbers still match
//! the original text that evidence is quoted from.
//!
//! This is deliberately not a parser: five languages' grammars would be a lot of code to be
//! wrong in. Brackets, statement terminators and line breaks are enough for the questions
//! asked, and where they are not, the language modules say what they skip.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use regex::Regex;

/// How a single quote reads in a language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleQuote {
    /// A string delimiter, like `"` (Python, JavaScript).
    String,
    /// A character literal: `'x'`, `'\n'` (Java, Kotlin, Go).
    Char,
    /// A character literal or a lifetime (`'a`, `'static`) in Rust.
    CharOrLifetime,
}

/// The lexical rules a language needs for masking comments and strings.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    /// Line-comment openers: `//`, `#`.
    pub line_comment: &'static str,
    /// `/* ... */` comments.
    pub block_comments: bool,
    /// Block comments nest (Rust).
    pub nested_block_comments: bool,
    /// `"""` strings (Python, Kotlin, Java text blocks); Python also has `'''`.
    pub triple_quotes: bool,
    /// What `'` starts.
    pub single_quote: SingleQuote,
    /// Backtick strings: JavaScript templates, Go raw strings.
    pub backtick_strings: bool,
    /// Rust raw strings: `r"..."`, `r#"..."#`.
    pub raw_strings: bool,
    /// A line break ends a statement unless the line obviously continues (Kotlin, Python, Go,
    /// JavaScript); otherwise only `;` and braces do (Java, Rust).
    pub newline_ends_statement: bool,
}

/// Java.
pub const JAVA: Syntax = Syntax {
    line_comment: "//",
    block_comments: true,
    nested_block_comments: false,
    triple_quotes: true,
    single_quote: SingleQuote::Char,
    backtick_strings: false,
    raw_strings: false,
    newline_ends_statement: false,
};

/// Kotlin.
pub const KOTLIN: Syntax = Syntax {
    nested_block_comments: true,
    newline_ends_statement: true,
    ..JAVA
};

/// Python.
pub const PYTHON: Syntax = Syntax {
    line_comment: "#",
    block_comments: false,
    nested_block_comments: false,
    triple_quotes: true,
    single_quote: SingleQuote::String,
    backtick_strings: false,
    raw_strings: false,
    newline_ends_statement: true,
};

/// Go.
pub const GO: Syntax = Syntax {
    line_comment: "//",
    block_comments: true,
    nested_block_comments: false,
    triple_quotes: false,
    single_quote: SingleQuote::Char,
    backtick_strings: true,
    raw_strings: false,
    newline_ends_statement: true,
};

/// JavaScript and TypeScript.
pub const JAVASCRIPT: Syntax = Syntax {
    single_quote: SingleQuote::String,
    ..GO
};

/// Rust.
pub const RUST: Syntax = Syntax {
    line_comment: "//",
    block_comments: true,
    nested_block_comments: true,
    triple_quotes: false,
    single_quote: SingleQuote::CharOrLifetime,
    backtick_strings: false,
    raw_strings: true,
    newline_ends_statement: false,
};

/// A file's text, its masked code, and the bracket structure of the code.
pub struct Source {
    text: String,
    code: String,
    line_starts: Vec<usize>,
    /// Each matched bracket's partner, both ways.
    partners: HashMap<usize, usize>,
    newline_ends_statement: bool,
}

/// Where an expression sits in its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context<'a> {
    /// Code from the start of the statement (or of the enclosing argument list) up to the
    /// expression, trimmed: `""`, `"await"`, `"let _ ="`, `"Future<RecordMetadata> f ="`.
    pub before: &'a str,
    /// Code from the end of the expression to the end of the statement, trimmed:
    /// `""`, `".get()"`, `".await?"`, `"{ _, e -> ... }"`.
    pub after: &'a str,
    /// The `(` or `[` the expression is an argument or element of, if any.
    pub enclosing: Option<usize>,
    /// Offset where the statement (or the argument) starts.
    pub start: usize,
    /// Offset where it ends.
    pub end: usize,
}

impl Source {
    /// Prepare `text` written in a language with the given syntax.
    pub fn new(text: &str, syntax: &Syntax) -> Source {
        let code = mask(text, syntax);
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let partners = pair_brackets(&code);
        Source {
            text: text.to_owned(),
            code,
            line_starts,
            partners,
            newline_ends_statement: syntax.newline_ends_statement,
        }
    }

    /// The file as read.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file with comments and string contents blanked out (same length and lines).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The 1-based line number of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// How many lines the file has.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The masked code of a 1-based line, without its line break.
    pub fn code_line(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map_or(self.code.len(), |&next| next - 1);
        self.code[start..end].trim_end_matches('\r')
    }

    /// The first offset at or after `from` that is not whitespace (or the end).
    pub fn skip_whitespace(&self, from: usize) -> usize {
        let rest = &self.code[from..];
        from + (rest.len() - rest.trim_start().len())
    }

    /// Every `receiver.method`, `receiver?.method` and `receiver::method` in the code, chains
    /// included (`self.producer.flush()` gives `self.producer` and `producer.flush`).
    pub fn calls(&self) -> BTreeSet<(String, String)> {
        static MEMBER: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"([A-Za-z_]\w*)\s*(?:\?|!!)?\s*(?:\.|::)\s*([A-Za-z_]\w*)")
                .expect("valid regex")
        });
        let mut calls = BTreeSet::new();
        let mut at = 0;
        while let Some(found) = MEMBER.captures_at(&self.code, at) {
            let member = found.get(2).expect("group 2");
            calls.insert((found[1].to_owned(), member.as_str().to_owned()));
            at = member.start();
        }
        calls
    }

    /// The bracket matching the one at `offset`, when both exist.
    pub fn partner(&self, offset: usize) -> Option<usize> {
        self.partners.get(&offset).copied()
    }

    /// The innermost open bracket (`(`, `[` or `{`) whose pair contains `at`.
    pub fn enclosing(&self, at: usize) -> Option<usize> {
        let code = self.code.as_bytes();
        let mut i = at;
        while i > 0 {
            i -= 1;
            match code[i] {
                b')' | b']' | b'}' => {
                    if let Some(open) = self.partner(i) {
                        i = open;
                    }
                }
                b'(' | b'[' | b'{' if self.partner(i).is_none_or(|close| close >= at) => {
                    return Some(i);
                }
                _ => {}
            }
        }
        None
    }

    /// The open braces around `at`, innermost first.
    pub fn enclosing_braces(&self, at: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.enclosing(at), |&open| self.enclosing(open))
            .filter(|&open| self.code.as_bytes()[open] == b'{')
    }

    /// The statement context of the expression spanning `start..end`.
    pub fn context(&self, start: usize, end: usize) -> Context<'_> {
        let (statement_start, enclosing) = self.statement_start(start);
        let statement_end = self.statement_end(end);
        Context {
            before: self.code[statement_start..start].trim(),
            after: self.code[end..statement_end].trim(),
            enclosing,
            start: statement_start,
            end: statement_end,
        }
    }

    /// The code that introduces the block opened by the brace at `open`: a function
    /// signature, `try`, `catch (Exception e)`, `if err != nil`, `records.forEach`.
    pub fn header(&self, open: usize) -> &str {
        let (start, _) = self.statement_start(open);
        self.code[start..open].trim()
    }

    /// The top-level statements of the block opened by the brace at `open`, as code.
    pub fn statements(&self, open: usize) -> Vec<&str> {
        let Some(close) = self.partner(open) else {
            return Vec::new();
        };
        self.statements_between(open + 1, close)
    }

    /// The top-level statements in `from..to`, as code.
    pub fn statements_between(&self, from: usize, to: usize) -> Vec<&str> {
        let mut statements = Vec::new();
        let mut i = from;
        while i < to {
            let end = self.statement_end(i).min(to);
            let statement = self.code[i..end].trim();
            if !statement.is_empty() {
                statements.push(statement);
            }
            i = end + 1;
        }
        statements
    }

    /// Walk back from `at` to where its statement starts. Balanced brackets are skipped; an
    /// unbalanced `(` or `[` means the expression is an argument or element, and is returned.
    fn statement_start(&self, at: usize) -> (usize, Option<usize>) {
        let code = self.code.as_bytes();
        let mut i = at;
        while i > 0 {
            let c = code[i - 1];
            match c {
                b')' | b']' => match self.partner(i - 1) {
                    Some(open) => i = open,
                    None => i -= 1,
                },
                b'(' | b'[' => return (i, Some(i - 1)),
                b'{' | b'}' | b';' => return (i, None),
                b'\n' if self.newline_ends_statement && !self.continues_before(i - 1) => {
                    return (i, None);
                }
                _ => i -= 1,
            }
        }
        (0, None)
    }

    /// Walk forward from `from` to where the statement ends: a `;`, a line break that does
    /// not continue the expression, a `,` or closing bracket of the enclosing list, or a
    /// block that nothing (`else`, `catch`, `.method()`) continues.
    fn statement_end(&self, from: usize) -> usize {
        let code = self.code.as_bytes();
        let mut i = from;
        while i < code.len() {
            match code[i] {
                b'(' | b'[' => match self.partner(i) {
                    Some(close) => i = close + 1,
                    None => return i,
                },
                b'{' => match self.partner(i) {
                    Some(close) => {
                        i = close + 1;
                        let rest = self.code[i..].trim_start();
                        let continued = [".", "?", "else", "catch", "finally"]
                            .iter()
                            .any(|c| rest.starts_with(c));
                        if !continued {
                            return i;
                        }
                    }
                    None => return i,
                },
                b')' | b']' | b'}' | b';' | b',' => return i,
                b'\n' if self.newline_ends_statement => {
                    let next = self.code[i..].trim_start();
                    let chained = next.starts_with('.') || next.starts_with("?.");
                    if !chained && !self.continues_before(i) {
                        return i;
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
        code.len()
    }

    /// Does the code before the line break at `newline` end in something that needs more
    /// (an operator, an open argument list)? Then the statement goes on.
    fn continues_before(&self, newline: usize) -> bool {
        let before = self.code[..newline].trim_end();
        // `i++` and `i--` end statements although they end in an operator.
        if before.ends_with("++") || before.ends_with("--") {
            return false;
        }
        let Some(last) = before.chars().last() else {
            return false;
        };
        matches!(
            last,
            '=' | '(' | '[' | ',' | '.' | '+' | '-' | '*' | '/' | '&' | '|' | '\\' | '>'
        )
    }
}

/// Split code at the top-level commas of an argument list (the text between the parens).
pub fn split_arguments(arguments: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in arguments.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(arguments[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = arguments[start..].trim();
    if !last.is_empty() || !parts.is_empty() {
        parts.push(last);
    }
    parts
}

/// Offset of `inner` (a slice of `outer`, e.g. one of [`split_arguments`]' parts) in
/// `outer`.
pub fn offset_in(outer: &str, inner: &str) -> usize {
    let offset = (inner.as_ptr() as usize).wrapping_sub(outer.as_ptr() as usize);
    assert!(offset <= outer.len(), "`inner` is not a slice of `outer`");
    offset
}

/// Does `code` end with an assignment (`x =`, `let y =`, `err :=`, `+=`), not a comparison?
pub fn ends_with_assignment(code: &str) -> bool {
    let Some(rest) = code.strip_suffix('=') else {
        return false;
    };
    !rest.ends_with(['=', '!', '<', '>'])
}

/// Is `word` present in `code` as a whole identifier?
pub fn mentions(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        !before.is_some_and(is_identifier_char) && !after.is_some_and(is_identifier_char)
    })
}

/// A character that can be part of an identifier.
pub fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The identifier that ends `code` (`records.forEach` gives `forEach`).
pub fn last_identifier(code: &str) -> &str {
    let trimmed = code.trim_end();
    let start = trimmed
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_identifier_char(c))
        .last()
        .map_or(trimmed.len(), |(i, _)| i);
    &trimmed[start..]
}

/// Blank out comments and string contents, keeping delimiters, line breaks and offsets.
fn mask(text: &str, syntax: &Syntax) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to.min(bytes.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let starts = |i: usize, s: &str| bytes[i..].starts_with(s.as_bytes());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if starts(i, syntax.line_comment) {
            let end = memchr(bytes, b'\n', i).unwrap_or(bytes.len());
            blank(&mut out, i, end);
            i = end;
        } else if syntax.block_comments && starts(i, "/*") {
            let end = block_comment_end(bytes, i, syntax.nested_block_comments);
            blank(&mut out, i, end);
            i = end;
        } else if syntax.triple_quotes
            && (starts(i, "\"\"\"")
                || (syntax.single_quote == SingleQuote::String && starts(i, "'''")))
        {
            let quote = &bytes[i..i + 3];
            let end = find_sub(bytes, quote, i + 3).map_or(bytes.len(), |e| e + 3);
            blank(&mut out, i + 3, end.saturating_sub(3));
            i = end;
        } else if syntax.raw_strings && c == b'r' && raw_string_start(bytes, i).is_some() {
            let hashes = raw_string_start(bytes, i).unwrap_or(0);
            let open = i + 1 + hashes;
            let mut closing = vec![b'"'];
            closing.extend(std::iter::repeat_n(b'#', hashes));
            let end =
                find_sub(bytes, &closing, open + 1).map_or(bytes.len(), |e| e + closing.len());
            blank(&mut out, open + 1, end.saturating_sub(closing.len()));
            i = end;
        } else if c == b'"'
            || (c == b'`' && syntax.backtick_strings)
            || (c == b'\'' && syntax.single_quote == SingleQuote::String)
        {
            let end = quoted_end(bytes, i, c);
            blank(&mut out, i + 1, end.saturating_sub(1));
            i = end;
        } else if c == b'\'' {
            match char_literal_end(text, i) {
                Some(end) => {
                    blank(&mut out, i + 1, end - 1);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("masking replaces whole characters with ASCII spaces")
}

/// `r"`, `r#"`, `br"`: the number of `#`s, when `i` starts a raw string.
fn raw_string_start(bytes: &[u8], i: usize) -> Option<usize> {
    let identifier = |at: Option<usize>| {
        at.is_some_and(|j| bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_')
    };
    let byte_prefix = i >= 1 && bytes[i - 1] == b'b' && !identifier(i.checked_sub(2));
    if identifier(i.checked_sub(1)) && !byte_prefix {
        return None;
    }
    let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
    (bytes.get(i + 1 + hashes) == Some(&b'"')).then_some(hashes)
}

/// End (exclusive) of a string opened by `quote` at `open`, honouring backslash escapes.
/// Strings other than backtick ones stop at a line break, so that one stray quote cannot
/// swallow the rest of the file.
fn quoted_end(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if quote != b'`' => return i,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// End (exclusive) of a character literal at `open` (`'x'`, `'\''`, `'\u{1F600}'`), or
/// `None` for a Rust lifetime (`'a`) or a stray quote.
fn char_literal_end(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.get(open + 1) == Some(&b'\\') {
        // The escaped character itself may be a quote: look for the closer after it.
        let close = bytes
            .get(open + 3..)?
            .iter()
            .take(12)
            .position(|&b| b == b'\'')?;
        return Some(open + 3 + close + 1);
    }
    let next = text.get(open + 1..)?.chars().next()?;
    let after = open + 1 + next.len_utf8();
    (bytes.get(after) == Some(&b'\'')).then_some(after + 1)
}

fn block_comment_end(bytes: &[u8], open: usize, nested: bool) -> usize {
    let mut depth = 0;
    let mut i = open;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            if depth > 0 && !nested {
                i += 2;
                continue;
            }
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn memchr(bytes: &[u8], needle: u8, from: usize) -> Option<usize> {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map(|p| p + from)
}

fn find_sub(bytes: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Pair every bracket with its partner. A closer that does not match the innermost opener
/// closes the nearest opener of its kind (recovering from an unclosed one), or is ignored.
fn pair_brackets(code: &str) -> HashMap<usize, usize> {
    let mut partners = HashMap::new();
    let mut stack: Vec<(usize, u8)> = Vec::new();
    for (i, b) in code.bytes().enumerate() {
        let opener = match b {
            b'(' | b'[' | b'{' => {
                stack.push((i, b));
                continue;
            }
            b')' => b'(',
            b']' => b'[',
            b'}' => b'{',
            _ => continue,
        };
        if let Some(depth) = stack.iter().rposition(|&(_, o)| o == opener) {
            let (open, _) = stack[depth];
            stack.truncate(depth);
            partners.insert(open, i);
            partners.insert(i, open);
        }
    }
    partners
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_strings_are_blanked_keeping_offsets_and_lines() {
        let text = "a(\"x;y\") // send(b)\n/* c(\n */ d('}')\n";
        let source = Source::new(text, &JAVA);
        assert_eq!(source.code().len(), text.len());
        assert_eq!(source.code(), "a(\"   \")           \n     \n    d(' ')\n");
        assert_eq!(source.line(text.find(" d(").unwrap()), 3);
        assert_eq!(source.code_line(3), "    d(' ')");
    }

    #[test]
    fn python_and_rust_literals() {
        let python = Source::new("x = '''a\n#b''' # c\ny = 'it''s'\n", &PYTHON);
        assert_eq!(python.code(), "x = ''' \n  '''    \ny = '  '' '\n");
        let rust = Source::new("fn f<'a>(s: &'a str) { let c = '{'; r#\"}\"#; }", &RUST);
        assert_eq!(
            rust.code(),
            "fn f<'a>(s: &'a str) { let c = ' '; r#\" \"#; }"
        );
        assert!(rust.partner(rust.code().find('{').unwrap()).is_some());
    }

    #[test]
    fn context_of_a_call_in_java() {
        let text = "void f() {\n  Future<RecordMetadata> f = producer.send(r);\n  producer.send(r).get();\n  list.add(producer.send(r));\n}";
        let source = Source::new(text, &JAVA);
        let call = |n: usize| {
            let start = text.match_indices("producer.send").nth(n).unwrap().0;
            let open = start + "producer.send".len();
            source.context(start, source.partner(open).unwrap() + 1)
        };
        assert_eq!(call(0).before, "Future<RecordMetadata> f =");
        assert_eq!(call(0).after, "");
        assert_eq!((call(1).before, call(1).after), ("", ".get()"));
        assert!(call(2).enclosing.is_some());
    }

    #[test]
    fn newline_languages_end_statements_at_line_breaks_unless_continued() {
        let text = "producer.send(r)\n    .then(ok)\n    .catch(fail)\nnext()\nconst x =\n  producer.send(r)\n";
        let source = Source::new(text, &JAVASCRIPT);
        let first = source.context(0, 16);
        assert_eq!(first.after, ".then(ok)\n    .catch(fail)");
        let second = text.rfind("producer").unwrap();
        assert_eq!(source.context(second, second + 16).before, "const x =");
    }

    #[test]
    fn statements_and_headers_of_blocks() {
        let text = "try { a(); } catch (Exception e) { log.debug(\"x\", e); return; }";
        let source = Source::new(text, &JAVA);
        let catch_block = text.rfind('{').unwrap();
        assert_eq!(source.header(catch_block), "catch (Exception e)");
        assert_eq!(
            source.statements(catch_block),
            ["log.debug(\" \", e)", "return"]
        );
    }

    #[test]
    fn calls_include_chains_and_method_references() {
        let source = Source::new(
            "self.producer.flush(); hook(producer::close); p?.poll(0)",
            &JAVA,
        );
        let calls = source.calls();
        for (receiver, method) in [
            ("self", "producer"),
            ("producer", "flush"),
            ("producer", "close"),
            ("p", "poll"),
        ] {
            assert!(
                calls.contains(&(receiver.into(), method.into())),
                "{receiver}.{method}: {calls:?}"
            );
        }
    }

    #[test]
    fn argument_splitting_and_small_predicates() {
        assert_eq!(
            split_arguments("record, (m, e) -> { a(); }"),
            ["record", "(m, e) -> { a(); }"]
        );
        assert!(split_arguments(" ").is_empty());
        assert!(ends_with_assignment("let x =") && ends_with_assignment("err :="));
        assert!(!ends_with_assignment("a ==") && !ends_with_assignment("a !="));
        assert!(mentions("log(e, ex)", "e") && !mentions("exception", "e"));
        assert_eq!(last_identifier("records.forEach "), "forEach");
    }
}
