//! Rule 1: every key and value of the file against the schema of the client it is written for
//! ([`crate::schema`]): keys no client knows (with the key meant), keys of the consumer or
//! admin client, of the other dialect, of the 0.8 Scala producer, unsubstituted placeholders,
//! and values the client refuses at start-up (wrong type, out of range, not a listed value).
//!
//! Severity follows what the client does with the key. The Java client ignores a key it does
//! not know (it logs "These configurations '[...]' were supplied but are not used yet"), so
//! the setting meant silently keeps its default: a warning, unless the key meant is required
//! (`bootstrap.servers`), when the producer refuses to start. librdkafka refuses an unknown key
//! (`rd_kafka_conf_set`: "No such configuration property"), and every binding then fails to
//! create the producer: a failure. Consumer keys are ignored by both ("... is a consumer
//! property and will be ignored by this producer instance" in librdkafka).

use triage_sdk::{Finding, Severity};

use super::Audit;
use crate::config::{Dialect, Entry, SPECS};
use crate::schema::{self, Family, Key, catalogue};

use triage_sdk::cause::{
    CONFIG_INVALID_VALUE, CONFIG_LEGACY_CLIENT, CONFIG_PLACEHOLDER, CONFIG_UNKNOWN_KEY,
};

/// What the host puts in place of a secret value before the plugin sees it.
const MASKED: &str = "<redacted: set>";

/// Keys the Java client does not declare but hands on, with every other key of the file, to
/// the serializers, partitioner and interceptors it loads (`configure(originals)`): the
/// Confluent Schema Registry serializers' settings above all. Not judged as unknown.
const JAVA_PASS_THROUGH_PREFIXES: &[&str] = &[
    "schema.registry.",
    "basic.auth.",
    "bearer.auth.",
    "auto.register.schemas",
    "use.latest.version",
    "latest.compatibility.strict",
    "normalize.schemas",
    "key.subject.name.strategy",
    "value.subject.name.strategy",
    "avro.",
    "json.",
    "protobuf.",
    "confluent.",
    // `config.providers.NAME.class` / `.param.*`: the ConfigProvider's own settings.
    "config.providers.",
];

/// Keys that decide where and how the client connects: a placeholder in one of them leaves the
/// producer unable to reach or authenticate with the cluster.
fn connects(key: &str) -> bool {
    matches!(
        key,
        "bootstrap.servers" | "metadata.broker.list" | "security.protocol"
    ) || key.starts_with("ssl.")
        || key.starts_with("sasl.")
}

/// Rule 1: every key and value against the schema.
pub(super) fn keys(audit: &Audit) -> Vec<Finding> {
    let config = &audit.config;
    let mut findings = Vec::new();
    for entry in &config.lines {
        if let Some(finding) = judge(audit, entry) {
            findings.push(finding);
        }
    }
    findings
}

/// The one finding an entry deserves, if any.
fn judge(audit: &Audit, entry: &Entry) -> Option<Finding> {
    let config = &audit.config;
    let catalogue = catalogue();
    let key = entry.key.as_str();
    let librdkafka = config.family == Family::Librdkafka;
    // A 0.8 file is judged as a whole by `legacy_file`; its keys are not each a mistake.
    if config.family == Family::Legacy08 {
        return None;
    }
    let ignored_or_refused = if librdkafka {
        Severity::Fail
    } else {
        Severity::Warn
    };
    if let Some(name) = schema::placeholder(key) {
        return Some(
            cite(
                audit,
                Finding::new(
                    ignored_or_refused,
                    "config.placeholder",
                    format!(
                        "The key {key} holds an unsubstituted placeholder (${{{name}}}): {}",
                        consequence(config.family)
                    ),
                ),
                entry,
            )
            .cause(CONFIG_PLACEHOLDER)
            .fix(format!(
                "Run the step that fills in ${{{name}}} before the application starts (the \
                 template was shipped as is), or write the key out."
            )),
        );
    }
    let own = if librdkafka {
        catalogue.librdkafka.producer_key(key)
    } else {
        catalogue.java_producer.key(key)
    };
    if let Some(declared) = own {
        return judge_value(audit, entry, declared);
    }
    if !librdkafka
        && JAVA_PASS_THROUGH_PREFIXES
            .iter()
            .any(|p| key.starts_with(p))
    {
        return None;
    }
    let (id, title, severity, fix) = if let Some(version) =
        (!librdkafka).then(|| catalogue.java_removed(key)).flatten()
    {
        (
            "config.unknown-key",
            format!(
                "{key} was removed from the Java producer after kafka-clients {version}: \
                 the client ignores it"
            ),
            Severity::Warn,
            format!("Remove {key}: kafka-clients 4.x has no such setting."),
        )
    } else if let Some(other) = other_client(key, librdkafka) {
        (
            "config.client-key",
            format!(
                "{key} is a {other} setting, not a producer one: {}",
                if librdkafka {
                    "librdkafka ignores it in a producer (\"is a consumer property and will be ignored by this producer instance\")"
                } else {
                    "the Java producer ignores it"
                }
            ),
            Severity::Warn,
            format!(
                "Remove {key} from the producer's configuration (it was probably copied from a {other}'s file)."
            ),
        )
    } else if let Some(legacy) = catalogue.legacy.key(key) {
        let id = "config.legacy-key";
        let title = format!(
            "{key} is a key of the 0.8 Scala producer (removed in Kafka 2.0): {}",
            consequence(config.family)
        );
        let finding = Finding::new(ignored_or_refused, id, title)
            .cause(CONFIG_UNKNOWN_KEY)
            .fix(legacy_fix(legacy, &entry.value, config.dialect));
        return Some(cite(audit, finding, entry));
    } else if let Some(equivalent) = foreign(key, librdkafka) {
        let other = if librdkafka {
            "the Java client's"
        } else {
            "librdkafka's"
        };
        let fix = match equivalent {
            Some(name) => format!(
                "Write it as {name}={}.",
                convert_units(key, name, entry.value.trim())
            ),
            None => format!(
                "Remove it: {} has no such setting.",
                config.dialect.client()
            ),
        };
        let finding = Finding::new(
            ignored_or_refused,
            "config.foreign-key",
            format!(
                "{key} is {other} key, not {}'s: {}",
                config.dialect.client().trim_start_matches("the "),
                consequence(config.family)
            ),
        );
        return Some(
            cite(audit, finding, entry)
                .evidence(config.file.clone(), dialect_evidence(audit))
                .cause(CONFIG_UNKNOWN_KEY)
                .fix(fix),
        );
    } else {
        let known = if librdkafka {
            schema::names(&catalogue.librdkafka, true)
        } else {
            schema::names(&catalogue.java_producer, false)
        };
        let meant = schema::did_you_mean(key, known.iter().copied());
        let Some(meant) = meant else {
            // No key it could have been meant for: in a Java file, likely a setting for a
            // serializer or interceptor the client passes on; librdkafka refuses it anyway.
            let severity = if librdkafka {
                Severity::Fail
            } else {
                Severity::Info
            };
            return Some(
                cite(
                    audit,
                    Finding::new(
                        severity,
                        "config.unknown-key",
                        format!(
                            "{key} is not a key of {}: {}",
                            config.dialect.client(),
                            if librdkafka {
                                consequence(config.family)
                            } else {
                                "the producer ignores it (unless a serializer or interceptor reads it)"
                            }
                        ),
                    ),
                    entry,
                )
                .cause(CONFIG_UNKNOWN_KEY)
                .fix(format!(
                    "Remove {key}, or check the name against the client's documentation."
                )),
            );
        };
        // A required key misspelled: the client refuses to start without it.
        let required_missing = meant == "bootstrap.servers" && config.bootstrap_servers.is_none();
        let severity = if librdkafka || required_missing {
            Severity::Fail
        } else {
            Severity::Warn
        };
        let what_happens = if required_missing {
            "bootstrap.servers is then missing and KafkaProducer refuses to start (\"Missing required configuration \\\"bootstrap.servers\\\" which has no default value\")".to_owned()
        } else if librdkafka {
            consequence(config.family).to_owned()
        } else {
            format!("the Java client ignores it, so {meant} keeps its default")
        };
        (
            "config.unknown-key",
            format!(
                "{key} is not a key of {}: {what_happens}",
                config.dialect.client()
            ),
            severity,
            format!(
                "Did you mean {meant}? Write {meant}={}.",
                entry.value.trim()
            ),
        )
    };
    Some(
        cite(audit, Finding::new(severity, id, title), entry)
            .cause(CONFIG_UNKNOWN_KEY)
            .fix(fix),
    )
}

/// A key the client declares: its value, as the client will parse it.
fn judge_value(audit: &Audit, entry: &Entry, declared: &Key) -> Option<Finding> {
    let config = &audit.config;
    let value = entry.value.trim();
    if value == MASKED {
        return None;
    }
    if let Some(name) = schema::placeholder(value) {
        // The Java client resolves `${provider:[path:]key}` itself when `config.providers`
        // names the provider.
        let provider = name.split(':').next().unwrap_or("");
        let resolved = config.dialect == Dialect::Java
            && name.contains(':')
            && config.lines.iter().any(|e| {
                e.key == "config.providers" && e.value.split(',').any(|p| p.trim() == provider)
            });
        if resolved {
            return None;
        }
        let typed = !matches!(
            declared.kind,
            schema::Kind::String
                | schema::Kind::List
                | schema::Kind::Class
                | schema::Kind::Password
        ) || !declared.values.is_empty();
        let severity = if typed || connects(&entry.key) {
            Severity::Fail
        } else {
            Severity::Warn
        };
        let consequence = if typed {
            format!("{} refuses to start", config.dialect.client())
        } else if connects(&entry.key) {
            "the client uses the text literally and cannot connect".to_owned()
        } else {
            format!("the client uses the text ${{{name}}} literally")
        };
        return Some(
            cite(
                audit,
                Finding::new(
                    severity,
                    "config.placeholder",
                    format!(
                        "{}={value} is an unsubstituted placeholder: {consequence}",
                        entry.key
                    ),
                ),
                entry,
            )
            .cause(CONFIG_PLACEHOLDER)
            .fix(format!(
                "Run the step that fills in ${{{name}}} before the application starts, or write \
                 the value out."
            )),
        );
    }
    // The typed settings already report their own invalid values (with the default assumed).
    if config.invalid.iter().any(|i| i.origin.key() == entry.key) {
        return None;
    }
    if let Err(expected) = schema::check_value(declared, value, config.family == Family::Librdkafka)
    {
        let refusal = if config.dialect == Dialect::Java {
            "KafkaProducer's constructor throws ConfigException"
        } else {
            "rd_kafka_conf_set fails"
        };
        return Some(
            cite(
                audit,
                Finding::fail(
                    "config.invalid",
                    format!(
                        "{}={value} is not a valid value: {} refuses to start",
                        entry.key,
                        config.dialect.client()
                    ),
                ),
                entry,
            )
            .cause(CONFIG_INVALID_VALUE)
            .fix(format!(
                "Set {} to {expected} ({refusal}, so not one record is sent).",
                entry.key
            )),
        );
    }
    declared.deprecated.as_ref().map(|note| {
        cite(
            audit,
            Finding::info(
                "config.deprecated-key",
                format!("{} is deprecated: {note}", entry.key),
            ),
            entry,
        )
        .fix(format!(
            "Plan to remove {}: a later client version drops it.",
            entry.key
        ))
    })
}

/// Rule 1b: a file written for the 0.8 Scala producer. No client that runs today reads it as
/// meant: the Java client refuses to start without `bootstrap.servers`, librdkafka refuses
/// `producer.type` / `serializer.class`, and Kafka 4 brokers no longer speak the 0.8 protocol.
pub(super) fn legacy_file(audit: &Audit) -> Vec<Finding> {
    let config = &audit.config;
    if config.family != Family::Legacy08 {
        return Vec::new();
    }
    let legacy = &catalogue().legacy;
    let (own, shared): (Vec<&Entry>, Vec<&Entry>) = config
        .lines
        .iter()
        .filter(|e| legacy.key(&e.key).is_some())
        .partition(|e| {
            let (java, librdkafka, _) = schema::known_by(&e.key);
            !java && !librdkafka
        });
    let mut finding = Finding::fail(
        "config.legacy-client",
        format!(
            "{} is written for the 0.8 Scala producer (kafka.producer.Producer, removed in Kafka \
             2.0): the Java client refuses to start without bootstrap.servers and librdkafka \
             refuses {}",
            config.file,
            own.iter()
                .map(|e| e.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .cause(CONFIG_LEGACY_CLIENT)
    .fix(
        "Port the application to the Java client (or librdkafka) and rewrite the file with \
         the replacements shown; Kafka 4 brokers no longer accept the 0.8 producer's requests.",
    );
    for entry in own.iter().chain(shared.iter()) {
        let key = legacy
            .key(&entry.key)
            .expect("partitioned from legacy keys");
        finding = finding.evidence(
            format!("{}:{}", config.file, entry.line),
            format!(
                "{}={} — {}",
                entry.key,
                entry.value,
                legacy_fix(key, &entry.value, Dialect::Java)
            ),
        );
    }
    vec![finding]
}

/// What to write instead of a 0.8 key.
fn legacy_fix(legacy: &Key, value: &str, dialect: Dialect) -> String {
    let note = legacy
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    match (&legacy.replacement, dialect) {
        (Some(replacement), Dialect::Java) if *replacement != legacy.name => {
            format!("use {replacement}{note}",)
        }
        (Some(_), Dialect::Java) => format!("keep {}{note}", legacy.name),
        (_, Dialect::Librdkafka) => {
            let same = crate::schema::catalogue()
                .librdkafka
                .producer_key(&legacy.name)
                .is_some();
            if same {
                format!("keep {}{note}", legacy.name)
            } else {
                format!("remove it: librdkafka has no such setting{note} (value {value})")
            }
        }
        (None, _) => format!("remove it{note}"),
    }
}

/// `value` of `from` in the unit of `to`, when the two clients count differently (librdkafka's
/// queue in KiB, the Java buffer in bytes); as written otherwise.
fn convert_units(from: &str, to: &str, value: &str) -> String {
    let scale = |key: &str| {
        SPECS
            .iter()
            .filter_map(|spec| {
                [spec.java.as_ref(), spec.librdkafka.as_ref()]
                    .into_iter()
                    .flatten()
                    .find(|s| s.names.contains(&key))
            })
            .map(|s| s.scale)
            .next()
            .unwrap_or(1)
    };
    let (from_scale, to_scale) = (scale(from), scale(to));
    match value.parse::<u64>() {
        Ok(n) if from_scale != to_scale => (n.saturating_mul(from_scale) / to_scale).to_string(),
        _ => value.to_owned(),
    }
}

/// The client of the same dialect that declares the key, when the producer does not.
fn other_client(key: &str, librdkafka: bool) -> Option<&'static str> {
    let catalogue = catalogue();
    if librdkafka {
        let consumer_only = catalogue
            .librdkafka
            .keys
            .iter()
            .any(|k| k.name == key && !k.for_producer());
        return consumer_only.then_some("consumer");
    }
    if catalogue.java_consumer.key(key).is_some() {
        Some("consumer")
    } else if catalogue.java_admin.key(key).is_some() {
        Some("admin client")
    } else {
        None
    }
}

/// A key of the other modern dialect, with this client's name for the same setting when it
/// has one (from the defaults table, else the nearest name).
fn foreign(key: &str, librdkafka: bool) -> Option<Option<&'static str>> {
    let catalogue = catalogue();
    let (java, in_librdkafka, _) = schema::known_by(key);
    let is_foreign = if librdkafka { java } else { in_librdkafka };
    if !is_foreign {
        return None;
    }
    let (mine, theirs) = if librdkafka {
        (Dialect::Librdkafka, Dialect::Java)
    } else {
        (Dialect::Java, Dialect::Librdkafka)
    };
    let from_table = SPECS
        .iter()
        .find(|spec| {
            spec.spelling(theirs)
                .is_some_and(|s| s.names.contains(&key))
        })
        .and_then(|spec| spec.spelling(mine))
        .map(|s| s.names[0]);
    let nearest = || {
        let schema = if librdkafka {
            &catalogue.librdkafka
        } else {
            &catalogue.java_producer
        };
        schema::did_you_mean(key, schema::names(schema, librdkafka).into_iter())
    };
    Some(from_table.or_else(nearest))
}

/// What the client does with a key it does not know.
fn consequence(family: Family) -> &'static str {
    match family {
        Family::Librdkafka => {
            "librdkafka refuses it (\"No such configuration property\") and the producer is not created"
        }
        Family::Java | Family::Legacy08 => {
            "the Java client ignores it (\"supplied but are not used yet\")"
        }
    }
}

/// Which keys made the audit read the file as this dialect.
fn dialect_evidence(audit: &Audit) -> String {
    let config = &audit.config;
    if config.dialect_keys.is_empty() {
        format!(
            "read as a file for {}: no key of either client's own",
            config.dialect.client()
        )
    } else {
        let shown: Vec<&str> = config
            .dialect_keys
            .iter()
            .take(6)
            .map(String::as_str)
            .collect();
        format!(
            "read as a file for {}, from its keys {}",
            config.dialect.client(),
            shown.join(", ")
        )
    }
}

/// Evidence: the entry's line.
fn cite(audit: &Audit, finding: Finding, entry: &Entry) -> Finding {
    finding.evidence(
        format!("{}:{}", audit.config.file, entry.line),
        format!("{}={}", entry.key, entry.value),
    )
}
