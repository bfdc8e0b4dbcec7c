//! Test isolation for snapcell.
