//! A setuid-root `snapcell` run by a non-root user with two supplementary groups: the launcher
//! does its privileged setup, drops permanently to the caller before it loads the filter, and
//! the app runs with the caller's ids and groups, unable to become anyone else.

mod run_support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use run_support::{OptIn, SnapSource, assert_refused, chmod, id_of, install, output, shared_dir};
use testkit::{Identity, Sandbox};

/// A sandbox with the snaps installed, the user alice (groups red and blue), and a
/// setuid-root copy of snapcell.
struct Setup {
    sandbox: Sandbox,
    alice: Identity,
    launcher: PathBuf,
    _launcher_dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let sandbox = Sandbox::new().expect("creating a sandbox");
    for group in ["red", "blue"] {
        let mut groupadd = sandbox.command("groupadd");
        groupadd.arg(group);
        run_support::stdout(groupadd);
    }
    let mut useradd = sandbox.command("useradd");
    useradd.args([
        "--create-home",
        "--user-group",
        "--groups",
        "red,blue",
        "alice",
    ]);
    run_support::stdout(useradd);
    let alice = Identity {
        uid: id_of(&sandbox, "passwd", "alice"),
        gid: id_of(&sandbox, "group", "alice"),
        groups: vec![
            id_of(&sandbox, "group", "red"),
            id_of(&sandbox, "group", "blue"),
        ],
    };
    for (name, opt_in) in [("opted", OptIn::SystemUsers), ("plain", OptIn::None)] {
        let source = SnapSource::new(name, opt_in, &[(name, "bin/probe"), ("sh", "bin/sh")])
            .with_file(run_support::probe(), "bin/probe")
            .with_file(Path::new("/bin/dash"), "bin/sh");
        install(&sandbox, &source);
    }
    // The target directory is on the root filesystem, which is not mounted nosuid.
    let launcher_dir = shared_dir();
    let launcher = launcher_dir.path().join("snapcell");
    std::fs::copy(run_support::snapcell(), &launcher).expect("copying snapcell");
    std::os::unix::fs::chown(&launcher, Some(0), Some(0)).expect("chown root");
    chmod(&launcher, 0o4755);
    Setup {
        sandbox,
        alice,
        launcher,
        _launcher_dir: launcher_dir,
    }
}

impl Setup {
    fn as_alice(&self, app: &str, args: &[&str]) -> Command {
        let mut command = self.sandbox.command_as(&self.launcher, &self.alice);
        command.arg("run").arg(app).args(args);
        command
    }

    fn run_as_alice(&self, app: &str, args: &[&str]) -> Output {
        output(self.as_alice(app, args))
    }

    fn alice_after(&self) -> String {
        let mut groups = self.alice.groups.clone();
        groups.sort_unstable();
        let groups: Vec<String> = groups.iter().map(u32::to_string).collect();
        let (u, g) = (self.alice.uid, self.alice.gid);
        format!(
            "After: ruid={u}, euid={u}, suid={u}, rgid={g}, egid={g}, sgid={g}, groups={}\n",
            groups.join(",")
        )
    }
}

#[test]
fn the_app_runs_as_the_caller_with_the_callers_groups() {
    let setup = setup();
    for snap in ["opted", "plain"] {
        let out = setup.run_as_alice(snap, &["ids"]);
        assert_eq!(
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned()
            ),
            (Some(0), setup.alice_after()),
            "{snap}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_attempt_to_change_identity_fails_with_eperm() {
    let setup = setup();
    let files = shared_dir();
    let file = files.path().join("target");
    std::fs::write(&file, b"").expect("creating the chown target");
    std::os::unix::fs::chown(&file, Some(setup.alice.uid), Some(setup.alice.gid)).expect("chown");
    let path = file.display().to_string();
    let attempts: [&[&str]; 12] = [
        &["drop", "daemon", "daemon"],
        &["drop", "root", "root"],
        &["setuid", "daemon"],
        &["setgid", "daemon"],
        &["setuid", "root"],
        &["setresuid", "0", "0", "0"],
        &["setresgid", "daemon", "daemon", "daemon"],
        &["setreuid", "-1", "daemon"],
        &["setgroups", "0"],
        &["chown", &path, "daemon", "daemon"],
        &["fchownat", &path, "-1", "daemon"],
        &["lchown", &path, "root", "root"],
    ];
    for snap in ["opted", "plain"] {
        for via in ["libc", "raw", "i386"] {
            for attempt in attempts {
                let mut args = vec!["--via", via];
                args.extend_from_slice(attempt);
                let out = setup.run_as_alice(snap, &args);
                assert_refused(&out, &format!("{snap} via {via}: {}", attempt.join(" ")));
            }
        }
    }
    let metadata = std::fs::metadata(&file).expect("stat");
    assert_eq!(
        (metadata.uid(), metadata.gid()),
        (setup.alice.uid, setup.alice.gid)
    );
}

#[test]
fn the_app_runs_under_the_filter_with_no_new_privs_setuid_or_not() {
    let setup = setup();
    let status = "grep -E '^(NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status";
    let expected = ["NoNewPrivs:", "1", "Seccomp:", "2", "Seccomp_filters:", "1"];
    let setuid = run_support::stdout(setup.as_alice("opted.sh", &["-c", status]));
    assert_eq!(setuid.split_whitespace().collect::<Vec<_>>(), expected);
    // An unprivileged snapcell (no setuid bit): no privileged setup, the same confinement.
    let mut plain = setup
        .sandbox
        .command_as(run_support::snapcell(), &setup.alice);
    plain.args(["run", "opted.sh", "-c", status]);
    let unprivileged = run_support::stdout(plain);
    assert_eq!(
        unprivileged.split_whitespace().collect::<Vec<_>>(),
        expected
    );
}

#[test]
fn the_privileged_setup_happened_before_the_drop() {
    let setup = setup();
    // Only root can make the snap's private /tmp; alice's app writes into it.
    let out = setup.run_as_alice("opted.sh", &["-c", "touch /tmp/by-alice; echo \"$HOME\""]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/home/alice/snap/opted/x1\n",
        "{out:?}"
    );
    let mut owner = setup.sandbox.command("stat");
    owner.args([
        "-c",
        "%U %a",
        "/tmp/snap-private-tmp/snap.opted/tmp/by-alice",
        "/home/alice/snap/opted/x1",
    ]);
    let text = run_support::stdout(owner);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0].split(' ').next(), Some("alice"), "{text}");
    assert_eq!(
        lines[1], "alice 755",
        "SNAP_USER_DATA is made by the caller: {text}"
    );
}

#[test]
fn relocation_and_loader_variables_are_ignored_when_setuid() {
    let setup = setup();
    let mut command = setup.as_alice("opted.sh", &["-c", "env"]);
    command
        .env("SNAPCELL_ROOT", "/nonexistent")
        .env("LD_LIBRARY_PATH", "/nonexistent")
        .env("GCONV_PATH", "/nonexistent");
    let out = output(command);
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "SNAPCELL_ROOT was honoured: {out:?}");
    for name in ["SNAPCELL_ROOT=", "LD_LIBRARY_PATH=", "GCONV_PATH="] {
        assert!(
            !env.lines().any(|l| l.starts_with(name)),
            "{name} kept:\n{env}"
        );
    }
}
