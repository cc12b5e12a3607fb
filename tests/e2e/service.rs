//! `matcher serve`: a real server on an ephemeral port with a real SQLite file. Tenancy and
//! roles on every route, atomic reservation under 200 concurrent accepts, durability across
//! `kill -9` of the real binary, problem details for bad input, and the OpenAPI golden file.

use super::common::server::*;
use matcher_service::server::api::ROUTES;
use matcher_service::server::auth::Role;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
}

#[test]
fn every_route_refuses_missing_and_unknown_tokens_and_wrong_roles() {
    let s = start("roles");
    for route in ROUTES {
        let path = concrete(route.path);
        let body = (route.method == "POST").then_some("{}");
        if route.roles.is_empty() {
            let r = call(s.addr, route.method, &path, None, body);
            assert_eq!(r.status, 200, "{} {path}: {}", route.method, r.body);
            continue;
        }
        assert_problem(&call(s.addr, route.method, &path, None, body), 401);
        assert_problem(&call(s.addr, route.method, &path, Some("bro_not-a-token"), body), 401);
        for role in Role::ALL {
            let r = call(s.addr, route.method, &path, Some(s.tokens.for_role(role)), body);
            if route.roles.contains(&role) {
                assert!(
                    r.status != 401 && r.status != 403,
                    "{} {path} as {}: {}",
                    route.method,
                    role.name(),
                    r.body
                );
            } else {
                assert_problem(&r, 403);
            }
        }
    }
    // Role-specific rules spelled out: a provider never decides, a system never decides.
    seed(&s);
    assert_problem(&decide(&s, &s.tokens.a_provider, "cand-a1", "course-1", "accept"), 403);
    assert_problem(&decide(&s, &s.tokens.a_system, "cand-a1", "course-1", "accept"), 403);
}

#[test]
fn another_municipality_sees_nothing_of_a_tenant() {
    let s = start("tenants");
    seed(&s);
    let (a, b) = (s.tokens.a_caseworker.clone(), s.tokens.b_caseworker.clone());
    let accepted = decide(&s, &a, "cand-a1", "course-1", "accept");
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let decision = accepted.body["id"].as_i64().expect("decision id");
    let run = call(s.addr, "POST", "/v1/batch-runs", Some(&a), None);
    assert_eq!(run.status, 202, "{}", run.body);
    let run_id = run.body["id"].as_i64().expect("run id");

    // Each of A's resources answers B exactly as a resource that does not exist.
    let same_as_missing = |method: &str, path: &str, missing: &str, body: Option<&str>| {
        let theirs = call(s.addr, method, path, Some(&b), body);
        let none = call(s.addr, method, missing, Some(&b), body);
        assert_problem(&theirs, 404);
        assert_problem(&none, 404);
        assert_eq!(theirs.body["detail"], none.body["detail"], "{path}");
        assert!(!theirs.body.to_string().contains("0851"), "{}", theirs.body);
    };
    same_as_missing("GET", "/v1/candidates/cand-a1", "/v1/candidates/cand-zz", None);
    same_as_missing("DELETE", "/v1/candidates/cand-a1", "/v1/candidates/cand-zz", None);
    same_as_missing("GET", &format!("/v1/decisions/{decision}"), "/v1/decisions/999999", None);
    same_as_missing("GET", &format!("/v1/batch-runs/{run_id}"), "/v1/batch-runs/999999", None);
    same_as_missing(
        "GET",
        &format!("/v1/batch-runs/{run_id}/proposals"),
        "/v1/batch-runs/999999/proposals",
        None,
    );
    let by_id = |id: &str| json!({"candidate_id": id}).to_string();
    let theirs = call(s.addr, "POST", "/v1/suggestions", Some(&b), Some(&by_id("cand-a1")));
    assert_problem(&theirs, 404);
    let theirs = decide(&s, &b, "cand-a1", "course-1", "accept");
    assert_problem(&theirs, 404);
    let outcome = json!({"decision_id": decision, "result": "in_work"}).to_string();
    assert_problem(&call(s.addr, "POST", "/v1/outcomes", Some(&b), Some(&outcome)), 404);
    // Lists hold only B's own rows.
    let list = call(s.addr, "GET", "/v1/candidates", Some(&b), None);
    assert_eq!(list.body["candidates"].as_array().map(Vec::len), Some(1), "{}", list.body);
    let list = call(s.addr, "GET", "/v1/decisions?candidate_id=cand-a1", Some(&b), None);
    assert_eq!(list.body["decisions"], json!([]), "{}", list.body);
    // B cannot write a candidate into A, and the same id in B is another candidate.
    let into_a = json!([candidate("cand-x", "0851")]).to_string();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&b), Some(&into_a));
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/0/municipality");
    let same_id = json!([candidate("cand-a1", "0101")]).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/candidates", Some(&b), Some(&same_id)).status, 200);
    let mine = call(s.addr, "GET", "/v1/candidates/cand-a1", Some(&a), None);
    assert_eq!(mine.body["municipality"], "0851", "{}", mine.body);
}

#[test]
fn two_hundred_concurrent_accepts_on_ten_places_give_exactly_ten() {
    let s = start("overbook");
    seed(&s);
    // 200 distinct candidates: one candidate holds at most one place (issue 14).
    let many: Vec<Value> = (0..200).map(|i| candidate(&format!("cand-r{i}"), "0851")).collect();
    let r = call(
        s.addr,
        "POST",
        "/v1/candidates",
        Some(&s.tokens.a_system),
        Some(&Value::Array(many).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let addr = s.addr;
    let token = s.tokens.a_caseworker.clone();
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let token = token.clone();
            std::thread::spawn(move || {
                let candidate = format!("cand-r{i}");
                let body = json!({"candidate_id": candidate, "offer_id": "course-1", "action": "accept", "reason": "race"});
                call(addr, "POST", "/v1/decisions", Some(&token), Some(&body.to_string())).status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().expect("thread")).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), 190, "{statuses:?}");
    let offer = call(s.addr, "GET", "/v1/offers/course-1", Some(&token), None);
    assert_eq!(offer.body["reserved"], 10, "{}", offer.body);
    assert_eq!(offer.body["remaining_places"], 0, "{}", offer.body);
    let list = call(s.addr, "GET", "/v1/decisions", Some(&token), None);
    assert_eq!(list.body["decisions"].as_array().map(Vec::len), Some(10));
    // A full offer is no longer suggested.
    let r =
        call(s.addr, "POST", "/v1/suggestions", Some(&token), Some(r#"{"candidate_id": "cand-a1", "k": 5}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<&str> = r.body["suggestions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["offer_id"].as_str())
        .collect();
    assert_eq!(ids, ["course-2"], "{}", r.body);
}

/// A client that lost the answer (timeout, dropped connection) retries with the same
/// `Idempotency-Key`: one decision and one place, however often it retries.
#[test]
fn a_retried_decision_with_the_same_key_is_recorded_once() {
    let s = start("idempotency");
    seed(&s);
    let send = |token: &str, key: &str, candidate: &str| {
        let body = json!({"candidate_id": candidate, "offer_id": "course-2", "action": "accept",
                          "reason": "fits the plan", "suggested_offer_ids": ["course-2"]})
        .to_string();
        let request = format!(
            "POST /v1/decisions HTTP/1.1\r\nhost: test\r\nconnection: close\r\nauthorization: Bearer {token}\r\n\
             idempotency-key: {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let (status, _, bytes) = raw(s.addr, request.as_bytes());
        (status, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
    };
    let a = s.tokens.a_caseworker.clone();
    let (status, first) = send(&a, "retry-7f3a", "cand-a1");
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["remaining_places"], 2);
    for _ in 0..3 {
        let (status, again) = send(&a, "retry-7f3a", "cand-a1");
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["remaining_places"], 2, "a replay takes no place: {again}");
    }
    let listed = call(s.addr, "GET", "/v1/decisions?candidate_id=cand-a1", Some(&a), None);
    assert_eq!(listed.body["decisions"].as_array().map(Vec::len), Some(1), "{}", listed.body);
    // The same key for another decision is a client bug, not a retry: another candidate, or
    // the same accept with another course start.
    let (status, other) = send(&a, "retry-7f3a", "cand-a2");
    assert_eq!(status, 409, "{other}");
    let later = json!({"candidate_id": "cand-a1", "offer_id": "course-2", "action": "accept",
    "reason": "fits the plan", "suggested_offer_ids": ["course-2"],
    "starts_on": first["starts_on"].as_str().map(|d| {
        // Another day of the same ten days (never the first's own).
        let last = if d.ends_with('9') { '8' } else { '9' };
        format!("{}{last}", &d[..d.len() - 1])
    })})
    .to_string();
    let request = format!(
        "POST /v1/decisions HTTP/1.1\r\nhost: test\r\nconnection: close\r\nauthorization: Bearer {a}\r\n\
         idempotency-key: retry-7f3a\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{later}",
        later.len()
    );
    let (status, _, bytes) = raw(s.addr, request.as_bytes());
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&bytes));
    // Keys are ids: a CPR-like key is refused and not echoed.
    let (status, cpr) = send(&a, "0101901234", "cand-a2");
    assert_eq!(status, 422, "{cpr}");
    assert!(!cpr.to_string().contains("0101901234"), "{cpr}");
    // Keys belong to a tenant: another municipality's identical key is its own.
    let b = s.tokens.b_caseworker.clone();
    let (status, theirs) = send(&b, "retry-7f3a", "cand-b1");
    assert_eq!(status, 201, "{theirs}");
    assert_eq!(
        (theirs["candidate_id"].clone(), theirs["municipality"].clone()),
        (json!("cand-b1"), json!("0101"))
    );
    // Numbered per tenant: B's first decision is its 1, as A's was.
    assert_eq!((first["id"].clone(), theirs["id"].clone()), (json!(1), json!(1)));
}

#[test]
fn suggestions_decisions_outcomes_quality_and_batch_runs_work_together() {
    let s = start("flow");
    seed(&s);
    let a = s.tokens.a_caseworker.clone();
    let r = call(s.addr, "POST", "/v1/suggestions", Some(&a), Some(r#"{"candidate_id": "cand-a1", "k": 2}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    let first = &r.body["suggestions"][0];
    for key in ["score", "factors", "effect_dkk", "evidence", "distance_km", "remaining_places", "offer_id"] {
        assert!(!first[key].is_null(), "{key} missing: {first}");
    }
    assert!(first["scarcity_price"].is_null(), "no batch ran yet: {first}");
    let total: i64 =
        first["factors"].as_array().expect("factors").iter().map(|f| f["points"].as_i64().unwrap_or(0)).sum();
    assert_eq!(Some(total), first["score"].as_i64(), "factors add up to the score");
    // Inline, without storing.
    let inline = json!({"candidate": candidate("walk-in-1", "0851"), "k": 1}).to_string();
    let r = call(s.addr, "POST", "/v1/suggestions", Some(&a), Some(&inline));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_problem(&call(s.addr, "GET", "/v1/candidates/walk-in-1", Some(&a), None), 404);

    // Accept, then record the outcome: the evidence behind quality grows by one trial.
    let before = call(s.addr, "GET", "/v1/offers/course-2/quality", Some(&s.tokens.a_provider), None);
    assert_eq!(before.status, 200, "{}", before.body);
    let d = decide(&s, &a, "cand-a1", "course-2", "accept");
    assert_eq!(d.status, 201, "{}", d.body);
    assert_eq!(d.body["decided_by"], "cw-a");
    assert_eq!(d.body["employer"], "municipality 0851");
    assert_eq!(d.body["remaining_places"], 2);
    let declined = decide(&s, &a, "cand-a2", "course-2", "decline");
    assert_eq!(declined.status, 201, "{}", declined.body);
    let outcome = json!({"decision_id": d.body["id"], "result": "in_work"}).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/outcomes", Some(&a), Some(&outcome)).status, 201);
    assert_problem(&call(s.addr, "POST", "/v1/outcomes", Some(&a), Some(&outcome)), 409);
    // JSON Schema counts 7.0 as an integer: the same decision (already has its outcome), while
    // 7.5 names no decision at all.
    let id = d.body["id"].as_i64().expect("decision id");
    let float_form = format!(r#"{{"decision_id": {id}.0, "result": "in_work"}}"#);
    assert_problem(&call(s.addr, "POST", "/v1/outcomes", Some(&a), Some(&float_form)), 409);
    let fraction = format!(r#"{{"decision_id": {id}.5, "result": "in_work"}}"#);
    assert_problem(&call(s.addr, "POST", "/v1/outcomes", Some(&a), Some(&fraction)), 422);
    let on_declined = json!({"decision_id": declined.body["id"], "result": "in_work"}).to_string();
    assert_problem(&call(s.addr, "POST", "/v1/outcomes", Some(&a), Some(&on_declined)), 409);
    let after = call(s.addr, "GET", "/v1/offers/course-2/quality", Some(&a), None);
    let sickness = after.body["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["target_group"] == "sickness"))
        .cloned();
    let sickness = sickness.expect("sickness evidence");
    assert_eq!((sickness["trials"].clone(), sickness["successes"].clone()), (json!(1), json!(1)));
    let interval = sickness["interval_90"].as_array().expect("interval");
    assert!(
        interval[0].as_f64() < sickness["posterior_mean"].as_f64()
            && sickness["posterior_mean"].as_f64() < interval[1].as_f64()
    );
    // The outcome gave the accept's place back (issue 14).
    assert_eq!(after.body["reserved"], 0);
    let provider = call(s.addr, "GET", "/v1/providers/lev-0001/quality", Some(&a), None);
    assert_eq!(provider.status, 200, "{}", provider.body);
    assert_eq!(provider.body["capacity"], 13);

    // A batch run; afterwards suggestions carry its prices.
    let run = call(s.addr, "POST", "/v1/batch-runs", Some(&a), None);
    assert_eq!(run.status, 202, "{}", run.body);
    let id = run.body["id"].as_i64().expect("id");
    let mut status = String::new();
    for _ in 0..300 {
        let r = call(s.addr, "GET", &format!("/v1/batch-runs/{id}"), Some(&a), None);
        status = r.body["status"].as_str().unwrap_or("").to_string();
        if status != "running" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, "finished");
    let p = call(s.addr, "GET", &format!("/v1/batch-runs/{id}/proposals"), Some(&a), None);
    assert_eq!(p.body["proposals"].as_array().map(Vec::len), Some(2), "{}", p.body);
    let r = call(s.addr, "POST", "/v1/suggestions", Some(&a), Some(r#"{"candidate_id": "cand-a2"}"#));
    assert_eq!(r.body["batch_run_id"], id, "{}", r.body);
    let first = &r.body["suggestions"][0];
    assert_eq!(
        first["adjusted_score"].as_i64(),
        Some(first["score"].as_i64().unwrap_or(0) - first["scarcity_price"].as_i64().unwrap_or(0))
    );

    // Retire and erase.
    let r = call(s.addr, "POST", "/v1/offers/course-2/retire", Some(&s.tokens.a_admin), None);
    assert_eq!(r.body["retired"], true, "{}", r.body);
    assert_problem(&decide(&s, &a, "cand-a1", "course-2", "accept"), 409);
    assert_eq!(call(s.addr, "DELETE", "/v1/candidates/cand-a2", Some(&a), None).status, 200);
    assert_problem(&call(s.addr, "GET", "/v1/candidates/cand-a2", Some(&a), None), 404);
    // The decision about the erased candidate stays (the authority's record).
    let list = call(s.addr, "GET", "/v1/decisions?candidate_id=cand-a2", Some(&a), None);
    assert_eq!(list.body["decisions"].as_array().map(Vec::len), Some(1));
}

#[test]
fn decisions_are_append_only_in_the_database_too() {
    let s = start("append-only");
    seed(&s);
    assert_eq!(decide(&s, &s.tokens.a_caseworker, "cand-a1", "course-1", "accept").status, 201);
    let db = rusqlite::Connection::open(s._dir.0.join("matcher.db")).expect("open");
    let update = db.execute("UPDATE decisions SET reason = 'changed'", []);
    assert!(update.is_err_and(|e| e.to_string().contains("append-only")));
    let delete = db.execute("DELETE FROM decisions", []);
    assert!(delete.is_err_and(|e| e.to_string().contains("append-only")));
}

#[test]
fn bad_input_gets_a_clear_problem_with_a_field_path() {
    let s = start("bad-input");
    seed(&s);
    let (sys, cw) = (s.tokens.a_system.clone(), s.tokens.a_caseworker.clone());
    // Malformed JSON.
    let r = call(s.addr, "POST", "/v1/offers", Some(&sys), Some("[{\"id\": "));
    assert_problem(&r, 400);
    // Unknown field, in a record and in a request object.
    let mut o = offer("course-9", 1);
    o["colour"] = json!("red");
    let r =
        call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&json!([offer("course-8", 1), o]).to_string()));
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/1/colour", "{}", r.body);
    let r = call(
        s.addr,
        "POST",
        "/v1/decisions",
        Some(&cw),
        Some(r#"{"candidate_id":"cand-a1","offer_id":"course-1","action":"accept","reason":"x","extra":1}"#),
    );
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/extra", "{}", r.body);
    // NaN and out-of-country coordinates.
    let mut c = candidate("cand-nan", "0851");
    c["lat"] = json!("NaN");
    let r = call(s.addr, "POST", "/v1/candidates", Some(&cw), Some(&json!([c]).to_string()));
    assert_problem(&r, 422);
    // The whole problem body, pinned (the request id differs per request).
    let mut body = r.body.clone();
    body["request_id"] = json!("-");
    assert_eq!(
        body,
        json!({"type": "/problems/validation", "title": "Invalid request", "status": 422,
               "detail": "the request has 1 invalid field(s)", "instance": "/v1/candidates", "request_id": "-",
               "errors": [{"path": "/0/lat", "value": "NaN", "reason": "expected a finite number"}]})
    );
    let mut c = candidate("cand-far", "0851");
    c["lon"] = json!(1e300);
    let r = call(s.addr, "POST", "/v1/candidates", Some(&cw), Some(&json!([c]).to_string()));
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/0/lon", "{}", r.body);
    // CPR-like ids: in a record, in a request field, in a path, in a query.
    let r = call(
        s.addr,
        "POST",
        "/v1/candidates",
        Some(&cw),
        Some(&json!([candidate("010190-1234", "0851")]).to_string()),
    );
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/0/id", "{}", r.body);
    assert!(!r.body.to_string().contains("stored"));
    let r = call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(r#"{"candidate_id": "x0101901234"}"#));
    assert_problem(&r, 422);
    assert_problem(&call(s.addr, "GET", "/v1/candidates/0101901234", Some(&cw), None), 422);
    assert_problem(&call(s.addr, "GET", "/v1/decisions?candidate_id=010190-1234", Some(&cw), None), 422);
    let r = decide(&s, &cw, "cand-a1", "0101901234", "accept");
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/offer_id");
    // Huge bodies: announced, and chunked without Content-Length.
    let huge = format!("[{}]", "1,".repeat(600_000) + "1");
    assert_problem(&call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&huge)), 413);
    let mut req = format!(
        "POST /v1/offers HTTP/1.1\r\nhost: t\r\nconnection: close\r\nauthorization: Bearer {sys}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..40 {
        req.extend_from_slice(format!("{:x}\r\n{}\r\n", 40_000, "1".repeat(40_000)).as_bytes());
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let (status, headers, _) = raw(s.addr, &req);
    assert_eq!(status, 413, "{headers}");
    // No body where one is needed; wrong media type; wrong method; unknown route.
    assert_problem(&call(s.addr, "POST", "/v1/decisions", Some(&cw), None), 400);
    let req = format!(
        "POST /v1/decisions HTTP/1.1\r\nhost: t\r\nconnection: close\r\nauthorization: Bearer {cw}\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nhi"
    );
    assert_eq!(raw(s.addr, req.as_bytes()).0, 415);
    assert_problem(&call(s.addr, "PUT", "/v1/decisions", Some(&cw), None), 405);
    assert_problem(&call(s.addr, "GET", "/v1/nothing", Some(&cw), None), 404);
    // Missing reason, bad action, bad k.
    let r = call(
        s.addr,
        "POST",
        "/v1/decisions",
        Some(&cw),
        Some(r#"{"candidate_id":"cand-a1","offer_id":"course-1","action":"accept","reason":" "}"#),
    );
    assert_eq!(r.body["errors"][0]["path"], "/reason", "{}", r.body);
    let r = call(
        s.addr,
        "POST",
        "/v1/decisions",
        Some(&cw),
        Some(r#"{"candidate_id":"cand-a1","offer_id":"course-1","action":"maybe","reason":"x"}"#),
    );
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/action", "{}", r.body);
    assert_problem(
        &call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(r#"{"candidate_id":"cand-a1","k":0}"#)),
        422,
    );
    // Nothing of the refused writes was stored.
    let list = call(s.addr, "GET", "/v1/offers", Some(&cw), None);
    assert_eq!(list.body["offers"].as_array().map(Vec::len), Some(2), "{}", list.body);
}

/// Two-letter codes `aa`, `ab`, … (valid as languages to the reader: any two letters).
fn language_codes(n: usize) -> Vec<String> {
    ('a'..='z').flat_map(|a| ('a'..='z').map(move |b| format!("{a}{b}"))).take(n).collect()
}

/// The scorer keeps the offers' languages as bits of one word: 64 distinct languages over all
/// offers. A write of offers going over it was stored, and then no catalogue could be built:
/// that write and every later offer write answered 500 ("scorer: offers use 70 distinct
/// languages; at most 64 are supported"), batch runs and suggestions went on with the offers
/// as they were, and the service could not start again on its file. Now the write is refused
/// whole, naming the offer that goes over.
#[test]
fn offers_going_over_the_languages_the_scorer_keeps_are_refused_and_nothing_breaks() {
    let s = start("languages");
    seed(&s);
    let sys = s.tokens.a_system.clone();
    let cw = s.tokens.a_caseworker.clone();
    let with_languages = |id: &str, codes: &[String]| {
        let mut o = offer(id, 3);
        o["languages"] = json!(codes.join(";"));
        o
    };
    let codes = language_codes(80);
    // One offer with 70 languages (one list may hold 1,000 items).
    let body = json!([with_languages("course-7", &codes[..70])]).to_string();
    let r = call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&body));
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/0/languages", "{}", r.body);
    assert_problem(&call(s.addr, "GET", "/v1/offers/course-7", Some(&sys), None), 404);
    // 60 on one offer fit beside the seeded `da`; replacing them by 60 others still fits (the
    // offer's old languages are not counted); another 10 new ones on a second offer do not.
    for range in [0..60, 20..80] {
        let body = json!([with_languages("course-7", &codes[range])]).to_string();
        let r = call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&body));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let body = json!([offer("course-8", 2), with_languages("course-9", &codes[..10])]).to_string();
    let r = call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&body));
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/1/languages", "{}", r.body);
    assert!(r.body["errors"][0]["reason"].as_str().is_some_and(|t| t.contains("at most 64")), "{}", r.body);
    assert_problem(&call(s.addr, "GET", "/v1/offers/course-8", Some(&sys), None), 404);
    // The offers can still be written, and the night runs on them.
    let r = call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&json!([offer("course-8", 2)]).to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    let run = batch_run(&s, &cw);
    let r = call(s.addr, "GET", &format!("/v1/batch-runs/{run}/proposals"), Some(&cw), None);
    assert!(r.body["proposals"].as_array().is_some_and(|p| !p.is_empty()), "{}", r.body);
}

#[test]
fn openapi_document_matches_the_golden_file_and_the_routes() {
    let s = start("openapi");
    let r = call(s.addr, "GET", "/openapi.json", None, None);
    assert_eq!(r.status, 200);
    let golden_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/golden/openapi.json");
    let text = serde_json::to_string_pretty(&r.body).expect("json") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden_path, &text).expect("write golden");
    }
    let golden = std::fs::read_to_string(&golden_path).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(text, golden, "openapi.json changed: review and rerun with UPDATE_GOLDEN=1");
    // Every documented operation is served (never 404/405), and every route is documented.
    let paths = r.body["paths"].as_object().expect("paths");
    let mut documented = 0;
    for (path, methods) in paths {
        for method in methods.as_object().expect("methods").keys() {
            documented += 1;
            let method = method.to_ascii_uppercase();
            let r = call(s.addr, &method, &concrete(path), None, (method == "POST").then_some("{}"));
            assert!(r.status == 200 || r.status == 401, "{method} {path}: {}", r.status);
        }
    }
    assert_eq!(documented, ROUTES.len());
}

#[test]
fn metrics_and_health_answer() {
    let s = start_config("metrics", |c| c.metrics_token = Some("scrape-e2e".into()));
    assert_eq!(call(s.addr, "GET", "/healthz", None, None).status, 200);
    assert_eq!(call(s.addr, "GET", "/readyz", None, None).status, 200);
    let m = call(s.addr, "GET", "/metrics", Some("scrape-e2e"), None);
    let text = m.body.as_str().unwrap_or("");
    assert!(text.contains("brobygger_http_requests_total{route=\"/healthz\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("# TYPE brobygger_http_request_duration_seconds histogram"), "{text}");
}

#[test]
fn each_suggestion_says_how_far_it_is_ahead_of_the_next() {
    let s = start("runner-up");
    seed(&s);
    let a = s.tokens.a_caseworker.clone();
    let r = call(s.addr, "POST", "/v1/suggestions", Some(&a), Some(r#"{"candidate_id": "cand-a1", "k": 2}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    let (first, second) = (&r.body["suggestions"][0], &r.body["suggestions"][1]);
    let ru = &first["runner_up"];
    assert_eq!(ru["offer_id"], second["offer_id"], "{ru}");
    assert_eq!(ru["name"], second["name"]);
    let gap = first["score"].as_i64().unwrap_or(0) - second["score"].as_i64().unwrap_or(0);
    assert_eq!(ru["difference"].as_i64(), Some(gap));
    let per_factor = ru["factor_differences"].as_array().expect("factor differences");
    assert_eq!(per_factor.len(), 8);
    assert_eq!(per_factor.iter().map(|f| f["points"].as_i64().unwrap_or(0)).sum::<i64>(), gap, "{ru}");
    // Only two offers exist: the second has no runner-up.
    assert!(second["runner_up"].is_null(), "{second}");
    // k = 1 still names the runner-up (one more offer is ranked than shown).
    let r = call(s.addr, "POST", "/v1/suggestions", Some(&a), Some(r#"{"candidate_id": "cand-a1", "k": 1}"#));
    assert_eq!(r.body["suggestions"].as_array().map(Vec::len), Some(1));
    assert_eq!(r.body["suggestions"][0]["runner_up"]["offer_id"], second["offer_id"]);
    let evidence = &first["evidence"][0];
    assert_eq!(evidence["target_group"], "sickness");
    assert!(
        evidence["target_group_name_da"].as_str().is_some_and(|n| !n.is_empty() && n != "sickness"),
        "{evidence}"
    );
}

#[test]
fn the_widget_script_is_served_and_the_demo_page_only_with_demo() {
    let s = start_with("widget", vec!["https://case.example".into()]);
    // A classic <script> sends no Origin: CORS must not get in its way.
    let (status, headers, body) =
        raw(s.addr, b"GET /widget/v1/brobygger.js HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n");
    assert_eq!(status, 200, "{headers}");
    assert!(headers.contains("content-type: text/javascript"), "{headers}");
    assert!(headers.contains("x-content-type-options: nosniff"), "{headers}");
    assert!(String::from_utf8_lossy(&body).contains("customElements.define(TAG"), "the widget script");
    let etag = headers
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .map(|e| e.trim().to_string())
        .expect("an etag");
    let again = format!(
        "GET /widget/v1/brobygger.js HTTP/1.1\r\nhost: t\r\nconnection: close\r\nif-none-match: {etag}\r\n\r\n"
    );
    let (status, _, body) = raw(s.addr, again.as_bytes());
    assert_eq!((status, body.len()), (304, 0));
    // Without --demo there is no page at / (a production service shows no token to anyone).
    assert_problem(&call(s.addr, "GET", "/", None, None), 404);
    assert_problem(&call(s.addr, "GET", "/demo/demo.js", None, None), 404);
    let demo = matcher_service::server::widget::DemoPage {
        token: s.tokens.a_caseworker.clone(),
        municipality: A,
        municipality_name: "Aalborg".into(),
        candidates: vec![("cand-a1".into(), "40-49".into())],
        teams: vec![],
    };
    assert!(s.state.demo.set(demo).is_ok());
    let page = call(s.addr, "GET", "/", None, None);
    assert_eq!(page.status, 200);
    assert!(
        page.headers.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{}",
        page.headers
    );
    assert!(page.headers.contains("cache-control: no-store"), "{}", page.headers);
    let html = page.body.as_str().unwrap_or("");
    assert!(html.contains("<brobygger-suggestions id=\"widget\" candidate-id=\"cand-a1\""), "{html}");
    assert_eq!(call(s.addr, "GET", "/demo/demo.js", None, None).status, 200);
    // The API is still the API beside the static routes.
    assert_problem(&call(s.addr, "GET", "/v1/candidates", None, None), 401);
}

#[test]
fn cors_admits_only_configured_origins() {
    let s = start_with("cors", vec!["https://app.example".into()]);
    let get = |origin: &str| {
        let req =
            format!("GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\norigin: {origin}\r\n\r\n");
        raw(s.addr, req.as_bytes())
    };
    let (status, headers, _) = get("https://app.example");
    assert_eq!(status, 200);
    assert!(headers.contains("access-control-allow-origin: https://app.example"), "{headers}");
    let (status, headers, _) = get("https://evil.example");
    assert_eq!(status, 403, "{headers}");
    assert!(!headers.contains("access-control-allow-origin"), "{headers}");
    let preflight = "OPTIONS /v1/suggestions HTTP/1.1\r\nhost: t\r\nconnection: close\r\norigin: https://app.example\r\n\
                     access-control-request-method: POST\r\naccess-control-request-headers: authorization, content-type\r\n\r\n";
    let (status, headers, _) = raw(s.addr, preflight.as_bytes());
    assert_eq!(status, 200, "{headers}");
    assert!(headers.contains("access-control-allow-methods"), "{headers}");
    // A same-origin POST carries Origin too (the demo page): it is not a cross-origin request.
    let same = format!(
        "POST /v1/suggestions HTTP/1.1\r\nhost: {0}\r\nconnection: close\r\norigin: http://{0}\r\n\
         content-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}",
        s.addr
    );
    let (status, headers, _) = raw(s.addr, same.as_bytes());
    assert_eq!(status, 401, "same origin reaches the API (and its token check): {headers}");
    let forged = format!(
        "POST /v1/suggestions HTTP/1.1\r\nhost: {0}\r\nconnection: close\r\norigin: http://evil.example\r\n\
         content-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}",
        s.addr
    );
    assert_eq!(raw(s.addr, forged.as_bytes()).0, 403);
}

#[test]
fn a_request_over_the_timeout_gets_a_503_problem() {
    let s = start_config("timeout", |c| {
        c.request_timeout = Duration::from_millis(1);
        c.max_body_bytes = 16 * 1024 * 1024;
    });
    // Validating and indexing 5,000 offers takes far longer than a millisecond.
    let offers: Vec<Value> = (0..5000).map(|i| offer(&format!("course-{i}"), 1)).collect();
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_system), Some(&json!(offers).to_string()));
    assert_problem(&r, 503);
    assert_eq!(r.body["type"], "/problems/timeout", "{}", r.body);
}

#[test]
fn kill_9_loses_no_acknowledged_decision() {
    let dir = temp_dir("kill9");
    let db = dir.0.join("matcher.db");
    let system = cli_token(&db, "0851", "system");
    let cw = cli_token(&db, "851", "caseworker");
    let (mut child, addr) = spawn_server(&db);
    let offers = json!([offer("course-1", 100_000)]).to_string();
    assert_eq!(call(addr, "POST", "/v1/offers", Some(&system), Some(&offers)).status, 200);
    // A candidate holds one running course at a time, so every accept is for a candidate of its
    // own: 4 writers x 500, far more than the 60 acknowledged before the kill.
    const PER_WRITER: usize = 500;
    let cands: Vec<_> = (0..4 * PER_WRITER).map(|i| candidate(&format!("cand-k{i}"), "0851")).collect();
    let r = call(addr, "POST", "/v1/candidates", Some(&cw), Some(&json!(cands).to_string()));
    assert_eq!(r.status, 200, "{}", r.body);

    // Four writers send decisions until the server dies under them.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (acked, cw) = (acked.clone(), cw.clone());
            std::thread::spawn(move || {
                for i in w * PER_WRITER..(w + 1) * PER_WRITER {
                    let body = json!({"candidate_id": format!("cand-k{i}"), "offer_id": "course-1", "action": "accept", "reason": "stream"}).to_string();
                    let r = call(addr, "POST", "/v1/decisions", Some(&cw), Some(&body));
                    if r.status != 201 {
                        break;
                    }
                    if let Some(id) = r.body["id"].as_i64()
                        && let Ok(mut a) = acked.lock()
                    {
                        a.push(id);
                    }
                }
            })
        })
        .collect();
    // Kill once a stream is under way; the deadline only keeps a broken server from hanging
    // the test (the assertion below then fails it).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().map(|a| a.len()).unwrap_or(0) < 60 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.0.kill().expect("kill -9");
    let _ = child.0.wait();
    for w in writers {
        w.join().expect("writer");
    }
    let acked = acked.lock().expect("acked").clone();
    assert!(
        acked.len() >= 60,
        "only {} decisions were acknowledged within 60 s before the kill",
        acked.len()
    );
    drop(child);

    let (_child, addr) = spawn_server(&db);
    let mut ids: Vec<i64> = Vec::new();
    let mut after = String::new();
    loop {
        let list = call(addr, "GET", &format!("/v1/decisions?limit=1000{after}"), Some(&cw), None);
        assert_eq!(list.status, 200, "{}", list.body);
        ids.extend(
            list.body["decisions"].as_array().expect("decisions").iter().filter_map(|d| d["id"].as_i64()),
        );
        match list.body["next"].as_i64() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    for id in &acked {
        assert_eq!(ids.iter().filter(|i| *i == id).count(), 1, "acknowledged decision {id} present once");
    }
    assert!(ids.len() >= acked.len());
    // Places taken equal accepted decisions: the reservation and the record commit together.
    let offer = call(addr, "GET", "/v1/offers/course-1", Some(&cw), None);
    assert_eq!(offer.body["reserved"].as_u64(), Some(ids.len() as u64), "{}", offer.body);
}

#[test]
fn sigterm_stops_the_server_cleanly_and_data_survives_a_restart() {
    let dir = temp_dir("sigterm");
    let db = dir.0.join("matcher.db");
    let system = cli_token(&db, "0851", "system");
    let (mut child, addr) = spawn_server(&db);
    let offers = json!([offer("course-1", 5)]).to_string();
    assert_eq!(call(addr, "POST", "/v1/offers", Some(&system), Some(&offers)).status, 200);
    let pid = child.0.id().to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
    assert!(killed.success());
    let mut exited = None;
    for _ in 0..400 {
        if let Ok(Some(status)) = child.0.try_wait() {
            exited = Some(status);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(exited.is_some_and(|s| s.success()), "{exited:?}");
    let (_child, addr) = spawn_server(&db);
    let r = call(addr, "GET", "/v1/offers/course-1", Some(&system), None);
    assert_eq!(r.body["capacity"], 5, "{}", r.body);
}

/// Records a decline through the store (the same transaction as the API's), for volume.
fn decline(s: &Server, municipality: u16, candidate: &str) -> i64 {
    let d = matcher_service::server::store::NewDecision {
        municipality,
        candidate_id: candidate.into(),
        offer_id: "course-1".into(),
        accept: false,
        reason: "volume for paging".into(),
        decided_by: "cw".into(),
        employer: "municipality 0851".into(),
        role: "caseworker".into(),
        suggested: vec!["course-1".into()],
        key: None,
        today: "2026-09-01".into(),
        starts_on: None,
        decline_days: 90,
        corrects: None,
        kind_codes: Vec::new(),
    };
    s.state.store.decide(&d).expect("decide").decision.id
}

/// Follows `next` from the first page; the ids read and the number of pages.
fn read_all_decisions(s: &Server, token: &str, filter: &str, limit: u32) -> (Vec<i64>, usize) {
    let (mut ids, mut pages, mut after) = (Vec::new(), 0, String::new());
    loop {
        let r =
            call(s.addr, "GET", &format!("/v1/decisions?limit={limit}{filter}{after}"), Some(token), None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["limit"], limit, "{}", r.body);
        let rows = r.body["decisions"].as_array().expect("decisions");
        assert!(rows.len() <= limit as usize);
        ids.extend(rows.iter().map(|d| d["id"].as_i64().expect("id")));
        pages += 1;
        match r.body.get("next") {
            None => return (ids, pages),
            Some(next) => {
                // The cursor is the last id of the page, and a page with a next page is full.
                assert_eq!(next, &rows[rows.len() - 1]["id"], "{}", r.body);
                assert_eq!(rows.len(), limit as usize);
                after = format!("&after={next}");
            }
        }
        assert!(pages <= 100, "paging does not end");
    }
}

#[test]
fn decisions_beyond_ten_thousand_rows_are_read_in_pages() {
    let s = start("paging");
    seed(&s);
    let a = s.tokens.a_caseworker.clone();
    // 10,500 in A (alternating candidates), beyond the 10,000 rows a list once stopped at
    // without a word, with B's decisions interleaved, which A never sees.
    let (mut all, mut a1) = (Vec::new(), Vec::new());
    for i in 0..10_500 {
        let candidate = if i % 2 == 0 { "cand-a1" } else { "cand-a2" };
        let id = decline(&s, A, candidate);
        all.push(id);
        if i % 2 == 0 {
            a1.push(id);
        }
        if i % 100 == 0 {
            decline(&s, B, "cand-b1");
        }
    }
    let (ids, pages) = read_all_decisions(&s, &a, "", 1000);
    assert_eq!(pages, 11);
    assert_eq!(ids, all, "every id exactly once, in order");
    // The candidate filter pages the same way.
    let (ids, pages) = read_all_decisions(&s, &a, "&candidate_id=cand-a1", 1000);
    assert_eq!((ids, pages), (a1, 6));
    // An exact multiple of the limit ends without an empty page.
    let (ids, pages) = read_all_decisions(&s, &a, "", 500);
    assert_eq!((ids.len(), pages), (10_500, 21));
    // Without parameters: the first 100, and where to go on.
    let r = call(s.addr, "GET", "/v1/decisions", Some(&a), None);
    assert_eq!(r.body["decisions"].as_array().map(Vec::len), Some(100), "{}", r.body);
    assert_eq!(r.body["next"], all[99]);
}

#[test]
fn a_bad_page_parameter_is_named_with_its_value() {
    let s = start("paging-bad");
    seed(&s);
    let a = s.tokens.a_caseworker.clone();
    for (query, path, value) in [
        ("limit=0", "/query/limit", "0"),
        ("limit=1001", "/query/limit", "1001"),
        ("limit=abc", "/query/limit", "abc"),
        ("limit=", "/query/limit", ""),
        ("after=abc", "/query/after", "abc"),
        ("after=0", "/query/after", "0"),
        ("after=-3", "/query/after", "-3"),
        ("after=1.5", "/query/after", "1.5"),
    ] {
        let r = call(s.addr, "GET", &format!("/v1/decisions?{query}"), Some(&a), None);
        assert_problem(&r, 422);
        assert_eq!(r.body["errors"][0]["path"], path, "{query}: {}", r.body);
        assert_eq!(r.body["errors"][0]["value"].as_str().unwrap_or(""), value, "{query}: {}", r.body);
    }
    for query in ["limit=1", "limit=1000", "after=9223372036854775807"] {
        assert_eq!(
            call(s.addr, "GET", &format!("/v1/decisions?{query}"), Some(&a), None).status,
            200,
            "{query}"
        );
    }
}

#[test]
fn another_tenants_decision_id_as_cursor_is_only_a_position() {
    let s = start("paging-tenants");
    seed(&s);
    let b = s.tokens.b_caseworker.clone();
    let b1 = decline(&s, B, "cand-b1");
    let a1 = decline(&s, A, "cand-a1");
    let b2 = decline(&s, B, "cand-b1");
    let a2 = decline(&s, A, "cand-a1");
    let a3 = decline(&s, A, "cand-a1");
    // Each tenant counts its own decisions: the interleaving shows in neither.
    assert_eq!((b1, b2, a1, a2, a3), (1, 2, 1, 2, 3));
    let page =
        |after: i64| call(s.addr, "GET", &format!("/v1/decisions?limit=1&after={after}"), Some(&b), None);
    // A number is a position among B's own decisions only, and A's last number answers B
    // exactly as a number never issued: same status, same bytes, nothing of A in them.
    let own = page(b1);
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["decisions"][0]["id"], b2, "{}", own.body);
    assert_eq!(own.body["decisions"][0]["municipality"], "0101", "{}", own.body);
    assert!(own.body.get("next").is_none(), "{}", own.body);
    let (theirs, unknown) = (page(a3), page(a3 + 1_000_000));
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert_eq!(theirs.body, unknown.body);
    assert_eq!(theirs.body["decisions"], json!([]));
    assert!(!theirs.body.to_string().contains("0851"), "{}", theirs.body);
    // With the candidate filter as well.
    let filtered = |after: i64| {
        call(s.addr, "GET", &format!("/v1/decisions?candidate_id=cand-b1&after={after}"), Some(&b), None).body
    };
    assert_eq!(filtered(b1)["decisions"][0]["id"], b2);
}

#[test]
fn static_assets_answer_head_with_the_headers_of_get() {
    let s = start("head");
    let demo = matcher_service::server::widget::DemoPage {
        token: s.tokens.a_caseworker.clone(),
        municipality: A,
        municipality_name: "Aalborg".into(),
        candidates: vec![("cand-a1".into(), "40-49".into())],
        teams: vec![],
    };
    assert!(s.state.demo.set(demo).is_ok());
    for path in ["/widget/v1/brobygger.js", "/", "/demo/demo.js", "/demo/demo.css"] {
        let req = |method: &str| {
            format!("{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n", s.addr)
        };
        let (get_status, get_headers, get_body) = raw(s.addr, req("GET").as_bytes());
        let (status, headers, body) = raw(s.addr, req("HEAD").as_bytes());
        assert_eq!((get_status, status), (200, 200), "{path}: {headers}");
        assert!(body.is_empty(), "{path}: HEAD sent a body of {} bytes", body.len());
        assert!(!get_body.is_empty(), "{path}");
        let header = |all: &str, name: &str| {
            all.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string())).unwrap_or_default()
        };
        assert_eq!(header(&headers, "content-length:"), get_body.len().to_string(), "{path}: {headers}");
        for name in [
            "content-type:",
            "cache-control:",
            "x-content-type-options:",
            "etag:",
            "content-security-policy:",
        ] {
            assert_eq!(header(&headers, name), header(&get_headers, name), "{path} {name}");
        }
        assert!(!header(&headers, "content-type:").is_empty(), "{path}: {headers}");
    }
    // Other methods on an asset are still not served.
    let (status, _, _) = raw(
        s.addr,
        b"PUT /widget/v1/brobygger.js HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
    );
    assert!(status == 404 || status == 405, "{status}");
}

/// Issue 20: a suggestion says when the offer starts (and whether that is after the citizen's
/// benefit ends), how long it lasts, where it is, whom to call and its occupations in Danish
/// and English; two offers with the same name are told apart by start and town.
#[test]
fn suggestions_carry_time_place_contact_and_danish_occupation_titles() {
    // How a late start is shown, not money: the national course limit would refuse the late
    // course outright (it avoids no weeks, so it cannot pay its price; the core's
    // `an_early_sickness_case_outranks_a_late_one_for_its_weeks_not_its_deadline` checks that).
    let s = start_config("time-place", |c| c.policies.national.limits.min_course_effect_high_dkk = None);
    seed(&s);
    // Server day 2026-09-01; cand-a1's benefit ends 2027-03-01.
    let mut now = offer("same-now", 5);
    now["name"] = json!("Rengøringsforløb (opdigtet)");
    now["occupations"] = json!("9112;6310");
    now["address_postcode"] = json!("9000");
    now["contact"] = json!("Forløbskoordinator, tlf. 70 00 00 00");
    let mut late = offer("same-late", 5);
    late["name"] = json!("Rengøringsforløb (opdigtet)");
    late["next_start"] = json!("2027-04-05");
    late["address_postcode"] = json!("9800");
    let body = json!([now, late]).to_string();
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_system), Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let a = s.tokens.a_caseworker.clone();
    let r =
        call(s.addr, "POST", "/v1/suggestions", Some(&a), Some(r#"{"candidate_id": "cand-a1", "k": 10}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["benefit_end"], "2027-03-01");
    let list = r.body["suggestions"].as_array().expect("suggestions");
    let find = |id: &str| {
        list.iter().find(|x| x["offer_id"] == id).cloned().unwrap_or_else(|| panic!("{id}: {}", r.body))
    };
    let (now, late) = (find("same-now"), find("same-late"));
    assert_eq!(
        now["start"],
        json!({"next_start": null, "continuous_intake": true, "wait_weeks": 0, "starts_after_benefit_end": false})
    );
    assert_eq!(late["start"]["next_start"], "2027-04-05");
    assert_eq!(late["start"]["wait_weeks"], 31, "2026-09-01 to 2027-04-05 is 216 days: 31 weeks rounded up");
    assert_eq!(late["start"]["starts_after_benefit_end"], true);
    assert_eq!(late["weeks_avoidable"], 0.0, "{late}");
    // 26 weeks of benefit left, less half the 12-week duration (a success comes half-way).
    assert!(now["weeks_avoidable"].as_f64() > Some(19.0), "{now}");
    // Without documented results the uplift is 0 and both are worth minus their price; that a
    // late start then ranks lower is the core's test (`an_offer_starting_after_the_benefit_ends_
    // avoids_no_weeks`, with evidence).
    assert!(late["effect_dkk"].as_f64() <= now["effect_dkk"].as_f64(), "{now} {late}");
    assert_eq!(now["duration_weeks"], 12);
    assert_eq!(now["address"], json!({"postcode": "9000", "town": "Aalborg"}));
    assert_eq!(late["address"]["postcode"], "9800");
    assert_ne!(now["address"], late["address"], "same name, told apart by the town");
    assert_eq!(now["contact"], "Forløbskoordinator, tlf. 70 00 00 00");
    assert!(late["contact"].is_null());
    let occupations = now["occupations"].as_array().expect("occupations");
    assert_eq!(occupations[0]["code"], "9112");
    assert_eq!(occupations[0]["title_da"], "Rengøringsarbejde undtagen i private hjem");
    assert_eq!(occupations[1]["code"], "6310");
    assert!(occupations[1]["title_da"].is_null(), "6310 is not in DISCO-08: {occupations:?}");
    assert_eq!(occupations[1]["title_en"], "Subsistence crop farmers");
    // The offer itself shows the same titles and town.
    let o = call(s.addr, "GET", "/v1/offers/same-now", Some(&a), None);
    assert_eq!(o.status, 200, "{}", o.body);
    assert_eq!(o.body["occupations"][0]["title_da"], "Rengøringsarbejde undtagen i private hjem");
    assert_eq!(o.body["address"]["town"], "Aalborg");
    assert_eq!(o.body["record"]["address_postcode"], "9000", "{}", o.body);
    assert_eq!(o.body["record"]["contact"], "Forløbskoordinator, tlf. 70 00 00 00");
    let l = call(s.addr, "GET", "/v1/offers/same-late", Some(&a), None);
    assert_eq!(l.body["record"]["next_start"], "2027-04-05", "{}", l.body);
    assert!(o.body["record"].get("next_start").is_none(), "continuous intake has no start: {}", o.body);
    // A contact holding a personal number is refused and not echoed.
    let mut bad = offer("bad-contact", 1);
    bad["contact"] = json!("Ring 010190-1234");
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_system), Some(&json!([bad]).to_string()));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(!r.body.to_string().contains("010190-1234"), "{}", r.body);
}

/// Issue 20: `serve --demo` shows the municipality and citizens of the README's demo batch
/// (`data/demo`), so a newcomer can follow one citizen from the report into the widget.
#[test]
fn the_demo_service_shows_the_citizens_of_the_demo_batch() {
    let s = start("demo-world");
    matcher_service::server::load_demo(&s.state).expect("demo loads");
    let page = s.state.demo.get().expect("demo page set");
    assert_eq!((page.municipality, page.municipality_name.as_str()), (851, "Aalborg"));
    let csv =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/demo/candidates.csv"))
            .expect("data/demo/candidates.csv");
    let batch_ids: std::collections::HashSet<&str> =
        csv.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    assert_eq!(batch_ids.len(), 2000);
    assert!(!page.candidates.is_empty());
    for (id, _) in &page.candidates {
        assert!(batch_ids.contains(id.as_str()), "{id} is not a citizen of data/demo");
    }
}

/// Issue 12: records loaded from CSV answered `"max_travel_km":"16"` while posted ones answered
/// `20`. A record is answered in its documented types whichever way its fields were sent.
#[test]
fn records_are_answered_in_their_documented_types_however_they_were_sent() {
    let s = start("record-types");
    let mut as_text = offer("course-text", 7);
    as_text["capacity"] = json!("7");
    as_text["price_dkk"] = json!("100");
    as_text["duration_weeks"] = json!("12");
    as_text["target_groups"] = json!("sickness;cash_longterm");
    let offers = json!([as_text, offer("course-json", 7)]).to_string();
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_system), Some(&offers));
    assert_eq!(r.status, 200, "{}", r.body);
    let mut text = candidate("cand-text", "0851");
    text["max_travel_km"] = json!("16");
    text["hours_available"] = json!("20");
    text["driving_licence"] = json!("yes");
    let mut number = candidate("cand-number", "0851");
    number["max_travel_km"] = json!(20);
    number["driving_licence"] = json!(false);
    let body = json!([text, number]).to_string();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&s.tokens.a_system), Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);

    let text = call(s.addr, "GET", "/v1/candidates/cand-text", Some(&s.tokens.a_caseworker), None).body;
    let number = call(s.addr, "GET", "/v1/candidates/cand-number", Some(&s.tokens.a_caseworker), None).body;
    assert_eq!(text["max_travel_km"].as_f64(), Some(16.0), "{text}");
    assert_eq!(number["max_travel_km"].as_f64(), Some(20.0), "{number}");
    assert_eq!((text["hours_available"].as_u64(), number["hours_available"].as_u64()), (Some(20), Some(37)));
    assert_eq!((&text["driving_licence"], &number["driving_licence"]), (&json!(true), &json!(false)));
    assert_eq!(text["target_groups"], json!(["sickness"]), "{text}");
    assert_eq!(text["municipality"], "0851");

    let view = call(s.addr, "GET", "/v1/offers/course-text", Some(&s.tokens.a_caseworker), None).body;
    let record = &view["record"];
    assert_eq!((record["capacity"].as_u64(), record["price_dkk"].as_u64()), (Some(7), Some(100)), "{view}");
    assert_eq!(record["target_groups"], json!(["sickness", "cash_longterm"]), "{view}");
    assert_eq!(record["languages"], json!(["da"]), "a one-item list sent as text: {view}");
    assert_eq!(record["kind"], "provider");
}
