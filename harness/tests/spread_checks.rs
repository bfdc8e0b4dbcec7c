//! spread's own self-test projects (`corpus/spread/tests/*/checks`) on the docker backend:
//! each inner project is copied to a temporary directory, its backends are switched to
//! docker (names kept, so job names are the ones the outer task.yaml greps for), and the outer
//! task.yaml's prepare/execute/restore run with `spread` being this harness.

mod run_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use run_support::{IMAGE, binary, containers_of, ensure_image};
use serde_norway::{Mapping, Value};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus/spread/tests")
        .join(name)
}

/// The inner project of `name` in a temporary directory, driving docker containers.
struct Check {
    dir: tempfile::TempDir,
    outer: Value,
}

impl Check {
    fn new(name: &str) -> Self {
        ensure_image();
        let source = corpus(name);
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&source, dir.path());
        let outer_text = std::fs::read_to_string(dir.path().join("task.yaml")).unwrap();
        std::fs::remove_file(dir.path().join("task.yaml")).unwrap();
        let spread_yaml = dir.path().join("spread.yaml");
        let project: Value =
            serde_norway::from_str(&std::fs::read_to_string(&spread_yaml).unwrap()).unwrap();
        std::fs::write(
            &spread_yaml,
            serde_norway::to_string(&to_docker(project)).unwrap(),
        )
        .unwrap();
        // The outer prepare links .spread-reuse.yaml to a file in /run shared by every test
        // process unless the file exists; each check keeps its own.
        std::fs::write(dir.path().join(".spread-reuse.yaml"), "").unwrap();
        Check {
            dir,
            outer: serde_norway::from_str(&outer_text).unwrap(),
        }
    }

    /// Runs the outer task's `slot` script with bash, `spread` being the harness.
    fn run_outer(&self, slot: &str) -> (bool, String) {
        let Some(script) = self.outer.get(slot).and_then(Value::as_str) else {
            return (true, String::new());
        };
        let bin = self.dir.path().join(".bin");
        std::fs::create_dir_all(&bin).unwrap();
        let link = bin.join("spread");
        if !link.exists() {
            std::os::unix::fs::symlink(binary(), &link).unwrap();
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = Command::new("/bin/bash")
            .args(["-eu", "-c", &format!("exec 2>&1\nset -x\n{script}")])
            .current_dir(self.dir.path())
            .env("PATH", path)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }

    /// prepare, execute, then always restore and discard kept machines; returns the
    /// execute result with everything printed.
    fn run(&self) -> (bool, String) {
        let (prepared, prepare_output) = self.run_outer("prepare");
        assert!(prepared, "outer prepare failed:\n{prepare_output}");
        let (executed, output) = self.run_outer("execute");
        let details = if executed {
            output
        } else {
            let (_, debug) = self.run_outer("debug");
            let inner =
                std::fs::read_to_string(self.dir.path().join("task.out")).unwrap_or_default();
            format!("{output}\n--- outer debug\n{debug}\n--- task.out\n{inner}")
        };
        let (restored, restore_output) = self.run_outer("restore");
        assert!(restored, "outer restore failed:\n{restore_output}");
        (executed, details)
    }
}

impl Drop for Check {
    fn drop(&mut self) {
        let _ = Command::new(binary())
            .arg("-discard")
            .current_dir(self.dir.path())
            .output();
        let left = containers_of(self.dir.path());
        if !std::thread::panicking() {
            assert!(left.is_empty(), "containers left behind: {left:?}");
        }
    }
}

/// Every backend becomes `type: docker` with its name kept; every system keeps its name and
/// boots the test image.
fn to_docker(mut project: Value) -> Value {
    let Some(backends) = project.get_mut("backends").and_then(Value::as_mapping_mut) else {
        return project;
    };
    for (_, backend) in backends.iter_mut() {
        let Some(backend) = backend.as_mapping_mut() else {
            continue;
        };
        backend.insert("type".into(), "docker".into());
        let Some(systems) = backend.get_mut("systems").and_then(Value::as_sequence_mut) else {
            continue;
        };
        for system in systems.iter_mut() {
            *system = match std::mem::take(system) {
                Value::String(name) => {
                    let mut settings = Mapping::new();
                    settings.insert("image".into(), IMAGE.into());
                    let mut entry = Mapping::new();
                    entry.insert(name.into(), settings.into());
                    entry.into()
                }
                Value::Mapping(mut entry) => {
                    for (_, settings) in entry.iter_mut() {
                        if let Some(settings) = settings.as_mapping_mut() {
                            settings.insert("image".into(), IMAGE.into());
                        }
                    }
                    entry.into()
                }
                other => other,
            };
        }
    }
    project
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn check(name: &str) {
    let check = Check::new(name);
    let (passed, output) = check.run();
    assert!(passed, "the outer task of {name} failed:\n{output}");
}

#[test]
fn envs() {
    check("envs");
}

#[test]
fn match_helper() {
    check("match");
}

#[test]
fn nomatch_helper() {
    check("nomatch");
}

#[test]
fn manual() {
    check("manual");
}

#[test]
fn reboot() {
    check("reboot");
}

#[test]
fn artifacts() {
    check("artifacts");
}
