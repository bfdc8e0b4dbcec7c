//! The prepare/restore/debug slots around jobs: which level a slot belongs to (its directory,
//! its name in messages, its timeouts), how a slot ended, and spread's joining of the `-each`
//! scripts with the task's own.

use super::Summary;
use super::plan::Planned;
use crate::expand::Job;

/// How a prepare or restore slot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SlotEnd {
    Passed,
    Failed,
    /// Stopped by Ctrl-C: neither passed nor failed.
    Interrupted,
}

/// Which level a prepare/restore/debug slot belongs to: it sets the directory, the context
/// name and the timeouts.
#[derive(Debug, Clone, Copy)]
pub(super) enum Level {
    Project,
    Backend,
    Suite,
    Job,
}

impl Level {
    pub(super) fn context(self, planned: &Planned) -> String {
        let job = &planned.job;
        match self {
            Level::Project | Level::Backend => job.system.label(),
            Level::Suite => suite_name(planned),
            Level::Job => planned.name.clone(),
        }
    }

    pub(super) fn dir(self, planned: &Planned) -> String {
        let job = &planned.job;
        let root = job.project.path.trim_end_matches('/');
        match self {
            Level::Project | Level::Backend => root.to_owned(),
            Level::Suite => format!("{root}/{}", job.suite.dir.trim_end_matches('/')),
            Level::Job => format!("{root}/{}", job.task.full_name),
        }
    }

    /// spread's rule: the first timeout set from this level outwards, else the default.
    pub(super) fn timeouts(self, job: &Job) -> (std::time::Duration, std::time::Duration) {
        use crate::expand::{DEFAULT_KILL_TIMEOUT, DEFAULT_WARN_TIMEOUT};
        if let Level::Job = self {
            return (job.warn_timeout, job.kill_timeout);
        }
        let levels: [(Option<std::time::Duration>, Option<std::time::Duration>); 3] = [
            (job.suite.warn_timeout, job.suite.kill_timeout),
            (job.backend.warn_timeout, job.backend.kill_timeout),
            (job.project.warn_timeout, job.project.kill_timeout),
        ];
        let from = match self {
            Level::Suite => 0,
            Level::Backend => 1,
            _ => 2,
        };
        let warn = levels[from..]
            .iter()
            .find_map(|l| l.0)
            .unwrap_or(DEFAULT_WARN_TIMEOUT);
        let kill = levels[from..]
            .iter()
            .find_map(|l| l.1)
            .unwrap_or(DEFAULT_KILL_TIMEOUT);
        (warn, kill)
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Failure {
    ProjectPrepare,
    BackendPrepare,
    BackendRestore,
    ProjectRestore,
}

impl Failure {
    pub(super) fn push(self, summary: &mut Summary, system: String) {
        let list = match self {
            Failure::ProjectPrepare => &mut summary.failed_project_prepare,
            Failure::BackendPrepare => &mut summary.failed_backend_prepare,
            Failure::BackendRestore => &mut summary.failed_backend_restore,
            Failure::ProjectRestore => &mut summary.failed_project_restore,
        };
        list.push(system);
    }
}

pub(super) fn suite_name(planned: &Planned) -> String {
    format!("{}:{}", planned.job.system.label(), planned.job.suite.dir)
}

/// spread's joining of the `-each` slots with the task's own: each script in a subshell, in
/// order, so a failing one stops the rest.
pub(super) fn join(scripts: &[&Option<String>]) -> Option<String> {
    let parts: Vec<String> = scripts
        .iter()
        .filter_map(|s| s.as_deref())
        .filter(|s| !s.trim().is_empty())
        .map(|s| format!("(\n{}\n)", s.trim()))
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_script_runs_in_its_own_subshell_in_order_and_blank_ones_are_left_out() {
        let (a, blank, b, none) = (
            Some("echo a\n".to_owned()),
            Some("  \n".to_owned()),
            Some("echo b".to_owned()),
            None,
        );
        assert_eq!(
            join(&[&a, &blank, &none, &b]).as_deref(),
            Some("(\necho a\n)\n\n(\necho b\n)")
        );
        assert_eq!(join(&[&none, &blank]), None);
    }
}
