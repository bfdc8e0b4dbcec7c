//! Every kernel concern of a launch behind one narrow trait, [`Syscalls`], so the order of
//! operations in `sequence` can be checked against a recording double, and [`Linux`], the real
//! implementation the kernel tests prove.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use caps::{CapSet, Capability};
use nix::errno::Errno;
use nix::unistd::{Gid, Uid, getresgid, getresuid, setresgid, setresuid};

use crate::seccomp::Program;

/// The process's real, effective and saved ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub ruid: u32,
    pub euid: u32,
    pub suid: u32,
    pub rgid: u32,
    pub egid: u32,
    pub sgid: u32,
}

impl Ids {
    /// Root's ids, as a root caller has them.
    #[cfg(test)]
    pub fn root() -> Ids {
        Ids::of(0, 0)
    }

    /// A caller that is `uid`/`gid` in every position.
    pub fn of(uid: u32, gid: u32) -> Ids {
        Ids {
            ruid: uid,
            euid: uid,
            suid: uid,
            rgid: gid,
            egid: gid,
            sgid: gid,
        }
    }

    /// True when any effective or saved id differs from the real one (a setuid or setgid exec).
    pub fn is_elevated(&self) -> bool {
        *self != Ids::of(self.ruid, self.rgid)
    }
}

/// A kernel operation that failed, with what the launcher was doing.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action}: {source}")]
pub struct KernelError {
    pub action: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl KernelError {
    pub fn new(
        action: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> KernelError {
        KernelError {
            action: action.into(),
            source: source.into(),
        }
    }
}

/// What a launch asks of the kernel, one narrow concern per method.
pub trait Syscalls {
    fn ids(&self) -> Ids;
    /// Whether `capability` is in the effective set.
    fn has_capability(&self, capability: Capability) -> bool;
    fn apparmor_enforces(&self) -> bool;
    /// Moves the process into a new mount namespace whose `/tmp` is the snap's own directory.
    /// Leaves the working directory at `/`.
    fn enter_private_tmp(&mut self, snap: &str) -> Result<(), KernelError>;
    /// Changes to the caller's working directory, with the current identity's permissions.
    fn restore_working_directory(&mut self, directory: &Path);
    /// Creates `path` and its parents (0755) as the current identity, if missing.
    fn ensure_dir(&mut self, path: &Path) -> Result<(), KernelError>;
    fn drop_from_bounding_set(&mut self, capabilities: &[Capability]) -> Result<(), KernelError>;
    /// setresgid(gid, gid, gid) then setresuid(uid, uid, uid); supplementary groups untouched.
    fn set_ids(&mut self, uid: u32, gid: u32) -> Result<(), KernelError>;
    /// Tries to become root again; true means the drop was not permanent.
    fn root_regainable(&mut self) -> bool;
    fn change_profile_on_exec(&mut self, label: &str) -> Result<(), KernelError>;
    fn set_no_new_privs(&mut self) -> Result<(), KernelError>;
    /// Drops from the permitted, effective, inheritable and ambient sets.
    fn drop_capabilities(&mut self, capabilities: &[Capability]) -> Result<(), KernelError>;
    fn load_filter(&mut self, program: &Program) -> Result<(), KernelError>;
    /// Replaces the process; returns only on failure.
    fn exec(&mut self, argv: &[OsString], environment: &[(OsString, OsString)]) -> KernelError;
}

/// The real kernel.
pub struct Linux;

const APPARMOR_FS: &str = "/sys/kernel/security/apparmor";

impl Syscalls for Linux {
    fn ids(&self) -> Ids {
        let uids = getresuid().expect("getresuid cannot fail");
        let gids = getresgid().expect("getresgid cannot fail");
        Ids {
            ruid: uids.real.as_raw(),
            euid: uids.effective.as_raw(),
            suid: uids.saved.as_raw(),
            rgid: gids.real.as_raw(),
            egid: gids.effective.as_raw(),
            sgid: gids.saved.as_raw(),
        }
    }

    fn has_capability(&self, capability: Capability) -> bool {
        caps::has_cap(None, CapSet::Effective, capability).unwrap_or(false)
    }

    fn apparmor_enforces(&self) -> bool {
        Path::new(APPARMOR_FS).exists()
    }

    fn enter_private_tmp(&mut self, snap: &str) -> Result<(), KernelError> {
        super::namespace::enter(snap)
    }

    fn restore_working_directory(&mut self, directory: &Path) {
        // Where the caller's directory does not exist in the snap's namespace (a directory in
        // the host's /tmp, say), the app starts in `/`, where entering the namespace left it.
        let _ = std::env::set_current_dir(directory);
    }

    fn ensure_dir(&mut self, path: &Path) -> Result<(), KernelError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(path)
            .map_err(|e| KernelError::new(format!("create {}", path.display()), e))
    }

    fn drop_from_bounding_set(&mut self, capabilities: &[Capability]) -> Result<(), KernelError> {
        for &capability in capabilities {
            caps::drop(None, CapSet::Bounding, capability).map_err(|e| {
                KernelError::new(format!("drop {capability} from the bounding set"), e)
            })?;
        }
        Ok(())
    }

    fn set_ids(&mut self, uid: u32, gid: u32) -> Result<(), KernelError> {
        let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
        setresgid(gid, gid, gid).map_err(|e| KernelError::new(format!("setresgid to {gid}"), e))?;
        setresuid(uid, uid, uid).map_err(|e| KernelError::new(format!("setresuid to {uid}"), e))
    }

    fn root_regainable(&mut self) -> bool {
        let root_uid = Uid::from_raw(0);
        let root_gid = Gid::from_raw(0);
        let uid_back = setresuid(root_uid, root_uid, root_uid) != Err(Errno::EPERM);
        let gid_back = setresgid(root_gid, root_gid, root_gid) != Err(Errno::EPERM);
        uid_back || gid_back
    }

    fn change_profile_on_exec(&mut self, label: &str) -> Result<(), KernelError> {
        let request = format!("exec {label}");
        let newer = Path::new("/proc/self/attr/apparmor/exec");
        let attribute = if newer.exists() {
            newer
        } else {
            Path::new("/proc/self/attr/exec")
        };
        std::fs::write(attribute, request)
            .map_err(|e| KernelError::new(format!("change to AppArmor profile {label} on exec"), e))
    }

    fn set_no_new_privs(&mut self) -> Result<(), KernelError> {
        nix::sys::prctl::set_no_new_privs().map_err(|e| KernelError::new("set no_new_privs", e))
    }

    fn drop_capabilities(&mut self, capabilities: &[Capability]) -> Result<(), KernelError> {
        // Ambient first: the kernel keeps ambient a subset of permitted and inheritable.
        for set in [
            CapSet::Ambient,
            CapSet::Inheritable,
            CapSet::Effective,
            CapSet::Permitted,
        ] {
            for &capability in capabilities {
                caps::drop(None, set, capability).map_err(|e| {
                    KernelError::new(format!("drop {capability} from the {set:?} set"), e)
                })?;
            }
        }
        Ok(())
    }

    fn load_filter(&mut self, program: &Program) -> Result<(), KernelError> {
        crate::seccomp::load(program).map_err(|e| KernelError::new("confine the app", e))
    }

    fn exec(&mut self, argv: &[OsString], environment: &[(OsString, OsString)]) -> KernelError {
        let program = PathBuf::from(&argv[0]);
        let action = format!("run {}", program.display());
        let c_argv = match argv
            .iter()
            .cloned()
            .map(c_string)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(c_argv) => c_argv,
            Err(e) => return KernelError::new(action, e),
        };
        let c_environment = match environment
            .iter()
            .map(|(name, value)| {
                let mut pair = name.clone();
                pair.push("=");
                pair.push(value);
                c_string(pair)
            })
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(c_environment) => c_environment,
            Err(e) => return KernelError::new(action, e),
        };
        match nix::unistd::execve(&c_argv[0], &c_argv, &c_environment) {
            Err(errno) => KernelError::new(action, errno),
            Ok(never) => match never {},
        }
    }
}

fn c_string(value: OsString) -> Result<CString, std::ffi::NulError> {
    CString::new(value.into_vec())
}
