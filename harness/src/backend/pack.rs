//! The project content sent to every machine: a tar of what `include`/`exclude` select,
//! with every entry placed under the project's `path`.
//!
//! Exclude patterns follow tar's `--exclude` (what spread passes them to): unanchored shell
//! globs where `*` also matches `/`, matched against every trailing run of path components;
//! an excluded directory takes its contents with it. `.spread-reuse.*` is always excluded.

use std::path::{Path, PathBuf};

use glob::{MatchOptions, Pattern};

/// The project could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("invalid exclude pattern {pattern:?} in spread.yaml: {reason}")]
    Pattern { pattern: String, reason: String },
    #[error("cannot pack {path} for sending: {reason}")]
    Io { path: PathBuf, reason: String },
}

/// Builds the archive of `root` for `remote_path`.
pub fn pack(
    root: &Path,
    remote_path: &str,
    include: &[String],
    exclude: &[String],
) -> Result<Vec<u8>, PackError> {
    let excludes = exclude
        .iter()
        .map(String::as_str)
        .chain([".spread-reuse.*"])
        .map(|p| {
            Pattern::new(p.trim_end_matches('/')).map_err(|e| PackError::Pattern {
                pattern: p.to_owned(),
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let prefix = PathBuf::from(remote_path.trim_start_matches('/'));
    let mut packer = Packer {
        root,
        prefix,
        excludes,
        builder: tar::Builder::new(Vec::new()),
    };
    packer.directory_chain()?;
    let tops = if include.is_empty() {
        top_level_entries(root)?
    } else {
        include.to_vec()
    };
    for top in tops {
        packer.add(Path::new(top.trim_end_matches('/')))?;
    }
    packer.builder.into_inner().map_err(|e| io_error(root, e))
}

struct Packer<'a> {
    root: &'a Path,
    prefix: PathBuf,
    excludes: Vec<Pattern>,
    builder: tar::Builder<Vec<u8>>,
}

impl Packer<'_> {
    /// The directories of `path` themselves, so they exist with sane modes.
    fn directory_chain(&mut self) -> Result<(), PackError> {
        let mut current = PathBuf::new();
        for component in self.prefix.clone().components() {
            current.push(component);
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            self.builder
                .append_data(&mut header, &current, std::io::empty())
                .map_err(|e| io_error(&current, e))?;
        }
        Ok(())
    }

    fn add(&mut self, relative: &Path) -> Result<(), PackError> {
        if self.is_excluded(relative) {
            return Ok(());
        }
        let local = self.root.join(relative);
        let metadata = std::fs::symlink_metadata(&local).map_err(|e| io_error(&local, e))?;
        let target = self.prefix.join(relative);
        if metadata.is_dir() {
            self.builder
                .append_dir(&target, &local)
                .map_err(|e| io_error(&local, e))?;
            let mut children: Vec<_> = std::fs::read_dir(&local)
                .map_err(|e| io_error(&local, e))?
                .map(|entry| entry.map(|e| e.file_name()))
                .collect::<Result<_, _>>()
                .map_err(|e| io_error(&local, e))?;
            children.sort();
            for child in children {
                self.add(&relative.join(child))?;
            }
            Ok(())
        } else {
            self.builder.follow_symlinks(false);
            self.builder
                .append_path_with_name(&local, &target)
                .map_err(|e| io_error(&local, e))
        }
    }

    fn is_excluded(&self, relative: &Path) -> bool {
        let text = relative.to_string_lossy();
        let options = MatchOptions {
            require_literal_separator: false,
            ..MatchOptions::new()
        };
        let suffixes = std::iter::once(text.as_ref())
            .chain(text.match_indices('/').map(|(i, _)| &text[i + 1..]));
        suffixes.into_iter().any(|suffix| {
            self.excludes
                .iter()
                .any(|p| p.matches_with(suffix, options))
        })
    }
}

fn top_level_entries(root: &Path) -> Result<Vec<String>, PackError> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .map_err(|e| io_error(root, e))?
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| io_error(root, e))?;
    names.sort();
    Ok(names)
}

fn io_error(path: &Path, error: std::io::Error) -> PackError {
    PackError::Io {
        path: path.to_owned(),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(archive: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(archive);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .unwrap()
                    .to_string_lossy()
                    .trim_end_matches('/')
                    .to_owned()
            })
            .collect()
    }

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "spread.yaml",
            ".spread-reuse.yaml",
            "a/x.o",
            "a/keep.c",
            ".git/HEAD",
            "b/c/d",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        dir
    }

    #[test]
    fn excludes_match_any_trailing_components_and_take_directories_along() {
        let dir = project();
        let archive = pack(
            dir.path(),
            "/home/test",
            &[],
            &[".git".into(), "*.o".into(), "c".into()],
        )
        .unwrap();
        assert_eq!(
            names(&archive),
            [
                "home",
                "home/test",
                "home/test/a",
                "home/test/a/keep.c",
                "home/test/b",
                "home/test/spread.yaml"
            ]
        );
    }

    #[test]
    fn include_limits_what_is_sent() {
        let dir = project();
        let archive = pack(dir.path(), "/p", &["b".into()], &[]).unwrap();
        assert_eq!(names(&archive), ["p", "p/b", "p/b/c", "p/b/c/d"]);
    }

    #[test]
    fn a_missing_include_names_the_path() {
        let dir = project();
        let error = pack(dir.path(), "/p", &["nope".into()], &[]).unwrap_err();
        assert!(error.to_string().contains("nope"), "{error}");
    }
}
