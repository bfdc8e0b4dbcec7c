//! A machine-wide lock around image builds, so that concurrent test processes sharing one
//! Docker engine never build the same image twice.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use super::ImageError;

/// Held while building; released when dropped (or when the process dies).
pub struct BuildLock {
    _file: File,
}

/// Where the lock lives: one file per machine, next to the engine's other users.
pub fn path() -> PathBuf {
    std::env::temp_dir().join("snapcell-e2e-images.lock")
}

impl BuildLock {
    /// Takes the lock, waiting for another process to finish; `waiting` is called once if the
    /// lock is busy.
    pub async fn acquire(waiting: impl FnOnce(&PathBuf)) -> Result<BuildLock, ImageError> {
        let path = path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| ImageError::Io {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => return Ok(BuildLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => waiting(&path),
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(ImageError::Io { path, source });
            }
        }
        let blocking_path = path.clone();
        tokio::task::spawn_blocking(move || file.lock().map(|()| BuildLock { _file: file }))
            .await
            .map_err(|join| ImageError::Io {
                path: blocking_path.clone(),
                source: std::io::Error::other(join),
            })?
            .map_err(|source| ImageError::Io {
                path: blocking_path,
                source,
            })
    }
}
