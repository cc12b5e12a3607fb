//! SQLite storage: one file, WAL, one writer connection behind a mutex and a small pool of
//! reader connections. Every function here blocks: callers reach it through
//! `tokio::task::spawn_blocking` (the API's `blocking` helper in `server/api/mod.rs`).
//!
//! Durability: `synchronous = FULL` on the writer, so a commit is on disk (the WAL is
//! fsynced) before the call returns and therefore before a client sees a 2xx. WAL with
//! `NORMAL` would only lose the last commits on power loss, not on `kill -9`, but decisions
//! are legal records and the measured cost of FULL is acceptable (`docs/service.md`).
//! The audit logs (suggestion log, access log) live in a file of their own beside it,
//! [`logs_path`] (`matcher.db-logs` beside `matcher.db`), written by their own connection
//! with `synchronous = NORMAL`: a log commit is in that file's WAL (safe from `kill -9`) but
//! fsynced only at its checkpoints (every ~1.6 MB, [`LOG_CHECKPOINT_PAGES`], so that the
//! records' fsyncs never queue behind a large flush of logs), so a power loss may lose the
//! last log batches, as it already could lose the answers still queued in `server::audit_log`
//! (`docs/accountability.md`). Apart, the log's ~100 commits a second neither empty the
//! records' connections' page caches nor grow the WAL the records are written through (issue
//! 18, `schema::to_v14_logs_apart`). Readers attach the logs' file as `logs`; the records'
//! file has no log tables, so a query names them unqualified. Whoever copies the database
//! copies both files (each with its `-wal`).
//!
//! Tenancy: candidate, decision, outcome, batch-run, contract and comment rows carry the municipality, and every
//! query of them filters on it, so another tenant's row is indistinguishable from a missing
//! one. Decisions and batch runs are shown by a per-tenant `number`, never by the row id,
//! whose sequence is shared by all tenants. Decisions are append-only, enforced by triggers as
//! well as by the absence of routes.

use decisions::ended_offers;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
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
    /// The offer belongs to another municipality (offers are shared to read, owned to change).
    #[error("{0}")]
    NotOwner(String),
    /// A field of the request contradicts what is stored (e.g. a date before the benefit's
    /// start): answered as a 422 naming the field.
    #[error("{path}: {reason}")]
    Invalid {
        /// JSON Pointer of the field.
        path: &'static str,
        /// The value.
        value: String,
        /// Why.
        reason: String,
    },
    /// An offers write would take the offers over the distinct languages the scorer keeps
    /// (`matcher_core::model::limits::MAX_LANGUAGES`); nothing was written. Answered as a 422
    /// naming the offer of the write that goes over.
    #[error(
        "offer {offer}: its languages would make {count} distinct languages over all offers; at most {max} are supported"
    )]
    TooManyLanguages {
        /// Its place in the write (0-based), for the field's path.
        index: usize,
        /// Its id.
        offer: String,
        /// Its languages, `;`-separated as the record writes them.
        languages: String,
        /// Distinct languages with it.
        count: usize,
        /// The most there may be.
        max: usize,
    },
    /// The offer does not serve the deciding municipality (`serves_municipalities`).
    #[error("{0}")]
    NotServed(String),
    /// A database file of a newer schema than this program knows.
    #[error("database schema version {found}; this matcher knows up to {known}: use a newer matcher")]
    NewerSchema {
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The newest version this program migrates to.
        known: i64,
    },
    /// A logs' file ([`logs_path`]) of a newer schema than this program knows.
    #[error(
        "the logs' database file {logs} has schema version {found}; this matcher knows up to {known}: use a newer matcher"
    )]
    NewerLogsSchema {
        /// The file.
        logs: String,
        /// `PRAGMA user_version` of the logs' file.
        found: i64,
        /// The newest version this program migrates it to.
        known: i64,
    },
    /// The database has kept its logs in a file of its own ([`logs_path`]), which is gone.
    #[error(
        "the logs' database file {} is missing: this database keeps its suggestion and access logs there. Restore it from the copy made with the database (copy both files), or, to start new logs knowingly, create it empty (touch {})",
        .logs.display(), .logs.display()
    )]
    LogsMissing {
        /// Where it should be.
        logs: PathBuf,
    },
    /// The logs' file beside the database belongs to another database.
    #[error(
        "the logs' database file {} belongs to another database: move it away, or put back the database it came with",
        .logs.display()
    )]
    LogsOfAnotherDatabase {
        /// The file.
        logs: PathBuf,
    },
    /// A mutex was poisoned by a panic in another request.
    #[error("storage lock poisoned")]
    Poisoned,
}

/// Shorthand.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The SQL of the next number a tenant (`?1`) gives a row of `$table`: one more than the
/// larger of the table's highest and the highest `numbers` says retention deleted, so a number
/// is never given twice even after retention deleted the rows with the highest numbers
/// (`schema::to_v8_numbers`, `store::retention`). Runs inside the insert, under the write lock.
macro_rules! next_number {
    ($table:literal) => {
        concat!(
            "(SELECT max(COALESCE((SELECT MAX(number) FROM ",
            $table,
            " WHERE municipality = ?1), 0), COALESCE((SELECT last FROM numbers WHERE municipality = ?1 AND tbl = '",
            $table,
            "'), 0)) + 1)"
        )
    };
}

mod access_log;
mod batch_runs;
mod candidates;
mod cases;
mod citizen;
mod comments;
mod decisions;
mod history;
mod offers;
mod outcomes;
mod oversight;
mod overview;
mod providers;
mod retention;
mod schema;
mod suggestion_log;
mod tokens;

pub use access_log::{AccessRow, NewAccess};
pub use batch_runs::{BatchRow, PricesRow, StartedBatch};
pub use candidates::CandidateRow;
pub use cases::{CaseworkerRow, NewCase, OpenCase, TeamCaseRow};
pub use citizen::CandidateOutcome;
pub use comments::{CommentRow, NewComment};
pub use decisions::{
    Decided, DecisionPage, DecisionRow, NewDecision, NewWithdrawal, NightPlaces, Released, StoredRun,
    Withdrawn,
};
pub use history::{CaseMixAtStart, ExitResult, HistoryRow, NewExit, RecordedExit, weeks_between};
pub use offers::{
    CatalogueRows, EvidenceRow, GroupEvidence, LearningRows, ListedOffer, NewOffer, OfferOnDay,
    OfferQualityRows, OfferRow, OfferState, ProviderOfferRow, ProviderQualityRows,
};
pub use oversight::DecisionShown;
pub use overview::AcceptCount;
pub use providers::{ContractFilter, ContractRow, ContractTerms, ProviderRow};
pub use retention::{RetentionCutoffs, RetentionDeleted};
use schema::migrate;
pub use schema::{LOGS_SCHEMA_VERSION, SCHEMA_VERSION};
pub use suggestion_log::{NewSuggestionLogEntry, SuggestionLogRow};
pub use tokens::{RevokedToken, TokenInfo, TokenRow};

/// The database: a writer behind a mutex and reusable readers.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    /// The audit logs' writer (`append_audit`): the connection to the logs' own file
    /// ([`logs_path`]) with `synchronous = NORMAL`, so a log commit does not wait for an fsync
    /// (see the module header); the authority's records keep `FULL` on `writer`.
    log_writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// The orderer's overview: the last count of standing accepts (`overview.rs`).
    accepts: overview::AcceptsCache,
}

/// The audit logs' file beside the database file `db`: its name with `-logs` added, so that
/// `matcher.db*` names every file of one database (`matcher.db`, `matcher.db-logs` and their
/// `-wal` and `-shm`).
pub fn logs_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-logs");
    PathBuf::from(name)
}

/// Attaches the logs' file as schema `logs` (read-only on a read-only connection).
fn attach_logs(conn: &Connection, logs: &Path) -> Result<()> {
    let Some(text) = logs.to_str() else {
        return Err(StoreError::Conflict(format!(
            "the logs' database file {} has a name that is not text",
            logs.display()
        )));
    };
    conn.execute("ATTACH DATABASE ?1 AS logs", [text])?;
    Ok(())
}

fn open(path: &Path, write: bool) -> Result<Connection> {
    let flags = if write {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // The query planner's stability guarantee: plans never depend on the values bound. Without
    // it, SQLite (built with STAT4) marks statements comparing an indexed column with a bound
    // value to be prepared again whenever that value changes, so a cached statement was parsed
    // and planned anew on every call: the candidate's running place and its declines cost
    // 51 and 74 µs a query instead of 4 µs (a tenth of the CPU of `POST /v1/suggestions`).
    // There are no statistics tables to plan from anyway; the plans are the same.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    if write {
        // 16 KB pages: a packed suggestion-log row (~2–3 KB) left most of a 4 KB page empty,
        // one row per page. Takes effect only when the file is created; an existing file
        // keeps its page size (a no-op here).
        conn.pragma_update(None, "page_size", 16_384)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    Ok(conn)
}

/// Pages (16 KB) of the logs' WAL after which the log writer checkpoints: ~1.6 MB, about a
/// tenth of a second of suggestion logs at 5,000 answers a second. SQLite's default (1,000
/// pages, 16 MB) let the log's data pile up in the page cache and reach the disk in bursts of
/// 16 MB (the WAL's sync before a checkpoint, then the file's after it), and the records'
/// commits, fsynced on the same disk, waited behind them: outcome writes beside 5,000
/// suggestions a second had p99 11.5–19.2 ms in 9 runs, with this 6.1–9.7 ms in 9 of 11
/// (`docs/performance.md`, session 21). It also bounds what a power loss can take from the
/// logs to about that much.
const LOG_CHECKPOINT_PAGES: i64 = 100;

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
    /// Opens (creating if needed) the database file and its logs' file ([`logs_path`]) and
    /// brings their schemas to [`SCHEMA_VERSION`] and [`LOGS_SCHEMA_VERSION`]; a file from
    /// before version 14 has its logs moved out on the way (`schema::to_v14_logs_apart`).
    ///
    /// # Errors
    /// When a file cannot be opened, its schema cannot be migrated, or it is newer than
    /// this program.
    pub fn open(path: &Path) -> Result<Store> {
        let mut writer = open(path, true)?;
        schema::check_version(&writer)?;
        // A database and its logs' file are a pair: a missing logs' file is not silently
        // started anew, and another database's is not taken over (their rows would be served
        // as this one's).
        let logs = logs_path(path);
        let id = schema::database_id(&writer)?;
        if id.is_some() && !logs.exists() {
            return Err(StoreError::LogsMissing { logs });
        }
        // The logs' file first: the records' file's last migration moves its logs there.
        let mut log_writer = open(&logs, true)?;
        schema::migrate_logs(&mut log_writer)?;
        log_writer.pragma_update(None, "synchronous", "NORMAL")?;
        log_writer.pragma_update(None, "wal_autocheckpoint", LOG_CHECKPOINT_PAGES)?;
        match (id, schema::logs_of(&log_writer)?) {
            (Some(id), Some(of)) if id != of => return Err(StoreError::LogsOfAnotherDatabase { logs }),
            // A file from before the logs moved has no logs' file of its own yet.
            (None, Some(_)) => return Err(StoreError::LogsOfAnotherDatabase { logs }),
            _ => {}
        }
        migrate(&mut writer)?;
        match schema::database_id(&writer)? {
            Some(id) => schema::pair_logs(&log_writer, &id)?,
            None => return Err(StoreError::Conflict("the database has no id after its migrations".into())),
        }
        Ok(Store {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            log_writer: Mutex::new(log_writer),
            readers: Mutex::new(Vec::new()),
            accepts: overview::AcceptsCache::default(),
        })
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

    /// Runs `f` on the audit logs' writer connection (`synchronous = NORMAL`).
    fn write_log<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.log_writer.lock().map_err(|_| StoreError::Poisoned)?;
        f(&mut conn)
    }

    /// Runs `f` on a reader connection, opening one when none is free.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.readers.lock().map_err(|_| StoreError::Poisoned)?.pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = open(&self.path, false)?;
                attach_logs(&c, &logs_path(&self.path))?;
                c
            }
        };
        let out = f(&conn);
        // A connection left inside a transaction (a rollback that failed) would answer every
        // later read from its old snapshot: it is dropped, not pooled.
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < 16
            && conn.is_autocommit()
        {
            pool.push(conn);
        }
        out
    }

    /// [`Store::read`] inside one read transaction: every statement of `f` reads the same
    /// snapshot of the file. Without it each statement is its own transaction, so a write that
    /// commits between two of them is seen by the second only: an accept that turns a
    /// candidate's record lock into a ledger place was counted by an answer once as recorded
    /// and once as reserved. (WAL: the writer does not wait for the snapshot.)
    fn read_snapshot<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.read(|c| {
            let tx = c.unchecked_transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, empty directory for one test's files (this process's, under the system's
    /// temporary directory).
    fn fresh_dir(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("brobygger-store-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn one_batch_run_per_municipality_at_a_time() {
        let dir = std::env::temp_dir().join(format!("brobygger-store-batch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("batch.db");
        let _ = std::fs::remove_file(&db);
        let _ = std::fs::remove_file(logs_path(&db));
        let store = Store::open(&db).expect("open");
        let first = store.start_batch(101).expect("first run starts");
        match store.start_batch(101) {
            Err(StoreError::Conflict(text)) => assert!(text.contains(&first.number.to_string()), "{text}"),
            other => panic!("a second run of 101 while the first runs: {other:?}"),
        }
        // Another municipality is not held up; once the first run ends, 101 may start again.
        store.start_batch(147).expect("another municipality starts");
        store.finish_batch(first.row_id, Err("stopped by the test".into())).expect("finish");
        store.start_batch(101).expect("101 starts again");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A store holding the demo's offers and one candidate whose own record says a course is
    /// under way on one of them (a record lock), with the accept that turns that claim into a
    /// ledger place: (directory, store, offer id, accept, the demo's offers).
    fn record_lock_store(
        label: &str,
    ) -> (std::path::PathBuf, Store, String, NewDecision, Vec<std::sync::Arc<matcher_core::model::Offer>>)
    {
        use crate::server::catalogue::StoredCandidate;
        use matcher_core::model::ReferenceData;
        let dir = std::env::temp_dir().join(format!("brobygger-store-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("snapshot.db");
        let _ = std::fs::remove_file(&db);
        let _ = std::fs::remove_file(logs_path(&db));
        let store = Store::open(&db).expect("open");
        let reference = ReferenceData::embedded().expect("reference");
        let data = matcher_core::r#gen::generate(matcher_core::r#gen::Scale::Demo, 1, &reference);
        let offers: Vec<NewOffer> = data
            .offers
            .iter()
            .map(|o| NewOffer {
                id: o.id.to_string(),
                provider_id: o.provider.to_string(),
                record: "{}".into(),
                model: serde_json::to_string(o).expect("offer model"),
                capacity: o.capacity,
            })
            .collect();
        store.upsert_offers(&offers).expect("offers");
        // A candidate whose record says a course is under way on an offer that serves them.
        let (candidate, offer) = data
            .candidates
            .iter()
            .find_map(|c| {
                let current = c.current.as_ref().filter(|a| a.locked)?;
                let o = data.offers.iter().find(|o| o.id == current.offer)?;
                let served =
                    o.serves_municipalities.is_empty() || o.serves_municipalities.contains(&c.municipality);
                (served && o.capacity > 0).then(|| (c.clone(), o.id.to_string()))
            })
            .expect("the demo has a course under way");
        let municipality = candidate.municipality.0;
        let group_codes = candidate
            .target_groups
            .iter()
            .filter_map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.code.clone()))
            .collect();
        let model = serde_json::to_string(&StoredCandidate { candidate: candidate.clone(), group_codes })
            .expect("candidate model");
        let row = CandidateRow { id: candidate.id.to_string(), record: "{}".into(), model };
        store.upsert_candidates(municipality, &[row]).expect("candidate");
        let today = matcher_core::r#gen::AS_OF.to_string();
        let accept = NewDecision {
            municipality,
            candidate_id: candidate.id.to_string(),
            offer_id: offer.clone(),
            accept: true,
            reason: "the course under way, recorded".into(),
            decided_by: "test".into(),
            employer: "test".into(),
            role: "caseworker".into(),
            suggested: vec![],
            key: None,
            today: today.clone(),
            starts_on: None,
            decline_days: 0,
            corrects: None,
            kind_codes: reference.benefit_kinds.iter().map(|k| k.code.clone()).collect(),
        };
        (dir, store, offer, accept, data.offers)
    }

    /// An accept that lands between two reads of one answer turns a candidate's record lock
    /// into a ledger place. Read from one snapshot, as the quality routes read, the answer
    /// counts that place once: as recorded, not also as reserved.
    #[test]
    fn an_accept_between_two_reads_of_one_snapshot_is_seen_by_neither() {
        let (dir, store, offer, accept, offers) = record_lock_store("snapshot");
        let today = accept.today.clone();
        let (recorded, reserved) = store
            .read_snapshot(|c| {
                let recorded = crate::server::ledger::recorded_locks_on(c, &offer, &today, None)?;
                store.decide(&accept).expect("the accept commits while the snapshot is open");
                let reserved: u32 =
                    c.query_row("SELECT reserved FROM offers WHERE id = ?1", [&offer], |r| r.get(0))?;
                Ok((recorded, reserved))
            })
            .expect("snapshot");
        assert_eq!((recorded, reserved), (1, 0), "one place, counted once, as before the accept");
        // After it, the quality reads see the place in the ledger, and only there.
        let after = store.offer_quality(&offer, &today).expect("quality");
        assert_eq!((after.recorded, after.state.reserved), (0, 1));
        let provider = offers.iter().find(|o| o.id.as_str() == offer).map(|o| o.provider.to_string());
        let by_provider =
            store.provider_quality(&provider.expect("provider"), &today).expect("provider quality");
        let reserved: u32 = by_provider.offers.iter().map(|o| o.reserved).sum();
        assert_eq!((by_provider.recorded, reserved), (0, 1));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// While a caseworker accepts and withdraws the course a candidate's record claims, every
    /// read that counts that offer's places (an offer page, one offer, the night's shares, the
    /// catalogue's build) counts the one place exactly once: as a place or as a record lock.
    /// Each read is one snapshot; read in separate statements, the accept or the withdrawal
    /// landed between them and the place was counted twice or not at all.
    #[test]
    fn every_read_of_an_offers_places_counts_a_claimed_place_once() {
        let (dir, store, offer, accept, _) = record_lock_store("places-once");
        let today = accept.today.clone();
        let store = std::sync::Arc::new(store);
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (store, done) = (store.clone(), done.clone());
            std::thread::spawn(move || {
                for _ in 0..150 {
                    let decided = store.decide(&accept).expect("accept");
                    let withdrawal = NewWithdrawal {
                        municipality: accept.municipality,
                        decision: decided.decision.id,
                        reason: "entered by mistake".into(),
                        decided_by: "test".into(),
                        employer: "test".into(),
                        role: "caseworker".into(),
                        key: None,
                        today: accept.today.clone(),
                    };
                    store.withdraw(&withdrawal).expect("withdraw");
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        let (mut reads, mut as_place, mut as_lock) = (0u32, 0u32, 0u32);
        let mut wrong = Vec::new();
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let one = store.offer_on(&offer, &today).expect("offer");
            let places = &one.places;
            let page = store.list_offers(10_000, 0, &today).expect("page");
            let listed = page.iter().find(|o| o.state.id == offer).expect("listed");
            let night = store.night_places(&today).expect("night");
            let built = store.catalogue_rows(&today).expect("catalogue");
            let row = built.offers.iter().find(|o| o.id == offer).expect("built");
            let counts = [
                ("offer", places.reserved + places.running + places.recorded),
                ("offer's counter", one.state.reserved + places.recorded),
                ("page", listed.state.reserved + listed.recorded),
                (
                    "night",
                    night.taken.get(&offer).copied().unwrap_or(0)
                        + night.recorded.get(&offer).copied().unwrap_or(0),
                ),
                ("catalogue", row.reserved + built.recorded.get(&offer).copied().unwrap_or(0)),
            ];
            wrong.extend(counts.iter().filter(|(_, n)| *n != 1).map(|(what, n)| format!("{what}: {n}")));
            reads += 1;
            if places.recorded == 1 {
                as_lock += 1;
            } else {
                as_place += 1;
            }
        }
        writer.join().expect("writer");
        assert!(wrong.is_empty(), "counted other than once in {} of {reads} reads: {wrong:?}", wrong.len());
        // Both states were read, so the reads did overlap the writes.
        assert!(as_place > 0 && as_lock > 0, "place {as_place}, lock {as_lock} of {reads} reads");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A suggestion-log entry of `municipality` for `candidate_id` with `answer`.
    fn log_entry(municipality: u16, candidate_id: &str, answer: bytes::Bytes) -> NewSuggestionLogEntry {
        NewSuggestionLogEntry {
            municipality,
            shown_at: "2026-09-02T10:00:00.000Z".into(),
            source: "api",
            requested_by: "cw".into(),
            role: "caseworker".into(),
            candidate_id: candidate_id.into(),
            offers_version: 2,
            batch_run_id: None,
            engine_version: "matcher 0.1.0".into(),
            policy_name: "national".into(),
            policy_hash: "p".into(),
            reference_hash: "r".into(),
            answer,
            offer_ids: String::new(),
        }
    }

    /// A database file as version 13 (the last before the logs moved) made it.
    fn file_at_v13(db: &Path) -> Connection {
        let mut c = open(db, true).expect("open");
        schema::run_steps(&mut c, &schema::MIGRATIONS[..13], 0).expect("migrations");
        c
    }

    /// A file of version 13 keeps its logs in its own tables; opening it moves them to the
    /// logs' file, all of them once, even when an earlier open stopped half way, and the
    /// numbers go on from where they were (retention's kept highest included).
    #[test]
    fn logs_of_an_older_file_move_to_their_own_file_once() {
        let dir = fresh_dir("logs-apart");
        let db = dir.join("old.db");
        {
            let c = file_at_v13(&db);
            // 45,000 suggestion-log rows of 0101 (more than two of the move's batches), one
            // of 0851 numbered after rows retention deleted, and two access-log rows.
            c.execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 45000)
                 INSERT INTO suggestion_log (municipality, number, shown_at, source, requested_by, role,
                    candidate_id, offers_version, batch_run_id, engine_version, policy_name, policy_hash,
                    reference_hash, answer, offer_ids)
                 SELECT 101, i, '2026-09-01T10:00:00.000Z', 'api', 'cw', 'caseworker', 'cand-' || i, 1, NULL,
                    'matcher 0.1.0', 'national', 'p', 'r', '{\"n\":' || i || '}', 'course-1' FROM n;
                 INSERT INTO suggestion_log (municipality, number, shown_at, source, requested_by, role,
                    candidate_id, offers_version, batch_run_id, engine_version, policy_name, policy_hash,
                    reference_hash, answer, offer_ids)
                 VALUES (851, 51, '2026-09-01T10:00:00.000Z', 'batch', 'system', 'system', 'cand-a1', 1, 3,
                    'matcher 0.1.0', 'national', 'p', 'r', '{}', NULL);
                 INSERT INTO numbers (municipality, tbl, last) VALUES (851, 'suggestion_log', 50),
                    (851, 'access_log', 7), (851, 'decisions', 4);
                 INSERT INTO access_log (municipality, number, at, user, role, employer, action, candidate_id, request_id)
                 VALUES (101, 1, '2026-09-01T10:00:00Z', 'cw', 'caseworker', '0101', 'read', 'cand-1', 'r1'),
                        (851, 8, '2026-09-01T10:00:00Z', 'cw', 'caseworker', '0851', 'read', 'cand-a1', 'r2');",
            )
            .expect("old rows");
        }
        // An earlier open stopped after its first batch: the logs' file holds 20,000 rows.
        {
            let mut logs = open(&logs_path(&db), true).expect("logs file");
            schema::migrate_logs(&mut logs).expect("logs schema");
            logs.execute("ATTACH DATABASE ?1 AS old", [db.to_str().expect("path")]).expect("attach");
            logs.execute_batch(
                "INSERT INTO suggestion_log SELECT * FROM old.suggestion_log WHERE id <= 20000;",
            )
            .expect("first batch");
        }
        let store = Store::open(&db).expect("the old file opens");
        let count = |c: &Connection, sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).expect(sql) };
        let main = Connection::open(&db).expect("records' file");
        assert_eq!(
            count(&main, "SELECT count(*) FROM sqlite_master WHERE name IN ('suggestion_log', 'access_log')"),
            0,
            "the records' file has no logs left"
        );
        assert_eq!(count(&main, "SELECT count(*) FROM numbers WHERE tbl LIKE '%_log'"), 0);
        assert_eq!(count(&main, "SELECT last FROM numbers WHERE tbl = 'decisions'"), 4);
        assert_eq!(count(&main, "PRAGMA user_version"), SCHEMA_VERSION);
        let logs = Connection::open(logs_path(&db)).expect("logs' file");
        assert_eq!(count(&logs, "SELECT count(*) FROM suggestion_log"), 45_001);
        assert_eq!(count(&logs, "SELECT count(DISTINCT id) FROM suggestion_log"), 45_001);
        assert_eq!(count(&logs, "SELECT count(*) FROM access_log"), 2);
        assert_eq!(
            count(&logs, "SELECT last FROM numbers WHERE municipality = 851 AND tbl = 'suggestion_log'"),
            50
        );
        // Read through the store as before, answers as written.
        let rows = store.suggestion_log(101, "cand-44999", None, 0, 10).expect("read");
        assert_eq!((rows.len(), rows[0].answer.as_str()), (1, "{\"n\":44999}"));
        assert_eq!(store.access_log(851, None, 0, 10).expect("access").len(), 1);
        // New rows continue each tenant's numbers.
        let entry = |m: u16| log_entry(m, "cand-new", bytes::Bytes::from_static(b"{}"));
        store.append_suggestions(&[entry(101), entry(851)]).expect("append");
        let numbers: Vec<i64> = [101u16, 851]
            .iter()
            .map(|&m| store.suggestion_log(m, "cand-new", None, 0, 10).expect("read")[0].number)
            .collect();
        assert_eq!(numbers, [45_001, 52]);
        // Append-only in the logs' file too.
        let refused = logs.execute("DELETE FROM suggestion_log WHERE municipality = 851", []);
        assert!(refused.is_err_and(|e| e.to_string().contains("append-only")));
        drop(store);
        // Opening again moves nothing more.
        drop(Store::open(&db).expect("reopen"));
        assert_eq!(count(&logs, "SELECT count(*) FROM suggestion_log"), 45_003);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The log writer checkpoints its file every [`LOG_CHECKPOINT_PAGES`], so the logs' data
    /// reaches the disk in small flushes and the records' fsyncs never wait behind a large
    /// one: its WAL stays near 1.6 MB while much more is written (SQLite's default would let
    /// it grow to 16 MB).
    #[test]
    fn the_logs_wal_is_checkpointed_every_hundred_pages() {
        let dir = fresh_dir("log-ckpt");
        let db = dir.join("m.db");
        let store = Store::open(&db).expect("open");
        // Answers that deflate hardly packs (letters from a xorshift), ~20 KB each on disk.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut answer = || {
            let text: String = (0..20_000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from(b'a' + (x % 26) as u8)
                })
                .collect();
            bytes::Bytes::from(format!("{{\"x\":\"{text}\"}}"))
        };
        let wal = PathBuf::from(format!("{}-wal", logs_path(&db).display()));
        let mut largest = 0;
        for batch in 0..25 {
            let entries: Vec<NewSuggestionLogEntry> =
                (0..20).map(|i| log_entry(101, &format!("cand-{batch}-{i}"), answer())).collect();
            store.append_suggestions(&entries).expect("append");
            largest = largest.max(std::fs::metadata(&wal).expect("the logs' WAL").len());
        }
        let file = std::fs::metadata(logs_path(&db)).expect("the logs' file").len();
        assert!(file > 6_000_000, "{file} bytes checkpointed into the logs' file");
        // 100 pages and one batch's (~20 pages) before the checkpoint that follows it.
        assert!(largest < 2_500_000, "the logs' WAL reached {largest} bytes");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A database and its logs' file are a pair: without its logs' file a database does not
    /// open (unless an empty one is put there knowingly), and another database's logs' file
    /// is refused, whichever of the two is older.
    #[test]
    fn a_database_opens_only_with_its_own_logs_file() {
        let dir = fresh_dir("pairs");
        let (a, b) = (dir.join("a.db"), dir.join("b.db"));
        drop(Store::open(&a).expect("a"));
        drop(Store::open(&b).expect("b"));
        let gone = |db: &Path| {
            for suffix in ["", "-wal", "-shm"] {
                let mut name = logs_path(db).into_os_string();
                name.push(suffix);
                let _ = std::fs::remove_file(name);
            }
        };
        gone(&a);
        match Store::open(&a) {
            Err(e @ StoreError::LogsMissing { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(&logs_path(&a).display().to_string()) && text.contains("touch"),
                    "{text}"
                )
            }
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("a database without its logs' file opened"),
        }
        assert!(!logs_path(&a).exists(), "the refusal made no file");
        std::fs::write(logs_path(&a), b"").expect("an empty logs' file, put there knowingly");
        drop(Store::open(&a).expect("new logs, knowingly"));
        // b's logs' file beside a.
        gone(&a);
        std::fs::copy(logs_path(&b), logs_path(&a)).expect("copy");
        assert!(matches!(Store::open(&a), Err(StoreError::LogsOfAnotherDatabase { .. })));
        // And beside a file from before the logs moved (no id yet): refused too.
        let old = dir.join("old.db");
        drop(file_at_v13(&old));
        std::fs::copy(logs_path(&b), logs_path(&old)).expect("copy");
        assert!(matches!(Store::open(&old), Err(StoreError::LogsOfAnotherDatabase { .. })));
        // A logs' file of a newer schema is refused with its name.
        let newer = dir.join("newer.db");
        drop(Store::open(&newer).expect("newer"));
        Connection::open(logs_path(&newer))
            .expect("logs' file")
            .pragma_update(None, "user_version", LOGS_SCHEMA_VERSION + 1)
            .expect("version");
        match Store::open(&newer) {
            Err(e @ StoreError::NewerLogsSchema { .. }) => {
                assert!(e.to_string().contains("newer.db-logs"), "{e}")
            }
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("a logs' file of a newer schema was opened"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The languages check of an offer write reads the lists from their index: at national
    /// scale a scan that parsed every offer's model cost ~25 ms of each write.
    #[test]
    fn the_languages_check_reads_only_its_index() {
        let dir = std::env::temp_dir().join(format!("brobygger-store-languages-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("languages.db");
        let _ = std::fs::remove_file(&db);
        let _ = std::fs::remove_file(logs_path(&db));
        let store = Store::open(&db).expect("open");
        let plan: Vec<String> = store
            .read(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {}", offers::LANGUAGE_LISTS))?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .expect("plan");
        // The indexed expression is read from the index (SQLite calls the scan covering or
        // not depending on its version; the list is never parsed from the model either way).
        assert!(plan.len() == 1 && plan[0].contains("INDEX offers_languages"), "{plan:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
