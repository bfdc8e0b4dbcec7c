//! Errors from reading a spread project: each names the file, the line where known, and the
//! key, so the user can go straight to the problem.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "cannot find spread.yaml or .spread.yaml in {} or any parent directory",
        dir.display()
    )]
    NotFound { dir: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// The YAML does not parse, has an unknown key or a value of the wrong type.
    /// serde_norway's message already names the key path, line and column.
    #[error("{}: {source}", file.display())]
    Syntax {
        file: PathBuf,
        source: serde_norway::Error,
    },
    /// The YAML is well-formed but a value breaks one of spread's rules.
    #[error("{}{}: {}{message}", file.display(), LineSuffix(*line), KeyPrefix(key))]
    Invalid {
        file: PathBuf,
        /// 1-based, found by looking the key up in the file; `None` if it is not written there.
        line: Option<usize>,
        /// Dotted key path, e.g. `backends.docker.systems.debian-12.workers`; empty when the
        /// error is about the file itself (a task directory's name).
        key: String,
        message: String,
    },
}

impl LoadError {
    /// The 1-based line the error points at, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            LoadError::Syntax { source, .. } => source.location().map(|at| at.line()),
            LoadError::Invalid { line, .. } => *line,
            _ => None,
        }
    }
}

struct KeyPrefix<'a>(&'a str);

impl fmt::Display for KeyPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            "" => Ok(()),
            key => write!(f, "{key}: "),
        }
    }
}

struct LineSuffix(Option<usize>);

impl fmt::Display for LineSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}
