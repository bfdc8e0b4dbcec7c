//! The order jobs run in: a seeded shuffle (so a run can be repeated with `-seed`), then higher
//! priority first, `-repeat` extra rounds, and per-system queues that prefer the suite a worker
//! already prepared.

use std::collections::VecDeque;
use std::sync::Arc;

use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::expand::Job;

/// One scheduled run of a job.
#[derive(Debug, Clone)]
pub struct Planned {
    pub job: Arc<Job>,
    pub name: String,
    /// `SPREAD_SAMPLE`: the task's sample number, or the repetition number with `-repeat`.
    pub sample: u32,
}

/// Orders `jobs` for a run: shuffled by `seed`, stable-sorted by descending priority, the
/// whole list repeated `repeat` more times.
pub fn order(jobs: Vec<Job>, seed: u64, repeat: u32) -> Vec<Planned> {
    let mut jobs: Vec<Arc<Job>> = jobs.into_iter().map(Arc::new).collect();
    jobs.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    jobs.sort_by_key(|job| std::cmp::Reverse(job.priority));
    (0..=repeat)
        .flat_map(|round| {
            jobs.iter().map(move |job| Planned {
                name: job.name(),
                sample: if repeat > 0 { round + 1 } else { job.sample },
                job: job.clone(),
            })
        })
        .collect()
}

/// The pending jobs of one system.
#[derive(Debug, Default)]
pub struct Queue {
    pending: VecDeque<Planned>,
}

impl Queue {
    pub fn push(&mut self, planned: Planned) {
        self.pending.push_back(planned);
    }

    /// The next job: among those of the highest pending priority, the first of `suite` (saves
    /// a suite restore and prepare), else the first.
    pub fn next(&mut self, suite: Option<&str>) -> Option<Planned> {
        let top = self.pending.front()?.job.priority;
        let same_suite = suite.and_then(|suite| {
            self.pending
                .iter()
                .take_while(|p| p.job.priority == top)
                .position(|p| p.job.suite.dir == suite)
        });
        self.pending.remove(same_suite.unwrap_or(0))
    }

    /// Puts a job back at the front (its worker could not start).
    pub fn put_back(&mut self, planned: Planned) {
        self.pending.push_front(planned);
    }

    /// Removes and returns the pending jobs that `matches` selects.
    pub fn drain_where(&mut self, matches: impl Fn(&Planned) -> bool) -> Vec<Planned> {
        let mut taken = Vec::new();
        let mut kept = VecDeque::new();
        for planned in std::mem::take(&mut self.pending) {
            if matches(&planned) {
                taken.push(planned);
            } else {
                kept.push_back(planned);
            }
        }
        self.pending = kept;
        taken
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}
