//! `-shell` opens a real interactive TTY session in the container, with the job's environment
//! and directory, driven here through a pseudo-terminal as a person would type.

mod run_support;

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::pty::openpty;
use run_support::{Project, docker_backend};

#[test]
fn shell_is_an_interactive_tty_with_the_jobs_environment() {
    let yaml = format!(
        "project: shell\npath: /home/shell\nenvironment:\n  GREETING: hello-from-env\n{}suites:\n  s/:\n    summary: s\n",
        docker_backend(1, "")
    );
    let project = Project::new(
        &yaml,
        &[(
            "s/t/task.yaml",
            "summary: t\nexecute: echo not-run-under-shell\n",
        )],
    );
    let pty = openpty(None, None).unwrap();
    let terminal = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
    let mut child = project
        .command(&["-shell", "-v"])
        .stdin(terminal(&pty.slave))
        .stdout(terminal(&pty.slave))
        .stderr(terminal(&pty.slave))
        .spawn()
        .unwrap();
    drop(pty.slave);

    let master = std::fs::File::from(pty.master);
    let mut reader = master.try_clone().unwrap();
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
    let wait_for = |text: &str, seen: &mut String| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !seen.contains(text) {
            assert!(Instant::now() < deadline, "no {text:?} in:\n{seen}");
            if let Ok(bytes) = received.recv_timeout(Duration::from_millis(200)) {
                seen.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    };
    wait_for("Starting shell on docker:debian-12:s/t", &mut seen);
    let mut writer = master;
    // Typed as keys: the tty in the container echoes and answers; `tty` proves there is one.
    writer
        .write_all(b"tty >/dev/null && echo \"TTY-$GREETING-$SPREAD_JOB-$(pwd)\"; exit\r")
        .unwrap();
    wait_for(
        "TTY-hello-from-env-docker:debian-12:s/t-/home/shell/s/t",
        &mut seen,
    );
    wait_for("Successful tasks: 1", &mut seen);
    let status = child.wait().unwrap();
    assert!(status.success(), "{seen}");
    assert!(
        !seen.contains("\nnot-run-under-shell"),
        "execute is replaced by the shell\n{seen}"
    );
    assert!(project.containers().is_empty());
}
