//! The command line: which call, through which ABI, and how `-1` is encoded.

use clap::{Parser, Subcommand, ValueEnum};

/// Make one identity or ownership system call and print the resulting ids.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    /// How the call reaches the kernel.
    #[arg(long, value_enum, default_value_t = Via::Libc, global = true)]
    pub via: Via,
    /// How `-1` is passed in raw native calls: sign-extended to 64 bits, or as 0xFFFFFFFF.
    #[arg(long = "minus-one", value_enum, default_value_t = MinusOne::Sext, global = true)]
    pub minus_one: MinusOne,
    #[command(subcommand)]
    pub call: CallArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    /// The glibc wrapper.
    Libc,
    /// syscall(2) with the x86-64 numbers.
    Raw,
    /// `int $0x80` with the i386 numbers (the `*32` calls).
    I386,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinusOne {
    /// 0xFFFFFFFFFFFFFFFF
    Sext,
    /// 0x00000000FFFFFFFF
    U32,
}

/// User and group arguments are names, numbers or `-1`.
#[derive(Debug, Subcommand)]
#[command(rename_all = "lower")]
pub enum CallArgs {
    Setuid {
        #[arg(allow_negative_numbers = true)]
        uid: String,
    },
    Setgid {
        #[arg(allow_negative_numbers = true)]
        gid: String,
    },
    Setreuid {
        #[arg(allow_negative_numbers = true)]
        ruid: String,
        #[arg(allow_negative_numbers = true)]
        euid: String,
    },
    Setregid {
        #[arg(allow_negative_numbers = true)]
        rgid: String,
        #[arg(allow_negative_numbers = true)]
        egid: String,
    },
    Setresuid {
        #[arg(allow_negative_numbers = true)]
        ruid: String,
        #[arg(allow_negative_numbers = true)]
        euid: String,
        #[arg(allow_negative_numbers = true)]
        suid: String,
    },
    Setresgid {
        #[arg(allow_negative_numbers = true)]
        rgid: String,
        #[arg(allow_negative_numbers = true)]
        egid: String,
        #[arg(allow_negative_numbers = true)]
        sgid: String,
    },
    /// `0` clears the supplementary groups; otherwise a comma-separated list.
    Setgroups {
        groups: String,
    },
    Chown(OwnerArgs),
    Lchown(OwnerArgs),
    /// Opens PATH, then fchown on the descriptor.
    Fchown(OwnerArgs),
    /// fchownat(AT_FDCWD, PATH, U, G, 0).
    Fchownat(OwnerArgs),
    /// setgroups(0), setgid(G), setuid(U): a daemon's full drop.
    Drop {
        #[arg(allow_negative_numbers = true)]
        uid: String,
        #[arg(allow_negative_numbers = true)]
        gid: String,
    },
    /// One x32-ABI system call (getuid); a filter must refuse it.
    X32,
    /// No call: only the `After:` line, to see the identity an app runs with.
    Ids,
}

#[derive(Debug, clap::Args)]
pub struct OwnerArgs {
    pub path: std::path::PathBuf,
    #[arg(allow_negative_numbers = true)]
    pub uid: String,
    #[arg(allow_negative_numbers = true)]
    pub gid: String,
}
