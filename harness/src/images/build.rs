//! Building one stage through the Docker Engine API: `mmdebstrap` piped into an import, `run:`
//! steps executed in a container and committed, `copy:` files put into a container and committed.
//!
//! Every stage ends tagged (`Rootfs::tag`, `Layer::tag`) or not at all: a failed step leaves no tag behind, and
//! the build containers (named `images-build-...`) are always removed.

use std::collections::{HashMap, VecDeque};
use std::process::Stdio;

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerConfig, ContainerCreateBody};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, CreateContainerOptionsBuilder, CreateImageOptionsBuilder,
    RemoveContainerOptions, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
    TagImageOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::plan::{CopyInput, Layer, Rootfs, Step};
use super::{ImageError, Progress};

/// Name prefix of the short-lived containers that run and commit stages. (A name, not a
/// label: a commit keeps the container's labels, and every container of the image would
/// inherit it.)
pub const BUILD_CONTAINER_PREFIX: &str = "images-build-";
/// Label of every image built here: the recipe's name.
pub const IMAGE_LABEL: &str = "io.snapcell.image";

/// How many lines of a failed tool's output an error shows.
const TAIL_LINES: usize = 40;

/// Builds `layer` on top of the image tagged `below`.
pub async fn layer(
    docker: &Docker,
    layer: &Layer,
    below: &str,
    progress: &dyn Progress,
) -> Result<(), ImageError> {
    let start = matches!(layer.step, Step::Run(_));
    let container = BuildContainer::create(docker, layer, below, start).await?;
    let result = match &layer.step {
        Step::Run(steps) => run_steps(&container, steps, progress).await,
        Step::Copy(files) => copy_files(&container, files).await,
    };
    container.finish(result).await
}

/// Runs `mmdebstrap` and imports its tar as the image tagged `rootfs.tag()`.
pub async fn import_rootfs(
    docker: &Docker,
    rootfs: &Rootfs,
    progress: &dyn Progress,
) -> Result<(), ImageError> {
    let (image, mmdebstrap) = (rootfs.recipe.as_str(), &rootfs.mmdebstrap);
    let mut child = tokio::process::Command::new("mmdebstrap")
        .arg(format!("--variant={}", mmdebstrap.variant))
        .args(
            (!mmdebstrap.include.is_empty())
                .then(|| format!("--include={}", mmdebstrap.include.join(","))),
        )
        .args(["--format=tar", &mmdebstrap.suite, "-", &mmdebstrap.mirror])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ImageError::MmdebstrapMissing {
                image: image.into(),
            },
            _ => ImageError::Io {
                path: "mmdebstrap".into(),
                source,
            },
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    let mut tail = Tail::default();
    let log = async {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            progress.output(image, &line);
            tail.push(line);
        }
    };
    let import = async {
        let options = CreateImageOptionsBuilder::default()
            .from_src("-")
            .changes(vec![r#"CMD ["/bin/bash"]"#.to_string()])
            .build();
        let responses: Vec<_> = docker
            .create_image(
                Some(options),
                Some(bollard::body_try_stream(chunks(stdout))),
                None,
            )
            .try_collect()
            .await?;
        Ok::<_, bollard::errors::Error>(
            responses
                .into_iter()
                .filter_map(|info| info.status)
                .find(|status| status.starts_with("sha256:")),
        )
    };
    let ((), imported) = tokio::join!(log, import);
    let status = child.wait().await.map_err(|source| ImageError::Io {
        path: "mmdebstrap".into(),
        source,
    })?;
    if !status.success() {
        if let Ok(Some(id)) = &imported {
            // A truncated tar imports fine; it must not survive as an image.
            let options = RemoveImageOptionsBuilder::default().force(true).build();
            let _ = docker.remove_image(id, Some(options), None).await;
        }
        return Err(ImageError::Mmdebstrap {
            image: image.into(),
            status: status.to_string(),
            output: tail.text(),
        });
    }
    let imported =
        imported.map_err(|source| docker_error(image, "import the root file system", source))?;
    let id = imported.ok_or_else(|| {
        docker_error(
            image,
            "import the root file system",
            bollard::errors::Error::DockerStreamError {
                error: "the import answered without an image id".into(),
            },
        )
    })?;
    tag(docker, image, &id, &rootfs.tag()).await
}

/// The output of a child process as a stream of chunks.
fn chunks(
    source: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::try_unfold(source, |mut source| async move {
        let mut buffer = vec![0; 1 << 16];
        let read = source.read(&mut buffer).await?;
        buffer.truncate(read);
        Ok((read > 0).then(|| (Bytes::from(buffer), source)))
    })
}

/// Tags the image `id` as `target` (`repo:tag`).
pub async fn tag(docker: &Docker, image: &str, id: &str, target: &str) -> Result<(), ImageError> {
    let (repo, tag) = target.rsplit_once(':').expect("tags are repo:tag");
    docker
        .tag_image(
            id,
            Some(
                TagImageOptionsBuilder::default()
                    .repo(repo)
                    .tag(tag)
                    .build(),
            ),
        )
        .await
        .map_err(|source| docker_error(image, &format!("tag {target}"), source))
}

/// `images-build-e2e-NAME-KIND-HASH`.
pub fn build_container_name(layer: &Layer) -> String {
    format!(
        "{BUILD_CONTAINER_PREFIX}{}",
        layer.tag().replace(['/', ':'], "-")
    )
}

fn force_removal() -> RemoveContainerOptions {
    RemoveContainerOptionsBuilder::default().force(true).build()
}

/// A container that becomes a stage: created, changed, committed under the stage's tag, removed.
struct BuildContainer<'a> {
    docker: &'a Docker,
    id: String,
    layer: &'a Layer,
}

impl<'a> BuildContainer<'a> {
    async fn create(
        docker: &'a Docker,
        layer: &'a Layer,
        below: &str,
        start: bool,
    ) -> Result<Self, ImageError> {
        let image = layer.recipe.as_str();
        let name = build_container_name(layer);
        // We hold the build lock: a container of that name is left over from a killed build.
        let _ = docker.remove_container(&name, Some(force_removal())).await;
        let config = ContainerCreateBody {
            image: Some(below.into()),
            cmd: Some(vec!["sleep".into(), "infinity".into()]),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = docker
            .create_container(Some(options), config)
            .await
            .map_err(|source| {
                docker_error(image, &format!("create a container from {below}"), source)
            })?;
        let container = BuildContainer {
            docker,
            id: created.id,
            layer,
        };
        if start && let Err(source) = docker.start_container(&container.id, None).await {
            return container
                .finish(Err(docker_error(
                    image,
                    "start the build container",
                    source,
                )))
                .await;
        }
        Ok(container)
    }

    /// Commits when `result` is a success, and removes the container in every case.
    async fn finish<T>(self, result: Result<T, ImageError>) -> Result<T, ImageError> {
        let committed = match result {
            Ok(value) => self.commit().await.map(|()| value),
            Err(err) => Err(err),
        };
        let removed = self
            .docker
            .remove_container(&self.id, Some(force_removal()))
            .await
            .map_err(|source| {
                docker_error(&self.layer.recipe, "remove the build container", source)
            });
        let value = committed?;
        removed?;
        Ok(value)
    }

    async fn commit(&self) -> Result<(), ImageError> {
        let target = self.layer.tag();
        let (repo, tag) = target.rsplit_once(':').expect("tags are repo:tag");
        let options = CommitContainerOptionsBuilder::default()
            .container(&self.id)
            .repo(repo)
            .tag(tag)
            .pause(true)
            .build();
        let config = ContainerConfig {
            cmd: Some(vec!["/bin/bash".into()]),
            labels: Some(HashMap::from([(
                IMAGE_LABEL.to_string(),
                self.layer.recipe.clone(),
            )])),
            ..Default::default()
        };
        self.docker
            .commit_container(options, config)
            .await
            .map(drop)
            .map_err(|source| docker_error(&self.layer.recipe, &format!("commit {target}"), source))
    }
}

async fn run_steps(
    container: &BuildContainer<'_>,
    steps: &[String],
    progress: &dyn Progress,
) -> Result<(), ImageError> {
    let image = container.layer.recipe.as_str();
    for (index, step) in steps.iter().enumerate() {
        if steps.len() > 1 {
            progress.stage(image, &format!("run step {} of {}", index + 1, steps.len()));
        }
        let (status, output) = exec(container, step, progress).await?;
        if status != 0 {
            return Err(ImageError::RunStep {
                image: image.into(),
                recipe: container.layer.recipe_file.clone(),
                step: index + 1,
                status,
                output,
            });
        }
    }
    Ok(())
}

/// Runs one step with bash and returns its exit status and the tail of its output.
async fn exec(
    container: &BuildContainer<'_>,
    step: &str,
    progress: &dyn Progress,
) -> Result<(i64, String), ImageError> {
    let (docker, image) = (container.docker, container.layer.recipe.as_str());
    let failed = |source| docker_error(image, "run a step in the build container", source);
    let exec = docker
        .create_exec(
            &container.id,
            CreateExecOptions {
                cmd: Some(vec!["bash", "-euo", "pipefail", "-c", step]),
                env: Some(vec!["DEBIAN_FRONTEND=noninteractive", "LC_ALL=C.UTF-8"]),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(failed)?;
    let mut tail = Tail::default();
    if let StartExecResults::Attached { mut output, .. } =
        docker.start_exec(&exec.id, None).await.map_err(failed)?
    {
        let mut pending = String::new();
        while let Some(chunk) = output.next().await {
            pending.push_str(&String::from_utf8_lossy(
                &chunk.map_err(failed)?.into_bytes(),
            ));
            while let Some(end) = pending.find('\n') {
                let line: String = pending.drain(..=end).collect();
                progress.output(image, line.trim_end());
                tail.push(line.trim_end().to_string());
            }
        }
        if !pending.is_empty() {
            tail.push(pending);
        }
    }
    let inspected = docker.inspect_exec(&exec.id).await.map_err(failed)?;
    Ok((inspected.exit_code.unwrap_or(-1), tail.text()))
}

async fn copy_files(container: &BuildContainer<'_>, files: &[CopyInput]) -> Result<(), ImageError> {
    let image = container.layer.recipe.as_str();
    let archive = archive(files).map_err(|source| ImageError::Io {
        path: "copy layer archive".into(),
        source,
    })?;
    container
        .docker
        .upload_to_container(
            &container.id,
            Some(UploadToContainerOptionsBuilder::default().path("/").build()),
            bollard::body_full(archive.into()),
        )
        .await
        .map_err(|source| docker_error(image, "copy files into the build container", source))
}

/// A tar of the `copy:` files, owned by root with their modes (setuid included).
fn archive(files: &[CopyInput]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.content.len() as u64);
        header.set_mode(file.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(
            &mut header,
            file.dest.trim_start_matches('/'),
            file.content.as_slice(),
        )?;
    }
    builder.into_inner()
}

fn docker_error(image: &str, action: &str, source: bollard::errors::Error) -> ImageError {
    ImageError::Docker {
        image: image.into(),
        action: action.into(),
        source,
    }
}

/// The last lines of a tool's output, for error messages.
#[derive(Default)]
struct Tail(VecDeque<String>);

impl Tail {
    fn push(&mut self, line: String) {
        if self.0.len() == TAIL_LINES {
            self.0.pop_front();
        }
        self.0.push_back(line);
    }

    fn text(&self) -> String {
        Vec::from(self.0.clone()).join("\n")
    }
}
