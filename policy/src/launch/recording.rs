//! A recording [`Syscalls`] double: it answers the launcher's questions from a scenario and
//! writes down every operation, so the order of operations can be asserted on every path
//! without root. It models one kernel rule the order depends on: a setresuid away from root
//! clears the effective capabilities. The kernel tests (`tests/run*.rs`) prove the real calls.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use caps::Capability;

use super::kernel::{Ids, KernelError, Syscalls};
use crate::seccomp::Program;

/// One operation the launcher asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    PrivateTmp(String),
    RestoreWorkingDirectory,
    EnsureDir(PathBuf),
    DropBounding,
    SetIds(u32, u32),
    CheckRootRegainable,
    ChangeProfileOnExec(String),
    NoNewPrivs,
    DropCapabilities,
    LoadFilter,
    Exec,
}

/// The process and machine a scenario starts from.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub ids: Ids,
    pub capabilities: HashSet<Capability>,
    pub apparmor: bool,
    pub root_regainable: bool,
    /// The operation that fails, if any.
    pub failing: Option<Op>,
}

pub struct Recorder {
    scenario: Scenario,
    pub ops: Vec<Op>,
}

impl Recorder {
    pub fn new(scenario: Scenario) -> Recorder {
        Recorder {
            scenario,
            ops: Vec::new(),
        }
    }

    fn record(&mut self, op: Op) -> Result<(), KernelError> {
        let fails = self.scenario.failing.as_ref() == Some(&op);
        self.ops.push(op.clone());
        if fails {
            Err(KernelError::new(
                format!("{op:?}"),
                "failed by the scenario",
            ))
        } else {
            Ok(())
        }
    }
}

impl Syscalls for Recorder {
    fn ids(&self) -> Ids {
        self.scenario.ids
    }

    fn has_capability(&self, capability: Capability) -> bool {
        self.scenario.capabilities.contains(&capability)
    }

    fn apparmor_enforces(&self) -> bool {
        self.scenario.apparmor
    }

    fn enter_private_tmp(&mut self, snap: &str) -> Result<(), KernelError> {
        self.record(Op::PrivateTmp(snap.to_owned()))
    }

    fn restore_working_directory(&mut self, _: &Path) {
        self.ops.push(Op::RestoreWorkingDirectory);
    }

    fn ensure_dir(&mut self, path: &Path) -> Result<(), KernelError> {
        self.record(Op::EnsureDir(path.to_path_buf()))
    }

    fn drop_from_bounding_set(&mut self, _: &[Capability]) -> Result<(), KernelError> {
        self.record(Op::DropBounding)
    }

    fn set_ids(&mut self, uid: u32, gid: u32) -> Result<(), KernelError> {
        self.record(Op::SetIds(uid, gid))?;
        self.scenario.ids = Ids::of(uid, gid);
        if uid != 0 {
            self.scenario.capabilities.clear();
        }
        Ok(())
    }

    fn root_regainable(&mut self) -> bool {
        self.ops.push(Op::CheckRootRegainable);
        self.scenario.root_regainable
    }

    fn change_profile_on_exec(&mut self, label: &str) -> Result<(), KernelError> {
        self.record(Op::ChangeProfileOnExec(label.to_owned()))
    }

    fn set_no_new_privs(&mut self) -> Result<(), KernelError> {
        self.record(Op::NoNewPrivs)
    }

    fn drop_capabilities(&mut self, _: &[Capability]) -> Result<(), KernelError> {
        self.record(Op::DropCapabilities)
    }

    fn load_filter(&mut self, _: &Program) -> Result<(), KernelError> {
        self.record(Op::LoadFilter)
    }

    fn exec(&mut self, _: &[OsString], _: &[(OsString, OsString)]) -> KernelError {
        self.ops.push(Op::Exec);
        KernelError::new("exec", "recorded, not performed")
    }
}
