//! Shared by the tests (and the runner benchmark) that drive real containers: the test image,
//! throwaway projects, running the `harness` binary or the runner in-process, and proving that
//! no container outlives a test.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use harness::backend::docker::{self, DockerBackend};
use harness::expand::{self, Job};
use harness::runner::Options;

/// The image every test system uses.
pub const IMAGE: &str = "e2e/debian-12";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Builds `e2e/debian-12` from `images/debian-12` if it is missing (cached by recipe hash).
pub fn ensure_image() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    runtime().block_on(async {
        let docker = harness::images::connect()
            .await
            .expect("Docker must be reachable");
        harness::images::ensure(
            &docker,
            &repo,
            "debian-12",
            &harness::images::progress::Silent,
        )
        .await
        .expect("cannot build e2e/debian-12");
    });
}

/// A project in a temporary directory, removed (with every container it labelled) on drop.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    /// Writes `spread.yaml` and `files` (relative path, content).
    pub fn new(spread_yaml: &str, files: &[(&str, &str)]) -> Self {
        ensure_image();
        let dir = tempfile::tempdir().unwrap();
        write_project(dir.path(), spread_yaml, files);
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `harness ARGS` in the project directory.
    pub fn harness(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().unwrap();
        Run::from(output)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command.args(args).current_dir(self.path());
        command
    }

    /// Containers labelled with this project, alive or not.
    pub fn containers(&self) -> Vec<String> {
        containers_of(self.path())
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let root = self.path().display().to_string();
        runtime().block_on(async {
            let backend = DockerBackend::new(docker::connect().await.unwrap());
            for (id, _) in backend
                .list(&[(docker::LABEL_PROJECT, &root)])
                .await
                .unwrap_or_default()
            {
                let _ = backend.remove(&id).await;
            }
        });
    }
}

/// Writes `spread.yaml` and `files` (path relative to `root`, content) under `root`.
pub fn write_project(
    root: &Path,
    spread_yaml: &str,
    files: &[(impl AsRef<Path>, impl AsRef<str>)],
) {
    std::fs::write(root.join("spread.yaml"), spread_yaml).unwrap();
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content.as_ref()).unwrap();
    }
}

/// The loaded project, its jobs and the options (seed 1) for an in-process `runner::run` of the
/// project at `root`.
pub fn in_process_run(
    root: &Path,
    run_id: String,
) -> (Arc<harness::project::Project>, Vec<Job>, Options) {
    let project = Arc::new(harness::project::load(root).unwrap());
    let jobs = expand::expand(&project).unwrap();
    let options = Options {
        seed: 1,
        run_id,
        project_root: root.to_owned(),
        ..Default::default()
    };
    (project, jobs, options)
}

/// Containers whose project label is `root`.
pub fn containers_of(root: &Path) -> Vec<String> {
    let root = root.display().to_string();
    runtime().block_on(async {
        let backend = DockerBackend::new(docker::connect().await.unwrap());
        backend
            .list(&[(docker::LABEL_PROJECT, &root)])
            .await
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    })
}

/// Removes a container as someone else would, behind the harness's back.
pub fn remove_container(id: &str) {
    runtime().block_on(async {
        let backend = DockerBackend::new(docker::connect().await.unwrap());
        backend.remove(id).await.unwrap();
    });
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_harness"))
}

/// The result of one harness invocation.
pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            status: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn all(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }

    /// The summary lines (timestamps removed), from `Successful tasks:` on.
    pub fn summary(&self) -> String {
        let lines: Vec<&str> = self.stdout.lines().collect();
        let start = lines
            .iter()
            .position(|l| l.contains("Successful tasks:"))
            .unwrap_or(lines.len());
        lines[start..]
            .iter()
            .map(|l| strip_time(l))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A progress line without its `YYYY-MM-DD HH:MM:SS ` prefix.
pub fn strip_time(line: &str) -> &str {
    let bytes = line.as_bytes();
    if bytes.len() > 20 && bytes[4] == b'-' && bytes[10] == b' ' && bytes[13] == b':' {
        &line[20..]
    } else {
        line
    }
}

/// A one-system docker project header using the test image; `extra` goes under the system.
pub fn docker_backend(workers: usize, extra: &str) -> String {
    format!(
        "backends:\n  docker:\n    systems:\n      - debian-12:\n          image: {IMAGE}\n          workers: {workers}\n{extra}"
    )
}
