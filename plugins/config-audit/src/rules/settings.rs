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
                "{}: a single leader election can take more attempts than that, and the record is dropped",
                retries.origin.shown()
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
/// client's default (on since 3.0) idempotence is silently switched off instead.
pub(super) fn idempotence(audit: &Audit) -> Vec<Finding> {
    let config = &audit.config;
    if !config.enable_idempotence.value {
        return Vec::new();
    }
    let java = config.dialect == Dialect::Java;
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
    let idempotence = &config.enable_idempotence.origin;
    let mut finding = if idempotence.is_set() {
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
                "Idempotence (on by default since 3.0) is silently disabled by {contradicting}: \
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

/// Rule 8: buffers too small for any real load, and a `send()` that may not wait at all.
pub(super) fn buffers(audit: &Audit) -> Vec<Finding> {
    let config = &audit.config;
    let warn = |id: &str, title: String, origins: &[&Origin], fix: &str| {
        let finding = Finding::warn(id, title)
            .cause(cause::CONFIG_BUFFERS)
            .fix(fix);
        origins
            .iter()
            .fold(finding, |finding, origin| audit.cite(finding, origin))
    };
    let mut findings = Vec::new();
    let (buffer, largest) = (&config.buffer_bytes, &config.max_request_size);
    match config.dialect {
        Dialect::Java if buffer.value < largest.value => findings.push(warn(
            "config.buffers.memory",
            format!(
                "{} is smaller than {}: a record larger than the buffer fails in send() with \
                 RecordTooLargeException",
                buffer.origin.shown(),
                largest.origin.shown()
            ),
            &[&buffer.origin, &largest.origin],
            "Remove buffer.memory (32 MiB by default) or keep it well above max.request.size.",
        )),
        Dialect::Java if buffer.value < MIN_BUFFER_BYTES => findings.push(warn(
            "config.buffers.memory",
            format!(
                "{}: send() blocks as soon as {} bytes wait to be sent, and throws after \
                 max.block.ms",
                buffer.origin.shown(),
                buffer.value
            ),
            &[&buffer.origin],
            "Remove buffer.memory (32 MiB by default), or size it for a few seconds of the \
             producer's peak rate.",
        )),
        Dialect::Librdkafka if buffer.value < MIN_BUFFER_BYTES => findings.push(warn(
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
    // 0 disables librdkafka's message-count limit.
    if let Some(messages) = (config.queue_max_messages.as_ref())
        .filter(|m| m.value != 0 && m.value < MIN_QUEUE_MESSAGES)
    {
        findings.push(warn(
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
    if let Some(block) = config.max_block_ms.as_ref().filter(|b| b.value == 0) {
        findings.push(warn(
            "config.buffers.max-block",
            format!(
                "{}: send() throws instead of waiting — the first record to each topic fails \
                 (\"not present in metadata after 0 ms\"), and so does every record while the \
                 buffer is full",
                block.origin.shown()
            ),
            &[&block.origin],
            "Remove max.block.ms (60000 by default), or give it at least a few seconds so that \
             send() can wait for metadata.",
        ));
    }
    findings
}
