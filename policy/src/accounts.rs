//! Accounts: user and group names → ids through NSS, the phase-1 `system-users` check, and the
//! accounts the shipped `system-usernames` spelling creates with shadow-utils.

mod shadow;
mod system_usernames;
mod system_users;

use nix::unistd::{Group, User};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use shadow::{Database, ShadowUtils};
pub use system_usernames::{Created, Plan, plan_system_usernames};
pub use system_users::{Missing, check_system_users};

/// A user and the group of the same name, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Resolves account names to ids at policy compile time.
pub trait IdResolver {
    fn uid(&self, user: &str) -> Result<u32, ResolveError>;
    fn gid(&self, group: &str) -> Result<u32, ResolveError>;
}

/// A name that could not be resolved.
#[derive(Debug, Error)]
pub enum ResolveError {
    #[error("user {0:?} does not exist")]
    NoSuchUser(String),
    #[error("group {0:?} does not exist")]
    NoSuchGroup(String),
    #[error("cannot look up {name:?}: {source}")]
    Lookup { name: String, source: nix::Error },
}

impl ResolveError {
    /// True when the lookup worked and the name simply does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            ResolveError::NoSuchUser(_) | ResolveError::NoSuchGroup(_)
        )
    }
}

/// The system's account databases, through NSS (getpwnam_r/getgrnam_r).
#[derive(Debug, Clone, Copy, Default)]
pub struct Nss;

/// getpwnam_r(3): "0 or ENOENT or ESRCH or EBADF or EPERM or ... The given name or uid was not
/// found." NSS modules use them all; libnss-extrausers answers ENOENT while its files do not exist.
fn not_found(errno: nix::Error) -> bool {
    use nix::errno::Errno;
    matches!(
        errno,
        Errno::ENOENT | Errno::ESRCH | Errno::EBADF | Errno::EPERM
    )
}

impl IdResolver for Nss {
    fn uid(&self, user: &str) -> Result<u32, ResolveError> {
        match User::from_name(user) {
            Ok(Some(found)) => Ok(found.uid.as_raw()),
            Ok(None) => Err(ResolveError::NoSuchUser(user.to_owned())),
            Err(errno) if not_found(errno) => Err(ResolveError::NoSuchUser(user.to_owned())),
            Err(source) => Err(ResolveError::Lookup {
                name: user.to_owned(),
                source,
            }),
        }
    }

    fn gid(&self, group: &str) -> Result<u32, ResolveError> {
        match Group::from_name(group) {
            Ok(Some(found)) => Ok(found.gid.as_raw()),
            Ok(None) => Err(ResolveError::NoSuchGroup(group.to_owned())),
            Err(errno) if not_found(errno) => Err(ResolveError::NoSuchGroup(group.to_owned())),
            Err(source) => Err(ResolveError::Lookup {
                name: group.to_owned(),
                source,
            }),
        }
    }
}

/// Accounts resolved once at install time; compiling against them (rather than asking NSS
/// again) guarantees the program compares against the ids the install record shows.
/// `root` is always 0/0: the kernel gives uid 0 its meaning, not the account database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts(Vec<Account>);

impl Accounts {
    pub fn new(accounts: Vec<Account>) -> Accounts {
        Accounts(accounts)
    }

    pub fn as_slice(&self) -> &[Account] {
        &self.0
    }

    fn find(&self, name: &str) -> Option<&Account> {
        self.0.iter().find(|account| account.name == name)
    }
}

impl IdResolver for Accounts {
    fn uid(&self, user: &str) -> Result<u32, ResolveError> {
        match (user, self.find(user)) {
            ("root", _) => Ok(0),
            (_, Some(account)) => Ok(account.uid),
            (_, None) => Err(ResolveError::NoSuchUser(user.to_owned())),
        }
    }

    fn gid(&self, group: &str) -> Result<u32, ResolveError> {
        match (group, self.find(group)) {
            ("root", _) => Ok(0),
            (_, Some(account)) => Ok(account.gid),
            (_, None) => Err(ResolveError::NoSuchGroup(group.to_owned())),
        }
    }
}

/// Why an install's accounts were refused or could not be created.
#[derive(Debug, Error)]
pub enum AccountsError {
    #[error(
        "cannot install snap \"{snap}\": it declares \"system-users: [{name}]\", but on this system \
         {}. LSB systems provide both the user and the group; add what is missing as \
         root with `groupadd --system {name}` (the group) and `useradd --system --gid {name} \
         --no-create-home --shell /usr/sbin/nologin {name}` (the user), then install again",
        .missing.clause(.name)
    )]
    MissingSystemUser {
        snap: String,
        name: String,
        missing: Missing,
    },
    #[error(
        "cannot add user/group {name:?}: {present} exists and {absent} does not; the snap needs \
         both with id {id}: add the {absent} with that id or remove the {present}, then install again"
    )]
    HalfPresent {
        name: String,
        id: u32,
        present: &'static str,
        absent: &'static str,
    },
    #[error(
        "found unexpected {kind} for {what} {name:?}: {found} (expected {expected}); this name is \
         reserved for id {expected}: remove or renumber the existing account, then install again"
    )]
    UnexpectedId {
        kind: &'static str,
        what: &'static str,
        name: String,
        found: u32,
        expected: u32,
    },
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("`{command}` failed: {detail}")]
    Tool { command: String, detail: String },
    #[error("cannot prepare {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests;
