//! `harness`: run a spread project on Docker containers (see `harness -h`).

fn main() -> std::process::ExitCode {
    harness::cli::main()
}
