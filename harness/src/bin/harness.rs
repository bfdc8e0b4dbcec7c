//! `harness`: run a spread project.
fn main() {}
