//! The places ledger and the state a decision puts a candidate in (issue 14).
//!
//! Owns the `places` table: one row per place an accept took, with the course's first and
//! last day, and when and why the place came back (`released_at`, `released_why`). A place is
//! *reserved* before its course starts, *running* from its first to its last day, and comes
//! back when the course ends, an outcome is recorded, the decision is withdrawn, or the
//! candidate is deleted: always in the transaction of the event that caused it (the end of a
//! course is swept into the next write that touches places, and never counted after its last
//! day in the meantime). `offers.reserved` stays the count of places not released, so the
//! accept's guard (`reserved + record locks < capacity`) is one indexed row and one look-up of
//! the partial index of record locks.
//!
//! Also the one definition of a *record lock*, a course under way that only a candidate's
//! record claims (a case system's `current_locked`, no open place here on that offer): counted by offer for
//! the night (`recorded_locks`) and per offer for the day (`recorded_locks_on`).
//!
//! Every function takes the caller's connection or transaction and does no locking of its
//! own; the store holds the write lock. Must not: parse HTTP or decide who may call it
//! (that is the API's job), or read a clock (the day comes in).

use crate::server::store::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

/// The `places` table and its indices.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS places (
    decision_id INTEGER PRIMARY KEY,
    municipality INTEGER NOT NULL,
    candidate_id TEXT NOT NULL,
    offer_id TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    released_at TEXT,
    released_why TEXT
);
CREATE INDEX IF NOT EXISTS places_open_offer ON places (offer_id) WHERE released_at IS NULL;
CREATE INDEX IF NOT EXISTS places_open_candidate ON places (municipality, candidate_id) WHERE released_at IS NULL;
CREATE INDEX IF NOT EXISTS places_open_end ON places (ends_on) WHERE released_at IS NULL;
CREATE TABLE IF NOT EXISTS batch_fingerprints (
    run_id INTEGER PRIMARY KEY,
    fingerprints TEXT NOT NULL
);
";

/// Why a place came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The course's last day has passed.
    CourseEnded,
    /// An outcome was recorded for the decision.
    Outcome,
    /// A caseworker withdrew (or corrected) the decision.
    Withdrawn,
    /// The candidate was deleted.
    CandidateDeleted,
}

impl Release {
    /// As stored in `places.released_why`.
    pub fn key(self) -> &'static str {
        match self {
            Release::CourseEnded => "course_ended",
            Release::Outcome => "outcome",
            Release::Withdrawn => "withdrawn",
            Release::CandidateDeleted => "candidate_deleted",
        }
    }
}

/// A candidate's place on an offer that has not come back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunningPlace {
    /// The accept's number (the id the tenant sees).
    pub decision_id: i64,
    /// The offer.
    pub offer_id: String,
    /// First day of the course.
    pub starts_on: String,
    /// Last day of the course.
    pub ends_on: String,
}

/// An offer's places, as they add up: `reserved + running + recorded + free = capacity` (with
/// `free` never below 0: `overbooked` counts places taken beyond the capacity, which the service
/// refuses to create but an old file, or case systems' records of courses under way, may hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OfferPlaces {
    /// Places.
    pub capacity: u32,
    /// Accepted, course not started yet.
    pub reserved: u32,
    /// Course under way.
    pub running: u32,
    /// Course under way that only a candidate's record claims (no accept in the ledger):
    /// [`recorded_locks_on`].
    pub recorded: u32,
    /// None of these: free for a new accept.
    pub free: u32,
    /// Taken beyond the capacity (0 unless the capacity was lowered below what was taken).
    pub overbooked: u32,
}

/// Releases every place whose course ended before `today` (`YYYY-MM-DD`), counting each
/// off its offer. Returns how many came back.
///
/// # Errors
/// On storage failure.
pub fn sweep_ended(c: &Connection, today: &str, now: &str) -> Result<usize> {
    let ended: Vec<(i64, String)> = {
        let mut stmt = c.prepare_cached(
            "SELECT decision_id, offer_id FROM places WHERE released_at IS NULL AND ends_on < ?1",
        )?;
        let rows = stmt.query_map([today], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (decision, offer) in &ended {
        mark_released(c, *decision, offer, Release::CourseEnded, now)?;
    }
    Ok(ended.len())
}

fn mark_released(c: &Connection, decision: i64, offer: &str, why: Release, now: &str) -> Result<()> {
    c.execute(
        "UPDATE places SET released_at = ?2, released_why = ?3 WHERE decision_id = ?1 AND released_at IS NULL",
        params![decision, now, why.key()],
    )?;
    c.execute("UPDATE offers SET reserved = max(reserved - 1, 0) WHERE id = ?1", [offer])?;
    Ok(())
}

/// The candidate's place that has not come back, if any (at most one exists: a second
/// accept is refused while one is held).
///
/// # Errors
/// On storage failure.
pub fn running_place(c: &Connection, municipality: u16, candidate: &str) -> Result<Option<RunningPlace>> {
    // Cached: read on every suggestion.
    Ok(c.prepare_cached(
        "SELECT d.number, p.offer_id, p.starts_on, p.ends_on FROM places p JOIN decisions d ON d.id = p.decision_id
         WHERE p.municipality = ?1 AND p.candidate_id = ?2 AND p.released_at IS NULL
         ORDER BY p.decision_id DESC LIMIT 1",
    )?
    .query_row(params![municipality, candidate], |r| {
        Ok(RunningPlace { decision_id: r.get(0)?, offer_id: r.get(1)?, starts_on: r.get(2)?, ends_on: r.get(3)? })
    })
    .optional()?)
}

/// Records the place an accept (row id `decision`) takes. The caller has checked and
/// counted it on the offer (`offers.reserved`).
///
/// # Errors
/// On storage failure.
pub fn hold(
    c: &Connection,
    decision: i64,
    municipality: u16,
    candidate: &str,
    offer: &str,
    starts_on: &str,
    ends_on: &str,
) -> Result<()> {
    c.execute(
        "INSERT INTO places (decision_id, municipality, candidate_id, offer_id, starts_on, ends_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![decision, municipality, candidate, offer, starts_on, ends_on],
    )?;
    Ok(())
}

/// Releases the place of the accept with row id `decision`, if it still holds one. Returns
/// whether a place came back (never twice: a released place stays released).
///
/// # Errors
/// On storage failure.
pub fn release(c: &Connection, decision: i64, why: Release, now: &str) -> Result<bool> {
    let offer: Option<String> = c
        .query_row(
            "SELECT offer_id FROM places WHERE decision_id = ?1 AND released_at IS NULL",
            [decision],
            |r| r.get(0),
        )
        .optional()?;
    match offer {
        Some(offer) => {
            mark_released(c, decision, &offer, why, now)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Releases every place the candidate holds. Returns how many came back.
///
/// # Errors
/// On storage failure.
pub fn release_candidate(
    c: &Connection,
    municipality: u16,
    candidate: &str,
    why: Release,
    now: &str,
) -> Result<usize> {
    let held: Vec<(i64, String)> = {
        let mut stmt = c.prepare(
            "SELECT decision_id, offer_id FROM places WHERE municipality = ?1 AND candidate_id = ?2 AND released_at IS NULL",
        )?;
        let rows = stmt.query_map(params![municipality, candidate], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (decision, offer) in &held {
        mark_released(c, *decision, offer, why, now)?;
    }
    Ok(held.len())
}

/// An offer's places on `today`, counted from the ledger (not from the counter) and from the
/// candidates' records of courses under way, so that the four always add up to the capacity.
///
/// # Errors
/// [`StoreError::NotFound`] for an unknown offer.
pub fn offer_places(c: &Connection, offer: &str, today: &str) -> Result<OfferPlaces> {
    let capacity: u32 = c
        .query_row("SELECT capacity FROM offers WHERE id = ?1", [offer], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound("offer"))?;
    let (reserved, running): (u32, u32) = c.query_row(
        "SELECT coalesce(sum(starts_on > ?2), 0), coalesce(sum(starts_on <= ?2), 0) FROM places
         WHERE offer_id = ?1 AND released_at IS NULL AND ends_on >= ?2",
        params![offer, today],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let recorded = recorded_locks_on(c, offer, today, None)?;
    let taken = reserved + running + recorded;
    Ok(OfferPlaces {
        capacity,
        reserved,
        running,
        recorded,
        free: capacity.saturating_sub(taken),
        overbooked: taken.saturating_sub(capacity),
    })
}

/// Places taken on every offer on `today` (reserved or running), by offer id: the shared
/// ledger every tenant's night and suggestions count against.
///
/// # Errors
/// On storage failure.
pub fn taken_by_offer(c: &Connection, today: &str) -> Result<std::collections::HashMap<String, u32>> {
    let mut stmt = c.prepare(
        "SELECT offer_id, count(*) FROM places WHERE released_at IS NULL AND ends_on >= ?1 GROUP BY offer_id",
    )?;
    let rows = stmt.query_map([today], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The one definition of a *record lock*: a candidate (`k`, of any tenant) whose own record says
/// a course is under way (`current_locked`, as a case system sends it) while the candidate holds
/// no place on that offer in this ledger today (`?1`). A place on another offer does not end the
/// claim: if it did, the claimed place looked free while the candidate held the other one,
/// another candidate took it, and the claim counted again once that other place came back (two
/// people on one place; `live_state::a_record_lock_on_one_offer_is_not_freed_by_an_accept_on_another`).
/// Its first term is the `WHERE` of the partial index
/// `candidates_recorded_lock` (`store::schema::RECORDED_LOCK_INDEX`), written the same way so
/// that SQLite uses that index: only locked candidates are read, never the whole table.
macro_rules! record_lock {
    () => {
        "json_extract(k.model, '$.candidate.current.locked') = 1
           AND NOT EXISTS (SELECT 1 FROM places p
                           WHERE p.municipality = k.municipality AND p.candidate_id = k.id
                             AND p.offer_id = json_extract(k.model, '$.candidate.current.offer')
                             AND p.released_at IS NULL AND p.ends_on >= ?1)"
    };
}

/// Counts the record locks on one offer (`?2`), leaving out the candidate `?3`/`?4` (the one
/// accepting: its own record lock becomes its ledger place, and must not count against it).
/// Reads the partial expression index by offer id (`docs/service.md`, "One ledger of shared
/// places"); `ledger` tests check the plan.
pub const RECORDED_LOCKS_ON_OFFER: &str = concat!(
    "SELECT count(*) FROM candidates k
     WHERE json_extract(k.model, '$.candidate.current.offer') = ?2 AND ",
    record_lock!(),
    " AND NOT (k.municipality = ?3 AND k.id = ?4)"
);

/// The record locks of every offer, by offer: a scan of the partial index (locked candidates
/// only), for the night.
const RECORDED_LOCKS_BY_OFFER: &str = concat!(
    "SELECT json_extract(k.model, '$.candidate.current.offer') AS offer, count(*)
     FROM candidates k
     WHERE ",
    record_lock!(),
    " GROUP BY offer"
);

/// Per offer, the candidates of every tenant whose own record says a course is under way there
/// (`current_locked`, as a case system sends it) while they hold no place in this ledger:
/// places taken that no accept recorded. The night counts them as taken, like the ledger's,
/// so that such a record keeps its place without adding one to the offer; the day's accept
/// guard and its places left count them per offer ([`recorded_locks_on`]).
///
/// # Errors
/// On storage failure.
pub fn recorded_locks(c: &Connection, today: &str) -> Result<std::collections::HashMap<String, u32>> {
    let mut stmt = c.prepare(RECORDED_LOCKS_BY_OFFER)?;
    let rows = stmt.query_map([today], |r| Ok((r.get::<_, Option<String>>(0)?, r.get(1)?)))?;
    let mut out = std::collections::HashMap::new();
    for row in rows {
        let (offer, n) = row?;
        if let Some(offer) = offer {
            out.insert(offer, n);
        }
    }
    Ok(out)
}

/// The record locks (as [`recorded_locks`]) on one offer on `today`, but for the candidate
/// `except` (municipality, id) when given: the places on `offer` that courses under way claim
/// only in candidates' records. One look-up in the partial index by offer id, so an accept
/// costs the same with 250,000 candidates as with ten.
///
/// # Errors
/// On storage failure.
pub fn recorded_locks_on(
    c: &Connection,
    offer: &str,
    today: &str,
    except: Option<(u16, &str)>,
) -> Result<u32> {
    // No candidate has municipality 0 (kommunekoder start at 101), so `(0, "")` leaves out none.
    let (m, id) = except.unwrap_or((0, ""));
    Ok(c.prepare_cached(RECORDED_LOCKS_ON_OFFER)?.query_row(params![today, offer, m, id], |r| r.get(0))?)
}

/// The offers that the records of these candidates (of tenant `municipality`) name as a course
/// under way (`current_locked`), whether or not the ledger holds a place for them: the offers
/// whose count of record locks a write about these candidates can change.
///
/// # Errors
/// On storage failure.
pub fn record_lock_offers(c: &Connection, municipality: u16, candidates: &[&str]) -> Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT json_extract(model, '$.candidate.current.offer') FROM candidates
         WHERE municipality = ?1 AND id = ?2 AND json_extract(model, '$.candidate.current.locked') = 1",
    )?;
    let mut out = Vec::new();
    for id in candidates {
        if let Some(Some(offer)) =
            stmt.query_row(params![municipality, id], |r| r.get::<_, Option<String>>(0)).optional()?
        {
            out.push(offer);
        }
    }
    Ok(out)
}

/// A place a candidate holds (accepted, not released, course not ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPlace {
    /// The candidate.
    pub candidate_id: String,
    /// The offer the place is on.
    pub offer_id: String,
}

/// The candidates of a tenant holding a place today, as (candidate id, offer id): the
/// courses a night must keep (locked).
///
/// # Errors
/// On storage failure.
pub fn held_places(c: &Connection, municipality: u16, today: &str) -> Result<Vec<HeldPlace>> {
    let mut stmt = c.prepare(
        "SELECT candidate_id, offer_id FROM places WHERE municipality = ?1 AND released_at IS NULL AND ends_on >= ?2
         ORDER BY candidate_id",
    )?;
    let rows = stmt.query_map(params![municipality, today], |r| {
        Ok(HeldPlace { candidate_id: r.get(0)?, offer_id: r.get(1)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The night's share of an offer's free places for municipality `m` — the one rule by which
/// tenants' runs share places (`docs/service.md`, "One ledger of shared places").
///
/// The municipalities that may use the offer are the tenants (`tenants`: every municipality
/// with candidates in the service, sorted) that it serves (`serves`; empty: all of them). Each
/// gets `free / n` places; the `free % n` left over go one each to the next tenants in a
/// rotation that starts at a point fixed by the offer's id, so no municipality always gets
/// the spare place. The shares add up to `free` exactly, whatever the order the runs come
/// in, so two runs together never propose more than is free, and no municipality's policy or
/// timing can take another's share.
pub fn night_share(free: u32, tenants: &[u16], serves: &[u16], offer_id: &str, m: u16) -> u32 {
    let eligible: Vec<u16> =
        tenants.iter().copied().filter(|t| serves.is_empty() || serves.contains(t)).collect();
    let Some(k) = eligible.iter().position(|&t| t == m) else { return 0 };
    let n = eligible.len() as u32;
    let start = (matcher_core::dataset::snapshot::fnv1a64(offer_id.as_bytes()) % u64::from(n)) as u32;
    let rank = (k as u32 + n - start) % n;
    free / n + u32::from(rank < free % n)
}

/// A decline that still keeps its offer out of the candidate's suggestions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveDecline {
    /// The candidate it was declined for.
    pub candidate_id: String,
    /// The declined offer.
    pub offer_id: String,
    /// Last day it stays out.
    pub until: String,
    /// Why it was declined.
    pub reason: String,
}

/// The declines of a candidate (or of every candidate of the tenant when `candidate` is
/// `None`) still in force on `today` and not withdrawn.
///
/// # Errors
/// On storage failure.
pub fn active_declines(
    c: &Connection,
    municipality: u16,
    candidate: Option<&str>,
    today: &str,
) -> Result<Vec<ActiveDecline>> {
    // Two statements, not one with `(?2 IS NULL OR d.candidate_id = ?2)`: SQLite plans such a
    // statement for the value bound and prepares it again on every new binding, which on every
    // suggestion (one candidate after another) cost a tenth of the service's CPU.
    macro_rules! select {
        ($candidate:literal) => {
            concat!(
                "SELECT d.candidate_id, d.offer_id, d.excluded_until, d.reason FROM decisions d
                 WHERE d.municipality = ?1 AND d.action = 'decline' AND d.excluded_until >= ?2",
                $candidate,
                " AND NOT EXISTS (SELECT 1 FROM decisions w WHERE w.corrects = d.id) ORDER BY d.id"
            )
        };
    }
    let row = |r: &rusqlite::Row<'_>| {
        Ok(ActiveDecline {
            candidate_id: r.get(0)?,
            offer_id: r.get(1)?,
            until: r.get(2)?,
            reason: r.get(3)?,
        })
    };
    let rows = match candidate {
        Some(candidate) => c
            .prepare_cached(select!(" AND d.candidate_id = ?3"))?
            .query_map(params![municipality, today, candidate], row)?
            .collect::<rusqlite::Result<_>>()?,
        None => c
            .prepare_cached(select!(""))?
            .query_map(params![municipality, today], row)?
            .collect::<rusqlite::Result<_>>()?,
    };
    Ok(rows)
}

/// Brings a `decisions` table from before issue 14 up to date: the action may be a
/// `withdrawal`, and a row may name the decision it withdraws (`corrects`, a row id), the
/// course's days (`starts_on`, `ends_on`) and a decline's last day (`excluded_until`). SQLite
/// cannot change a CHECK constraint in place, so the table is rebuilt once, in one immediate
/// transaction, with its append-only triggers dropped and recreated inside it. Accepts that
/// still hold a place get their `places` row (course from the decision's day for the offer's
/// `duration_weeks`), and every offer's `reserved` becomes the count of places held.
///
/// # Errors
/// On storage failure; the file is left as it was.
pub fn migrate(conn: &mut Connection, no_update_trigger: &str) -> Result<()> {
    // `decision_keys` refers to `decisions`: the rebuild drops and renames the table, which
    // SQLite refuses while foreign keys are enforced. The pragma cannot change inside a
    // transaction, so it is switched off around it and the references are checked after.
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let out = rebuild(conn, no_update_trigger);
    if enforced {
        conn.pragma_update(None, "foreign_keys", true)?;
    }
    out
}

fn rebuild(conn: &mut Connection, no_update_trigger: &str) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(SCHEMA)?;
    let sql: String =
        tx.query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'decisions'", [], |r| {
            r.get(0)
        })?;
    if !sql.contains("withdrawal") {
        tx.execute_batch(
            "DROP TRIGGER IF EXISTS decisions_no_update;
             DROP TRIGGER IF EXISTS decisions_no_delete;
             CREATE TABLE decisions_v2 (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                municipality INTEGER NOT NULL,
                number INTEGER NOT NULL DEFAULT 0,
                candidate_id TEXT NOT NULL,
                offer_id TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('accept', 'decline', 'withdrawal')),
                reason TEXT NOT NULL,
                decided_by TEXT NOT NULL,
                role TEXT NOT NULL,
                suggested TEXT NOT NULL,
                target_groups TEXT NOT NULL,
                decided_at TEXT NOT NULL,
                corrects INTEGER,
                starts_on TEXT,
                ends_on TEXT,
                excluded_until TEXT
             );
             INSERT INTO decisions_v2 (id, municipality, number, candidate_id, offer_id, action, reason, decided_by,
                role, suggested, target_groups, decided_at)
             SELECT id, municipality, number, candidate_id, offer_id, action, reason, decided_by, role, suggested,
                target_groups, decided_at FROM decisions;
             DROP TABLE decisions;
             ALTER TABLE decisions_v2 RENAME TO decisions;
             CREATE UNIQUE INDEX IF NOT EXISTS decisions_number ON decisions (municipality, number);
             CREATE INDEX IF NOT EXISTS decisions_candidate_number ON decisions (municipality, candidate_id, number);
             CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
             BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;",
        )?;
        // Accepts of the old file that have no outcome still hold their place.
        let open: Vec<(i64, u16, String, String, String, String)> = {
            let mut stmt = tx.prepare(
                "SELECT d.id, d.municipality, d.candidate_id, d.offer_id, substr(d.decided_at, 1, 10), o.model
                 FROM decisions d JOIN offers o ON o.id = d.offer_id
                 WHERE d.action = 'accept' AND NOT EXISTS (SELECT 1 FROM outcomes x WHERE x.decision_id = d.id)",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (id, m, candidate, offer, day, model) in open {
            let weeks = duration_weeks(&model);
            let ends = course_end(&day, weeks).unwrap_or_else(|| day.clone());
            tx.execute(
                "INSERT OR IGNORE INTO places (decision_id, municipality, candidate_id, offer_id, starts_on, ends_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, m, candidate, offer, day, ends],
            )?;
        }
        tx.execute_batch(
            "UPDATE offers SET reserved = (SELECT count(*) FROM places p WHERE p.offer_id = offers.id AND p.released_at IS NULL);",
        )?;
    }
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS decisions_corrects ON decisions (corrects) WHERE corrects IS NOT NULL;",
    )?;
    tx.execute_batch(no_update_trigger)?;
    let dangling: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
    if dangling > 0 {
        return Err(StoreError::Conflict(format!(
            "{dangling} rows refer to missing rows after the decisions rebuild"
        )));
    }
    tx.commit()?;
    Ok(())
}

/// `duration_weeks` of a stored offer model (serde JSON of the core's `Offer`); 1 when absent.
pub fn duration_weeks(model: &str) -> u16 {
    #[derive(serde::Deserialize)]
    struct Duration {
        duration_weeks: u16,
    }
    serde_json::from_str::<Duration>(model).map_or(1, |d| d.duration_weeks.max(1))
}

/// The last day of a course that starts on `starts_on` (`YYYY-MM-DD`) and lasts `weeks`.
pub fn course_end(starts_on: &str, weeks: u16) -> Option<String> {
    let start = matcher_core::model::Date::parse(starts_on)?;
    Some(start.plus_days(i32::from(weeks.max(1)) * 7 - 1).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of a statement, one line per step, on a connection set up as the store's are
    /// (plans that never depend on bound values).
    fn plan(c: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let n = stmt.parameter_count();
        let args: Vec<String> = (0..n).map(|_| String::new()).collect();
        stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn record_locks_are_counted_from_their_partial_index_not_from_every_candidate() {
        let dir = std::env::temp_dir().join(format!("brobygger-ledger-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.db");
        drop(crate::server::store::Store::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).unwrap();
        // One offer: a search of the index by offer id; the night: a scan of the index (the
        // locked candidates only). Neither reads the candidates table whole.
        let one = plan(&c, RECORDED_LOCKS_ON_OFFER);
        assert!(
            one.iter().any(|l| l.starts_with("SEARCH k USING INDEX candidates_recorded_lock (<expr>=?)")),
            "{one:?}"
        );
        assert!(one.iter().all(|l| !l.starts_with("SCAN k")), "{one:?}");
        let all = plan(&c, RECORDED_LOCKS_BY_OFFER);
        assert!(all.iter().any(|l| l.starts_with("SCAN k USING INDEX candidates_recorded_lock")), "{all:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn night_shares_add_up_to_the_free_places_and_differ_by_at_most_one() {
        let tenants = [101, 147, 751, 851];
        for free in 0..40 {
            for (offer, serves) in [("course-1", vec![]), ("course-22", vec![851, 751]), ("x", vec![999])] {
                let shares: Vec<u32> =
                    tenants.iter().map(|&m| night_share(free, &tenants, &serves, offer, m)).collect();
                let eligible =
                    if serves.is_empty() { 4 } else { serves.iter().filter(|s| tenants.contains(s)).count() };
                let total: u32 = shares.iter().sum();
                assert_eq!(total, if eligible == 0 { 0 } else { free }, "{offer} {free}: {shares:?}");
                let given: Vec<u32> = tenants
                    .iter()
                    .zip(&shares)
                    .filter(|(m, _)| serves.is_empty() || serves.contains(m))
                    .map(|(_, s)| *s)
                    .collect();
                if let (Some(lo), Some(hi)) = (given.iter().min(), given.iter().max()) {
                    assert!(hi - lo <= 1, "{offer} {free}: {shares:?}");
                }
                for (m, s) in tenants.iter().zip(&shares) {
                    if !serves.is_empty() && !serves.contains(m) {
                        assert_eq!(*s, 0, "an offer gives no share to a municipality it does not serve");
                    }
                }
            }
        }
    }

    #[test]
    fn a_course_ends_on_the_last_day_of_its_last_week() {
        assert_eq!(course_end("2026-12-07", 1).as_deref(), Some("2026-12-13"));
        assert_eq!(course_end("2026-12-07", 4).as_deref(), Some("2027-01-03"));
        assert_eq!(course_end("2026-13-07", 4), None);
        assert_eq!(duration_weeks("{\"duration_weeks\": 12, \"other\": 1}"), 12);
        assert_eq!(duration_weeks("{}"), 1);
    }
}
