//! The never-leak guarantee: whatever ends a run (success, failure, Ctrl-C, a panic), every
//! machine it created and did not deliberately keep is discarded.
//!
//! Workers discard their own machines. [`Guard::finish`] discards what is left when workers
//! were abandoned ("discard now"), and if the run future is dropped or unwinds before that, the
//! guard's `Drop` does it on a thread of its own.

use std::sync::Arc;

use super::dispatcher::Shared;
use super::events::{Event, Verb};
use crate::backend::{Backend, Machine};

pub(super) struct Guard<B: Backend> {
    shared: Option<Arc<Shared<B>>>,
}

impl<B: Backend> Guard<B> {
    pub fn new(shared: Arc<Shared<B>>) -> Self {
        Guard {
            shared: Some(shared),
        }
    }

    /// Discards the machines no worker discarded.
    pub async fn finish(mut self) {
        if let Some(shared) = self.shared.take() {
            discard_left(&shared).await;
        }
    }
}

async fn discard_left<B: Backend>(shared: &Shared<B>) {
    let left: Vec<_> = std::mem::take(&mut *shared.live.lock().unwrap_or_else(|p| p.into_inner()));
    for machine in left {
        shared.reporter.event(&Event::Step {
            verb: Verb::Discarding,
            context: "abandoned machine".into(),
            machine: machine.label().to_owned(),
            position: None,
        });
        if let Err(error) = machine.discard().await {
            shared.reporter.event(&Event::Notice(format!(
                "Cannot discard {}: {error}",
                machine.label()
            )));
        }
    }
}

impl<B: Backend> Drop for Guard<B> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        // The run's runtime may be unwinding or shutting down: use a private one.
        let cleaner = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(discard_left(&shared));
            }
        });
        let _ = cleaner.join();
    }
}
