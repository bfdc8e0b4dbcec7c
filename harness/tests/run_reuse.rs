//! -reuse keeps machines on purpose and records them; the next -reuse finds them, -restore
//! runs the restore scripts on them, -discard removes them.

mod run_support;

use run_support::{Project, docker_backend};

const TASK: &str = "summary: t\nexecute: |\n  echo \"prepared $(wc -l < /var/tmp/prepared) times\"\n  echo \"run $SPREAD_JOB\" >> /var/tmp/runs\n  echo \"runs so far: $(wc -l < /var/tmp/runs)\"\n";

fn project() -> Project {
    project_with(1, 1)
}

/// `tasks` tasks on one system with `workers` workers.
fn project_with(workers: usize, tasks: usize) -> Project {
    let yaml = format!(
        "project: reuse\npath: /home/reuse\nprepare: echo prepared >> /var/tmp/prepared\nrestore: echo project-restored\n{}suites:\n  s/:\n    summary: s\n",
        docker_backend(workers, "")
    );
    let files: Vec<(String, &str)> = (0..tasks)
        .map(|i| (format!("s/t{i}/task.yaml"), TASK))
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(path, task)| (path.as_str(), *task))
        .collect();
    Project::new(&yaml, &files)
}

fn recorded(project: &Project) -> String {
    std::fs::read_to_string(project.path().join(".spread-reuse.yaml")).unwrap_or_default()
}

#[test]
fn reuse_keeps_and_finds_machines_and_discard_removes_them() {
    let project = project();
    let first = project.harness(&["-reuse", "-v"]);
    assert_eq!(first.status, Some(0), "{}", first.all());
    assert!(
        !first.stdout.contains("project-restored"),
        "a kept machine stays prepared\n{}",
        first.all()
    );
    let kept = project.containers();
    assert_eq!(kept.len(), 1, "{}", first.all());
    assert!(
        recorded(&project).contains(&kept[0]),
        "{}",
        recorded(&project)
    );

    let second = project.harness(&["-reuse", "-v"]);
    assert_eq!(second.status, Some(0), "{}", second.all());
    assert!(!second.stdout.contains("Allocating"), "{}", second.all());
    assert!(
        !second.stdout.contains("Sending project content"),
        "without -resend nothing is sent\n{}",
        second.all()
    );
    assert!(
        second.stdout.contains("prepared 1 times") && second.stdout.contains("runs so far: 2"),
        "{}",
        second.all()
    );
    assert_eq!(project.containers(), kept);

    let resent = project.harness(&["-reuse", "-resend"]);
    assert_eq!(resent.status, Some(0), "{}", resent.all());
    assert!(
        resent.stdout.contains("Sending project content"),
        "{}",
        resent.all()
    );

    let discard = project.harness(&["-discard"]);
    assert_eq!(discard.status, Some(0), "{}", discard.all());
    assert!(
        discard.stdout.contains("Discarded 1 kept machines."),
        "{}",
        discard.all()
    );
    assert!(project.containers().is_empty());
    assert!(!recorded(&project).contains(&kept[0]));
}

#[test]
fn restore_runs_the_restore_scripts_on_kept_machines_then_discards() {
    let project = project();
    let first = project.harness(&["-reuse"]);
    assert_eq!(first.status, Some(0), "{}", first.all());
    assert_eq!(project.containers().len(), 1);
    let restore = project.harness(&["-restore", "-v"]);
    assert_eq!(restore.status, Some(0), "{}", restore.all());
    assert!(
        restore.stdout.contains("project-restored"),
        "{}",
        restore.all()
    );
    assert!(!restore.stdout.contains("Executing"), "{}", restore.all());
    assert!(project.containers().is_empty());
}

#[test]
fn gc_removes_containers_of_dead_runs_but_not_kept_ones() {
    let project = project();
    let first = project.harness(&["-reuse"]);
    assert_eq!(first.status, Some(0), "{}", first.all());
    let gc = project.harness(&["-gc"]);
    assert_eq!(gc.status, Some(0), "{}", gc.all());
    assert_eq!(
        project.containers().len(),
        1,
        "recorded for reuse, so kept\n{}",
        gc.all()
    );
    std::fs::write(project.path().join(".spread-reuse.yaml"), "").unwrap();
    let gc = project.harness(&["-gc"]);
    assert!(
        gc.stdout.contains("Removing orphaned container"),
        "{}",
        gc.all()
    );
    assert!(project.containers().is_empty());
}

#[test]
fn a_kept_machine_removed_behind_the_harness_is_replaced() {
    let project = project();
    let first = project.harness(&["-reuse"]);
    assert_eq!(first.status, Some(0), "{}", first.all());
    let kept = project.containers();
    assert_eq!(kept.len(), 1);
    run_support::remove_container(&kept[0]);
    let second = project.harness(&["-reuse", "-v"]);
    assert_eq!(second.status, Some(0), "{}", second.all());
    assert!(second.stdout.contains("Cannot reuse"), "{}", second.all());
    assert!(
        second.stdout.contains("prepared 1 times"),
        "a fresh machine is prepared\n{}",
        second.all()
    );
    let replaced = project.containers();
    assert_eq!(replaced.len(), 1);
    assert_ne!(replaced, kept);
    assert!(recorded(&project).contains(&replaced[0]));
    assert_eq!(project.harness(&["-discard"]).status, Some(0));
    assert!(project.containers().is_empty());
}

#[test]
fn restore_reaches_every_kept_machine_of_a_system() {
    let project = project_with(2, 4);
    let first = project.harness(&["-reuse"]);
    assert_eq!(first.status, Some(0), "{}", first.all());
    assert_eq!(project.containers().len(), 2, "{}", first.all());
    let restore = project.harness(&["-restore", "-v"]);
    assert_eq!(restore.status, Some(0), "{}", restore.all());
    assert_eq!(
        restore.stdout.matches("\nproject-restored\n").count(),
        2,
        "{}",
        restore.all()
    );
    assert!(project.containers().is_empty());
}
