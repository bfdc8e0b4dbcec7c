//! The docker backend: one labelled container per machine, driven through the Engine API
//! (bollard, API version negotiated).
//!
//! A machine is `sleep infinity` under the engine's init, so scripts run through `exec` and a
//! REBOOT is a container restart. Every container carries the labels in [`labels`], which is
//! how `-gc`, `-discard` and the tests find them.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    RestartContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

mod agent;
mod terminal;

use super::{BackendError, Machine, MachineRequest, Output};
use crate::project::DockerOptions;

/// Label present on every container the harness creates.
pub const LABEL: &str = "io.snapcell.harness";
/// Label naming the run that created the container.
pub const LABEL_RUN: &str = "io.snapcell.harness.run";
/// Label naming the `backend:system` the container serves.
pub const LABEL_SYSTEM: &str = "io.snapcell.harness.system";
/// Label with the process id of the harness that created the container (for `-gc`).
pub const LABEL_PID: &str = "io.snapcell.harness.pid";
/// Label with the project directory on the host (for `-gc`).
pub const LABEL_PROJECT: &str = "io.snapcell.harness.project";

/// Paths the engine makes read-only by default; setting read-only paths replaces the default
/// list, so it is kept.
const DEFAULT_READ_ONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Environment variable that marks every process of one script run.
const TAG_VARIABLE: &str = "HARNESS_RUN_TAG";

/// Connects to the local engine and negotiates the API version.
pub async fn connect() -> Result<Docker, BackendError> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|e| BackendError::Connect(format!("{e} (is dockerd running?)")))?;
    docker.negotiate_version().await.map_err(|e| {
        BackendError::Connect(format!(
            "{e} (is dockerd running and is this user allowed to use /var/run/docker.sock?)"
        ))
    })
}

/// The labels of a machine allocated for `request`.
pub fn labels(request: &MachineRequest) -> HashMap<String, String> {
    HashMap::from([
        (LABEL.to_owned(), "1".to_owned()),
        (LABEL_RUN.to_owned(), request.run_id.clone()),
        (LABEL_SYSTEM.to_owned(), request.system.clone()),
        (LABEL_PID.to_owned(), std::process::id().to_string()),
        (LABEL_PROJECT.to_owned(), request.project.clone()),
    ])
}

/// Allocates containers.
#[derive(Debug, Clone)]
pub struct DockerBackend {
    docker: Docker,
}

impl DockerBackend {
    pub fn new(docker: Docker) -> Self {
        DockerBackend { docker }
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Ids of the containers carrying every `label=value` in `filters`.
    pub async fn list(
        &self,
        filters: &[(&str, &str)],
    ) -> Result<Vec<(String, HashMap<String, String>)>, BackendError> {
        let labels = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&HashMap::from([("label".to_owned(), labels)]))
            .build();
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| BackendError::operation("list", "containers", e))?;
        Ok(containers
            .into_iter()
            .filter_map(|c| Some((c.id?, c.labels.unwrap_or_default())))
            .collect())
    }

    /// Removes a container by id, forcefully; an already removed container is not an error.
    pub async fn remove(&self, id: &str) -> Result<(), BackendError> {
        remove(&self.docker, id).await
    }
}

impl super::Backend for DockerBackend {
    type Machine = Container;

    async fn validate(&self, request: &MachineRequest) -> Result<(), BackendError> {
        match self.docker.inspect_image(&request.image).await {
            Ok(_) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                let hint = match request.image.strip_prefix("e2e/") {
                    Some(name) => format!(
                        "build it with `cargo xtask images {}`",
                        name.split(':').next().unwrap_or(name)
                    ),
                    None => "build or import it first (no registry is used)".to_owned(),
                };
                Err(BackendError::operation(
                    "use image",
                    &request.image,
                    format!("no such image for system {}; {hint}", request.system),
                ))
            }
            Err(e) => Err(BackendError::operation("inspect image", &request.image, e)),
        }
    }

    async fn allocate(&self, request: &MachineRequest) -> Result<Container, BackendError> {
        let name = container_name(request);
        let body = ContainerCreateBody {
            image: Some(request.image.clone()),
            cmd: Some(vec!["sleep".into(), "infinity".into()]),
            labels: Some(labels(request)),
            hostname: Some(hostname(&request.system)),
            host_config: Some(host_config(&request.options)),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| BackendError::operation("create a container for", &request.system, e))?;
        let container = Container {
            docker: self.docker.clone(),
            agent: Default::default(),
            id: created.id,
            label: name,
            system: request.system.clone(),
            mount_read_only_paths: request.options.privileged,
            read_only_paths: request.options.read_only_paths.clone(),
        };
        // From here on the container exists: any failure removes it before returning.
        if let Err(error) = container.start().await {
            let _ = container.discard().await;
            return Err(error);
        }
        Ok(container)
    }

    async fn reattach(&self, id: &str, system: &str) -> Result<Container, BackendError> {
        let inspected = self
            .docker
            .inspect_container(id, None)
            .await
            .map_err(|e| BackendError::operation("find the kept container of", system, e))?;
        let name = inspected
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned();
        let running = inspected.state.and_then(|s| s.running).unwrap_or(false);
        let container = Container {
            docker: self.docker.clone(),
            agent: Default::default(),
            id: id.to_owned(),
            label: name,
            system: system.to_owned(),
            mount_read_only_paths: false,
            read_only_paths: Vec::new(),
        };
        if !running {
            container.start().await?;
        }
        Ok(container)
    }
}

fn container_name(request: &MachineRequest) -> String {
    let system: String = request
        .system
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("harness-{}-{system}-{}", request.run_id, request.worker)
}

fn hostname(system: &str) -> String {
    let name = system.rsplit(':').next().unwrap_or(system);
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect()
}

fn host_config(options: &DockerOptions) -> HostConfig {
    let tmpfs: HashMap<String, String> = options
        .tmpfs
        .iter()
        .map(|path| (path.clone(), String::new()))
        .collect();
    // The engine drops read-only paths for privileged containers; those are bind-mounted
    // read-only from inside after start instead (see `Container::start`).
    let read_only_paths = (!options.read_only_paths.is_empty() && !options.privileged).then(|| {
        DEFAULT_READ_ONLY_PATHS
            .iter()
            .map(|p| p.to_string())
            .chain(options.read_only_paths.iter().cloned())
            .collect()
    });
    HostConfig {
        init: Some(true),
        privileged: Some(options.privileged),
        cap_add: (!options.cap_add.is_empty()).then(|| options.cap_add.clone()),
        readonly_rootfs: Some(options.read_only),
        readonly_paths: read_only_paths,
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        ..Default::default()
    }
}

async fn remove(docker: &Docker, id: &str) -> Result<(), BackendError> {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        // Another request (an abandoned one of this run) is removing it: wait until it is gone.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => wait_until_gone(docker, id).await,
        Err(e) => Err(BackendError::operation("remove container", id, e)),
    }
}

async fn wait_until_gone(docker: &Docker, id: &str) -> Result<(), BackendError> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        match docker.inspect_container(id, None).await {
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                return Ok(());
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    Err(BackendError::operation(
        "remove container",
        id,
        "its removal did not finish within 60 s",
    ))
}

/// One container serving as a machine.
pub struct Container {
    docker: Docker,
    /// The script agent, started on first use; `None` again after a reboot, or when a run was
    /// abandoned half-way (its state is then unknown).
    agent: tokio::sync::Mutex<Option<agent::Agent>>,
    id: String,
    label: String,
    system: String,
    mount_read_only_paths: bool,
    read_only_paths: Vec<String>,
}

impl Container {
    async fn start(&self) -> Result<(), BackendError> {
        self.docker
            .start_container(&self.id, None)
            .await
            .map_err(|e| BackendError::operation("start the container of", &self.system, e))?;
        if self.mount_read_only_paths && !self.read_only_paths.is_empty() {
            self.make_paths_read_only().await?;
        }
        Ok(())
    }

    async fn make_paths_read_only(&self) -> Result<(), BackendError> {
        let script: String = self
            .read_only_paths
            .iter()
            .map(|p| format!("mount --bind '{p}' '{p}' && mount -o remount,bind,ro '{p}'\n"))
            .collect();
        let output = Output::default();
        let status = self
            .run(&format!("set -e\n{script}"), "read-only-paths", &output)
            .await?;
        if status != 0 {
            return Err(BackendError::operation(
                "make paths read-only on",
                &self.system,
                output.text().trim(),
            ));
        }
        Ok(())
    }

    async fn exec(
        &self,
        cmd: Vec<String>,
        env: Vec<String>,
        tty: bool,
        stdin: bool,
    ) -> Result<(String, StartExecResults), BackendError> {
        let options = CreateExecOptions {
            attach_stdin: Some(stdin),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(tty),
            env: Some(env),
            cmd: Some(cmd),
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(&self.id, options)
            .await
            .map_err(|e| BackendError::operation("run a script on", &self.system, e))?;
        let started = self
            .docker
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    tty,
                    ..Default::default()
                }),
            )
            .await
            .map_err(|e| BackendError::operation("run a script on", &self.system, e))?;
        Ok((created.id, started))
    }

    async fn start_agent(&self) -> Result<agent::Agent, BackendError> {
        let token = format!("{:016x}", rand::random::<u64>());
        let cmd = vec![
            "/bin/bash".into(),
            "-c".into(),
            agent::PROGRAM.into(),
            "agent".into(),
            token.clone(),
        ];
        match self.exec(cmd, Vec::new(), false, true).await? {
            (_, StartExecResults::Attached { output, input }) => {
                Ok(agent::Agent::new(token, input, output))
            }
            (_, StartExecResults::Detached) => Err(BackendError::operation(
                "start the script agent on",
                &self.system,
                "the engine detached it",
            )),
        }
    }

    async fn exit_status(&self, exec_id: &str) -> Result<i64, BackendError> {
        let inspected = self.docker.inspect_exec(exec_id).await.map_err(|e| {
            BackendError::operation("read the exit status of a script on", &self.system, e)
        })?;
        Ok(inspected.exit_code.unwrap_or(-1))
    }
}

impl Machine for Container {
    fn id(&self) -> &str {
        &self.id
    }

    fn label(&self) -> &str {
        &self.label
    }

    /// Unpacks with the container's own tar rather than the engine's archive API, which can
    /// write neither into tmpfs mounts nor under a read-only root.
    async fn send(&self, tar: Bytes) -> Result<(), BackendError> {
        let failed =
            |reason: String| BackendError::operation("send the project to", &self.system, reason);
        let cmd = vec!["tar".into(), "-x".into(), "-C".into(), "/".into()];
        let (exec_id, started) = self.exec(cmd, Vec::new(), false, true).await?;
        let StartExecResults::Attached {
            mut output,
            mut input,
        } = started
        else {
            return Err(failed("the engine detached tar".into()));
        };
        let writing = async move {
            input.write_all(&tar).await?;
            input.shutdown().await
        };
        let reading = async {
            let collected = Output::default();
            while let Some(Ok(item)) = output.next().await {
                collected.append(&item.into_bytes());
            }
            collected.text()
        };
        let (written, messages) = tokio::join!(writing, reading);
        match self.exit_status(&exec_id).await? {
            0 => written.map_err(|e| failed(e.to_string())),
            status => Err(failed(format!(
                "tar exited with status {status}: {}",
                messages.trim()
            ))),
        }
    }

    async fn run(&self, script: &str, tag: &str, output: &Output) -> Result<i64, BackendError> {
        let mut slot = self.agent.lock().await;
        let mut agent = match slot.take() {
            Some(agent) => agent,
            None => self.start_agent().await?,
        };
        match agent.run(script, tag, output).await {
            Ok(status) => {
                *slot = Some(agent);
                Ok(status)
            }
            // The container stopped under the script (it rebooted or was removed).
            Err(agent::Lost) => Ok(-1),
        }
    }

    async fn kill(&self, tag: &str) -> Result<(), BackendError> {
        // Children inherit the tag in their environment, so walking /proc finds the whole tree
        // (including daemons that left their process group) with nothing but bash and grep.
        let script = format!(
            "for round in 1 2 3; do for e in /proc/[0-9]*/environ; do \
             p=${{e#/proc/}}; p=${{p%/environ}}; [ \"$p\" = $$ ] && continue; \
             grep -qz '^{TAG_VARIABLE}={tag}$' \"$e\" 2>/dev/null && kill -9 \"$p\" 2>/dev/null; \
             done; done; true"
        );
        let output = Output::default();
        let cmd = vec!["/bin/bash".into(), "-c".into(), script];
        let (exec_id, started) = self.exec(cmd, Vec::new(), false, false).await?;
        if let StartExecResults::Attached {
            output: mut stream, ..
        } = started
        {
            while let Some(Ok(item)) = stream.next().await {
                output.append(&item.into_bytes());
            }
        }
        match self.exit_status(&exec_id).await? {
            0 => Ok(()),
            status => Err(BackendError::operation(
                "kill a script on",
                &self.system,
                format!("exit status {status}: {}", output.text().trim()),
            )),
        }
    }

    async fn reboot(&self) -> Result<(), BackendError> {
        // The agent dies with the container's processes.
        self.agent.lock().await.take();
        let options = RestartContainerOptionsBuilder::default().t(2).build();
        self.docker
            .restart_container(&self.id, Some(options))
            .await
            .map_err(|e| BackendError::operation("reboot", &self.system, e))?;
        if self.mount_read_only_paths && !self.read_only_paths.is_empty() {
            self.make_paths_read_only().await?;
        }
        Ok(())
    }

    /// Packs with the container's own tar (which also reads tmpfs mounts, unlike the engine's
    /// archive API); missing artifacts are skipped, as spread's `--ignore-failed-read` does.
    async fn fetch(&self, dir: &str, paths: &[String], dest: &Path) -> Result<(), BackendError> {
        let failed =
            |reason: String| BackendError::operation("fetch artifacts from", &self.system, reason);
        let mut cmd: Vec<String> = ["tar", "-c", "-C", dir, "--ignore-failed-read", "--"]
            .map(String::from)
            .into();
        cmd.extend(paths.iter().cloned());
        let (exec_id, started) = self.exec(cmd, Vec::new(), false, false).await?;
        let (mut archive, mut messages) = (Vec::new(), Vec::new());
        if let StartExecResults::Attached { mut output, .. } = started {
            while let Some(item) = output.next().await {
                match item.map_err(|e| failed(e.to_string()))? {
                    LogOutput::StdOut { message } => archive.extend_from_slice(&message),
                    other => messages.extend_from_slice(&other.into_bytes()),
                }
            }
        }
        let status = self.exit_status(&exec_id).await?;
        if status != 0 {
            return Err(failed(format!(
                "tar exited with status {status}: {}",
                String::from_utf8_lossy(&messages).trim()
            )));
        }
        std::fs::create_dir_all(dest)
            .and_then(|()| tar::Archive::new(archive.as_slice()).unpack(dest))
            .map_err(|e| {
                BackendError::operation(
                    "store artifacts of",
                    &self.system,
                    format!("{}: {e}", dest.display()),
                )
            })
    }

    async fn shell(&self, script: &str) -> Result<(), BackendError> {
        let terminal = terminal::RawTerminal::enter()?;
        let term = std::env::var("TERM").unwrap_or_else(|_| "xterm".into());
        let cmd = vec!["/bin/bash".into(), "-c".into(), script.to_owned()];
        let (exec_id, started) = self
            .exec(cmd, vec![format!("TERM={term}")], true, true)
            .await?;
        let StartExecResults::Attached {
            mut output,
            mut input,
        } = started
        else {
            return Ok(());
        };
        if let Some((width, height)) = terminal.size() {
            let _ = self
                .docker
                .resize_exec(&exec_id, ResizeExecOptions { width, height })
                .await;
        }
        let mut keys = terminal.keys();
        let mut stdout = std::io::stdout();
        loop {
            tokio::select! {
                item = output.next() => match item {
                    Some(Ok(item)) => {
                        let _ = stdout.write_all(&item.into_bytes());
                        let _ = stdout.flush();
                    }
                    _ => break,
                },
                Some(bytes) = keys.recv() => {
                    if input.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
            }
        }
        drop(terminal);
        Ok(())
    }

    async fn discard(&self) -> Result<(), BackendError> {
        remove(&self.docker, &self.id).await
    }
}
