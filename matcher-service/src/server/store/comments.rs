//! Comments on decisions and the provider's view of decisions (issue 16).
//!
//! Owns the `decision_comments` table: append-only (triggers refuse UPDATE and DELETE, as for
//! decisions), numbered per tenant, each pointing at a decision by its row id. A provider's
//! user sees a decision only when it is about one of its provider's offers, and of the
//! comments on it only the municipality's and its own provider's; every query here takes the
//! provider as a filter, so another provider's decision is indistinguishable from a missing
//! one. Must not: decide who may call it (the API's role table does), or return anything of
//! the candidate but the pseudonymous id.

use super::decisions::{DECISION_COLUMNS, decision_from};
use super::{DecisionPage, Result, Store, StoreError, now_rfc3339};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// A comment to add.
#[derive(Debug, Clone)]
pub struct NewComment {
    /// Tenant.
    pub municipality: u16,
    /// The decision commented on, by the tenant's number.
    pub decision: i64,
    /// The author's provider (a provider's user); `None` for the municipality's staff.
    pub provider: Option<String>,
    /// Who wrote it.
    pub author: String,
    /// The author's role.
    pub role: String,
    /// The author's employer.
    pub employer: String,
    /// The text.
    pub text: String,
}

/// A comment as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRow {
    /// The tenant's number for it.
    pub id: i64,
    /// The decision, by the tenant's number.
    pub decision_id: i64,
    /// The author's provider; `None` for the municipality's staff.
    pub provider_id: Option<String>,
    /// Who wrote it.
    pub author: String,
    /// The author's role.
    pub role: String,
    /// The author's employer.
    pub employer: String,
    /// The text.
    pub text: String,
    /// When (UTC).
    pub written_at: String,
}

/// The row id of a tenant's decision, if it is visible to `provider` (any, for `None`).
fn visible_decision(c: &Connection, municipality: u16, number: i64, provider: Option<&str>) -> Result<i64> {
    c.query_row(
        "SELECT d.id FROM decisions d WHERE d.municipality = ?1 AND d.number = ?2
           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM offers o WHERE o.id = d.offer_id AND o.provider_id = ?3))",
        params![municipality, number, provider],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::NotFound("decision"))
}

const COMMENT_COLUMNS: &str =
    "c.number, d.number, c.provider_id, c.author, c.role, c.employer, c.text, c.written_at";

fn comment_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<CommentRow> {
    Ok(CommentRow {
        id: r.get(0)?,
        decision_id: r.get(1)?,
        provider_id: r.get(2)?,
        author: r.get(3)?,
        role: r.get(4)?,
        employer: r.get(5)?,
        text: r.get(6)?,
        written_at: r.get(7)?,
    })
}

impl Store {
    /// Adds a comment to a decision of the tenant (for a provider's user: a decision about one
    /// of its provider's offers) in one transaction; the number is taken under its lock.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown decision, another tenant's, or (for a provider)
    /// one about another provider's offer.
    pub fn add_comment(&self, new: &NewComment) -> Result<CommentRow> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let decision = visible_decision(&tx, new.municipality, new.decision, new.provider.as_deref())?;
            let rowid: i64 = tx.query_row(
                concat!("INSERT INTO decision_comments (municipality, number, decision_id, provider_id, author, role, employer, text, written_at)
                 VALUES (?1, ", next_number!("decision_comments"), ",
                    ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id"),
                params![
                    new.municipality,
                    decision,
                    new.provider,
                    new.author,
                    new.role,
                    new.employer,
                    new.text,
                    now_rfc3339()
                ],
                |r| r.get(0),
            )?;
            let sql = format!(
                "SELECT {COMMENT_COLUMNS} FROM decision_comments c JOIN decisions d ON d.id = c.decision_id WHERE c.id = ?1"
            );
            let row = tx.query_row(&sql, [rowid], comment_from)?;
            tx.commit()?;
            Ok(row)
        })
    }

    /// The comments on a decision of the tenant, oldest first. For a provider's user
    /// (`provider`), only on a decision about its offers, and only the municipality's comments
    /// and its own provider's.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] as for [`Store::add_comment`].
    pub fn comments(
        &self,
        municipality: u16,
        decision: i64,
        provider: Option<&str>,
    ) -> Result<Vec<CommentRow>> {
        self.read(|c| {
            let rowid = visible_decision(c, municipality, decision, provider)?;
            let sql = format!(
                "SELECT {COMMENT_COLUMNS} FROM decision_comments c JOIN decisions d ON d.id = c.decision_id
                 WHERE c.decision_id = ?1 AND (?2 IS NULL OR c.provider_id IS NULL OR c.provider_id = ?2) ORDER BY c.id"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![rowid, provider], comment_from)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// One page of the tenant's decisions about a provider's offers, in id order, with the
    /// number of comments on each that `viewer` may read (a provider's user: the
    /// municipality's and its own).
    ///
    /// # Errors
    /// On storage failure.
    pub fn provider_decisions(
        &self,
        municipality: u16,
        provider: &str,
        viewer: Option<&str>,
        after: i64,
        limit: u32,
        today: &str,
    ) -> Result<(DecisionPage, Vec<u32>)> {
        self.read(|c| {
            let sql = format!(
                "SELECT {DECISION_COLUMNS} FROM decisions
                 WHERE municipality = ?1 AND number > ?3
                   AND offer_id IN (SELECT id FROM offers WHERE provider_id = ?2)
                 ORDER BY number LIMIT ?4"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let asked = i64::from(limit) + 1;
            let rows = stmt.query_map(params![municipality, provider, after, asked], |r| decision_from(r, today))?;
            let mut rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            let next = if rows.len() > limit as usize {
                rows.truncate(limit as usize);
                rows.last().map(|r| r.id)
            } else {
                None
            };
            let mut count = c.prepare_cached(
                "SELECT count(*) FROM decision_comments c JOIN decisions d ON d.id = c.decision_id
                 WHERE d.municipality = ?1 AND d.number = ?2 AND (?3 IS NULL OR c.provider_id IS NULL OR c.provider_id = ?3)",
            )?;
            let mut counts = Vec::with_capacity(rows.len());
            for row in &rows {
                counts.push(count.query_row(params![municipality, row.id, viewer], |r| r.get(0))?);
            }
            Ok((DecisionPage { decisions: rows, next }, counts))
        })
    }
}
