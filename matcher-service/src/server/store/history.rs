//! The episode history (`episodes`): one row per accepted decision, with the candidate's case
//! mix on the day of the decision, and one row per no-offer record (the comparison group: a
//! candidate who left benefit, or is still on it at the follow-up, without an accepted offer).
//! Joined with the outcomes, these are the rows of the core's `outcomes` table
//! (`matcher_core::dataset::outcomes`).
//!
//! Owns the `episodes` table and the episode rows' meaning; it estimates nothing (the core
//! does) and knows nothing of HTTP. Rows are append-only (triggers): a later edit of the
//! candidate never rewrites the case mix an episode started with.

use super::{Result, Store, StoreError, now_rfc3339};
use matcher_core::model::{Date, FOLLOW_UP_WEEKS};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The case mix of a candidate on one day, as an episode keeps it (codes, not indices).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseMixAtStart {
    /// Target-group codes.
    pub target_groups: Vec<String>,
    /// Age band label (`18-24`, …).
    pub age_band: String,
    /// Benefit-kind code.
    pub benefit_kind: String,
    /// Weeks on benefit on the episode's first day.
    pub weeks_on_benefit: f64,
}

/// Reads the case mix of a stored candidate (`candidates.model`) on `day`; `kind_codes` are
/// the reference's benefit-kind codes by index.
pub(super) fn case_mix(model: &str, day: Date, kind_codes: &[String]) -> Result<CaseMixAtStart> {
    let stored: crate::server::catalogue::StoredCandidate =
        serde_json::from_str(model).map_err(|source| StoreError::Json { table: "candidates", source })?;
    let c = &stored.candidate;
    let benefit_kind = kind_codes.get(usize::from(c.benefit.kind)).cloned().unwrap_or_default();
    Ok(CaseMixAtStart {
        target_groups: stored.group_codes,
        age_band: c.age_band.label().to_string(),
        benefit_kind,
        weeks_on_benefit: weeks_between(c.benefit.start, day).max(0.0),
    })
}

/// Whole and fractional weeks from `from` to `to` (negative when `to` is earlier), rounded to
/// tenths so that exported files read cleanly.
pub fn weeks_between(from: Date, to: Date) -> f64 {
    (f64::from(from.days_until(to)) / 7.0 * 10.0).round() / 10.0
}

/// Starts the episode of an accept inside the decision's transaction: on the day of the
/// decision, with the case mix of that day (from the candidate's stored model).
pub(super) fn start_offer_episode(
    tx: &Connection,
    decision_rowid: i64,
    d: &super::NewDecision,
    mix: &CaseMixAtStart,
) -> Result<()> {
    tx.execute(
        concat!("INSERT INTO episodes (municipality, number, candidate_id, decision_id, offer_id, target_groups, age_band,
            benefit_kind, weeks_on_benefit, started, recorded_by, recorded_at)
         VALUES (?1, ", next_number!("episodes"), ",
            ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
        params![
            d.municipality,
            d.candidate_id,
            decision_rowid,
            d.offer_id,
            mix.target_groups.join(";"),
            mix.age_band,
            mix.benefit_kind,
            mix.weeks_on_benefit,
            d.today,
            d.decided_by,
            now_rfc3339()
        ],
    )?;
    Ok(())
}

/// What happened to a candidate without an accepted offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitResult {
    /// Left benefit for work.
    InWork,
    /// Left benefit for education.
    InEducation,
    /// Back at their own job (sickness benefit).
    BackAtWork,
    /// Left benefit for another reason (moved, another benefit, …): not a success.
    LeftOther,
    /// Still on benefit at the end of the follow-up.
    StillOnBenefit,
}

impl ExitResult {
    /// As stored and shown.
    pub fn label(self) -> &'static str {
        match self {
            ExitResult::InWork => "in_work",
            ExitResult::InEducation => "in_education",
            ExitResult::BackAtWork => "back_at_work",
            ExitResult::LeftOther => "left_other",
            ExitResult::StillOnBenefit => "still_on_benefit",
        }
    }

    /// Left benefit for work or education: a success of the episode.
    pub fn success(self) -> bool {
        matches!(self, ExitResult::InWork | ExitResult::InEducation | ExitResult::BackAtWork)
    }
}

/// A no-offer record, checked by the handler for shape; the store checks it against the
/// candidate (benefit start, open accepts).
#[derive(Debug, Clone)]
pub struct NewExit {
    /// Tenant.
    pub municipality: u16,
    /// Candidate id.
    pub candidate_id: String,
    /// What happened.
    pub result: ExitResult,
    /// First day of the episode observed.
    pub started: Date,
    /// Weeks from `started` until off benefit; `None` for [`ExitResult::StillOnBenefit`].
    pub weeks_to_exit: Option<f64>,
    /// Who recorded it.
    pub recorded_by: String,
    /// The client's `Idempotency-Key`.
    pub key: Option<String>,
    /// The reference's benefit-kind codes by index (to keep codes, not indices).
    pub kind_codes: Vec<String>,
}

/// One episode of the history, as exported (the `outcomes` table's columns, plus the paging
/// key and the recorded result).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// The tenant's number for the episode (the paging key).
    pub number: i64,
    /// Municipality.
    pub municipality: u16,
    /// Target-group codes at the start.
    pub target_groups: Vec<String>,
    /// Age band label at the start.
    pub age_band: String,
    /// Benefit-kind code at the start.
    pub benefit_kind: String,
    /// Weeks on benefit at the start.
    pub weeks_on_benefit: f64,
    /// The offer taken; `None`: no offer.
    pub offer_id: Option<String>,
    /// First day (the day of the decision, for an offer).
    pub started: String,
    /// Left benefit for work or education within the follow-up.
    pub success: bool,
    /// Weeks from the start until off benefit; `None` when not within the follow-up.
    pub weeks_to_exit: Option<f64>,
    /// What was recorded: an outcome's result, or a no-offer record's.
    pub result: String,
}

impl HistoryRow {
    /// The episode id of the exported table: unique across tenants, never CPR-like.
    pub fn episode_id(&self) -> String {
        format!("e{:04}-{}", self.municipality, self.number)
    }
}

/// A recorded no-offer episode and whether it was a replay of an earlier request.
#[derive(Debug, Clone)]
pub struct RecordedExit {
    /// The episode.
    pub episode: HistoryRow,
    /// True when the idempotency key was seen before: nothing was written now.
    pub replayed: bool,
}

/// Finished episodes only: no-offer records, and accepts with an outcome that were not
/// withdrawn or corrected. `?1` municipality (NULL: all), `?2` after, `?3` limit.
const HISTORY_SQL: &str = "SELECT e.number, e.municipality, e.target_groups, e.age_band, e.benefit_kind,
        e.weeks_on_benefit, e.offer_id, e.started, e.result, e.weeks_to_exit,
        o.result, COALESCE(o.exited_on, substr(o.recorded_at, 1, 10))
     FROM episodes e LEFT JOIN outcomes o ON o.decision_id = e.decision_id
     WHERE (?1 IS NULL OR e.municipality = ?1) AND e.number > ?2
       AND (e.decision_id IS NULL
            OR (o.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM decisions x WHERE x.corrects = e.decision_id)))
     ORDER BY e.municipality, e.number LIMIT ?3";

fn history_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRow> {
    let groups: String = r.get(2)?;
    let offer_id: Option<String> = r.get(6)?;
    let started: String = r.get(7)?;
    let own_result: Option<String> = r.get(8)?;
    let own_weeks: Option<f64> = r.get(9)?;
    let outcome: Option<String> = r.get(10)?;
    let exited_on: Option<String> = r.get(11)?;
    let (result, success, weeks_to_exit) = match (&offer_id, outcome) {
        (Some(_), Some(outcome)) => {
            let left = crate::server::store::outcomes::outcome_success(&outcome);
            // The outcome's day against the episode's start: an exit after the follow-up is
            // not a success of the episode (the evidence counted it as the caseworker said).
            let weeks = match (Date::parse(&started), exited_on.as_deref().and_then(Date::parse)) {
                (Some(s), Some(x)) => Some(weeks_between(s, x).max(0.0)),
                _ => None,
            };
            let within = weeks.filter(|w| *w <= f64::from(FOLLOW_UP_WEEKS));
            let success = left && within.is_some();
            (outcome, success, if left { within } else { None })
        }
        (Some(_), None) => ("open".to_string(), false, None),
        (None, _) => {
            let result = own_result.unwrap_or_default();
            let success = matches!(result.as_str(), "in_work" | "in_education" | "back_at_work");
            (result, success, own_weeks)
        }
    };
    Ok(HistoryRow {
        number: r.get(0)?,
        municipality: r.get(1)?,
        target_groups: groups.split(';').filter(|g| !g.is_empty()).map(str::to_string).collect(),
        age_band: r.get(3)?,
        benefit_kind: r.get(4)?,
        weeks_on_benefit: r.get(5)?,
        offer_id,
        started,
        success,
        weeks_to_exit,
        result,
    })
}

fn number_row(c: &Connection, municipality: u16, number: i64) -> Result<Option<HistoryRow>> {
    Ok(c.query_row(
        &HISTORY_SQL.replace("e.number > ?2", "e.number = ?2"),
        params![municipality, number, 1],
        history_row,
    )
    .optional()?)
}

impl Store {
    /// Records that a candidate left benefit, or is still on it at the follow-up, without an
    /// accepted offer: an episode of the comparison group, with the candidate's case mix on
    /// `started` (target groups, age band and benefit kind as stored now; weeks on benefit
    /// counted from the benefit's start to `started`).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown candidate or another tenant's;
    /// [`StoreError::Invalid`] when `started` is before the candidate's benefit began;
    /// [`StoreError::Conflict`] when the candidate has an accepted offer without an outcome
    /// (record that outcome instead), or the idempotency key was used for another record.
    pub fn record_exit(&self, x: &NewExit) -> Result<RecordedExit> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(key) = &x.key {
                let found: Option<(i64, String, String)> = tx
                    .query_row(
                        "SELECT number, candidate_id, COALESCE(result, '') FROM episodes WHERE municipality = ?1 AND key = ?2",
                        params![x.municipality, key],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                if let Some((number, candidate, result)) = found {
                    if candidate != x.candidate_id || result != x.result.label() {
                        return Err(StoreError::Conflict(format!(
                            "idempotency key already used for episode {number}, which is not this one"
                        )));
                    }
                    let episode =
                        number_row(&tx, x.municipality, number)?.ok_or(StoreError::NotFound("episode"))?;
                    return Ok(RecordedExit { episode, replayed: true });
                }
            }
            let model: String = tx
                .query_row(
                    "SELECT model FROM candidates WHERE municipality = ?1 AND id = ?2",
                    params![x.municipality, x.candidate_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound("candidate"))?;
            let mix = case_mix(&model, x.started, &x.kind_codes)?;
            let stored: crate::server::catalogue::StoredCandidate =
                serde_json::from_str(&model).map_err(|source| StoreError::Json { table: "candidates", source })?;
            if x.started < stored.candidate.benefit.start {
                return Err(StoreError::Invalid {
                    path: "/started",
                    value: x.started.to_string(),
                    reason: format!(
                        "before the candidate's benefit started ({}); an episode starts on benefit",
                        stored.candidate.benefit.start
                    ),
                });
            }
            // An accept without an outcome is an open episode of that offer: the candidate is
            // not in the comparison group while it lasts.
            let open: Option<i64> = tx
                .query_row(
                    "SELECT d.number FROM decisions d
                     WHERE d.municipality = ?1 AND d.candidate_id = ?2 AND d.action = 'accept'
                       AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.decision_id = d.id)
                       AND NOT EXISTS (SELECT 1 FROM outcomes_past p WHERE p.decision_id = d.id)
                       AND NOT EXISTS (SELECT 1 FROM decisions x WHERE x.corrects = d.id)
                     ORDER BY d.number LIMIT 1",
                    params![x.municipality, x.candidate_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(decision) = open {
                return Err(StoreError::Conflict(format!(
                    "the candidate has an accepted offer without an outcome (decision {decision}); record its outcome with POST /v1/outcomes, or withdraw it, instead of a no-offer record"
                )));
            }
            let number: i64 = tx.query_row(
                concat!("INSERT INTO episodes (municipality, number, candidate_id, target_groups, age_band, benefit_kind,
                    weeks_on_benefit, started, result, weeks_to_exit, recorded_by, recorded_at, key)
                 VALUES (?1, ", next_number!("episodes"), ",
                    ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING number"),
                params![
                    x.municipality,
                    x.candidate_id,
                    mix.target_groups.join(";"),
                    mix.age_band,
                    mix.benefit_kind,
                    mix.weeks_on_benefit,
                    x.started.to_string(),
                    x.result.label(),
                    x.weeks_to_exit,
                    x.recorded_by,
                    now_rfc3339(),
                    x.key
                ],
                |r| r.get(0),
            )?;
            let episode = number_row(&tx, x.municipality, number)?.ok_or(StoreError::NotFound("episode"))?;
            tx.commit()?;
            Ok(RecordedExit { episode, replayed: false })
        })
    }

    /// Every episode that names a tenant's candidate, finished or not (an accept without an
    /// outcome has `result` `open`), for the citizen's access export and the erasure's account.
    ///
    /// # Errors
    /// On storage failure.
    pub fn candidate_episodes(&self, municipality: u16, candidate_id: &str) -> Result<Vec<HistoryRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT e.number, e.municipality, e.target_groups, e.age_band, e.benefit_kind,
                    e.weeks_on_benefit, e.offer_id, e.started, e.result, e.weeks_to_exit,
                    o.result, COALESCE(o.exited_on, substr(o.recorded_at, 1, 10))
                 FROM episodes e LEFT JOIN outcomes o ON o.decision_id = e.decision_id
                 WHERE e.municipality = ?1 AND e.candidate_id = ?2 ORDER BY e.number",
            )?;
            let rows = stmt
                .query_map(params![municipality, candidate_id], history_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// A page of the finished episodes of one municipality (`None`: every municipality, for
    /// the catalogue's estimates), in number order after `after`.
    ///
    /// # Errors
    /// On storage failure.
    pub fn history(&self, municipality: Option<u16>, after: i64, limit: u32) -> Result<Vec<HistoryRow>> {
        self.read(|c| history_in(c, municipality, after, limit))
    }
}

/// [`Store::history`] on a connection the caller holds (inside its snapshot).
pub(super) fn history_in(
    c: &Connection,
    municipality: Option<u16>,
    after: i64,
    limit: u32,
) -> Result<Vec<HistoryRow>> {
    let mut stmt = c.prepare_cached(HISTORY_SQL)?;
    let rows = stmt
        .query_map(params![municipality, after, limit], history_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
