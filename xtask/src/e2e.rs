//! `cargo xtask e2e`: build what the suites use (the release `snapcell`, `probe` and `harness`,
//! and the test snaps), then run the `harness` binary in `suites/` with the arguments passed
//! through. The harness builds the missing images of the systems it is about to run.
//!
//! The project is `suites/spread.yaml`, so its suites are named `refusal/`, `smoke/`, ...;
//! selectors naming them from the repository root (`docker:solus-like:suites/refusal/`) are
//! accepted too.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Child, Command, ExitStatus};

use anyhow::Context;

use crate::build;

/// The spread project the suites form.
pub const SUITES_DIR: &str = "suites";

/// Flags after which nothing runs in a container, so the system under test is not needed.
const NO_RUN_FLAGS: &[&str] = &["list", "h", "help", "discard", "gc"];

/// Flags whose value may come as the next argument, which is then not a selector.
const VALUE_FLAGS: &[&str] = &["seed", "repeat", "artifacts", "junit"];

/// Flags whose value is a path: made absolute, since the harness runs in `suites/` and the
/// user means a path from where they are.
const PATH_FLAGS: &[&str] = &["artifacts", "junit"];

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
    let child = Command::new(&harness)
        .args(harness_args(args))
        .current_dir(root.join(SUITES_DIR))
        .spawn()
        .with_context(|| format!("cannot start {}", harness.display()))?;
    Ok(wait_through_interrupts(child).await?.success())
}

/// Waits for the harness, surviving Ctrl-C. The terminal sends SIGINT to the whole foreground
/// group; the harness handles it (first: restore and discard, second: discard now), and the
/// user's prompt must not come back before it has finished cleaning up.
async fn wait_through_interrupts(mut child: Child) -> anyhow::Result<ExitStatus> {
    let wait = tokio::task::spawn_blocking(move || child.wait());
    tokio::pin!(wait);
    loop {
        tokio::select! {
            status = &mut wait => return Ok(status.context("waiting for the harness")??),
            _ = tokio::signal::ctrl_c() => {}
        }
    }
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

/// `args` with their selectors rewritten by `from_suites_dir` and their paths made absolute.
fn harness_args(args: &[String]) -> Vec<OsString> {
    let mut value_of: Option<&str> = None;
    args.iter()
        .map(|arg| {
            if let Some(flag) = value_of.take() {
                return if PATH_FLAGS.contains(&flag) {
                    absolute(arg)
                } else {
                    arg.into()
                };
            }
            let flag = flag_name(arg);
            match arg.split_once('=') {
                _ if !arg.starts_with('-') => from_suites_dir(arg),
                Some((name, path)) if PATH_FLAGS.contains(&flag) => {
                    let mut joined = OsString::from(format!("{name}="));
                    joined.push(absolute(path));
                    joined
                }
                Some(_) => arg.into(),
                None => {
                    value_of = VALUE_FLAGS.contains(&flag).then_some(flag);
                    arg.into()
                }
            }
        })
        .collect()
}

fn absolute(path: &str) -> OsString {
    std::path::absolute(path).map_or_else(|_| path.into(), Into::into)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(args: &[&str]) -> Vec<String> {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        harness_args(&args)
            .into_iter()
            .map(|arg| arg.into_string().unwrap())
            .collect()
    }

    #[test]
    fn suites_dir_selectors_name_the_suite_and_the_rest_passes_through() {
        assert_eq!(
            rewritten(&[
                "-debug",
                "docker:solus-like:suites/refusal/",
                "suites/smoke/probe",
                "-seed",
                "7"
            ]),
            [
                "-debug",
                "docker:solus-like:refusal/",
                "smoke/probe",
                "-seed",
                "7"
            ]
        );
        assert_eq!(rewritten(&["-list", "refusal/"]), ["-list", "refusal/"]);
    }

    #[test]
    fn report_paths_are_made_absolute_from_where_the_user_is() {
        let cwd = std::env::current_dir().unwrap();
        let out = cwd.join("suites/out.xml").display().to_string();
        assert_eq!(
            rewritten(&["-junit", "suites/out.xml"]),
            ["-junit", out.as_str()]
        );
        assert_eq!(
            rewritten(&["--junit=suites/out.xml"]),
            [format!("--junit={out}")]
        );
        assert_eq!(
            rewritten(&["-artifacts", "/tmp/a"]),
            ["-artifacts", "/tmp/a"]
        );
    }

    #[test]
    fn flags_are_named_with_one_or_two_dashes_and_values() {
        assert_eq!(flag_name("-list"), "list");
        assert_eq!(flag_name("--junit=x"), "junit");
        assert_eq!(flag_name("docker:debian-12:"), "");
    }
}
