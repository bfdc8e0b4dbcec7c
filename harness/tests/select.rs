//! spread's selection rules: the examples of spread's README ("Selecting which tasks to run"),
//! the outcomes spread's own `tests/manual` project expects, samples and malformed arguments.

mod run_support;

use std::path::Path;
use std::sync::Arc;

use harness::project::{self, Project};
use harness::select::{SelectError, list};

/// A project on disk: spread.yaml plus `(relative path, content)` task files.
fn project(spread_yaml: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, Arc<Project>) {
    let dir = tempfile::tempdir().unwrap();
    run_support::write_project(dir.path(), spread_yaml, files);
    let project = project::load(dir.path()).unwrap_or_else(|error| panic!("{error}"));
    (dir, Arc::new(project))
}

/// The README's two jobs: lxd:ubuntu-16.04:mysuite/task-one:variant-a and
/// lxd:ubuntu-16.04:mysuite/task-two:variant-b.
fn readme_project() -> (tempfile::TempDir, Arc<Project>) {
    project(
        "project: readme\npath: /home/test\nbackends:\n  lxd:\n    systems: [ubuntu-16.04]\n\
         suites:\n  mysuite/:\n    summary: s\n",
        &[
            (
                "mysuite/task-one/task.yaml",
                "summary: one\nvariants: [variant-a]\nexecute: 'true'\n",
            ),
            (
                "mysuite/task-two/task.yaml",
                "summary: two\nvariants: [variant-b]\nexecute: 'true'\n",
            ),
        ],
    )
}

const ONE: &str = "lxd:ubuntu-16.04:mysuite/task-one:variant-a";
const TWO: &str = "lxd:ubuntu-16.04:mysuite/task-two:variant-b";

fn selected(project: &Arc<Project>, args: &[&str]) -> Result<Vec<String>, SelectError> {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    list(project, &args).map_err(|error| match error {
        harness::select::ListError::Select(error) => error,
        other => panic!("{other}"),
    })
}

#[test]
fn readme_examples_match_as_spread_documents() {
    let (_dir, project) = readme_project();
    let both = vec![ONE.to_string(), TWO.to_string()];
    let one = vec![ONE.to_string()];
    for (arg, expected) in [
        ("lxd", &both),
        ("lxd:mysuite/", &both),
        ("ubuntu-16.04", &both),
        ("ubuntu-...", &both),
        ("mysuite/", &both),
        ("/task-one", &one),
        ("/task...", &both),
        ("mysu...one", &one),
        ("lxd:ubuntu-16.04:variant-a", &one),
    ] {
        assert_eq!(
            &selected(&project, &[arg]).unwrap(),
            expected,
            "argument {arg:?}"
        );
    }
}

#[test]
fn components_match_exactly_and_in_order() {
    let (_dir, project) = readme_project();
    for arg in [
        "task-one",      // a task needs its suite, or a / prefix
        "mysuite",       // a suite needs its trailing /
        "ubuntu",        // no partial system names without ...
        "ubuntu-16",     // nor prefixes
        "variant",       // nor partial variants
        "variant-a:lxd", // components in the wrong order
        "lxd:mysuite/:ubuntu-16.04",
    ] {
        assert_eq!(
            selected(&project, &[arg]),
            Err(SelectError::NothingMatches {
                args: vec![arg.to_string()]
            }),
            "argument {arg:?}"
        );
    }
}

#[test]
fn several_arguments_select_the_union() {
    let (_dir, project) = readme_project();
    assert_eq!(
        selected(&project, &["/task-one", "variant-b"]).unwrap(),
        vec![ONE.to_string(), TWO.to_string()]
    );
    assert_eq!(selected(&project, &["..."]).unwrap().len(), 2);
    assert_eq!(
        selected(&project, &["lxd:...:mysuite/task-two"]).unwrap(),
        vec![TWO]
    );
}

#[test]
fn malformed_arguments_are_refused() {
    let (_dir, project) = readme_project();
    for (arg, part) in [
        ("ubuntu..16", ".."),
        ("lxd::mysuite/", "::"),
        ("a....b", "...."),
    ] {
        assert_eq!(
            selected(&project, &[arg]),
            Err(SelectError::InvalidFilter {
                arg: arg.to_string(),
                part: part.to_string()
            })
        );
    }
    for arg in ["mysuite/#0", "mysuite/#3..1"] {
        assert_eq!(
            selected(&project, &[arg]),
            Err(SelectError::InvalidSample {
                arg: arg.to_string()
            })
        );
    }
}

#[test]
fn samples_are_named_and_selected_by_number() {
    let (_dir, project) = project(
        "project: p\npath: /p\nbackends:\n  docker:\n    systems: [debian-12]\n\
         suites:\n  s/:\n    summary: s\n",
        &[(
            "s/t/task.yaml",
            "summary: t\nsamples: 11\nexecute: 'true'\n",
        )],
    );
    let all = selected(&project, &[]).unwrap();
    assert_eq!(all.len(), 11);
    assert_eq!(all[0], "docker:debian-12:s/t#1");
    assert_eq!(
        all[9], "docker:debian-12:s/t#10",
        "samples sort numerically"
    );
    assert_eq!(
        selected(&project, &["s/t#2"]).unwrap(),
        vec!["docker:debian-12:s/t#2"]
    );
    assert_eq!(
        selected(&project, &["debian-12#9..11"]).unwrap(),
        vec![
            "docker:debian-12:s/t#9",
            "docker:debian-12:s/t#10",
            "docker:debian-12:s/t#11"
        ]
    );
}

/// spread's own tests/manual project and the selections its task.yaml asserts.
#[test]
fn manual_levels_run_only_when_everything_selected_is_manual() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/spread/tests/manual");
    let project = Arc::new(project::load(&dir).unwrap());
    let only = |job: &str| vec![job.to_string()];
    for (args, expected) in [
        (&[][..], only("lxd-a:ubuntu-16.04-a:checks-a/task-a")),
        (&["lxd-m"][..], only("lxd-m:ubuntu-16.04-a:checks-a/task-a")),
        (
            &["lxd-..."][..],
            only("lxd-a:ubuntu-16.04-a:checks-a/task-a"),
        ),
        (
            &["ubuntu-16.04-m"][..],
            only("lxd-a:ubuntu-16.04-m:checks-a/task-a"),
        ),
        (
            &["ubuntu-..."][..],
            only("lxd-a:ubuntu-16.04-a:checks-a/task-a"),
        ),
        (
            &["checks-m/"][..],
            only("lxd-a:ubuntu-16.04-a:checks-m/task-a"),
        ),
        (
            &["checks-.../"][..],
            only("lxd-a:ubuntu-16.04-a:checks-a/task-a"),
        ),
        (
            &["/task-m"][..],
            only("lxd-a:ubuntu-16.04-a:checks-a/task-m"),
        ),
        (
            &["/task-..."][..],
            only("lxd-a:ubuntu-16.04-a:checks-a/task-a"),
        ),
        (
            &["lxd-m:ubuntu-16.04-m:checks-m/task-m"][..],
            only("lxd-m:ubuntu-16.04-m:checks-m/task-m"),
        ),
    ] {
        assert_eq!(
            selected(&project, args).unwrap(),
            expected,
            "arguments {args:?}"
        );
    }
}

#[test]
fn a_project_without_runnable_jobs_says_so() {
    let (_dir, project) = project(
        "project: p\npath: /p\nbackends:\n  docker:\n    systems: [debian-12]\n\
         suites:\n  s/:\n    summary: s\n    manual: true\n",
        &[("s/t/task.yaml", "summary: t\nexecute: 'true'\n")],
    );
    assert_eq!(selected(&project, &[]), Err(SelectError::NoTasks));
    assert_eq!(
        selected(&project, &["s/"]).unwrap(),
        vec!["docker:debian-12:s/t"]
    );
}
