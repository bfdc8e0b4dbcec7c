//! `snapcell run`: start one app of an installed snap, confined.
//!
//! The launch is a chain of narrow steps: `trust` (only root-owned, root-writable state is
//! believed), `command` (command-chain + command + arguments), `environment` (the snap
//! variables in a sanitised environment), and `sequence`, which alone decides the order of
//! privileged setup, permanent drop, no_new_privs, capabilities, filter and exec over the
//! [`kernel::Syscalls`] seam.
//!
//! It does not install anything, generate or compile policy (`store`, `profile`, `seccomp` do).

pub mod command;
pub mod environment;
pub mod kernel;
#[cfg(test)]
mod recording;
pub mod sequence;
pub mod trust;
