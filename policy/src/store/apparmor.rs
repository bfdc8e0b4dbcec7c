//! Loading and unloading AppArmor profiles where the kernel enforces AppArmor. On kernels
//! without it (like the development machine) the profile files are still written, for
//! inspection and for a later boot with AppArmor.

use std::path::Path;
use std::process::Command;

use super::StoreError;

fn enforcing() -> bool {
    Path::new("/sys/kernel/security/apparmor").exists()
}

/// `apparmor_parser -r PROFILE` (load or replace).
pub fn load(profile: &Path) -> Result<(), StoreError> {
    parser("-r", profile)
}

/// `apparmor_parser -R PROFILE` (unload).
pub fn unload(profile: &Path) -> Result<(), StoreError> {
    parser("-R", profile)
}

fn parser(action: &str, profile: &Path) -> Result<(), StoreError> {
    if !enforcing() {
        return Ok(());
    }
    let shown = format!("apparmor_parser {action} {}", profile.display());
    let output = Command::new("apparmor_parser")
        .arg(action)
        .arg(profile)
        .output()
        .map_err(|err| StoreError::Tool {
            command: shown.clone(),
            detail: err.to_string(),
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(StoreError::Tool {
        command: shown,
        detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}
