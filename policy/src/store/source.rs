//! Where an install comes from: a directory holding `meta/snap.yaml`, or a `.snap` squashfs
//! file read with `unsquashfs` (its snap.yaml is read without unpacking, so nothing is written
//! before validation).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::snap::{self, SnapError, SnapMeta};

use super::StoreError;

pub enum Source {
    Dir(PathBuf),
    SquashFs(PathBuf),
}

impl Source {
    pub fn open(path: &Path) -> Result<Source, StoreError> {
        if path.join("meta/snap.yaml").is_file() {
            Ok(Source::Dir(path.to_path_buf()))
        } else if path.is_file() {
            Ok(Source::SquashFs(path.to_path_buf()))
        } else if path.is_dir() {
            Err(SnapError::Read {
                file: path.join("meta/snap.yaml").display().to_string(),
                source: std::io::ErrorKind::NotFound.into(),
            }
            .into())
        } else {
            Err(StoreError::NotASnap {
                path: path.to_path_buf(),
            })
        }
    }

    pub fn read_meta(&self) -> Result<SnapMeta, StoreError> {
        match self {
            Source::Dir(dir) => Ok(snap::read(&dir.join("meta/snap.yaml"))?),
            Source::SquashFs(file) => {
                let text = run(Command::new("unsquashfs")
                    .arg("-cat")
                    .arg(file)
                    .arg("meta/snap.yaml"))
                .map_err(|_| StoreError::NotASnap { path: file.clone() })?;
                let shown = format!("{}:meta/snap.yaml", file.display());
                Ok(snap::parse(&String::from_utf8_lossy(&text), &shown)?)
            }
        }
    }

    /// Puts the snap's files at `dest`, which must not exist; files end up owned by root
    /// (a directory's owners are not kept: a user must not own what a root daemon executes)
    /// and without setuid/setgid bits (snapd mounts snaps `nosuid` for the same reason: whoever
    /// prepared the snap must not gain a setuid-root program by having root install it).
    pub fn unpack(&self, dest: &Path) -> Result<(), StoreError> {
        let mut command = match self {
            Source::Dir(dir) => {
                let mut cp = Command::new("cp");
                cp.args([
                    "-R",
                    "-P",
                    "--preserve=mode,timestamps,links",
                    "--no-target-directory",
                ])
                .arg(dir)
                .arg(dest);
                cp
            }
            Source::SquashFs(file) => {
                let mut unsquashfs = Command::new("unsquashfs");
                unsquashfs
                    .args(["-n", "-no-xattrs", "-d"])
                    .arg(dest)
                    .arg(file);
                unsquashfs
            }
        };
        run(&mut command)?;
        run(Command::new("chmod").args(["-R", "u-s,g-s"]).arg(dest)).map(drop)
    }
}

/// Runs `command`, returning its stdout or an error with its stderr.
fn run(command: &mut Command) -> Result<Vec<u8>, StoreError> {
    let shown = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let output = command.output().map_err(|err| StoreError::Tool {
        command: shown.clone(),
        detail: err.to_string(),
    })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(StoreError::Tool {
            command: shown,
            detail: format!(
                "{} ({})",
                String::from_utf8_lossy(&output.stderr).trim(),
                output.status
            ),
        })
    }
}
