//! What the orderer's overview reads from decisions (issue 16): accepts that stand (not
//! withdrawn or corrected away), counted by municipality, offer, the candidate's target
//! groups and month, with the contract price in force on the day of each accept. Spend is made
//! of decisions actually taken, never of proposals.
//!
//! The count over a national year of decisions takes a few hundred milliseconds, so the last
//! count of each scope (one municipality, or all) is kept with the ledger's mark of that scope
//! ([`LedgerMark`]: the last decision, the places held, the last contract written), read first
//! and compared on every call: any accept, withdrawal, outcome, course end, deletion or
//! contract in the scope changes its mark, so a kept count is never stale; an unchanged mark
//! costs three indexed reads. A municipality's decisions change its own mark and the national
//! one, never another municipality's.
//!
//! Owns no table; reads `decisions`, `places` and `contract_offers`. Must not price anything
//! itself (the API applies the offer's list price where no contract priced an accept) or
//! decide who may read a municipality's figures.

use super::{Result, Store};
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Where the ledger of a scope stands: changes with every write that can change one of its
/// [`AcceptCount`]s. Holds come only with a new decision (a higher number), and every release
/// lowers the places held, so two states with equal marks have equal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LedgerMark {
    last_decision: i64,
    places_held: i64,
    last_contract: i64,
}

fn mark(c: &Connection, municipality: Option<u16>) -> Result<LedgerMark> {
    let read = |r: &rusqlite::Row<'_>| {
        Ok(LedgerMark { last_decision: r.get(0)?, places_held: r.get(1)?, last_contract: r.get(2)? })
    };
    Ok(match municipality {
        Some(m) => c.query_row(
            "SELECT (SELECT COALESCE(max(number), 0) FROM decisions WHERE municipality = ?1),
                    (SELECT count(*) FROM places WHERE municipality = ?1 AND released_at IS NULL),
                    (SELECT COALESCE(max(rowid), 0) FROM contracts WHERE municipality = ?1)",
            [m],
            read,
        )?,
        None => c.query_row(
            "SELECT (SELECT COALESCE(max(id), 0) FROM decisions),
                    (SELECT count(*) FROM places WHERE released_at IS NULL),
                    (SELECT COALESCE(max(rowid), 0) FROM contracts)",
            [],
            read,
        )?,
    })
}

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

/// A count of standing accepts and the mark it was taken at.
struct KeptCount {
    at: LedgerMark,
    rows: Arc<Vec<AcceptCount>>,
}

/// The last count of standing accepts per scope (`None`: every municipality).
#[derive(Default)]
pub(super) struct AcceptsCache(Mutex<HashMap<Option<u16>, KeptCount>>);

impl Store {
    /// Standing accepts of one municipality (or, for `None`, of every municipality), counted
    /// as [`AcceptCount`].
    ///
    /// An accept stands unless it was withdrawn or corrected (its place then came back as
    /// `withdrawn`); an accept whose course ended or got its outcome still stands: the course
    /// was bought.
    ///
    /// # Errors
    /// On storage failure.
    pub fn accept_counts(&self, municipality: Option<u16>) -> Result<Arc<Vec<AcceptCount>>> {
        self.read(|c| {
            // The mark is read before the rows: a write in between makes the kept count newer
            // than its mark, which only costs a recount next time, never a stale answer.
            let now = mark(c, municipality)?;
            if let Ok(kept) = self.accepts.0.lock()
                && let Some(KeptCount { at, rows }) = kept.get(&municipality)
                && *at == now
            {
                return Ok(rows.clone());
            }
            let rows = Arc::new(count_accepts(c, municipality)?);
            if let Ok(mut kept) = self.accepts.0.lock() {
                kept.insert(municipality, KeptCount { at: now, rows: rows.clone() });
            }
            Ok(rows)
        })
    }
}

const COUNT_ACCEPTS: &str = "SELECT d.municipality, d.offer_id, d.target_groups, substr(d.decided_at, 1, 7),
        (SELECT k.price_dkk FROM contract_offers k
          WHERE k.municipality = d.municipality AND k.offer_id = d.offer_id
            AND k.starts_on <= substr(d.decided_at, 1, 10) AND k.ends_on >= substr(d.decided_at, 1, 10)
          ORDER BY k.starts_on DESC LIMIT 1),
        count(*), sum(p.released_at IS NULL)
     FROM decisions d JOIN places p ON p.decision_id = d.id
     WHERE d.action = 'accept' AND (p.released_why IS NULL OR p.released_why <> 'withdrawn')";

fn count_accepts(c: &Connection, municipality: Option<u16>) -> Result<Vec<AcceptCount>> {
    let read = |r: &rusqlite::Row<'_>| {
        Ok(AcceptCount {
            municipality: r.get(0)?,
            offer_id: r.get(1)?,
            target_groups: r.get(2)?,
            month: r.get(3)?,
            contract_price: r.get(4)?,
            accepted: r.get(5)?,
            held: r.get(6)?,
        })
    };
    // Two statements, so that a municipality's count ranges over the index from its code.
    let rows = match municipality {
        Some(m) => {
            let mut stmt =
                c.prepare_cached(&format!("{COUNT_ACCEPTS} AND d.municipality = ?1 GROUP BY 1, 2, 3, 4, 5"))?;
            stmt.query_map(params![m], read)?.collect::<rusqlite::Result<Vec<_>>>()?
        }
        None => {
            let mut stmt = c.prepare_cached(&format!("{COUNT_ACCEPTS} GROUP BY 1, 2, 3, 4, 5"))?;
            stmt.query_map([], read)?.collect::<rusqlite::Result<Vec<_>>>()?
        }
    };
    Ok(rows)
}
