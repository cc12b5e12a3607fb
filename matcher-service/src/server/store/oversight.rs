//! The rows behind the oversight figures: each decision (accept or decline) of a tenant in a
//! period, with the suggestion list its candidate was last shown before it (from the
//! suggestion log). Reads only; the figures themselves are `server::oversight`'s.

use super::{Result, Store};
use rusqlite::params;

/// One decision with what was shown before it.
#[derive(Debug, Clone)]
pub struct DecisionShown {
    /// The decision's number.
    pub number: i64,
    /// Who decided.
    pub decided_by: String,
    /// The decider's employer (rows from before it was stored: "municipality NNNN").
    pub employer: String,
    /// `accept` or `decline`.
    pub action: String,
    /// The offer accepted or declined.
    pub offer_id: String,
    /// The reason given.
    pub reason: String,
    /// When (`YYYY-MM-DDTHH:MM:SSZ`).
    pub decided_at: String,
    /// The offers the client said were suggested, in order (used when the log has no list).
    pub suggested_by_client: Vec<String>,
    /// The last suggestion list served (`POST /v1/suggestions`) for the candidate at or
    /// before the decision's second: when, and its offers in order.
    pub shown: Option<(String, Vec<String>)>,
}

impl Store {
    /// The tenant's accepts and declines decided on days `from` to `to` (inclusive,
    /// `YYYY-MM-DD`), in decision order, each with the list shown before it.
    ///
    /// # Errors
    /// On storage failure or an unreadable stored row.
    pub fn decisions_shown(&self, municipality: u16, from: &str, to: &str) -> Result<Vec<DecisionShown>> {
        self.read(|c| {
            // The decision's time has seconds, the log's milliseconds: a list shown within
            // the decision's second counts as before it.
            let mut stmt = c.prepare_cached(
                "WITH d AS (
                    SELECT d.*, (SELECT s.id FROM suggestion_log s
                        WHERE s.municipality = d.municipality AND s.candidate_id = d.candidate_id
                          AND s.source = 'api' AND substr(s.shown_at, 1, 19) <= substr(d.decided_at, 1, 19)
                        ORDER BY s.number DESC LIMIT 1) AS shown_id
                    FROM decisions d
                    WHERE d.municipality = ?1 AND d.action IN ('accept', 'decline')
                      AND substr(d.decided_at, 1, 10) BETWEEN ?2 AND ?3)
                 SELECT d.number, d.decided_by, d.employer, d.action, d.offer_id, d.reason, d.decided_at,
                        d.suggested, s.shown_at, s.offer_ids, s.answer
                 FROM d LEFT JOIN suggestion_log s ON s.id = d.shown_id
                 ORDER BY d.number",
            )?;
            let mut rows = stmt.query(params![municipality, from, to])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let suggested: String = r.get(7)?;
                let suggested_by_client = serde_json::from_str(&suggested)
                    .map_err(|source| super::StoreError::Json { table: "decisions", source })?;
                let shown_at: Option<String> = r.get(8)?;
                let shown = match shown_at {
                    None => None,
                    Some(at) => {
                        let ids: Option<String> = r.get(9)?;
                        let ids = match ids {
                            Some(ids) => {
                                ids.split(' ').filter(|s| !s.is_empty()).map(str::to_string).collect()
                            }
                            // Rows from before `offer_ids`: read the answer.
                            None => offers_in_answer(&super::suggestion_log::stored_answer(r.get_ref(10)?)?),
                        };
                        Some((at, ids))
                    }
                };
                out.push(DecisionShown {
                    number: r.get(0)?,
                    decided_by: r.get(1)?,
                    employer: r
                        .get::<_, Option<String>>(2)?
                        .unwrap_or_else(|| format!("municipality {municipality:04}")),
                    action: r.get(3)?,
                    offer_id: r.get(4)?,
                    reason: r.get(5)?,
                    decided_at: r.get(6)?,
                    suggested_by_client,
                    shown,
                });
            }
            Ok(out)
        })
    }
}

/// The offers of a logged suggestions answer, in order.
fn offers_in_answer(answer: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        suggestions: Vec<Shown>,
    }
    #[derive(serde::Deserialize)]
    struct Shown {
        offer_id: String,
    }
    serde_json::from_str::<Answer>(answer)
        .map(|a| a.suggestions.into_iter().map(|s| s.offer_id).collect())
        .unwrap_or_default()
}
