//! Issue 17, accountable by design: the suggestion log reproduces exactly what
//! `POST /v1/suggestions` (the widget's call) returned and every batch proposal, with who
//! asked and the versions in force; it is append-only in the database too; only an admin of
//! the same municipality reads it.

use super::common::server::*;
use serde_json::{Value, json};
use std::time::Duration;

/// The raw bytes of a JSON answer (the helper `call` parses; here the bytes themselves count).
fn raw_call(s: &Server, method: &str, path: &str, token: &str, body: &str) -> (u16, Vec<u8>) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, _, bytes) = raw(s.addr, req.as_bytes());
    (status, bytes)
}

fn wait_for_batch(s: &Server, token: &str) -> i64 {
    let run = call(s.addr, "POST", "/v1/batch-runs", Some(token), None);
    assert_eq!(run.status, 202, "{}", run.body);
    let id = run.body["id"].as_i64().expect("id");
    for _ in 0..300 {
        let r = call(s.addr, "GET", &format!("/v1/batch-runs/{id}"), Some(token), None);
        if r.body["status"] != "running" {
            assert_eq!(r.body["status"], "finished", "{}", r.body);
            return id;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("batch run {id} did not finish");
}

#[test]
fn the_suggestion_log_reproduces_exactly_what_was_shown() {
    let s = start("suggestion-log");
    seed(&s);
    let cw = s.tokens.a_caseworker.clone();
    let admin = s.tokens.a_admin.clone();
    // What the widget asks for, and a second list later with another k.
    let (status, first) =
        raw_call(&s, "POST", "/v1/suggestions", &cw, r#"{"candidate_id": "cand-a1", "k": 2}"#);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&first));
    let (status, second) =
        raw_call(&s, "POST", "/v1/suggestions", &admin, r#"{"candidate_id": "cand-a1", "k": 1}"#);
    assert_eq!(status, 200);
    // Another candidate's list is not in cand-a1's log.
    let (status, _) = raw_call(&s, "POST", "/v1/suggestions", &cw, r#"{"candidate_id": "cand-a2"}"#);
    assert_eq!(status, 200);

    let today = matcher_service::clock::today_utc().to_string();
    let path = format!("/v1/audit/suggestions?candidate_id=cand-a1&date={today}");
    let (status, log_bytes) = raw_call(&s, "GET", &path, &admin, "");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&log_bytes));
    // Byte for byte: each served body appears unchanged inside the audit answer.
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(contains(&log_bytes, &first), "the first answer, byte for byte");
    assert!(contains(&log_bytes, &second), "the second answer, byte for byte");
    let log: Value = serde_json::from_slice(&log_bytes).expect("audit answer is JSON");
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{log}");
    let served: Value = serde_json::from_slice(&first).expect("json");
    let e = &entries[0];
    assert_eq!(e["answer"], served, "the log holds the answer as it was shown");
    assert_eq!(e["answer"]["suggestions"][0]["factors"], served["suggestions"][0]["factors"]);
    assert!(e["answer"]["suggestions"][0]["effect_dkk"].is_number(), "{e}");
    assert_eq!((e["requested_by"].as_str(), e["role"].as_str()), (Some("cw-a"), Some("caseworker")));
    assert_eq!((e["source"].as_str(), e["candidate_id"].as_str()), (Some("api"), Some("cand-a1")));
    assert_eq!(e["offers_version"], served["offers_version"]);
    assert!(e["shown_at"].as_str().is_some_and(|t| t.starts_with(&today) && t.ends_with('Z')), "{e}");
    assert!(e["engine_version"].as_str().is_some_and(|v| v.starts_with("matcher ")), "{e}");
    assert!(e["policy_name"].as_str().is_some_and(|n| !n.is_empty()), "{e}");
    for hash in ["policy_hash", "reference_hash"] {
        let h = e[hash].as_str().unwrap_or("");
        assert!(h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}: {e}");
    }
    assert_eq!(entries[1]["requested_by"], "admin-a");
    assert!(entries[0]["number"].as_i64() < entries[1]["number"].as_i64());
    assert_eq!(log["next"], Value::Null);
    // Paging: one at a time gives the same entries.
    let page = call(s.addr, "GET", "/v1/audit/suggestions?candidate_id=cand-a1&limit=1", Some(&admin), None);
    assert_eq!(page.body["entries"].as_array().map(Vec::len), Some(1));
    let after = page.body["next"].as_i64().expect("next");
    let rest = call(
        s.addr,
        "GET",
        &format!("/v1/audit/suggestions?candidate_id=cand-a1&after={after}"),
        Some(&admin),
        None,
    );
    assert_eq!(rest.body["entries"][0]["answer"], entries[1]["answer"]);
    // Another day holds nothing.
    let other =
        call(s.addr, "GET", "/v1/audit/suggestions?candidate_id=cand-a1&date=2020-01-01", Some(&admin), None);
    assert_eq!(other.body["entries"], json!([]), "{}", other.body);

    // A batch run's proposals are logged too, with the run and who started it.
    let run = wait_for_batch(&s, &s.tokens.a_system);
    let r = call(s.addr, "GET", &format!("/v1/batch-runs/{run}/proposals"), Some(&admin), None);
    let proposal = r.body["proposals"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["candidate_id"] == "cand-a1"))
        .cloned()
        .expect("a proposal for cand-a1");
    let log = call(s.addr, "GET", "/v1/audit/suggestions?candidate_id=cand-a1", Some(&admin), None);
    let batch: Vec<&Value> =
        log.body["entries"].as_array().expect("entries").iter().filter(|e| e["source"] == "batch").collect();
    assert_eq!(batch.len(), 1, "{}", log.body);
    assert_eq!(batch[0]["answer"], proposal);
    assert_eq!(batch[0]["batch_run_id"], run);
    assert_eq!(
        (batch[0]["requested_by"].as_str(), batch[0]["role"].as_str()),
        (Some("sys-a"), Some("system"))
    );
}

#[test]
fn the_suggestion_log_is_for_admins_of_the_tenant_and_append_only() {
    let s = start("suggestion-log-access");
    seed(&s);
    let (status, _) =
        raw_call(&s, "POST", "/v1/suggestions", &s.tokens.a_caseworker, r#"{"candidate_id": "cand-a1"}"#);
    assert_eq!(status, 200);
    let path = "/v1/audit/suggestions?candidate_id=cand-a1";
    for token in [&s.tokens.a_caseworker, &s.tokens.a_provider, &s.tokens.a_system] {
        assert_problem(&call(s.addr, "GET", path, Some(token), None), 403);
    }
    // Another municipality's admin sees nothing, not even that there is something.
    let b_admin = matcher_service::server::auth::create_token(
        &s.state.store,
        B,
        matcher_service::server::auth::Role::Admin,
        "admin-b",
    )
    .expect("token");
    let r = call(s.addr, "GET", path, Some(&b_admin), None);
    assert_eq!((r.status, r.body["entries"].clone()), (200, json!([])), "{}", r.body);
    for (bad, field) in [
        ("date=2026-13-01&candidate_id=cand-a1", "/query/date"),
        ("candidate_id=0101901234", "/query/candidate_id"),
        ("date=2026-09-01", "/query/candidate_id"),
    ] {
        let r = call(s.addr, "GET", &format!("/v1/audit/suggestions?{bad}"), Some(&s.tokens.a_admin), None);
        assert_problem(&r, 422);
        assert!(r.body.to_string().contains(field), "{bad}: {}", r.body);
        assert!(!r.body.to_string().contains("0101901234"), "a CPR-like value is never echoed: {}", r.body);
    }
    // Append-only in the file, whatever a process with the file does.
    s.state.suggestion_log.flush();
    let db = rusqlite::Connection::open(s._dir.0.join("matcher.db")).expect("open");
    let rows: i64 = db.query_row("SELECT count(*) FROM suggestion_log", [], |r| r.get(0)).expect("count");
    assert_eq!(rows, 1);
    let update = db.execute("UPDATE suggestion_log SET answer = '{}'", []);
    assert!(update.is_err_and(|e| e.to_string().contains("append-only")));
    let delete = db.execute("DELETE FROM suggestion_log", []);
    assert!(delete.is_err_and(|e| e.to_string().contains("append-only")));
}
