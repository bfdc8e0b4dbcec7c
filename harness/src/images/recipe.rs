//! The recipe format: `images/NAME/recipe.yaml`, read into plain types and validated.
//!
//! A recipe is either a base made by `mmdebstrap` or `from:` another recipe, plus optional
//! `run:` shell steps and `copy:` files (the cheap last layer). See images/README.md.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ImageError;

/// The file that holds a recipe, under `images/NAME/`.
pub const RECIPE_FILE: &str = "recipe.yaml";

/// The mirror used when a recipe names none.
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// One `images/NAME/recipe.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// The directory name under `images/`.
    pub name: String,
    /// The recipe file that was read.
    pub file: PathBuf,
    /// What the image imitates and how (documentation only: not part of the hash).
    pub summary: String,
    pub base: Base,
    /// Shell steps run in order with `bash -euo pipefail -c`, committed as one layer.
    pub run: Vec<String>,
    /// Files copied into the last layer; inherited by recipes built `from:` this one.
    pub copy: Vec<CopyFile>,
}

/// Where an image starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// A root file system made by `mmdebstrap` and imported into Docker.
    Mmdebstrap(Mmdebstrap),
    /// The system layers (everything but `copy:`) of another recipe.
    From(String),
}

/// `mmdebstrap:` — the arguments of one `mmdebstrap` run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Mmdebstrap {
    /// A Debian suite or codename: `bookworm`, `trixie`.
    pub suite: String,
    /// `--variant`: `minbase`, `essential`, `apt`, `required`, ...
    #[serde(default = "default_variant")]
    pub variant: String,
    #[serde(default = "default_mirror")]
    pub mirror: String,
    /// `--include`: extra packages.
    #[serde(default)]
    pub include: Vec<String>,
}

/// One `copy:` entry: a file of the repository put into the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFile {
    /// Relative to the repository root.
    pub src: PathBuf,
    /// Absolute path in the image.
    pub dest: String,
    /// Permission bits, including setuid.
    pub mode: u32,
}

/// The file as written; turned into a `Recipe` by `validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RecipeFile {
    summary: String,
    mmdebstrap: Option<Mmdebstrap>,
    from: Option<String>,
    #[serde(default)]
    run: Vec<String>,
    #[serde(default)]
    copy: Vec<CopyFileEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CopyFileEntry {
    src: String,
    dest: String,
    /// Octal, as a string: `"4755"`.
    #[serde(default = "default_mode")]
    mode: String,
}

fn default_variant() -> String {
    "minbase".into()
}

fn default_mirror() -> String {
    DEFAULT_MIRROR.into()
}

fn default_mode() -> String {
    "644".into()
}

/// The recipe file of `name` under `repo_root`.
pub fn recipe_path(repo_root: &Path, name: &str) -> PathBuf {
    repo_root.join("images").join(name).join(RECIPE_FILE)
}

/// The names of every recipe under `repo_root/images/`, sorted.
pub fn list(repo_root: &Path) -> Result<Vec<String>, ImageError> {
    let dir = repo_root.join("images");
    let entries = std::fs::read_dir(&dir).map_err(|source| ImageError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ImageError::Io {
            path: dir.clone(),
            source,
        })?;
        if entry.path().join(RECIPE_FILE).is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Reads and validates the recipe `name`.
pub fn load(repo_root: &Path, name: &str) -> Result<Recipe, ImageError> {
    check_name(name).map_err(|reason| ImageError::BadName {
        name: name.into(),
        reason,
    })?;
    let file = recipe_path(repo_root, name);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(ImageError::UnknownImage {
                name: name.into(),
                file,
                known: list(repo_root).unwrap_or_default(),
            });
        }
        Err(source) => return Err(ImageError::Io { path: file, source }),
    };
    let parsed: RecipeFile = serde_norway::from_str(&text).map_err(|err| ImageError::Recipe {
        file: file.clone(),
        line: err.location().map(|l| l.line()),
        message: err.to_string(),
    })?;
    validate(name, file, parsed)
}

fn validate(name: &str, file: PathBuf, parsed: RecipeFile) -> Result<Recipe, ImageError> {
    let invalid = |message: String| ImageError::Recipe {
        file: file.clone(),
        line: None,
        message,
    };
    let base = match (parsed.mmdebstrap, parsed.from) {
        (Some(mmdebstrap), None) => {
            if mmdebstrap.suite.trim().is_empty() {
                return Err(invalid(
                    "`mmdebstrap.suite` is empty: name a Debian suite such as `bookworm`".into(),
                ));
            }
            Base::Mmdebstrap(mmdebstrap)
        }
        (None, Some(parent)) => {
            check_name(&parent).map_err(|reason| invalid(format!("`from: {parent}`: {reason}")))?;
            if parent == name {
                return Err(invalid(format!("`from: {parent}` names the recipe itself")));
            }
            Base::From(parent)
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                "has both `mmdebstrap:` and `from:`; keep exactly one".into(),
            ));
        }
        (None, None) => {
            return Err(invalid(
                "has neither `mmdebstrap:` nor `from:`; add one to say where the image starts"
                    .into(),
            ));
        }
    };
    if let Some(index) = parsed.run.iter().position(|step| step.trim().is_empty()) {
        return Err(invalid(format!("`run` step {} is empty", index + 1)));
    }
    let copy = parsed
        .copy
        .into_iter()
        .map(|entry| copy_file(entry).map_err(&invalid))
        .collect::<Result<_, _>>()?;
    Ok(Recipe {
        name: name.into(),
        file,
        summary: parsed.summary,
        base,
        run: parsed.run,
        copy,
    })
}

fn copy_file(entry: CopyFileEntry) -> Result<CopyFile, String> {
    let src = PathBuf::from(&entry.src);
    if src.is_absolute()
        || src
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(format!(
            "`copy` src `{}` must be a path inside the repository, relative to its root",
            entry.src
        ));
    }
    if !entry.dest.starts_with('/') || entry.dest.ends_with('/') || entry.dest.contains("/../") {
        return Err(format!(
            "`copy` dest `{}` must be an absolute file path such as /usr/bin/snapcell",
            entry.dest
        ));
    }
    let mode = u32::from_str_radix(&entry.mode, 8)
        .ok()
        .filter(|mode| *mode <= 0o7777)
        .ok_or_else(|| {
            format!(
                "`copy` mode `{}` of {} is not an octal mode such as \"4755\"",
                entry.mode, entry.dest
            )
        })?;
    Ok(CopyFile {
        src,
        dest: entry.dest,
        mode,
    })
}

/// Recipe names become Docker repository names (`e2e/NAME`): lowercase, digits, `.`, `-`.
fn check_name(name: &str) -> Result<(), String> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let valid_ends = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if valid_chars && valid_ends {
        Ok(())
    } else {
        Err("an image name is lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit".into())
    }
}
