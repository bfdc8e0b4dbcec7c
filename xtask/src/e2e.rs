//! `cargo xtask e2e`: build what the suites use, build the images of the systems the arguments
//! select, then run the `harness` binary in `suites/` with the arguments passed through.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use anyhow::Context;
use harness::images;

use crate::build;

/// The spread project the suites form.
pub const SUITES_DIR: &str = "suites";

/// Flags after which nothing runs in a container, so neither the system under test nor the
/// images are needed.
const NO_RUN_FLAGS: &[&str] = &["list", "h", "help", "discard", "gc"];

/// Flags whose next argument is their value, not a job selector.
const VALUE_FLAGS: &[&str] = &["seed", "repeat", "artifacts", "junit"];

/// Runs the harness with `args`; `Ok(false)` when the harness reported failures.
pub async fn run(root: &Path, args: &[String]) -> anyhow::Result<bool> {
    if args.iter().any(|arg| NO_RUN_FLAGS.contains(&flag_name(arg))) {
        build::harness_binary(root)?;
    } else {
        build::release_binaries(root)?;
        build::test_snaps(root)?;
        let needed = images_selected(root, args)?;
        crate::images::ensure(root, &needed).await?;
    }
    let harness = build::harness_path(root);
    let status = Command::new(&harness)
        .args(args)
        .current_dir(root.join(SUITES_DIR))
        .status()
        .with_context(|| format!("cannot start {}", harness.display()))?;
    Ok(status.success())
}

/// The recipes behind the docker systems of the jobs `args` select.
fn images_selected(root: &Path, args: &[String]) -> anyhow::Result<Vec<String>> {
    let project = harness::project::load(&root.join(SUITES_DIR))?;
    let jobs = harness::expand::expand(&Arc::new(project))?;
    let jobs = harness::select::select(jobs, &selectors(args))?;
    let names: BTreeSet<String> = jobs
        .iter()
        .filter(|job| job.backend.kind == "docker")
        .filter_map(|job| job.system.image.as_deref())
        .filter_map(images::recipe_name)
        .map(str::to_string)
        .collect();
    Ok(names.into_iter().collect())
}

/// The job selectors among spread's arguments: everything but flags and their values.
fn selectors(args: &[String]) -> Vec<String> {
    let mut selectors = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if !arg.starts_with('-') {
            selectors.push(arg.clone());
        } else if VALUE_FLAGS.contains(&flag_name(arg)) && !arg.contains('=') {
            args.next();
        }
    }
    selectors
}

/// `-list`, `--list` and `--list=x` all name `list`.
fn flag_name(arg: &str) -> &str {
    let name = arg.trim_start_matches('-');
    let name = name.split_once('=').map_or(name, |(name, _)| name);
    if arg.starts_with('-') { name } else { "" }
}
