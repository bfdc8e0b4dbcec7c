//! Phase 1: `system-users: [daemon]` needs the user and the group to exist already; nothing is
//! created. Their ids differ between distributions, so they are looked up, never assumed.

use super::{Account, AccountsError, IdResolver, ResolveError};

/// What a refused `system-users` entry lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    User,
    Group,
    Both,
}

impl Missing {
    /// "the user "daemon" is missing (the group exists)" and the like.
    pub fn clause(&self, name: &str) -> String {
        match self {
            Missing::User => format!("the user {name:?} is missing (the group exists)"),
            Missing::Group => format!("the group {name:?} is missing (the user exists)"),
            Missing::Both => format!("the user and the group {name:?} are both missing"),
        }
    }
}

/// Resolves every name of `system-users` for `snap`, refusing with instructions where the user,
/// the group or both are missing.
pub fn check_system_users(
    snap: &str,
    names: &[String],
    ids: &dyn IdResolver,
) -> Result<Vec<Account>, AccountsError> {
    names
        .iter()
        .map(|name| check_one(snap, name, ids))
        .collect()
}

fn check_one(snap: &str, name: &str, ids: &dyn IdResolver) -> Result<Account, AccountsError> {
    let uid = found(ids.uid(name))?;
    let gid = found(ids.gid(name))?;
    let missing = match (uid, gid) {
        (Some(uid), Some(gid)) => {
            return Ok(Account {
                name: name.to_owned(),
                uid,
                gid,
            });
        }
        (None, Some(_)) => Missing::User,
        (Some(_), None) => Missing::Group,
        (None, None) => Missing::Both,
    };
    Err(AccountsError::MissingSystemUser {
        snap: snap.to_owned(),
        name: name.to_owned(),
        missing,
    })
}

/// `Ok(None)` for a name that does not exist; other lookup failures stay errors.
pub(super) fn found(result: Result<u32, ResolveError>) -> Result<Option<u32>, ResolveError> {
    match result {
        Ok(id) => Ok(Some(id)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}
