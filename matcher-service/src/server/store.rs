//! SQLite storage: one file, WAL, one writer connection behind a mutex and a small pool of
//! reader connections. Every function here blocks: callers reach it through
//! `tokio::task::spawn_blocking` (see [`Store::run`]).
//!
//! Durability: `synchronous = FULL` on the writer, so a commit is on disk (the WAL is
//! fsynced) before the call returns and therefore before a client sees a 2xx. WAL with
//! `NORMAL` would only lose the last commits on power loss, not on `kill -9`, but decisions
//! are legal records and the measured cost of FULL is acceptable (`docs/service.md`).
//!
//! Tenancy: candidate, decision, outcome and batch-run rows carry the municipality, and every
//! query of them filters on it, so another tenant's row is indistinguishable from a missing
//! one. Decisions and batch runs are shown by a per-tenant `number`, never by the row id,
//! whose sequence is shared by all tenants. Decisions are append-only, enforced by triggers as
//! well as by the absence of routes.

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON column could not be read back.
    #[error("stored JSON in {table}: {source}")]
    Json {
        /// The table.
        table: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
    /// No such row for this tenant.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The write conflicts with the state (e.g. no places left).
    #[error("{0}")]
    Conflict(String),
    /// An accept for a candidate who already holds a place: the running one is named.
    #[error(
        "the candidate already has a running accepted offer: decision {} on offer {} until {}; withdraw or correct it first",
        .0.decision_id, .0.offer_id, .0.ends_on
    )]
    Running(crate::server::ledger::RunningPlace),
    /// A mutex was poisoned by a panic in another request.
    #[error("storage lock poisoned")]
    Poisoned,
}

/// Shorthand.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    municipality INTEGER NOT NULL,
    role TEXT NOT NULL,
    user TEXT NOT NULL,
    created_at TEXT NOT NULL,
    id INTEGER,
    expires_at TEXT,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS offers (
    id TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL,
    record TEXT NOT NULL,
    model TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    reserved INTEGER NOT NULL DEFAULT 0,
    retired INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS offers_provider ON offers (provider_id);
CREATE TABLE IF NOT EXISTS evidence (
    offer_id TEXT NOT NULL,
    target_group TEXT NOT NULL,
    trials INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    PRIMARY KEY (offer_id, target_group)
);
CREATE TABLE IF NOT EXISTS candidates (
    municipality INTEGER NOT NULL,
    id TEXT NOT NULL,
    record TEXT NOT NULL,
    model TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (municipality, id)
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality INTEGER NOT NULL,
    number INTEGER NOT NULL DEFAULT 0,
    candidate_id TEXT NOT NULL,
    offer_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('accept', 'decline')),
    reason TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    role TEXT NOT NULL,
    suggested TEXT NOT NULL,
    target_groups TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TABLE IF NOT EXISTS decision_keys (
    municipality INTEGER NOT NULL,
    key TEXT NOT NULL,
    decision_id INTEGER NOT NULL REFERENCES decisions (id),
    PRIMARY KEY (municipality, key)
);
CREATE TRIGGER IF NOT EXISTS decision_keys_no_update BEFORE UPDATE ON decision_keys
BEGIN SELECT RAISE(ABORT, 'decision keys are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decision_keys_no_delete BEFORE DELETE ON decision_keys
BEGIN SELECT RAISE(ABORT, 'decision keys are append-only'); END;
CREATE TABLE IF NOT EXISTS outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality INTEGER NOT NULL,
    decision_id INTEGER NOT NULL UNIQUE,
    result TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality INTEGER NOT NULL,
    number INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT,
    summary TEXT,
    proposals TEXT,
    prices TEXT
);
"#;

/// Kept out of [`SCHEMA`] because [`migrate_numbers`] must drop it for a moment.
const DECISIONS_NO_UPDATE: &str =
    "CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;";

/// The database: a writer behind a mutex and reusable readers.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

/// A bearer token's row.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Municipality code.
    pub municipality: u16,
    /// Role name.
    pub role: String,
    /// Who holds it (a caseworker's initials, a system's name).
    pub user: String,
    /// When it stops working (UTC, `YYYY-MM-DDTHH:MM:SSZ`); `None`: never.
    pub expires_at: Option<String>,
    /// When it was revoked; `None`: it was not.
    pub revoked_at: Option<String>,
}

/// A token as `matcher token list` shows it: everything but the secret and its hash.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// The id `matcher token revoke` takes.
    pub id: i64,
    /// When it was created.
    pub created_at: String,
    /// Whose it is, until when, and whether it was revoked.
    pub row: TokenRow,
}

impl TokenRow {
    /// The row from the columns `municipality, role, user, expires_at, revoked_at`, starting
    /// at column `at`.
    fn from_columns(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(TokenRow {
            municipality: r.get(at)?,
            role: r.get(at + 1)?,
            user: r.get(at + 2)?,
            expires_at: r.get(at + 3)?,
            revoked_at: r.get(at + 4)?,
        })
    }
}

/// A stored offer as the catalogue needs it.
#[derive(Debug, Clone)]
pub struct OfferRow {
    /// Offer id.
    pub id: String,
    /// The core model (serde JSON of `matcher_core::model::Offer`).
    pub model: String,
    /// Places taken by accepted decisions.
    pub reserved: u32,
    /// Retired offers stay (decisions point at them) but take no one new.
    pub retired: bool,
}

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
    /// The day of the decision (`YYYY-MM-DD`, UTC): courses and declines count from it.
    pub today: String,
    /// An accept: the course's first day; `None` starts it today.
    pub starts_on: Option<String>,
    /// A decline keeps the offer out for this many days (the policy's `decisions.decline_days`).
    pub decline_days: u32,
    /// This decision corrects an earlier one (by id): that one is withdrawn in the same
    /// transaction, and its place released (or moved, for an accept).
    pub corrects: Option<i64>,
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
    /// The withdrawer's role.
    pub role: String,
    /// The client's `Idempotency-Key`.
    pub key: Option<String>,
    /// The day (`YYYY-MM-DD`, UTC).
    pub today: String,
}

/// What a write released, so that the catalogue's counters follow the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    /// One entry per place that came back, by offer id.
    pub offers: Vec<String>,
}

/// A batch run's row.
#[derive(Debug, Clone)]
pub struct BatchRow {
    /// Run id: the tenant's number for it.
    pub id: i64,
    /// `running`, `finished` or `failed`.
    pub status: String,
    /// Start time.
    pub started_at: String,
    /// End time.
    pub finished_at: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Summary JSON.
    pub summary: Option<String>,
    /// Proposals JSON.
    pub proposals: Option<String>,
}

fn open(path: &Path, write: bool) -> Result<Connection> {
    let flags = if write {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if write {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    Ok(conn)
}

/// Brings a `tokens` table made before ids, expiry and revocation up to date:
/// `CREATE TABLE IF NOT EXISTS` leaves an existing table as it is. Old tokens get ids in
/// their creation (rowid) order and no expiry, so an upgrade never locks an integration out
/// on a date nobody chose; `matcher token list` shows them as `never` to be replaced.
/// One immediate transaction: a server and a `matcher token` command opening the same old
/// file at once migrate it once, and a failure leaves the file as it was.
fn migrate_tokens(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let present: Vec<String> = {
        let mut stmt = tx.prepare("SELECT name FROM pragma_table_info('tokens')")?;
        stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    let has = |name: &str| present.iter().any(|c| c == name);
    if !has("id") {
        tx.execute_batch("ALTER TABLE tokens ADD COLUMN id INTEGER; UPDATE tokens SET id = rowid;")?;
    }
    for column in ["expires_at", "revoked_at"] {
        if !has(column) {
            tx.execute_batch(&format!("ALTER TABLE tokens ADD COLUMN {column} TEXT;"))?;
        }
    }
    tx.execute_batch("CREATE UNIQUE INDEX IF NOT EXISTS tokens_id ON tokens (id);")?;
    tx.commit()?;
    Ok(())
}

/// Gives decisions and batch runs their per-tenant `number`, the id the API shows. The row
/// id is one sequence for all municipalities, so its gaps would tell a caseworker how many
/// decisions other municipalities made meanwhile (ARCHITECTURE.md, isolation); the number
/// counts only the tenant's own rows. Internal references (`decision_keys`, `outcomes`)
/// keep the row id.
///
/// A file from before numbers gets `number = id` for its existing rows: ids that clients
/// stored (decision ids, outcome references, `after` cursors, run ids) keep naming the same
/// row, which a renumbering from 1 would silently point at another decision of the same
/// tenant. Their gaps were already visible to that tenant; new rows continue from the
/// tenant's largest number, so nothing new is revealed. One immediate transaction, as in
/// [`migrate_tokens`]; the append-only trigger is dropped and recreated inside it.
fn migrate_numbers(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for table in ["decisions", "batch_runs"] {
        let has: bool = tx.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = 'number'",
            [table],
            |r| r.get(0),
        )?;
        if !has {
            tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN number INTEGER NOT NULL DEFAULT 0;"))?;
            if table == "decisions" {
                tx.execute_batch("DROP TRIGGER IF EXISTS decisions_no_update;")?;
            }
            tx.execute_batch(&format!("UPDATE {table} SET number = id;"))?;
        }
    }
    tx.execute_batch(DECISIONS_NO_UPDATE)?;
    tx.execute_batch(
        "DROP INDEX IF EXISTS decisions_candidate;
         DROP INDEX IF EXISTS decisions_tenant;
         CREATE UNIQUE INDEX IF NOT EXISTS decisions_number ON decisions (municipality, number);
         CREATE INDEX IF NOT EXISTS decisions_candidate_number ON decisions (municipality, candidate_id, number);
         CREATE UNIQUE INDEX IF NOT EXISTS batch_runs_number ON batch_runs (municipality, number);",
    )?;
    tx.commit()?;
    Ok(())
}

/// Current UTC time as RFC 3339 with seconds.
pub fn now_rfc3339() -> String {
    rfc3339(std::time::SystemTime::now())
}

/// A UTC time as RFC 3339 with seconds (`YYYY-MM-DDTHH:MM:SSZ`). The width is fixed for years
/// up to 9999, so stored times compare correctly as text.
pub fn rfc3339(at: std::time::SystemTime) -> String {
    let secs = at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i32::try_from(secs / 86_400).unwrap_or(i32::MAX);
    let rem = secs % 86_400;
    let date = matcher_core::model::Date(days);
    format!("{date}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

impl Store {
    /// Opens (creating if needed) the database file and its schema.
    ///
    /// # Errors
    /// When the file cannot be opened or the schema cannot be created.
    pub fn open(path: &Path) -> Result<Store> {
        let mut writer = open(path, true)?;
        writer.execute_batch(SCHEMA)?;
        migrate_tokens(&mut writer)?;
        migrate_numbers(&mut writer)?;
        crate::server::ledger::migrate(&mut writer, DECISIONS_NO_UPDATE)?;
        Ok(Store { path: path.to_path_buf(), writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Gives back the places of courses that ended before `today` (`YYYY-MM-DD`); returns the
    /// offers they were on. Run at start and when the day changes; every write that takes or
    /// releases a place runs it too.
    ///
    /// # Errors
    /// On storage failure.
    pub fn sweep_ended(&self, today: &str) -> Result<Vec<String>> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let offers = ended_offers(&tx, today)?;
            crate::server::ledger::sweep_ended(&tx, today, &now_rfc3339())?;
            tx.commit()?;
            Ok(offers)
        })
    }

    /// Runs `f` on the writer connection.
    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().map_err(|_| StoreError::Poisoned)?;
        f(&mut conn)
    }

    /// Runs `f` on a reader connection, opening one when none is free.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.readers.lock().map_err(|_| StoreError::Poisoned)?.pop();
        let conn = match conn {
            Some(c) => c,
            None => open(&self.path, false)?,
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < 16
        {
            pool.push(conn);
        }
        out
    }

    // ----- tokens -----

    /// Stores a token hash that stops working at `expires_at` (`None`: never); returns the
    /// token's id.
    ///
    /// # Errors
    /// On storage failure.
    pub fn insert_token(
        &self,
        hash: &str,
        municipality: u16,
        role: &str,
        user: &str,
        expires_at: Option<&str>,
    ) -> Result<i64> {
        self.write(|c| {
            // Ids are handed out here, not by rowid: a VACUUM may renumber rowids, and an id
            // written down for a later `token revoke` must keep naming the same token. The
            // statement runs under SQLite's write lock, so two processes cannot take one id.
            Ok(c.query_row(
                "INSERT INTO tokens (id, hash, municipality, role, user, created_at, expires_at) \
                 VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM tokens), ?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![hash, municipality, role, user, now_rfc3339(), expires_at],
                |r| r.get(0),
            )?)
        })
    }

    /// Looks a token hash up.
    ///
    /// # Errors
    /// On storage failure.
    pub fn token(&self, hash: &str) -> Result<Option<TokenRow>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT municipality, role, user, expires_at, revoked_at FROM tokens WHERE hash = ?1",
                [hash],
                |r| TokenRow::from_columns(r, 0),
            )
            .optional()?)
        })
    }

    /// Every token (of one municipality when given), by id; never the hash.
    ///
    /// # Errors
    /// On storage failure.
    pub fn list_tokens(&self, municipality: Option<u16>) -> Result<Vec<TokenInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, created_at, municipality, role, user, expires_at, revoked_at FROM tokens \
                 WHERE ?1 IS NULL OR municipality = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([municipality], |r| {
                Ok(TokenInfo { id: r.get(0)?, created_at: r.get(1)?, row: TokenRow::from_columns(r, 2)? })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Revokes the token `id` now; returns when it was revoked and whether this call did it
    /// (a second revoke keeps the first time).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub fn revoke_token(&self, id: i64) -> Result<(String, bool)> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let before: Option<Option<String>> =
                tx.query_row("SELECT revoked_at FROM tokens WHERE id = ?1", [id], |r| r.get(0)).optional()?;
            let out = match before {
                None => return Err(StoreError::NotFound("token")),
                Some(Some(at)) => (at, false),
                Some(None) => {
                    let at = now_rfc3339();
                    tx.execute("UPDATE tokens SET revoked_at = ?1 WHERE id = ?2", params![at, id])?;
                    (at, true)
                }
            };
            tx.commit()?;
            Ok(out)
        })
    }

    // ----- offers -----

    /// Inserts or replaces offers: (id, provider id, record JSON, model JSON, capacity).
    /// Places already reserved are kept; an update un-retires nothing.
    ///
    /// # Errors
    /// On storage failure; nothing is written then.
    pub fn upsert_offers(&self, offers: &[(String, String, String, String, u32)]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut stmt = tx.prepare(
                    "INSERT INTO offers (id, provider_id, record, model, capacity, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (id) DO UPDATE SET provider_id = excluded.provider_id,
                        record = excluded.record, model = excluded.model,
                        capacity = excluded.capacity, updated_at = excluded.updated_at",
                )?;
                let now = now_rfc3339();
                for (id, provider, record, model, capacity) in offers {
                    stmt.execute(params![id, provider, record, model, capacity, now])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Adds evidence counts (used by the demo loader and by outcomes).
    ///
    /// # Errors
    /// On storage failure.
    pub fn add_evidence(&self, rows: &[(String, String, u32, u32)]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            add_evidence_in(&tx, rows)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Marks an offer retired.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown offer.
    pub fn retire_offer(&self, id: &str) -> Result<()> {
        self.write(|c| {
            let n = c.execute(
                "UPDATE offers SET retired = 1, updated_at = ?2 WHERE id = ?1",
                params![id, now_rfc3339()],
            )?;
            if n == 0 { Err(StoreError::NotFound("offer")) } else { Ok(()) }
        })
    }

    /// Every offer, in id order, for building the catalogue.
    ///
    /// # Errors
    /// On storage failure.
    pub fn all_offers(&self) -> Result<Vec<OfferRow>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT id, model, reserved, retired FROM offers ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok(OfferRow { id: r.get(0)?, model: r.get(1)?, reserved: r.get(2)?, retired: r.get(3)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Every evidence row: (offer id, group code, trials, successes).
    ///
    /// # Errors
    /// On storage failure.
    pub fn all_evidence(&self) -> Result<Vec<(String, String, u32, u32)>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT offer_id, target_group, trials, successes FROM evidence")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// An offer's record and state: (record JSON, capacity, reserved, retired).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown offer.
    pub fn offer(&self, id: &str) -> Result<(String, u32, u32, bool)> {
        self.read(|c| {
            c.query_row("SELECT record, capacity, reserved, retired FROM offers WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?
            .ok_or(StoreError::NotFound("offer"))
        })
    }

    /// A page of offer records in id order, with remaining places and retired flag.
    ///
    /// # Errors
    /// On storage failure.
    pub fn list_offers(&self, limit: u32, offset: u32) -> Result<Vec<(String, u32, u32, bool)>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT record, capacity, reserved, retired FROM offers ORDER BY id LIMIT ?1 OFFSET ?2",
            )?;
            let rows =
                stmt.query_map(params![limit, offset], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Offers of a provider: (offer id, capacity, reserved).
    ///
    /// # Errors
    /// On storage failure.
    pub fn provider_offers(&self, provider: &str) -> Result<Vec<(String, u32, u32)>> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT id, capacity, reserved FROM offers WHERE provider_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([provider], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Evidence of one offer: (group code, trials, successes).
    ///
    /// # Errors
    /// On storage failure.
    pub fn offer_evidence(&self, offer: &str) -> Result<Vec<(String, u32, u32)>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT target_group, trials, successes FROM evidence WHERE offer_id = ?1 ORDER BY target_group",
            )?;
            let rows = stmt.query_map([offer], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    // ----- candidates -----

    /// Inserts or replaces a tenant's candidates: (id, record JSON, model JSON).
    ///
    /// # Errors
    /// On storage failure; nothing is written then.
    pub fn upsert_candidates(&self, municipality: u16, rows: &[(String, String, String)]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut stmt = tx.prepare(
                    "INSERT INTO candidates (municipality, id, record, model, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (municipality, id) DO UPDATE SET record = excluded.record,
                        model = excluded.model, updated_at = excluded.updated_at",
                )?;
                let now = now_rfc3339();
                for (id, record, model) in rows {
                    stmt.execute(params![municipality, id, record, model, now])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// A tenant's candidate: (record JSON, model JSON).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the tenant has no such candidate.
    pub fn candidate(&self, municipality: u16, id: &str) -> Result<(String, String)> {
        self.read(|c| {
            c.query_row(
                "SELECT record, model FROM candidates WHERE municipality = ?1 AND id = ?2",
                params![municipality, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(StoreError::NotFound("candidate"))
        })
    }

    /// A page of a tenant's candidate records.
    ///
    /// # Errors
    /// On storage failure.
    pub fn list_candidates(&self, municipality: u16, limit: u32, offset: u32) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT record FROM candidates WHERE municipality = ?1 ORDER BY id LIMIT ?2 OFFSET ?3",
            )?;
            let rows = stmt.query_map(params![municipality, limit, offset], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Every candidate model of a tenant, for a batch run.
    ///
    /// # Errors
    /// On storage failure.
    pub fn candidate_models(&self, municipality: u16) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT model FROM candidates WHERE municipality = ?1 ORDER BY id")?;
            let rows = stmt.query_map([municipality], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Erases a tenant's candidate. Decisions about the candidate stay: they are the
    /// authority's record and hold only the pseudonymous id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the tenant has no such candidate.
    pub fn delete_candidate(&self, municipality: u16, id: &str) -> Result<Released> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "DELETE FROM candidates WHERE municipality = ?1 AND id = ?2",
                params![municipality, id],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound("candidate"));
            }
            // The places the candidate held come back with the deletion, not later.
            let offers = held_offers(&tx, municipality, id)?;
            crate::server::ledger::release_candidate(
                &tx,
                municipality,
                id,
                crate::server::ledger::Release::CandidateDeleted,
                &now_rfc3339(),
            )?;
            tx.commit()?;
            Ok(Released { offers })
        })
    }

    // ----- decisions -----

    /// Records a decision, and what it does, in one transaction:
    ///
    /// - an accept takes one place (only if one is left: `reserved < capacity`, so concurrent
    ///   accepts never overbook) for the course from `starts_on` for the offer's
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
    pub fn decide(&self, d: &NewDecision) -> Result<(DecisionRow, u32, bool, Released)> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(key) = &d.key
                && let Some(row) = keyed_decision(&tx, d.municipality, key, &d.today)?
            {
                let same = row.candidate_id == d.candidate_id
                    && row.offer_id == d.offer_id
                    && (row.action == "accept") == d.accept
                    && row.action != "withdrawal";
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
                return Ok((row, capacity.saturating_sub(reserved), true, Released::default()));
            }
            let now = now_rfc3339();
            let mut released = Released { offers: ended_offers(&tx, &d.today)? };
            crate::server::ledger::sweep_ended(&tx, &d.today, &now)?;
            let model: String = tx
                .query_row(
                    "SELECT model FROM candidates WHERE municipality = ?1 AND id = ?2",
                    params![d.municipality, d.candidate_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound("candidate"))?;
            let (capacity, reserved, retired, offer_model): (u32, u32, bool, String) = tx
                .query_row(
                    "SELECT capacity, reserved, retired, model FROM offers WHERE id = ?1",
                    [&d.offer_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("offer"))?;
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
                    Some(target.rowid)
                }
                None => None,
            };
            let mut remaining = capacity.saturating_sub(reserved);
            let (mut starts_on, mut ends_on, mut excluded_until) = (None, None, None);
            if d.accept {
                if retired {
                    return Err(StoreError::Conflict(format!("offer {} is retired", d.offer_id)));
                }
                if let Some(running) = crate::server::ledger::running_place(&tx, d.municipality, &d.candidate_id)? {
                    return Err(StoreError::Running(running));
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
                // A place that came back in this transaction (a corrected accept on the same
                // offer) is counted in `reserved` again here.
                remaining = tx.query_row("SELECT capacity - reserved FROM offers WHERE id = ?1", [&d.offer_id], |r| r.get(0))?;
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
                "INSERT INTO decisions (municipality, number, candidate_id, offer_id, action, reason, decided_by,
                    role, suggested, target_groups, decided_at, corrects, starts_on, ends_on, excluded_until)
                 VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM decisions WHERE municipality = ?1),
                    ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING id, number",
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
                    excluded_until
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if d.accept
                && let (Some(start), Some(end)) = (&starts_on, &ends_on)
            {
                crate::server::ledger::hold(&tx, rowid, d.municipality, &d.candidate_id, &d.offer_id, start, end)?;
            }
            if let Some(key) = &d.key {
                tx.execute(
                    "INSERT INTO decision_keys (municipality, key, decision_id) VALUES (?1, ?2, ?3)",
                    params![d.municipality, key, rowid],
                )?;
            }
            let row = decision_row(&tx, d.municipality, number, &d.today)?.ok_or(StoreError::NotFound("decision"))?;
            tx.commit()?;
            Ok((row, remaining, false, released))
        })
    }

    /// Withdraws a decision: records a `withdrawal` that names it (decisions stay
    /// append-only) and, for an accept, releases its place, in one transaction. A withdrawn
    /// decline no longer keeps its offer out.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown decision or another tenant's;
    /// [`StoreError::Conflict`] for a withdrawal, or a decision already withdrawn or corrected.
    pub fn withdraw(&self, w: &NewWithdrawal) -> Result<(DecisionRow, bool, Released)> {
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
                return Ok((row, true, Released::default()));
            }
            let now = now_rfc3339();
            let mut released = Released { offers: ended_offers(&tx, &w.today)? };
            crate::server::ledger::sweep_ended(&tx, &w.today, &now)?;
            let target = standing_decision(&tx, w.municipality, w.decision)?;
            if crate::server::ledger::release(&tx, target.rowid, crate::server::ledger::Release::Withdrawn, &now)? {
                released.offers.push(target.offer_id.clone());
            }
            let (rowid, number): (i64, i64) = tx.query_row(
                "INSERT INTO decisions (municipality, number, candidate_id, offer_id, action, reason, decided_by,
                    role, suggested, target_groups, decided_at, corrects)
                 SELECT municipality, (SELECT COALESCE(MAX(number), 0) + 1 FROM decisions WHERE municipality = ?1),
                    candidate_id, offer_id, 'withdrawal', ?2, ?3, ?4, '[]', target_groups, ?5, id
                 FROM decisions WHERE id = ?6 RETURNING id, number",
                params![w.municipality, w.reason, w.decided_by, w.role, now, target.rowid],
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
            Ok((row, false, released))
        })
    }

    /// An offer's places today: reserved, running and free, which add up to the capacity.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown offer.
    pub fn offer_places(&self, offer: &str, today: &str) -> Result<crate::server::ledger::OfferPlaces> {
        self.read(|c| crate::server::ledger::offer_places(c, offer, today))
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
    ) -> Result<Vec<(String, crate::server::ledger::ActiveDecline)>> {
        self.read(|c| crate::server::ledger::active_declines(c, municipality, candidate, today))
    }

    /// Every municipality with candidates in the service (the tenants that share places), sorted.
    ///
    /// # Errors
    /// On storage failure.
    pub fn tenants(&self) -> Result<Vec<u16>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT DISTINCT municipality FROM candidates ORDER BY municipality")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The tenant's candidates holding a place today: (candidate id, offer id).
    ///
    /// # Errors
    /// On storage failure.
    pub fn held_places(&self, municipality: u16, today: &str) -> Result<Vec<(String, String)>> {
        self.read(|c| crate::server::ledger::held_places(c, municipality, today))
    }

    /// The tenant's latest finished batch run before run `before` (row id): its proposals,
    /// prices and fingerprints (JSON), for comparing a new run with it.
    ///
    /// # Errors
    /// On storage failure.
    pub fn previous_run(
        &self,
        municipality: u16,
        before: i64,
    ) -> Result<Option<(String, String, Option<String>)>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT b.proposals, b.prices, f.fingerprints FROM batch_runs b
                 LEFT JOIN batch_fingerprints f ON f.run_id = b.id
                 WHERE b.municipality = ?1 AND b.status = 'finished' AND b.id < ?2 ORDER BY b.id DESC LIMIT 1",
                params![municipality, before],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?, r.get(2)?)),
            )
            .optional()?
            .and_then(|(p, q, f)| Some((p?, q?, f))))
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

    /// Places taken today per offer, over every tenant (the shared ledger).
    ///
    /// # Errors
    /// On storage failure.
    pub fn taken_by_offer(&self, today: &str) -> Result<std::collections::HashMap<String, u32>> {
        self.read(|c| crate::server::ledger::taken_by_offer(c, today))
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

    // ----- outcomes -----

    /// Records the outcome of an accepted decision and adds it to the evidence of the offer
    /// for each of the candidate's target groups (as they were when the decision was made).
    /// Returns the offer id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for another tenant's or an unknown decision;
    /// [`StoreError::Conflict`] for a declined decision or a second outcome. Returns the offer
    /// and whether the outcome released the accept's place (it does unless the place came back
    /// already: course ended, withdrawn, candidate deleted).
    pub fn record_outcome(
        &self,
        municipality: u16,
        decision: i64,
        result: &str,
        success: bool,
        user: &str,
    ) -> Result<(String, bool)> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (rowid, offer, action, groups): (i64, String, String, String) = tx
                .query_row(
                    "SELECT id, offer_id, action, target_groups FROM decisions WHERE municipality = ?1 AND number = ?2",
                    params![municipality, decision],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("decision"))?;
            if action != "accept" {
                return Err(StoreError::Conflict("only an accepted decision has an outcome".into()));
            }
            let n = tx.execute(
                "INSERT INTO outcomes (municipality, decision_id, result, recorded_by, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (decision_id) DO NOTHING",
                params![municipality, rowid, result, user, now_rfc3339()],
            )?;
            if n == 0 {
                return Err(StoreError::Conflict("this decision already has an outcome".into()));
            }
            let rows: Vec<(String, String, u32, u32)> = groups
                .split(';')
                .filter(|g| !g.is_empty())
                .map(|g| (offer.clone(), g.to_string(), 1, u32::from(success)))
                .collect();
            add_evidence_in(&tx, &rows)?;
            // The place comes back with the outcome, in the same transaction.
            let released = crate::server::ledger::release(&tx, rowid, crate::server::ledger::Release::Outcome, &now_rfc3339())?;
            tx.commit()?;
            Ok((offer, released))
        })
    }

    // ----- batch runs -----

    /// Starts a batch run row; returns its row id (for [`Store::finish_batch`]) and the
    /// tenant's number for it (the id the API shows).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a run of this municipality is still running; on storage
    /// failure.
    pub fn start_batch(&self, municipality: u16) -> Result<(i64, i64)> {
        self.write(|c| {
            // Immediate: the check and the number are taken under one write lock, also against
            // another process on the same file.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // One run per municipality at a time: a second start while one runs would only
            // queue the same work again (and a client retrying in a loop could fill the CPU).
            let running: Option<i64> = tx
                .query_row(
                    "SELECT number FROM batch_runs WHERE municipality = ?1 AND status = 'running' LIMIT 1",
                    params![municipality],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = running {
                return Err(StoreError::Conflict(format!("batch run {id} is still running")));
            }
            let ids = tx.query_row(
                "INSERT INTO batch_runs (municipality, number, status, started_at)
                 VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM batch_runs WHERE municipality = ?1),
                    'running', ?2) RETURNING id, number",
                params![municipality, now_rfc3339()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            tx.commit()?;
            Ok(ids)
        })
    }

    /// Finishes a batch run (by row id) with its result or its error.
    ///
    /// # Errors
    /// On storage failure.
    pub fn finish_batch(
        &self,
        id: i64,
        outcome: std::result::Result<(String, String, String), String>,
    ) -> Result<()> {
        self.write(|c| {
            let now = now_rfc3339();
            match outcome {
                Ok((summary, proposals, prices)) => c.execute(
                    "UPDATE batch_runs SET status = 'finished', finished_at = ?2, summary = ?3, proposals = ?4,
                        prices = ?5 WHERE id = ?1",
                    params![id, now, summary, proposals, prices],
                )?,
                Err(error) => c.execute(
                    "UPDATE batch_runs SET status = 'failed', finished_at = ?2, error = ?3 WHERE id = ?1",
                    params![id, now, error],
                )?,
            };
            Ok(())
        })
    }

    /// A tenant's batch run by its number.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown number (another tenant's run is never found).
    pub fn batch(&self, municipality: u16, id: i64) -> Result<BatchRow> {
        self.read(|c| {
            c.query_row(
                "SELECT number, status, started_at, finished_at, error, summary, proposals FROM batch_runs
                 WHERE municipality = ?1 AND number = ?2",
                params![municipality, id],
                |r| {
                    Ok(BatchRow {
                        id: r.get(0)?,
                        status: r.get(1)?,
                        started_at: r.get(2)?,
                        finished_at: r.get(3)?,
                        error: r.get(4)?,
                        summary: r.get(5)?,
                        proposals: r.get(6)?,
                    })
                },
            )
            .optional()?
            .ok_or(StoreError::NotFound("batch run"))
        })
    }

    /// The offer prices of each tenant's latest finished run: (municipality, run number, prices
    /// JSON).
    ///
    /// # Errors
    /// On storage failure.
    pub fn latest_prices(&self) -> Result<Vec<(u16, i64, String)>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT municipality, number, prices FROM batch_runs b WHERE status = 'finished'
                 AND number = (SELECT max(number) FROM batch_runs WHERE municipality = b.municipality AND status = 'finished')",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Marks runs left `running` by a previous process as failed (they died with it).
    ///
    /// # Errors
    /// On storage failure.
    pub fn fail_interrupted_batches(&self) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE batch_runs SET status = 'failed', error = 'interrupted by a restart', finished_at = ?1
                 WHERE status = 'running'",
                [now_rfc3339()],
            )?;
            Ok(())
        })
    }

    /// True when the database answers.
    pub fn ping(&self) -> bool {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)).is_ok()
    }
}

fn add_evidence_in(tx: &rusqlite::Transaction<'_>, rows: &[(String, String, u32, u32)]) -> Result<()> {
    let mut stmt = tx.prepare(
        "INSERT INTO evidence (offer_id, target_group, trials, successes) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (offer_id, target_group) DO UPDATE SET trials = trials + excluded.trials,
            successes = successes + excluded.successes",
    )?;
    for (offer, group, trials, successes) in rows {
        stmt.execute(params![offer, group, trials, successes])?;
    }
    Ok(())
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
const DECISION_COLUMNS: &str =
    "number, municipality, candidate_id, offer_id, action, reason, decided_by, role, suggested, decided_at,
    (SELECT x.number FROM decisions x WHERE x.id = decisions.corrects),
    (SELECT x.number FROM decisions x WHERE x.corrects = decisions.id ORDER BY x.id LIMIT 1),
    starts_on, ends_on, excluded_until,
    (SELECT p.released_why FROM places p WHERE p.decision_id = decisions.id)";

fn decision_from(r: &rusqlite::Row<'_>, today: &str) -> rusqlite::Result<DecisionRow> {
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
fn ended_offers(c: &Connection, today: &str) -> Result<Vec<String>> {
    let mut stmt =
        c.prepare_cached("SELECT offer_id FROM places WHERE released_at IS NULL AND ends_on < ?1")?;
    let rows = stmt.query_map([today], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The offers of the places a candidate holds (one entry per place).
fn held_offers(c: &Connection, municipality: u16, candidate: &str) -> Result<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_batch_run_per_municipality_at_a_time() {
        let dir = std::env::temp_dir().join(format!("brobygger-store-batch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("batch.db");
        let _ = std::fs::remove_file(&db);
        let store = Store::open(&db).expect("open");
        let (first, number) = store.start_batch(101).expect("first run starts");
        match store.start_batch(101) {
            Err(StoreError::Conflict(text)) => assert!(text.contains(&number.to_string()), "{text}"),
            other => panic!("a second run of 101 while the first runs: {other:?}"),
        }
        // Another municipality is not held up; once the first run ends, 101 may start again.
        store.start_batch(147).expect("another municipality starts");
        store.finish_batch(first, Err("stopped by the test".into())).expect("finish");
        store.start_batch(101).expect("101 starts again");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
