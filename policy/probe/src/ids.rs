//! User and group arguments: names resolved through NSS before any call is made, numbers, or -1.

use nix::unistd::{Group, User};

/// An id argument as the caller meant it; -1 stays symbolic so each ABI can encode it its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    Unchanged,
    Value(u32),
}

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    User,
    Group,
}

impl Id {
    pub fn resolve(spec: &str, kind: Kind) -> Result<Id, String> {
        if spec == "-1" {
            return Ok(Id::Unchanged);
        }
        if let Ok(number) = spec.parse::<u32>() {
            return Ok(Id::Value(number));
        }
        let found = match kind {
            Kind::User => User::from_name(spec).map(|user| user.map(|u| u.uid.as_raw())),
            Kind::Group => Group::from_name(spec).map(|group| group.map(|g| g.gid.as_raw())),
        };
        match found {
            Ok(Some(id)) => Ok(Id::Value(id)),
            Ok(None) => Err(format!("no {} named {spec:?}", kind.noun())),
            Err(errno) => Err(format!(
                "cannot look up {} {spec:?}: {}",
                kind.noun(),
                errno.desc()
            )),
        }
    }

    /// The value a `uid_t`/`gid_t` parameter receives.
    pub fn as_u32(self) -> u32 {
        match self {
            Id::Unchanged => u32::MAX,
            Id::Value(id) => id,
        }
    }
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
        }
    }
}

/// `0` (or an empty string) means no groups; otherwise comma-separated group names or numbers.
pub fn resolve_groups(spec: &str) -> Result<Vec<u32>, String> {
    if spec == "0" || spec.is_empty() {
        return Ok(Vec::new());
    }
    spec.split(',')
        .map(|group| Id::resolve(group, Kind::Group).map(Id::as_u32))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_one_numbers_and_names() {
        assert_eq!(Id::resolve("-1", Kind::User), Ok(Id::Unchanged));
        assert_eq!(Id::resolve("584792", Kind::Group), Ok(Id::Value(584792)));
        assert_eq!(Id::resolve("root", Kind::User), Ok(Id::Value(0)));
        assert_eq!(Id::resolve("root", Kind::Group), Ok(Id::Value(0)));
        assert_eq!(Id::Unchanged.as_u32(), u32::MAX);
    }

    #[test]
    fn an_unknown_name_is_an_error_naming_it() {
        assert_eq!(
            Id::resolve("no-such-user-here", Kind::User),
            Err("no user named \"no-such-user-here\"".to_owned())
        );
    }

    #[test]
    fn zero_is_the_empty_group_list() {
        assert_eq!(resolve_groups("0"), Ok(Vec::new()));
        assert_eq!(resolve_groups("root,7"), Ok(vec![0, 7]));
    }
}
