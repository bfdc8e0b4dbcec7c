//! Turns the raw YAML shapes into the model: applies spread's defaults (backend type = name,
//! workers = 1, samples = 1, trimmed scripts), and checks every rule spread checks, reporting
//! each failure at its file, line and key.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::error::LoadError;
use super::raw::{
    OrderedMap, RawBackend, RawEnvironment, RawProject, RawSuite, RawSystem, RawTask,
};
use super::{
    Backend, DockerOptions, MachineOptions, Project, Scripts, Suite, System, Task, locate, rules,
};
use crate::env::Environment;

/// The file being converted, to place errors.
pub struct Source<'a> {
    pub file: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn invalid(&self, path: &[&str], message: impl Into<String>) -> LoadError {
        LoadError::Invalid {
            file: self.file.to_path_buf(),
            line: locate::line_of(self.text, path),
            key: path.join("."),
            message: message.into(),
        }
    }

    fn check(&self, path: &[&str], result: Result<(), String>) -> Result<(), LoadError> {
        result.map_err(|message| self.invalid(path, message))
    }

    /// The timeout `key` (e.g. `kill-timeout`) of the level at `path`.
    fn timeout(
        &self,
        path: &[&str],
        key: &str,
        raw: Option<String>,
    ) -> Result<Option<Duration>, LoadError> {
        match raw {
            None => Ok(None),
            Some(text) => rules::parse_timeout(&text)
                .map_err(|message| self.invalid(&[path, &[key]].concat(), message)),
        }
    }

    fn environment(&self, path: &[&str], raw: RawEnvironment) -> Result<Environment, LoadError> {
        for (index, (key, _)) in raw.0.iter().enumerate() {
            let at = [path, &["environment", key.as_str()]].concat();
            self.check(&at, rules::check_variable(key))?;
            if raw.0[..index].iter().any(|(earlier, _)| earlier == key) {
                return Err(self.invalid(&at, format!("variable {key:?} is defined twice")));
            }
        }
        Ok(Environment::from_pairs(raw.0))
    }

    /// A `systems`, `backends` or `variants` list: plain or all-delta; system names shaped.
    fn list(
        &self,
        path: &[&str],
        field: &str,
        list: Vec<String>,
    ) -> Result<Vec<String>, LoadError> {
        let at = [path, &[field]].concat();
        self.check(&at, rules::check_list_form(&list))?;
        if field == "systems" {
            for item in &list {
                self.check(&at, rules::check_system(rules::undelta(item)))?;
            }
        }
        Ok(list)
    }

    fn unique_keys<T>(&self, path: &[&str], map: &OrderedMap<T>) -> Result<(), LoadError> {
        for (index, (key, _)) in map.0.iter().enumerate() {
            if map.0[..index].iter().any(|(earlier, _)| earlier == key) {
                let at = [path, &[key.as_str()]].concat();
                return Err(self.invalid(&at, format!("{key:?} is defined twice")));
            }
        }
        Ok(())
    }
}

/// Trims a script as spread does; blank means absent.
fn script(raw: Option<String>) -> Option<String> {
    raw.map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
}

/// The six slots in the order prepare, restore, debug, prepare-each, restore-each, debug-each.
fn scripts(slots: [Option<String>; 6]) -> Scripts {
    let [
        prepare,
        restore,
        debug,
        prepare_each,
        restore_each,
        debug_each,
    ] = slots.map(script);
    Scripts {
        prepare,
        restore,
        debug,
        prepare_each,
        restore_each,
        debug_each,
    }
}

/// The project without reading any task: `suite` is called for each suite to fill its tasks.
pub fn project(
    src: &Source,
    raw: RawProject,
    root: PathBuf,
    mut tasks_of: impl FnMut(&Suite) -> Result<Vec<Arc<Task>>, LoadError>,
) -> Result<Project, LoadError> {
    src.check(&["project"], rules::check_name("project", &raw.project))?;
    if raw.path.trim().is_empty() {
        return Err(src.invalid(
            &["path"],
            "missing the remote project location: set path: to an absolute directory",
        ));
    }
    let environment = src.environment(&[], raw.environment)?;
    let variants = src.list(&[], "variants", raw.variants)?;

    src.unique_keys(&["backends"], &raw.backends)?;
    let mut backends = Vec::new();
    for (name, backend) in raw.backends.0 {
        // spread drops a backend written with no settings at all.
        if let Some(backend) = backend {
            backends.push(Arc::new(self::backend(src, name, backend)?));
        }
    }
    if backends.is_empty() {
        return Err(src.invalid(&["backends"], "must define at least one backend"));
    }

    src.unique_keys(&["suites"], &raw.suites)?;
    let mut suites = Vec::new();
    for (dir, suite) in raw.suites.0 {
        let mut suite = self::suite(src, dir, suite.unwrap_or_default())?;
        suite.tasks = tasks_of(&suite)?;
        suites.push(Arc::new(suite));
    }
    if suites.is_empty() {
        return Err(src.invalid(&["suites"], "must define at least one task suite"));
    }

    Ok(Project {
        name: raw.project,
        path: raw.path,
        environment,
        variants,
        backends,
        suites,
        include: raw.include,
        exclude: raw.exclude,
        rename: raw.rename,
        repack: script(raw.repack),
        scripts: scripts([
            raw.prepare,
            raw.restore,
            raw.debug,
            raw.prepare_each,
            raw.restore_each,
            raw.debug_each,
        ]),
        kill_timeout: src.timeout(&[], "kill-timeout", raw.kill_timeout)?,
        warn_timeout: src.timeout(&[], "warn-timeout", raw.warn_timeout)?,
        priority: raw.priority,
        root,
        file: src.file.to_path_buf(),
    })
}

fn backend(src: &Source, name: String, raw: RawBackend) -> Result<Backend, LoadError> {
    let path = ["backends", name.as_str()];
    src.check(&path, rules::check_name("backend", &name))?;
    let kind = raw.kind.unwrap_or_else(|| name.clone());
    if !rules::BACKEND_TYPES.contains(&kind.as_str()) {
        return Err(src.invalid(
            &[&path[..], &["type"]].concat(),
            format!(
                "backend {name:?} has unsupported type {kind:?}: use one of {}",
                rules::BACKEND_TYPES.join(", ")
            ),
        ));
    }
    let allocate = script(raw.allocate);
    let discard = script(raw.discard);
    if kind == "adhoc" && allocate.is_none() {
        return Err(src.invalid(
            &path,
            format!("adhoc backend {name:?} requires an allocate script"),
        ));
    }
    if kind != "adhoc" && (allocate.is_some() || discard.is_some()) {
        return Err(src.invalid(
            &path,
            format!(
                "backend {name:?} of type {kind:?} cannot use allocate and discard (adhoc only)"
            ),
        ));
    }
    for size in [&raw.memory, &raw.storage].into_iter().flatten() {
        src.check(&path, rules::check_size(size))?;
    }
    if raw.systems.is_empty() {
        return Err(src.invalid(
            &[&path[..], &["systems"]].concat(),
            format!("no systems specified for backend {name:?}"),
        ));
    }
    let mut systems: Vec<Arc<System>> = Vec::new();
    for raw_system in raw.systems {
        let system = self::system(src, &name, &kind, raw_system)?;
        if systems.iter().any(|earlier| earlier.name == system.name) {
            return Err(src.invalid(
                &[&path[..], &["systems", system.name.as_str()]].concat(),
                format!("system {:?} is listed twice", system.name),
            ));
        }
        systems.push(Arc::new(system));
    }
    Ok(Backend {
        environment: src.environment(&path, raw.environment)?,
        variants: src.list(&path, "variants", raw.variants)?,
        scripts: scripts([
            raw.prepare,
            raw.restore,
            raw.debug,
            raw.prepare_each,
            raw.restore_each,
            raw.debug_each,
        ]),
        kill_timeout: src.timeout(&path, "kill-timeout", raw.kill_timeout)?,
        warn_timeout: src.timeout(&path, "warn-timeout", raw.warn_timeout)?,
        priority: raw.priority,
        manual: raw.manual,
        allocate,
        discard,
        machine: MachineOptions {
            key: raw.key,
            location: raw.location,
            plan: raw.plan,
            memory: raw.memory,
            storage: raw.storage,
            cpu_family: raw.cpu_family,
            halt_timeout: src.timeout(&path, "halt-timeout", raw.halt_timeout)?,
            ..MachineOptions::default()
        },
        systems,
        kind,
        name,
    })
}

fn system(src: &Source, backend: &str, kind: &str, raw: RawSystem) -> Result<System, LoadError> {
    let RawSystem {
        name,
        settings: raw,
    } = raw;
    let path = ["backends", backend, "systems", name.as_str()];
    src.check(&path, rules::check_system(&name))?;
    let docker = DockerOptions {
        privileged: raw.privileged,
        cap_add: raw.cap_add,
        read_only: raw.read_only,
        read_only_paths: raw.read_only_paths,
        tmpfs: raw.tmpfs,
    };
    if kind != "docker" && docker != DockerOptions::default() {
        return Err(src.invalid(
            &path,
            format!(
                "privileged, cap-add, read-only, read-only-paths and tmpfs are docker settings, \
                 but backend {backend:?} has type {kind:?}"
            ),
        ));
    }
    if let Some(storage) = &raw.storage {
        src.check(&path, rules::check_size(storage))?;
    }
    Ok(System {
        backend: backend.to_string(),
        // spread reads 0 as the default.
        workers: raw.workers.unwrap_or(0).max(1) as usize,
        image: raw.image,
        username: raw.username,
        password: raw.password,
        environment: src.environment(&path, raw.environment)?,
        variants: src.list(&path, "variants", raw.variants)?,
        priority: raw.priority,
        manual: raw.manual,
        docker,
        machine: MachineOptions {
            plan: raw.plan,
            storage: raw.storage,
            cpu_family: raw.cpu_family,
            kernel: raw.kernel,
            bios: raw.bios,
            secure_boot: raw.secure_boot,
            attach_service_account: raw.attach_service_account,
            flags: raw.flags,
            ..MachineOptions::default()
        },
        name,
    })
}

fn suite(src: &Source, dir: String, raw: RawSuite) -> Result<Suite, LoadError> {
    let path = ["suites", dir.as_str()];
    src.check(&path, rules::check_suite(&dir))?;
    let summary = script(raw.summary)
        .ok_or_else(|| src.invalid(&path, format!("suite {dir:?} is missing a summary")))?;
    Ok(Suite {
        summary,
        environment: src.environment(&path, raw.environment)?,
        variants: src.list(&path, "variants", raw.variants)?,
        systems: src.list(&path, "systems", raw.systems)?,
        backends: src.list(&path, "backends", raw.backends)?,
        scripts: scripts([
            raw.prepare,
            raw.restore,
            raw.debug,
            raw.prepare_each,
            raw.restore_each,
            raw.debug_each,
        ]),
        kill_timeout: src.timeout(&path, "kill-timeout", raw.kill_timeout)?,
        warn_timeout: src.timeout(&path, "warn-timeout", raw.warn_timeout)?,
        priority: raw.priority,
        manual: raw.manual,
        tasks: Vec::new(),
        dir,
    })
}

/// A task of `suite_dir` (e.g. `tests/main/`) read from `dir/task.yaml` (the `src`).
pub fn task(src: &Source, suite_dir: &str, dir: PathBuf, raw: RawTask) -> Result<Task, LoadError> {
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let full_name = format!("{suite_dir}{name}");
    src.check(&[], rules::check_task(&full_name))?;
    let summary = script(raw.summary).ok_or_else(|| {
        src.invalid(
            &["summary"],
            format!("task {full_name:?} is missing a summary"),
        )
    })?;
    for artifact in &raw.artifacts {
        src.check(&["artifacts"], rules::check_artifact(artifact))?;
    }
    Ok(Task {
        summary,
        details: script(raw.details),
        environment: src.environment(&[], raw.environment)?,
        variants: src.list(&[], "variants", raw.variants)?,
        systems: src.list(&[], "systems", raw.systems)?,
        backends: src.list(&[], "backends", raw.backends)?,
        prepare: script(raw.prepare),
        execute: script(raw.execute),
        restore: script(raw.restore),
        debug: script(raw.debug),
        artifacts: raw.artifacts,
        samples: raw.samples.unwrap_or(0).max(1),
        tags: raw.tags,
        kill_timeout: src.timeout(&[], "kill-timeout", raw.kill_timeout)?,
        warn_timeout: src.timeout(&[], "warn-timeout", raw.warn_timeout)?,
        priority: raw.priority,
        manual: raw.manual,
        name,
        full_name,
        dir,
    })
}
