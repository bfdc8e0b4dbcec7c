//! Expansion, pure: a loaded `Project` becomes the sorted list of `Job`s spread would build —
//! one per (backend, system, task, variant, sample) left after the systems/backends/variants
//! add/remove/replace rules of every level.

mod glob;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::env::{self, Environment};
use crate::project::rules::{is_delta, undelta};
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
    #[error("{context} specifies {what} in delta format (+x/-x) where there is nothing to edit")]
    DeltaAtTop { context: String, what: &'static str },
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
    let project_backends: Vec<String> = project.backends.iter().map(|b| b.name.clone()).collect();
    let project_variants = Level::new("project", variants_of(&project.environment, ""));
    let mut jobs = Vec::new();
    for suite in &project.suites {
        let suite_context = format!("suite {}", suite.dir);
        let suite_variants = variants_of(&suite.environment, "+");
        for task in &suite.tasks {
            let task_context = format!("task {}", task.full_name);
            let task_variants = variants_of(&task.environment, "+");
            let backends = resolve(
                "backends",
                &[
                    Level::new("project", project_backends.clone()),
                    Level::new(&suite_context, suite.backends.clone()),
                    Level::new(&task_context, task.backends.clone()),
                ],
            )?;
            for backend_name in backends {
                let Some(backend) = project.backends.iter().find(|b| b.name == backend_name) else {
                    if is_pattern(&backend_name) {
                        continue;
                    }
                    return Err(ExpandError::UnknownBackend {
                        task: task.full_name.clone(),
                        backend: backend_name,
                    });
                };
                let backend_context = format!("backend {}", backend.name);
                let systems = resolve(
                    "systems",
                    &[
                        Level::new(
                            &backend_context,
                            backend.systems.iter().map(|s| s.name.clone()).collect(),
                        ),
                        Level::new(&suite_context, suite.systems.clone()),
                        Level::new(&task_context, task.systems.clone()),
                    ],
                )?;
                for system_name in systems {
                    // Names from suite/task lists that this backend lacks are for other backends.
                    let Some(system) = backend.systems.iter().find(|s| s.name == system_name)
                    else {
                        continue;
                    };
                    let system_context = format!("system {}", system.label());
                    let variants = resolve(
                        "variants",
                        &[
                            project_variants.clone(),
                            Level::new("project", project.variants.clone()),
                            Level::new(&backend_context, variants_of(&backend.environment, "+")),
                            Level::new(&backend_context, backend.variants.clone()),
                            Level::new(&system_context, variants_of(&system.environment, "+")),
                            Level::new(&system_context, system.variants.clone()),
                            Level::new(&suite_context, suite_variants.clone()),
                            Level::new(&suite_context, suite.variants.clone()),
                            Level::new(&task_context, task_variants.clone()),
                            Level::new(&task_context, task.variants.clone()),
                        ],
                    )?;
                    let unnamed_only = variants.len() == 1;
                    for variant in variants {
                        if variant.is_empty() && !unnamed_only {
                            continue;
                        }
                        let variant = (!variant.is_empty()).then_some(variant);
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
        }
    }
    jobs.sort_by_cached_key(|job| (job.name_without_sample(), job.sample));
    Ok(jobs)
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

fn is_pattern(name: &str) -> bool {
    name.contains(['*', '?', '[', '\\'])
}

/// One level's `systems`/`backends`/`variants` list and who wrote it.
#[derive(Clone)]
struct Level<'a> {
    context: &'a str,
    items: Vec<String>,
}

impl<'a> Level<'a> {
    fn new(context: &'a str, items: Vec<String>) -> Self {
        Self { context, items }
    }
}

/// spread's list arithmetic over the levels, top first: at each level a plain list replaces
/// the result, `+x` adds and `-x` removes; each entry is a glob matched against every name
/// written at this level or above (so a plain entry may bring back a name removed above).
fn resolve(what: &'static str, levels: &[Level]) -> Result<BTreeSet<String>, ExpandError> {
    let mut result = BTreeSet::new();
    for (depth, level) in levels.iter().enumerate() {
        let deltas = level.items.iter().filter(|item| is_delta(item)).count();
        if deltas > 0 && depth == 0 {
            return Err(ExpandError::DeltaAtTop {
                context: level.context.to_string(),
                what,
            });
        }
        if deltas > 0 && deltas < level.items.len() {
            return Err(ExpandError::MixedList {
                context: level.context.to_string(),
                what,
            });
        }
        for (index, item) in level.items.iter().enumerate() {
            let pattern = undelta(item);
            let matched = matching(what, level.context, pattern, &levels[..=depth])?;
            if item.starts_with('-') {
                for name in matched {
                    result.remove(name);
                }
                continue;
            }
            if index == 0 && !item.starts_with('+') {
                result.clear();
            }
            result.extend(matched.into_iter().map(str::to_string));
        }
    }
    Ok(result)
}

fn matching<'l>(
    what: &'static str,
    context: &str,
    pattern: &str,
    levels: &'l [Level],
) -> Result<Vec<&'l str>, ExpandError> {
    let mut matched = Vec::new();
    for name in levels
        .iter()
        .flat_map(|level| level.items.iter())
        .map(|item| undelta(item))
    {
        let hit = glob::matches(pattern, name).map_err(|()| ExpandError::BadPattern {
            context: context.to_string(),
            what,
            pattern: pattern.to_string(),
        })?;
        if hit {
            matched.push(name);
        }
    }
    Ok(matched)
}
