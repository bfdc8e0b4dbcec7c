//! The compiler proven against the kernel: programs compiled from rule text are loaded in forked
//! children, which then make native x86-64, i386 (`int $0x80`) and x32 system calls.

mod seccomp_support;

use nix::errno::Errno;
use nix::libc;
use policy::accounts::{IdResolver, Nss};
use policy::seccomp::{Program, compile, parse};
use seccomp_support::{Outcome, i386, in_child, low_c_string, native, uid};

/// Just enough for the child to report (write, exit_group) plus the rules under test.
const POLICY: &str = "
write
exit_group
getpid
getresuid
getresuid32
~ptrace
dup3 !5 <100 |0x80000
setuid u:daemon
setuid32 u:daemon
setresuid -1 -1 -1
setresuid32 -1 -1 -1
setresuid u:daemon u:daemon u:daemon
chown - u:daemon g:daemon
chown32 - u:daemon g:daemon
fchownat - - u:daemon -1
";

fn program() -> Program {
    compile(&parse(POLICY).unwrap(), &Nss).unwrap()
}

fn daemon() -> u64 {
    Nss.uid("daemon").unwrap().into()
}

fn daemon_gid() -> u64 {
    Nss.gid("daemon").unwrap().into()
}

/// A third account that no rule names.
fn nobody() -> u64 {
    Nss.uid("nobody").unwrap().into()
}

fn filtered(call: impl FnOnce() -> Outcome) -> Outcome {
    in_child(Some(&program()), call)
}

const EPERM: Outcome = Outcome::Err(Errno::EPERM);
const MINUS_ONE_U32: u64 = 0xFFFF_FFFF;
const MINUS_ONE_SEXT: u64 = u64::MAX;

#[test]
fn unlisted_calls_get_eperm_and_tilde_rules_get_eacces() {
    assert!(matches!(filtered(|| native(libc::SYS_getpid, [0; 4])), Outcome::Ok(pid) if pid > 1));
    assert_eq!(filtered(|| native(libc::SYS_getppid, [0; 4])), EPERM);
    assert_eq!(
        filtered(|| native(libc::SYS_ptrace, [0; 4])),
        Outcome::Err(Errno::EACCES)
    );
    // Without the filter the same calls work, so the errors above are the filter's.
    assert!(matches!(
        in_child(None, || native(libc::SYS_getppid, [0; 4])),
        Outcome::Ok(_)
    ));
}

#[test]
fn comparison_operators() {
    // dup3(oldfd != 5, newfd < 100, flags has O_CLOEXEC): an allowed call on a closed fd fails
    // with the kernel's EBADF, a refused one with the filter's EPERM.
    let dup3 = |old: u64, new: u64, flags: u64| {
        filtered(move || native(libc::SYS_dup3, [old, new, flags, 0]))
    };
    let cloexec = libc::O_CLOEXEC as u64;
    assert_eq!(dup3(900, 50, cloexec), Outcome::Err(Errno::EBADF));
    // Extra flag bits still match `|`: the kernel, not the filter, rejects the unknown flag.
    assert_eq!(dup3(900, 99, cloexec | 0x800), Outcome::Err(Errno::EINVAL));
    assert_eq!(dup3(5, 50, cloexec), EPERM);
    assert_eq!(dup3(900, 100, cloexec), EPERM);
    assert_eq!(dup3(900, 50, 0), EPERM);
}

#[test]
fn uid_arguments_match_both_minus_one_encodings() {
    for minus_one in [MINUS_ONE_U32, MINUS_ONE_SEXT] {
        let call = move || native(libc::SYS_setresuid, [minus_one, minus_one, minus_one, 0]);
        assert_eq!(filtered(call), Outcome::Ok(0), "-1 as {minus_one:#x}");
    }
    // Only all three unchanged is listed.
    let mixed = || native(libc::SYS_setresuid, [MINUS_ONE_U32, 0, MINUS_ONE_U32, 0]);
    assert_eq!(filtered(mixed), EPERM);
}

#[test]
fn high_bits_cannot_smuggle_another_uid() {
    let daemon = daemon();
    let setuid_then_uid = |value: u64| {
        filtered(move || match native(libc::SYS_setuid, [value, 0, 0, 0]) {
            Outcome::Ok(_) => uid(),
            error => error,
        })
    };
    assert_eq!(setuid_then_uid(daemon), Outcome::Ok(daemon as i64));
    // High bits above the allowed uid: the kernel reads the low 32 bits, which the filter
    // compared, so the result is exactly the allowed uid.
    assert_eq!(
        setuid_then_uid(1 << 32 | daemon),
        Outcome::Ok(daemon as i64)
    );
    assert_eq!(
        setuid_then_uid(0xFFFF_FFFF_0000_0000 | daemon),
        Outcome::Ok(daemon as i64)
    );
    // High bits above a refused uid (a third user, or root) never pass.
    assert_eq!(setuid_then_uid(nobody()), EPERM);
    assert_eq!(setuid_then_uid(1 << 32 | nobody()), EPERM);
    assert_eq!(setuid_then_uid(1 << 32), EPERM);
    assert_eq!(setuid_then_uid(daemon << 32), EPERM);
}

#[test]
fn i386_calls_are_judged_by_the_compat_rules() {
    let daemon = daemon() as u32;
    let nobody = nobody() as u32;
    assert!(matches!(filtered(|| i386("getpid", [0; 4])), Outcome::Ok(pid) if pid > 1));
    assert_eq!(filtered(|| i386("getppid", [0; 4])), EPERM);
    let setuid32_then_uid = |value: u32| {
        filtered(move || match i386("setuid32", [value, 0, 0, 0]) {
            Outcome::Ok(_) => uid(),
            error => error,
        })
    };
    assert_eq!(setuid32_then_uid(daemon), Outcome::Ok(i64::from(daemon)));
    assert_eq!(setuid32_then_uid(nobody), EPERM);
    assert_eq!(setuid32_then_uid(0), EPERM);
    // `setuid` also names the legacy 16-bit i386 call.
    assert_eq!(
        filtered(move || i386("setuid", [daemon, 0, 0, 0])),
        Outcome::Ok(0)
    );
    assert_eq!(filtered(move || i386("setuid", [nobody, 0, 0, 0])), EPERM);
    let minus_one = u32::MAX;
    assert_eq!(
        filtered(move || i386("setresuid32", [minus_one; 4])),
        Outcome::Ok(0)
    );
    assert_eq!(
        filtered(move || i386("setresuid32", [minus_one, 0, minus_one, 0])),
        EPERM
    );
}

#[test]
fn chown_rules_native_and_i386() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().to_str().unwrap().to_string();
    let low_path = low_c_string(&path);
    let native_path = std::ffi::CString::new(path.clone()).unwrap();
    let native_pointer = native_path.as_ptr() as u64;
    let (daemon, daemon_gid, nobody) = (daemon(), daemon_gid(), nobody());
    let chown = |owner: u64, group: u64| {
        filtered(move || native(libc::SYS_chown, [native_pointer, owner, group, 0]))
    };
    assert_eq!(chown(daemon, daemon_gid), Outcome::Ok(0));
    assert_eq!(chown(nobody, daemon_gid), EPERM);
    assert_eq!(
        chown(daemon, MINUS_ONE_SEXT),
        EPERM,
        "(daemon, -1) is not listed for chown"
    );
    let at_fdcwd = libc::AT_FDCWD as u64;
    for minus_one in [MINUS_ONE_U32, MINUS_ONE_SEXT] {
        let call = move || {
            native(
                libc::SYS_fchownat,
                [at_fdcwd, native_pointer, daemon, minus_one],
            )
        };
        assert_eq!(filtered(call), Outcome::Ok(0));
    }
    let call = move || {
        native(
            libc::SYS_fchownat,
            [at_fdcwd, native_pointer, nobody, MINUS_ONE_U32],
        )
    };
    assert_eq!(filtered(call), EPERM);
    let chown32 = |owner: u64, group: u64| {
        filtered(move || i386("chown32", [low_path, owner as u32, group as u32, 0]))
    };
    assert_eq!(chown32(daemon, daemon_gid), Outcome::Ok(0));
    assert_eq!(chown32(daemon, nobody), EPERM);
    let metadata = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&path).unwrap());
    assert_eq!(
        u64::from(metadata),
        daemon,
        "the allowed calls really changed the owner"
    );
}

#[test]
fn x32_calls_are_refused_by_the_filter() {
    const X32_SYSCALL_BIT: i64 = 0x4000_0000;
    let x32_getpid = || native(X32_SYSCALL_BIT | libc::SYS_getpid, [0; 4]);
    // This kernel has the x32 ABI off: unfiltered, the call fails with the kernel's ENOSYS.
    assert_eq!(in_child(None, x32_getpid), Outcome::Err(Errno::ENOSYS));
    // Filtered, getpid is allowed natively, yet its x32 number is refused by the filter itself.
    assert!(matches!(
        filtered(|| native(libc::SYS_getpid, [0; 4])),
        Outcome::Ok(_)
    ));
    assert_eq!(filtered(x32_getpid), EPERM);
}

#[test]
fn stored_bytes_load_the_same_program() {
    let program = program();
    let reloaded = Program::from_bytes(&program.to_bytes()).unwrap();
    assert_eq!(reloaded, program);
    assert_eq!(
        in_child(Some(&reloaded), || native(libc::SYS_getppid, [0; 4])),
        EPERM
    );
    let truncated = &program.to_bytes()[..program.to_bytes().len() - 3];
    assert!(Program::from_bytes(truncated).is_err());
}

#[test]
fn load_needs_no_new_privs_or_cap_sys_admin() {
    let program = program();
    let nobody = nobody();
    let outcome = in_child(None, move || {
        // Give up root (and with it CAP_SYS_ADMIN) without setting no_new_privs.
        if let error @ Outcome::Err(_) = native(libc::SYS_setresuid, [nobody; 4]) {
            return error;
        }
        match policy::seccomp::load(&program) {
            Ok(()) => Outcome::Ok(0),
            Err(policy::seccomp::LoadError::NotPermitted) => Outcome::Err(Errno::EACCES),
            Err(_) => Outcome::Err(Errno::EIO),
        }
    });
    assert_eq!(outcome, Outcome::Err(Errno::EACCES));
    let program = self::program();
    let outcome = in_child(None, move || {
        let _ = native(libc::SYS_setresuid, [nobody; 4]);
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
        match policy::seccomp::load(&program) {
            Ok(()) => native(libc::SYS_getppid, [0; 4]),
            Err(_) => Outcome::Err(Errno::EIO),
        }
    });
    assert_eq!(
        outcome, EPERM,
        "loaded after no_new_privs: getppid is refused"
    );
}
