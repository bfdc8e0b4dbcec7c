//! The `harness` command line: spread's flags (single- or double-dash), selection arguments,
//! and the top-level flow — list, garbage-collect, discard kept machines, or run.
//!
//! Library errors become messages here; the exit status is 0 only when everything passed.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Parser;

use crate::backend::docker::{self, DockerBackend};
use crate::report::{Fanout, junit::Junit, progress::Console};
use crate::runner::reuse::ReuseRecords;
use crate::runner::signals::Stop;
use crate::runner::{self, Event, Options, Reporter};
use crate::script::HostEvaluator;
use crate::{env, expand, images, project, select};

/// Run spread tasks on Docker containers.
///
/// Reads spread.yaml (or .spread.yaml) from the current directory or the nearest parent,
/// expands it into jobs named backend:system:suite/task[:variant] and runs the selected ones.
/// Flags take one dash or two (-list or --list).
#[derive(Debug, Parser)]
#[command(name = "harness", version, disable_help_flag = false)]
pub struct Args {
    /// Just show the list of jobs that would run, one per line, sorted.
    #[arg(long)]
    pub list: bool,
    /// Show detailed progress information: the output of every script.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Show debugging messages as well: the full text of every script sent.
    #[arg(long = "vv")]
    pub very_verbose: bool,
    /// Run a shell at the point of a script error, with the job's environment, then continue.
    #[arg(long)]
    pub debug: bool,
    /// Run a shell instead of each task's execute script.
    #[arg(long)]
    pub shell: bool,
    /// Run a shell before each task's execute script.
    #[arg(long = "shell-before")]
    pub shell_before: bool,
    /// Run a shell after each task's execute script.
    #[arg(long = "shell-after")]
    pub shell_after: bool,
    /// Stop on the first error without running restore scripts (machines are still discarded
    /// unless -reuse is given).
    #[arg(long)]
    pub abend: bool,
    /// Keep machines for reuse and reuse machines kept earlier (recorded in .spread-reuse.yaml).
    #[arg(long)]
    pub reuse: bool,
    /// Send the project content again to reused machines.
    #[arg(long)]
    pub resend: bool,
    /// Discard the machines kept by -reuse, without running anything.
    #[arg(long)]
    pub discard: bool,
    /// Run only the restore scripts on machines kept by -reuse, then discard them (unless
    /// -reuse is given again).
    #[arg(long)]
    pub restore: bool,
    /// Seed for the random job order; the seed used is printed (0 picks one).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run every job this many more times.
    #[arg(long, default_value_t = 0)]
    pub repeat: u32,
    /// Store each task's artifacts under DIR/<job name>/.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Remove containers left behind by harness processes that no longer exist (those kept
    /// with -reuse and still recorded are left alone), then exit.
    #[arg(long)]
    pub gc: bool,
    /// Write a JUnit XML report of the run to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Select jobs: components of backend:system:suite/task:variant, `...` as a wildcard,
    /// a leading or trailing `/` to match tasks partially (spread's rules).
    #[arg(value_name = "SELECTION")]
    pub selection: Vec<String>,
}

/// Accepts spread's single-dash long flags (`-list`, `-seed=3`, `-vv`) by doubling the dash;
/// `-v`, `-h` and arguments after `--` are left alone.
pub fn normalise(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut after_separator = false;
    args.into_iter()
        .enumerate()
        .map(|(index, arg)| {
            let text = arg.to_string_lossy();
            if index == 0 || after_separator {
                return arg;
            }
            if text == "--" {
                after_separator = true;
                return arg;
            }
            let single_dash_long =
                text.starts_with('-') && !text.starts_with("--") && text.len() > 2;
            if single_dash_long {
                format!("-{text}").into()
            } else {
                arg
            }
        })
        .collect()
}

/// Runs the command line and returns the process exit status.
pub fn main() -> ExitCode {
    let args = Args::parse_from(normalise(std::env::args_os()));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(execute(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Does what `args` ask; `Ok(false)` when a run had failures.
pub async fn execute(args: Args) -> Result<bool> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let project = Arc::new(project::load(&cwd)?);
    if args.list {
        for name in select::list(&project, &args.selection)? {
            println!("{name}");
        }
        return Ok(true);
    }
    let backend = Arc::new(DockerBackend::new(docker::connect().await?));
    let console: Arc<dyn Reporter> = Arc::new(Console::new());
    if args.gc {
        collect_garbage(&backend, console.as_ref()).await?;
        return Ok(true);
    }
    if args.discard {
        let count = runner::discard_kept(backend.as_ref(), &project, console.as_ref()).await?;
        console.event(&Event::Notice(format!("Discarded {count} kept machines.")));
        return Ok(true);
    }
    if args.shell || args.shell_before || args.shell_after || args.debug {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            bail!(
                "-shell, -shell-before, -shell-after and -debug need a terminal on standard input"
            );
        }
    }
    // The host commands these keys need run here, before anything is created; -list above
    // does not need the keys, so it runs none (unlike spread's, see docs/SPREAD-FORMAT.md).
    let host = Arc::new(HostEvaluator::default());
    let project = Arc::new(env::expand_project_fields(&project, &host)?);
    let jobs = select::select(expand::expand(&project)?, &args.selection)?;
    let pinned_images = ensure_images(&backend, &project.root, &jobs).await?;
    let options = options(&args, &project.root, pinned_images, host);
    let mut reporters = vec![console.clone()];
    if let Some(path) = &args.junit {
        reporters.push(Arc::new(Junit::new(path.clone())));
    }
    let reporter: Arc<dyn Reporter> = Arc::new(Fanout(reporters));
    let stop = Stop::default();
    let notices = console.clone();
    stop.listen(move |text| notices.event(&Event::Notice(text.to_owned())))
        .map_err(runner::RunError::Signals)?;
    let run_id = options.run_id.clone();
    let result = runner::run(backend.clone(), &project, jobs, options, reporter, stop).await;
    sweep(&backend, &run_id, &project.root, console.as_ref()).await;
    Ok(result?.is_success())
}

/// Builds the `e2e/NAME` images the selected systems use from the nearest `images/NAME/`
/// recipe above the project (only what is missing or outdated is built), and returns the exact
/// tag of each, keyed by the image name as the systems give it.
async fn ensure_images(
    backend: &DockerBackend,
    root: &Path,
    jobs: &[expand::Job],
) -> Result<BTreeMap<String, String>> {
    let wanted: BTreeSet<&str> = jobs
        .iter()
        .filter_map(|job| job.system.image.as_deref())
        .collect();
    let mut pinned = BTreeMap::new();
    for image in wanted {
        let Some(name) = images::recipe_name(image) else {
            continue;
        };
        let recipe = Path::new("images").join(name).join("recipe.yaml");
        let Some(repo) = root.ancestors().find(|dir| dir.join(&recipe).is_file()) else {
            continue;
        };
        let progress = images::progress::for_stderr();
        let built = images::ensure(backend.docker(), repo, name, progress.as_ref()).await?;
        pinned.insert(image.to_owned(), built.tag);
    }
    Ok(pinned)
}

fn options(
    args: &Args,
    root: &Path,
    pinned_images: BTreeMap<String, String>,
    host: Arc<HostEvaluator>,
) -> Options {
    let seed = if args.seed != 0 {
        args.seed
    } else {
        random_nonzero()
    };
    Options {
        verbosity: if args.very_verbose {
            2
        } else {
            u8::from(args.verbose)
        },
        debug: args.debug,
        shell: args.shell,
        shell_before: args.shell_before,
        shell_after: args.shell_after,
        abend: args.abend,
        reuse: args.reuse,
        resend: args.resend,
        restore: args.restore,
        seed,
        repeat: args.repeat,
        artifacts: args.artifacts.as_ref().map(|dir| absolute(dir)),
        run_id: format!("{:08x}", random_nonzero() as u32),
        project_root: root.to_owned(),
        pinned_images,
        host,
    }
}

fn random_nonzero() -> u64 {
    loop {
        let value: u64 = rand::random();
        if value != 0 {
            return value % 1_000_000_000_000;
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Belt and braces after a run: removes any container labelled with this run that is not
/// recorded for reuse (workers and the cleanup guard normally leave none).
async fn sweep(backend: &DockerBackend, run_id: &str, root: &Path, reporter: &dyn Reporter) {
    let kept = ReuseRecords::load(root).unwrap_or_default();
    let Ok(found) = backend.list(&[(docker::LABEL_RUN, run_id)]).await else {
        return;
    };
    for (id, _) in found.into_iter().filter(|(id, _)| !kept.contains(id)) {
        reporter.event(&Event::Notice(format!("Removing leftover container {id}.")));
        let _ = backend.remove(&id).await;
    }
}

/// `-gc`: removes harness containers whose creating process is gone, unless a project's reuse
/// file still records them.
async fn collect_garbage(backend: &DockerBackend, reporter: &dyn Reporter) -> Result<()> {
    let mut removed = 0;
    for (id, labels) in backend.list(&[(docker::LABEL, "1")]).await? {
        let alive = labels
            .get(docker::LABEL_PID)
            .is_some_and(|pid| Path::new("/proc").join(pid).exists());
        let kept = labels
            .get(docker::LABEL_PROJECT)
            .and_then(|project| ReuseRecords::load(Path::new(project)).ok())
            .is_some_and(|records| records.contains(&id));
        if !alive && !kept {
            reporter.event(&Event::Notice(format!("Removing orphaned container {id}.")));
            backend.remove(&id).await?;
            removed += 1;
        }
    }
    reporter.event(&Event::Notice(format!(
        "Garbage collection removed {removed} containers."
    )));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Args {
        Args::try_parse_from(normalise(args.iter().map(OsString::from))).unwrap()
    }

    #[test]
    fn single_and_double_dash_spellings_agree() {
        let single = parse(&[
            "harness",
            "-list",
            "-seed=7",
            "-repeat",
            "2",
            "-vv",
            "-v",
            "-artifacts=out",
            "docker:",
        ]);
        let double = parse(&[
            "harness",
            "--list",
            "--seed",
            "7",
            "--repeat=2",
            "--vv",
            "--verbose",
            "--artifacts",
            "out",
            "docker:",
        ]);
        assert_eq!(format!("{single:?}"), format!("{double:?}"));
        assert!(single.list && single.very_verbose && single.verbose);
        assert_eq!((single.seed, single.repeat), (7, 2));
        assert_eq!(single.selection, ["docker:"]);
    }

    #[test]
    fn arguments_after_the_separator_are_selections() {
        let args = parse(&["harness", "-reuse", "--", "-odd"]);
        assert!(args.reuse);
        assert_eq!(args.selection, ["-odd"]);
    }
}
