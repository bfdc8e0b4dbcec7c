//! Installing a compiled program in the calling thread with seccomp(2), without libseccomp.
//!
//! The caller decides about PR_SET_NO_NEW_PRIVS: the kernel accepts a filter from a thread
//! that has either set it or holds CAP_SYS_ADMIN.

use nix::errno::Errno;
use nix::libc;
use thiserror::Error;

use super::program::Program;

/// Why the kernel refused the filter.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error(
        "cannot load the seccomp filter: the process has neither no_new_privs nor CAP_SYS_ADMIN"
    )]
    NotPermitted,
    #[error("cannot load the seccomp filter: {0}")]
    Kernel(Errno),
}

/// Adds `program` to the calling thread's filters (SECCOMP_SET_MODE_FILTER, no flags).
pub fn load(program: &Program) -> Result<(), LoadError> {
    let instructions = program.instructions();
    let fprog = libc::sock_fprog {
        // Program guarantees at most 4096 instructions, so this fits.
        len: instructions.len() as u16,
        filter: instructions.as_ptr().cast::<libc::sock_filter>().cast_mut(),
    };
    // SAFETY: `fprog` points at `len` instructions laid out as `struct sock_filter`, alive for
    // the call; the kernel copies them.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        )
    };
    match Errno::result(result) {
        Ok(_) => Ok(()),
        Err(Errno::EACCES) => Err(LoadError::NotPermitted),
        Err(errno) => Err(LoadError::Kernel(errno)),
    }
}
