//! `sys`: the vital signs of the machine `triage` runs on (sysinfo), for checks run on a
//! broker host. Process command lines are redacted: a JVM's `-Dssl.keystore.password=...`
//! must not reach a plugin.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use sysinfo::{Disks, ProcessesToUpdate, System};

use super::{StepState, before, blocking};
use crate::caps::FileDenied;
use crate::wit::HostError;
use crate::wit::triage::plugin::sys::{Cpu, DiskUsage, Host, Load, Memory, Process};

/// Most processes returned by one call.
const MAX_PROCESSES: usize = 200;

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
                let device = granted.device().map_err(|refused| match refused {
                    FileDenied::Denied(why) => HostError::Denied(why),
                    FileDenied::TimedOut => HostError::Timeout,
                    FileDenied::Unavailable(why) | FileDenied::Invalid(why) => {
                        HostError::Unavailable(why)
                    }
                })?;
                disk_usage(&path, device)
            }),
        )
        .await
    }

    async fn processes_named(&mut self, name: String) -> Result<Vec<Process>, HostError> {
        self.env.grant.check_sys().map_err(HostError::Denied)?;
        before(
            self.deadline(),
            blocking(move || {
                let mut system = system()?;
                system.refresh_processes(ProcessesToUpdate::All, true);
                let mut found: Vec<Process> = system
                    .processes()
                    .values()
                    .filter_map(|p| {
                        let command: Vec<String> = p
                            .cmd()
                            .iter()
                            .map(|a| a.to_string_lossy().into_owned())
                            .collect();
                        let process_name = p.name().to_string_lossy().into_owned();
                        let matches = process_name.contains(&name)
                            || command.iter().any(|a| a.contains(&name));
                        matches.then(|| Process {
                            pid: p.pid().as_u32(),
                            name: process_name,
                            command: redact(&command),
                            cpu_percent: p.cpu_usage(),
                            memory_bytes: p.memory(),
                        })
                    })
                    .collect();
                found.sort_by_key(|p| p.pid);
                found.truncate(MAX_PROCESSES);
                Ok(found)
            }),
        )
        .await
    }
}

fn system() -> Result<System, HostError> {
    System::new().map_err(|e| HostError::Unavailable(format!("system statistics: {e}")))
}

/// The disk holding `device` (the path's, from a stat beneath its grant, so that a symlink
/// swapped in cannot redirect the question): the mount of that device with the longest
/// mount point.
fn disk_usage(path: &str, device: u64) -> Result<DiskUsage, HostError> {
    let disks = Disks::new_with_refreshed_list()
        .map_err(|e| HostError::Unavailable(format!("disks: {e}")))?;
    let disk = disks
        .iter()
        .filter(|d| std::fs::metadata(d.mount_point()).is_ok_and(|m| m.dev() == device))
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .ok_or_else(|| HostError::Unavailable(format!("no mounted disk holds {path}")))?;
    Ok(DiskUsage {
        path: path.to_owned(),
        mount_point: display(disk.mount_point()),
        total_bytes: disk.total_space(),
        available_bytes: disk.available_space(),
    })
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Replace the value of any argument that looks like a credential with `***`.
fn redact(command: &[String]) -> String {
    const SECRET_WORDS: [&str; 5] = ["password", "passwd", "secret", "token", "credential"];
    let is_secret = |key: &str| {
        let key = key.to_ascii_lowercase();
        SECRET_WORDS.iter().any(|w| key.contains(w))
    };
    let mut out = Vec::with_capacity(command.len());
    let mut hide_next = false;
    for arg in command {
        if hide_next {
            out.push("***".to_owned());
            hide_next = false;
        } else if let Some((key, _)) = arg.split_once('=').filter(|(k, _)| is_secret(k)) {
            out.push(format!("{key}=***"));
        } else {
            hide_next = arg.starts_with('-') && is_secret(arg);
            out.push(arg.clone());
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn credentials_are_redacted_in_both_argument_styles() {
        let command: Vec<String> = [
            "java",
            "-Dssl.keystore.password=hunter2",
            "--sasl-token",
            "abc",
            "-Xmx1g",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            redact(&command),
            "java -Dssl.keystore.password=*** --sasl-token *** -Xmx1g"
        );
    }
}
