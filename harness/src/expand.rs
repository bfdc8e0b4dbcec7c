//! Expansion, pure: a loaded `Project` becomes the sorted list of `Job`s spread would build —
//! one per (backend, system, task, variant, sample) left after the systems/backends/variants
//! add/remove/replace rules of every level.

mod glob;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::env::{self, Environment};
use crate::project::rules::{self, undelta};
use crate::project::{Backend, Project, Suite, System, Task};

/// spread's default `warn-timeout`.
pub const DEFAULT_WARN_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// spread's default `kill-timeout`.
pub const DEFAULT_KILL_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// One runnable unit: a task on a system in one variant.
#[derive(Debug, Clone)]
pub struct Job {
    pub project: Arc<Project>,
    pub backend: Arc<Backend>,
    pub system: Arc<System>,
    pub suite: Arc<Suite>,
    pub task: Arc<Task>,
    /// `None` when the task has no variants.
    pub variant: Option<String>,
    /// 1-based; only shown in the name when the task has `samples: N` with N > 1.
    pub sample: u32,
    /// The first priority set among task, suite, system, backend, project; else 0.
    pub priority: i64,
    /// First set among task, suite, backend, project; else spread's default.
    /// `project::TIMEOUT_DISABLED` means never.
    pub kill_timeout: Duration,
    pub warn_timeout: Duration,
}

impl Job {
    /// `backend:system:suite/task[:variant][#sample]`.
    pub fn name(&self) -> String {
        let mut name = self.name_without_sample();
        if self.task.samples > 1 {
            name.push('#');
            name.push_str(&self.sample.to_string());
        }
        name
    }

    /// The name without `#sample`, the key jobs sort by before the sample number.
    fn name_without_sample(&self) -> String {
        let mut name = format!(
            "{}:{}:{}",
            self.backend.name, self.system.name, self.task.full_name
        );
        if let Some(variant) = &self.variant {
            name.push(':');
            name.push_str(variant);
        }
        name
    }

    /// The full environment for this job's variant, in spread's order, unevaluated
    /// (project → backend → system → suite → task; the runner adds the SPREAD_* variables).
    pub fn environment(&self) -> Vec<(String, String)> {
        env::cascade(
            [
                &self.project.environment,
                &self.backend.environment,
                &self.system.environment,
                &self.suite.environment,
                &self.task.environment,
            ],
            self.variant.as_deref(),
        )
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExpandError {
    /// A list mixing plain and `+x`/`-x` entries (the loader refuses these in files; this
    /// catches projects built in code).
    #[error("{context} specifies {what} both in delta (+x/-x) and plain format")]
    MixedList { context: String, what: &'static str },
    #[error("{context} has a malformed {what} pattern {pattern:?}")]
    BadPattern {
        context: String,
        what: &'static str,
        pattern: String,
    },
    #[error("task {task} selects backend {backend:?}, which the project does not define")]
    UnknownBackend { task: String, backend: String },
}

/// Every job of the project, manual ones included, sorted by name (samples numerically).
pub fn expand(project: &Arc<Project>) -> Result<Vec<Job>, ExpandError> {
    let lists = ProjectLists::new(project);
    let mut jobs = Vec::new();
    for suite in &project.suites {
        let suite_variants = variants_of(&suite.environment, "+");
        for task in &suite.tasks {
            let task_variants = variants_of(&task.environment, "+");
            let task_lists = TaskLists {
                suite,
                task,
                suite_variants: &suite_variants,
                task_variants: &task_variants,
            };
            expand_task(project, &lists, &task_lists, &mut jobs)?;
        }
    }
    jobs.sort_by_cached_key(|job| (job.name_without_sample(), job.sample));
    Ok(jobs)
}

/// The names and environment-derived variants of the project's own levels, computed once.
struct ProjectLists {
    backend_names: Vec<String>,
    project_variants: Vec<String>,
    backends: Vec<BackendLists>,
}

struct BackendLists {
    system_names: Vec<String>,
    env_variants: Vec<String>,
    system_env_variants: Vec<Vec<String>>,
}

impl ProjectLists {
    fn new(project: &Project) -> Self {
        let backends = project
            .backends
            .iter()
            .map(|backend| BackendLists {
                system_names: backend.systems.iter().map(|s| s.name.clone()).collect(),
                env_variants: variants_of(&backend.environment, "+"),
                system_env_variants: backend
                    .systems
                    .iter()
                    .map(|system| variants_of(&system.environment, "+"))
                    .collect(),
            })
            .collect();
        Self {
            backend_names: project.backends.iter().map(|b| b.name.clone()).collect(),
            project_variants: variants_of(&project.environment, ""),
            backends,
        }
    }
}

/// A task with its suite and the variants their environments name.
struct TaskLists<'a> {
    suite: &'a Arc<Suite>,
    task: &'a Arc<Task>,
    suite_variants: &'a [String],
    task_variants: &'a [String],
}

fn expand_task(
    project: &Arc<Project>,
    lists: &ProjectLists,
    at: &TaskLists,
    jobs: &mut Vec<Job>,
) -> Result<(), ExpandError> {
    let (suite, task) = (at.suite, at.task);
    let backends = resolve(
        "backends",
        &[
            Level::new(Origin::Project, &lists.backend_names),
            Level::new(Origin::Suite(&suite.dir), &suite.backends),
            Level::new(Origin::Task(&task.full_name), &task.backends),
        ],
    )?;
    for backend_name in backends {
        let Some(index) = project.backends.iter().position(|b| b.name == backend_name) else {
            if glob::is_pattern(backend_name) {
                continue;
            }
            return Err(ExpandError::UnknownBackend {
                task: task.full_name.clone(),
                backend: backend_name.to_string(),
            });
        };
        let backend = &project.backends[index];
        let backend_lists = &lists.backends[index];
        let systems = resolve(
            "systems",
            &[
                Level::new(Origin::Backend(&backend.name), &backend_lists.system_names),
                Level::new(Origin::Suite(&suite.dir), &suite.systems),
                Level::new(Origin::Task(&task.full_name), &task.systems),
            ],
        )?;
        for system_name in systems {
            // Names from suite/task lists that this backend lacks are for other backends.
            let Some(system_index) = backend.systems.iter().position(|s| s.name == system_name)
            else {
                continue;
            };
            let system = &backend.systems[system_index];
            let backend_origin = Origin::Backend(&backend.name);
            let system_origin = Origin::System(&backend.name, &system.name);
            let variants = resolve(
                "variants",
                &[
                    Level::new(Origin::Project, &lists.project_variants),
                    Level::new(Origin::Project, &project.variants),
                    Level::new(backend_origin, &backend_lists.env_variants),
                    Level::new(backend_origin, &backend.variants),
                    Level::new(
                        system_origin,
                        &backend_lists.system_env_variants[system_index],
                    ),
                    Level::new(system_origin, &system.variants),
                    Level::new(Origin::Suite(&suite.dir), at.suite_variants),
                    Level::new(Origin::Suite(&suite.dir), &suite.variants),
                    Level::new(Origin::Task(&task.full_name), at.task_variants),
                    Level::new(Origin::Task(&task.full_name), &task.variants),
                ],
            )?;
            let unnamed_only = variants.len() == 1;
            for variant in variants {
                if variant.is_empty() && !unnamed_only {
                    continue;
                }
                let variant = (!variant.is_empty()).then(|| variant.to_string());
                for sample in 1..=task.samples {
                    jobs.push(job(
                        project,
                        backend,
                        system,
                        suite,
                        task,
                        variant.clone(),
                        sample,
                    ));
                }
            }
        }
    }
    Ok(())
}

fn job(
    project: &Arc<Project>,
    backend: &Arc<Backend>,
    system: &Arc<System>,
    suite: &Arc<Suite>,
    task: &Arc<Task>,
    variant: Option<String>,
    sample: u32,
) -> Job {
    let priority = [
        task.priority,
        suite.priority,
        system.priority,
        backend.priority,
        project.priority,
    ]
    .into_iter()
    .flatten()
    .next()
    .unwrap_or(0);
    let timeouts = |pick: fn(&dyn HasTimeouts) -> Option<Duration>| {
        [
            pick(&**task),
            pick(&**suite),
            pick(&**backend),
            pick(&**project),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    Job {
        project: project.clone(),
        backend: backend.clone(),
        system: system.clone(),
        suite: suite.clone(),
        task: task.clone(),
        variant,
        sample,
        priority,
        kill_timeout: timeouts(|level| level.kill()).unwrap_or(DEFAULT_KILL_TIMEOUT),
        warn_timeout: timeouts(|level| level.warn()).unwrap_or(DEFAULT_WARN_TIMEOUT),
    }
}

/// The levels that may set timeouts (task, suite, backend, project; not systems, as in spread).
trait HasTimeouts {
    fn kill(&self) -> Option<Duration>;
    fn warn(&self) -> Option<Duration>;
}

macro_rules! has_timeouts {
    ($($level:ty),*) => {$(
        impl HasTimeouts for $level {
            fn kill(&self) -> Option<Duration> { self.kill_timeout }
            fn warn(&self) -> Option<Duration> { self.warn_timeout }
        }
    )*};
}
has_timeouts!(Task, Suite, Backend, Project);

/// The variants named by `VAR/a,b` keys of one environment, sorted, each with `prefix`
/// (`+` below the project level). The project level with none yields `[""]`: the unnamed
/// variant, dropped again once any named one appears.
fn variants_of(environment: &Environment, prefix: &str) -> Vec<String> {
    let names: BTreeSet<&str> = environment.variants().collect();
    if names.is_empty() && prefix.is_empty() {
        return vec![String::new()];
    }
    names
        .into_iter()
        .map(|name| format!("{prefix}{name}"))
        .collect()
}

/// Who wrote a list, for error messages.
#[derive(Clone, Copy, Debug)]
enum Origin<'a> {
    Project,
    Backend(&'a str),
    System(&'a str, &'a str),
    Suite(&'a str),
    Task(&'a str),
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Project => f.write_str("project"),
            Origin::Backend(name) => write!(f, "backend {name}"),
            Origin::System(backend, name) => write!(f, "system {backend}:{name}"),
            Origin::Suite(dir) => write!(f, "suite {dir}"),
            Origin::Task(name) => write!(f, "task {name}"),
        }
    }
}

/// One level's `systems`/`backends`/`variants` list and who wrote it.
struct Level<'a> {
    origin: Origin<'a>,
    items: &'a [String],
}

impl<'a> Level<'a> {
    fn new(origin: Origin<'a>, items: &'a [String]) -> Self {
        Self { origin, items }
    }
}

/// spread's list arithmetic over the levels, top first: at each level a plain list replaces
/// the result, `+x` adds and `-x` removes; each entry is a glob matched against every name
/// written at this level or above (so a plain entry may bring back a name removed above).
fn resolve<'a>(what: &'static str, levels: &[Level<'a>]) -> Result<BTreeSet<&'a str>, ExpandError> {
    let mut result = BTreeSet::new();
    for (depth, level) in levels.iter().enumerate() {
        if rules::check_list_form(level.items).is_err() {
            return Err(ExpandError::MixedList {
                context: level.origin.to_string(),
                what,
            });
        }
        for (index, item) in level.items.iter().enumerate() {
            let matched = matching(what, level.origin, undelta(item), &levels[..=depth])?;
            if item.starts_with('-') {
                for name in matched {
                    result.remove(name);
                }
                continue;
            }
            if index == 0 && !item.starts_with('+') {
                result.clear();
            }
            result.extend(matched);
        }
    }
    Ok(result)
}

/// The names written at `levels` that `pattern` matches. A plain name always matches at least
/// itself (it is written at its own level), so only globs need the scan.
fn matching<'a>(
    what: &'static str,
    origin: Origin,
    pattern: &'a str,
    levels: &[Level<'a>],
) -> Result<Vec<&'a str>, ExpandError> {
    if !glob::is_pattern(pattern) {
        return Ok(vec![pattern]);
    }
    let mut matched = Vec::new();
    for name in levels.iter().flat_map(|level| level.items.iter()) {
        let name = undelta(name);
        let hit = glob::matches(pattern, name).map_err(|()| ExpandError::BadPattern {
            context: origin.to_string(),
            what,
            pattern: pattern.to_string(),
        })?;
        if hit {
            matched.push(name);
        }
    }
    Ok(matched)
}

#[cfg(test)]
mod tests;
