//! The app's environment: the caller's variables minus those that steer the dynamic loader,
//! libc or snapcell itself, plus the snap variables. Built, never inherited blindly: a setuid
//! launcher must not let the caller's environment reach into what it sets up.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// Where one app of one snap lives and keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapDirs {
    pub name: String,
    pub revision: String,
    /// `/snap/NAME/REV`
    pub snap: PathBuf,
    /// `/var/snap/NAME/REV`
    pub data: PathBuf,
    /// `/var/snap/NAME/common`
    pub common: PathBuf,
    /// `~/snap/NAME/REV` of the caller (the real uid's home from the passwd database)
    pub user_data: PathBuf,
    /// the caller's home, as the passwd database has it
    pub real_home: PathBuf,
}

/// Variables glibc ignores in setuid programs (its UNSECURE_ENVVARS) and snapcell's own; every
/// `LD_` variable goes too.
const REMOVED: &[&str] = &[
    "GCONV_PATH",
    "GETCONF_DIR",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LOCALDOMAIN",
    "LOCPATH",
    "MALLOC_ARENA_MAX",
    "MALLOC_ARENA_TEST",
    "MALLOC_PERTURB_",
    "MALLOC_TRACE",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_MMAP_MAX_",
    "NIS_PATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "RES_OPTIONS",
    "TMPDIR",
    "TZDIR",
];

fn removed(name: &OsStr) -> bool {
    let bytes = name.as_encoded_bytes();
    bytes.starts_with(b"LD_")
        || bytes.starts_with(b"SNAPCELL_")
        || bytes.starts_with(b"SNAP_")
        || bytes == b"SNAP"
        || REMOVED
            .iter()
            .any(|unsafe_name| bytes == unsafe_name.as_bytes())
}

/// The environment the app is started with, sorted by name.
pub fn app_environment(
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    dirs: &SnapDirs,
) -> Vec<(OsString, OsString)> {
    let mut environment: Vec<(OsString, OsString)> = inherited
        .into_iter()
        .filter(|(name, _)| !removed(name) && name != "HOME" && name != "PATH")
        .collect();
    let path = |p: &Path| p.as_os_str().to_os_string();
    let snap_variables = [
        ("SNAP", path(&dirs.snap)),
        ("SNAP_NAME", dirs.name.clone().into()),
        ("SNAP_INSTANCE_NAME", dirs.name.clone().into()),
        ("SNAP_REVISION", dirs.revision.clone().into()),
        ("SNAP_DATA", path(&dirs.data)),
        ("SNAP_COMMON", path(&dirs.common)),
        ("SNAP_USER_DATA", path(&dirs.user_data)),
        ("SNAP_REAL_HOME", path(&dirs.real_home)),
        ("HOME", path(&dirs.user_data)),
        ("PATH", search_path(&dirs.snap)),
    ];
    environment.extend(
        snap_variables
            .into_iter()
            .map(|(name, value)| (OsString::from(name), value)),
    );
    environment.sort();
    environment
}

/// The snap's own directories first, then the system's.
fn search_path(snap: &Path) -> OsString {
    let mut entries: Vec<PathBuf> = ["usr/sbin", "usr/bin", "sbin", "bin"]
        .iter()
        .map(|dir| snap.join(dir))
        .collect();
    entries.extend(
        [
            "/usr/local/sbin",
            "/usr/local/bin",
            "/usr/sbin",
            "/usr/bin",
            "/sbin",
            "/bin",
        ]
        .iter()
        .map(PathBuf::from),
    );
    std::env::join_paths(entries).expect("none of the search path entries contains ':'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> SnapDirs {
        SnapDirs {
            name: "hello".into(),
            revision: "x1".into(),
            snap: "/snap/hello/x1".into(),
            data: "/var/snap/hello/x1".into(),
            common: "/var/snap/hello/common".into(),
            user_data: "/home/alice/snap/hello/x1".into(),
            real_home: "/home/alice".into(),
        }
    }

    fn lookup<'a>(environment: &'a [(OsString, OsString)], name: &str) -> Option<&'a OsStr> {
        environment
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_os_str())
    }

    #[test]
    fn snap_variables_are_set_and_home_is_the_user_data_dir() {
        let environment = app_environment(Vec::new(), &dirs());
        let expected = [
            ("SNAP", "/snap/hello/x1"),
            ("SNAP_NAME", "hello"),
            ("SNAP_INSTANCE_NAME", "hello"),
            ("SNAP_REVISION", "x1"),
            ("SNAP_DATA", "/var/snap/hello/x1"),
            ("SNAP_COMMON", "/var/snap/hello/common"),
            ("SNAP_USER_DATA", "/home/alice/snap/hello/x1"),
            ("SNAP_REAL_HOME", "/home/alice"),
            ("HOME", "/home/alice/snap/hello/x1"),
        ];
        for (name, value) in expected {
            assert_eq!(
                lookup(&environment, name),
                Some(OsStr::new(value)),
                "{name}"
            );
        }
        let path = lookup(&environment, "PATH")
            .expect("PATH")
            .to_string_lossy();
        assert!(path.starts_with("/snap/hello/x1/usr/sbin:"), "{path}");
        assert!(path.ends_with(":/usr/bin:/sbin:/bin"), "{path}");
    }

    #[test]
    fn loader_libc_and_snapcell_variables_are_removed_and_the_rest_kept() {
        let inherited = [
            ("LD_PRELOAD", "/tmp/evil.so"),
            ("LD_LIBRARY_PATH", "/tmp"),
            ("GCONV_PATH", "/tmp"),
            ("GLIBC_TUNABLES", "glibc.malloc.check=3"),
            ("SNAPCELL_ROOT", "/tmp/fake"),
            ("SNAP_DATA", "/tmp/fake"),
            ("HOME", "/tmp/fake-home"),
            ("PATH", "/tmp/bin"),
            ("LANG", "C.UTF-8"),
            ("TERM", "xterm"),
        ]
        .map(|(name, value)| (OsString::from(name), OsString::from(value)));
        let environment = app_environment(inherited, &dirs());
        let names: Vec<_> = environment
            .iter()
            .map(|(n, _)| n.to_string_lossy())
            .collect();
        for gone in [
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "GCONV_PATH",
            "GLIBC_TUNABLES",
            "SNAPCELL_ROOT",
        ] {
            assert!(!names.iter().any(|n| n == gone), "{gone} kept: {names:?}");
        }
        assert_eq!(lookup(&environment, "LANG"), Some(OsStr::new("C.UTF-8")));
        assert_eq!(lookup(&environment, "TERM"), Some(OsStr::new("xterm")));
        assert_eq!(
            lookup(&environment, "SNAP_DATA"),
            Some(OsStr::new("/var/snap/hello/x1"))
        );
        assert_eq!(
            lookup(&environment, "HOME"),
            Some(OsStr::new("/home/alice/snap/hello/x1"))
        );
        let duplicates = environment.windows(2).filter(|w| w[0].0 == w[1].0).count();
        assert_eq!(duplicates, 0, "{environment:?}");
    }
}
