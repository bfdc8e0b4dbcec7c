//! TODO (INSTALL helper): NSS lookups and account creation. The POLICY helper added only the
//! `IdResolver` seam from the policy contract so that the seccomp compiler can build against it.

use thiserror::Error;

/// Resolves account names to ids at policy compile time.
pub trait IdResolver {
    fn uid(&self, user: &str) -> Result<u32, ResolveError>;
    fn gid(&self, group: &str) -> Result<u32, ResolveError>;
}

/// A name that could not be resolved.
#[derive(Debug, Error)]
pub enum ResolveError {
    #[error("user {0:?} does not exist")]
    NoSuchUser(String),
    #[error("group {0:?} does not exist")]
    NoSuchGroup(String),
    #[error("cannot look up {name:?}: {source}")]
    Lookup { name: String, source: nix::Error },
}
