//! What happens during a run, as messages from the runner to reporters.
//!
//! The runner decides; reporters only render these events (progress lines, the progress bar,
//! the summary, JUnit). Every event carries what a reporter needs, already worded where the
//! wording is spread's.

use std::time::Duration;

/// A step of the run on one machine, named as spread names it in progress lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Allocating,
    Sending,
    Preparing,
    Executing,
    Restoring,
    Debugging,
    Rebooting,
    Fetching,
    Discarding,
    Keeping,
}

impl Verb {
    /// The progress-line form: "Preparing", "Sending project content to", ...
    pub fn progressive(self) -> &'static str {
        match self {
            Verb::Allocating => "Allocating",
            Verb::Sending => "Sending project content to",
            Verb::Preparing => "Preparing",
            Verb::Executing => "Executing",
            Verb::Restoring => "Restoring",
            Verb::Debugging => "Debugging",
            Verb::Rebooting => "Rebooting",
            Verb::Fetching => "Fetching artifacts of",
            Verb::Discarding => "Discarding",
            Verb::Keeping => "Keeping for reuse",
        }
    }

    /// The error-line form: "Error preparing ...".
    pub fn gerund(self) -> &'static str {
        match self {
            Verb::Allocating => "allocating",
            Verb::Sending => "sending project content to",
            Verb::Preparing => "preparing",
            Verb::Executing => "executing",
            Verb::Restoring => "restoring",
            Verb::Debugging => "debugging",
            Verb::Rebooting => "rebooting",
            Verb::Fetching => "fetching artifacts of",
            Verb::Discarding => "discarding",
            Verb::Keeping => "keeping",
        }
    }
}

/// How one job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Passed,
    /// Execute failed; `output` is what the script printed (and its error).
    Failed {
        output: String,
    },
    /// The job did not run to the end: its prepare failed, its system broke, or the run stopped.
    Aborted {
        reason: String,
    },
}

/// One thing that happened.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        seed: u64,
        jobs: usize,
        systems: usize,
    },
    /// A step began on `context` (`backend:system`, a suite or a job name) on `machine`.
    Step {
        verb: Verb,
        context: String,
        machine: String,
        position: Option<(usize, usize)>,
    },
    /// A machine is ready.
    Allocated {
        system: String,
        machine: String,
        elapsed: Duration,
    },
    /// A step failed; `detail` is the script's output or the error.
    StepFailed {
        verb: Verb,
        context: String,
        machine: String,
        detail: String,
    },
    /// Output of a debug script run after a failure.
    DebugOutput {
        context: String,
        machine: String,
        output: String,
    },
    /// Output of a successful script (shown with -v).
    ScriptOutput {
        verb: Verb,
        context: String,
        machine: String,
        output: String,
    },
    /// The full script sent (shown with -vv).
    ScriptText {
        context: String,
        machine: String,
        script: String,
    },
    /// A script runs past its warn-timeout.
    RunningLate {
        context: String,
        machine: String,
        elapsed: Duration,
        /// The last lines of output, `None` when unchanged since the previous warning.
        output: Option<String>,
    },
    JobFinished {
        job: String,
        system: String,
        outcome: JobOutcome,
        elapsed: Duration,
    },
    /// A free-form notice (interrupts, reuse records, cleanup).
    Notice(String),
    Finished(super::Summary),
}

/// Receives events. Implementations render; they never influence the run.
pub trait Reporter: Send + Sync {
    fn event(&self, event: &Event);

    /// Called around interactive shells, so that nothing draws over them.
    fn pause(&self) {}
    fn resume(&self) {}
}
