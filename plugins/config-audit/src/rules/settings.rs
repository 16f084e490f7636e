//! Rules 2–5 and 8: the client's own settings, judged as the client itself will — what
//! loses records (acks, retries), what stops the producer from starting (idempotence
//! conflicts, a delivery timeout shorter than one request), what makes sends fail under load
//! (buffers, blocking).

use triage_sdk::{Finding, Severity, cause};

use super::Audit;
use crate::config::{Acks, Dialect, Origin};

/// Fewer retries than this cannot ride out one leader election (the old leader's failure is
/// noticed, metadata refreshed, the new leader found: each step can cost an attempt).
const LOW_RETRIES: u64 = 3;
/// The idempotent producer keeps ordering across retries for at most this many requests in
/// flight per connection (both clients).
const IDEMPOTENT_MAX_IN_FLIGHT: u64 = 5;
/// Below this, the producer's buffer fills within moments of a broker hiccup.
const MIN_BUFFER_BYTES: u64 = 1024 * 1024;
/// Below this many queued records, librdkafka's `produce()` fails with QUEUE_FULL at any
/// real rate.
const MIN_QUEUE_MESSAGES: u64 = 1000;
/// Below this, `send()` gives up on metadata before a broker that is merely slow (a restart,
/// a leader election) answers: the first record to each topic fails.
const MIN_MAX_BLOCK_MS: u64 = 1000;

/// Rule 2: `acks=0` or `acks=1` lose acknowledged ("sent") records when the leader fails.
pub(super) fn acks_durable(audit: &Audit) -> Vec<Finding> {
    let acks = &audit.config.acks;
    let (severity, title) = match acks.value {
        Acks::All => return Vec::new(),
        Acks::None => (
            Severity::Fail,
            format!(
                "{}: the producer waits for no acknowledgement — a record counts as sent once \
                 written to the socket and is lost without an error if the leader is down, fails \
                 or rejects it",
                acks.origin.shown()
            ),
        ),
        Acks::Leader => (
            Severity::Warn,
            format!(
                "{}: only the leader acknowledges — records it acknowledged but had not yet \
                 copied to a follower are lost when it fails",
                acks.origin.shown()
            ),
        ),
    };
    let mut finding = audit
        .cite(Finding::new(severity, "config.acks", title), &acks.origin)
        .cause(cause::CONFIG_ACKS_WEAK)
        .fix(
            "Set acks=all (the Java client's default since 3.0) and give the topic \
             min.insync.replicas=2 with replication factor 3: an acknowledged record is then on \
             at least two brokers.",
        );
    let min_insync = audit
        .cluster
        .facts()
        .and_then(|f| f.topic.as_ref())
        .and_then(|t| t.min_insync_replicas.map(|m| (t.name.clone(), m)));
    if let Some((topic, min)) = min_insync.filter(|(_, m)| *m > 1) {
        finding = finding.evidence(
            "kafka.describe-configs",
            format!("topic {topic}: min.insync.replicas={min}, which only acks=all enforces"),
        );
    }
    vec![finding]
}

/// Rule 3: retries of 0 drop a record on the first transient error; a few are not enough
/// for a leader election.
pub(super) fn retries(audit: &Audit) -> Vec<Finding> {
    let retries = &audit.config.retries;
    let (severity, title) = match retries.value {
        0 => (
            Severity::Fail,
            format!(
                "{}: the first transient error (a leader election, NOT_ENOUGH_REPLICAS, a \
                 request timeout) drops the record",
                retries.origin.shown()
            ),
        ),
        n if n < LOW_RETRIES => (
            Severity::Warn,
            format!(
                "{}: a single leader election can take more attempts than that, and the record is dropped{}",
                retries.origin.shown(),
                if audit.config.enable_idempotence.value {
                    " — with idempotence on, retries cannot duplicate or reorder records, so the cap buys nothing"
                } else {
                    ""
                }
            ),
        ),
        _ => return Vec::new(),
    };
    let bound = match audit.config.dialect {
        Dialect::Java => "delivery.timeout.ms",
        Dialect::Librdkafka => "message.timeout.ms",
    };
    vec![
        audit
            .cite(
                Finding::new(severity, "config.retries", title),
                &retries.origin,
            )
            .cause(cause::CONFIG_RETRIES)
            .fix(format!(
                "Remove {} (the default, 2147483647, retries until {bound} expires) and bound \
                 the time a record may take with {bound} instead.",
                retries.origin.key()
            )),
    ]
}

/// Rule 4: idempotence needs acks=all, retries > 0 and at most 5 requests in flight. Both
/// clients adjust their own defaults to fit, so only values written in the file conflict;
/// with idempotence written as `true` the producer then refuses to start, with the Java
/// client's default (on since 3.0.1/3.1.1/3.2, KAFKA-13598) idempotence is silently switched
/// off instead (ProducerConfig.postProcessAndValidateIdempotenceConfigs logs "Idempotence will
/// be disabled because ...").
pub(super) fn idempotence(audit: &Audit) -> Vec<Finding> {
    let config = &audit.config;
    let java = config.dialect == Dialect::Java;
    let idempotence = &config.enable_idempotence.origin;
    let transactional = config.transactional_id.as_ref();
    if let Some(id) =
        transactional.filter(|_| !config.enable_idempotence.value && idempotence.is_set())
    {
        // ProducerConfig: "Cannot set a transactional.id without also enabling idempotence.";
        // rd_kafka_conf_finalize: "`transactional.id` requires `enable.idempotence=true`".
        let finding = Finding::fail(
            "config.idempotence",
            format!(
                "{} with {}: {} refuses to start (transactions need the idempotent producer)",
                idempotence.shown(),
                id.origin.shown(),
                config.dialect.client()
            ),
        )
        .cause(cause::CONFIG_IDEMPOTENCE)
        .fix("Remove enable.idempotence=false: a transactional producer needs idempotence.");
        return vec![audit.cite(audit.cite(finding, idempotence), &id.origin)];
    }
    // Both clients turn idempotence on for a transactional producer unless it is written off.
    if !config.enable_idempotence.value && transactional.is_none() {
        return Vec::new();
    }
    let mut conflicts: Vec<(&Origin, &str)> = Vec::new();
    if config.acks.value != Acks::All {
        conflicts.push((
            &config.acks.origin,
            if java {
                "Must set acks to all in order to use the idempotent producer"
            } else {
                "`acks` must be set to `all` when `enable.idempotence` is true"
            },
        ));
    }
    if config.retries.value == 0 {
        conflicts.push((
            &config.retries.origin,
            if java {
                "Must set retries to non-zero when using the idempotent producer"
            } else {
                "`retries` must be set >= 1 when `enable.idempotence` is true"
            },
        ));
    }
    if config.max_in_flight.value > IDEMPOTENT_MAX_IN_FLIGHT {
        conflicts.push((
            &config.max_in_flight.origin,
            if java {
                "Must set max.in.flight.requests.per.connection to at most 5 to use the idempotent producer"
            } else {
                "`max.in.flight` must be set <= 5 when `enable.idempotence` is true"
            },
        ));
    }
    conflicts.retain(|(origin, _)| origin.is_set());
    if conflicts.is_empty() {
        return Vec::new();
    }
    let contradicting = conflicts
        .iter()
        .map(|(origin, _)| origin.shown())
        .collect::<Vec<_>>()
        .join(", ");
    // A transactional producer cannot drop idempotence silently: the Java client then throws
    // "Cannot set a transactional.id without also enabling idempotence", librdkafka refuses
    // the conflicting value as if idempotence were written.
    let mut finding = if idempotence.is_set() || transactional.is_some() {
        Finding::fail(
            "config.idempotence",
            format!(
                "{} contradicts {contradicting}: {} refuses to start",
                idempotence.shown(),
                config.dialect.client()
            ),
        )
        .fix(format!(
            "Remove {contradicting} (idempotence needs acks=all, retries > 0 and at most 5 \
             requests in flight; the defaults fit), or set enable.idempotence=false knowing \
             that retries may then duplicate or reorder records. The client says: \"{}\".",
            conflicts[0].1
        ))
    } else {
        Finding::info(
            "config.idempotence",
            format!(
                "Idempotence (on by default since kafka-clients 3.0.1/3.1.1/3.2) is silently disabled by {contradicting}: \
                 retries may duplicate or reorder records"
            ),
        )
        .fix(format!(
            "Remove {contradicting} to keep the idempotent producer, or set \
             enable.idempotence=false to make the choice explicit."
        ))
    };
    finding = audit.cite(finding.cause(cause::CONFIG_IDEMPOTENCE), idempotence);
    for (origin, _) in &conflicts {
        finding = audit.cite(finding, origin);
    }
    vec![finding]
}

/// Rule 5: the Java client refuses `delivery.timeout.ms < linger.ms + request.timeout.ms`
/// when delivery.timeout.ms is written (and quietly raises its default otherwise);
/// librdkafka refuses `message.timeout.ms <= linger.ms` when linger.ms is written, and a
/// message timeout shorter than one request's lets records expire with no retry.
pub(super) fn delivery_timeout(audit: &Audit) -> Vec<Finding> {
    let config = &audit.config;
    let (delivery, linger, request) = (
        &config.delivery_timeout_ms,
        &config.linger_ms,
        &config.request_timeout_ms,
    );
    let sum = linger.value.saturating_add(request.value);
    let numbers = format!(
        "{}={} < {}={} + {}={} = {sum}",
        delivery.origin.key(),
        delivery.value,
        linger.origin.key(),
        linger.value,
        request.origin.key(),
        request.value
    );
    let finding = match config.dialect {
        Dialect::Java if delivery.value >= sum => return Vec::new(),
        Dialect::Java if delivery.origin.is_set() => Finding::fail(
            "config.delivery-timeout",
            format!("{numbers}: the Java client refuses to start"),
        )
        .fix(format!(
            "Raise delivery.timeout.ms to at least {sum} (the default is 120000), or lower \
             linger.ms or request.timeout.ms. KafkaProducer's constructor throws \
             ConfigException \"delivery.timeout.ms should be equal to or larger than linger.ms \
             + request.timeout.ms\", so not one record is sent."
        )),
        Dialect::Java => Finding::info(
            "config.delivery-timeout",
            format!("{numbers}: the Java client raises delivery.timeout.ms to {sum}"),
        )
        .fix(format!(
            "Set delivery.timeout.ms={sum} or more explicitly, so that the limit on a record's \
             delivery time is the one you chose."
        )),
        // 0 means no limit in librdkafka.
        Dialect::Librdkafka if delivery.value == 0 => return Vec::new(),
        Dialect::Librdkafka if delivery.value <= linger.value => {
            let title = format!(
                "{}={} <= {}={}",
                delivery.origin.key(),
                delivery.value,
                linger.origin.key(),
                linger.value
            );
            if linger.origin.is_set() {
                Finding::fail(
                    "config.delivery-timeout",
                    format!("{title}: librdkafka refuses to start"),
                )
                .fix(format!(
                    "Raise message.timeout.ms well above linger.ms + request.timeout.ms ({sum}); \
                     rd_kafka_new fails with \"`message.timeout.ms` must be greater than `linger.ms`\"."
                ))
            } else {
                Finding::info(
                    "config.delivery-timeout",
                    format!("{title}: librdkafka lowers linger.ms below it"),
                )
                .fix(format!("Raise message.timeout.ms above {sum}."))
            }
        }
        Dialect::Librdkafka if delivery.value < sum => Finding::warn(
            "config.delivery-timeout",
            format!(
                "{numbers}: records expire (_MSG_TIMED_OUT) while their first request may still \
                 be waiting for the broker, with no time left to retry"
            ),
        )
        .fix(format!(
            "Raise message.timeout.ms to well above {sum} (the default is 300000) so that a \
             slow request can be retried before the record expires."
        )),
        Dialect::Librdkafka => return Vec::new(),
    };
    let mut finding = finding.cause(cause::CONFIG_DELIVERY_TIMEOUT);
    for origin in [&delivery.origin, &linger.origin, &request.origin] {
        finding = audit.cite(finding, origin);
    }
    vec![finding]
}

/// Rule 8: buffers too small for any real load, batches that cannot fit the buffer, queue or
/// request, and a `send()` that may not wait (long enough).
///
/// Severity follows impact: with `max.block.ms=0` the Java client's `send()` fails the record
/// (through its future and callback) instead of waiting for metadata or buffer space, so a
/// small buffer then fails records under any load (issue 8; on the lab, 19010 of 20000 records
/// sent at once failed, most with "Topic ... not present in metadata after 0 ms"); and a batch larger than the whole buffer fails every `send()`
/// (BufferPool.allocate: "Attempt to allocate N bytes, but there is a hard limit of M on
/// memory allocations").
pub(super) fn buffers(audit: &Audit) -> Vec<Finding> {
    let config = &audit.config;
    let finding = |severity: Severity, id: &str, title: String, origins: &[&Origin], fix: &str| {
        let finding = Finding::new(severity, id, title)
            .cause(cause::CONFIG_BUFFERS)
            .fix(fix);
        origins
            .iter()
            .fold(finding, |finding, origin| audit.cite(finding, origin))
    };
    let mut findings = Vec::new();
    let (buffer, largest) = (&config.buffer_bytes, &config.max_request_size);
    let no_wait = config.max_block_ms.as_ref().filter(|b| b.value == 0);
    let (full_buffer, full_severity, full_origins) = match no_wait {
        Some(block) => (
            format!(
                " — and with {} send() fails the record at once instead of waiting, so under any load \
                 most records fail at send()",
                block.origin.shown()
            ),
            Severity::Fail,
            vec![&buffer.origin, &block.origin],
        ),
        None => (String::new(), Severity::Warn, vec![&buffer.origin]),
    };
    match config.dialect {
        Dialect::Java if buffer.value < largest.value => {
            let mut origins = full_origins.clone();
            origins.insert(1, &largest.origin);
            findings.push(finding(
                full_severity,
                "config.buffers.memory",
                format!(
                    "{} is smaller than {}: a record larger than the buffer fails in send() with \
                     RecordTooLargeException{full_buffer}",
                    buffer.origin.shown(),
                    largest.origin.shown()
                ),
                &origins,
                "Remove buffer.memory (32 MiB by default) or keep it well above max.request.size.",
            ))
        }
        Dialect::Java if buffer.value < MIN_BUFFER_BYTES => findings.push(finding(
            full_severity,
            "config.buffers.memory",
            format!(
                "{}: send() blocks as soon as {} bytes wait to be sent, and throws after \
                 max.block.ms{full_buffer}",
                buffer.origin.shown(),
                buffer.value
            ),
            &full_origins,
            "Remove buffer.memory (32 MiB by default), or size it for a few seconds of the \
             producer's peak rate.",
        )),
        Dialect::Librdkafka if buffer.value < MIN_BUFFER_BYTES => findings.push(finding(
            Severity::Warn,
            "config.buffers.memory",
            format!(
                "{}: produce() fails with QUEUE_FULL as soon as {} KiB wait to be sent",
                buffer.origin.shown(),
                buffer.value / 1024
            ),
            &[&buffer.origin],
            "Remove queue.buffering.max.kbytes (1 GiB by default), or size it for a few seconds \
             of the producer's peak rate.",
        )),
        _ => {}
    }
    if let Some(batch) = config
        .batch_size
        .as_ref()
        .filter(|_| config.dialect == Dialect::Java)
    {
        if batch.value > buffer.value {
            findings.push(finding(
                Severity::Fail,
                "config.buffers.batch-size",
                format!(
                    "{} is larger than {}: every send() fails with IllegalArgumentException \
                     (\"Attempt to allocate {} bytes, but there is a hard limit of {} on memory \
                     allocations\")",
                    batch.origin.shown(),
                    buffer.origin.shown(),
                    batch.value,
                    buffer.value
                ),
                &[&batch.origin, &buffer.origin],
                "Keep batch.size (16384 by default) a small fraction of buffer.memory (32 MiB by \
                 default): the buffer holds many batches, one per partition being written.",
            ));
        } else if batch.value > largest.value {
            findings.push(
                finding(
                    Severity::Warn,
                    "config.batch-size",
                    format!(
                        "{} is larger than {}: a full batch makes a produce request above the \
                         producer's own limit, which the broker may reject (MESSAGE_TOO_LARGE) \
                         and the producer then splits and retries",
                        batch.origin.shown(),
                        largest.origin.shown()
                    ),
                    &[&batch.origin, &largest.origin],
                    "Keep batch.size at or below max.request.size (and the topic's \
                     max.message.bytes).",
                )
                .cause(cause::CONFIG_MESSAGE_SIZE),
            );
        }
    }
    // 0 disables librdkafka's message-count limit.
    let queue_limit = config.queue_max_messages.as_ref().filter(|m| m.value != 0);
    let tiny_queue = queue_limit.filter(|m| m.value < MIN_QUEUE_MESSAGES);
    if let Some(messages) = tiny_queue {
        findings.push(finding(
            Severity::Warn,
            "config.buffers.messages",
            format!(
                "{}: produce() fails with QUEUE_FULL once {} records wait to be sent",
                messages.origin.shown(),
                messages.value
            ),
            &[&messages.origin],
            "Remove queue.buffering.max.messages (100000 by default), and make sure the \
             application retries produce() after polling when it does get QUEUE_FULL.",
        ));
    }
    // A queue too small for any load is reported above, whatever the batch.
    let queue_limit = queue_limit.filter(|_| tiny_queue.is_none());
    // The 0.8 Scala producer refused this ("Batch size = N can't be larger than queue size =
    // M"); librdkafka accepts it, and QUEUE_FULL comes before a full batch.
    if let (Some(batch), Some(queue)) = (config.batch_messages.as_ref(), queue_limit)
        && batch.value > queue.value
    {
        findings.push(finding(
            Severity::Warn,
            "config.buffers.batch-messages",
            format!(
                "{} is larger than {}: the queue is full before one batch is, so produce() \
                     fails with QUEUE_FULL while batches are still being filled",
                batch.origin.shown(),
                queue.origin.shown()
            ),
            &[&batch.origin, &queue.origin],
            "Keep batch.num.messages (10000 by default) well below \
                 queue.buffering.max.messages (100000 by default).",
        ));
    }
    if let Some(block) = config.max_block_ms.as_ref() {
        if block.value == 0 {
            findings.push(finding(
                Severity::Fail,
                "config.buffers.max-block",
                format!(
                    "{}: send() fails records instead of waiting — every record sent before the \
                     topic's metadata has arrived fails (\"not present in metadata after 0 ms\"), and \
                     so does every record while the buffer is full",
                    block.origin.shown()
                ),
                &[&block.origin],
                "Remove max.block.ms (60000 by default), or give it at least a few seconds so that \
                 send() can wait for metadata.",
            ));
        } else if block.value < MIN_MAX_BLOCK_MS && block.origin.is_set() {
            findings.push(finding(
                Severity::Warn,
                "config.buffers.max-block",
                format!(
                    "{}: send() gives up after {} ms waiting for metadata or buffer space — the \
                     first record to a topic fails whenever a broker is slow to answer (a \
                     restart, a leader election)",
                    block.origin.shown(),
                    block.value
                ),
                &[&block.origin],
                "Remove max.block.ms (60000 by default), or give it at least a few seconds.",
            ));
        }
    }
    findings
}
