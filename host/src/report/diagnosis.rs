//! The diagnosis: findings grouped by cause, ranked most likely first.
//!
//! Three rules, in order of weight, and nothing else:
//! 1. **Roots outrank their symptoms.** When cause A explains cause B (a down broker explains
//!    an ISR below `min.insync.replicas`) and both are present, A ranks above B, whatever B's
//!    own score.
//! 2. **Severity**: a `fail` outranks a `warn`; `info` findings are not causes.
//! 3. **Corroboration**: a cause seen by more independent steps outranks one seen by fewer.
//!
//! The "explains" relation is data: [`BUILTIN_EXPLAINS`] plus the playbook's `explains`.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Cause, Evidence, Finding, Severity, StepResult};

/// Cause relations every playbook gets: `(root, symptoms it explains)`.
///
/// `kafka.unreachable` — no broker answered — is a symptom, never a root of anything about
/// the brokers: whatever kept the bootstrap servers from answering (a name that does not
/// resolve, a refused or filtered port, a listener that is not Kafka) explains it and ranks
/// above it, and it explains nothing about the cluster's state (issue 7, item 13: "cannot
/// reach any broker" had been ranked as "brokers are down").
pub const BUILTIN_EXPLAINS: &[(&str, &[&str])] = &[
    (
        "dns.unresolvable",
        &["net.unreachable", "client.timeout", "kafka.unreachable"],
    ),
    (
        "net.filtered",
        &[
            "client.timeout",
            "producer.records-expired",
            "kafka.unreachable",
        ],
    ),
    (
        "net.refused",
        &[
            "client.timeout",
            "producer.records-expired",
            "kafka.unreachable",
        ],
    ),
    (
        "net.unreachable",
        &[
            "client.timeout",
            "producer.records-expired",
            "kafka.unreachable",
        ],
    ),
    ("net.not-kafka", &["kafka.unreachable"]),
    (
        "kafka.unreachable",
        &[
            "client.timeout",
            "producer.records-expired",
            "canary.failed",
        ],
    ),
    (
        "broker.down",
        &[
            "net.refused",
            "isr.below-min",
            "isr.at-min",
            "isr.under-replicated",
            "partition.offline",
            "client.timeout",
            "producer.records-expired",
            // Issue 8: what the controller and the surviving brokers log about it.
            "broker.fenced",
            "replication.fetch-failed",
            "controller.failover",
        ],
    ),
    (
        "partition.offline",
        &["client.timeout", "producer.records-expired"],
    ),
    (
        "controller.missing",
        &["partition.offline", "isr.below-min"],
    ),
    (
        "zookeeper.down",
        &[
            "zookeeper.no-quorum",
            "controller.missing",
            "broker.down",
            "zookeeper.session-expired",
        ],
    ),
    (
        "zookeeper.no-quorum",
        &["controller.missing", "broker.down"],
    ),
    (
        "isr.below-min",
        &["producer.records-expired", "client.timeout"],
    ),
    (
        "broker.disk-full",
        &[
            "broker.down",
            "isr.below-min",
            "isr.under-replicated",
            "broker.log-dir-failed",
            "broker.fenced",
            "replication.fetch-failed",
        ],
    ),
    (
        "broker.out-of-memory",
        &[
            "broker.down",
            "isr.under-replicated",
            "broker.fenced",
            "replication.fetch-failed",
        ],
    ),
    // Issue 8: the broker-side causes the signature catalogue names. A failed log directory
    // stops the broker when it was its only one; running out of file descriptors fails the
    // log directory's next checkpoint (seen on the lab); a long GC pause stops heartbeats and
    // ZooKeeper pings alike.
    (
        "broker.log-dir-failed",
        &[
            "broker.down",
            "broker.fenced",
            "isr.below-min",
            "isr.under-replicated",
            "partition.offline",
            "replication.fetch-failed",
        ],
    ),
    (
        "broker.file-limit",
        &[
            "broker.log-dir-failed",
            "broker.down",
            "broker.fenced",
            "isr.under-replicated",
            "client.timeout",
        ],
    ),
    (
        "broker.gc-pause",
        &[
            "broker.fenced",
            "zookeeper.session-expired",
            "isr.under-replicated",
            "replication.fetch-failed",
            "client.timeout",
            "producer.records-expired",
        ],
    ),
    (
        "broker.fenced",
        &[
            "isr.below-min",
            "isr.under-replicated",
            "partition.offline",
            "controller.failover",
            "replication.fetch-failed",
        ],
    ),
    (
        "zookeeper.session-expired",
        &["controller.failover", "isr.under-replicated"],
    ),
    (
        "partition.unclean-election",
        &["replication.fetch-failed", "producer.out-of-order-sequence"],
    ),
    (
        "topic.missing",
        &["client.timeout", "producer.records-expired"],
    ),
    // A client that cannot complete TLS or SASL never gets an answer from the cluster.
    ("tls.handshake-failed", &["kafka.unreachable"]),
    ("auth.authentication-failed", &["kafka.unreachable"]),
    (
        "broker.overloaded",
        &[
            "client.timeout",
            "producer.records-expired",
            "isr.under-replicated",
        ],
    ),
    (
        "listener.unresolvable",
        &["client.timeout", "producer.records-expired"],
    ),
];

/// Group, score and rank the findings of a run.
pub fn diagnose(
    steps: &[StepResult],
    playbook_explains: &BTreeMap<String, Vec<String>>,
) -> Vec<Cause> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for step in steps {
        for finding in step.findings.iter().filter(|f| f.severity > Severity::Info) {
            let key = finding.cause.clone().unwrap_or_else(|| finding.id.clone());
            groups.entry(key).or_default().add(&step.id, finding);
        }
    }
    let explains = relations(playbook_explains);
    let keys: Vec<String> = groups.keys().cloned().collect();
    let present: BTreeSet<&str> = keys.iter().map(String::as_str).collect();

    // A root scores just above the best symptom it explains (transitively), so it ranks first.
    let mut score: BTreeMap<String, f64> = groups
        .iter()
        .map(|(key, group)| (key.clone(), group.score()))
        .collect();
    for _ in 0..present.len() {
        for (&root, symptoms) in &explains {
            if !present.contains(root) {
                continue;
            }
            let best_symptom = symptoms
                .iter()
                .filter(|s| present.contains(**s) && **s != root)
                .filter_map(|s| score.get(*s).copied())
                .fold(f64::MIN, f64::max);
            if best_symptom != f64::MIN && best_symptom + 1.0 > score[root] {
                score.insert(root.to_owned(), best_symptom + 1.0);
            }
        }
    }

    let mut causes: Vec<Cause> = groups
        .into_iter()
        .map(|(key, group)| {
            let explained: Vec<String> = explains
                .get(key.as_str())
                .map(|symptoms| {
                    symptoms
                        .iter()
                        .filter(|c| present.contains(**c) && **c != key)
                        .map(|c| (*c).to_owned())
                        .collect()
                })
                .unwrap_or_default();
            group.into_cause(key, explained)
        })
        .collect();
    causes.sort_by(|a, b| {
        score[&b.cause]
            .total_cmp(&score[&a.cause])
            .then_with(|| a.cause.cmp(&b.cause))
    });
    link(&mut causes);
    causes
}

/// Spell out, for each root, the chain from it to the symptoms it explains, in rank order:
/// "Brokers 2, 3 are down → orders: 3 partitions below min.insync.replicas=2 → 20 canary
/// records failed with _MSG_TIMED_OUT".
fn link(causes: &mut [Cause]) {
    let titles: Vec<(String, String)> = causes
        .iter()
        .map(|c| (c.cause.clone(), c.title.clone()))
        .collect();
    for cause in causes.iter_mut().filter(|c| !c.explains.is_empty()) {
        let mut chain = vec![cause.title.clone()];
        chain.extend(
            titles
                .iter()
                .filter(|(key, _)| cause.explains.contains(key))
                .map(|(_, title)| title.clone()),
        );
        cause.chain = Some(chain.join(" → "));
    }
}

fn relations(playbook: &BTreeMap<String, Vec<String>>) -> BTreeMap<&str, Vec<&str>> {
    let mut all: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (root, symptoms) in BUILTIN_EXPLAINS {
        all.entry(root)
            .or_default()
            .extend(symptoms.iter().copied());
    }
    for (root, symptoms) in playbook {
        all.entry(root)
            .or_default()
            .extend(symptoms.iter().map(String::as_str));
    }
    all
}

/// Findings that support one cause.
#[derive(Default)]
struct Group {
    findings: Vec<Finding>,
    steps: Vec<String>,
}

impl Group {
    fn add(&mut self, step: &str, finding: &Finding) {
        if !self.steps.iter().any(|s| s == step) {
            self.steps.push(step.to_owned());
        }
        self.findings.push(finding.clone());
    }

    fn severity(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    /// Severity dominates; corroborating steps break ties; more findings break those.
    fn score(&self) -> f64 {
        let severity = match self.severity() {
            Severity::Fail => 10.0,
            Severity::Warn => 5.0,
            Severity::Info => 0.0,
        };
        severity
            + 0.5 * (self.steps.len() as f64 - 1.0)
            + 0.01 * (self.findings.len().min(50) as f64)
    }

    fn into_cause(self, key: String, explained: Vec<String>) -> Cause {
        let severity = self.severity();
        let headline = self
            .findings
            .iter()
            .find(|f| f.severity == severity)
            .expect("a group has at least one finding");
        let title = match self.findings.len() {
            1 => headline.title.clone(),
            n => format!("{} (and {} more)", headline.title, n - 1),
        };
        let base = if severity == Severity::Fail { 0.6 } else { 0.3 };
        let confidence =
            (base + 0.15 * (self.steps.len() as f64 - 1.0) + 0.1 * explained.len() as f64)
                .min(0.99);
        let mut evidence: Vec<Evidence> = Vec::new();
        for e in self.findings.iter().flat_map(|f| &f.evidence) {
            if !evidence.contains(e) {
                evidence.push(e.clone());
            }
        }
        Cause {
            chain: None,
            explains: explained,
            cause: key,
            severity,
            confidence: (confidence * 100.0).round() / 100.0,
            title,
            fix: headline.fix.clone(),
            steps: self.steps,
            evidence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::Status;

    fn finding(cause: &str, severity: Severity) -> Finding {
        Finding {
            id: format!("{cause}.finding"),
            cause: Some(cause.to_owned()),
            severity,
            title: cause.to_owned(),
            evidence: vec![Evidence {
                source: "s".into(),
                excerpt: cause.into(),
            }],
            fix: Some(format!("fix {cause}")),
        }
    }

    fn step(id: &str, findings: Vec<Finding>) -> StepResult {
        StepResult {
            id: id.into(),
            plugin: "p".into(),
            title: id.into(),
            status: Status::Fail,
            duration_ms: 0,
            summary: String::new(),
            findings,
            facts: Default::default(),
        }
    }

    fn ranked(steps: &[StepResult]) -> Vec<String> {
        diagnose(steps, &BTreeMap::new())
            .into_iter()
            .map(|c| c.cause)
            .collect()
    }

    #[test]
    fn fail_outranks_warn_and_info_is_not_a_cause() {
        let steps = [step(
            "a",
            vec![
                finding("config.acks-weak", Severity::Warn),
                finding("net.refused", Severity::Fail),
                finding("note", Severity::Info),
            ],
        )];
        assert_eq!(ranked(&steps), ["net.refused", "config.acks-weak"]);
    }

    #[test]
    fn corroboration_breaks_ties() {
        let steps = [
            step(
                "a",
                vec![
                    finding("x.one", Severity::Fail),
                    finding("x.two", Severity::Fail),
                ],
            ),
            step("b", vec![finding("x.two", Severity::Fail)]),
        ];
        let diagnosis = diagnose(&steps, &BTreeMap::new());
        assert_eq!(diagnosis[0].cause, "x.two");
        assert_eq!(diagnosis[0].steps, ["a", "b"]);
        assert!(diagnosis[0].confidence > diagnosis[1].confidence);
    }

    /// Issue 8: the causes the signature catalogue names, in the order a broker failure
    /// produces them. A full disk takes the log directory offline, the broker stops, the
    /// controller fences it and the ISRs shrink: the disk is the root.
    #[test]
    fn the_root_of_a_broker_failure_outranks_what_it_caused() {
        let steps = [
            step(
                "controller-log",
                vec![finding("broker.fenced", Severity::Fail)],
            ),
            step(
                "broker-log",
                vec![
                    finding("broker.log-dir-failed", Severity::Fail),
                    finding("replication.fetch-failed", Severity::Warn),
                ],
            ),
            step("disk", vec![finding("broker.disk-full", Severity::Fail)]),
            step("isr", vec![finding("isr.under-replicated", Severity::Warn)]),
        ];
        let order = ranked(&steps);
        assert_eq!(order[0], "broker.disk-full", "{order:?}");
        assert_eq!(order[1], "broker.log-dir-failed", "{order:?}");
        // A down broker explains its fencing and its followers' fetch errors; the open-file
        // limit and GC pauses explain what they cause.
        for (root, symptom) in [
            ("broker.down", "broker.fenced"),
            ("broker.down", "replication.fetch-failed"),
            ("broker.file-limit", "broker.log-dir-failed"),
            ("broker.gc-pause", "zookeeper.session-expired"),
            ("broker.gc-pause", "broker.fenced"),
            ("broker.fenced", "isr.under-replicated"),
        ] {
            let steps = [
                step("a", vec![finding(symptom, Severity::Fail)]),
                step("b", vec![finding(symptom, Severity::Fail)]),
                step("c", vec![finding(root, Severity::Warn)]),
            ];
            assert_eq!(ranked(&steps)[0], root, "{root} explains {symptom}");
        }
    }

    /// A cycle in "explains" would make two causes each other's root; ranking would then
    /// depend on iteration order.
    #[test]
    fn the_builtin_relation_has_no_cycle() {
        let playbook = BTreeMap::new();
        let explains = relations(&playbook);
        fn visit<'a>(
            cause: &'a str,
            explains: &BTreeMap<&'a str, Vec<&'a str>>,
            path: &mut Vec<&'a str>,
        ) {
            assert!(!path.contains(&cause), "cycle: {path:?} -> {cause}");
            path.push(cause);
            for symptom in explains.get(cause).into_iter().flatten() {
                visit(symptom, explains, path);
            }
            path.pop();
        }
        for root in explains.keys() {
            visit(root, &explains, &mut Vec::new());
        }
    }

    #[test]
    fn a_root_outranks_its_symptoms_even_when_weaker() {
        let steps = [
            step("isr", vec![finding("isr.below-min", Severity::Fail)]),
            step("logs", vec![finding("isr.below-min", Severity::Fail)]),
            step("health", vec![finding("broker.down", Severity::Warn)]),
        ];
        assert_eq!(ranked(&steps), ["broker.down", "isr.below-min"]);
        let diagnosis = diagnose(&steps, &BTreeMap::new());
        assert_eq!(diagnosis[0].explains, ["isr.below-min"]);
        assert_eq!(
            diagnosis[0].chain.as_deref(),
            Some("broker.down → isr.below-min (and 1 more)")
        );
        assert!(diagnosis[1].explains.is_empty() && diagnosis[1].chain.is_none());
    }

    #[test]
    fn playbook_relations_extend_the_builtin_ones() {
        let steps = [step(
            "a",
            vec![
                finding("team.symptom", Severity::Fail),
                finding("team.root", Severity::Warn),
            ],
        )];
        let explains = BTreeMap::from([("team.root".to_owned(), vec!["team.symptom".to_owned()])]);
        let causes: Vec<String> = diagnose(&steps, &explains)
            .into_iter()
            .map(|c| c.cause)
            .collect();
        assert_eq!(causes, ["team.root", "team.symptom"]);
    }

    #[test]
    fn an_unreachable_cluster_ranks_below_the_network_cause_that_explains_it() {
        // Four Kafka checks could not reach any broker; one network check says why.
        let mut steps: Vec<StepResult> = ["cluster", "isr", "listeners", "topic"]
            .into_iter()
            .map(|id| step(id, vec![finding("kafka.unreachable", Severity::Fail)]))
            .collect();
        steps.push(step(
            "network",
            vec![finding("dns.unresolvable", Severity::Fail)],
        ));
        assert_eq!(ranked(&steps), ["dns.unresolvable", "kafka.unreachable"]);
        let diagnosis = diagnose(&steps, &BTreeMap::new());
        assert_eq!(diagnosis[0].explains, ["kafka.unreachable"]);
        // Nothing about the brokers' state is concluded from it.
        assert!(!diagnosis.iter().any(|c| c.cause == "broker.down"));
    }

    #[test]
    fn same_cause_findings_merge_into_one_entry() {
        let steps = [step(
            "a",
            vec![
                finding("net.refused", Severity::Fail),
                finding("net.refused", Severity::Fail),
            ],
        )];
        let diagnosis = diagnose(&steps, &BTreeMap::new());
        assert_eq!(diagnosis.len(), 1);
        assert!(diagnosis[0].title.ends_with("(and 1 more)"));
    }
}
