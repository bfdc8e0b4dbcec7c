//! Building images against the real Docker engine and mmdebstrap: from + run + copy builds,
//! cached builds that do nothing, a new input that rebuilds only its layer, a changed recipe
//! whose replaced stages are untagged, concurrent builds that build once, and failures that
//! leave no tag and no container behind.
//!
//! The shared base `e2e/images-test-base` (a minbase bookworm) is built once per machine and
//! kept, like the real images; each test's own images are removed when it ends.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use harness::images::{self, ImageError, ImageRef, Progress};
use tempfile::TempDir;

const BASE: &str = "images-test-base";
const BASE_RECIPE: &str =
    "summary: the images tests' shared base\nmmdebstrap:\n  suite: bookworm\n  variant: minbase\n";

/// Records the stages `ensure` builds.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    /// The stages built since the last call (waiting for another process's build is no stage).
    fn stages(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
            .into_iter()
            .filter(|stage| !stage.contains(": waiting for another build"))
            .collect()
    }
}

impl Progress for Recorder {
    fn stage(&self, image: &str, what: &str) {
        self.0.lock().unwrap().push(format!("{image}: {what}"));
    }
    fn output(&self, _: &str, _: &str) {}
    fn ready(&self, _: &ImageRef) {}
}

/// A scratch repository with the shared base and a test's own recipes, whose images are
/// removed when it is dropped (also when the test fails).
struct Scratch {
    dir: TempDir,
    names: Vec<String>,
}

impl Scratch {
    fn new(test: &str, recipes: &[(&str, String)]) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &format!("images/{BASE}/recipe.yaml"),
            BASE_RECIPE,
        );
        let mut names = Vec::new();
        for (suffix, text) in recipes {
            let name = format!("images-test-{test}-{suffix}-{}", std::process::id());
            write(dir.path(), &format!("images/{name}/recipe.yaml"), text);
            names.push(name);
        }
        Scratch { dir, names }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for name in &self.names {
            let filter = format!("reference=e2e/{name}");
            let Ok(listed) = Command::new("docker")
                .args([
                    "images",
                    "--format",
                    "{{.Repository}}:{{.Tag}}",
                    "--filter",
                    &filter,
                ])
                .output()
            else {
                return;
            };
            for tag in String::from_utf8_lossy(&listed.stdout).lines() {
                let _ = Command::new("docker").args(["rmi", tag]).output();
            }
        }
    }
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs `script` in a throwaway container of `image` and returns its stdout.
fn run_in(image: &str, script: &str) -> String {
    let output = Command::new("docker")
        .args(["run", "--rm", image, "bash", "-c", script])
        .output()
        .expect("docker run runs");
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn image_exists(reference: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", reference])
        .output()
        .unwrap()
        .status
        .success()
}

/// Build containers of recipe `name` left behind (there must be none).
fn build_containers(name: &str) -> String {
    let filter = format!("name={}e2e-{name}-", images::BUILD_CONTAINER_PREFIX);
    let output = Command::new("docker")
        .args(["ps", "-aq", "--filter", &filter])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

fn child_recipe(step: &str) -> String {
    format!(
        "summary: a child\nfrom: {BASE}\nrun:\n  - {step}\ncopy:\n  - {{src: input/tool, dest: /usr/local/bin/tool, mode: \"4750\"}}\n"
    )
}

#[tokio::test]
async fn from_run_copy_builds_then_caches_then_rebuilds_only_the_changed_layer() {
    let scratch = Scratch::new(
        "cache",
        &[("child", child_recipe("echo built-by-run >/etc/marker"))],
    );
    let name = scratch.names[0].clone();
    write(scratch.root(), "input/tool", "#!/bin/sh\necho one\n");
    let docker = images::connect().await.unwrap();
    let recorder = Recorder::default();

    // Cold (the shared base may already be there from an earlier run).
    let first = images::ensure(&docker, scratch.root(), &name, &recorder)
        .await
        .unwrap();
    assert!(first.built.is_some());
    let stages = recorder.stages();
    assert!(
        stages
            .iter()
            .any(|s| s.starts_with(&format!("{name}: run 1 step(s)"))),
        "{stages:?}"
    );
    assert!(
        stages
            .iter()
            .any(|s| s.starts_with(&format!("{name}: copy 1 file(s)"))),
        "{stages:?}"
    );
    assert_eq!(first.tag, format!("e2e/{name}:{}", first.hash));
    let latest = format!("e2e/{name}:latest");
    assert_eq!(
        run_in(
            &latest,
            "cat /etc/marker; stat -c '%U:%G %a' /usr/local/bin/tool; /usr/local/bin/tool"
        ),
        "built-by-run\nroot:root 4750\none\n"
    );

    // The image is labelled with its recipe only: nothing of the build container leaks into
    // the containers made from it.
    let labels = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{json .Config.Labels}}",
            &latest,
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&labels.stdout).trim(),
        format!(r#"{{"{}":"{name}"}}"#, images::IMAGE_LABEL)
    );

    // Cached: nothing is built, the same image comes back.
    let again = images::ensure(&docker, scratch.root(), &name, &recorder)
        .await
        .unwrap();
    assert_eq!(again.built, None);
    assert_eq!(recorder.stages(), Vec::<String>::new());
    assert_eq!(
        (again.id.as_str(), again.hash.as_str()),
        (first.id.as_str(), first.hash.as_str())
    );

    // A new system under test: only the copy layer is built, on the cached run layer.
    write(scratch.root(), "input/tool", "#!/bin/sh\necho two\n");
    let rebuilt = images::ensure(&docker, scratch.root(), &name, &recorder)
        .await
        .unwrap();
    let stages = recorder.stages();
    assert_eq!(stages.len(), 1, "{stages:?}");
    assert!(
        stages[0].starts_with(&format!("{name}: copy 1 file(s) onto e2e/{name}:system-")),
        "{stages:?}"
    );
    assert_ne!(rebuilt.hash, first.hash);
    assert_eq!(
        run_in(&latest, "/usr/local/bin/tool; cat /etc/marker"),
        "two\nbuilt-by-run\n"
    );
    // The superseded image and its copy layer are untagged; the system layer stays cached.
    let first_plan_copy = format!("e2e/{name}:copy-{}", first.hash);
    assert!(!image_exists(&first.tag), "{} is left", first.tag);
    assert!(!image_exists(&first_plan_copy), "{first_plan_copy} is left");
    let plan = images::plan(scratch.root(), &name).unwrap();
    assert!(image_exists(&plan.layers[0].tag()));
    assert_eq!(build_containers(&name), "");
}

#[tokio::test]
async fn a_changed_run_step_untags_the_run_layer_it_replaces() {
    let scratch = Scratch::new("prune", &[("child", child_recipe("touch /one"))]);
    let name = scratch.names[0].clone();
    write(scratch.root(), "input/tool", "tool");
    let docker = images::connect().await.unwrap();
    let recorder = Recorder::default();
    images::ensure(&docker, scratch.root(), &name, &recorder)
        .await
        .unwrap();
    let old = images::plan(scratch.root(), &name).unwrap();

    write(
        scratch.root(),
        &format!("images/{name}/recipe.yaml"),
        &child_recipe("touch /two"),
    );
    images::ensure(&docker, scratch.root(), &name, &recorder)
        .await
        .unwrap();
    let new = images::plan(scratch.root(), &name).unwrap();

    let (old_stages, new_stages) = (old.stages(), new.stages());
    for ((recipe, kind, old_tag), (_, _, new_tag)) in old_stages.iter().zip(&new_stages) {
        assert!(image_exists(new_tag), "{new_tag} is missing");
        if *recipe == BASE {
            // The shared base did not change: its stage is the same and stays.
            assert_eq!(old_tag, new_tag, "{kind:?}");
        } else {
            assert_ne!(old_tag, new_tag, "{kind:?}");
            assert!(!image_exists(old_tag), "{old_tag} ({kind:?}) is left");
        }
    }
    assert!(image_exists(&new.latest()));
}

#[tokio::test]
async fn concurrent_ensures_build_once() {
    let scratch = Scratch::new("concurrent", &[("child", child_recipe("touch /built"))]);
    let name = scratch.names[0].clone();
    write(scratch.root(), "input/tool", "tool");
    let docker = images::connect().await.unwrap();
    let (one, two) = (Recorder::default(), Recorder::default());
    let (a, b) = tokio::join!(
        images::ensure(&docker, scratch.root(), &name, &one),
        images::ensure(&docker, scratch.root(), &name, &two),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.id, b.id);
    let run_stages = |recorder: &Recorder| {
        recorder
            .stages()
            .into_iter()
            .filter(|stage| stage.starts_with(&format!("{name}: run 1 step(s)")))
            .count()
    };
    assert_eq!(
        run_stages(&one) + run_stages(&two),
        1,
        "the run layer is built exactly once"
    );
    assert_eq!(u8::from(a.built.is_some()) + u8::from(b.built.is_some()), 1);
}

#[tokio::test]
async fn a_failing_run_step_reports_its_number_and_output_and_leaves_nothing() {
    let recipe =
        format!("summary: fails\nfrom: {BASE}\nrun:\n  - 'true'\n  - echo about to fail; exit 3\n");
    let scratch = Scratch::new("failing", &[("child", recipe)]);
    let name = scratch.names[0].clone();
    let docker = images::connect().await.unwrap();
    let err = images::ensure(&docker, scratch.root(), &name, &Recorder::default())
        .await
        .unwrap_err();
    let ImageError::RunStep {
        step,
        status,
        ref output,
        ..
    } = err
    else {
        panic!("a run step error, got {err:?}");
    };
    assert_eq!((step, status), (2, 3));
    assert!(output.contains("about to fail"), "{output}");
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "images/{name}/recipe.yaml failed with exit status 3"
        )),
        "{message}"
    );
    let plan = images::plan(scratch.root(), &name).unwrap();
    assert!(!image_exists(&plan.layers[0].tag()));
    assert!(!image_exists(&plan.latest()));
    assert_eq!(build_containers(&name), "");
}

#[tokio::test]
async fn a_failing_mmdebstrap_names_the_problem_and_leaves_no_image() {
    let recipe =
        "summary: fails\nmmdebstrap:\n  suite: bookworm\n  include: [no-such-package-anywhere]\n";
    let scratch = Scratch::new("mmdebstrap", &[("base", recipe.to_string())]);
    let name = scratch.names[0].clone();
    let docker = images::connect().await.unwrap();
    let err = images::ensure(&docker, scratch.root(), &name, &Recorder::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ImageError::Mmdebstrap { .. }), "{err:?}");
    assert!(
        err.to_string().contains("no-such-package-anywhere"),
        "{err}"
    );
    let plan = images::plan(scratch.root(), &name).unwrap();
    assert!(!image_exists(&plan.rootfs.tag()));
}

#[tokio::test]
async fn an_unreachable_engine_says_how_to_start_it() {
    let scratch = Scratch::new("engine", &[]);
    // A file where the socket should be: nothing answers there.
    let socket = scratch.root().join("docker.sock");
    write(scratch.root(), "docker.sock", "");
    let docker = bollard::Docker::connect_with_unix(
        socket.to_str().unwrap(),
        5,
        bollard::API_DEFAULT_VERSION,
    )
    .unwrap();
    let err = images::ensure(&docker, scratch.root(), BASE, &Recorder::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ImageError::DockerUnreachable { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("systemctl start docker"), "{message}");
    assert!(message.contains("apt-get install docker.io"), "{message}");
}

#[tokio::test]
async fn a_missing_mmdebstrap_says_what_to_install() {
    let recipe = "summary: never built\nmmdebstrap:\n  suite: bookworm\n  include: [hello]\n";
    let scratch = Scratch::new("nommdebstrap", &[("base", recipe.to_string())]);
    let name = scratch.names[0].clone();
    let empty = tempfile::tempdir().unwrap();
    // SAFETY: this test is its own process under nextest and sets PATH before any thread that
    // reads the environment starts its work.
    unsafe { std::env::set_var("PATH", empty.path()) };
    let docker = images::connect().await.unwrap();
    let err = images::ensure(&docker, scratch.root(), &name, &Recorder::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ImageError::MmdebstrapMissing { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("apt-get install mmdebstrap"),
        "{err}"
    );
}
