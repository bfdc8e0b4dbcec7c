//! Compiler errors and layout, without loading anything: every error names the line and the
//! token, and the project layout really is libseccomp's binary tree.

use policy::accounts::{Account, Accounts};
use policy::seccomp::{CompileError, FilterLayout, Program, compile, compile_with_layout, parse};

fn daemon_at(uid: u32) -> Accounts {
    Accounts::new(vec![Account {
        name: "daemon".into(),
        uid,
        gid: uid,
    }])
}

fn compile_text(source: &str) -> Result<Program, CompileError> {
    compile(&parse(source).unwrap(), &daemon_at(1))
}

#[test]
fn unknown_system_call_names_line_and_name() {
    let error = compile_text("read\n\nfrobnicate 1\n").unwrap_err();
    assert!(
        matches!(&error, CompileError::UnknownSyscall { line: 3, name } if name == "frobnicate")
    );
    assert_eq!(
        error.to_string(),
        "line 3: unknown system call \"frobnicate\""
    );
}

#[test]
fn unresolvable_names_give_line_and_token() {
    let error = compile_text("setuid u:daemon\nsetgid g:nosuchgroup\n").unwrap_err();
    assert!(
        matches!(&error, CompileError::Resolve { line: 2, token, .. } if token == "g:nosuchgroup")
    );
    assert_eq!(
        error.to_string(),
        "line 2: cannot resolve \"g:nosuchgroup\": group \"nosuchgroup\" does not exist"
    );
}

#[test]
fn a_rule_that_can_never_apply_is_an_error() {
    // libseccomp would silently drop a conditional rule that follows an unconditional one with
    // the other action.
    for source in ["ioctl\n~ioctl - 0x5412\n", "~ptrace\nptrace 0\n"] {
        let error = compile_text(source).unwrap_err();
        assert!(
            matches!(
                error,
                CompileError::Shadowed {
                    line: 2,
                    by_line: 1,
                    ..
                }
            ),
            "{source:?}: {error}"
        );
    }
    // The same action twice is merely redundant.
    assert!(compile_text("ioctl\nioctl - 0x5412\n").is_ok());
}

#[test]
fn values_wider_than_32_bits_are_refused_where_i386_would_truncate_them() {
    let error = compile_text("read\nmmap - >0x100000000\n").unwrap_err();
    assert!(
        matches!(
            error,
            CompileError::WideValue {
                line: 2,
                value: 0x1_0000_0000,
                ..
            }
        ),
        "{error}"
    );
    assert!(compile_text("mmap - >0xffffffff\n").is_ok());
    // newfstatat has no i386 counterpart, so a 64-bit value means the same everywhere it applies.
    assert!(compile_text("newfstatat - - - 0x100000000\n").is_ok());
}

#[test]
fn i386_only_names_compile() {
    assert!(compile_text("setuid32 u:daemon\nsocketcall\n_llseek\n").is_ok());
}

#[test]
fn resolved_ids_are_compiled_in() {
    // The ids land in the program as comparison constants: daemon at 1 and at 2 differ.
    let source = "setuid u:daemon\n";
    let at = |uid| compile(&parse(source).unwrap(), &daemon_at(uid)).unwrap();
    assert_ne!(at(1), at(2));
    let constants = |program: &Program| -> Vec<u32> {
        program
            .instructions()
            .iter()
            .map(|instruction| instruction.k)
            .collect()
    };
    assert!(constants(&at(584792)).contains(&584792));
}

/// Jumps comparing the system call number with `>`/`>=` (BPF_JMP|BPF_JGT|BPF_K,
/// BPF_JMP|BPF_JGE|BPF_K), the mark of a binary search.
fn range_jumps(program: &Program) -> usize {
    const JGT_K: u16 = 0x25;
    const JGE_K: u16 = 0x35;
    program
        .instructions()
        .iter()
        .filter(|i| i.code == JGT_K || i.code == JGE_K)
        .count()
}

#[test]
fn the_project_layout_is_a_binary_tree() {
    let source: String = [
        "read", "write", "openat", "close", "getpid", "getppid", "brk", "mmap",
    ]
    .iter()
    .chain(&[
        "munmap",
        "futex",
        "clock_gettime",
        "exit_group",
        "execve",
        "wait4",
        "pipe2",
    ])
    .map(|name| format!("{name}\n"))
    .collect();
    let rules = parse(&source).unwrap();
    let tree = compile_with_layout(&rules, &daemon_at(1), FilterLayout::BinaryTree).unwrap();
    let linear = compile_with_layout(&rules, &daemon_at(1), FilterLayout::Linear).unwrap();
    assert_eq!(tree, compile(&rules, &daemon_at(1)).unwrap());
    // Linear: only the x32 guard (`nr >= 0x40000000`) compares by range.
    assert_eq!(range_jumps(&linear), 1);
    assert!(range_jumps(&tree) > 4, "{} range jumps", range_jumps(&tree));
}

/// Runs a program on `struct seccomp_data` { nr, arch, ip, args } as the kernel would, for the
/// classic BPF subset libseccomp emits; any other opcode fails the test.
fn run(program: &Program, nr: u32, arch: u32, args: [u64; 6]) -> u32 {
    let mut data = Vec::new();
    data.extend_from_slice(&nr.to_ne_bytes());
    data.extend_from_slice(&arch.to_ne_bytes());
    data.extend_from_slice(&0u64.to_ne_bytes());
    for arg in args {
        data.extend_from_slice(&arg.to_ne_bytes());
    }
    let (mut accumulator, mut pc) = (0u32, 0usize);
    loop {
        let i = program.instructions()[pc];
        let k = i.k;
        let jump = |taken: bool| pc + 1 + usize::from(if taken { i.jt } else { i.jf });
        pc = match i.code {
            0x20 => {
                let offset = k as usize;
                accumulator = u32::from_ne_bytes(data[offset..offset + 4].try_into().unwrap());
                pc + 1
            }
            0x54 => {
                accumulator &= k;
                pc + 1
            }
            0x05 => pc + 1 + k as usize,
            0x15 => jump(accumulator == k),
            0x25 => jump(accumulator > k),
            0x35 => jump(accumulator >= k),
            0x45 => jump(accumulator & k != 0),
            0x06 => return k,
            code => panic!("opcode {code:#x} at {pc} not emulated"),
        };
    }
}

#[test]
fn other_architectures_get_eperm() {
    const ALLOW: u32 = 0x7fff_0000;
    const ERRNO_EPERM: u32 = 0x0005_0000 | 1;
    const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
    const AUDIT_ARCH_ARM: u32 = 0x4000_0028;
    let program = compile_text("getpid\n").unwrap();
    let getpid_x86_64 = 39;
    let getpid_i386 = 20;
    assert_eq!(
        run(&program, getpid_x86_64, AUDIT_ARCH_X86_64, [0; 6]),
        ALLOW
    );
    assert_eq!(run(&program, getpid_i386, AUDIT_ARCH_I386, [0; 6]), ALLOW);
    assert_eq!(
        run(
            &program,
            0x4000_0000 | getpid_x86_64,
            AUDIT_ARCH_X86_64,
            [0; 6]
        ),
        ERRNO_EPERM
    );
    for arch in [AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, 0] {
        for nr in [getpid_x86_64, getpid_i386, 172] {
            assert_eq!(
                run(&program, nr, arch, [0; 6]),
                ERRNO_EPERM,
                "arch {arch:#x} nr {nr}"
            );
        }
    }
}
