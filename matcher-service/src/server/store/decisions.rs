//! Decisions (append-only) with their idempotency keys, the places they take and the live
//! state they make (`super::super::ledger`): withdrawals and corrections, places released.

use super::{Result, Store, StoreError, now_rfc3339};
use crate::server::ledger;
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
    /// Who decided (the token's user, or the person a verified identity-provider token names).
    pub decided_by: String,
    /// The decider's employer, as the verified identity said when deciding (rows from before
    /// schema version 2 did not store it and show the municipality, as they did then).
    pub employer: String,
    /// The decider's role.
    pub role: String,
    /// The offers that were suggested, in the order shown.
    pub suggested_offer_ids: Vec<String>,
    /// When (UTC, RFC 3339).
    pub decided_at: String,
    /// The decision this one withdraws (a `withdrawal`) or corrects (an accept or decline
    /// recorded as its correction), by id; `null` otherwise.
    pub corrects: Option<i64>,
    /// The later decision that withdrew or corrected this one, by id; `null` while it stands.
    pub corrected_by: Option<i64>,
    /// An accept: the course's first day.
    pub starts_on: Option<String>,
    /// An accept: the course's last day (the place comes back after it).
    pub ends_on: Option<String>,
    /// A decline: the last day the offer stays out of the candidate's suggestions.
    pub excluded_until: Option<String>,
    /// Where the decision stands today: an accept `reserved` (course not started),
    /// `running`, `ended` (course over, outcome recorded or candidate deleted) or `withdrawn`;
    /// a decline `in_force`, `expired` or `withdrawn`; a withdrawal `withdrawal`.
    pub status: String,
    /// Why an accept's place came back (`course_ended`, `outcome`, `withdrawn`,
    /// `candidate_deleted`); `null` while it holds its place.
    pub released_why: Option<String>,
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

/// A finished batch run as stored, for comparing the next run with it.
#[derive(Debug, Clone)]
pub struct StoredRun {
    /// The run's proposals (JSON array of `ProposalRecord`).
    pub proposals: String,
    /// The run's offer prices (JSON object by offer id).
    pub prices: String,
    /// The fingerprints the run saw (JSON; none for runs before live state).
    pub fingerprints: Option<String>,
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
    /// Places that came back with it (a correction moves the earlier decision's place).
    pub released: Released,
}

/// The outcome of [`Store::withdraw`].
#[derive(Debug, Clone)]
pub struct Withdrawn {
    /// The withdrawal as recorded.
    pub decision: DecisionRow,
    /// True when the `Idempotency-Key` was seen before: nothing was written now.
    pub replayed: bool,
    /// Places that came back with it.
    pub released: Released,
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
    /// The decider's employer.
    pub employer: String,
    /// The decider's role.
    pub role: String,
    /// What was suggested.
    pub suggested: Vec<String>,
    /// The client's `Idempotency-Key`: a retry with the same key gets the decision already
    /// recorded instead of a second one.
    pub key: Option<String>,
    /// The day of the decision (`YYYY-MM-DD`, UTC): courses and declines count from it.
    pub today: String,
    /// An accept: the course's first day; `None` starts it today.
    pub starts_on: Option<String>,
    /// A decline keeps the offer out for this many days (the policy's `decisions.decline_days`).
    pub decline_days: u32,
    /// This decision corrects an earlier one (by id): that one is withdrawn in the same
    /// transaction, and its place released (or moved, for an accept).
    pub corrects: Option<i64>,
    /// The reference's benefit-kind codes by index: an accept's episode keeps the code.
    pub kind_codes: Vec<String>,
}

/// A withdrawal of an earlier decision.
#[derive(Debug, Clone)]
pub struct NewWithdrawal {
    /// Tenant.
    pub municipality: u16,
    /// The decision withdrawn, by id.
    pub decision: i64,
    /// Why.
    pub reason: String,
    /// Who.
    pub decided_by: String,
    /// The withdrawer's employer (from the verified identity).
    pub employer: String,
    /// The withdrawer's role.
    pub role: String,
    /// The client's `Idempotency-Key`.
    pub key: Option<String>,
    /// The day (`YYYY-MM-DD`, UTC).
    pub today: String,
}

/// What a write released, so that the catalogue's counters follow the ledger.
/// What the night shares out ([`Store::night_places`]).
#[derive(Debug, Clone)]
pub struct NightPlaces {
    /// Places taken today (reserved or running), by offer id, over every tenant.
    pub taken: std::collections::HashMap<String, u32>,
    /// Courses under way that only candidates' records claim, by offer id.
    pub recorded: std::collections::HashMap<String, u32>,
    /// Every municipality with candidates in the service, sorted.
    pub tenants: Vec<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    /// One entry per place that came back, by offer id.
    pub offers: Vec<String>,
    /// A withdrawn or corrected accept's outcome was taken back out of its offer's evidence,
    /// so the scorer's estimates must be refreshed.
    pub evidence: bool,
}

impl Store {
    /// Records a decision, and what it does, in one transaction:
    ///
    /// - an accept takes one place (only if one is left: the ledger's places held plus the
    ///   courses under way that only other candidates' records claim, `ledger::recorded_locks_on`,
    ///   below the capacity, checked in the transaction, so concurrent accepts never overbook)
    ///   for the course from `starts_on` for the offer's
    ///   `duration_weeks`, and is refused while the candidate holds another place
    ///   ([`StoreError::Running`] names it);
    /// - a decline keeps the offer out of the candidate's suggestions for `decline_days`;
    /// - with `corrects`, the earlier decision is withdrawn in the same transaction (its place
    ///   released, or moved to this accept).
    ///
    /// Courses that ended before `today` give their places back first. Returns the decision,
    /// the offer's remaining places, whether it was a replay of an earlier request with the same
    /// idempotency key, and the places released.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown candidate (of this tenant), offer or corrected
    /// decision; [`StoreError::Conflict`] when no place is left, the offer is retired, or the
    /// corrected decision no longer stands; [`StoreError::Running`] as above.
    pub fn decide(&self, d: &NewDecision) -> Result<Decided> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(key) = &d.key
                && let Some(row) = keyed_decision(&tx, d.municipality, key, &d.today)?
            {
                // A retry sends the same request; a course start or a correction that differs
                // is another decision under a reused key. A retry without `starts_on` matches
                // the day the first one defaulted to.
                let same = row.candidate_id == d.candidate_id
                    && row.offer_id == d.offer_id
                    && (row.action == "accept") == d.accept
                    && row.action != "withdrawal"
                    && row.corrects == d.corrects
                    && d.starts_on.as_deref().is_none_or(|s| row.starts_on.as_deref() == Some(s));
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
                let locks = ledger::recorded_locks_on(&tx, &d.offer_id, &d.today, None)?;
                return Ok(Decided {
                    decision: row,
                    remaining: capacity.saturating_sub(reserved.saturating_add(locks)),
                    replayed: true,
                    released: Released::default(),
                });
            }
            let now = now_rfc3339();
            let mut released = Released { offers: ended_offers(&tx, &d.today)?, evidence: false };
            crate::server::ledger::sweep_ended(&tx, &d.today, &now)?;
            let model: String = tx
                .query_row(
                    "SELECT model FROM candidates WHERE municipality = ?1 AND id = ?2",
                    params![d.municipality, d.candidate_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound("candidate"))?;
            let (capacity, reserved, retired, offer_model, serves): (u32, u32, bool, String, Option<String>) = tx
                .query_row(
                    "SELECT capacity, reserved, retired, model, json_extract(model, '$.serves_municipalities')
                     FROM offers WHERE id = ?1",
                    [&d.offer_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("offer"))?;
            check_serves(&d.offer_id, d.municipality, serves.as_deref())?;
            // A correction withdraws the earlier decision first, so that its place is free for
            // this one (an accept corrected to another offer moves the place).
            let corrects = match d.corrects {
                Some(number) => {
                    let target = standing_decision(&tx, d.municipality, number)?;
                    if target.candidate_id != d.candidate_id {
                        return Err(StoreError::Conflict(format!(
                            "decision {number} is about another candidate; a correction must be about the same one"
                        )));
                    }
                    if crate::server::ledger::release(&tx, target.rowid, crate::server::ledger::Release::Withdrawn, &now)? {
                        released.offers.push(target.offer_id.clone());
                    }
                    released.evidence = super::outcomes::take_back_evidence(&tx, target.rowid)?;
                    Some(target.rowid)
                }
                None => None,
            };
            let mut remaining = capacity.saturating_sub(reserved);
            if !d.accept {
                let locks = ledger::recorded_locks_on(&tx, &d.offer_id, &d.today, None)?;
                remaining = remaining.saturating_sub(locks);
            }
            let (mut starts_on, mut ends_on, mut excluded_until) = (None, None, None);
            if d.accept {
                if retired {
                    return Err(StoreError::Conflict(format!("offer {} is retired", d.offer_id)));
                }
                if let Some(running) = crate::server::ledger::running_place(&tx, d.municipality, &d.candidate_id)? {
                    return Err(StoreError::Running(running));
                }
                // Courses under way that only other candidates' records claim (any tenant's:
                // places are shared) take places as the ledger's do. The candidate's own record
                // lock is left out: this accept turns it into its ledger place. Counted in this
                // immediate transaction, so no write can come between the count and the guard.
                let locks = ledger::recorded_locks_on(
                    &tx,
                    &d.offer_id,
                    &d.today,
                    Some((d.municipality, d.candidate_id.as_str())),
                )?;
                // The guard in the WHERE clause is what prevents overbooking; the read above
                // only gives the message. Both happen under the same write lock anyway.
                let n = tx.execute(
                    "UPDATE offers SET reserved = reserved + 1
                     WHERE id = ?1 AND retired = 0 AND reserved + ?2 < capacity",
                    params![d.offer_id, locks],
                )?;
                if n == 0 {
                    return Err(StoreError::Conflict(no_places_left(&d.offer_id, capacity, locks)));
                }
                // A place that came back in this transaction (a corrected accept on the same
                // offer) is counted in `reserved` again here.
                let reserved: u32 =
                    tx.query_row("SELECT reserved FROM offers WHERE id = ?1", [&d.offer_id], |r| r.get(0))?;
                remaining = capacity.saturating_sub(reserved.saturating_add(locks));
                let start = d.starts_on.clone().unwrap_or_else(|| d.today.clone());
                let weeks = crate::server::ledger::duration_weeks(&offer_model);
                ends_on = Some(crate::server::ledger::course_end(&start, weeks).ok_or_else(|| {
                    StoreError::Conflict(format!("starts_on {start} is not a date as YYYY-MM-DD"))
                })?);
                starts_on = Some(start);
            } else {
                excluded_until = matcher_core::model::Date::parse(&d.today)
                    .map(|day| day.plus_days(i32::try_from(d.decline_days).unwrap_or(i32::MAX).saturating_sub(1)).to_string());
            }
            let groups = target_group_codes(&model)?;
            let suggested = serde_json::to_string(&d.suggested)
                .map_err(|source| StoreError::Json { table: "decisions", source })?;
            // The number is taken under the write lock of this transaction, so two decisions of
            // one tenant cannot get the same one (the unique index would refuse it anyway).
            let (rowid, number): (i64, i64) = tx.query_row(
                concat!("INSERT INTO decisions (municipality, number, candidate_id, offer_id, action, reason, decided_by,
                    role, suggested, target_groups, decided_at, corrects, starts_on, ends_on, excluded_until, employer)
                 VALUES (?1, ", next_number!("decisions"), ",
                    ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING id, number"),
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
                    now,
                    corrects,
                    starts_on,
                    ends_on,
                    excluded_until,
                    d.employer
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if d.accept
                && let (Some(start), Some(end)) = (&starts_on, &ends_on)
            {
                crate::server::ledger::hold(&tx, rowid, d.municipality, &d.candidate_id, &d.offer_id, start, end)?;
                // The episode starts on the day of the decision, with the case mix of that day.
                let day = matcher_core::model::Date::parse(&d.today).ok_or_else(|| {
                    StoreError::Conflict(format!("today {} is not a date as YYYY-MM-DD", d.today))
                })?;
                let mix = super::history::case_mix(&model, day, &d.kind_codes)?;
                super::history::start_offer_episode(&tx, rowid, d, &mix)?;
            }
            if let Some(key) = &d.key {
                tx.execute(
                    "INSERT INTO decision_keys (municipality, key, decision_id) VALUES (?1, ?2, ?3)",
                    params![d.municipality, key, rowid],
                )?;
            }
            let row = decision_row(&tx, d.municipality, number, &d.today)?.ok_or(StoreError::NotFound("decision"))?;
            tx.commit()?;
            Ok(Decided { decision: row, remaining, replayed: false, released })
        })
    }

    /// Withdraws a decision: records a `withdrawal` that names it (decisions stay
    /// append-only) and, for an accept, releases its place, in one transaction. A withdrawn
    /// decline no longer keeps its offer out.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown decision or another tenant's;
    /// [`StoreError::Conflict`] for a withdrawal, or a decision already withdrawn or corrected.
    pub fn withdraw(&self, w: &NewWithdrawal) -> Result<Withdrawn> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(key) = &w.key
                && let Some(row) = keyed_decision(&tx, w.municipality, key, &w.today)?
            {
                let target = tx
                    .query_row("SELECT number FROM decisions WHERE id = (SELECT corrects FROM decisions WHERE municipality = ?1 AND number = ?2)",
                        params![w.municipality, row.id], |r| r.get::<_, i64>(0))
                    .optional()?;
                if row.action != "withdrawal" || target != Some(w.decision) {
                    return Err(StoreError::Conflict(format!(
                        "idempotency key already used for decision {}, which is not this one",
                        row.id
                    )));
                }
                return Ok(Withdrawn { decision: row, replayed: true, released: Released::default() });
            }
            let now = now_rfc3339();
            let mut released = Released { offers: ended_offers(&tx, &w.today)?, evidence: false };
            crate::server::ledger::sweep_ended(&tx, &w.today, &now)?;
            let target = standing_decision(&tx, w.municipality, w.decision)?;
            if crate::server::ledger::release(&tx, target.rowid, crate::server::ledger::Release::Withdrawn, &now)? {
                released.offers.push(target.offer_id.clone());
            }
            released.evidence = super::outcomes::take_back_evidence(&tx, target.rowid)?;
            let (rowid, number): (i64, i64) = tx.query_row(
                concat!("INSERT INTO decisions (municipality, number, candidate_id, offer_id, action, reason, decided_by,
                    role, suggested, target_groups, decided_at, corrects, employer)
                 SELECT municipality, ", next_number!("decisions"), ",
                    candidate_id, offer_id, 'withdrawal', ?2, ?3, ?4, '[]', target_groups, ?5, id, ?7
                 FROM decisions WHERE id = ?6 RETURNING id, number"),
                params![w.municipality, w.reason, w.decided_by, w.role, now, target.rowid, w.employer],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if let Some(key) = &w.key {
                tx.execute(
                    "INSERT INTO decision_keys (municipality, key, decision_id) VALUES (?1, ?2, ?3)",
                    params![w.municipality, key, rowid],
                )?;
            }
            let row = decision_row(&tx, w.municipality, number, &w.today)?.ok_or(StoreError::NotFound("decision"))?;
            tx.commit()?;
            Ok(Withdrawn { decision: row, replayed: false, released })
        })
    }

    /// The candidate's place that has not come back (a running or reserved course), if any.
    ///
    /// # Errors
    /// On storage failure.
    pub fn running_place(
        &self,
        municipality: u16,
        candidate: &str,
        today: &str,
    ) -> Result<Option<crate::server::ledger::RunningPlace>> {
        self.read(|c| {
            Ok(crate::server::ledger::running_place(c, municipality, candidate)?
                .filter(|p| p.ends_on.as_str() >= today))
        })
    }

    /// Declines in force today of a candidate (or of all the tenant's candidates).
    ///
    /// # Errors
    /// On storage failure.
    pub fn active_declines(
        &self,
        municipality: u16,
        candidate: Option<&str>,
        today: &str,
    ) -> Result<Vec<crate::server::ledger::ActiveDecline>> {
        self.read(|c| crate::server::ledger::active_declines(c, municipality, candidate, today))
    }

    /// The tenant's candidates holding a place today: (candidate id, offer id).
    ///
    /// # Errors
    /// On storage failure.
    pub fn held_places(
        &self,
        municipality: u16,
        today: &str,
    ) -> Result<Vec<crate::server::ledger::HeldPlace>> {
        self.read(|c| crate::server::ledger::held_places(c, municipality, today))
    }

    /// The tenant's latest finished batch run before run `before` (row id): its proposals,
    /// prices and fingerprints (JSON), for comparing a new run with it.
    ///
    /// # Errors
    /// On storage failure.
    pub fn previous_run(&self, municipality: u16, before: i64) -> Result<Option<StoredRun>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT b.proposals, b.prices, f.fingerprints FROM batch_runs b
                 LEFT JOIN batch_fingerprints f ON f.run_id = b.id
                 WHERE b.municipality = ?1 AND b.status = 'finished' AND b.id < ?2 ORDER BY b.id DESC LIMIT 1",
                params![municipality, before],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?, r.get(2)?)),
            )
            .optional()?
            .and_then(|(proposals, prices, fingerprints)| {
                Some(StoredRun { proposals: proposals?, prices: prices?, fingerprints })
            }))
        })
    }

    /// Keeps a run's fingerprints (candidate and offer data as the run saw them), so that the
    /// next run can tell which rows changed.
    ///
    /// # Errors
    /// On storage failure.
    pub fn save_fingerprints(&self, run: i64, fingerprints: &str) -> Result<()> {
        self.write(|c| {
            c.execute(
                "INSERT OR REPLACE INTO batch_fingerprints (run_id, fingerprints) VALUES (?1, ?2)",
                params![run, fingerprints],
            )?;
            Ok(())
        })
    }

    /// What the night shares out, from one snapshot: places taken today per offer over every
    /// tenant (the shared ledger), the courses under way that only candidates' records claim
    /// (`ledger::recorded_locks`), and the tenants. An accept of a candidate whose record
    /// claims the course turns that claim into a place in one transaction; read apart, the
    /// place could be counted neither as taken (read before) nor as claimed (read after),
    /// and the night would share out one place more than is free.
    ///
    /// # Errors
    /// On storage failure.
    pub fn night_places(&self, today: &str) -> Result<NightPlaces> {
        self.read_snapshot(|c| {
            // Every municipality with candidates in the service: the tenants that share places.
            let mut stmt = c.prepare("SELECT DISTINCT municipality FROM candidates ORDER BY municipality")?;
            let tenants = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok(NightPlaces {
                taken: crate::server::ledger::taken_by_offer(c, today)?,
                recorded: crate::server::ledger::recorded_locks(c, today)?,
                tenants,
            })
        })
    }

    /// The courses under way on one offer that only candidates' records claim, on `today`
    /// (every tenant's; `ledger::recorded_locks_on`).
    ///
    /// # Errors
    /// On storage failure.
    pub fn recorded_locks_on(&self, offer: &str, today: &str) -> Result<u32> {
        self.read(|c| crate::server::ledger::recorded_locks_on(c, offer, today, None))
    }

    /// The offers that these candidates' records name as a course under way
    /// (`ledger::record_lock_offers`).
    ///
    /// # Errors
    /// On storage failure.
    pub fn record_lock_offers(&self, municipality: u16, candidates: &[&str]) -> Result<Vec<String>> {
        self.read(|c| crate::server::ledger::record_lock_offers(c, municipality, candidates))
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
        today: &str,
    ) -> Result<DecisionPage> {
        self.read(|c| decision_page(c, municipality, candidate, after, limit, today))
    }

    /// A tenant's decision by its number; another tenant's decision of that number is never
    /// found.
    ///
    /// # Errors
    /// On storage failure.
    pub fn decision(&self, municipality: u16, id: i64, today: &str) -> Result<Option<DecisionRow>> {
        self.read(|c| decision_row(c, municipality, id, today))
    }
}

/// The refusal of an accept on a full offer, in words a caseworker reads. When courses under way
/// that only candidates' records claim hold places, it says so, with their number only: which
/// candidates (of any municipality) they are is not the caller's to know.
fn no_places_left(offer: &str, capacity: u32, locks: u32) -> String {
    if locks == 0 {
        format!("offer {offer} has no places left")
    } else {
        let held = if locks == 1 {
            format!("1 of its {capacity} places is")
        } else {
            format!("{locks} of its {capacity} places are")
        };
        format!(
            "offer {offer} has no places left: {held} held by courses under way that only candidates' \
             records claim (a case system sent them as current and locked; no accept recorded them)"
        )
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

/// `number` first: it is the id a tenant sees. The chain (`corrects`, `corrected_by`) is shown
/// by number too; the place's release comes from the ledger.
pub(super) const DECISION_COLUMNS: &str =
    "number, municipality, candidate_id, offer_id, action, reason, decided_by, role, suggested, decided_at,
    (SELECT x.number FROM decisions x WHERE x.id = decisions.corrects),
    (SELECT x.number FROM decisions x WHERE x.corrects = decisions.id ORDER BY x.id LIMIT 1),
    starts_on, ends_on, excluded_until,
    (SELECT p.released_why FROM places p WHERE p.decision_id = decisions.id),
    employer";

pub(super) fn decision_from(r: &rusqlite::Row<'_>, today: &str) -> rusqlite::Result<DecisionRow> {
    let m: u16 = r.get(1)?;
    let suggested: String = r.get(8)?;
    let action: String = r.get(4)?;
    let corrected_by: Option<i64> = r.get(11)?;
    let starts_on: Option<String> = r.get(12)?;
    let ends_on: Option<String> = r.get(13)?;
    let excluded_until: Option<String> = r.get(14)?;
    let released_why: Option<String> = r.get(15)?;
    let status = match action.as_str() {
        "withdrawal" => "withdrawal",
        _ if corrected_by.is_some() => "withdrawn",
        "accept" => match (&released_why, &starts_on, &ends_on) {
            (Some(_), _, _) => "ended",
            (None, _, Some(end)) if end.as_str() < today => "ended",
            (None, Some(start), _) if start.as_str() > today => "reserved",
            _ => "running",
        },
        _ => match &excluded_until {
            Some(until) if until.as_str() >= today => "in_force",
            Some(_) => "expired",
            // A decline from before issue 14 excluded nothing.
            None => "recorded",
        },
    };
    Ok(DecisionRow {
        id: r.get(0)?,
        municipality: format!("{m:04}"),
        candidate_id: r.get(2)?,
        offer_id: r.get(3)?,
        action,
        reason: r.get(5)?,
        decided_by: r.get(6)?,
        employer: r.get::<_, Option<String>>(16)?.unwrap_or_else(|| format!("municipality {m:04}")),
        role: r.get(7)?,
        suggested_offer_ids: serde_json::from_str(&suggested).unwrap_or_default(),
        decided_at: r.get(9)?,
        corrects: r.get(10)?,
        corrected_by,
        starts_on,
        ends_on,
        excluded_until,
        status: status.to_string(),
        released_why,
    })
}

/// One of a tenant's decisions by its number.
fn decision_row(c: &Connection, municipality: u16, number: i64, today: &str) -> Result<Option<DecisionRow>> {
    let sql = format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE municipality = ?1 AND number = ?2");
    Ok(c.query_row(&sql, params![municipality, number], |r| decision_from(r, today)).optional()?)
}

/// The decision recorded earlier under an idempotency key, if any.
fn keyed_decision(c: &Connection, municipality: u16, key: &str, today: &str) -> Result<Option<DecisionRow>> {
    let sql = format!(
        "SELECT {DECISION_COLUMNS} FROM decisions WHERE municipality = ?1 AND id =
            (SELECT decision_id FROM decision_keys WHERE municipality = ?1 AND key = ?2)"
    );
    Ok(c.query_row(&sql, params![municipality, key], |r| decision_from(r, today)).optional()?)
}

/// A decision that can still be withdrawn or corrected.
struct Standing {
    rowid: i64,
    candidate_id: String,
    offer_id: String,
}

fn standing_decision(c: &Connection, municipality: u16, number: i64) -> Result<Standing> {
    let (rowid, candidate_id, offer_id, action): (i64, String, String, String) = c
        .query_row(
            "SELECT id, candidate_id, offer_id, action FROM decisions WHERE municipality = ?1 AND number = ?2",
            params![municipality, number],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or(StoreError::NotFound("decision"))?;
    if action == "withdrawal" {
        return Err(StoreError::Conflict(format!(
            "decision {number} is a withdrawal; record a new decision instead of withdrawing it"
        )));
    }
    let by: Option<i64> = c
        .query_row("SELECT number FROM decisions WHERE corrects = ?1 ORDER BY id LIMIT 1", [rowid], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(by) = by {
        return Err(StoreError::Conflict(format!(
            "decision {number} was already withdrawn or corrected by decision {by}"
        )));
    }
    Ok(Standing { rowid, candidate_id, offer_id })
}

/// The offers whose places [`crate::server::ledger::sweep_ended`] is about to release (one entry per
/// place), read before the sweep so that the catalogue can follow.
pub(super) fn ended_offers(c: &Connection, today: &str) -> Result<Vec<String>> {
    let mut stmt =
        c.prepare_cached("SELECT offer_id FROM places WHERE released_at IS NULL AND ends_on < ?1")?;
    let rows = stmt.query_map([today], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The offers of the places a candidate holds (one entry per place).
pub(super) fn held_offers(c: &Connection, municipality: u16, candidate: &str) -> Result<Vec<String>> {
    let mut stmt = c.prepare(
        "SELECT offer_id FROM places WHERE municipality = ?1 AND candidate_id = ?2 AND released_at IS NULL",
    )?;
    let rows = stmt.query_map(params![municipality, candidate], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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
    today: &str,
) -> Result<DecisionPage> {
    let asked = i64::from(limit) + 1;
    let mut rows = match candidate {
        Some(candidate) => {
            let sql = format!(
                "SELECT {DECISION_COLUMNS} FROM decisions
                 WHERE municipality = ?1 AND candidate_id = ?2 AND number > ?3 ORDER BY number LIMIT ?4"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows =
                stmt.query_map(params![municipality, candidate, after, asked], |r| decision_from(r, today))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        }
        None => {
            let sql = format!(
                "SELECT {DECISION_COLUMNS} FROM decisions
                 WHERE municipality = ?1 AND number > ?2 ORDER BY number LIMIT ?3"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![municipality, after, asked], |r| decision_from(r, today))?;
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
