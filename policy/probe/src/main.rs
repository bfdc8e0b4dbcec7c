//! `probe`: makes one identity or ownership system call and prints the outcome.
fn main() {}
