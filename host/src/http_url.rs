//! The one URL type of the `http` capability: a grant, the playbook validator and the `http`
//! host function all parse with [`HttpUrl::parse`], and a request goes on the wire exactly as
//! the URL that was checked against the grant.
//!
//! Parsing is the `url` crate's (WHATWG): the scheme and host are lower-cased, the default
//! port is made explicit, `.`/`..` segments (also as `%2e`) are resolved, and the request
//! target is serialised with everything that needs it percent-encoded. On top of that we refuse
//! what the parser would silently repair or what servers read in different ways (issue 7,
//! where a URL carrying CR/LF smuggled a second request, and `/metrics%2f..%2fsecret` slipped
//! past a `/metrics` grant):
//!
//! - control characters, spaces, backslashes and non-ASCII text anywhere: the parser strips
//!   tabs and newlines and turns `\` into `/`, so the URL checked would not be the URL written;
//! - in the path, a percent-encoded `/`, `\`, `.`, `%` or control character, and a segment
//!   that is `..` or `.` followed by `;parameters` (`..;/`). **Decision:** refuse rather than
//!   decode-then-normalise. Servers disagree on whether they decode `%2f` before routing and on
//!   whether `..;` climbs (Tomcat and Jetty do), so any reading we picked would be one more;
//!   refusing costs nothing, since a metrics path never needs them. Other escapes (`%20`, or
//!   `%6d` for `m`) are kept as written and compared as written: `/%6detrics` is not
//!   `/metrics`, which can only deny, never widen, a grant;
//! - credentials (`user:pw@`), fragments, and schemes other than `http` (HTTPS comes later).

use std::fmt;

use url::Url;

/// Longest URL accepted; a metrics URL is far shorter.
const MAX_URL_BYTES: usize = 2048;

/// An `http://` URL, validated and normalised; see the module docs for what is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(Url);

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{shown}: {reason}")]
pub struct UrlError {
    /// The URL as written, with control characters escaped so that it prints on one line.
    shown: String,
    /// What is wrong with it.
    reason: String,
}

impl HttpUrl {
    /// Parse and normalise `text`, refusing anything ambiguous.
    pub fn parse(text: &str) -> Result<HttpUrl, UrlError> {
        let error = |reason: String| UrlError {
            shown: shown(text),
            reason,
        };
        if text.len() > MAX_URL_BYTES {
            return Err(error(format!(
                "longer than {MAX_URL_BYTES} bytes ({})",
                text.len()
            )));
        }
        if let Some((at, c)) = text.char_indices().find(|(_, c)| refused_char(*c)) {
            let what = match c {
                ' ' => "a space".to_owned(),
                '\\' => "a backslash".to_owned(),
                c if c.is_control() => format!("a control character ({})", c.escape_debug()),
                c => format!("a non-ASCII character ({c}); percent-encode it"),
            };
            return Err(error(format!("contains {what} at byte {at}")));
        }
        let path_and_before = text.split(['?', '#']).next().unwrap_or_default();
        if let Some(escape) = refused_escape(path_and_before) {
            return Err(error(format!(
                "the encoded `{escape}` is refused: servers disagree on whether it is decoded \
                 before routing; write the path plainly"
            )));
        }
        let url = Url::parse(text).map_err(|e| error(e.to_string()))?;
        if url.scheme() != "http" {
            return Err(error(format!(
                "only http:// URLs are supported, not {}://",
                url.scheme()
            )));
        }
        // The parser also repairs `http:host`, `http:/host` and `http:///host`: refuse them.
        let after_scheme = text.split_once(':').map_or("", |(_, rest)| rest);
        if !after_scheme.starts_with("//") || after_scheme[2..].starts_with('/') {
            return Err(error("expected `http://host`".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(error(
                "credentials in a URL are not supported (`user:password@` was given)".into(),
            ));
        }
        if url.fragment().is_some() {
            return Err(error(
                "a fragment (`#...`) is never sent to a server; remove it".into(),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(error("no host".into()));
        }
        if let Some(segment) = url
            .path_segments()
            .into_iter()
            .flatten()
            .find(|s| matches!(s.split(';').next(), Some("." | "..")))
        {
            return Err(error(format!(
                "the path segment `{segment}` climbs on some servers (`..;` is read as `..`)"
            )));
        }
        Ok(HttpUrl(url))
    }

    /// The host, lower-cased (IPv6 without brackets).
    pub fn host(&self) -> &str {
        match self.0.host() {
            Some(url::Host::Ipv6(_)) => self
                .0
                .host_str()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']'),
            _ => self.0.host_str().unwrap_or_default(),
        }
    }

    /// The port, explicit or the scheme's default (80).
    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(80)
    }

    /// The normalised path, starting with `/`.
    pub fn path(&self) -> &str {
        self.0.path()
    }

    /// The query, if any (without `?`).
    pub fn query(&self) -> Option<&str> {
        self.0.query()
    }

    /// The URL the request is made with.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// Is `request` under this URL taken as a grant? Same scheme, host and port, and this
    /// path's segments are a prefix of the request's: `/metrics` covers `/metrics`,
    /// `/metrics/` and `/metrics/jvm`, never `/metricsX`. The request's query is not
    /// compared (see [`HttpUrl::parse_grant`]).
    pub fn covers(&self, request: &HttpUrl) -> bool {
        let granted = segments(&self.0);
        let requested = segments(&request.0);
        self.0.scheme() == request.0.scheme()
            && self.0.host() == request.0.host()
            && self.port() == request.port()
            && requested.len() >= granted.len()
            && granted.iter().zip(&requested).all(|(g, r)| g == r)
    }

    /// Parse a grant. A grant covers a path and what lies below it, with any query; a query
    /// written in the grant is dropped (playbooks grant the very `metrics_url` they pass the
    /// plugin, which may carry a `name[]=` filter).
    pub fn parse_grant(text: &str) -> Result<HttpUrl, UrlError> {
        let mut url = HttpUrl::parse(text)?;
        url.0.set_query(None);
        Ok(url)
    }

    /// The grant that would allow this URL: its scheme, host, port and path, no query.
    pub fn as_grant(&self) -> String {
        let mut grant = self.0.clone();
        grant.set_query(None);
        grant.to_string()
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Path segments without a trailing empty one, so `/metrics/` and `/metrics` grant alike.
fn segments(url: &Url) -> Vec<&str> {
    let mut segments: Vec<&str> = url.path_segments().into_iter().flatten().collect();
    if segments.last() == Some(&"") {
        segments.pop();
    }
    segments
}

fn refused_char(c: char) -> bool {
    c.is_control() || c == ' ' || c == '\\' || !c.is_ascii()
}

/// The first `%XX` escape in `text` that encodes a byte we refuse in a path.
fn refused_escape(text: &str) -> Option<&str> {
    text.match_indices('%').find_map(|(at, _)| {
        let escape = text.get(at..at + 3)?;
        let byte = u8::from_str_radix(&escape[1..], 16).ok()?;
        matches!(byte, b'.' | b'/' | b'\\' | b'%' | 0..=0x1f | 0x7f).then_some(escape)
    })
}

/// `text` fit for one line of a message: escaped, and cut if long.
fn shown(text: &str) -> String {
    const MAX_SHOWN: usize = 200;
    let escaped: String = text.escape_debug().collect();
    match escaped.char_indices().nth(MAX_SHOWN) {
        Some((cut, _)) => format!("`{}…`", &escaped[..cut]),
        None => format!("`{escaped}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> HttpUrl {
        HttpUrl::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn refused(text: &str) -> String {
        match HttpUrl::parse(text) {
            Ok(url) => panic!("{text:?} was accepted as {url}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn urls_normalise_host_port_and_dot_segments() {
        let url = parse("HTTP://Broker-1:7071/metrics?name[]=x");
        assert_eq!((url.host(), url.port()), ("broker-1", 7071));
        assert_eq!(url.path(), "/metrics");
        assert_eq!(url.query(), Some("name[]=x"));
        assert_eq!(parse("http://b").port(), 80);
        assert_eq!(parse("http://b").path(), "/");
        assert_eq!(parse("http://b/metrics/../admin").path(), "/admin");
        assert_eq!(parse("http://[::1]:9/m").host(), "::1");
        assert_eq!(parse("http://b:80/m").to_string(), "http://b/m");
    }

    #[test]
    fn control_characters_and_repaired_text_are_refused() {
        for text in [
            "http://b/metrics HTTP/1.1\r\nHost: b\r\n\r\nPOST /admin HTTP/1.1",
            "http://b/metrics\r\nX: 1",
            "http://b/metrics\n",
            "http://b/met\trics",
            "http://b/metrics\0",
            "http://b/metrics\u{7f}",
            "http://b/metrics\u{85}",
            " http://b/metrics",
            "http://b/metrics x",
            "http://b/metrics\\..\\admin",
            "http://b/métrics",
        ] {
            let why = refused(text);
            assert!(why.contains("contains"), "{text:?}: {why}");
            assert!(
                !why.contains('\r') && !why.contains('\n'),
                "one line: {why}"
            );
        }
    }

    #[test]
    fn encoded_slashes_dots_and_controls_are_refused_in_the_path() {
        for text in [
            "http://b/metrics%2f..%2fsecret",
            "http://b/metrics%2F..%2Fsecret",
            "http://b/metrics/%2e%2e/admin",
            "http://b/metrics/.%2E/admin",
            "http://b/metrics%5c..%5cadmin",
            "http://b/metrics%252e%252e/admin",
            "http://b/metrics%0d%0aX:%201",
            "http://b/metrics%00",
        ] {
            assert!(refused(text).contains("is refused"), "{text:?}");
        }
        for text in ["http://b/metrics/..;/admin", "http://b/metrics/.;x/admin"] {
            assert!(refused(text).contains("climbs"), "{text:?}");
        }
        // Harmless escapes stay, in the path and in a query.
        assert_eq!(parse("http://b/a%20b").path(), "/a%20b");
        assert_eq!(parse("http://b/m?name=a%2fb").query(), Some("name=a%2fb"));
    }

    #[test]
    fn other_schemes_credentials_and_fragments_are_refused() {
        assert!(refused("https://b/metrics").contains("only http://"));
        assert!(refused("file:///etc/passwd").contains("only http://"));
        assert!(refused("http://u:p@b/metrics").contains("credentials"));
        assert!(refused("http://127.0.0.1:80@evil/metrics").contains("credentials"));
        assert!(refused("http://b/metrics#x").contains("fragment"));
        assert!(HttpUrl::parse("http://b:x/").is_err());
        for repaired in ["http:///metrics", "http:/b/metrics", "http:b/metrics"] {
            assert!(refused(repaired).contains("http://host"), "{repaired}");
        }
        assert!(HttpUrl::parse(&format!("http://b/{}", "a".repeat(3000))).is_err());
    }

    #[test]
    fn grants_cover_whole_segments_on_the_same_target() {
        let grant = HttpUrl::parse_grant("http://broker-1:7071/metrics").unwrap();
        for allowed in [
            "http://broker-1:7071/metrics",
            "http://BROKER-1:7071/metrics/",
            "http://broker-1:7071/metrics/jvm?x=1",
            "http://broker-1:7071/metrics?name[]=kafka_server",
            "http://broker-1:7071/other/../metrics",
        ] {
            assert!(grant.covers(&parse(allowed)), "{allowed}");
        }
        for denied in [
            "http://broker-1:7071/metricsX",
            "http://broker-1:7071/metrics.bak",
            "http://broker-1:7071/",
            "http://broker-1:7071/metrics/../admin",
            "http://broker-1:7071/%6detrics",
            "http://broker-1:7072/metrics",
            "http://broker-1/metrics",
            "http://broker-2:7071/metrics",
            "http://broker-1.evil:7071/metrics",
        ] {
            assert!(!grant.covers(&parse(denied)), "{denied}");
        }
        let slash = HttpUrl::parse_grant("http://b:1/metrics/").unwrap();
        assert!(slash.covers(&parse("http://b:1/metrics")));
        let root = HttpUrl::parse_grant("http://b:1").unwrap();
        assert!(root.covers(&parse("http://b:1/anything/at/all")));
        assert_eq!(
            HttpUrl::parse_grant("http://b/metrics?name=x")
                .unwrap()
                .to_string(),
            "http://b/metrics"
        );
        assert_eq!(
            parse("http://b:1/m?x=1").as_grant(),
            "http://b:1/m",
            "a denial suggests the path, not the query"
        );
    }
}
