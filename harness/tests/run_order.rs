//! spread's order of prepare, restore and debug slots, recorded by the slots themselves in a
//! log file on the machine and compared with the sequence spread defines.

mod run_support;

use run_support::{Project, docker_backend, strip_time};

fn slot(name: &str) -> String {
    format!("echo \"{name}\" >> $LOG")
}

fn levels() -> String {
    // `level` names the slot: "suite-prepare-each one" for level ("suite", " one").
    let each = |level: &str, suffix: &str, indent: &str| {
        ["prepare-each", "restore-each", "debug-each"]
            .iter()
            .map(|s| format!("{indent}{s}: {}\n", slot(&format!("{level}-{s}{suffix}"))))
            .collect::<String>()
    };
    let suite = |name: &str, priority: i64| {
        format!(
            "  {name}/:\n    summary: {name}\n    priority: {priority}\n    prepare: {}\n    restore: {}\n{}",
            slot(&format!("suite-prepare {name}")),
            slot(&format!("suite-restore {name}")),
            each("suite", &format!(" {name}"), "    "),
        )
    };
    format!(
        "project: order\npath: /home/order\nenvironment:\n  LOG: /var/tmp/slots.log\n\
         prepare: {}\nrestore: |\n  {}\n  cat $LOG\n{}{}    prepare: {}\n    restore: {}\n{}suites:\n{}{}",
        slot("project-prepare"),
        slot("project-restore"),
        each("project", "", ""),
        docker_backend(1, ""),
        slot("backend-prepare"),
        slot("backend-restore"),
        each("backend", "", "    "),
        suite("one", 10),
        suite("two", 0),
    )
}

fn task(fails: bool) -> String {
    format!(
        "summary: a task\nprepare: {}\nexecute: |\n  {}\n  {}\nrestore: {}\ndebug: {}\n",
        slot("task-prepare $SPREAD_TASK"),
        slot("execute $SPREAD_TASK"),
        if fails { "false" } else { "true" },
        slot("task-restore $SPREAD_TASK"),
        slot("task-debug $SPREAD_TASK"),
    )
}

/// The slots around one job, as spread runs them.
fn job(suite: &str, task: &str, fails: bool) -> Vec<String> {
    let name = format!("{suite}/{task}");
    let mut slots = vec![
        "project-prepare-each".to_owned(),
        "backend-prepare-each".to_owned(),
        format!("suite-prepare-each {suite}"),
        format!("task-prepare {name}"),
        format!("execute {name}"),
    ];
    if fails {
        slots.extend([
            format!("task-debug {name}"),
            format!("suite-debug-each {suite}"),
            "backend-debug-each".to_owned(),
            "project-debug-each".to_owned(),
        ]);
    }
    slots.extend([
        format!("task-restore {name}"),
        format!("suite-restore-each {suite}"),
        "backend-restore-each".to_owned(),
        "project-restore-each".to_owned(),
    ]);
    slots
}

#[test]
fn slots_run_in_spreads_order_and_debug_only_after_a_failure() {
    let spread_yaml = levels();
    let project = Project::new(
        &spread_yaml,
        &[
            ("one/a/task.yaml", &task(false)),
            ("one/b/task.yaml", &task(true)),
            ("two/c/task.yaml", &task(false)),
        ],
    );
    let run = project.harness(&["-v"]);
    assert_eq!(run.status, Some(1), "{}", run.all());

    // one/a and one/b run in the seed's order; the suite with the higher priority goes first.
    let executed: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| strip_time(l).strip_prefix("Executing docker:debian-12:"))
        .map(|rest| rest.split(' ').next().unwrap())
        .collect();
    assert_eq!(executed.len(), 3, "{}", run.all());
    assert_eq!(executed[2], "two/c", "{}", run.all());

    let mut expected = vec![
        "project-prepare".to_owned(),
        "backend-prepare".to_owned(),
        "suite-prepare one".to_owned(),
    ];
    for name in &executed[..2] {
        let task = name.trim_start_matches("one/");
        expected.extend(job("one", task, task == "b"));
    }
    expected.extend([
        "suite-restore one".to_owned(),
        "suite-prepare two".to_owned(),
    ]);
    expected.extend(job("two", "c", false));
    expected.extend([
        "suite-restore two".to_owned(),
        "backend-restore".to_owned(),
        "project-restore".to_owned(),
    ]);

    let log = project_restore_output(&run.stdout);
    assert_eq!(log, expected, "{}", run.all());
    assert_eq!(
        run.summary(),
        "Successful tasks: 2\nAborted tasks: 0\nFailed tasks: 1\n    - docker:debian-12:one/b"
    );
    assert!(project.containers().is_empty());
}

/// The lines the project restore printed from the log (trace lines left out).
fn project_restore_output(stdout: &str) -> Vec<String> {
    let start = stdout
        .rfind("Output of restoring docker:debian-12 (")
        .expect("the project restore printed the log");
    stdout[start..]
        .lines()
        .skip(2)
        .take_while(|l| *l != "-----")
        .filter(|l| !l.starts_with('+'))
        .map(str::to_owned)
        .collect()
}
