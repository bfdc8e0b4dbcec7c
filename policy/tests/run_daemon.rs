//! A real Debian daemon as a snap: memcached (`-u daemon`) starts as root under `snapcell run`,
//! drops to daemon itself and serves a set/get on loopback when the snap opts in with
//! `system-users: [daemon]`; without the opt-in its own drop fails and it says so.

mod run_support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use run_support::{OptIn, SnapSource, id_of, install};
use testkit::Sandbox;

const MEMCACHED: &str = "usr/bin/memcached -u daemon -l 127.0.0.1 -U 0";

fn memcached_snap(sandbox: &Sandbox, name: &str, opt_in: OptIn) {
    let source = SnapSource::new(name, opt_in, &[(name, MEMCACHED)])
        .with_file(Path::new("/usr/bin/memcached"), "usr/bin/memcached");
    install(sandbox, &source);
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("local address").port()
}

/// The daemon process; killed when the test ends, however it ends.
struct Daemon(Child);

impl Daemon {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn memcached(sandbox: &Sandbox, snap: &str, port: u16) -> std::process::Command {
    let mut command = sandbox.command(run_support::snapcell());
    command
        .args(["run", snap, "-p", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn connect(daemon: &mut Daemon, port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            return stream;
        }
        if let Some(status) = daemon.0.try_wait().expect("polling memcached") {
            panic!("memcached exited with {status} before it listened");
        }
        assert!(
            Instant::now() < deadline,
            "memcached did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `Uid:`/`Gid:`/`Groups:` lines of a process.
fn identity_lines(pid: u32) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading status");
    status
        .lines()
        .filter(|l| l.starts_with("Uid:") || l.starts_with("Gid:") || l.starts_with("Groups:"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn memcached_drops_to_daemon_and_serves_a_set_and_a_get() {
    let sandbox = Sandbox::new().expect("creating a sandbox");
    memcached_snap(&sandbox, "mc", OptIn::SystemUsers);
    let (uid, gid) = (
        id_of(&sandbox, "passwd", "daemon"),
        id_of(&sandbox, "group", "daemon"),
    );
    let port = free_port();
    let mut daemon = Daemon(
        memcached(&sandbox, "mc", port)
            .spawn()
            .expect("starting memcached"),
    );
    let stream = connect(&mut daemon, port);

    // `snapcell run` exec'd memcached in place, so the child's pid is the daemon's.
    assert_eq!(
        identity_lines(daemon.pid()),
        [
            format!("Uid: {uid} {uid} {uid} {uid}"),
            format!("Gid: {gid} {gid} {gid} {gid}"),
            "Groups:".to_owned()
        ]
    );
    let mut writer = stream.try_clone().expect("cloning the stream");
    let mut reader = BufReader::new(stream);
    writer
        .write_all(b"set greeting 0 0 5\r\nhello\r\nget greeting\r\n")
        .expect("sending set and get");
    let mut replies = Vec::new();
    for _ in 0..4 {
        let mut line = String::new();
        reader.read_line(&mut line).expect("reading a reply");
        replies.push(line);
    }
    assert_eq!(
        replies,
        [
            "STORED\r\n",
            "VALUE greeting 0 5\r\n",
            "hello\r\n",
            "END\r\n"
        ]
    );
}

#[test]
fn without_the_opt_in_memcached_cannot_drop_and_says_so() {
    let sandbox = Sandbox::new().expect("creating a sandbox");
    memcached_snap(&sandbox, "mcplain", OptIn::None);
    let port = free_port();
    // It exits by itself: a hang here would be a failure to refuse.
    let output = memcached(&sandbox, "mcplain", port)
        .output()
        .expect("running memcached");
    assert_eq!(
        output.status.code(),
        Some(71),
        "memcached's EX_OSERR: {output:?}"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "failed to drop supplementary groups: Operation not permitted\n\
         failed to assume identity of user daemon\n"
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}
