//! Local images for docker systems, built without a registry from the recipes in `images/`.
//!
//! `recipe` reads `images/NAME/recipe.yaml`, `plan` turns a recipe and its `from:` ancestors into
//! a chain of stages named by hashes, `build` makes a missing stage through the Docker Engine API,
//! `lock` keeps concurrent processes from building twice and `progress` reports. `ensure` is the
//! one entry point: it returns `e2e/NAME:<hash>` (also tagged `e2e/NAME:latest`), building only
//! the stages whose hash has no image yet.

mod build;
mod error;
mod lock;
pub mod plan;
pub mod progress;
pub mod recipe;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::{ListImagesOptionsBuilder, RemoveImageOptions};

pub use build::{BUILD_CONTAINER_PREFIX, IMAGE_LABEL, build_container_name};
pub use error::ImageError;
pub use lock::path as lock_path;
pub use plan::{Plan, REPOSITORY_PREFIX, plan};
pub use progress::Progress;
pub use recipe::list;

/// An image ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The recipe's name: `debian-12`.
    pub name: String,
    /// `e2e/NAME:<hash>`.
    pub tag: String,
    /// Docker's image id.
    pub id: String,
    /// The hash of the recipe and its inputs.
    pub hash: String,
    /// How long building took, or `None` when every stage was already built.
    pub built: Option<Duration>,
}

/// Connects to the local Docker engine, negotiating the API version; the error says how to
/// start or install the engine.
pub async fn connect() -> Result<Docker, ImageError> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|source| ImageError::DockerUnreachable { source })?;
    docker
        .negotiate_version()
        .await
        .map_err(|source| ImageError::DockerUnreachable { source })
}

/// The recipe an image reference names: `e2e/debian-12` or `e2e/debian-12:latest` name
/// `debian-12`; any other reference names none.
pub fn recipe_name(image: &str) -> Option<&str> {
    let name = image.strip_prefix(REPOSITORY_PREFIX)?;
    let name = name.strip_suffix(":latest").unwrap_or(name);
    (!name.is_empty() && !name.contains([':', '/', '@'])).then_some(name)
}

/// Returns the image of recipe `name` under `repo_root/images/`, building what is missing.
pub async fn ensure(
    docker: &Docker,
    repo_root: &Path,
    name: &str,
    progress: &dyn Progress,
) -> Result<ImageRef, ImageError> {
    let plan = plan::plan(repo_root, name)?;
    docker
        .ping()
        .await
        .map_err(|source| ImageError::DockerUnreachable { source })?;
    let built = match image_id(docker, name, &plan.tag()).await? {
        Some(_) => None,
        None => Some(build_missing(docker, &plan, progress).await?),
    };
    let id = image_id(docker, name, &plan.tag())
        .await?
        .ok_or_else(|| ImageError::Docker {
            image: name.into(),
            action: format!("find {} after building it", plan.tag()),
            source: bollard::errors::Error::DockerStreamError {
                error: "the image vanished (removed by another process?)".into(),
            },
        })?;
    build::tag(docker, name, &id, &plan.latest()).await?;
    if built.is_some() {
        prune_superseded(docker, &plan).await?;
    }
    let image = ImageRef {
        name: name.into(),
        tag: plan.tag(),
        id,
        hash: plan.hash.clone(),
        built: built.flatten(),
    };
    progress.ready(&image);
    Ok(image)
}

/// Builds every stage that has no image, under the build lock; returns how long it took, or
/// `None` if another process had built everything by the time the lock was ours.
async fn build_missing(
    docker: &Docker,
    plan: &Plan,
    progress: &dyn Progress,
) -> Result<Option<Duration>, ImageError> {
    let _lock = lock::BuildLock::acquire(|path| {
        let waiting = format!(
            "waiting for another build to finish (lock {})",
            path.display()
        );
        progress.stage(&plan.name, &waiting);
    })
    .await?;
    let started = Instant::now();
    let mut built_any = false;

    let rootfs = &plan.rootfs;
    if image_id(docker, &rootfs.recipe, &rootfs.tag())
        .await?
        .is_none()
    {
        let what = format!(
            "mmdebstrap {} ({}) from {}",
            rootfs.mmdebstrap.suite, rootfs.mmdebstrap.variant, rootfs.mmdebstrap.mirror
        );
        progress.stage(&rootfs.recipe, &what);
        build::import_rootfs(docker, rootfs, progress).await?;
        built_any = true;
    }
    let mut below = rootfs.tag();
    for layer in &plan.layers {
        if image_id(docker, &layer.recipe, &layer.tag())
            .await?
            .is_none()
        {
            let what = match &layer.step {
                plan::Step::Run(steps) => format!("run {} step(s) on {below}", steps.len()),
                plan::Step::Copy(files) => format!("copy {} file(s) onto {below}", files.len()),
            };
            progress.stage(&layer.recipe, &what);
            build::layer(docker, layer, &below, progress).await?;
            built_any = true;
        }
        below = layer.tag();
    }
    build::tag(docker, &plan.name, &below, &plan.tag()).await?;
    Ok(built_any.then(|| started.elapsed()))
}

/// Removes every tag of `e2e/NAME` (final, intermediate and `latest`), newest image first, so
/// that the images themselves go once untagged; returns how many tags were removed.
pub async fn remove(docker: &Docker, name: &str) -> Result<usize, ImageError> {
    let tags = tags_of(docker, name).await?;
    for tag in &tags {
        docker
            .remove_image(tag, None::<RemoveImageOptions>, None)
            .await
            .map_err(|source| ImageError::Docker {
                image: name.into(),
                action: format!("remove {tag}"),
                source,
            })?;
    }
    Ok(tags.len())
}

/// Untags the stages that earlier builds left and the current recipes no longer produce: in
/// each repository this plan builds a stage in, every other tag of that stage's kind. Each new
/// `snapcell` would otherwise keep one more image per recipe, and each recipe change one more
/// root file system or run layer. (A recipe that others are built `from` gets the same stages
/// in their plans, so this never takes a stage another recipe of this tree uses.) Best effort:
/// an image a container still uses stays; an untagged stage that newer images still build on
/// stays as their parent.
async fn prune_superseded(docker: &Docker, plan: &Plan) -> Result<(), ImageError> {
    let stages = plan.stages();
    let mut recipes: Vec<&str> = stages.iter().map(|(recipe, _, _)| *recipe).collect();
    recipes.sort_unstable();
    recipes.dedup();
    for recipe in recipes {
        let repository = plan::repository(recipe);
        for tag in tags_of(docker, recipe).await? {
            let kind = plan::StageKind::of_label(&tag[repository.len() + 1..]);
            let superseded = stages.iter().any(|(stage_recipe, stage_kind, current)| {
                *stage_recipe == recipe && Some(*stage_kind) == kind && *current != tag
            });
            if superseded {
                let _ = docker
                    .remove_image(&tag, None::<RemoveImageOptions>, None)
                    .await;
            }
        }
    }
    Ok(())
}

/// Every `e2e/NAME:TAG`, newest image first.
async fn tags_of(docker: &Docker, name: &str) -> Result<Vec<String>, ImageError> {
    let repository = plan::repository(name);
    let options = ListImagesOptionsBuilder::default()
        .filters(&HashMap::from([("reference", vec![repository.as_str()])]))
        .build();
    let mut listed =
        docker
            .list_images(Some(options))
            .await
            .map_err(|source| ImageError::Docker {
                image: name.into(),
                action: format!("list the images of {repository}"),
                source,
            })?;
    listed.sort_by_key(|image| std::cmp::Reverse(image.created));
    let prefix = format!("{repository}:");
    Ok(listed
        .into_iter()
        .flat_map(|image| image.repo_tags)
        .filter(|tag| tag.starts_with(&prefix))
        .collect())
}

/// The id of the image tagged `reference`, or `None` if there is none.
async fn image_id(
    docker: &Docker,
    image: &str,
    reference: &str,
) -> Result<Option<String>, ImageError> {
    match docker.inspect_image(reference).await {
        Ok(inspected) => Ok(inspected.id),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(source) => Err(ImageError::Docker {
            image: image.into(),
            action: format!("inspect {reference}"),
            source,
        }),
    }
}
