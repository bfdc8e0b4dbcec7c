//! Test systems: allocating them, sending the project, running scripts, rebooting, fetching
//! artifacts, interactive shells and discarding.
//!
//! The [`Backend`] and [`Machine`] traits are the seam between the runner, which decides what
//! runs where and when, and the thing that provides systems (`docker` here; a qemu backend would
//! be a sibling module). Backends never decide anything about a run: they execute and report.

pub mod docker;
pub mod pack;

use std::future::Future;
use std::sync::{Arc, Mutex};

/// What a backend needs to allocate one machine for a system.
#[derive(Debug, Clone, Default)]
pub struct MachineRequest {
    /// `backend:system`, for labels and messages.
    pub system: String,
    /// The image (or backend-specific base) the system boots from.
    pub image: String,
    /// Identifies the run that owns the machine (a label on the container).
    pub run_id: String,
    /// Position of the machine among the system's workers, from 1.
    pub worker: usize,
    /// The project's directory on this host, recorded so `-gc` can tell owners apart.
    pub project: String,
    /// Confinement and filesystem options (the docker keys of the system in spread.yaml).
    pub options: crate::project::DockerOptions,
}

/// Failures of a backend operation, with the machine and the operation in the message.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot connect to the Docker engine: {0}")]
    Connect(String),
    #[error("cannot {action} {target}: {reason}")]
    Operation {
        action: &'static str,
        target: String,
        reason: String,
    },
    #[error("cannot use the terminal for a shell: {0}")]
    Terminal(String),
}

impl BackendError {
    pub fn operation(action: &'static str, target: &str, reason: impl ToString) -> Self {
        BackendError::Operation {
            action,
            target: target.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// The combined output of a running script, shared with whoever reports on it (warn-timeout
/// prints what is there so far).
#[derive(Debug, Clone, Default)]
pub struct Output(Arc<Mutex<Vec<u8>>>);

impl Output {
    pub fn append(&self, bytes: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Provides machines for systems.
pub trait Backend: Send + Sync + 'static {
    type Machine: Machine;

    /// Checks that `request` can be allocated (e.g. that its image exists), creating nothing.
    fn validate(
        &self,
        request: &MachineRequest,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Creates and starts a machine; it is labelled so that it can always be found again.
    fn allocate(
        &self,
        request: &MachineRequest,
    ) -> impl Future<Output = Result<Self::Machine, BackendError>> + Send;

    /// Finds a machine kept by an earlier run (`-reuse`).
    fn reattach(
        &self,
        id: &str,
        system: &str,
    ) -> impl Future<Output = Result<Self::Machine, BackendError>> + Send;
}

/// One allocated test system.
pub trait Machine: Send + Sync + 'static {
    /// Stable identifier (the container id), as recorded for `-reuse`.
    fn id(&self) -> &str;

    /// Short human name, shown in progress lines next to the system.
    fn label(&self) -> &str;

    /// Unpacks `tar` (paths relative to `/`) on the machine.
    fn send(&self, tar: bytes::Bytes) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Runs the bash program `script`, appending its combined output to `output`; returns the
    /// exit status. Every process it starts carries `tag`, so that [`Machine::kill`] finds them.
    fn run(
        &self,
        script: &str,
        tag: &str,
        output: &Output,
    ) -> impl Future<Output = Result<i64, BackendError>> + Send;

    /// Kills every process started by the run tagged `tag`, however deep in the process tree.
    fn kill(&self, tag: &str) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Restarts the machine (REBOOT); files outside tmpfs mounts survive.
    fn reboot(&self) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Copies `paths` (relative to `dir`; missing ones are skipped) into the local `dest`.
    fn fetch(
        &self,
        dir: &str,
        paths: &[String],
        dest: &std::path::Path,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Runs `script` (which ends in an interactive bash) on a TTY wired to this terminal.
    fn shell(&self, script: &str) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Destroys the machine.
    fn discard(&self) -> impl Future<Output = Result<(), BackendError>> + Send;
}
