//! The shipped `system-usernames` spelling: ensure each user/group pair with its fixed id,
//! preceded by the range user that reserves its 65536-id block for container managers that
//! probe `id & 0xFFFF0000`. Everything is checked before anything is created, and a failed run
//! removes what it created.

use crate::snap::SystemUsername;

use super::system_users::found;
use super::{Account, AccountsError, Database, IdResolver, ShadowUtils};

/// The block a fixed id belongs to.
const RANGE_MASK: u32 = 0xFFFF_0000;

/// `snapd-range-524288-root` for every id in 524288..589824.
fn range_user_name(id: u32) -> String {
    format!("snapd-range-{}-root", id & RANGE_MASK)
}

/// The accounts an install will use and the user/group pairs that must be created first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    accounts: Vec<Account>,
    /// (name, id) in creation order: each range user before the users of its block.
    to_create: Vec<(String, u32)>,
}

/// Checks every pair `users` needs (range users first) against the account databases.
/// Creates nothing.
pub fn plan_system_usernames(
    users: &[SystemUsername],
    ids: &dyn IdResolver,
) -> Result<Plan, AccountsError> {
    let mut pairs: Vec<(String, u32)> = Vec::new();
    for user in users {
        let range = user.id & RANGE_MASK;
        for pair in [
            (range_user_name(range), range),
            (user.name.clone(), user.id),
        ] {
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
    }
    let mut to_create = Vec::new();
    for (name, id) in pairs {
        if !exists_with_id(&name, id, ids)? {
            to_create.push((name, id));
        }
    }
    let accounts = users
        .iter()
        .map(|user| Account {
            name: user.name.clone(),
            uid: user.id,
            gid: user.id,
        })
        .collect();
    Ok(Plan {
        accounts,
        to_create,
    })
}

/// `true` when the pair exists with `id`, `false` when neither half exists.
fn exists_with_id(name: &str, id: u32, ids: &dyn IdResolver) -> Result<bool, AccountsError> {
    let unexpected = |kind, what, found| AccountsError::UnexpectedId {
        kind,
        what,
        name: name.to_owned(),
        found,
        expected: id,
    };
    match (found(ids.uid(name))?, found(ids.gid(name))?) {
        (None, None) => Ok(false),
        (Some(uid), _) if uid != id => Err(unexpected("uid", "user", uid)),
        (_, Some(gid)) if gid != id => Err(unexpected("gid", "group", gid)),
        (Some(_), Some(_)) => Ok(true),
        (None, Some(_)) => Err(AccountsError::HalfPresent {
            name: name.to_owned(),
            id,
            present: "group",
            absent: "user",
        }),
        (Some(_), None) => Err(AccountsError::HalfPresent {
            name: name.to_owned(),
            id,
            present: "user",
            absent: "group",
        }),
    }
}

impl Plan {
    /// The snap's accounts, with the ids they have once the plan is carried out.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// Names of the pairs [`Plan::create`] would add, in order.
    pub fn to_create(&self) -> impl Iterator<Item = &str> {
        self.to_create.iter().map(|(name, _)| name.as_str())
    }

    /// Creates the missing pairs in `database`. On failure, everything this call created is
    /// removed again before the error is returned.
    pub fn create(&self, database: Database) -> Result<Created, AccountsError> {
        let mut created = Created {
            tools: None,
            names: Vec::new(),
        };
        if self.to_create.is_empty() {
            return Ok(created);
        }
        let tools = created.tools.insert(ShadowUtils::new(database)?);
        for (name, id) in &self.to_create {
            if let Err(err) = create_pair(tools, name, *id) {
                created.rollback();
                return Err(err);
            }
            created.names.push(name.clone());
        }
        Ok(created)
    }
}

/// Group first, then the user in it; a failed `useradd` takes its group back out.
fn create_pair(tools: &ShadowUtils, name: &str, id: u32) -> Result<(), AccountsError> {
    tools.groupadd(name, id)?;
    tools.useradd(name, id).inspect_err(|_| {
        let _ = tools.groupdel(name);
    })
}

/// Accounts created by one [`Plan::create`], kept so that a later failure of the install can
/// remove them.
#[derive(Debug)]
pub struct Created {
    tools: Option<ShadowUtils>,
    names: Vec<String>,
}

impl Created {
    /// Best effort: removal errors are not actionable on a path that is already failing.
    pub fn rollback(&mut self) {
        let Some(tools) = &self.tools else { return };
        for name in self.names.drain(..).rev() {
            let _ = tools.userdel(&name);
            let _ = tools.groupdel(&name);
        }
    }
}
