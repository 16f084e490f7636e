//! Playbook errors as miette diagnostics: every problem points at file:line:column and
//! quotes the offending text.

use miette::{Diagnostic, NamedSource, SourceSpan};

/// One problem in a playbook.
#[derive(Debug, Clone, Diagnostic, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    /// What is wrong.
    pub message: String,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    help: Option<String>,
}

impl Problem {
    /// A problem at `span`.
    pub fn new(message: impl Into<String>, span: SourceSpan, label: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            span,
            label: label.into(),
            help: None,
        }
    }

    /// Add a hint on how to fix it.
    pub fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Where it is.
    pub fn span(&self) -> SourceSpan {
        self.span
    }
}

/// All problems found in one playbook file.
#[derive(Debug, Diagnostic, thiserror::Error)]
#[error("{} has {} problem{}; nothing was run", .source_code.name(), .problems.len(), if .problems.len() == 1 { "" } else { "s" })]
pub struct PlaybookError {
    #[source_code]
    source_code: NamedSource<String>,
    #[related]
    problems: Vec<Problem>,
}

impl PlaybookError {
    /// Problems in `source_code`.
    pub fn new(source_code: NamedSource<String>, problems: Vec<Problem>) -> PlaybookError {
        PlaybookError {
            source_code,
            problems,
        }
    }

    /// The problems, in source order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}
