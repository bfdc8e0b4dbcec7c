//! Per-system-call cost under the seccomp filter: no filter, this project's single binary-tree
//! filter, and the same policy built the prior-art way (a global filter stacked on the per-app
//! filter, both in libseccomp's default linear layout).
//!
//! Filters cannot be removed once loaded, so every measurement runs in its own forked child;
//! the configurations take turns, round after round, so that drift hits them alike. A child
//! reports its fastest short burst of calls (the one least disturbed by other processes on a
//! shared machine); each figure is the fastest child, with the median child beside it. Plain `harness = false` rather than criterion for that
//! reason: criterion measures in-process and cannot fork a fresh, filter-free child per sample.
//!
//! Run: `cargo bench -p policy --bench seccomp_filter` (as root: loading a filter without
//! no_new_privs needs CAP_SYS_ADMIN).

use std::collections::BTreeMap;
use std::time::Instant;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use nix::libc;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, pipe, read, write};
use policy::accounts::Nss;
use policy::profile::{Features, seccomp_source};
use policy::seccomp::{FilterLayout, Program, compile_with_layout, load, parse};
use policy::snap::{App, OptIn, SnapMeta};

/// Children per configuration and call, taking turns with the other configurations.
const ROUNDS: usize = 21;
/// Bursts per child; a child reports its fastest burst. Bursts are short (well under a
/// scheduler tick) so that some of them run undisturbed on a busy machine.
const BURSTS: usize = 64;
const CALLS_PER_BURST: u32 = 1_000;
const MINUS_ONE: u64 = u32::MAX as u64;

/// A system call under measurement.
struct Call {
    label: &'static str,
    nr: i64,
    args: [u64; 3],
}

const CALLS: [Call; 3] = [
    Call {
        label: "getppid (bitmap-cached)",
        nr: libc::SYS_getppid,
        args: [0; 3],
    },
    Call {
        label: "setresuid(-1,-1,-1) (argument-filtered, refused)",
        nr: libc::SYS_setresuid,
        args: [MINUS_ONE; 3],
    },
    Call {
        label: "setresuid(-1,0,-1) (argument-filtered, allowed)",
        nr: libc::SYS_setresuid,
        args: [MINUS_ONE, 0, MINUS_ONE],
    },
];

/// Nanoseconds per call over the rounds of one configuration.
#[derive(Clone, Copy)]
struct Figure {
    fastest: f64,
    median: f64,
}

/// The filters a configuration stacks, in load order.
struct Config {
    label: &'static str,
    filters: Vec<Program>,
}

fn main() {
    let configs = configs();
    let mut figures: BTreeMap<(usize, usize), Figure> = BTreeMap::new();
    for (call_index, call) in CALLS.iter().enumerate() {
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
        for _ in 0..ROUNDS {
            for (config_index, config) in configs.iter().enumerate() {
                samples[config_index].push(measure(config, call));
            }
        }
        for (config_index, mut config_samples) in samples.into_iter().enumerate() {
            config_samples.sort_by(f64::total_cmp);
            let figure = Figure {
                fastest: config_samples[0],
                median: config_samples[ROUNDS / 2],
            };
            figures.insert((call_index, config_index), figure);
        }
    }
    report(&configs, &figures);
}

fn configs() -> Vec<Config> {
    let source = seccomp_source(&opted_in_snap(), "serve", Features::default());
    let rules = parse(&source).expect("template parses");
    let build = |layout| compile_with_layout(&rules, &Nss, layout).expect("template compiles");
    let tree = build(FilterLayout::BinaryTree);
    let linear = build(FilterLayout::Linear);
    vec![
        Config {
            label: "no filter",
            filters: Vec::new(),
        },
        Config {
            label: "allow-all filter (floor)",
            filters: vec![allow_all_except(&[])],
        },
        Config {
            label: "project: one binary-tree filter",
            filters: vec![tree],
        },
        Config {
            label: "prior art: global + per-app, linear",
            filters: vec![
                allow_all_except(&[libc::TIOCSTI, libc::TIOCLINUX]),
                linear.clone(),
            ],
        },
        Config {
            label: "per-app filter alone, linear",
            filters: vec![linear],
        },
    ]
}

/// The policy under test: the default template with `system-users: [daemon]`, whose set*id
/// rules carry argument conditions.
fn opted_in_snap() -> SnapMeta {
    let app = App {
        command: "bin/serve".into(),
        daemon: Some("simple".into()),
        command_chain: vec![],
    };
    SnapMeta {
        name: "bench".into(),
        version: "1".into(),
        summary: None,
        apps: BTreeMap::from([("serve".to_string(), app)]),
        users: OptIn::SystemUsers(vec!["daemon".into()]),
    }
}

/// A filter that allows everything except the given ioctl requests, at libseccomp's default
/// layout. With the terminal-injection ioctls it is the prior art's global filter, loaded beneath
/// every app's; with none it is the cheapest possible filter, the floor any filter costs.
fn allow_all_except(ioctl_requests: &[u64]) -> Program {
    let build = || -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut filter = ScmpFilterContext::new(ScmpAction::Allow)?;
        filter.add_arch(ScmpArch::X86)?;
        for &request in ioctl_requests {
            let condition =
                ScmpArgCompare::new(1, ScmpCompareOp::MaskedEqual(0xFFFF_FFFF), request);
            filter.add_rule_conditional(
                ScmpAction::Errno(libc::EPERM),
                ScmpSyscall::from_name("ioctl")?,
                &[condition],
            )?;
        }
        let mut file = tempfile::tempfile()?;
        filter.export_bpf(&file)?;
        let mut bytes = Vec::new();
        std::io::Seek::rewind(&mut file)?;
        std::io::Read::read_to_end(&mut file, &mut bytes)?;
        Ok(bytes)
    };
    Program::from_bytes(&build().expect("libseccomp filter")).expect("libseccomp program")
}

/// Nanoseconds per call in the fastest burst of a fresh child with the configuration's filters
/// loaded.
fn measure(config: &Config, call: &Call) -> f64 {
    let (reader, writer) = pipe().expect("pipe");
    // SAFETY: the child makes system calls only and leaves with _exit.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            for filter in &config.filters {
                if load(filter).is_err() {
                    unsafe { libc::_exit(2) };
                }
            }
            let mut nanos = f64::INFINITY;
            for _ in 0..BURSTS {
                let start = Instant::now();
                for _ in 0..CALLS_PER_BURST {
                    // SAFETY: integer arguments only.
                    unsafe { libc::syscall(call.nr, call.args[0], call.args[1], call.args[2]) };
                }
                nanos = nanos.min(start.elapsed().as_nanos() as f64 / f64::from(CALLS_PER_BURST));
            }
            let _ = write(&writer, &nanos.to_ne_bytes());
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(writer);
            let mut bytes = [0u8; 8];
            let n = read(&reader, &mut bytes).expect("read");
            let status = waitpid(child, None).expect("waitpid");
            assert!(
                n == 8 && status == WaitStatus::Exited(child, 0),
                "{}: child failed",
                config.label
            );
            f64::from_ne_bytes(bytes)
        }
    }
}

fn report(configs: &[Config], figures: &BTreeMap<(usize, usize), Figure>) {
    println!(
        "Seccomp filter cost per system call: fastest (median) of {ROUNDS} children, each the \
         fastest of {BURSTS} bursts of {CALLS_PER_BURST} calls; ratio to no filter"
    );
    for config in configs.iter().skip(1) {
        let lengths: Vec<String> = config.filters.iter().map(|f| f.len().to_string()).collect();
        println!("  {}: {} instructions", config.label, lengths.join(" + "));
    }
    println!();
    let header: Vec<&str> = configs.iter().map(|config| config.label).collect();
    println!("| call | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(configs.len()));
    for (call_index, call) in CALLS.iter().enumerate() {
        let baseline = figures[&(call_index, 0)];
        let cells: Vec<String> = (0..configs.len())
            .map(|config_index| {
                let figure = figures[&(call_index, config_index)];
                format!(
                    "{:.0} ns ({:.0}) {:.2}x",
                    figure.fastest,
                    figure.median,
                    figure.fastest / baseline.fastest
                )
            })
            .collect();
        println!("| {} | {} |", call.label, cells.join(" | "));
    }
    let ratio = |call: usize, config: usize, to: usize| {
        figures[&(call, config)].fastest / figures[&(call, to)].fastest
    };
    println!();
    println!(
        "cached getppid, project / no filter: {:.2}x (target <= 1.10x); \
         project / allow-all floor: {:.2}x",
        ratio(0, 2, 0),
        ratio(0, 2, 1)
    );
    for call in [1, 2] {
        println!(
            "{}, project / prior art: {:.2}x (target < 1.00x)",
            CALLS[call].label,
            ratio(call, 2, 3)
        );
    }
}
