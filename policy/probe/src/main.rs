//! `probe`: makes one identity or ownership system call, chosen by its arguments, through libc,
//! raw native syscalls or the i386 ABI, then prints the process's ids (`After: ruid=…`) or the
//! errno text with exit status 1. Tests and e2e suites run it as a confined app to see what the
//! seccomp filter and the kernel let through.

mod abi;
mod cli;
mod ids;
mod report;
mod syscall;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let outcome = match cli.call.resolve() {
        Ok(plan) => plan.run(cli.via, cli.minus_one),
        Err(error) => {
            eprintln!("probe: {error}");
            return ExitCode::from(2);
        }
    };
    match outcome.and_then(|()| report::after().map_err(Into::into)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::FAILURE
        }
    }
}
