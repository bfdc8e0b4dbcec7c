//! Building what the images and the suites need: the release binaries and the test snaps.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// Where the test snaps' sources live: each directory with a `meta/snap.yaml` is one snap.
pub const SNAP_SOURCES: &str = "suites/snaps";
/// Where the packed snaps go (sent into the test systems with the rest of `suites/`).
pub const SNAP_BUILD_DIR: &str = "suites/snaps/build";

/// `cargo build --release` of the binaries the images carry and of the harness.
pub fn release_binaries(root: &Path) -> anyhow::Result<()> {
    let args = [
        "build",
        "--release",
        "--package",
        "policy",
        "--bin",
        "snapcell",
        "--package",
        "probe",
        "--bin",
        "probe",
        "--package",
        "harness",
        "--bin",
        "harness",
    ];
    run(Command::new(cargo()).args(args).current_dir(root))
}

/// `cargo build --release` of the harness alone (enough for `-list`).
pub fn harness_binary(root: &Path) -> anyhow::Result<()> {
    let args = [
        "build",
        "--release",
        "--package",
        "harness",
        "--bin",
        "harness",
    ];
    run(Command::new(cargo()).args(args).current_dir(root))
}

/// The release harness binary.
pub fn harness_path(root: &Path) -> PathBuf {
    root.join("target/release/harness")
}

/// Packs every `suites/snaps/NAME/` holding `meta/snap.yaml` into `suites/snaps/build/NAME.snap`
/// with `mksquashfs`, as snap packing does; returns the snaps written.
pub fn test_snaps(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let sources = root.join(SNAP_SOURCES);
    let out = root.join(SNAP_BUILD_DIR);
    let mut snaps = Vec::new();
    let Ok(entries) = std::fs::read_dir(&sources) else {
        return Ok(snaps);
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|dir| dir.join("meta/snap.yaml").is_file())
        .collect();
    dirs.sort();
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for dir in dirs {
        let name = dir
            .file_name()
            .expect("a directory entry has a name")
            .to_string_lossy();
        let snap = out.join(format!("{name}.snap"));
        let partial = out.join(format!(".{name}.snap.partial"));
        let _ = std::fs::remove_file(&partial);
        run(Command::new("mksquashfs")
            .arg(&dir)
            .arg(&partial)
            .args([
                "-noappend",
                "-comp",
                "xz",
                "-no-fragments",
                "-no-progress",
                "-quiet",
            ])
            .args(["-all-root", "-no-xattrs"]))
        .with_context(|| {
            format!(
                "packing {} (mksquashfs comes with `apt-get install squashfs-tools`)",
                dir.display()
            )
        })?;
        std::fs::rename(&partial, &snap)
            .with_context(|| format!("moving {} to {}", partial.display(), snap.display()))?;
        snaps.push(snap);
    }
    Ok(snaps)
}

/// Runs `command`, failing with its command line if it cannot start or does not succeed.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

/// The cargo that runs xtask.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
