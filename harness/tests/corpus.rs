//! The real spread inputs under shared/corpus: every project loads and expands, every
//! task.yaml parses, snapd's job list matches the reference runner's, snapshots pin the
//! expanded jobs and environments of spread's own projects, and spread's own project gets its
//! host-side keys expanded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use harness::env::expand_project_fields;
use harness::expand::{Job, expand};
use harness::project::{self, Project};
use harness::script::HostEvaluator;
use harness::select::{list, select};
use serde::Serialize;
use sha2::{Digest, Sha256};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

fn load(relative: &str) -> Arc<Project> {
    let dir = corpus().join(relative);
    match project::load(&dir) {
        Ok(project) => Arc::new(project),
        Err(error) => panic!("{error}"),
    }
}

/// Every file under `dir` named `name`, sorted.
fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|error| {
            panic!(
                "cannot read {}: {error} (the corpus is ../shared/corpus beside the repository)",
                dir.display()
            )
        });
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|file| file == name) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_project_and_task_file_of_the_corpus_loads_and_expands() {
    let mut project_task_files = BTreeSet::new();
    let project_files = files_named(&corpus(), "spread.yaml");
    assert!(project_files.len() >= 12, "{project_files:?}");
    for file in &project_files {
        let project = project::load_file(file).unwrap_or_else(|error| panic!("{error}"));
        let project = Arc::new(project);
        let jobs = expand(&project).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        assert!(!jobs.is_empty(), "{} has no jobs", file.display());
        select(jobs, &[]).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        for suite in &project.suites {
            for task in &suite.tasks {
                project_task_files.insert(task.dir.join("task.yaml"));
            }
        }
    }
    let task_files = files_named(&corpus(), "task.yaml");
    assert_eq!(task_files.len(), 852);
    for file in task_files
        .iter()
        .filter(|file| !project_task_files.contains(*file))
    {
        // task.yaml files outside any suite of a corpus project (e.g. vendored tool tests)
        // still parse as tasks.
        project::load_task(file, "tests/").unwrap_or_else(|error| panic!("{error}"));
    }
    // snapd: every direct task directory of its 15 suites; spread: its 10 outer tests plus
    // the inner projects' tasks.
    assert_eq!(project_task_files.len(), 795 + 10 + 13);
}

fn machine(name: &str) -> String {
    name.split(':').take(2).collect::<Vec<_>>().join(":")
}

#[test]
fn snapd_lists_the_reference_runners_jobs() {
    let project = load("snapd");
    let names = list(&project, &[]).unwrap();
    assert_eq!(names.len(), 60_262);
    let tasks: BTreeSet<&str> = names
        .iter()
        .map(|name| name.split(':').nth(2).unwrap())
        .collect();
    assert_eq!(tasks.len(), 688);
    let machines: BTreeSet<String> = names.iter().map(|name| machine(name)).collect();
    assert_eq!(machines.len(), 112);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "-list output is sorted");
}

/// What a snapshot records of a job: everything expansion decides.
#[derive(Serialize)]
struct JobView {
    name: String,
    priority: i64,
    manual: bool,
    kill_timeout: String,
    warn_timeout: String,
    environment: Vec<String>,
}

fn view(job: &Job) -> JobView {
    let seconds = |duration: Duration| format!("{}s", duration.as_secs());
    JobView {
        name: job.name(),
        priority: job.priority,
        manual: job.backend.manual || job.system.manual || job.suite.manual || job.task.manual,
        kill_timeout: seconds(job.kill_timeout),
        warn_timeout: seconds(job.warn_timeout),
        environment: job
            .environment()
            .into_iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect(),
    }
}

#[test]
fn spread_projects_expand_as_snapshotted() {
    let mut relatives = vec!["spread".to_string()];
    for entry in std::fs::read_dir(corpus().join("spread/tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.join("spread.yaml").is_file() {
            relatives.push(format!(
                "spread/tests/{}",
                path.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    relatives.sort();
    for relative in relatives {
        let project = load(&relative);
        let jobs: Vec<JobView> = expand(&project).unwrap().iter().map(view).collect();
        let listed = list(&project, &[]).unwrap();
        let name = relative.replace('/', "-");
        insta::assert_yaml_snapshot!(name, (jobs, listed));
    }
}

/// spread's own project excludes `$CACHE_DISABLED`, a `$(HOST:...)` value: the run expands it
/// on this machine as spread does (the harness used to refuse the project there).
#[test]
fn spreads_own_project_excludes_its_host_evaluated_cache_directory() {
    let project = load("spread");
    let host = HostEvaluator::default();
    let expanded = expand_project_fields(&project, &host).unwrap_or_else(|error| panic!("{error}"));
    // The command reads SEND_CACHE from this process's environment, as spread's does.
    let cache = if std::env::var("SEND_CACHE").as_deref() == Ok("1") {
        "false"
    } else {
        "tests/cache"
    };
    assert_eq!(
        expanded.exclude,
        [".spread-reuse.yaml", "tests/.spread-reuse.yaml", cache]
    );
    assert_eq!(expanded.path, "/home/test/src/github.com/snapcore/spread");
}

/// snapd is too big to snapshot whole: counts per machine, a sample, one job's environment
/// and a hash of the full sorted list pin it instead.
#[test]
fn snapd_expands_as_snapshotted() {
    let project = load("snapd");
    let jobs = select(expand(&project).unwrap(), &[]).unwrap();
    let names: Vec<String> = jobs.iter().map(Job::name).collect();
    let mut per_machine: BTreeMap<String, usize> = BTreeMap::new();
    for name in &names {
        *per_machine.entry(machine(name)).or_default() += 1;
    }
    let hash = Sha256::digest(names.join("\n").as_bytes());
    let hash: String = hash.iter().map(|byte| format!("{byte:02x}")).collect();
    let sample: Vec<&String> = names.iter().step_by(names.len() / 40).collect();
    let completion = jobs
        .iter()
        .find(|job| job.name() == "google:ubuntu-22.04-64:tests/completion/simple:funkyfunc")
        .expect("a completion variant job");
    insta::assert_yaml_snapshot!((names.len(), hash, per_machine, sample, view(completion)));
}
