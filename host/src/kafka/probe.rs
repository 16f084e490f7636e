//! The end-to-end canary: produce uniquely keyed records with the application's own producer
//! settings, wait for every delivery report, read the delivered records back, and account
//! for each one — delivered, failed (with librdkafka's error name), lost, duplicated.
//!
//! The producer is created per probe (the settings are the application's, not the run's),
//! on the run's connection settings; a plugin can tune producer behaviour but can never
//! override with which credentials it connects. Where it connects is the run's bootstrap,
//! or the application's own `bootstrap.servers` read by the host from a granted file.
//!
//! Besides the keyed records, a probe sends the *shaped* records a plugin asks for (a record
//! without a key, a record with a given CreateTime), each judged on its own: that is how a
//! topic's own rules (compaction needs keys, `message.timestamp.*` bounds) are proven with
//! the broker's answer rather than inferred from configs (issue 8).
//!
//! Read-back tells *lost* from *not read back*: a record is lost only when the read-back
//! demonstrably reached past its offset (or the partition's log ends below it); otherwise it
//! is unconfirmed — unknown is not lost.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use tokio::time::Instant;

use super::KafkaSettings;
use crate::wit::HostError;
use crate::wit::triage::plugin::kafka::{
    DeliveryFailure, ProbeRequest, ProbeResult, ShapedOutcome,
};

/// The bootstrap list a probe connects with: the run's, or the application's own.
pub struct ProbeBootstrap {
    /// `host:port,...`
    pub servers: String,
}

/// Errors librdkafka reports on the client as a whole (not per record) that settle the
/// probe's outcome: once one is seen and no record has been delivered for
/// [`SETTLED_AFTER`], waiting longer only repeats it.
#[derive(Default, Clone)]
struct ConnectionErrors {
    /// The first settling error: librdkafka's name and its reason text. Shared: the
    /// producer owns its context and does not hand it back.
    settled: Arc<Mutex<Option<(String, String)>>>,
}

impl ClientContext for ConnectionErrors {
    fn error(&self, error: KafkaError, reason: &str) {
        // _ALL_BROKERS_DOWN: no broker of the list answers; _RESOLVE: a name (bootstrap or
        // advertised listener) does not resolve. Both keep failing the same way.
        let name = match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::AllBrokersDown) => "_ALL_BROKERS_DOWN",
            Some(RDKafkaErrorCode::Resolve) => "_RESOLVE",
            _ => return,
        };
        let mut settled = self.settled.lock().unwrap_or_else(|p| p.into_inner());
        settled.get_or_insert_with(|| (name.to_owned(), reason.to_owned()));
    }
}

impl ConnectionErrors {
    fn settled(&self) -> Option<(String, String)> {
        self.settled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// How long without a delivery, after a settling connection error, before the probe stops
/// waiting (librdkafka reconnects every second or so; a transient error clears within this).
const SETTLED_AFTER: Duration = Duration::from_secs(3);

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
    bootstrap: &ProbeBootstrap,
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
    config.set("bootstrap.servers", &bootstrap.servers);
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
    let errors = ConnectionErrors::default();
    let producer: FutureProducer<ConnectionErrors> = config
        .create_with_context(errors.clone())
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
    let mut last_progress = Instant::now();
    let mut stopped_early: Option<(String, String)> = None;
    for (key, delivery) in pending {
        let future = match delivery {
            Err(error) => {
                fail(error_name(&error), error.to_string());
                continue;
            }
            Ok(future) => future,
        };
        if let Some((code, reason)) = &stopped_early {
            fail(code.clone(), reason.clone());
            continue;
        }
        tokio::pin!(future);
        // Wait for the report, looking every 250 ms whether the client already knows the
        // outcome (an unreachable or unresolvable listener): then stop instead of waiting
        // out the deadline.
        let outcome = loop {
            let tick = Instant::now() + Duration::from_millis(250);
            match tokio::time::timeout_at(tick.min(deadline), &mut future).await {
                Ok(outcome) => break Some(outcome),
                Err(_) if Instant::now() >= deadline => break None,
                Err(_) => {
                    if let Some((code, reason)) = errors.settled()
                        && last_progress.elapsed() >= SETTLED_AFTER
                    {
                        stopped_early = Some((code, reason));
                        break None;
                    }
                }
            }
        };
        match outcome {
            None => match &stopped_early {
                Some((code, reason)) => fail(code.clone(), reason.clone()),
                None => fail(
                    "_TIMED_OUT_WAITING".into(),
                    "no delivery report before the step's deadline".into(),
                ),
            },
            Some(outcome) => match outcome {
                (Ok(Ok(done)), latency) => {
                    last_progress = Instant::now();
                    delivered.insert(key, (done.partition, done.offset));
                    latencies.push(latency);
                }
                (Ok(Err((error, _))), _) => fail(error_name(&error), error.to_string()),
                (Err(_cancelled), _) => fail(
                    "_CANCELLED".into(),
                    "the producer dropped the record".into(),
                ),
            },
        }
    }
    let stopped_early = stopped_early.map(|(code, reason)| {
        format!(
            "stopped waiting after {:.1} s: librdkafka reports {code} ({reason}) and nothing \
             was delivered for {} s",
            (budget.saturating_sub(deadline.saturating_duration_since(Instant::now())))
                .as_secs_f64(),
            SETTLED_AFTER.as_secs()
        )
    });
    let shaped = if stopped_early.is_none() {
        send_shaped(&producer, request, &run_id, deadline).await
    } else {
        Vec::new()
    };

    dispose(producer);
    let single_attempt_error = if failures.contains_key("_MSG_TIMED_OUT") {
        single_attempt(&config, &request.topic, &run_id, deadline).await
    } else {
        None
    };
    let seen = if request.read_back && !delivered.is_empty() {
        read_back(
            settings,
            bootstrap,
            &request.topic,
            &delivered,
            &run_id,
            deadline,
        )
        .await
    } else {
        ReadBack::default()
    };
    let read_back = seen.keys.len() as u32;
    let duplicated = seen.keys.values().filter(|n| **n > 1).count() as u32;
    let (lost, unconfirmed) = if request.read_back {
        account(&delivered, &seen)
    } else {
        (0, 0)
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
        unconfirmed,
        duplicated,
        single_attempt_error,
        latency_p50_us: percentile(0.50),
        latency_p95_us: percentile(0.95),
        latency_p99_us: percentile(0.99),
        latency_max_us: percentile(1.0),
        shaped,
        bootstrap: bootstrap.servers.clone(),
        stopped_early,
    })
}

/// Send each shaped record once and return the broker's answer to each.
async fn send_shaped<C: ClientContext + 'static>(
    producer: &FutureProducer<C>,
    request: &ProbeRequest,
    run_id: &str,
    deadline: Instant,
) -> Vec<ShapedOutcome> {
    let mut outcomes = Vec::new();
    for (index, shaped) in request.shaped.iter().enumerate() {
        let key = format!("{run_id}-shaped-{index}");
        let mut record = FutureRecord::<String, _>::to(&request.topic)
            .payload("triage canary: a record shaped like the topic's rules");
        if !shaped.keyless {
            record = record.key(&key);
        }
        if let Some(timestamp) = shaped.timestamp_ms {
            record = record.timestamp(timestamp);
        }
        let (error, detail) = match producer.send_result(record) {
            Err((error, _)) => (Some(error_name(&error)), error.to_string()),
            Ok(future) => match tokio::time::timeout_at(deadline, future).await {
                Ok(Ok(Ok(done))) => (
                    None,
                    format!(
                        "accepted at partition {} offset {}",
                        done.partition, done.offset
                    ),
                ),
                Ok(Ok(Err((error, _)))) => (Some(error_name(&error)), error.to_string()),
                Ok(Err(_)) => (
                    Some("_CANCELLED".to_owned()),
                    "the producer dropped the record".to_owned(),
                ),
                Err(_) => (
                    Some("_TIMED_OUT_WAITING".to_owned()),
                    "no delivery report before the step's deadline".to_owned(),
                ),
            },
        };
        outcomes.push(ShapedOutcome {
            label: shaped.label.clone(),
            error,
            detail,
        });
    }
    outcomes
}

/// What the read-back saw: each probe key and how often, the highest offset read in each
/// partition, and each partition's log range when the broker told it.
#[derive(Default)]
struct ReadBack {
    keys: HashMap<Vec<u8>, u32>,
    read_up_to: HashMap<i32, i64>,
    /// `(log start, high watermark)` per partition.
    log_range: HashMap<i32, (i64, i64)>,
}

/// `(lost, unconfirmed)`: delivered records not read back are lost only when the read-back
/// reached past their offset, or the partition's log no longer holds it; otherwise nobody
/// knows (the read-back did not get there).
fn account(delivered: &BTreeMap<String, (i32, i64)>, seen: &ReadBack) -> (u32, u32) {
    let mut lost = 0;
    let mut unconfirmed = 0;
    for (key, (partition, offset)) in delivered {
        if seen.keys.contains_key(key.as_bytes()) {
            continue;
        }
        let read_past = seen
            .read_up_to
            .get(partition)
            .is_some_and(|read| read > offset);
        let not_in_log = seen
            .log_range
            .get(partition)
            .is_some_and(|(start, high)| offset < start || offset >= high);
        if read_past || not_in_log {
            lost += 1;
        } else {
            unconfirmed += 1;
        }
    }
    (lost, unconfirmed)
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

/// Consume from the delivered offsets: the probe keys seen (and how often), how far each
/// partition was read, and each partition's log range.
async fn read_back(
    settings: &KafkaSettings,
    bootstrap: &ProbeBootstrap,
    topic: &str,
    delivered: &BTreeMap<String, (i32, i64)>,
    run_id: &str,
    deadline: Instant,
) -> ReadBack {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &bootstrap.servers)
        .set("group.id", run_id)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    for (key, value) in &settings.client {
        config.set(key, value);
    }
    let Ok(consumer) = config.create::<BaseConsumer>() else {
        return ReadBack::default();
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
        return ReadBack::default();
    }
    let expected = delivered.len();
    let run_id = run_id.to_owned();
    let topic = topic.to_owned();
    let partitions: Vec<i32> = start.keys().copied().collect();
    let stop_at = deadline.into_std();
    // librdkafka's consumer is blocking; poll it off the async workers.
    tokio::task::spawn_blocking(move || {
        let mut seen = ReadBack::default();
        while std::time::Instant::now() < stop_at && seen.keys.len() < expected {
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                let read = seen.read_up_to.entry(message.partition()).or_insert(-1);
                *read = (*read).max(message.offset());
                if let Some(key) = message.key().filter(|k| k.starts_with(run_id.as_bytes())) {
                    *seen.keys.entry(key.to_vec()).or_default() += 1;
                }
            }
        }
        if seen.keys.len() < expected {
            // Where each partition's log stands, to tell a record the log no longer holds
            // from one the read-back did not get to.
            let left = stop_at.saturating_duration_since(std::time::Instant::now());
            for partition in partitions {
                let wait = left.min(Duration::from_secs(2));
                if let Ok(range) = consumer.fetch_watermarks(&topic, partition, wait) {
                    seen.log_range.insert(partition, range);
                }
            }
        }
        // Closing a consumer leaves its group and waits for its threads: not our business
        // once the records are counted.
        dispose(consumer);
        seen
    })
    .await
    .unwrap_or_default()
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
        RDKafkaErrorCode::InvalidRecord => "INVALID_RECORD",
        RDKafkaErrorCode::InvalidTimestamp => "INVALID_TIMESTAMP",
        RDKafkaErrorCode::InvalidMessage => "CORRUPT_MESSAGE",
        RDKafkaErrorCode::MessageBatchTooLarge => "RECORD_LIST_TOO_LARGE",
        RDKafkaErrorCode::Resolve => "_RESOLVE",
        RDKafkaErrorCode::BrokerTransportFailure => "_TRANSPORT",
        other => return format!("{other:?}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_not_read_back_are_lost_only_when_the_read_back_went_past_them() {
        let delivered: BTreeMap<String, (i32, i64)> = [
            ("k-0".to_owned(), (0, 10)),
            ("k-1".to_owned(), (0, 11)),
            ("k-2".to_owned(), (1, 5)),
            ("k-3".to_owned(), (2, 7)),
        ]
        .into();
        // The read-back failed outright: nothing is known, nothing is lost.
        assert_eq!(account(&delivered, &ReadBack::default()), (0, 4));
        let seen = ReadBack {
            keys: [(b"k-1".to_vec(), 1)].into(),
            // Partition 0 was read up to offset 11: k-0 at 10 was skipped over, so it is gone.
            read_up_to: [(0, 11), (1, 4)].into(),
            // Partition 2's log ends at 7: the acknowledged record at 7 is not in it.
            log_range: [(1, (0, 6)), (2, (0, 7))].into(),
        };
        // k-0 lost (read past), k-2 unconfirmed (not reached, still in the log), k-3 lost.
        assert_eq!(account(&delivered, &seen), (2, 1));
    }
}
