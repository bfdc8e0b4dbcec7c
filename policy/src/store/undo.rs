//! A log of what an operation changed, replayed backwards when a later step fails.

use std::path::PathBuf;

use crate::accounts::Created;

use super::StoreError;
use super::files::{read_link_optional, read_optional, remove_any, replace_symlink, write_atomic};

enum Step {
    /// Put a file back as it was (`None`: it did not exist).
    File {
        path: PathBuf,
        before: Option<Vec<u8>>,
    },
    /// Put a symlink back as it was (`None`: it did not exist).
    Symlink {
        path: PathBuf,
        before: Option<PathBuf>,
    },
    /// Remove something the operation created.
    Created(PathBuf),
    /// Move something back where it was.
    Moved {
        from: PathBuf,
        to: PathBuf,
    },
    Accounts(Created),
}

#[derive(Default)]
pub struct Undo(Vec<Step>);

impl Undo {
    /// Remembers `path` as it is now, before the caller replaces or removes it.
    pub fn file(&mut self, path: PathBuf) -> Result<(), StoreError> {
        let before = read_optional(&path)?;
        self.0.push(Step::File { path, before });
        Ok(())
    }

    pub fn symlink(&mut self, path: PathBuf) {
        let before = read_link_optional(&path);
        self.0.push(Step::Symlink { path, before });
    }

    pub fn created(&mut self, path: PathBuf) {
        self.0.push(Step::Created(path));
    }

    pub fn moved(&mut self, from: PathBuf, to: PathBuf) {
        self.0.push(Step::Moved { from, to });
    }

    pub fn accounts(&mut self, created: Created) {
        self.0.push(Step::Accounts(created));
    }

    /// Replays the log backwards. Best effort: the operation is already failing with the error
    /// that matters, and each step is independent of the others' success.
    pub fn run(self) {
        for step in self.0.into_iter().rev() {
            let _ = match step {
                Step::File {
                    path,
                    before: Some(bytes),
                } => write_atomic(&path, &bytes),
                Step::File { path, before: None } | Step::Created(path) => remove_any(&path),
                Step::Symlink {
                    path,
                    before: Some(target),
                } => replace_symlink(&target, &path),
                Step::Symlink { path, before: None } => remove_any(&path),
                Step::Moved { from, to } => {
                    std::fs::rename(&to, &from).map_err(StoreError::io(to, "cannot move back"))
                }
                Step::Accounts(mut created) => {
                    created.rollback();
                    Ok(())
                }
            };
        }
    }
}
