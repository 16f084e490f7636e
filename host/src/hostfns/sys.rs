//! `sys`: the vital signs of the machine `triage` runs on (sysinfo), for checks run on a
//! broker host. Process command lines are redacted ([`crate::secrets`]): a JVM's
//! `-Dssl.keystore.password=...` must not reach a plugin.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use sysinfo::{Disks, Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use super::{StepState, before, blocking, truncate};
use crate::caps::{FileDenied, Space};
use crate::secrets::redact_command_line;
use crate::wit::HostError;
use crate::wit::triage::plugin::sys::{Cpu, DiskUsage, Host, Load, Memory, Process};

/// Most processes returned by one call.
const MAX_PROCESSES: usize = 200;

/// Bytes kept of one (redacted) command line: a JVM's runs to kilobytes, and 200 of them must
/// not flood the plugin.
const MAX_COMMAND_BYTES: usize = 4096;

impl Host for StepState {
    async fn cpu_stats(&mut self) -> Result<Cpu, HostError> {
        self.env.grant.check_sys().map_err(HostError::Denied)?;
        before(
            self.deadline(),
            blocking(|| {
                let mut system = system()?;
                // CPU usage is a difference between two samples.
                system.refresh_cpu_usage();
                std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
                system.refresh_cpu_usage();
                Ok(Cpu {
                    cores: system.cpus().len() as u32,
                    usage_percent: system.global_cpu_usage(),
                })
            }),
        )
        .await
    }

    async fn memory_stats(&mut self) -> Result<Memory, HostError> {
        self.env.grant.check_sys().map_err(HostError::Denied)?;
        before(
            self.deadline(),
            blocking(|| {
                let mut system = system()?;
                system.refresh_memory();
                Ok(Memory {
                    total_bytes: system.total_memory(),
                    available_bytes: system.available_memory(),
                    swap_total_bytes: system.total_swap(),
                    swap_used_bytes: system.used_swap(),
                })
            }),
        )
        .await
    }

    async fn load_average(&mut self) -> Result<Load, HostError> {
        self.env.grant.check_sys().map_err(HostError::Denied)?;
        let load = System::load_average()
            .map_err(|e| HostError::Unavailable(format!("load average: {e}")))?;
        Ok(Load {
            one: load.one,
            five: load.five,
            fifteen: load.fifteen,
        })
    }

    async fn disk_usage_of(&mut self, path: String) -> Result<DiskUsage, HostError> {
        self.env.grant.check_sys().map_err(HostError::Denied)?;
        // Whether a path exists and which disk holds it is an answer about that path: only
        // for paths the step may read, else any step with `sys` had an existence oracle.
        let granted = self
            .env
            .grant
            .check_read(&path)
            .map_err(|refused| match refused {
                FileDenied::Denied(why) => HostError::Denied(format!(
                    "the disk usage of a path needs a files grant: {why}"
                )),
                FileDenied::Unavailable(why) => HostError::Unavailable(why),
                FileDenied::Invalid(why) => HostError::Invalid(why),
                FileDenied::TimedOut => HostError::Timeout,
            })?;
        before(
            self.deadline(),
            blocking(move || {
                let space = granted.space().map_err(|refused| match refused {
                    FileDenied::Denied(why) => HostError::Denied(why),
                    FileDenied::TimedOut => HostError::Timeout,
                    FileDenied::Unavailable(why) | FileDenied::Invalid(why) => {
                        HostError::Unavailable(why)
                    }
                })?;
                Ok(disk_usage(path, space))
            }),
        )
        .await
    }

    async fn processes_named(&mut self, name: String) -> Result<Vec<Process>, HostError> {
        self.env.grant.check_sys().map_err(HostError::Denied)?;
        before(self.deadline(), blocking(move || processes_matching(&name))).await
    }
}

/// The processes whose name or redacted command line contains `name`, lowest pids first.
fn processes_matching(name: &str) -> Result<Vec<Process>, HostError> {
    let mut system = system()?;
    // sysinfo reads a process's command line only when asked to (`with_cmd`); the plain
    // `refresh_processes` left every `command` empty (issue 7).
    system.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing()
            .with_cmd(UpdateKind::Always)
            .with_cpu()
            .with_memory(),
    );
    let mut matching: Vec<(Pid, String)> = system
        .processes()
        .values()
        .filter_map(|p| {
            let argv: Vec<String> = p
                .cmd()
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let command = redact_command_line(&argv);
            // Match what the plugin may see, never the raw command line: a search for
            // `password=a`, `password=b`, ... would read a secret one character at a time.
            let matches = p.name().to_string_lossy().contains(name) || command.contains(name);
            matches.then_some((p.pid(), command))
        })
        .collect();
    matching.sort_by_key(|(pid, _)| *pid);
    matching.truncate(MAX_PROCESSES);
    if matching.is_empty() {
        return Ok(Vec::new());
    }
    // A process's CPU usage is the difference between two samples (one sample said 0%).
    std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
    let pids: Vec<Pid> = matching.iter().map(|(pid, _)| *pid).collect();
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&pids),
        true,
        ProcessRefreshKind::nothing().with_cpu().with_memory(),
    );
    Ok(matching
        .into_iter()
        .filter_map(|(pid, command)| {
            // Gone between the samples: not running any more.
            let p = system.process(pid)?;
            Some(Process {
                pid: pid.as_u32(),
                name: p.name().to_string_lossy().into_owned(),
                command: truncate(&command, MAX_COMMAND_BYTES).to_owned(),
                cpu_percent: p.cpu_usage(),
                memory_bytes: p.memory(),
            })
        })
        .collect())
}

fn system() -> Result<System, HostError> {
    System::new().map_err(|e| HostError::Unavailable(format!("system statistics: {e}")))
}

/// The usage of the filesystem holding a path (measured beneath its grant), named by its
/// mount point where the mount table lists one (the longest mount of that device), else by
/// the path itself.
fn disk_usage(path: String, space: Space) -> DiskUsage {
    let mount_point = Disks::new_with_refreshed_list()
        .ok()
        .and_then(|disks| {
            disks
                .iter()
                .filter(|d| {
                    std::fs::metadata(d.mount_point()).is_ok_and(|m| m.dev() == space.device)
                })
                .max_by_key(|d| d.mount_point().as_os_str().len())
                .map(|d| display(d.mount_point()))
        })
        .unwrap_or_else(|| path.clone());
    DiskUsage {
        path,
        mount_point,
        total_bytes: space.total_bytes,
        available_bytes: space.available_bytes,
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
