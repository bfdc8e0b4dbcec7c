//! `snapcell`: install, run and inspect confined snaps. A thin shell over the `policy` library:
//! argument parsing, output, and `error: <one paragraph>` with exit status 1.
//!
//! Invoked through a `/snap/bin` symlink (argv[0] not `snapcell`), it means
//! `snapcell run <argv0's file name> ARGS...`.
//!
//! `main` is the C entry point, without Rust's runtime setup (`#![no_main]`). That setup sets
//! SIGPIPE to ignored, and an ignored signal survives exec: every app would start with SIGPIPE
//! ignored where the caller had it at its default (`yes | head` would never end `yes`). Without
//! it the app gets exactly the signal dispositions its caller gave. It also skips the setup's
//! stack-guard probe (a read of /proc/self/maps), which every launch would pay.
#![no_main]

// The unwinder (panics, backtraces) from libgcc's static archive rather than libgcc_s.so:
// linked here, ahead of std, it satisfies std's references, so the shared library is never
// needed (`--as-needed`) and never loaded. One library fewer in a setuid-root process, and no
// loading, relocating and CPU probing (libgcc_s's constructor) on every launch.
#[link(name = "gcc_eh", kind = "static")]
unsafe extern "C" {}

use std::ffi::{OsString, c_char, c_int};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Parser, Subcommand};
use policy::profile::{self, Features};
use policy::store::{self, InstallOptions, Layout, StoreError};

#[derive(Parser)]
#[command(
    name = "snapcell",
    version,
    about = "Install, run and inspect confined snaps"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install a snap from a directory holding meta/snap.yaml or from a .snap file.
    Install {
        /// Accepted for familiarity: every snapcell install is local and unasserted.
        #[arg(long)]
        dangerous: bool,
        /// The store's id for this snap; needed for snap-scoped system usernames.
        #[arg(long, value_name = "ID")]
        snap_id: Option<String>,
        path: PathBuf,
    },
    /// Remove a snap: its policies, files and data go, its users stay.
    Remove { name: String },
    /// List the installed snaps.
    List,
    /// Show an installed snap, with the ids its users resolved to.
    Info { name: String },
    /// Print generated policy.
    Debug {
        #[command(subcommand)]
        what: Debug,
    },
    /// Run an app of an installed snap, confined.
    Run {
        /// NAME.APP, or NAME for the app named like the snap.
        app: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

#[derive(Subcommand)]
enum Debug {
    /// The seccomp rule-language source of NAME.APP.
    Seccomp(DebugArgs),
    /// The AppArmor profile of NAME.APP.
    Apparmor(DebugArgs),
}

#[derive(clap::Args)]
struct DebugArgs {
    /// NAME.APP, or NAME for the app named like the snap.
    app: String,
    /// Render as if opt-in system users did not exist.
    #[arg(long)]
    without_system_users: bool,
}

/// Exit status of a command that failed, as printed by `error: ...`.
const FAILURE: c_int = 1;
/// Exit status after a panic, as Rust's own runtime would give.
const PANICKED: c_int = 101;

#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    // std reads the arguments itself (glibc hands them to its init hook); the runtime that
    // would flush stdout at exit is not there, so that happens here.
    let status = std::panic::catch_unwind(cli).unwrap_or(PANICKED);
    let _ = std::io::stdout().flush();
    status
}

fn cli() -> c_int {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let launch = invoked_as_app(&argv)
        .map(|app| (app, argv[1..].to_vec()))
        .or_else(|| plain_run(&argv));
    let result = match launch {
        Some((app, args)) => run(&app, args),
        None => match Cli::try_parse_from(&argv) {
            Ok(cli) => dispatch(cli.command),
            Err(err) if !err.use_stderr() => err.exit(),
            Err(err) => {
                let _ = err.print();
                return FAILURE;
            }
        },
    };
    match result {
        Ok(()) => 0,
        Err(err) => {
            // Library errors carry their causes in their own text; `{err}` alone avoids repeats.
            let text = err.to_string();
            eprintln!(
                "error: {}",
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            FAILURE
        }
    }
}

/// The app a /snap/bin symlink names, when argv[0] is not `snapcell` itself.
fn invoked_as_app(argv: &[OsString]) -> Option<String> {
    let name = Path::new(argv.first()?).file_name()?.to_str()?;
    (name != "snapcell").then(|| name.to_owned())
}

/// `snapcell run NAME.APP ARGS...` with nothing between `run` and the app: the launch path,
/// recognised without building the whole command-line parser (about 60 µs of every launch on
/// the machine of docs/PERFORMANCE.md). The arguments go to the app as they are, as clap's
/// trailing arguments would; anything else (`run --help`, a missing app) goes to clap.
fn plain_run(argv: &[OsString]) -> Option<(String, Vec<OsString>)> {
    let [_, command, app, args @ ..] = argv else {
        return None;
    };
    let app = app.to_str().filter(|app| !app.starts_with('-'))?;
    (command == "run").then(|| (app.to_owned(), args.to_vec()))
}

fn dispatch(command: Command) -> Result<()> {
    let layout = Layout::from_env();
    match command {
        Command::Install {
            dangerous: _,
            snap_id,
            path,
        } => {
            let launcher = std::env::current_exe()
                .map_err(|err| anyhow::anyhow!("cannot find the snapcell binary: {err}"))?;
            let options = InstallOptions { snap_id, launcher };
            let record = store::install(&layout, &path, &options)?;
            println!("{} {} installed", record.name, record.version);
        }
        Command::Remove { name } => {
            store::remove(&layout, &name)?;
            println!("{name} removed");
        }
        Command::List => print!("{}", store::list_table(&store::list(&layout)?)),
        Command::Info { name } => {
            print!("{}", store::info_text(&store::read_record(&layout, &name)?))
        }
        Command::Debug { what } => print!("{}", debug(&layout, what)?),
        Command::Run { app, args } => run(&app, args)?,
    }
    Ok(())
}

fn debug(layout: &Layout, what: Debug) -> Result<String, StoreError> {
    let (Debug::Seccomp(args) | Debug::Apparmor(args)) = &what;
    let (snap, app) = store::split_app(&args.app);
    let meta = store::installed_meta(layout, snap)?;
    if !meta.apps.contains_key(app) {
        return Err(StoreError::NoSuchApp {
            snap: snap.to_owned(),
            app: app.to_owned(),
            apps: meta.apps.keys().cloned().collect::<Vec<_>>().join(", "),
        });
    }
    let features = Features {
        system_users: !args.without_system_users,
    };
    Ok(match what {
        Debug::Seccomp(_) => profile::seccomp_source(&meta, app, features),
        Debug::Apparmor(_) => profile::apparmor_profile(&meta, app, features),
    })
}

/// Returns only on failure: on success the process has become the app.
fn run(app: &str, args: Vec<OsString>) -> Result<()> {
    match policy::launch::run(app, args)? {}
}
