//! `canary`: the direct answer to "are events being dropped?". Sends uniquely keyed records
//! to a topic with the application's own producer settings (read from its
//! `producer.properties`), waits for every delivery report, reads the records back, and
//! accounts for each one: delivered, failed (with the client's error name, the words the
//! application's logs would show), lost after acknowledgement, duplicated.
//!
//! It writes only to the topic its step is granted (`kafka: Produce(["topic"])`).
//!
//! With a producer config that names `bootstrap.servers`, the probe connects where the
//! application does (the host reads the list from the granted file), and says which list it
//! used. Records the read-back did not reach are *not read back*, never *lost*: loss is
//! reported only when the read-back went past them.
//!
//! Topic rules: the topic's own configs that refuse records (`cleanup.policy=compact`
//! refuses records without a key; explicitly set `message.timestamp.before.max.ms` /
//! `after.max.ms` / the older `difference.max.ms` refuse CreateTimes outside them) are read
//! and proven with one record of that shape each; a rule is reported only when the broker
//! refused it (`INVALID_RECORD` / `INVALID_TIMESTAMP`, Kafka's Errors.java 87 / 32, from
//! LogValidator.validateKey / validateTimestamp).
//!
//! Params: `topic` (required), `producer_config` (the application's properties file, if
//! granted), `count` (default 20), `payload_bytes` (default 100), `read_back` (default
//! true), `timeout_ms` (default 15000).

use std::collections::HashMap;

use serde::Deserialize;
use triage_sdk::kafka::{
    self, ConfigResource, ProbeRequest, ProbeResult, ResourceKind, ShapedOutcome, ShapedRecord,
};
use triage_sdk::{
    Check, Finding, HostError, PluginInfo, Report, RunError, cause, export_check, files,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    topic: String,
    #[serde(default)]
    producer_config: Option<String>,
    #[serde(default = "default_count")]
    count: u32,
    #[serde(default = "default_payload")]
    payload_bytes: u32,
    #[serde(default = "default_true")]
    read_back: bool,
    #[serde(default = "default_timeout")]
    timeout_ms: u32,
}

fn default_count() -> u32 {
    20
}
fn default_payload() -> u32 {
    100
}
fn default_true() -> bool {
    true
}
fn default_timeout() -> u32 {
    15_000
}

/// Java client keys and their librdkafka equivalents; values carry over unchanged.
const JAVA_TO_LIBRDKAFKA: &[(&str, &str)] = &[
    ("acks", "acks"),
    ("retries", "retries"),
    ("retry.backoff.ms", "retry.backoff.ms"),
    ("linger.ms", "linger.ms"),
    ("request.timeout.ms", "request.timeout.ms"),
    ("delivery.timeout.ms", "message.timeout.ms"),
    ("max.request.size", "message.max.bytes"),
    ("batch.size", "batch.size"),
    ("compression.type", "compression.type"),
    ("enable.idempotence", "enable.idempotence"),
    ("max.in.flight.requests.per.connection", "max.in.flight"),
];

/// librdkafka keys an application may already use; passed as they are.
const LIBRDKAFKA_KEYS: &[&str] = &[
    "request.required.acks",
    "message.send.max.retries",
    "queue.buffering.max.ms",
    "message.timeout.ms",
    "message.max.bytes",
    "batch.num.messages",
    "compression.codec",
    "max.in.flight",
    "queue.buffering.max.messages",
    "queue.buffering.max.kbytes",
];

/// Bytes of framing a record needs beyond its payload; a probe at the configured request
/// size leaves this much room.
const RECORD_OVERHEAD: u32 = 512;

struct Canary;

impl Check for Canary {
    type Params = Params;

    fn info() -> PluginInfo {
        PluginInfo::new(
            "canary",
            "End-to-end canary with the application's producer settings: delivered, failed, lost, duplicated",
        )
        .param("topic", "Topic to write probe records to (must be granted with kafka: Produce)", true)
        .param("producer_config", "The application's producer properties file", false)
        .param("count", "Records to send (default 20)", false)
        .param("payload_bytes", "Payload size of each record (default 100)", false)
        .param("read_back", "Read the records back to detect loss (default true)", false)
        .param("timeout_ms", "Time for delivery and read-back (default 15000)", false)
        .needs("kafka")
        .needs("files")
    }

    fn run(params: Params) -> Result<Report, RunError> {
        let mut bootstrap_from = None;
        let (settings, assumed) = match &params.producer_config {
            Some(path) if !path.is_empty() => match files::read(path, 1 << 20) {
                Ok(content) => {
                    if names_bootstrap(&content.text) {
                        bootstrap_from = Some(path.clone());
                    }
                    producer_settings(&content.text)
                }
                Err(error) => {
                    return Err(RunError::failed(format!(
                        "cannot read {path}: {}",
                        error.reason()
                    )));
                }
            },
            _ => (
                Vec::new(),
                "no producer config given: librdkafka defaults".to_owned(),
            ),
        };
        let large = settings
            .iter()
            .find(|(k, _)| k == "message.max.bytes")
            .and_then(|(_, v)| v.parse::<u32>().ok())
            .map_or(0, |size| size.saturating_sub(RECORD_OVERHEAD));
        triage_sdk::log::progress(&format!(
            "sending {} records to {}",
            params.count, params.topic
        ));
        let rules = topic_rules(&params.topic);
        let shaped: Vec<ShapedRecord> = rules.iter().map(|r| r.record.clone()).collect();
        let request = ProbeRequest {
            shaped,
            bootstrap_from: bootstrap_from.clone(),
            topic: params.topic.clone(),
            count: params.count,
            payload_bytes: params.payload_bytes,
            large_payload_bytes: large,
            settings: settings.clone(),
            read_back: params.read_back,
            timeout_ms: params.timeout_ms,
        };
        let result = match kafka::produce_probe(&request) {
            Ok(result) => result,
            Err(error @ (HostError::Unavailable(_) | HostError::Timeout)) => {
                return Ok(kafka::unavailable_report("produce-probe", &error));
            }
            Err(HostError::Invalid(why)) => return Err(RunError::InvalidParams(why)),
            Err(error) => return Err(error.into()),
        };
        let mut report = report(
            &params,
            &result,
            &settings,
            &assumed,
            large,
            bootstrap_from.as_deref(),
        );
        for (rule, outcome) in rules.iter().zip(&result.shaped) {
            if let Some(finding) = rule_finding(&params.topic, rule, outcome) {
                report.push(finding);
            }
        }
        Ok(report)
    }
}

/// Does the producer config name the application's bootstrap list?
fn names_bootstrap(properties: &str) -> bool {
    let parsed: HashMap<String, String> =
        java_properties::read(properties.as_bytes()).unwrap_or_default();
    ["bootstrap.servers", "metadata.broker.list"]
        .iter()
        .any(|key| parsed.get(*key).is_some_and(|v| !v.trim().is_empty()))
}

/// A topic config that refuses records of one shape, and the record that proves it.
struct TopicRule {
    /// The config as evidence, e.g. `cleanup.policy=compact`.
    config: String,
    cause: &'static str,
    /// Which records it refuses, in the operator's words.
    refuses: String,
    record: ShapedRecord,
    fix: String,
}

/// Margin beyond a timestamp bound, so clock skew between here and the broker cannot make
/// the probe record land inside it.
const TIMESTAMP_MARGIN_MS: i64 = 5 * 60 * 1000;

/// The topic's configs that refuse records, each with the record that tests it. Bounds
/// left at their default are not probed: Kafka 4's default `after.max.ms` (one hour) holds on
/// every topic and proves nothing about this one.
fn topic_rules(topic: &str) -> Vec<TopicRule> {
    let keys = [
        "cleanup.policy",
        "message.timestamp.type",
        "message.timestamp.before.max.ms",
        "message.timestamp.after.max.ms",
        "message.timestamp.difference.max.ms",
    ]
    .map(str::to_owned);
    let resource = ConfigResource {
        kind: ResourceKind::Topic,
        name: topic.to_owned(),
    };
    let Ok(results) = kafka::describe_configs(&[resource], &keys) else {
        return Vec::new();
    };
    let Some(result) = results.into_iter().next() else {
        return Vec::new();
    };
    let entry = |name: &str| result.entries.iter().find(|e| e.name == name);
    let value = |name: &str| entry(name).and_then(|e| e.value.clone());
    let explicit_ms = |name: &str| -> Option<i64> {
        let e = entry(name).filter(|e| !e.is_default)?;
        e.value.as_deref()?.parse().ok()
    };
    let mut rules = Vec::new();
    if let Some(policy) = value("cleanup.policy")
        && policy.split(',').any(|p| p.trim() == "compact")
    {
        rules.push(TopicRule {
            config: format!("cleanup.policy={policy}"),
            cause: cause::TOPIC_COMPACTION_NEEDS_KEY,
            refuses: "records without a key".into(),
            record: ShapedRecord {
                label: "a record without a key".into(),
                keyless: true,
                timestamp_ms: None,
            },
            fix: format!(
                "`{topic}` is compacted (cleanup.policy={policy}): the broker refuses every \
                 record without a key. Give every record a key in the producer, or write \
                 keyless records to a topic with cleanup.policy=delete."
            ),
        });
    }
    let create_time = value("message.timestamp.type").is_none_or(|t| t == "CreateTime");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    if create_time {
        let before = [
            "message.timestamp.before.max.ms",
            "message.timestamp.difference.max.ms",
        ]
        .iter()
        .find_map(|k| explicit_ms(k).map(|ms| (*k, ms)));
        if let Some((key, ms)) = before
            && ms < i64::MAX / 4
        {
            rules.push(timestamp_rule(
                topic,
                key,
                ms,
                now - ms - TIMESTAMP_MARGIN_MS,
                "older",
            ));
        }
        if let Some(ms) = explicit_ms("message.timestamp.after.max.ms")
            && ms < i64::MAX / 4
        {
            rules.push(timestamp_rule(
                topic,
                "message.timestamp.after.max.ms",
                ms,
                now + ms + TIMESTAMP_MARGIN_MS,
                "newer",
            ));
        }
    }
    rules
}

fn timestamp_rule(topic: &str, key: &str, bound_ms: i64, stamp: i64, side: &str) -> TopicRule {
    let span = human_ms(bound_ms);
    let direction = if side == "older" { "before" } else { "after" };
    TopicRule {
        config: format!("{key}={bound_ms}"),
        cause: cause::TOPIC_TIMESTAMP_OUT_OF_RANGE,
        refuses: format!(
            "records whose CreateTime is more than {span} {direction} the broker's clock"
        ),
        record: ShapedRecord {
            label: format!(
                "a record stamped {} {direction} now",
                human_ms(bound_ms + TIMESTAMP_MARGIN_MS)
            ),
            keyless: false,
            timestamp_ms: Some(stamp),
        },
        fix: format!(
            "`{topic}` refuses records with a CreateTime {side} than {span} ({key}={bound_ms}). \
             Fix the producer's clock or the timestamps it sets (replays and backfills keep \
             old event times), raise {key} on the topic, or set \
             message.timestamp.type=LogAppendTime if the broker's time is what matters."
        ),
    }
}

fn human_ms(ms: i64) -> String {
    let minutes = ms / 60_000;
    if minutes >= 120 && minutes % 60 == 0 {
        format!("{} h", minutes / 60)
    } else if minutes >= 1 {
        format!("{minutes} min")
    } else {
        format!("{ms} ms")
    }
}

/// A finding when the broker refused the rule's record with the error that rule produces.
fn rule_finding(topic: &str, rule: &TopicRule, outcome: &ShapedOutcome) -> Option<Finding> {
    let code = outcome.error.as_deref()?;
    let expected = match rule.cause {
        cause::TOPIC_COMPACTION_NEEDS_KEY => ["INVALID_RECORD", "CORRUPT_MESSAGE"],
        _ => ["INVALID_TIMESTAMP", "INVALID_TIMESTAMP"],
    };
    if !expected.contains(&code) {
        return None;
    }
    Some(
        Finding::fail(
            format!(
                "canary.{}",
                rule.cause.rsplit('.').next().unwrap_or(rule.cause)
            ),
            format!(
                "{topic} refuses {}: every such record fails with {code}",
                rule.refuses
            ),
        )
        .cause(rule.cause)
        .evidence(
            "kafka.describe-configs",
            format!("topic {topic}: {}", rule.config),
        )
        .evidence(
            "kafka.produce-probe",
            format!("{} was refused: {code} ({})", outcome.label, outcome.detail),
        )
        .fix(rule.fix.clone()),
    )
}

export_check!(Canary);

/// The application's producer settings in librdkafka's names, and a sentence saying what
/// was taken from where.
fn producer_settings(properties: &str) -> (Vec<(String, String)>, String) {
    let parsed: HashMap<String, String> =
        java_properties::read(properties.as_bytes()).unwrap_or_default();
    let mut settings = Vec::new();
    for (java, librdkafka) in JAVA_TO_LIBRDKAFKA {
        if let Some(value) = parsed.get(*java) {
            settings.push((librdkafka.to_string(), value.trim().to_owned()));
        }
    }
    for key in LIBRDKAFKA_KEYS {
        if let Some(value) = parsed.get(*key)
            && !settings.iter().any(|(k, _)| k == key)
        {
            settings.push((key.to_string(), value.trim().to_owned()));
        }
    }
    if let Some(memory) = parsed
        .get("buffer.memory")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        settings.push((
            "queue.buffering.max.kbytes".into(),
            (memory / 1024).max(1).to_string(),
        ));
    }
    settings.sort();
    let described = if settings.is_empty() {
        "the producer config sets no delivery setting: librdkafka defaults".to_owned()
    } else {
        let keys: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("the application's settings: {}", keys.join(", "))
    };
    (settings, described)
}

fn report(
    params: &Params,
    result: &ProbeResult,
    settings: &[(String, String)],
    assumed: &str,
    large: u32,
    bootstrap_from: Option<&str>,
) -> Report {
    let mut report = Report::new("");
    let connected_with = match bootstrap_from {
        Some(path) => format!(
            "probed the application's own bootstrap.servers from {path}: {}",
            result.bootstrap
        ),
        None => format!("probed the run's bootstrap servers: {}", result.bootstrap),
    };
    for failure in &result.failures {
        // Records that expired after retries: the broker's answer to a single attempt says
        // why (NOT_ENOUGH_REPLICAS, ...), and that is the cause to rank.
        let underlying = result
            .single_attempt_error
            .as_deref()
            .filter(|_| failure.code == "_MSG_TIMED_OUT");
        let (mut cause_key, mut fix) = explain(underlying.unwrap_or(&failure.code), large);
        // The application's own list reaching no broker is a wrong bootstrap.servers.
        if bootstrap_from.is_some() && failure.code == "_ALL_BROKERS_DOWN" {
            cause_key = cause::CONFIG_BOOTSTRAP;
            fix = "No broker answers at the application's bootstrap.servers (the run's \
                   --bootstrap may differ): correct bootstrap.servers in the producer config."
                .into();
        }
        let mut title = format!(
            "{} of {} canary records to {} failed with {}",
            failure.count, result.sent, params.topic, failure.code
        );
        if let Some(code) = underlying {
            title.push_str(&format!(": the broker answers {code}"));
        }
        let mut finding = Finding::fail(
            format!(
                "canary.{}",
                failure.code.trim_start_matches('_').to_lowercase()
            ),
            title,
        )
        .cause(cause_key)
        .evidence("kafka.produce-probe", &failure.example);
        if let Some(code) = underlying {
            finding = finding.evidence(
                "kafka.produce-probe",
                format!("one record sent without retries: {code}"),
            );
        }
        if let Some(why) = &result.stopped_early {
            finding = finding.evidence("kafka.produce-probe", why);
        }
        report.push(
            finding
                .evidence("kafka.produce-probe", &connected_with)
                .evidence("kafka.produce-probe", assumed)
                .fix(fix),
        );
    }
    if result.unconfirmed > 0 {
        report.push(
            Finding::warn(
                "canary.not-read-back",
                format!(
                    "{} acknowledged canary records were not read back: whether they are lost is unknown",
                    result.unconfirmed
                ),
            )
            .evidence(
                "kafka.produce-probe",
                format!(
                    "delivered {}, read back {}; the read-back did not reach the others",
                    result.delivered, result.read_back
                ),
            )
            .evidence("kafka.produce-probe", &connected_with)
            .fix("The broker acknowledged these records; reading them back failed or ran out of time (see the connectivity checks). Re-run with a longer timeout to tell."),
        );
    }
    if result.lost > 0 {
        report.push(
            Finding::fail(
                "canary.lost",
                format!("{} acknowledged canary records were not found when reading {} back", result.lost, params.topic),
            )
            .cause("canary.lost")
            .evidence("kafka.produce-probe", format!("delivered {}, read back {}; the read-back went past the missing records' offsets", result.delivered, result.read_back))
            .fix("Acknowledged records vanished: check acks (acks=all), unclean.leader.election.enable=false and min.insync.replicas ≥ 2 on the topic."),
        );
    }
    if result.duplicated > 0 {
        report.push(
            Finding::warn("canary.duplicated", format!("{} canary records were written more than once", result.duplicated))
                .cause("canary.duplicated")
                .evidence("kafka.produce-probe", assumed)
                .fix("Retries without idempotence duplicate records: set enable.idempotence=true (with acks=all)."),
        );
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let summary = format!(
        "{} of {} records delivered{}; p50 {:.1} ms, p99 {:.1} ms",
        result.delivered,
        result.sent,
        if params.read_back {
            format!(", {} read back", result.read_back)
        } else {
            String::new()
        },
        ms(result.latency_p50_us),
        ms(result.latency_p99_us)
    );
    let mut report = report
        .summary(summary)
        .fact("sent", result.sent)
        .fact("delivered", result.delivered)
        .fact(
            "failed",
            result.failures.iter().map(|f| f.count).sum::<u32>(),
        )
        .fact("lost", result.lost)
        .fact("not_read_back", result.unconfirmed)
        .fact("bootstrap", &result.bootstrap)
        .fact(
            "bootstrap_source",
            bootstrap_from.map_or("the run's bootstrap".to_owned(), |p| {
                format!("bootstrap.servers in {p}")
            }),
        )
        .fact("duplicated", result.duplicated)
        .fact(
            "latency_p50_ms",
            format!("{:.1}", ms(result.latency_p50_us)),
        )
        .fact(
            "latency_p95_ms",
            format!("{:.1}", ms(result.latency_p95_us)),
        )
        .fact(
            "latency_p99_ms",
            format!("{:.1}", ms(result.latency_p99_us)),
        );
    for failure in &result.failures {
        report.push_fact(format!("error.{}", failure.code), failure.count);
    }
    report.push_fact(
        "settings",
        settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    );
    report
}

/// The cause a delivery error supports, and what to do about it.
fn explain(code: &str, large: u32) -> (&'static str, String) {
    match code {
        "NOT_ENOUGH_REPLICAS" | "NOT_ENOUGH_REPLICAS_AFTER_APPEND" => (
            cause::ISR_BELOW_MIN,
            "The partition's ISR is below min.insync.replicas, so acks=all writes are refused: \
             restore the missing brokers (see the ISR check)."
                .into(),
        ),
        "_MSG_TIMED_OUT" | "_TIMED_OUT_WAITING" | "REQUEST_TIMED_OUT" => (
            cause::PRODUCER_EXPIRED,
            "Records expired before a broker acknowledged them (delivery.timeout.ms): the leader \
             is unreachable, down or overloaded — see the connectivity and cluster checks."
                .into(),
        ),
        "INVALID_TIMESTAMP" => (
            cause::TOPIC_TIMESTAMP_OUT_OF_RANGE,
            "The broker refuses the records' timestamps (the topic's message.timestamp.* \
             bounds): check the producer's clock and the timestamps it sets."
                .into(),
        ),
        "_RESOLVE" => (
            cause::LISTENER_UNRESOLVABLE,
            "A broker's address does not resolve from here: check the advertised listeners \
             (advertised.listeners) and DNS."
                .into(),
        ),
        "_QUEUE_FULL" => (
            cause::CONFIG_BUFFERS,
            "The producer's local queue is full: the brokers are not keeping up, or buffer.memory \
             / queue.buffering.max.messages is too small for the send rate."
                .into(),
        ),
        "MSG_SIZE_TOO_LARGE" => (
            cause::CONFIG_MESSAGE_SIZE,
            format!(
                "A {large}-byte record — what the application's max.request.size allows — is \
                 larger than the topic or broker accepts (max.message.bytes / message.max.bytes): \
                 lower max.request.size or raise the topic's max.message.bytes."
            ),
        ),
        "UNKNOWN_TOPIC_OR_PART" | "_UNKNOWN_TOPIC" => (
            cause::TOPIC_MISSING,
            "The topic does not exist (and auto-creation is off): create it, or fix the topic name."
                .into(),
        ),
        "TOPIC_AUTHORIZATION_FAILED" => (
            cause::AUTH_DENIED,
            "The client is not authorized to write to the topic: grant Write on it to the \
             producer's principal."
                .into(),
        ),
        // librdkafka's "all broker connections are down": nothing answered, which says
        // nothing about whether the brokers run (issue 7, item 13).
        "_ALL_BROKERS_DOWN" => (
            cause::KAFKA_UNREACHABLE,
            "No broker could be reached: check the bootstrap servers and the network path, \
             then whether the brokers run."
                .into(),
        ),
        _ => ("canary.failed", "See the client error above and the broker logs.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_settings_become_librdkafka_settings() {
        let (settings, described) = producer_settings(
            "bootstrap.servers=k:9092\nacks=1\nretries=0\ndelivery.timeout.ms=30000\nmax.request.size=2097152\nbuffer.memory=33554432\n",
        );
        let get = |k: &str| {
            settings
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("acks"), Some("1"));
        assert_eq!(get("retries"), Some("0"));
        assert_eq!(get("message.timeout.ms"), Some("30000"));
        assert_eq!(get("message.max.bytes"), Some("2097152"));
        assert_eq!(get("queue.buffering.max.kbytes"), Some("32768"));
        assert_eq!(
            get("bootstrap.servers"),
            None,
            "connection settings stay with the host"
        );
        assert!(described.contains("acks=1"));
    }

    #[test]
    fn a_topic_rule_is_reported_only_when_the_broker_refused_its_record() {
        let rule = timestamp_rule(
            "orders",
            "message.timestamp.before.max.ms",
            3_600_000,
            0,
            "older",
        );
        assert_eq!(rule.config, "message.timestamp.before.max.ms=3600000");
        assert!(
            rule.refuses.contains("more than 60 min before"),
            "{}",
            rule.refuses
        );
        let outcome = |error: Option<&str>| ShapedOutcome {
            label: rule.record.label.clone(),
            error: error.map(str::to_owned),
            detail: "Broker: Invalid timestamp".into(),
        };
        let refused = rule_finding("orders", &rule, &outcome(Some("INVALID_TIMESTAMP")))
            .expect("refused with the rule's own error");
        assert_eq!(
            refused.cause.as_deref(),
            Some(cause::TOPIC_TIMESTAMP_OUT_OF_RANGE)
        );
        assert!(matches!(refused.severity, triage_sdk::Severity::Fail));
        // Accepted, or refused for another reason: the rule is not proven.
        assert!(rule_finding("orders", &rule, &outcome(None)).is_none());
        assert!(rule_finding("orders", &rule, &outcome(Some("NOT_ENOUGH_REPLICAS"))).is_none());
    }
}
