//! Builders on the WIT result types, so a check reads as a sentence:
//! `Report::new("2 of 3 brokers reachable").finding(Finding::fail(..).evidence(..).fix(..))`.

use crate::{Evidence, Finding, HostError, Param, PluginInfo, Report, RunError, Severity, Status};

impl PluginInfo {
    /// A plugin called `name`; the version defaults to the plugin crate's own.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        PluginInfo {
            name: name.into(),
            version: String::new(),
            description: description.into(),
            params: Vec::new(),
            needs: Vec::new(),
        }
    }

    /// Declare a parameter of the step's `with` map. Undeclared keys are refused by
    /// `triage validate`, so a typo in a playbook is caught before the run.
    pub fn param(mut self, name: &str, help: &str, required: bool) -> Self {
        self.params.push(Param {
            name: name.to_owned(),
            help: help.to_owned(),
            required,
        });
        self
    }

    /// Declare a capability the plugin uses (`net`, `files`, `sys`, `kafka`); shown by
    /// `triage explain` next to what the step actually grants.
    pub fn needs(mut self, capability: &str) -> Self {
        self.needs.push(capability.to_owned());
        self
    }

    /// Override the version (defaults to the plugin crate's `CARGO_PKG_VERSION`).
    pub fn version(mut self, version: &str) -> Self {
        self.version = version.to_owned();
        self
    }
}

impl Report {
    /// A passing report; adding a finding raises the status to the finding's severity.
    ///
    /// ```
    /// use triage_sdk::{Finding, Report, Status};
    /// let report = Report::new("1 broker unreachable").finding(Finding::fail("x", "down"));
    /// assert_eq!(report.status, Status::Fail);
    /// ```
    pub fn new(summary: impl Into<String>) -> Self {
        Report {
            status: Status::Pass,
            summary: summary.into(),
            findings: Vec::new(),
            facts: Vec::new(),
        }
    }

    /// Add a finding; the report's status becomes at least as bad as the finding.
    pub fn finding(mut self, finding: Finding) -> Self {
        self.push(finding);
        self
    }

    /// Add a finding in place (for loops).
    ///
    /// A warning or failure raises the status; an `info` finding leaves it as it is. (It
    /// used to imply `pass`, so a report set to `skipped` — "could not check" — turned into a
    /// PASS as soon as it noted why it could not check: issue 7, "ZooKeeper was not checked"
    /// reported as passed.)
    ///
    /// ```
    /// use triage_sdk::{Finding, Report, Status};
    /// let report = Report::new("could not check")
    ///     .status(Status::Skipped)
    ///     .finding(Finding::info("x.unchecked", "no connect string"));
    /// assert_eq!(report.status, Status::Skipped);
    /// ```
    pub fn push(&mut self, finding: Finding) {
        let implied = match finding.severity {
            Severity::Info => None,
            Severity::Warn => Some(Status::Warn),
            Severity::Fail => Some(Status::Fail),
        };
        if let Some(implied) = implied
            && status_rank(implied) > status_rank(self.status)
        {
            self.status = implied;
        }
        self.findings.push(finding);
    }

    /// Record a fact later steps can test in `when: Fact(...)`.
    pub fn fact(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.facts.push((key.into(), value.to_string()));
        self
    }

    /// Record a fact in place (for loops).
    pub fn push_fact(&mut self, key: impl Into<String>, value: impl ToString) {
        self.facts.push((key.into(), value.to_string()));
    }

    /// Set the status explicitly (e.g. `Error` when the check could not judge).
    pub fn status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    /// Replace the summary line.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = summary.into();
        self
    }
}

/// Order of badness used when findings raise a report's status.
fn status_rank(status: Status) -> u8 {
    match status {
        Status::Skipped => 0,
        Status::Pass => 1,
        Status::Warn => 2,
        Status::Fail => 3,
        Status::Error => 4,
    }
}

impl Finding {
    /// A finding of the given severity.
    pub fn new(severity: Severity, id: impl Into<String>, title: impl Into<String>) -> Self {
        Finding {
            id: id.into(),
            cause: None,
            severity,
            title: title.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    /// Broken: explains lost or stuck events.
    pub fn fail(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self::new(Severity::Fail, id, title)
    }

    /// Degraded or risky.
    pub fn warn(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self::new(Severity::Warn, id, title)
    }

    /// Worth knowing.
    pub fn info(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self::new(Severity::Info, id, title)
    }

    /// The cause key this finding supports (see [`crate::cause`]).
    pub fn cause(mut self, cause: &str) -> Self {
        self.cause = Some(cause.to_owned());
        self
    }

    /// Add evidence: where it was observed and what was seen.
    ///
    /// ```
    /// use triage_sdk::Finding;
    /// let f = Finding::fail("net.refused", "Connection refused")
    ///     .evidence("net.tcp-connect", "127.0.0.1:9092: Connection refused (os error 111)")
    ///     .fix("Start the broker or open port 9092.");
    /// assert_eq!(f.evidence.len(), 1);
    /// ```
    pub fn evidence(mut self, source: impl Into<String>, excerpt: impl IntoEvidence) -> Self {
        self.evidence.push(Evidence {
            source: source.into(),
            excerpt: excerpt.into_excerpt(),
        });
        self
    }

    /// What the operator should do.
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// Anything that can be quoted as evidence.
pub trait IntoEvidence {
    /// The text quoted in the report.
    fn into_excerpt(self) -> String;
}

impl<T: ToString> IntoEvidence for T {
    fn into_excerpt(self) -> String {
        self.to_string()
    }
}

impl RunError {
    /// The check gave up; `reason` says why.
    pub fn failed(reason: impl Into<String>) -> Self {
        RunError::Failed(reason.into())
    }
}

/// Lets `?` turn an unexpected host error into a failed run. Checks that can judge the error
/// (a denied or unreachable target is usually a finding) should match on it instead.
impl From<HostError> for RunError {
    fn from(error: HostError) -> Self {
        RunError::Failed(format!("host call failed: {}", error.reason()))
    }
}

impl HostError {
    /// The error in an operator's words (the generated `Display` is a debug dump).
    ///
    /// ```
    /// use triage_sdk::HostError;
    /// assert_eq!(HostError::Timeout.reason(), "timed out");
    /// ```
    pub fn reason(&self) -> String {
        match self {
            HostError::Denied(why) => format!("denied: {why}"),
            HostError::Timeout => "timed out".to_owned(),
            HostError::Unavailable(why) => format!("unavailable: {why}"),
            HostError::Invalid(why) => format!("invalid request: {why}"),
        }
    }
}
