//! Issue 20, the team overview over real HTTP and a real SQLite file: the caseload plan run
//! through the service (preview, then applied: caseworkers stored, cases opened), decisions,
//! an outcome and an erasure that close cases, and `GET /v1/teams/{team}/overview` whose
//! figures are checked against the records behind them — the plan's answer, the decisions
//! list, the candidates' benefit dates and the `cases` table read straight from the file.

use crate::common::server::{Answer, Server, assert_problem, call, candidate, seed_offers, start_config};
use matcher_core::model::Date;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

fn today() -> Date {
    matcher_service::server::today_utc()
}

/// A candidate of municipality A on `benefit`, started `days_ago`.
fn citizen(id: &str, benefit: &str, days_ago: i32) -> Value {
    let mut c = candidate(id, "0851");
    let start = today().plus_days(-days_ago);
    c["benefit_kind"] = json!(benefit);
    c["benefit_start"] = json!(start.to_string());
    if benefit == "sickness_benefit" {
        c["benefit_end"] = json!(start.plus_days(7 * 22).to_string());
        c["target_groups"] = json!("sickness");
    } else {
        c.as_object_mut().map(|o| o.remove("benefit_end"));
        c["target_groups"] = json!("cash_longterm");
    }
    c
}

fn plan(s: &Server, token: &str, apply: bool) -> Answer {
    let body = json!({"apply": apply, "caseworkers": [
        {"id": "sb-1", "team": "nord", "cap": 3, "other_cases": 1, "specialities": ["sickness"]},
        {"id": "sb-2", "team": "nord", "cap": 4},
        {"id": "sb-3", "team": "syd", "cap": 2, "specialities": ["cash_longterm"]},
    ]});
    call(s.addr, "POST", "/v1/caseload-plans", Some(token), Some(&body.to_string()))
}

fn decide(s: &Server, candidate: &str, action: &str) -> i64 {
    let body = json!({"candidate_id": candidate, "offer_id": "course-1", "action": action, "reason": "talked it over"});
    let r = call(s.addr, "POST", "/v1/decisions", Some(&s.tokens.a_caseworker), Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_i64().expect("id")
}

#[test]
fn team_overview_figures_match_the_records_behind_them() {
    let s = start_config("team-overview", |c| c.today = None);
    seed_offers(&s, &[("course-1", 20)]);
    // Sickness benefit started 90, 70, 20 and 10 days ago (assessment at 56 days), two on
    // cash benefit; with the seed's cand-a1 and cand-a2 (sickness, started 2026-07-01).
    let ages = [("sick-90", 90), ("sick-70", 70), ("sick-20", 20), ("sick-10", 10)];
    let mut records: Vec<Value> = ages.iter().map(|(id, d)| citizen(id, "sickness_benefit", *d)).collect();
    records.push(citizen("cash-1", "cash_benefit", 400));
    records.push(citizen("cash-2", "cash_benefit", 800));
    let r = call(
        s.addr,
        "POST",
        "/v1/candidates",
        Some(&s.tokens.a_system),
        Some(&Value::Array(records).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // Roles and bad input: a caseworker may not run the plan; a bad code is named by pointer.
    assert_problem(&plan(&s, &s.tokens.a_caseworker, false), 403);
    let bad = json!({"caseworkers": [{"id": "sb-1", "team": "nord", "cap": 3, "specialities": ["nope"]}]});
    let r = call(s.addr, "POST", "/v1/caseload-plans", Some(&s.tokens.a_admin), Some(&bad.to_string()));
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/caseworkers/0/specialities/0", "{}", r.body);
    let cpr = json!({"caseworkers": [{"id": "0101901234", "team": "nord", "cap": 3}]});
    let r = call(s.addr, "POST", "/v1/caseload-plans", Some(&s.tokens.a_admin), Some(&cpr.to_string()));
    assert_problem(&r, 422);
    assert!(!r.body.to_string().contains("0101901234"), "a CPR-like id is never echoed: {}", r.body);

    // Preview: every one of the 8 candidates gets a caseworker (room: 2 + 4 + 2), nothing stored.
    let preview = plan(&s, &s.tokens.a_admin, false);
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["applied"], false);
    assert_eq!(preview.body["gap"], 0);
    assert_eq!(preview.body["proposals"].as_array().map(Vec::len), Some(8), "{}", preview.body);
    assert_problem(&call(s.addr, "GET", "/v1/teams/nord/overview", Some(&s.tokens.a_admin), None), 404);

    // Applied: the same plan, stored; a second run opens nothing more.
    let applied = plan(&s, &s.tokens.a_system, true);
    assert_eq!(applied.status, 201, "{}", applied.body);
    assert_eq!(applied.body["cases_opened"], 8);
    assert_eq!(applied.body["proposals"], preview.body["proposals"], "the preview is what was applied");
    let again = plan(&s, &s.tokens.a_system, true);
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["cases_opened"], 0);
    assert_eq!(again.body["proposals"].as_array().map(Vec::len), Some(0));
    // Loads are as balanced as the caps allow and never over a cap.
    for l in applied.body["caseworkers"].as_array().expect("loads") {
        assert!(l["after"].as_u64() <= l["cap"].as_u64(), "{l}");
    }
    let holder: HashMap<String, String> = applied.body["proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .map(|p| {
            (
                p["candidate_id"].as_str().unwrap().to_string(),
                p["caseworker_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (cw, after) in [("sb-1", 3), ("sb-2", 4), ("sb-3", 2)] {
        let load = applied.body["caseworkers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["caseworker_id"] == cw)
            .unwrap();
        assert_eq!(load["after"], after, "{load}");
    }

    // Acted on: sick-70 late (its assessment was 14 days ago), sick-20 in time; sick-10 declined
    // (in time). sick-20 is then in work: its case closes. cash-2 is erased: its case closes.
    decide(&s, "sick-70", "accept");
    let in_work = decide(&s, "sick-20", "accept");
    decide(&s, "sick-10", "decline");
    let body = json!({"decision_id": in_work, "result": "in_work"}).to_string();
    let r = call(s.addr, "POST", "/v1/outcomes", Some(&s.tokens.a_caseworker), Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = call(s.addr, "DELETE", "/v1/candidates/cash-2", Some(&s.tokens.a_admin), None);
    assert_eq!(r.status, 200, "{}", r.body);

    // The records behind the figures: decisions from the API, cases from the file.
    let r = call(s.addr, "GET", "/v1/decisions", Some(&s.tokens.a_admin), None);
    let mut first_decision: HashMap<String, Date> = HashMap::new();
    for d in r.body["decisions"].as_array().expect("decisions") {
        let day = Date::parse(&d["decided_at"].as_str().unwrap()[..10]).unwrap();
        let e = first_decision.entry(d["candidate_id"].as_str().unwrap().to_string()).or_insert(day);
        *e = (*e).min(day);
    }
    let db = rusqlite::Connection::open(s.state.store.path()).expect("open the file");
    let closed: BTreeMap<String, String> = db
        .prepare("SELECT candidate_id, closed_why FROM cases WHERE closed_at IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        closed,
        BTreeMap::from([("cash-2".into(), "erased".into()), ("sick-20".into(), "left_benefit".into())])
    );
    let starts: HashMap<&str, Option<i32>> = [
        ("sick-90", Some(90)),
        ("sick-70", Some(70)),
        ("sick-20", Some(20)),
        ("sick-10", Some(10)),
        ("cash-1", None),
        ("cash-2", None),
    ]
    .into_iter()
    .collect();
    let seed_start = Date::parse("2026-07-01").unwrap();

    let r = call(s.addr, "GET", "/v1/teams/nord/overview", Some(&s.tokens.a_caseworker), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let o = &r.body;
    assert_eq!(o["team"], "nord");
    assert_eq!(o["today"], today().to_string());
    assert_eq!(o["period"]["to"], today().to_string());
    let ids: Vec<&str> =
        o["caseworkers"].as_array().unwrap().iter().map(|c| c["caseworker_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["sb-1", "sb-2"], "by id, never by a figure");
    let (mut team_load, mut team_new, mut team_closed) = (0, 0, 0);
    for c in o["caseworkers"].as_array().unwrap() {
        let id = c["caseworker_id"].as_str().unwrap();
        let w = &c["workload"];
        let mine: Vec<&String> = holder.iter().filter(|(_, h)| *h == id).map(|(cand, _)| cand).collect();
        let closed_here = mine.iter().filter(|c| closed.contains_key(c.as_str())).count();
        let other = if id == "sb-1" { 1 } else { 0 };
        assert_eq!(w["caseload"], mine.len() - closed_here + other, "{id}: {w}");
        assert_eq!(w["new_cases"], mine.len(), "{id}: {w}");
        assert_eq!(w["closed_cases"], closed_here, "{id}: {w}");
        assert_eq!(
            w["median_days_closed_cases"],
            if closed_here > 0 { json!(0.0) } else { Value::Null },
            "{id}"
        );
        // Early action, recounted from the benefit dates and the decisions.
        let (mut cases, mut known, mut acted) = (0, 0, 0);
        for cand in &mine {
            if cand.as_str() == "cash-2" {
                continue; // erased: no benefit known any more
            }
            let start = match cand.as_str() {
                "cand-a1" | "cand-a2" => Some(seed_start),
                other => starts[other].map(|d| today().plus_days(-d)),
            };
            let Some(start) = start else { continue };
            cases += 1;
            let assessment = start.plus_days(56);
            let in_time = first_decision.get(cand.as_str()).is_some_and(|d| *d <= assessment);
            acted += u32::from(in_time);
            known += u32::from(in_time || assessment < today());
        }
        let e = &w["early_action"];
        assert_eq!(
            (e["cases"].as_u64(), e["known"].as_u64(), e["acted_before_assessment"].as_u64()),
            (Some(cases), Some(known.into()), Some(acted.into())),
            "{id}: {e}"
        );
        team_load += w["caseload"].as_u64().unwrap();
        team_new += w["new_cases"].as_u64().unwrap();
        team_closed += w["closed_cases"].as_u64().unwrap();
    }
    let t = &o["team_workload"];
    assert_eq!(
        (t["caseload"].as_u64(), t["new_cases"].as_u64(), t["closed_cases"].as_u64(), t["cap"].as_u64()),
        (Some(team_load), Some(team_new), Some(team_closed), Some(7))
    );

    // The period: cases opened today are not new in a period that ended yesterday.
    let yesterday = today().plus_days(-1);
    let r = call(
        s.addr,
        "GET",
        &format!("/v1/teams/nord/overview?from={}&to={yesterday}", yesterday.plus_days(-6)),
        Some(&s.tokens.a_admin),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["team_workload"]["new_cases"], 0);
    assert_eq!(r.body["team_workload"]["caseload"], t["caseload"], "the caseload is today's");

    // Access: another municipality sees no team, a provider no route; bad queries are named.
    assert_problem(&call(s.addr, "GET", "/v1/teams/nord/overview", Some(&s.tokens.b_caseworker), None), 404);
    assert_problem(&call(s.addr, "GET", "/v1/teams/nord/overview", Some(&s.tokens.a_provider), None), 403);
    assert_problem(&call(s.addr, "GET", "/v1/teams/vest/overview", Some(&s.tokens.a_admin), None), 404);
    let r = call(s.addr, "GET", "/v1/teams/nord/overview?from=2026-13-01", Some(&s.tokens.a_admin), None);
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/query/from");
    let r = call(
        s.addr,
        "GET",
        "/v1/teams/nord/overview?from=2026-02-01&to=2026-01-01",
        Some(&s.tokens.a_admin),
        None,
    );
    assert_problem(&r, 422);

    // The page for the team meeting, in both languages, framed as a workload picture.
    for (lang, words) in [("da", "ikke en rangliste"), ("en", "not a ranking")] {
        let r = call(
            s.addr,
            "GET",
            &format!("/v1/teams/nord/overview?format=html&lang={lang}"),
            Some(&s.tokens.a_caseworker),
            None,
        );
        assert_eq!(r.status, 200);
        assert!(r.headers.contains("content-type: text/html"), "{}", r.headers);
        assert!(r.headers.contains("content-security-policy: default-src 'none'"), "{}", r.headers);
        let page = r.body.as_str().map(str::to_string).unwrap_or_else(|| r.body.to_string());
        assert!(page.contains(&format!("<html lang=\"{lang}\"")), "{page}");
        assert!(page.contains(words), "{page}");
        let (one, two) = (page.find(">sb-1<").expect("sb-1"), page.find(">sb-2<").expect("sb-2"));
        assert!(one < two, "caseworkers in id order");
        assert!(!page.contains("<script"), "the page runs no script");
    }
}
