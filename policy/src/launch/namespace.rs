//! The snap's private `/tmp`. Each run gives the launcher a mount namespace of its own: `/`
//! becomes a recursive slave of the host's (host mounts still arrive, the snap's never leave)
//! and the snap's persistent directory `/tmp/snap-private-tmp/snap.NAME/tmp` is bind-mounted
//! over `/tmp`. Every process of the snap thus sees the same `/tmp` and never the host's, and
//! nothing outlives the app: the namespace goes with the last process in it.
//!
//! unshare(2) moves only the calling thread, and the rest of the launch (capabilities, the
//! filter) is per-thread too, so it is refused in a process that has more than one.
//!
//! The working directory is left at `/`: one under the host's `/tmp` would otherwise keep the
//! host's `/tmp` reachable beneath the bind mount. The caller's is restored, by path, after the
//! drop.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

use super::kernel::KernelError;

const PRIVATE_TMP_BASE: &str = "/tmp/snap-private-tmp";

/// Moves the launcher into a new mount namespace whose `/tmp` is the snap's own.
pub fn enter(snap: &str) -> Result<(), KernelError> {
    let action = || format!("give snap \"{snap}\" its private /tmp");
    single_threaded().map_err(|e| KernelError::new(action(), e))?;
    let tmp = private_tmp(snap)?;
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| KernelError::new(action(), e))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )
    .map_err(|e| KernelError::new(action(), e))?;
    mount(
        Some(&tmp),
        "/tmp",
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| KernelError::new(action(), e))?;
    std::env::set_current_dir("/").map_err(|e| KernelError::new(action(), e))
}

/// `/tmp/snap-private-tmp/snap.NAME/tmp`, made and checked.
fn private_tmp(snap: &str) -> Result<PathBuf, KernelError> {
    let base = Path::new(PRIVATE_TMP_BASE);
    let snap_dir = base.join(format!("snap.{snap}"));
    let tmp = snap_dir.join("tmp");
    root_owned_dir(base, 0o700)?;
    root_owned_dir(&snap_dir, 0o700)?;
    root_owned_dir(&tmp, 0o1777)?;
    Ok(tmp)
}

/// Why the launcher must not unshare: another thread would stay behind in the host's namespace.
#[derive(Debug, thiserror::Error)]
enum ThreadsError {
    #[error("cannot count the launcher's threads in /proc/self/task: {0}")]
    Unknown(#[from] std::io::Error),
    #[error(
        "the launcher runs {0} threads, and only one would leave the host's namespace (a bug in snapcell)"
    )]
    Several(usize),
}

fn single_threaded() -> Result<(), ThreadsError> {
    match std::fs::read_dir("/proc/self/task")?.count() {
        1 => Ok(()),
        threads => Err(ThreadsError::Several(threads)),
    }
}

/// Creates `path` root-owned with `mode` if missing, and refuses one that is not a root-owned
/// directory writable only by root (a user may have planted it, or a symlink, in the
/// world-writable /tmp). The snap's `tmp` itself is world-writable and sticky, like `/tmp`.
fn root_owned_dir(path: &Path, mode: u32) -> Result<(), KernelError> {
    let action = || format!("prepare the directory {}", path.display());
    match std::fs::DirBuilder::new().mode(mode).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(KernelError::new(action(), e)),
    }
    let metadata = path
        .symlink_metadata()
        .map_err(|e| KernelError::new(action(), e))?;
    if !metadata.is_dir() || metadata.uid() != 0 {
        return Err(KernelError::new(
            action(),
            format!(
                "it is not a directory owned by root (owner uid {}); remove it",
                metadata.uid()
            ),
        ));
    }
    let shared = mode & 0o1000 != 0;
    if !shared && metadata.mode() & 0o022 != 0 {
        return Err(KernelError::new(
            action(),
            format!(
                "it has mode {:04o} and is writable by others; remove it",
                metadata.mode() & 0o7777
            ),
        ));
    }
    if shared && metadata.mode() & 0o7777 != mode {
        // The umask narrowed the mode at creation; the directory is root's, so fix it.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| KernelError::new(action(), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_launcher_with_a_second_thread_does_not_unshare() {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let second = std::thread::spawn(move || stopped.recv());
        let error = single_threaded().unwrap_err();
        stop.send(()).expect("the second thread waits");
        let _ = second.join();
        assert!(
            matches!(error, ThreadsError::Several(threads) if threads >= 2),
            "{error}"
        );
    }
}
