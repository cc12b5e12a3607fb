//! The access log: who read or changed which candidate, when and how (GDPR Art. 30/32, what
//! a municipality's auditor and data protection officer ask for). Append-only (triggers), rows
//! numbered per tenant, never holding more than the candidate's pseudonymous id. Owns the
//! `access_log` table's rows; written by `server::audit_log`'s background writer.

use super::suggestion_log::{self, NewSuggestionLogEntry};
use super::{Result, Store};
use rusqlite::{TransactionBehavior, params};
use serde::Serialize;

/// One access to append.
#[derive(Debug, Clone)]
pub struct NewAccess {
    /// The tenant.
    pub municipality: u16,
    /// When (RFC 3339, milliseconds, UTC).
    pub at: String,
    /// Who (token user or verified person).
    pub user: String,
    /// Their role.
    pub role: &'static str,
    /// Their employer.
    pub employer: String,
    /// `read`, `list`, `write`, `erase`, `suggest`, `decide`, `outcome`, `export`.
    pub action: &'static str,
    /// The candidate's pseudonymous id.
    pub candidate_id: String,
    /// The request's id (`x-request-id`), to find its line in the service log.
    pub request_id: String,
}

/// One row of the access log, as the audit route shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AccessRow {
    /// The tenant's number for the row.
    pub number: i64,
    /// When.
    pub at: String,
    /// Who.
    pub user: String,
    /// Role.
    pub role: String,
    /// Employer.
    pub employer: String,
    /// What was done.
    pub action: String,
    /// To which candidate.
    pub candidate_id: String,
    /// Request id.
    pub request_id: String,
}

/// Answers deflated between two yields of the core (~50 µs each). The log writer thread
/// (`server::audit_log`) wakes every few milliseconds to pack and append what gathered, ~1.5
/// ms of CPU at 6,000 answers a second; Linux's scheduler (EEVDF) lets a running thread finish
/// its slice before a woken one preempts it, so an answer thread woken meanwhile waited for
/// the whole burst: the p99 of `POST /v1/suggestions` at 8 connections was 5.1–5.4 ms with it,
/// 3.9–4.7 ms with a yield every 4 answers (`docs/service.md`, session 8). A batch run's
/// proposals (`append_suggestions`) yield the same way, beside the answers they share the
/// cores with. When the cores are idle a yield returns at once.
const PACKS_PER_YIELD: usize = 4;

impl Store {
    /// Appends accesses (and suggestion-log entries) in one transaction.
    ///
    /// # Errors
    /// On storage failure; then nothing of the lot is written.
    pub fn append_audit(&self, suggestions: &[NewSuggestionLogEntry], accesses: &[NewAccess]) -> Result<()> {
        if suggestions.is_empty() && accesses.is_empty() {
            return Ok(());
        }
        let mut packed = Vec::with_capacity(suggestions.len());
        for chunk in suggestions.chunks(PACKS_PER_YIELD) {
            for e in chunk {
                packed.push(suggestion_log::pack(&e.answer)?);
            }
            if chunk.len() == PACKS_PER_YIELD {
                std::thread::yield_now();
            }
        }
        self.write_log(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            suggestion_log::insert(&tx, suggestions, &packed)?;
            {
                let mut stmt = tx.prepare_cached(
                    concat!("INSERT INTO access_log (municipality, number, at, user, role, employer, action, candidate_id, request_id)
                     VALUES (?1, ", next_number!("access_log"), ",
                        ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                )?;
                for a in accesses {
                    stmt.execute(params![
                        a.municipality,
                        a.at,
                        a.user,
                        a.role,
                        a.employer,
                        a.action,
                        a.candidate_id,
                        a.request_id
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// The tenant's access log, optionally for one candidate, at most `limit` after `after`.
    ///
    /// # Errors
    /// On storage failure.
    pub fn access_log(
        &self,
        municipality: u16,
        candidate_id: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AccessRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT number, at, user, role, employer, action, candidate_id, request_id FROM access_log
                 WHERE municipality = ?1 AND (?2 IS NULL OR candidate_id = ?2) AND number > ?3
                 ORDER BY number LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![municipality, candidate_id, after, limit], |r| {
                Ok(AccessRow {
                    number: r.get(0)?,
                    at: r.get(1)?,
                    user: r.get(2)?,
                    role: r.get(3)?,
                    employer: r.get(4)?,
                    action: r.get(5)?,
                    candidate_id: r.get(6)?,
                    request_id: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}
