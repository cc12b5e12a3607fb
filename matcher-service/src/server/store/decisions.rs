//! Decisions (append-only) with their idempotency keys and the places they take.

use super::{Result, Store, StoreError, now_rfc3339};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// One decision as recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecisionRow {
    /// Decision id: the tenant's number for it (1, 2, 3, … within the municipality).
    pub id: i64,
    /// Employer of the decider: the municipality (kommunekode).
    pub municipality: String,
    /// Candidate id.
    pub candidate_id: String,
    /// The offer chosen (accepted or declined).
    pub offer_id: String,
    /// `accept` or `decline`.
    pub action: String,
    /// Why.
    pub reason: String,
    /// Who decided (the token's user).
    pub decided_by: String,
    /// The decider's role.
    pub role: String,
    /// The offers that were suggested, in the order shown.
    pub suggested_offer_ids: Vec<String>,
    /// When (UTC, RFC 3339).
    pub decided_at: String,
}

/// One page of decisions.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecisionPage {
    /// The rows, in id order.
    pub decisions: Vec<DecisionRow>,
    /// The id to pass as `after` for the next page; `None` on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// The outcome of [`Store::decide`].
#[derive(Debug, Clone)]
pub struct Decided {
    /// The decision as recorded.
    pub decision: DecisionRow,
    /// The offer's places left after it.
    pub remaining: u32,
    /// True when the `Idempotency-Key` was seen before: `decision` is the earlier one and
    /// nothing was written now.
    pub replayed: bool,
}

/// A new decision.
#[derive(Debug, Clone)]
pub struct NewDecision {
    /// Tenant.
    pub municipality: u16,
    /// Candidate id.
    pub candidate_id: String,
    /// Offer id.
    pub offer_id: String,
    /// Accept reserves a place.
    pub accept: bool,
    /// Why.
    pub reason: String,
    /// Who.
    pub decided_by: String,
    /// The decider's role.
    pub role: String,
    /// What was suggested.
    pub suggested: Vec<String>,
    /// The client's `Idempotency-Key`: a retry with the same key gets the decision already
    /// recorded instead of a second one.
    pub key: Option<String>,
}

impl Store {
    /// Records a decision. An accept takes one place in the same transaction: the place is
    /// taken only if one is left (`reserved < capacity`), so concurrent accepts never
    /// overbook.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown candidate (of this tenant) or offer;
    /// [`StoreError::Conflict`] when no place is left or the offer is retired.
    pub fn decide(&self, d: &NewDecision) -> Result<Decided> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(key) = &d.key {
                let earlier: Option<DecisionRow> = tx
                    .query_row(
                        &format!(
                            "SELECT {DECISION_COLUMNS} FROM decisions WHERE municipality = ?1 AND id =
                                (SELECT decision_id FROM decision_keys WHERE municipality = ?1 AND key = ?2)"
                        ),
                        params![d.municipality, key],
                        decision_from,
                    )
                    .optional()?;
                if let Some(row) = earlier {
                    let same = row.candidate_id == d.candidate_id
                        && row.offer_id == d.offer_id
                        && (row.action == "accept") == d.accept;
                    if !same {
                        return Err(StoreError::Conflict(format!(
                            "idempotency key already used for decision {}, which is not this one",
                            row.id
                        )));
                    }
                    let (capacity, reserved): (u32, u32) = tx.query_row(
                        "SELECT capacity, reserved FROM offers WHERE id = ?1",
                        [&d.offer_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )?;
                    return Ok(Decided { decision: row, remaining: capacity.saturating_sub(reserved), replayed: true });
                }
            }
            let model: String = tx
                .query_row(
                    "SELECT model FROM candidates WHERE municipality = ?1 AND id = ?2",
                    params![d.municipality, d.candidate_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound("candidate"))?;
            let (capacity, reserved, retired, serves): (u32, u32, bool, Option<String>) = tx
                .query_row(
                    "SELECT capacity, reserved, retired, json_extract(model, '$.serves_municipalities')
                     FROM offers WHERE id = ?1",
                    [&d.offer_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("offer"))?;
            check_serves(&d.offer_id, d.municipality, serves.as_deref())?;
            let mut remaining = capacity.saturating_sub(reserved);
            if d.accept {
                if retired {
                    return Err(StoreError::Conflict(format!("offer {} is retired", d.offer_id)));
                }
                // The guard in the WHERE clause is what prevents overbooking; the read above
                // only gives the message. Both happen under the same write lock anyway.
                let n = tx.execute(
                    "UPDATE offers SET reserved = reserved + 1 WHERE id = ?1 AND retired = 0 AND reserved < capacity",
                    [&d.offer_id],
                )?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!("offer {} has no places left", d.offer_id)));
                }
                remaining -= 1;
            }
            let groups = target_group_codes(&model)?;
            let now = now_rfc3339();
            let suggested = serde_json::to_string(&d.suggested)
                .map_err(|source| StoreError::Json { table: "decisions", source })?;
            // The number is taken under the write lock of this transaction, so two decisions of
            // one tenant cannot get the same one (the unique index would refuse it anyway).
            let (rowid, number): (i64, i64) = tx.query_row(
                "INSERT INTO decisions (municipality, number, candidate_id, offer_id, action, reason, decided_by,
                    role, suggested, target_groups, decided_at)
                 VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM decisions WHERE municipality = ?1),
                    ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id, number",
                params![
                    d.municipality,
                    d.candidate_id,
                    d.offer_id,
                    if d.accept { "accept" } else { "decline" },
                    d.reason,
                    d.decided_by,
                    d.role,
                    suggested,
                    groups,
                    now
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if let Some(key) = &d.key {
                tx.execute(
                    "INSERT INTO decision_keys (municipality, key, decision_id) VALUES (?1, ?2, ?3)",
                    params![d.municipality, key, rowid],
                )?;
            }
            tx.commit()?;
            let row = DecisionRow {
                id: number,
                municipality: format!("{:04}", d.municipality),
                candidate_id: d.candidate_id.clone(),
                offer_id: d.offer_id.clone(),
                action: if d.accept { "accept" } else { "decline" }.into(),
                reason: d.reason.clone(),
                decided_by: d.decided_by.clone(),
                role: d.role.clone(),
                suggested_offer_ids: d.suggested.clone(),
                decided_at: now,
            };
            Ok(Decided { decision: row, remaining, replayed: false })
        })
    }

    /// One page of a tenant's decisions in id order (newest last), optionally for one
    /// candidate: at most `limit` rows with an id above `after`.
    ///
    /// `after` is only a position among the tenant's own numbers: it is never looked up.
    ///
    /// # Errors
    /// On storage failure.
    pub fn decisions(
        &self,
        municipality: u16,
        candidate: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<DecisionPage> {
        self.read(|c| decision_page(c, municipality, candidate, after, limit))
    }

    /// A tenant's decision by its number; another tenant's decision of that number is never
    /// found.
    ///
    /// # Errors
    /// On storage failure.
    pub fn decision(&self, municipality: u16, id: i64) -> Result<Option<DecisionRow>> {
        self.read(|c| decision_row(c, municipality, id))
    }
}

/// The `target_groups` of a stored candidate record, `;`-separated. Read from the record
/// JSON (its documented column) so the decision keeps the codes, not reference indices.
fn target_group_codes(model: &str) -> Result<String> {
    #[derive(serde::Deserialize)]
    struct Groups {
        group_codes: Vec<String>,
    }
    let g: Groups =
        serde_json::from_str(model).map_err(|source| StoreError::Json { table: "candidates", source })?;
    Ok(g.group_codes.join(";"))
}

/// `number` first: it is the id a tenant sees.
const DECISION_COLUMNS: &str =
    "number, municipality, candidate_id, offer_id, action, reason, decided_by, role, suggested, decided_at";

fn decision_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<DecisionRow> {
    let m: u16 = r.get(1)?;
    let suggested: String = r.get(8)?;
    Ok(DecisionRow {
        id: r.get(0)?,
        municipality: format!("{m:04}"),
        candidate_id: r.get(2)?,
        offer_id: r.get(3)?,
        action: r.get(4)?,
        reason: r.get(5)?,
        decided_by: r.get(6)?,
        role: r.get(7)?,
        suggested_offer_ids: serde_json::from_str(&suggested).unwrap_or_default(),
        decided_at: r.get(9)?,
    })
}

/// One of a tenant's decisions by its number.
fn decision_row(c: &Connection, municipality: u16, number: i64) -> Result<Option<DecisionRow>> {
    let sql = format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE municipality = ?1 AND number = ?2");
    Ok(c.query_row(&sql, params![municipality, number], decision_from).optional()?)
}

/// Keyset paging: one row more than asked tells whether a next page exists, so the last page
/// never points at an empty one. Each filter has its own statement so that SQLite ranges over
/// the matching index, (municipality, candidate_id, number) or (municipality, number), from
/// `after`.
fn decision_page(
    c: &Connection,
    municipality: u16,
    candidate: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<DecisionPage> {
    let asked = i64::from(limit) + 1;
    let mut rows = match candidate {
        Some(candidate) => {
            let sql = format!(
                "SELECT {DECISION_COLUMNS} FROM decisions
                 WHERE municipality = ?1 AND candidate_id = ?2 AND number > ?3 ORDER BY number LIMIT ?4"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![municipality, candidate, after, asked], decision_from)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        }
        None => {
            let sql = format!(
                "SELECT {DECISION_COLUMNS} FROM decisions
                 WHERE municipality = ?1 AND number > ?2 ORDER BY number LIMIT ?3"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![municipality, after, asked], decision_from)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        }
    };
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(DecisionPage { decisions: rows, next })
}

/// An offer restricted to some municipalities (`serves_municipalities` not empty) takes
/// decisions only from them, as the scorer only suggests it to them (issue 15, item 4).
fn check_serves(offer: &str, municipality: u16, serves: Option<&str>) -> Result<()> {
    let list: Vec<u16> = match serves {
        None => Vec::new(),
        Some(json) => {
            serde_json::from_str(json).map_err(|source| StoreError::Json { table: "offers", source })?
        }
    };
    if list.is_empty() || list.contains(&municipality) {
        return Ok(());
    }
    Err(StoreError::NotServed(format!("offer {offer} does not serve municipality {municipality:04}")))
}
