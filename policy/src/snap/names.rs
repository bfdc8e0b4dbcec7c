//! Syntax of the names and strings snap.yaml carries. Each check returns the reason a value is
//! refused, phrased so that the user knows what to write instead.

pub(super) type Verdict = Result<(), &'static str>;

/// `^(?:[a-z0-9]+-?)*[a-z](?:-?[a-z0-9])*$`, 2 to 40 characters.
pub(super) fn check_snap_name(name: &str) -> Verdict {
    const RULE: &str = "a snap name is 2 to 40 lowercase letters, digits and single hyphens, \
                        with at least one letter and no hyphen at either end";
    let ok = (2..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && hyphens_inside_only(name);
    if ok { Ok(()) } else { Err(RULE) }
}

/// `^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$`.
pub(super) fn check_app_name(name: &str) -> Verdict {
    const RULE: &str = "an app name is letters, digits and single hyphens, \
                        with no hyphen at either end";
    let ok = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && hyphens_inside_only(name);
    if ok { Ok(()) } else { Err(RULE) }
}

/// `^[a-zA-Z0-9](?:[a-zA-Z0-9:.+~-]{0,30}[a-zA-Z0-9+~])?$`.
pub(super) fn check_version(version: &str) -> Verdict {
    const RULE: &str = "a version is 1 to 32 characters of letters, digits and \":.+~-\", \
                        starting with a letter or digit and ending with a letter, digit, '+' or '~'";
    let bytes = version.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return Err(RULE);
    };
    let ok = bytes.len() <= 32
        && first.is_ascii_alphanumeric()
        && (last.is_ascii_alphanumeric() || b"+~".contains(last))
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b":.+~-".contains(b));
    if ok { Ok(()) } else { Err(RULE) }
}

pub(super) fn check_summary(summary: &str) -> Verdict {
    if summary.chars().count() <= 128 && !summary.contains('\n') {
        Ok(())
    } else {
        Err("a summary is one line of at most 128 characters")
    }
}

/// Commands are paths relative to the snap, optionally followed by arguments.
pub(super) fn check_command(command: &str) -> Verdict {
    let program = command.split_whitespace().next().unwrap_or("");
    if program.is_empty() {
        Err("the command is empty")
    } else if program.starts_with('/') || program.split('/').any(|part| part == "..") {
        Err("a command is a path inside the snap: relative, without \"..\"")
    } else {
        Ok(())
    }
}

pub(super) fn check_daemon(daemon: &str) -> Verdict {
    match daemon {
        "simple" | "forking" | "oneshot" | "notify" | "dbus" => Ok(()),
        _ => Err("a daemon type is one of simple, forking, oneshot, notify, dbus"),
    }
}

/// `^([_][-a-z0-9._]+[_]|[a-z0-9][-a-z0-9._]*)$`.
pub(super) fn check_system_username(name: &str) -> Verdict {
    const RULE: &str = "invalid system username: lowercase letters, digits and \"-._\", either \
                        starting with a letter or digit, or wrapped in underscores like \"_daemon_\"";
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(b);
    let bytes = name.as_bytes();
    let ok = match bytes {
        [b'_', inner @ .., b'_'] => !inner.is_empty() && inner.iter().all(allowed),
        [first, rest @ ..] => {
            (first.is_ascii_lowercase() || first.is_ascii_digit()) && rest.iter().all(allowed)
        }
        [] => false,
    };
    if ok { Ok(()) } else { Err(RULE) }
}

fn hyphens_inside_only(name: &str) -> bool {
    !name.starts_with('-') && !name.ends_with('-') && !name.contains("--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_names() {
        for good in ["ab", "hello-world", "0ad", "a1-b2"] {
            assert_eq!(check_snap_name(good), Ok(()), "{good}");
        }
        for bad in [
            "a",
            "Hello",
            "-ab",
            "ab-",
            "a--b",
            "123",
            "a_b",
            &"a".repeat(41),
        ] {
            assert!(check_snap_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions() {
        for good in ["1.0", "1", "2.0+git~1", "1:2.3-4"] {
            assert_eq!(check_version(good), Ok(()), "{good}");
        }
        for bad in ["", "1.0-", ".1", "1 0", &"1".repeat(33)] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn system_usernames() {
        for good in ["_daemon_", "snap_daemon", "a", "9x", "_a.b-c_"] {
            assert_eq!(check_system_username(good), Ok(()), "{good}");
        }
        for bad in ["", "_", "__", "_a", "a_B", "b@d", "-a", "Daemon"] {
            assert!(check_system_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn app_names_and_commands() {
        assert_eq!(check_app_name("svc-1"), Ok(()));
        assert!(check_app_name("svc_1").is_err());
        assert_eq!(check_command("bin/run --flag"), Ok(()));
        assert!(check_command("/bin/sh").is_err());
        assert!(check_command("../x").is_err());
        assert!(check_command("  ").is_err());
    }
}
