//! The local terminal in raw mode for the length of an interactive shell.

use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios::{SetArg, Termios, cfmakeraw, tcgetattr, tcsetattr};

use crate::backend::BackendError;

/// Restores the terminal's previous mode and stops reading keys when dropped.
pub struct RawTerminal {
    saved: Termios,
    stop: Arc<AtomicBool>,
}

impl RawTerminal {
    pub fn enter() -> Result<Self, BackendError> {
        let stdin = std::io::stdin();
        let saved = tcgetattr(stdin.as_fd()).map_err(|e| {
            BackendError::Terminal(format!("standard input is not a terminal ({e})"))
        })?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw)
            .map_err(|e| BackendError::Terminal(e.to_string()))?;
        Ok(RawTerminal {
            saved,
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Columns and rows of the terminal.
    pub fn size(&self) -> Option<(u16, u16)> {
        let size = console::Term::stdout().size_checked()?;
        Some((size.1, size.0))
    }

    /// Keys typed, read on a thread that polls so it can stop when the shell ends.
    pub fn keys(&self) -> tokio::sync::mpsc::Receiver<Vec<u8>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(64);
        let stop = self.stop.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let stdin = std::io::stdin();
            // Larger than stdin's own buffer, so reads bypass it and poll sees every pending byte.
            let mut buffer = [0u8; 16 * 1024];
            while !stop.load(Ordering::Relaxed) {
                let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::from(100u16)) {
                    Ok(0) => continue,
                    Ok(_) => {}
                    Err(_) => break,
                }
                match stdin.lock().read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if sender.blocking_send(buffer[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        receiver
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}
