//! The producer configuration as the client will see it: the file parsed line by line, its
//! dialect (Java client, librdkafka, or the 0.8 Scala producer) scored from every key against
//! the clients' schemas ([`crate::schema`]), and every setting the
//! rules need resolved to a typed value that remembers where it came from — a `file:line`,
//! or the client's documented default when the file leaves the key out.
//!
//! The defaults are data ([`SPECS`]): one row per setting with each client's names, default
//! and the version that introduced the default, so a new client version is a table edit.

use std::collections::BTreeMap;

use crate::schema::{self, Family};

/// Which client library reads the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The Apache Kafka Java client (`KafkaProducer`, and everything built on it).
    Java,
    /// librdkafka and its bindings (confluent-kafka-python/-go/-dotnet, rdkafka, kcat).
    Librdkafka,
}

impl Dialect {
    /// The client as named in findings.
    pub fn client(self) -> &'static str {
        match self {
            Dialect::Java => "the Java client",
            Dialect::Librdkafka => "librdkafka",
        }
    }

    /// The short name used in facts.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Java => "java",
            Dialect::Librdkafka => "librdkafka",
        }
    }
}

/// One `key=value` line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, unescaped.
    pub key: String,
    /// The value, unescaped, continuation lines joined.
    pub value: String,
    /// 1-based line on which the entry starts.
    pub line: usize,
}

/// The file is not a valid properties file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line the parser stopped at, when it knows.
    pub line: Option<usize>,
    /// The parser's own words.
    pub message: String,
}

/// Parse a `.properties` text (also the format of librdkafka config files: `key=value`, `#`
/// comments), keeping the line of each entry.
///
/// Uses `java-properties` for the escapes and continuation lines `java.util.Properties`
/// understands. The text is handed over as ISO-8859-1 bytes on purpose: that is how
/// `Properties.load(InputStream)`, and so the Java client's `--producer.config`, reads the
/// file, so a non-ASCII value is quoted exactly as the client sees it.
pub fn parse_properties(text: &str) -> Result<Vec<Entry>, ParseError> {
    let mut entries = Vec::new();
    for line in java_properties::PropertiesIter::new(text.as_bytes()) {
        let line = line.map_err(|error| ParseError {
            line: error.line_number(),
            message: error.to_string(),
        })?;
        let number = line.line_number();
        if let java_properties::LineContent::KVPair(key, value) = line.consume_content() {
            entries.push(Entry {
                key,
                value,
                line: number,
            });
        }
    }
    Ok(entries)
}

/// A producer setting the rules look at, whatever a client calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Setting {
    /// Where the client starts: `bootstrap.servers` / `metadata.broker.list`.
    BootstrapServers,
    /// How many replicas acknowledge a write.
    Acks,
    /// How often a failed send is retried.
    Retries,
    /// How long a batch waits for more records.
    LingerMs,
    /// How long the client waits for one produce response.
    RequestTimeoutMs,
    /// How long a record may take from `send()` to success or failure, retries included.
    DeliveryTimeoutMs,
    /// Produce requests in flight per connection.
    MaxInFlight,
    /// The idempotent producer.
    EnableIdempotence,
    /// The largest request (Java: record) the client sends.
    MaxRequestSize,
    /// The memory for records waiting to be sent, in bytes.
    BufferBytes,
    /// The number of records allowed to wait (librdkafka only).
    QueueMaxMessages,
    /// How long `send()` may block for metadata or buffer space (Java only).
    MaxBlockMs,
    /// The most bytes batched per partition (Java: one batch; librdkafka: one MessageSet).
    BatchSize,
    /// The most records batched in one MessageSet (librdkafka only).
    BatchMessages,
    /// The transactional producer's id (no default).
    TransactionalId,
}

/// How one client spells a setting and what it assumes when the file leaves it out.
#[derive(Debug, Clone, Copy)]
pub struct Spelling {
    /// Accepted names, the documented one first. librdkafka also takes its aliases (`acks`
    /// for `request.required.acks`); when several are set, the last line wins, as the
    /// client applies them in order.
    pub names: &'static [&'static str],
    /// The value assumed when no name is set; `None` when the client has no default.
    pub default: Option<&'static str>,
    /// Where the default comes from, said next to it ("since 3.0; 1 before").
    pub since: &'static str,
    /// Multiplier from the written unit to the model's (librdkafka counts its queue in KiB).
    pub scale: u64,
}

/// One row of the defaults table.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The setting.
    pub setting: Setting,
    /// The Java client's spelling; `None` when it has no such setting.
    pub java: Option<Spelling>,
    /// librdkafka's spelling; `None` when it has no such setting.
    pub librdkafka: Option<Spelling>,
}

impl Spec {
    /// The spelling of `dialect`.
    pub fn spelling(&self, dialect: Dialect) -> Option<&Spelling> {
        match dialect {
            Dialect::Java => self.java.as_ref(),
            Dialect::Librdkafka => self.librdkafka.as_ref(),
        }
    }
}

const fn spelling(
    names: &'static [&'static str],
    default: &'static str,
    since: &'static str,
) -> Option<Spelling> {
    Some(Spelling {
        names,
        default: Some(default),
        since,
        scale: 1,
    })
}

/// Names and defaults, from the Java client's `ProducerConfig` (Kafka 4.x) and librdkafka's
/// CONFIGURATION.md (2.x).
pub const SPECS: &[Spec] = &[
    Spec {
        setting: Setting::BootstrapServers,
        java: Some(Spelling {
            names: &["bootstrap.servers"],
            default: None,
            since: "required",
            scale: 1,
        }),
        librdkafka: Some(Spelling {
            names: &["metadata.broker.list", "bootstrap.servers"],
            default: None,
            since: "required",
            scale: 1,
        }),
    },
    Spec {
        setting: Setting::Acks,
        java: spelling(&["acks"], "all", "since 3.0; 1 before"),
        librdkafka: spelling(&["request.required.acks", "acks"], "-1", "all"),
    },
    Spec {
        setting: Setting::Retries,
        java: spelling(&["retries"], "2147483647", "since 2.1"),
        librdkafka: spelling(
            &["message.send.max.retries", "retries"],
            "2147483647",
            "INT32_MAX",
        ),
    },
    Spec {
        setting: Setting::LingerMs,
        java: spelling(&["linger.ms"], "5", "since 4.0; 0 before"),
        librdkafka: spelling(&["queue.buffering.max.ms", "linger.ms"], "5", "5 ms"),
    },
    Spec {
        setting: Setting::RequestTimeoutMs,
        java: spelling(&["request.timeout.ms"], "30000", "30 s"),
        librdkafka: spelling(&["request.timeout.ms"], "30000", "30 s"),
    },
    Spec {
        setting: Setting::DeliveryTimeoutMs,
        java: spelling(&["delivery.timeout.ms"], "120000", "2 min, since 2.1"),
        librdkafka: spelling(
            &["message.timeout.ms", "delivery.timeout.ms"],
            "300000",
            "5 min",
        ),
    },
    Spec {
        setting: Setting::MaxInFlight,
        java: spelling(&["max.in.flight.requests.per.connection"], "5", "5"),
        librdkafka: spelling(
            &["max.in.flight.requests.per.connection", "max.in.flight"],
            "1000000",
            "5 when idempotence is on",
        ),
    },
    Spec {
        setting: Setting::EnableIdempotence,
        // kafka-clients 3.0.0 and 3.1.0 declared true but enabled idempotence only when the
        // key was written (ProducerConfig.idempotenceEnabled; KAFKA-13598, fixed in 3.0.1,
        // 3.1.1 and 3.2.0).
        java: spelling(
            &["enable.idempotence"],
            "true",
            "since 3.0.1/3.1.1/3.2; 3.0.0 and 3.1.0 only when written, false before",
        ),
        librdkafka: spelling(&["enable.idempotence"], "false", "off"),
    },
    Spec {
        setting: Setting::MaxRequestSize,
        java: spelling(&["max.request.size"], "1048576", "1 MiB"),
        librdkafka: spelling(&["message.max.bytes"], "1000000", "1 MB"),
    },
    Spec {
        setting: Setting::BufferBytes,
        java: spelling(&["buffer.memory"], "33554432", "32 MiB"),
        librdkafka: Some(Spelling {
            names: &["queue.buffering.max.kbytes"],
            default: Some("1048576"),
            since: "1 GiB",
            scale: 1024,
        }),
    },
    Spec {
        setting: Setting::QueueMaxMessages,
        java: None,
        librdkafka: spelling(&["queue.buffering.max.messages"], "100000", "100000"),
    },
    Spec {
        setting: Setting::MaxBlockMs,
        java: spelling(&["max.block.ms"], "60000", "60 s"),
        librdkafka: None,
    },
    Spec {
        setting: Setting::BatchSize,
        java: spelling(&["batch.size"], "16384", "16 KiB"),
        librdkafka: spelling(&["batch.size"], "1000000", "1 MB"),
    },
    Spec {
        setting: Setting::BatchMessages,
        java: None,
        librdkafka: spelling(&["batch.num.messages"], "10000", "10000"),
    },
    Spec {
        setting: Setting::TransactionalId,
        java: Some(Spelling {
            names: &["transactional.id"],
            default: None,
            since: "none",
            scale: 1,
        }),
        librdkafka: Some(Spelling {
            names: &["transactional.id"],
            default: None,
            since: "none",
            scale: 1,
        }),
    },
];

/// The row of `setting`.
pub fn spec(setting: Setting) -> &'static Spec {
    SPECS
        .iter()
        .find(|spec| spec.setting == setting)
        .expect("every setting has a row in SPECS")
}

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Written in the file.
    File {
        /// The key as written.
        key: String,
        /// The value as written.
        raw: String,
        /// The line it is on.
        line: usize,
    },
    /// Not in the file: the client's default applies.
    Default {
        /// The documented name of the setting.
        key: &'static str,
        /// The default, as the client documents it.
        raw: &'static str,
        /// Whose default.
        dialect: Dialect,
        /// Where the default comes from ("since 3.0; 1 before").
        since: &'static str,
    },
}

impl Origin {
    /// Was the value written in the file? Clients treat a written value differently from a
    /// default (the Java client refuses contradictory settings only when they are written).
    pub fn is_set(&self) -> bool {
        matches!(self, Origin::File { .. })
    }

    /// The key, as written or as documented.
    pub fn key(&self) -> &str {
        match self {
            Origin::File { key, .. } => key,
            Origin::Default { key, .. } => key,
        }
    }

    /// `key=value` for a title, marking a default as such.
    pub fn shown(&self) -> String {
        match self {
            Origin::File { key, raw, .. } => format!("{key}={raw}"),
            Origin::Default { key, raw, .. } => format!("{key}={raw} (default)"),
        }
    }

    /// Evidence source: `file:line`, or the file itself when the key is absent.
    pub fn source(&self, file: &str) -> String {
        match self {
            Origin::File { line, .. } => format!("{file}:{line}"),
            Origin::Default { .. } => file.to_owned(),
        }
    }

    /// Evidence excerpt: the line as written, or which default was assumed.
    pub fn excerpt(&self) -> String {
        match self {
            Origin::File { key, raw, .. } => format!("{key}={raw}"),
            Origin::Default {
                key,
                raw,
                dialect,
                since,
            } => {
                let whose = match dialect {
                    Dialect::Java => "the Java client",
                    Dialect::Librdkafka => "librdkafka's",
                };
                format!("{key} not set: assuming {whose} default {key}={raw} ({since})")
            }
        }
    }
}

/// A typed value and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Value<T> {
    /// The value the client will use.
    pub value: T,
    /// Where it comes from.
    pub origin: Origin,
}

/// `acks`, as the broker understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: no acknowledgement at all.
    None,
    /// `acks=1`: the leader alone.
    Leader,
    /// `acks=all` / `-1`: every in-sync replica, at least `min.insync.replicas`.
    All,
}

/// A value the client would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Where it is written.
    pub origin: Origin,
    /// What the client accepts.
    pub expected: &'static str,
    /// The default the audit assumed instead.
    pub assumed: Origin,
}

/// The producer configuration the rules judge.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerConfig {
    /// The file, as given in the step's `path`.
    pub file: String,
    /// The client family the keys were written for.
    pub family: Family,
    /// Which client's names and defaults type the settings (a 0.8 file is read with
    /// librdkafka's, which kept most of the 0.8 names).
    pub dialect: Dialect,
    /// The keys that decided the dialect (empty: none decided, the Java client assumed).
    pub dialect_keys: Vec<String>,
    /// Number of entries in the file.
    pub entries: usize,
    /// The entry in force for each key (the last line that sets it), in line order.
    pub lines: Vec<Entry>,
    /// Keys whose value is an unsubstituted `${...}` placeholder: the typed settings assume
    /// the default for them, and the placeholder is reported once, by the schema rule.
    pub placeholder_values: Vec<String>,
    /// The bootstrap list as written; `None` when the file has none (there is no default).
    pub bootstrap_servers: Option<Value<String>>,
    /// `acks` / `request.required.acks`.
    pub acks: Value<Acks>,
    /// `retries` / `message.send.max.retries`.
    pub retries: Value<u64>,
    /// `linger.ms` / `queue.buffering.max.ms`, in milliseconds (librdkafka's fractions
    /// rounded up).
    pub linger_ms: Value<u64>,
    /// `request.timeout.ms`.
    pub request_timeout_ms: Value<u64>,
    /// `delivery.timeout.ms` / `message.timeout.ms` (librdkafka: 0 means no limit).
    pub delivery_timeout_ms: Value<u64>,
    /// `max.in.flight.requests.per.connection` / `max.in.flight`.
    pub max_in_flight: Value<u64>,
    /// `enable.idempotence`.
    pub enable_idempotence: Value<bool>,
    /// `max.request.size` / librdkafka's `message.max.bytes`, in bytes.
    pub max_request_size: Value<u64>,
    /// `buffer.memory` / `queue.buffering.max.kbytes`, in bytes.
    pub buffer_bytes: Value<u64>,
    /// `queue.buffering.max.messages` (librdkafka only).
    pub queue_max_messages: Option<Value<u64>>,
    /// `max.block.ms` (Java only).
    pub max_block_ms: Option<Value<u64>>,
    /// `batch.size`, in bytes.
    pub batch_size: Option<Value<u64>>,
    /// `batch.num.messages` (librdkafka only).
    pub batch_messages: Option<Value<u64>>,
    /// `transactional.id`, when set.
    pub transactional_id: Option<Value<String>>,
    /// Values the client would refuse; the audit assumed the default for each.
    pub invalid: Vec<Invalid>,
}

impl ProducerConfig {
    /// Type the entries of `file` for the client recognised from their keys.
    pub fn load(file: &str, entries: &[Entry]) -> ProducerConfig {
        // Later lines override earlier ones, as in `java.util.Properties` and librdkafka.
        let mut last: BTreeMap<&str, &Entry> = BTreeMap::new();
        for entry in entries {
            last.insert(entry.key.as_str(), entry);
        }
        let placeholder_values: Vec<String> = last
            .values()
            .filter(|entry| schema::placeholder(&entry.value).is_some())
            .map(|entry| entry.key.clone())
            .collect();
        // A placeholder key (`${PREFIX}.acks`) is no key of any client: it does not vote.
        let (family, dialect_keys) = schema::detect(
            last.keys()
                .copied()
                .filter(|key| schema::placeholder(key).is_none()),
        );
        let dialect = match family {
            Family::Java => Dialect::Java,
            Family::Librdkafka | Family::Legacy08 => Dialect::Librdkafka,
        };
        let mut lines: Vec<Entry> = last.values().map(|entry| (*entry).clone()).collect();
        lines.sort_by_key(|entry| entry.line);
        let mut loader = Loader {
            file,
            dialect,
            last: &last,
            invalid: Vec::new(),
        };
        let linger_parser = match dialect {
            // librdkafka's linger is a float ("0.5" is valid); the Java client's a long.
            Dialect::Librdkafka => parse_fractional_millis,
            Dialect::Java => parse_count,
        };
        let config = ProducerConfig {
            file: file.to_owned(),
            family,
            dialect,
            dialect_keys,
            entries: entries.len(),
            lines,
            placeholder_values,
            bootstrap_servers: loader.resolve(Setting::BootstrapServers, parse_list),
            acks: loader.required(Setting::Acks, |raw| parse_acks(raw, dialect)),
            retries: loader.required(Setting::Retries, parse_count),
            linger_ms: loader.required(Setting::LingerMs, linger_parser),
            request_timeout_ms: loader.required(Setting::RequestTimeoutMs, parse_count),
            delivery_timeout_ms: loader.required(Setting::DeliveryTimeoutMs, parse_count),
            max_in_flight: loader.required(Setting::MaxInFlight, parse_count),
            enable_idempotence: loader.required(Setting::EnableIdempotence, parse_bool),
            max_request_size: loader.required(Setting::MaxRequestSize, parse_count),
            buffer_bytes: loader.required(Setting::BufferBytes, parse_count),
            queue_max_messages: loader.resolve(Setting::QueueMaxMessages, parse_count),
            max_block_ms: loader.resolve(Setting::MaxBlockMs, parse_count),
            batch_size: loader.resolve(Setting::BatchSize, parse_count),
            batch_messages: loader.resolve(Setting::BatchMessages, parse_count),
            transactional_id: loader.resolve(Setting::TransactionalId, parse_list),
            invalid: Vec::new(),
        };
        ProducerConfig {
            invalid: loader.invalid,
            ..config
        }
    }

    /// Every default the audit assumed, for the operator to confirm.
    pub fn defaults_assumed(&self) -> Vec<&Origin> {
        let mut origins = vec![
            &self.acks.origin,
            &self.retries.origin,
            &self.linger_ms.origin,
            &self.request_timeout_ms.origin,
            &self.delivery_timeout_ms.origin,
            &self.max_in_flight.origin,
            &self.enable_idempotence.origin,
            &self.max_request_size.origin,
            &self.buffer_bytes.origin,
        ];
        origins.extend(self.queue_max_messages.as_ref().map(|v| &v.origin));
        origins.extend(self.max_block_ms.as_ref().map(|v| &v.origin));
        origins.retain(|origin| !origin.is_set());
        origins
    }
}

/// Resolves settings against the file's entries and the defaults table.
struct Loader<'a> {
    file: &'a str,
    dialect: Dialect,
    last: &'a BTreeMap<&'a str, &'a Entry>,
    invalid: Vec<Invalid>,
}

impl Loader<'_> {
    /// The setting's value, or `None` when this client has no such setting or no default.
    fn resolve<T>(
        &mut self,
        setting: Setting,
        parse: impl Fn(&str) -> Result<T, &'static str>,
    ) -> Option<Value<T>>
    where
        T: Scale,
    {
        let spelling = spec(setting).spelling(self.dialect)?;
        let written = spelling
            .names
            .iter()
            .filter_map(|name| self.last.get(name))
            // An unsubstituted placeholder is no value: the default applies, and the
            // placeholder is reported by the schema rule.
            .filter(|entry| schema::placeholder(&entry.value).is_none())
            .max_by_key(|entry| entry.line);
        let default = spelling.default.map(|raw| {
            let origin = Origin::Default {
                key: spelling.names[0],
                raw,
                dialect: self.dialect,
                since: spelling.since,
            };
            (raw, origin)
        });
        if let Some(entry) = written {
            let origin = Origin::File {
                key: entry.key.clone(),
                raw: entry.value.clone(),
                line: entry.line,
            };
            match parse(entry.value.trim()) {
                Ok(value) => {
                    return Some(Value {
                        value: value.scaled(spelling.scale),
                        origin,
                    });
                }
                Err(expected) => {
                    if let Some((_, assumed)) = &default {
                        self.invalid.push(Invalid {
                            origin,
                            expected,
                            assumed: assumed.clone(),
                        });
                    }
                }
            }
        }
        let (raw, origin) = default?;
        let value = parse(raw).unwrap_or_else(|expected| {
            panic!(
                "the default {raw} of {setting:?} in SPECS must parse ({expected}); file {}",
                self.file
            )
        });
        Some(Value {
            value: value.scaled(spelling.scale),
            origin,
        })
    }

    /// A setting every client has, with a default.
    fn required<T: Scale>(
        &mut self,
        setting: Setting,
        parse: impl Fn(&str) -> Result<T, &'static str>,
    ) -> Value<T> {
        self.resolve(setting, parse)
            .unwrap_or_else(|| panic!("{setting:?} has a default in both clients in SPECS"))
    }
}

/// Unit conversion for the few settings whose written unit differs from the model's.
trait Scale {
    fn scaled(self, factor: u64) -> Self;
}

impl Scale for u64 {
    fn scaled(self, factor: u64) -> Self {
        self.saturating_mul(factor)
    }
}

macro_rules! unscaled {
    ($($t:ty),*) => {$(
        impl Scale for $t {
            fn scaled(self, _: u64) -> Self {
                self
            }
        }
    )*};
}
unscaled!(bool, Acks, String);

fn parse_count(raw: &str) -> Result<u64, &'static str> {
    raw.parse()
        .map_err(|_| "a whole number, 0 or more (no units)")
}

fn parse_fractional_millis(raw: &str) -> Result<u64, &'static str> {
    match raw.parse::<f64>() {
        Ok(ms) if ms.is_finite() && ms >= 0.0 => Ok(ms.ceil() as u64),
        _ => Err("a number of milliseconds, 0 or more"),
    }
}

fn parse_bool(raw: &str) -> Result<bool, &'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("true or false"),
    }
}

fn parse_acks(raw: &str, dialect: Dialect) -> Result<Acks, &'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "all" | "-1" => Ok(Acks::All),
        "1" => Ok(Acks::Leader),
        "0" => Ok(Acks::None),
        // librdkafka takes up to 1000 "for compatibility"; brokers since 0.10 reject
        // anything but -1, 0 and 1 with INVALID_REQUIRED_ACKS.
        _ => Err(match dialect {
            Dialect::Java => "all, -1, 0 or 1",
            Dialect::Librdkafka => "all, -1, 0 or 1 (brokers reject other values)",
        }),
    }
}

fn parse_list(raw: &str) -> Result<String, &'static str> {
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn load(text: &str) -> ProducerConfig {
        ProducerConfig::load("app.properties", &parse_properties(text).unwrap())
    }

    #[test]
    fn keeps_the_line_of_each_key_across_comments_and_continuations() {
        let entries = parse_properties(
            "# producer\n\nbootstrap.servers=a:9092,\\\n    b:9092\nacks = 1\n! old comment\nretries: 0\n",
        )
        .unwrap();
        let lines: Vec<(&str, &str, usize)> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str(), e.line))
            .collect();
        assert_eq!(
            lines,
            [
                ("bootstrap.servers", "a:9092,b:9092", 3),
                ("acks", "1", 5),
                ("retries", "0", 7)
            ]
        );
    }

    #[test]
    fn absent_keys_take_the_java_defaults_and_say_so() {
        let config = load("bootstrap.servers=a:9092\n");
        assert_eq!(config.dialect, Dialect::Java);
        assert_eq!(config.acks.value, Acks::All);
        assert_eq!(
            config.acks.origin.excerpt(),
            "acks not set: assuming the Java client default acks=all (since 3.0; 1 before)"
        );
        assert_eq!(config.linger_ms.value, 5);
        assert_eq!(config.delivery_timeout_ms.value, 120_000);
        assert!(config.enable_idempotence.value);
        assert_eq!(config.max_block_ms.as_ref().unwrap().value, 60_000);
        assert!(config.queue_max_messages.is_none());
        assert!(!config.defaults_assumed().is_empty());
    }

    #[test]
    fn librdkafka_files_are_recognised_and_take_its_names_aliases_and_units() {
        let config = load(
            "metadata.broker.list=a:9092\nrequest.required.acks=1\nlinger.ms=0.5\n\
             queue.buffering.max.kbytes=512\nretries=3\nmessage.send.max.retries=7\n",
        );
        assert_eq!(config.dialect, Dialect::Librdkafka);
        assert_eq!(config.acks.value, Acks::Leader);
        assert_eq!(config.linger_ms.value, 1, "fractions round up");
        assert_eq!(config.buffer_bytes.value, 512 * 1024);
        assert_eq!(config.retries.value, 7, "the last of two aliases wins");
        assert_eq!(config.delivery_timeout_ms.value, 300_000);
        assert!(!config.enable_idempotence.value);
        assert!(config.max_block_ms.is_none());
        assert_eq!(config.bootstrap_servers.unwrap().origin.source("f"), "f:1");
    }

    #[test]
    fn invalid_values_are_kept_with_the_default_assumed() {
        let config = load("acks=2\nretries=-1\n");
        assert_eq!(config.acks.value, Acks::All);
        let keys: Vec<&str> = config.invalid.iter().map(|i| i.origin.key()).collect();
        assert_eq!(keys, ["acks", "retries"]);
    }

    #[test]
    fn keys_of_the_other_client_do_not_set_this_clients_settings() {
        let config = load("bootstrap.servers=a:1\nkey.serializer=x\nrequest.required.acks=0\n");
        assert_eq!(config.dialect, Dialect::Java);
        assert_eq!(config.acks.value, Acks::All, "the Java client ignores it");
    }

    #[test]
    fn placeholder_values_take_the_default_and_are_remembered() {
        let config = load("bootstrap.servers=${BROKERS}\nlinger.ms=${LINGER}\nacks=1\n");
        assert!(config.bootstrap_servers.is_none());
        assert_eq!(config.linger_ms.value, 5);
        assert!(config.invalid.is_empty());
        assert_eq!(
            config.placeholder_values,
            ["bootstrap.servers", "linger.ms"]
        );
    }

    #[test]
    fn a_0_8_scala_producer_file_is_recognised_and_typed_with_librdkafkas_names() {
        let config = load(
            "metadata.broker.list=a:9092\nrequest.required.acks=1\nproducer.type=async\n\
             serializer.class=kafka.serializer.StringEncoder\n",
        );
        assert_eq!(config.family, Family::Legacy08);
        assert_eq!(config.acks.value, Acks::Leader);
    }

    #[test]
    fn the_defaults_table_agrees_with_the_clients_schemas() {
        // SPECS names the defaults the rules assume; the schemas are what the clients declare
        // (kafka-clients 4.4.0's ConfigDef, librdkafka 2.15.0's property table).
        let catalogue = schema::catalogue();
        for spec in SPECS {
            for (dialect, spelling) in [
                (Dialect::Java, spec.java.as_ref()),
                (Dialect::Librdkafka, spec.librdkafka.as_ref()),
            ] {
                let Some(spelling) = spelling else { continue };
                for name in spelling.names {
                    let declared = match dialect {
                        Dialect::Java => catalogue.java_producer.key(name),
                        Dialect::Librdkafka => catalogue.librdkafka.producer_key(name),
                    };
                    let declared = declared
                        .unwrap_or_else(|| panic!("{name} is not a {dialect:?} producer key"));
                    let Some(default) = spelling.default else {
                        continue;
                    };
                    // librdkafka documents acks as -1 and linger.ms as a float.
                    let schema_default = declared.default.as_deref().unwrap_or("");
                    assert!(
                        schema_default == default
                            || (schema_default.parse::<f64>().ok())
                                .is_some_and(|n| default.parse::<f64>().ok() == Some(n)),
                        "{dialect:?} {name}: SPECS says {default}, the schema {schema_default}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_default_in_the_table_parses_for_both_clients() {
        // `load` panics on a default that does not parse; an empty file of each dialect
        // resolves every row.
        assert_eq!(load("").dialect, Dialect::Java);
        assert_eq!(load("debug=msg\n").dialect, Dialect::Librdkafka);
        assert_eq!(load("producer.type=sync\n").dialect, Dialect::Librdkafka);
    }
}
