//! Outcomes of accepted decisions, added to the offers' evidence.

use super::offers::{EvidenceRow, add_evidence_in};
use super::{Result, Store, StoreError, now_rfc3339};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

impl Store {
    /// Records the outcome of an accepted decision and adds it to the evidence of the offer
    /// for each of the candidate's target groups (as they were when the decision was made).
    /// Returns the offer id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for another tenant's or an unknown decision;
    /// [`StoreError::Conflict`] for a declined decision or a second outcome. Returns the offer
    /// and whether the outcome released the accept's place (it does unless the place came back
    /// already: course ended, withdrawn, candidate deleted).
    pub fn record_outcome(
        &self,
        municipality: u16,
        decision: i64,
        result: &str,
        success: bool,
        user: &str,
    ) -> Result<(String, bool)> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (rowid, offer, action, groups, candidate): (i64, String, String, String, String) = tx
                .query_row(
                    "SELECT id, offer_id, action, target_groups, candidate_id FROM decisions WHERE municipality = ?1 AND number = ?2",
                    params![municipality, decision],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("decision"))?;
            if action != "accept" {
                return Err(StoreError::Conflict("only an accepted decision has an outcome".into()));
            }
            let n = tx.execute(
                "INSERT INTO outcomes (municipality, decision_id, result, recorded_by, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (decision_id) DO NOTHING",
                params![municipality, rowid, result, user, now_rfc3339()],
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
            let released = crate::server::ledger::release(&tx, rowid, crate::server::ledger::Release::Outcome, &now_rfc3339())?;
            // A success means the citizen left the benefit: the case closes with it.
            if success {
                super::cases::close_case(&tx, municipality, &candidate, super::cases::CaseClosed::LeftBenefit, &now_rfc3339())?;
            }
            tx.commit()?;
            Ok((offer, released))
        })
    }
}
