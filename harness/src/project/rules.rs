//! spread's value rules: name shapes, timeouts, sizes, and the plain-or-delta form of
//! `systems`/`backends`/`variants` lists. Each check returns a message for the caller to
//! place at a file, line and key.

use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use super::TIMEOUT_DISABLED;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static pattern")
}

static VALID_NAME: LazyLock<Regex> = LazyLock::new(|| regex("^[a-z0-9]+(?:[-._][a-z0-9]+)*$"));
static VALID_SYSTEM: LazyLock<Regex> =
    LazyLock::new(|| regex("^[a-z*]+-[a-z0-9*]+(?:[-.][a-z0-9*]+)*$"));
static VALID_SUITE: LazyLock<Regex> =
    LazyLock::new(|| regex("^(?:[a-z0-9]+(?:[-._][a-z0-9]+)*/)+$"));
static VALID_TASK: LazyLock<Regex> =
    LazyLock::new(|| regex("^(?:[a-z0-9]+(?:[-._][a-z0-9]+)*/)+[a-z0-9]+(?:[-._][a-z0-9]+)*$"));
static VALID_VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| regex("^[a-zA-Z_][a-zA-Z0-9_]*(?:/[a-zA-Z0-9_]+(?:,[a-zA-Z0-9_]+)*)?$"));

/// Backend types spread accepts, plus ours; others are refused so a typo is caught at load.
pub const BACKEND_TYPES: &[&str] = &[
    "adhoc", "docker", "google", "humbox", "linode", "lxd", "qemu",
];

/// Project and backend names: lowercase words joined by `-`, `.` or `_`.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if VALID_NAME.is_match(name) {
        Ok(())
    } else {
        Err(format!(
            "invalid {what} name {name:?}: use lowercase letters and digits joined by - . or _"
        ))
    }
}

/// System names are `name-version` shaped (`debian-12`, `ubuntu-16.04-64`); lists may use `*`.
pub fn check_system(name: &str) -> Result<(), String> {
    if VALID_SYSTEM.is_match(name) {
        Ok(())
    } else {
        Err(format!(
            "invalid system name {name:?}: it must look like name-version, e.g. debian-12 or \
             ubuntu-16.04-64 (lowercase, digits, - and .)"
        ))
    }
}

pub fn check_suite(name: &str) -> Result<(), String> {
    if !name.ends_with('/') {
        Err(format!("invalid suite name {name:?}: it must end with /"))
    } else if VALID_SUITE.is_match(name) {
        Ok(())
    } else {
        Err(format!(
            "invalid suite name {name:?}: use lowercase path components joined by /"
        ))
    }
}

pub fn check_task(full_name: &str) -> Result<(), String> {
    if VALID_TASK.is_match(full_name) {
        Ok(())
    } else {
        Err(format!(
            "invalid task name {full_name:?}: task directories must be lowercase letters and \
             digits joined by - . or _"
        ))
    }
}

pub fn check_variable(key: &str) -> Result<(), String> {
    if VALID_VARIABLE.is_match(key) {
        Ok(())
    } else {
        Err(format!(
            "invalid variable name {key:?}: use NAME or NAME/variant1,variant2 with letters, \
             digits and _"
        ))
    }
}

/// A list is either plain (replaces what the level above gave) or all `+x`/`-x` deltas.
pub fn check_list_form(list: &[String]) -> Result<(), String> {
    let deltas = list.iter().filter(|item| is_delta(item)).count();
    if deltas == 0 || deltas == list.len() {
        Ok(())
    } else {
        Err(format!(
            "{list:?} mixes plain names with +name/-name entries: either replace the list \
             (plain names only) or edit it (+/- entries only)"
        ))
    }
}

pub fn is_delta(item: &str) -> bool {
    item.starts_with('+') || item.starts_with('-')
}

/// Strips a leading `+` or `-`.
pub fn undelta(item: &str) -> &str {
    if is_delta(item) { &item[1..] } else { item }
}

/// spread's timeouts: Go durations (`30s`, `1m30s`, `1.5h`, `500ms`); `-1` disables
/// (`TIMEOUT_DISABLED`); zero means "not set here" (`None`), as in spread.
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    if text == "-1" {
        return Ok(Some(TIMEOUT_DISABLED));
    }
    let duration = parse_go_duration(text).ok_or_else(|| {
        format!("timeout must look like 10s, 15m, 1m30s or 1.5h (or -1 to disable), not {text:?}")
    })?;
    Ok((!duration.is_zero()).then_some(duration))
}

/// Go's `time.ParseDuration` for non-negative values: a sequence of decimal numbers, each with
/// a unit among ns, us, µs, ms, s, m, h; a bare `0` is allowed.
fn parse_go_duration(text: &str) -> Option<Duration> {
    let text = text.strip_prefix('+').unwrap_or(text);
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// spread's sizes: `N` followed by B, K, M or G, or `preserve-size`.
pub fn check_size(text: &str) -> Result<(), String> {
    let valid = text == "preserve-size"
        || text.len() > 1
            && text[..text.len() - 1].chars().all(|c| c.is_ascii_digit())
            && text.ends_with(['B', 'K', 'M', 'G']);
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid size {text:?}: use a number with B, K, M or G (e.g. 4G), or preserve-size"
        ))
    }
}

/// Artifact paths are relative, clean and stay inside the task directory.
pub fn check_artifact(path: &str) -> Result<(), String> {
    let clean = path == "."
        || path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if clean {
        Ok(())
    } else {
        Err(format!(
            "improper artifact path {path:?}: use a clean relative path inside the task directory"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_follow_go_durations() {
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(parse_timeout("30s"), Ok(secs(30)));
        assert_eq!(parse_timeout("1m30s"), Ok(secs(90)));
        assert_eq!(parse_timeout("1.5h"), Ok(secs(5400)));
        assert_eq!(parse_timeout("2h45m"), Ok(secs(9900)));
        assert_eq!(parse_timeout("500ms"), Ok(Some(Duration::from_millis(500))));
        assert_eq!(parse_timeout("-1"), Ok(Some(TIMEOUT_DISABLED)));
        assert_eq!(parse_timeout("0"), Ok(None));
        assert_eq!(parse_timeout("0s"), Ok(None));
        for bad in ["30", "", "1x", "m", "-5m", "1.5", "s30"] {
            assert!(parse_timeout(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn system_names_are_name_version_shaped() {
        for good in [
            "debian-12",
            "ubuntu-16.04-64",
            "ubuntu-core-*",
            "opensuse-tumbleweed-64",
        ] {
            assert_eq!(check_system(good), Ok(()), "{good}");
        }
        for bad in [
            "debian",
            "Debian-12",
            "debian_12",
            "-debian-12",
            "debian-12-",
            "",
        ] {
            assert!(check_system(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn lists_are_plain_or_delta() {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_list_form(&list(&["a-1", "b-2"])).is_ok());
        assert!(check_list_form(&list(&["+a-1", "-b-2"])).is_ok());
        assert!(check_list_form(&list(&["a-1", "-b-2"])).is_err());
    }

    #[test]
    fn artifacts_stay_inside_the_task() {
        assert!(check_artifact("out/log.txt").is_ok());
        for bad in ["/etc/passwd", "../x", "a/../b", "a//b", "./a"] {
            assert!(check_artifact(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn sizes() {
        assert!(check_size("12G").is_ok());
        assert!(check_size("preserve-size").is_ok());
        assert!(check_size("12").is_err());
        assert!(check_size("G").is_err());
    }
}
