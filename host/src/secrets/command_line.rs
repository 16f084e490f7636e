//! Masking the command lines of processes a plugin lists.
//!
//! A plugin that lists processes sees
//! their command lines, and a broker's or a client's command line carries credentials in many
//! shapes: `-Dssl.keystore.password=...`, a whole `-Dsasl.jaas.config=... password="...";`,
//! `--password PW`, `--api-key=KEY`, curl's `-u user:PW`, mysql's `-pPW`, `scheme://user:PW@host`.
//!
//! The rules are data: [`is_sensitive_key`] (the one definition, in [`crate::secrets`]) says
//! which keys and options name a secret, [`OPTIONS_WITH_SECRETS`] lists the options whose value is (or holds) a secret whatever
//! their name says, and [`redact_command_line`] applies both to every argument. The key stays
//! visible, the value becomes [`MASK`]. When in doubt the rules mask: a hidden port or path
//! costs a detail of the diagnosis, a leaked password costs the cluster.

use std::borrow::Cow;

use url::Url;

use super::is_sensitive_key;

/// What a secret value is replaced with. Shorter than the files' mask ([`super::text::MASK`])
/// because it must also stand inside a URL's password, where spaces and `<>` would be
/// percent-encoded into noise.
pub const MASK: &str = "***";

/// What the value of an option holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Secret {
    /// All of it (`--password PW`).
    Whole,
    /// The part after the first `:` (`-u user:PW`); without a `:` there is no password
    /// (curl asks for it).
    AfterColon,
}

impl Secret {
    fn mask(self, value: &str) -> String {
        match self {
            Secret::Whole => MASK.to_owned(),
            Secret::AfterColon => match value.split_once(':') {
                Some((user, _)) => format!("{user}:{MASK}"),
                None => value.to_owned(),
            },
        }
    }
}

/// An option whose value is a secret whatever its name says.
struct OptionRule {
    /// Its spellings. A long one takes its value as the next argument or after `=`; a short
    /// one (`-p`) as the next argument or attached (`-pPW`).
    names: &'static [&'static str],
    value: Secret,
}

/// Options with secrets that [`is_sensitive_key`] cannot recognise by name. Options named
/// after a sensitive key (`--password`, `--api-key`, `-storepass`) need no entry.
const OPTIONS_WITH_SECRETS: &[OptionRule] = &[
    // mysql, sshpass, zkCli-style tools: `-p PW` or `-pPW`. Elsewhere `-p` is a port
    // (`ssh -p 22`) or a flag (`mkdir -p`): those are masked too, deliberately.
    OptionRule {
        names: &["-p"],
        value: Secret::Whole,
    },
    // curl (and wget's `--user`): `user:password`, for the server and for the proxy.
    OptionRule {
        names: &["-u", "--user", "-U", "--proxy-user"],
        value: Secret::AfterColon,
    },
];

/// A command line (`argv`) for display, every secret in it masked, arguments joined by
/// spaces.
///
/// Each argument is read word by word (an argument with spaces is a shell script given to
/// `sh -c`, or a JAAS configuration): an option with a secret masks the next word; in
/// `KEY=VALUE` with a sensitive key everything after the `=` up to the end of the argument
/// is masked (a JAAS value spans words); URLs lose their password.
pub fn redact_command_line(argv: &[String]) -> String {
    let mut pending: Option<Secret> = None;
    argv.iter()
        .map(|argument| match pending.take() {
            // An option's value is the whole next argument, spaces included.
            Some(secret) => secret.mask(argument),
            None => redact_argument(argument, &mut pending),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Mask one argument; `pending` carries an option's secret over to the next word (or, after
/// the last word, to the next argument).
fn redact_argument(argument: &str, pending: &mut Option<Secret>) -> String {
    let mut out = String::with_capacity(argument.len());
    for piece in argument.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end_matches(char::is_whitespace);
        let separator = &piece[word.len()..];
        if word.is_empty() {
            out.push_str(separator);
            continue;
        }
        if let Some(secret) = pending.take() {
            out.push_str(&secret.mask(word));
        } else if let Some(equals) = sensitive_assignment(word) {
            // The value runs to the end of the argument.
            out.push_str(&redact_urls(&word[..=equals]));
            out.push_str(MASK);
            return out;
        } else {
            let (shown, next) = redact_option(word);
            *pending = next;
            out.push_str(&redact_urls(&shown));
        }
        out.push_str(separator);
    }
    out
}

/// Where `word` assigns a sensitive key: the index of that `=`. The key is the run of key
/// characters just before an `=`, so `--password=`, `-Dssl.key.password=`, `DB_PASSWORD=`,
/// `?token=` in a URL and `password=` inside a JAAS value are all found, and so is a nested
/// `--producer-property=sasl.jaas.config=`.
fn sensitive_assignment(word: &str) -> Option<usize> {
    word.match_indices('=').map(|(at, _)| at).find(|&at| {
        let before = &word[..at];
        let key = &before[trailing_run(before, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
        })..];
        is_sensitive_key(option_key(key))
    })
}

/// The key an option names: `--api-key` → `api-key`, `-Dssl.keystore.key` →
/// `ssl.keystore.key` (a JVM system property).
fn option_key(option: &str) -> &str {
    option
        .strip_prefix("-D")
        .unwrap_or(option)
        .trim_start_matches('-')
}

/// The word as shown, and whether the next word is an option's secret.
fn redact_option(word: &str) -> (Cow<'_, str>, Option<Secret>) {
    // An option named after a sensitive key (`--password`, `-storepass`) takes the next word
    // as its value. (With `=`, [`sensitive_assignment`] has already decided.)
    let names_a_secret = word.len() > 1
        && word.starts_with('-')
        && !word.contains('=')
        && is_sensitive_key(option_key(word));
    let next = names_a_secret.then_some(Secret::Whole);
    for rule in OPTIONS_WITH_SECRETS {
        for &name in rule.names {
            if word == name {
                return (word.into(), Some(rule.value));
            }
            let Some(attached) = word.strip_prefix(name) else {
                continue;
            };
            if name.starts_with("--") {
                if let Some(value) = attached.strip_prefix('=') {
                    return (format!("{name}={}", rule.value.mask(value)).into(), None);
                }
            } else {
                // `-pPW`. A word like `-passin` reads both ways (an option of its own, or
                // `-p` with the password `assin`), and so does `-pPassword1`: mask both the
                // attached value and the next word.
                return (format!("{name}{}", rule.value.mask(attached)).into(), next);
            }
        }
    }
    (word.into(), next)
}

/// Mask the password of every URL in `text` (`scheme://user:PW@host` → `scheme://user:***@host`).
fn redact_urls(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = trailing_run(&rest[..at], |c| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')
        });
        let after = at + "://".len();
        // A URL in a command line ends at a space, a quote, or a list separator
        // (`bootstrap.servers=SASL_SSL://a:9093,SASL_SSL://b:9093`).
        let end = rest[after..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '<' | '>'))
            .map_or(rest.len(), |i| after + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&redact_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.into()
}

/// Where the run of characters that `belongs` accepts at the end of `text` starts.
fn trailing_run(text: &str, belongs: impl Fn(char) -> bool) -> usize {
    text.char_indices()
        .rev()
        .find(|&(_, c)| !belongs(c))
        .map_or(0, |(at, c)| at + c.len_utf8())
}

fn redact_url(candidate: &str) -> Cow<'_, str> {
    match Url::parse(candidate) {
        Ok(mut url) if url.password().is_some() => {
            // A URL with a password has a host, so setting it cannot fail.
            let _ = url.set_password(Some(MASK));
            url.to_string().into()
        }
        Ok(_) => candidate.into(),
        // Not a URL the parser accepts, but it may still carry `user:pw@`: hide the whole
        // user part rather than guess where the password ends.
        Err(_) => {
            let (scheme, rest) = candidate.split_at(candidate.find("://").map_or(0, |i| i + 3));
            let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
            match authority.rfind('@') {
                Some(at) => format!("{scheme}{MASK}{}", &rest[at..]).into(),
                None => candidate.into(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (command line, as a plugin must see it). Arguments are separated by `|` so that an
    /// argument may hold spaces.
    const CASES: &[(&str, &str)] = &[
        // JVM system properties, the secret's key visible.
        (
            "java|-Dssl.keystore.password=s3cret|-Xmx1g",
            "java -Dssl.keystore.password=*** -Xmx1g",
        ),
        // A whole JAAS configuration in one argument: masked to its end, and the next
        // argument is left alone.
        (
            r#"java|-Dsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cret";|-Xmx1g|kafka.Kafka"#,
            "java -Dsasl.jaas.config=*** -Xmx1g kafka.Kafka",
        ),
        // The same JAAS configuration split into words by a shell.
        (
            r#"java|-Dsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule|required|username="alice"|password="s3cret";|-Xmx1g"#,
            r#"java -Dsasl.jaas.config=*** required username="alice" password=*** -Xmx1g"#,
        ),
        // Long options, value separate or after `=`.
        (
            "app|--password|s3cret|--verbose",
            "app --password *** --verbose",
        ),
        (
            "app|--password=s3cret|--verbose",
            "app --password=*** --verbose",
        ),
        (
            "app|--password|my s3cret phrase|-v",
            "app --password *** -v",
        ),
        ("curl|-u|alice:my s3cret phrase", "curl -u alice:***"),
        ("app|--api-key|s3cret|-v", "app --api-key *** -v"),
        ("app|--api-key=s3cret", "app --api-key=***"),
        (
            "app|--apikey=s3cret|--api_key=s3cret",
            "app --apikey=*** --api_key=***",
        ),
        ("app|--sasl-token|s3cret", "app --sasl-token ***"),
        ("app|--client-secret=s3cret", "app --client-secret=***"),
        (
            "keytool|-storepass|s3cret|-keypass|s3cret",
            "keytool -storepass *** -keypass ***",
        ),
        (
            "app|--pass|s3cret|--bypass|visible",
            "app --pass *** --bypass visible",
        ),
        // curl-style user:password, the user visible.
        (
            "curl|-u|alice:s3cret|https://example.com/",
            "curl -u alice:*** https://example.com/",
        ),
        ("curl|--user|alice:s3cret", "curl --user alice:***"),
        ("curl|--user=alice:s3cret", "curl --user=alice:***"),
        ("curl|-ualice:s3cret", "curl -ualice:***"),
        ("curl|-U|proxy:s3cret", "curl -U proxy:***"),
        (
            "curl|-u|alice|https://example.com/",
            "curl -u alice https://example.com/",
        ),
        // mysql-style `-p`.
        ("mysql|-u|root|-p|s3cret|db", "mysql -u root -p *** db"),
        ("mysql|-uroot|-ps3cret|db", "mysql -uroot -p*** db"),
        // `-p` with a password that reads like an option name: both possible values go.
        ("mysql|-ps3cret-password|db", "mysql -p*** ***"),
        (
            "openssl|-passin|pass:s3cret|-in|key.pem",
            "openssl -p*** *** -in key.pem",
        ),
        // URL credentials, anywhere in an argument.
        (
            "app|http://bob:s3cret@example.com:8080/x",
            "app http://bob:***@example.com:8080/x",
        ),
        (
            "app|--url=jdbc:postgresql://bob:s3cret@db.example.com/orders",
            "app --url=jdbc:postgresql://bob:***@db.example.com/orders",
        ),
        (
            "app|--schema-registry=https://alice:s3cret@sr:8081,https://bob:s3cret@sr2:8081",
            "app --schema-registry=https://alice:***@sr:8081/,https://bob:***@sr2:8081/",
        ),
        (
            "app|http://example.com/metrics?token=s3cret&format=text",
            "app http://example.com/metrics?token=***",
        ),
        (
            "app|http://bob:s3cret@host:99999/",
            "app http://***@host:99999/",
        ),
        // Assignments as arguments, and nested ones.
        ("env|DB_PASSWORD=s3cret|app", "env DB_PASSWORD=*** app"),
        (
            "env|KAFKA_SASL_JAAS_CONFIG=s3cret|app",
            "env KAFKA_SASL_JAAS_CONFIG=*** app",
        ),
        (
            "kafka-console-producer.sh|--producer-property|sasl.jaas.config=x password=\"s3cret\";",
            "kafka-console-producer.sh --producer-property sasl.jaas.config=***",
        ),
        (
            "app|--command-property=ssl.keystore.key=-----BEGIN PRIVATE KEY-----s3cret",
            "app --command-property=ssl.keystore.key=***",
        ),
        (
            "app|-Dproducer.ssl.key.pem=s3cret",
            "app -Dproducer.ssl.key.pem=***",
        ),
        // A shell script given to `sh -c`.
        (
            "sh|-c|curl -u alice:s3cret http://example.com/ && mysql -ps3cret",
            "sh -c curl -u alice:*** http://example.com/ && mysql -p***",
        ),
        // Nothing secret: unchanged, listeners and paths included.
        (
            "java|-Xmx1g|-cp|/opt/kafka/libs/*|kafka.Kafka|config/server.properties|--override|listeners=PLAINTEXT://:9092,CONTROLLER://:9093",
            "java -Xmx1g -cp /opt/kafka/libs/* kafka.Kafka config/server.properties --override listeners=PLAINTEXT://:9092,CONTROLLER://:9093",
        ),
        (
            "java|-Dssl.keystore.location=/etc/kafka/keystore.jks|-Dsasl.username=alice",
            "java -Dssl.keystore.location=/etc/kafka/keystore.jks -Dsasl.username=alice",
        ),
        // The ambiguity of `-p`, masked on purpose.
        ("ssh|-p|2222|host", "ssh -p *** host"),
        // Text that is not ASCII around the places the rules look at.
        (
            "app|é=x|ü://bob:s3cret@h/|mot_de_passe_é=x",
            "app é=x ü://***@h/ mot_de_passe_é=x",
        ),
    ];

    #[test]
    fn every_case_is_masked_as_the_table_says() {
        let mut wrong = Vec::new();
        for (command, expected) in CASES {
            let argv: Vec<String> = command.split('|').map(str::to_owned).collect();
            let shown = redact_command_line(&argv);
            if shown != *expected {
                wrong.push(format!(
                    "  {command}\n    got      {shown}\n    expected {expected}"
                ));
            }
            assert!(
                !shown.contains("s3cret"),
                "the secret leaked from {command}: {shown}"
            );
        }
        assert!(wrong.is_empty(), "wrongly masked:\n{}", wrong.join("\n"));
    }
}
