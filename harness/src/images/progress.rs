//! Telling the user what an image build is doing: a spinner on a terminal, plain lines otherwise.
//!
//! The builder reports through the `Progress` trait and never prints by itself, so that the
//! runner, xtask and tests each choose how (or whether) to show it.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::ImageRef;

/// Receives the events of `ensure`.
pub trait Progress: Send + Sync {
    /// A stage of `image` starts (`what`: "mmdebstrap bookworm (minbase)", "run 2 steps", ...).
    fn stage(&self, image: &str, what: &str);
    /// One line of output of the tool building the current stage.
    fn output(&self, image: &str, line: &str);
    /// `image` is ready (built now, or found in the cache).
    fn ready(&self, image: &ImageRef);
}

/// The right reporter for stderr: a spinner on a terminal, plain lines otherwise.
pub fn for_stderr() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Spinner::default())
    } else {
        Box::new(Lines)
    }
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &str, _: &str) {}
    fn output(&self, _: &str, _: &str) {}
    fn ready(&self, _: &ImageRef) {}
}

/// One line per stage and per finished image on stderr; tool output only appears in errors.
pub struct Lines;

impl Progress for Lines {
    fn stage(&self, image: &str, what: &str) {
        eprintln!("image {image}: {what}");
    }

    fn output(&self, _: &str, _: &str) {}

    fn ready(&self, image: &ImageRef) {
        eprintln!("{}", ready_line(image));
    }
}

/// A spinner showing the current stage and the tool's latest output line.
#[derive(Default)]
pub struct Spinner {
    current: Mutex<Option<Current>>,
}

struct Current {
    bar: ProgressBar,
    stage: String,
}

impl Spinner {
    fn with_current(&self, f: impl FnOnce(&mut Option<Current>)) {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        f(&mut current);
    }
}

impl Progress for Spinner {
    fn stage(&self, image: &str, what: &str) {
        self.with_current(|current| {
            let stage = format!("image {image}: {what}");
            match current {
                Some(existing) => {
                    existing.bar.println(format!("{} done", existing.stage));
                    existing.bar.set_message(stage.clone());
                    existing.stage = stage;
                }
                None => {
                    let bar = ProgressBar::new_spinner().with_message(stage.clone());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} [{elapsed}] {wide_msg}")
                            .expect("the template is valid"),
                    );
                    bar.enable_steady_tick(Duration::from_millis(120));
                    *current = Some(Current { bar, stage });
                }
            }
        });
    }

    fn output(&self, _: &str, line: &str) {
        self.with_current(|current| {
            if let Some(current) = current {
                current
                    .bar
                    .set_message(format!("{}: {}", current.stage, line.trim()));
            }
        });
    }

    fn ready(&self, image: &ImageRef) {
        self.with_current(|current| match current.take() {
            Some(current) => current.bar.finish_with_message(ready_line(image)),
            None => eprintln!("{}", ready_line(image)),
        });
    }
}

fn ready_line(image: &ImageRef) -> String {
    match image.built {
        Some(took) => format!(
            "image {}: built {} in {}",
            image.name,
            image.tag,
            seconds(took)
        ),
        None => format!("image {}: up to date ({})", image.name, image.tag),
    }
}

fn seconds(took: Duration) -> String {
    format!("{:.1}s", took.as_secs_f64())
}
