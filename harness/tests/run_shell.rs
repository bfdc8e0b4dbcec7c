//! Shells (-shell, -debug) are real interactive TTY sessions in the container, with the job's
//! environment and directory, driven here through a pseudo-terminal as a person would type.

mod run_support;

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::pty::openpty;
use run_support::{Project, docker_backend};

fn project(task: &str) -> Project {
    let yaml = format!(
        "project: shell\npath: /home/shell\nenvironment:\n  GREETING: hello-from-env\n{}suites:\n  s/:\n    summary: s\n",
        docker_backend(1, "")
    );
    Project::new(&yaml, &[("s/t/task.yaml", task)])
}

/// Runs `harness ARGS` on a pseudo-terminal, types `keys` once the shell is announced and
/// returns the exit status and everything the terminal showed.
fn on_terminal(project: &Project, args: &[&str], keys: &str, expected: &[&str]) -> (bool, String) {
    let pty = openpty(None, None).unwrap();
    let terminal = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
    let mut child = project
        .command(args)
        .stdin(terminal(&pty.slave))
        .stdout(terminal(&pty.slave))
        .stderr(terminal(&pty.slave))
        .spawn()
        .unwrap();
    drop(pty.slave);
    let mut writer = std::fs::File::from(pty.master);
    let mut reader = writer.try_clone().unwrap();
    let (sender, received) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buffer) {
            if n == 0 || sender.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !seen.contains(text) {
            assert!(Instant::now() < deadline, "no {text:?} in:\n{seen}");
            if let Ok(bytes) = received.recv_timeout(Duration::from_millis(200)) {
                seen.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    };
    wait_for("Starting shell on docker:debian-12:s/t");
    writer.write_all(keys.as_bytes()).unwrap();
    for text in expected {
        wait_for(text);
    }
    wait_for("Successful tasks:");
    let status = child.wait().unwrap();
    // The summary goes on after its first line: read what the terminal still holds until the
    // reader sees the harness's end of the terminal close.
    while let Ok(bytes) = received.recv_timeout(Duration::from_secs(5)) {
        seen.push_str(&String::from_utf8_lossy(&bytes));
    }
    (status.success(), seen)
}

/// Typed as keys: the tty in the container echoes and answers; `tty` proves there is one, and
/// the variables are expanded there.
const KEYS: &str = "tty >/dev/null && echo \"TTY-$GREETING-$SPREAD_JOB-$(pwd)\"; exit\r";
const ANSWER: &str = "TTY-hello-from-env-docker:debian-12:s/t-/home/shell/s/t";

#[test]
fn shell_replaces_execute_with_an_interactive_tty() {
    let project = project("summary: t\nexecute: echo not-run-under-shell\n");
    let (passed, seen) = on_terminal(&project, &["-shell", "-v"], KEYS, &[ANSWER]);
    assert!(passed, "{seen}");
    assert!(
        !seen.contains("\nnot-run-under-shell"),
        "execute is replaced by the shell\n{seen}"
    );
    assert!(project.containers().is_empty());
}

#[test]
fn debug_opens_a_shell_at_the_failure_point_then_restores() {
    let task = "summary: t\nexecute: |\n  touch /var/tmp/left-by-execute\n  false\nrestore: echo restored-after-shell\n";
    let project = project(task);
    let keys = format!("ls /var/tmp/left-by-execute && {KEYS}");
    let (passed, seen) = on_terminal(
        &project,
        &["-debug", "-v"],
        &keys,
        &[ANSWER, "restored-after-shell"],
    );
    assert!(!passed, "{seen}");
    assert!(
        seen.contains("Error executing docker:debian-12:s/t"),
        "{seen}"
    );
    assert!(seen.contains("Failed tasks: 1"), "{seen}");
    assert!(project.containers().is_empty());
}
