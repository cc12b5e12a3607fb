//! Issue 13, point 2: the service produces the episode history. Over real HTTP and a real
//! SQLite file: accepted decisions with their outcomes and no-offer records (the comparison
//! group) become episodes with the case mix of their first day; `GET /v1/history` answers them
//! in the `outcomes` table's format (JSON and CSV, keyset-paged); `matcher export-state` and
//! `matcher history --db` write the same rows, and `matcher batch` reads them as the data
//! set's `outcomes` table and learns from them (`quality.csv`). Plus every refusal.

use crate::common::server::{
    Answer, Server, assert_problem, call, candidate, seed_offers, start_config, temp_dir,
};
use matcher_core::model::Date;
use serde_json::{Value, json};
use std::net::SocketAddr;

fn exit(s: &Server, token: &str, candidate: &str, body: Value) -> Answer {
    call(s.addr, "POST", &format!("/v1/candidates/{candidate}/exits"), Some(token), Some(&body.to_string()))
}

fn accept(s: &Server, token: &str, candidate: &str, offer: &str) -> i64 {
    let body =
        json!({"candidate_id": candidate, "offer_id": offer, "action": "accept", "reason": "fits the plan"});
    let r = call(s.addr, "POST", "/v1/decisions", Some(token), Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_i64().expect("decision id")
}

fn get_with(addr: SocketAddr, path: &str, token: &str, accept: &str) -> (u16, String, String) {
    let req = format!(
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nauthorization: Bearer {token}\r\naccept: {accept}\r\n\r\n"
    );
    let (status, headers, body) = crate::common::server::raw(addr, req.as_bytes());
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// The field a 422 names.
fn field(r: &Answer) -> String {
    assert_problem(r, 422);
    r.body["errors"][0]["path"].as_str().unwrap_or_default().to_string()
}

#[test]
fn decisions_outcomes_and_no_offer_exits_become_a_history_the_nightly_run_learns_from() {
    // The history, not money: the seeded 12,000 kr. courses with a record of one or two
    // episodes cannot be shown to pay, and the national course limit would refuse them.
    let s = start_config("history", |c| c.policies.national.limits.min_course_effect_high_dkk = None);
    seed_offers(&s, &[("course-1", 10), ("course-2", 3)]);
    let cw = s.tokens.a_caseworker.clone();
    // More candidates: a3 (no offer, left for work), a4 (long on cash benefit, no offer, still
    // on it after the follow-up), a5 (an accept without an outcome yet).
    let mut a4 = candidate("cand-a4", "0851");
    a4["target_groups"] = json!("cash_longterm");
    a4["benefit_kind"] = json!("cash_benefit");
    a4["benefit_start"] = json!("2024-01-01");
    a4["benefit_end"] = Value::Null;
    let more = json!([candidate("cand-a3", "0851"), a4, candidate("cand-a5", "0851")]).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/candidates", Some(&cw), Some(&more)).status, 200);

    // Day 2026-09-01: two accepts and an open one.
    let d1 = accept(&s, &cw, "cand-a1", "course-1");
    let d2 = accept(&s, &cw, "cand-a2", "course-2");
    let _open = accept(&s, &cw, "cand-a5", "course-1");
    // A later edit of the candidate does not rewrite the case mix the episode started with.
    let mut older = candidate("cand-a1", "0851");
    older["age_band"] = json!("50-59");
    let r = call(s.addr, "POST", "/v1/candidates", Some(&cw), Some(&json!([older]).to_string()));
    assert_eq!(r.status, 200, "{}", r.body);

    // Nine weeks later.
    let today = Date::parse("2026-11-02").expect("date");
    assert!(s.state.catalogues.set_today(&s.state.store, today).expect("new day"));
    let outcome = |id: i64, result: &str, exited_on: Option<&str>| {
        let mut body = json!({"decision_id": id, "result": result});
        if let Some(day) = exited_on {
            body["exited_on"] = json!(day);
        }
        call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&body.to_string()))
    };
    assert_eq!(field(&outcome(d1, "in_work", Some("2026-11-03"))), "/exited_on", "in the future");
    assert_eq!(field(&outcome(d1, "in_work", Some("2026-08-31"))), "/exited_on", "before the decision");
    assert_eq!(field(&outcome(d1, "in_work", Some("13-10-2026"))), "/exited_on");
    let r = outcome(d1, "in_work", Some("2026-10-13"));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(outcome(d2, "dropped_out", None).status, 201);

    // No-offer records.
    let r =
        exit(&s, &cw, "cand-a3", json!({"result": "in_work", "started": "2026-08-01", "weeks_to_exit": 8}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["offer_id"], Value::Null, "{}", r.body);
    assert_eq!((r.body["success"].clone(), r.body["weeks_on_benefit"].clone()), (json!(true), json!(4.4)));
    let keyed = |body: Value, key: &str| {
        let b = body.to_string();
        let req = format!(
            "POST /v1/candidates/cand-a4/exits HTTP/1.1\r\nhost: {}\r\nconnection: close\r\nauthorization: Bearer {cw}\r\nidempotency-key: {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
            s.addr,
            b.len()
        );
        let (status, _, body) = crate::common::server::raw(s.addr, req.as_bytes());
        (status, serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null))
    };
    let still = json!({"result": "still_on_benefit", "started": "2025-10-06"});
    let (status, first) = keyed(still.clone(), "exit-a4-1");
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["weeks_on_benefit"], json!(92.0), "{first}");
    let (status, again) = keyed(still, "exit-a4-1");
    assert_eq!((status, again["id"].clone()), (200, first["id"].clone()), "a retry is the same episode");
    let (status, other) =
        keyed(json!({"result": "in_work", "started": "2025-10-06", "weeks_to_exit": 3}), "exit-a4-1");
    assert_eq!(status, 409, "the same key for another record: {other}");

    // Refusals, each naming its field; nothing is recorded by them.
    let ok_body = json!({"result": "in_work", "started": "2026-08-01", "weeks_to_exit": 8});
    assert_problem(&exit(&s, &cw, "cand-nobody", ok_body.clone()), 404);
    assert_problem(&exit(&s, &cw, "cand-b1", ok_body.clone()), 404);
    let unknown = exit(&s, &cw, "cand-nobody", ok_body.clone());
    let other_tenant = exit(&s, &cw, "cand-b1", ok_body.clone());
    assert_eq!(unknown.body["detail"], other_tenant.body["detail"], "another tenant's candidate is unknown");
    assert_problem(&exit(&s, &s.tokens.a_provider, "cand-a3", ok_body.clone()), 403);
    let refused = [
        (json!({"result": "in_work", "started": "2026-01-05", "weeks_to_exit": 60}), "/weeks_to_exit"),
        (json!({"result": "in_work", "started": "2026-08-01", "weeks_to_exit": -2}), "/weeks_to_exit"),
        (json!({"result": "in_work", "started": "2026-11-20", "weeks_to_exit": 0}), "/started"),
        (json!({"result": "in_work", "started": "2026-10-20", "weeks_to_exit": 5}), "/weeks_to_exit"),
        (json!({"result": "in_work", "started": "2026-08-01"}), "/weeks_to_exit"),
        (json!({"result": "still_on_benefit", "started": "2026-03-02"}), "/started"),
        (
            json!({"result": "still_on_benefit", "started": "2025-01-06", "weeks_to_exit": 4}),
            "/weeks_to_exit",
        ),
        (json!({"result": "in_work", "started": "2026-06-01", "weeks_to_exit": 2}), "/started"),
        (json!({"result": "in_work", "started": "01-08-2026", "weeks_to_exit": 2}), "/started"),
        (json!({"result": "hired", "started": "2026-08-01", "weeks_to_exit": 2}), "/result"),
    ];
    for (body, path) in refused {
        assert_eq!(field(&exit(&s, &cw, "cand-a3", body.clone())), path, "{body}");
    }
    let open = exit(&s, &cw, "cand-a5", ok_body.clone());
    assert_problem(&open, 409);
    assert!(open.body["detail"].as_str().is_some_and(|d| d.contains("POST /v1/outcomes")), "{}", open.body);

    // The history: four finished episodes; the open accept is not one yet.
    let h = call(s.addr, "GET", "/v1/history", Some(&cw), None);
    assert_eq!(h.status, 200, "{}", h.body);
    let episodes = h.body["episodes"].as_array().expect("episodes").clone();
    assert_eq!(episodes.len(), 4, "{}", h.body);
    let by_offer = |offer: Value| episodes.iter().filter(move |e| e["offer_id"] == offer);
    let e1 = by_offer(json!("course-1")).next().expect("the accepted course-1").clone();
    assert_eq!(e1["age_band"], "40-49", "the case mix of the decision day: {e1}");
    assert_eq!(e1["started"], "2026-09-01");
    assert_eq!(e1["weeks_on_benefit"], json!(8.9), "2026-07-01 to 2026-09-01: {e1}");
    assert_eq!((e1["success"].clone(), e1["weeks_to_exit"].clone()), (json!(true), json!(6.0)), "{e1}");
    assert_eq!(e1["target_groups"], json!(["sickness"]));
    let e2 = by_offer(json!("course-2")).next().expect("course-2").clone();
    assert_eq!((e2["success"].clone(), e2["weeks_to_exit"].clone()), (json!(false), Value::Null), "{e2}");
    assert_eq!(by_offer(Value::Null).count(), 2, "two in the comparison group");
    // Keyset pages.
    let p1 = call(s.addr, "GET", "/v1/history?limit=3", Some(&cw), None);
    let next = p1.body["next"].as_i64().expect("a next page");
    let p2 = call(s.addr, "GET", &format!("/v1/history?limit=3&after={next}"), Some(&cw), None);
    assert_eq!(p2.body["episodes"].as_array().map(Vec::len), Some(1), "{}", p2.body);
    assert!(p2.body.get("next").is_none(), "{}", p2.body);
    assert_eq!(field(&call(s.addr, "GET", "/v1/history?limit=0", Some(&cw), None)), "/query/limit");
    assert_eq!(field(&call(s.addr, "GET", "/v1/history?after=x", Some(&cw), None)), "/query/after");
    // Another tenant sees none of it.
    let theirs = call(s.addr, "GET", "/v1/history", Some(&s.tokens.b_caseworker), None);
    assert_eq!(theirs.body["episodes"], json!([]), "{}", theirs.body);
    assert_problem(&call(s.addr, "GET", "/v1/history", Some(&s.tokens.a_provider), None), 403);

    // CSV, with the next page in a Link header.
    let (status, headers, csv) = get_with(s.addr, "/v1/history", &cw, "text/csv");
    assert_eq!(status, 200, "{csv}");
    assert!(headers.contains("content-type: text/csv"), "{headers}");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,municipality,target_groups,age_band,benefit_kind,weeks_on_benefit,offer_id,started,success,weeks_to_exit"
        )
    );
    assert_eq!(lines.count(), 4, "{csv}");
    assert!(csv.contains(",course-1,2026-09-01,yes,6\n"), "{csv}");
    let (_, headers, _) = get_with(s.addr, "/v1/history?limit=2", &cw, "text/csv");
    assert!(headers.contains("link: </v1/history?after=2&limit=2>; rel=\"next\""), "{headers}");

    // Suggestions carry the uplift for candidates like this one, and the loss flag (null: pays).
    let r =
        call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(r#"{"candidate_id": "cand-a3", "k": 2}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    let first = &r.body["suggestions"][0];
    assert!(first.get("effect_flag").is_some() && first["uplift"].is_number(), "{first}");
    let ev = &first["evidence"][0];
    let num = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("a number: {ev}"));
    let (u, lo, hi) =
        (num(&ev["uplift"]), num(&ev["uplift_interval_90"][0]), num(&ev["uplift_interval_90"][1]));
    assert!(lo <= u && u <= hi && lo < hi, "{ev}");

    // Quality on the API: the adjusted rate, the uplift with its interval, the provider's name.
    let q = call(s.addr, "GET", "/v1/offers/course-1/quality", Some(&cw), None);
    assert_eq!(q.status, 200, "{}", q.body);
    assert_eq!(q.body["provider_name"], "lev-0001", "no name in the service's data: the id");
    let g =
        q.body["groups"].as_array().and_then(|g| g.iter().find(|g| g["target_group"] == "sickness")).cloned();
    let effect = g.expect("sickness")["effect"].clone();
    assert_eq!(effect["episodes"], 1, "{effect}");
    assert_eq!(effect["observed_rate"], json!(1.0), "{effect}");
    let (u, lo, hi) = (
        effect["uplift"].as_f64().expect("uplift"),
        effect["uplift_interval_90"][0].as_f64().expect("low"),
        effect["uplift_interval_90"][1].as_f64().expect("high"),
    );
    assert!(lo < u && u < hi, "{effect}");
    assert!(effect["adjusted_rate"].is_number() && effect["no_offer_rate"].is_number(), "{effect}");

    // The nightly run learns from it: export, the core reads it, `matcher batch` writes quality.csv.
    let dir = temp_dir("history-out");
    let run = |args: &[&str]| {
        let mut cmd = crate::common::matcher();
        cmd.args(args);
        crate::common::run(&mut cmd)
    };
    let db = s.state.store.path().to_str().expect("utf-8").to_string();
    let state = dir.0.join("state");
    let (o, stdout, stderr) = run(&[
        "export-state",
        "--db",
        &db,
        "--municipality",
        "0851",
        "--today",
        "2026-11-02",
        "--out",
        state.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("4 episodes"), "{stdout}");
    let exported = std::fs::read_to_string(state.join("outcomes.csv")).expect("outcomes.csv");
    assert_eq!(exported.lines().count(), 5, "{exported}");
    let reference = matcher_core::model::ReferenceData::embedded().expect("reference");
    let data = matcher_core::dataset::load(&state, &reference).expect("the core reads the export");
    assert_eq!(data.outcomes.len(), 4);
    assert_eq!(data.outcomes.iter().filter(|e| e.offer.is_none()).count(), 2);
    // No outcome counts twice: the evidence counts the course's outcome as a data set's
    // `evidence` counts the courses of its `outcomes`, and the core takes the episode out of
    // it once (nothing is left beyond the history).
    let course1 = data.offers.iter().find(|o| o.id.as_str() == "course-1").expect("course-1");
    let sickness = reference.group("sickness").expect("sickness");
    assert_eq!(
        course1.evidence,
        vec![matcher_core::model::Evidence { group: sickness, trials: 1, successes: 1 }],
        "{:?}",
        course1.evidence
    );
    assert_eq!(matcher_core::effect::beyond_history((1, 1), 1), (0, 0));
    let file = dir.0.join("history.csv");
    let (o, stdout, stderr) =
        run(&["history", "--db", &db, "--municipality", "851", "--out", file.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{stdout}{stderr}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("history.csv"),
        csv,
        "the CLI writes what the API answers"
    );
    let night = dir.0.join("night");
    let (o, stdout, stderr) = run(&[
        "batch",
        "--data",
        state.to_str().expect("utf-8"),
        "--out",
        night.to_str().expect("utf-8"),
        "--today",
        "2026-11-02",
    ]);
    assert!(o.status.success(), "{stdout}{stderr}");
    let quality = std::fs::read_to_string(night.join("quality.csv")).expect("quality.csv with outcomes");
    assert!(quality.lines().any(|l| l.contains("course-1") && l.contains("sickness")), "{quality}");

    // Episodes are append-only in the file too: history is not rewritten.
    let file = rusqlite::Connection::open(s.state.store.path()).expect("open the file");
    let update = file.execute("UPDATE episodes SET age_band = '60+' WHERE number = 1", []);
    assert!(update.is_err_and(|e| e.to_string().contains("append-only")));
    assert!(file.execute("DELETE FROM episodes", []).is_err());
}

/// Issue 13/18: a no-offer record reaches later estimates through the same coalesced scorer
/// refresh beside the request as an outcome (the catalogue is not rebuilt in the request: the
/// spatial index and the place counters stay the very same objects).
#[test]
fn a_no_offer_exit_is_reflected_in_later_estimates_without_a_rebuild() {
    // Estimates, not money: the course limit is off, so the suggestion is shown at any uplift.
    let s = start_config("history-exit-refresh", |c| {
        c.policies.national.limits.min_course_effect_high_dkk = None
    });
    seed_offers(&s, &[("course-1", 10)]);
    let cw = s.tokens.a_caseworker.clone();
    let d1 = accept(&s, &cw, "cand-a1", "course-1");
    let r = call(
        s.addr,
        "POST",
        "/v1/outcomes",
        Some(&cw),
        Some(&json!({"decision_id": d1, "result": "in_work"}).to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    s.state.catalogues.settle(&s.state.store).expect("settle");
    let sickness_effect = || {
        let q = call(s.addr, "GET", "/v1/offers/course-1/quality", Some(&cw), None);
        assert_eq!(q.status, 200, "{}", q.body);
        let g = q.body["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["target_group"] == "sickness"))
            .cloned()
            .expect("sickness");
        let e = g["effect"].clone();
        (e["no_offer_rate"].as_f64().expect("no-offer rate"), e["uplift"].as_f64().expect("uplift"))
    };
    let (rate_before, uplift_before) = sickness_effect();
    let before = s.state.catalogues.current();

    // Twelve comparable candidates left sickness benefit for work within four weeks without
    // any offer: candidates like them do well anyway, so the course's uplift must fall.
    let ids: Vec<String> = (1..=12).map(|n| format!("cand-x{n}")).collect();
    let rows: Vec<Value> = ids.iter().map(|id| candidate(id, "0851")).collect();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&cw), Some(&Value::Array(rows).to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    for id in &ids {
        let r = exit(&s, &cw, id, json!({"result": "in_work", "started": "2026-07-06", "weeks_to_exit": 4}));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    s.state.catalogues.settle(&s.state.store).expect("settle");
    let after = s.state.catalogues.current();
    assert!(after.version > before.version, "a new scorer: {} -> {}", before.version, after.version);
    assert!(std::sync::Arc::ptr_eq(&before.index, &after.index), "refreshed, not rebuilt: same index");
    assert!(std::sync::Arc::ptr_eq(&before.reserved, &after.reserved), "same place counters");
    let (rate_after, uplift_after) = sickness_effect();
    assert!(rate_after > rate_before + 0.02, "no-offer rate {rate_before} -> {rate_after}");
    assert!(uplift_after < uplift_before - 0.02, "uplift {uplift_before} -> {uplift_after}");
    // And the suggestions a caseworker sees afterwards carry the new estimate.
    let r =
        call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(r#"{"candidate_id": "cand-a2", "k": 1}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    let shown = r.body["suggestions"][0]["evidence"][0]["uplift"].as_f64().expect("uplift shown");
    assert!(shown < uplift_before - 0.02, "suggestion shows {shown}, before {uplift_before}");
}

/// The evidence an offer brought (a data set's `evidence` rows, here 2 of 2 for sickness)
/// stays information after the service records outcomes of that offer. The store's evidence
/// counts every outcome too, as a data set's `evidence` table counts the courses its
/// `outcomes` history holds (`data/README.md`), and the core takes the history's episodes out
/// of it once (`effect::beyond_history`). Before, the service took them out as well, so each
/// outcome took one more trial off the offer's own record: after two outcomes the record of
/// 2 of 2 was gone, and the quality route's uplift was exactly that of an offer without one.
#[test]
fn the_outcomes_of_an_offer_take_nothing_off_the_evidence_it_brought() {
    use matcher_core::effect::{EffectModel, Spread};
    use matcher_core::model::Evidence;
    let s = start_config("history-evidence-once", |c| {
        c.policies.national.limits.min_course_effect_high_dkk = None
    });
    seed_offers(&s, &[("course-1", 10)]);
    let cw = s.tokens.a_caseworker.clone();
    // The offer's record as a data set brings it (the demo loader and `--offers-from` add it).
    let record = matcher_service::server::store::EvidenceRow {
        offer_id: "course-1".into(),
        target_group: "sickness".into(),
        trials: 2,
        successes: 2,
    };
    s.state.store.add_evidence(&[record]).expect("the record");
    for candidate in ["cand-a1", "cand-a2"] {
        let d = accept(&s, &cw, candidate, "course-1");
        let body = json!({"decision_id": d, "result": "in_work"}).to_string();
        let r = call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&body));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    s.state.catalogues.rebuild(&s.state.store).expect("rebuild");
    let q = call(s.addr, "GET", "/v1/offers/course-1/quality", Some(&cw), None);
    assert_eq!(q.status, 200, "{}", q.body);
    let g = q.body["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["target_group"] == "sickness"))
        .cloned()
        .expect("sickness");
    assert_eq!((g["trials"].clone(), g["successes"].clone()), (json!(4), json!(4)), "{g}");
    assert_eq!(g["effect"]["episodes"], 2, "{g}");
    let shown = g["effect"]["uplift"].as_f64().expect("uplift");

    // What the core estimates from the same offers and history with a given evidence count,
    // as `matcher batch` does on a data set.
    let cat = s.state.catalogues.current();
    let reference = matcher_core::model::ReferenceData::embedded().expect("reference");
    let sickness = reference.group("sickness").expect("the sickness group");
    let o = cat.scorer.offer_index("course-1").expect("course-1") as usize;
    let estimate = |trials: u32, successes: u32| {
        let mut data = cat.scorer.data().clone();
        std::sync::Arc::make_mut(&mut data.offers[o]).evidence =
            vec![Evidence { group: sickness, trials, successes }];
        EffectModel::estimate(&data, &reference, Spread::default())
            .offer_uplift(o, usize::from(sickness.0))
            .mean
    };
    // The store's counts: the record and the two outcomes.
    let with_record = estimate(4, 4);
    // The two outcomes alone: no record brought.
    let without_record = estimate(2, 2);
    assert!(
        with_record > without_record + 1e-6,
        "the record is information: {with_record} vs {without_record}"
    );
    assert!(
        (shown - with_record).abs() < 1e-9,
        "the quality route's uplift {shown}: with the record {with_record}, without it {without_record}"
    );
}
