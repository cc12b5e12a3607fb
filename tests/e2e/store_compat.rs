//! Database files from before schema versions still open. `fixtures/store-v0.db` was made by
//! `matcher serve` as it was before `PRAGMA user_version` (main at f6114fd): three tokens of
//! municipality 0851, one offer, one candidate, one accepted decision with an `in_work`
//! outcome and one finished batch run. The current code must migrate it and read every row.

use super::common::server::temp_dir;
use matcher_service::server::store::{SCHEMA_VERSION, Store, StoreError};

fn fixture_copy(label: &str) -> (super::common::server::TempDir, std::path::PathBuf) {
    let dir = temp_dir(label);
    let db = dir.0.join("matcher.db");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/e2e/fixtures/store-v0.db"), &db)
        .expect("copy the fixture");
    (dir, db)
}

#[test]
fn a_file_from_before_schema_versions_is_migrated_and_its_rows_read() {
    let (_dir, db) = fixture_copy("compat-v0");
    let version = |db: &std::path::Path| -> i64 {
        rusqlite::Connection::open(db)
            .expect("open")
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version")
    };
    assert_eq!(version(&db), 0, "the fixture predates user_version");
    let store = Store::open(&db).expect("the new code opens the old file");
    let users: Vec<String> =
        store.list_tokens(Some(851)).expect("tokens").into_iter().map(|t| t.row.user).collect();
    assert_eq!(users, ["fixture-system", "fixture-cw", "fixture-cw2"]);
    let offers = store.catalogue_rows("2026-09-01").expect("offers").offers;
    // The accept has its outcome: since issue 14 an outcome gives the place back, and the
    // migration to version 2 counts only places still held.
    assert_eq!(offers.iter().map(|o| (o.id.as_str(), o.reserved)).collect::<Vec<_>>(), [("course-1", 0)]);
    assert_eq!(store.candidate_models(851).expect("candidates").len(), 1);
    let decision = store.decision(851, 1, "2026-09-01").expect("read").expect("decision 1 is there");
    assert_eq!((decision.candidate_id.as_str(), decision.offer_id.as_str()), ("cand-a1", "course-1"));
    assert_eq!(decision.action, "accept");
    let run = store.batch(851, 1).expect("batch run 1");
    assert_eq!(run.status, "finished");
    assert!(run.proposals.as_deref().is_some_and(|p| p.contains("cand-a1")), "{:?}", run.proposals);
    drop(store);
    assert_eq!(version(&db), SCHEMA_VERSION);
    // Version 8's `numbers` holds what retention deleted; this file never ran retention (nor
    // kept a suggestion log, whose run numbers would seed it), so it is empty, and the next
    // numbers follow the rows (decision 2, batch run 2).
    let seeded: Vec<(i64, String, i64)> = rusqlite::Connection::open(&db)
        .expect("open")
        .prepare("SELECT municipality, tbl, last FROM numbers ORDER BY tbl")
        .expect("numbers")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("read");
    assert!(seeded.is_empty(), "{seeded:?}");
    // Opening again finds nothing to do and reads the same.
    let again = Store::open(&db).expect("reopen");
    assert_eq!(again.list_tokens(Some(851)).expect("tokens").len(), 3);
}

#[test]
fn a_file_from_a_newer_schema_is_refused_with_its_version() {
    let (_dir, db) = fixture_copy("compat-newer");
    rusqlite::Connection::open(&db)
        .expect("open")
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .expect("set version");
    match Store::open(&db) {
        Err(e @ StoreError::NewerSchema { .. }) => {
            assert!(e.to_string().contains(&format!("version {}", SCHEMA_VERSION + 1)), "{e}");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a newer file was opened"),
    }
}
