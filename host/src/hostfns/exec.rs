//! `exec`: granted command lines, for remediation steps.
//!
//! A plugin never runs a command itself. Its `exec.run` is checked against the step's grant
//! (the program and its arguments must equal a granted command line word for word), recorded
//! in the step's [`super::ActionLog`] as a typed [`Action::Exec`], and answered
//! `applied: false`. Once the operator confirms the plan, the runner carries it out with
//! [`run_command`] — the plugin does not run again, so it cannot do anything the plan did not
//! show.
//!
//! [`run_command`] is bounded like every host call: no shell, the environment cleared but for
//! `PATH`, stdin closed; stdout and stderr streamed with only a 64 KiB prefix of each kept
//! (issue 7, item 10: a granted command printing 2 GB once took 2.1 GB of the host's memory);
//! at its timeout or the step's deadline its whole process group is killed, so a script's
//! background children do not outlive it.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use super::{Action, StepState};
use crate::wit::HostError;
use crate::wit::triage::plugin::exec::{ExecResult, Host};

/// Bytes kept of each output stream.
pub const MAX_OUTPUT: usize = 64 * 1024;
/// Longest a command may run, whatever the plugin asks.
const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// Shortest timeout a plugin may ask for: less is not a serious attempt at anything.
const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// After the command exits, how long to keep reading what is still in its pipes. A
/// background child that inherited them may hold them open for ever; its output is not the
/// command's.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);

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
        let timeout = Duration::from_millis(timeout_ms.into()).clamp(MIN_TIMEOUT, MAX_TIMEOUT);
        self.env
            .actions
            .record(Action::Exec {
                argv: command,
                timeout,
            })
            .map_err(HostError::Denied)?;
        Ok(ExecResult {
            applied: false,
            exit_code: None,
            stdout: String::new(),
            stderr: String::new(),
        })
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// How it ended.
    pub status: ExitStatus,
    /// The first [`MAX_OUTPUT`] bytes of its stdout, lossily decoded.
    pub stdout: String,
    /// The first [`MAX_OUTPUT`] bytes of its stderr, lossily decoded.
    pub stderr: String,
    /// Whether either stream was longer than what was kept.
    pub truncated: bool,
}

/// Why a command did not end on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// It could not be started; the operating system's words.
    Spawn(String),
    /// It was still running after `after`; it was killed with its process group.
    TimedOut {
        /// How long it was given.
        after: Duration,
        /// Whether the step's deadline (rather than the command's own timeout) ended it.
        by_step_deadline: bool,
    },
}

/// Run `argv` until it exits, for at most `timeout` and never past `deadline`. The caller
/// has checked that it is granted and confirmed.
pub async fn run_command(
    argv: &[String],
    timeout: Duration,
    deadline: Instant,
) -> Result<CommandOutput, CommandError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| CommandError::Spawn("the command line is empty".into()))?;
    let started = Instant::now();
    let own_end = started + timeout;
    let end = own_end.min(deadline);
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that the group can be killed as one at the deadline.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| CommandError::Spawn(format!("cannot run `{program}`: {e}")))?;
    // Declared after `child`, so dropped before it: the group is killed while the child is
    // not yet reaped, and its id (the group's) cannot have been reused.
    let mut group = GroupKiller::of(child.id());
    let stdout = Prefix::drain(child.stdout.take());
    let stderr = Prefix::drain(child.stderr.take());
    let status = match tokio::time::timeout_at(end, child.wait()).await {
        Ok(Ok(status)) => {
            // Reaped: the id is free again and must not be signalled any more. What its
            // background children do is theirs (a daemon a restart script started, say).
            group.disarm();
            status
        }
        Ok(Err(error)) => {
            return Err(CommandError::Spawn(format!(
                "waiting for `{program}` failed: {error}"
            )));
        }
        Err(_) => {
            group.kill();
            return Err(CommandError::TimedOut {
                after: end.saturating_duration_since(started),
                by_step_deadline: deadline < own_end,
            });
        }
    };
    let (stdout, stdout_cut) = stdout.finish().await;
    let (stderr, stderr_cut) = stderr.finish().await;
    Ok(CommandOutput {
        status,
        stdout,
        stderr,
        truncated: stdout_cut || stderr_cut,
    })
}

/// Kills a process group (`kill(-pgid, SIGKILL)`) when told to or when dropped armed: a
/// cancelled step (the run's deadline, a panic elsewhere) must not leave the command behind.
struct GroupKiller {
    group: Option<rustix::process::Pid>,
}

impl GroupKiller {
    /// The group led by the child `pid` (it was started with `process_group(0)`).
    fn of(pid: Option<u32>) -> GroupKiller {
        GroupKiller {
            group: pid
                .and_then(|pid| i32::try_from(pid).ok())
                .and_then(rustix::process::Pid::from_raw),
        }
    }

    fn kill(&mut self) {
        if let Some(group) = self.group.take() {
            // ESRCH (the group is already gone) is the outcome wanted.
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
    }

    fn disarm(&mut self) {
        self.group = None;
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One output stream, read to its end in the background with only its first
/// [`MAX_OUTPUT`] bytes kept: the command is never blocked on a full pipe, and never held
/// in memory beyond the prefix.
struct Prefix {
    kept: Arc<Mutex<(Vec<u8>, bool)>>,
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl Prefix {
    fn drain(pipe: Option<impl AsyncRead + Unpin + Send + 'static>) -> Prefix {
        let kept = Arc::new(Mutex::new((Vec::new(), false)));
        let reader = pipe.map(|mut pipe| {
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut chunk = vec![0u8; 16 * 1024];
                loop {
                    let read = match pipe.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(read) => read,
                    };
                    let mut kept = kept.lock().expect("output prefix");
                    let room = MAX_OUTPUT - kept.0.len();
                    kept.0.extend_from_slice(&chunk[..read.min(room)]);
                    kept.1 |= read > room;
                }
            })
        });
        Prefix { kept, reader }
    }

    /// The prefix and whether more was written, once the stream ended or
    /// [`DRAIN_AFTER_EXIT`] passed.
    async fn finish(mut self) -> (String, bool) {
        if let Some(reader) = self.reader.take() {
            let abort = reader.abort_handle();
            if tokio::time::timeout(DRAIN_AFTER_EXIT, reader)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        let kept = self.kept.lock().expect("output prefix");
        (String::from_utf8_lossy(&kept.0).into_owned(), kept.1)
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        if let Some(reader) = &self.reader {
            reader.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[tokio::test]
    async fn keeps_a_bounded_prefix_of_a_long_output_and_the_exit_status() {
        let deadline = Instant::now() + Duration::from_secs(20);
        let output = run_command(
            &argv("head -c 1000000 /dev/zero"),
            Duration::from_secs(20),
            deadline,
        )
        .await
        .unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout.len(), MAX_OUTPUT);
        assert!(output.truncated);

        let failed = run_command(&argv("ls /no/such/dir"), Duration::from_secs(5), deadline)
            .await
            .unwrap();
        assert!(!failed.status.success());
        assert!(failed.stderr.contains("/no/such/dir"), "{failed:?}");
        assert!(!failed.truncated);
    }

    #[tokio::test]
    async fn the_earlier_of_timeout_and_deadline_ends_the_command() {
        let started = Instant::now();
        let ended = run_command(
            &argv("sleep 30"),
            Duration::from_secs(1),
            started + Duration::from_secs(10),
        )
        .await
        .unwrap_err();
        assert_eq!(
            ended,
            CommandError::TimedOut {
                after: Duration::from_secs(1),
                by_step_deadline: false
            }
        );
        assert!(started.elapsed() < Duration::from_secs(3));

        let ended = run_command(
            &argv("sleep 30"),
            Duration::from_secs(60),
            Instant::now() + Duration::from_millis(300),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                ended,
                CommandError::TimedOut {
                    by_step_deadline: true,
                    ..
                }
            ),
            "{ended:?}"
        );
        assert!(matches!(
            run_command(
                &argv("/no/such/program"),
                Duration::from_secs(1),
                started + Duration::from_secs(5)
            )
            .await,
            Err(CommandError::Spawn(_))
        ));
    }
}
