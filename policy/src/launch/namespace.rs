//! The snap's mount namespace, shared by all its apps and kept between runs, as snapd keeps
//! its own: created on the snap's first run, then bind-mounted at `/run/snapcell/ns/NAME.mnt` so
//! later runs only join it (setns is cheaper than creating and tearing down a namespace each
//! time). In it `/` is a slave of the host's (host mounts still arrive, the snap's never leave)
//! and `/tmp` is `/tmp/snap-private-tmp/snap.NAME/tmp`, so the snap sees its own /tmp, never
//! the host's.
//!
//! Joining a mount namespace moves the process to its root directory; the caller's working
//! directory is restored later, after the drop, with the caller's own permissions.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::libc;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, CpuSet, sched_getaffinity, sched_setaffinity, setns, unshare};
use nix::sys::statfs::{NSFS_MAGIC, fstatfs};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork, pipe, read, write};

use super::kernel::KernelError;

const NAMESPACES_DIR: &str = "/run/snapcell/ns";
const PRIVATE_TMP_BASE: &str = "/tmp/snap-private-tmp";

/// Joins the mount namespace of `snap`, creating it first if this is the snap's first run.
pub fn enter(snap: &str) -> Result<(), KernelError> {
    let action = || format!("enter the mount namespace of snap \"{snap}\"");
    let tmp = private_tmp(snap)?;
    root_owned_dir(Path::new("/run/snapcell"), 0o755)?;
    let dir = Path::new(NAMESPACES_DIR);
    root_owned_dir(dir, 0o755)?;
    make_private_mount(dir).map_err(|e| KernelError::new(action(), e))?;

    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join(format!("{snap}.lock")))
        .map_err(|e| KernelError::new(action(), e))?;
    // Two first runs at once must not both create a namespace.
    lock.lock().map_err(|e| KernelError::new(action(), e))?;
    let ns_file = dir.join(format!("{snap}.mnt"));
    let namespace = match kept_namespace(&ns_file).map_err(|e| KernelError::new(action(), e))? {
        Some(namespace) => namespace,
        None => create(&ns_file, &tmp).map_err(|(step, e)| {
            KernelError::new(
                format!("{step} for the mount namespace of snap \"{snap}\""),
                e,
            )
        })?,
    };
    setns(namespace.as_fd(), CloneFlags::CLONE_NEWNS).map_err(|e| KernelError::new(action(), e))
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

/// Bind-mounting a namespace file needs a private mount: one that propagates would carry the
/// namespace into itself. The directory becomes its own private bind mount once.
fn make_private_mount(dir: &Path) -> Result<(), Errno> {
    let private = || {
        mount(
            None::<&str>,
            dir,
            None::<&str>,
            MsFlags::MS_PRIVATE,
            None::<&str>,
        )
    };
    match private() {
        Err(Errno::EINVAL) => {
            mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>)?;
            private()
        }
        other => other,
    }
}

/// The namespace a previous run kept, if `ns_file` is one (an nsfs bind mount).
fn kept_namespace(ns_file: &Path) -> Result<Option<File>, Errno> {
    let file = match File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(ns_file)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))),
    };
    let kept = fstatfs(file.as_fd())?.filesystem_type() == NSFS_MAGIC;
    Ok(kept.then_some(file))
}

/// The kernel refuses (EINVAL) to bind-mount a namespace whose id is not above the current
/// namespace's, as a guard against loops; but it hands ids out in per-CPU batches, so a
/// namespace made later on another CPU can get a lower one. When that happens the namespace is
/// made again with the child pinned to each allowed CPU in turn: on the CPU whose batch the
/// current namespace came from, the new id is higher.
fn create(ns_file: &Path, tmp: &Path) -> Result<File, (&'static str, Errno)> {
    let io = |e: std::io::Error| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(ns_file)
        .map_err(|e| ("create the file", io(e)))?;
    let allowed = sched_getaffinity(Pid::from_raw(0)).map_err(|e| ("read the CPU affinity", e))?;
    let cpus = (0..CpuSet::count()).filter(|&cpu| allowed.is_set(cpu).unwrap_or(false));
    let mut outcome = create_on(None, ns_file, tmp);
    for cpu in cpus {
        match outcome {
            Err((BIND_STEP, Errno::EINVAL)) => outcome = create_on(Some(cpu), ns_file, tmp),
            _ => break,
        }
    }
    outcome
}

const BIND_STEP: &str = "bind-mount the new namespace";

/// A child makes the namespace (on `cpu`, if given); this process, still in the host's
/// namespace, bind-mounts the child's namespace file at `ns_file`, then lets the child exit.
/// Errors name the failed step.
fn create_on(
    cpu: Option<usize>,
    ns_file: &Path,
    tmp: &Path,
) -> Result<File, (&'static str, Errno)> {
    let (ready_reader, ready_writer) = pipe().map_err(|e| ("make a pipe", e))?;
    let (done_reader, done_writer) = pipe().map_err(|e| ("make a pipe", e))?;
    // SAFETY: snapcell is single-threaded; the child only makes system calls, then _exits.
    match unsafe { fork() }.map_err(|e| ("fork", e))? {
        ForkResult::Child => {
            drop(ready_reader);
            drop(done_writer);
            let errno = match pin(cpu).and_then(|()| build(tmp)) {
                Ok(()) => 0,
                Err(errno) => errno as i32,
            };
            let _ = write(&ready_writer, &errno.to_ne_bytes());
            let mut byte = [0u8; 1];
            let _ = read(&done_reader, &mut byte);
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(ready_writer);
            drop(done_reader);
            let mut answer = [0u8; 4];
            let got = read(&ready_reader, &mut answer);
            let outcome = match (got, i32::from_ne_bytes(answer)) {
                (Ok(4), 0) => {
                    let source = PathBuf::from(format!("/proc/{child}/ns/mnt"));
                    mount(
                        Some(&source),
                        ns_file,
                        None::<&str>,
                        MsFlags::MS_BIND,
                        None::<&str>,
                    )
                    .map_err(|e| ("bind-mount the new namespace", e))
                }
                (Ok(4), errno) => Err(("build the namespace", Errno::from_raw(errno))),
                (Ok(_), _) => Err(("build the namespace", Errno::EPIPE)),
                (Err(errno), _) => Err(("build the namespace", errno)),
            };
            drop(done_writer);
            let _ = waitpid(child, None);
            outcome?;
            kept_namespace(ns_file)
                .map_err(|e| ("open the new namespace", e))?
                .ok_or(("open the new namespace", Errno::EINVAL))
        }
    }
}

fn pin(cpu: Option<usize>) -> Result<(), Errno> {
    let Some(cpu) = cpu else { return Ok(()) };
    let mut only = CpuSet::new();
    only.set(cpu)?;
    sched_setaffinity(Pid::from_raw(0), &only)
}

/// In the child: a new mount namespace, slave to the host's, with the snap's /tmp.
fn build(tmp: &Path) -> Result<(), Errno> {
    unshare(CloneFlags::CLONE_NEWNS)?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )?;
    mount(
        Some(tmp),
        "/tmp",
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
}

/// Creates `path` root-owned with `mode` if missing, and refuses one that is not a root-owned
/// directory writable only by root (a user may have planted it in the world-writable /tmp).
/// The snap's `tmp` itself is world-writable and sticky, like `/tmp`.
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
