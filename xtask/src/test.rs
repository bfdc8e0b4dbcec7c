//! `cargo xtask test`: the README's test command. Images first (so that a broken recipe shows
//! up before anything else), then the unit and integration tests, then the whole e2e matrix.
//! The matrix runs even when a test failed, so that one run shows everything that is broken.

use std::path::Path;
use std::process::Command;

use crate::build;

/// `Ok(false)` when the tests or the matrix failed.
pub async fn run(root: &Path) -> anyhow::Result<bool> {
    crate::images::build(root, &[]).await?;
    let tests = Command::new(build::cargo())
        .args(["nextest", "run", "--workspace", "--no-fail-fast"])
        .current_dir(root)
        .status()?
        .success();
    let matrix = crate::e2e::run(root, &[]).await?;
    eprintln!(
        "cargo xtask test: tests {}, e2e matrix {}",
        verdict(tests),
        verdict(matrix)
    );
    Ok(tests && matrix)
}

fn verdict(passed: bool) -> &'static str {
    if passed { "passed" } else { "FAILED" }
}
