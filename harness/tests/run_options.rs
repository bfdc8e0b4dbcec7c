//! Scheduling and system options on real containers: the seed repeats an order, -repeat runs
//! jobs again, workers share a system's jobs, and the docker keys of a system shape the
//! container (capabilities, read-only paths, tmpfs).

mod run_support;

use run_support::{IMAGE, Project, docker_backend, strip_time};

fn tasks(count: usize) -> Vec<(String, String)> {
    (0..count)
        .map(|i| {
            (
                format!("s/t{i}/task.yaml"),
                format!("summary: t{i}\nexecute: echo \"sample $SPREAD_SAMPLE of $SPREAD_JOB\"\n"),
            )
        })
        .collect()
}

fn project(workers: usize, count: usize) -> Project {
    let yaml = format!(
        "project: options\npath: /home/options\n{}suites:\n  s/:\n    summary: s\n",
        docker_backend(workers, "")
    );
    let files = tasks(count);
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    Project::new(&yaml, &files)
}

fn executed(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| strip_time(l).strip_prefix("Executing "))
        .map(|rest| rest.split(' ').next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_seed_is_printed_and_repeats_the_order() {
    let project = project(1, 6);
    let first = project.harness(&["-seed", "42"]);
    assert_eq!(first.status, Some(0), "{}", first.all());
    assert!(
        first
            .stdout
            .contains("with seed 42 (repeat this order with -seed 42)"),
        "{}",
        first.all()
    );
    let second = project.harness(&["--seed=42"]);
    let other = project.harness(&["-seed", "7"]);
    assert_eq!(executed(&first.stdout).len(), 6);
    assert_eq!(executed(&first.stdout), executed(&second.stdout));
    assert_ne!(
        executed(&first.stdout),
        executed(&other.stdout),
        "different seeds, different orders"
    );
    assert!(project.containers().is_empty());
}

#[test]
fn repeat_runs_every_job_again_with_its_sample_number() {
    let project = project(1, 1);
    let run = project.harness(&["-repeat", "2", "-v"]);
    assert_eq!(run.status, Some(0), "{}", run.all());
    for sample in 1..=3 {
        assert!(
            run.stdout
                .contains(&format!("\nsample {sample} of docker:debian-12:s/t0\n")),
            "{}",
            run.all()
        );
    }
    assert!(
        run.summary().starts_with("Successful tasks: 3\n"),
        "{}",
        run.all()
    );
}

#[test]
fn workers_share_the_jobs_of_a_system() {
    let project = project(2, 4);
    let run = project.harness(&[]);
    assert_eq!(run.status, Some(0), "{}", run.all());
    let machines: std::collections::BTreeSet<&str> = run
        .stdout
        .lines()
        .filter_map(|l| strip_time(l).strip_prefix("Executing "))
        .filter_map(|rest| rest.split(" (").nth(1))
        .map(|m| m.trim_end_matches(')'))
        .collect();
    assert_eq!(machines.len(), 2, "{}", run.all());
    assert!(project.containers().is_empty());
}

#[test]
fn docker_keys_shape_the_container() {
    let checks = "summary: c\nexecute: |\n  \
        if touch /etc/harness-probe 2>/dev/null; then echo /etc is writable; exit 1; fi\n  \
        grep -q ' /run tmpfs' /proc/mounts\n  \
        mount -t tmpfs none /mnt\n  \
        touch /home/options/writable\n";
    let yaml = format!(
        "project: keys\npath: /home/options\nbackends:\n  docker:\n    systems:\n\
         \x20     - debian-12:\n          image: {IMAGE}\n          cap-add: [SYS_ADMIN]\n          read-only-paths: [/etc]\n          tmpfs: [/run]\n\
         \x20     - debian-12-plain:\n          image: {IMAGE}\n\
         suites:\n  s/:\n    summary: s\n"
    );
    let project = Project::new(&yaml, &[("s/c/task.yaml", checks)]);
    let run = project.harness(&["docker:debian-12:"]);
    assert_eq!(run.status, Some(0), "{}", run.all());
    assert_eq!(run.summary(), "Successful tasks: 1\nAborted tasks: 0");
    // Without the keys the same checks fail: the keys, not the image, made them pass.
    let plain = project.harness(&["docker:debian-12-plain:"]);
    assert_eq!(plain.status, Some(1), "{}", plain.all());
    assert!(plain.stdout.contains("/etc is writable"), "{}", plain.all());
    assert!(project.containers().is_empty());
}

#[test]
fn a_read_only_root_receives_the_project_in_a_tmpfs() {
    let checks = "summary: c\nexecute: |\n  \
        if touch /root/harness-probe 2>/dev/null; then echo / is writable; exit 1; fi\n  \
        test -f /home/options/s/c/task.yaml\n  \
        touch /home/options/written\n";
    let yaml = format!(
        "project: ro\npath: /home/options\nbackends:\n  docker:\n    systems:\n\
         \x20     - debian-12:\n          image: {IMAGE}\n          read-only: true\n          tmpfs: [/home, /tmp]\n\
         suites:\n  s/:\n    summary: s\n"
    );
    let project = Project::new(&yaml, &[("s/c/task.yaml", checks)]);
    let run = project.harness(&["-v"]);
    assert_eq!(run.status, Some(0), "{}", run.all());
    assert!(project.containers().is_empty());
}

#[test]
fn scripts_larger_than_a_command_line_run() {
    // 400 KiB of comments: more than the 128 KiB one exec argument may hold.
    let filler: String = (0..4000)
        .map(|i| format!("  # filler line {i:05} {}\n", "x".repeat(80)))
        .collect();
    let task = format!("summary: big\nexecute: |\n{filler}  echo big-script-ran\n");
    let yaml = format!(
        "project: big\npath: /home/big\n{}suites:\n  s/:\n    summary: s\n",
        docker_backend(1, "")
    );
    let project = Project::new(&yaml, &[("s/big/task.yaml", &task)]);
    let run = project.harness(&["-v"]);
    assert_eq!(
        run.status,
        Some(0),
        "{}",
        &run.all()[..2000.min(run.all().len())]
    );
    assert!(run.stdout.contains("\nbig-script-ran\n"));
    assert!(project.containers().is_empty());
}
