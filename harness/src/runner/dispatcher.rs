//! The run's decisions: which job a worker takes next, which prepare and restore slots run
//! around it, and what a failure means (a failed restore breaks the system, a failed suite
//! prepare aborts the suite there, `-abend` stops everything).
//!
//! Each system has `workers` workers; each worker owns one machine for its whole life:
//! allocate → send → project prepare → backend prepare → { suite prepare → job ... → suite
//! restore } → backend restore → project restore → discard (or keep with `-reuse`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;

use super::events::{Event, JobOutcome, Reporter, Verb};
use super::executor::{Executor, Finish, Script};
use super::plan::{Planned, Queue};
use super::reuse::{KeptMachine, ReuseRecords};
use super::signals::Stop;
use super::slots::{Failure, Level, SlotEnd, join, suite_name};
use super::{Options, Summary};
use crate::backend::{Backend, BackendError, Machine, MachineRequest};
use crate::project::System;
use crate::script::SpreadVars;

/// State shared by every worker of a run.
pub(super) struct Shared<B: Backend> {
    pub backend: Arc<B>,
    pub options: Options,
    pub reporter: Arc<dyn Reporter>,
    pub stop: Stop,
    pub summary: Mutex<Summary>,
    pub live: Mutex<Vec<Arc<B::Machine>>>,
    pub reuse: Mutex<ReuseRecords>,
    pub tar: Bytes,
    pub started_jobs: std::sync::atomic::AtomicUsize,
    pub total_jobs: usize,
    pub backends: String,
    /// Held while an interactive shell uses the terminal.
    pub terminal: tokio::sync::Mutex<()>,
}

/// One system's queue and what is known to be wrong with it.
#[derive(Default)]
pub(super) struct SystemState {
    pub queue: Queue,
    pub broken: Option<String>,
    pub failed_suites: HashSet<String>,
    pub idle_workers: usize,
}

impl<B: Backend> Shared<B> {
    fn record(&self, update: impl FnOnce(&mut Summary)) {
        update(&mut self.summary.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn finish_job(&self, planned: &Planned, outcome: JobOutcome, started: Instant) {
        let name = planned.name.clone();
        self.record(|s| match &outcome {
            JobOutcome::Passed => s.successful.push(name.clone()),
            JobOutcome::Failed { .. } => s.failed.push(name.clone()),
            JobOutcome::Aborted { .. } => s.aborted.push(name.clone()),
        });
        self.reporter.event(&Event::JobFinished {
            job: name,
            system: planned.job.system.label(),
            outcome,
            elapsed: started.elapsed(),
        });
    }

    pub fn abort(&self, planned: &Planned, reason: &str) {
        self.finish_job(
            planned,
            JobOutcome::Aborted {
                reason: reason.to_owned(),
            },
            Instant::now(),
        );
    }
}

/// What a worker has set up on its machine so far.
struct Worker<B: Backend> {
    shared: Arc<Shared<B>>,
    state: Arc<Mutex<SystemState>>,
    system: Arc<System>,
    index: usize,
    machine: Option<Arc<B::Machine>>,
    /// Project and backend prepared (and not restored) on the machine.
    prepared: bool,
    suite: Option<Planned>,
    last: Option<Planned>,
    broken: bool,
}

/// Runs one worker of `system` until its queue is empty or the run stops.
pub(super) async fn work<B: Backend>(
    shared: Arc<Shared<B>>,
    state: Arc<Mutex<SystemState>>,
    system: Arc<System>,
    index: usize,
) {
    let mut worker = Worker {
        shared,
        state,
        system,
        index,
        machine: None,
        prepared: false,
        suite: None,
        last: None,
        broken: false,
    };
    if worker.shared.options.restore {
        worker.attach_kept().await;
    } else {
        worker.run_jobs().await;
    }
    worker.finish().await;
}

impl<B: Backend> Worker<B> {
    fn lock(&self) -> std::sync::MutexGuard<'_, SystemState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn system_label(&self) -> String {
        self.system.label()
    }

    fn stopping(&self) -> bool {
        self.shared.stop.is_stopping()
    }

    async fn run_jobs(&mut self) {
        loop {
            if self.stopping() || self.broken {
                return;
            }
            let current_suite = self.suite.as_ref().map(|p| p.job.suite.dir.clone());
            let next = {
                let mut state = self.lock();
                if state.broken.is_some() {
                    None
                } else {
                    state.queue.next(current_suite.as_deref())
                }
            };
            let Some(planned) = next else { return };
            if self.machine.is_none() && !self.start(&planned).await {
                self.lock().queue.put_back(planned);
                return;
            }
            if current_suite.as_deref() != Some(planned.job.suite.dir.as_str())
                && !self.switch_suite(&planned).await
            {
                continue;
            }
            self.run_job(&planned).await;
            self.last = Some(planned);
        }
    }

    /// `-restore`: takes a kept machine of the system, with the system's first job for the
    /// environment of its restore scripts; nothing else runs.
    async fn attach_kept(&mut self) {
        let system = self.system_label();
        let first = {
            let mut state = self.lock();
            let first = state.queue.next(None);
            if let Some(first) = &first {
                state.queue.put_back(first.clone());
            }
            first
        };
        let kept = self
            .shared
            .reuse
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .systems
            .get_mut(&system)
            .and_then(|list| list.pop());
        let Some(kept) = kept else { return };
        match self.shared.backend.reattach(&kept.id, &system).await {
            Ok(machine) => {
                let machine = Arc::new(machine);
                self.shared
                    .live
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(machine.clone());
                self.machine = Some(machine);
                self.prepared = kept.prepared;
                self.last = first;
            }
            Err(error) => {
                self.step_failed(Verb::Allocating, &system, &kept.name, &error.to_string())
            }
        }
    }

    /// Allocates (or reattaches) the machine, sends the project and prepares project and
    /// backend. `false` when the worker cannot serve.
    async fn start(&mut self, planned: &Planned) -> bool {
        let system = self.system_label();
        let kept = self
            .shared
            .reuse
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .systems
            .get_mut(&system)
            .and_then(|list| list.pop());
        let mut kept = kept;
        let allocated = match &kept {
            Some(record) => match self.shared.backend.reattach(&record.id, &system).await {
                Ok(machine) => Ok(machine),
                Err(error) => {
                    // Removed behind our back: forget it and start afresh.
                    self.shared.reporter.event(&Event::Notice(format!(
                        "Cannot reuse {}: {error}",
                        record.name
                    )));
                    kept = None;
                    self.allocate().await
                }
            },
            None => self.allocate().await,
        };
        let machine = match allocated {
            Ok(machine) => Arc::new(machine),
            Err(error) => {
                self.step_failed(Verb::Allocating, &system, "", &error.to_string());
                return false;
            }
        };
        self.shared
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(machine.clone());
        self.machine = Some(machine.clone());
        let reused = kept.is_some();
        self.prepared = kept.as_ref().is_some_and(|k| k.prepared);
        if (!reused || self.shared.options.resend) && !self.send(&machine, planned).await {
            return false;
        }
        if self.prepared {
            return true;
        }
        let project = &planned.job.project;
        let backend = &planned.job.backend;
        for (scripts, level, failure) in [
            (&project.scripts, Level::Project, Failure::ProjectPrepare),
            (&backend.scripts, Level::Backend, Failure::BackendPrepare),
        ] {
            let (body, debug) = (scripts.prepare.as_deref(), scripts.debug.as_deref());
            let end = self
                .run_slot(Verb::Preparing, level, planned, body, debug)
                .await;
            if end != SlotEnd::Passed {
                if end == SlotEnd::Failed {
                    self.shared.record(|s| failure.push(s, system.clone()));
                }
                self.broken = true;
                return false;
            }
        }
        self.prepared = true;
        true
    }

    async fn allocate(&self) -> Result<B::Machine, BackendError> {
        let system = self.system_label();
        self.shared.reporter.event(&Event::Step {
            verb: Verb::Allocating,
            context: system.clone(),
            machine: String::new(),
            position: None,
        });
        let request = machine_request(&self.shared.options, &self.system, self.index);
        let started = Instant::now();
        let machine = self.shared.backend.allocate(&request).await?;
        self.shared.reporter.event(&Event::Allocated {
            system,
            machine: machine.label().to_owned(),
            elapsed: started.elapsed(),
        });
        Ok(machine)
    }

    async fn send(&self, machine: &B::Machine, planned: &Planned) -> bool {
        let system = self.system_label();
        self.shared.reporter.event(&Event::Step {
            verb: Verb::Sending,
            context: system.clone(),
            machine: machine.label().to_owned(),
            position: None,
        });
        let path = planned.job.project.path.clone();
        // -resend replaces what an earlier run left.
        let clear = format!("rm -rf '{path}'");
        let result = async {
            if self.shared.options.resend {
                machine
                    .run(&clear, "resend", &crate::backend::Output::default())
                    .await?;
            }
            machine.send(self.shared.tar.clone()).await
        }
        .await;
        match result {
            Ok(()) => true,
            Err(error) => {
                self.step_failed(Verb::Sending, &system, machine.label(), &error.to_string());
                false
            }
        }
    }

    /// Restores the previous suite (if any) and prepares the suite of `planned`. `false` when
    /// the job was aborted instead.
    async fn switch_suite(&mut self, planned: &Planned) -> bool {
        if let Some(previous) = self.suite.take()
            && !self.restore_suite(&previous).await
        {
            self.shared
                .abort(planned, "system broken by a failed suite restore");
            return false;
        }
        let suite = &planned.job.suite;
        if self.lock().failed_suites.contains(&suite.dir) {
            self.shared.abort(planned, "suite prepare failed");
            return false;
        }
        let end = self
            .run_slot(
                Verb::Preparing,
                Level::Suite,
                planned,
                suite.scripts.prepare.as_deref(),
                suite.scripts.debug.as_deref(),
            )
            .await;
        if end == SlotEnd::Passed {
            self.suite = Some(planned.clone());
            return true;
        }
        if end == SlotEnd::Failed {
            let name = suite_name(planned);
            self.shared.record(|s| s.failed_suite_prepare.push(name));
        }
        let dropped = {
            let mut state = self.lock();
            state.failed_suites.insert(suite.dir.clone());
            let dir = suite.dir.clone();
            state.queue.drain_where(move |p| p.job.suite.dir == dir)
        };
        self.shared.abort(planned, "suite prepare failed");
        for job in dropped {
            self.shared.abort(&job, "suite prepare failed");
        }
        // The suite may be half-prepared: restore it, as spread does.
        self.suite = Some(planned.clone());
        false
    }

    async fn restore_suite(&mut self, previous: &Planned) -> bool {
        let suite = &previous.job.suite;
        let end = self
            .run_slot(
                Verb::Restoring,
                Level::Suite,
                previous,
                suite.scripts.restore.as_deref(),
                suite.scripts.debug.as_deref(),
            )
            .await;
        match end {
            SlotEnd::Passed => return true,
            SlotEnd::Failed => {
                let name = suite_name(previous);
                self.shared.record(|s| s.failed_suite_restore.push(name));
                self.break_system("suite restore failed");
            }
            SlotEnd::Interrupted => self.break_system("interrupted"),
        }
        false
    }

    async fn run_job(&mut self, planned: &Planned) {
        let started = Instant::now();
        let job = &planned.job;
        let options = self.shared.options.clone();
        let prepare = join(&[
            &job.project.scripts.prepare_each,
            &job.backend.scripts.prepare_each,
            &job.suite.scripts.prepare_each,
            &job.task.prepare,
        ]);
        let restore = join(&[
            &job.task.restore,
            &job.suite.scripts.restore_each,
            &job.backend.scripts.restore_each,
            &job.project.scripts.restore_each,
        ]);
        let debug = join(&[
            &job.task.debug,
            &job.suite.scripts.debug_each,
            &job.backend.scripts.debug_each,
            &job.project.scripts.debug_each,
        ]);
        let position = self
            .shared
            .started_jobs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;

        let prepared = self
            .run_slot(
                Verb::Preparing,
                Level::Job,
                planned,
                prepare.as_deref(),
                debug.as_deref(),
            )
            .await;
        let interrupted = JobOutcome::Aborted {
            reason: "interrupted".into(),
        };
        let outcome = if prepared == SlotEnd::Failed {
            self.shared
                .record(|s| s.failed_task_prepare.push(planned.name.clone()));
            JobOutcome::Aborted {
                reason: "task prepare failed".into(),
            }
        } else if prepared == SlotEnd::Interrupted || self.stopping() {
            interrupted
        } else {
            if options.shell_before || options.shell {
                self.shell_at(planned, Level::Job).await;
            }
            let outcome = if options.shell {
                JobOutcome::Passed
            } else {
                self.execute(planned, debug.as_deref(), position).await
            };
            if options.shell_after {
                self.shell_at(planned, Level::Job).await;
            }
            outcome
        };
        if let Some(dir) = &options.artifacts
            && !job.task.artifacts.is_empty()
        {
            self.fetch_artifacts(planned, dir).await;
        }
        let failed = !matches!(outcome, JobOutcome::Passed);
        let abend = options.abend && failed;
        if abend {
            self.shared.reporter.event(&Event::Notice(format!(
                "Stopping on first error (-abend) after {}.",
                planned.name
            )));
            self.shared.stop.graceful.cancel();
        }
        self.shared.finish_job(planned, outcome, started);
        if abend {
            self.broken = true;
            return;
        }
        let restored = self
            .run_slot(
                Verb::Restoring,
                Level::Job,
                planned,
                restore.as_deref(),
                debug.as_deref(),
            )
            .await;
        match restored {
            SlotEnd::Passed => {}
            SlotEnd::Failed => {
                self.shared
                    .record(|s| s.failed_task_restore.push(planned.name.clone()));
                self.break_system("task restore failed");
            }
            SlotEnd::Interrupted => self.break_system("interrupted"),
        }
    }

    async fn execute(
        &mut self,
        planned: &Planned,
        debug: Option<&str>,
        position: usize,
    ) -> JobOutcome {
        let Some(machine) = self.machine.clone() else {
            return JobOutcome::Aborted {
                reason: "no machine".into(),
            };
        };
        let Some(body) = planned
            .job
            .task
            .execute
            .as_deref()
            .filter(|b| !b.trim().is_empty())
        else {
            return JobOutcome::Passed;
        };
        self.shared.reporter.event(&Event::Step {
            verb: Verb::Executing,
            context: planned.name.clone(),
            machine: machine.label().to_owned(),
            position: Some((position, self.shared.total_jobs)),
        });
        match self.run_script(planned, Level::Job, body, true).await {
            Ok(Finish::Succeeded { output }) => {
                self.show_output(Verb::Executing, &planned.name, &output);
                JobOutcome::Passed
            }
            Ok(Finish::Interrupted) => JobOutcome::Aborted {
                reason: "interrupted".into(),
            },
            Ok(Finish::Failed { output }) => {
                self.after_failure(Verb::Executing, Level::Job, planned, &output, debug)
                    .await;
                JobOutcome::Failed { output }
            }
            Ok(Finish::Fatal { output }) => {
                self.after_failure(Verb::Executing, Level::Job, planned, &output, debug)
                    .await;
                self.break_system("FATAL called");
                JobOutcome::Failed { output }
            }
            Err(error) => {
                let output = error.to_string();
                self.step_failed(Verb::Executing, &planned.name, machine.label(), &output);
                JobOutcome::Failed { output }
            }
        }
    }

    /// Runs a prepare or restore slot at `level` (an empty slot passes).
    async fn run_slot(
        &mut self,
        verb: Verb,
        level: Level,
        planned: &Planned,
        body: Option<&str>,
        debug: Option<&str>,
    ) -> SlotEnd {
        let Some(body) = body.filter(|b| !b.trim().is_empty()) else {
            return SlotEnd::Passed;
        };
        let Some(machine) = self.machine.clone() else {
            return SlotEnd::Failed;
        };
        let context = level.context(planned);
        self.shared.reporter.event(&Event::Step {
            verb,
            context: context.clone(),
            machine: machine.label().to_owned(),
            position: None,
        });
        match self
            .run_script(planned, level, body, verb != Verb::Restoring)
            .await
        {
            Ok(Finish::Succeeded { output }) => {
                self.show_output(verb, &context, &output);
                SlotEnd::Passed
            }
            Ok(Finish::Interrupted) => SlotEnd::Interrupted,
            Ok(Finish::Failed { output }) => {
                self.after_failure(verb, level, planned, &output, debug)
                    .await;
                SlotEnd::Failed
            }
            Ok(Finish::Fatal { output }) => {
                self.after_failure(verb, level, planned, &output, debug)
                    .await;
                self.break_system("FATAL called");
                SlotEnd::Failed
            }
            Err(error) => {
                self.step_failed(verb, &context, machine.label(), &error.to_string());
                SlotEnd::Failed
            }
        }
    }

    async fn run_script(
        &self,
        planned: &Planned,
        level: Level,
        body: &str,
        interruptible: bool,
    ) -> Result<Finish, BackendError> {
        let machine = self
            .machine
            .clone()
            .expect("a script runs only on an allocated machine");
        let (vars, env) = match self.environment(planned) {
            Ok(pair) => pair,
            Err(error) => {
                return Ok(Finish::Failed {
                    output: error.to_string(),
                });
            }
        };
        let dir = level.dir(planned);
        let (warn_timeout, kill_timeout) = level.timeouts(&planned.job);
        let script = Script {
            context: &level.context(planned),
            body,
            dir: &dir,
            vars: &vars,
            env: &env,
            warn_timeout,
            kill_timeout,
            interruptible,
        };
        self.executor(&machine).run(&script).await
    }

    fn executor<'a>(&'a self, machine: &'a B::Machine) -> Executor<'a, B::Machine> {
        Executor {
            machine,
            reporter: self.shared.reporter.as_ref(),
            stop: &self.shared.stop,
            verbosity: self.shared.options.verbosity,
            run_id: &self.shared.options.run_id,
        }
    }

    fn environment(
        &self,
        planned: &Planned,
    ) -> Result<(SpreadVars, Vec<(String, String)>), crate::script::HostError> {
        let job = &planned.job;
        let vars = SpreadVars {
            job: planned.name.clone(),
            project: job.project.name.clone(),
            path: job.project.path.clone(),
            backend: job.backend.name.clone(),
            system: job.system.name.clone(),
            suite: job.suite.dir.clone(),
            task: job.task.full_name.clone(),
            variant: job.variant.clone().unwrap_or_default(),
            sample: planned.sample,
            backends: self.shared.backends.clone(),
        };
        Ok((vars, self.shared.options.host.evaluate(&job.environment())?))
    }

    /// After a failed script: its output between rulers, the debug script's output, and with
    /// `-debug` a shell at the failure point.
    async fn after_failure(
        &mut self,
        verb: Verb,
        level: Level,
        planned: &Planned,
        output: &str,
        debug: Option<&str>,
    ) {
        let machine = self.machine.clone().expect("failures happen on machines");
        let context = level.context(planned);
        if let Some(debug) = debug.filter(|d| !d.trim().is_empty()) {
            let shown = match self.run_script(planned, level, debug, false).await {
                Ok(
                    Finish::Succeeded { output }
                    | Finish::Failed { output }
                    | Finish::Fatal { output },
                ) => output,
                Ok(Finish::Interrupted) => String::new(),
                Err(error) => error.to_string(),
            };
            if !shown.trim().is_empty() {
                self.shared.reporter.event(&Event::DebugOutput {
                    context: context.clone(),
                    machine: machine.label().to_owned(),
                    output: shown,
                });
            }
        }
        self.step_failed(
            verb,
            &context,
            machine.label(),
            crate::script::without_marker(output),
        );
        if self.shared.options.debug {
            self.shell_at(planned, level).await;
        }
    }

    async fn shell_at(&self, planned: &Planned, level: Level) {
        let Some(machine) = self.machine.clone() else {
            return;
        };
        let Ok((vars, env)) = self.environment(planned) else {
            return;
        };
        let dir = level.dir(planned);
        let context = level.context(planned);
        let (warn_timeout, kill_timeout) = level.timeouts(&planned.job);
        let script = Script {
            context: &context,
            body: "",
            dir: &dir,
            vars: &vars,
            env: &env,
            warn_timeout,
            kill_timeout,
            interruptible: false,
        };
        let program = self.executor(&machine).shell_program(&script);
        let _terminal = self.shared.terminal.lock().await;
        self.shared.reporter.event(&Event::Notice(format!(
            "Starting shell on {context} ({}); exit it to continue...",
            machine.label()
        )));
        self.shared.reporter.pause();
        let result = machine.shell(&program).await;
        self.shared.reporter.resume();
        if let Err(error) = result {
            self.shared
                .reporter
                .event(&Event::Notice(format!("Cannot start a shell: {error}")));
        }
    }

    async fn fetch_artifacts(&self, planned: &Planned, root: &std::path::Path) {
        let Some(machine) = self.machine.clone() else {
            return;
        };
        self.shared.reporter.event(&Event::Step {
            verb: Verb::Fetching,
            context: planned.name.clone(),
            machine: machine.label().to_owned(),
            position: None,
        });
        let dest = root.join(&planned.name);
        let dir = Level::Job.dir(planned);
        if let Err(error) = machine
            .fetch(&dir, &planned.job.task.artifacts, &dest)
            .await
        {
            self.step_failed(
                Verb::Fetching,
                &planned.name,
                machine.label(),
                &error.to_string(),
            );
        }
    }

    fn show_output(&self, verb: Verb, context: &str, output: &str) {
        if self.shared.options.verbosity >= 1 && !output.trim().is_empty() {
            let machine = self
                .machine
                .as_ref()
                .map(|m| m.label().to_owned())
                .unwrap_or_default();
            self.shared.reporter.event(&Event::ScriptOutput {
                verb,
                context: context.to_owned(),
                machine,
                output: output.to_owned(),
            });
        }
    }

    fn step_failed(&self, verb: Verb, context: &str, machine: &str, detail: &str) {
        self.shared.reporter.event(&Event::StepFailed {
            verb,
            context: context.to_owned(),
            machine: machine.to_owned(),
            detail: detail.to_owned(),
        });
    }

    /// Marks the system broken: nobody runs its remaining jobs.
    fn break_system(&mut self, reason: &str) {
        self.broken = true;
        let dropped = {
            let mut state = self.lock();
            state.broken.get_or_insert_with(|| reason.to_owned());
            state.queue.drain_where(|_| true)
        };
        let reason = format!("{} broken: {reason}", self.system_label());
        for job in dropped {
            self.shared.abort(&job, &reason);
        }
    }

    /// Restores what this worker prepared and discards (or keeps) its machine.
    async fn finish(&mut self) {
        let Some(machine) = self.machine.clone() else {
            self.retire();
            return;
        };
        let options = self.shared.options.clone();
        // -abend leaves everything as it failed.
        let abended = options.abend && self.shared.stop.graceful.is_cancelled();
        let restoring = !self.broken && !self.shared.stop.now.is_cancelled() && !abended;
        if restoring && let Some(previous) = self.suite.take() {
            self.restore_suite(&previous).await;
        }
        let keep = options.reuse && !self.broken && !self.shared.stop.now.is_cancelled();
        let last = self.last.clone().or_else(|| self.suite.clone());
        if restoring
            && (!keep || options.restore)
            && self.prepared
            && let Some(last) = last
        {
            let backend = last.job.backend.clone();
            let project = last.job.project.clone();
            for (scripts, level, failure) in [
                (&backend.scripts, Level::Backend, Failure::BackendRestore),
                (&project.scripts, Level::Project, Failure::ProjectRestore),
            ] {
                let (body, debug) = (scripts.restore.as_deref(), scripts.debug.as_deref());
                if self
                    .run_slot(Verb::Restoring, level, &last, body, debug)
                    .await
                    == SlotEnd::Failed
                {
                    let system = self.system_label();
                    self.shared.record(|s| failure.push(s, system));
                }
            }
            self.prepared = false;
        }
        if keep {
            self.shared.reporter.event(&Event::Step {
                verb: Verb::Keeping,
                context: self.system_label(),
                machine: machine.label().to_owned(),
                position: None,
            });
            let kept = KeptMachine {
                id: machine.id().to_owned(),
                name: machine.label().to_owned(),
                prepared: self.prepared,
            };
            self.shared
                .reuse
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .keep(&self.system_label(), kept);
        } else {
            self.shared.reporter.event(&Event::Step {
                verb: Verb::Discarding,
                context: self.system_label(),
                machine: machine.label().to_owned(),
                position: None,
            });
            if let Err(error) = machine.discard().await {
                self.step_failed(
                    Verb::Discarding,
                    &self.system_label(),
                    machine.label(),
                    &error.to_string(),
                );
            }
        }
        self.shared
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|m| m.id() != machine.id());
        self.retire();
    }

    /// The last worker of a system to leave aborts what nobody will run.
    fn retire(&self) {
        // -restore runs no jobs: they only lend their environment to restore scripts.
        if self.shared.options.restore {
            return;
        }
        let dropped = {
            let mut state = self.lock();
            state.idle_workers += 1;
            if state.idle_workers < self.system.workers.max(1) {
                return;
            }
            state.queue.drain_where(|_| true)
        };
        let reason = if self.stopping() {
            "interrupted".to_owned()
        } else {
            format!("no usable machine for {}", self.system_label())
        };
        for job in dropped {
            self.shared.abort(&job, &reason);
        }
    }
}

/// The request that allocates worker `index` of `system`.
pub(super) fn machine_request(options: &Options, system: &System, index: usize) -> MachineRequest {
    MachineRequest {
        system: system.label(),
        image: {
            let image = system.image.as_ref().unwrap_or(&system.name);
            options.pinned_images.get(image).unwrap_or(image).clone()
        },
        run_id: options.run_id.clone(),
        worker: index,
        project: options.project_root.display().to_string(),
        options: system.docker.clone(),
    }
}
