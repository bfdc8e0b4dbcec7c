//! `cargo xtask e2e`: build what the suites use (the release `snapcell`, `probe` and `harness`,
//! and the test snaps), then run the `harness` binary in `suites/` with the arguments passed
//! through. The harness builds the missing images of the systems it is about to run.
//!
//! The project is `suites/spread.yaml`, so its suites are named `refusal/`, `smoke/`, ...;
//! selectors naming them from the repository root (`docker:solus-like:suites/refusal/`) are
//! accepted too.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use anyhow::Context;

use crate::build;

/// The spread project the suites form.
pub const SUITES_DIR: &str = "suites";

/// Flags after which nothing runs in a container, so the system under test is not needed.
const NO_RUN_FLAGS: &[&str] = &["list", "h", "help", "discard", "gc"];

/// Flags whose value may come as the next argument, which is then not a selector.
const VALUE_FLAGS: &[&str] = &["seed", "repeat", "artifacts", "junit"];

/// Runs the harness with `args`; `Ok(false)` when the harness reported failures.
pub async fn run(root: &Path, args: &[String]) -> anyhow::Result<bool> {
    if args
        .iter()
        .any(|arg| NO_RUN_FLAGS.contains(&flag_name(arg)))
    {
        build::harness_binary(root)?;
    } else {
        build::release_binaries(root)?;
        build::test_snaps(root)?;
    }
    let harness = build::harness_path(root);
    let status = Command::new(&harness)
        .args(harness_args(args))
        .current_dir(root.join(SUITES_DIR))
        .status()
        .with_context(|| format!("cannot start {}", harness.display()))?;
    Ok(status.success())
}

/// `-list`, `--list` and `--list=x` all name `list`; other arguments name nothing.
fn flag_name(arg: &str) -> &str {
    match arg.strip_prefix('-') {
        Some(flag) => {
            let flag = flag.trim_start_matches('-');
            flag.split_once('=').map_or(flag, |(name, _)| name)
        }
        None => "",
    }
}

/// `args` with their selectors rewritten by `from_suites_dir`.
fn harness_args(args: &[String]) -> Vec<OsString> {
    let mut value_expected = false;
    args.iter()
        .map(|arg| {
            let is_value = std::mem::take(&mut value_expected);
            value_expected = VALUE_FLAGS.contains(&flag_name(arg)) && !arg.contains('=');
            if is_value || arg.starts_with('-') {
                arg.into()
            } else {
                from_suites_dir(arg)
            }
        })
        .collect()
}

/// A selector's `suites/X/` components become `X/`: the suite's name in `suites/spread.yaml`.
fn from_suites_dir(arg: &str) -> OsString {
    let prefix = format!("{SUITES_DIR}/");
    arg.split(':')
        .map(|component| component.strip_prefix(&prefix).unwrap_or(component))
        .collect::<Vec<_>>()
        .join(":")
        .into()
}
