//! `snapcell remove`: the snap's policies, links, files, data and record go; its users stay
//! (other snaps, files and running processes may still use those ids).

use crate::profile;

use super::files::remove_any;
use super::layout::Layout;
use super::query::read_record;
use super::record::InstallRecord;
use super::{StoreError, apparmor};

pub fn remove(layout: &Layout, name: &str) -> Result<InstallRecord, StoreError> {
    let _lock = layout.lock()?;
    let record = read_record(layout, name)?;
    for app in &record.apps {
        let tag = profile::security_tag(name, app);
        let apparmor_profile = layout.apparmor_profile(&tag);
        if apparmor_profile.exists() {
            apparmor::unload(&apparmor_profile)?;
        }
        for path in [
            layout.bin_link(name, app),
            layout.seccomp_source(&tag),
            layout.seccomp_program(&tag),
            apparmor_profile,
        ] {
            remove_any(&path)?;
        }
    }
    remove_any(&layout.snap_dir(name))?;
    remove_any(&layout.data_root().join(name))?;
    // Last: while the record exists, a failed removal can be retried.
    remove_any(&layout.record(name))?;
    Ok(record)
}
