//! Which system call arguments hold a uid or a gid.
//!
//! These arguments are 32-bit in the kernel, so the compiler compares them on their low 32 bits
//! and the parser lets them (and only them) use `-1`, `u:NAME` and `g:NAME`.

/// The kind of identity an argument carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uid,
    Gid,
}

use IdKind::{Gid, Uid};

/// The id kind of argument `position` (0-based) of `syscall`, if it is a uid/gid argument.
/// The `*32` names are the i386 calls with 32-bit ids; the plain names on i386 are the legacy
/// 16-bit calls, which take the same positions.
pub fn id_kind(syscall: &str, position: usize) -> Option<IdKind> {
    let kinds: &[IdKind] = match syscall.strip_suffix("32").unwrap_or(syscall) {
        "setuid" | "setfsuid" => &[Uid],
        "setgid" | "setfsgid" => &[Gid],
        "setreuid" => &[Uid, Uid],
        "setregid" => &[Gid, Gid],
        "setresuid" => &[Uid, Uid, Uid],
        "setresgid" => &[Gid, Gid, Gid],
        "chown" | "lchown" | "fchown" => return chown_kind(position, 1),
        "fchownat" => return chown_kind(position, 2),
        _ => &[],
    };
    kinds.get(position).copied()
}

/// The chown family: owner at `owner_position`, group right after it.
fn chown_kind(position: usize, owner_position: usize) -> Option<IdKind> {
    match position.checked_sub(owner_position) {
        Some(0) => Some(Uid),
        Some(1) => Some(Gid),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_the_identity_and_ownership_calls() {
        assert_eq!(id_kind("setuid", 0), Some(Uid));
        assert_eq!(id_kind("setuid32", 0), Some(Uid));
        assert_eq!(id_kind("setresgid32", 2), Some(Gid));
        assert_eq!(id_kind("setresgid", 3), None);
        assert_eq!(id_kind("chown", 0), None);
        assert_eq!(id_kind("lchown32", 1), Some(Uid));
        assert_eq!(id_kind("fchown", 2), Some(Gid));
        assert_eq!(id_kind("fchownat", 1), None);
        assert_eq!(id_kind("fchownat", 2), Some(Uid));
        assert_eq!(id_kind("fchownat", 3), Some(Gid));
        assert_eq!(id_kind("fchownat", 4), None);
        assert_eq!(id_kind("setgroups", 0), None);
        assert_eq!(id_kind("read", 0), None);
    }
}
