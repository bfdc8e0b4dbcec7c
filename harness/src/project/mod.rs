//! The spread model as plain data: Project → Backend → System, Project → Suite → Task.
//!
//! `load` reads `spread.yaml` (or `.spread.yaml`) and every suite's `*/task.yaml` into these
//! types, rejecting unknown keys and naming file, line and key on error. Nothing here is
//! evaluated: environment values, `path`, `include`/`exclude` stay as written.

mod convert;
mod error;
mod locate;
mod raw;
pub(crate) mod rules;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::env::Environment;
use convert::Source;
pub use error::LoadError;
use raw::{RawProject, RawTask};

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

/// Finds the project file in `start` or the nearest parent holding one (`spread.yaml`, else
/// `.spread.yaml`, as spread looks), and loads it with all its tasks.
pub fn load(start: &Path) -> Result<Project, LoadError> {
    let mut dir = start;
    loop {
        for name in ["spread.yaml", ".spread.yaml"] {
            let file = dir.join(name);
            if file.is_file() {
                return load_file(&file);
            }
        }
        match dir.parent() {
            Some(parent) => dir = parent,
            None => {
                return Err(LoadError::NotFound {
                    dir: start.to_path_buf(),
                });
            }
        }
    }
}

/// Loads the given project file and, for each suite, every `SUITE/*/task.yaml`.
pub fn load_file(file: &Path) -> Result<Project, LoadError> {
    let text = read(file)?;
    let raw: RawProject = parse(file, &text)?;
    let root = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let src = Source { file, text: &text };
    convert::project(&src, raw, root.clone(), |suite| load_tasks(&root, suite))
}

/// Reads one `task.yaml` as a task of suite `suite_dir` (e.g. `tests/main/`); the task's name
/// is its directory's.
pub fn load_task(file: &Path, suite_dir: &str) -> Result<Task, LoadError> {
    let text = read(file)?;
    let raw: RawTask = parse(file, &text)?;
    let dir = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    convert::task(&Source { file, text: &text }, suite_dir, dir, raw)
}

/// The suite's tasks: each direct subdirectory holding a task.yaml (as spread looks), by name.
fn load_tasks(root: &Path, suite: &Suite) -> Result<Vec<Arc<Task>>, LoadError> {
    let suite_path = root.join(suite.dir.trim_end_matches('/'));
    let entries = fs::read_dir(&suite_path).map_err(|source| LoadError::Read {
        path: suite_path.clone(),
        source,
    })?;
    let mut task_files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Read {
            path: suite_path.clone(),
            source,
        })?;
        let file = entry.path().join("task.yaml");
        if file.is_file() {
            task_files.push(file);
        }
    }
    task_files.sort();
    task_files
        .iter()
        .map(|file| load_task(file, &suite.dir).map(Arc::new))
        .collect()
}

fn read(path: &Path) -> Result<String, LoadError> {
    fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn parse<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T, LoadError> {
    serde_norway::from_str(text).map_err(|source| LoadError::Syntax {
        file: file.to_path_buf(),
        source,
    })
}

#[cfg(test)]
pub(crate) mod tests;
