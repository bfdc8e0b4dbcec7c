//! Two `snapcell install` processes at once serialise on the store lock.

mod install_support;

use install_support::{Env, succeeded};

#[test]
fn two_installs_of_one_snap_at_once_get_two_revisions() {
    let env = Env::new();
    let dir = env.snap(
        "svc",
        "name: svc\nversion: 1\napps:\n  svc:\n    command: bin/hello\n",
    );
    let args = ["install", dir.to_str().unwrap()];
    let first = env.spawn_snapcell(&args);
    let second = env.spawn_snapcell(&args);
    for child in [first, second] {
        assert_eq!(
            succeeded(child.wait_with_output().unwrap(), &args),
            "svc 1 installed\n"
        );
    }
    assert!(env.ok(&["info", "svc"]).contains("\nrevision: x2\n"));
    assert_eq!(env.sh("ls /snap/svc"), "current\nx2\n");
    assert_eq!(env.sh("readlink /snap/svc/current"), "x2\n");
}

#[test]
fn two_snaps_creating_the_same_users_at_once() {
    let env = Env::new();
    let yaml = |name: &str| {
        format!(
            "name: {name}\nversion: 1\napps:\n  {name}:\n    command: bin/hello\n\
             system-usernames:\n  _daemon_: shared\n  snap_daemon: shared\n"
        )
    };
    let dirs = [env.snap("one", &yaml("one")), env.snap("two", &yaml("two"))];
    let children: Vec<_> = dirs
        .iter()
        .map(|dir| env.spawn_snapcell(&["install", dir.to_str().unwrap()]))
        .collect();
    for child in children {
        succeeded(child.wait_with_output().unwrap(), &["install"]);
    }
    let passwd = env.read_text("/etc/passwd");
    for user in ["snapd-range-524288-root:", "_daemon_:", "snap_daemon:"] {
        assert_eq!(passwd.matches(user).count(), 1, "{user} once: {passwd}");
    }
    assert_eq!(env.ok(&["list"]).lines().count(), 3);
}
