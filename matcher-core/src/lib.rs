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

/// A map for look-ups on the hot paths of reading and estimating: by column name for every
/// value of every row, by id for every row, by case-mix cell for every episode. std's SipHash
/// took a sixth of a national CSV load's CPU; foldhash is several times faster on short keys
/// and still seeded per map, so an input cannot choose its collisions in advance. Only for
/// maps whose order never reaches an output (look-ups, or iteration that is sorted after).
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub use r#gen::{Scale, generate, next_night};
