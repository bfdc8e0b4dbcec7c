//! Loading: what is accepted, defaults, and that every refusal names file, line and key.

use std::path::Path;

use super::{LoadError, Project, TIMEOUT_DISABLED, load};

/// Writes `(relative path, content)` files into a new temporary directory.
pub(crate) fn write(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

/// A spread.yaml with one docker backend and suite `s/` holding task `s/t`, plus `extra`.
pub(crate) fn minimal(extra: &str) -> String {
    format!(
        "project: p\npath: /p\nbackends:\n  docker:\n    systems: [debian-12]\n\
         suites:\n  s/:\n    summary: s\n{extra}"
    )
}

pub(crate) const TASK: (&str, &str) = ("s/t/task.yaml", "summary: t\nexecute: 'true'\n");

fn load_files(files: &[(&str, &str)]) -> Result<Project, LoadError> {
    let dir = write(files);
    load(dir.path())
}

/// The error text with the temporary directory replaced by `<dir>`.
fn error_of(files: &[(&str, &str)]) -> String {
    let dir = write(files);
    let error = load(dir.path()).expect_err("the project must be refused");
    error
        .to_string()
        .replace(&dir.path().display().to_string(), "<dir>")
}

#[test]
fn docker_system_settings_are_read() {
    let project = load_files(&[
        (
            "spread.yaml",
            "project: p\npath: /p\nbackends:\n  docker:\n    systems:\n      - debian-12:\n\
             \x20         image: e2e/debian-12\n          workers: 2\n          privileged: true\n\
             \x20         cap-add: [SYS_ADMIN]\n          read-only: true\n\
             \x20         read-only-paths: [/etc]\n          tmpfs: [/run, /tmp]\n\
             \x20     - ubuntu-24.04\nsuites:\n  s/:\n    summary: s\n",
        ),
        TASK,
    ])
    .unwrap();
    let backend = &project.backends[0];
    assert_eq!(backend.kind, "docker", "type defaults to the backend name");
    let system = &backend.systems[0];
    assert_eq!(system.image.as_deref(), Some("e2e/debian-12"));
    assert_eq!(system.workers, 2);
    assert!(system.docker.privileged && system.docker.read_only);
    assert_eq!(system.docker.cap_add, ["SYS_ADMIN"]);
    assert_eq!(system.docker.read_only_paths, ["/etc"]);
    assert_eq!(system.docker.tmpfs, ["/run", "/tmp"]);
    assert_eq!(backend.systems[1].name, "ubuntu-24.04");
    assert_eq!(backend.systems[1].workers, 1);
    assert_eq!(system.label(), "docker:debian-12");
}

#[test]
fn every_script_slot_is_kept_trimmed() {
    let mut spread = String::from("project: p\npath: /p\n");
    for slot in [
        "prepare",
        "restore",
        "debug",
        "prepare-each",
        "restore-each",
        "debug-each",
    ] {
        spread.push_str(&format!("{slot}: |\n  echo project {slot}\n\n"));
    }
    spread.push_str("backends:\n  docker:\n    systems: [debian-12]\n    prepare-each: ' b '\n");
    spread.push_str("suites:\n  s/:\n    summary: s\n    debug-each: d\n    restore: '  '\n");
    let project = load_files(&[
        ("spread.yaml", &spread),
        (
            "s/t/task.yaml",
            "summary: t\nprepare: p\nexecute: |\n  e\nrestore: r\ndebug: g\n",
        ),
    ])
    .unwrap();
    let scripts = &project.scripts;
    assert_eq!(scripts.prepare.as_deref(), Some("echo project prepare"));
    assert_eq!(
        scripts.debug_each.as_deref(),
        Some("echo project debug-each")
    );
    assert_eq!(
        project.backends[0].scripts.prepare_each.as_deref(),
        Some("b")
    );
    let suite = &project.suites[0];
    assert_eq!(suite.scripts.debug_each.as_deref(), Some("d"));
    assert_eq!(suite.scripts.restore, None, "a blank script is no script");
    let task = &suite.tasks[0];
    let slots = [&task.prepare, &task.execute, &task.restore, &task.debug];
    assert_eq!(
        slots.map(|slot| slot.as_deref()),
        [Some("p"), Some("e"), Some("r"), Some("g")]
    );
}

#[test]
fn environment_values_are_kept_as_written_in_order() {
    let project = load_files(&[
        (
            "spread.yaml",
            &minimal("environment:\n  B: 0\n  A: 1.10\n  EMPTY:\n  FLAG: yes\n  V/x,y: '$B'\n"),
        ),
        TASK,
    ])
    .unwrap();
    let entries: Vec<(&str, &str)> = project
        .environment
        .entries()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            ("B", "0"),
            ("A", "1.10"),
            ("EMPTY", ""),
            ("FLAG", "yes"),
            ("V/x,y", "$B")
        ]
    );
}

#[test]
fn tasks_are_the_direct_subdirectories_holding_a_task_yaml() {
    let project = load_files(&[
        ("spread.yaml", &minimal("")),
        ("s/b/task.yaml", "summary: b\n"),
        ("s/a/task.yaml", "summary: a\n"),
        ("s/lib/helper.sh", "true\n"),
        ("s/a/nested/task.yaml", "summary: nested\n"),
        ("s/task.yaml", "summary: not a task of s/\n"),
    ])
    .unwrap();
    let names: Vec<&str> = project.suites[0]
        .tasks
        .iter()
        .map(|t| t.full_name.as_str())
        .collect();
    assert_eq!(names, ["s/a", "s/b"]);
    assert!(project.suites[0].tasks[0].dir.ends_with("s/a"));
}

#[test]
fn the_project_file_is_found_from_a_subdirectory_and_may_be_hidden() {
    let dir = write(&[(".spread.yaml", &minimal("")), TASK]);
    let project = load(&dir.path().join("s/t")).unwrap();
    assert_eq!(project.root, dir.path());
    assert!(project.file.ends_with(".spread.yaml"));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        load(&empty.path().join("x")),
        Err(LoadError::NotFound { .. })
    ));
}

#[test]
fn timeouts_priority_and_manual_are_read_at_every_level() {
    let project = load_files(&[
        (
            "spread.yaml",
            "project: p\npath: /p\nkill-timeout: 1m30s\nwarn-timeout: -1\npriority: 3\n\
             backends:\n  docker:\n    kill-timeout: 1.5h\n    manual: true\n\
             \x20   systems:\n      - debian-12:\n          priority: -2\n          manual: true\n\
             suites:\n  s/:\n    summary: s\n    warn-timeout: 30s\n    manual: true\n",
        ),
        (
            "s/t/task.yaml",
            "summary: t\nkill-timeout: 0s\npriority: 0\nmanual: true\n",
        ),
    ])
    .unwrap();
    use std::time::Duration;
    assert_eq!(project.kill_timeout, Some(Duration::from_secs(90)));
    assert_eq!(project.warn_timeout, Some(TIMEOUT_DISABLED));
    assert_eq!(project.priority, Some(3));
    let backend = &project.backends[0];
    assert_eq!(backend.kill_timeout, Some(Duration::from_secs(5400)));
    assert!(backend.manual && backend.systems[0].manual);
    assert_eq!(backend.systems[0].priority, Some(-2));
    let suite = &project.suites[0];
    assert_eq!(suite.warn_timeout, Some(Duration::from_secs(30)));
    let task = &suite.tasks[0];
    assert_eq!(task.kill_timeout, None, "zero means unset, as in spread");
    assert_eq!(task.priority, Some(0));
    assert!(suite.manual && task.manual);
}

#[test]
fn unknown_keys_are_refused_with_their_line() {
    let spread = minimal("").replace("path: /p\n", "path: /p\nprepare-all: x\n");
    assert_eq!(
        error_of(&[("spread.yaml", &spread), TASK]),
        "<dir>/spread.yaml: unknown field `prepare-all`, expected one of `project`, `path`, \
         `environment`, `variants`, `backends`, `suites`, `include`, `exclude`, `rename`, \
         `repack`, `prepare`, `restore`, `debug`, `prepare-each`, `restore-each`, \
         `debug-each`, `kill-timeout`, `warn-timeout`, `priority` at line 3 column 1"
    );
    let spread = minimal("").replace("[debian-12]", "\n      - debian-12:\n          wrokers: 2");
    let error = error_of(&[("spread.yaml", &spread), TASK]);
    assert!(
        error.starts_with(
            "<dir>/spread.yaml: backends.docker.systems[0].debian-12: unknown field `wrokers`"
        ) && error.ends_with("at line 7 column 11"),
        "{error}"
    );
    let error = error_of(&[
        ("spread.yaml", &minimal("")),
        ("s/t/task.yaml", "summary: t\nexcute: x\n"),
    ]);
    assert!(
        error.starts_with("<dir>/s/t/task.yaml: unknown field `excute`")
            && error.ends_with("at line 2 column 1"),
        "{error}"
    );
}

#[test]
fn spread_rules_are_enforced_with_file_line_and_key() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "<dir>/spread.yaml:5: backends.docker.systems.debian: invalid system name \"debian\": \
             it must look like name-version, e.g. debian-12 or ubuntu-16.04-64 (lowercase, \
             digits, - and .)",
            &[("spread.yaml", &minimal("").replace("[debian-12]", "[debian]")), TASK],
        ),
        (
            "<dir>/spread.yaml:9: suites.s/.systems: [\"debian-12\", \"-ubuntu-24.04\"] mixes \
             plain names with +name/-name entries: either replace the list (plain names only) \
             or edit it (+/- entries only)",
            &[
                ("spread.yaml", &minimal("    systems: [debian-12, -ubuntu-24.04]\n")),
                TASK,
            ],
        ),
        (
            "<dir>/s/t/task.yaml:2: kill-timeout: timeout must look like 10s, 15m, 1m30s or \
             1.5h (or -1 to disable), not \"30\"",
            &[("spread.yaml", &minimal("")), ("s/t/task.yaml", "summary: t\nkill-timeout: 30\n")],
        ),
        (
            "<dir>/s/t/task.yaml:3: environment.A: variable \"A\" is defined twice",
            &[("spread.yaml", &minimal("")), ("s/t/task.yaml", "summary: t\nenvironment:\n  A: 1\n  A: 2\n")],
        ),
        (
            "<dir>/spread.yaml:10: suites.s/.environment.bad-name: invalid variable name \
             \"bad-name\": use NAME or NAME/variant1,variant2 with letters, digits and _",
            &[("spread.yaml", &minimal("    environment:\n      bad-name: 1\n")), TASK],
        ),
        (
            "<dir>/s/t/task.yaml: summary: task \"s/t\" is missing a summary",
            &[("spread.yaml", &minimal("")), ("s/t/task.yaml", "execute: 'true'\n")],
        ),
        (
            "<dir>/spread.yaml:7: suites.s/: suite \"s/\" is missing a summary",
            &[("spread.yaml", &minimal("").replace("    summary: s\n", "")), TASK],
        ),
        (
            "<dir>/spread.yaml:7: suites.s: invalid suite name \"s\": it must end with /",
            &[("spread.yaml", &minimal("").replace("  s/:", "  s:")), TASK],
        ),
        (
            "<dir>/spread.yaml:7: backends.docker.systems.debian-12: privileged, cap-add, read-only, \
             read-only-paths and tmpfs are docker settings, but backend \"docker\" has type \
             \"lxd\"",
            &[
                (
                    "spread.yaml",
                    &minimal("").replace(
                        "  docker:\n    systems: [debian-12]\n",
                        "  docker:\n    type: lxd\n    systems:\n      - debian-12:\n          privileged: true\n",
                    ),
                ),
                TASK,
            ],
        ),
        (
            "<dir>/spread.yaml:5: backends.docker.type: backend \"docker\" has unsupported type \
             \"dokcer\": use one of adhoc, docker, google, humbox, linode, lxd, qemu",
            &[("spread.yaml", &minimal("").replace("  docker:\n", "  docker:\n    type: dokcer\n")), TASK],
        ),
        (
            "<dir>/spread.yaml:4: backends.a: adhoc backend \"a\" requires an allocate script",
            &[("spread.yaml", &minimal("").replace("  docker:\n", "  a:\n    type: adhoc\n")), TASK],
        ),
        (
            "<dir>/spread.yaml:5: backends.docker.systems.debian-12: system \"debian-12\" is \
             listed twice",
            &[("spread.yaml", &minimal("").replace("[debian-12]", "[debian-12, debian-12]")), TASK],
        ),
        (
            "<dir>/spread.yaml:2: path: missing the remote project location: set path: to an \
             absolute directory",
            &[("spread.yaml", &minimal("").replace("path: /p", "path: ''")), TASK],
        ),
        (
            "<dir>/s/Bad_Name/task.yaml: invalid task name \"s/Bad_Name\": task directories \
             must be lowercase letters and digits joined by - . or _",
            &[("spread.yaml", &minimal("")), ("s/Bad_Name/task.yaml", "summary: t\n")],
        ),
    ];
    for (expected, files) in cases {
        assert_eq!(&error_of(files), expected);
    }
}

#[test]
fn a_missing_suite_directory_is_named() {
    let error = error_of(&[("spread.yaml", &minimal(""))]);
    assert!(error.starts_with("cannot read <dir>/s: "), "{error}");
}

#[test]
fn errors_expose_their_line() {
    let dir = write(&[
        (
            "spread.yaml",
            &minimal("").replace("[debian-12]", "[debian]"),
        ),
        TASK,
    ]);
    assert_eq!(load(dir.path()).unwrap_err().line(), Some(5));
    let dir = write(&[("spread.yaml", "project: p\npath: [\n")]);
    assert_eq!(load(dir.path()).unwrap_err().line(), Some(2));
    assert!(Path::new(&dir.path().join("spread.yaml")).exists());
}
