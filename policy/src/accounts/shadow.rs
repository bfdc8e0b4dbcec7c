//! shadow-utils (`groupadd`, `useradd`, `userdel`, `groupdel`) as the only writers of the account
//! databases: /etc, or /var/lib/extrausers (libnss-extrausers) where /etc is read-only.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use nix::sys::statvfs::{FsFlags, statvfs};
use tempfile::TempDir;

use super::AccountsError;

/// Which account databases new accounts go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    Etc,
    /// `/var/lib/extrausers/{passwd,group}`, read by libnss-extrausers.
    ExtraUsers,
}

const EXTRAUSERS_DIR: &str = "/var/lib/extrausers";

impl Database {
    /// `ExtraUsers` where /etc is on a read-only file system (Ubuntu Core and the like).
    pub fn detect() -> Database {
        match statvfs("/etc") {
            Ok(stat) if stat.flags().contains(FsFlags::ST_RDONLY) => Database::ExtraUsers,
            _ => Database::Etc,
        }
    }
}

/// Runs shadow-utils against one [`Database`].
#[derive(Debug)]
pub struct ShadowUtils {
    /// Extra arguments selecting the database.
    selector: Vec<OsString>,
    /// Keeps the `--prefix` directory alive while the tools run.
    _prefix: Option<TempDir>,
}

impl ShadowUtils {
    pub fn new(database: Database) -> Result<ShadowUtils, AccountsError> {
        match database {
            Database::Etc => Ok(ShadowUtils {
                selector: Vec::new(),
                _prefix: None,
            }),
            Database::ExtraUsers => Self::extrausers(),
        }
    }

    /// Ubuntu's shadow-utils take `--extrausers`; Debian's do not, but all take `--prefix DIR`
    /// and then edit `DIR/etc/passwd` and `DIR/etc/group`: a prefix whose `etc` points at
    /// /var/lib/extrausers makes them edit the extrausers files with the same locking and
    /// atomic renames.
    fn extrausers() -> Result<ShadowUtils, AccountsError> {
        let dir = Path::new(EXTRAUSERS_DIR);
        for file in ["passwd", "group"] {
            let path = dir.join(file);
            OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .map_err(|source| AccountsError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
        }
        if supports_extrausers_flag() {
            return Ok(ShadowUtils {
                selector: vec!["--extrausers".into()],
                _prefix: None,
            });
        }
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| AccountsError::Io { path, source }
        };
        let prefix = TempDir::new().map_err(io(&std::env::temp_dir()))?;
        symlink(dir, prefix.path().join("etc")).map_err(io(prefix.path()))?;
        Ok(ShadowUtils {
            selector: vec!["--prefix".into(), prefix.path().into()],
            _prefix: Some(prefix),
        })
    }

    /// `groupadd --system --gid ID NAME`
    pub fn groupadd(&self, name: &str, id: u32) -> Result<(), AccountsError> {
        self.run("groupadd", &["--system", "--gid", &id.to_string(), name])
    }

    /// The user of a group made by [`Self::groupadd`], with the same id and no home or shell.
    pub fn useradd(&self, name: &str, id: u32) -> Result<(), AccountsError> {
        let id = id.to_string();
        self.run(
            "useradd",
            &[
                "--system",
                "--home-dir",
                "/nonexistent",
                "--no-create-home",
                "--shell",
                "/bin/false",
                "--gid",
                &id,
                "--no-user-group",
                "--uid",
                &id,
                name,
            ],
        )
    }

    pub fn userdel(&self, name: &str) -> Result<(), AccountsError> {
        self.run("userdel", &[name])
    }

    pub fn groupdel(&self, name: &str) -> Result<(), AccountsError> {
        self.run("groupdel", &[name])
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), AccountsError> {
        let mut command = Command::new(tool);
        command.args(&self.selector).args(args);
        let shown = format!("{tool} {}", args.join(" "));
        let output = command.output().map_err(|err| AccountsError::Tool {
            command: shown.clone(),
            detail: format!("cannot run {tool}: {err}"),
        })?;
        if output.status.success() {
            return Ok(());
        }
        Err(AccountsError::Tool {
            command: shown,
            detail: format!(
                "{} ({})",
                String::from_utf8_lossy(&output.stderr).trim(),
                output.status
            ),
        })
    }
}

fn supports_extrausers_flag() -> bool {
    Command::new("useradd")
        .arg("--help")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("--extrausers"))
}
