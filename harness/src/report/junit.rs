//! JUnit XML (`--junit FILE`): one test suite per `backend:system`, one test case per job run;
//! failed jobs carry their output, aborted jobs are skipped with the reason.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::runner::{Event, JobOutcome, Reporter};

/// Collects finished jobs and writes the file when the run finishes.
pub struct Junit {
    path: PathBuf,
    cases: Mutex<BTreeMap<String, Vec<TestCase>>>,
}

impl Junit {
    pub fn new(path: PathBuf) -> Self {
        Junit {
            path,
            cases: Mutex::new(BTreeMap::new()),
        }
    }

    /// The XML for what was collected so far.
    pub fn render(&self) -> String {
        let mut report = Report::new("harness");
        let cases = self.cases.lock().unwrap_or_else(|p| p.into_inner());
        for (system, cases) in cases.iter() {
            let mut suite = TestSuite::new(system.as_str());
            suite.add_test_cases(cases.iter().cloned());
            report.add_test_suite(suite);
        }
        report.to_string().unwrap_or_default()
    }

    fn write(&self) -> std::io::Result<()> {
        let temporary = self.path.with_extension("xml.tmp");
        std::fs::write(&temporary, self.render())?;
        std::fs::rename(&temporary, &self.path)
    }
}

impl Reporter for Junit {
    fn event(&self, event: &Event) {
        match event {
            Event::JobFinished {
                job,
                system,
                outcome,
                elapsed,
            } => {
                let status = match outcome {
                    JobOutcome::Passed => TestCaseStatus::success(),
                    JobOutcome::Failed { output } => {
                        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        status
                            .set_message("execute failed")
                            .set_description(output.as_str());
                        status
                    }
                    JobOutcome::Aborted { reason } => {
                        let mut status = TestCaseStatus::skipped();
                        status.set_message(reason.as_str());
                        status
                    }
                };
                let name = job.strip_prefix(&format!("{system}:")).unwrap_or(job);
                let mut case = TestCase::new(name, status);
                case.set_classname(system.as_str()).set_time(*elapsed);
                self.cases
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(system.clone())
                    .or_default()
                    .push(case);
            }
            Event::Finished(_) => {
                if let Err(error) = self.write() {
                    eprintln!(
                        "error: cannot write JUnit report {}: {error}",
                        self.path.display()
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn failures_carry_output_and_aborted_jobs_are_skipped() {
        let junit = Junit::new(PathBuf::from("unused.xml"));
        let finished = |job: &str, outcome| Event::JobFinished {
            job: job.into(),
            system: "docker:debian-12".into(),
            outcome,
            elapsed: Duration::from_millis(1500),
        };
        junit.event(&finished("docker:debian-12:s/ok", JobOutcome::Passed));
        junit.event(&finished(
            "docker:debian-12:s/bad",
            JobOutcome::Failed {
                output: "+ false".into(),
            },
        ));
        junit.event(&finished(
            "docker:debian-12:s/cut",
            JobOutcome::Aborted {
                reason: "interrupted".into(),
            },
        ));
        let xml = junit.render();
        assert!(xml.contains(r#"<testsuite name="docker:debian-12" tests="3" skipped="1" errors="0" failures="1">"#), "{xml}");
        assert!(
            xml.contains(r#"<testcase name="s/bad" classname="docker:debian-12" time="1.500">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<failure message="execute failed">+ false</failure>"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<skipped message="interrupted"/>"#), "{xml}");
    }
}
