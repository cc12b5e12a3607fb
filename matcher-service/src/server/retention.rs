//! Retention periods enforced: for each municipality with records, the cut-off day of each
//! kind of record from the policy in force there (`[retention]`, days) and the day given,
//! handed to `store::Store::apply_retention`, which deletes what is due and nothing else.
//! Run by `matcher serve` at start and once a day, and by `matcher retention`. Owns the
//! mapping from periods to cut-offs; must not delete anything itself.

use crate::server::store::{Result, RetentionCutoffs, RetentionDeleted, Store};
use matcher_core::model::{Date, MunicipalityCode};
use matcher_core::policy::PolicySet;

/// The cut-offs of `municipality` on `today`: a record dated before `today − days` is due.
pub fn cutoffs(policies: &PolicySet, municipality: u16, today: Date) -> RetentionCutoffs {
    let r = &policies.get(policies.index_for(MunicipalityCode(municipality))).retention;
    let before = |days: u32| today.plus_days(-i32::try_from(days).unwrap_or(i32::MAX)).to_string();
    RetentionCutoffs {
        municipality,
        suggestion_log: before(r.suggestion_log_days),
        access_log: before(r.access_log_days),
        decisions: before(r.decisions_days),
        outcomes: before(r.outcomes_days),
        batch_runs: before(r.batch_runs_days),
    }
}

/// Deletes (or, with `dry_run`, counts) every record past its period on `today`, for every
/// municipality with records. Returns what was due per municipality.
///
/// # Errors
/// On storage failure; then nothing is deleted.
pub fn enforce(
    store: &Store,
    policies: &PolicySet,
    today: Date,
    dry_run: bool,
) -> Result<Vec<RetentionDeleted>> {
    let all: Vec<RetentionCutoffs> =
        store.municipalities_with_records()?.into_iter().map(|m| cutoffs(policies, m, today)).collect();
    store.apply_retention(&all, dry_run)
}
