//! The clients' configuration schemas, as data: every key each client declares, with its type,
//! default, valid range or values, and deprecation — the Java producer's, consumer's and admin
//! client's `ConfigDef` (dumped from the released kafka-clients jars), librdkafka's property
//! table (its CONFIGURATION.md), and the keys of the 0.8 Scala producer. The files live in
//! `schema/` beside this crate, each citing its source and version in its header, and are
//! embedded in the plugin; `schema/gen/` holds the generators.
//!
//! This module answers three questions about a key: which clients know it (for the dialect and
//! for "this is a consumer key"), whether a value fits the key's declaration (the check the
//! client itself makes at start-up), and which known key a misspelled one was meant to be.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::Deserialize;

/// The Java producer of the newest kafka-clients version dumped: the schema files are judged
/// against.
const JAVA_PRODUCER: &str = include_str!("../schema/java-producer-4.4.0.ron");
/// Older Java producers, for defaults that changed and keys a version removed.
const JAVA_PRODUCER_OLDER: &[&str] = &[
    include_str!("../schema/java-producer-3.9.1.ron"),
    include_str!("../schema/java-producer-2.8.2.ron"),
];
const JAVA_CONSUMER: &str = include_str!("../schema/java-consumer-4.4.0.ron");
const JAVA_ADMIN: &str = include_str!("../schema/java-admin-4.4.0.ron");
const LIBRDKAFKA: &str = include_str!("../schema/librdkafka-2.15.0.ron");
const LEGACY_PRODUCER: &str = include_str!("../schema/legacy-0.8-producer.ron");

/// One client's schema file.
#[derive(Debug, Deserialize)]
pub struct Schema {
    /// `java-producer`, `librdkafka`, `legacy-0.8-producer`, ...
    pub client: String,
    /// The client version the file was taken from.
    pub version: String,
    /// Every key the client declares.
    pub keys: Vec<Key>,
}

/// How a client parses a value (Java's `ConfigDef.Type`, librdkafka's property types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Kind {
    /// `true` / `false` (librdkafka also `t`, `f`, `1`, `0`).
    Boolean,
    /// Any text.
    String,
    /// A 32-bit integer.
    Int,
    /// A 16-bit integer.
    Short,
    /// A 64-bit integer.
    Long,
    /// A floating-point number.
    Double,
    /// A comma-separated list.
    List,
    /// A Java class name, loaded at start-up.
    Class,
    /// A secret (never shown).
    Password,
    /// librdkafka: one of `values`.
    Enum,
    /// librdkafka: a comma-separated subset of `values`.
    Flags,
    /// librdkafka: set through a dedicated API call, not from a file.
    Pointer,
}

/// One key as its client declares it.
#[derive(Debug, Clone, Deserialize)]
pub struct Key {
    /// The key.
    pub name: String,
    /// How its value is parsed.
    pub kind: Kind,
    /// The default, as the client documents it; `None` when it has none.
    #[serde(default)]
    pub default: Option<String>,
    /// The smallest value accepted.
    #[serde(default)]
    pub min: Option<String>,
    /// The largest value accepted.
    #[serde(default)]
    pub max: Option<String>,
    /// The values accepted, when the client lists them.
    #[serde(default)]
    pub values: Vec<String>,
    /// Java: the list of values is compared ignoring case.
    #[serde(default)]
    pub case_insensitive: bool,
    /// Java: another validator, as its `toString()` says.
    #[serde(default)]
    pub rule: Option<String>,
    /// librdkafka: `*` both, `P` producer, `C` consumer (empty for the other clients).
    #[serde(default)]
    pub scope: String,
    /// librdkafka: a topic-level property.
    #[serde(default)]
    pub topic: bool,
    /// librdkafka: the property this one is an alias of.
    #[serde(default)]
    pub alias_of: Option<String>,
    /// The client's own words when it deprecates the key.
    #[serde(default)]
    pub deprecated: Option<String>,
    /// Java: an internal key, not documented.
    #[serde(default)]
    pub internal: bool,
    /// Legacy: the Java client's key for the same intent.
    #[serde(default)]
    pub replacement: Option<String>,
    /// Legacy: what changed on the way.
    #[serde(default)]
    pub note: Option<String>,
}

impl Key {
    /// librdkafka: does a producer read it?
    pub fn for_producer(&self) -> bool {
        self.scope != "C"
    }
}

/// Every schema, parsed once.
pub struct Catalogue {
    /// The Java producer, kafka-clients 4.x.
    pub java_producer: Schema,
    /// Older Java producers, newest first.
    pub java_producer_older: Vec<Schema>,
    /// The Java consumer.
    pub java_consumer: Schema,
    /// The Java admin client.
    pub java_admin: Schema,
    /// librdkafka: producer, consumer and global properties.
    pub librdkafka: Schema,
    /// The 0.8 Scala producer.
    pub legacy: Schema,
}

/// The catalogue, parsed on first use. A schema file that does not parse is a build defect
/// (the unit tests parse every file), hence the panic.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let parse = |text: &str| -> Schema {
            ron::from_str(text).unwrap_or_else(|e| panic!("embedded schema does not parse: {e}"))
        };
        Catalogue {
            java_producer: parse(JAVA_PRODUCER),
            java_producer_older: JAVA_PRODUCER_OLDER.iter().map(|t| parse(t)).collect(),
            java_consumer: parse(JAVA_CONSUMER),
            java_admin: parse(JAVA_ADMIN),
            librdkafka: parse(LIBRDKAFKA),
            legacy: parse(LEGACY_PRODUCER),
        }
    })
}

impl Schema {
    /// The key's declaration.
    pub fn key(&self, name: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// The key's declaration for a producer (librdkafka declares some keys twice, global and
    /// topic-level; a producer reads the `*`/`P` one).
    pub fn producer_key(&self, name: &str) -> Option<&Key> {
        self.keys
            .iter()
            .filter(|k| k.name == name)
            .find(|k| k.for_producer())
    }
}

impl Catalogue {
    /// Keys a Java producer of some version declared and 4.x no longer does, with the newest
    /// version that still had it.
    pub fn java_removed(&self, name: &str) -> Option<&str> {
        self.java_producer_older
            .iter()
            .find(|schema| schema.key(name).is_some())
            .map(|schema| schema.version.as_str())
    }

    /// The older defaults of a Java producer key that differ from 4.x's, newest first:
    /// `(version, default)`.
    pub fn java_default_history(&self, name: &str) -> Vec<(&str, &str)> {
        let current = self
            .java_producer
            .key(name)
            .and_then(|k| k.default.as_deref());
        self.java_producer_older
            .iter()
            .filter_map(|schema| {
                let old = schema.key(name)?.default.as_deref()?;
                (Some(old) != current).then_some((schema.version.as_str(), old))
            })
            .collect()
    }
}

/// The client families a configuration file can be written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The Java client (`KafkaProducer`).
    Java,
    /// librdkafka and its bindings.
    Librdkafka,
    /// The Scala producer of Kafka 0.8 (`kafka.producer.Producer`), removed in Kafka 2.0.
    Legacy08,
}

impl Family {
    /// The client as named in findings.
    pub fn client(self) -> &'static str {
        match self {
            Family::Java => "the Java client",
            Family::Librdkafka => "librdkafka",
            Family::Legacy08 => "the 0.8 Scala producer",
        }
    }

    /// The short name used in facts.
    pub fn name(self) -> &'static str {
        match self {
            Family::Java => "java",
            Family::Librdkafka => "librdkafka",
            Family::Legacy08 => "legacy-0.8",
        }
    }
}

/// Which families know `key`: (Java — producer, consumer or admin, any version —,
/// librdkafka, legacy 0.8).
pub fn known_by(key: &str) -> (bool, bool, bool) {
    let catalogue = catalogue();
    let java = catalogue.java_producer.key(key).is_some()
        || catalogue.java_removed(key).is_some()
        || catalogue.java_consumer.key(key).is_some()
        || catalogue.java_admin.key(key).is_some();
    (
        java,
        catalogue.librdkafka.key(key).is_some(),
        catalogue.legacy.key(key).is_some(),
    )
}

/// The family the keys were written for, by score: each key adds one point, shared equally
/// among the families that know it, so a key only one client knows counts fully and a key
/// every client shares (`client.id`) barely at all. Unknown keys count for nothing. Ties go
/// to the Java client, then librdkafka: a file of shared keys only is valid for both, and
/// the 0.8 producer must show a key of its own (`producer.type`, `serializer.class`) to win.
///
/// Returns the family and the keys that counted for it, the most telling (exclusive) first.
pub fn detect<'a>(keys: impl Iterator<Item = &'a str>) -> (Family, Vec<String>) {
    let mut scores = [0.0f64; 3];
    let mut evidence: [Vec<(usize, String)>; 3] = Default::default();
    for key in keys {
        let (java, librdkafka, legacy) = known_by(key);
        let known = [java, librdkafka, legacy];
        let sharing = known.iter().filter(|k| **k).count();
        for (family, knows) in known.iter().enumerate() {
            if *knows {
                scores[family] += 1.0 / sharing as f64;
                evidence[family].push((sharing, key.to_owned()));
            }
        }
    }
    let mut best = 0;
    for family in 1..3 {
        if scores[family] > scores[best] + 1e-9 {
            best = family;
        }
    }
    let mut keys = std::mem::take(&mut evidence[best]);
    keys.sort();
    let family = [Family::Java, Family::Librdkafka, Family::Legacy08][best];
    (family, keys.into_iter().map(|(_, key)| key).collect())
}

/// The known key `key` was most likely meant to be: the closest by edit distance (a
/// transposition counts once: `retires` → `retries`), ignoring case and `_`/`-` for `.`,
/// within 2 edits (3 for long keys).
pub fn did_you_mean<'a>(key: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let normalise = |k: &str| k.to_ascii_lowercase().replace(['_', '-'], ".");
    let wanted = normalise(key);
    let limit = if wanted.len() >= 20 { 3 } else { 2 };
    known
        .map(|candidate| {
            (
                strsim::damerau_levenshtein(&wanted, &normalise(candidate)),
                candidate,
            )
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, candidate)| (*distance, candidate.len()))
        .map(|(_, candidate)| candidate)
}

/// Check `value` against the declaration, as the client parses it at start-up. `Err` says
/// what the client accepts.
pub fn check_value(key: &Key, value: &str, librdkafka: bool) -> Result<(), String> {
    let value = value.trim();
    let number = match key.kind {
        // rd_kafka_conf_set: "Property \"%s\" must be set through dedicated .._set_..() function".
        Kind::Pointer => {
            return Err("nothing: it is set through its dedicated API call, not a file".to_owned());
        }
        // The 0.8 Scala producer's classes (kafka.serializer.StringEncoder, the default
        // kafka.producer.DefaultPartitioner) do not exist in kafka-clients: loading one fails.
        Kind::Class
            if ["kafka.serializer.", "kafka.producer."]
                .iter()
                .any(|p| value.starts_with(p)) =>
        {
            return Err(
                "a class of kafka-clients or the application (this is a class of the 0.8 Scala producer, removed in Kafka 2.0)"
                    .to_owned(),
            );
        }
        Kind::Boolean => {
            let accepted: &[&str] = if librdkafka {
                &["true", "false", "t", "f", "1", "0"]
            } else {
                &["true", "false"]
            };
            return if accepted.iter().any(|a| a.eq_ignore_ascii_case(value)) {
                Ok(())
            } else {
                Err("true or false".to_owned())
            };
        }
        Kind::Int | Kind::Short | Kind::Long if librdkafka => {
            // librdkafka maps a few words onto numbers (acks: all = -1).
            if value.eq_ignore_ascii_case("all")
                && matches!(key.name.as_str(), "acks" | "request.required.acks")
            {
                return Ok(());
            }
            // strtol: the leading number counts, what follows it is ignored.
            leading_number(value, false).ok_or_else(|| expected_number(key))?
        }
        Kind::Double if librdkafka => {
            leading_number(value, true).ok_or_else(|| expected_number(key))?
        }
        Kind::Int => value
            .parse::<i32>()
            .map(f64::from)
            .map_err(|_| expected_number(key))?,
        Kind::Short => value
            .parse::<i16>()
            .map(f64::from)
            .map_err(|_| expected_number(key))?,
        Kind::Long => value
            .parse::<i64>()
            .map(|n| n as f64)
            .map_err(|_| expected_number(key))?,
        Kind::Double => value.parse::<f64>().map_err(|_| expected_number(key))?,
        Kind::String | Kind::Enum if !key.values.is_empty() => {
            let fits = |v: &String| {
                if librdkafka || key.case_insensitive {
                    v.eq_ignore_ascii_case(value)
                } else {
                    *v == value
                }
            };
            return if key.values.iter().any(fits) {
                Ok(())
            } else {
                Err(format!("one of {}", key.values.join(", ")))
            };
        }
        Kind::Flags | Kind::List if !key.values.is_empty() => {
            let unknown: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .filter(|v| !key.values.iter().any(|a| a.eq_ignore_ascii_case(v)))
                .collect();
            return if unknown.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "a comma-separated list of {} ({} is not one)",
                    key.values.join(", "),
                    unknown.join(", ")
                ))
            };
        }
        Kind::String if key.rule.as_deref() == Some("non-empty string") => {
            return if value.is_empty() {
                Err("a non-empty string".to_owned())
            } else {
                Ok(())
            };
        }
        _ => return Ok(()),
    };
    let bound = |b: &Option<String>| b.as_deref().and_then(|b| b.parse::<f64>().ok());
    let (min, max) = (bound(&key.min), bound(&key.max));
    if min.is_some_and(|min| number < min) || max.is_some_and(|max| number > max) {
        return Err(range(key));
    }
    Ok(())
}

fn expected_number(key: &Key) -> String {
    let what = match key.kind {
        Kind::Int => "a whole number (32-bit)",
        Kind::Short => "a whole number (16-bit)",
        Kind::Long => "a whole number (64-bit)",
        _ => "a number",
    };
    if key.min.is_some() || key.max.is_some() {
        format!("{what}, {}", range(key))
    } else {
        format!("{what}, no units")
    }
}

fn range(key: &Key) -> String {
    match (&key.min, &key.max) {
        (Some(min), Some(max)) => format!("from {min} to {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => "any number".to_owned(),
    }
}

/// The number at the start of `text`, as C's strtol/strtod read it; `None` when there is none.
fn leading_number(text: &str, fraction: bool) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end += 1;
    }
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if fraction && end < bytes.len() && bytes[end] == b'.' {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    if end == digits_start || text[digits_start..end] == *"." {
        return None;
    }
    text[..end].parse().ok()
}

/// Unique key names of a schema, for suggestions.
pub fn names(schema: &Schema, producer_only: bool) -> BTreeSet<&str> {
    schema
        .keys
        .iter()
        .filter(|k| !producer_only || k.for_producer())
        .filter(|k| !k.internal)
        .map(|k| k.name.as_str())
        .collect()
}

/// An unsubstituted template placeholder (`${VAR}`, `${env:VAR}`, `${file:/path:key}`): the
/// step that should have filled it in did not run. Returns the text inside the braces.
pub fn placeholder(text: &str) -> Option<&str> {
    let start = text.find("${")?;
    let end = text[start..].find('}')?;
    Some(&text[start + 2..start + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_file_parses_and_holds_the_keys_its_client_declares() {
        let catalogue = catalogue();
        assert_eq!(catalogue.java_producer.version, "4.4.0");
        assert!(catalogue.java_producer.keys.len() > 100);
        assert_eq!(
            catalogue
                .java_producer
                .key("acks")
                .unwrap()
                .default
                .as_deref(),
            Some("all")
        );
        assert!(catalogue.java_consumer.key("group.id").is_some());
        assert!(catalogue.java_admin.key("bootstrap.servers").is_some());
        assert!(
            catalogue
                .librdkafka
                .producer_key("queue.buffering.max.kbytes")
                .is_some()
        );
        assert_eq!(catalogue.legacy.keys.len(), 18);
    }

    #[test]
    fn defaults_that_changed_by_version_come_from_the_older_dumps() {
        let catalogue = catalogue();
        assert_eq!(
            catalogue.java_default_history("acks"),
            [("2.8.2", "1")],
            "acks became all in 3.0"
        );
        assert_eq!(
            catalogue.java_default_history("enable.idempotence"),
            [("2.8.2", "false")]
        );
        assert_eq!(
            catalogue.java_default_history("linger.ms"),
            [("3.9.1", "0"), ("2.8.2", "0")]
        );
        assert_eq!(
            catalogue.java_removed("auto.include.jmx.reporter"),
            Some("3.9.1")
        );
    }

    #[test]
    fn the_dialect_is_scored_from_every_key() {
        let family = |keys: &[&str]| detect(keys.iter().copied()).0;
        assert_eq!(family(&["bootstrap.servers", "acks"]), Family::Java);
        assert_eq!(
            family(&["metadata.broker.list", "request.required.acks", "linger.ms"]),
            Family::Librdkafka
        );
        assert_eq!(
            family(&[
                "metadata.broker.list",
                "request.required.acks",
                "producer.type",
                "serializer.class"
            ]),
            Family::Legacy08
        );
        assert_eq!(
            family(&[
                "bootstrap.servers",
                "debug",
                "buffer.memory",
                "statistics.interval.ms"
            ]),
            Family::Librdkafka
        );
    }

    #[test]
    fn misspelled_keys_find_the_key_meant() {
        let java = names(&catalogue().java_producer, false);
        let suggest = |k: &str| did_you_mean(k, java.iter().copied());
        assert_eq!(suggest("retires"), Some("retries"));
        assert_eq!(suggest("Batch.Size"), Some("batch.size"));
        assert_eq!(suggest("linger_ms"), Some("linger.ms"));
        assert_eq!(suggest("schema.registry.url"), None);
    }

    #[test]
    fn values_are_checked_as_each_client_parses_them() {
        let catalogue = catalogue();
        let java =
            |k: &str, v: &str| check_value(catalogue.java_producer.key(k).unwrap(), v, false);
        let rdk =
            |k: &str, v: &str| check_value(catalogue.librdkafka.producer_key(k).unwrap(), v, true);
        assert!(java("linger.ms", "10").is_ok());
        assert!(java("linger.ms", "10ms").is_err());
        assert!(java("acks", "all").is_ok());
        assert!(
            java("acks", "ALL").is_err(),
            "Java's ValidString is case-sensitive"
        );
        assert!(java("enable.idempotence", "TRUE").is_ok());
        assert!(java("enable.idempotence", "yes").is_err());
        assert!(java("max.in.flight.requests.per.connection", "0").is_err());
        assert!(java("request.timeout.ms", "3000000000").is_err());
        assert!(rdk("acks", "all").is_ok());
        assert!(rdk("acks", "2").is_ok(), "librdkafka accepts up to 1000");
        assert!(rdk("linger.ms", "0.5").is_ok());
        assert!(rdk("linger.ms", "abc").is_err());
        assert!(rdk("socket.keepalive.enable", "t").is_ok());
        assert!(rdk("batch.num.messages", "0").is_err());
        assert!(rdk("compression.codec", "ZSTD").is_ok());
        assert!(rdk("debug", "broker,topic,msg").is_ok());
        assert!(rdk("debug", "broker,everything").is_err());
        assert!(
            rdk("dr_msg_cb", "x").is_err(),
            "a callback is set through the API"
        );
        assert!(java("value.serializer", "kafka.serializer.StringEncoder").is_err());
        assert!(java("value.serializer", "com.example.OrderSerializer").is_ok());
    }

    #[test]
    fn placeholders_are_found_in_keys_and_values() {
        assert_eq!(placeholder("${KAFKA_BOOTSTRAP}"), Some("KAFKA_BOOTSTRAP"));
        assert_eq!(placeholder("${env:X}"), Some("env:X"));
        assert_eq!(placeholder("$HOME"), None);
    }
}
