//! `snapcell run`: start one app of an installed snap, confined.
//!
//! [`run`] resolves everything first, as a plain [`sequence::Confinement`]: the install record,
//! the app's command from the installed snap.yaml, the compiled seccomp program (used only if its
//! SHA-256 is the one the record holds) and the AppArmor profile, each used only if one
//! [`trust::Trust`] finds it and every directory above it root-owned and writable by root
//! alone; then `command` (command-chain + command + arguments) and `environment` (the snap
//! variables in a sanitised environment). Only then does `sequence`,
//! which alone decides the order of privileged setup, permanent drop, no_new_privs,
//! capabilities, filter and exec, drive the kernel through the [`kernel::Syscalls`] seam.
//!
//! It does not install anything, or generate or compile policy (`store`, `profile`, `seccomp`).

pub mod command;
pub mod environment;
pub mod kernel;
mod namespace;
#[cfg(test)]
mod recording;
pub mod sequence;
pub mod trust;

use std::convert::Infallible;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use nix::unistd::{Uid, User};

use crate::profile::security_tag;
use crate::seccomp::{Program, ProgramError};
use crate::snap::{self, App, SnapError};
use crate::store::{InstallRecord, Layout, OptInKind, StoreError, program_digest, split_app};
use command::CommandError;
use environment::SnapDirs;
use kernel::{Linux, Syscalls};
use sequence::{Confinement, SequenceError};
use trust::{Trust, TrustError};

/// Why an app was not started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Snap(#[from] SnapError),
    #[error(
        "refusing to run {tag} unconfined: its {what} cannot be trusted: {source}; \
         it and every directory above it must be owned by root and writable by root alone \
         (reinstall the snap with `snapcell install` if it is missing)"
    )]
    Untrusted {
        tag: String,
        what: &'static str,
        #[source]
        source: TrustError,
    },
    #[error("refusing to run {tag} unconfined: {source}")]
    Unjudged {
        tag: String,
        #[source]
        source: TrustError,
    },
    #[error(
        "refusing to run {tag} unconfined: its seccomp program {path} is unusable: {source}; \
         reinstall the snap with `snapcell install`"
    )]
    Program {
        tag: String,
        path: PathBuf,
        #[source]
        source: ProgramError,
    },
    #[error(
        "refusing to run {tag} unconfined: its seccomp program {path} is not the one installed: \
         its SHA-256 is {found}, the install record {record} has {recorded}; \
         reinstall the snap with `snapcell install`"
    )]
    Tampered {
        tag: String,
        path: PathBuf,
        record: PathBuf,
        recorded: String,
        found: String,
    },
    #[error("the install record {path} is damaged: {detail}; remove the snap and install it again")]
    Record { path: PathBuf, detail: String },
    #[error("uid {uid} has no entry in the user database, so it has no home for SNAP_USER_DATA")]
    NoUser { uid: u32 },
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Sequence(#[from] SequenceError),
}

/// Runs `NAME.APP` (or `NAME`, the app named like the snap) with `args`. Returns only on
/// failure: on success the process has become the app.
pub fn run(spec: &str, args: Vec<OsString>) -> Result<Infallible, LaunchError> {
    let mut kernel = Linux;
    // Layout::from_env ignores SNAPCELL_ROOT when the process is setuid or setgid.
    let confinement = resolve(
        &Layout::from_env(),
        spec,
        args,
        kernel.ids().ruid,
        std::env::vars_os(),
    )?;
    Err(sequence::launch(&mut kernel, &confinement).into())
}

/// Everything the sequence needs, read and checked before any privileged step.
pub fn resolve(
    layout: &Layout,
    spec: &str,
    args: Vec<OsString>,
    caller: u32,
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Confinement, LaunchError> {
    let (snap_name, app_name) = split_app(spec);
    let mut trust = Trust::new();
    let record = read_record(&mut trust, layout, snap_name)?;
    let tag = security_tag(snap_name, app_name);
    let snap_dir = layout.revision_dir(snap_name, &record.revision);
    let app = read_app(&mut trust, &snap_dir, snap_name, app_name, &tag)?;
    let program = read_policy(&mut trust, layout, &record, app_name, &tag)?;
    let real_home = home_of(caller)?;
    let dirs = SnapDirs {
        name: snap_name.to_owned(),
        revision: record.revision.clone(),
        data: layout.data_dir(snap_name, &record.revision),
        common: layout.common_dir(snap_name),
        user_data: real_home
            .join("snap")
            .join(snap_name)
            .join(&record.revision),
        real_home,
        snap: snap_dir,
    };
    Ok(Confinement {
        snap: snap_name.to_owned(),
        opted_in: record.opt_in != OptInKind::None,
        program,
        argv: command::argv(&dirs.snap, app_name, &app.command, &app.command_chain, args)?,
        environment: environment::app_environment(inherited, &dirs),
        system_dirs: vec![dirs.data.clone(), dirs.common.clone()],
        user_data: dirs.user_data,
        working_directory: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
        security_tag: tag,
    })
}

fn untrusted(tag: &str, what: &'static str) -> impl FnOnce(TrustError) -> LaunchError {
    let tag = tag.to_owned();
    move |source| match source {
        // Not the file's fault: the launcher could not look.
        TrustError::Unlocatable { .. } => LaunchError::Unjudged { tag, source },
        source => LaunchError::Untrusted { tag, what, source },
    }
}

/// The app's entry in the installed revision's snap.yaml.
fn read_app(
    trust: &mut Trust,
    snap_dir: &Path,
    snap_name: &str,
    app_name: &str,
    tag: &str,
) -> Result<App, LaunchError> {
    let snap_yaml = snap_dir.join("meta/snap.yaml");
    let bytes = trust
        .read(&snap_yaml)
        .map_err(untrusted(tag, "snap.yaml"))?;
    let mut meta = snap::parse(
        &String::from_utf8_lossy(&bytes),
        &snap_yaml.display().to_string(),
    )?;
    let apps = meta.apps.keys().cloned().collect::<Vec<_>>().join(", ");
    meta.apps.remove(app_name).ok_or_else(|| {
        StoreError::NoSuchApp {
            snap: snap_name.to_owned(),
            app: app_name.to_owned(),
            apps,
        }
        .into()
    })
}

/// The compiled seccomp program, exactly as installed (its digest is the record's); the
/// AppArmor profile must be there and trusted too (it is only judged, not read: AppArmor
/// loaded it at install).
fn read_policy(
    trust: &mut Trust,
    layout: &Layout,
    record: &InstallRecord,
    app_name: &str,
    tag: &str,
) -> Result<Program, LaunchError> {
    let record_path = layout.record(&record.name);
    let recorded = record
        .program_sha256
        .get(app_name)
        .ok_or_else(|| LaunchError::Record {
            path: record_path.clone(),
            detail: format!("it has no program-sha256 entry for app \"{app_name}\""),
        })?;
    let program_path = layout.seccomp_program(tag);
    let bytes = trust
        .read(&program_path)
        .map_err(untrusted(tag, "seccomp program"))?;
    let found = program_digest(&bytes);
    if found != *recorded {
        return Err(LaunchError::Tampered {
            tag: tag.to_owned(),
            path: program_path,
            record: record_path,
            recorded: recorded.clone(),
            found,
        });
    }
    let program = Program::from_bytes(&bytes).map_err(|source| LaunchError::Program {
        tag: tag.to_owned(),
        path: program_path,
        source,
    })?;
    trust
        .check(&layout.apparmor_profile(tag))
        .map_err(untrusted(tag, "AppArmor profile"))?;
    Ok(program)
}

/// The install record, read only from a trusted file.
fn read_record(
    trust: &mut Trust,
    layout: &Layout,
    snap_name: &str,
) -> Result<InstallRecord, LaunchError> {
    let not_installed = || StoreError::NotInstalled {
        name: snap_name.to_owned(),
    };
    if !snap::is_valid_snap_name(snap_name) {
        return Err(not_installed().into());
    }
    let path = layout.record(snap_name);
    let bytes = match trust.read(&path) {
        Ok(bytes) => bytes,
        Err(TrustError::Missing { .. }) => return Err(not_installed().into()),
        Err(source) => {
            return Err(untrusted(&format!("snap {snap_name:?}"), "install record")(
                source,
            ));
        }
    };
    serde_norway::from_slice(&bytes).map_err(|err| LaunchError::Record {
        path,
        detail: err.to_string(),
    })
}

/// The caller's home from the user database, never from `$HOME`.
fn home_of(uid: u32) -> Result<PathBuf, LaunchError> {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(user)) => Ok(user.dir),
        _ => Err(LaunchError::NoUser { uid }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_or_missing_snap_is_not_installed() {
        let layout = Layout::under("/nonexistent-snapcell-root");
        for spec in ["../etc.passwd", "absent.app", "absent"] {
            let error = resolve(&layout, spec, Vec::new(), 0, Vec::new()).unwrap_err();
            assert!(
                matches!(error, LaunchError::Store(StoreError::NotInstalled { .. })),
                "{spec}: {error}"
            );
        }
    }

    #[test]
    fn a_home_comes_from_the_user_database() {
        assert_eq!(home_of(0).expect("root"), Path::new("/root"));
        assert!(matches!(
            home_of(4_000_000_000),
            Err(LaunchError::NoUser { .. })
        ));
    }
}
