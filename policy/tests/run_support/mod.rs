//! Shared by the `run*` kernel tests: test snaps around the `probe` program, installed with the
//! real `snapcell install` inside a [`Sandbox`], and their apps started with `snapcell run`.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use testkit::Sandbox;

/// How a test snap opts in, as its snap.yaml spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptIn {
    None,
    /// `system-users: [daemon]`
    SystemUsers,
    /// `system-usernames: {_daemon_: shared}`
    SystemUsernames,
}

impl OptIn {
    fn stanza(self) -> &'static str {
        match self {
            OptIn::None => "",
            OptIn::SystemUsers => "system-users: [daemon]\n",
            OptIn::SystemUsernames => "system-usernames:\n  _daemon_: shared\n",
        }
    }

    /// The user (and group) the snap may drop to.
    pub fn user(self) -> &'static str {
        match self {
            OptIn::None | OptIn::SystemUsers => "daemon",
            OptIn::SystemUsernames => "_daemon_",
        }
    }
}

pub fn snapcell() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_snapcell"))
}

/// The `probe` binary of this build. Cargo cannot yet make one package's binary an artifact
/// of another's tests, so it is built here (a no-op when it is fresh) into the same target
/// and profile directory as `snapcell`.
pub fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        let profile_dir = snapcell().parent().expect("snapcell has a directory");
        let target_dir = profile_dir
            .parent()
            .expect("the profile has a target directory");
        let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") => "dev",
            Some(other) => other,
            None => panic!("unexpected profile directory {}", profile_dir.display()),
        };
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "probe", "--profile", profile])
            .arg("--target-dir")
            .arg(target_dir)
            .arg("--manifest-path")
            .arg(manifest)
            .status()
            .expect("running cargo build -p probe");
        assert!(status.success(), "cargo build -p probe failed: {status}");
        profile_dir.join("probe")
    })
}

/// A directory for test files that the sandbox and the apps see, root-owned and traversable
/// by everyone. It is in /var/tmp because the apps' /tmp is private: the checkout itself (and
/// so CARGO_TARGET_TMPDIR) may well be under the host's /tmp.
pub fn shared_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("snapcell-run-test-")
        .tempdir_in("/var/tmp")
        .expect("creating a test directory");
    chmod(dir.path(), 0o755);
    dir
}

pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// A snap source directory: meta/snap.yaml plus the files its apps run.
pub struct SnapSource {
    dir: tempfile::TempDir,
    name: String,
}

impl SnapSource {
    /// A snap named `name` whose apps are (`app`, `command`) pairs.
    pub fn new(name: &str, opt_in: OptIn, apps: &[(&str, &str)]) -> SnapSource {
        let dir = shared_dir();
        let mut yaml = format!("name: {name}\nversion: '1.0'\nsummary: a test snap\n");
        yaml.push_str(opt_in.stanza());
        yaml.push_str("apps:\n");
        for (app, command) in apps {
            yaml.push_str(&format!("  {app}:\n    command: {command}\n"));
        }
        std::fs::create_dir(dir.path().join("meta")).expect("mkdir meta");
        std::fs::write(dir.path().join("meta/snap.yaml"), yaml).expect("writing snap.yaml");
        SnapSource {
            dir,
            name: name.to_owned(),
        }
    }

    /// A snap whose app `probe` (named like the snap too) runs the probe.
    pub fn probe(name: &str, opt_in: OptIn) -> SnapSource {
        SnapSource::new(name, opt_in, &[(name, "bin/probe"), ("probe", "bin/probe")])
            .with_file(probe(), "bin/probe")
    }

    /// Copies `from` into the snap at `to` (relative), keeping its mode.
    pub fn with_file(self, from: &Path, to: &str) -> SnapSource {
        let target = self.dir.path().join(to);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(from, &target)
            .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), target.display()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Runs `command` and returns its output.
pub fn output(mut command: Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("running {command:?}: {e}"))
}

/// Runs `command`, asserts success and returns its stdout.
pub fn stdout(command: Command) -> String {
    let description = format!("{command:?}");
    let output = output(command);
    assert!(
        output.status.success(),
        "{description} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// `snapcell install --dangerous SOURCE` inside `sandbox`, which must succeed.
pub fn install(sandbox: &Sandbox, source: &SnapSource) {
    let mut command = sandbox.command(snapcell());
    command.args(["install", "--dangerous"]).arg(source.path());
    let out = stdout(command);
    assert_eq!(out, format!("{} 1.0 installed\n", source.name()));
}

/// `snapcell run APP ARGS...` inside `sandbox`, as root.
pub fn run(sandbox: &Sandbox, app: &str, args: &[&str]) -> Output {
    let mut command = sandbox.command(snapcell());
    command.arg("run").arg(app).args(args);
    output(command)
}

/// The numeric id of a user (`passwd`) or group (`group`) inside the sandbox.
pub fn id_of(sandbox: &Sandbox, database: &str, name: &str) -> u32 {
    let mut getent = sandbox.command("getent");
    getent.args([database, name]);
    let line = stdout(getent);
    line.split(':')
        .nth(2)
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no id in {line:?}"))
}

/// Adds a user with a group of its own inside the sandbox.
pub fn add_user(sandbox: &Sandbox, name: &str) {
    let mut useradd = sandbox.command("useradd");
    useradd.args(["--system", "--user-group", "--no-create-home", name]);
    stdout(useradd);
}

/// The text a refused call prints.
pub const EPERM_TEXT: &str = "Operation not permitted\n";

/// Asserts that `output` is the probe's refusal with EPERM.
pub fn assert_refused(output: &Output, what: &str) {
    assert_eq!(
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).as_ref()
        ),
        (Some(1), EPERM_TEXT),
        "{what}: expected EPERM, got stdout {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
}
