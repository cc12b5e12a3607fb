//! Brobygger's core: the domain model, explainable scoring, the sparse candidate graph and the
//! assignment solvers. Pure and fast: no HTTP, no async runtime, no database; the only file
//! access is in [`dataset`]. See `ARCHITECTURE.md` for the map.
#![warn(missing_docs)]

pub mod assign;
pub mod dataset;
pub mod error;
pub mod model;

pub use error::{Error, InputProblem, InputProblems, Result};
