//! The `system-usernames` stanza: the supported names, their fixed ids, scopes, and the snap ids
//! allowed to use snap-scoped names.

use serde_norway::Value;

use super::{SnapError, SystemUsername, names, yaml_inline};

/// A name the installer knows how to create, with its fixed id (uid == gid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SupportedUsername {
    pub name: &'static str,
    pub id: u32,
    /// Empty: any snap may use it. Otherwise only installs carrying one of these snap ids.
    pub allowed_snap_ids: &'static [&'static str],
}

/// Every supported name, ordered by id.
const SUPPORTED_SYSTEM_USERNAMES: &[SupportedUsername] = &[
    // Deprecated: snaps should use `_daemon_`.
    SupportedUsername {
        name: "snap_daemon",
        id: 584788,
        allowed_snap_ids: &[],
    },
    SupportedUsername {
        name: "snap_microk8s",
        id: 584789,
        allowed_snap_ids: &["EaXqgt1lyCaxKaQCU349mlodBkDCXRcg"],
    },
    SupportedUsername {
        name: "snap_aziotedge",
        id: 584790,
        allowed_snap_ids: &["8neFt3wtSaWGgIbEepgIJcEZ3fnz7Lwt"],
    },
    SupportedUsername {
        name: "snap_aziotdu",
        id: 584791,
        allowed_snap_ids: &["KzF67Mv8CeQBdUdrGaKU2sZVEiICWBg1"],
    },
    SupportedUsername {
        name: "_daemon_",
        id: 584792,
        allowed_snap_ids: &[],
    },
];

/// The only scope this version implements.
const SHARED: &str = "shared";

/// A refusal as (key, shown value, reason); the caller adds the file.
pub(super) type Refusal = (String, String, String);

/// Validates one `name: scope` or `name: {scope: ..., ...}` entry.
pub(super) fn validate(name: &str, value: &Value) -> Result<SystemUsername, Refusal> {
    let key = format!("system-usernames.{name}");
    names::check_system_username(name).map_err(|reason| {
        (
            "system-usernames".to_owned(),
            format!("{name:?}"),
            reason.to_owned(),
        )
    })?;
    let (scope_key, scope) = match value {
        Value::String(scope) => (key.clone(), scope.as_str()),
        Value::Mapping(attributes) => match attributes.get("scope") {
            Some(Value::String(scope)) => (format!("{key}.scope"), scope.as_str()),
            Some(other) => {
                return Err((
                    format!("{key}.scope"),
                    yaml_inline(other),
                    "a scope must be a string such as \"shared\"".to_owned(),
                ));
            }
            None => {
                return Err((
                    key,
                    yaml_inline(value),
                    format!(
                        "system username {name:?} does not specify a scope; add \"scope: shared\""
                    ),
                ));
            }
        },
        other => {
            return Err((
                key,
                yaml_inline(other),
                "the value must be a scope (\"shared\") or a mapping with a \"scope\" key"
                    .to_owned(),
            ));
        }
    };
    if scope != SHARED {
        return Err((
            scope_key,
            format!("{scope:?}"),
            format!("unsupported user scope; this version supports only {SHARED:?}"),
        ));
    }
    let supported = find(name).ok_or_else(|| {
        (
            "system-usernames".to_owned(),
            format!("{name:?}"),
            format!(
                "unsupported system username; supported: {}",
                supported_list()
            ),
        )
    })?;
    Ok(SystemUsername {
        name: name.to_owned(),
        id: supported.id,
    })
}

/// Refuses a snap-scoped name unless `snap_id` is one of its allowed ids.
pub(super) fn check_allowed(
    snap: &str,
    user: &str,
    snap_id: Option<&str>,
) -> Result<(), SnapError> {
    let Some(supported) = find(user) else {
        return Ok(());
    };
    if supported.allowed_snap_ids.is_empty()
        || snap_id.is_some_and(|id| supported.allowed_snap_ids.contains(&id))
    {
        return Ok(());
    }
    Err(SnapError::RestrictedUsername {
        snap: snap.to_owned(),
        user: user.to_owned(),
        allowed: supported.allowed_snap_ids.join(", "),
        this_install: match snap_id {
            Some(id) => format!("this install has snap id {id:?} (--snap-id)"),
            None => "this is a local install without a snap id (pass --snap-id ID)".to_owned(),
        },
    })
}

fn find(name: &str) -> Option<&'static SupportedUsername> {
    SUPPORTED_SYSTEM_USERNAMES.iter().find(|s| s.name == name)
}

fn supported_list() -> String {
    SUPPORTED_SYSTEM_USERNAMES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}
