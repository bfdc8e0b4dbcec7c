//! How a call reaches the kernel: the glibc wrapper, `syscall(2)` with the x86-64 number, or
//! `int $0x80` with the i386 number, where the seccomp filter sees AUDIT_ARCH_I386 and 32-bit
//! arguments. Also the one x32 call.

use std::arch::asm;

use nix::errno::Errno;
use nix::libc;

use crate::cli::{MinusOne, Via};
use crate::syscall::{Arg, Syscall};

pub fn call(via: Via, minus_one: MinusOne, call: &Syscall) -> Result<(), Errno> {
    match via {
        Via::Libc => through_libc(call),
        Via::Raw => raw_native(call, minus_one),
        Via::I386 => i386(call),
    }
}

fn through_libc(call: &Syscall) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: every pointer passed is valid for the duration of the call (CStrings, slices).
    let result = unsafe {
        match call {
            Syscall::Setuid(u) => libc::setuid(u.as_u32()),
            Syscall::Setgid(g) => libc::setgid(g.as_u32()),
            Syscall::Setreuid(r, e) => libc::setreuid(r.as_u32(), e.as_u32()),
            Syscall::Setregid(r, e) => libc::setregid(r.as_u32(), e.as_u32()),
            Syscall::Setresuid(r, e, s) => libc::setresuid(r.as_u32(), e.as_u32(), s.as_u32()),
            Syscall::Setresgid(r, e, s) => libc::setresgid(r.as_u32(), e.as_u32(), s.as_u32()),
            Syscall::Setgroups(groups) => libc::setgroups(groups.len(), groups.as_ptr()),
            Syscall::Chown(path, u, g) => libc::chown(path.as_ptr(), u.as_u32(), g.as_u32()),
            Syscall::Lchown(path, u, g) => libc::lchown(path.as_ptr(), u.as_u32(), g.as_u32()),
            Syscall::Fchown(file, u, g) => libc::fchown(file.as_raw_fd(), u.as_u32(), g.as_u32()),
            Syscall::Fchownat(path, u, g) => {
                libc::fchownat(libc::AT_FDCWD, path.as_ptr(), u.as_u32(), g.as_u32(), 0)
            }
        }
    };
    Errno::result(result).map(drop)
}

fn raw_native(call: &Syscall, minus_one: MinusOne) -> Result<(), Errno> {
    let mut words = [0 as libc::c_long; 5];
    for (word, arg) in words.iter_mut().zip(call.args()) {
        *word = match arg {
            Arg::Id(crate::ids::Id::Unchanged) => match minus_one {
                MinusOne::Sext => -1,
                MinusOne::U32 => libc::c_long::from(u32::MAX),
            },
            Arg::Id(id) => libc::c_long::from(id.as_u32()),
            Arg::Int(int) => libc::c_long::from(int),
            Arg::Memory(bytes) => bytes.as_ptr() as libc::c_long,
        };
    }
    let [a, b, c, d, e] = words;
    // SAFETY: the numbers and argument lists come from `Syscall`; pointers outlive the call.
    Errno::result(unsafe { libc::syscall(call.native_number(), a, b, c, d, e) }).map(drop)
}

fn i386(call: &Syscall) -> Result<(), Errno> {
    let low = LowMemory::map()?;
    let mut words = [0u32; 5];
    let mut offset = 0;
    for (word, arg) in words.iter_mut().zip(call.args()) {
        *word = match arg {
            Arg::Id(id) => id.as_u32(),
            Arg::Int(int) => int as u32,
            Arg::Memory(bytes) => {
                let address = low.copy(offset, bytes)?;
                offset += bytes.len().next_multiple_of(8);
                address
            }
        };
    }
    int80(call.i386_number(), words)
}

/// `int $0x80` from a 64-bit process: the kernel takes the i386 entry path, so seccomp sees
/// AUDIT_ARCH_I386 and the `*32` numbers. Arguments go in ebx, ecx, edx, esi, edi.
fn int80(number: u32, [b, c, d, s, di]: [u32; 5]) -> Result<(), Errno> {
    let result: i32;
    // SAFETY: rbx is reserved by the compiler, so it is swapped in and out around the trap;
    // the kernel clears r8-r11 on this path, declared as clobbered.
    unsafe {
        asm!(
            "xchg rbx, {b:r}",
            "int 0x80",
            "xchg rbx, {b:r}",
            b = inout(reg) u64::from(b) => _,
            inlateout("eax") number => result,
            in("ecx") c,
            in("edx") d,
            in("esi") s,
            in("edi") di,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
    }
    if (-4095..0).contains(&result) {
        Err(Errno::from_raw(-result))
    } else {
        Ok(())
    }
}

/// A page below 4 GiB (MAP_32BIT): i386 calls can only pass 32-bit pointers.
struct LowMemory {
    base: *mut u8,
}

const LOW_MEMORY_SIZE: usize = 64 * 1024;

impl LowMemory {
    fn map() -> Result<LowMemory, Errno> {
        // SAFETY: an anonymous private mapping owned by this value until drop.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                LOW_MEMORY_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        Ok(LowMemory { base: base.cast() })
    }

    /// Copies `bytes` at `offset` and returns their 32-bit address.
    fn copy(&self, offset: usize, bytes: &[u8]) -> Result<u32, Errno> {
        if offset + bytes.len() > LOW_MEMORY_SIZE {
            return Err(Errno::E2BIG);
        }
        // SAFETY: bounds checked above; the mapping is writable and does not overlap `bytes`.
        let target = unsafe {
            let target = self.base.add(offset);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), target, bytes.len());
            target
        };
        u32::try_from(target as usize).map_err(|_| Errno::EFAULT)
    }
}

impl Drop for LowMemory {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `map`.
        unsafe { libc::munmap(self.base.cast(), LOW_MEMORY_SIZE) };
    }
}

const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;

/// getuid through the x32 ABI (x86-64 entry, number | __X32_SYSCALL_BIT).
pub fn x32_getuid() -> Result<libc::c_long, Errno> {
    // SAFETY: getuid takes no arguments and touches no memory.
    Errno::result(unsafe { libc::syscall(X32_SYSCALL_BIT | libc::SYS_getuid) })
}
