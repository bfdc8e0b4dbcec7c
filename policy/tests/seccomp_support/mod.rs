//! Shared by the seccomp and template kernel tests: run a system call, or a program, in a forked
//! child under a compiled filter, and make system calls natively or through the i386 ABI.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::arch::asm;
use std::os::unix::process::CommandExt;
use std::process::Command;

use libseccomp::{ScmpArch, ScmpSyscall};
use nix::errno::Errno;
use nix::libc;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, pipe, read, write};
use policy::seccomp::{Program, load};

/// What one system call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok(i64),
    Err(Errno),
}

/// Runs `call` in a forked child after loading `program` (or no filter at all) and returns
/// its outcome. The child only makes raw system calls after the load, so the filter under test
/// does not need to allow anything for the test's own sake beyond `write` and `exit_group`.
pub fn in_child(program: Option<&Program>, call: impl FnOnce() -> Outcome) -> Outcome {
    let (reader, writer) = pipe().expect("pipe");
    // SAFETY: the child only makes system calls and exits with _exit.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let outcome = match program.map(load) {
                Some(Err(error)) => {
                    let _ = write(&writer, format!("load failed: {error}").as_bytes());
                    unsafe { libc::_exit(2) }
                }
                _ => call(),
            };
            let encoded = match outcome {
                Outcome::Ok(value) => [0, value],
                Outcome::Err(errno) => [1, errno as i64],
            };
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&encoded[0].to_ne_bytes());
            bytes[8..].copy_from_slice(&encoded[1].to_ne_bytes());
            let _ = write(&writer, &bytes);
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(writer);
            let mut bytes = Vec::new();
            let mut buffer = [0u8; 256];
            loop {
                match read(&reader, &mut buffer) {
                    Ok(0) => break,
                    Ok(n) => bytes.extend_from_slice(&buffer[..n]),
                    Err(Errno::EINTR) => continue,
                    Err(error) => panic!("read from child: {error}"),
                }
            }
            let status = waitpid(child, None).expect("waitpid");
            assert_eq!(
                status,
                WaitStatus::Exited(child, 0),
                "child failed: {}",
                String::from_utf8_lossy(&bytes)
            );
            let word = |i: usize| i64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
            match word(0) {
                0 => Outcome::Ok(word(1)),
                _ => Outcome::Err(Errno::from_raw(word(1) as i32)),
            }
        }
    }
}

/// A native x86-64 system call with full 64-bit arguments.
pub fn native(nr: i64, args: [u64; 4]) -> Outcome {
    // SAFETY: the tests only pass numbers or pointers to live memory.
    let result = unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3]) };
    if result == -1 {
        Outcome::Err(Errno::last())
    } else {
        Outcome::Ok(result)
    }
}

/// The i386 number of a system call, from libseccomp's table.
pub fn i386_nr(name: &str) -> u32 {
    let syscall = ScmpSyscall::from_name_by_arch(name, ScmpArch::X86).expect(name);
    u32::try_from(i32::from(syscall)).expect("an i386 system call")
}

/// An i386 system call through `int $0x80`: the kernel judges it as the x86 compat ABI, with
/// 32-bit arguments (pointers must point below 4 GiB).
pub fn i386(name: &str, args: [u32; 4]) -> Outcome {
    let mut result = u64::from(i386_nr(name));
    // SAFETY: `int $0x80` with arguments in ebx, ecx, edx, esi; rbx is reserved by LLVM, so it
    // is swapped in and out around the call. The compat entry does not preserve r8-r11.
    unsafe {
        asm!(
            "xchg {arg0}, rbx",
            "int 0x80",
            "xchg {arg0}, rbx",
            arg0 = inout(reg) u64::from(args[0]) => _,
            inout("rax") result,
            in("rcx") u64::from(args[1]),
            in("rdx") u64::from(args[2]),
            in("rsi") u64::from(args[3]),
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
    }
    let result = i64::from(result as u32 as i32);
    if (-4095..0).contains(&result) {
        Outcome::Err(Errno::from_raw(-result as i32))
    } else {
        Outcome::Ok(result)
    }
}

/// Copies `text` (plus a NUL) into memory below 4 GiB, where i386 calls can point to it.
pub fn low_c_string(text: &str) -> u32 {
    // SAFETY: a fresh anonymous private mapping; it is never unmapped (the test process ends).
    let address = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
            -1,
            0,
        )
    };
    assert_ne!(address, libc::MAP_FAILED, "mmap MAP_32BIT");
    assert!(text.len() < 4095);
    // SAFETY: the mapping is 4096 writable bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), address.cast::<u8>(), text.len());
        *address.cast::<u8>().add(text.len()) = 0;
    }
    u32::try_from(address as usize).expect("MAP_32BIT gives an address below 4 GiB")
}

/// The calling thread's uid when the real, effective and saved uids agree (native
/// getresuid); EDOM when they differ.
pub fn uid() -> Outcome {
    let mut ids = [0u32; 3];
    let pointers = ids.each_mut().map(|id| id as *mut u32 as u64);
    match native(
        libc::SYS_getresuid,
        [pointers[0], pointers[1], pointers[2], 0],
    ) {
        Outcome::Ok(_) if ids[0] == ids[1] && ids[1] == ids[2] => Outcome::Ok(i64::from(ids[0])),
        Outcome::Ok(_) => Outcome::Err(Errno::EDOM),
        error => error,
    }
}

/// Makes `command` load `program` in its child just before exec.
pub fn with_filter<'a>(command: &'a mut Command, program: &Program) -> &'a mut Command {
    let program = program.clone();
    // SAFETY: load() only builds a struct on the stack and makes one system call.
    unsafe { command.pre_exec(move || load(&program).map_err(std::io::Error::other)) }
}
