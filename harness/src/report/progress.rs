//! spread-like progress lines on standard output, each stamped with the time, plus a live
//! progress bar of finished jobs when standard output is a terminal (plain lines otherwise).
//! Failed script output, debug output and late-running warnings are shown between `-----`
//! rulers, as spread shows them.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::summary;
use crate::runner::{Event, Reporter, Verb};

/// Renders events for a person watching the run.
pub struct Console {
    bar: Mutex<Option<ProgressBar>>,
    terminal: bool,
}

impl Console {
    /// A console reporter; the progress bar is used only when stdout is a terminal.
    pub fn new() -> Self {
        Console {
            bar: Mutex::new(None),
            terminal: std::io::stdout().is_terminal(),
        }
    }

    fn line(&self, text: &str) {
        let stamped = format!("{} {text}", timestamp(SystemTime::now()));
        match self.bar.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(bar) => bar.println(stamped),
            None => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{stamped}");
                let _ = out.flush();
            }
        }
    }

    fn with_bar(&self, update: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            update(bar);
        }
    }

    fn start_bar(&self, jobs: usize) {
        if !self.terminal {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(jobs as u64), ProgressDrawTarget::stdout());
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} jobs {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar);
    }
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for Console {
    fn event(&self, event: &Event) {
        match event {
            Event::Started {
                seed,
                jobs,
                systems,
            } => {
                self.start_bar(*jobs);
                let plural = |n: usize, word: &str| {
                    if n == 1 {
                        format!("1 {word}")
                    } else {
                        format!("{n} {word}s")
                    }
                };
                self.line(&format!(
                    "Running {} on {} with seed {seed} (repeat this order with -seed {seed}).",
                    plural(*jobs, "job"),
                    plural(*systems, "system")
                ));
            }
            Event::Step {
                verb: Verb::Allocating,
                context,
                ..
            } => self.line(&format!("Allocating {context}...")),
            Event::Step {
                verb,
                context,
                machine,
                position,
            } => {
                let count = position
                    .map(|(n, total)| format!(" ({n}/{total})"))
                    .unwrap_or_default();
                self.line(&format!(
                    "{} {context} ({machine}){count}...",
                    verb.progressive()
                ));
                if *verb == Verb::Executing {
                    self.with_bar(|bar| bar.set_message(context.clone()));
                }
            }
            Event::Allocated {
                system,
                machine,
                elapsed,
            } => self.line(&format!(
                "Allocated {system} ({machine}) in {:.1}s.",
                elapsed.as_secs_f64()
            )),
            Event::StepFailed {
                verb,
                context,
                machine,
                detail,
            } => self.line(&format!(
                "Error {} {context} ({machine}) : {}",
                verb.gerund(),
                ruled(detail)
            )),
            Event::DebugOutput {
                context,
                machine,
                output,
            } => self.line(&format!(
                "Debug output for {context} ({machine}) : {}",
                ruled(output)
            )),
            Event::ScriptOutput {
                verb,
                context,
                machine,
                output,
            } => self.line(&format!(
                "Output of {} {context} ({machine}) : {}",
                verb.gerund(),
                ruled(output)
            )),
            Event::ScriptText {
                context,
                machine,
                script,
            } => self.line(&format!(
                "Script for {context} ({machine}) :\n-----\n{}\n-----",
                script.trim_end()
            )),
            Event::RunningLate {
                context,
                machine,
                elapsed,
                output,
            } => {
                let what = match output.as_deref().map(str::trim_end) {
                    None => "Output unchanged.".to_owned(),
                    Some("") => "Output still empty.".to_owned(),
                    Some(text) => format!("Current output:\n-----\n{text}\n-----"),
                };
                self.line(&format!(
                    "WARNING: {context} ({machine}) running late ({}s). {what}",
                    elapsed.as_secs()
                ))
            }
            Event::JobFinished { .. } => self.with_bar(|bar| bar.inc(1)),
            Event::Notice(text) => self.line(text),
            Event::Finished(result) => {
                if let Some(bar) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    bar.finish_and_clear();
                }
                for line in summary::lines(result) {
                    self.line(&line);
                }
            }
        }
    }

    fn pause(&self) {
        self.with_bar(|bar| bar.set_draw_target(ProgressDrawTarget::hidden()));
    }

    fn resume(&self) {
        self.with_bar(|bar| bar.set_draw_target(ProgressDrawTarget::stdout()));
    }
}

/// Output inline when it is one line, else between rulers on lines of its own.
fn ruled(text: &str) -> String {
    let text = text.trim();
    if text.contains('\n') {
        format!("\n-----\n{text}\n-----")
    } else {
        text.to_owned()
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
fn timestamp(now: SystemTime) -> String {
    let seconds = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_times() {
        let at = UNIX_EPOCH + Duration::from_secs(1_796_400_000);
        assert_eq!(timestamp(at), "2026-12-04 16:00:00");
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29 00:00:00"
        );
    }

    #[test]
    fn multi_line_output_goes_between_rulers() {
        assert_eq!(ruled("one\n"), "one");
        assert_eq!(ruled("a\nb"), "\n-----\na\nb\n-----");
    }
}
