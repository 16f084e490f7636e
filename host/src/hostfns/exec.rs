//! `exec`: run a granted command line, for remediation steps. No shell: the program and its
//! arguments must equal a granted command word for word; the environment is cleared but for
//! `PATH`; output is bounded; the step's deadline kills it.

use std::process::Stdio;
use std::time::Duration;

use super::{StepState, before};
use crate::wit::HostError;
use crate::wit::triage::plugin::exec::{ExecResult, Host};

/// Bytes kept of each output stream.
const MAX_OUTPUT: usize = 64 * 1024;
/// Longest a command may run, whatever the plugin asks.
const MAX_TIMEOUT: Duration = Duration::from_secs(300);

impl Host for StepState {
    async fn run(
        &mut self,
        command: Vec<String>,
        timeout_ms: u32,
    ) -> Result<ExecResult, HostError> {
        self.env
            .grant
            .check_exec(&command)
            .map_err(HostError::Denied)?;
        if !self
            .env
            .actions
            .record(format!("run `{}`", command.join(" ")))
        {
            return Ok(ExecResult {
                applied: false,
                exit_code: None,
                stdout: String::new(),
                stderr: String::new(),
            });
        }
        let timeout =
            Duration::from_millis(timeout_ms.into()).clamp(Duration::from_secs(1), MAX_TIMEOUT);
        let mut child = tokio::process::Command::new(&command[0]);
        child
            .args(&command[1..])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        before(self.deadline(), async move {
            let output = tokio::time::timeout(timeout, child.output())
                .await
                .map_err(|_| HostError::Timeout)?
                .map_err(|e| HostError::Unavailable(format!("cannot run `{}`: {e}", command[0])))?;
            let text = |bytes: &[u8]| {
                String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_OUTPUT)]).into_owned()
            };
            Ok(ExecResult {
                applied: true,
                exit_code: output.status.code(),
                stdout: text(&output.stdout),
                stderr: text(&output.stderr),
            })
        })
        .await
    }
}
