//! What is held about one candidate, for the citizen's right of access (GDPR Art. 15): the
//! rows of other modules' tables that name the candidate and that no query there returns by
//! candidate. Reads only; the tenant filter is in every query.

use super::{Result, Store};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// An outcome recorded for one of the candidate's decisions.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateOutcome {
    /// The decision's number (its id in the API).
    pub decision_id: i64,
    /// The offer.
    pub offer_id: String,
    /// `in_work`, `in_education`, `back_at_work` or `dropped_out`.
    pub result: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: String,
}

impl Store {
    /// The outcomes of a tenant's candidate's decisions, in decision order.
    ///
    /// # Errors
    /// On storage failure.
    pub fn candidate_outcomes(&self, municipality: u16, candidate_id: &str) -> Result<Vec<CandidateOutcome>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.number, d.offer_id, o.result, o.recorded_by, o.recorded_at
                 FROM outcomes o JOIN decisions d ON d.id = o.decision_id
                 WHERE d.municipality = ?1 AND o.municipality = ?1 AND d.candidate_id = ?2
                 ORDER BY d.number",
            )?;
            let rows = stmt.query_map(params![municipality, candidate_id], |r| {
                Ok(CandidateOutcome {
                    decision_id: r.get(0)?,
                    offer_id: r.get(1)?,
                    result: r.get(2)?,
                    recorded_by: r.get(3)?,
                    recorded_at: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The tenant's stored record of a candidate, if any (`None` after erasure).
    ///
    /// # Errors
    /// On storage failure.
    pub fn candidate_record(&self, municipality: u16, candidate_id: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT record FROM candidates WHERE municipality = ?1 AND id = ?2",
                params![municipality, candidate_id],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// How many of the tenant's cases (open or closed) name the candidate: an erasure closes
    /// the open one and keeps them all, so its answer counts them.
    ///
    /// # Errors
    /// On storage failure.
    pub fn candidate_case_count(&self, municipality: u16, candidate_id: &str) -> Result<usize> {
        self.read(|c| {
            let n: i64 = c.query_row(
                "SELECT count(*) FROM cases WHERE municipality = ?1 AND candidate_id = ?2",
                params![municipality, candidate_id],
                |r| r.get(0),
            )?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }

    /// How many of the tenant's batch runs name the candidate: in a proposal, or in the
    /// fingerprints (a hash of the record as the run saw it) the next run compares with.
    /// They stay until the run's retention period ends, so an erasure's answer counts them.
    ///
    /// # Errors
    /// On storage failure.
    pub fn candidate_batch_run_count(&self, municipality: u16, candidate_id: &str) -> Result<usize> {
        self.read(|c| {
            let n: i64 = c.query_row(
                "SELECT count(*) FROM batch_runs b
                 LEFT JOIN batch_fingerprints f ON f.run_id = b.id
                 WHERE b.municipality = ?1
                   AND (EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(b.proposals) THEN b.proposals ELSE '[]' END) p
                                WHERE json_extract(p.value, '$.candidate_id') = ?2)
                        OR EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(f.fingerprints) THEN f.fingerprints ELSE '{}' END, '$.candidates') k
                                   WHERE k.key = ?2))",
                params![municipality, candidate_id],
                |r| r.get(0),
            )?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }
}
