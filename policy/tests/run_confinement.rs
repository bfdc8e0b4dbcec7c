//! `snapcell run` against the kernel, as root in a sandbox: the capability decision for a snap
//! without an opt-in, x32 refusal, the snap environment and private /tmp, exit status, signals,
//! signal dispositions and the caller's descriptors passing through (and no launcher
//! descriptor), a tampered profile or a missing /proc stopping the launch.

mod run_support;

use std::os::unix::process::ExitStatusExt;

use run_support::{OptIn, SnapSource, assert_refused, install, output, run, shared_dir, stdout};
use testkit::Sandbox;

/// A snap with the probe and a shell (`NAME.sh`), installed in a fresh sandbox.
fn installed(name: &str, opt_in: OptIn) -> Sandbox {
    let sandbox = Sandbox::new().expect("creating a sandbox");
    install_with_shell(&sandbox, name, opt_in);
    sandbox
}

fn install_with_shell(sandbox: &Sandbox, name: &str, opt_in: OptIn) {
    let source = SnapSource::new(name, opt_in, &[(name, "bin/probe"), ("sh", "bin/sh")])
        .with_file(run_support::probe(), "bin/probe")
        .with_file(std::path::Path::new("/bin/dash"), "bin/sh");
    install(sandbox, &source);
}

fn shell(sandbox: &Sandbox, snap: &str, script: &str) -> std::process::Output {
    run(sandbox, &format!("{snap}.sh"), &["-c", script])
}

/// The mask of one `/proc/PID/status` line as `grep FIELD` prints it (`CapEff:\t0000...`).
fn status_mask(line: &str) -> u64 {
    let hex = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("not a status mask line: {line:?}"));
    u64::from_str_radix(hex, 16).expect("a hex mask")
}

/// The effective capability mask of the app, from /proc/self/status.
fn effective_capabilities(sandbox: &Sandbox, snap: &str) -> u64 {
    let out = shell(sandbox, snap, "grep CapEff /proc/self/status");
    status_mask(&String::from_utf8_lossy(&out.stdout))
}

/// `/bin/sh -c 'SETUP exec PROGRAM'` in the sandbox: the app, or the program started in its
/// place, inherits whatever state `setup` gave the shell.
fn after_shell_setup(sandbox: &Sandbox, setup: &str, program: &str) -> std::process::Command {
    let mut caller = sandbox.command("/bin/sh");
    caller.args(["-c", &format!("{setup} exec {program}")]);
    caller
}

/// The command line `snapcell run APP_AND_ARGS`.
fn snapcell_run(app_and_args: &str) -> String {
    format!("{} run {app_and_args}", run_support::snapcell().display())
}

const ID_CAPABILITY_BITS: u64 = (1 << 0) | (1 << 6) | (1 << 7); // CHOWN, SETGID, SETUID

#[test]
fn without_an_opt_in_chown_and_setuid_to_daemon_fail_with_eperm() {
    let sandbox = installed("plain", OptIn::None);
    let files = shared_dir();
    let file = files.path().join("target");
    std::fs::write(&file, b"").expect("creating the chown target");
    let path = file.display().to_string();
    for via in ["libc", "raw", "i386"] {
        let chown = run(
            &sandbox,
            "plain",
            &["--via", via, "chown", &path, "daemon", "daemon"],
        );
        assert_refused(&chown, &format!("chown daemon:daemon via {via}"));
        let setuid = run(&sandbox, "plain", &["--via", via, "setuid", "daemon"]);
        assert_refused(&setuid, &format!("setuid daemon via {via}"));
        let drop = run(
            &sandbox,
            "plain",
            &["--via", via, "drop", "daemon", "daemon"],
        );
        assert_refused(&drop, &format!("drop to daemon via {via}"));
    }
    let metadata = std::fs::metadata(&file).expect("stat");
    use std::os::unix::fs::MetadataExt;
    assert_eq!((metadata.uid(), metadata.gid()), (0, 0));
}

#[test]
fn the_id_capabilities_go_only_without_an_opt_in() {
    let plain = installed("plain", OptIn::None);
    assert_eq!(
        effective_capabilities(&plain, "plain") & ID_CAPABILITY_BITS,
        0
    );
    let bounding = shell(&plain, "plain", "grep CapBnd /proc/self/status");
    let text = String::from_utf8_lossy(&bounding.stdout);
    let mask = u64::from_str_radix(text.split_whitespace().nth(1).expect("mask"), 16).unwrap();
    assert_eq!(mask & ID_CAPABILITY_BITS, 0, "bounding set {text}");

    let opted = installed("opted", OptIn::SystemUsers);
    assert_eq!(
        effective_capabilities(&opted, "opted") & ID_CAPABILITY_BITS,
        ID_CAPABILITY_BITS
    );
}

/// The app's seccomp mode, filter count and no_new_privs flag, from /proc/self/status.
fn confinement_status(sandbox: &Sandbox, snap: &str) -> String {
    stdout_of(shell(
        sandbox,
        snap,
        "grep -E '^(NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status",
    ))
}

#[test]
fn a_root_caller_runs_the_app_under_exactly_one_filter_without_no_new_privs() {
    let sandbox = installed("statusy", OptIn::SystemUsers);
    assert_eq!(
        confinement_status(&sandbox, "statusy")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["NoNewPrivs:", "0", "Seccomp:", "2", "Seccomp_filters:", "1"]
    );
}

#[test]
fn an_x32_system_call_is_refused_by_the_filter() {
    let sandbox = installed("xabi", OptIn::SystemUsers);
    assert_refused(
        &run(&sandbox, "xabi", &["x32"]),
        "x32 getuid under the filter",
    );
    // Without the filter this kernel (x32 ABI off) answers ENOSYS: EPERM is the filter's.
    let mut direct = std::process::Command::new(run_support::probe());
    direct.arg("x32");
    let unfiltered = output(direct);
    assert_eq!(
        String::from_utf8_lossy(&unfiltered.stderr),
        "Function not implemented\n"
    );
}

#[test]
fn the_app_gets_the_snap_environment_and_its_data_directories() {
    let sandbox = installed("envy", OptIn::None);
    let mut command = sandbox.command(run_support::snapcell());
    command
        .args(["run", "envy.sh", "-c"])
        .arg("env; test -d \"$SNAP_DATA\" && test -d \"$SNAP_COMMON\" && test -d \"$HOME\" && echo dirs-ok")
        .env("LD_LIBRARY_PATH", "/nonexistent")
        .env("SNAP_DATA", "/nonexistent")
        .env("KEEP_ME", "yes");
    let out = stdout(command);
    for line in [
        "SNAP=/snap/envy/x1",
        "SNAP_NAME=envy",
        "SNAP_INSTANCE_NAME=envy",
        "SNAP_REVISION=x1",
        "SNAP_DATA=/var/snap/envy/x1",
        "SNAP_COMMON=/var/snap/envy/common",
        "SNAP_USER_DATA=/root/snap/envy/x1",
        "HOME=/root/snap/envy/x1",
        "KEEP_ME=yes",
        "dirs-ok",
    ] {
        assert!(out.lines().any(|l| l == line), "{line} missing in:\n{out}");
    }
    assert!(
        !out.lines().any(|l| l.starts_with("LD_LIBRARY_PATH=")),
        "{out}"
    );
}

#[test]
fn the_private_tmp_is_the_snaps_and_not_the_hosts() {
    let sandbox = installed("tmpy", OptIn::None);
    let host_file = tempfile::NamedTempFile::new().expect("a file in the host's /tmp");
    let out = stdout_of(shell(&sandbox, "tmpy", "ls -A /tmp; touch /tmp/from-app"));
    assert_eq!(
        out, "",
        "the app saw the host's /tmp ({host_file:?} is there)"
    );
    let mut check = sandbox.command("test");
    check.args(["-e", "/tmp/snap-private-tmp/snap.tmpy/tmp/from-app"]);
    assert!(
        output(check).status.success(),
        "the file is not in the snap's /tmp"
    );
    assert!(!std::path::Path::new("/tmp/from-app").exists());
    let again = stdout_of(shell(&sandbox, "tmpy", "ls -A /tmp"));
    assert_eq!(again, "from-app\n", "the snap's /tmp is kept between runs");
}

/// A shell loop that waits up to 10 s for `path` to exist, then fails if it does not.
fn wait_for(path: &str) -> String {
    format!(
        "i=0; while [ ! -e {path} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; \
         test -e {path}"
    )
}

#[test]
fn runs_of_one_snap_share_its_tmp_and_other_snaps_do_not() {
    let sandbox = installed("one", OptIn::None);
    install_with_shell(&sandbox, "other", OptIn::None);
    // Two runs at once, each in a namespace of its own: each waits for the other's file.
    let mut first = sandbox.command(run_support::snapcell());
    first.args(["run", "one.sh", "-ec"]).arg(format!(
        "touch /tmp/first; {}; echo first saw second",
        wait_for("/tmp/second")
    ));
    let first = first
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starting the first run");
    let second = stdout_of(shell(
        &sandbox,
        "one",
        &format!(
            "{}; touch /tmp/second; echo second saw first",
            wait_for("/tmp/first")
        ),
    ));
    assert_eq!(second, "second saw first\n");
    let first = first.wait_with_output().expect("the first run");
    assert_eq!(stdout_of(first), "first saw second\n");

    assert_eq!(
        stdout_of(shell(&sandbox, "other", "ls -A /tmp; touch /tmp/others")),
        "",
        "another snap sees the first snap's /tmp"
    );
    assert_eq!(
        stdout_of(shell(&sandbox, "one", "ls -A /tmp")),
        "first\nsecond\n"
    );
}

#[test]
fn host_mounts_reach_the_snap_and_its_own_never_leave() {
    let sandbox = installed("mounty", OptIn::None);
    // Shared within the sandbox's namespace only, so that propagation can happen at all.
    let mut share = sandbox.command("mount");
    share.args(["--make-rshared", "/"]);
    stdout(share);
    let dir = shared_dir();
    let (ready, late) = (dir.path().join("ready"), dir.path().join("late"));
    std::fs::create_dir(&late).expect("mkdir late");
    let marker = late.join("marker");
    let mut app = sandbox.command(run_support::snapcell());
    app.args(["run", "mounty.sh", "-ec"]).arg(format!(
        "touch /tmp/from-app {ready}; {}; cat {marker}",
        wait_for(&marker.display().to_string()),
        ready = ready.display(),
        marker = marker.display()
    ));
    let app = app
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starting the app");
    let mut started = sandbox.command("sh");
    started.args(["-ec", &wait_for(&ready.display().to_string())]);
    stdout(started);
    let mut host = sandbox.command("sh");
    host.args([
        "-ec",
        &format!(
            "test ! -e /tmp/from-app; mount -t tmpfs late {late}; echo arrived > {marker}",
            late = late.display(),
            marker = marker.display()
        ),
    ]);
    let host = output(host);
    let app = app.wait_with_output().expect("the app");
    assert!(
        host.status.success(),
        "the snap's /tmp reached the sandbox's namespace, or mounting failed: {host:?}"
    );
    assert_eq!(
        stdout_of(app),
        "arrived\n",
        "a mount made after the app started did not reach it"
    );
}

#[test]
fn the_app_starts_in_the_callers_working_directory() {
    let sandbox = installed("cwd", OptIn::None);
    let pwd = snapcell_run("cwd.sh -c pwd");
    assert_eq!(
        stdout(after_shell_setup(&sandbox, "cd /etc &&", &pwd)),
        "/etc\n"
    );
    // The host's /tmp does not exist in the snap's namespace: the app starts in `/`.
    let host_tmp = tempfile::tempdir().expect("a directory in the host's /tmp");
    let from_tmp = format!("cd {} &&", host_tmp.path().display());
    assert_eq!(stdout(after_shell_setup(&sandbox, &from_tmp, &pwd)), "/\n");
    // The caller in the host's /tmp (not empty: the directory above is there): the app is in
    // the snap's /tmp, not in the host's one beneath it.
    let in_tmp = after_shell_setup(
        &sandbox,
        "cd /tmp &&",
        &snapcell_run("cwd.sh -c 'pwd; ls -A'"),
    );
    assert_eq!(stdout(in_tmp), "/tmp\n");
}

fn stdout_of(out: std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn exit_status_and_signals_pass_through() {
    let sandbox = installed("codes", OptIn::None);
    assert_eq!(shell(&sandbox, "codes", "exit 7").status.code(), Some(7));
    let killed = shell(&sandbox, "codes", "kill -TERM $$");
    assert_eq!(killed.status.signal(), Some(libc_sigterm()), "{killed:?}");
    let args = run(
        &sandbox,
        "codes.sh",
        &["-c", "echo \"$0|$1\"", "zero", "one two"],
    );
    assert_eq!(stdout_of(args), "zero|one two\n");
    // Everything after the app is the app's, options and `--` included.
    let options = run(
        &sandbox,
        "codes.sh",
        &["-c", "echo \"$*\"", "zero", "--", "--help", "-h"],
    );
    assert_eq!(stdout_of(options), "-- --help -h\n");
}

/// The app's ignored-signal mask, with `snapcell` started by a shell that ran `setup` first.
fn ignored_signals(sandbox: &Sandbox, setup: &str) -> u64 {
    let launch = snapcell_run("dispositions.sh -c 'grep SigIgn /proc/self/status'");
    status_mask(&stdout(after_shell_setup(sandbox, setup, &launch)))
}

#[test]
fn the_app_inherits_the_callers_signal_dispositions() {
    let sandbox = installed("dispositions", OptIn::None);
    let sigpipe = 1u64 << (nix::sys::signal::Signal::SIGPIPE as i32 - 1);
    let sighup = 1u64 << (nix::sys::signal::Signal::SIGHUP as i32 - 1);
    // SIGPIPE at its default stays at its default: a launcher runtime that ignored it would
    // hand the ignored signal on through exec, and `app | head` would never end the app.
    assert_eq!(ignored_signals(&sandbox, "") & (sigpipe | sighup), 0);
    // What the caller ignores (as nohup, or systemd's IgnoreSIGPIPE, do) stays ignored.
    assert_eq!(
        ignored_signals(&sandbox, "trap '' PIPE HUP;") & (sigpipe | sighup),
        sigpipe | sighup
    );
}

/// The descriptors `/bin/sh -c 'exec 7</dev/null; exec LAUNCH'` leaves open in what it starts.
fn open_descriptors(sandbox: &Sandbox, launch: &str) -> Vec<String> {
    let caller = after_shell_setup(sandbox, "exec 7</dev/null;", launch);
    let mut descriptors: Vec<String> = stdout(caller)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    descriptors.sort();
    descriptors
}

#[test]
fn the_app_gets_the_callers_descriptors_and_none_of_the_launchers() {
    let sandbox = installed("descriptors", OptIn::None);
    let list = "-c 'ls /proc/self/fd'";
    let direct = open_descriptors(&sandbox, &format!("/bin/sh {list}"));
    let launched = open_descriptors(&sandbox, &snapcell_run(&format!("descriptors.sh {list}")));
    assert!(direct.iter().any(|fd| fd == "7"), "{direct:?}");
    assert_eq!(launched, direct);
}

#[test]
fn a_snap_bin_link_runs_its_app() {
    let sandbox = installed("linked", OptIn::None);
    let mut app = sandbox.command("/snap/bin/linked.sh");
    app.args(["-c", "echo \"$SNAP_NAME\"; exit 3"]);
    let out = output(app);
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
        ),
        (Some(3), "linked\n".to_owned()),
        "{out:?}"
    );
    let mut default_app = sandbox.command("/snap/bin/linked");
    default_app.arg("ids");
    assert!(stdout(default_app).starts_with("After: ruid=0,"));
}

fn libc_sigterm() -> i32 {
    nix::sys::signal::Signal::SIGTERM as i32
}

/// What a test does to the installed seccomp program, and the error text it must cause.
struct Tampering {
    name: &'static str,
    script: &'static str,
    error: &'static str,
}

const PROGRAM: &str = "/var/lib/snapcell/seccomp/snap.tamper.tamper.bin";
const NOT_INSTALLED_ONE: &str = "snap.tamper.tamper.bin is not the one installed: its SHA-256 is ";

#[test]
fn a_tampered_profile_stops_the_launch() {
    let cases = [
        Tampering {
            name: "missing",
            script: "rm $P",
            error: "its seccomp program cannot be trusted: /var/lib/snapcell/seccomp/snap.tamper.tamper.bin does not exist",
        },
        Tampering {
            name: "truncated mid-instruction",
            script: "truncate -s -3 $P",
            error: NOT_INSTALLED_ONE,
        },
        Tampering {
            name: "empty",
            script: ": > $P",
            error: NOT_INSTALLED_ONE,
        },
        Tampering {
            name: "cut to half its instructions",
            script: "truncate -s $(( $(stat -c %s $P) / 16 * 8 )) $P",
            error: NOT_INSTALLED_ONE,
        },
        Tampering {
            // `ret ALLOW`: a program the kernel would load, and that allows everything.
            name: "replaced by a one-instruction allow-all program",
            script: "printf '\\006\\000\\000\\000\\000\\000\\377\\177' > $P",
            error: NOT_INSTALLED_ONE,
        },
        Tampering {
            name: "world-writable",
            script: "chmod o+w $P",
            error: "it is writable by others",
        },
        Tampering {
            name: "owned by daemon",
            script: "chown daemon $P",
            error: "is owned by uid 1, not root",
        },
        Tampering {
            name: "in a world-writable directory",
            script: "chmod o+w $(dirname $P)",
            error: "/var/lib/snapcell/seccomp has mode 0757: it is writable by others",
        },
        Tampering {
            name: "AppArmor profile missing",
            script: "rm /var/lib/snapcell/apparmor/snap.tamper.tamper",
            error: "its AppArmor profile cannot be trusted",
        },
        Tampering {
            name: "install record group-writable by daemon",
            script: "chgrp daemon /var/lib/snapcell/snaps/tamper.yaml; chmod g+w /var/lib/snapcell/snaps/tamper.yaml",
            error: "its install record cannot be trusted",
        },
    ];
    for case in cases {
        let sandbox = installed("tamper", OptIn::SystemUsers);
        assert!(
            run(&sandbox, "tamper", &["ids"]).status.success(),
            "{}: baseline",
            case.name
        );
        let mut tamper = sandbox.command("sh");
        tamper.args(["-ec", case.script]).env("P", PROGRAM);
        stdout(tamper);
        let stderr = refused_launch(&sandbox, case.name);
        assert!(
            stderr.starts_with("error: refusing to run snap.tamper.tamper unconfined")
                || stderr.starts_with("error: refusing to run snap \"tamper\" unconfined"),
            "{}: {stderr}",
            case.name
        );
        assert!(stderr.contains(case.error), "{}: {stderr}", case.name);
    }
}

/// Runs the tamper snap's app, which must be refused before it runs; returns the error text.
fn refused_launch(sandbox: &Sandbox, case: &str) -> String {
    let refused = run(sandbox, "tamper", &["ids"]);
    assert_eq!(refused.status.code(), Some(1), "{case}: {refused:?}");
    assert!(refused.stdout.is_empty(), "{case}: the app ran");
    String::from_utf8(refused.stderr).expect("utf-8")
}

/// Where the last `ret` before the program's end finishes: cutting there leaves a whole number
/// of instructions that still ends in a return, as the kernel requires of a filter.
fn after_last_inner_return(program: &[u8]) -> usize {
    const BPF_RET: u16 = 0x06;
    let instructions: Vec<&[u8]> = program.chunks_exact(8).collect();
    let last = instructions[..instructions.len() - 1]
        .iter()
        .rposition(|instruction| {
            u16::from_ne_bytes([instruction[0], instruction[1]]) & 0x07 == BPF_RET
        })
        .expect("a return before the last instruction");
    (last + 1) * 8
}

#[test]
fn a_program_cut_after_a_return_is_refused_by_its_digest() {
    let sandbox = installed("tamper", OptIn::SystemUsers);
    let mut read = sandbox.command("cat");
    read.arg(PROGRAM);
    let program = output(read).stdout;
    let cut = after_last_inner_return(&program);
    assert!(cut < program.len(), "the cut removes instructions");
    let mut tamper = sandbox.command("sh");
    tamper.args([
        "-ec",
        &format!("sha256sum $P; truncate -s {cut} $P; sha256sum $P"),
    ]);
    tamper.env("P", PROGRAM);
    let digests = stdout(tamper);
    let [installed, cut_digest] = [0, 1].map(|line| {
        digests
            .lines()
            .nth(line)
            .and_then(|l| l.split(' ').next())
            .expect("a digest")
            .to_owned()
    });
    assert_eq!(
        refused_launch(&sandbox, "cut after a return"),
        format!(
            "error: refusing to run snap.tamper.tamper unconfined: its seccomp program {PROGRAM} \
             is not the one installed: its SHA-256 is {cut_digest}, the install record \
             /var/lib/snapcell/snaps/tamper.yaml has {installed}; reinstall the snap with \
             `snapcell install`\n"
        )
    );
}

#[test]
fn without_proc_the_launch_stops_and_says_why() {
    let sandbox = installed("procless", OptIn::None);
    // Only this test's sandbox (a mount namespace of its own) loses /proc.
    let refused = output(after_shell_setup(
        &sandbox,
        "mount -t tmpfs none /proc &&",
        &snapcell_run("procless ids"),
    ));
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(refused.stdout.is_empty(), "the app ran: {refused:?}");
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "error: refusing to run snap \"procless\" unconfined: cannot tell where \
         /var/lib/snapcell/snaps/procless.yaml really is: /proc/self/fd/3 cannot be read \
         (No such file or directory (os error 2)); the launcher needs /proc mounted\n"
    );
}

#[test]
fn an_unknown_snap_or_app_is_a_clear_error() {
    let sandbox = installed("known", OptIn::None);
    let absent = run(&sandbox, "absent.app", &[]);
    assert_eq!(
        String::from_utf8_lossy(&absent.stderr),
        "error: snap \"absent\" is not installed (see `snapcell list`)\n"
    );
    let no_app = run(&sandbox, "known.nope", &[]);
    assert_eq!(
        String::from_utf8_lossy(&no_app.stderr),
        "error: snap \"known\" has no app \"nope\"; its apps are: known, sh\n"
    );
    let relocated = {
        let mut command = sandbox.command(run_support::snapcell());
        command
            .args(["run", "known", "ids"])
            .env("SNAPCELL_ROOT", "/nonexistent");
        output(command)
    };
    assert!(
        String::from_utf8_lossy(&relocated.stderr).contains("is not installed"),
        "SNAPCELL_ROOT is honoured for an unprivileged (not setuid) run: {relocated:?}"
    );
}
