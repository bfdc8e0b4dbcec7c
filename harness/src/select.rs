//! Selection: spread's command-line arguments that pick jobs, and its manual rules.
//!
//! An argument matches job names (`backend:system:suite/task:variant`) component by
//! component: components match exactly, `...` is a wildcard within one component, an argument
//! starting or ending with `/` matches a task partially, several `:`-separated components
//! match in order but not necessarily consecutively, and `#N` / `#N..M` pick samples. A job is
//! selected when any argument matches it. Manual backends, systems, suites and tasks are left
//! out unless every selected job shares that manual level (i.e. it was asked for explicitly).

use std::sync::{Arc, LazyLock};

use regex::Regex;

use crate::expand::{self, ExpandError, Job};
use crate::project::Project;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectError {
    #[error(
        "invalid filter string {part:?} in argument {arg:?}: use `:` between components and `...` as a wildcard"
    )]
    InvalidFilter { arg: String, part: String },
    #[error("invalid sample range in argument {arg:?}: use #N or #N..M with 1 <= N <= M")]
    InvalidSample { arg: String },
    #[error("nothing matches {}", args.join(" "))]
    NothingMatches { args: Vec<String> },
    #[error("cannot find any tasks")]
    NoTasks,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListError {
    #[error(transparent)]
    Expand(#[from] ExpandError),
    #[error(transparent)]
    Select(#[from] SelectError),
}

/// What `-list ARGS...` prints: the selected job names, sorted, one per entry.
pub fn list(project: &Arc<Project>, args: &[String]) -> Result<Vec<String>, ListError> {
    let jobs = select(expand::expand(project)?, args)?;
    Ok(jobs.iter().map(Job::name).collect())
}

/// The jobs `args` select (all non-manual jobs when `args` is empty), order kept.
pub fn select(jobs: Vec<Job>, args: &[String]) -> Result<Vec<Job>, SelectError> {
    let filters = args
        .iter()
        .map(|arg| Filter::parse(arg))
        .collect::<Result<Vec<_>, _>>()?;
    let matched: Vec<Job> = if filters.is_empty() {
        jobs
    } else {
        jobs.into_iter()
            .filter(|job| {
                let name = job.name();
                filters
                    .iter()
                    .any(|filter| filter.matches(&name, job.sample))
            })
            .collect()
    };
    let explicit = !filters.is_empty();
    let all = |manual: fn(&Job) -> bool| explicit && matched.iter().all(manual);
    let keep_manual_backends = all(|job| job.backend.manual);
    let keep_manual_systems = all(|job| job.system.manual);
    let keep_manual_suites = all(|job| job.suite.manual);
    let keep_manual_tasks = all(|job| job.task.manual);
    let selected: Vec<Job> = matched
        .into_iter()
        .filter(|job| {
            (keep_manual_backends || !job.backend.manual)
                && (keep_manual_systems || !job.system.manual)
                && (keep_manual_suites || !job.suite.manual)
                && (keep_manual_tasks || !job.task.manual)
        })
        .collect();
    match selected.is_empty() {
        false => Ok(selected),
        true if explicit => Err(SelectError::NothingMatches {
            args: args.to_vec(),
        }),
        true => Err(SelectError::NoTasks),
    }
}

/// One argument, compiled the way spread compiles it into a regular expression over names.
#[derive(Debug)]
struct Filter {
    regex: Regex,
    /// Inclusive sample range from `#N..M`, when given.
    samples: Option<(u32, u32)>,
}

static SAMPLE_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(.*)#(\d+)(?:\.\.(\d+))?$").expect("static pattern"));
static SEPARATORS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.+|:+|#").expect("static pattern"));

impl Filter {
    fn parse(arg: &str) -> Result<Filter, SelectError> {
        let (pattern, samples) = match SAMPLE_SUFFIX.captures(arg) {
            Some(captures) => {
                let bad = || SelectError::InvalidSample {
                    arg: arg.to_string(),
                };
                let first: u32 = captures[2].parse().map_err(|_| bad())?;
                let last: u32 = match captures.get(3) {
                    Some(last) => last.as_str().parse().map_err(|_| bad())?,
                    None => first,
                };
                if first < 1 || last < first {
                    return Err(bad());
                }
                (
                    captures.get(1).map_or("", |m| m.as_str()),
                    Some((first, last)),
                )
            }
            None => (arg, None),
        };
        let mut translated = String::with_capacity(pattern.len() * 2);
        let mut rest = 0;
        for separator in SEPARATORS.find_iter(pattern) {
            translated.push_str(&pattern[rest..separator.start()]);
            translated.push_str(match separator.as_str() {
                "." => r"\.",
                "..." => "[^:]*",
                ":" => "(:.+)*:(.+:)*",
                part => {
                    return Err(SelectError::InvalidFilter {
                        arg: arg.to_string(),
                        part: part.to_string(),
                    });
                }
            });
            rest = separator.end();
        }
        translated.push_str(&pattern[rest..]);
        if translated.starts_with("(:.+)*:") || translated.starts_with('/') {
            translated.insert_str(0, ".+");
        }
        if translated.ends_with(":(.+:)*") || translated.ends_with('/') {
            translated.push_str(".+");
        }
        let regex = Regex::new(&format!("(?:^|:){translated}(?:$|[:#])")).map_err(|_| {
            SelectError::InvalidFilter {
                arg: arg.to_string(),
                part: arg.to_string(),
            }
        })?;
        Ok(Filter { regex, samples })
    }

    fn matches(&self, name: &str, sample: u32) -> bool {
        let in_range = self
            .samples
            .is_none_or(|(first, last)| first <= sample && sample <= last);
        in_range && self.regex.is_match(name)
    }
}
