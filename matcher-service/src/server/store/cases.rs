//! A municipality's caseworkers (their team, cap and cases held outside Brobygger) and its
//! cases: which caseworker holds which candidate, opened by an applied caseload plan and
//! closed by a successful outcome or the candidate's erasure. Owns the `caseworkers` and
//! `cases` tables; the figures of the team overview are computed from these rows by
//! `server::team`, not here.

use super::{Result, Store, now_rfc3339};
use rusqlite::{Connection, TransactionBehavior, params};

/// A caseworker as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseworkerRow {
    /// Pseudonymous id, unique within the municipality.
    pub id: String,
    /// The team the caseworker belongs to.
    pub team: String,
    /// The most cases the caseworker should hold.
    pub cap: u32,
    /// Cases held outside Brobygger (other programmes), counted in the caseload.
    pub other_cases: u32,
    /// Target-group codes the caseworker specialises in.
    pub specialities: Vec<String>,
}

/// A case opened by an applied caseload plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    /// The candidate.
    pub candidate_id: String,
    /// The caseworker who takes the candidate.
    pub caseworker_id: String,
    /// When the case was opened (RFC 3339).
    pub opened_at: String,
}

/// An open case: who holds which candidate now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCase {
    /// The candidate.
    pub candidate_id: String,
    /// The caseworker who holds the case.
    pub caseworker_id: String,
}

/// One case of a team, with what the overview needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamCaseRow {
    /// The candidate.
    pub candidate_id: String,
    /// The caseworker who holds (or held) the case.
    pub caseworker_id: String,
    /// When the case was opened (RFC 3339).
    pub opened_at: String,
    /// When it was closed, if it was.
    pub closed_at: Option<String>,
    /// The candidate's stored model (absent once the candidate is erased).
    pub model: Option<String>,
    /// The first decision (accept or decline) recorded for the candidate, if any.
    pub first_decision_at: Option<String>,
}

/// Why a case was closed, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseClosed {
    /// An outcome that counts as a success (work, education, back at work) was recorded.
    LeftBenefit,
    /// The candidate was erased.
    Erased,
}

impl CaseClosed {
    fn key(self) -> &'static str {
        match self {
            CaseClosed::LeftBenefit => "left_benefit",
            CaseClosed::Erased => "erased",
        }
    }
}

/// Closes the candidate's open case, inside the caller's transaction (the event that ends the
/// case and its closing commit together). No open case: nothing happens.
pub(super) fn close_case(
    tx: &Connection,
    municipality: u16,
    candidate_id: &str,
    why: CaseClosed,
    at: &str,
) -> Result<()> {
    tx.execute(
        "UPDATE cases SET closed_at = ?3, closed_why = ?4
         WHERE municipality = ?1 AND candidate_id = ?2 AND closed_at IS NULL",
        params![municipality, candidate_id, at, why.key()],
    )?;
    Ok(())
}

impl Store {
    /// Applies a caseload plan in one transaction: the caseworkers are inserted or replaced
    /// (team, cap, other cases, specialities) and a case is opened for each new case whose
    /// candidate has no open case yet. Returns the cases opened.
    ///
    /// # Errors
    /// On storage failure; nothing is written then.
    pub fn apply_caseload_plan(
        &self,
        municipality: u16,
        caseworkers: &[CaseworkerRow],
        cases: &[NewCase],
    ) -> Result<usize> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_rfc3339();
            let mut opened = 0;
            {
                let mut put = tx.prepare(
                    "INSERT INTO caseworkers (municipality, id, team, cap, other_cases, specialities, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (municipality, id) DO UPDATE SET team = excluded.team, cap = excluded.cap,
                        other_cases = excluded.other_cases, specialities = excluded.specialities,
                        updated_at = excluded.updated_at",
                )?;
                for w in caseworkers {
                    put.execute(params![
                        municipality,
                        w.id,
                        w.team,
                        w.cap,
                        w.other_cases,
                        w.specialities.join(";"),
                        now
                    ])?;
                }
                let mut open = tx.prepare(
                    "INSERT OR IGNORE INTO cases (municipality, candidate_id, caseworker_id, opened_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for case in cases {
                    opened += open.execute(params![municipality, case.candidate_id, case.caseworker_id, case.opened_at])?;
                }
            }
            tx.commit()?;
            Ok(opened)
        })
    }

    /// The tenant's caseworkers, by id.
    ///
    /// # Errors
    /// On storage failure.
    pub fn caseworkers(&self, municipality: u16) -> Result<Vec<CaseworkerRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, team, cap, other_cases, specialities FROM caseworkers WHERE municipality = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([municipality], |r| {
                let specialities: String = r.get(4)?;
                Ok(CaseworkerRow {
                    id: r.get(0)?,
                    team: r.get(1)?,
                    cap: r.get(2)?,
                    other_cases: r.get(3)?,
                    specialities: specialities.split(';').filter(|s| !s.is_empty()).map(str::to_string).collect(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The tenant's open cases, by candidate.
    ///
    /// # Errors
    /// On storage failure.
    pub fn open_cases(&self, municipality: u16) -> Result<Vec<OpenCase>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT candidate_id, caseworker_id FROM cases
                 WHERE municipality = ?1 AND closed_at IS NULL ORDER BY candidate_id",
            )?;
            let rows = stmt.query_map([municipality], |r| {
                Ok(OpenCase { candidate_id: r.get(0)?, caseworker_id: r.get(1)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The cases of a team's caseworkers that are open, or were closed at or after `since`
    /// (RFC 3339 or a date), each with the candidate's model and first decision.
    ///
    /// # Errors
    /// On storage failure.
    pub fn team_cases(&self, municipality: u16, team: &str, since: &str) -> Result<Vec<TeamCaseRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT c.candidate_id, c.caseworker_id, c.opened_at, c.closed_at, k.model,
                    (SELECT min(d.decided_at) FROM decisions d WHERE d.municipality = c.municipality
                        AND d.candidate_id = c.candidate_id AND d.action IN ('accept', 'decline'))
                 FROM cases c
                 JOIN caseworkers w ON w.municipality = c.municipality AND w.id = c.caseworker_id
                 LEFT JOIN candidates k ON k.municipality = c.municipality AND k.id = c.candidate_id
                 WHERE c.municipality = ?1 AND w.team = ?2 AND (c.closed_at IS NULL OR c.closed_at >= ?3)
                 ORDER BY c.id",
            )?;
            let rows = stmt.query_map(params![municipality, team, since], |r| {
                Ok(TeamCaseRow {
                    candidate_id: r.get(0)?,
                    caseworker_id: r.get(1)?,
                    opened_at: r.get(2)?,
                    closed_at: r.get(3)?,
                    model: r.get(4)?,
                    first_decision_at: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
