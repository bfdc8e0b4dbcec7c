//! The spread model as plain data: Project → Backend → System, Project → Suite → Task.
//!
//! `load` reads `spread.yaml` (or `.spread.yaml`) and every suite's `*/task.yaml` into these
//! types, rejecting unknown keys and naming file, line and key on error. Nothing here is
//! evaluated: environment values, `path`, `include`/`exclude` stay as written.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::env::Environment;

/// A timeout value meaning "never" (`-1` in YAML).
pub const TIMEOUT_DISABLED: Duration = Duration::MAX;

/// A whole spread project.
#[derive(Debug, Clone)]
pub struct Project {
    /// `project:`.
    pub name: String,
    /// `path:` — where the project lives on the test system (unevaluated).
    pub path: String,
    pub environment: Environment,
    /// `variants:` at project level (a plain list; see `Suite::variants`).
    pub variants: Vec<String>,
    /// In file order.
    pub backends: Vec<Arc<Backend>>,
    /// In file order.
    pub suites: Vec<Arc<Suite>>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub rename: Vec<String>,
    /// `repack:` — a filter script over the project tarball (fd 3 in, fd 4 out).
    pub repack: Option<String>,
    pub scripts: Scripts,
    /// `None` when not set here; `Some(TIMEOUT_DISABLED)` for `-1`.
    pub kill_timeout: Option<Duration>,
    pub warn_timeout: Option<Duration>,
    pub priority: Option<i64>,
    /// The project directory on the host (holds spread.yaml).
    pub root: PathBuf,
    /// The project file that was read (`spread.yaml` or `.spread.yaml`).
    pub file: PathBuf,
}

/// The prepare/restore/debug slots of a level, trimmed as spread trims them; `None` when
/// absent or blank. Tasks use only `prepare`, `restore` and `debug` (plus `Task::execute`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scripts {
    pub prepare: Option<String>,
    pub restore: Option<String>,
    pub debug: Option<String>,
    pub prepare_each: Option<String>,
    pub restore_each: Option<String>,
    pub debug_each: Option<String>,
}

/// One entry of `backends:`.
#[derive(Debug, Clone)]
pub struct Backend {
    /// The map key.
    pub name: String,
    /// `type:`, defaulting to the name (`docker`, `lxd`, `google`, `qemu`, `adhoc`, ...).
    pub kind: String,
    /// In file order.
    pub systems: Vec<Arc<System>>,
    pub environment: Environment,
    pub variants: Vec<String>,
    pub scripts: Scripts,
    pub kill_timeout: Option<Duration>,
    pub warn_timeout: Option<Duration>,
    pub priority: Option<i64>,
    pub manual: bool,
    /// `allocate:` / `discard:` scripts (adhoc backends).
    pub allocate: Option<String>,
    pub discard: Option<String>,
    /// Keys of spread's VM and cloud backends, accepted so any project lists; unused here.
    pub machine: MachineOptions,
}

/// One entry of a backend's `systems:` (a bare name or a one-key map).
#[derive(Debug, Clone)]
pub struct System {
    /// `name-version` shaped, e.g. `debian-12` or `ubuntu-16.04-64`.
    pub name: String,
    /// The backend's name, so a `System` alone can say `backend:system`.
    pub backend: String,
    /// `workers:`, default 1.
    pub workers: usize,
    /// `image:` as written; spread's own backends fall back to the system name.
    pub image: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub environment: Environment,
    pub variants: Vec<String>,
    pub priority: Option<i64>,
    pub manual: bool,
    pub docker: DockerOptions,
    pub machine: MachineOptions,
}

impl System {
    /// `backend:system`, the name spread prints for a machine.
    pub fn label(&self) -> String {
        format!("{}:{}", self.backend, self.name)
    }
}

/// How a docker system's container is created (our extension of spread's format).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerOptions {
    pub privileged: bool,
    /// `cap-add:`, e.g. `[SYS_ADMIN]`.
    pub cap_add: Vec<String>,
    /// `read-only:` — the whole root filesystem.
    pub read_only: bool,
    /// `read-only-paths:`, e.g. `[/etc]`.
    pub read_only_paths: Vec<String>,
    /// `tmpfs:` mount points, e.g. `[/run]`.
    pub tmpfs: Vec<String>,
}

/// Settings of spread's VM/cloud backends (google, linode, qemu, lxd, humbox), carried as
/// written: they are accepted so that every spread project loads and lists, but only a backend
/// of those types would use them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineOptions {
    pub key: Option<String>,
    pub location: Option<String>,
    pub plan: Option<String>,
    pub memory: Option<String>,
    pub storage: Option<String>,
    pub cpu_family: Option<String>,
    pub halt_timeout: Option<Duration>,
    pub kernel: Option<String>,
    pub bios: Option<String>,
    pub secure_boot: bool,
    pub attach_service_account: bool,
    pub flags: Vec<String>,
}

/// One entry of `suites:`.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The map key, always ending in `/`, e.g. `tests/main/`.
    pub dir: String,
    pub summary: String,
    pub environment: Environment,
    pub variants: Vec<String>,
    /// `systems:` / `backends:` as written: plain names replace, `+x` adds, `-x` removes;
    /// names may hold `*` globs.
    pub systems: Vec<String>,
    pub backends: Vec<String>,
    pub scripts: Scripts,
    pub kill_timeout: Option<Duration>,
    pub warn_timeout: Option<Duration>,
    pub priority: Option<i64>,
    pub manual: bool,
    /// Sorted by name.
    pub tasks: Vec<Arc<Task>>,
}

/// One `task.yaml`.
#[derive(Debug, Clone)]
pub struct Task {
    /// The directory name under the suite, e.g. `smoke`.
    pub name: String,
    /// `suite/task`, e.g. `tests/main/smoke` — the name used in job names.
    pub full_name: String,
    /// The task directory on the host.
    pub dir: PathBuf,
    pub summary: String,
    pub details: Option<String>,
    pub environment: Environment,
    pub variants: Vec<String>,
    pub systems: Vec<String>,
    pub backends: Vec<String>,
    pub prepare: Option<String>,
    pub execute: Option<String>,
    pub restore: Option<String>,
    pub debug: Option<String>,
    pub artifacts: Vec<String>,
    /// `samples:`, default 1: the task runs that many times, jobs named `...#N`.
    pub samples: u32,
    pub tags: Vec<String>,
    pub kill_timeout: Option<Duration>,
    pub warn_timeout: Option<Duration>,
    pub priority: Option<i64>,
    pub manual: bool,
}
