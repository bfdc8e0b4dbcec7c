//! `snapcell install` of phase-1 snaps (`system-users: [daemon]`) against the real NSS, inside
//! a sandbox whose /etc copy plays Debian (daemon 1/1), Fedora (2/2) or Solus (no daemon).

mod install_support;

use install_support::{Env, drop_allowed, squash};

const DAEMON_SNAP: &str = "name: svc\nversion: 1.0\nsummary: A daemon\napps:\n  svc:\n    \
                           command: bin/hello\n    daemon: simple\n  tool:\n    command: bin/hello\n\
                           system-users: [daemon]\n";
const PLAIN_SNAP: &str = "name: plain\nversion: 2\napps:\n  plain:\n    command: bin/hello\n";

fn install_daemon_snap(env: &Env) -> String {
    let dir = env.snap("svc", DAEMON_SNAP);
    env.ok(&["install", dir.to_str().unwrap()])
}

#[test]
fn daemon_resolves_to_debian_ids_and_the_program_compares_against_them() {
    let env = Env::new();
    assert_eq!(install_daemon_snap(&env), "svc 1.0 installed\n");
    let info = env.ok(&["info", "svc"]);
    assert_eq!(
        info,
        "name: svc\nversion: 1.0\nrevision: x1\nsummary: A daemon\napps: svc, tool\n\
         user: daemon uid=1 gid=1\n"
    );
    let source = env.read_text("/var/lib/snapcell/seccomp/snap.svc.svc.src");
    assert!(
        source.contains("u:daemon") && source.contains("g:daemon"),
        "{source}"
    );
    let program = env.read("/var/lib/snapcell/seccomp/snap.svc.svc.bin");
    assert!(
        drop_allowed(&program, 1),
        "the filter must let root drop to daemon (1)"
    );
    assert!(
        !drop_allowed(&program, 2),
        "the filter must refuse any other id (2)"
    );
    assert!(!drop_allowed(&program, 1000));
}

#[test]
fn daemon_at_2_2_resolves_to_2_2() {
    let env = Env::new();
    env.daemon_at_2();
    install_daemon_snap(&env);
    assert!(
        env.ok(&["info", "svc"])
            .contains("\nuser: daemon uid=2 gid=2\n")
    );
    let program = env.read("/var/lib/snapcell/seccomp/snap.svc.tool.bin");
    assert!(drop_allowed(&program, 2));
    assert!(!drop_allowed(&program, 1));
}

#[test]
fn layout_after_install() {
    let env = Env::new();
    let dir = env.snap("svc", DAEMON_SNAP);
    std::fs::write(dir.join("bin/suid"), "").unwrap();
    std::fs::set_permissions(
        dir.join("bin/suid"),
        std::os::unix::fs::PermissionsExt::from_mode(0o6755),
    )
    .unwrap();
    env.ok(&["install", dir.to_str().unwrap()]);
    assert_eq!(
        env.sh("stat -c %a /snap/svc/x1/bin/suid"),
        "755\n",
        "setuid/setgid bits are dropped"
    );
    let snapcell = env!("CARGO_BIN_EXE_snapcell");
    assert_eq!(
        env.sh("cd /snap/bin && for l in *; do echo \"$l -> $(readlink $l)\"; done"),
        format!("svc -> {snapcell}\nsvc.tool -> {snapcell}\n")
    );
    assert_eq!(env.sh("readlink /snap/svc/current"), "x1\n");
    assert_eq!(
        env.sh("cat /snap/svc/current/bin/hello"),
        "#!/bin/sh\necho hello\n"
    );
    let modes = env.sh(
        "stat -c '%a %U %n' /var/lib/snapcell/seccomp/* /var/lib/snapcell/apparmor/* \
         /var/lib/snapcell/snaps/* /var/snap/svc/x1 /var/snap/svc/common /snap/svc/x1",
    );
    for line in modes.lines() {
        assert!(
            line.starts_with("644 root ") || line.starts_with("755 root "),
            "root-owned 0644 files and 0755 dirs: {line}"
        );
    }
    let apparmor = env.read_text("/var/lib/snapcell/apparmor/snap.svc.svc");
    assert!(apparmor.contains("capability setuid"), "{apparmor}");
}

#[test]
fn the_record_holds_the_sha256_of_each_compiled_program() {
    let env = Env::new();
    install_daemon_snap(&env);
    let digests = env.sh(
        "cd /var/lib/snapcell/seccomp && sha256sum snap.svc.svc.bin snap.svc.tool.bin \
         | cut -d' ' -f1",
    );
    let (svc, tool) = digests.split_once('\n').expect("two digests");
    let record = env.read_text("/var/lib/snapcell/snaps/svc.yaml");
    assert!(
        record.contains(&format!(
            "program-sha256:\n  svc: {svc}\n  tool: {}",
            tool.trim()
        )),
        "{record}"
    );
}

#[test]
fn no_opt_in_keeps_the_bare_family() {
    let env = Env::new();
    let dir = env.snap("plain", PLAIN_SNAP);
    assert_eq!(
        env.ok(&["install", dir.to_str().unwrap()]),
        "plain 2 installed\n"
    );
    let info = env.ok(&["info", "plain"]);
    assert!(!info.contains("user:"), "{info}");
    let source = env.read_text("/var/lib/snapcell/seccomp/snap.plain.plain.src");
    assert!(!source.contains("u:daemon"), "{source}");
    let program = env.read("/var/lib/snapcell/seccomp/snap.plain.plain.bin");
    // Without an opt-in the set*id family is allowed with any argument (AppArmor's missing
    // capabilities are what deny it on AppArmor systems).
    assert!(drop_allowed(&program, 1) && drop_allowed(&program, 1000));
    assert!(
        !env.read_text("/var/lib/snapcell/apparmor/snap.plain.plain")
            .contains("capability setuid")
    );
}

/// The refusal of the daemon snap's install where `daemon` lacks its user, its group or both;
/// the install must leave nothing behind.
fn refused_without_daemon(user: bool, group: bool) -> String {
    let env = Env::new();
    env.remove_daemon(user, group);
    let before = env.accounts();
    let dir = env.snap("svc", DAEMON_SNAP);
    let error = env.refused(&["install", dir.to_str().unwrap()]);
    env.assert_nothing_left(&before);
    error
}

#[test]
fn solus_like_system_refuses_and_leaves_nothing() {
    let error = refused_without_daemon(true, true);
    assert!(error.contains("snap \"svc\""), "{error}");
    assert!(
        error.contains("the user and the group \"daemon\" are both missing"),
        "{error}"
    );
    assert!(error.contains("`groupadd --system daemon`"), "{error}");
    assert!(
        error.contains(
            "`useradd --system --gid daemon --no-create-home --shell /usr/sbin/nologin daemon`"
        ),
        "{error}"
    );
}

#[test]
fn group_only_refuses_naming_the_user() {
    let error = refused_without_daemon(true, false);
    assert!(
        error.contains("the user \"daemon\" is missing (the group exists)"),
        "{error}"
    );
    assert!(error.contains("useradd --system --gid daemon"), "{error}");
}

#[test]
fn user_only_refuses_naming_the_group() {
    let error = refused_without_daemon(false, true);
    assert!(
        error.contains("the group \"daemon\" is missing (the user exists)"),
        "{error}"
    );
    assert!(error.contains("groupadd --system daemon"), "{error}");
}

#[test]
fn invalid_snap_yaml_refuses_with_file_key_and_value() {
    let env = Env::new();
    let dir = env.snap(
        "bad",
        "name: bad\nversion: 1\nsystem-users: [daemon, www]\n",
    );
    let error = env.refused(&["install", dir.to_str().unwrap()]);
    let file = dir.join("meta/snap.yaml");
    assert_eq!(
        error,
        format!(
            "{}: key \"system-users\" has the value \"www\": unsupported system user; \
             supported system users: daemon",
            file.display()
        )
    );
    let dir = env.snap("syntax", "name: x\n  version: :\n");
    let error = env.refused(&["install", dir.to_str().unwrap()]);
    assert!(error.contains("line 2, column"), "{error}");
    assert_eq!(env.state(), install_support::EMPTY_STATE);
}

#[test]
fn squashfs_snap_installs() {
    let env = Env::new();
    let dir = env.snap("svc", DAEMON_SNAP);
    let file = dir.with_extension("snap");
    squash(&dir, &file);
    assert_eq!(
        env.ok(&["install", "--dangerous", file.to_str().unwrap()]),
        "svc 1.0 installed\n"
    );
    assert_eq!(
        env.sh("cat /snap/svc/current/bin/hello"),
        "#!/bin/sh\necho hello\n"
    );
    assert!(
        env.ok(&["info", "svc"])
            .contains("user: daemon uid=1 gid=1")
    );
}

#[test]
fn reinstall_list_and_remove() {
    let env = Env::new();
    install_daemon_snap(&env);
    let plain = env.snap("plain", PLAIN_SNAP);
    env.ok(&["install", plain.to_str().unwrap()]);
    env.sh("echo kept > /var/snap/svc/x1/data");
    install_daemon_snap(&env);
    assert_eq!(
        env.ok(&["list"]),
        "Name   Version  Rev  Users\nplain  2        x1   -\nsvc    1.0      x2   daemon\n"
    );
    assert_eq!(
        env.sh("cat /var/snap/svc/x2/data"),
        "kept\n",
        "data moves to the new revision"
    );
    assert_eq!(env.sh("ls /snap/svc"), "current\nx2\n");
    let accounts = env.accounts();
    assert_eq!(env.ok(&["remove", "svc"]), "svc removed\n");
    assert_eq!(
        env.ok(&["list"]),
        "Name   Version  Rev  Users\nplain  2        x1   -\n"
    );
    let state = env.state();
    assert!(!state.iter().any(|path| path.contains("svc")), "{state:#?}");
    assert_eq!(env.accounts(), accounts, "users stay");
    assert!(env.refused(&["info", "svc"]).contains("not installed"));
    assert!(env.refused(&["remove", "svc"]).contains("not installed"));
}

#[test]
fn debug_prints_the_sources() {
    let env = Env::new();
    install_daemon_snap(&env);
    let stored = env.read_text("/var/lib/snapcell/seccomp/snap.svc.svc.src");
    assert_eq!(env.ok(&["debug", "seccomp", "svc.svc"]), stored);
    assert_eq!(env.ok(&["debug", "seccomp", "svc"]), stored);
    let without = env.ok(&["debug", "seccomp", "svc.svc", "--without-system-users"]);
    assert!(!without.contains("u:daemon"), "{without}");
    let apparmor = env.ok(&["debug", "apparmor", "svc.tool"]);
    assert_eq!(
        apparmor,
        env.read_text("/var/lib/snapcell/apparmor/snap.svc.tool")
    );
    let error = env.refused(&["debug", "apparmor", "svc.nope"]);
    assert!(
        error.contains("no app \"nope\"") && error.contains("svc, tool"),
        "{error}"
    );
}

#[test]
fn usage_errors_exit_1_with_one_paragraph() {
    let env = Env::new();
    let output = env.snapcell(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: "));
    let error = env.refused(&["install", "/nonexistent/snap"]);
    assert_eq!(
        error,
        "/nonexistent/snap is neither a directory holding meta/snap.yaml nor a .snap file"
    );
    let error = env.refused(&["info", "../etc"]);
    assert!(error.contains("not installed"), "{error}");
    assert!(env.ok(&["--help"]).contains("install"));
}
