//! The generated policies, pinned: seccomp source and AppArmor profile for each opt-in case.
//! Without an opt-in (and with the feature switched off) the output is byte-identical to the
//! feature not existing; every case compiles to BPF and every AppArmor profile compiles with
//! `apparmor_parser -QTK` (compile only: this kernel has no AppArmor).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;

use policy::accounts::{Account, Accounts, IdResolver, Nss};
use policy::profile::{Features, apparmor_profile, seccomp_source, security_tag};
use policy::seccomp::{compile, parse};
use policy::snap::{App, OptIn, SnapMeta, SystemUsername};

const WITH: Features = Features { system_users: true };
const WITHOUT: Features = Features {
    system_users: false,
};

fn snap(users: OptIn) -> SnapMeta {
    let daemon = App {
        command: "bin/serve".into(),
        daemon: Some("simple".into()),
        command_chain: vec!["bin/wrapper".into()],
    };
    SnapMeta {
        name: "hello".into(),
        version: "1.0".into(),
        summary: Some("Says hello".into()),
        apps: BTreeMap::from([("serve".to_string(), daemon)]),
        users,
    }
}

fn system_users() -> OptIn {
    OptIn::SystemUsers(vec!["daemon".into()])
}

fn system_usernames(name: &str, id: u32) -> OptIn {
    OptIn::SystemUsernames(vec![SystemUsername {
        name: name.into(),
        id,
    }])
}

/// The accounts an install of a `system-usernames` snap creates, as the install record holds them.
fn created(name: &str, id: u32) -> Accounts {
    Accounts::new(vec![Account {
        name: name.into(),
        uid: id,
        gid: id,
    }])
}

fn assert_compiles(source: &str, ids: &dyn IdResolver) {
    let rules = parse(source).unwrap_or_else(|error| panic!("{error}"));
    let program = compile(&rules, ids).unwrap_or_else(|error| panic!("{error}"));
    assert!(program.len() > 100, "{} instructions", program.len());
}

fn assert_apparmor_parser_accepts(profile: &str) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(profile.as_bytes()).unwrap();
    let output = Command::new("apparmor_parser")
        .arg("-QTK")
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "apparmor_parser -QTK refused the profile: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn security_tags() {
    assert_eq!(security_tag("hello", "serve"), "snap.hello.serve");
}

#[test]
fn no_opt_in_is_the_same_with_and_without_the_feature() {
    let snap = snap(OptIn::None);
    let seccomp = seccomp_source(&snap, "serve", WITH);
    let apparmor = apparmor_profile(&snap, "serve", WITH);
    insta::assert_snapshot!("seccomp_no_opt_in", seccomp);
    insta::assert_snapshot!(
        "seccomp_no_opt_in_feature_off",
        seccomp_source(&snap, "serve", WITHOUT)
    );
    insta::assert_snapshot!("apparmor_no_opt_in", apparmor);
    insta::assert_snapshot!(
        "apparmor_no_opt_in_feature_off",
        apparmor_profile(&snap, "serve", WITHOUT)
    );
    assert_eq!(seccomp, seccomp_source(&snap, "serve", WITHOUT));
    assert_eq!(apparmor, apparmor_profile(&snap, "serve", WITHOUT));
    assert!(!apparmor.contains("capability setuid"));
    assert!(!seccomp.contains("setgroups"));
    assert_compiles(&seccomp, &Nss);
    assert_apparmor_parser_accepts(&apparmor);
}

#[test]
fn feature_off_renders_an_opted_in_snap_as_if_the_feature_did_not_exist() {
    let plain = snap(OptIn::None);
    for users in [system_users(), system_usernames("_daemon_", 584792)] {
        let opted_in = snap(users);
        assert_eq!(
            seccomp_source(&opted_in, "serve", WITHOUT),
            seccomp_source(&plain, "serve", WITH)
        );
        assert_eq!(
            apparmor_profile(&opted_in, "serve", WITHOUT),
            apparmor_profile(&plain, "serve", WITH)
        );
    }
}

/// An opted-in snap's policies match the snapshots `seccomp_CASE` and `apparmor_CASE`, the
/// seccomp source compiles with the accounts `ids` and apparmor_parser accepts the profile.
fn assert_opted_in_policies(case: &str, users: OptIn, ids: &dyn IdResolver) {
    let snap = snap(users);
    let seccomp = seccomp_source(&snap, "serve", WITH);
    let apparmor = apparmor_profile(&snap, "serve", WITH);
    insta::assert_snapshot!(format!("seccomp_{case}"), seccomp);
    insta::assert_snapshot!(format!("apparmor_{case}"), apparmor);
    assert_compiles(&seccomp, ids);
    assert_apparmor_parser_accepts(&apparmor);
}

#[test]
fn system_users_daemon() {
    assert_opted_in_policies("system_users_daemon", system_users(), &Nss);
}

#[test]
fn system_usernames_underscore_daemon() {
    assert_opted_in_policies(
        "system_usernames_daemon",
        system_usernames("_daemon_", 584792),
        &created("_daemon_", 584792),
    );
}

#[test]
fn system_usernames_snap_daemon() {
    assert_opted_in_policies(
        "system_usernames_snap_daemon",
        system_usernames("snap_daemon", 584788),
        &created("snap_daemon", 584788),
    );
}

#[test]
fn the_template_is_the_same_either_way() {
    let plain = seccomp_source(&snap(OptIn::None), "serve", WITH);
    let opted_in = seccomp_source(&snap(system_users()), "serve", WITH);
    let identity = "\n## Identity:";
    let template = |source: &str| source[..source.find(identity).unwrap()].to_string();
    assert_eq!(template(&plain), template(&opted_in));
}
