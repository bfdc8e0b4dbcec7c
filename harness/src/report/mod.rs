//! Rendering a run: spread-like progress lines with a live progress bar on a terminal
//! (`progress`), the final summary (`summary`) and JUnit XML (`junit`).
//!
//! Reporters only listen to [`Event`]s; they never influence the run.

pub mod junit;
pub mod progress;
pub mod summary;

use std::sync::Arc;

use crate::runner::{Event, Reporter};

/// Sends every event to several reporters, in order.
pub struct Fanout(pub Vec<Arc<dyn Reporter>>);

impl Reporter for Fanout {
    fn event(&self, event: &Event) {
        for reporter in &self.0 {
            reporter.event(event);
        }
    }

    fn pause(&self) {
        self.0.iter().for_each(|r| r.pause());
    }

    fn resume(&self) {
        self.0.iter().for_each(|r| r.resume());
    }
}
