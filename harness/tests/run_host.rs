//! `$(HOST:...)` values in the project environment on real containers: the ones the project's
//! `path`/`include`/`exclude`/`rename` refer to run on this machine once, before anything is
//! created, and shape what is sent; scripts see the same output; a failing command stops the
//! run before any container exists, naming the variable and the command; `-list` runs none.

mod run_support;

use run_support::{Project, docker_backend};

fn project(environment: &str, files: &[(&str, &str)]) -> Project {
    let yaml = format!(
        "project: host\npath: /home/host\nenvironment:\n{environment}exclude:\n  - $SKIP\n{}suites:\n  s/:\n    summary: s\n",
        docker_backend(1, "")
    );
    Project::new(&yaml, files)
}

#[test]
fn a_host_evaluated_exclude_is_not_sent_and_scripts_see_the_same_output() {
    let scratch = tempfile::tempdir().unwrap();
    let counter = scratch.path().join("count");
    // Each evaluation appends a line, so a second one would name skip2 instead of skip1.
    let environment = format!(
        "  SKIP: $(HOST:echo x >> {0}; printf skip; wc -l < {0})\n",
        counter.display()
    );
    let checks = "summary: t\nexecute: |\n  \
        test \"$SKIP\" = skip1\n  \
        test ! -e \"$SPREAD_PATH/skip1\"\n  \
        test -f \"$SPREAD_PATH/skip2/kept\"\n";
    let project = project(
        &environment,
        &[
            ("s/t/task.yaml", checks),
            ("skip1/dropped", "x"),
            ("skip2/kept", "x"),
        ],
    );

    let listed = project.harness(&["-list"]);
    assert_eq!(listed.stdout, "docker:debian-12:s/t\n", "{}", listed.all());
    assert!(!counter.exists(), "-list ran the host command");

    let run = project.harness(&["-v"]);
    assert_eq!(run.status, Some(0), "{}", run.all());
    assert_eq!(run.summary(), "Successful tasks: 1\nAborted tasks: 0");
    assert_eq!(std::fs::read_to_string(&counter).unwrap(), "x\n");
    assert!(project.containers().is_empty());
}

#[test]
fn a_failing_host_command_stops_the_run_before_anything_is_created() {
    let project = project(
        "  SKIP: $(HOST:echo cache server down >&2; exit 7)\n",
        &[("s/t/task.yaml", "summary: t\nexecute: true\n")],
    );
    let run = project.harness(&[]);
    assert_eq!(run.status, Some(2), "{}", run.all());
    assert!(
        run.stderr.contains(
            "spread.yaml key exclude: \"$SKIP\" needs a host command that failed: \
             cannot evaluate $(HOST:...) in SKIP, command `echo cache server down >&2; exit 7`: \
             bash ended with exit status: 7, stderr: cache server down"
        ),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("Allocating"), "{}", run.all());
    assert!(project.containers().is_empty());

    let listed = project.harness(&["-list"]);
    assert_eq!(listed.status, Some(0), "{}", listed.all());
}
