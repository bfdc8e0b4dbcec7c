//! Test isolation for snapcell: a private mount namespace in which the machine's accounts and
//! snapcell state can be changed freely.
//!
//! A [`Sandbox`] owns a holder process that lives in a new mount namespace. In that namespace a
//! private copy of `/etc` is bind-mounted over `/etc` (the whole directory, because shadow-utils
//! renames `passwd+` onto `passwd`, which fails on a file bind mount) and tmpfs covers every
//! directory snapcell writes to. Commands made with [`Sandbox::command`] join the namespace just
//! before they exec. Dropping the sandbox kills the holder; the namespace, its mounts and every
//! change made inside it vanish with the last process in it.
//!
//! This crate does not decide what a test asserts; it only guarantees that nothing a test does
//! to accounts, state or snaps reaches the machine.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, setns, unshare};
use nix::unistd::{Gid, Uid, setgid, setgroups, setuid};

/// Directories that snapcell (and the tools it drives) write to, each covered by a tmpfs.
pub const TMPFS_DIRS: &[&str] = &[
    "/var/lib/snapcell",
    "/snap",
    "/var/snap",
    "/var/lib/extrausers",
    "/root/snap",
    "/home",
    "/tmp/snap-private-tmp",
    // useradd writes a lastlog/faillog record at offset uid × record size: without this, a
    // user with id 584788 would grow the machine's /var/log/lastlog by ~170 MB.
    "/var/log",
];

/// The identity a sandboxed command runs as.
#[derive(Debug, Clone)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// A private mount namespace with its own `/etc` and empty state directories.
pub struct Sandbox {
    holder: Child,
    namespace: File,
    etc: tempfile::TempDir,
}

impl Sandbox {
    /// Creates the namespace. Needs root (CAP_SYS_ADMIN); the machine is left untouched except
    /// for creating the empty mount points of [`TMPFS_DIRS`] where they are missing.
    pub fn new() -> io::Result<Sandbox> {
        let etc = tempfile::Builder::new().prefix("sandbox-etc-").tempdir()?;
        copy_etc(etc.path())?;
        for dir in TMPFS_DIRS {
            std::fs::create_dir_all(dir)?;
        }
        let mut holder = Command::new("sleep");
        holder.arg("infinity");
        let etc_copy = etc.path().join("etc");
        // SAFETY: the closure only makes system calls (unshare, mount) between fork and exec.
        unsafe {
            holder.pre_exec(move || enter_private_namespace(&etc_copy));
        }
        let holder = holder.spawn()?;
        let namespace = File::open(format!("/proc/{}/ns/mnt", holder.id()))?;
        Ok(Sandbox {
            holder,
            namespace,
            etc,
        })
    }

    /// The host-side path of the sandbox's `/etc`, for a test to edit before running commands.
    pub fn etc(&self) -> PathBuf {
        self.etc.path().join("etc")
    }

    /// A command that runs inside the sandbox as root, in `/`.
    pub fn command(&self, program: impl AsRef<Path>) -> Command {
        self.build(program.as_ref(), None)
    }

    /// A command that runs inside the sandbox as `identity` (supplementary groups included).
    pub fn command_as(&self, program: impl AsRef<Path>, identity: &Identity) -> Command {
        self.build(program.as_ref(), Some(identity.clone()))
    }

    fn build(&self, program: &Path, identity: Option<Identity>) -> Command {
        let mut command = Command::new(program);
        let namespace = self
            .namespace
            .try_clone()
            .expect("duplicating the namespace descriptor");
        // SAFETY: between fork and exec the closure only makes system calls. The namespace is
        // joined here rather than through Command::uid because std switches identity before it
        // runs pre_exec hooks, and an unprivileged process cannot join a mount namespace.
        unsafe {
            command.pre_exec(move || {
                setns(namespace.as_fd(), CloneFlags::CLONE_NEWNS)?;
                std::env::set_current_dir("/")?;
                if let Some(identity) = &identity {
                    become_identity(identity)?;
                }
                Ok(())
            });
        }
        command
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

fn copy_etc(into: &Path) -> io::Result<()> {
    let status = Command::new("cp").args(["-a", "/etc"]).arg(into).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "cp -a /etc {} failed: {status}",
            into.display()
        )))
    }
}

fn enter_private_namespace(etc_copy: &Path) -> io::Result<()> {
    unshare(CloneFlags::CLONE_NEWNS)?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    mount(
        Some(etc_copy),
        "/etc",
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )?;
    for dir in TMPFS_DIRS {
        mount(
            Some("tmpfs"),
            *dir,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("mode=0755"),
        )?;
    }
    Ok(())
}

fn become_identity(identity: &Identity) -> io::Result<()> {
    let groups: Vec<Gid> = identity.groups.iter().copied().map(Gid::from_raw).collect();
    setgroups(&groups)?;
    setgid(Gid::from_raw(identity.gid))?;
    setuid(Uid::from_raw(identity.uid))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdout(mut command: Command) -> String {
        let output = command.output().expect("running a sandboxed command");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("utf-8 output")
    }

    #[test]
    fn account_changes_stay_inside_the_sandbox() {
        let sandbox = Sandbox::new().expect("creating a sandbox");
        let mut useradd = sandbox.command("useradd");
        useradd.args(["--system", "sandbox-probe-user"]);
        stdout(useradd);

        let mut getent = sandbox.command("getent");
        getent.args(["passwd", "sandbox-probe-user"]);
        assert!(stdout(getent).starts_with("sandbox-probe-user:"));

        let host = Command::new("getent")
            .args(["passwd", "sandbox-probe-user"])
            .output()
            .expect("running getent on the host");
        assert!(!host.status.success(), "the user leaked to the host");
        let copy = std::fs::read_to_string(sandbox.etc().join("passwd")).expect("reading copy");
        assert!(copy.contains("sandbox-probe-user:"));
    }

    #[test]
    fn state_directories_are_private_tmpfs() {
        let sandbox = Sandbox::new().expect("creating a sandbox");
        let mut touch = sandbox.command("touch");
        touch.arg("/var/lib/snapcell/marker");
        stdout(touch);
        assert!(!Path::new("/var/lib/snapcell/marker").exists());
        let mut findmnt = sandbox.command("findmnt");
        findmnt.args(["-n", "-o", "FSTYPE", "/snap"]);
        assert_eq!(stdout(findmnt).trim(), "tmpfs");
    }

    #[test]
    fn commands_can_run_as_another_identity() {
        let sandbox = Sandbox::new().expect("creating a sandbox");
        let identity = Identity {
            uid: 65534,
            gid: 65534,
            groups: vec![1, 65534],
        };
        let out = stdout(sandbox.command_as("id", &identity));
        assert!(out.starts_with("uid=65534"), "{out}");
        assert!(out.contains("groups=65534(nogroup),1(daemon)"), "{out}");
    }
}
