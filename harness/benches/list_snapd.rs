//! `harness -list` on the snapd corpus: load spread.yaml and its 795 task.yaml files, expand
//! to every job, select (no arguments: manual jobs dropped), and print the 60,262 sorted names
//! to a sink. Reports wall time per run and the process's peak resident memory (VmHWM), which
//! covers all runs since nothing else happens in this process.
//!
//! Run: `cargo bench -p harness --bench list_snapd` (RUNS=N to change the number of runs).

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::project;
use harness::select::list;

const SNAPD_JOBS: usize = 60_262;

fn main() {
    let snapd = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/snapd");
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let mut times: Vec<Duration> = (0..runs).map(|_| list_once(&snapd)).collect();
    times.sort();
    let millis = |duration: Duration| duration.as_secs_f64() * 1000.0;
    println!(
        "list_snapd: {runs} runs, {SNAPD_JOBS} jobs: median {:.0} ms, min {:.0} ms, max {:.0} ms; \
         peak RSS {} MiB",
        millis(times[runs / 2]),
        millis(times[0]),
        millis(times[runs - 1]),
        peak_rss_kib() / 1024,
    );
}

fn list_once(dir: &Path) -> Duration {
    let start = Instant::now();
    let project = Arc::new(project::load(dir).unwrap_or_else(|error| panic!("{error}")));
    let names = list(&project, &[]).unwrap_or_else(|error| panic!("{error}"));
    let mut sink = BufWriter::new(std::io::sink());
    for name in &names {
        writeln!(sink, "{name}").expect("writing to a sink");
    }
    sink.flush().expect("writing to a sink");
    let elapsed = start.elapsed();
    assert_eq!(names.len(), SNAPD_JOBS);
    elapsed
}

/// Peak resident set size of this process so far, from /proc/self/status.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}
