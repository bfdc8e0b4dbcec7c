//! Shared by the `install*` and `accounts*` tests: a [`Sandbox`] with the real `snapcell`,
//! NSS and shadow-utils, test snaps written from snap.yaml text, and views of the state a test
//! asserts on.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use tempfile::TempDir;
use testkit::Sandbox;

pub struct Env {
    pub sandbox: Sandbox,
    snaps: TempDir,
}

/// What a refused install must leave: the lock file and nothing else.
pub const EMPTY_STATE: &[&str] = &["/var/lib/snapcell/lock"];

impl Env {
    pub fn new() -> Env {
        Env {
            sandbox: Sandbox::new().expect("creating the sandbox"),
            snaps: tempfile::tempdir().expect("creating a directory for test snaps"),
        }
    }

    /// A snap directory whose meta/snap.yaml is `yaml`, with an executable `bin/hello`.
    pub fn snap(&self, dir_name: &str, yaml: &str) -> PathBuf {
        let dir = self.snaps.path().join(dir_name);
        std::fs::create_dir_all(dir.join("meta")).unwrap();
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("meta/snap.yaml"), yaml).unwrap();
        let hello = dir.join("bin/hello");
        std::fs::write(&hello, "#!/bin/sh\necho hello\n").unwrap();
        std::fs::set_permissions(&hello, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    /// `snapcell ARGS` inside the sandbox, as root, on the real layout ("/").
    pub fn snapcell_command(&self, args: &[&str]) -> Command {
        let mut command = self.sandbox.command(env!("CARGO_BIN_EXE_snapcell"));
        command.args(args).env_remove("SNAPCELL_ROOT");
        command
    }

    pub fn snapcell(&self, args: &[&str]) -> Output {
        self.snapcell_command(args)
            .output()
            .expect("running snapcell")
    }

    pub fn spawn_snapcell(&self, args: &[&str]) -> Child {
        self.snapcell_command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting snapcell")
    }

    /// Stdout of a `snapcell` call that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(self.snapcell(args), args)
    }

    /// The error paragraph of a `snapcell` call that must fail with status 1.
    pub fn refused(&self, args: &[&str]) -> String {
        refused(self.snapcell(args), args)
    }

    /// Stdout of any command inside the sandbox, which must succeed.
    pub fn sh(&self, script: &str) -> String {
        let output = self
            .sandbox
            .command("sh")
            .args(["-c", script])
            .output()
            .expect("running sh");
        succeeded(output, &[script])
    }

    /// `getent DB NAME` inside the sandbox; `None` when NAME does not exist.
    pub fn getent(&self, db: &str, name: &str) -> Option<String> {
        let output = self
            .sandbox
            .command("getent")
            .args([db, name])
            .output()
            .expect("running getent");
        output
            .status
            .success()
            .then(|| String::from_utf8(output.stdout).unwrap().trim().to_owned())
    }

    /// The account databases as they are now (/etc and extrausers), for before/after checks.
    pub fn accounts(&self) -> String {
        self.sh("cat /etc/passwd /etc/group /etc/shadow /etc/gshadow; \
             cat /var/lib/extrausers/* 2>/dev/null; true")
    }

    /// Every path under the directories snapcell writes to.
    pub fn state(&self) -> Vec<String> {
        self.sh("find /var/lib/snapcell /snap /var/snap -mindepth 1 | sort")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub fn assert_nothing_left(&self, accounts_before: &str) {
        assert_eq!(self.state(), EMPTY_STATE, "state left behind");
        assert_eq!(self.accounts(), accounts_before, "accounts changed");
    }

    /// Rewrites the sandbox's account files line by line.
    pub fn edit_etc(&self, file: &str, edit: impl Fn(&str) -> Option<String>) {
        let path = self.sandbox.etc().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited: String = text
            .lines()
            .filter_map(|line| edit(line).map(|line| line + "\n"))
            .collect();
        std::fs::write(&path, edited).unwrap();
    }

    /// Removes `daemon` from the user databases, the group databases, or both (Solus-like).
    pub fn remove_daemon(&self, user: bool, group: bool) {
        let files: &[&str] = match (user, group) {
            (true, true) => &["passwd", "shadow", "group", "gshadow"],
            (true, false) => &["passwd", "shadow"],
            (false, true) => &["group", "gshadow"],
            (false, false) => &[],
        };
        for file in files {
            self.edit_etc(file, |line| {
                (!line.starts_with("daemon:")).then(|| line.to_owned())
            });
        }
    }

    /// Fedora/RHEL numbering: daemon 2/2 and bin 1/1 (Debian has them the other way round).
    pub fn daemon_at_2(&self) {
        let swap = |line: &str| {
            Some(if let Some(rest) = line.strip_prefix("daemon:x:1:1:") {
                format!("daemon:x:2:2:{rest}")
            } else if let Some(rest) = line.strip_prefix("bin:x:2:2:") {
                format!("bin:x:1:1:{rest}")
            } else if let Some(rest) = line.strip_prefix("daemon:x:1:") {
                format!("daemon:x:2:{rest}")
            } else if let Some(rest) = line.strip_prefix("bin:x:2:") {
                format!("bin:x:1:{rest}")
            } else {
                line.to_owned()
            })
        };
        self.edit_etc("passwd", swap);
        self.edit_etc("group", swap);
        assert_eq!(
            self.getent("passwd", "daemon").unwrap().split(':').nth(2),
            Some("2")
        );
        assert_eq!(
            self.getent("group", "daemon").unwrap().split(':').nth(2),
            Some("2")
        );
    }

    /// A file of the sandbox's state, read from inside.
    pub fn read(&self, path: &str) -> Vec<u8> {
        let output = self.sandbox.command("cat").arg(path).output().unwrap();
        assert!(output.status.success(), "cat {path}: {output:?}");
        output.stdout
    }

    pub fn read_text(&self, path: &str) -> String {
        String::from_utf8(self.read(path)).unwrap()
    }
}

pub fn succeeded(output: Output, what: &[&str]) -> String {
    assert!(
        output.status.success(),
        "{what:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).unwrap()
}

pub fn refused(output: Output, what: &[&str]) -> String {
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{what:?} must fail: {stderr}"
    );
    let paragraph = stderr
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("{what:?}: no `error: ` prefix: {stderr}"));
    assert_eq!(
        paragraph.trim_end().lines().count(),
        1,
        "one paragraph: {stderr}"
    );
    paragraph.trim_end().to_owned()
}

/// A `.snap` (squashfs) of `dir`, as snaps are built: all files root-owned.
pub fn squash(dir: &Path, out: &Path) {
    let status = Command::new("mksquashfs")
        .arg(dir)
        .arg(out)
        .args(["-all-root", "-noappend", "-quiet", "-no-progress"])
        .stdout(Stdio::null())
        .status()
        .expect("running mksquashfs");
    assert!(status.success());
}

/// Whether the kernel, running the compiled `program`, lets a root process drop to `id`
/// (setresgid(id, id, id) then setresuid(id, id, id)), judged in a child process.
pub fn drop_allowed(program: &[u8], id: u32) -> bool {
    let program = policy::seccomp::Program::from_bytes(program).expect("a stored program");
    let mut child = Command::new("/bin/true");
    // SAFETY: between fork and exec the closure only makes system calls.
    unsafe {
        child.pre_exec(move || {
            policy::seccomp::load(&program).map_err(std::io::Error::other)?;
            for call in [nix::libc::SYS_setresgid, nix::libc::SYS_setresuid] {
                if nix::libc::syscall(call, id, id, id) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    match child.status() {
        Ok(status) => {
            assert!(status.success(), "/bin/true under the filter: {status}");
            true
        }
        Err(err) if err.raw_os_error() == Some(nix::libc::EPERM) => false,
        Err(err) => panic!("running the filter: {err}"),
    }
}
