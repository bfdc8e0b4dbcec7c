//! Runner benchmarks on real containers (not a timed test; figures go in docs/PERFORMANCE.md):
//! container allocation, per-job overhead, the reference runner's 24-job project, and the
//! speed-up from a second worker.
//!
//! `cargo bench -p harness --bench run_overhead` (also part of `cargo xtask bench`).

#[path = "../tests/run_support/mod.rs"]
mod run_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::backend::docker::{self, DockerBackend};
use harness::backend::{Backend, Machine, MachineRequest};
use harness::runner::{self, Event, Reporter, signals::Stop};
use run_support::IMAGE;

const ALLOCATIONS: u32 = 10;

/// Keeps only what the benchmark needs: the run's failures.
struct Quiet;

impl Reporter for Quiet {
    fn event(&self, event: &Event) {
        if let Event::StepFailed {
            context, detail, ..
        } = event
        {
            eprintln!("benchmark run failed at {context}: {detail}");
        }
    }
}

fn main() {
    run_support::ensure_image();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let docker = docker::connect().await.expect("Docker must be reachable");
        let backend = Arc::new(DockerBackend::new(docker));
        report(backend).await;
    });
}

async fn report(backend: Arc<DockerBackend>) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("harness runner benchmarks ({cores} cores, image {IMAGE}; runs: median of {ROUNDS})");

    let (allocate, discard) = allocation(&backend).await;
    println!(
        "  container allocation (create + start), mean of {ALLOCATIONS}: {}",
        ms(allocate)
    );
    println!(
        "  container discard (forced remove), mean of {ALLOCATIONS}:     {}",
        ms(discard)
    );

    let empty = run_project(&backend, 50, 1, "true").await;
    let per_job = (empty.saturating_sub(allocate + discard)) / 50;
    println!(
        "  50 empty tasks, 1 worker: {} wall; per-job overhead {}",
        secs(empty),
        ms(per_job)
    );

    let reference = Duration::from_millis(3400);
    let small = run_project(&backend, 24, 3, "echo small job; test -d /home").await;
    println!(
        "  24 small jobs, 3 workers: {} wall (reference runner over ssh: {}; {:.1}x faster)",
        secs(small),
        secs(reference),
        reference.as_secs_f64() / small.as_secs_f64()
    );

    for (what, tasks, execute) in [
        ("12 jobs of 0.5 s", 12, "sleep 0.5"),
        ("24 empty jobs", 24, "true"),
    ] {
        let one = run_project(&backend, tasks, 1, execute).await;
        let two = run_project(&backend, tasks, 2, execute).await;
        println!(
            "  {what}: 1 worker {}, 2 workers {}; speed-up {:.2}x",
            secs(one),
            secs(two),
            one.as_secs_f64() / two.as_secs_f64()
        );
    }
}

/// Mean time to allocate and to discard one container.
async fn allocation(backend: &DockerBackend) -> (Duration, Duration) {
    let mut allocating = Duration::ZERO;
    let mut discarding = Duration::ZERO;
    for index in 1..=ALLOCATIONS {
        let request = MachineRequest {
            system: "docker:bench-1".into(),
            image: IMAGE.into(),
            run_id: format!("bench{}", std::process::id()),
            worker: index as usize,
            project: "benchmark".into(),
            options: Default::default(),
        };
        let started = Instant::now();
        let machine = backend.allocate(&request).await.expect("allocate");
        allocating += started.elapsed();
        let started = Instant::now();
        machine.discard().await.expect("discard");
        discarding += started.elapsed();
    }
    (allocating / ALLOCATIONS, discarding / ALLOCATIONS)
}

/// Runs per figure; the median is reported (the machine is shared and noisy).
const ROUNDS: usize = 3;

/// Median wall time of a whole run (allocate, send, jobs, discard) of `tasks` tasks on one
/// system, over [`ROUNDS`] runs.
async fn run_project(
    backend: &Arc<DockerBackend>,
    tasks: usize,
    workers: usize,
    execute: &str,
) -> Duration {
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        times.push(run_once(backend, tasks, workers, execute).await);
    }
    times.sort();
    times[ROUNDS / 2]
}

async fn run_once(
    backend: &Arc<DockerBackend>,
    tasks: usize,
    workers: usize,
    execute: &str,
) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "project: bench\npath: /home/bench\n{}suites:\n  tasks/:\n    summary: benchmark tasks\n",
        run_support::docker_backend(workers, "")
    );
    let task_files: Vec<(String, String)> = (0..tasks)
        .map(|index| {
            (
                format!("tasks/t{index:02}/task.yaml"),
                format!("summary: t{index}\nexecute: {execute}\n"),
            )
        })
        .collect();
    run_support::write_project(dir.path(), &yaml, &task_files);
    let (project, jobs, options) =
        run_support::in_process_run(dir.path(), format!("bench{}", std::process::id()));
    let started = Instant::now();
    let summary = runner::run(
        backend.clone(),
        &project,
        jobs,
        options,
        Arc::new(Quiet),
        Stop::default(),
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        summary.successful.len(),
        tasks,
        "every benchmark job passes: {summary:?}"
    );
    elapsed
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
