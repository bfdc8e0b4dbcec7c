//! `snap.yaml` → validated [`SnapMeta`].
//!
//! Pure: no NSS and no I/O beyond reading the file. Every error names the file, the key and the
//! offending value; YAML syntax errors carry a line and a column.

mod names;
mod usernames;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_norway::{Mapping, Value};

/// The snap as declared in `meta/snap.yaml`, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapMeta {
    pub name: String,
    pub version: String,
    pub summary: Option<String>,
    pub apps: BTreeMap<String, App>,
    pub users: OptIn,
}

/// One entry of `apps:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub command: String,
    /// The daemon type (`simple`, `forking`, ...) when the app is a service.
    pub daemon: Option<String>,
    pub command_chain: Vec<String>,
}

/// How the snap opts in to non-root users, if at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptIn {
    None,
    /// Phase 1: `system-users: [daemon]`; the accounts must already exist on the system.
    SystemUsers(Vec<String>),
    /// The shipped spelling: `system-usernames:`; the installer creates the accounts.
    SystemUsernames(Vec<SystemUsername>),
}

/// A supported `system-usernames` entry with its fixed id (uid == gid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUsername {
    pub name: String,
    pub id: u32,
}

impl OptIn {
    pub fn user_names(&self) -> Vec<&str> {
        match self {
            OptIn::None => Vec::new(),
            OptIn::SystemUsers(names) => names.iter().map(String::as_str).collect(),
            OptIn::SystemUsernames(users) => users.iter().map(|u| u.name.as_str()).collect(),
        }
    }

    pub fn is_opted_in(&self) -> bool {
        !matches!(self, OptIn::None)
    }
}

/// Why a snap.yaml was refused.
#[derive(Debug, thiserror::Error)]
pub enum SnapError {
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}, line {line}, column {column}: {message}")]
    Yaml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: key \"{key}\" is missing: {reason}")]
    Missing {
        file: String,
        key: String,
        reason: String,
    },
    #[error("{file}: key \"{key}\" has the value {value}: {reason}")]
    Invalid {
        file: String,
        key: String,
        value: String,
        reason: String,
    },
    #[error(
        "snap \"{snap}\" is not allowed to use the system user \"{user}\" (key \"system-usernames\"): \
         only the snap ids {allowed} may use it, and {this_install}"
    )]
    RestrictedUsername {
        snap: String,
        user: String,
        allowed: String,
        this_install: String,
    },
    #[error("invalid snap id {value:?} (from --snap-id): {reason}")]
    SnapId { value: String, reason: String },
}

/// Reads and validates `path` (a `meta/snap.yaml`).
pub fn read(path: &Path) -> Result<SnapMeta, SnapError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SnapError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&text, &file)
}

/// Validates snap.yaml `text`; `file` is how errors name its origin.
pub fn parse(text: &str, file: &str) -> Result<SnapMeta, SnapError> {
    let raw: RawSnap = serde_norway::from_str(text).map_err(|err| syntax_error(file, &err))?;
    Validator { file }.snap(raw)
}

/// Checks a `--snap-id` value: 32 ASCII letters and digits, as the store issues them.
pub fn validate_snap_id(value: &str) -> Result<(), SnapError> {
    if value.len() == 32 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(SnapError::SnapId {
            value: value.to_owned(),
            reason: "a snap id is 32 ASCII letters and digits".to_owned(),
        })
    }
}

/// Whether `name` is a well-formed snap name (safe to use in paths).
pub fn is_valid_snap_name(name: &str) -> bool {
    names::check_snap_name(name).is_ok()
}

impl SnapMeta {
    /// Refuses snap-scoped system usernames unless this install carries one of their snap ids.
    /// `snap_id` is `None` for a local, unasserted install.
    pub fn check_snap_id(&self, snap_id: Option<&str>) -> Result<(), SnapError> {
        let OptIn::SystemUsernames(users) = &self.users else {
            return Ok(());
        };
        for user in users {
            usernames::check_allowed(&self.name, &user.name, snap_id)?;
        }
        Ok(())
    }
}

fn syntax_error(file: &str, err: &serde_norway::Error) -> SnapError {
    let (line, column) = err.location().map_or((0, 0), |l| (l.line(), l.column()));
    let message = err.to_string();
    // serde_norway appends " at line L column C"; the error states the location itself.
    let message = match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message,
    };
    SnapError::Yaml {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

/// The keys of snap.yaml this crate reads; everything else (plugs, slots, base, ...) is ignored.
#[derive(Deserialize)]
#[serde(expecting = "a mapping of snap.yaml keys")]
struct RawSnap {
    name: Option<String>,
    version: Option<String>,
    summary: Option<String>,
    apps: Option<BTreeMap<String, RawApp>>,
    #[serde(rename = "system-users")]
    system_users: Option<Vec<String>>,
    #[serde(rename = "system-usernames")]
    system_usernames: Option<Mapping>,
    #[serde(rename = "shared-users")]
    shared_users: Option<Value>,
    #[serde(rename = "private-users")]
    private_users: Option<Value>,
}

#[derive(Deserialize)]
#[serde(expecting = "a mapping with command, daemon and command-chain")]
struct RawApp {
    command: Option<String>,
    daemon: Option<String>,
    #[serde(rename = "command-chain", default)]
    command_chain: Vec<String>,
}

struct Validator<'a> {
    file: &'a str,
}

/// A value as an error message shows it.
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Validator<'_> {
    fn missing(&self, key: &str, reason: &str) -> SnapError {
        SnapError::Missing {
            file: self.file.to_owned(),
            key: key.to_owned(),
            reason: reason.to_owned(),
        }
    }

    fn invalid(&self, key: &str, value: impl fmt::Display, reason: impl Into<String>) -> SnapError {
        SnapError::Invalid {
            file: self.file.to_owned(),
            key: key.to_owned(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    fn snap(&self, raw: RawSnap) -> Result<SnapMeta, SnapError> {
        let name = raw
            .name
            .ok_or_else(|| self.missing("name", "every snap needs a name"))?;
        names::check_snap_name(&name)
            .map_err(|reason| self.invalid("name", Shown(&name), reason))?;
        let version = raw
            .version
            .ok_or_else(|| self.missing("version", "every snap needs a version"))?;
        names::check_version(&version)
            .map_err(|reason| self.invalid("version", Shown(&version), reason))?;
        if let Some(summary) = &raw.summary {
            names::check_summary(summary)
                .map_err(|reason| self.invalid("summary", Shown(summary), reason))?;
        }
        self.refuse_unsupported("shared-users", raw.shared_users.as_ref())?;
        self.refuse_unsupported("private-users", raw.private_users.as_ref())?;
        let apps = self.apps(raw.apps.unwrap_or_default())?;
        let users = self.opt_in(raw.system_users, raw.system_usernames)?;
        Ok(SnapMeta {
            name,
            version,
            summary: raw.summary,
            apps,
            users,
        })
    }

    fn refuse_unsupported(&self, key: &str, value: Option<&Value>) -> Result<(), SnapError> {
        match value {
            None => Ok(()),
            Some(value) => Err(self.invalid(
                key,
                yaml_inline(value),
                format!(
                    "\"{key}\" is not supported yet; declare \"system-users: [daemon]\" or a \
                     supported \"system-usernames\" entry instead"
                ),
            )),
        }
    }

    fn apps(&self, raw: BTreeMap<String, RawApp>) -> Result<BTreeMap<String, App>, SnapError> {
        raw.into_iter()
            .map(|(name, app)| Ok((name.clone(), self.app(&name, app)?)))
            .collect()
    }

    fn app(&self, name: &str, raw: RawApp) -> Result<App, SnapError> {
        names::check_app_name(name).map_err(|reason| self.invalid("apps", Shown(name), reason))?;
        let key = |field: &str| format!("apps.{name}.{field}");
        let command = raw
            .command
            .ok_or_else(|| self.missing(&key("command"), "every app needs a command"))?;
        names::check_command(&command)
            .map_err(|reason| self.invalid(&key("command"), Shown(&command), reason))?;
        if let Some(daemon) = &raw.daemon {
            names::check_daemon(daemon)
                .map_err(|reason| self.invalid(&key("daemon"), Shown(daemon), reason))?;
        }
        for link in &raw.command_chain {
            names::check_command(link)
                .map_err(|reason| self.invalid(&key("command-chain"), Shown(link), reason))?;
        }
        Ok(App {
            command,
            daemon: raw.daemon,
            command_chain: raw.command_chain,
        })
    }

    fn opt_in(
        &self,
        system_users: Option<Vec<String>>,
        system_usernames: Option<Mapping>,
    ) -> Result<OptIn, SnapError> {
        match (system_users, system_usernames) {
            (None, None) => Ok(OptIn::None),
            (Some(users), None) => self.system_users(users).map(OptIn::SystemUsers),
            (None, Some(map)) => self.system_usernames(&map).map(OptIn::SystemUsernames),
            (Some(_), Some(_)) => Err(self.invalid(
                "system-usernames",
                "(given together with system-users)",
                "declare either \"system-users\" or \"system-usernames\", not both",
            )),
        }
    }

    fn system_users(&self, users: Vec<String>) -> Result<Vec<String>, SnapError> {
        if users.is_empty() {
            return Err(self.invalid("system-users", "[]", "list \"daemon\" or remove the key"));
        }
        for (index, user) in users.iter().enumerate() {
            if user != "daemon" {
                return Err(self.invalid(
                    "system-users",
                    Shown(user),
                    "unsupported system user; supported system users: daemon",
                ));
            }
            if users[..index].contains(user) {
                return Err(self.invalid("system-users", Shown(user), "listed twice"));
            }
        }
        Ok(users)
    }

    fn system_usernames(&self, map: &Mapping) -> Result<Vec<SystemUsername>, SnapError> {
        if map.is_empty() {
            return Err(self.invalid(
                "system-usernames",
                "{}",
                "list at least one user or remove the key",
            ));
        }
        map.iter()
            .map(|(name, value)| {
                let Value::String(name) = name else {
                    return Err(self.invalid(
                        "system-usernames",
                        yaml_inline(name),
                        "a system username must be a string",
                    ));
                };
                usernames::validate(name, value)
                    .map_err(|(key, value, reason)| self.invalid(&key, value, reason))
            })
            .collect()
    }
}

/// A YAML value on one line (flow style), for error messages.
fn yaml_inline(value: &Value) -> String {
    let join = |items: Vec<String>| items.join(", ");
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(text) => format!("{text:?}"),
        Value::Sequence(items) => format!("[{}]", join(items.iter().map(yaml_inline).collect())),
        Value::Mapping(map) => format!(
            "{{{}}}",
            join(
                map.iter()
                    .map(|(k, v)| format!("{}: {}", yaml_inline(k), yaml_inline(v)))
                    .collect()
            )
        ),
        Value::Tagged(tagged) => format!("{} {}", tagged.tag, yaml_inline(&tagged.value)),
    }
}

#[cfg(test)]
mod tests;
