//! Expansion, pure: a loaded `Project` becomes the sorted list of `Job`s spread would build —
//! one per (backend, system, task, variant, sample) left after the systems/backends/variants
//! add/remove/replace rules of every level.

use std::sync::Arc;
use std::time::Duration;

use crate::env;
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
        let mut name = format!(
            "{}:{}:{}",
            self.backend.name, self.system.name, self.task.full_name
        );
        if let Some(variant) = &self.variant {
            name.push(':');
            name.push_str(variant);
        }
        if self.task.samples > 1 {
            name.push('#');
            name.push_str(&self.sample.to_string());
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
