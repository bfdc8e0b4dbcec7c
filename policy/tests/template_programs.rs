//! The default template lets ordinary programs run unchanged: bash with pipes, coreutils,
//! python3 with imports and a socket, and memcached (a real dynamically linked daemon) serving a
//! get/set on loopback after dropping to the opt-in user. Each runs under the compiled filter,
//! loaded in the child just before exec.

mod seccomp_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use policy::accounts::{IdResolver, Nss};
use policy::profile::{Features, seccomp_source};
use policy::seccomp::{Program, compile, parse};
use policy::snap::{App, OptIn, SnapMeta};
use seccomp_support::with_filter;

fn snap(users: OptIn) -> SnapMeta {
    let app = App {
        command: "bin/run".into(),
        daemon: None,
        command_chain: Vec::new(),
    };
    SnapMeta {
        name: "hello".into(),
        version: "1.0".into(),
        summary: None,
        apps: BTreeMap::from([("hello".to_string(), app)]),
        users,
    }
}

fn program(users: OptIn) -> Program {
    let source = seccomp_source(&snap(users), "hello", Features::default());
    compile(&parse(&source).unwrap(), &Nss).unwrap()
}

fn run_filtered(program: &Program, command: &mut Command) -> Output {
    let output = with_filter(command, program).output().expect("spawn");
    assert!(
        output.status.success(),
        "{command:?} failed under the filter: {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn bash_with_pipes_and_coreutils() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
        set -euo pipefail
        printf 'pear\napple\nfig\n' > fruit
        sort fruit | tr a-z A-Z | tee sorted > /dev/null
        cp sorted copy
        mkdir sub && mv copy sub/ && ln -s sub/copy link
        chmod 600 sub/copy
        ls -l sub > listing
        test "$(wc -l < link)" = 3
        count=0; for f in $(cat link); do count=$((count + 1)); done
        echo "$(head -n1 link) $count $(date +%Y | cut -c1-2) $(id -u) $(stat -c %a sub/copy)"
        ( sleep 0.1 & wait ) ; rm -r sub link
        echo "$(ls | sort | xargs)"
    "#;
    let output = run_filtered(
        &program(OptIn::None),
        Command::new("/bin/bash")
            .arg("-c")
            .arg(script)
            .current_dir(dir.path()),
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "APPLE 3 20 0 600\nfruit listing sorted\n"
    );
}

#[test]
fn python3_with_imports_threads_and_a_socket() {
    let script = r#"
import hashlib, json, socket, subprocess, threading, sqlite3, tempfile
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0)); server.listen()
def echo():
    conn, _ = server.accept()
    conn.sendall(conn.recv(64).upper()); conn.close()
worker = threading.Thread(target=echo); worker.start()
client = socket.create_connection(server.getsockname())
client.sendall(b"ping"); reply = client.recv(64).decode(); worker.join()
db = sqlite3.connect(":memory:"); db.execute("create table t (x)"); db.execute("insert into t values (41)")
total = db.execute("select x + 1 from t").fetchone()[0]
child = subprocess.run(["echo", "child"], capture_output=True, text=True).stdout.strip()
print(json.dumps({"reply": reply, "sha": hashlib.sha256(b"").hexdigest()[:8], "sum": total, "child": child}))
"#;
    let output = run_filtered(
        &program(OptIn::None),
        Command::new("/usr/bin/python3").arg("-c").arg(script),
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "{\"reply\": \"PING\", \"sha\": \"e3b0c442\", \"sum\": 42, \"child\": \"child\"}\n"
    );
}

/// A memcached started under the filter, killed when dropped.
struct Memcached {
    child: Child,
    port: u16,
}

impl Memcached {
    fn start(program: &Program, user: &str) -> Memcached {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new("/usr/bin/memcached");
        command
            .args([
                "-u",
                user,
                "-l",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "0",
                "-t",
                "2",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = with_filter(&mut command, program)
            .spawn()
            .expect("spawn memcached");
        Memcached { child, port }
    }

    fn connect(&mut self) -> Result<TcpStream, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                return Err(format!("memcached exited with {status}: {stderr}"));
            }
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(stream) => return Ok(stream),
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(error) => return Err(format!("cannot connect to memcached: {error}")),
            }
        }
    }

    fn uid(&self) -> u32 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with("Uid:"))
            .unwrap();
        let ids: Vec<u32> = line
            .split_whitespace()
            .skip(1)
            .map(|id| id.parse().unwrap())
            .collect();
        assert!(
            ids.iter().all(|id| *id == ids[0]),
            "real, effective, saved, fs uids: {ids:?}"
        );
        ids[0]
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn request(stream: &mut TcpStream, text: &str, reply_lines: usize) -> String {
    stream.write_all(text.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut reply = String::new();
    for _ in 0..reply_lines {
        reader.read_line(&mut reply).unwrap();
    }
    reply
}

#[test]
fn memcached_drops_to_daemon_and_serves_get_and_set() {
    let program = program(OptIn::SystemUsers(vec!["daemon".into()]));
    let mut memcached = Memcached::start(&program, "daemon");
    let mut stream = memcached.connect().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(
        request(&mut stream, "set greeting 0 0 5\r\nhello\r\n", 1),
        "STORED\r\n"
    );
    assert_eq!(
        request(&mut stream, "get greeting\r\n", 3),
        "VALUE greeting 0 5\r\nhello\r\nEND\r\n"
    );
    assert_eq!(memcached.uid(), Nss.uid("daemon").unwrap());
}

#[test]
fn memcached_cannot_drop_to_a_user_the_snap_did_not_opt_in_to() {
    let program = program(OptIn::SystemUsers(vec!["daemon".into()]));
    let mut memcached = Memcached::start(&program, "nobody");
    let error = memcached.connect().unwrap_err();
    assert!(
        error.contains("failed to assume identity of user nobody"),
        "{error}"
    );
}
