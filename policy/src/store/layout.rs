//! Where everything lives, relative to a root ("/" on a real system, a directory in tests).

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use nix::unistd::{getegid, geteuid, getgid, getuid};

use super::StoreError;
use super::files::ensure_dir;

/// The root every snapcell path is relative to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

/// Held while an operation changes the store; dropping it releases the lock.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

impl Layout {
    pub fn system() -> Layout {
        Layout::under("/")
    }

    pub fn under(root: impl Into<PathBuf>) -> Layout {
        Layout { root: root.into() }
    }

    /// `SNAPCELL_ROOT=<dir>` relocates the layout, but only for a process that is not setuid or
    /// setgid: a caller must never steer a privileged snapcell to state it wrote itself.
    pub fn from_env() -> Layout {
        let unprivileged = getuid() == geteuid() && getgid() == getegid();
        match std::env::var_os("SNAPCELL_ROOT") {
            Some(root) if unprivileged && !root.is_empty() => Layout::under(root),
            _ => Layout::system(),
        }
    }

    /// `var/lib/snapcell`
    pub fn state_dir(&self) -> PathBuf {
        self.root.join("var/lib/snapcell")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.state_dir().join("lock")
    }

    /// `var/lib/snapcell/snaps`: one install record per snap.
    pub fn records_dir(&self) -> PathBuf {
        self.state_dir().join("snaps")
    }

    pub fn record(&self, snap: &str) -> PathBuf {
        self.records_dir().join(format!("{snap}.yaml"))
    }

    pub fn seccomp_dir(&self) -> PathBuf {
        self.state_dir().join("seccomp")
    }

    /// The generated rule-language source of `tag` (`snap.NAME.APP`).
    pub fn seccomp_source(&self, tag: &str) -> PathBuf {
        self.seccomp_dir().join(format!("{tag}.src"))
    }

    /// The compiled program of `tag`: a raw `struct sock_filter` array.
    pub fn seccomp_program(&self, tag: &str) -> PathBuf {
        self.seccomp_dir().join(format!("{tag}.bin"))
    }

    pub fn apparmor_dir(&self) -> PathBuf {
        self.state_dir().join("apparmor")
    }

    pub fn apparmor_profile(&self, tag: &str) -> PathBuf {
        self.apparmor_dir().join(tag)
    }

    /// `snap`: the snaps' files and `snap/bin`.
    pub fn snaps_root(&self) -> PathBuf {
        self.root.join("snap")
    }

    pub fn snap_dir(&self, snap: &str) -> PathBuf {
        self.snaps_root().join(snap)
    }

    /// `snap/NAME/REV` (SNAP)
    pub fn revision_dir(&self, snap: &str, revision: &str) -> PathBuf {
        self.snap_dir(snap).join(revision)
    }

    /// `snap/NAME/current`, a symlink to the installed revision.
    pub fn current_link(&self, snap: &str) -> PathBuf {
        self.snap_dir(snap).join("current")
    }

    pub fn bin_dir(&self) -> PathBuf {
        self.snaps_root().join("bin")
    }

    /// `snap/bin/NAME.APP`, or `snap/bin/NAME` for the app named like the snap.
    pub fn bin_link(&self, snap: &str, app: &str) -> PathBuf {
        self.bin_dir().join(command_name(snap, app))
    }

    pub fn data_root(&self) -> PathBuf {
        self.root.join("var/snap")
    }

    /// `var/snap/NAME/REV` (SNAP_DATA)
    pub fn data_dir(&self, snap: &str, revision: &str) -> PathBuf {
        self.data_root().join(snap).join(revision)
    }

    /// `var/snap/NAME/common` (SNAP_COMMON)
    pub fn common_dir(&self, snap: &str) -> PathBuf {
        self.data_root().join(snap).join("common")
    }

    /// Takes the store lock (flock(2)), waiting for another snapcell to finish.
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        let path = self.lock_file();
        ensure_dir(&self.state_dir())?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(StoreError::io(&path, "cannot open the lock file"))?;
        file.lock()
            .map_err(StoreError::io(&path, "cannot take the lock"))?;
        Ok(StoreLock { _file: file })
    }
}

/// The command a /snap/bin link runs: `NAME` for the app named like the snap, else `NAME.APP`.
pub fn command_name(snap: &str, app: &str) -> String {
    if snap == app {
        snap.to_owned()
    } else {
        format!("{snap}.{app}")
    }
}
