use super::*;

const FILE: &str = "/src/meta/snap.yaml";

fn ok(text: &str) -> SnapMeta {
    parse(text, FILE).unwrap_or_else(|err| panic!("{err}"))
}

fn refusal(text: &str) -> String {
    parse(text, FILE).expect_err("must be refused").to_string()
}

#[test]
fn version_number_keeps_its_text() {
    assert_eq!(ok("name: hello\nversion: 1.0\n").version, "1.0");
    assert_eq!(ok("name: hello\nversion: 1.10\n").version, "1.10");
    assert_eq!(ok("name: hello\nversion: 2\n").version, "2");
}

#[test]
fn full_snap() {
    let meta = ok(
        "name: hello\nversion: '1.2'\nsummary: Says hello\nplugs: [network]\n\
                   apps:\n  hello:\n    command: bin/hello --loud\n  \
                   svc:\n    command: bin/svc\n    daemon: simple\n    command-chain: [bin/wrap]\n\
                   system-users: [daemon]\n",
    );
    assert_eq!(meta.name, "hello");
    assert_eq!(meta.summary.as_deref(), Some("Says hello"));
    assert_eq!(meta.apps["svc"].daemon.as_deref(), Some("simple"));
    assert_eq!(meta.apps["svc"].command_chain, ["bin/wrap"]);
    assert_eq!(meta.users, OptIn::SystemUsers(vec!["daemon".to_owned()]));
    assert!(meta.users.is_opted_in());
    assert_eq!(meta.users.user_names(), ["daemon"]);
}

#[test]
fn no_opt_in() {
    let meta = ok("name: plain\nversion: 1\napps:\n  plain:\n    command: bin/x\n");
    assert_eq!(meta.users, OptIn::None);
    assert!(!meta.users.is_opted_in());
    assert!(meta.users.user_names().is_empty());
}

#[test]
fn system_usernames_both_value_forms() {
    let meta = ok(
        "name: hello\nversion: 1\nsystem-usernames:\n  snap_daemon: shared\n  \
                   _daemon_: {scope: shared, extra: ignored}\n",
    );
    assert_eq!(
        meta.users,
        OptIn::SystemUsernames(vec![
            SystemUsername {
                name: "snap_daemon".into(),
                id: 584788
            },
            SystemUsername {
                name: "_daemon_".into(),
                id: 584792
            },
        ])
    );
}

#[test]
fn snap_scoped_names_need_their_snap_id() {
    let meta = ok("name: microk8s\nversion: 1\nsystem-usernames:\n  snap_microk8s: shared\n");
    assert!(
        meta.check_snap_id(Some("EaXqgt1lyCaxKaQCU349mlodBkDCXRcg"))
            .is_ok()
    );
    insta::assert_snapshot!("scoped_without_id", meta.check_snap_id(None).unwrap_err());
    insta::assert_snapshot!(
        "scoped_wrong_id",
        meta.check_snap_id(Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
            .unwrap_err()
    );
    let open = ok("name: any\nversion: 1\nsystem-usernames:\n  _daemon_: shared\n");
    assert!(open.check_snap_id(None).is_ok());
}

#[test]
fn snap_ids() {
    assert!(validate_snap_id("EaXqgt1lyCaxKaQCU349mlodBkDCXRcg").is_ok());
    insta::assert_snapshot!("bad_snap_id", validate_snap_id("short").unwrap_err());
}

#[test]
fn refusals() {
    let cases = [
        ("bad_yaml", "name: a\n  b: :\n"),
        ("not_a_mapping", "- a\n"),
        ("empty", ""),
        ("missing_version", "name: hello\n"),
        ("bad_name", "name: Hello\nversion: 1\n"),
        ("bad_version", "name: hello\nversion: 1.0-\n"),
        ("version_list", "name: hello\nversion: [1]\n"),
        (
            "app_without_command",
            "name: hello\nversion: 1\napps:\n  a:\n    daemon: simple\n",
        ),
        (
            "bad_daemon",
            "name: hello\nversion: 1\napps:\n  a:\n    command: x\n    daemon: forever\n",
        ),
        (
            "bad_app_name",
            "name: hello\nversion: 1\napps:\n  a_b:\n    command: x\n",
        ),
        (
            "absolute_command",
            "name: hello\nversion: 1\napps:\n  a:\n    command: /bin/sh\n",
        ),
        (
            "system_users_www",
            "name: hello\nversion: 1\nsystem-users: [daemon, www]\n",
        ),
        (
            "system_users_twice",
            "name: hello\nversion: 1\nsystem-users: [daemon, daemon]\n",
        ),
        (
            "system_users_empty",
            "name: hello\nversion: 1\nsystem-users: []\n",
        ),
        (
            "system_users_not_list",
            "name: hello\nversion: 1\nsystem-users: daemon\n",
        ),
        (
            "both_spellings",
            "name: hello\nversion: 1\nsystem-users: [daemon]\nsystem-usernames: {_daemon_: shared}\n",
        ),
        (
            "usernames_daemon",
            "name: hello\nversion: 1\nsystem-usernames:\n  daemon: shared\n",
        ),
        (
            "usernames_illegal",
            "name: hello\nversion: 1\nsystem-usernames:\n  b@d: shared\n",
        ),
        (
            "usernames_private",
            "name: hello\nversion: 1\nsystem-usernames:\n  _daemon_: private\n",
        ),
        (
            "usernames_external_map",
            "name: hello\nversion: 1\nsystem-usernames:\n  _daemon_: {scope: external}\n",
        ),
        (
            "usernames_no_scope",
            "name: hello\nversion: 1\nsystem-usernames:\n  _daemon_: {}\n",
        ),
        (
            "usernames_list",
            "name: hello\nversion: 1\nsystem-usernames: [_daemon_]\n",
        ),
        (
            "usernames_number_value",
            "name: hello\nversion: 1\nsystem-usernames:\n  _daemon_: 3\n",
        ),
        (
            "shared_users",
            "name: hello\nversion: 1\nshared-users: [www]\n",
        ),
        (
            "private_users",
            "name: hello\nversion: 1\nprivate-users: [db]\n",
        ),
        ("duplicate_key", "name: hello\nname: again\nversion: 1\n"),
    ];
    for (name, text) in cases {
        insta::assert_snapshot!(name, refusal(text), text);
    }
}

#[test]
fn hostile_input_does_not_panic() {
    for text in [
        "\u{0}",
        "name: !!binary aGk=\n",
        "*a",
        "{{{{",
        "name: &a [*a]\n",
        "apps: 3\n",
    ] {
        let _ = parse(text, FILE);
    }
}
