//! The end-to-end canary: produce uniquely keyed records with the application's own producer
//! settings, wait for every delivery report, read the delivered records back, and account
//! for each one — delivered, failed (with librdkafka's error name), lost, duplicated.
//!
//! The producer is created per probe (the settings are the application's, not the run's),
//! on the run's connection settings; a plugin can tune producer behaviour but can never
//! override where it connects or with which credentials.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use tokio::time::Instant;

use super::KafkaSettings;
use crate::wit::HostError;
use crate::wit::triage::plugin::kafka::{DeliveryFailure, ProbeRequest, ProbeResult};

/// Producer settings a probe may set: delivery semantics and batching, nothing about where
/// or as whom it connects.
const PRODUCER_KEYS: &[&str] = &[
    "acks",
    "request.required.acks",
    "retries",
    "message.send.max.retries",
    "retry.backoff.ms",
    "linger.ms",
    "queue.buffering.max.ms",
    "request.timeout.ms",
    "message.timeout.ms",
    "delivery.timeout.ms",
    "message.max.bytes",
    "batch.size",
    "batch.num.messages",
    "compression.type",
    "compression.codec",
    "enable.idempotence",
    "max.in.flight.requests.per.connection",
    "max.in.flight",
    "queue.buffering.max.messages",
    "queue.buffering.max.kbytes",
];

/// Most records one probe may send.
const MAX_RECORDS: u32 = 10_000;
/// Largest payload one probe record may carry.
const MAX_PAYLOAD: u32 = 16 << 20;

/// Run one probe within `budget`.
pub async fn run(
    settings: &KafkaSettings,
    request: &ProbeRequest,
    budget: Duration,
) -> Result<ProbeResult, HostError> {
    if request.count == 0 || request.count > MAX_RECORDS {
        return Err(HostError::Invalid(format!(
            "count must be 1..={MAX_RECORDS}"
        )));
    }
    if request.payload_bytes > MAX_PAYLOAD || request.large_payload_bytes > MAX_PAYLOAD {
        return Err(HostError::Invalid(format!(
            "payloads are limited to {MAX_PAYLOAD} bytes"
        )));
    }
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &settings.bootstrap);
    for (key, value) in &settings.client {
        config.set(key, value);
    }
    for (key, value) in &request.settings {
        if !PRODUCER_KEYS.contains(&key.as_str()) {
            return Err(HostError::Invalid(format!(
                "`{key}` cannot be set by a probe; allowed: {}",
                PRODUCER_KEYS.join(", ")
            )));
        }
        config.set(key, value);
    }
    // The application's delivery timeout may be minutes; the probe must report within its
    // budget, so records expire (as they would for the application, only sooner) with time
    // left to read back and to ask the broker once without retries.
    let delivery_budget = budget.mul_f64(0.5).max(Duration::from_millis(500));
    let app_timeout = ["message.timeout.ms", "delivery.timeout.ms"]
        .iter()
        .find_map(|k| config.get(k).and_then(|v| v.parse::<u64>().ok()))
        .unwrap_or(300_000);
    let delivery_ms = app_timeout.min(delivery_budget.as_millis() as u64);
    config.remove("delivery.timeout.ms");
    config.set("message.timeout.ms", delivery_ms.to_string());
    let producer: FutureProducer = config
        .create()
        .map_err(|e| HostError::Invalid(format!("the producer settings are rejected: {e}")))?;

    let deadline = Instant::now() + budget;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let run_id = format!("triage-canary-{}-{nanos}", std::process::id());
    let payload = vec![b'x'; request.payload_bytes as usize];
    let large = vec![b'x'; request.large_payload_bytes as usize];
    let mut pending = Vec::new();
    let total = request.count + u32::from(request.large_payload_bytes > 0);
    for seq in 0..total {
        let key = format!("{run_id}-{seq}");
        let body = if seq == request.count {
            &large
        } else {
            &payload
        };
        let record = FutureRecord::to(&request.topic).key(&key).payload(body);
        let started = Instant::now();
        // A full local queue is itself a finding (_QUEUE_FULL): do not wait for room.
        let delivery = producer
            .send_result(record)
            .map_err(|(error, _record)| error)
            .map(|future| async move {
                let outcome = future.await;
                (outcome, started.elapsed())
            });
        pending.push((key, delivery));
    }

    let mut delivered: BTreeMap<String, (i32, i64)> = BTreeMap::new();
    let mut latencies = Vec::new();
    let mut failures: BTreeMap<String, (u32, String)> = BTreeMap::new();
    let mut fail = |code: String, example: String| {
        let entry = failures.entry(code).or_insert((0, example));
        entry.0 += 1;
    };
    for (key, delivery) in pending {
        match delivery {
            Err(error) => fail(error_name(&error), error.to_string()),
            Ok(future) => match tokio::time::timeout_at(deadline, future).await {
                Ok((Ok(Ok(done)), latency)) => {
                    delivered.insert(key, (done.partition, done.offset));
                    latencies.push(latency);
                }
                Ok((Ok(Err((error, _))), _)) => fail(error_name(&error), error.to_string()),
                Ok((Err(_cancelled), _)) => fail(
                    "_CANCELLED".into(),
                    "the producer dropped the record".into(),
                ),
                Err(_) => fail(
                    "_TIMED_OUT_WAITING".into(),
                    "no delivery report before the step's deadline".into(),
                ),
            },
        }
    }

    dispose(producer);
    let single_attempt_error = if failures.contains_key("_MSG_TIMED_OUT") {
        single_attempt(&config, &request.topic, &run_id, deadline).await
    } else {
        None
    };
    let (read_back, duplicated) = if request.read_back && !delivered.is_empty() {
        read_back(settings, &request.topic, &delivered, &run_id, deadline).await
    } else {
        (0, 0)
    };
    let lost = if request.read_back {
        delivered.len() as u32 - read_back.min(delivered.len() as u32)
    } else {
        0
    };
    latencies.sort_unstable();
    let percentile = |p: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index].as_micros() as u64
    };
    Ok(ProbeResult {
        sent: total,
        delivered: delivered.len() as u32,
        failures: failures
            .into_iter()
            .map(|(code, (count, example))| DeliveryFailure {
                code,
                count,
                example,
            })
            .collect(),
        read_back,
        lost,
        duplicated,
        single_attempt_error,
        latency_p50_us: percentile(0.50),
        latency_p95_us: percentile(0.95),
        latency_p99_us: percentile(0.99),
        latency_max_us: percentile(1.0),
    })
}

/// Send one record without retries and return the broker's error, if any: the reason the
/// application's retries keep failing until its records expire.
async fn single_attempt(
    config: &ClientConfig,
    topic: &str,
    run_id: &str,
    deadline: Instant,
) -> Option<String> {
    let left = deadline.saturating_duration_since(Instant::now());
    let mut config = config.clone();
    config
        .set("message.send.max.retries", "0")
        .set("enable.idempotence", "false")
        .set(
            "message.timeout.ms",
            (left.as_millis() as u64 / 2).max(100).to_string(),
        );
    let producer: FutureProducer = config.create().ok()?;
    let key = format!("{run_id}-single");
    let record = FutureRecord::to(topic)
        .key(&key)
        .payload("triage single attempt");
    let future = producer.send_result(record).ok()?;
    let outcome = tokio::time::timeout_at(deadline, future).await;
    dispose(producer);
    match outcome {
        Ok(Ok(Err((error, _)))) => Some(error_name(&error)),
        _ => None,
    }
}

/// Consume from the delivered offsets; count distinct probe keys seen, and keys seen twice.
async fn read_back(
    settings: &KafkaSettings,
    topic: &str,
    delivered: &BTreeMap<String, (i32, i64)>,
    run_id: &str,
    deadline: Instant,
) -> (u32, u32) {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.bootstrap)
        .set("group.id", run_id)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    for (key, value) in &settings.client {
        config.set(key, value);
    }
    let Ok(consumer) = config.create::<BaseConsumer>() else {
        return (0, 0);
    };
    let mut start: HashMap<i32, i64> = HashMap::new();
    for (partition, offset) in delivered.values() {
        let entry = start.entry(*partition).or_insert(*offset);
        *entry = (*entry).min(*offset);
    }
    let mut assignment = TopicPartitionList::new();
    for (partition, offset) in &start {
        let _ = assignment.add_partition_offset(topic, *partition, Offset::Offset(*offset));
    }
    if consumer.assign(&assignment).is_err() {
        return (0, 0);
    }
    let expected = delivered.len();
    let run_id = run_id.to_owned();
    let stop_at = deadline.into_std();
    // librdkafka's consumer is blocking; poll it off the async workers.
    tokio::task::spawn_blocking(move || {
        let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
        while std::time::Instant::now() < stop_at && seen.len() < expected {
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100))
                && let Some(key) = message.key().filter(|k| k.starts_with(run_id.as_bytes()))
            {
                *seen.entry(key.to_vec()).or_default() += 1;
            }
        }
        let duplicated = seen.values().filter(|n| **n > 1).count() as u32;
        // Closing a consumer leaves its group and waits for its threads: not our business
        // once the records are counted.
        dispose(consumer);
        (seen.len() as u32, duplicated)
    })
    .await
    .unwrap_or((0, 0))
}

/// Drop a librdkafka client on a detached thread: its destructor waits for its broker
/// threads, which takes seconds when brokers are down, and the step has its answer already.
/// (Not `spawn_blocking`: the runtime's shutdown would wait for it.)
fn dispose<T: Send + 'static>(client: T) {
    std::thread::spawn(move || drop(client));
}

/// librdkafka's own name for a delivery error (`_MSG_TIMED_OUT`, `NOT_ENOUGH_REPLICAS`,
/// ...), the words operators search for.
fn error_name(error: &KafkaError) -> String {
    let Some(code) = error.rdkafka_error_code() else {
        return format!("{error:?}");
    };
    let name = match code {
        RDKafkaErrorCode::MessageTimedOut => "_MSG_TIMED_OUT",
        RDKafkaErrorCode::QueueFull => "_QUEUE_FULL",
        RDKafkaErrorCode::UnknownTopic => "_UNKNOWN_TOPIC",
        RDKafkaErrorCode::AllBrokersDown => "_ALL_BROKERS_DOWN",
        RDKafkaErrorCode::MessageSizeTooLarge => "MSG_SIZE_TOO_LARGE",
        RDKafkaErrorCode::NotEnoughReplicas => "NOT_ENOUGH_REPLICAS",
        RDKafkaErrorCode::NotEnoughReplicasAfterAppend => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        RDKafkaErrorCode::UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PART",
        RDKafkaErrorCode::LeaderNotAvailable => "LEADER_NOT_AVAILABLE",
        RDKafkaErrorCode::NotLeaderForPartition => "NOT_LEADER_FOR_PARTITION",
        RDKafkaErrorCode::RequestTimedOut => "REQUEST_TIMED_OUT",
        RDKafkaErrorCode::TopicAuthorizationFailed => "TOPIC_AUTHORIZATION_FAILED",
        RDKafkaErrorCode::InvalidRequiredAcks => "INVALID_REQUIRED_ACKS",
        other => return format!("{other:?}"),
    };
    name.to_owned()
}
