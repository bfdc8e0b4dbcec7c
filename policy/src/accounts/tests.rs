//! Pure logic over an in-memory account table; the real NSS and shadow-utils paths are covered
//! by policy/tests/accounts*.rs inside a sandbox.

use std::collections::BTreeMap;

use super::*;
use crate::snap::SystemUsername;

/// Account databases where users and groups exist independently.
#[derive(Default)]
struct Table {
    users: BTreeMap<&'static str, u32>,
    groups: BTreeMap<&'static str, u32>,
}

impl IdResolver for Table {
    fn uid(&self, user: &str) -> Result<u32, ResolveError> {
        self.users
            .get(user)
            .copied()
            .ok_or_else(|| ResolveError::NoSuchUser(user.into()))
    }
    fn gid(&self, group: &str) -> Result<u32, ResolveError> {
        self.groups
            .get(group)
            .copied()
            .ok_or_else(|| ResolveError::NoSuchGroup(group.into()))
    }
}

fn table(users: &[(&'static str, u32)], groups: &[(&'static str, u32)]) -> Table {
    Table {
        users: users.iter().copied().collect(),
        groups: groups.iter().copied().collect(),
    }
}

fn daemon() -> Vec<String> {
    vec!["daemon".to_owned()]
}

#[test]
fn system_users_resolve_to_the_system_ids() {
    for id in [1, 2] {
        let ids = table(&[("daemon", id)], &[("daemon", id)]);
        let accounts = check_system_users("svc", &daemon(), &ids).unwrap();
        assert_eq!(
            accounts,
            [Account {
                name: "daemon".into(),
                uid: id,
                gid: id
            }]
        );
    }
}

#[test]
fn system_users_refusals_say_what_is_missing() {
    let cases = [
        ("missing_both", table(&[], &[])),
        ("missing_user", table(&[], &[("daemon", 1)])),
        ("missing_group", table(&[("daemon", 1)], &[])),
    ];
    for (name, ids) in cases {
        let err = check_system_users("svc", &daemon(), &ids).unwrap_err();
        insta::assert_snapshot!(name, err);
    }
}

#[test]
fn accounts_resolver_knows_root_and_its_accounts_only() {
    let accounts = Accounts::new(vec![Account {
        name: "daemon".into(),
        uid: 2,
        gid: 3,
    }]);
    assert_eq!(accounts.uid("root").unwrap(), 0);
    assert_eq!(accounts.gid("root").unwrap(), 0);
    assert_eq!(accounts.uid("daemon").unwrap(), 2);
    assert_eq!(accounts.gid("daemon").unwrap(), 3);
    assert!(accounts.uid("nobody").unwrap_err().is_not_found());
    assert!(accounts.gid("nobody").unwrap_err().is_not_found());
}

fn usernames(names: &[(&str, u32)]) -> Vec<SystemUsername> {
    names
        .iter()
        .map(|(name, id)| SystemUsername {
            name: (*name).into(),
            id: *id,
        })
        .collect()
}

#[test]
fn plan_puts_the_range_user_first_and_once() {
    let wanted = usernames(&[("snap_daemon", 584788), ("_daemon_", 584792)]);
    let plan = plan_system_usernames(&wanted, &Table::default()).unwrap();
    assert_eq!(
        plan.to_create().collect::<Vec<_>>(),
        ["snapd-range-524288-root", "snap_daemon", "_daemon_"]
    );
    assert_eq!(
        plan.accounts()[1],
        Account {
            name: "_daemon_".into(),
            uid: 584792,
            gid: 584792
        }
    );
}

#[test]
fn plan_is_idempotent() {
    let ids = table(
        &[("snapd-range-524288-root", 524288), ("_daemon_", 584792)],
        &[("snapd-range-524288-root", 524288), ("_daemon_", 584792)],
    );
    let plan = plan_system_usernames(&usernames(&[("_daemon_", 584792)]), &ids).unwrap();
    assert_eq!(plan.to_create().count(), 0);
}

#[test]
fn plan_refusals() {
    let wanted = usernames(&[("_daemon_", 584792)]);
    let range = ("snapd-range-524288-root", 524288);
    let cases = [
        (
            "half_group_only",
            table(&[range], &[range, ("_daemon_", 584792)]),
        ),
        (
            "half_user_only",
            table(&[range, ("_daemon_", 584792)], &[range]),
        ),
        (
            "unexpected_uid",
            table(&[range, ("_daemon_", 1000)], &[range, ("_daemon_", 584792)]),
        ),
        (
            "unexpected_gid",
            table(&[range, ("_daemon_", 584792)], &[range, ("_daemon_", 7)]),
        ),
        (
            "unexpected_range",
            table(
                &[("snapd-range-524288-root", 5)],
                &[("snapd-range-524288-root", 5)],
            ),
        ),
    ];
    for (name, ids) in cases {
        insta::assert_snapshot!(name, plan_system_usernames(&wanted, &ids).unwrap_err());
    }
}
