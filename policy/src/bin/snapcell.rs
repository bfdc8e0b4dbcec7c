//! `snapcell`: install, run and inspect confined snaps.
fn main() {}
