//! `cargo xtask bench`: the workspace benchmarks (`cargo bench --workspace`), then the image
//! build benchmark — a cold build of the debian-12 recipe, the cached `ensure` of the same
//! image, and the rebuild after the system under test changed (only the `copy:` layer).
//! The figures go in docs/PERFORMANCE.md.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use harness::images::{self, progress::Silent};

use crate::build;

/// How many cached `ensure` calls the cached figure averages.
const CACHED_ROUNDS: u32 = 10;

/// The benchmarks `cargo xtask bench` can run.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// `cargo bench --workspace`.
    Workspace,
    /// Cold against cached image builds.
    Images,
}

pub async fn run(root: &Path, parts: &[Part]) -> anyhow::Result<()> {
    let wanted = |part| parts.is_empty() || parts.contains(&part);
    if wanted(Part::Workspace) {
        build::run(
            std::process::Command::new(build::cargo())
                .args(["bench", "--workspace"])
                .current_dir(root),
        )?;
    }
    if wanted(Part::Images) {
        build::release_binaries(root)?;
        image_build(root).await?;
    }
    Ok(())
}

/// Builds the debian-12 recipe under a throwaway name (so that no stage is cached), in a
/// scratch copy of the repository's image inputs, and removes its images afterwards.
async fn image_build(root: &Path) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let name = format!("bench-debian-12-{}", std::process::id());
    let recipe_dir = scratch.path().join("images").join(&name);
    std::fs::create_dir_all(&recipe_dir)?;
    std::fs::create_dir_all(scratch.path().join("images/common"))?;
    std::fs::copy(
        root.join("images/debian-12/recipe.yaml"),
        recipe_dir.join("recipe.yaml"),
    )?;
    let forwarder = scratch.path().join("images/common/snap");
    std::fs::copy(root.join("images/common/snap"), &forwarder)?;
    std::os::unix::fs::symlink(root.join("target"), scratch.path().join("target"))?;

    let docker = images::connect().await?;
    let figures = measure(&docker, scratch.path(), &name, &forwarder).await;
    let removed = images::remove(&docker, &name).await;
    let (cold, cached, copy_only) = figures?;
    removed.with_context(|| format!("removing the benchmark's images e2e/{name}"))?;

    println!(
        "image build (debian-12 recipe, {} cores):",
        std::thread::available_parallelism()?
    );
    println!(
        "  cold build (mmdebstrap + import + copy layer): {}",
        seconds(cold)
    );
    println!(
        "  cached ensure (no-op), mean of {CACHED_ROUNDS}:       {}",
        millis(cached)
    );
    println!(
        "  system under test changed (copy layer only):   {}",
        seconds(copy_only)
    );
    println!(
        "  cold / cached: {:.0}x",
        cold.as_secs_f64() / cached.as_secs_f64()
    );
    Ok(())
}

async fn measure(
    docker: &bollard::Docker,
    scratch: &Path,
    name: &str,
    forwarder: &Path,
) -> anyhow::Result<(Duration, Duration, Duration)> {
    let started = Instant::now();
    let first = images::ensure(docker, scratch, name, &Silent).await?;
    let cold = started.elapsed();
    anyhow::ensure!(
        first.built.is_some(),
        "the cold build found e2e/{name} already built"
    );

    let started = Instant::now();
    for _ in 0..CACHED_ROUNDS {
        let again = images::ensure(docker, scratch, name, &Silent).await?;
        anyhow::ensure!(
            again.built.is_none(),
            "the cached ensure rebuilt e2e/{name}"
        );
    }
    let cached = started.elapsed() / CACHED_ROUNDS;

    let mut script = std::fs::read_to_string(forwarder)?;
    script.push_str("# changed by cargo xtask bench\n");
    std::fs::write(forwarder, script)?;
    let started = Instant::now();
    let rebuilt = images::ensure(docker, scratch, name, &Silent).await?;
    let copy_only = started.elapsed();
    anyhow::ensure!(
        rebuilt.hash != first.hash,
        "changing a copy input kept the image hash"
    );
    Ok((cold, cached, copy_only))
}

fn seconds(took: Duration) -> String {
    format!("{:.1} s", took.as_secs_f64())
}

fn millis(took: Duration) -> String {
    format!("{:.1} ms", took.as_secs_f64() * 1000.0)
}
