//! Retention: deleting the records whose retention period has passed, and nothing else.
//! Owns the one code path that deletes from the append-only tables (suggestion log, access
//! log, decisions with their keys) and from outcomes, places and batch runs by age. The
//! periods are the caller's (`server::retention` reads them from the policy); this module
//! takes one cut-off day per kind and municipality and never decides a period itself.
//!
//! The append-only triggers allow a delete only of a row older than the cut-off written into
//! `retention_gate` inside the same transaction (`schema::to_v6_oversight_retention`); the
//! gate rows are removed before the commit, so they are never seen outside it. The logs'
//! file has a gate of its own, which its triggers read (`schema::to_v14_logs_apart`): the
//! logs go in its transaction, the rest in the records' file's.
//!
//! A decision's comments go with it (`schema::to_v11_comments_retention`).
//!
//! Guards beyond the dates: a decision whose place is still held (reserved or running) is
//! kept whatever its age; an outcome never outlives its decision (it goes with it); a
//! municipality's latest finished batch run is kept (its prices apply and the next night
//! compares with it), and so is a run still running.

use super::{Result, Store};
use rusqlite::{TransactionBehavior, params};
use serde::Serialize;

/// The first day whose records are kept, per kind, for one municipality: records dated
/// before it (`YYYY-MM-DD`, UTC) are due.
#[derive(Debug, Clone)]
pub struct RetentionCutoffs {
    /// The tenant.
    pub municipality: u16,
    /// Suggestion log rows shown before this day are due.
    pub suggestion_log: String,
    /// Access log rows from before this day are due.
    pub access_log: String,
    /// Decisions made before this day are due (unless their place is held).
    pub decisions: String,
    /// Outcomes recorded before this day are due.
    pub outcomes: String,
    /// Batch runs started before this day are due (but the latest finished one).
    pub batch_runs: String,
}

/// What a retention sweep deleted (or, in a dry run, would delete) for one municipality.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionDeleted {
    /// The tenant.
    pub municipality: u16,
    /// Suggestion log rows.
    pub suggestion_log: u64,
    /// Access log rows.
    pub access_log: u64,
    /// Decisions (with their idempotency keys and released places).
    pub decisions: u64,
    /// Outcomes (their own period, or with their decision).
    pub outcomes: u64,
    /// Batch runs (with their fingerprints).
    pub batch_runs: u64,
}

impl Store {
    /// The municipalities that hold any record retention applies to.
    ///
    /// # Errors
    /// On storage failure.
    pub fn municipalities_with_records(&self) -> Result<Vec<u16>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT municipality FROM suggestion_log UNION SELECT municipality FROM access_log
                 UNION SELECT municipality FROM decisions UNION SELECT municipality FROM outcomes
                 UNION SELECT municipality FROM batch_runs ORDER BY 1",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<u16>>>()?)
        })
    }

    /// Deletes every record past its municipality's cut-off, in one transaction per file
    /// (the logs' first, then the records'); with `dry_run`, counts the same and rolls back.
    ///
    /// # Errors
    /// On storage failure; then nothing of that file is deleted (a failure in the records'
    /// file leaves the logs' deletions, which a second run would make anyway).
    pub fn apply_retention(
        &self,
        cutoffs: &[RetentionCutoffs],
        dry_run: bool,
    ) -> Result<Vec<RetentionDeleted>> {
        let mut done = self.write_log(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut done = Vec::with_capacity(cutoffs.len());
            for cut in cutoffs {
                let m = cut.municipality;
                open_gate(
                    &tx,
                    m,
                    &[("suggestion_log", &cut.suggestion_log), ("access_log", &cut.access_log)],
                    &super::schema::LOGS_NUMBERED,
                )?;
                let mut deleted = RetentionDeleted { municipality: m, ..RetentionDeleted::default() };
                deleted.suggestion_log = tx.execute(
                    "DELETE FROM suggestion_log WHERE municipality = ?1 AND shown_at < ?2",
                    params![m, cut.suggestion_log],
                )? as u64;
                deleted.access_log = tx.execute(
                    "DELETE FROM access_log WHERE municipality = ?1 AND at < ?2",
                    params![m, cut.access_log],
                )? as u64;
                tx.execute("DELETE FROM retention_gate WHERE municipality = ?1", params![m])?;
                done.push(deleted);
            }
            if dry_run {
                tx.rollback()?;
            } else {
                tx.commit()?;
            }
            Ok(done)
        })?;
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (cut, deleted) in cutoffs.iter().zip(done.iter_mut()) {
                let m = cut.municipality;
                open_gate(&tx, m, &[("decisions", &cut.decisions)], &super::schema::RECORDS_NUMBERED)?;
                // The decisions due: old enough and holding no place.
                tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS due_decisions (id INTEGER PRIMARY KEY); DELETE FROM due_decisions;")?;
                tx.execute(
                    "INSERT INTO due_decisions (id) SELECT d.id FROM decisions d
                     WHERE d.municipality = ?1 AND d.decided_at < ?2
                       AND NOT EXISTS (SELECT 1 FROM places p WHERE p.decision_id = d.id AND p.released_at IS NULL)",
                    params![m, cut.decisions],
                )?;
                // An outcome that goes before its decision leaves a mark, so the accept is
                // never taken for one without an outcome (`schema::to_v12_outcomes_past`).
                tx.execute(
                    "INSERT OR IGNORE INTO outcomes_past (decision_id, municipality)
                     SELECT decision_id, municipality FROM outcomes WHERE municipality = ?1
                       AND recorded_at < ?2 AND decision_id NOT IN (SELECT id FROM due_decisions)",
                    params![m, cut.outcomes],
                )?;
                tx.execute("DELETE FROM outcomes_past WHERE decision_id IN (SELECT id FROM due_decisions)", [])?;
                deleted.outcomes = tx.execute(
                    "DELETE FROM outcomes WHERE municipality = ?1
                       AND (recorded_at < ?2 OR decision_id IN (SELECT id FROM due_decisions))",
                    params![m, cut.outcomes],
                )? as u64;
                tx.execute("DELETE FROM decision_keys WHERE decision_id IN (SELECT id FROM due_decisions)", [])?;
                // A decision's comments go with it (their numbers are in `numbers` above).
                tx.execute(
                    "DELETE FROM decision_comments WHERE decision_id IN (SELECT id FROM due_decisions)",
                    [],
                )?;
                tx.execute(
                    "DELETE FROM places WHERE decision_id IN (SELECT id FROM due_decisions) AND released_at IS NOT NULL",
                    [],
                )?;
                deleted.decisions =
                    tx.execute("DELETE FROM decisions WHERE id IN (SELECT id FROM due_decisions)", [])? as u64;
                tx.execute(
                    "DELETE FROM batch_fingerprints WHERE run_id IN (
                        SELECT id FROM batch_runs b WHERE b.municipality = ?1 AND b.started_at < ?2
                          AND b.status <> 'running'
                          AND b.number <> COALESCE((SELECT max(number) FROM batch_runs
                              WHERE municipality = ?1 AND status = 'finished'), 0))",
                    params![m, cut.batch_runs],
                )?;
                deleted.batch_runs = tx.execute(
                    "DELETE FROM batch_runs WHERE municipality = ?1 AND started_at < ?2 AND status <> 'running'
                       AND number <> COALESCE((SELECT max(number) FROM batch_runs
                           WHERE municipality = ?1 AND status = 'finished'), 0)",
                    params![m, cut.batch_runs],
                )? as u64;
                tx.execute("DELETE FROM retention_gate WHERE municipality = ?1", params![m])?;
            }
            tx.execute_batch("DROP TABLE IF EXISTS temp.due_decisions;")?;
            if dry_run {
                tx.rollback()?;
            } else {
                tx.commit()?;
            }
            Ok(())
        })?;
        Ok(done)
    }
}

/// Opens the gate for a municipality's rows of `kinds` (kind, first day kept) inside `tx`, the
/// highest numbers of its `numbered` tables kept first ([`keep_highest_numbers`]).
fn open_gate(
    tx: &rusqlite::Transaction<'_>,
    m: u16,
    kinds: &[(&str, &str)],
    numbered: &[&str],
) -> Result<()> {
    let mut gate = tx.prepare_cached(
        "INSERT OR REPLACE INTO retention_gate (kind, municipality, before) VALUES (?1, ?2, ?3)",
    )?;
    for (kind, before) in kinds {
        gate.execute(params![kind, m, before])?;
    }
    keep_highest_numbers(tx, m, numbered)
}

/// The highest numbers of a municipality's rows go into `numbers` before their rows can go,
/// so that no number is ever given again (`next_number!`).
fn keep_highest_numbers(tx: &rusqlite::Transaction<'_>, m: u16, tables: &[&str]) -> Result<()> {
    for table in tables {
        tx.execute(
            &format!(
                "INSERT INTO numbers (municipality, tbl, last)
                    SELECT ?1, '{table}', MAX(number) FROM {table} WHERE municipality = ?1
                    HAVING MAX(number) IS NOT NULL
                    ON CONFLICT (municipality, tbl) DO UPDATE SET last = max(last, excluded.last)"
            ),
            params![m],
        )?;
    }
    Ok(())
}
