//! The install record `var/lib/snapcell/snaps/NAME.yaml`: what was installed and which ids its
//! users resolved to. Written last by an install, so its presence means "installed".

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::accounts::Account;
use crate::snap::{OptIn, SnapMeta};

use super::StoreError;
use super::files::{read_optional, write_atomic};

/// Which snap.yaml stanza the users came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptInKind {
    None,
    SystemUsers,
    SystemUsernames,
}

impl From<&OptIn> for OptInKind {
    fn from(opt_in: &OptIn) -> OptInKind {
        match opt_in {
            OptIn::None => OptInKind::None,
            OptIn::SystemUsers(_) => OptInKind::SystemUsers,
            OptIn::SystemUsernames(_) => OptInKind::SystemUsernames,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct InstallRecord {
    pub name: String,
    pub version: String,
    /// `x1`, `x2`, ...: local installs count up from 1.
    pub revision: String,
    pub snap_id: Option<String>,
    pub summary: Option<String>,
    pub apps: Vec<String>,
    pub opt_in: OptInKind,
    /// The opt-in users with the ids the compiled programs compare against.
    pub users: Vec<Account>,
}

impl InstallRecord {
    pub fn new(
        meta: &SnapMeta,
        revision: String,
        snap_id: Option<String>,
        users: Vec<Account>,
    ) -> Self {
        InstallRecord {
            name: meta.name.clone(),
            version: meta.version.clone(),
            revision,
            snap_id,
            summary: meta.summary.clone(),
            apps: meta.apps.keys().cloned().collect(),
            opt_in: OptInKind::from(&meta.users),
            users,
        }
    }

    pub fn read(path: &Path) -> Result<Option<InstallRecord>, StoreError> {
        let Some(bytes) = read_optional(path)? else {
            return Ok(None);
        };
        serde_norway::from_slice(&bytes)
            .map(Some)
            .map_err(|err| StoreError::BadRecord {
                path: path.to_path_buf(),
                detail: err.to_string(),
            })
    }

    pub fn write(&self, path: &Path) -> Result<(), StoreError> {
        let text = serde_norway::to_string(self).map_err(|err| StoreError::BadRecord {
            path: path.to_path_buf(),
            detail: err.to_string(),
        })?;
        write_atomic(path, text.as_bytes())
    }

    /// The revision after this one: `x3` after `x2`.
    pub fn next_revision(&self) -> String {
        let number = self
            .revision
            .strip_prefix('x')
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        format!("x{}", number + 1)
    }
}
