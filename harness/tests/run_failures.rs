//! What failures mean for a run: restore always runs, a failed restore aborts the rest of the
//! system, a failed suite prepare aborts that suite, -abend stops at once, the summary and the
//! JUnit report say so, and bad input stops the run before anything is created.

mod run_support;

use run_support::{Project, docker_backend};

fn project(suites: &str, files: &[(&str, &str)]) -> Project {
    let yaml = format!(
        "project: failures\npath: /home/failures\n{}suites:\n{suites}",
        docker_backend(1, "")
    );
    Project::new(&yaml, files)
}

#[test]
fn restore_runs_after_a_failed_prepare_and_a_failed_restore_aborts_the_system() {
    let project = project(
        "  s/:\n    summary: s\n",
        &[
            (
                "s/p/task.yaml",
                "summary: p\npriority: 20\nprepare: exit 3\nexecute: echo never\nrestore: echo restoring-p\n",
            ),
            (
                "s/r/task.yaml",
                "summary: r\npriority: 10\nexecute: echo fine\nrestore: |\n  echo broken restore\n  false\n",
            ),
            ("s/x/task.yaml", "summary: x\nexecute: echo x\n"),
            ("s/y/task.yaml", "summary: y\nexecute: echo y\n"),
        ],
    );
    let run = project.harness(&["-v", "--junit", "report.xml"]);
    assert_eq!(run.status, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains("Restoring docker:debian-12:s/p ("),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("restoring-p"), "{}", run.all());
    assert!(
        !run.stdout.contains("Executing docker:debian-12:s/x"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout
            .contains("Error restoring docker:debian-12:s/r ("),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("broken restore"), "{}", run.all());
    assert_eq!(
        run.summary(),
        "Successful tasks: 1\nAborted tasks: 3\n\
         Failed task prepare: 1\n    - docker:debian-12:s/p\n\
         Failed task restore: 1\n    - docker:debian-12:s/r"
    );
    let xml = std::fs::read_to_string(project.path().join("report.xml")).unwrap();
    assert!(
        xml.contains(r#"<testcase name="s/r" classname="docker:debian-12""#),
        "{xml}"
    );
    assert!(
        xml.contains("docker:debian-12 broken: task restore failed"),
        "{xml}"
    );
    assert!(project.containers().is_empty());
}

#[test]
fn a_failed_suite_prepare_aborts_that_suite_only() {
    let project = project(
        "  bad/:\n    summary: bad\n    prepare: exit 1\n    restore: echo bad-suite-restored\n  good/:\n    summary: good\n",
        &[
            ("bad/a/task.yaml", "summary: a\nexecute: echo a\n"),
            ("bad/b/task.yaml", "summary: b\nexecute: echo b\n"),
            ("good/c/task.yaml", "summary: c\nexecute: echo c\n"),
        ],
    );
    let run = project.harness(&["-v"]);
    assert_eq!(run.status, Some(1), "{}", run.all());
    assert_eq!(
        run.summary(),
        "Successful tasks: 1\nAborted tasks: 2\nFailed suite prepare: 1\n    - docker:debian-12:bad/"
    );
    assert!(
        run.stdout.contains("bad-suite-restored"),
        "a half-prepared suite is restored\n{}",
        run.all()
    );
    assert!(project.containers().is_empty());
}

#[test]
fn abend_stops_at_the_first_error_without_restoring() {
    let project = project(
        "  s/:\n    summary: s\n",
        &[
            (
                "s/f/task.yaml",
                "summary: f\npriority: 10\nexecute: ERROR this went wrong\nrestore: echo restoring-f\n",
            ),
            ("s/g/task.yaml", "summary: g\nexecute: echo g\n"),
        ],
    );
    let run = project.harness(&["-abend", "-v"]);
    assert_eq!(run.status, Some(1), "{}", run.all());
    assert!(
        run.stdout
            .contains("Error executing docker:debian-12:s/f (")
            && run.stdout.contains(": this went wrong"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("restoring-f"), "{}", run.all());
    assert!(
        !run.stdout.contains("Executing docker:debian-12:s/g"),
        "{}",
        run.all()
    );
    assert_eq!(
        run.summary(),
        "Successful tasks: 0\nAborted tasks: 1\nFailed tasks: 1\n    - docker:debian-12:s/f"
    );
    assert!(project.containers().is_empty());
}

#[test]
fn a_missing_image_is_reported_before_anything_is_created() {
    let yaml = "project: noimage\npath: /home/x\nbackends:\n  docker:\n    systems:\n      - debian-99:\n          image: e2e/no-such-image\nsuites:\n  s/:\n    summary: s\n";
    let project = Project::new(yaml, &[("s/t/task.yaml", "summary: t\nexecute: true\n")]);
    let run = project.harness(&[]);
    assert_eq!(run.status, Some(2), "{}", run.all());
    assert!(
        run.stderr.contains("e2e/no-such-image")
            && run.stderr.contains("cargo xtask images no-such-image"),
        "{}",
        run.all()
    );
    assert!(project.containers().is_empty());
}

#[test]
fn a_backend_type_this_runner_cannot_drive_is_named() {
    let yaml = "project: lxd\npath: /home/x\nbackends:\n  lxd:\n    systems:\n      - ubuntu-16.04\nsuites:\n  s/:\n    summary: s\n";
    let project = Project::new(yaml, &[("s/t/task.yaml", "summary: t\nexecute: true\n")]);
    let run = project.harness(&[]);
    assert_eq!(run.status, Some(2), "{}", run.all());
    assert!(
        run.stderr.contains("backend \"lxd\" has type \"lxd\""),
        "{}",
        run.all()
    );
    let listed = project.harness(&["-list"]);
    assert_eq!(listed.stdout, "lxd:ubuntu-16.04:s/t\n", "{}", listed.all());
}
