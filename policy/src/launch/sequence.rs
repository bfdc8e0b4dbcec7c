//! The order of operations, decided here and nowhere else, over any [`Syscalls`]:
//!
//! 1. privileged setup: a new mount namespace with the snap's private `/tmp` (with
//!    CAP_SYS_ADMIN), its system data directories, and, where the capability decision drops the
//!    id capabilities, their removal from the bounding set (that needs CAP_SETPCAP, which a
//!    dropping caller is about to lose);
//! 2. a permanent drop to the caller's real uid/gid when the process is setuid/setgid (no
//!    setgroups: the caller keeps their supplementary groups), then a check that root cannot be
//!    regained;
//! 3. as the caller: back to the caller's working directory (entering the namespace left `/`),
//!    and the caller's own data directory;
//! 4. AppArmor's change-on-exec where AppArmor enforces;
//! 5. no_new_privs when CAP_SYS_ADMIN is missing (or the bounding set could not be trimmed);
//! 6. the capability decision where AppArmor does not enforce: without an opt-in, CAP_SETUID,
//!    CAP_SETGID and CAP_CHOWN go from every set;
//! 7. the seccomp filter; 8. exec.
//!
//! Every identity change happens before the filter, which no longer allows arbitrary set*id
//! calls; nothing runs without the filter.

use std::ffi::OsString;
use std::path::PathBuf;

use caps::Capability;

use super::kernel::{KernelError, Syscalls};
use crate::seccomp::Program;

/// The capabilities an app without an opt-in must not hold where AppArmor does not deny them.
pub const ID_CAPABILITIES: [Capability; 3] = [
    Capability::CAP_SETUID,
    Capability::CAP_SETGID,
    Capability::CAP_CHOWN,
];

/// Everything the sequence needs, resolved and checked before any privileged step.
#[derive(Debug)]
pub struct Confinement {
    pub snap: String,
    /// `snap.NAME.APP`: the AppArmor label
    pub security_tag: String,
    pub opted_in: bool,
    pub program: Program,
    /// SNAP_DATA and SNAP_COMMON: created as root during privileged setup
    pub system_dirs: Vec<PathBuf>,
    /// SNAP_USER_DATA: created as the caller after the drop
    pub user_data: PathBuf,
    /// The caller's working directory, restored after the drop
    pub working_directory: PathBuf,
    pub argv: Vec<OsString>,
    pub environment: Vec<(OsString, OsString)>,
}

/// Why the sequence stopped before exec.
#[derive(Debug, thiserror::Error)]
pub enum SequenceError {
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(
        "the launcher dropped to uid {uid} but could set its ids back to root; refusing to run the app"
    )]
    RootRegainable { uid: u32 },
}

/// Runs the sequence; on success the process has been replaced, so this only returns an error.
pub fn launch(kernel: &mut dyn Syscalls, confinement: &Confinement) -> SequenceError {
    match confine(kernel, confinement) {
        Ok(()) => kernel
            .exec(&confinement.argv, &confinement.environment)
            .into(),
        Err(error) => error,
    }
}

fn confine(kernel: &mut dyn Syscalls, confinement: &Confinement) -> Result<(), SequenceError> {
    let ids = kernel.ids();
    let apparmor = kernel.apparmor_enforces();
    let drop_id_capabilities = !apparmor && !confinement.opted_in;

    let own_namespace = ids.euid == 0 && kernel.has_capability(Capability::CAP_SYS_ADMIN);
    if own_namespace {
        kernel.enter_private_tmp(&confinement.snap)?;
    }
    for dir in &confinement.system_dirs {
        kernel.ensure_dir(dir)?;
    }
    let bounding_trimmed = drop_id_capabilities && kernel.has_capability(Capability::CAP_SETPCAP);
    if bounding_trimmed {
        kernel.drop_from_bounding_set(&ID_CAPABILITIES)?;
    }

    if ids.is_elevated() {
        kernel.set_ids(ids.ruid, ids.rgid)?;
        if ids.ruid != 0 && kernel.root_regainable() {
            return Err(SequenceError::RootRegainable { uid: ids.ruid });
        }
    }
    if own_namespace {
        kernel.restore_working_directory(&confinement.working_directory);
    }
    kernel.ensure_dir(&confinement.user_data)?;

    if apparmor {
        kernel.change_profile_on_exec(&confinement.security_tag)?;
    }
    let bounding_kept = drop_id_capabilities && !bounding_trimmed;
    if bounding_kept || !kernel.has_capability(Capability::CAP_SYS_ADMIN) {
        kernel.set_no_new_privs()?;
    }
    if drop_id_capabilities {
        kernel.drop_capabilities(&ID_CAPABILITIES)?;
    }
    kernel.load_filter(&confinement.program)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::launch::kernel::Ids;
    use crate::launch::recording::{Op, Recorder, Scenario};

    const ALICE: u32 = 1000;

    fn confinement(opted_in: bool) -> Confinement {
        // One `ret ALLOW` instruction: the double never loads it.
        let allow = [0x06, 0, 0, 0, 0, 0, 0xff, 0x7f];
        Confinement {
            snap: "db".into(),
            security_tag: "snap.db.db".into(),
            opted_in,
            program: Program::from_bytes(&allow).expect("a one-instruction program"),
            system_dirs: vec!["/var/snap/db/x1".into(), "/var/snap/db/common".into()],
            user_data: "/home/alice/snap/db/x1".into(),
            working_directory: "/home/alice".into(),
            argv: vec!["/snap/db/x1/bin/db".into()],
            environment: Vec::new(),
        }
    }

    fn all_capabilities() -> HashSet<Capability> {
        caps::all().into_iter().collect()
    }

    /// Docker's default set: no CAP_SYS_ADMIN.
    fn container_capabilities() -> HashSet<Capability> {
        let mut capabilities = all_capabilities();
        capabilities.remove(&Capability::CAP_SYS_ADMIN);
        capabilities
    }

    fn root() -> Scenario {
        Scenario {
            ids: Ids::root(),
            capabilities: all_capabilities(),
            apparmor: false,
            root_regainable: false,
            failing: None,
        }
    }

    /// A non-root caller of a setuid-root snapcell.
    fn setuid_by_alice() -> Scenario {
        Scenario {
            ids: Ids {
                ruid: ALICE,
                euid: 0,
                suid: 0,
                rgid: ALICE,
                egid: ALICE,
                sgid: ALICE,
            },
            ..root()
        }
    }

    fn run(scenario: Scenario, opted_in: bool) -> (Vec<Op>, SequenceError) {
        let mut recorder = Recorder::new(scenario);
        let error = launch(&mut recorder, &confinement(opted_in));
        (recorder.ops, error)
    }

    use Op::*;

    fn setup() -> Vec<Op> {
        vec![
            PrivateTmp("db".into()),
            EnsureDir("/var/snap/db/x1".into()),
            EnsureDir("/var/snap/db/common".into()),
        ]
    }

    fn user_dir() -> Op {
        EnsureDir("/home/alice/snap/db/x1".into())
    }

    fn then(mut first: Vec<Op>, rest: impl IntoIterator<Item = Op>) -> Vec<Op> {
        first.extend(rest);
        first
    }

    #[test]
    fn every_path_runs_its_steps_in_order() {
        let cases: Vec<(&str, Scenario, bool, Vec<Op>)> = vec![
            (
                "root caller, opt-in: stays root, the app drops itself",
                root(),
                true,
                then(
                    setup(),
                    [RestoreWorkingDirectory, user_dir(), LoadFilter, Exec],
                ),
            ),
            (
                "root caller, no opt-in: the id capabilities go",
                root(),
                false,
                then(
                    setup(),
                    [
                        DropBounding,
                        RestoreWorkingDirectory,
                        user_dir(),
                        DropCapabilities,
                        LoadFilter,
                        Exec,
                    ],
                ),
            ),
            (
                "setuid-root run by alice, opt-in: drop, check, then no_new_privs",
                setuid_by_alice(),
                true,
                then(
                    setup(),
                    [
                        SetIds(ALICE, ALICE),
                        CheckRootRegainable,
                        RestoreWorkingDirectory,
                        user_dir(),
                        NoNewPrivs,
                        LoadFilter,
                        Exec,
                    ],
                ),
            ),
            (
                "setuid-root run by alice, no opt-in: bounding set trimmed while still root",
                setuid_by_alice(),
                false,
                then(
                    setup(),
                    [
                        DropBounding,
                        SetIds(ALICE, ALICE),
                        CheckRootRegainable,
                        RestoreWorkingDirectory,
                        user_dir(),
                        NoNewPrivs,
                        DropCapabilities,
                        LoadFilter,
                        Exec,
                    ],
                ),
            ),
            (
                "root in a container without CAP_SYS_ADMIN: no private /tmp, no_new_privs",
                Scenario {
                    capabilities: container_capabilities(),
                    ..root()
                },
                true,
                vec![
                    EnsureDir("/var/snap/db/x1".into()),
                    EnsureDir("/var/snap/db/common".into()),
                    user_dir(),
                    NoNewPrivs,
                    LoadFilter,
                    Exec,
                ],
            ),
            (
                "plain non-root caller: nothing privileged, no_new_privs",
                Scenario {
                    ids: Ids::of(ALICE, ALICE),
                    capabilities: HashSet::new(),
                    ..root()
                },
                false,
                vec![
                    EnsureDir("/var/snap/db/x1".into()),
                    EnsureDir("/var/snap/db/common".into()),
                    user_dir(),
                    NoNewPrivs,
                    DropCapabilities,
                    LoadFilter,
                    Exec,
                ],
            ),
            (
                "AppArmor enforces, no opt-in: the profile denies, so no capability drop",
                Scenario {
                    apparmor: true,
                    ..root()
                },
                false,
                then(
                    setup(),
                    [
                        RestoreWorkingDirectory,
                        user_dir(),
                        ChangeProfileOnExec("snap.db.db".into()),
                        LoadFilter,
                        Exec,
                    ],
                ),
            ),
            (
                "AppArmor enforces, setuid run by alice",
                Scenario {
                    apparmor: true,
                    ..setuid_by_alice()
                },
                true,
                then(
                    setup(),
                    [
                        SetIds(ALICE, ALICE),
                        CheckRootRegainable,
                        RestoreWorkingDirectory,
                        user_dir(),
                        ChangeProfileOnExec("snap.db.db".into()),
                        NoNewPrivs,
                        LoadFilter,
                        Exec,
                    ],
                ),
            ),
        ];
        for (name, scenario, opted_in, expected) in cases {
            let (ops, _) = run(scenario, opted_in);
            assert_eq!(ops, expected, "{name}");
        }
    }

    #[test]
    fn a_setgid_only_launcher_also_drops() {
        let scenario = Scenario {
            ids: Ids {
                egid: 0,
                sgid: 0,
                ..Ids::of(ALICE, ALICE)
            },
            ..root()
        };
        let (ops, _) = run(scenario, true);
        assert!(ops.contains(&SetIds(ALICE, ALICE)), "{ops:?}");
    }

    #[test]
    fn a_regainable_root_stops_before_the_filter() {
        let scenario = Scenario {
            root_regainable: true,
            ..setuid_by_alice()
        };
        let (ops, error) = run(scenario, true);
        assert_eq!(ops.last(), Some(&CheckRootRegainable), "{ops:?}");
        assert_eq!(
            error.to_string(),
            "the launcher dropped to uid 1000 but could set its ids back to root; refusing to run the app"
        );
    }

    #[test]
    fn a_failing_step_stops_everything_after_it() {
        for failing in [
            PrivateTmp("db".into()),
            DropBounding,
            SetIds(ALICE, ALICE),
            user_dir(),
            NoNewPrivs,
            DropCapabilities,
            LoadFilter,
        ] {
            let scenario = Scenario {
                failing: Some(failing.clone()),
                ..setuid_by_alice()
            };
            let (ops, error) = run(scenario, false);
            assert_eq!(ops.last(), Some(&failing), "{ops:?}");
            assert!(!ops.contains(&Exec), "{ops:?}");
            assert!(matches!(error, SequenceError::Kernel(_)), "{error}");
        }
    }
}
