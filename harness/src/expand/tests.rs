//! Expansion: variants, the add/remove/replace arithmetic of systems/backends/variants, the
//! environment cascade, priorities and timeouts — each as spread computes them.

use std::sync::Arc;
use std::time::Duration;

use super::{DEFAULT_KILL_TIMEOUT, DEFAULT_WARN_TIMEOUT, ExpandError, Job, expand};
use crate::project::tests::{minimal, write};
use crate::project::{self, TIMEOUT_DISABLED};

fn jobs(files: &[(&str, &str)]) -> Result<Vec<Job>, ExpandError> {
    let dir = write(files);
    let project = project::load(dir.path()).unwrap_or_else(|error| panic!("{error}"));
    expand(&Arc::new(project))
}

fn names(files: &[(&str, &str)]) -> Vec<String> {
    jobs(files).unwrap().iter().map(Job::name).collect()
}

fn env_of(job: &Job) -> Vec<String> {
    job.environment()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// The README's variants example: a suite with SUBJECT/foo and SUBJECT/bar, a task with
/// GREETING, GREETING/bar and SUBJECT/baz.
fn readme_variants(task_extra: &str) -> Vec<Job> {
    jobs(&[
        (
            "spread.yaml",
            &minimal("    environment:\n      SUBJECT/foo: sanity\n      SUBJECT/bar: lunacy\n"),
        ),
        (
            "s/t/task.yaml",
            &format!(
                "summary: t\nenvironment:\n  GREETING: Hello\n  GREETING/bar: Goodbye\n\
                 \x20 SUBJECT/baz: world\n{task_extra}"
            ),
        ),
    ])
    .unwrap()
}

#[test]
fn each_variant_key_makes_one_job_with_its_values() {
    let jobs = readme_variants("");
    let names: Vec<String> = jobs.iter().map(Job::name).collect();
    assert_eq!(
        names,
        [
            "docker:debian-12:s/t:bar",
            "docker:debian-12:s/t:baz",
            "docker:debian-12:s/t:foo"
        ]
    );
    assert_eq!(env_of(&jobs[0]), ["SUBJECT=lunacy", "GREETING=Goodbye"]);
    assert_eq!(env_of(&jobs[1]), ["GREETING=Hello", "SUBJECT=world"]);
    assert_eq!(env_of(&jobs[2]), ["SUBJECT=sanity", "GREETING=Hello"]);
    assert_eq!(jobs[0].variant.as_deref(), Some("bar"));
}

#[test]
fn variants_lists_remove_replace_and_add() {
    let variants = |extra: &str| -> Vec<String> {
        readme_variants(extra)
            .iter()
            .map(|job| job.variant.clone().unwrap())
            .collect()
    };
    assert_eq!(variants("variants: [-bar]\n"), ["baz", "foo"]);
    assert_eq!(variants("variants: [foo, baz]\n"), ["baz", "foo"]);
    assert_eq!(variants("variants: [+buz]\n"), ["bar", "baz", "buz", "foo"]);
    assert_eq!(variants("variants: [-b*]\n"), ["foo"], "entries are globs");
}

#[test]
fn removing_every_variant_leaves_the_unnamed_job() {
    let names = names(&[
        ("spread.yaml", &minimal("")),
        (
            "s/t/task.yaml",
            "summary: t\nenvironment:\n  X/a: 1\nvariants: [-a]\n",
        ),
    ]);
    assert_eq!(names, ["docker:debian-12:s/t"]);
}

#[test]
fn variants_cascade_from_every_level() {
    let spread = "project: p\npath: /p\nenvironment:\n  P/p1: x\nvariants: [+p2]\n\
                  backends:\n  docker:\n    environment:\n      B/b1: x\n    variants: [-p1]\n\
                  \x20   systems:\n      - debian-12:\n          variants: [+y1]\n\
                  suites:\n  s/:\n    summary: s\n    variants: [-y1]\n";
    let variants: Vec<String> = jobs(&[
        ("spread.yaml", spread),
        ("s/t/task.yaml", "summary: t\nvariants: [+t1]\n"),
    ])
    .unwrap()
    .iter()
    .map(|job| job.variant.clone().unwrap())
    .collect();
    assert_eq!(variants, ["b1", "p2", "t1"]);
}

fn systems_spread(suite_systems: &str) -> String {
    format!(
        "project: p\npath: /p\nbackends:\n  docker:\n    systems: [debian-11, debian-12, \
         ubuntu-24.04]\n  lxd:\n    systems: [debian-12]\nsuites:\n  s/:\n    summary: s\n\
         {suite_systems}"
    )
}

#[test]
fn systems_lists_remove_replace_and_add_across_backends() {
    let run = |suite: &str, task: &str| {
        names(&[
            ("spread.yaml", &systems_spread(suite)),
            ("s/t/task.yaml", &format!("summary: t\n{task}")),
        ])
    };
    assert_eq!(
        run("", ""),
        [
            "docker:debian-11:s/t",
            "docker:debian-12:s/t",
            "docker:ubuntu-24.04:s/t",
            "lxd:debian-12:s/t"
        ]
    );
    assert_eq!(
        run("    systems: [-debian-*]\n", ""),
        ["docker:ubuntu-24.04:s/t"]
    );
    assert_eq!(
        run("    systems: [-debian-*]\n", "systems: [+debian-11]\n"),
        ["docker:debian-11:s/t", "docker:ubuntu-24.04:s/t"]
    );
    // A plain list replaces, and may name what the level above removed (spread matches it
    // against every level's names).
    assert_eq!(
        run("    systems: [-debian-*]\n", "systems: [debian-12]\n"),
        ["docker:debian-12:s/t", "lxd:debian-12:s/t"]
    );
    assert_eq!(
        run("    systems: [ubuntu-*]\n", ""),
        ["docker:ubuntu-24.04:s/t"]
    );
}

#[test]
fn backends_lists_remove_replace_and_add() {
    let run = |suite: &str, task: &str| {
        names(&[
            ("spread.yaml", &systems_spread(suite)),
            ("s/t/task.yaml", &format!("summary: t\n{task}")),
        ])
    };
    assert_eq!(run("    backends: [lxd]\n", ""), ["lxd:debian-12:s/t"]);
    assert_eq!(
        run(
            "    backends: [lxd]\n",
            "backends: [+docker]\nsystems: [debian-12]\n"
        )
        .len(),
        2
    );
    assert_eq!(run("", "backends: [-docker]\n"), ["lxd:debian-12:s/t"]);
}

#[test]
fn an_unknown_backend_in_a_list_is_an_error() {
    let error = jobs(&[
        ("spread.yaml", &minimal("    backends: [dokcer]\n")),
        ("s/t/task.yaml", "summary: t\n"),
    ])
    .unwrap_err();
    assert_eq!(
        error,
        ExpandError::UnknownBackend {
            task: "s/t".into(),
            backend: "dokcer".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "task s/t selects backend \"dokcer\", which the project does not define"
    );
}

#[test]
fn environment_cascades_in_spread_order() {
    let spread = "project: p\npath: /p\nenvironment:\n  A: project\n  B: project\n  V/x: project-x\n\
                  backends:\n  docker:\n    environment:\n      A: backend\n\
                  \x20   systems:\n      - debian-12:\n          environment:\n            S: $A\n\
                  suites:\n  s/:\n    summary: s\n    environment:\n      B: suite\n";
    let jobs = jobs(&[
        ("spread.yaml", spread),
        (
            "s/t/task.yaml",
            "summary: t\nenvironment:\n  V: task\n  T: $B\nvariants: [+y]\n",
        ),
    ])
    .unwrap();
    // A key defined again moves to the end; a variant key beats the plain key wherever the
    // plain one is defined (here: the task's V loses to the project's V/x for variant x).
    assert_eq!(
        env_of(&jobs[0]),
        ["V=project-x", "A=backend", "S=$A", "B=suite", "T=$B"],
        "variant x"
    );
    assert_eq!(
        env_of(&jobs[1]),
        ["A=backend", "S=$A", "B=suite", "V=task", "T=$B"],
        "variant y"
    );
}

#[test]
fn priority_is_the_first_set_from_task_up() {
    let priority = |task: &str, suite: &str| {
        let spread = format!(
            "project: p\npath: /p\npriority: 1\nbackends:\n  docker:\n    priority: 2\n\
             \x20   systems:\n      - debian-12:\n          priority: 3\n\
             suites:\n  s/:\n    summary: s\n{suite}"
        );
        jobs(&[
            ("spread.yaml", &spread),
            ("s/t/task.yaml", &format!("summary: t\n{task}")),
        ])
        .unwrap()[0]
            .priority
    };
    assert_eq!(priority("", ""), 3);
    assert_eq!(priority("", "    priority: 4\n"), 4);
    assert_eq!(priority("priority: 0\n", "    priority: 4\n"), 0);
    assert_eq!(priority("priority: -5\n", ""), -5);
}

#[test]
fn timeouts_come_from_task_suite_backend_project_or_defaults() {
    let timeouts = |task: &str, project: &str| {
        let spread = format!(
            "project: p\npath: /p\n{project}backends:\n  docker:\n    kill-timeout: 20m\n\
             \x20   systems: [debian-12]\nsuites:\n  s/:\n    summary: s\n"
        );
        let job = &jobs(&[
            ("spread.yaml", &spread),
            ("s/t/task.yaml", &format!("summary: t\n{task}")),
        ])
        .unwrap()[0];
        (job.kill_timeout, job.warn_timeout)
    };
    let minutes = |m: u64| Duration::from_secs(m * 60);
    assert_eq!(timeouts("", ""), (minutes(20), DEFAULT_WARN_TIMEOUT));
    assert_eq!(
        timeouts("kill-timeout: 1m\n", "warn-timeout: 10s\n"),
        (minutes(1), Duration::from_secs(10))
    );
    assert_eq!(
        timeouts("kill-timeout: -1\nwarn-timeout: -1\n", "").0,
        TIMEOUT_DISABLED
    );
    assert_eq!(DEFAULT_KILL_TIMEOUT, minutes(15));
}

#[test]
fn manual_jobs_are_expanded_for_select_to_judge() {
    let jobs = jobs(&[
        ("spread.yaml", &minimal("    manual: true\n")),
        ("s/t/task.yaml", "summary: t\n"),
    ])
    .unwrap();
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].suite.manual);
}

#[test]
fn a_mixed_list_in_a_project_built_in_code_is_an_error() {
    let dir = write(&[
        ("spread.yaml", &minimal("")),
        ("s/t/task.yaml", "summary: t\n"),
    ]);
    let mut project = project::load(dir.path()).unwrap();
    let suite = Arc::make_mut(&mut project.suites[0]);
    let task = Arc::make_mut(&mut suite.tasks[0]);
    task.systems = vec!["debian-12".into(), "-debian-11".into()];
    assert_eq!(
        expand(&Arc::new(project)).unwrap_err(),
        ExpandError::MixedList {
            context: "task s/t".into(),
            what: "systems"
        }
    );
}
