//! `cargo xtask images`: the release binaries, then each image with progress.

use std::path::Path;

use harness::images::{self, ImageRef};

use crate::build;

/// Builds `names` (every recipe when empty) after the release binaries they carry.
pub async fn build(root: &Path, names: &[String]) -> anyhow::Result<()> {
    let names = if names.is_empty() {
        images::list(root)?
    } else {
        names.to_vec()
    };
    // A misspelt name should not cost a release build first.
    for name in &names {
        images::recipe::load(root, name)?;
    }
    build::release_binaries(root)?;
    ensure(root, &names).await?;
    Ok(())
}

/// Ensures each image in turn (sequentially: the machine has few cores to share).
pub async fn ensure(root: &Path, names: &[String]) -> anyhow::Result<Vec<ImageRef>> {
    let docker = images::connect().await?;
    let progress = images::progress::for_stderr();
    let mut built = Vec::new();
    for name in names {
        built.push(images::ensure(&docker, root, name, progress.as_ref()).await?);
    }
    Ok(built)
}
