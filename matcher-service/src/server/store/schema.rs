//! The schema and its migrations, numbered by `PRAGMA user_version`. Owns every `CREATE`
//! and `ALTER`; no queries of rows.

use super::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

pub(super) const SCHEMA: &str = r#"
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
pub(super) const DECISIONS_NO_UPDATE: &str =
    "CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;";

/// Brings a `tokens` table made before ids, expiry and revocation up to date:
/// `CREATE TABLE IF NOT EXISTS` leaves an existing table as it is. Old tokens get ids in
/// their creation (rowid) order and no expiry, so an upgrade never locks an integration out
/// on a date nobody chose; `matcher token list` shows them as `never` to be replaced.
/// One immediate transaction: a server and a `matcher token` command opening the same old
/// file at once migrate it once, and a failure leaves the file as it was.
pub(super) fn migrate_tokens(conn: &mut Connection) -> Result<()> {
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
pub(super) fn migrate_numbers(conn: &mut Connection) -> Result<()> {
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

/// The schema's migrations, numbered by `PRAGMA user_version`: `MIGRATIONS[v]` brings a file
/// at version `v` to `v + 1`. Append only; never change a migration that has shipped.
///
/// Version 0 is a new, empty file or a file from before versions were kept (which of three
/// historical shapes it has is told by its columns); `to_v1` creates what is missing and
/// brings any of those shapes to the schema of version 1. Every migration is idempotent, so a
/// crash between a migration and the version update only repeats it.
pub(super) const MIGRATIONS: &[fn(&mut Connection) -> Result<()>] = &[
    to_v1,
    to_v2,
    to_v3,
    to_v4_caseloads,
    to_v5_history,
    to_v6_oversight_retention,
    to_v7_providers,
    to_v8_numbers,
    to_v9_offer_languages,
    to_v10_recorded_locks,
    to_v11_comments_retention,
    to_v12_outcomes_past,
    to_v13_episodes_offer,
    to_v14_logs_apart,
];

/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 0 → 1: the tables, then the column probes of the files made before versions.
pub(super) fn to_v1(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(SCHEMA)?;
    migrate_tokens(conn)?;
    migrate_numbers(conn)
}

/// Version 1 → 2 (issue 14): decisions may be withdrawals and carry the chain, the course's
/// days and a decline's end; the `places` ledger and the runs' fingerprints
/// (`server::ledger::migrate`, idempotent like the others).
pub(super) fn to_v2(conn: &mut Connection) -> Result<()> {
    crate::server::ledger::migrate(conn, DECISIONS_NO_UPDATE)
}

/// The two logs as version 3 made them (the records' file's `to_v3`, and the logs' own file's
/// first step, [`logs_v1`]).
const LOG_TABLES_V3: &str = "CREATE TABLE IF NOT EXISTS suggestion_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            municipality INTEGER NOT NULL,
            number INTEGER NOT NULL,
            shown_at TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('api', 'batch')),
            requested_by TEXT NOT NULL,
            role TEXT NOT NULL,
            candidate_id TEXT NOT NULL,
            offers_version INTEGER NOT NULL,
            batch_run_id INTEGER,
            engine_version TEXT NOT NULL,
            policy_name TEXT NOT NULL,
            policy_hash TEXT NOT NULL,
            reference_hash TEXT NOT NULL,
            answer TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS suggestion_log_number ON suggestion_log (municipality, number);
        CREATE INDEX IF NOT EXISTS suggestion_log_candidate ON suggestion_log (municipality, candidate_id, number);
        CREATE TRIGGER IF NOT EXISTS suggestion_log_no_update BEFORE UPDATE ON suggestion_log
        BEGIN SELECT RAISE(ABORT, 'the suggestion log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS suggestion_log_no_delete BEFORE DELETE ON suggestion_log
        BEGIN SELECT RAISE(ABORT, 'the suggestion log is append-only'); END;
        CREATE TABLE IF NOT EXISTS access_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            municipality INTEGER NOT NULL,
            number INTEGER NOT NULL,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            role TEXT NOT NULL,
            employer TEXT NOT NULL,
            action TEXT NOT NULL,
            candidate_id TEXT NOT NULL,
            request_id TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS access_log_number ON access_log (municipality, number);
        CREATE INDEX IF NOT EXISTS access_log_candidate ON access_log (municipality, candidate_id, number);
        CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
        BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
        BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;";

/// Version 2 → 3 (issue 17): the suggestion log (`store::suggestion_log`) and the access log
/// (`store::access_log`), append-only by triggers, their
/// rows numbered per tenant as decisions are; and the decider's `employer` stored on each
/// decision (from the verified identity; before, it was made up from the token's
/// municipality when answering). One immediate transaction; the column is probed first, so
/// the step is idempotent.
pub(super) fn to_v3(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    add_column(&tx, "decisions", "employer", "TEXT")?;
    tx.execute_batch(LOG_TABLES_V3)?;
    tx.commit()?;
    Ok(())
}

/// The retention gate and the logs' part of version 6: their indexes by day and the triggers
/// that let the sweep delete a row past its period (the records' file's
/// `to_v6_oversight_retention`, and the logs' own file's [`logs_v1`]).
const LOG_RETENTION_V6: &str = "CREATE TABLE IF NOT EXISTS retention_gate (
            kind TEXT NOT NULL,
            municipality INTEGER NOT NULL,
            before TEXT NOT NULL,
            PRIMARY KEY (kind, municipality)
        );
        CREATE INDEX IF NOT EXISTS suggestion_log_day ON suggestion_log (municipality, shown_at);
        CREATE INDEX IF NOT EXISTS access_log_day ON access_log (municipality, at);
        DROP TRIGGER IF EXISTS suggestion_log_no_delete;
        CREATE TRIGGER suggestion_log_no_delete BEFORE DELETE ON suggestion_log
        WHEN NOT EXISTS (SELECT 1 FROM retention_gate g WHERE g.kind = 'suggestion_log'
            AND g.municipality = OLD.municipality AND OLD.shown_at < g.before)
        BEGIN SELECT RAISE(ABORT, 'the suggestion log is append-only (only its retention period ends a row)'); END;
        DROP TRIGGER IF EXISTS access_log_no_delete;
        CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
        WHEN NOT EXISTS (SELECT 1 FROM retention_gate g WHERE g.kind = 'access_log'
            AND g.municipality = OLD.municipality AND OLD.at < g.before)
        BEGIN SELECT RAISE(ABORT, 'the access log is append-only (only its retention period ends a row)'); END;";

/// Adds `column` (of type `decl`) to `table` unless the table has it already: the probe that
/// makes a migration with an `ALTER TABLE` idempotent.
fn add_column(tx: &rusqlite::Transaction<'_>, table: &str, column: &str, decl: &str) -> Result<()> {
    let has: bool = tx.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
        [table, column],
        |r| r.get(0),
    )?;
    if !has {
        tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl};"))?;
    }
    Ok(())
}

/// The suggestion log's `offer_ids` (version 6), added once: the column is probed first.
fn add_offer_ids(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    add_column(tx, "suggestion_log", "offer_ids", "TEXT")
}

/// Issue 17, oversight and retention: the offers each suggestion list showed, in order
/// (`suggestion_log.offer_ids`, so the oversight figures need not parse answers; older rows
/// are read from their answer), indexes by day for the retention sweep, and the retention
/// gate. The logs and decisions stay append-only for everyone, with one exception: a row
/// whose retention period has passed may be deleted inside the retention sweep's transaction,
/// which writes the cut-off into `retention_gate` first and removes it before committing
/// (`store::retention`). The triggers check the gate, so no other code path can delete a
/// row, and the sweep cannot delete a row younger than its period. Idempotent: the column is
/// probed, triggers are dropped and recreated.
pub(super) fn to_v6_oversight_retention(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    add_offer_ids(&tx)?;
    tx.execute_batch(LOG_RETENTION_V6)?;
    tx.execute_batch(
        "DROP TRIGGER IF EXISTS decisions_no_delete;
        CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
        WHEN NOT EXISTS (SELECT 1 FROM retention_gate g WHERE g.kind = 'decisions'
            AND g.municipality = OLD.municipality AND OLD.decided_at < g.before)
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only (only their retention period ends a row)'); END;
        DROP TRIGGER IF EXISTS decision_keys_no_delete;
        CREATE TRIGGER decision_keys_no_delete BEFORE DELETE ON decision_keys
        WHEN NOT EXISTS (SELECT 1 FROM retention_gate g JOIN decisions d ON d.id = OLD.decision_id
            WHERE g.kind = 'decisions' AND g.municipality = OLD.municipality AND d.decided_at < g.before)
        BEGIN SELECT RAISE(ABORT, 'decision keys are append-only'); END;",
    )?;
    tx.commit()?;
    Ok(())
}

/// Issue 16, the orderer's tables: the provider registry (`store::providers`), the
/// municipalities' contracts with their covered offers (one row per offer in
/// `contract_offers`, so spend is priced by an indexed look-up), comments on decisions
/// (`store::comments`, append-only by triggers like decisions, numbered per tenant), the
/// provider a `provider` token is bound to (`tokens.provider_id`), and the indices the
/// provider's view and the overview read decisions by. One immediate transaction; the
/// column is probed first, so the step is idempotent.
pub(super) fn to_v7_providers(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    add_column(&tx, "tokens", "provider_id", "TEXT")?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS providers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            municipality INTEGER NOT NULL,
            contact TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS providers_municipality ON providers (municipality, id);
        CREATE TABLE IF NOT EXISTS contracts (
            municipality INTEGER NOT NULL,
            id TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('buffer', 'specialist', 'strategic_partner')),
            offer_ids TEXT NOT NULL,
            price_dkk INTEGER NOT NULL,
            places INTEGER NOT NULL,
            guaranteed_volume INTEGER NOT NULL,
            starts_on TEXT NOT NULL,
            ends_on TEXT NOT NULL,
            written_by TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            target_groups TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (municipality, id)
        );
        CREATE INDEX IF NOT EXISTS contracts_provider ON contracts (municipality, provider_id);
        CREATE TABLE IF NOT EXISTS contract_offers (
            municipality INTEGER NOT NULL,
            contract_id TEXT NOT NULL,
            offer_id TEXT NOT NULL,
            starts_on TEXT NOT NULL,
            ends_on TEXT NOT NULL,
            price_dkk INTEGER,
            kind TEXT NOT NULL,
            PRIMARY KEY (municipality, contract_id, offer_id)
        );
        CREATE INDEX IF NOT EXISTS contract_offers_offer ON contract_offers (municipality, offer_id);
        CREATE TABLE IF NOT EXISTS decision_comments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            municipality INTEGER NOT NULL,
            number INTEGER NOT NULL,
            decision_id INTEGER NOT NULL REFERENCES decisions (id),
            provider_id TEXT,
            author TEXT NOT NULL,
            role TEXT NOT NULL,
            employer TEXT NOT NULL,
            text TEXT NOT NULL,
            written_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS decision_comments_number ON decision_comments (municipality, number);
        CREATE INDEX IF NOT EXISTS decision_comments_decision ON decision_comments (decision_id, id);
        CREATE TRIGGER IF NOT EXISTS decision_comments_no_update BEFORE UPDATE ON decision_comments
        BEGIN SELECT RAISE(ABORT, 'comments are append-only'); END;
        CREATE TRIGGER IF NOT EXISTS decision_comments_no_delete BEFORE DELETE ON decision_comments
        BEGIN SELECT RAISE(ABORT, 'comments are append-only'); END;
        CREATE INDEX IF NOT EXISTS decisions_offer_number ON decisions (municipality, offer_id, number);
        CREATE INDEX IF NOT EXISTS decisions_accepts
            ON decisions (action, municipality, offer_id, decided_at, target_groups);",
    )?;
    tx.commit()?;
    Ok(())
}

/// The tables whose rows a tenant numbers 1, 2, 3, ... (`number`, the id a client sees).
pub(super) const NUMBERED: [&str; 6] =
    ["decisions", "suggestion_log", "access_log", "batch_runs", "decision_comments", "episodes"];

/// The highest number retention deleted, per tenant and table (version 8; the logs' file has
/// its own).
const NUMBERS_TABLE: &str = "CREATE TABLE IF NOT EXISTS numbers (
            municipality INTEGER NOT NULL,
            tbl TEXT NOT NULL,
            last INTEGER NOT NULL,
            PRIMARY KEY (municipality, tbl)
        );";

/// Version 7 → 8: per-tenant numbers never repeat. A row's number was the tenant's highest
/// number + 1, so when retention deleted the rows with the highest numbers (every row of a
/// table for a tenant after a whole period without one; or a failed batch run newer than the
/// latest finished one), those numbers were given again and an old number a client kept could
/// name a new row. `numbers` keeps, per tenant and table, the highest number retention has
/// deleted (`store::retention` writes it in the sweep's transaction, before deleting; retention
/// is the only way rows of these tables end, by their append-only triggers), and
/// `store::next_number!` takes one more than the larger of it and the table's highest. Nothing
/// is written per insert: a trigger that kept the counter on every insert made the suggestion
/// log's writer slower, and with it the suggestions' p99 at 8 connections (4.0–4.2 ms → 46–66
/// ms in `scripts/load.sh`). Seeded with the batch-run numbers the suggestion log kept, the one
/// trace of rows already deleted. One immediate transaction; idempotent.
pub(super) fn to_v8_numbers(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(NUMBERS_TABLE)?;
    for table in NUMBERED {
        // A first version of this step kept the counter by triggers.
        tx.execute_batch(&format!("DROP TRIGGER IF EXISTS {table}_numbers;"))?;
    }
    // A batch run's number lives on in the suggestion log's rows of that run, so the runs
    // retention deleted before this version still count there; no other numbered table has
    // such a trace, and numbers given twice before this version cannot be told apart.
    tx.execute_batch(
        "INSERT INTO numbers (municipality, tbl, last)
            SELECT municipality, 'batch_runs', MAX(batch_run_id) FROM suggestion_log
            WHERE batch_run_id IS NOT NULL GROUP BY municipality
            ON CONFLICT (municipality, tbl) DO UPDATE SET last = max(last, excluded.last);",
    )?;
    tx.commit()?;
    Ok(())
}

/// Version 8 → 9: the offers' language lists as an index, so that the check of an offer write
/// against the scorer's 64 languages (`store::offers`) counts the distinct lists from the index
/// instead of parsing every offer's model (33,000 at national scale: ~25 ms of each write).
pub(super) fn to_v9_offer_languages(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS offers_languages ON offers (json_extract(model, '$.languages'));",
    )?;
    Ok(())
}

/// Version 12 → 13: the episodes by offer, so that a new offer's write can ask whether the
/// history already names its id (`Store::learning_names_any`) with a look-up, not a scan of
/// every episode (60,000 at national scale).
pub(super) fn to_v13_episodes_offer(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS episodes_offer ON episodes (offer_id) WHERE offer_id IS NOT NULL;",
    )?;
    Ok(())
}

/// The caseworkers (team, cap, cases held outside Brobygger) and the cases: which caseworker
/// holds which candidate, from when, until when (issue 20, the team overview). At most one
/// open case per candidate (a partial unique index). New tables only, so the step is
/// idempotent by `IF NOT EXISTS`.
pub(super) fn to_v4_caseloads(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS caseworkers (
            municipality INTEGER NOT NULL,
            id TEXT NOT NULL,
            team TEXT NOT NULL,
            cap INTEGER NOT NULL,
            other_cases INTEGER NOT NULL DEFAULT 0,
            specialities TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (municipality, id)
        );
        CREATE INDEX IF NOT EXISTS caseworkers_team ON caseworkers (municipality, team);
        CREATE TABLE IF NOT EXISTS cases (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            municipality INTEGER NOT NULL,
            candidate_id TEXT NOT NULL,
            caseworker_id TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            closed_at TEXT,
            closed_why TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS cases_open ON cases (municipality, candidate_id) WHERE closed_at IS NULL;
        CREATE INDEX IF NOT EXISTS cases_caseworker ON cases (municipality, caseworker_id);",
    )?;
    tx.commit()?;
    Ok(())
}

/// Version 4 → 5 (issue 13): the episode history (`store::history`). `episodes` holds one row
/// per accepted decision (its case mix as it was on the day of the decision, so that a later
/// edit of the candidate does not rewrite history) and one per no-offer record (the comparison
/// group: left benefit, or still on it at the follow-up, without an accepted offer). Append-only
/// by triggers, numbered per tenant. An outcome gets the day the candidate left benefit
/// (`exited_on`; rows from before have none and count from the day they were recorded).
/// One immediate transaction; the column is probed first, so the step is idempotent.
pub(super) fn to_v5_history(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    add_column(&tx, "outcomes", "exited_on", "TEXT")?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS episodes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            municipality INTEGER NOT NULL,
            number INTEGER NOT NULL,
            candidate_id TEXT NOT NULL,
            decision_id INTEGER UNIQUE,
            offer_id TEXT,
            target_groups TEXT NOT NULL,
            age_band TEXT NOT NULL,
            benefit_kind TEXT NOT NULL,
            weeks_on_benefit REAL NOT NULL,
            started TEXT NOT NULL,
            result TEXT,
            weeks_to_exit REAL,
            recorded_by TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            key TEXT,
            CHECK ((decision_id IS NULL) = (offer_id IS NULL)),
            CHECK (decision_id IS NOT NULL OR result IS NOT NULL)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS episodes_number ON episodes (municipality, number);
        CREATE UNIQUE INDEX IF NOT EXISTS episodes_key ON episodes (municipality, key) WHERE key IS NOT NULL;
        CREATE INDEX IF NOT EXISTS episodes_candidate ON episodes (municipality, candidate_id);
        CREATE TRIGGER IF NOT EXISTS episodes_no_update BEFORE UPDATE ON episodes
        BEGIN SELECT RAISE(ABORT, 'episodes are append-only'); END;
        CREATE TRIGGER IF NOT EXISTS episodes_no_delete BEFORE DELETE ON episodes
        BEGIN SELECT RAISE(ABORT, 'episodes are append-only'); END;",
    )?;
    tx.commit()?;
    Ok(())
}

/// The partial expression index of record locks: candidates whose own record says a course is
/// under way (`current_locked`), by the offer it names. The accept's guard counts an offer's
/// record locks through it (`ledger::RECORDED_LOCKS_ON_OFFER`, whose terms are written as here so
/// that SQLite matches them), and the night's count per offer reads only it, not every candidate.
pub const RECORDED_LOCK_INDEX: &str = "
CREATE INDEX IF NOT EXISTS candidates_recorded_lock
    ON candidates (json_extract(model, '$.candidate.current.offer'))
    WHERE json_extract(model, '$.candidate.current.locked') = 1;";

/// Version 9 → 10: the index of record locks ([`RECORDED_LOCK_INDEX`]), so that the day's accept
/// can count the courses under way that only candidates' records claim without scanning the
/// candidates. One statement, idempotent by `IF NOT EXISTS`.
pub(super) fn to_v10_recorded_locks(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(RECORDED_LOCK_INDEX)?;
    Ok(())
}

/// Version 10 → 11: a decision's comments go with it when retention deletes the decision.
/// Until this version the comments' trigger refused every delete, and the comment's foreign
/// key refused deleting a commented decision, so one comment on a decision past its period
/// failed the whole sweep (every municipality's, one transaction). The trigger now lets
/// a comment go only when its decision is past the cut-off the sweep writes into
/// `retention_gate`, like the decision's idempotency keys. Idempotent: dropped and recreated.
pub(super) fn to_v11_comments_retention(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "DROP TRIGGER IF EXISTS decision_comments_no_delete;
        CREATE TRIGGER decision_comments_no_delete BEFORE DELETE ON decision_comments
        WHEN NOT EXISTS (SELECT 1 FROM retention_gate g JOIN decisions d ON d.id = OLD.decision_id
            WHERE g.kind = 'decisions' AND g.municipality = OLD.municipality AND d.decided_at < g.before)
        BEGIN SELECT RAISE(ABORT, 'comments are append-only'); END;",
    )?;
    tx.commit()?;
    Ok(())
}

/// Version 11 → 12: `outcomes_past`, the accepts whose outcome retention deleted while the
/// decision is kept (outcomes may have a shorter period than decisions). Without it such an
/// accept looked as if it had no outcome: a second outcome was recorded (its course counted
/// twice in the offer's evidence) and the candidate's no-offer records were refused as if the
/// accept were still open. Only the decision's internal row id; it goes with its decision.
pub(super) fn to_v12_outcomes_past(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS outcomes_past (
            decision_id INTEGER PRIMARY KEY,
            municipality INTEGER NOT NULL
        );",
    )?;
    Ok(())
}

/// Refuses a file of a newer schema than this program knows, before anything is created
/// beside it; returns the file's version.
pub(super) fn check_version(conn: &Connection) -> Result<i64> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { found, known: SCHEMA_VERSION });
    }
    Ok(found)
}

/// Runs the migrations a file needs, each followed by its version number.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let found = check_version(conn)?;
    run_steps(conn, MIGRATIONS, found)
}

/// Runs `steps` from the file's version `found` on, each followed by its version number in
/// `PRAGMA user_version` (the records' file's and the logs' file's alike).
pub(super) fn run_steps(
    conn: &mut Connection,
    steps: &[fn(&mut Connection) -> Result<()>],
    found: i64,
) -> Result<()> {
    for (version, step) in steps.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
        step(conn)?;
        conn.pragma_update(None, "user_version", version as i64 + 1)?;
    }
    Ok(())
}

/// The logs' file's migrations, numbered by its own `PRAGMA user_version` (append only).
const LOGS_MIGRATIONS: &[fn(&mut Connection) -> Result<()>] = &[logs_v1];

/// The logs' file's schema version this program writes.
pub const LOGS_SCHEMA_VERSION: i64 = LOGS_MIGRATIONS.len() as i64;

/// Logs' file version 0 → 1 (issue 18, `store::logs_path`): the suggestion log and the access
/// log as the records' file had them at version 13, made by the same steps (versions 3 and 6:
/// the same columns in the same order, so that rows move by name), with the retention gate
/// their triggers read (a trigger reads only its own file) and their per-tenant numbers.
/// One immediate transaction; idempotent like those steps.
fn logs_v1(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(LOG_TABLES_V3)?;
    add_offer_ids(&tx)?;
    tx.execute_batch(LOG_RETENTION_V6)?;
    tx.execute_batch(NUMBERS_TABLE)?;
    // The records' file these logs belong to (`Store::open` pairs them).
    tx.execute_batch("CREATE TABLE IF NOT EXISTS logs_of (database_id TEXT NOT NULL);")?;
    tx.commit()?;
    Ok(())
}

/// Whether the connection's main file has the table `name`.
fn has_table(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) > 0 FROM main.sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )?)
}

/// The records' file's id (version 14 on), if it has one yet.
pub(super) fn database_id(conn: &Connection) -> Result<Option<String>> {
    if !has_table(conn, "database_id")? {
        return Ok(None);
    }
    Ok(conn.query_row("SELECT id FROM database_id LIMIT 1", [], |r| r.get(0)).optional()?)
}

/// The id of the records' file the logs' file belongs to, if it was paired yet.
pub(super) fn logs_of(logs: &Connection) -> Result<Option<String>> {
    Ok(logs.query_row("SELECT database_id FROM logs_of LIMIT 1", [], |r| r.get(0)).optional()?)
}

/// Pairs an unpaired logs' file with the records' file `id`.
pub(super) fn pair_logs(logs: &Connection, id: &str) -> Result<()> {
    logs.execute(
        "INSERT INTO logs_of (database_id) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM logs_of)",
        [id],
    )?;
    Ok(())
}

/// Brings the logs' file to [`LOGS_SCHEMA_VERSION`], as [`migrate`] does the records' file.
pub(super) fn migrate_logs(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > LOGS_SCHEMA_VERSION {
        let logs = conn.path().unwrap_or_default().to_string();
        return Err(StoreError::NewerLogsSchema { logs, found, known: LOGS_SCHEMA_VERSION });
    }
    run_steps(conn, LOGS_MIGRATIONS, found)
}

/// The numbered tables of each file, for retention (`store::retention`).
pub(super) const RECORDS_NUMBERED: [&str; 4] = ["decisions", "batch_runs", "decision_comments", "episodes"];
/// See [`RECORDS_NUMBERED`].
pub(super) const LOGS_NUMBERED: [&str; 2] = ["suggestion_log", "access_log"];

/// The columns of the two logs, in the records' file's order (its `offer_ids` came last, by
/// `ALTER TABLE`).
const MOVED_LOGS: [(&str, &str); 2] = [
    (
        "suggestion_log",
        "id, municipality, number, shown_at, source, requested_by, role, candidate_id, offers_version,
         batch_run_id, engine_version, policy_name, policy_hash, reference_hash, answer, offer_ids",
    ),
    ("access_log", "id, municipality, number, at, user, role, employer, action, candidate_id, request_id"),
];

/// Rows moved per transaction by [`to_v14_logs_apart`]: a crash loses at most one batch's work.
const MOVE_BATCH: usize = 20_000;

/// Version 13 → 14 (issue 18): the suggestion and access logs move to a file of their own
/// (`store::logs_path`, prepared by [`migrate_logs`] before this step runs). The log writer
/// commits ~100 times a second; in one file, each of those commits made every other
/// connection drop its page cache and grew the one WAL the authority's records are written
/// through, and the outcome writes beside 5,000 suggestions a second answered in p99 23–34 ms
/// against 14–18 ms with the logs apart (`docs/performance.md`, session 20).
///
/// Resumable: rows are copied in id order, [`MOVE_BATCH`] per transaction, each batch
/// starting after the highest id the logs' file already holds, so a crash only repeats the
/// step from where it stopped; the numbers retention kept for the two logs are merged (the
/// larger wins); then the tables are dropped from the records' file, in one transaction
/// (a `DROP TABLE` fires no delete trigger). A file whose logs were moved already has no
/// `suggestion_log` and is left as it is. The records' file keeps its size (SQLite reuses
/// the freed pages; `VACUUM` gives them back to the disk).
pub(super) fn to_v14_logs_apart(conn: &mut Connection) -> Result<()> {
    // The id the logs' file is paired with (`Store::open`), made once.
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS database_id (id TEXT NOT NULL);
         INSERT INTO database_id (id) SELECT lower(hex(randomblob(16)))
            WHERE NOT EXISTS (SELECT 1 FROM database_id);",
    )?;
    if !has_table(conn, "suggestion_log")? {
        return Ok(());
    }
    let logs = match conn.path().filter(|p| !p.is_empty()) {
        Some(p) => super::logs_path(std::path::Path::new(p)),
        None => {
            return Err(StoreError::Conflict("the database has no file for its logs to go beside".into()));
        }
    };
    super::attach_logs(conn, &logs)?;
    let moved = move_logs(conn);
    let detached = conn.execute_batch("DETACH DATABASE logs;");
    moved?;
    detached?;
    Ok(())
}

fn move_logs(conn: &mut Connection) -> Result<()> {
    for (table, columns) in MOVED_LOGS {
        // A one-time step that can take minutes (~150 MB of log a second on a 2-core machine,
        // ~10 GB a national year), so the operator is told what the start is doing.
        let left: i64 = conn.query_row(
            &format!(
                "SELECT count(*) FROM main.{table} WHERE id > (SELECT COALESCE(MAX(id), 0) FROM logs.{table})"
            ),
            [],
            |r| r.get(0),
        )?;
        if left > 0 {
            tracing::info!(
                table,
                rows = left,
                "schema 14: moving the log's rows to the logs' file beside the database"
            );
        }
        let started = std::time::Instant::now();
        let mut done = 0usize;
        loop {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let moved = tx.execute(
                &format!(
                    "INSERT INTO logs.{table} ({columns}) SELECT {columns} FROM main.{table}
                     WHERE id > (SELECT COALESCE(MAX(id), 0) FROM logs.{table}) ORDER BY id LIMIT {MOVE_BATCH}"
                ),
                [],
            )?;
            tx.commit()?;
            if moved == 0 {
                break;
            }
            done += moved;
            if done % (MOVE_BATCH * 25) < MOVE_BATCH {
                tracing::info!(table, moved = done, of = left, "schema 14: moving the log");
            }
        }
        if done > 0 {
            tracing::info!(
                table,
                moved = done,
                seconds = started.elapsed().as_secs_f64(),
                "schema 14: log moved"
            );
        }
    }
    // The numbers first, in their own transaction: each file commits on its own, and the
    // records' file must not lose them before the logs' file has them.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "INSERT INTO logs.numbers (municipality, tbl, last)
            SELECT municipality, tbl, last FROM main.numbers WHERE tbl IN ('suggestion_log', 'access_log')
            ON CONFLICT (municipality, tbl) DO UPDATE SET last = max(last, excluded.last);",
    )?;
    tx.commit()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "DELETE FROM main.numbers WHERE tbl IN ('suggestion_log', 'access_log');
         DROP TABLE main.suggestion_log;
         DROP TABLE main.access_log;",
    )?;
    tx.commit()?;
    Ok(())
}
