//! `cargo xtask`: project automation — the images, the e2e matrix, the benchmarks and the
//! README's test command. Thin: the work is done by `cargo`, `harness::images` and the
//! `harness` binary.

mod bench;
mod build;
mod e2e;
mod images;
mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Project automation for snapcell and its e2e harness."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the release binaries, then the images of images/ (all, or the NAMEs given).
    Images {
        /// Recipe names (directories under images/); all when none are given.
        names: Vec<String>,
    },
    /// Build snapcell, probe, the test snaps and the missing images, then run the harness on
    /// suites/spread.yaml with ARGS passed through (`-list`, `docker:debian-12:suites/x/`,
    /// `-debug`, ...; `cargo xtask e2e -h` shows the harness's flags).
    #[command(disable_help_flag = true)]
    E2e {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run the workspace benchmarks and the image build benchmark, and print the figures.
    Bench {
        /// Which benchmarks (default: all).
        #[arg(value_enum)]
        parts: Vec<bench::Part>,
    },
    /// The README's test command: the images, `cargo nextest run --workspace`, then the whole
    /// e2e matrix.
    Test,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    let root = repo_root();
    let result = runtime.block_on(async {
        match cli.command {
            Command::Images { names } => images::build(&root, &names).await.map(|()| true),
            Command::E2e { args } => e2e::run(&root, &args).await,
            Command::Bench { parts } => bench::run(&root, &parts).await.map(|()| true),
            Command::Test => test::run(&root).await,
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives in its `xtask/` directory.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}
