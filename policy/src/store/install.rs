//! `snapcell install`: read and validate the snap, resolve (or plan) its users, generate and
//! compile every app's policy — all before anything is written — then write it all, undoing
//! this install's own writes if a later write fails.

use std::path::{Path, PathBuf};

use crate::accounts::{
    Account, Accounts, Database, Nss, Plan, check_system_users, plan_system_usernames,
};
use crate::profile::{self, Features};
use crate::seccomp;
use crate::snap::{self, OptIn, SnapMeta};

use super::files::{ensure_dir, remove_any, replace_symlink, write_atomic};
use super::layout::Layout;
use super::record::{InstallRecord, program_digest};
use super::source::Source;
use super::undo::Undo;
use super::{StoreError, apparmor};

pub struct InstallOptions {
    /// The store's id for the snap (`--snap-id`); `None` is a local, unasserted install.
    pub snap_id: Option<String>,
    /// What the `/snap/bin` links point at: the snapcell binary.
    pub launcher: PathBuf,
}

/// One app's confinement, generated and compiled.
struct AppPolicy {
    app: String,
    tag: String,
    seccomp_source: String,
    seccomp_program: Vec<u8>,
    apparmor: String,
}

/// The opt-in users: resolved already, or to be created.
enum Users {
    Existing(Vec<Account>),
    ToCreate(Plan),
}

impl Users {
    fn accounts(&self) -> &[Account] {
        match self {
            Users::Existing(accounts) => accounts,
            Users::ToCreate(plan) => plan.accounts(),
        }
    }
}

/// Installs the snap at `path` (a directory or a `.snap` file).
pub fn install(
    layout: &Layout,
    path: &Path,
    options: &InstallOptions,
) -> Result<InstallRecord, StoreError> {
    let _lock = layout.lock()?;
    let source = Source::open(path)?;
    let meta = source.read_meta()?;
    if let Some(id) = &options.snap_id {
        snap::validate_snap_id(id)?;
    }
    meta.check_snap_id(options.snap_id.as_deref())?;
    let users = resolve_users(&meta)?;
    let accounts = Accounts::new(users.accounts().to_vec());
    let policies = meta
        .apps
        .keys()
        .map(|app| app_policy(&meta, app, &accounts))
        .collect::<Result<Vec<_>, _>>()?;
    let previous = InstallRecord::read(&layout.record(&meta.name))?;
    let revision = previous
        .as_ref()
        .map_or_else(|| "x1".to_owned(), InstallRecord::next_revision);
    let record = InstallRecord::new(
        &meta,
        revision,
        options.snap_id.clone(),
        accounts.as_slice().to_vec(),
        policies
            .iter()
            .map(|policy| (policy.app.clone(), program_digest(&policy.seccomp_program)))
            .collect(),
    );
    let writer = Writer {
        layout,
        record: &record,
        previous: previous.as_ref(),
    };
    let mut undo = Undo::default();
    if let Err(err) = writer.write(&source, users, &policies, &options.launcher, &mut undo) {
        undo.run();
        return Err(err);
    }
    writer.drop_previous_revision();
    Ok(record)
}

fn resolve_users(meta: &SnapMeta) -> Result<Users, StoreError> {
    Ok(match &meta.users {
        OptIn::None => Users::Existing(Vec::new()),
        OptIn::SystemUsers(names) => Users::Existing(check_system_users(&meta.name, names, &Nss)?),
        OptIn::SystemUsernames(users) => {
            Users::ToCreate(plan_system_usernames(users, &Nss).map_err(|source| {
                StoreError::SnapAccounts {
                    snap: meta.name.clone(),
                    source,
                }
            })?)
        }
    })
}

fn app_policy(meta: &SnapMeta, app: &str, accounts: &Accounts) -> Result<AppPolicy, StoreError> {
    let features = Features { system_users: true };
    let tag = profile::security_tag(&meta.name, app);
    let seccomp_source = profile::seccomp_source(meta, app, features);
    let rules = seccomp::parse(&seccomp_source).map_err(|source| StoreError::PolicySource {
        tag: tag.clone(),
        source,
    })?;
    let program =
        seccomp::compile(&rules, accounts).map_err(|source| StoreError::PolicyCompile {
            tag: tag.clone(),
            source,
        })?;
    Ok(AppPolicy {
        app: app.to_owned(),
        apparmor: profile::apparmor_profile(meta, app, features),
        tag,
        seccomp_source,
        seccomp_program: program.to_bytes(),
    })
}

/// The write phase of one install.
struct Writer<'a> {
    layout: &'a Layout,
    record: &'a InstallRecord,
    previous: Option<&'a InstallRecord>,
}

impl Writer<'_> {
    fn write(
        &self,
        source: &Source,
        users: Users,
        policies: &[AppPolicy],
        launcher: &Path,
        undo: &mut Undo,
    ) -> Result<(), StoreError> {
        if let Users::ToCreate(plan) = users {
            undo.accounts(plan.create(Database::detect())?);
        }
        self.unpack(source, undo)?;
        self.data_dirs(undo)?;
        for policy in policies {
            self.write_policy(policy, undo)?;
        }
        self.drop_stale_apps(undo)?;
        let name = &self.record.name;
        let current = self.layout.current_link(name);
        undo.symlink(current.clone());
        replace_symlink(Path::new(&self.record.revision), &current)?;
        for app in &self.record.apps {
            let link = self.layout.bin_link(name, app);
            undo.symlink(link.clone());
            replace_symlink(launcher, &link)?;
        }
        let record_path = self.layout.record(name);
        undo.file(record_path.clone())?;
        self.record.write(&record_path)
    }

    /// `snap/NAME/REV`, unpacked under a temporary name and renamed into place.
    fn unpack(&self, source: &Source, undo: &mut Undo) -> Result<(), StoreError> {
        let name = &self.record.name;
        let snap_dir = self.layout.snap_dir(name);
        if !snap_dir.exists() {
            undo.created(snap_dir.clone());
            ensure_dir(&snap_dir)?;
        }
        let revision_dir = self.layout.revision_dir(name, &self.record.revision);
        let staging = snap_dir.join(format!(".{}.partial", self.record.revision));
        remove_any(&staging)?;
        remove_any(&revision_dir)?;
        undo.created(staging.clone());
        source.unpack(&staging)?;
        std::fs::rename(&staging, &revision_dir).map_err(StoreError::io(
            &revision_dir,
            "cannot move the unpacked snap to",
        ))?;
        undo.created(revision_dir);
        Ok(())
    }

    /// `var/snap/NAME/common`, and `var/snap/NAME/REV`, carried over from the previous revision.
    fn data_dirs(&self, undo: &mut Undo) -> Result<(), StoreError> {
        let name = &self.record.name;
        let snap_data = self.layout.data_root().join(name);
        if !snap_data.exists() {
            undo.created(snap_data.clone());
        }
        ensure_dir(&self.layout.common_dir(name))?;
        let data = self.layout.data_dir(name, &self.record.revision);
        let old_data = self
            .previous
            .map(|previous| self.layout.data_dir(name, &previous.revision))
            .filter(|old| old.is_dir() && *old != data);
        match old_data {
            Some(old) => {
                std::fs::rename(&old, &data)
                    .map_err(StoreError::io(&data, "cannot move data to"))?;
                undo.moved(old, data);
            }
            None => {
                undo.created(data.clone());
                ensure_dir(&data)?;
            }
        }
        Ok(())
    }

    fn write_policy(&self, policy: &AppPolicy, undo: &mut Undo) -> Result<(), StoreError> {
        let files = [
            (
                self.layout.seccomp_source(&policy.tag),
                policy.seccomp_source.as_bytes(),
            ),
            (
                self.layout.seccomp_program(&policy.tag),
                &policy.seccomp_program[..],
            ),
            (
                self.layout.apparmor_profile(&policy.tag),
                policy.apparmor.as_bytes(),
            ),
        ];
        for (path, contents) in files {
            undo.file(path.clone())?;
            write_atomic(&path, contents)?;
        }
        apparmor::load(&self.layout.apparmor_profile(&policy.tag))
            .map_err(|err| in_app(&policy.app, err))
    }

    /// Policies and links of apps the previous revision had and this one does not.
    fn drop_stale_apps(&self, undo: &mut Undo) -> Result<(), StoreError> {
        let Some(previous) = self.previous else {
            return Ok(());
        };
        let name = &self.record.name;
        for app in previous
            .apps
            .iter()
            .filter(|app| !self.record.apps.contains(app))
        {
            let tag = profile::security_tag(name, app);
            let apparmor_profile = self.layout.apparmor_profile(&tag);
            if apparmor_profile.exists() {
                apparmor::unload(&apparmor_profile)?;
            }
            for path in [
                self.layout.seccomp_source(&tag),
                self.layout.seccomp_program(&tag),
                apparmor_profile,
            ] {
                undo.file(path.clone())?;
                remove_any(&path)?;
            }
            let link = self.layout.bin_link(name, app);
            undo.symlink(link.clone());
            remove_any(&link)?;
        }
        Ok(())
    }

    /// After success: the replaced revision's files go (its data moved on already).
    fn drop_previous_revision(&self) {
        if let Some(previous) = self.previous
            && previous.revision != self.record.revision
        {
            let old = self
                .layout
                .revision_dir(&self.record.name, &previous.revision);
            // The install has succeeded; a leftover old revision is harmless and is replaced by
            // the next install of the same revision number.
            let _ = remove_any(&old);
        }
    }
}

fn in_app(app: &str, err: StoreError) -> StoreError {
    match err {
        StoreError::Tool { command, detail } => StoreError::Tool {
            command,
            detail: format!("loading the AppArmor profile of app {app:?}: {detail}"),
        },
        other => other,
    }
}
