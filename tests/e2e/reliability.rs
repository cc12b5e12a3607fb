//! Reliability of `matcher serve` under faults and overload: kill -9 at random moments in a
//! stream of concurrent decisions and outcomes (every acknowledged write is there exactly
//! once, no offer is overbooked), and fast 503 refusals with `Retry-After` beyond capacity.
//!
//! CI runs a few kill cycles; `scripts/crash.sh` runs 50 through `BROBYGGER_CRASH_CYCLES`.

use super::common::server::{Answer, Child, call, candidate, cli_token, offer, spawn_server, temp_dir};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A small offer that fills up during the cycles, and one that never does. A candidate holds
/// one place at a time (a running course refuses a second accept), so the small offer has
/// fewer places than there are candidates: otherwise it could never fill, and the overbooking
/// check below could never fail.
const SMALL: (&str, u32) = ("course-small", 3);
const LARGE: (&str, u32) = ("course-large", 1_000_000);
const CANDIDATES: usize = 8;

/// xorshift64*: the kill moments differ per run, and the seed is printed to replay one.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the clients were told was written.
#[derive(Default)]
struct Acked {
    /// Decision id → (offer id, accepted).
    decisions: HashMap<i64, (String, bool)>,
    /// Decisions whose outcome was acknowledged.
    outcomes: HashSet<i64>,
    /// Answers other than 201, 409 (no places, outcome exists) and "no answer" (the kill).
    unexpected: Vec<String>,
    /// Accepts refused because the offer was full: the guard against overbooking at work.
    full: usize,
}

fn decisions_of(addr: SocketAddr, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for c in 0..CANDIDATES {
        let mut after = String::new();
        loop {
            let path = format!("/v1/decisions?candidate_id=cand-{c}&limit=1000{after}");
            let r = call(addr, "GET", &path, Some(token), None);
            assert_eq!(r.status, 200, "{}", r.body);
            all.extend(r.body["decisions"].as_array().cloned().unwrap_or_default());
            match r.body["next"].as_i64() {
                Some(next) => after = format!("&after={next}"),
                None => break,
            }
        }
    }
    all
}

fn reserved(addr: SocketAddr, token: &str, offer: &str) -> u64 {
    let r = call(addr, "GET", &format!("/v1/offers/{offer}"), Some(token), None);
    r.body["reserved"].as_u64().unwrap_or_else(|| panic!("{}", r.body))
}

fn trials(addr: SocketAddr, token: &str, offer: &str) -> u64 {
    let r = call(addr, "GET", &format!("/v1/offers/{offer}/quality"), Some(token), None);
    r.body["groups"].as_array().into_iter().flatten().filter_map(|g| g["trials"].as_u64()).sum()
}

/// Every acknowledged decision once, ids unique, places taken equal to the accepts that still
/// hold one (not released by an outcome: a place released twice, or never, would show here)
/// and within capacity.
fn check_decisions(addr: SocketAddr, token: &str, acked: &Acked) -> Vec<Value> {
    let listed = decisions_of(addr, token);
    let mut seen = HashSet::new();
    for d in &listed {
        let id = d["id"].as_i64().expect("decision id");
        assert!(seen.insert(id), "decision {id} listed twice");
    }
    for (id, (offer, accepted)) in &acked.decisions {
        let d = listed.iter().find(|d| d["id"].as_i64() == Some(*id));
        let d = d.unwrap_or_else(|| panic!("acknowledged decision {id} is missing"));
        assert_eq!(d["offer_id"].as_str(), Some(offer.as_str()), "{d}");
        assert_eq!(d["action"].as_str(), Some(if *accepted { "accept" } else { "decline" }), "{d}");
    }
    for (offer, capacity) in [SMALL, LARGE] {
        let holding = |d: &&Value| d["status"] == "running" || d["status"] == "reserved";
        let accepts = listed
            .iter()
            .filter(|d| d["offer_id"] == offer && d["action"] == "accept")
            .filter(holding)
            .count() as u64;
        let taken = reserved(addr, token, offer);
        assert_eq!(taken, accepts, "{offer}: places taken differ from the accepts holding a place");
        assert!(taken <= u64::from(capacity), "{offer} overbooked: {taken} > {capacity}");
    }
    listed
}

fn writer(addr: SocketAddr, token: String, acked: Arc<Mutex<Acked>>, seed: u64, ops: usize) {
    let mut rng = Rng(seed | 1);
    for _ in 0..ops {
        let candidate = format!("cand-{}", rng.below(CANDIDATES as u64));
        let pick = rng.below(10);
        // An outcome for an accepted decision that has none acknowledged yet, if any.
        let pending = (pick < 3)
            .then(|| {
                let a = acked.lock().ok()?;
                a.decisions.iter().find(|(id, (_, acc))| *acc && !a.outcomes.contains(id)).map(|(id, _)| *id)
            })
            .flatten();
        let (path, body, outcome_of, decision) = if let Some(id) = pending {
            let body = json!({"decision_id": id, "result": "in_work"});
            ("/v1/outcomes", body, Some(id), None)
        } else {
            let (offer, action) = match pick {
                0..=4 => (SMALL.0, "accept"),
                5..=7 => (LARGE.0, "accept"),
                _ => (LARGE.0, "decline"),
            };
            let body = json!({"candidate_id": candidate, "offer_id": offer, "action": action, "reason": "crash test"});
            ("/v1/decisions", body, None, Some((offer.to_string(), action == "accept")))
        };
        let r: Answer = call(addr, "POST", path, Some(&token), Some(&body.to_string()));
        if r.status == 0 {
            return; // the server is gone
        }
        let Ok(mut a) = acked.lock() else { return };
        match (r.status, outcome_of, decision) {
            (201, Some(id), _) => {
                a.outcomes.insert(id);
            }
            (201, None, Some(d)) => {
                if let Some(id) = r.body["id"].as_i64() {
                    a.decisions.insert(id, d);
                }
            }
            (409, _, _) => {
                if r.body["detail"].as_str().is_some_and(|d| d.contains("no places left")) {
                    a.full += 1;
                }
            }
            (status, _, _) => a.unexpected.push(format!("{path} answered {status}: {}", r.body)),
        }
    }
}

fn cycles() -> usize {
    std::env::var("BROBYGGER_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(3)
}

fn seed_data(addr: SocketAddr, system: &str, cw: &str) {
    let offers = json!([offer(SMALL.0, SMALL.1), offer(LARGE.0, LARGE.1)]).to_string();
    let r = call(addr, "POST", "/v1/offers", Some(system), Some(&offers));
    assert_eq!(r.status, 200, "{}", r.body);
    let cands: Vec<Value> = (0..CANDIDATES).map(|c| candidate(&format!("cand-{c}"), "0851")).collect();
    let r = call(addr, "POST", "/v1/candidates", Some(cw), Some(&json!(cands).to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
}

fn kill(mut child: Child) {
    child.0.kill().expect("kill -9");
    let _ = child.0.wait();
}

#[test]
fn kill_9_at_random_moments_keeps_acknowledged_writes_once_and_never_overbooks() {
    let dir = temp_dir("crash");
    let db: &Path = &dir.0.join("matcher.db");
    let system = cli_token(db, "0851", "system");
    let cw = cli_token(db, "0851", "caseworker");
    let seed = std::env::var("BROBYGGER_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    eprintln!("crash test seed {seed} (BROBYGGER_CRASH_SEED replays it)");
    let mut rng = Rng(seed | 1);
    let acked = Arc::new(Mutex::new(Acked::default()));
    let n = cycles();
    let started = Instant::now();
    for cycle in 0..n {
        let (child, addr) = spawn_server(db);
        if cycle == 0 {
            seed_data(addr, &system, &cw);
        } else if let Ok(a) = acked.lock() {
            check_decisions(addr, &cw, &a);
        }
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let (acked, cw, seed) = (acked.clone(), cw.clone(), rng.next());
                std::thread::spawn(move || writer(addr, cw, acked, seed, 60))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(5 + rng.below(300)));
        kill(child);
        for w in writers {
            w.join().expect("writer thread");
        }
    }
    // Last restart: everything acknowledged in any cycle is there once.
    let (_child, addr) = spawn_server(db);
    let a = acked.lock().expect("acked");
    assert!(a.unexpected.is_empty(), "unexpected answers: {:?}", a.unexpected);
    assert!(!a.decisions.is_empty(), "no decision was acknowledged in {n} cycles");
    let listed = check_decisions(addr, &cw, &a);
    // Outcomes: an acknowledged one is there (a second one is refused), and the evidence has
    // exactly one trial per recorded outcome. Recording one for every accepted decision that
    // lacks it must then leave exactly one trial per accepted decision.
    let accepted: Vec<i64> =
        listed.iter().filter(|d| d["action"] == "accept").filter_map(|d| d["id"].as_i64()).collect();
    for id in &accepted {
        let body = json!({"decision_id": id, "result": "dropped_out"}).to_string();
        let r = call(addr, "POST", "/v1/outcomes", Some(&cw), Some(&body));
        if a.outcomes.contains(id) {
            assert_eq!(r.status, 409, "acknowledged outcome of decision {id} is missing: {}", r.body);
        } else {
            assert!(r.status == 201 || r.status == 409, "{}", r.body);
        }
    }
    let total_trials = trials(addr, &cw, SMALL.0) + trials(addr, &cw, LARGE.0);
    assert_eq!(total_trials, accepted.len() as u64, "one trial per accepted decision's one outcome");
    eprintln!(
        "{n} kill -9 cycles in {:.1} s: {} decisions and {} outcomes acknowledged, {} accepted, {} accepts refused as full, {} of {} small places taken",
        started.elapsed().as_secs_f64(),
        a.decisions.len(),
        a.outcomes.len(),
        accepted.len(),
        a.full,
        reserved(addr, &cw, SMALL.0),
        SMALL.1
    );
}

#[test]
fn beyond_capacity_requests_get_a_fast_503_with_retry_after_and_the_service_recovers() {
    let s = super::common::server::start_config("overload", |c| {
        c.max_in_flight = 2;
        c.max_body_bytes = 16 * 1024 * 1024;
    });
    // Validating and indexing 5,000 offers takes a while: 12 of them at once overfill 2 slots.
    let offers: Vec<Value> = (0..5000).map(|i| offer(&format!("course-{i}"), 1)).collect();
    let body = Arc::new(json!(offers).to_string());
    let clients: Vec<_> = (0..12)
        .map(|_| {
            let (body, token, addr) = (body.clone(), s.tokens.a_system.clone(), s.addr);
            std::thread::spawn(move || {
                let started = Instant::now();
                let r = call(addr, "POST", "/v1/offers", Some(&token), Some(&body));
                (r, started.elapsed())
            })
        })
        .collect();
    let answers: Vec<(Answer, Duration)> = clients.into_iter().map(|c| c.join().expect("client")).collect();
    let refused: Vec<&(Answer, Duration)> = answers.iter().filter(|(r, _)| r.status == 503).collect();
    let slowest_ok = answers.iter().filter(|(r, _)| r.status == 200).map(|(_, t)| *t).max();
    assert!(
        !refused.is_empty(),
        "no request was refused: {:?}",
        answers.iter().map(|(r, _)| r.status).collect::<Vec<_>>()
    );
    assert!(slowest_ok.is_some(), "no request was served");
    for (r, took) in &refused {
        super::common::server::assert_problem(r, 503);
        assert_eq!(r.body["type"], "/problems/overloaded", "{}", r.body);
        assert!(r.headers.contains("retry-after: 1"), "{}", r.headers);
        // A refusal does not wait for the work it refuses.
        assert!(Some(*took) < slowest_ok, "a refusal took {took:?}, the slowest success {slowest_ok:?}");
    }
    for (r, _) in &answers {
        assert!(r.status == 200 || r.status == 503, "{}: {}", r.status, r.body);
    }
    // Load gone: every slot is free again and requests are served.
    assert_eq!(s.state.in_flight.load(std::sync::atomic::Ordering::Acquire), 0);
    let r = call(s.addr, "GET", "/v1/offers/course-1", Some(&s.tokens.a_caseworker), None);
    assert_eq!(r.status, 200, "{}", r.body);
    // Probes are never refused, so an overloaded instance is not taken for a dead one.
    assert_eq!(call(s.addr, "GET", "/healthz", None, None).status, 200);
}

// ----- hostile input and tenant leaks -----

/// Every field that could carry a personal number refuses a CPR-like value with a 422 that
/// names the field and does not echo the number.
#[test]
fn cpr_like_values_are_refused_in_every_field_that_could_hold_one() {
    let s = super::common::server::start_config("cpr", |_| {});
    let (cw, sys) = (s.tokens.a_caseworker.clone(), s.tokens.a_system.clone());
    let r = call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&json!([offer("course-1", 5)]).to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(
        s.addr,
        "POST",
        "/v1/candidates",
        Some(&cw),
        Some(&json!([candidate("cand-1", "0851")]).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let accepted = call(
        s.addr,
        "POST",
        "/v1/decisions",
        Some(&cw),
        Some(
            &json!({"candidate_id": "cand-1", "offer_id": "course-1", "action": "accept", "reason": "fits"})
                .to_string(),
        ),
    );
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    for cpr in ["0101901234", "010190-1234"] {
        let with = |mut v: Value, field: &str, value: Value| {
            v[field] = value;
            v
        };
        let decision =
            json!({"candidate_id": "cand-1", "offer_id": "course-1", "action": "decline", "reason": "no"});
        // (method, path, token, body, JSON Pointer of the refused field)
        let cases: Vec<(&str, String, &str, Option<Value>, &str)> = vec![
            ("POST", "/v1/candidates".into(), &cw, Some(json!([candidate(cpr, "0851")])), "/0/id"),
            (
                "POST",
                "/v1/candidates".into(),
                &cw,
                Some(json!([with(candidate("cand-2", "0851"), "current_offer", json!(cpr))])),
                "/0/current_offer",
            ),
            (
                "POST",
                "/v1/candidates".into(),
                &cw,
                Some(json!([with(candidate("cand-2", "0851"), "excluded_offers", json!([cpr]))])),
                "/0/excluded_offers",
            ),
            ("POST", "/v1/offers".into(), &sys, Some(json!([offer(cpr, 5)])), "/0/id"),
            (
                "POST",
                "/v1/offers".into(),
                &sys,
                Some(json!([with(offer("course-2", 5), "name", json!(format!("Course for {cpr}")))])),
                "/0/name",
            ),
            (
                "POST",
                "/v1/offers".into(),
                &sys,
                Some(json!([with(offer("course-2", 5), "provider_id", json!(cpr))])),
                "/0/provider_id",
            ),
            (
                "POST",
                "/v1/decisions".into(),
                &cw,
                Some(with(decision.clone(), "candidate_id", json!(cpr))),
                "/candidate_id",
            ),
            (
                "POST",
                "/v1/decisions".into(),
                &cw,
                Some(with(decision.clone(), "offer_id", json!(cpr))),
                "/offer_id",
            ),
            (
                "POST",
                "/v1/decisions".into(),
                &cw,
                Some(with(decision.clone(), "suggested_offer_ids", json!([cpr]))),
                "/suggested_offer_ids/0",
            ),
            (
                "POST",
                "/v1/decisions".into(),
                &cw,
                Some(with(decision.clone(), "reason", json!(format!("citizen {cpr} agreed")))),
                "/reason",
            ),
            ("POST", "/v1/suggestions".into(), &cw, Some(json!({"candidate_id": cpr})), "/candidate_id"),
            (
                "POST",
                "/v1/suggestions".into(),
                &cw,
                Some(json!({"candidate": candidate(cpr, "0851")})),
                "/candidate/id",
            ),
            ("GET", format!("/v1/candidates/{cpr}"), &cw, None, "/path/id"),
            ("DELETE", format!("/v1/candidates/{cpr}"), &cw, None, "/path/id"),
            ("GET", format!("/v1/offers/{cpr}"), &cw, None, "/path/id"),
            ("GET", format!("/v1/offers/{cpr}/quality"), &cw, None, "/path/id"),
            ("POST", format!("/v1/offers/{cpr}/retire"), &sys, None, "/path/id"),
            ("GET", format!("/v1/providers/{cpr}/quality"), &cw, None, "/path/id"),
            ("GET", format!("/v1/decisions?candidate_id={cpr}"), &cw, None, "/query/candidate_id"),
        ];
        for (method, path, token, body, field) in cases {
            let text = body.as_ref().map(Value::to_string);
            let r = call(s.addr, method, &path, Some(token), text.as_deref());
            super::common::server::assert_problem(&r, 422);
            let paths: Vec<&str> = r.body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["path"].as_str())
                .collect();
            assert!(paths.contains(&field), "{method} {path} with {cpr}: {}", r.body);
            assert!(!r.body.to_string().contains(cpr), "{method} {path} echoes the number: {}", r.body);
        }
    }
    // Nothing of it was stored.
    let list = call(s.addr, "GET", "/v1/candidates", Some(&cw), None);
    assert_eq!(list.body["candidates"].as_array().map(Vec::len), Some(1), "{}", list.body);
    let list = call(s.addr, "GET", "/v1/decisions?candidate_id=cand-1", Some(&cw), None);
    assert_eq!(list.body["decisions"].as_array().map(Vec::len), Some(1), "{}", list.body);
}

/// Decisions are the authority's record: no method changes or removes one, not even through
/// routes meant for other things, and an outcome cannot be replaced.
#[test]
fn the_decision_record_cannot_be_edited_through_the_api() {
    let s = super::common::server::start_config("audit", |_| {});
    let (cw, admin, sys) =
        (s.tokens.a_caseworker.clone(), s.tokens.a_admin.clone(), s.tokens.a_system.clone());
    let r = call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&json!([offer("course-1", 5)]).to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(
        s.addr,
        "POST",
        "/v1/candidates",
        Some(&cw),
        Some(&json!([candidate("cand-1", "0851")]).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let body =
        json!({"candidate_id": "cand-1", "offer_id": "course-1", "action": "accept", "reason": "fits"});
    let made = call(s.addr, "POST", "/v1/decisions", Some(&cw), Some(&body.to_string()));
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_i64().expect("id");
    let before = call(s.addr, "GET", &format!("/v1/decisions/{id}"), Some(&cw), None);
    let edit =
        json!({"candidate_id": "cand-1", "offer_id": "course-1", "action": "decline", "reason": "changed"})
            .to_string();
    for token in [&cw, &admin] {
        for method in ["PUT", "PATCH", "DELETE", "POST"] {
            for path in [format!("/v1/decisions/{id}"), "/v1/decisions".to_string()] {
                if method == "POST" && path == "/v1/decisions" {
                    continue; // that is recording a new decision
                }
                let r = call(s.addr, method, &path, Some(token), Some(&edit));
                super::common::server::assert_problem(&r, 405);
                let allow = if path == "/v1/decisions" { "allow: post, get" } else { "allow: get\r" };
                assert!(r.headers.contains(allow), "{method} {path}: {}", r.headers);
            }
        }
    }
    let outcome = |result: &str| json!({"decision_id": id, "result": result}).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&outcome("in_work"))).status, 201);
    let again = call(s.addr, "POST", "/v1/outcomes", Some(&admin), Some(&outcome("dropped_out")));
    super::common::server::assert_problem(&again, 409);
    // Erasing the candidate leaves the decision (it holds only the pseudonymous id).
    assert_eq!(call(s.addr, "DELETE", "/v1/candidates/cand-1", Some(&cw), None).status, 200);
    let after = call(s.addr, "GET", &format!("/v1/decisions/{id}"), Some(&cw), None);
    // The record is what was decided; where it stands (`status`, `released_why`) follows the
    // events after it: here the outcome gave its place back.
    let recorded = |v: &Value| {
        let mut v = v.clone();
        if let Value::Object(o) = &mut v {
            o.remove("status");
            o.remove("released_why");
        }
        v
    };
    assert_eq!(recorded(&after.body), recorded(&before.body), "the decision changed");
    assert_eq!((&after.body["status"], &after.body["released_why"]), (&json!("ended"), &json!("outcome")));
    let quality = call(s.addr, "GET", "/v1/offers/course-1/quality", Some(&cw), None);
    let trials: u64 =
        quality.body["groups"].as_array().into_iter().flatten().filter_map(|g| g["trials"].as_u64()).sum();
    assert_eq!(trials, 1, "the refused second outcome counted: {}", quality.body);
}

/// Request ids are unique but do not count requests: consecutive ids say nothing about
/// how many requests other tenants made in between.
#[test]
fn request_ids_are_unique_and_do_not_count_requests() {
    let s = super::common::server::start_config("ids", |_| {});
    let ids: Vec<String> = (0..50)
        .map(|_| {
            let r = call(s.addr, "GET", "/v1/candidates/none", Some(&s.tokens.b_caseworker), None);
            r.body["request_id"].as_str().expect("request id").to_string()
        })
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let numbers: Vec<u64> = ids
        .iter()
        .filter_map(|id| id.rsplit('-').next().and_then(|n| u64::from_str_radix(n, 16).ok()))
        .collect();
    assert_eq!(numbers.len(), ids.len(), "{ids:?}");
    let ascending = numbers.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(ascending < 45, "request ids still look like a counter: {ids:?}");
}
