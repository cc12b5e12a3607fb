//! Token lifecycle: expiry, `matcher token list` and `revoke` against a running server, and
//! opening a database file made before tokens had ids, expiry or revocation. Real SQLite
//! files, the real binary for the commands, real HTTP on loopback.

use super::common::server::{Answer, assert_problem, call, cli_token, spawn_server, start_config, temp_dir};
use matcher_service::server::auth::{RECHECK, Role, hash_token, issue_token};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

fn matcher() -> Command {
    Command::new(env!("CARGO_BIN_EXE_matcher"))
}

/// Runs `matcher` and returns (exit success, stdout, stderr).
fn run(args: &[&str], db: &Path) -> (bool, String, String) {
    let out = matcher().args(args).arg("--db").arg(db).output().expect("run matcher");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// `token list` as rows of columns, header checked.
fn list(db: &Path, extra: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec!["token", "list"];
    args.extend_from_slice(extra);
    let (ok, out, err) = run(&args, db);
    assert!(ok, "{err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("id\tmunicipality\trole\tuser\tcreated\texpires\trevoked\tprovider"),
        "{out}"
    );
    lines.map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

fn candidates(addr: std::net::SocketAddr, token: &str) -> Answer {
    call(addr, "GET", "/v1/candidates", Some(token), None)
}

#[test]
fn an_expired_token_gets_401_saying_it_expired_also_when_it_was_cached() {
    let s = start_config("tok-exp", |_| {});
    let store = &s.state.store;
    let soon = SystemTime::now() + Duration::from_secs(2);
    let (token, _) = issue_token(store, 851, Role::Caseworker, "cw-soon", Some(soon)).expect("token");
    let past = SystemTime::now() - Duration::from_secs(86_400);
    let (old, _) = issue_token(store, 851, Role::Caseworker, "cw-past", Some(past)).expect("token");

    // Used while valid, so the service holds it in its cache when it expires.
    assert_eq!(candidates(s.addr, &token).status, 200);
    let r = candidates(s.addr, &old);
    assert_problem(&r, 401);
    assert_eq!(r.body["type"], "/problems/token-expired", "{}", r.body);

    while SystemTime::now() < soon + Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = candidates(s.addr, &token);
    assert_problem(&r, 401);
    assert_eq!(r.body["type"], "/problems/token-expired", "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("expired at 20"), "{detail}");
    // Only what the holder already knows: no tenant, role or user.
    let said = format!("{} {detail}", r.body["title"]);
    for secret in ["851", "101", "caseworker", "cw-soon", "cw-a", "cw-b"] {
        assert!(!said.contains(secret), "{secret} in {}", r.body);
    }
    // An unknown token still gets the plain 401, and other tokens are unaffected.
    let r = candidates(s.addr, "bro_0000");
    assert_eq!(r.body["type"], "/problems/unauthorized", "{}", r.body);
    assert_eq!(candidates(s.addr, &s.tokens.a_caseworker).status, 200);
}

#[test]
fn a_revoked_token_is_refused_by_the_running_server_within_the_recheck_bound() {
    let dir = temp_dir("tok-revoke");
    let db = dir.0.join("matcher.db");
    let used = cli_token(&db, "0851", "caseworker");
    let unused = cli_token(&db, "0851", "admin");
    let other = cli_token(&db, "0851", "system");
    let rows = list(&db, &[]);
    let id_of = |role: &str| rows.iter().find(|r| r[2] == role).map(|r| r[0].clone()).expect("listed");
    let (_child, addr) = spawn_server(&db);
    assert_eq!(candidates(addr, &used).status, 200);
    assert_eq!(candidates(addr, &other).status, 200);

    for role in ["caseworker", "admin"] {
        let (ok, _, err) = run(&["token", "revoke", &id_of(role)], &db);
        assert!(ok, "{err}");
        assert!(err.contains("revoked at"), "{err}");
    }
    let revoked_at = Instant::now();
    // Never seen by the server: refused on the very first request.
    let r = candidates(addr, &unused);
    assert_problem(&r, 401);
    assert_eq!(r.body["type"], "/problems/token-revoked", "{}", r.body);
    // Cached by the server: refused once its entry is older than RECHECK, not later.
    let r = loop {
        let r = candidates(addr, &used);
        if r.status != 200 || revoked_at.elapsed() > RECHECK + Duration::from_secs(2) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_problem(&r, 401);
    assert_eq!(r.body["type"], "/problems/token-revoked", "{}", r.body);
    assert!(revoked_at.elapsed() <= RECHECK + Duration::from_secs(1), "took {:?}", revoked_at.elapsed());
    assert_eq!(candidates(addr, &other).status, 200);

    // A second revoke keeps the first time; the list shows both as revoked.
    let (ok, _, err) = run(&["token", "revoke", &id_of("admin")], &db);
    assert!(ok && err.contains("already revoked"), "{err}");
    for r in list(&db, &[]) {
        assert_eq!(r[6] != "-", r[2] != "system", "{r:?}");
    }
}

#[test]
fn token_list_shows_every_column_but_never_the_secret_or_its_hash() {
    let dir = temp_dir("tok-list");
    let db = dir.0.join("matcher.db");
    let a = cli_token(&db, "0851", "caseworker");
    let (ok, b, err) = run(
        &[
            "token",
            "create",
            "--municipality",
            "0101",
            "--role",
            "admin",
            "--user",
            "it-b",
            "--expires-in",
            "0",
        ],
        &db,
    );
    assert!(ok, "{err}");
    let b = b.trim().to_string();
    assert!(err.contains("expires never"), "{err}");

    let (ok, out, _) = run(&["token", "list"], &db);
    assert!(ok);
    let (ha, hb) = (hash_token(&a), hash_token(&b));
    for secret in [&a[..], &b[..], &ha[..], &hb[..], &a[4..], &b[4..]] {
        assert!(!out.contains(secret), "list shows a secret: {out}");
    }
    let rows = list(&db, &[]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let today = matcher_service::server::store::now_rfc3339();
    let in_90 = matcher_service::server::store::rfc3339(SystemTime::now() + Duration::from_secs(90 * 86_400));
    assert_eq!(rows[0][..4], ["1", "0851", "caseworker", "e2e"]);
    // The default lifetime: 90 days from creation (same day, to the second within the test).
    assert_eq!(rows[0][5][..10], in_90[..10], "{rows:?}");
    assert_eq!(rows[0][4][..10], today[..10], "{rows:?}");
    assert_eq!(rows[1][..4], ["2", "0101", "admin", "it-b"]);
    assert_eq!(rows[1][5..], ["never", "-", "-"]);

    let only = list(&db, &["--municipality", "101"]);
    assert_eq!(only.len(), 1, "{only:?}");
    assert_eq!(only[0][0], "2");
}

#[test]
fn bad_token_commands_name_the_value_and_fail() {
    let dir = temp_dir("tok-bad");
    let db = dir.0.join("matcher.db");
    cli_token(&db, "0851", "caseworker");
    let create = |days: &str| {
        run(&["token", "create", "--municipality", "0851", "--role", "caseworker", "--expires-in", days], &db)
    };
    for days in ["-3", "3651", "ten", "1.5"] {
        let (ok, out, err) = create(days);
        assert!(!ok, "--expires-in {days} was taken");
        assert!(out.is_empty(), "a token was printed: {out}");
        assert!(err.contains(&format!("'{days}'")) && err.contains("--expires-in"), "{err}");
    }
    for (id, needle) in
        [("999", "token id 999: no such token"), ("-1", "token id -1"), ("abc", "token id abc")]
    {
        let (ok, _, err) = run(&["token", "revoke", id], &db);
        assert!(!ok, "revoke {id} succeeded");
        assert!(err.contains(needle), "{err}");
    }
    let (ok, _, err) = run(&["token", "list", "--municipality", "9999"], &db);
    assert!(!ok && err.contains("municipality 9999"), "{err}");
    let missing = dir.0.join("typo.db");
    let (ok, _, err) = run(&["token", "list"], &missing);
    assert!(!ok && err.contains("typo.db: no such database file"), "{err}");
    assert!(!missing.exists(), "listing created a database file");
    assert_eq!(list(&db, &[]).len(), 1, "a refused create stored a token");
}

#[test]
fn a_database_made_with_the_old_token_table_is_migrated_and_its_tokens_keep_working() {
    let dir = temp_dir("tok-migrate");
    let db = dir.0.join("old.db");
    let token = "bro_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    {
        let conn = rusqlite::Connection::open(&db).expect("old file");
        // The table exactly as the schema before expiry and revocation created it.
        conn.execute_batch(
            "CREATE TABLE tokens (hash TEXT PRIMARY KEY, municipality INTEGER NOT NULL, role TEXT NOT NULL, \
             user TEXT NOT NULL, created_at TEXT NOT NULL);",
        )
        .expect("old schema");
        conn.execute(
            "INSERT INTO tokens (hash, municipality, role, user, created_at) VALUES (?1, 851, 'caseworker', 'old-cw', '2025-01-02T03:04:05Z')",
            [hash_token(token)],
        )
        .expect("old token");
    }
    let path = db.clone();
    let s = start_config("tok-migrate-srv", move |c| c.db = path);
    assert_eq!(candidates(s.addr, token).status, 200, "the old token no longer works");

    let conn = rusqlite::Connection::open(&db).expect("reopen");
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('tokens')").expect("table_info");
    let columns: Vec<String> =
        stmt.query_map([], |r| r.get(0)).expect("columns").map(Result::unwrap).collect();
    for c in ["id", "expires_at", "revoked_at"] {
        assert!(columns.iter().any(|x| x == c), "{c} missing: {columns:?}");
    }
    drop(stmt);
    drop(conn);

    // Old tokens get the first ids and no expiry; tokens made since come after them.
    let rows = list(&db, &[]);
    assert_eq!(rows[0], ["1", "0851", "caseworker", "old-cw", "2025-01-02T03:04:05Z", "never", "-", "-"]);
    // The harness makes one token per role of municipality A (five) and one of B.
    assert_eq!(rows.len(), 7, "{rows:?}");
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["1", "2", "3", "4", "5", "6", "7"]);

    // Opening it again (the CLI while the server runs) migrates nothing twice, and revoking
    // the old token works like any other.
    let (ok, _, err) = run(&["token", "revoke", "1"], &db);
    assert!(ok, "{err}");
    let revoked_at = Instant::now();
    let r = loop {
        let r = candidates(s.addr, token);
        if r.status != 200 || revoked_at.elapsed() > RECHECK + Duration::from_secs(2) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(r.body["type"], "/problems/token-revoked", "{}", r.body);
}
