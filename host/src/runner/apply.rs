//! Carrying out a confirmed plan: the host itself performs each recorded [`Action`], in
//! order, and nothing else. The plugin that planned them does not run again — a plugin
//! that behaves one way in its dry run and another when applying (issue 7, item 3) has no
//! second run to behave differently in.
//!
//! Each action is checked against the step's grant once more, a config change only when the
//! value it replaces is still the one shown, and the first action that fails stops the rest:
//! what follows may rely on it.

use tokio::time::Instant;

use crate::hostfns::{
    Action, CommandError, CommandOutput, MAX_OUTPUT, run_command, topic_config_value,
};
use crate::kafka::KafkaConnection;
use crate::playbook::plan::PlannedStep;
use crate::report::model::{Evidence, Finding, Severity, Status};
use crate::wit::HostError;

/// Bytes of a command's output quoted as evidence.
const EVIDENCE_BYTES: usize = 4096;

/// What carrying out a plan did.
#[derive(Debug)]
pub struct Applied {
    /// `pass` when every action succeeded; `fail` when one failed; `error` when one could not
    /// be carried out at all (refused, timed out).
    pub status: Status,
    /// `applied: run `x` (exit status 0); ...`, with what was not done.
    pub summary: String,
    /// Why an action failed, with its evidence.
    pub findings: Vec<Finding>,
}

/// Carry out `actions` for `step` before `deadline`.
pub async fn carry_out(
    actions: &[Action],
    step: &PlannedStep,
    kafka: Option<&KafkaConnection>,
    deadline: Instant,
) -> Applied {
    let mut done: Vec<String> = Vec::new();
    for (index, action) in actions.iter().enumerate() {
        let outcome = match action {
            Action::Exec { argv, timeout } => exec(argv, *timeout, step, deadline).await,
            Action::AlterTopicConfig {
                topic,
                key,
                value,
                previous,
            } => {
                alter(
                    topic,
                    key,
                    value,
                    previous.as_deref(),
                    step,
                    kafka,
                    deadline,
                )
                .await
            }
        };
        match outcome {
            Ok(line) => done.push(line),
            Err(failure) => {
                let Failure { status, finding } = *failure;
                let not_done: Vec<String> = actions[index + 1..]
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let mut summary = String::new();
                if !done.is_empty() {
                    summary.push_str(&format!("applied: {}; then ", done.join("; ")));
                }
                summary.push_str(&finding.title);
                if !not_done.is_empty() {
                    summary.push_str(&format!("; not done: {}", not_done.join("; ")));
                }
                return Applied {
                    status,
                    summary,
                    findings: vec![finding],
                };
            }
        }
    }
    Applied {
        status: Status::Pass,
        summary: format!("applied: {}", done.join("; ")),
        findings: Vec::new(),
    }
}

/// What one action did: its line for the summary, or why it failed.
type ActionOutcome = Result<String, Box<Failure>>;

/// An action that failed: the step's status and the finding saying why.
#[derive(Debug)]
struct Failure {
    status: Status,
    finding: Finding,
}

fn failed(status: Status, finding: Finding) -> Box<Failure> {
    Box::new(Failure { status, finding })
}

fn fail_finding(id: &str, title: String, evidence: Vec<Evidence>, fix: &str) -> Finding {
    Finding {
        id: id.to_owned(),
        cause: None,
        severity: Severity::Fail,
        title,
        evidence,
        fix: Some(fix.to_owned()),
    }
}

async fn exec(
    argv: &[String],
    timeout: std::time::Duration,
    step: &PlannedStep,
    deadline: Instant,
) -> ActionOutcome {
    let line = argv.join(" ");
    if let Err(why) = step.grant.check_exec(argv) {
        return Err(failed(
            Status::Error,
            fail_finding(
                "remediation.refused",
                format!("`{line}` was not run: {why}"),
                Vec::new(),
                "Grant the command in the step's `allow: (exec: [...])`.",
            ),
        ));
    }
    match run_command(argv, timeout, deadline).await {
        Ok(output) if output.status.success() => Ok(format!("run `{line}` (exit status 0)")),
        Ok(output) => Err(failed(
            Status::Fail,
            fail_finding(
                "remediation.failed",
                format!("`{line}` failed ({})", describe_status(&output)),
                output_evidence(&output),
                "Run the command by hand on this host and read its output.",
            ),
        )),
        Err(CommandError::Spawn(why)) => Err(failed(
            Status::Error,
            fail_finding(
                "remediation.failed",
                format!("`{line}` could not be run: {why}"),
                Vec::new(),
                "Check that the program exists on this host and is on the PATH triage runs with.",
            ),
        )),
        Err(CommandError::TimedOut {
            after,
            by_step_deadline,
        }) => {
            // The step's deadline is the step's `timeout` from the start of the apply pass.
            let (whose, after) = if by_step_deadline {
                ("the step's", step.timeout)
            } else {
                ("its", after)
            };
            Err(failed(
                Status::Error,
                fail_finding(
                    "remediation.timed-out",
                    format!(
                        "`{line}` did not finish within {whose} {} timeout: it was killed, with \
                         every process it started",
                        humantime::format_duration(after)
                    ),
                    Vec::new(),
                    "Find out on this host why the command hangs; raise the step's `timeout` \
                     if it needs longer.",
                ),
            ))
        }
    }
}

fn describe_status(output: &CommandOutput) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (output.status.code(), output.status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "no exit status".to_owned(),
    }
}

/// The end of stderr (else stdout): where a failing command says why.
fn output_evidence(output: &CommandOutput) -> Vec<Evidence> {
    let (stream, text) = if output.stderr.trim().is_empty() {
        ("stdout", &output.stdout)
    } else {
        ("stderr", &output.stderr)
    };
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut start = text.len().saturating_sub(EVIDENCE_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let kept = if output.truncated {
        format!(" (only its first {} KiB were kept)", MAX_OUTPUT / 1024)
    } else {
        String::new()
    };
    vec![Evidence {
        source: format!("exec.{stream}{kept}"),
        excerpt: text[start..].trim().to_owned(),
    }]
}

async fn alter(
    topic: &str,
    key: &str,
    value: &str,
    previous: Option<&str>,
    step: &PlannedStep,
    kafka: Option<&KafkaConnection>,
    deadline: Instant,
) -> ActionOutcome {
    let change = format!("set {key}={value} on topic `{topic}`");
    let refuse = |status: Status, id: &str, title: String, fix: &str| {
        Err(failed(status, fail_finding(id, title, Vec::new(), fix)))
    };
    if let Err(why) = step.grant.check_kafka_admin() {
        return refuse(
            Status::Error,
            "remediation.refused",
            format!("{change} was not done: {why}"),
            "Grant `kafka: Admin` to the remediation step.",
        );
    }
    let Some(kafka) = kafka else {
        return refuse(
            Status::Error,
            "remediation.failed",
            format!("{change} was not done: the run has no Kafka connection"),
            "Pass --bootstrap HOST:PORT.",
        );
    };
    let reason = |error: HostError| match error {
        HostError::Denied(why) | HostError::Unavailable(why) | HostError::Invalid(why) => why,
        HostError::Timeout => "timed out".to_owned(),
    };
    // The plan was confirmed with the value it replaces; if someone changed it since, the
    // confirmed plan no longer describes what this change would do.
    let current = match topic_config_value(kafka, topic, key, deadline).await {
        Ok(current) => current,
        Err(error) => {
            return refuse(
                Status::Error,
                "remediation.failed",
                format!(
                    "{change} was not done: its current value could not be read: {}",
                    reason(error)
                ),
                "Check that the cluster answers, then run triage again.",
            );
        }
    };
    if current.as_deref() != previous {
        return refuse(
            Status::Error,
            "remediation.stale",
            format!(
                "{change} was not done: {key} is now {}, not {} as in the confirmed plan",
                current.as_deref().unwrap_or("its default"),
                previous.unwrap_or("its default")
            ),
            "Someone changed it since the dry run: run triage again and confirm the new plan.",
        );
    }
    match kafka.alter_topic_config(topic, key, value, deadline).await {
        Ok(()) => Ok(format!(
            "{change} (was {})",
            previous.unwrap_or("its default")
        )),
        Err(error) => refuse(
            Status::Fail,
            "remediation.failed",
            format!("{change} failed: {}", reason(error)),
            "Read the broker's answer above; check the value and the client's ACLs.",
        ),
    }
}
