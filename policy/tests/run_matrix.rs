//! The allowed/denied matrix of prior-art-facts ("What the policy allows"), proven against the
//! kernel: a snap with an opt-in runs the probe through `snapcell run` as root, for each
//! spelling of the opt-in and each way a call reaches the kernel (libc, raw x86-64 with -1
//! sign-extended and as 0xFFFFFFFF, i386 `int $0x80`). Every argument tuple over {root, the
//! opt-in user, a third user "test", -1} is tried for every set*id and chown call: the listed
//! combinations must print the ids the kernel gives them, every other one (any mention of the
//! third user included) must fail with EPERM.

mod run_support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use run_support::{OptIn, SnapSource, add_user, id_of, install, run, shared_dir};
use testkit::Sandbox;

/// An argument position's value, symbolically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Root,
    /// The opt-in user for uid arguments, its group for gid arguments.
    OptIn,
    /// "test", a user (and group) the snap never opted in to.
    Third,
    /// -1: leave unchanged.
    Keep,
}

use Who::{Keep, OptIn as U, Root, Third};

const EVERYONE: [Who; 4] = [Root, U, Third, Keep];

/// The set*id calls and the argument tuples the opt-in policy allows (uid calls mirror gid).
const ID_CALLS: [(&str, &[&[Who]]); 6] = [
    ("setuid", SET_ID),
    ("setgid", SET_ID),
    ("setreuid", SET_RE_ID),
    ("setregid", SET_RE_ID),
    ("setresuid", SET_RES_ID),
    ("setresgid", SET_RES_ID),
];
const SET_ID: &[&[Who]] = &[&[Root], &[U]];
const SET_RE_ID: &[&[Who]] = &[
    &[Root, Root],
    &[Keep, Root],
    &[Root, Keep],
    &[U, U],
    &[Keep, U],
    &[U, Keep],
    &[Root, U],
    &[U, Root],
];
const SET_RES_ID: &[&[Who]] = &[
    &[Root, Root, Root],
    &[Keep, Root, Keep],
    &[Root, Root, Keep],
    &[U, U, U],
    &[Keep, U, Keep],
    &[U, U, Keep],
    &[U, U, Root],
    &[U, Root, Root],
];

const CHOWN_CALLS: [&str; 4] = ["chown", "lchown", "fchown", "fchownat"];
/// (owner, group): the root-only rules plus the opt-in user's.
const CHOWN_ALLOWED: &[&[Who]] = &[
    &[Root, Root],
    &[Root, Keep],
    &[Keep, Root],
    &[U, U],
    &[U, Keep],
    &[Keep, U],
    &[U, Root],
    &[Root, U],
];

/// How the probe makes its call.
#[derive(Debug, Clone, Copy)]
enum Via {
    Libc,
    RawSignExtended,
    RawU32,
    I386,
}

impl Via {
    fn flags(self) -> &'static [&'static str] {
        match self {
            Via::Libc => &["--via", "libc"],
            Via::RawSignExtended => &["--via", "raw", "--minus-one", "sext"],
            Via::RawU32 => &["--via", "raw", "--minus-one", "u32"],
            Via::I386 => &["--via", "i386"],
        }
    }
}

/// Real, effective and saved ids of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Triple([u32; 3]);

/// The ids behind the symbols, as resolved in the sandbox.
struct World {
    opt_in_name: &'static str,
    opt_in_uid: u32,
    opt_in_gid: u32,
    third_uid: u32,
    third_gid: u32,
    groups: String,
}

impl World {
    fn name(&self, who: Who) -> &'static str {
        match who {
            Root => "root",
            U => self.opt_in_name,
            Third => "test",
            Keep => "-1",
        }
    }

    fn id(&self, who: Who, uid: bool) -> Option<u32> {
        match (who, uid) {
            (Root, _) => Some(0),
            (U, true) => Some(self.opt_in_uid),
            (U, false) => Some(self.opt_in_gid),
            (Third, true) => Some(self.third_uid),
            (Third, false) => Some(self.third_gid),
            (Keep, _) => None,
        }
    }

    fn after(&self, uids: Triple, gids: Triple, groups: &str) -> String {
        let [ruid, euid, suid] = uids.0;
        let [rgid, egid, sgid] = gids.0;
        format!(
            "After: ruid={ruid}, euid={euid}, suid={suid}, rgid={rgid}, egid={egid}, sgid={sgid}, groups={groups}\n"
        )
    }
}

/// What the kernel does to a root process's ids (set*id(2)) for an allowed setXid (one
/// argument), setreXid (two) or setresXid (three): the expected result, from all-root.
fn apply(args: &[Option<u32>]) -> Triple {
    let [r, e, s] = [0u32; 3];
    let or = |value: Option<u32>, old: u32| value.unwrap_or(old);
    match args {
        [Some(id)] => Triple([*id; 3]),
        [new_r, new_e] => {
            let effective = or(*new_e, e);
            // setreuid(2): the saved id follows the effective one when the real id is set or
            // the effective one is set to something other than the old real id.
            let saved = if new_r.is_some() || new_e.is_some_and(|id| id != r) {
                effective
            } else {
                s
            };
            Triple([or(*new_r, r), effective, saved])
        }
        [new_r, new_e, new_s] => Triple([or(*new_r, r), or(*new_e, e), or(*new_s, s)]),
        _ => panic!("no model for {args:?}"),
    }
}

fn tuples(arity: usize) -> Vec<Vec<Who>> {
    (0..arity).fold(vec![Vec::new()], |prefixes, _| {
        prefixes
            .iter()
            .flat_map(|prefix| {
                EVERYONE.iter().map(move |who| {
                    let mut tuple = prefix.clone();
                    tuple.push(*who);
                    tuple
                })
            })
            .collect()
    })
}

/// One probe run and what it must print.
struct Case {
    args: Vec<String>,
    /// `Some(After line)` when allowed, `None` when it must fail with EPERM.
    expected: Option<String>,
    /// For chown calls: the file's owner and group afterwards.
    owner_after: Option<(u32, u32)>,
}

fn cases(world: &World, file: &Path) -> Vec<Case> {
    let root = Triple([0; 3]);
    let mut cases = Vec::new();
    for (call, allowed) in ID_CALLS {
        let uid_call = call.ends_with("uid");
        for tuple in tuples(allowed[0].len()) {
            let ids: Vec<Option<u32>> = tuple.iter().map(|w| world.id(*w, uid_call)).collect();
            let expected = allowed.contains(&tuple.as_slice()).then(|| {
                let changed = apply(&ids);
                let (uids, gids) = if uid_call {
                    (changed, root)
                } else {
                    (root, changed)
                };
                world.after(uids, gids, &world.groups)
            });
            let mut args = vec![call.to_owned()];
            args.extend(tuple.iter().map(|w| world.name(*w).to_owned()));
            cases.push(Case {
                args,
                expected,
                owner_after: None,
            });
        }
    }
    for call in CHOWN_CALLS {
        for tuple in tuples(2) {
            let allowed = CHOWN_ALLOWED.contains(&tuple.as_slice());
            let owner = world.id(tuple[0], true).unwrap_or(0);
            let group = world.id(tuple[1], false).unwrap_or(0);
            let mut args = vec![call.to_owned(), file.display().to_string()];
            args.extend(tuple.iter().map(|w| world.name(*w).to_owned()));
            cases.push(Case {
                args,
                expected: allowed.then(|| world.after(root, root, &world.groups)),
                owner_after: Some(if allowed { (owner, group) } else { (0, 0) }),
            });
        }
    }
    let opt_in = world.opt_in_name;
    let drop_to = |uid, gid| world.after(Triple([uid; 3]), Triple([gid; 3]), "");
    let extra: [(Vec<&str>, Option<String>); 8] = [
        (vec!["setgroups", "0"], Some(world.after(root, root, ""))),
        (vec!["setgroups", opt_in], None),
        (vec!["setgroups", "test"], None),
        (vec!["setgroups", "root"], None),
        (
            vec!["drop", opt_in, opt_in],
            Some(drop_to(world.opt_in_uid, world.opt_in_gid)),
        ),
        (vec!["drop", "root", "root"], Some(drop_to(0, 0))),
        (vec!["drop", "test", "test"], None),
        (vec!["drop", opt_in, "test"], None),
    ];
    for (args, expected) in extra {
        cases.push(Case {
            args: args.into_iter().map(str::to_owned).collect(),
            expected,
            owner_after: None,
        });
    }
    cases
}

fn matrix(opt_in: OptIn, via: Via) {
    let sandbox = Sandbox::new().expect("creating a sandbox");
    add_user(&sandbox, "test");
    let source = SnapSource::probe("matrix", opt_in);
    install(&sandbox, &source);
    let user = opt_in.user();
    let groups: Vec<String> = nix::unistd::getgroups()
        .expect("getgroups")
        .iter()
        .map(|gid| gid.to_string())
        .collect();
    let world = World {
        opt_in_name: user,
        opt_in_uid: id_of(&sandbox, "passwd", user),
        opt_in_gid: id_of(&sandbox, "group", user),
        third_uid: id_of(&sandbox, "passwd", "test"),
        third_gid: id_of(&sandbox, "group", "test"),
        groups: groups.join(","),
    };
    let files = shared_dir();
    let file = files.path().join("target");
    std::fs::write(&file, b"").expect("creating the chown target");

    let cases = cases(&world, &file);
    let mut mismatches = Vec::new();
    for case in &cases {
        std::os::unix::fs::chown(&file, Some(0), Some(0)).expect("resetting the owner");
        let mut args: Vec<&str> = via.flags().to_vec();
        args.extend(case.args.iter().map(String::as_str));
        let output = run(&sandbox, "matrix", &args);
        let got = (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        );
        let want = match &case.expected {
            Some(after) => (Some(0), after.clone(), String::new()),
            None => (Some(1), String::new(), run_support::EPERM_TEXT.to_owned()),
        };
        if got != want {
            mismatches.push(format!(
                "{}: got {got:?}, want {want:?}",
                case.args.join(" ")
            ));
        }
        if let Some(owner) = case.owner_after {
            let metadata = std::fs::metadata(&file).expect("stat");
            if (metadata.uid(), metadata.gid()) != owner {
                mismatches.push(format!(
                    "{}: the file is {}:{}, want {owner:?}",
                    case.args.join(" "),
                    metadata.uid(),
                    metadata.gid()
                ));
            }
        }
    }
    let allowed = cases.iter().filter(|case| case.expected.is_some()).count();
    assert!(
        mismatches.is_empty(),
        "{} of {} cases ({allowed} allowed) differ via {via:?} for {opt_in:?}:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}

#[test]
fn system_users_through_libc() {
    matrix(OptIn::SystemUsers, Via::Libc);
}

#[test]
fn system_users_raw_with_minus_one_sign_extended() {
    matrix(OptIn::SystemUsers, Via::RawSignExtended);
}

#[test]
fn system_users_raw_with_minus_one_as_u32() {
    matrix(OptIn::SystemUsers, Via::RawU32);
}

#[test]
fn system_users_through_i386() {
    matrix(OptIn::SystemUsers, Via::I386);
}

#[test]
fn system_usernames_through_libc() {
    matrix(OptIn::SystemUsernames, Via::Libc);
}

#[test]
fn system_usernames_raw_with_minus_one_sign_extended() {
    matrix(OptIn::SystemUsernames, Via::RawSignExtended);
}

#[test]
fn system_usernames_raw_with_minus_one_as_u32() {
    matrix(OptIn::SystemUsernames, Via::RawU32);
}

#[test]
fn system_usernames_through_i386() {
    matrix(OptIn::SystemUsernames, Via::I386);
}
