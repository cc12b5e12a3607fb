//! Issue 14, live state over real HTTP and a real SQLite file: a decision is state (an accept
//! holds a place for its course and locks the candidate to it; a second accept is refused
//! naming the running one), decisions are corrected or withdrawn append-only by caseworkers,
//! and places come back (outcome, withdrawal, candidate deletion, the course's end) in the
//! transaction of the event. After each step the offer's places add up, and the SQLite file
//! agrees with what the API says.

use crate::common::server::{
    Answer, Server, assert_problem, batch_run, call, candidate, seed_offers, start_config, temp_dir,
};
use serde_json::{Value, json};

fn start(label: &str) -> Server {
    start_config(label, |_| {})
}

fn decide(s: &Server, token: &str, candidate: &str, offer: &str, action: &str, extra: Value) -> Answer {
    let mut body =
        json!({"candidate_id": candidate, "offer_id": offer, "action": action, "reason": "fits the plan"});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    call(s.addr, "POST", "/v1/decisions", Some(token), Some(&body.to_string()))
}

fn withdraw(s: &Server, token: &str, id: i64, reason: &str) -> Answer {
    let body = json!({"reason": reason}).to_string();
    call(s.addr, "POST", &format!("/v1/decisions/{id}/withdrawal"), Some(token), Some(&body))
}

/// The offer's places as the API reports them; they must add up to the capacity.
fn places(s: &Server, offer: &str) -> (u64, u64, u64) {
    let r = call(s.addr, "GET", &format!("/v1/offers/{offer}"), Some(&s.tokens.a_system), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let p = &r.body["places"];
    let n = |k: &str| p[k].as_u64().unwrap_or_else(|| panic!("{k} in {p}"));
    assert_eq!(n("reserved") + n("running") + n("recorded") + n("free"), n("capacity"), "places add up: {p}");
    assert_eq!(r.body["remaining_places"].as_u64(), Some(n("free")), "{}", r.body);
    assert_eq!(n("overbooked"), 0, "{p}");
    // The counter the accept's guard reads agrees with the ledger.
    assert_eq!(r.body["reserved"].as_u64(), Some(n("reserved") + n("running")), "{}", r.body);
    (n("reserved"), n("running"), n("free"))
}

/// Places held in the SQLite file, read directly (not through the service).
fn held_in_file(s: &Server, offer: &str) -> (i64, i64) {
    let db = rusqlite::Connection::open(s.state.store.path()).expect("open the file");
    let ledger: i64 = db
        .query_row("SELECT count(*) FROM places WHERE offer_id = ?1 AND released_at IS NULL", [offer], |r| {
            r.get(0)
        })
        .expect("places");
    let counter: i64 =
        db.query_row("SELECT reserved FROM offers WHERE id = ?1", [offer], |r| r.get(0)).expect("offer");
    (ledger, counter)
}

#[test]
fn accept_second_accept_withdraw_accept_elsewhere_and_places_add_up() {
    let s = start("live-accept");
    seed_offers(&s, &[("course-1", 10), ("course-2", 3)]);
    let cw = s.tokens.a_caseworker.clone();
    assert_eq!(places(&s, "course-1"), (0, 0, 10));

    // Accept: the course runs from today (the server's day is 2026-09-01) for 12 weeks.
    let first = decide(&s, &cw, "cand-a1", "course-1", "accept", json!({}));
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["status"], "running");
    assert_eq!(first.body["starts_on"], "2026-09-01");
    assert_eq!(first.body["ends_on"], "2026-11-23");
    let first_id = first.body["id"].as_i64().expect("id");
    assert_eq!(places(&s, "course-1"), (0, 1, 9));
    assert_eq!(held_in_file(&s, "course-1"), (1, 1));

    // The suggestions say the candidate has a running course.
    let r = call(
        s.addr,
        "POST",
        "/v1/suggestions",
        Some(&cw),
        Some(&json!({"candidate_id": "cand-a1", "k": 3}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["running"]["decision_id"], first_id, "{}", r.body);
    assert_eq!(r.body["running"]["offer_id"], "course-1");

    // A second accept for the same candidate is refused, naming the running one; nothing changes.
    let second = decide(&s, &cw, "cand-a1", "course-2", "accept", json!({}));
    assert_problem(&second, 409);
    assert_eq!(second.body["type"], "/problems/running-course");
    assert_eq!(second.body["running_decision_id"], first_id);
    assert_eq!(second.body["running_offer_id"], "course-1");
    assert!(
        second.body["detail"].as_str().unwrap_or("").contains(&format!("decision {first_id}")),
        "{}",
        second.body
    );
    assert_eq!(places(&s, "course-2"), (0, 0, 3));

    // A provider never withdraws; another municipality's caseworker cannot even see it.
    assert_problem(&withdraw(&s, &s.tokens.a_provider, first_id, "not mine"), 403);
    assert_problem(&withdraw(&s, &s.tokens.b_caseworker, first_id, "not mine"), 404);
    assert_eq!(places(&s, "course-1"), (0, 1, 9));

    // Withdraw: the place comes back with it; the chain is shown both ways.
    let w = withdraw(&s, &cw, first_id, "registered on the wrong citizen");
    assert_eq!(w.status, 201, "{}", w.body);
    assert_eq!(w.body["action"], "withdrawal");
    assert_eq!(w.body["corrects"], first_id);
    let w_id = w.body["id"].as_i64().expect("id");
    assert_eq!(places(&s, "course-1"), (0, 0, 10));
    assert_eq!(held_in_file(&s, "course-1"), (0, 0));
    let r = call(s.addr, "GET", &format!("/v1/decisions/{first_id}"), Some(&cw), None);
    assert_eq!(r.body["status"], "withdrawn", "{}", r.body);
    assert_eq!(r.body["corrected_by"], w_id);
    assert_eq!(r.body["released_why"], "withdrawn");

    // A withdrawn decision cannot be withdrawn again, nor a withdrawal: problem, nothing changed.
    let again = withdraw(&s, &cw, first_id, "twice");
    assert_problem(&again, 409);
    assert!(
        again.body["detail"].as_str().unwrap_or("").contains(&format!("decision {w_id}")),
        "{}",
        again.body
    );
    assert_problem(&withdraw(&s, &cw, w_id, "a withdrawal of a withdrawal"), 409);
    assert_eq!(places(&s, "course-1"), (0, 0, 10));

    // Accept elsewhere, starting next month: reserved until then.
    let other = decide(&s, &cw, "cand-a1", "course-2", "accept", json!({"starts_on": "2026-10-05"}));
    assert_eq!(other.status, 201, "{}", other.body);
    assert_eq!(other.body["status"], "reserved");
    let other_id = other.body["id"].as_i64().expect("id");
    assert_eq!(places(&s, "course-2"), (1, 0, 2));

    // A correction moves the place in one step: course-2 → course-1.
    let moved = decide(&s, &cw, "cand-a1", "course-1", "accept", json!({"corrects": other_id}));
    assert_eq!(moved.status, 201, "{}", moved.body);
    assert_eq!(moved.body["corrects"], other_id);
    assert_eq!(places(&s, "course-2"), (0, 0, 3));
    assert_eq!(places(&s, "course-1"), (0, 1, 9));
    let moved_id = moved.body["id"].as_i64().expect("id");

    // The outcome releases the place, in its own transaction.
    let body = json!({"decision_id": moved_id, "result": "dropped_out"}).to_string();
    let r = call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["place_released"], true);
    assert_eq!(places(&s, "course-1"), (0, 0, 10));
    let r = call(s.addr, "GET", &format!("/v1/decisions/{moved_id}"), Some(&cw), None);
    assert_eq!(r.body["status"], "ended");
    assert_eq!(r.body["released_why"], "outcome");

    // The decisions stay append-only: the file holds every row, none changed.
    let db = rusqlite::Connection::open(s.state.store.path()).expect("open");
    let rows: i64 = db
        .query_row("SELECT count(*) FROM decisions WHERE municipality = 851", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows, 4, "accept, withdrawal, accept, correcting accept");
    assert!(db.execute("UPDATE decisions SET reason = 'x'", []).is_err());
}

#[test]
fn deleting_a_candidate_gives_the_place_back_and_a_decline_keeps_the_offer_out() {
    let s = start("live-delete");
    seed_offers(&s, &[("course-1", 2), ("course-2", 2)]);
    let cw = s.tokens.a_caseworker.clone();
    assert_eq!(decide(&s, &cw, "cand-a2", "course-1", "accept", json!({})).status, 201);
    assert_eq!(places(&s, "course-1"), (0, 1, 1));
    let r = call(s.addr, "DELETE", "/v1/candidates/cand-a2", Some(&cw), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["places_released"], 1);
    assert_eq!(places(&s, "course-1"), (0, 0, 2));
    assert_eq!(held_in_file(&s, "course-1"), (0, 0));

    // A decline keeps the offer out of the suggestions for the policy's period, with the reason.
    let suggested = |s: &Server| -> Vec<String> {
        let r = call(
            s.addr,
            "POST",
            "/v1/suggestions",
            Some(&cw),
            Some(&json!({"candidate_id": "cand-a1", "k": 5}).to_string()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["suggestions"]
            .as_array()
            .expect("list")
            .iter()
            .map(|x| x["offer_id"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert!(suggested(&s).contains(&"course-2".to_string()));
    let d = decide(&s, &cw, "cand-a1", "course-2", "decline", json!({}));
    assert_eq!(d.status, 201, "{}", d.body);
    assert_eq!(d.body["status"], "in_force");
    assert_eq!(d.body["excluded_until"], "2026-11-29", "90 days from 2026-09-01, the national default");
    assert!(!suggested(&s).contains(&"course-2".to_string()), "a declined offer is not suggested again");
    // Withdrawing the decline lets the offer back.
    let id = d.body["id"].as_i64().expect("id");
    assert_eq!(withdraw(&s, &cw, id, "declined by mistake").status, 201);
    assert!(suggested(&s).contains(&"course-2".to_string()));
}

#[test]
fn a_course_that_ended_gives_its_place_back() {
    let db = {
        let s = start("live-ended");
        seed_offers(&s, &[("course-1", 1)]);
        let cw = s.tokens.a_caseworker.clone();
        // A course that would have ended already is refused; one running until 2026-11-23 is fine.
        let r = decide(&s, &cw, "cand-a1", "course-1", "accept", json!({"starts_on": "2026-06-01"}));
        assert_problem(&r, 422);
        let r = decide(&s, &cw, "cand-a1", "course-1", "accept", json!({}));
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(places(&s, "course-1"), (0, 1, 0));
        let keep = temp_dir("live-ended-db");
        let db = keep.0.join("kept.db");
        // A copy of a database is both its files (the records' and the logs'), each with its
        // WAL, where the committed rows may still be.
        let logs = matcher_service::server::store::logs_path;
        for (from, to) in
            [(s.state.store.path().to_path_buf(), db.clone()), (logs(s.state.store.path()), logs(&db))]
        {
            std::fs::copy(&from, &to).expect("copy the file");
            let (mut from_wal, mut to_wal) = (from.into_os_string(), to.into_os_string());
            from_wal.push("-wal");
            to_wal.push("-wal");
            if std::path::Path::new(&from_wal).exists() {
                std::fs::copy(&from_wal, &to_wal).expect("copy the WAL");
            }
        }
        (keep, db)
    };
    // The server starts again on 2026-12-01: the course ended on 2026-11-23.
    let s = start_config("live-ended-later", |c| {
        c.db = db.1.clone();
        c.today = matcher_core::model::Date::parse("2026-12-01");
    });
    assert_eq!(places(&s, "course-1"), (0, 0, 1));
    assert_eq!(held_in_file(&s, "course-1"), (0, 0));
    let cw = s.tokens.a_caseworker.clone();
    let r = call(s.addr, "GET", "/v1/decisions/1", Some(&cw), None);
    assert_eq!(r.body["status"], "ended", "{}", r.body);
    assert_eq!(r.body["released_why"], "course_ended");
    // The place is free for another candidate.
    let next = decide(&s, &cw, "cand-a2", "course-1", "accept", json!({}));
    assert_eq!(next.status, 201, "{}", next.body);
    assert_eq!(places(&s, "course-1"), (0, 1, 0));
}

#[test]
fn bad_decisions_are_refused_with_a_problem_and_change_nothing() {
    let s = start("live-bad");
    seed_offers(&s, &[("course-1", 2)]);
    let cw = s.tokens.a_caseworker.clone();
    for (extra, path) in [
        (json!({"starts_on": "someday"}), "/starts_on"),
        (json!({"starts_on": "2031-01-01"}), "/starts_on"),
        (json!({"corrects": 0}), "/corrects"),
    ] {
        let r = decide(&s, &cw, "cand-a1", "course-1", "accept", extra);
        assert_problem(&r, 422);
        assert_eq!(r.body["errors"][0]["path"], path, "{}", r.body);
    }
    let r = decide(&s, &cw, "cand-a1", "course-1", "decline", json!({"starts_on": "2026-09-02"}));
    assert_problem(&r, 422);
    // Correcting another tenant's decision: not found, as if it did not exist.
    let b = decide(&s, &s.tokens.b_caseworker, "cand-b1", "course-1", "accept", json!({}));
    assert_eq!(b.status, 201, "{}", b.body);
    let r = decide(&s, &cw, "cand-a1", "course-1", "accept", json!({"corrects": b.body["id"]}));
    // Tenant A has no decision of that number yet: 404.
    assert_problem(&r, 404);
    let r = withdraw(&s, &cw, 1, "");
    assert_problem(&r, 422);
    assert_eq!(places(&s, "course-1"), (0, 1, 1), "only B's accept holds a place");
}

/// A course under way that only the candidate's own record claims (a case system's
/// `current_locked`, no accept in the ledger) takes one of the offer's places in every
/// municipality's night: the runs keep those candidates there and together propose no more
/// than the places left. Each such record once added a place of its own to the offer.
#[test]
fn courses_under_way_from_candidate_records_take_places_and_add_none() {
    let s = start("live-recorded-locks");
    seed_offers(&s, &[("course-1", 3), ("course-2", 2)]);
    let b_system = matcher_service::server::auth::create_token(
        &s.state.store,
        101,
        matcher_service::server::auth::Role::System,
        "sys-b3",
    )
    .expect("token");
    let locked = |id: &str, m: &str| {
        let mut c = candidate(id, m);
        c["current_offer"] = json!("course-1");
        c["current_locked"] = json!(true);
        c
    };
    // One course under way at course-1 in each municipality, and more demand than places.
    for (token, m, prefix) in [(&s.tokens.a_system, "0851", "ay"), (&b_system, "0101", "by")] {
        let mut cands: Vec<Value> = (0..6).map(|i| candidate(&format!("cand-{prefix}{i}"), m)).collect();
        cands.push(locked(&format!("cand-{prefix}-running"), m));
        let r = call(s.addr, "POST", "/v1/candidates", Some(token), Some(&Value::Array(cands).to_string()));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let (a, b) = (s.tokens.a_caseworker.clone(), s.tokens.b_caseworker.clone());
    for token in [&a, &b, &a, &b] {
        batch_run(&s, token);
        let db = rusqlite::Connection::open(s.state.store.path()).expect("open the file");
        let proposed = |m: u16, offer: &str, locked: bool| -> i64 {
            db.query_row(
                "SELECT count(*) FROM batch_runs b, json_each(b.proposals) j
                 WHERE b.municipality = ?1 AND b.status = 'finished'
                   AND b.id = (SELECT max(id) FROM batch_runs WHERE municipality = ?1 AND status = 'finished')
                   AND json_extract(j.value, '$.offer_id') = ?2
                   AND (json_extract(j.value, '$.change') = 'locked') = ?3",
                rusqlite::params![m, offer, locked],
                |r| r.get(0),
            )
            .expect("proposed")
        };
        let runs: i64 = db
            .query_row(
                "SELECT count(DISTINCT municipality) FROM batch_runs WHERE status = 'finished'",
                [],
                |r| r.get(0),
            )
            .expect("runs");
        if runs < 2 {
            continue;
        }
        // Each municipality keeps its course under way.
        assert_eq!((proposed(851, "course-1", true), proposed(101, "course-1", true)), (1, 1));
        for (offer, capacity, running) in [("course-1", 3i64, 2i64), ("course-2", 2, 0)] {
            let (pa, pb) = (proposed(851, offer, false), proposed(101, offer, false));
            assert!(
                running + pa + pb <= capacity,
                "{offer}: {running} under way + {pa} (0851) + {pb} (0101) new > {capacity} places"
            );
        }
    }
    // The quality routes count those courses as places in use too (they read the ledger
    // alone before: utilisation 0 on an offer two of whose three places were taken).
    let r = call(s.addr, "GET", "/v1/offers/course-1/quality", Some(&a), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["reserved"].as_u64(), r.body["recorded"].as_u64()), (Some(0), Some(2)), "{}", r.body);
    assert!((r.body["utilisation"].as_f64().unwrap_or(0.0) - 2.0 / 3.0).abs() < 1e-9, "{}", r.body);
    let r = call(s.addr, "GET", "/v1/providers/lev-0001/quality", Some(&b), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["capacity"].as_u64(), r.body["recorded"].as_u64()), (Some(5), Some(2)), "{}", r.body);
    assert!((r.body["utilisation"].as_f64().unwrap_or(0.0) - 2.0 / 5.0).abs() < 1e-9, "{}", r.body);
}

/// The day's accepts count the courses under way that only candidates' records claim, as the
/// night does: an offer with 5 places, one such record in each of two municipalities, and
/// accepts from other candidates until refused: 3 are accepted (5 − 2), the 4th is a 409 that
/// says why without naming anyone. The candidate whose record claims the course can still
/// accept it (its own record does not count against it), and its place is then counted once:
/// in the ledger. Without the guard's count, all 5 accepts went through: 7 people on 5 places.
#[test]
fn the_days_accepts_count_courses_under_way_from_candidate_records() {
    let s = start("live-day-locks");
    seed_offers(&s, &[("course-1", 5)]);
    let b_system = matcher_service::server::auth::create_token(
        &s.state.store,
        101,
        matcher_service::server::auth::Role::System,
        "sys-b4",
    )
    .expect("token");
    let locked = |id: &str, m: &str| {
        let mut c = candidate(id, m);
        c["current_offer"] = json!("course-1");
        c["current_locked"] = json!(true);
        c
    };
    let mut mine: Vec<Value> = (0..6).map(|i| candidate(&format!("cand-az{i}"), "0851")).collect();
    mine.push(locked("cand-a-running", "0851"));
    let r = call(
        s.addr,
        "POST",
        "/v1/candidates",
        Some(&s.tokens.a_system),
        Some(&Value::Array(mine).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let theirs = Value::Array(vec![locked("cand-b-running", "0101")]).to_string();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&b_system), Some(&theirs));
    assert_eq!(r.status, 200, "{}", r.body);
    let cw = s.tokens.a_caseworker.clone();
    // Two places are held by the records, none by the ledger; the suggestions count them too
    // (the catalogue's counters), and follow a record that no longer claims the course.
    assert_eq!(places(&s, "course-1"), (0, 0, 3));
    let suggested_places = |candidate: &str| -> Option<u64> {
        let body = json!({"candidate_id": candidate, "k": 5}).to_string();
        let r = call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(&body));
        assert_eq!(r.status, 200, "{}", r.body);
        let list = r.body["suggestions"].as_array().expect("list").clone();
        list.iter()
            .find(|x| x["offer_id"] == "course-1")
            .map(|x| x["remaining_places"].as_u64().expect("places"))
    };
    assert_eq!(suggested_places("cand-az0"), Some(3));
    let unlocked = Value::Array(vec![candidate("cand-b-running", "0101")]).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/candidates", Some(&b_system), Some(&unlocked)).status, 200);
    assert_eq!(places(&s, "course-1"), (0, 0, 4));
    assert_eq!(suggested_places("cand-az0"), Some(4));
    let r = call(s.addr, "POST", "/v1/candidates", Some(&b_system), Some(&theirs));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(places(&s, "course-1"), (0, 0, 3));
    assert_eq!(suggested_places("cand-az0"), Some(3));
    // The offers' list says the same as the offer (counted per offer of the page).
    let listed = call(s.addr, "GET", "/v1/offers?limit=1000", Some(&cw), None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let row = listed.body["offers"]
        .as_array()
        .and_then(|o| o.iter().find(|x| x["record"]["id"] == "course-1").cloned())
        .unwrap_or_default();
    assert_eq!(row["remaining_places"], 3, "{}", listed.body);

    let mut accepted = 0;
    let mut refusal = None;
    for i in 0..6 {
        let r = decide(&s, &cw, &format!("cand-az{i}"), "course-1", "accept", json!({}));
        if r.status == 201 {
            accepted += 1;
            assert_eq!(r.body["remaining_places"].as_u64(), Some(3 - accepted), "{}", r.body);
        } else {
            refusal = Some(r);
            break;
        }
    }
    assert_eq!(accepted, 5 - 2, "accepts on 5 places, 2 held by courses under way in candidates' records");
    let refusal = refusal.expect("an accept beyond the places is refused");
    assert_problem(&refusal, 409);
    let detail = refusal.body["detail"].as_str().unwrap_or("");
    assert!(detail.contains("no places left"), "{}", refusal.body);
    assert!(detail.contains("courses under way that only candidates' records claim"), "{}", refusal.body);
    assert!(!detail.contains("cand-"), "no candidate is named: {}", refusal.body);
    assert_eq!(places(&s, "course-1"), (0, 3, 0));
    assert_eq!(held_in_file(&s, "course-1"), (3, 3));
    // Full: no longer suggested.
    assert_eq!(suggested_places("cand-az5"), None);

    // The candidate whose record claims the course accepts it: its own record does not count
    // against it, and the place moves from the record to the ledger (counted once).
    let own = decide(&s, &cw, "cand-a-running", "course-1", "accept", json!({}));
    assert_eq!(own.status, 201, "{}", own.body);
    assert_eq!(own.body["remaining_places"], 0, "{}", own.body);
    assert_eq!(places(&s, "course-1"), (0, 4, 0));
    let r = call(s.addr, "GET", "/v1/offers/course-1", Some(&cw), None);
    assert_eq!(r.body["places"]["recorded"], 1, "only the other municipality's record: {}", r.body);
    // So does the other municipality's; then the ledger holds all 5, and nothing is counted twice.
    let theirs = decide(&s, &s.tokens.b_caseworker, "cand-b-running", "course-1", "accept", json!({}));
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    assert_eq!(theirs.body["remaining_places"], 0, "{}", theirs.body);
    assert_eq!(places(&s, "course-1"), (0, 5, 0));
    assert_eq!(held_in_file(&s, "course-1"), (5, 5));
    let r = call(s.addr, "GET", "/v1/offers/course-1", Some(&cw), None);
    assert_eq!(r.body["places"]["recorded"], 0, "{}", r.body);
    // Full by the ledger alone now: the refusal has the plain message.
    let r = decide(&s, &cw, "cand-az5", "course-1", "accept", json!({}));
    assert_problem(&r, 409);
    let detail = r.body["detail"].as_str().unwrap_or("");
    assert!(detail.contains("no places left") && !detail.contains("records"), "{}", r.body);
}

/// Issue 14, item 4: one ledger of shared places. Two municipalities' runs over the same
/// offers, with more demand than places, never propose beyond capacity together; the sums are
/// read from the SQLite file (the runs' stored proposals and the places held), and each
/// municipality gets its share.
#[test]
fn two_municipalities_runs_together_never_propose_beyond_capacity() {
    let s = start("live-ledger");
    seed_offers(&s, &[("course-1", 3), ("course-2", 2)]);
    let more = |m: &str, prefix: &str| {
        Value::Array((0..6).map(|i| candidate(&format!("cand-{prefix}{i}"), m)).collect()).to_string()
    };
    let r = call(s.addr, "POST", "/v1/candidates", Some(&s.tokens.a_system), Some(&more("0851", "ax")));
    assert_eq!(r.status, 200, "{}", r.body);
    let b_system = matcher_service::server::auth::create_token(
        &s.state.store,
        101,
        matcher_service::server::auth::Role::System,
        "sys-b2",
    )
    .expect("token");
    let r = call(s.addr, "POST", "/v1/candidates", Some(&b_system), Some(&more("0101", "bx")));
    assert_eq!(r.status, 200, "{}", r.body);
    let (a, b) = (s.tokens.a_caseworker.clone(), s.tokens.b_caseworker.clone());
    // A holds one place of course-1 already.
    assert_eq!(decide(&s, &a, "cand-a1", "course-1", "accept", json!({})).status, 201);
    // Runs in any order, and again: each time, the latest runs of both together fit.
    for token in [&a, &b, &a, &b] {
        batch_run(&s, token);
        let db = rusqlite::Connection::open(s.state.store.path()).expect("open the file");
        for (offer, capacity) in [("course-1", 3i64), ("course-2", 2)] {
            let held: i64 = db
                .query_row(
                    "SELECT count(*) FROM places WHERE offer_id = ?1 AND released_at IS NULL",
                    [offer],
                    |r| r.get(0),
                )
                .expect("held");
            let proposed = |m: u16| -> i64 {
                db.query_row(
                    "SELECT count(*) FROM batch_runs b, json_each(b.proposals) j
                     WHERE b.municipality = ?1 AND b.status = 'finished'
                       AND b.id = (SELECT max(id) FROM batch_runs WHERE municipality = ?1 AND status = 'finished')
                       AND json_extract(j.value, '$.offer_id') = ?2 AND json_extract(j.value, '$.change') != 'locked'",
                    rusqlite::params![m, offer],
                    |r| r.get(0),
                )
                .expect("proposed")
            };
            let (pa, pb) = (proposed(851), proposed(101));
            assert!(
                held + pa + pb <= capacity,
                "{offer}: {held} held + {pa} (0851) + {pb} (0101) > {capacity}"
            );
        }
    }
    // With demand above the places, the free ones are all proposed and both municipalities
    // get some: course-1 has 2 free, one each; course-2 has 2, one each.
    let db = rusqlite::Connection::open(s.state.store.path()).expect("open the file");
    let count = |m: u16, offer: &str| -> i64 {
        db.query_row(
            "SELECT count(*) FROM batch_runs b, json_each(b.proposals) j
             WHERE b.municipality = ?1 AND b.id = (SELECT max(id) FROM batch_runs WHERE municipality = ?1)
               AND json_extract(j.value, '$.offer_id') = ?2 AND json_extract(j.value, '$.change') != 'locked'",
            rusqlite::params![m, offer],
            |r| r.get(0),
        )
        .expect("count")
    };
    for offer in ["course-1", "course-2"] {
        assert_eq!((count(851, offer), count(101, offer)), (1, 1), "{offer}");
    }
    // The locked course is proposed as kept, and the runs say how they compare with the
    // municipality's previous run.
    let r = call(s.addr, "GET", "/v1/batch-runs/2", Some(&a), None);
    assert_eq!(r.body["summary"]["stability"]["against"], "previous_run", "{}", r.body);
}

/// The nightly CLI batch runs on the service's live state: `matcher export-state` writes a
/// municipality's candidates (running courses locked), declines in force (with their reasons)
/// and offers (with its share of the free places) as a data set that `matcher validate` and
/// `matcher batch` take, and the night keeps the course and leaves the declined offer out.
#[test]
fn the_cli_batch_runs_on_an_export_of_the_live_state() {
    let s = start("live-export");
    seed_offers(&s, &[("course-1", 3), ("course-2", 3)]);
    let cw = s.tokens.a_caseworker.clone();
    assert_eq!(decide(&s, &cw, "cand-a1", "course-1", "accept", json!({})).status, 201);
    let d = decide(&s, &cw, "cand-a2", "course-2", "decline", json!({"reason": "too far, says the citizen"}));
    assert_eq!(d.status, 201, "{}", d.body);
    let dir = temp_dir("live-export-out");
    let out = dir.0.join("state");
    let run = |args: &[&str]| {
        let mut cmd = crate::common::matcher();
        cmd.args(args);
        crate::common::run(&mut cmd)
    };
    let db = s.state.store.path().to_str().expect("utf-8").to_string();
    let (o, stdout, stderr) = run(&[
        "export-state",
        "--db",
        &db,
        "--municipality",
        "851",
        "--today",
        "2026-09-01",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("1 declines"), "{stdout}");
    let declines = std::fs::read_to_string(out.join("declines.csv")).expect("declines.csv");
    assert!(declines.contains("cand-a2,course-2,2026-11-29,\"too far, says the citizen\""), "{declines}");
    let candidates = std::fs::read_to_string(out.join("candidates.csv")).expect("candidates.csv");
    let a1 = candidates.lines().find(|l| l.starts_with("cand-a1,")).expect("cand-a1");
    assert!(a1.contains(",course-1,true,"), "the running course is exported locked: {a1}");
    let (o, stdout, stderr) = run(&["validate", out.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{stdout}{stderr}");
    let night = dir.0.join("night");
    let (o, stdout, stderr) = run(&[
        "batch",
        "--data",
        out.to_str().expect("utf-8"),
        "--out",
        night.to_str().expect("utf-8"),
        "--today",
        "2026-09-01",
        "--quiet",
        "--no-baselines",
    ]);
    assert!(o.status.success(), "{stdout}{stderr}");
    let proposals = std::fs::read_to_string(night.join("proposals.csv")).expect("proposals");
    let row = |id: &str| {
        proposals
            .lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("{id}"))
            .to_string()
    };
    assert!(
        row("cand-a1").contains(",course-1,") && row("cand-a1").contains(",locked,"),
        "{}",
        row("cand-a1")
    );
    let a2 = row("cand-a2");
    assert!(
        a2.split(',').nth(2).is_none_or(|offer| offer != "course-2"),
        "the declined offer is not proposed: {a2}"
    );
}

/// An outcome belongs to an accept that stands. A withdrawn or corrected accept has no
/// episode (the correcting accept has its own), so an outcome recorded on it was counted
/// nowhere but the offer's evidence: a trial of a course the candidate never took, in the
/// quality figures every municipality reads. Such an outcome is refused (409 naming the
/// decision that replaced it) and changes nothing; the correcting accept takes it.
#[test]
fn an_outcome_on_a_withdrawn_or_corrected_accept_is_refused() {
    let s = start("live-outcome-withdrawn");
    seed_offers(&s, &[("course-1", 10), ("course-2", 3)]);
    let cw = s.tokens.a_caseworker.clone();
    let trials = |offer: &str| -> u64 {
        let r = call(s.addr, "GET", &format!("/v1/offers/{offer}/quality"), Some(&cw), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["target_group"] == "sickness"))
            .and_then(|g| g["trials"].as_u64())
            .unwrap_or(0)
    };
    let outcome = |id: &Value| {
        let body = json!({"decision_id": id, "result": "in_work"}).to_string();
        call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&body))
    };

    // Withdrawn: the outcome is refused, naming the withdrawal.
    let first = decide(&s, &cw, "cand-a1", "course-1", "accept", json!({}));
    assert_eq!(first.status, 201, "{}", first.body);
    let w = withdraw(&s, &cw, first.body["id"].as_i64().expect("id"), "registered on the wrong citizen");
    assert_eq!(w.status, 201, "{}", w.body);
    let r = outcome(&first.body["id"]);
    assert_problem(&r, 409);
    let detail = r.body["detail"].as_str().unwrap_or("");
    assert!(detail.contains(&format!("decision {}", w.body["id"])), "{}", r.body);
    assert_eq!(trials("course-1"), 0, "a withdrawn accept adds no trial to the evidence");

    // Corrected to another offer: the old accept takes no outcome, the correcting one does.
    let old = decide(&s, &cw, "cand-a2", "course-1", "accept", json!({}));
    assert_eq!(old.status, 201, "{}", old.body);
    let new = decide(&s, &cw, "cand-a2", "course-2", "accept", json!({"corrects": old.body["id"]}));
    assert_eq!(new.status, 201, "{}", new.body);
    assert_problem(&outcome(&old.body["id"]), 409);
    assert_eq!(trials("course-1"), 0);
    let r = outcome(&new.body["id"]);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["place_released"], true);
    assert_eq!(trials("course-2"), 1);
    assert_eq!(places(&s, "course-1"), (0, 0, 10));
    assert_eq!(places(&s, "course-2"), (0, 0, 3));

    // The file holds the one outcome only, and the history its one episode.
    let db = rusqlite::Connection::open(s.state.store.path()).expect("open");
    let n: i64 = db.query_row("SELECT count(*) FROM outcomes", [], |r| r.get(0)).expect("count");
    assert_eq!(n, 1);
    let h = call(s.addr, "GET", "/v1/history", Some(&cw), None);
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(h.body["episodes"].as_array().map(Vec::len), Some(1), "{}", h.body);
}

/// The other order: an accept's outcome recorded, then the accept withdrawn or corrected (it
/// was recorded on the wrong citizen, or for the wrong offer). The episode leaves the history
/// with it, and so must the trial its outcome added to the offer's evidence; else the quality
/// figures keep a course the candidate never took, as an outcome on a withdrawn accept did.
#[test]
fn withdrawing_an_accept_with_an_outcome_takes_its_trial_out_of_the_evidence() {
    let s = start("live-withdraw-outcome");
    seed_offers(&s, &[("course-1", 10), ("course-2", 3)]);
    let cw = s.tokens.a_caseworker.clone();
    let trials = |offer: &str| -> (u64, u64) {
        let r = call(s.addr, "GET", &format!("/v1/offers/{offer}/quality"), Some(&cw), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["target_group"] == "sickness"))
            .map_or((0, 0), |g| (g["trials"].as_u64().unwrap_or(0), g["successes"].as_u64().unwrap_or(0)))
    };
    let episodes = || {
        let h = call(s.addr, "GET", "/v1/history", Some(&cw), None);
        assert_eq!(h.status, 200, "{}", h.body);
        h.body["episodes"].as_array().map_or(0, Vec::len)
    };
    let outcome = |id: &Value, result: &str| {
        let body = json!({"decision_id": id, "result": result}).to_string();
        let r = call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&body));
        assert_eq!(r.status, 201, "{}", r.body);
    };

    // Withdrawn after its outcome.
    let a1 = decide(&s, &cw, "cand-a1", "course-1", "accept", json!({}));
    assert_eq!(a1.status, 201, "{}", a1.body);
    outcome(&a1.body["id"], "in_work");
    assert_eq!((trials("course-1"), episodes()), ((1, 1), 1));
    let w = withdraw(&s, &cw, a1.body["id"].as_i64().expect("id"), "registered on the wrong citizen");
    assert_eq!(w.status, 201, "{}", w.body);
    assert_eq!((trials("course-1"), episodes()), ((0, 0), 0), "the episode and its trial go together");

    // Corrected to another offer after its outcome: the same, and the correcting accept
    // holds a place and takes its own outcome.
    let a2 = decide(&s, &cw, "cand-a2", "course-1", "accept", json!({}));
    assert_eq!(a2.status, 201, "{}", a2.body);
    outcome(&a2.body["id"], "dropped_out");
    assert_eq!((trials("course-1"), episodes()), ((1, 0), 1));
    let moved = decide(&s, &cw, "cand-a2", "course-2", "accept", json!({"corrects": a2.body["id"]}));
    assert_eq!(moved.status, 201, "{}", moved.body);
    assert_eq!((trials("course-1"), episodes()), ((0, 0), 0));
    assert_eq!(places(&s, "course-2"), (0, 1, 2));
    outcome(&moved.body["id"], "in_education");
    assert_eq!((trials("course-2"), episodes()), ((1, 1), 1));

    // What the night and the suggestions estimate from agrees (after the refresh).
    s.state.catalogues.settle(&s.state.store).expect("settle");
    let r = call(
        s.addr,
        "POST",
        "/v1/suggestions",
        Some(&cw),
        Some(&json!({"candidate_id": "cand-a1", "k": 2}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let course_1 = r.body["suggestions"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["offer_id"] == "course-1"))
        .cloned()
        .expect("course-1 suggested");
    assert_eq!(course_1["evidence"][0]["trials"], 0, "{course_1}");
}

/// A candidate whose record claims a course under way on one offer accepts another. The
/// record's claim must not lapse while the ledger place elsewhere is held: if it did, the
/// claimed place looked free, another candidate took it, and when the accept elsewhere was
/// withdrawn the claim counted again: two people on the offer's one place (`overbooked` 1).
#[test]
fn a_record_lock_on_one_offer_is_not_freed_by_an_accept_on_another() {
    let s = start("live-lock-elsewhere");
    seed_offers(&s, &[("course-1", 10), ("course-2", 1)]);
    let mut locked = candidate("cand-a-running", "0851");
    locked["current_offer"] = json!("course-2");
    locked["current_locked"] = json!(true);
    let body = Value::Array(vec![locked, candidate("cand-a-other", "0851")]).to_string();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&s.tokens.a_system), Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let cw = s.tokens.a_caseworker.clone();
    assert_eq!(places(&s, "course-2"), (0, 0, 0), "the record holds course-2's one place");
    // The candidate accepts course-1 while its record still claims course-2.
    let elsewhere = decide(&s, &cw, "cand-a-running", "course-1", "accept", json!({}));
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.body);
    let id = elsewhere.body["id"].as_i64().expect("id");
    // Another candidate asks for course-2: the record's claim still holds its place.
    let other = decide(&s, &cw, "cand-a-other", "course-2", "accept", json!({}));
    assert_problem(&other, 409);
    assert_eq!(places(&s, "course-2"), (0, 0, 0));
    // The accept elsewhere is withdrawn: course-2 still has one person on its one place.
    assert_eq!(withdraw(&s, &cw, id, "entered by mistake").status, 201);
    assert_eq!(places(&s, "course-2"), (0, 0, 0));
    let r = call(s.addr, "GET", "/v1/offers/course-2", Some(&cw), None);
    assert_eq!(r.body["places"]["recorded"], 1, "{}", r.body);
}

/// Lowering an offer's capacity below the places taken is refused, and the courses under way
/// that candidates' records claim are places taken: a capacity of 1 under 2 such records left
/// `capacity 1, recorded 2, overbooked 1`.
#[test]
fn an_offers_capacity_cannot_go_below_the_places_records_claim() {
    let s = start("live-lock-capacity");
    seed_offers(&s, &[("course-1", 10), ("course-2", 3)]);
    let locked = |id: &str| {
        let mut c = candidate(id, "0851");
        c["current_offer"] = json!("course-2");
        c["current_locked"] = json!(true);
        c
    };
    let body = Value::Array(vec![locked("cand-a-run1"), locked("cand-a-run2")]).to_string();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&s.tokens.a_system), Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(places(&s, "course-2"), (0, 0, 1));
    let lower = json!([crate::common::server::offer("course-2", 1)]).to_string();
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_system), Some(&lower));
    assert_problem(&r, 409);
    assert_eq!(places(&s, "course-2"), (0, 0, 1));
    // Down to the places taken is allowed.
    let lower = json!([crate::common::server::offer("course-2", 2)]).to_string();
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_system), Some(&lower));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(places(&s, "course-2"), (0, 0, 0));
}
