//! The run's stop conditions: Ctrl-C (twice), SIGTERM and `-abend`.
//!
//! The first SIGINT asks the run to stop scheduling, interrupt running prepare/execute scripts,
//! run the restore scripts and discard. A second SIGINT, or SIGTERM, asks it to discard now.

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// Shared stop flags, cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    /// Stop scheduling; restores still run.
    pub graceful: CancellationToken,
    /// Drop everything and discard the machines.
    pub now: CancellationToken,
}

impl Stop {
    pub fn is_stopping(&self) -> bool {
        self.graceful.is_cancelled() || self.now.is_cancelled()
    }

    /// Starts listening for SIGINT and SIGTERM; `notify` is told what each signal does.
    pub fn listen(&self, notify: impl Fn(&str) + Send + 'static) -> std::io::Result<()> {
        let mut interrupts = signal(SignalKind::interrupt())?;
        let mut terminations = signal(SignalKind::terminate())?;
        let stop = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(()) = interrupts.recv() => {
                        if stop.graceful.is_cancelled() {
                            notify("Interrupted again: discarding now.");
                            stop.now.cancel();
                        } else {
                            notify("Interrupted: stopping, running restore scripts and discarding (interrupt again to discard now).");
                            stop.graceful.cancel();
                        }
                    }
                    Some(()) = terminations.recv() => {
                        notify("Terminated: discarding now.");
                        stop.graceful.cancel();
                        stop.now.cancel();
                    }
                    else => break,
                }
            }
        });
        Ok(())
    }
}
