//! Running jobs: the run's options, its summary, and the entry points that validate, schedule,
//! and always clean up.
//!
//! `plan` orders jobs, `dispatcher` makes every decision during the run, `executor` runs one
//! script, `events` is what reporters hear, `signals` turns Ctrl-C into stop requests, `reuse`
//! records kept machines, `slots` says what a prepare/restore slot is, and `cleanup`
//! guarantees that no machine outlives the run by accident.

pub mod cleanup;
mod dispatcher;
pub mod events;
pub mod executor;
pub mod plan;
pub mod reuse;
pub mod signals;
mod slots;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::backend::pack::{self, PackError};
use crate::backend::{Backend, BackendError, Machine};
use crate::expand::Job;
use crate::project::{Project, System};
use crate::script::HostEvaluator;
use dispatcher::{Shared, SystemState};
pub use events::{Event, JobOutcome, Reporter, Verb};
use reuse::{ReuseError, ReuseRecords};
use signals::Stop;

/// How a run behaves (the command-line flags that affect running).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// 0 = progress only, 1 = `-v` (script output), 2 = `-vv` (scripts sent as well).
    pub verbosity: u8,
    pub debug: bool,
    pub shell: bool,
    pub shell_before: bool,
    pub shell_after: bool,
    pub abend: bool,
    pub reuse: bool,
    pub resend: bool,
    pub restore: bool,
    pub seed: u64,
    pub repeat: u32,
    pub artifacts: Option<PathBuf>,
    /// Identifies this run's machines (a container label).
    pub run_id: String,
    pub project_root: PathBuf,
    /// Exact image references for the image names systems give (`e2e/debian-12` →
    /// `e2e/debian-12:<hash>`), so that a run uses the images built for it even when another
    /// checkout retags `latest` meanwhile. Names not listed are used as written.
    pub pinned_images: BTreeMap<String, String>,
    /// The run's `$(HOST:...)` outputs. Those the project's `path`/`include`/`exclude`/`rename`
    /// needed are already in it, so scripts see the same output (spread runs each distinct
    /// command once per run).
    pub host: Arc<HostEvaluator>,
}

/// What happened to every job and slot, in spread's categories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub successful: Vec<String>,
    pub aborted: Vec<String>,
    pub failed: Vec<String>,
    pub failed_task_prepare: Vec<String>,
    pub failed_task_restore: Vec<String>,
    pub failed_suite_prepare: Vec<String>,
    pub failed_suite_restore: Vec<String>,
    pub failed_backend_prepare: Vec<String>,
    pub failed_backend_restore: Vec<String>,
    pub failed_project_prepare: Vec<String>,
    pub failed_project_restore: Vec<String>,
}

impl Summary {
    /// Whether the run succeeded: nothing failed and nothing was aborted.
    pub fn is_success(&self) -> bool {
        self.aborted.is_empty() && self.failures().all(|(_, names)| names.is_empty())
    }

    /// The failure lists with spread's titles, in spread's order.
    pub fn failures(&self) -> impl Iterator<Item = (&'static str, &[String])> {
        [
            ("Failed tasks", &self.failed),
            ("Failed task prepare", &self.failed_task_prepare),
            ("Failed task restore", &self.failed_task_restore),
            ("Failed suite prepare", &self.failed_suite_prepare),
            ("Failed suite restore", &self.failed_suite_restore),
            ("Failed backend prepare", &self.failed_backend_prepare),
            ("Failed backend restore", &self.failed_backend_restore),
            ("Failed project prepare", &self.failed_project_prepare),
            ("Failed project restore", &self.failed_project_restore),
        ]
        .into_iter()
        .map(|(title, names)| (title, names.as_slice()))
    }
}

/// Why a run could not start (nothing was created when these are returned).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "backend {backend:?} has type {kind:?}, which this runner cannot drive (only `docker`); select other jobs, e.g. `harness docker:`"
    )]
    UnsupportedBackend { backend: String, kind: String },
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error(transparent)]
    Reuse(#[from] ReuseError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("cannot listen for Ctrl-C: {0}")]
    Signals(std::io::Error),
}

/// Runs `jobs` of `project` on machines from `backend`, reporting to `reporter`; returns the
/// summary. Every machine created is discarded before this returns (or kept and recorded with
/// `-reuse`), whatever happens.
pub async fn run<B: Backend>(
    backend: Arc<B>,
    project: &Project,
    jobs: Vec<Job>,
    options: Options,
    reporter: Arc<dyn Reporter>,
    stop: Stop,
) -> Result<Summary, RunError> {
    let systems = check(backend.as_ref(), &jobs, &options).await?;
    let tar = Bytes::from(pack::pack_project(project)?);
    let reuse = if options.reuse || options.restore {
        ReuseRecords::load(&project.root)?
    } else {
        ReuseRecords::default()
    };
    let backends = names(jobs.iter().map(|j| j.backend.name.clone()));
    let planned = plan::order(jobs, options.seed, options.repeat);
    let shared = Arc::new(Shared {
        backend,
        options: options.clone(),
        reporter: reporter.clone(),
        stop: stop.clone(),
        summary: Mutex::new(Summary::default()),
        live: Mutex::new(Vec::new()),
        reuse: Mutex::new(reuse),
        tar,
        started_jobs: Default::default(),
        total_jobs: planned.len(),
        backends,
        terminal: Default::default(),
    });
    let guard = cleanup::Guard::new(shared.clone());

    let mut systems_run: BTreeMap<String, SystemRun> = BTreeMap::new();
    for job in planned {
        let run = systems_run
            .entry(job.job.system.label())
            .or_insert_with(|| SystemRun {
                system: job.job.system.clone(),
                state: Default::default(),
                jobs: 0,
            });
        run.jobs += 1;
        run.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .queue
            .push(job);
    }
    reporter.event(&Event::Started {
        seed: options.seed,
        jobs: shared.total_jobs,
        systems: systems.len(),
    });

    let mut workers = tokio::task::JoinSet::new();
    for run in systems_run.values() {
        let configured = run.system.workers.max(1);
        // No more workers than jobs; with -restore, one per kept machine.
        let count = if options.restore {
            let kept = shared.reuse.lock().unwrap_or_else(|p| p.into_inner());
            kept.systems.get(&run.system.label()).map_or(0, Vec::len)
        } else {
            configured.min(run.jobs)
        };
        run.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .idle_workers = configured.saturating_sub(count);
        for index in 1..=count {
            workers.spawn(dispatcher::work(
                shared.clone(),
                run.state.clone(),
                run.system.clone(),
                index,
            ));
        }
    }
    wait(&mut workers, &stop, reporter.as_ref()).await;
    guard.finish().await;

    if options.reuse || options.restore {
        let records = shared
            .reuse
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        records.save(&project.root)?;
    }
    let summary = shared
        .summary
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    reporter.event(&Event::Finished(summary.clone()));
    Ok(summary)
}

/// One system's share of a run: its queue and how many jobs it has.
struct SystemRun {
    system: Arc<System>,
    state: Arc<Mutex<SystemState>>,
    jobs: usize,
}

/// Waits for the workers. On "discard now" they skip every remaining script and discard their
/// machines at once; those still busy after a grace period (stuck in an engine call) are
/// abandoned, and the cleanup guard discards their machines.
async fn wait(workers: &mut tokio::task::JoinSet<()>, stop: &Stop, reporter: &dyn Reporter) {
    const GRACE: std::time::Duration = std::time::Duration::from_secs(10);
    let report = |joined: Result<(), tokio::task::JoinError>| {
        if let Err(error) = joined {
            reporter.event(&Event::Notice(format!(
                "A worker stopped unexpectedly: {error}"
            )));
        }
    };
    loop {
        tokio::select! {
            joined = workers.join_next() => match joined {
                None => return,
                Some(joined) => report(joined),
            },
            () = stop.now.cancelled() => break,
        }
    }
    let deadline = tokio::time::Instant::now() + GRACE;
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, workers.join_next()).await {
        report(joined);
    }
    workers.abort_all();
    while workers.join_next().await.is_some() {}
}

/// Validates everything before anything is created: backend types and images.
async fn check<B: Backend>(
    backend: &B,
    jobs: &[Job],
    options: &Options,
) -> Result<Vec<Arc<System>>, RunError> {
    let mut systems: Vec<Arc<System>> = Vec::new();
    for job in jobs {
        if job.backend.kind != "docker" {
            return Err(RunError::UnsupportedBackend {
                backend: job.backend.name.clone(),
                kind: job.backend.kind.clone(),
            });
        }
        if !systems.iter().any(|s| Arc::ptr_eq(s, &job.system)) {
            systems.push(job.system.clone());
        }
    }
    for system in &systems {
        backend
            .validate(&dispatcher::machine_request(options, system, 1))
            .await?;
    }
    Ok(systems)
}

/// Discards every machine recorded by an earlier `-reuse` run (`-discard`).
pub async fn discard_kept<B: Backend>(
    backend: &B,
    project: &Project,
    reporter: &dyn Reporter,
) -> Result<usize, RunError> {
    let mut records = ReuseRecords::load(&project.root)?;
    let mut discarded = 0;
    for (system, machines) in std::mem::take(&mut records.systems) {
        for kept in machines {
            reporter.event(&Event::Step {
                verb: Verb::Discarding,
                context: system.clone(),
                machine: kept.name.clone(),
                position: None,
            });
            match backend.reattach(&kept.id, &system).await {
                Ok(machine) => machine.discard().await?,
                Err(error) => reporter.event(&Event::Notice(format!("{error}; forgetting it."))),
            }
            discarded += 1;
        }
    }
    records.save(&project.root)?;
    Ok(discarded)
}

fn names(all: impl Iterator<Item = String>) -> String {
    let mut names: Vec<String> = all.collect();
    names.sort();
    names.dedup();
    names.join(" ")
}
