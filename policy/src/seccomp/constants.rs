//! Symbolic constants accepted in rules: socket domains and types, netlink families, the
//! terminal ioctls a sandbox cares about, and namespace clone flags. Values come from libc so
//! they match the kernel headers rather than a hand-typed copy.

use nix::libc;

/// Every supported name with its value.
const CONSTANTS: &[(&str, u64)] = &[
    // socket(2) domains (the PF_ spellings are the same numbers)
    ("AF_UNSPEC", libc::AF_UNSPEC as u64),
    ("AF_UNIX", libc::AF_UNIX as u64),
    ("AF_LOCAL", libc::AF_LOCAL as u64),
    ("AF_INET", libc::AF_INET as u64),
    ("AF_INET6", libc::AF_INET6 as u64),
    ("AF_NETLINK", libc::AF_NETLINK as u64),
    ("AF_PACKET", libc::AF_PACKET as u64),
    ("AF_BLUETOOTH", libc::AF_BLUETOOTH as u64),
    ("AF_CAN", libc::AF_CAN as u64),
    ("AF_ALG", libc::AF_ALG as u64),
    ("AF_VSOCK", libc::AF_VSOCK as u64),
    ("AF_KEY", libc::AF_KEY as u64),
    ("AF_XDP", libc::AF_XDP as u64),
    ("PF_UNSPEC", libc::PF_UNSPEC as u64),
    ("PF_UNIX", libc::PF_UNIX as u64),
    ("PF_LOCAL", libc::PF_LOCAL as u64),
    ("PF_INET", libc::PF_INET as u64),
    ("PF_INET6", libc::PF_INET6 as u64),
    ("PF_NETLINK", libc::PF_NETLINK as u64),
    ("PF_PACKET", libc::PF_PACKET as u64),
    // socket(2) types and flags
    ("SOCK_STREAM", libc::SOCK_STREAM as u64),
    ("SOCK_DGRAM", libc::SOCK_DGRAM as u64),
    ("SOCK_RAW", libc::SOCK_RAW as u64),
    ("SOCK_SEQPACKET", libc::SOCK_SEQPACKET as u64),
    ("SOCK_NONBLOCK", libc::SOCK_NONBLOCK as u64),
    ("SOCK_CLOEXEC", libc::SOCK_CLOEXEC as u64),
    // netlink families (socket(2) protocol argument for AF_NETLINK)
    ("NETLINK_ROUTE", libc::NETLINK_ROUTE as u64),
    ("NETLINK_AUDIT", libc::NETLINK_AUDIT as u64),
    (
        "NETLINK_KOBJECT_UEVENT",
        libc::NETLINK_KOBJECT_UEVENT as u64,
    ),
    ("NETLINK_GENERIC", libc::NETLINK_GENERIC as u64),
    // terminal ioctls that inject input or reach the console
    ("TIOCSTI", libc::TIOCSTI),
    ("TIOCLINUX", libc::TIOCLINUX),
    // namespace flags for clone(2) and unshare(2)
    ("CLONE_NEWNS", libc::CLONE_NEWNS as u64),
    ("CLONE_NEWUTS", libc::CLONE_NEWUTS as u64),
    ("CLONE_NEWIPC", libc::CLONE_NEWIPC as u64),
    ("CLONE_NEWUSER", libc::CLONE_NEWUSER as u64),
    ("CLONE_NEWPID", libc::CLONE_NEWPID as u64),
    ("CLONE_NEWNET", libc::CLONE_NEWNET as u64),
    ("CLONE_NEWCGROUP", libc::CLONE_NEWCGROUP as u64),
];

/// The value of a supported constant.
pub fn lookup(name: &str) -> Option<u64> {
    CONSTANTS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, value)| *value)
}

/// The names of all supported constants, for documentation and error hints.
pub fn names() -> impl Iterator<Item = &'static str> {
    CONSTANTS.iter().map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_values() {
        assert_eq!(lookup("AF_UNIX"), Some(1));
        assert_eq!(lookup("AF_INET6"), Some(10));
        assert_eq!(lookup("SOCK_CLOEXEC"), Some(0o2000000));
        assert_eq!(lookup("TIOCSTI"), Some(0x5412));
        assert_eq!(lookup("CLONE_NEWUSER"), Some(0x1000_0000));
        assert_eq!(lookup("AF_BOGUS"), None);
        assert!(names().any(|name| name == "NETLINK_ROUTE"));
    }
}
