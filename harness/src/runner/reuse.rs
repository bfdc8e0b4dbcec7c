//! `<project>/.spread-reuse.yaml`: the machines kept by `-reuse`, so that the next `-reuse`,
//! `-restore` or `-discard` run finds them.
//!
//! Written atomically (temporary file, then rename) so a crash never leaves half a record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name under the project root.
pub const FILE_NAME: &str = ".spread-reuse.yaml";

/// One kept machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeptMachine {
    /// Backend-specific id (the container id).
    pub id: String,
    /// Human name (the container name).
    pub name: String,
    /// Whether the project and backend prepare scripts ran and were not restored.
    pub prepared: bool,
}

/// Kept machines per `backend:system`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReuseRecords {
    #[serde(default)]
    pub systems: BTreeMap<String, Vec<KeptMachine>>,
}

/// The reuse file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ReuseError {
    #[error("cannot read {path}: {reason} (remove it if the machines it lists are gone)")]
    Read { path: PathBuf, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

impl ReuseRecords {
    pub fn path(project_root: &Path) -> PathBuf {
        project_root.join(FILE_NAME)
    }

    /// Reads the records; a missing or empty file means none.
    pub fn load(project_root: &Path) -> Result<Self, ReuseError> {
        let path = Self::path(project_root);
        let read_error = |reason: String| ReuseError::Read {
            path: path.clone(),
            reason,
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(read_error(e.to_string())),
        };
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_norway::from_str(&text).map_err(|e| read_error(e.to_string()))
    }

    /// Writes the records, or removes the file when there are none. A symlinked file (spread's
    /// own tests link it to /run) is written through the link.
    pub fn save(&self, project_root: &Path) -> Result<(), ReuseError> {
        let link = Self::path(project_root);
        let path = std::fs::canonicalize(&link).unwrap_or(link);
        let write_error = |reason: String| ReuseError::Write {
            path: path.clone(),
            reason,
        };
        if self.systems.values().all(Vec::is_empty) {
            return match std::fs::write(&path, "") {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(write_error(e.to_string())),
            };
        }
        let text = serde_norway::to_string(self).map_err(|e| write_error(e.to_string()))?;
        let temporary = path.with_extension("yaml.tmp");
        std::fs::write(
            &temporary,
            format!("# Machines kept by `harness -reuse`.\n{text}"),
        )
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| write_error(e.to_string()))
    }

    /// Removes and returns the machines kept for `system`.
    pub fn take(&mut self, system: &str) -> Vec<KeptMachine> {
        self.systems.remove(system).unwrap_or_default()
    }

    pub fn keep(&mut self, system: &str, machine: KeptMachine) {
        self.systems
            .entry(system.to_owned())
            .or_default()
            .push(machine);
    }

    pub fn contains(&self, id: &str) -> bool {
        self.systems.values().flatten().any(|m| m.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_empty_means_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            ReuseRecords::load(dir.path()).unwrap(),
            ReuseRecords::default()
        );
        let mut records = ReuseRecords::default();
        records.keep(
            "docker:debian-12",
            KeptMachine {
                id: "abc".into(),
                name: "n".into(),
                prepared: true,
            },
        );
        records.save(dir.path()).unwrap();
        let loaded = ReuseRecords::load(dir.path()).unwrap();
        assert_eq!(loaded, records);
        assert!(loaded.contains("abc"));
        ReuseRecords::default().save(dir.path()).unwrap();
        assert_eq!(
            ReuseRecords::load(dir.path()).unwrap(),
            ReuseRecords::default()
        );
    }

    #[test]
    fn a_corrupt_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "systems: [").unwrap();
        let error = ReuseRecords::load(dir.path()).unwrap_err();
        assert!(error.to_string().contains(FILE_NAME), "{error}");
    }
}
