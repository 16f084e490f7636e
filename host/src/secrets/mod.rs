//! What counts as a secret — defined once, here — and how secrets are masked before any byte
//! reaches a plugin: in the files it reads ([`text`]) and in the command lines of the
//! processes it lists ([`command_line`]).
//!
//! Secrets never enter plugins (DESIGN.md, trust model). A config audit must still see *that*
//! `sasl.jaas.config` is set, so values are replaced, never the key: the key and "set" stay
//! visible. When in doubt a rule masks: a hidden detail costs a line of the diagnosis, a
//! leaked password costs the cluster.
//!
//! # What a sensitive key is ([`is_sensitive_key`])
//!
//! 1. **Kafka**: every config declared with `ConfigDef.Type.PASSWORD` ([`KAFKA_PASSWORD_KEYS`]):
//!    clients' `SslConfigs` and `SaslConfigs` (as documented by Kafka 4.4's `ProducerConfig`,
//!    `ConsumerConfig`, `AdminClientConfig`), the broker's `delegation.token.secret.key`, and
//!    Kafka 3.x's `PasswordEncoderConfigs` and `ZkConfigs`. Tested against the real jars:
//!    tests/sandbox_files.rs reads each class's generated config documentation.
//! 2. **librdkafka**: the properties flagged `_RK_SENSITIVE` in `src/rdkafka_conf.c` (2.12.1,
//!    the version rdkafka-sys bundles) that hold a credential ([`LIBRDKAFKA_SECRET_KEYS`]).
//!    librdkafka also flags `sasl.username` and `ssl.key.location` (to keep them out of its
//!    debug logs); a user name and a file path are not credentials, and a config audit needs
//!    to read the path, so they are not masked.
//! 3. **JAAS options** holding a credential: `password` (`PlainLoginModule`,
//!    `ScramLoginModule`), `clientSecret` (`OAuthBearerLoginCallbackHandler`) and
//!    `user_NAME` (`PlainServerCallbackHandler.JAAS_USER_PREFIX`; case-sensitive, as JAAS is).
//! 4. **Anyone's secret**: a key whose last word is a secret word ([`SECRET_WORDS`]:
//!    `db.password`, `DB_PASSWORD`, `keystorePassword`, `--api-key`, `-storepass`) or one of
//!    the short forms that mean a password only as a whole word ([`SECRET_WHOLE_WORDS`]:
//!    `--pass`, `DB_PWD`, openssl's `-passin`).
//!
//! A key matches with any prefix (`listener.name.sasl_ssl.plain.`, `producer.`, `KAFKA_`,
//! `-D`, `--`) and with `.`, `_` or `-` between its words, case-insensitively (an environment
//! file spells `ssl.key.password` as `KAFKA_SSL_KEY_PASSWORD`).

pub mod command_line;
pub mod text;

pub use self::command_line::redact_command_line;
pub use self::text::Masker;

/// Configs Kafka declares with `ConfigDef.Type.PASSWORD`.
pub const KAFKA_PASSWORD_KEYS: &[&str] = &[
    // SslConfigs, SaslConfigs (clients and brokers), Kafka 4.4.
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl.keystore.key",
    "ssl.keystore.certificate.chain",
    "ssl.truststore.password",
    "ssl.truststore.certificates",
    "sasl.jaas.config",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.client.credentials.client.secret",
    // DelegationTokenManagerConfigs (brokers).
    "delegation.token.secret.key",
    // PasswordEncoderConfigs and ZkConfigs (Kafka 3.x brokers).
    "password.encoder.secret",
    "password.encoder.old.secret",
    "zookeeper.ssl.keystore.password",
    "zookeeper.ssl.truststore.password",
];

/// librdkafka properties flagged `_RK_SENSITIVE` (src/rdkafka_conf.c) that hold a credential.
pub const LIBRDKAFKA_SECRET_KEYS: &[&str] = &[
    "ssl.key.password",
    "ssl.key.pem",
    "ssl.ca.pem",
    "ssl_key",
    "ssl.keystore.password",
    "sasl.password",
    "sasl.oauthbearer.config",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.assertion.private.key.file",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.assertion.private.key.pem",
];

/// A key whose last word ends in one of these holds a secret, whoever defines it. Compared in
/// lower case with separators removed, so `keystorePassword`, `api-key` and `X-Api-Key` match
/// `password` and `apikey`; `storepass`/`keypass` are keytool's options.
pub const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "storepass",
    "keypass",
];

/// Short forms that mean a password only as the key's whole last word: inside other words
/// they mean something else (`bypass`, `compass`).
pub const SECRET_WHOLE_WORDS: &[&str] = &["pass", "pw", "pwd", "passin", "passout"];

/// The JAAS option prefix of `PlainServerCallbackHandler`'s users (`user_alice="..."`).
const JAAS_USER_PREFIX: &str = "user_";

/// Is the value of `key` (a config key, a JAAS option, a JVM `-D` property, a command-line
/// option, an environment variable) a secret? The one definition, for files and command lines.
pub fn is_sensitive_key(key: &str) -> bool {
    let key = key
        .strip_prefix("-D")
        .unwrap_or(key)
        .trim_start_matches('-');
    if key.len() > JAAS_USER_PREFIX.len() && key.starts_with(JAAS_USER_PREFIX) {
        return true;
    }
    let lower = key.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(['.', '_', '-'])
        .filter(|w| !w.is_empty())
        .collect();
    // The last word, and the last two run together (`api-key` → `apikey`), camelCase folded
    // by the lower-casing (`keystorePassword` → `keystorepassword`).
    let last = words.last().copied().unwrap_or_default();
    let last_two = match words.as_slice() {
        [.., a, b] => format!("{a}{b}"),
        _ => last.to_owned(),
    };
    if SECRET_WORDS
        .iter()
        .any(|w| last.ends_with(w) || last_two == *w)
        || SECRET_WHOLE_WORDS.contains(&last)
    {
        return true;
    }
    let dotted = words.join(".");
    KAFKA_PASSWORD_KEYS
        .iter()
        .chain(LIBRDKAFKA_SECRET_KEYS)
        .map(|known| known.replace('_', "."))
        .any(|known| {
            dotted == known
                || dotted
                    .strip_suffix(known.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_key_is_sensitive_in_every_spelling() {
        for key in KAFKA_PASSWORD_KEYS.iter().chain(LIBRDKAFKA_SECRET_KEYS) {
            for spelling in [
                key.to_string(),
                format!("producer.{key}"),
                format!("-D{key}"),
                format!("KAFKA_{}", key.replace('.', "_").to_uppercase()),
            ] {
                assert!(is_sensitive_key(&spelling), "{spelling}");
            }
        }
    }

    #[test]
    fn sensitive_keys_are_one_definition() {
        for key in [
            "password",
            "clientSecret",
            "user_alice",
            "listener.name.sasl_ssl.plain.sasl.jaas.config",
            "keystorePassword",
            "DB_PASSWORD",
            "api-key",
            "--api_key",
            "X-Api-Key",
            "DB_PWD",
            "--sasl-token",
            "-storepass",
            "passin",
        ] {
            assert!(is_sensitive_key(key), "{key} is sensitive");
        }
        for key in [
            "acks",
            "bootstrap.servers",
            "ssl.truststore.location",
            "ssl.keystore.location",
            "ssl.key.location",
            "ssl.keystore.type",
            "sasl.username",
            "sasl.mechanism",
            "security.protocol",
            "password.encoder.cipher.algorithm",
            "sasl.oauthbearer.token.endpoint.url",
            "KAFKA_USER_ID",
            "bypass",
            "passwordFile",
            "user_",
        ] {
            assert!(!is_sensitive_key(key), "{key} is not sensitive");
        }
    }
}
