//! Issue 17, oversight measured: decisions made over HTTP with known patterns (a caseworker
//! who accepts the top suggestion at once, one who accepts it after looking, one who declines
//! and picks an offer not suggested) give the figures recomputed here from the records (the
//! suggestion log and the decisions), and the rubber-stamp flag rises only for the first.

use super::common::server::*;
use matcher_service::server::auth::{Role, create_token};
use serde_json::{Value, json};
use std::time::Duration;

/// The municipality's policy: flag above 95 % top accepts with a median under 2 s, from 3
/// decisions (the national default is 10 s and 20; a test cannot wait that long).
const POLICY: &str = "name = \"test-0851\"\nmunicipality = \"0851\"\n[oversight]\nrubber_stamp_top_share = 0.95\nrubber_stamp_median_seconds = 2.0\nmin_decisions = 3\n";

fn show(s: &Server, token: &str, candidate: &str, k: u32) -> Vec<String> {
    let body = json!({"candidate_id": candidate, "k": k}).to_string();
    let r = call(s.addr, "POST", "/v1/suggestions", Some(token), Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .map(|o| o["offer_id"].as_str().unwrap_or("").to_string())
        .collect()
}

fn decide_on(
    s: &Server,
    token: &str,
    candidate: &str,
    offer: &str,
    action: &str,
    reason: &str,
    shown: &[String],
) {
    let body = json!({"candidate_id": candidate, "offer_id": offer, "action": action, "reason": reason,
                      "suggested_offer_ids": shown});
    let r = call(s.addr, "POST", "/v1/decisions", Some(token), Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
}

fn seconds(at: &str) -> f64 {
    matcher_service::server::oversight::seconds_of(at).expect("a time")
}

#[test]
fn oversight_figures_match_the_records_and_flag_only_the_rubber_stamp() {
    let policies = matcher_core::policy::PolicySet::from_files([("test-0851.toml", POLICY)]).expect("policy");
    let s = start_config("oversight", |c| c.policies = policies);
    seed_offers(&s, &[("course-1", 20), ("course-2", 20), ("course-3", 20)]);
    let more: Vec<Value> = (3..=10).map(|i| candidate(&format!("cand-a{i}"), "0851")).collect();
    let r = call(
        s.addr,
        "POST",
        "/v1/candidates",
        Some(&s.tokens.a_caseworker),
        Some(&Value::Array(more).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let fast = s.tokens.a_caseworker.clone(); // "cw-a"
    let slow = create_token(&s.state.store, A, Role::Caseworker, "cw-slow").expect("token");
    let mixed = create_token(&s.state.store, A, Role::Caseworker, "cw-mixed").expect("token");

    // cw-a: the top suggestion, at once, four times.
    for i in 1..=4 {
        let c = format!("cand-a{i}");
        let shown = show(&s, &fast, &c, 3);
        decide_on(&s, &fast, &c, &shown[0], "accept", "fits", &shown);
    }
    // cw-slow: the top suggestion too, but after looking for over 3 s.
    let lists: Vec<(String, Vec<String>)> = (5..=7)
        .map(|i| {
            let c = format!("cand-a{i}");
            let shown = show(&s, &slow, &c, 3);
            (c, shown)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(3100));
    for (c, shown) in &lists {
        decide_on(&s, &slow, c, &shown[0], "accept", "fits", shown);
    }
    // cw-mixed: two declines with the same reason written differently, and an accept of an
    // offer the one-offer list did not show.
    let shown = show(&s, &mixed, "cand-a8", 3);
    decide_on(&s, &mixed, "cand-a8", &shown[0], "decline", "Too far away.", &shown);
    let shown = show(&s, &mixed, "cand-a9", 3);
    decide_on(&s, &mixed, "cand-a9", &shown[0], "decline", "  too  far AWAY ", &shown);
    let shown = show(&s, &mixed, "cand-a10", 1);
    let other = ["course-1", "course-2", "course-3"]
        .into_iter()
        .find(|o| !shown.iter().any(|x| x == o))
        .expect("an offer not shown");
    decide_on(&s, &mixed, "cand-a10", other, "accept", "the citizen asked for it", &shown);

    let admin = s.tokens.a_admin.clone();
    let r = call(s.addr, "GET", "/v1/oversight", Some(&admin), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let o = &r.body;
    assert!(o["note"].as_str().is_some_and(|n| n.contains("not a measure of anyone's work")), "{o}");
    let names: Vec<&str> =
        o["caseworkers"].as_array().expect("caseworkers").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["cw-a", "cw-mixed", "cw-slow"], "in name order, never ranked");
    let by = |name: &str| {
        o["caseworkers"].as_array().and_then(|a| a.iter().find(|c| c["name"] == name)).cloned().expect(name)
    };

    // Recompute each caseworker's times from the records: decision time minus the time the
    // last list before it was shown, from the decisions and the suggestion log.
    let decisions = call(s.addr, "GET", "/v1/decisions?limit=1000", Some(&admin), None);
    for name in ["cw-a", "cw-slow", "cw-mixed"] {
        let mut secs = Vec::new();
        for d in decisions.body["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .filter(|d| d["decided_by"] == name)
        {
            let c = d["candidate_id"].as_str().expect("candidate");
            let log =
                call(s.addr, "GET", &format!("/v1/audit/suggestions?candidate_id={c}"), Some(&admin), None);
            let shown_at = log.body["entries"]
                .as_array()
                .and_then(|e| e.last())
                .and_then(|e| e["shown_at"].as_str())
                .expect("a logged list");
            let decided_at = d["decided_at"].as_str().expect("decided_at");
            secs.push((seconds(decided_at) - seconds(shown_at)).max(0.0));
        }
        secs.sort_by(f64::total_cmp);
        let n = secs.len();
        let median = if n % 2 == 1 { secs[n / 2] } else { (secs[n / 2 - 1] + secs[n / 2]) / 2.0 };
        let p90 = secs[((0.9 * n as f64).ceil() as usize).clamp(1, n) - 1];
        let f = by(name);
        assert_eq!(f["timed"], n, "{f}");
        assert!(
            (f["median_seconds"].as_f64().expect("median") - median).abs() < 1e-9,
            "{name}: {f} vs {secs:?}"
        );
        assert!((f["p90_seconds"].as_f64().expect("p90") - p90).abs() < 1e-9, "{name}: {f}");
    }
    let a = by("cw-a");
    assert_eq!(
        (a["decisions"].as_u64(), a["top_accepts"].as_u64(), a["top_accept_share"].as_f64()),
        (Some(4), Some(4), Some(1.0))
    );
    assert!(a["median_seconds"].as_f64().is_some_and(|m| m < 2.0), "{a}");
    assert_eq!(a["rubber_stamp"], true, "{a}");
    assert!(a["flag_reason"].as_str().is_some_and(|w| w.contains("100 % of 4 decisions")), "{a}");

    let slow_f = by("cw-slow");
    assert_eq!((slow_f["top_accepts"].as_u64(), slow_f["decisions"].as_u64()), (Some(3), Some(3)));
    assert!(slow_f["median_seconds"].as_f64().is_some_and(|m| m >= 2.0), "{slow_f}");
    assert_eq!(slow_f["rubber_stamp"], false, "looked at the suggestions: {slow_f}");

    let m = by("cw-mixed");
    assert_eq!(
        (m["accepts"].as_u64(), m["declines"].as_u64(), m["top_accepts"].as_u64()),
        (Some(1), Some(2), Some(0))
    );
    assert_eq!(m["accepts_not_suggested"], 1, "{m}");
    assert!((m["not_suggested_share"].as_f64().expect("share") - 1.0 / 3.0).abs() < 1e-9, "{m}");
    assert_eq!(m["decline_reasons"], json!([{"reason": "too far away", "count": 2}]), "{m}");
    assert_eq!(m["rubber_stamp"], false);

    // The municipality: 10 decisions, 7 top accepts (70 %), not flagged; one team (local
    // tokens name the municipality as employer).
    let t = &o["total"];
    assert_eq!(
        (t["decisions"].as_u64(), t["top_accepts"].as_u64(), t["accepts_not_suggested"].as_u64()),
        (Some(10), Some(7), Some(1))
    );
    assert_eq!(t["rubber_stamp"], false, "{t}");
    assert_eq!(o["teams"].as_array().map(Vec::len), Some(1), "{o}");
    assert_eq!(o["teams"][0]["name"], "municipality 0851");
    assert_eq!(o["thresholds"]["rubber_stamp_median_seconds"], 2.0);

    // Paged over persons by name.
    let page = call(s.addr, "GET", "/v1/oversight?limit=2", Some(&s.tokens.a_auditor), None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["next"], "cw-mixed");
    let rest = call(s.addr, "GET", "/v1/oversight?limit=2&after=cw-mixed", Some(&s.tokens.a_auditor), None);
    assert_eq!(rest.body["caseworkers"][0]["name"], "cw-slow");
    assert_eq!(rest.body["next"], Value::Null);
    // Another period holds nothing; bad dates and other roles are refused.
    let empty = call(s.addr, "GET", "/v1/oversight?from=2020-01-01&to=2020-01-31", Some(&admin), None);
    assert_eq!(empty.body["total"]["decisions"], 0, "{}", empty.body);
    assert_problem(&call(s.addr, "GET", "/v1/oversight?from=2026-13-01", Some(&admin), None), 422);
    assert_problem(
        &call(s.addr, "GET", "/v1/oversight?from=2026-12-02&to=2026-12-01", Some(&admin), None),
        422,
    );
    assert_problem(&call(s.addr, "GET", "/v1/oversight", Some(&fast), None), 403);
    // Another municipality sees none of it.
    let b_admin = create_token(&s.state.store, B, Role::Admin, "admin-b").expect("token");
    let b = call(s.addr, "GET", "/v1/oversight", Some(&b_admin), None);
    assert_eq!(
        (b.body["total"]["decisions"].as_u64(), b.body["caseworkers"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
}
