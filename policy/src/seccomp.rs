//! Seccomp: the rule language (`rule`), the compiler to one BPF program (`compile`), the stored
//! program format (`program`) and loading it into the kernel (`load`).
//!
//! The policy text comes from `profile`; ids come from an `accounts::IdResolver`. This module
//! owns every decision about what the BPF program looks like; see docs/POLICY.md.

mod compile;
mod constants;
mod idargs;
mod load;
mod program;
mod rule;

pub use compile::{CompileError, FilterLayout, compile, compile_with_layout};
pub use idargs::{IdKind, id_kind};
pub use load::{LoadError, load};
pub use program::{Instruction, MAX_INSTRUCTIONS, Program, ProgramError};
pub use rule::{ArgMatch, MAX_ARGS, Problem, Rule, RuleAction, RuleError, parse};
