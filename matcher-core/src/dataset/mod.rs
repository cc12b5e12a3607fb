//! Reading and writing data sets: CSV and JSON inputs, the bincode snapshot, reference tables.
//!
//! This is the only module of `matcher-core` that touches files. It validates everything it
//! reads and reports every bad row with its file, line, column and value; it never panics on
//! input and accepts a data set only when all of it is valid. It must not score, match or
//! invent data (the generator lives in [`crate::generate`]).
//!
//! A data set directory holds up to five tables, each as `NAME.csv` or `NAME.json` (not both):
//! `providers`, `offers`, `evidence` (optional), `candidates`, `outcomes` (optional, the
//! episode history) and `declines` (optional: live state, offers a caseworker declined for a
//! candidate until a date) and `contracts` (optional: the municipalities' contracts with
//! providers). `data/README.md` documents every column. [`previous`] reads a
//! previous run's files the same way.

pub mod caseworkers;
pub mod encoding;
pub mod excel;
pub mod explain;
mod json;
pub mod outcomes;
pub mod previous;
mod read;
mod reference_dir;
pub mod scenario;
pub mod snapshot;
pub mod table;
#[cfg(test)]
mod tests;
mod write;

pub use caseworkers::{
    CASEWORKER_COLUMNS, CASEWORKER_REQUIRED, MAX_CAP, caseworkers_csv, load_caseworkers,
    load_caseworkers_with,
};
pub use encoding::Encoding;

/// Ids seen so far in one table, with the line of their first row.
pub(crate) type Seen = crate::FastMap<String, u64>;
pub use outcomes::{OUTCOME_COLUMNS, OUTCOME_REQUIRED};
pub use read::{candidates_from_json, load_dir, load_dir_with, offers_from_json};
pub use reference_dir::{REFERENCE_FILES, load_reference};
pub use scenario::load_scenario;
pub use snapshot::{read_snapshot, write_snapshot};
pub use write::{contracts_csv, csv_tables, declines_csv, outcomes_csv, write_dir};

use crate::error::Result;
use crate::model::{Dataset, ReferenceData};
use std::path::Path;

/// Columns of `providers.csv`, in the order [`write_dir`] writes them.
pub const PROVIDER_COLUMNS: &[&str] = &["id", "name", "municipality", "contact"];

/// Columns every provider must have.
pub const PROVIDER_REQUIRED: &[&str] = &["id", "name", "municipality"];

/// Columns of `contracts.csv` (optional table), in the order [`write_dir`] writes them.
pub const CONTRACT_COLUMNS: &[&str] = &[
    "id",
    "municipality",
    "provider_id",
    "kind",
    "price_dkk",
    "places",
    "guaranteed_volume",
    "start",
    "end",
    "target_groups",
    "offers",
];

/// Columns every contract must have.
pub const CONTRACT_REQUIRED: &[&str] =
    &["id", "municipality", "provider_id", "kind", "places", "start", "end", "offers"];

/// Columns of `offers.csv`, in the order [`write_dir`] writes them.
pub const OFFER_COLUMNS: &[&str] = &[
    "id",
    "kind",
    "name",
    "provider_id",
    "municipality",
    "lat",
    "lon",
    "postcode",
    "serves_municipalities",
    "capacity",
    "price_dkk",
    "contract",
    "guaranteed_volume",
    "target_groups",
    "occupations",
    "languages",
    "requires_driving_licence",
    "min_hours",
    "duration_weeks",
    "poster_weeks_saved",
    "next_start",
    "address_postcode",
    "contact",
];

/// Columns every offer must have (in a file header, and in each JSON object).
pub const OFFER_REQUIRED: &[&str] =
    &["id", "kind", "name", "provider_id", "municipality", "capacity", "duration_weeks"];

/// Columns of `evidence.csv`, in the order [`write_dir`] writes them.
pub const EVIDENCE_COLUMNS: &[&str] = &["offer_id", "target_group", "trials", "successes"];

/// Columns of `candidates.csv`, in the order [`write_dir`] writes them.
pub const CANDIDATE_COLUMNS: &[&str] = &[
    "id",
    "municipality",
    "lat",
    "lon",
    "postcode",
    "age_band",
    "target_groups",
    "benefit_kind",
    "benefit_start",
    "benefit_end",
    "reassessment_date",
    "wished_occupations",
    "max_travel_km",
    "languages",
    "driving_licence",
    "hours_available",
    "preferred_kinds",
    "current_offer",
    "current_locked",
    "excluded_offers",
    "gender",
    "origin",
];

/// Columns of `declines.csv` (optional table), in the order [`write_dir`] writes them.
pub const DECLINE_COLUMNS: &[&str] = &["candidate_id", "offer_id", "until", "reason"];

/// Columns every decline must have.
pub const DECLINE_REQUIRED: &[&str] = &["candidate_id", "offer_id", "until"];

/// Columns every candidate must have (in a file header, and in each JSON object).
pub const CANDIDATE_REQUIRED: &[&str] =
    &["id", "municipality", "age_band", "target_groups", "benefit_kind", "benefit_start", "max_travel_km"];

/// Loads a data set from a directory of tables or from a snapshot file, whichever `path` is.
///
/// A snapshot was validated when it was written; here it is only checked against `reference`
/// (every group, benefit kind, municipality and occupation it names must exist), because its
/// indices point into the reference tables.
///
/// # Errors
/// [`crate::Error::InvalidData`] for bad rows, [`crate::Error::Snapshot`] for a damaged or
/// foreign snapshot, [`crate::Error::Io`] when the path cannot be read.
pub fn load(path: &Path, reference: &ReferenceData) -> Result<Dataset> {
    load_with(path, reference, &ReadOptions::default())
}

/// How the files of a data set are to be read (what the user says; nothing is guessed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// The encoding of CSV files without a byte order mark.
    pub encoding: Encoding,
}

/// As [`load`], reading CSV files as `options` says.
///
/// # Errors
/// As [`load`]; a path that does not exist is one [`crate::Error::Input`] naming it.
pub fn load_with(path: &Path, reference: &ReferenceData, options: &ReadOptions) -> Result<Dataset> {
    if path.is_dir() {
        return load_dir_with(path, reference, options);
    }
    if !path.exists() {
        return Err(not_found(path));
    }
    let dataset = read_snapshot(path)?;
    read::check_against_reference(&dataset, reference, path)?;
    Ok(dataset)
}

/// The error for a data set path that does not exist: said once, with the path.
pub(crate) fn not_found(path: &Path) -> crate::Error {
    let what = if path.exists() { "is not a directory" } else { "does not exist" };
    crate::Error::Input(crate::error::InputProblem::new(
        path.display().to_string(),
        0,
        "",
        "",
        format!("{what}; expected a data set directory or a snapshot file"),
    ))
}
