//! Decision and batch-run ids are numbered per municipality: two tenants interleaving their
//! work each see 1, 2, 3, … with no gap the other caused, one tenant's number never reaches
//! the other's row, concurrent decisions never share a number, and a database file from
//! before the numbers keeps every id its clients stored.

use crate::common::server::{
    Answer, Server, assert_problem, batch_run, call, seed_offers, start_config, temp_dir,
};
use serde_json::{Value, json};

const A: u16 = 851;
const B: u16 = 101;

/// Offers course-1 (1,000 places); candidates a1, a2 in A and b1 in B.
fn seed(s: &Server) {
    seed_offers(s, &[("course-1", 1000)]);
}

fn decide(s: &Server, token: &str, candidate: &str, action: &str) -> Answer {
    let body = json!({"candidate_id": candidate, "offer_id": "course-1", "action": action,
                      "reason": "fits the plan", "suggested_offer_ids": ["course-1"]});
    call(s.addr, "POST", "/v1/decisions", Some(token), Some(&body.to_string()))
}

fn id_of(r: &Answer) -> i64 {
    assert!(r.status == 201 || r.status == 202, "{} {}", r.status, r.body);
    r.body["id"].as_i64().expect("id")
}

fn listed_ids(s: &Server, token: &str) -> Vec<i64> {
    let r = call(s.addr, "GET", "/v1/decisions?limit=1000", Some(token), None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["decisions"].as_array().expect("decisions").iter().map(|d| d["id"].as_i64().expect("id")).collect()
}

#[test]
fn two_tenants_each_number_their_own_decisions_and_batch_runs() {
    let s = start_config("ids-interleave", |_| {});
    seed(&s);
    let (a, b) = (s.tokens.a_caseworker.clone(), s.tokens.b_caseworker.clone());
    let (mut a_decisions, mut b_decisions, mut a_runs, mut b_runs) = (vec![], vec![], vec![], vec![]);
    // A accepts on its odd numbers and declines on its even ones; B only declines, and B makes
    // two decisions for each of A's, so every one of A's numbers also exists in B.
    for round in 0..4 {
        let action = if a_decisions.len() % 2 == 0 { "accept" } else { "decline" };
        // One running course per candidate (issue 14): the second accept is a2's.
        let who = if round == 2 { "cand-a2" } else { "cand-a1" };
        a_decisions.push(id_of(&decide(&s, &a, who, action)));
        b_decisions.push(id_of(&decide(&s, &b, "cand-b1", "decline")));
        b_decisions.push(id_of(&decide(&s, &b, "cand-b1", "decline")));
        if round % 2 == 0 {
            b_runs.push(batch_run(&s, &b));
            a_runs.push(batch_run(&s, &a));
        } else {
            a_runs.push(batch_run(&s, &a));
        }
    }
    assert_eq!(a_decisions, vec![1, 2, 3, 4]);
    assert_eq!(b_decisions, (1..=8).collect::<Vec<i64>>());
    assert_eq!((a_runs, b_runs.clone()), (vec![1, 2, 3, 4], vec![1, 2]));
    assert_eq!(listed_ids(&s, &a), a_decisions);
    assert_eq!(listed_ids(&s, &b), b_decisions);

    // B asking for each of A's numbers gets B's own row of that number, never A's.
    for n in &a_decisions {
        let mine = call(s.addr, "GET", &format!("/v1/decisions/{n}"), Some(&a), None);
        assert_eq!(mine.body["municipality"], json!("0851"), "{}", mine.body);
        assert!(
            mine.body["candidate_id"] == json!("cand-a1") || mine.body["candidate_id"] == json!("cand-a2")
        );
        let theirs = call(s.addr, "GET", &format!("/v1/decisions/{n}"), Some(&b), None);
        assert_eq!(theirs.status, 200, "{}", theirs.body);
        assert_eq!(theirs.body["id"], *n);
        assert_eq!(
            (theirs.body["municipality"].clone(), theirs.body["candidate_id"].clone()),
            (json!("0101"), json!("cand-b1"))
        );
        assert!(!theirs.body.to_string().contains("0851"), "{}", theirs.body);
    }
    // Beyond B's own numbers: 404, as for a number never issued.
    let beyond = call(s.addr, "GET", "/v1/decisions/9", Some(&b), None);
    assert_problem(&beyond, 404);
    assert_eq!(
        beyond.body["detail"],
        call(s.addr, "GET", "/v1/decisions/999999", Some(&b), None).body["detail"]
    );
    // Batch runs: B's 1 and 2 are B's (one candidate in the summary, A has two), 3 is nothing.
    for n in &b_runs {
        let r = call(s.addr, "GET", &format!("/v1/batch-runs/{n}"), Some(&b), None);
        assert_eq!(r.body["summary"]["candidates"], 1, "{}", r.body);
        let r = call(s.addr, "GET", &format!("/v1/batch-runs/{n}"), Some(&a), None);
        assert_eq!(r.body["summary"]["candidates"], 2, "{}", r.body);
    }
    assert_problem(&call(s.addr, "GET", "/v1/batch-runs/3", Some(&b), None), 404);
    assert_problem(&call(s.addr, "GET", "/v1/batch-runs/3/proposals", Some(&b), None), 404);
    // Suggestions name the tenant's own latest run.
    let sugg = |t: &str, c: &str| {
        call(s.addr, "POST", "/v1/suggestions", Some(t), Some(&json!({"candidate_id": c}).to_string())).body
    };
    assert_eq!(sugg(&a, "cand-a2")["batch_run_id"], 4);
    assert_eq!(sugg(&b, "cand-b1")["batch_run_id"], 2);

    // Outcomes: B's number 1 is B's decline (409 about B's own row); A's 1 is A's accept.
    let outcome = json!({"decision_id": 1, "result": "in_work"}).to_string();
    let r = call(s.addr, "POST", "/v1/outcomes", Some(&b), Some(&outcome));
    assert_problem(&r, 409);
    assert!(r.body["detail"].as_str().is_some_and(|d| d.contains("only an accepted")), "{}", r.body);
    let r = call(s.addr, "POST", "/v1/outcomes", Some(&a), Some(&outcome));
    assert_eq!((r.status, r.body["decision_id"].clone()), (201, json!(1)), "{}", r.body);
    let outcome = json!({"decision_id": 9, "result": "in_work"}).to_string();
    assert_problem(&call(s.addr, "POST", "/v1/outcomes", Some(&b), Some(&outcome)), 404);

    // An idempotent replay answers with the tenant's number, and the same key in B is B's.
    let keyed = |token: &str, cand: &str| {
        let body = json!({"candidate_id": cand, "offer_id": "course-1", "action": "decline", "reason": "r"})
            .to_string();
        let req = format!(
            "POST /v1/decisions HTTP/1.1\r\nhost: t\r\nconnection: close\r\nauthorization: Bearer {token}\r\n\
             idempotency-key: key-1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let (status, _, bytes) = crate::common::server::raw(s.addr, req.as_bytes());
        (status, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null)["id"].clone())
    };
    assert_eq!(keyed(&a, "cand-a1"), (201, json!(5)));
    assert_eq!(keyed(&a, "cand-a1"), (200, json!(5)));
    assert_eq!(keyed(&b, "cand-b1"), (201, json!(9)));
    assert_eq!(keyed(&b, "cand-b1"), (200, json!(9)));
}

#[test]
fn concurrent_decisions_of_one_tenant_never_share_a_number() {
    let s = start_config("ids-concurrent", |_| {});
    seed(&s);
    let (a, b) = (s.tokens.a_caseworker.clone(), s.tokens.b_caseworker.clone());
    // 8 threads × 25 in A and one thread × 25 in B, all at once against the real server.
    let (a_ids, b_ids) = std::thread::scope(|scope| {
        let a_threads: Vec<_> = (0..8)
            .map(|t| {
                let (s, a) = (&s, &a);
                let cand = if t % 2 == 0 { "cand-a1" } else { "cand-a2" };
                scope
                    .spawn(move || (0..25).map(|_| id_of(&decide(s, a, cand, "decline"))).collect::<Vec<_>>())
            })
            .collect();
        let b_thread =
            scope.spawn(|| (0..25).map(|_| id_of(&decide(&s, &b, "cand-b1", "decline"))).collect::<Vec<_>>());
        let a_ids: Vec<i64> = a_threads.into_iter().flat_map(|t| t.join().expect("thread")).collect();
        (a_ids, b_thread.join().expect("thread"))
    });
    let mut sorted = a_ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=200).collect::<Vec<i64>>(), "A's 200 decisions are 1..=200, each once");
    // One thread's answers come in order; B's are 1..=25 whatever A did meanwhile.
    assert_eq!(b_ids, (1..=25).collect::<Vec<i64>>());
    assert_eq!(listed_ids(&s, &a), (1..=200).collect::<Vec<i64>>());
}

/// The schema of decisions and batch runs before per-tenant numbers (as of commit 42b8640).
const OLD_SCHEMA: &str = r#"
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality INTEGER NOT NULL,
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
CREATE INDEX decisions_candidate ON decisions (municipality, candidate_id);
CREATE INDEX decisions_tenant ON decisions (municipality, id);
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TABLE decision_keys (
    municipality INTEGER NOT NULL,
    key TEXT NOT NULL,
    decision_id INTEGER NOT NULL REFERENCES decisions (id),
    PRIMARY KEY (municipality, key)
);
CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality INTEGER NOT NULL,
    decision_id INTEGER NOT NULL UNIQUE,
    result TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TABLE batch_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT,
    summary TEXT,
    proposals TEXT,
    prices TEXT
);
"#;

#[test]
fn a_file_from_before_numbers_keeps_every_stored_id() {
    let dir = temp_dir("ids-old-file");
    let db = dir.0.join("old.db");
    {
        let c = rusqlite::Connection::open(&db).expect("create old file");
        c.execute_batch(OLD_SCHEMA).expect("old schema");
        // Global ids 1..=5: A has 1, 3, 4 (4 accepted), B has 2, 5.
        for (m, cand, action) in [
            (A, "cand-a1", "decline"),
            (B, "cand-b1", "decline"),
            (A, "cand-a1", "decline"),
            (A, "cand-a2", "accept"),
            (B, "cand-b1", "decline"),
        ] {
            c.execute(
                "INSERT INTO decisions (municipality, candidate_id, offer_id, action, reason, decided_by, role,
                    suggested, target_groups, decided_at)
                 VALUES (?1, ?2, 'course-1', ?3, 'old', 'cw', 'caseworker', '[\"course-1\"]', 'sickness',
                    '2026-08-01T10:00:00Z')",
                rusqlite::params![m, cand, action],
            )
            .expect("old decision");
        }
        c.execute("INSERT INTO decision_keys VALUES (851, 'old-key', 3)", []).expect("old key");
        for m in [B, A] {
            c.execute(
                "INSERT INTO batch_runs (municipality, status, started_at, finished_at, summary, proposals, prices)
                 VALUES (?1, 'finished', '2026-08-01T10:00:00Z', '2026-08-01T10:01:00Z', '{}', '[]', '{}')",
                [m],
            )
            .expect("old run");
        }
    }
    let s = start_config("ids-old-file-server", |c| c.db = db.clone());
    seed(&s);
    let (a, b) = (s.tokens.a_caseworker.clone(), s.tokens.b_caseworker.clone());
    // Old ids keep naming the same decision, for their own tenant only.
    assert_eq!(listed_ids(&s, &a), vec![1, 3, 4]);
    assert_eq!(listed_ids(&s, &b), vec![2, 5]);
    let r = call(s.addr, "GET", "/v1/decisions/4", Some(&a), None);
    assert_eq!(
        (r.body["candidate_id"].clone(), r.body["action"].clone()),
        (json!("cand-a2"), json!("accept"))
    );
    assert_problem(&call(s.addr, "GET", "/v1/decisions/4", Some(&b), None), 404);
    assert_problem(&call(s.addr, "GET", "/v1/decisions/2", Some(&a), None), 404);
    assert_eq!(call(s.addr, "GET", "/v1/decisions/2", Some(&b), None).body["municipality"], "0101");
    // An old cursor still means "after that decision".
    let r = call(s.addr, "GET", "/v1/decisions?after=3", Some(&a), None);
    assert_eq!(r.body["decisions"][0]["id"], 4, "{}", r.body);
    // An outcome for the old id lands on that decision; the old key replays it.
    let outcome = json!({"decision_id": 4, "result": "in_work"}).to_string();
    let r = call(s.addr, "POST", "/v1/outcomes", Some(&a), Some(&outcome));
    assert_eq!(r.status, 201, "{}", r.body);
    let body = json!({"candidate_id": "cand-a1", "offer_id": "course-1", "action": "decline", "reason": "r"})
        .to_string();
    let req = format!(
        "POST /v1/decisions HTTP/1.1\r\nhost: t\r\nconnection: close\r\nauthorization: Bearer {a}\r\n\
         idempotency-key: old-key\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, _, bytes) = crate::common::server::raw(s.addr, req.as_bytes());
    let replay: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!((status, replay["id"].clone()), (200, json!(3)), "{replay}");
    // Old batch runs keep their ids too; the prices of A's run 2 are loaded at start.
    assert_eq!(call(s.addr, "GET", "/v1/batch-runs/2", Some(&a), None).body["status"], "finished");
    assert_problem(&call(s.addr, "GET", "/v1/batch-runs/1", Some(&a), None), 404);
    assert_eq!(call(s.addr, "GET", "/v1/batch-runs/1", Some(&b), None).body["status"], "finished");
    let r = call(s.addr, "POST", "/v1/suggestions", Some(&a), Some(r#"{"candidate_id": "cand-a1"}"#));
    assert_eq!(r.body["batch_run_id"], 2, "{}", r.body);
    // New rows continue after the tenant's own largest number, not the global one.
    assert_eq!(id_of(&decide(&s, &a, "cand-a1", "decline")), 5);
    assert_eq!(id_of(&decide(&s, &b, "cand-b1", "decline")), 6);
    assert_eq!(id_of(&decide(&s, &a, "cand-a1", "decline")), 6);
    assert_eq!(batch_run(&s, &a), 3);
    assert_eq!(batch_run(&s, &b), 2);
    drop(s);

    // The migrated file: numbers unique per tenant by index, still append-only, and opening it
    // again changes nothing.
    let store = matcher_service::server::store::Store::open(&db).expect("reopen");
    drop(store);
    let c = rusqlite::Connection::open(&db).expect("open");
    let numbers: Vec<(u16, i64, i64)> = {
        let mut stmt =
            c.prepare("SELECT municipality, id, number FROM decisions ORDER BY id").expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    };
    assert_eq!(
        numbers,
        vec![(A, 1, 1), (B, 2, 2), (A, 3, 3), (A, 4, 4), (B, 5, 5), (A, 6, 5), (B, 7, 6), (A, 8, 6)]
    );
    let update = c.execute("UPDATE decisions SET number = 99 WHERE id = 1", []);
    assert!(update.is_err_and(|e| e.to_string().contains("append-only")));
    let duplicate = c.execute(
        "INSERT INTO batch_runs (municipality, number, status, started_at) VALUES (851, 3, 'failed', 'x')",
        [],
    );
    assert!(duplicate.is_err_and(|e| e.to_string().contains("UNIQUE")));
}
