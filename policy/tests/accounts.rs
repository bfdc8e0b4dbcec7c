//! `system-usernames` installs against the real NSS and shadow-utils in a sandbox: creation with
//! fixed ids and the range user, idempotent reinstall, users surviving removal, refusals that
//! create nothing, rollback when useradd fails, and extrausers where /etc is read-only.

mod install_support;

use install_support::{Env, drop_allowed};

const RANGE: &str = "snapd-range-524288-root";

fn usernames_snap(name: &str, entries: &str) -> String {
    format!(
        "name: {name}\nversion: 1\napps:\n  {name}:\n    command: bin/hello\nsystem-usernames:\n{entries}"
    )
}

fn install(env: &Env, name: &str, entries: &str, extra: &[&str]) -> std::process::Output {
    let dir = env.snap(name, &usernames_snap(name, entries));
    let mut args = vec!["install"];
    args.extend_from_slice(extra);
    args.push(dir.to_str().unwrap());
    env.snapcell(&args)
}

fn install_ok(env: &Env, name: &str, entries: &str, extra: &[&str]) {
    install_support::succeeded(install(env, name, entries, extra), &[name]);
}

fn install_refused(env: &Env, name: &str, entries: &str, extra: &[&str]) -> String {
    install_support::refused(install(env, name, entries, extra), &[name])
}

#[test]
fn snap_daemon_is_created_with_its_range_user() {
    let env = Env::new();
    install_ok(&env, "svc", "  snap_daemon: shared\n", &[]);
    assert_eq!(
        env.getent("passwd", "snap_daemon").as_deref(),
        Some("snap_daemon:x:584788:584788::/nonexistent:/bin/false")
    );
    assert_eq!(
        env.getent("group", "snap_daemon").as_deref(),
        Some("snap_daemon:x:584788:")
    );
    assert_eq!(
        env.getent("passwd", RANGE).as_deref(),
        Some("snapd-range-524288-root:x:524288:524288::/nonexistent:/bin/false")
    );
    assert_eq!(
        env.getent("group", RANGE).as_deref(),
        Some("snapd-range-524288-root:x:524288:")
    );
    // The range user comes first in the database, as it was created first.
    let passwd = env.read_text("/etc/passwd");
    assert!(passwd.find(RANGE).unwrap() < passwd.find("snap_daemon").unwrap());
    assert!(
        env.ok(&["info", "svc"])
            .contains("\nuser: snap_daemon uid=584788 gid=584788\n")
    );
    let program = env.read("/var/lib/snapcell/seccomp/snap.svc.svc.bin");
    assert!(drop_allowed(&program, 584788));
    assert!(!drop_allowed(&program, 1));
}

#[test]
fn underscore_daemon_reinstall_is_idempotent_and_users_survive_removal() {
    let env = Env::new();
    install_ok(&env, "svc", "  _daemon_: {scope: shared}\n", &[]);
    assert!(
        env.ok(&["info", "svc"])
            .contains("\nuser: _daemon_ uid=584792 gid=584792\n")
    );
    let accounts = env.accounts();
    install_ok(&env, "svc", "  _daemon_: {scope: shared}\n", &[]);
    assert_eq!(env.accounts(), accounts, "a reinstall creates nothing");
    install_ok(
        &env,
        "other",
        "  _daemon_: shared\n  snap_daemon: shared\n",
        &[],
    );
    env.ok(&["remove", "svc"]);
    env.ok(&["remove", "other"]);
    assert!(
        env.getent("passwd", "_daemon_").is_some(),
        "users stay after removal"
    );
    assert!(env.getent("passwd", "snap_daemon").is_some());
    let accounts = env.accounts();
    install_ok(&env, "svc", "  _daemon_: shared\n", &[]);
    assert_eq!(env.accounts(), accounts, "a later install reuses them");
}

#[test]
fn refusals_create_nothing() {
    let cases = [
        (
            "  b@d: shared\n",
            "key \"system-usernames\" has the value \"b@d\": invalid system username",
        ),
        (
            "  daemon: shared\n",
            "unsupported system username; supported: snap_daemon",
        ),
        (
            "  _daemon_: private\n",
            "key \"system-usernames._daemon_\" has the value \"private\": unsupported user scope",
        ),
        (
            "  snap_daemon: {scope: external}\n",
            "unsupported user scope",
        ),
        ("  _daemon_: {}\n", "does not specify a scope"),
        // A valid name first: nothing may be created for it before the bad one is seen.
        (
            "  snap_daemon: shared\n  _daemon_: private\n",
            "unsupported user scope",
        ),
    ];
    let env = Env::new();
    let before = env.accounts();
    for (entries, expected) in cases {
        let error = install_refused(&env, "svc", entries, &[]);
        assert!(error.contains("meta/snap.yaml: key"), "{error}");
        assert!(error.contains(expected), "{entries}: {error}");
        env.assert_nothing_left(&before);
    }
}

#[test]
fn snap_scoped_names_need_the_right_snap_id() {
    let env = Env::new();
    let before = env.accounts();
    let error = install_refused(&env, "microk8s", "  snap_microk8s: shared\n", &[]);
    assert!(
        error.contains("not allowed to use the system user \"snap_microk8s\""),
        "{error}"
    );
    assert!(error.contains("without a snap id"), "{error}");
    env.assert_nothing_left(&before);
    let wrong = ["--snap-id", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"];
    let error = install_refused(&env, "microk8s", "  snap_microk8s: shared\n", &wrong);
    assert!(
        error.contains("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "{error}"
    );
    env.assert_nothing_left(&before);
    let malformed = install_refused(
        &env,
        "microk8s",
        "  snap_microk8s: shared\n",
        &["--snap-id", "x"],
    );
    assert!(malformed.contains("invalid snap id \"x\""), "{malformed}");
    env.assert_nothing_left(&before);
    let right = ["--snap-id", "EaXqgt1lyCaxKaQCU349mlodBkDCXRcg"];
    install_ok(&env, "microk8s", "  snap_microk8s: shared\n", &right);
    assert!(
        env.getent("passwd", "snap_microk8s")
            .unwrap()
            .contains(":584789:584789:")
    );
    let record = env.read_text("/var/lib/snapcell/snaps/microk8s.yaml");
    assert!(
        record.contains("snap-id: EaXqgt1lyCaxKaQCU349mlodBkDCXRcg"),
        "{record}"
    );
}

/// The refusal of installing `svc` with `entries` after `existing` (a shell script) made
/// accounts that clash with them; the install must leave nothing behind.
fn refused_over(existing: &str, entries: &str) -> String {
    let env = Env::new();
    env.sh(existing);
    let before = env.accounts();
    let error = install_refused(&env, "svc", entries, &[]);
    env.assert_nothing_left(&before);
    error
}

#[test]
fn half_present_pair_refuses_before_creating_the_range_user() {
    let error = refused_over(
        "groupadd --system --gid 584788 snap_daemon",
        "  snap_daemon: shared\n",
    );
    assert!(
        error.starts_with(
            "cannot install snap \"svc\": cannot add user/group \"snap_daemon\": group exists and \
             user does not"
        ),
        "{error}"
    );
}

#[test]
fn user_without_group_refuses() {
    let error = refused_over(
        "useradd --system --uid 584792 --gid 0 --no-create-home _daemon_",
        "  _daemon_: shared\n",
    );
    assert!(error.contains("user exists and group does not"), "{error}");
}

#[test]
fn unexpected_id_refuses() {
    let error = refused_over(
        "groupadd --system --gid 4242 _daemon_ && useradd --system --uid 4242 --gid 4242 _daemon_",
        "  _daemon_: shared\n",
    );
    assert!(
        error.contains("found unexpected uid for user \"_daemon_\": 4242 (expected 584792)"),
        "{error}"
    );
}

#[test]
fn failed_useradd_rolls_back_the_group_and_the_range_user() {
    let env = Env::new();
    // Another account holds uid 584788 under another name: the plan sees no snap_daemon, the
    // group is added, then useradd refuses the duplicate uid.
    env.sh("useradd --system --uid 584788 --gid 0 --no-create-home squatter");
    let before = env.accounts();
    let error = install_refused(&env, "svc", "  snap_daemon: shared\n", &[]);
    assert!(error.contains("useradd"), "{error}");
    assert!(
        env.getent("group", "snap_daemon").is_none(),
        "the group is rolled back"
    );
    assert!(
        env.getent("passwd", RANGE).is_none(),
        "so is the range user of this run"
    );
    env.assert_nothing_left(&before);
}

#[test]
fn read_only_etc_uses_extrausers() {
    let env = Env::new();
    env.edit_etc("nsswitch.conf", |line| {
        Some(match line.split_once(':') {
            Some((db @ ("passwd" | "group"), sources)) => {
                format!("{db}: {} extrausers", sources.trim())
            }
            _ => line.to_owned(),
        })
    });
    env.sh("mount -o remount,bind,ro /etc");
    let etc = env.accounts();
    install_ok(&env, "svc", "  _daemon_: shared\n", &[]);
    // No shadow file in extrausers: useradd locks the password in passwd itself ("!").
    let passwd = env.read_text("/var/lib/extrausers/passwd");
    assert!(
        passwd.contains("_daemon_:!:584792:584792::/nonexistent:/bin/false"),
        "{passwd}"
    );
    assert!(
        passwd.starts_with("snapd-range-524288-root:!:524288:"),
        "{passwd}"
    );
    assert!(
        env.read_text("/var/lib/extrausers/group")
            .contains("_daemon_:x:584792:")
    );
    assert!(
        env.getent("passwd", "_daemon_")
            .unwrap()
            .contains(":584792:"),
        "NSS sees it"
    );
    assert!(
        env.ok(&["info", "svc"])
            .contains("user: _daemon_ uid=584792 gid=584792")
    );
    let now = env.sh("cat /etc/passwd /etc/group");
    assert!(etc.starts_with(&now), "/etc is untouched");
    install_ok(&env, "svc", "  _daemon_: shared\n", &[]);
}

#[test]
fn a_failure_after_creating_users_removes_them_again() {
    let env = Env::new();
    let before = env.accounts();
    // Everything validates; the users are created; then unpacking into /snap fails.
    env.sh("mount -o remount,ro /snap");
    let error = install_refused(&env, "svc", "  _daemon_: shared\n", &[]);
    assert!(error.contains("/snap/svc"), "{error}");
    assert_eq!(
        env.accounts(),
        before,
        "the users this install created are removed"
    );
    assert_eq!(env.state(), install_support::EMPTY_STATE);
}
