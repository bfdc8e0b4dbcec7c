//! What to call: the command line resolved into a plan of system calls with concrete arguments,
//! and the per-call facts every ABI needs (numbers and argument lists).

use std::ffi::CString;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::libc;

use crate::abi;
use crate::cli::{CallArgs, MinusOne, OwnerArgs, Via};
use crate::ids::{Id, Kind, resolve_groups};

/// One identity or ownership system call with resolved arguments.
#[derive(Debug)]
pub enum Syscall {
    Setuid(Id),
    Setgid(Id),
    Setreuid(Id, Id),
    Setregid(Id, Id),
    Setresuid(Id, Id, Id),
    Setresgid(Id, Id, Id),
    Setgroups(Vec<u32>),
    Chown(CString, Id, Id),
    Lchown(CString, Id, Id),
    /// The file stays open for as long as the call needs the descriptor.
    Fchown(File, Id, Id),
    Fchownat(CString, Id, Id),
}

/// One argument as the kernel sees it, before an ABI encodes it.
pub enum Arg<'a> {
    Id(Id),
    Int(i32),
    /// A pointer to these bytes.
    Memory(&'a [u8]),
}

/// The calls one probe run makes, in order.
pub enum Plan {
    Calls(Vec<Syscall>),
    X32,
}

/// Why a probe run failed: the text the contract prints.
pub struct Failure(Errno);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.desc())
    }
}

impl From<Errno> for Failure {
    fn from(errno: Errno) -> Self {
        Failure(errno)
    }
}

impl Plan {
    pub fn run(self, via: Via, minus_one: MinusOne) -> Result<(), Failure> {
        match self {
            Plan::X32 => abi::x32_getuid().map(drop).map_err(Failure),
            Plan::Calls(calls) => calls
                .iter()
                .try_for_each(|call| abi::call(via, minus_one, call).map_err(Failure)),
        }
    }
}

impl CallArgs {
    pub fn resolve(self) -> Result<Plan, String> {
        let uid = |spec: &str| Id::resolve(spec, Kind::User);
        let gid = |spec: &str| Id::resolve(spec, Kind::Group);
        let single = |call| Ok(Plan::Calls(vec![call]));
        match self {
            CallArgs::Setuid { uid: u } => single(Syscall::Setuid(uid(&u)?)),
            CallArgs::Setgid { gid: g } => single(Syscall::Setgid(gid(&g)?)),
            CallArgs::Setreuid { ruid, euid } => {
                single(Syscall::Setreuid(uid(&ruid)?, uid(&euid)?))
            }
            CallArgs::Setregid { rgid, egid } => {
                single(Syscall::Setregid(gid(&rgid)?, gid(&egid)?))
            }
            CallArgs::Setresuid { ruid, euid, suid } => {
                single(Syscall::Setresuid(uid(&ruid)?, uid(&euid)?, uid(&suid)?))
            }
            CallArgs::Setresgid { rgid, egid, sgid } => {
                single(Syscall::Setresgid(gid(&rgid)?, gid(&egid)?, gid(&sgid)?))
            }
            CallArgs::Setgroups { groups } => single(Syscall::Setgroups(resolve_groups(&groups)?)),
            CallArgs::Chown(owner) => {
                let (path, u, g) = owner.resolve()?;
                single(Syscall::Chown(c_path(&path)?, u, g))
            }
            CallArgs::Lchown(owner) => {
                let (path, u, g) = owner.resolve()?;
                single(Syscall::Lchown(c_path(&path)?, u, g))
            }
            CallArgs::Fchown(owner) => {
                let (path, u, g) = owner.resolve()?;
                let file = File::open(&path)
                    .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
                single(Syscall::Fchown(file, u, g))
            }
            CallArgs::Fchownat(owner) => {
                let (path, u, g) = owner.resolve()?;
                single(Syscall::Fchownat(c_path(&path)?, u, g))
            }
            CallArgs::Drop { uid: u, gid: g } => Ok(Plan::Calls(vec![
                Syscall::Setgroups(Vec::new()),
                Syscall::Setgid(gid(&g)?),
                Syscall::Setuid(uid(&u)?),
            ])),
            CallArgs::X32 => Ok(Plan::X32),
            CallArgs::Ids => Ok(Plan::Calls(Vec::new())),
        }
    }
}

impl OwnerArgs {
    fn resolve(self) -> Result<(std::path::PathBuf, Id, Id), String> {
        let owner = Id::resolve(&self.uid, Kind::User)?;
        let group = Id::resolve(&self.gid, Kind::Group)?;
        Ok((self.path, owner, group))
    }
}

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("path {} contains a NUL byte", path.display()))
}

impl Syscall {
    /// The x86-64 number.
    pub fn native_number(&self) -> libc::c_long {
        match self {
            Syscall::Setuid(..) => libc::SYS_setuid,
            Syscall::Setgid(..) => libc::SYS_setgid,
            Syscall::Setreuid(..) => libc::SYS_setreuid,
            Syscall::Setregid(..) => libc::SYS_setregid,
            Syscall::Setresuid(..) => libc::SYS_setresuid,
            Syscall::Setresgid(..) => libc::SYS_setresgid,
            Syscall::Setgroups(..) => libc::SYS_setgroups,
            Syscall::Chown(..) => libc::SYS_chown,
            Syscall::Lchown(..) => libc::SYS_lchown,
            Syscall::Fchown(..) => libc::SYS_fchown,
            Syscall::Fchownat(..) => libc::SYS_fchownat,
        }
    }

    /// The i386 number (asm/unistd_32.h): the `*32` calls take 32-bit ids.
    pub fn i386_number(&self) -> u32 {
        match self {
            Syscall::Setuid(..) => 213,
            Syscall::Setgid(..) => 214,
            Syscall::Setreuid(..) => 203,
            Syscall::Setregid(..) => 204,
            Syscall::Setresuid(..) => 208,
            Syscall::Setresgid(..) => 210,
            Syscall::Setgroups(..) => 206,
            Syscall::Chown(..) => 212,
            Syscall::Lchown(..) => 198,
            Syscall::Fchown(..) => 207,
            Syscall::Fchownat(..) => 298,
        }
    }

    /// The arguments in kernel order.
    pub fn args(&self) -> Vec<Arg<'_>> {
        match self {
            Syscall::Setuid(id) | Syscall::Setgid(id) => vec![Arg::Id(*id)],
            Syscall::Setreuid(r, e) | Syscall::Setregid(r, e) => vec![Arg::Id(*r), Arg::Id(*e)],
            Syscall::Setresuid(r, e, s) | Syscall::Setresgid(r, e, s) => {
                vec![Arg::Id(*r), Arg::Id(*e), Arg::Id(*s)]
            }
            Syscall::Setgroups(groups) => {
                let count = i32::try_from(groups.len()).unwrap_or(i32::MAX);
                vec![Arg::Int(count), Arg::Memory(gid_bytes(groups))]
            }
            Syscall::Chown(path, u, g) | Syscall::Lchown(path, u, g) => {
                vec![
                    Arg::Memory(path.as_bytes_with_nul()),
                    Arg::Id(*u),
                    Arg::Id(*g),
                ]
            }
            Syscall::Fchown(file, u, g) => {
                vec![Arg::Int(file.as_raw_fd()), Arg::Id(*u), Arg::Id(*g)]
            }
            Syscall::Fchownat(path, u, g) => vec![
                Arg::Int(libc::AT_FDCWD),
                Arg::Memory(path.as_bytes_with_nul()),
                Arg::Id(*u),
                Arg::Id(*g),
                Arg::Int(0),
            ],
        }
    }
}

/// `gid_t` is 32 bits on both ABIs, so the same bytes serve `setgroups` and `setgroups32`.
fn gid_bytes(groups: &[u32]) -> &[u8] {
    // SAFETY: u32 has no padding and any byte pattern is a valid u8; the length is exact.
    unsafe { std::slice::from_raw_parts(groups.as_ptr().cast(), std::mem::size_of_val(groups)) }
}
