//! Runs one script on one machine: renders it, streams its output, enforces warn-timeout and
//! kill-timeout, follows REBOOT requests, and stops it when the run is interrupted.
//!
//! It reports what happened; what a failure means for the run is the dispatcher's call.

use std::time::{Duration, Instant};

use tokio::time::sleep;

use super::events::{Event, Reporter};
use super::signals::Stop;
use crate::backend::{BackendError, Machine, Output};
use crate::script::{self, Ending, Mode, SpreadVars};

/// spread gives up after this many reboots of one script.
const MAX_REBOOTS: u32 = 10;

/// Everything needed to run one script.
pub struct Script<'a> {
    /// Name shown in messages: `backend:system`, a suite or a job.
    pub context: &'a str,
    pub body: &'a str,
    /// Directory on the machine the script starts in.
    pub dir: &'a str,
    pub vars: &'a SpreadVars,
    /// The job's environment with `$(HOST:...)` already evaluated.
    pub env: &'a [(String, String)],
    pub warn_timeout: Duration,
    pub kill_timeout: Duration,
    /// Whether the first Ctrl-C stops this script (prepare/execute) or lets it finish (restore).
    pub interruptible: bool,
}

/// How a script ended, from the run's point of view.
#[derive(Debug)]
pub enum Finish {
    Succeeded {
        output: String,
    },
    Failed {
        output: String,
    },
    /// FATAL: failed and the machine must not be used again.
    Fatal {
        output: String,
    },
    Interrupted,
}

/// Runs scripts for one machine, tagging every run so it can be killed as a whole.
pub struct Executor<'a, M: Machine> {
    pub machine: &'a M,
    pub reporter: &'a dyn Reporter,
    pub stop: &'a Stop,
    pub verbosity: u8,
    pub run_id: &'a str,
}

impl<M: Machine> Executor<'_, M> {
    pub async fn run(&self, script: &Script<'_>) -> Result<Finish, BackendError> {
        let output = Output::default();
        let mut reboot_key = "0".to_owned();
        for reboot in 0..=MAX_REBOOTS {
            let text = self.render(script, &reboot_key, Mode::Trace);
            let tag = format!("{}-{}", self.run_id, next_tag());
            let status = match self.run_part(script, &text, &tag, &output).await? {
                Some(status) => status,
                None => return Ok(Finish::Interrupted),
            };
            let collected = output.text();
            match script::ending(status, &collected) {
                Ending::Success => return Ok(Finish::Succeeded { output: collected }),
                Ending::Failed(_) => return Ok(Finish::Failed { output: collected }),
                Ending::Error(message) => return Ok(Finish::Failed { output: message }),
                Ending::Fatal(message) => return Ok(Finish::Fatal { output: message }),
                Ending::Reboot(key) => {
                    self.reporter.event(&Event::Step {
                        verb: super::events::Verb::Rebooting,
                        context: script.context.to_owned(),
                        machine: self.machine.label().to_owned(),
                        position: None,
                    });
                    self.machine.reboot().await?;
                    reboot_key = key.unwrap_or_else(|| (reboot + 1).to_string());
                }
            }
        }
        Ok(Finish::Failed {
            output: format!("{}\nrebooted more than {MAX_REBOOTS} times", output.text()),
        })
    }

    /// The bash program of an interactive shell with the script's environment and directory.
    pub fn shell_program(&self, script: &Script<'_>) -> String {
        self.render(script, "0", Mode::Shell)
    }

    fn render(&self, script: &Script<'_>, reboot_key: &str, mode: Mode) -> String {
        let mut env = script.vars.pairs(reboot_key);
        env.extend(script.env.iter().cloned());
        let text = script::render(script.body, script.dir, &env, mode);
        if self.verbosity >= 2 {
            self.reporter.event(&Event::ScriptText {
                context: script.context.to_owned(),
                machine: self.machine.label().to_owned(),
                script: text.clone(),
            });
        }
        text
    }

    /// Runs one part (between reboots). `None` when interrupted.
    async fn run_part(
        &self,
        script: &Script<'_>,
        text: &str,
        tag: &str,
        output: &Output,
    ) -> Result<Option<i64>, BackendError> {
        let started = Instant::now();
        let kill_at = sleep(script.kill_timeout);
        tokio::pin!(kill_at);
        let run = self.machine.run(text, tag, output);
        tokio::pin!(run);
        let mut shown = 0usize;
        loop {
            tokio::select! {
                status = &mut run => return status.map(Some),
                () = &mut kill_at => {
                    self.machine.kill(tag).await?;
                    output.append(b"\n<kill-timeout reached>");
                    let _ = tokio::time::timeout(Duration::from_secs(10), &mut run).await;
                    return Ok(Some(-1));
                }
                () = sleep(script.warn_timeout) => {
                    let current = output.text();
                    let latest = (current.len() != shown).then(|| tail(&current, 10));
                    shown = current.len();
                    self.reporter.event(&Event::RunningLate {
                        context: script.context.to_owned(),
                        machine: self.machine.label().to_owned(),
                        elapsed: started.elapsed(),
                        output: latest,
                    });
                }
                () = self.stop.graceful.cancelled(), if script.interruptible => {
                    self.machine.kill(tag).await?;
                    let _ = tokio::time::timeout(Duration::from_secs(10), &mut run).await;
                    return Ok(None);
                }
                () = self.stop.now.cancelled() => {
                    return Ok(None);
                }
            }
        }
    }
}

fn next_tag() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// The last `lines` lines of `text`, with a note of how many were left out.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    if all.len() <= lines + 3 {
        return all.join("\n");
    }
    format!(
        "(... {} lines above ...)\n{}",
        all.len() - lines,
        all[all.len() - lines..].join("\n")
    )
}
