//! Brobygger's core: the domain model, explainable scoring, the sparse candidate graph and the
//! assignment solvers. Pure and fast: no HTTP, no async runtime, no database; the only file
//! access is in [`dataset`]. See `ARCHITECTURE.md` for the map.
#![warn(missing_docs)]

pub mod assign;
pub mod batch;
pub mod dataset;
pub mod effect;
pub mod error;
// `gen` is a reserved word since edition 2024, hence the raw identifier; the two items most
// callers need are re-exported below.
pub mod r#gen;
pub mod geo;
pub mod graph;
pub mod model;
pub mod policy;
pub mod progress;
pub mod score;

pub use error::{Error, InputProblem, InputProblems, Result};
pub use r#gen::{Scale, generate, next_night};
