//! Rules → one BPF program, built by libseccomp.
//!
//! Layout decisions (docs/POLICY.md explains them):
//! - one filter for x86-64 and its i386 compat ABI; x32 system call numbers on the x86-64 ABI
//!   and any other architecture get the default action;
//! - EPERM for anything not allowed, EACCES for `~` rules;
//! - uid/gid arguments compared on their low 32 bits (masked equal with 0xFFFFFFFF), because the
//!   kernel reads them as 32-bit and callers pass -1 both zero- and sign-extended;
//! - libseccomp's binary-tree layout, so that looking up a system call costs O(log n).

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterAttr, ScmpFilterContext,
    ScmpSyscall, error::SeccompError,
};
use nix::libc;
use thiserror::Error;

use super::idargs;
use super::program::{Program, ProgramError};
use super::rule::{ArgMatch, Rule, RuleAction};
use crate::accounts::{IdResolver, ResolveError};

/// The low 32 bits of a uid/gid argument: all the kernel reads of it.
const ID_MASK: u64 = 0xFFFF_FFFF;

/// How libseccomp arranges the system call checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterLayout {
    /// A binary search over system call numbers (SCMP_FLTATR_CTL_OPTIMIZE = 2); this project's.
    BinaryTree,
    /// libseccomp's default: one comparison per system call, in priority order.
    Linear,
}

impl FilterLayout {
    fn optimize_level(self) -> u32 {
        match self {
            FilterLayout::BinaryTree => 2,
            FilterLayout::Linear => 1,
        }
    }
}

/// Why rules could not be compiled.
#[derive(Debug, Error)]
pub enum CompileError {
    #[error("line {line}: unknown system call {name:?}")]
    UnknownSyscall { line: usize, name: String },
    #[error("line {line}: cannot resolve {token:?}: {source}")]
    Resolve {
        line: usize,
        token: String,
        source: ResolveError,
    },
    #[error(
        "line {line}: this {syscall:?} rule can never apply: line {by_line} already decides \
         every {syscall:?} call with another action (make line {by_line} conditional or drop one)"
    )]
    Shadowed {
        line: usize,
        by_line: usize,
        syscall: String,
    },
    #[error(
        "line {line}: {value:#x} does not fit in 32 bits, but {syscall:?} is also judged for \
         i386 calls, whose arguments are 32-bit (use a value below 0x100000000)"
    )]
    WideValue {
        line: usize,
        syscall: String,
        value: u64,
    },
    #[error("line {line}: libseccomp refused the {syscall:?} rule: {source}")]
    Rule {
        line: usize,
        syscall: String,
        source: SeccompError,
    },
    #[error("cannot set up the filter: {0}")]
    Filter(#[source] SeccompError),
    #[error("cannot export the filter: {0}")]
    Export(#[source] std::io::Error),
    #[error("the compiled filter is unusable: {0}")]
    Program(#[from] ProgramError),
}

/// Compiles rules into this project's filter layout (binary tree).
pub fn compile(rules: &[Rule], ids: &dyn IdResolver) -> Result<Program, CompileError> {
    compile_with_layout(rules, ids, FilterLayout::BinaryTree)
}

/// Compiles rules with a chosen layout (the linear one exists to measure the prior art).
pub fn compile_with_layout(
    rules: &[Rule],
    ids: &dyn IdResolver,
    layout: FilterLayout,
) -> Result<Program, CompileError> {
    check_shadowing(rules)?;
    let mut filter = new_filter(layout).map_err(CompileError::Filter)?;
    for rule in rules {
        add_rule(&mut filter, rule, ids)?;
    }
    export(&filter)
}

fn new_filter(layout: FilterLayout) -> Result<ScmpFilterContext, SeccompError> {
    let mut filter = ScmpFilterContext::new(ScmpAction::Errno(libc::EPERM))?;
    filter.add_arch(ScmpArch::X8664)?;
    filter.add_arch(ScmpArch::X86)?;
    if ScmpArch::native() != ScmpArch::X8664 {
        filter.remove_arch(ScmpArch::native())?;
    }
    // x32 numbers on the x86-64 ABI and unknown architectures fall here: refused like any
    // other call that is not allowed, so callers see EPERM rather than a killed process.
    filter.set_act_badarch(ScmpAction::Errno(libc::EPERM))?;
    filter.set_filter_attr(ScmpFilterAttr::CtlOptimize, layout.optimize_level())?;
    Ok(filter)
}

/// libseccomp silently drops a conditional rule for a system call that already has an
/// unconditional rule (and lets the unconditional one win). A rule that can never apply is a
/// policy bug, so it is an error here.
fn check_shadowing(rules: &[Rule]) -> Result<(), CompileError> {
    let mut unconditional: BTreeMap<&str, &Rule> = BTreeMap::new();
    for rule in rules.iter().filter(|rule| is_unconditional(rule)) {
        unconditional.entry(&rule.syscall).or_insert(rule);
    }
    for rule in rules {
        if let Some(decider) = unconditional.get(rule.syscall.as_str())
            && decider.action != rule.action
        {
            return Err(CompileError::Shadowed {
                line: rule.line,
                by_line: decider.line,
                syscall: rule.syscall.clone(),
            });
        }
    }
    Ok(())
}

fn is_unconditional(rule: &Rule) -> bool {
    rule.args.iter().all(|arg| *arg == ArgMatch::Any)
}

fn add_rule(
    filter: &mut ScmpFilterContext,
    rule: &Rule,
    ids: &dyn IdResolver,
) -> Result<(), CompileError> {
    let syscall =
        ScmpSyscall::from_name(&rule.syscall).map_err(|_| CompileError::UnknownSyscall {
            line: rule.line,
            name: rule.syscall.clone(),
        })?;
    let mut conditions = Vec::new();
    for (position, arg) in rule.args.iter().enumerate() {
        if let Some(condition) = condition(rule, position, arg, ids)? {
            conditions.push(condition);
        }
    }
    let action = match rule.action {
        RuleAction::Allow => ScmpAction::Allow,
        RuleAction::DenyEacces => ScmpAction::Errno(libc::EACCES),
    };
    filter
        .add_rule_conditional(action, syscall, &conditions)
        .map_err(|source| CompileError::Rule {
            line: rule.line,
            syscall: rule.syscall.clone(),
            source,
        })?;
    Ok(())
}

fn condition(
    rule: &Rule,
    position: usize,
    arg: &ArgMatch,
    ids: &dyn IdResolver,
) -> Result<Option<ScmpArgCompare>, CompileError> {
    let index = position as u32;
    let resolve_error = |token: String| {
        move |source| CompileError::Resolve {
            line: rule.line,
            token,
            source,
        }
    };
    let id_equal =
        |id: u32| ScmpArgCompare::new(index, ScmpCompareOp::MaskedEqual(ID_MASK), id.into());
    let compare = |op, value: u64| {
        // libseccomp keeps only the low 32 bits of a value for the i386 ABI, so a wider value
        // would mean something else there (`>0x100000000` would become `>0`).
        if value > u64::from(u32::MAX) && exists_on_i386(&rule.syscall) {
            return Err(CompileError::WideValue {
                line: rule.line,
                syscall: rule.syscall.clone(),
                value,
            });
        }
        Ok(ScmpArgCompare::new(index, op, value))
    };
    let condition = match arg {
        ArgMatch::Any => return Ok(None),
        ArgMatch::User(name) => {
            id_equal(ids.uid(name).map_err(resolve_error(format!("u:{name}")))?)
        }
        ArgMatch::Group(name) => {
            id_equal(ids.gid(name).map_err(resolve_error(format!("g:{name}")))?)
        }
        ArgMatch::Unchanged => id_equal(u32::MAX),
        ArgMatch::Equal(value) if idargs::id_kind(&rule.syscall, position).is_some() => {
            // The parser keeps id values below u32::MAX, so this never truncates.
            id_equal(*value as u32)
        }
        ArgMatch::Equal(value) => compare(ScmpCompareOp::Equal, *value)?,
        ArgMatch::NotEqual(value) => compare(ScmpCompareOp::NotEqual, *value)?,
        ArgMatch::Greater(value) => compare(ScmpCompareOp::Greater, *value)?,
        ArgMatch::GreaterOrEqual(value) => compare(ScmpCompareOp::GreaterEqual, *value)?,
        ArgMatch::Less(value) => compare(ScmpCompareOp::Less, *value)?,
        ArgMatch::LessOrEqual(value) => compare(ScmpCompareOp::LessOrEqual, *value)?,
        ArgMatch::AllBitsSet(mask) => compare(ScmpCompareOp::MaskedEqual(*mask), *mask)?,
    };
    Ok(Some(condition))
}

/// Whether the i386 ABI has this system call (libseccomp gives a negative pseudo number
/// where an architecture lacks it).
fn exists_on_i386(syscall: &str) -> bool {
    ScmpSyscall::from_name_by_arch(syscall, ScmpArch::X86).is_ok_and(|nr| i32::from(nr) >= 0)
}

/// libseccomp 2.5 exports BPF only to a file descriptor; an anonymous temporary file holds it.
fn export(filter: &ScmpFilterContext) -> Result<Program, CompileError> {
    let mut file = tempfile::tempfile().map_err(CompileError::Export)?;
    filter
        .export_bpf(&file)
        .map_err(|error| CompileError::Export(std::io::Error::other(error)))?;
    let mut bytes = Vec::new();
    file.rewind()
        .and_then(|()| file.read_to_end(&mut bytes))
        .map_err(CompileError::Export)?;
    Ok(Program::from_bytes(&bytes)?)
}
