//! Outcomes of accepted decisions, added to the offers' evidence.

use super::offers::{EvidenceRow, add_evidence_in};
use super::{Result, Store, StoreError, now_rfc3339};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

impl Store {
    /// Records the outcome of an accepted decision and adds it to the evidence of the offer
    /// for each of the candidate's target groups (as they were when the decision was made).
    /// Returns the offer id. `exited_on` is the day the candidate left benefit (for a success;
    /// the day the outcome was known otherwise): the episode's `weeks_to_exit` counts to it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for another tenant's or an unknown decision;
    /// [`StoreError::Conflict`] for a declined decision, an accept withdrawn or corrected, or a
    /// second outcome. Returns the offer and whether the outcome released the accept's place
    /// (it does unless the place came back already: course ended, candidate deleted).
    pub fn record_outcome(
        &self,
        municipality: u16,
        decision: i64,
        result: &str,
        success: bool,
        exited_on: matcher_core::model::Date,
        user: &str,
    ) -> Result<(String, bool)> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            #[allow(clippy::type_complexity)]
            let (rowid, offer, action, groups, candidate, started): (
                i64,
                String,
                String,
                String,
                String,
                Option<String>,
            ) = tx
                .query_row(
                    "SELECT id, offer_id, action, target_groups, candidate_id,
                        (SELECT e.started FROM episodes e WHERE e.decision_id = decisions.id)
                     FROM decisions WHERE municipality = ?1 AND number = ?2",
                    params![municipality, decision],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("decision"))?;
            if action != "accept" {
                return Err(StoreError::Conflict("only an accepted decision has an outcome".into()));
            }
            // A withdrawn or corrected accept has no episode (the correcting accept has its
            // own), so its outcome would count only in the offer's evidence: a trial of a
            // course the candidate never took, in the quality figures every tenant reads.
            let by: Option<i64> = tx
                .query_row(
                    "SELECT number FROM decisions WHERE corrects = ?1 ORDER BY id LIMIT 1",
                    [rowid],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(by) = by {
                return Err(StoreError::Conflict(format!(
                    "decision {decision} was withdrawn or corrected by decision {by}; record the outcome on the decision that stands"
                )));
            }
            // The episode starts on the day of the decision (accepts from before the history
            // have no episode, and no day to check against).
            if let Some(started) = started.filter(|s| exited_on.to_string().as_str() < s.as_str()) {
                return Err(StoreError::Invalid {
                    path: "/exited_on",
                    value: exited_on.to_string(),
                    reason: format!(
                        "before the decision ({started}); the episode starts on the day of the decision"
                    ),
                });
            }
            let past: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM outcomes_past WHERE decision_id = ?1)",
                [rowid],
                |r| r.get(0),
            )?;
            if past {
                return Err(StoreError::Conflict(
                    "this decision already has an outcome (deleted at the end of its retention period)".into(),
                ));
            }
            let n = tx.execute(
                "INSERT INTO outcomes (municipality, decision_id, result, recorded_by, recorded_at, exited_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (decision_id) DO NOTHING",
                params![municipality, rowid, result, user, now_rfc3339(), exited_on.to_string()],
            )?;
            if n == 0 {
                return Err(StoreError::Conflict("this decision already has an outcome".into()));
            }
            let rows: Vec<EvidenceRow> = groups
                .split(';')
                .filter(|g| !g.is_empty())
                .map(|g| EvidenceRow {
                    offer_id: offer.clone(),
                    target_group: g.to_string(),
                    trials: 1,
                    successes: u32::from(success),
                })
                .collect();
            add_evidence_in(&tx, &rows)?;
            // The place comes back with the outcome, in the same transaction.
            let released = crate::server::ledger::release(
                &tx,
                rowid,
                crate::server::ledger::Release::Outcome,
                &now_rfc3339(),
            )?;
            // A success means the citizen left the benefit: the case closes with it.
            if success {
                super::cases::close_case(
                    &tx,
                    municipality,
                    &candidate,
                    super::cases::CaseClosed::LeftBenefit,
                    &now_rfc3339(),
                )?;
            }
            tx.commit()?;
            Ok((offer, released))
        })
    }
}

/// Takes back out of its offer's evidence what the outcome of the accept with row id
/// `decision` added (one trial per target group, a success when it was one), when the accept
/// is withdrawn or corrected in `c`'s transaction: its episode leaves the history with it
/// (`history::HISTORY_SQL`), and the evidence must not keep a course the candidate never took.
/// Counts never go below 0. Returns whether the accept had an outcome.
///
/// # Errors
/// On storage failure.
pub(super) fn take_back_evidence(c: &rusqlite::Connection, decision: i64) -> Result<bool> {
    let found: Option<(String, String, String)> = c
        .query_row(
            "SELECT o.result, d.offer_id, d.target_groups FROM outcomes o JOIN decisions d ON d.id = o.decision_id
             WHERE o.decision_id = ?1",
            [decision],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((result, offer, groups)) = found else { return Ok(false) };
    let success = u32::from(outcome_success(&result));
    let mut stmt = c.prepare_cached(
        "UPDATE evidence SET trials = max(trials - 1, 0), successes = max(successes - ?3, 0)
         WHERE offer_id = ?1 AND target_group = ?2",
    )?;
    for group in groups.split(';').filter(|g| !g.is_empty()) {
        stmt.execute(params![offer, group, success])?;
    }
    Ok(true)
}

/// Whether an outcome's result is a success (left benefit for work or education).
pub(super) fn outcome_success(result: &str) -> bool {
    matches!(result, "in_work" | "in_education" | "back_at_work")
}
