//! The shipped catalogue checked as a whole: it parses, it is big enough, every regex compiles,
//! every example matches its own signature and no signature of another cause, and nothing
//! matches the healthy lab's own startup log (a signature that fires on a healthy cluster is
//! noise the operator learns to ignore).
//!
//! The healthy logs in `tests/lab/` were captured from `tests/lab/lab up` (Kafka 4.4, one
//! KRaft controller, three brokers) plus one topic created, with the lab directory replaced
//! by `LAB_DIR`.

use regex::Regex;
use triage_knowledge::{Signature, catalogue, cause, load_catalogue};

fn compiled(signature: &Signature) -> Vec<Regex> {
    signature
        .regexes
        .iter()
        .map(|r| {
            Regex::new(r)
                .unwrap_or_else(|e| panic!("{}: regex {r:?} does not compile: {e}", signature.id))
        })
        .collect()
}

fn matches(regexes: &[Regex], line: &str) -> bool {
    regexes.iter().any(|r| r.is_match(line))
}

#[test]
fn the_catalogue_parses_and_covers_every_class() {
    let signatures = load_catalogue().unwrap_or_else(|e| panic!("{e}"));
    assert!(signatures.len() >= 60, "{} signatures", signatures.len());
    for signature in &signatures {
        assert!(!signature.source.is_empty(), "{}: no source", signature.id);
        assert!(
            !signature.components.is_empty(),
            "{}: no components",
            signature.id
        );
        assert!(
            !signature.examples.is_empty(),
            "{}: no examples",
            signature.id
        );
        assert!(
            cause::is_known(&signature.cause),
            "{}: {}",
            signature.id,
            signature.cause
        );
    }
    // The failure classes issue 8 names, by the cause each must support.
    let causes: std::collections::BTreeSet<&str> =
        signatures.iter().map(|s| s.cause.as_str()).collect();
    for needed in [
        cause::ISR_UNDER_REPLICATED,
        cause::ISR_BELOW_MIN,
        cause::BROKER_FENCED,
        cause::CONTROLLER_FAILOVER,
        cause::PARTITION_UNCLEAN_ELECTION,
        cause::ZOOKEEPER_SESSION_EXPIRED,
        cause::BROKER_LOG_DIR_FAILED,
        cause::BROKER_DISK_FULL,
        cause::BROKER_FILE_LIMIT,
        cause::BROKER_OOM,
        cause::BROKER_GC_PAUSE,
        cause::TLS_HANDSHAKE_FAILED,
        cause::AUTH_AUTHENTICATION_FAILED,
        cause::AUTH_DENIED,
        cause::CONFIG_MESSAGE_SIZE,
        cause::RECORD_CORRUPT,
        cause::CLIENT_TIMEOUT,
        cause::PRODUCER_EXPIRED,
        cause::NET_REFUSED,
        cause::DNS_UNRESOLVABLE,
        cause::TOPIC_MISSING,
        cause::PRODUCER_OUT_OF_ORDER,
        cause::PRODUCER_FENCED,
        cause::REPLICATION_FETCH_FAILED,
        cause::QUOTA_THROTTLED,
        cause::RETENTION_DELETED,
        cause::TOPIC_COMPACTION_NEEDS_KEY,
        cause::TOPIC_TIMESTAMP_OUT_OF_RANGE,
    ] {
        assert!(causes.contains(needed), "no signature supports {needed}");
    }
    assert_eq!(catalogue().len(), signatures.len());
}

#[test]
fn every_example_matches_its_own_signature_and_no_other_cause() {
    let signatures = catalogue();
    let all: Vec<(&Signature, Vec<Regex>)> = signatures.iter().map(|s| (s, compiled(s))).collect();
    let mut problems = Vec::new();
    for (signature, regexes) in &all {
        for example in &signature.examples {
            if !matches(regexes, example) {
                problems.push(format!(
                    "{}: its example does not match: {example}",
                    signature.id
                ));
            }
            // An example claimed by a signature of another cause would be named twice, once
            // wrongly: the wordings of different causes must stay apart.
            for (other, other_regexes) in &all {
                if other.cause != signature.cause && matches(other_regexes, example) {
                    problems.push(format!(
                        "{} ({}) also matches {}'s example ({}): {example}",
                        other.id, other.cause, signature.id, signature.cause
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn nothing_matches_the_healthy_labs_startup_log() {
    let healthy = [
        include_str!("lab/healthy-1.log"),
        include_str!("lab/healthy-controller.log"),
    ];
    let mut problems = Vec::new();
    for signature in catalogue() {
        let regexes = compiled(signature);
        for line in healthy.iter().flat_map(|log| log.lines()) {
            if matches(&regexes, line) {
                problems.push(format!("{} matches a healthy line: {line}", signature.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
