//! The real spread inputs under /work/shared/corpus: every project loads and expands, every
//! task.yaml parses, and snapd's job list matches the reference runner's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use harness::expand::expand;
use harness::project::{self, Project};
use harness::select::list;

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

#[test]
fn snapd_lists_the_reference_runners_jobs() {
    let project = load("snapd");
    let names = list(&project, &[]).unwrap();
    assert_eq!(names.len(), 60_262);
    let tasks: std::collections::BTreeSet<&str> = names
        .iter()
        .map(|name| name.split(':').nth(2).unwrap())
        .collect();
    assert_eq!(tasks.len(), 688);
    let machines: std::collections::BTreeSet<String> = names
        .iter()
        .map(|name| name.split(':').take(2).collect::<Vec<_>>().join(":"))
        .collect();
    assert_eq!(machines.len(), 112);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "-list output is sorted");
}
