//! Whether a remediation may run: the checks' diagnosis decides, not a step status.
//!
//! A remediation names the cause it fixes (`fixes: "broker.down"`). It runs only when the
//! diagnosis of every non-remediation step *establishes* that cause — a `fail` finding
//! supports it — and ranks it first, or ranks above it only causes the playbook named in
//! `even_below`. Anything else is a refusal with the reason (issue 7, item 13: a restart
//! keyed on "the cluster step failed" ran when a misspelt bootstrap host was the cause).
//!
//! Plugins report cluster-state causes such as `broker.down` only from a cluster that
//! answered; "no broker answered" is `kafka.unreachable`, which network causes explain and
//! outrank (see [`crate::report::diagnosis`]).

use crate::playbook::plan::Fixes;
use crate::report::model::{Cause, Severity};

/// Why a remediation fixing `fixes` must not run on `diagnosis` (the checks' causes, most
/// likely first); `None` when it may.
pub fn refusal(fixes: &Fixes, diagnosis: &[Cause]) -> Option<String> {
    let cause = &fixes.cause;
    let Some(position) = diagnosis.iter().position(|c| &c.cause == cause) else {
        let context = match diagnosis.first() {
            Some(first) => format!("the diagnosis ranks `{}` first", first.cause),
            None => "they found no cause".to_owned(),
        };
        return Some(format!(
            "not run: it fixes `{cause}`, which the checks did not establish ({context})"
        ));
    };
    if diagnosis[position].severity != Severity::Fail {
        return Some(format!(
            "not run: it fixes `{cause}`, which the checks saw only as a warning, not an \
             established failure"
        ));
    }
    let above: Vec<String> = diagnosis[..position]
        .iter()
        .filter(|c| !fixes.even_below.contains(&c.cause))
        .map(|c| format!("`{}`", c.cause))
        .collect();
    if above.is_empty() {
        return None;
    }
    Some(format!(
        "not run: it fixes `{cause}`, but the diagnosis ranks {} above it; fix {} first",
        above.join(", "),
        if above.len() == 1 { "that" } else { "those" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(key: &str, severity: Severity) -> Cause {
        Cause {
            cause: key.into(),
            severity,
            confidence: 0.6,
            title: key.into(),
            steps: vec!["check".into()],
            evidence: Vec::new(),
            fix: None,
            explains: Vec::new(),
            chain: None,
        }
    }

    fn fixes(cause: &str, even_below: &[&str]) -> Fixes {
        Fixes {
            cause: cause.into(),
            even_below: even_below.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn runs_only_for_an_established_cause_that_ranks_first() {
        let diagnosis = [
            cause("broker.down", Severity::Fail),
            cause("isr.below-min", Severity::Fail),
            cause("config.acks-weak", Severity::Warn),
        ];
        assert_eq!(refusal(&fixes("broker.down", &[]), &diagnosis), None);
        assert_eq!(
            refusal(&fixes("isr.below-min", &[]), &diagnosis).unwrap(),
            "not run: it fixes `isr.below-min`, but the diagnosis ranks `broker.down` above \
             it; fix that first"
        );
        assert_eq!(
            refusal(&fixes("isr.below-min", &["broker.down"]), &diagnosis),
            None
        );
        assert_eq!(
            refusal(&fixes("config.acks-weak", &["broker.down"]), &diagnosis).unwrap(),
            "not run: it fixes `config.acks-weak`, which the checks saw only as a warning, not \
             an established failure"
        );
    }

    #[test]
    fn an_unreachable_cluster_establishes_no_broker_cause() {
        let diagnosis = [
            cause("dns.unresolvable", Severity::Fail),
            cause("kafka.unreachable", Severity::Fail),
        ];
        assert_eq!(
            refusal(&fixes("broker.down", &[]), &diagnosis).unwrap(),
            "not run: it fixes `broker.down`, which the checks did not establish (the \
             diagnosis ranks `dns.unresolvable` first)"
        );
        assert_eq!(
            refusal(&fixes("broker.down", &[]), &[]).unwrap(),
            "not run: it fixes `broker.down`, which the checks did not establish (they found \
             no cause)"
        );
    }
}
