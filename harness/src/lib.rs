//! A spread-compatible end-to-end runner with a Docker backend.
//!
//! `project` reads spread.yaml/task.yaml into plain types, `expand` turns a project into jobs
//! (pure), `select` filters jobs by spread's argument rules, `backend` allocates systems and
//! runs scripts, `runner` schedules jobs and owns the run's decisions, `report` renders events,
//! and `images` builds the local images that docker systems name.

pub mod backend;
pub mod cli;
pub mod env;
pub mod expand;
pub mod images;
pub mod project;
pub mod report;
pub mod runner;
pub mod script;
pub mod select;
