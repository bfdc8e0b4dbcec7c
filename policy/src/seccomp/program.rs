//! The compiled filter as the kernel takes it: an array of `struct sock_filter`, stored on disk
//! as its raw bytes so that the launcher needs nothing but seccomp(2) to load it.

use thiserror::Error;

/// The kernel's limit on classic BPF program length (BPF_MAXINSNS).
pub const MAX_INSTRUCTIONS: usize = 4096;

/// Bytes per instruction: u16 code, u8 jt, u8 jf, u32 k.
const INSTRUCTION_SIZE: usize = 8;

/// One classic BPF instruction, laid out exactly like the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const _: () = assert!(std::mem::size_of::<Instruction>() == INSTRUCTION_SIZE);

/// A validated, loadable filter program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program(Vec<Instruction>);

/// Bytes that are not a loadable program.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProgramError {
    #[error("the program is empty")]
    Empty,
    #[error("the program is {len} bytes, not a whole number of 8-byte instructions (truncated?)")]
    Truncated { len: usize },
    #[error("the program has {count} instructions; the kernel accepts at most {MAX_INSTRUCTIONS}")]
    TooLong { count: usize },
}

impl Program {
    /// The raw `struct sock_filter` array, in this machine's byte order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.0.len() * INSTRUCTION_SIZE);
        for instruction in &self.0 {
            bytes.extend_from_slice(&instruction.code.to_ne_bytes());
            bytes.push(instruction.jt);
            bytes.push(instruction.jf);
            bytes.extend_from_slice(&instruction.k.to_ne_bytes());
        }
        bytes
    }

    /// Reads a raw `struct sock_filter` array, refusing anything the kernel could not load.
    pub fn from_bytes(bytes: &[u8]) -> Result<Program, ProgramError> {
        if bytes.is_empty() {
            return Err(ProgramError::Empty);
        }
        if !bytes.len().is_multiple_of(INSTRUCTION_SIZE) {
            return Err(ProgramError::Truncated { len: bytes.len() });
        }
        let count = bytes.len() / INSTRUCTION_SIZE;
        if count > MAX_INSTRUCTIONS {
            return Err(ProgramError::TooLong { count });
        }
        let instructions = bytes
            .chunks_exact(INSTRUCTION_SIZE)
            .map(|raw| Instruction {
                code: u16::from_ne_bytes([raw[0], raw[1]]),
                jt: raw[2],
                jf: raw[3],
                k: u32::from_ne_bytes([raw[4], raw[5], raw[6], raw[7]]),
            })
            .collect();
        Ok(Program(instructions))
    }

    /// The number of instructions.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a program has at least one instruction.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn instructions(&self) -> &[Instruction] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        // ld [4]; ret ERRNO(1)
        let bytes = [0x20, 0, 0, 0, 4, 0, 0, 0, 0x06, 0, 1, 2, 1, 0, 5, 0];
        let program = Program::from_bytes(&bytes).unwrap();
        assert_eq!(program.len(), 2);
        assert!(!program.is_empty());
        assert_eq!(
            program.instructions()[1],
            Instruction {
                code: 6,
                jt: 1,
                jf: 2,
                k: 0x50001
            }
        );
        assert_eq!(program.to_bytes(), bytes);
    }

    #[test]
    fn refuses_what_the_kernel_could_not_load() {
        assert_eq!(Program::from_bytes(&[]), Err(ProgramError::Empty));
        assert_eq!(
            Program::from_bytes(&[0; 12]),
            Err(ProgramError::Truncated { len: 12 })
        );
        assert!(Program::from_bytes(&[0; 8 * MAX_INSTRUCTIONS]).is_ok());
        assert_eq!(
            Program::from_bytes(&[0; 8 * (MAX_INSTRUCTIONS + 1)]),
            Err(ProgramError::TooLong {
                count: MAX_INSTRUCTIONS + 1
            })
        );
    }
}
