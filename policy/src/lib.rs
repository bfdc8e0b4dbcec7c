//! The system under test: opt-in system users for confined snaps (phase 1 of "opt-in per-snap
//! users and groups").
//!
//! The flow is a chain of narrow steps, each in its own module:
//! `snap` (snap.yaml → validated metadata) → `accounts` (names → uid/gid through NSS, and the
//! shipped `system-usernames` accounts) → `profile` (metadata → seccomp and AppArmor source text,
//! pure) → `seccomp` (source text + id resolver → one BPF program) → `store` (install, remove,
//! list, info: state on disk, atomically and under a lock) → `launch` (`snapcell run`: privileged
//! setup, permanent drop, filter, exec).
//!
//! The `snapcell` binary is a thin CLI over these modules.

pub mod accounts;
pub mod launch;
pub mod profile;
pub mod seccomp;
pub mod snap;
pub mod store;
