//! A municipality's candidates.

use super::decisions::held_offers;
use super::{Released, Result, Store, StoreError, now_rfc3339};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// A tenant's candidate as stored.
#[derive(Debug, Clone)]
pub struct CandidateRow {
    /// Candidate id (unique within the municipality).
    pub id: String,
    /// The candidate record as the API shows it (JSON).
    pub record: String,
    /// The core model (serde JSON of `matcher_core::model::Candidate`).
    pub model: String,
}

impl Store {
    /// Inserts or replaces a tenant's candidates.
    ///
    /// # Errors
    /// On storage failure; nothing is written then.
    pub fn upsert_candidates(&self, municipality: u16, rows: &[CandidateRow]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut stmt = tx.prepare(
                    "INSERT INTO candidates (municipality, id, record, model, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (municipality, id) DO UPDATE SET record = excluded.record,
                        model = excluded.model, updated_at = excluded.updated_at",
                )?;
                let now = now_rfc3339();
                for CandidateRow { id, record, model } in rows {
                    stmt.execute(params![municipality, id, record, model, now])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// A tenant's candidate.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the tenant has no such candidate.
    pub fn candidate(&self, municipality: u16, id: &str) -> Result<CandidateRow> {
        self.read(|c| {
            // Cached: this read is on every suggestion (`Connection::query_row` would parse
            // the statement again each time).
            c.prepare_cached("SELECT record, model FROM candidates WHERE municipality = ?1 AND id = ?2")?
                .query_row(params![municipality, id], |r| {
                    Ok(CandidateRow { id: id.to_string(), record: r.get(0)?, model: r.get(1)? })
                })
                .optional()?
                .ok_or(StoreError::NotFound("candidate"))
        })
    }

    /// A page of a tenant's candidate records.
    ///
    /// # Errors
    /// On storage failure.
    pub fn list_candidates(&self, municipality: u16, limit: u32, offset: u32) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT record FROM candidates WHERE municipality = ?1 ORDER BY id LIMIT ?2 OFFSET ?3",
            )?;
            let rows = stmt.query_map(params![municipality, limit, offset], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Every candidate model of a tenant, for a batch run.
    ///
    /// # Errors
    /// On storage failure.
    pub fn candidate_models(&self, municipality: u16) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT model FROM candidates WHERE municipality = ?1 ORDER BY id")?;
            let rows = stmt.query_map([municipality], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Erases a tenant's candidate. Decisions about the candidate stay: they are the
    /// authority's record and hold only the pseudonymous id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the tenant has no such candidate.
    pub fn delete_candidate(&self, municipality: u16, id: &str) -> Result<Released> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "DELETE FROM candidates WHERE municipality = ?1 AND id = ?2",
                params![municipality, id],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound("candidate"));
            }
            // The places the candidate held come back with the deletion, not later.
            let offers = held_offers(&tx, municipality, id)?;
            crate::server::ledger::release_candidate(
                &tx,
                municipality,
                id,
                crate::server::ledger::Release::CandidateDeleted,
                &now_rfc3339(),
            )?;
            super::cases::close_case(
                &tx,
                municipality,
                id,
                super::cases::CaseClosed::Erased,
                &now_rfc3339(),
            )?;
            tx.commit()?;
            Ok(Released { offers, evidence: false })
        })
    }
}
