//! The `After:` line: the process's real, effective and saved ids and supplementary groups.

use nix::unistd::{getgroups, getresgid, getresuid};

pub fn after() -> nix::Result<String> {
    let uids = getresuid()?;
    let gids = getresgid()?;
    let groups: Vec<String> = getgroups()?
        .iter()
        .map(|gid| gid.as_raw().to_string())
        .collect();
    Ok(format!(
        "After: ruid={}, euid={}, suid={}, rgid={}, egid={}, sgid={}, groups={}",
        uids.real,
        uids.effective,
        uids.saved,
        gids.real,
        gids.effective,
        gids.saved,
        groups.join(",")
    ))
}
