//! The project content sent to every machine: a tar of what `include`/`exclude` select,
//! with every entry placed under the project's `path`, its name first passed through the
//! `rename` expressions (see `transform`).
//!
//! Exclude patterns follow tar's `--exclude` (what spread passes them to): unanchored shell
//! globs where `*` also matches `/`, matched against every trailing run of path components;
//! an excluded directory takes its contents with it. `.spread-reuse.*` is always excluded.
//! As with tar, excludes match the names before renaming.

mod transform;

use std::path::{Component, Path, PathBuf};

use glob::{MatchOptions, Pattern};

use transform::Transform;

use crate::project::Project;

/// The project could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("invalid exclude pattern {pattern:?} in spread.yaml: {reason}")]
    Pattern { pattern: String, reason: String },
    #[error("invalid rename expression {expression:?} in spread.yaml: {reason}")]
    Rename { expression: String, reason: String },
    #[error(
        "rename expression {expression:?} in spread.yaml turns {name:?} into {renamed:?}, which is not a relative path inside the project; fix the expression"
    )]
    Renamed {
        expression: String,
        name: String,
        renamed: String,
    },
    #[error("cannot pack {path} for sending: {reason}")]
    Io { path: PathBuf, reason: String },
}

/// The archive of `project` as spread sends it: its root, under its `path`, with its
/// `include`, `exclude` and `rename` (already expanded, `env::expand_project_fields`).
pub fn pack_project(project: &Project) -> Result<Vec<u8>, PackError> {
    pack(
        &project.root,
        &project.path,
        &project.include,
        &project.exclude,
        &project.rename,
    )
}

/// Builds the archive of `root` for `remote_path`.
pub fn pack(
    root: &Path,
    remote_path: &str,
    include: &[String],
    exclude: &[String],
    rename: &[String],
) -> Result<Vec<u8>, PackError> {
    let renames = rename
        .iter()
        .map(|expression| {
            Transform::parse(expression)
                .map(|transform| (expression.clone(), transform))
                .map_err(|reason| PackError::Rename {
                    expression: expression.clone(),
                    reason,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
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
        renames,
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
    /// Each expression with its source text, for errors.
    renames: Vec<(String, Transform)>,
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
        let target = self.prefix.join(self.renamed(relative)?);
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

    /// `relative` after every rename expression in turn, as tar applies them.
    fn renamed(&self, relative: &Path) -> Result<PathBuf, PackError> {
        let original = relative.to_string_lossy();
        let mut name = original.clone().into_owned();
        for (expression, transform) in &self.renames {
            let renamed = transform.apply(&name);
            let inside = !renamed.is_empty()
                && Path::new(&renamed)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
            if !inside {
                return Err(PackError::Renamed {
                    expression: expression.clone(),
                    name: original.into_owned(),
                    renamed,
                });
            }
            name = renamed;
        }
        Ok(PathBuf::from(name))
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
            &[],
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
        let archive = pack(dir.path(), "/p", &["b".into()], &[], &[]).unwrap();
        assert_eq!(names(&archive), ["p", "p/b", "p/b/c", "p/b/c/d"]);
    }

    #[test]
    fn a_missing_include_names_the_path() {
        let dir = project();
        let error = pack(dir.path(), "/p", &["nope".into()], &[], &[]).unwrap_err();
        assert!(error.to_string().contains("nope"), "{error}");
    }

    #[test]
    fn renames_apply_to_every_name_under_path_after_excludes() {
        let dir = project();
        let archive = pack(
            dir.path(),
            "/p",
            &[],
            &["a/x.o".into(), ".git".into()],
            &["s,^,v1/,S".into(), r"s/\.c$/.cc/".into()],
        )
        .unwrap();
        assert_eq!(
            names(&archive),
            [
                "p",
                "p/v1/a",
                "p/v1/a/keep.cc",
                "p/v1/b",
                "p/v1/b/c",
                "p/v1/b/c/d",
                "p/v1/spread.yaml"
            ]
        );
    }

    #[test]
    fn renamed_content_lands_where_path_and_the_new_name_say() {
        let dir = project();
        let archive = pack(
            dir.path(),
            "/p",
            &["b".into()],
            &[],
            &["s,^b,moved,".into()],
        )
        .unwrap();
        let target = tempfile::tempdir().unwrap();
        tar::Archive::new(archive.as_slice())
            .unpack(target.path())
            .unwrap();
        let moved = target.path().join("p/moved/c/d");
        assert_eq!(std::fs::read_to_string(moved).unwrap(), "b/c/d");
        assert!(!target.path().join("p/b").exists());
    }

    /// The project of `spread_yaml` with its host-side keys expanded, as a run sends it.
    fn expanded(spread_yaml: &Path) -> Project {
        let loaded = crate::project::load_file(spread_yaml).unwrap();
        crate::env::expand_project_fields(&loaded, &crate::script::HostEvaluator::default())
            .unwrap()
    }

    #[test]
    fn corpus_repack_project_sends_its_content_under_the_delta_prefix() {
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/spread/tests/repack");
        let project = expanded(&root.join("spread.yaml"));
        assert_eq!(project.rename, ["s,^,spread-08dbc8b/,S"]);
        let names = names(&pack_project(&project).unwrap());
        assert!(
            names.contains(&"home/test/spread-08dbc8b/spread.yaml".to_owned()),
            "{names:?}"
        );
        assert!(
            !names.contains(&"home/test/spread.yaml".to_owned()),
            "{names:?}"
        );
    }

    #[test]
    fn host_evaluated_variables_choose_what_is_excluded_and_where_it_goes() {
        let dir = project();
        std::fs::write(
            dir.path().join("spread.yaml"),
            "project: host\n\
             environment:\n  \
               SKIP: $(HOST:[ \"$HARNESS_SEND_ALL\" = 1 ] && echo false || echo b/c)\n  \
               BASE: $(HOST:echo /srv)\n\
             path: $BASE/host\n\
             exclude:\n  - $SKIP\n\
             backends:\n  docker:\n    systems: [debian-12]\n\
             suites:\n  b/:\n    summary: b\n",
        )
        .unwrap();
        let project = expanded(&dir.path().join("spread.yaml"));
        let skipped = if std::env::var("HARNESS_SEND_ALL").as_deref() == Ok("1") {
            "false"
        } else {
            "b/c"
        };
        assert_eq!(
            (project.path.as_str(), &project.exclude[..]),
            ("/srv/host", &[skipped.to_owned()][..])
        );
        let names = names(&pack_project(&project).unwrap());
        assert!(names.contains(&"srv/host/a/keep.c".to_owned()), "{names:?}");
        assert_eq!(
            names.iter().any(|name| name.starts_with("srv/host/b/c")),
            skipped != "b/c",
            "{names:?}"
        );
    }

    #[test]
    fn bad_rename_expressions_are_refused_with_the_expression() {
        let dir = project();
        for (expression, why) in [
            ("s,^,x", "not terminated"),
            ("s,^.*,../,", "not a relative path"),
        ] {
            let error = pack(dir.path(), "/p", &[], &[], &[expression.into()]).unwrap_err();
            let text = error.to_string();
            assert!(text.contains(expression) && text.contains(why), "{text}");
        }
    }
}
