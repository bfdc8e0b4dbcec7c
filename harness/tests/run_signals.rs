//! Never leak: Ctrl-C once (stop, restore, discard), Ctrl-C twice (discard now) and a hanging
//! script (kill-timeout kills its whole process tree) all end with no container left.

mod run_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use run_support::{Project, docker_backend};

fn project(task: &str) -> Project {
    let yaml = format!(
        "project: signals\npath: /home/signals\nrestore: echo project-restored\n{}suites:\n  s/:\n    summary: s\n",
        docker_backend(1, "")
    );
    Project::new(&yaml, &[("s/t/task.yaml", task)])
}

/// A running harness whose stdout lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(project: &Project, args: &[&str]) -> Self {
        let mut child = project
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `text`.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let found = line.contains(text);
                self.seen.push(line);
                if found {
                    return;
                }
            }
        }
        panic!("no line with {text:?} in:\n{}", self.seen.join("\n"));
    }

    fn interrupt(&self) {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT).unwrap();
    }

    /// Waits for the exit (bounded) and returns the status and the whole output.
    fn finish(mut self) -> (Option<i32>, String, Duration) {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "harness did not exit:\n{}",
                self.seen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let elapsed = started.elapsed();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        (status.code(), self.seen.join("\n"), elapsed)
    }
}

#[test]
fn first_interrupt_stops_the_script_runs_restores_and_discards() {
    let project = project(
        "summary: t\nexecute: |\n  echo started\n  sleep 300\nrestore: echo task-restored\n",
    );
    let mut running = Running::start(&project, &["-v"]);
    running.wait_for("Executing docker:debian-12:s/t");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        project.containers().len(),
        1,
        "the run's container is labelled with the project"
    );
    running.interrupt();
    let (status, output, elapsed) = running.finish();
    assert_eq!(status, Some(1), "{output}");
    assert!(
        elapsed < Duration::from_secs(60),
        "took {elapsed:?}:\n{output}"
    );
    assert!(output.contains("Interrupted: stopping"), "{output}");
    assert!(
        output.contains("task-restored") && output.contains("project-restored"),
        "{output}"
    );
    assert!(output.contains("Aborted tasks: 1"), "{output}");
    assert!(project.containers().is_empty(), "{output}");
}

#[test]
fn second_interrupt_discards_now_even_when_a_restore_hangs() {
    let project =
        project("summary: t\nexecute: sleep 300\nrestore: |\n  echo restore-hangs\n  sleep 300\n");
    let mut running = Running::start(&project, &[]);
    running.wait_for("Executing docker:debian-12:s/t");
    std::thread::sleep(Duration::from_millis(500));
    running.interrupt();
    running.wait_for("Restoring docker:debian-12:s/t");
    std::thread::sleep(Duration::from_millis(500));
    running.interrupt();
    let (status, output, elapsed) = running.finish();
    assert_eq!(status, Some(1), "{output}");
    assert!(
        elapsed < Duration::from_secs(30),
        "took {elapsed:?}:\n{output}"
    );
    assert!(
        output.contains("Interrupted again: discarding now."),
        "{output}"
    );
    assert!(
        !output.contains("Failed task restore"),
        "an abandoned restore did not fail\n{output}"
    );
    assert!(project.containers().is_empty(), "{output}");
}

#[test]
fn kill_timeout_kills_the_whole_process_tree_and_warn_timeout_shows_output() {
    // The pattern `sleep 6[0]0` matches the sleeps but not the restore script's own text.
    let task = "summary: t\nwarn-timeout: 1s\nkill-timeout: 4s\nexecute: |\n  echo before-hang\n  (sleep 600; echo never) &\n  sleep 600\n\
                restore: |\n  for f in /proc/[0-9]*/cmdline; do\n    if tr '\\0' ' ' < $f 2>/dev/null | grep -q 'sleep 6[0]0'; then echo still-alive; exit 1; fi\n  done\n  echo tree-gone\n";
    let project = project(task);
    let run = project.harness(&["-v"]);
    assert_eq!(run.status, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains("WARNING: docker:debian-12:s/t (")
            && run.stdout.contains("before-hang"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("running late (") && run.stdout.contains("s). Output unchanged."),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("<kill-timeout reached>"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("tree-gone"), "{}", run.all());
    assert_eq!(
        run.summary(),
        "Successful tasks: 0\nAborted tasks: 0\nFailed tasks: 1\n    - docker:debian-12:s/t"
    );
    assert!(project.containers().is_empty());
}

/// A run future dropped half-way (what unwinding from a panic does to it) still discards its
/// machines: the cleanup guard runs on drop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_run_discards_its_machines() {
    use std::sync::Arc;

    use harness::backend::docker::{self, DockerBackend};
    use harness::runner::{self, Event, Reporter, signals::Stop};

    struct Silent;
    impl Reporter for Silent {
        fn event(&self, _: &Event) {}
    }

    let fixture = tokio::task::spawn_blocking(|| project("summary: t\nexecute: sleep 300\n"))
        .await
        .unwrap();
    let root = fixture.path().to_owned();
    let (loaded, jobs, options) =
        run_support::in_process_run(&root, format!("drop{}", std::process::id()));
    let backend = Arc::new(DockerBackend::new(docker::connect().await.unwrap()));
    let run = tokio::spawn({
        let backend = backend.clone();
        async move {
            runner::run(
                backend,
                &loaded,
                jobs,
                options,
                Arc::new(Silent),
                Stop::default(),
            )
            .await
        }
    });

    let labelled = || {
        let backend = backend.clone();
        let root = root.display().to_string();
        async move {
            backend
                .list(&[(docker::LABEL_PROJECT, &root)])
                .await
                .unwrap()
                .len()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while labelled().await == 0 {
        assert!(
            Instant::now() < deadline,
            "the run never allocated a machine"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the machine reach the running script.
    tokio::time::sleep(Duration::from_secs(1)).await;
    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());
    assert_eq!(
        labelled().await,
        0,
        "the guard removed the machine before the run finished dropping"
    );
    tokio::task::spawn_blocking(move || drop(fixture))
        .await
        .unwrap();
}
