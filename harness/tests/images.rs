//! Image recipes without Docker: loading and validation with useful errors, and the hashes that
//! decide what gets rebuilt.

use std::path::Path;

use harness::images::{self, ImageError, plan, recipe};
use tempfile::TempDir;

/// A scratch repository holding `images/NAME/recipe.yaml` for each (NAME, text).
fn repo(recipes: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, text) in recipes {
        write(dir.path(), &format!("images/{name}/recipe.yaml"), text);
    }
    dir
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create directories");
    std::fs::write(path, text).expect("write a file");
}

const BASE: &str = "summary: a base\nmmdebstrap:\n  suite: bookworm\n  include: [bash]\n";
const CHILD: &str = "summary: a child\nfrom: base\nrun:\n  - echo one >/one\ncopy:\n  - {src: input/tool, dest: /usr/bin/tool, mode: \"4755\"}\n";

fn hashes(root: &Path, name: &str) -> Vec<String> {
    let plan = plan(root, name).expect("the recipe plans");
    std::iter::once(plan.rootfs.hash.clone())
        .chain(plan.layers.iter().map(|layer| layer.hash.clone()))
        .collect()
}

fn two_recipes() -> TempDir {
    let dir = repo(&[("base", BASE), ("child", CHILD)]);
    write(dir.path(), "input/tool", "#!/bin/sh\necho tool\n");
    dir
}

#[test]
fn a_plan_is_the_rootfs_then_run_then_copy_with_tags_by_hash() {
    let dir = two_recipes();
    let plan = plan(dir.path(), "child").unwrap();
    assert_eq!(plan.rootfs.recipe, "base");
    assert_eq!(
        plan.rootfs.tag(),
        format!("e2e/base:rootfs-{}", plan.rootfs.hash)
    );
    let tags: Vec<String> = plan.layers.iter().map(|layer| layer.tag()).collect();
    assert_eq!(
        tags,
        [
            format!("e2e/child:system-{}", plan.layers[0].hash),
            format!("e2e/child:copy-{}", plan.layers[1].hash),
        ]
    );
    assert_eq!(plan.hash, plan.layers[1].hash);
    assert_eq!(plan.tag(), format!("e2e/child:{}", plan.hash));
    assert_eq!(plan.latest(), "e2e/child:latest");
    assert_eq!(plan.hash.len(), 16);
}

#[test]
fn a_tag_label_names_its_stage_kind() {
    use harness::images::plan::StageKind;
    let hash = "0123456789abcdef";
    for (label, kind) in [
        (format!("rootfs-{hash}"), Some(StageKind::Rootfs)),
        (format!("system-{hash}"), Some(StageKind::System)),
        (format!("copy-{hash}"), Some(StageKind::Copy)),
        (hash.to_owned(), Some(StageKind::Finished)),
        ("latest".to_owned(), None),
        ("copy-latest".to_owned(), None),
        (format!("mine-{hash}"), None),
    ] {
        assert_eq!(StageKind::of_label(&label), kind, "{label}");
    }
    let dir = two_recipes();
    let plan = plan(dir.path(), "child").unwrap();
    let kinds: Vec<(&str, StageKind)> = plan
        .stages()
        .iter()
        .map(|(recipe, kind, _)| (*recipe, *kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("base", StageKind::Rootfs),
            ("child", StageKind::System),
            ("child", StageKind::Copy),
            ("child", StageKind::Finished),
        ]
    );
}

#[test]
fn hashes_are_stable_and_ignore_summary_comments_and_layout() {
    let dir = two_recipes();
    let before = hashes(dir.path(), "child");
    assert_eq!(before, hashes(dir.path(), "child"));
    write(
        dir.path(),
        "images/base/recipe.yaml",
        "# a comment\nsummary: another summary\nmmdebstrap: {include: [bash], suite: bookworm}\n",
    );
    assert_eq!(before, hashes(dir.path(), "child"));
}

#[test]
fn each_input_changes_its_stage_and_everything_above_only() {
    let dir = two_recipes();
    let [rootfs, run, copy] = <[String; 3]>::try_from(hashes(dir.path(), "child")).unwrap();

    // The system under test changes: only the copy layer.
    write(dir.path(), "input/tool", "#!/bin/sh\necho new tool\n");
    let after = hashes(dir.path(), "child");
    assert_eq!(after[..2], [rootfs.clone(), run.clone()]);
    assert_ne!(after[2], copy);

    // A copy mode changes: only the copy layer.
    write(dir.path(), "input/tool", "#!/bin/sh\necho tool\n");
    write(
        dir.path(),
        "images/child/recipe.yaml",
        &CHILD.replace("4755", "755"),
    );
    let after = hashes(dir.path(), "child");
    assert_eq!(after[..2], [rootfs.clone(), run.clone()]);
    assert_ne!(after[2], copy);

    // A run step changes: the run and copy layers.
    write(
        dir.path(),
        "images/child/recipe.yaml",
        &CHILD.replace("echo one", "echo two"),
    );
    let after = hashes(dir.path(), "child");
    assert_eq!(after[0], rootfs);
    assert_ne!(after[1], run);
    assert_ne!(after[2], copy);

    // The base's packages change: everything.
    write(dir.path(), "images/child/recipe.yaml", CHILD);
    write(
        dir.path(),
        "images/base/recipe.yaml",
        &BASE.replace("[bash]", "[bash, procps]"),
    );
    let after = hashes(dir.path(), "child");
    assert_ne!(after[0], rootfs);
    assert_ne!(after[1], run);
    assert_ne!(after[2], copy);
}

#[test]
fn from_builds_on_the_parents_system_layers_and_inherits_its_copies() {
    let parent = "summary: p\nmmdebstrap: {suite: bookworm}\nrun: [touch /p]\ncopy:\n  - {src: input/tool, dest: /usr/bin/tool, mode: \"755\"}\n";
    let child = "summary: c\nfrom: parent\nrun: [touch /c]\ncopy:\n  - {src: input/other, dest: /usr/bin/other}\n";
    let dir = repo(&[("parent", parent), ("child", child)]);
    write(dir.path(), "input/tool", "tool");
    write(dir.path(), "input/other", "other");
    let parent_plan = plan(dir.path(), "parent").unwrap();
    let child_plan = plan(dir.path(), "child").unwrap();
    // The child's layers: the parent's run layer (shared), its own run layer, one copy layer.
    assert_eq!(child_plan.layers.len(), 3);
    assert_eq!(child_plan.layers[0].tag(), parent_plan.layers[0].tag());
    assert_eq!(child_plan.layers[1].recipe, "child");
    let images::plan::Step::Copy(files) = &child_plan.layers[2].step else {
        panic!("the last layer copies");
    };
    let copied: Vec<(&str, u32)> = files.iter().map(|f| (f.dest.as_str(), f.mode)).collect();
    assert_eq!(
        copied,
        [("/usr/bin/tool", 0o755), ("/usr/bin/other", 0o644)]
    );
}

#[test]
fn the_same_recipe_under_two_names_hashes_alike_but_tags_apart() {
    let dir = repo(&[("one", BASE), ("two", BASE)]);
    let (one, two) = (
        plan(dir.path(), "one").unwrap(),
        plan(dir.path(), "two").unwrap(),
    );
    assert_eq!(one.hash, two.hash);
    assert_ne!(one.tag(), two.tag());
}

fn error(recipes: &[(&str, &str)], name: &str) -> String {
    let dir = repo(recipes);
    plan(dir.path(), name)
        .expect_err("the recipe is refused")
        .to_string()
        .replace(&dir.path().display().to_string(), "REPO")
}

#[test]
fn an_unknown_key_is_refused_with_file_line_and_key() {
    let message = error(
        &[(
            "base",
            "summary: s\nmmdebstrap: {suite: bookworm}\nrunn: [true]\n",
        )],
        "base",
    );
    assert!(
        message.starts_with("REPO/images/base/recipe.yaml:3"),
        "{message}"
    );
    assert!(message.contains("unknown field `runn`"), "{message}");
}

#[test]
fn a_recipe_needs_exactly_one_base() {
    let both = error(
        &[("x", "summary: s\nmmdebstrap: {suite: bookworm}\nfrom: y\n")],
        "x",
    );
    assert!(
        both.contains("has both `mmdebstrap:` and `from:`"),
        "{both}"
    );
    let neither = error(&[("x", "summary: s\nrun: [true]\n")], "x");
    assert!(
        neither.contains("has neither `mmdebstrap:` nor `from:`"),
        "{neither}"
    );
}

#[test]
fn a_cycle_of_from_is_refused_naming_the_chain() {
    let message = error(
        &[
            ("a", "summary: s\nfrom: b\n"),
            ("b", "summary: s\nfrom: c\n"),
            ("c", "summary: s\nfrom: a\n"),
        ],
        "a",
    );
    assert_eq!(
        message,
        "image recipes build on each other in a cycle: a -> b -> c -> a"
    );
}

#[test]
fn an_unknown_image_lists_the_known_recipes() {
    let message = error(
        &[
            ("debian-12", BASE),
            ("solus-like", "summary: s\nfrom: debian-12\n"),
        ],
        "fedora-40",
    );
    assert_eq!(
        message,
        "no image recipe REPO/images/fedora-40/recipe.yaml; the recipes are: debian-12, solus-like"
    );
    let parent = error(&[("child", "summary: s\nfrom: missing\n")], "child");
    assert!(
        parent.starts_with("no image recipe REPO/images/missing/recipe.yaml"),
        "{parent}"
    );
}

#[test]
fn bad_names_modes_and_paths_are_refused_with_the_value() {
    let upper = error(&[], "Debian");
    assert!(
        upper.starts_with("`Debian` is not a valid image name"),
        "{upper}"
    );
    let mode = error(
        &[(
            "x",
            "summary: s\nmmdebstrap: {suite: bookworm}\ncopy: [{src: a, dest: /a, mode: \"rwx\"}]\n",
        )],
        "x",
    );
    assert!(
        mode.contains("`copy` mode `rwx` of /a is not an octal mode"),
        "{mode}"
    );
    let dest = error(
        &[(
            "x",
            "summary: s\nmmdebstrap: {suite: bookworm}\ncopy: [{src: a, dest: usr/bin/a}]\n",
        )],
        "x",
    );
    assert!(
        dest.contains("`copy` dest `usr/bin/a` must be an absolute file path"),
        "{dest}"
    );
    let src = error(
        &[(
            "x",
            "summary: s\nmmdebstrap: {suite: bookworm}\ncopy: [{src: ../a, dest: /a}]\n",
        )],
        "x",
    );
    assert!(
        src.contains("`copy` src `../a` must be a path inside the repository"),
        "{src}"
    );
    let step = error(
        &[(
            "x",
            "summary: s\nmmdebstrap: {suite: bookworm}\nrun: [true, \" \"]\n",
        )],
        "x",
    );
    assert!(step.contains("`run` step 2 is empty"), "{step}");
}

#[test]
fn a_missing_release_binary_says_how_to_build_it() {
    let recipe = "summary: s\nmmdebstrap: {suite: bookworm}\ncopy: [{src: target/release/snapcell, dest: /usr/bin/snapcell, mode: \"4755\"}]\n";
    let dir = repo(&[("x", recipe)]);
    let err = plan(dir.path(), "x").unwrap_err();
    assert!(matches!(err, ImageError::MissingInput { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("`copy` src target/release/snapcell cannot be read"),
        "{message}"
    );
    assert!(
        message.contains("`cargo xtask images` builds the release binaries"),
        "{message}"
    );
}

#[test]
fn image_references_name_their_recipe() {
    assert_eq!(images::recipe_name("e2e/debian-12"), Some("debian-12"));
    assert_eq!(
        images::recipe_name("e2e/debian-12:latest"),
        Some("debian-12")
    );
    assert_eq!(images::recipe_name("e2e/debian-12:0123456789abcdef"), None);
    assert_eq!(images::recipe_name("debian:12"), None);
    assert_eq!(images::recipe_name("e2e/"), None);
}

/// The shipped recipes: each loads, says what it imitates, and has its line in images/README.md.
#[test]
fn every_shipped_recipe_loads_and_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let names = recipe::list(root).unwrap();
    assert_eq!(
        names,
        [
            "core-like",
            "debian-12",
            "debian-13",
            "rhel-like",
            "solus-like"
        ]
    );
    let readme = std::fs::read_to_string(root.join("images/README.md")).unwrap();
    for name in names {
        let recipe = recipe::load(root, &name).unwrap();
        assert!(!recipe.summary.trim().is_empty(), "{name} has no summary");
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "images/README.md has no line for {name}"
        );
    }
}

/// suites/spread.yaml runs every recipe as the system of its name (a system may run another's
/// image, as debian-12-default-caps does), and CI runs one job per system.
#[test]
fn the_suites_systems_are_the_recipes_and_the_ci_matrix() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let project = harness::project::load(&root.join("suites")).unwrap();
    let docker = project
        .backends
        .iter()
        .find(|b| b.kind == "docker")
        .unwrap();
    let mut systems = Vec::new();
    let mut recipes_run = Vec::new();
    for system in &docker.systems {
        let image = system.image.as_deref().unwrap();
        let recipe_name = images::recipe_name(image).unwrap_or_else(|| panic!("{image}"));
        recipe::load(root, recipe_name).unwrap();
        if recipe_name == system.name {
            recipes_run.push(system.name.clone());
        }
        systems.push(system.name.clone());
    }
    recipes_run.sort();
    assert_eq!(recipes_run, images::list(root).unwrap());
    let ci: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(root.join("ci/e2e.yml")).unwrap()).unwrap();
    let matrix: Vec<String> =
        serde_norway::from_value(ci["jobs"]["e2e"]["strategy"]["matrix"]["system"].clone())
            .unwrap();
    assert_eq!(matrix, systems);
}
