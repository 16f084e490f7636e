//! A line matcher for the whole signature catalogue whose cost does not grow with the number
//! of signatures (issue 8, item 9).
//!
//! One combined regex of 60+ signatures (160+ wordings, many with `\S+` and `.*` between
//! their words) defeats the literal optimisations of the regex engine: ripgrep itself ran at
//! 0.14 GB/s with the catalogue's patterns. But every wording has words that any matching
//! line must contain ("Shrinking ISR from", "No space left on device"). This matcher finds
//! those with one Aho-Corasick automaton over all of them (SIMD-accelerated, one pass, cost
//! independent of the number of patterns), and runs the combined regex only on the lines
//! that contain one. (Confirming a candidate line with only the patterns whose literals it
//! holds, found by an overlapping search, measured 2.6 times slower on the benchmark's log:
//! the overlapping search gives up the automaton's SIMD prefilter.)
//!
//! The necessary literals come from the patterns' syntax trees (`regex-syntax`, the parser
//! the `regex` crate uses): a literal run of a concatenation, the union over the branches of
//! an alternation. A pattern without a necessary literal of at least [`MIN_LITERAL`] bytes, or
//! a case-insensitive scan, makes [`Prefilter::new`] return `None`: the caller then uses the
//! plain regex matcher, correct but slower.

use aho_corasick::{AhoCorasick, MatchKind};
use grep_matcher::{LineMatchKind, LineTerminator, Match, Matcher, NoCaptures, NoError};
use regex::bytes::Regex;
use regex_syntax::hir::{Hir, HirKind};

/// Shorter literals would make most lines candidates.
const MIN_LITERAL: usize = 3;

/// Candidate lines by necessary literals, confirmed by the combined regex, one line at a time.
#[derive(Debug)]
pub struct Prefilter {
    /// Every necessary literal of every pattern.
    literals: AhoCorasick,
    /// All patterns as one alternation, run on candidate lines only.
    confirm: Regex,
}

impl Prefilter {
    /// The prefilter for `patterns`, or `None` when one of them has no necessary literal.
    pub fn new(patterns: &[&str]) -> Option<Prefilter> {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        for pattern in patterns {
            let hir = regex_syntax::ParserBuilder::new()
                .utf8(false)
                .build()
                .parse(pattern)
                .ok()?;
            literals.extend(necessary(&hir)?);
        }
        literals.sort();
        literals.dedup();
        // Leftmost-first: any literal's earliest occurrence is enough to find the line, and
        // this kind keeps the automaton's SIMD prefilter.
        let literals = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&literals)
            .ok()?;
        let combined = patterns
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect::<Vec<_>>()
            .join("|");
        let confirm = Regex::new(&combined).ok()?;
        Some(Prefilter { literals, confirm })
    }

    /// The first line at or after `at` that the combined regex matches, as its byte range
    /// (without the terminator).
    fn next_line(&self, haystack: &[u8], mut at: usize) -> Option<(usize, usize)> {
        while at < haystack.len() {
            let hit = self.literals.find(&haystack[at..])?;
            let position = at + hit.start();
            let start = memchr::memrchr(b'\n', &haystack[..position]).map_or(0, |p| p + 1);
            let end = memchr::memchr(b'\n', &haystack[position..])
                .map_or(haystack.len(), |p| position + p);
            if self.confirm.is_match(&haystack[start..end]) {
                return Some((start, end));
            }
            at = end + 1;
        }
        None
    }
}

/// Literals one of which every match of `hir` contains; `None` when there is no such set
/// of usable length.
fn necessary(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Literal(literal) => {
            (literal.0.len() >= MIN_LITERAL).then(|| vec![literal.0.to_vec()])
        }
        HirKind::Capture(capture) => necessary(&capture.sub),
        HirKind::Repetition(repetition) if repetition.min >= 1 => necessary(&repetition.sub),
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for branch in branches {
                all.extend(necessary(branch)?);
            }
            Some(all)
        }
        HirKind::Concat(items) => {
            // Candidates: each run of adjacent literals (joined), and each item's own set;
            // the best is the one whose shortest literal is longest.
            let mut candidates: Vec<Vec<Vec<u8>>> = Vec::new();
            let mut run: Vec<u8> = Vec::new();
            for item in items {
                if let HirKind::Literal(literal) = item.kind() {
                    run.extend_from_slice(&literal.0);
                    continue;
                }
                if run.len() >= MIN_LITERAL {
                    candidates.push(vec![std::mem::take(&mut run)]);
                }
                run.clear();
                if let Some(set) = necessary(item) {
                    candidates.push(set);
                }
            }
            if run.len() >= MIN_LITERAL {
                candidates.push(vec![run]);
            }
            candidates
                .into_iter()
                .max_by_key(|set| set.iter().map(Vec::len).min().unwrap_or(0))
        }
        _ => None,
    }
}

impl Matcher for Prefilter {
    type Captures = NoCaptures;
    type Error = NoError;

    fn find_at(&self, haystack: &[u8], at: usize) -> Result<Option<Match>, NoError> {
        Ok(self
            .next_line(haystack, at)
            .map(|(start, end)| Match::new(start, end)))
    }

    fn new_captures(&self) -> Result<NoCaptures, NoError> {
        Ok(NoCaptures::new())
    }

    /// Matches are confirmed within one line, so a terminator is never part of one.
    fn line_terminator(&self) -> Option<LineTerminator> {
        Some(LineTerminator::byte(b'\n'))
    }

    fn find_candidate_line(&self, haystack: &[u8]) -> Result<Option<LineMatchKind>, NoError> {
        Ok(self
            .next_line(haystack, 0)
            .map(|(start, _)| LineMatchKind::Confirmed(start)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn necessary_literals_come_from_the_syntax() {
        let hir = |p: &str| regex_syntax::parse(p).unwrap();
        assert_eq!(
            necessary(&hir(r"Shrinking ISR from \S+ to ")),
            Some(vec![b"Shrinking ISR from ".to_vec()])
        );
        assert_eq!(
            necessary(&hir(
                r"Fencing broker \d+ (?:at epoch \d+ )?because its session"
            )),
            Some(vec![b"because its session".to_vec()])
        );
        assert_eq!(
            necessary(&hir(r"OutOfMemoryError|Too many open files")),
            Some(vec![
                b"OutOfMemoryError".to_vec(),
                b"Too many open files".to_vec()
            ])
        );
        assert_eq!(necessary(&hir(r"\d+ms")), None);
    }

    #[test]
    fn only_lines_the_regex_confirms_match() {
        let prefilter = Prefilter::new(&[r"Shrinking ISR from \S+ to ", r"No space left"]).unwrap();
        let text = b"a Shrinking ISR from x\nb Shrinking ISR from 1,2 to 1\nok\nNo space left\n";
        let first = prefilter.find_at(text, 0).unwrap().unwrap();
        assert_eq!(
            &text[first.start()..first.end()],
            b"b Shrinking ISR from 1,2 to 1"
        );
        let second = prefilter.find_at(text, first.end()).unwrap().unwrap();
        assert_eq!(&text[second.start()..second.end()], b"No space left");
        assert!(prefilter.find_at(text, second.end()).unwrap().is_none());
        assert!(Prefilter::new(&[r"\d+"]).is_none());
    }
}
