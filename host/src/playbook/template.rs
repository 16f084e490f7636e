//! `{{input}}` placeholders in step params and grants.

use std::collections::BTreeMap;
use std::ops::Range;

/// A placeholder found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder<'a> {
    /// The input's name, trimmed.
    pub name: &'a str,
    /// The byte range of `{{ name }}` in the string.
    pub range: Range<usize>,
}

/// Every `{{name}}` in `text`, in order. An unclosed `{{` is left as text.
pub fn placeholders(text: &str) -> Vec<Placeholder<'_>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| i + from) {
        let Some(close) = text[open + 2..].find("}}").map(|i| i + open + 2) else {
            break;
        };
        found.push(Placeholder {
            name: text[open + 2..close].trim(),
            range: open..close + 2,
        });
        from = close + 2;
    }
    found
}

/// Replace each placeholder with its input's value.
///
/// Returns the name of the first input that has no value, if any.
pub fn expand(text: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for placeholder in placeholders(text) {
        let value = values
            .get(placeholder.name)
            .ok_or_else(|| placeholder.name.to_owned())?;
        out.push_str(&text[last..placeholder.range.start]);
        out.push_str(value);
        last = placeholder.range.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_expands_placeholders() {
        let text = "{{ host }}:{{port}} and {{unclosed";
        let names: Vec<&str> = placeholders(text).iter().map(|p| p.name).collect();
        assert_eq!(names, ["host", "port"]);
        let values = BTreeMap::from([
            ("host".to_owned(), "kafka".to_owned()),
            ("port".to_owned(), "9092".to_owned()),
        ]);
        assert_eq!(expand(text, &values).unwrap(), "kafka:9092 and {{unclosed");
        assert_eq!(expand("{{nope}}", &values).unwrap_err(), "nope");
    }
}
