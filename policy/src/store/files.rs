//! File-system primitives with the store's guarantees: root-owned 0644 files and 0755
//! directories, files and symlinks replaced atomically (temporary name, then rename).

use std::fs::{self, DirBuilder, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::StoreError;

/// Creates `dir` and its missing ancestors, each 0755 whatever the umask.
pub fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        ensure_dir(parent)?;
    }
    match DirBuilder::new().mode(0o755).create(dir) {
        Ok(()) => fs::set_permissions(dir, Permissions::from_mode(0o755))
            .map_err(StoreError::io(dir, "cannot set the mode of")),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(err) => Err(StoreError::io(dir, "cannot create the directory")(err)),
    }
}

/// Replaces `path` with `contents` (mode 0644) in one rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), StoreError> {
    let dir = parent(path);
    ensure_dir(dir)?;
    let mut file = NamedTempFile::new_in(dir)
        .map_err(StoreError::io(dir, "cannot create a temporary file in"))?;
    file.write_all(contents)
        .and_then(|()| {
            file.as_file()
                .set_permissions(Permissions::from_mode(0o644))
        })
        .and_then(|()| file.as_file().sync_all())
        .map_err(StoreError::io(file.path(), "cannot write"))?;
    file.persist(path)
        .map_err(|err| StoreError::io(path, "cannot replace")(err.error))?;
    Ok(())
}

/// Points the symlink `link` at `target`, replacing whatever `link` was, in one rename.
pub fn replace_symlink(target: &Path, link: &Path) -> Result<(), StoreError> {
    let dir = parent(link);
    ensure_dir(dir)?;
    let name = link
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{}.new", std::process::id()));
    let _ = fs::remove_file(&temporary);
    symlink(target, &temporary).map_err(StoreError::io(&temporary, "cannot create the symlink"))?;
    fs::rename(&temporary, link).map_err(|err| {
        let _ = fs::remove_file(&temporary);
        StoreError::io(link, "cannot replace the symlink")(err)
    })
}

/// Removes a file, symlink or directory tree; absent is fine.
pub fn remove_any(path: &Path) -> Result<(), StoreError> {
    let result = match fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => Err(err),
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    result.map_err(StoreError::io(path, "cannot remove"))
}

/// Reads `path`, `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(StoreError::io(path, "cannot read")(err)),
    }
}

/// The target of the symlink `link`, `None` when there is no symlink.
pub fn read_link_optional(link: &Path) -> Option<PathBuf> {
    fs::read_link(link).ok()
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("/"))
}
