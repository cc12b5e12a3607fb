//! What the orderer's overview reads from decisions (issue 16): accepts that stand (not
//! withdrawn or corrected away), counted by municipality, offer, the candidate's target
//! groups and month, with the contract price in force on the day of each accept. Spend is made
//! of decisions actually taken, never of proposals.
//!
//! The count over a national year of decisions takes a few hundred milliseconds, so the last
//! one is kept with the ledger's mark ([`LedgerMark`]: the last decision, the places held, the
//! last contract written), read first and compared on every call: any accept, withdrawal,
//! outcome, course end, deletion or contract changes the mark, so a kept count is never
//! stale; an unchanged mark costs three indexed reads.
//!
//! Owns no table; reads `decisions`, `places` and `contract_offers`. Must not price anything
//! itself (the API applies the offer's list price where no contract priced an accept) or
//! decide who may read a municipality's figures.

use super::{Result, Store};
use rusqlite::Connection;
use std::sync::{Arc, Mutex};

/// Where the ledger stands: changes with every write that can change an [`AcceptCount`].
/// Holds come only with a new decision, and every release lowers the places held, so two
/// states with equal marks have equal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LedgerMark {
    last_decision: i64,
    places_held: i64,
    last_contract: i64,
}

fn mark(c: &Connection) -> Result<LedgerMark> {
    Ok(c.query_row(
        "SELECT (SELECT COALESCE(max(id), 0) FROM decisions),
                (SELECT count(*) FROM places WHERE released_at IS NULL),
                (SELECT COALESCE(max(rowid), 0) FROM contracts)",
        [],
        |r| Ok(LedgerMark { last_decision: r.get(0)?, places_held: r.get(1)?, last_contract: r.get(2)? }),
    )?)
}

/// The last count of standing accepts and the mark it was taken at.
#[derive(Default)]
pub(super) struct AcceptsCache(Mutex<Option<(LedgerMark, Arc<Vec<AcceptCount>>)>>);

/// Standing accepts of one municipality on one offer by candidates of one set of target
/// groups in one month, at one contract price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptCount {
    /// The deciding municipality.
    pub municipality: u16,
    /// The offer.
    pub offer_id: String,
    /// The candidates' target-group codes, `;`-separated, as the decisions recorded them.
    pub target_groups: String,
    /// `YYYY-MM` of the decisions.
    pub month: String,
    /// Price per course from the municipality's contract covering the offer on the day of
    /// the decision; `None` where no contract did (the offer's list price applies).
    pub contract_price: Option<u32>,
    /// Accepts that stand.
    pub accepted: u32,
    /// Of them, places still held (course reserved or running).
    pub held: u32,
}

impl Store {
    /// Standing accepts of every municipality, counted as [`AcceptCount`] (callers keep the
    /// municipalities they may show).
    ///
    /// An accept stands unless it was withdrawn or corrected (its place then came back as
    /// `withdrawn`); an accept whose course ended or got its outcome still stands: the course
    /// was bought.
    ///
    /// # Errors
    /// On storage failure.
    pub fn accept_counts(&self) -> Result<Arc<Vec<AcceptCount>>> {
        self.read(|c| {
            // The mark is read before the rows: a write in between makes the kept count newer
            // than its mark, which only costs a recount next time, never a stale answer.
            let now = mark(c)?;
            if let Ok(kept) = self.accepts.0.lock()
                && let Some((at, rows)) = kept.as_ref()
                && *at == now
            {
                return Ok(rows.clone());
            }
            let rows = Arc::new(count_accepts(c)?);
            if let Ok(mut kept) = self.accepts.0.lock() {
                *kept = Some((now, rows.clone()));
            }
            Ok(rows)
        })
    }
}

fn count_accepts(c: &Connection) -> Result<Vec<AcceptCount>> {
    let mut stmt = c.prepare_cached(
        "SELECT d.municipality, d.offer_id, d.target_groups, substr(d.decided_at, 1, 7),
            (SELECT k.price_dkk FROM contract_offers k
              WHERE k.municipality = d.municipality AND k.offer_id = d.offer_id
                AND k.starts_on <= substr(d.decided_at, 1, 10) AND k.ends_on >= substr(d.decided_at, 1, 10)
              ORDER BY k.starts_on DESC LIMIT 1),
            count(*), sum(p.released_at IS NULL)
         FROM decisions d JOIN places p ON p.decision_id = d.id
         WHERE d.action = 'accept' AND (p.released_why IS NULL OR p.released_why <> 'withdrawn')
         GROUP BY 1, 2, 3, 4, 5",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(AcceptCount {
            municipality: r.get(0)?,
            offer_id: r.get(1)?,
            target_groups: r.get(2)?,
            month: r.get(3)?,
            contract_price: r.get(4)?,
            accepted: r.get(5)?,
            held: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
