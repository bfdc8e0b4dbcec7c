//! Reading the store: install records, `list` and `info` texts, and the installed snap.yaml
//! for `debug`.

use std::fmt::Write;

use crate::snap::{self, SnapMeta};

use super::StoreError;
use super::layout::Layout;
use super::record::InstallRecord;

/// The record of the installed snap `name`.
pub fn read_record(layout: &Layout, name: &str) -> Result<InstallRecord, StoreError> {
    let not_installed = || StoreError::NotInstalled {
        name: name.to_owned(),
    };
    if !snap::is_valid_snap_name(name) {
        return Err(not_installed());
    }
    InstallRecord::read(&layout.record(name))?.ok_or_else(not_installed)
}

/// Every installed snap, by name.
pub fn list(layout: &Layout) -> Result<Vec<InstallRecord>, StoreError> {
    let dir = layout.records_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(StoreError::io(&dir, "cannot list")(err)),
    };
    let mut records = Vec::new();
    for entry in entries {
        let path = entry.map_err(StoreError::io(&dir, "cannot list"))?.path();
        if path.extension().is_some_and(|ext| ext == "yaml")
            && let Some(record) = InstallRecord::read(&path)?
        {
            records.push(record);
        }
    }
    records.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(records)
}

/// `Name  Version  Rev  Users` and a row per snap, columns aligned, two spaces apart.
pub fn list_table(records: &[InstallRecord]) -> String {
    let mut rows = vec![["Name", "Version", "Rev", "Users"].map(str::to_owned)];
    for record in records {
        let users: Vec<&str> = record.users.iter().map(|u| u.name.as_str()).collect();
        let users = if users.is_empty() {
            "-".to_owned()
        } else {
            users.join(",")
        };
        rows.push([
            record.name.clone(),
            record.version.clone(),
            record.revision.clone(),
            users,
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|column| rows.iter().map(|row| row[column].len()).max().unwrap_or(0))
        .collect();
    let mut table = String::new();
    for row in rows {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        table.push_str(line.trim_end());
        table.push('\n');
    }
    table
}

/// The `snapcell info` text.
pub fn info_text(record: &InstallRecord) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "name: {}", record.name);
    let _ = writeln!(text, "version: {}", record.version);
    let _ = writeln!(text, "revision: {}", record.revision);
    let _ = writeln!(text, "summary: {}", record.summary.as_deref().unwrap_or(""));
    let _ = writeln!(text, "apps: {}", record.apps.join(", "));
    for user in &record.users {
        let _ = writeln!(
            text,
            "user: {} uid={} gid={}",
            user.name, user.uid, user.gid
        );
    }
    text
}

/// The installed snap's metadata (its current revision's snap.yaml).
pub fn installed_meta(layout: &Layout, name: &str) -> Result<SnapMeta, StoreError> {
    read_record(layout, name)?;
    Ok(snap::read(
        &layout.current_link(name).join("meta/snap.yaml"),
    )?)
}

/// `NAME.APP` → (NAME, APP); `NAME` alone names the app called like the snap.
pub fn split_app(command: &str) -> (&str, &str) {
    command.split_once('.').unwrap_or((command, command))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Account;
    use crate::store::{OptInKind, program_digest};

    fn record(name: &str, revision: &str, users: &[&str]) -> InstallRecord {
        InstallRecord {
            name: name.to_owned(),
            version: "1.0".to_owned(),
            revision: revision.to_owned(),
            snap_id: None,
            summary: None,
            apps: vec![name.to_owned()],
            opt_in: OptInKind::SystemUsernames,
            users: users
                .iter()
                .map(|user| Account {
                    name: (*user).to_owned(),
                    uid: 7,
                    gid: 8,
                })
                .collect(),
            program_sha256: [(name.to_owned(), program_digest(b"program"))].into(),
        }
    }

    #[test]
    fn list_table_aligns_columns() {
        assert_eq!(list_table(&[]), "Name  Version  Rev  Users\n");
        let records = [
            record("a-long-name", "x12", &["_daemon_", "snap_daemon"]),
            record("b", "x1", &[]),
        ];
        assert_eq!(
            list_table(&records),
            "Name         Version  Rev  Users\n\
             a-long-name  1.0      x12  _daemon_,snap_daemon\n\
             b            1.0      x1   -\n"
        );
    }

    #[test]
    fn info_lists_users_with_ids() {
        let text = info_text(&record("svc", "x3", &["daemon"]));
        assert_eq!(
            text,
            "name: svc\nversion: 1.0\nrevision: x3\nsummary: \napps: svc\nuser: daemon uid=7 gid=8\n"
        );
    }

    #[test]
    fn revisions_count_up() {
        assert_eq!(record("a", "x1", &[]).next_revision(), "x2");
        assert_eq!(record("a", "x9", &[]).next_revision(), "x10");
    }

    #[test]
    fn app_names() {
        assert_eq!(split_app("svc.tool"), ("svc", "tool"));
        assert_eq!(split_app("svc"), ("svc", "svc"));
    }
}
