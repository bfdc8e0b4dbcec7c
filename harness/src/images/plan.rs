//! From a recipe to the chain of stages that build it, each named by a hash of what it is made of.
//!
//! Pure apart from reading the recipes and the `copy:` inputs. A stage's hash covers its own
//! definition and the hash of the stage below it, so editing a recipe rebuilds that stage and
//! everything above it, and a new `snapcell` rebuilds only the `copy:` layers.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ImageError;
use super::recipe::{self, Base, CopyFile, Mmdebstrap, Recipe};

/// The Docker repository prefix of every image built here: `e2e/NAME`.
pub const REPOSITORY_PREFIX: &str = "e2e/";

/// Bumped when the way a kind of stage is built changes, so that old images are not reused.
/// Layers are at 2: their images no longer inherit the build container's label.
fn builder_version(kind: &str) -> &'static str {
    if kind == "rootfs" { "1" } else { "2" }
}

/// How many hex digits of the sha256 name an image.
const HASH_DIGITS: usize = 16;

/// Everything needed to build one image.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The recipe asked for.
    pub name: String,
    /// The bottom of the chain: the root recipe's `mmdebstrap`.
    pub rootfs: Rootfs,
    /// Bottom first; each layer is built on the stage before it.
    pub layers: Vec<Layer>,
    /// The hash of the finished image: the last stage's.
    pub hash: String,
}

impl Plan {
    /// `e2e/NAME:<hash>`.
    pub fn tag(&self) -> String {
        format!("{}:{}", repository(&self.name), self.hash)
    }

    /// Every stage this plan builds, bottom first, as (recipe, kind, tag); the finished image
    /// is the last, of kind [`StageKind::Finished`].
    pub fn stages(&self) -> Vec<(&str, StageKind, String)> {
        std::iter::once((
            self.rootfs.recipe.as_str(),
            StageKind::Rootfs,
            self.rootfs.tag(),
        ))
        .chain(
            self.layers
                .iter()
                .map(|layer| (layer.recipe.as_str(), layer.kind(), layer.tag())),
        )
        .chain(std::iter::once((
            self.name.as_str(),
            StageKind::Finished,
            self.tag(),
        )))
        .collect()
    }

    /// `e2e/NAME:latest`.
    pub fn latest(&self) -> String {
        format!("{}:latest", repository(&self.name))
    }
}

/// A root file system made by `mmdebstrap` and imported.
#[derive(Debug, Clone)]
pub struct Rootfs {
    pub recipe: String,
    pub hash: String,
    pub mmdebstrap: Mmdebstrap,
}

impl Rootfs {
    /// `e2e/RECIPE:rootfs-<hash>`.
    pub fn tag(&self) -> String {
        stage_tag(&self.recipe, StageKind::Rootfs, &self.hash)
    }
}

/// A committed change on top of the stage below.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The recipe this layer belongs to, and its file (for messages).
    pub recipe: String,
    pub recipe_file: PathBuf,
    pub hash: String,
    pub step: Step,
}

impl Layer {
    /// `e2e/RECIPE:system-<hash>` or `e2e/RECIPE:copy-<hash>`.
    pub fn tag(&self) -> String {
        stage_tag(&self.recipe, self.kind(), &self.hash)
    }

    pub fn kind(&self) -> StageKind {
        match self.step {
            Step::Run(_) => StageKind::System,
            Step::Copy(_) => StageKind::Copy,
        }
    }
}

/// What a tagged image of a recipe's repository is. A recipe builds at most one stage of each
/// kind, so any other tag of that kind in its repository was left by an older recipe or input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    /// `rootfs-<hash>`: the imported mmdebstrap root file system.
    Rootfs,
    /// `system-<hash>`: a recipe's `run:` steps.
    System,
    /// `copy-<hash>`: the files of `copy:`.
    Copy,
    /// `<hash>`: the finished image.
    Finished,
}

impl StageKind {
    fn prefix(self) -> &'static str {
        match self {
            StageKind::Rootfs => "rootfs-",
            StageKind::System => "system-",
            StageKind::Copy => "copy-",
            StageKind::Finished => "",
        }
    }

    /// The kind of a tag's label (the part after `e2e/NAME:`), if it is a stage's.
    pub fn of_label(label: &str) -> Option<StageKind> {
        [
            StageKind::Rootfs,
            StageKind::System,
            StageKind::Copy,
            StageKind::Finished,
        ]
        .into_iter()
        .find(|kind| label.strip_prefix(kind.prefix()).is_some_and(is_hash))
    }
}

/// What a layer does.
#[derive(Debug, Clone)]
pub enum Step {
    /// Run shell steps in a container and commit it.
    Run(Vec<String>),
    /// Put files into a container and commit it.
    Copy(Vec<CopyInput>),
}

/// A `copy:` entry with the file's content, read once so that what is hashed is what is copied.
#[derive(Debug, Clone)]
pub struct CopyInput {
    pub dest: String,
    pub mode: u32,
    pub content: Vec<u8>,
}

/// Intermediate stages are tagged too, so that they are cached.
fn stage_tag(recipe: &str, kind: StageKind, hash: &str) -> String {
    format!("{}:{}{hash}", repository(recipe), kind.prefix())
}

/// Whether `text` has the shape of a stage hash (a finished image's tag).
fn is_hash(text: &str) -> bool {
    text.len() == HASH_DIGITS
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `e2e/NAME`.
pub fn repository(name: &str) -> String {
    format!("{REPOSITORY_PREFIX}{name}")
}

/// Reads `name` and the recipes it is built from, and hashes every stage.
pub fn plan(repo_root: &Path, name: &str) -> Result<Plan, ImageError> {
    let (mmdebstrap, chain) = load_chain(repo_root, name)?;
    let rootfs = Rootfs {
        recipe: chain[0].name.clone(),
        hash: rootfs_hash(&mmdebstrap),
        mmdebstrap,
    };
    let mut layers = run_layers(&chain, &rootfs.hash);
    let copies = chain
        .iter()
        .flat_map(|recipe| recipe.copy.iter().map(move |copy| (recipe, copy)))
        .map(|(recipe, copy)| read_copy(repo_root, recipe, copy))
        .collect::<Result<Vec<_>, _>>()?;
    if !copies.is_empty() {
        let top = &chain[chain.len() - 1];
        let below = layers.last().map_or(&rootfs.hash, |layer| &layer.hash);
        layers.push(Layer {
            recipe: top.name.clone(),
            recipe_file: top.file.clone(),
            hash: copy_hash(below, &copies),
            step: Step::Copy(copies),
        });
    }
    let hash = layers
        .last()
        .map_or(&rootfs.hash, |layer| &layer.hash)
        .clone();
    Ok(Plan {
        name: name.into(),
        rootfs,
        layers,
        hash,
    })
}

/// `name` and its `from:` ancestors, root first, with the root's `mmdebstrap`.
fn load_chain(repo_root: &Path, name: &str) -> Result<(Mmdebstrap, Vec<Recipe>), ImageError> {
    let mut chain: Vec<Recipe> = Vec::new();
    let mut seen = HashSet::new();
    let mut current = name.to_string();
    loop {
        if !seen.insert(current.clone()) {
            let mut cycle: Vec<String> = chain.iter().map(|r| r.name.clone()).collect();
            cycle.push(current);
            return Err(ImageError::Cycle { chain: cycle });
        }
        let recipe = recipe::load(repo_root, &current)?;
        match &recipe.base {
            Base::From(parent) => current = parent.clone(),
            Base::Mmdebstrap(mmdebstrap) => {
                let mmdebstrap = mmdebstrap.clone();
                chain.push(recipe);
                chain.reverse();
                return Ok((mmdebstrap, chain));
            }
        }
        chain.push(recipe);
    }
}

/// One layer per recipe that has `run:` steps, on top of the root file system.
fn run_layers(chain: &[Recipe], rootfs_hash: &str) -> Vec<Layer> {
    let mut layers: Vec<Layer> = Vec::new();
    for recipe in chain.iter().filter(|recipe| !recipe.run.is_empty()) {
        let below = layers.last().map_or(rootfs_hash, |layer| &layer.hash);
        layers.push(Layer {
            recipe: recipe.name.clone(),
            recipe_file: recipe.file.clone(),
            hash: run_hash(below, &recipe.run),
            step: Step::Run(recipe.run.clone()),
        });
    }
    layers
}

fn read_copy(repo_root: &Path, recipe: &Recipe, copy: &CopyFile) -> Result<CopyInput, ImageError> {
    let path = repo_root.join(&copy.src);
    let content = std::fs::read(&path).map_err(|source| ImageError::MissingInput {
        recipe: recipe.file.clone(),
        src: copy.src.clone(),
        hint: missing_input_hint(&copy.src),
        source,
    })?;
    Ok(CopyInput {
        dest: copy.dest.clone(),
        mode: copy.mode,
        content,
    })
}

fn missing_input_hint(src: &Path) -> String {
    if src.starts_with("target") {
        "build it first: `cargo xtask images` builds the release binaries before the images".into()
    } else {
        "restore the file or fix `src`".into()
    }
}

/// Fields are length-prefixed so that no two different inputs encode alike.
struct StageHasher(Sha256);

impl StageHasher {
    fn new(kind: &str) -> Self {
        let mut hasher = StageHasher(Sha256::new());
        hasher.field(builder_version(kind).as_bytes());
        hasher.field(kind.as_bytes());
        hasher
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    fn finish(self) -> String {
        let mut hex = format!("{:x}", self.0.finalize());
        hex.truncate(HASH_DIGITS);
        hex
    }
}

fn rootfs_hash(mmdebstrap: &Mmdebstrap) -> String {
    let mut hasher = StageHasher::new("rootfs");
    hasher
        .field(mmdebstrap.suite.as_bytes())
        .field(mmdebstrap.variant.as_bytes())
        .field(mmdebstrap.mirror.as_bytes());
    for package in &mmdebstrap.include {
        hasher.field(package.as_bytes());
    }
    hasher.finish()
}

fn run_hash(below: &str, steps: &[String]) -> String {
    let mut hasher = StageHasher::new("run");
    hasher.field(below.as_bytes());
    for step in steps {
        hasher.field(step.as_bytes());
    }
    hasher.finish()
}

fn copy_hash(below: &str, copies: &[CopyInput]) -> String {
    let mut hasher = StageHasher::new("copy");
    hasher.field(below.as_bytes());
    for copy in copies {
        hasher
            .field(copy.dest.as_bytes())
            .field(&copy.mode.to_le_bytes())
            .field(&Sha256::digest(&copy.content));
    }
    hasher.finish()
}
