//! The on-disk layout and the install / remove / list / info operations over it.
//!
//! Every operation that changes state holds the store lock, checks everything it can before it
//! writes anything, writes files atomically, and undoes its own writes when a later step fails,
//! so that a refused or failed install leaves the system as it found it.

mod apparmor;
mod files;
mod install;
mod layout;
mod query;
mod record;
mod remove;
mod source;
mod undo;

use std::path::PathBuf;

use thiserror::Error;

use crate::accounts::AccountsError;
use crate::seccomp::{CompileError, RuleError};
use crate::snap::SnapError;

pub use install::{InstallOptions, install};
pub use layout::{Layout, StoreLock};
pub use query::{info_text, installed_meta, list, list_table, read_record, split_app};
pub use record::{InstallRecord, OptInKind, program_digest};
pub use remove::remove;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error(transparent)]
    Snap(#[from] SnapError),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    /// The shipped `system-usernames` accounts clash with what this system has.
    #[error("cannot install snap {snap:?}: {source}")]
    SnapAccounts {
        snap: String,
        #[source]
        source: AccountsError,
    },
    #[error("the generated seccomp policy of {tag} does not parse (a bug in snapcell): {source}")]
    PolicySource {
        tag: String,
        #[source]
        source: RuleError,
    },
    #[error("cannot compile the seccomp policy of {tag}: {source}")]
    PolicyCompile {
        tag: String,
        #[source]
        source: CompileError,
    },
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is neither a directory holding meta/snap.yaml nor a .snap file")]
    NotASnap { path: PathBuf },
    #[error("`{command}` failed: {detail}")]
    Tool { command: String, detail: String },
    #[error("snap {name:?} is not installed (see `snapcell list`)")]
    NotInstalled { name: String },
    #[error("snap {snap:?} has no app {app:?}; its apps are: {apps}")]
    NoSuchApp {
        snap: String,
        app: String,
        apps: String,
    },
    #[error("the install record {path} is damaged: {detail}; remove the snap and install it again")]
    BadRecord { path: PathBuf, detail: String },
}

impl StoreError {
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
    ) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io {
            path,
            action,
            source,
        }
    }
}
