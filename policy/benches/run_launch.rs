//! What `snapcell run` adds to starting a program: `snapcell run bench.true` (a snap whose app
//! is a copy of /bin/true) against a direct exec of /bin/true, both spawned the same way into
//! the same sandbox; every launch runs once per round, so drift on a shared machine hits them
//! all alike. Three launch paths: a root caller without an opt-in (capability drop), a root
//! caller with one, and a setuid-root snapcell run by a non-root user (permanent drop,
//! no_new_privs).
//!
//! Two platform pairs come first: a program without libc against the same program on static
//! glibc and against /bin/true, i.e. what glibc's start-up costs here. Then a floor:
//! `snapcell --version`, the cost of exec'ing the launcher binary at all.
//! Then the largest single step of a launch on its own: the kernel accepting each installed
//! seccomp program (seccomp(2) timed in a forked child).
//!
//! Reported per path: the median and 90th percentile of each, the added median time and the
//! ratio, all from one run. Plain `harness = false`: each sample is a whole process.
//!
//! Run as root: `cargo bench -p policy --bench run_launch`.

#[path = "../tests/run_support/mod.rs"]
mod run_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use policy::seccomp::Program;
use run_support::{OptIn, SnapSource, chmod, id_of, install, shared_dir};
use testkit::{Identity, Sandbox};

const SAMPLES: usize = 400;
const WARMUP: usize = 20;

/// One way to start the program.
struct Launch {
    label: &'static str,
    program: PathBuf,
    args: &'static [&'static str],
    /// `None`: root.
    caller: Option<Identity>,
}

impl Launch {
    /// `program` without arguments.
    fn bare(label: &'static str, program: &Path, caller: Option<Identity>) -> Launch {
        Launch {
            label,
            program: program.to_path_buf(),
            args: &[],
            caller,
        }
    }

    fn command(&self, sandbox: &Sandbox) -> Command {
        let mut command = match &self.caller {
            Some(identity) => sandbox.command_as(&self.program, identity),
            None => sandbox.command(&self.program),
        };
        command.args(self.args).stdout(Stdio::null());
        command
    }
}

fn main() {
    let sandbox = Sandbox::new().expect("creating a sandbox (needs root)");
    for (name, opt_in) in [("bench", OptIn::None), ("benchopt", OptIn::SystemUsers)] {
        let source = SnapSource::new(name, opt_in, &[("true", "bin/true")])
            .with_file(Path::new("/bin/true"), "bin/true");
        install(&sandbox, &source);
    }
    let mut useradd = sandbox.command("useradd");
    useradd.args(["--create-home", "--user-group", "bencher"]);
    run_support::stdout(useradd);
    let bencher = Identity {
        uid: id_of(&sandbox, "passwd", "bencher"),
        gid: id_of(&sandbox, "group", "bencher"),
        groups: Vec::new(),
    };
    let launcher_dir = shared_dir();
    let setuid_snapcell = launcher_dir.path().join("snapcell");
    std::fs::copy(run_support::snapcell(), &setuid_snapcell).expect("copying snapcell");
    std::os::unix::fs::chown(&setuid_snapcell, Some(0), Some(0)).expect("chown root");
    chmod(&setuid_snapcell, 0o4755);

    let (no_libc, static_glibc) = platform_programs(launcher_dir.path());

    let snapcell = run_support::snapcell().to_path_buf();
    let direct = |label, caller| Launch::bare(label, Path::new("/bin/true"), caller);
    let without_libc = || {
        Launch::bare(
            "platform: a program without libc (one exit system call)",
            &no_libc,
            None,
        )
    };
    let paths = [
        (
            without_libc(),
            Launch::bare(
                "platform: the same program on static glibc",
                &static_glibc,
                None,
            ),
        ),
        (
            without_libc(),
            direct("platform: /bin/true (dynamic glibc)", None),
        ),
        (
            direct("/bin/true as root", None),
            Launch {
                label: "floor: snapcell --version (exec of the launcher alone, no launch)",
                program: snapcell.clone(),
                args: &["--version"],
                caller: None,
            },
        ),
        (
            direct("/bin/true as root", None),
            Launch {
                label: "snapcell run bench.true as root, no opt-in",
                program: snapcell.clone(),
                args: &["run", "bench.true"],
                caller: None,
            },
        ),
        (
            direct("/bin/true as root", None),
            Launch {
                label: "snapcell run benchopt.true as root, system-users: [daemon]",
                program: snapcell.clone(),
                args: &["run", "benchopt.true"],
                caller: None,
            },
        ),
        (
            direct("/bin/true as a non-root user", Some(bencher.clone())),
            Launch {
                label: "setuid-root snapcell run benchopt.true by a non-root user",
                program: setuid_snapcell,
                args: &["run", "benchopt.true"],
                caller: Some(bencher),
            },
        ),
    ];

    println!(
        "snapcell run vs direct exec ({SAMPLES} rounds, every launch once per round, {} cores)",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let times = measure(&sandbox, &paths);
    for snap in ["bench", "benchopt"] {
        let program = installed_program(&sandbox, snap);
        println!(
            "  seccomp(2) of {snap}.true's program alone ({} instructions, timed in a forked child): {}",
            program.len(),
            Figures::of(&load_times(&program))
        );
    }
    for ((direct, launched), (direct_times, launched_times)) in paths.iter().zip(&times) {
        let (d, l) = (Figures::of(direct_times), Figures::of(launched_times));
        println!("  {}: {d}", direct.label);
        println!("  {}: {l}", launched.label);
        println!(
            "    added: median {}, fastest {}; median ratio {:.2}x",
            ms(l.median.saturating_sub(d.median)),
            ms(l.fastest.saturating_sub(d.fastest)),
            l.median.as_secs_f64() / d.median.as_secs_f64()
        );
    }
}

/// The median (what the target is about), the 90th percentile, and the fastest sample (the
/// one least disturbed by other processes on a shared machine).
#[derive(Clone, Copy)]
struct Figures {
    median: Duration,
    p90: Duration,
    fastest: Duration,
}

impl Figures {
    fn of(times: &[Duration]) -> Figures {
        let mut sorted = times.to_vec();
        sorted.sort_unstable();
        let at = |percent: usize| sorted[(sorted.len() - 1) * percent / 100];
        Figures {
            median: at(50),
            p90: at(90),
            fastest: sorted[0],
        }
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "median {} (p90 {}, fastest {})",
            ms(self.median),
            ms(self.p90),
            ms(self.fastest)
        )
    }
}

/// Runs every launch once per round, after warm-up rounds, so that drift on a shared machine
/// hits all of them alike; returns each pair's wall times.
type Times = (Vec<Duration>, Vec<Duration>);

fn measure(sandbox: &Sandbox, paths: &[(Launch, Launch)]) -> Vec<Times> {
    let mut times: Vec<Times> = paths
        .iter()
        .map(|_| (Vec::with_capacity(SAMPLES), Vec::with_capacity(SAMPLES)))
        .collect();
    for round in 0..WARMUP + SAMPLES {
        for ((direct, launched), (direct_times, launched_times)) in paths.iter().zip(&mut times) {
            let direct_time = time(sandbox, direct);
            let launched_time = time(sandbox, launched);
            if round >= WARMUP {
                direct_times.push(direct_time);
                launched_times.push(launched_time);
            }
        }
    }
    times
}

fn time(sandbox: &Sandbox, launch: &Launch) -> Duration {
    let mut command = launch.command(sandbox);
    let started = Instant::now();
    let status = command.status().expect("spawning");
    let took = started.elapsed();
    assert!(status.success(), "{}: {status}", launch.label);
    took
}

/// Two programs that do nothing, built with the C compiler that links Rust: one without libc
/// (`_start` makes the exit system call) and one `int main(void)` linked statically with glibc.
/// Against each other and `/bin/true`, they show what glibc's own start-up costs on this
/// machine, which every dynamically linked launcher pays before its `main`.
fn platform_programs(dir: &Path) -> (PathBuf, PathBuf) {
    let build = |name: &str, source: &str, flags: &[&str]| {
        let source_path = dir.join(format!("{name}.c"));
        std::fs::write(&source_path, source).expect("writing a C source");
        let program = dir.join(name);
        let status = Command::new("cc")
            .args(["-O2", "-static", "-o"])
            .arg(&program)
            .args(flags)
            .arg(&source_path)
            .status()
            .expect("running cc (the C compiler Rust links with)");
        assert!(status.success(), "cc {name}.c: {status}");
        program
    };
    let no_libc = build(
        "no-libc",
        "void _start(void) { __asm__ volatile(\"mov $60, %eax; xor %edi, %edi; syscall\"); }\n",
        &["-nostdlib"],
    );
    let static_glibc = build("static-glibc", "int main(void) { return 0; }\n", &[]);
    (no_libc, static_glibc)
}

/// The program `snapcell install` stored for `SNAP.true`, read inside the sandbox.
fn installed_program(sandbox: &Sandbox, snap: &str) -> Program {
    let mut cat = sandbox.command("cat");
    cat.arg(format!("/var/lib/snapcell/seccomp/snap.{snap}.true.bin"));
    let bytes = run_support::output(cat).stdout;
    Program::from_bytes(&bytes).expect("an installed program")
}

/// How long the kernel takes to accept `program` (convert, JIT-compile, cache), measured in a
/// forked child around the one system call, once per sample.
fn load_times(program: &Program) -> Vec<Duration> {
    (0..SAMPLES).map(|_| load_once(program)).collect()
}

fn load_once(program: &Program) -> Duration {
    let (reader, writer) = nix::unistd::pipe().expect("pipe");
    // SAFETY: the child only loads the filter, reads the clock, writes to a pipe and _exits.
    match unsafe { nix::unistd::fork() }.expect("fork") {
        nix::unistd::ForkResult::Child => {
            let started = Instant::now();
            let loaded = policy::seccomp::load(program).is_ok();
            let nanos = started.elapsed().as_nanos() as u64;
            let report = if loaded { nanos } else { u64::MAX };
            let _ = nix::unistd::write(&writer, &report.to_ne_bytes());
            // SAFETY: _exit is async-signal-safe and skips the parent's atexit state.
            unsafe { nix::libc::_exit(0) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(writer);
            let mut report = [0u8; 8];
            nix::unistd::read(&reader, &mut report).expect("the child's report");
            nix::sys::wait::waitpid(child, None).expect("waitpid");
            let nanos = u64::from_ne_bytes(report);
            assert_ne!(nanos, u64::MAX, "the kernel refused the program");
            Duration::from_nanos(nanos)
        }
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1000.0)
}
