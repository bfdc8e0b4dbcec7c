//! Whether a state file may be trusted to confine an app: the file and every directory above it
//! must be root-owned and writable by no one but root. A setuid launcher reads these files as
//! root, so anything a user could have written or swapped in is refused rather than obeyed.
//!
//! One [`Trust`] serves a whole launch: the files it reads share most of their directories, and
//! each directory is judged once. A file is located first (an `O_PATH` descriptor, symlinks
//! resolved) and judged through that descriptor; where it really is comes from the descriptor too
//! (`/proc/self/fd`), and its bytes are read through it. So the bytes used are the bytes judged, at
//! the place judged, with one path walk per file.

use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::libc;

/// Why a file was not trusted.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path} does not exist")]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is owned by uid {uid}, not root")]
    NotRootOwned { path: PathBuf, uid: u32 },
    #[error("{path} has mode {mode:04o}: it is writable by {by}")]
    Writable {
        path: PathBuf,
        mode: u32,
        by: &'static str,
    },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error(
        "cannot tell where {path} really is: {proc_path} cannot be read ({source}); \
         the launcher needs /proc mounted"
    )]
    Unlocatable {
        path: PathBuf,
        proc_path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The directories judged trustworthy so far in this launch.
#[derive(Debug, Default)]
pub struct Trust {
    trusted_dirs: HashSet<PathBuf>,
}

impl Trust {
    pub fn new() -> Trust {
        Trust::default()
    }

    /// Reads `path` if it and every directory above it are trusted.
    pub fn read(&mut self, path: &Path) -> Result<Vec<u8>, TrustError> {
        let (location, metadata) = self.judge(path)?;
        // Reopened through the judged descriptor: the same inode, now known to be a regular file
        // (a device or FIFO is never opened for reading by a setuid launcher).
        let mut file = File::options()
            .read(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(location.proc_path())
            .map_err(|source| io_error(path, source))?;
        let mut contents = Vec::with_capacity(metadata.len().try_into().unwrap_or(0));
        file.read_to_end(&mut contents)
            .map_err(|source| io_error(path, source))?;
        Ok(contents)
    }

    /// Judges `path` as [`Trust::read`] does, without reading it.
    pub fn check(&mut self, path: &Path) -> Result<(), TrustError> {
        self.judge(path).map(drop)
    }

    /// Locates `path` (O_PATH: nothing is opened for I/O), then judges the file and every
    /// directory above where it really is.
    fn judge(&mut self, path: &Path) -> Result<(Location, Metadata), TrustError> {
        let location = File::options()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
            .open(path)
            .map(Location)
            .map_err(|source| io_error(path, source))?;
        let metadata = location
            .0
            .metadata()
            .map_err(|source| io_error(path, source))?;
        let proc_path = location.proc_path();
        let resolved =
            std::fs::read_link(&proc_path).map_err(|source| TrustError::Unlocatable {
                path: path.to_path_buf(),
                proc_path,
                source,
            })?;
        if !metadata.is_file() {
            return Err(TrustError::NotAFile { path: resolved });
        }
        check_owner_and_mode(&resolved, &metadata)?;
        for directory in resolved.ancestors().skip(1) {
            self.check_directory(directory)?;
        }
        Ok((location, metadata))
    }

    fn check_directory(&mut self, directory: &Path) -> Result<(), TrustError> {
        if self.trusted_dirs.contains(directory) {
            return Ok(());
        }
        let metadata = directory
            .symlink_metadata()
            .map_err(|source| io_error(directory, source))?;
        check_owner_and_mode(directory, &metadata)?;
        self.trusted_dirs.insert(directory.to_path_buf());
        Ok(())
    }
}

/// An `O_PATH` descriptor of a file being judged.
struct Location(File);

impl Location {
    /// The name under which the kernel reaches exactly this descriptor's file.
    fn proc_path(&self) -> String {
        format!("/proc/self/fd/{}", self.0.as_raw_fd())
    }
}

fn io_error(path: &Path, source: std::io::Error) -> TrustError {
    match source.kind() {
        std::io::ErrorKind::NotFound => TrustError::Missing {
            path: path.to_path_buf(),
        },
        _ => TrustError::Io {
            path: path.to_path_buf(),
            source,
        },
    }
}

fn check_owner_and_mode(path: &Path, metadata: &Metadata) -> Result<(), TrustError> {
    if metadata.uid() != 0 {
        return Err(TrustError::NotRootOwned {
            path: path.to_path_buf(),
            uid: metadata.uid(),
        });
    }
    let mode = metadata.mode() & 0o7777;
    let writable_by = if mode & 0o002 != 0 {
        Some("others")
    } else if mode & 0o020 != 0 && metadata.gid() != 0 {
        Some("a non-root group")
    } else {
        None
    };
    match writable_by {
        Some(by) => Err(TrustError::Writable {
            path: path.to_path_buf(),
            mode,
            by,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A root-owned 0755 directory under /run: /tmp is world-writable, so nothing below it is
    /// ever trusted.
    fn trusted_dir() -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("snapcell-trust-test-")
            .tempdir_in("/run")
            .expect("creating a test directory");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        dir
    }

    fn write(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, b"contents").expect("writing");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn a_root_owned_file_in_root_owned_directories_is_read() {
        let dir = trusted_dir();
        let path = write(dir.path(), "profile", 0o644);
        assert_eq!(Trust::new().read(&path).expect("trusted"), b"contents");
    }

    #[test]
    fn a_missing_file_is_refused() {
        let dir = trusted_dir();
        let error = Trust::new().read(&dir.path().join("absent")).unwrap_err();
        assert!(matches!(error, TrustError::Missing { .. }), "{error}");
    }

    #[test]
    fn a_world_writable_file_is_refused() {
        let dir = trusted_dir();
        let path = write(dir.path(), "profile", 0o646);
        let error = Trust::new().read(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{} has mode 0646: it is writable by others", path.display())
        );
    }

    #[test]
    fn a_file_writable_by_a_non_root_group_is_refused() {
        let dir = trusted_dir();
        let path = write(dir.path(), "profile", 0o664);
        std::os::unix::fs::chown(&path, None, Some(1)).expect("chgrp");
        let error = Trust::new().read(&path).unwrap_err();
        assert!(
            matches!(
                error,
                TrustError::Writable {
                    by: "a non-root group",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn a_file_owned_by_another_user_is_refused() {
        let dir = trusted_dir();
        let path = write(dir.path(), "profile", 0o644);
        std::os::unix::fs::chown(&path, Some(1), None).expect("chown");
        let error = Trust::new().read(&path).unwrap_err();
        assert!(
            matches!(error, TrustError::NotRootOwned { uid: 1, .. }),
            "{error}"
        );
    }

    #[test]
    fn a_world_writable_parent_directory_is_refused() {
        let dir = trusted_dir();
        let sub = dir.path().join("seccomp");
        std::fs::create_dir(&sub).expect("mkdir");
        let path = write(&sub, "profile", 0o644);
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o757)).expect("chmod");
        let error = Trust::new().read(&path).unwrap_err();
        assert!(
            matches!(&error, TrustError::Writable { path, .. } if *path == sub),
            "{error}"
        );
    }

    #[test]
    fn a_parent_directory_owned_by_another_user_is_refused() {
        let dir = trusted_dir();
        let path = write(dir.path(), "profile", 0o644);
        std::os::unix::fs::chown(dir.path(), Some(1), None).expect("chown");
        let error = Trust::new().read(&path).unwrap_err();
        assert!(matches!(error, TrustError::NotRootOwned { .. }), "{error}");
    }

    #[test]
    fn a_symlink_to_an_untrusted_file_is_judged_by_its_target() {
        let dir = trusted_dir();
        let target = write(dir.path(), "target", 0o666);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(matches!(
            Trust::new().read(&link).unwrap_err(),
            TrustError::Writable { .. }
        ));
    }

    #[test]
    fn a_fifo_is_refused_without_being_opened() {
        let dir = trusted_dir();
        let fifo = dir.path().join("profile");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644))
            .expect("mkfifo");
        // Opening a FIFO for reading would block until a writer came: judging must not.
        let error = Trust::new().read(&fifo).unwrap_err();
        assert!(matches!(error, TrustError::NotAFile { .. }), "{error}");
    }

    #[test]
    fn one_trust_judges_files_that_share_directories() {
        let dir = trusted_dir();
        let first = write(dir.path(), "first", 0o644);
        let second = write(dir.path(), "second", 0o600);
        let mut trust = Trust::new();
        assert_eq!(trust.read(&first).expect("first"), b"contents");
        trust.check(&second).expect("second");
        let untrusted = write(dir.path(), "third", 0o666);
        assert!(matches!(
            trust.check(&untrusted).unwrap_err(),
            TrustError::Writable { .. }
        ));
    }

    #[test]
    fn anything_under_tmp_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "profile", 0o644);
        assert!(Trust::new().read(&path).is_err());
    }
}
