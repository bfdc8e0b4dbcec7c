//! The install record `var/lib/snapcell/snaps/NAME.yaml`: what was installed, which ids its
//! users resolved to, and the digest of each app's compiled program. Written last by an install,
//! so its presence means "installed".

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// Each app's compiled seccomp program as [`program_digest`] gives it, by app name: the
    /// launcher runs only the program that was installed, byte for byte.
    #[serde(default)]
    pub program_sha256: BTreeMap<String, String>,
}

/// The SHA-256 of a compiled program's bytes, in lowercase hex.
pub fn program_digest(program: &[u8]) -> String {
    format!("{:x}", Sha256::digest(program))
}

impl InstallRecord {
    pub fn new(
        meta: &SnapMeta,
        revision: String,
        snap_id: Option<String>,
        users: Vec<Account>,
        program_sha256: BTreeMap<String, String>,
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
            program_sha256,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_digest_is_the_sha256_of_its_bytes_in_hex() {
        assert_eq!(
            program_digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_record_without_digests_still_reads() {
        let record: InstallRecord = serde_norway::from_str(
            "name: a\nversion: '1'\nrevision: x1\nsnap-id: null\nsummary: null\napps: [a]\n\
             opt-in: none\nusers: []\n",
        )
        .expect("an older record");
        assert!(record.program_sha256.is_empty());
    }
}
