//! Issue 16, the orderer's side over real HTTP and a real SQLite file: the provider registry
//! (loaded from a data set, written by a provider's home municipality), contracts written only
//! by the municipality that holds them (bad ones refused with a problem naming the field, and
//! nothing written), the overview of providers × target groups and of spend from decisions
//! actually made (JSON and CSV), and the provider's view: a provider token bound to one
//! provider reads the decisions about its own offers and comments on them, and every other
//! door answers 403 or, for another provider's or tenant's id, exactly like an unknown id (404).

use crate::common::server::{
    A, Answer, B, Server, assert_problem, batch_run, call, candidate, offer, start, temp_dir,
};
use matcher_service::server::auth::{Role, create_provider_token, create_token};
use serde_json::{Value, json};
use std::io::{Read, Write};

fn post(s: &Server, path: &str, token: &str, body: &Value) -> Answer {
    call(s.addr, "POST", path, Some(token), Some(&body.to_string()))
}

fn get(s: &Server, path: &str, token: &str) -> Answer {
    call(s.addr, "GET", path, Some(token), None)
}

/// A GET with `Accept: text/csv`; the body as text.
fn get_csv(s: &Server, path: &str, token: &str) -> (u16, String, String) {
    let mut stream = std::net::TcpStream::connect(s.addr).expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\nauthorization: Bearer {token}\r\naccept: text/csv\r\n\r\n",
        s.addr
    );
    stream.write_all(req.as_bytes()).expect("send");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn offer_of(id: &str, provider: &str, capacity: u32, price: u32) -> Value {
    let mut o = offer(id, capacity);
    o["provider_id"] = json!(provider);
    o["price_dkk"] = json!(price);
    // The contracts say how each course is bought (the offer's own column would have to agree).
    o.as_object_mut().map(|m| m.remove("contract"));
    o
}

/// Providers lev-0001 (course-1 at 12,000, course-2 at 12,000) and lev-0002 (course-3 at
/// 20,000), all of municipality A and in the registry; candidates a1, a2, a3 in A and b1 in B.
fn seed(s: &Server) -> String {
    let sys = s.tokens.a_system.clone();
    let offers = json!([
        offer_of("course-1", "lev-0001", 10, 12000),
        offer_of("course-2", "lev-0001", 5, 12000),
        offer_of("course-3", "lev-0002", 5, 20000)
    ]);
    assert_eq!(post(s, "/v1/offers", &sys, &offers).status, 200);
    let providers = json!([
        {"id": "lev-0001", "name": "Vejen Videre ApS (invented)", "municipality": "0851", "contact": "Visitation, 98 00 00 01"},
        {"id": "lev-0002", "name": "Mentorhuset (invented)", "municipality": "851"}
    ]);
    let r = post(s, "/v1/providers", &sys, &providers);
    assert_eq!(r.status, 200, "{}", r.body);
    let a = json!([candidate("cand-a1", "0851"), candidate("cand-a2", "0851"), candidate("cand-a3", "0851")]);
    assert_eq!(post(s, "/v1/candidates", &sys, &a).status, 200);
    let b_sys = create_token(&s.state.store, B, Role::System, "sys-b").expect("token");
    assert_eq!(post(s, "/v1/candidates", &b_sys, &json!([candidate("cand-b1", "0101")])).status, 200);
    b_sys
}

fn accept(s: &Server, token: &str, candidate: &str, offer: &str) -> i64 {
    let body = json!({"candidate_id": candidate, "offer_id": offer, "action": "accept",
                      "reason": "near home, fits the plan", "suggested_offer_ids": [offer, "course-3"]});
    let r = post(s, "/v1/decisions", token, &body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_i64().expect("id")
}

fn contract(id: &str) -> Value {
    json!({"id": id, "provider_id": "lev-0001", "kind": "strategic_partner", "offers": ["course-2"],
           "price_dkk": 9000, "places": 20, "guaranteed_volume": 5,
           "start": "2026-01-01", "end": "2030-12-31"})
}

fn count(s: &Server, sql: &str) -> i64 {
    let db = rusqlite::Connection::open(s.state.store.path()).expect("open the file");
    db.query_row(sql, [], |r| r.get(0)).expect("count")
}

#[test]
fn the_registry_is_loaded_from_a_data_set_and_written_only_by_a_providers_home_municipality() {
    let s = start("orderer-registry");
    // A data set's providers fill the registry when it is loaded (as --demo and --offers-from do).
    let reference = s.state.catalogues.reference().clone();
    let data = matcher_core::generate(matcher_core::Scale::Demo, 1, &reference);
    matcher_service::server::load_dataset(&s.state, &data).expect("load");
    let all = get(&s, "/v1/providers?limit=1000", &s.tokens.a_provider);
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["total"].as_u64(), Some(data.providers.len() as u64), "{}", all.body);
    let first = &data.providers[0];
    let one = get(&s, &format!("/v1/providers/{}", first.id), &s.tokens.a_caseworker);
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["name"], first.name.as_str());
    assert_eq!(one.body["municipality"], format!("{:04}", first.municipality.0));
    assert_eq!(one.body["contact"], json!(first.contact));
    assert!(!one.body["offer_ids"].as_array().expect("offers").is_empty(), "{}", one.body);
    // The quality routes name the provider from the registry (issue 13 meets issue 16).
    let q = get(&s, &format!("/v1/providers/{}/quality", first.id), &s.tokens.a_caseworker);
    assert_eq!(q.status, 200, "{}", q.body);
    assert_eq!(q.body["provider_name"], first.name.as_str(), "{}", q.body);
    assert_ne!(first.name, first.id.to_string(), "the test needs a name other than the id");
    // Filters: home municipality and kind of offer, each checked against every answer row.
    let home = first.municipality.0;
    let r = get(
        &s,
        &format!("/v1/providers?municipality={home:04}&kind=provider&limit=1000"),
        &s.tokens.a_system,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = r.body["providers"].as_array().expect("rows");
    let expected = data
        .providers
        .iter()
        .filter(|p| p.municipality.0 == home)
        .filter(|p| {
            data.offers
                .iter()
                .any(|o| o.provider == p.id && o.kind == matcher_core::model::OfferKind::Provider)
        })
        .count();
    assert_eq!(rows.len(), expected, "{}", r.body);
    assert!(rows.iter().all(|p| p["municipality"] == format!("{home:04}")
        && p["kinds"].as_array().expect("kinds").contains(&json!("provider"))));
    assert_problem(&get(&s, "/v1/providers?kind=course", &s.tokens.a_system), 422);
    assert_problem(&get(&s, "/v1/providers?municipality=9999", &s.tokens.a_system), 422);
    assert_problem(&get(&s, "/v1/providers/lev-unknown", &s.tokens.a_system), 404);

    // Writing: the home municipality's system or admin; a contact is added, the name changed.
    let mine = json!([{"id": "lev-9001", "name": "Ny Start (invented)", "municipality": "0851", "contact": "Kontoret, 98 00 00 02"}]);
    assert_eq!(post(&s, "/v1/providers", &s.tokens.a_admin, &mine).status, 200);
    assert_eq!(
        get(&s, "/v1/providers/lev-9001", &s.tokens.a_provider).body["contact"],
        "Kontoret, 98 00 00 02"
    );
    assert_problem(&post(&s, "/v1/providers", &s.tokens.a_caseworker, &mine), 403);
    assert_problem(&post(&s, "/v1/providers", &s.tokens.a_provider, &mine), 403);
    // Another municipality may neither name itself home of A's provider nor write for A.
    let b_admin = create_token(&s.state.store, B, Role::Admin, "admin-b").expect("token");
    let theirs = json!([{"id": "lev-9001", "name": "Taken over", "municipality": "0101"}]);
    assert_problem(&post(&s, "/v1/providers", &b_admin, &theirs), 403);
    let r = post(&s, "/v1/providers", &b_admin, &mine);
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/0/municipality", "{}", r.body);
    let r = post(
        &s,
        "/v1/providers",
        &s.tokens.a_admin,
        &json!([{"id": "0101901234", "name": "x", "municipality": "0851"}]),
    );
    assert_problem(&r, 422);
    assert!(!r.body.to_string().contains("0101901234"), "a CPR-like id is never echoed: {}", r.body);
    assert_eq!(get(&s, "/v1/providers/lev-9001", &s.tokens.a_system).body["name"], "Ny Start (invented)");
}

#[test]
fn contracts_are_written_only_by_the_municipality_that_holds_them_and_bad_ones_write_nothing() {
    let s = start("orderer-contracts");
    seed(&s);
    let admin = s.tokens.a_admin.clone();
    let r = post(&s, "/v1/contracts", &admin, &contract("k-1"));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["municipality"], "0851");
    assert_eq!(r.body["status"], "in_force");
    assert_eq!(r.body["written_by"], "admin-a");
    let mut replaced = contract("k-1");
    replaced["price_dkk"] = json!(9500);
    let r = post(&s, "/v1/contracts", &s.tokens.a_system, &replaced);
    assert_eq!(r.status, 200, "{}", r.body);
    let before = get(&s, "/v1/contracts", &s.tokens.a_caseworker);
    assert_eq!(before.body["contracts"].as_array().map(Vec::len), Some(1), "{}", before.body);
    assert_eq!(before.body["contracts"][0]["price_dkk"], 9500);
    let rows_before =
        count(&s, "SELECT count(*) FROM contracts") + count(&s, "SELECT count(*) FROM contract_offers");

    // Each bad contract: 422 naming the field and the value, and nothing written.
    let bad = |field: &str, value: Value| {
        let mut c = contract("k-bad");
        c[field] = value;
        c
    };
    for (body, path) in [
        (bad("municipality", json!("0101")), "/municipality"),
        (bad("guaranteed_volume", json!(30)), "/guaranteed_volume"),
        (bad("end", json!("2025-12-31")), "/end"),
        (bad("provider_id", json!("lev-7777")), "/provider_id"),
        (bad("offers", json!(["course-3"])), "/offers/0"),
        (bad("offers", json!(["course-404"])), "/offers/0"),
        (bad("start", json!("2026-02-30")), "/start"),
        (bad("guaranteed_volume", json!(8)), "/guaranteed_volume"),
        (bad("offers", json!([])), "/offers"),
    ] {
        let r = post(&s, "/v1/contracts", &admin, &body);
        assert_problem(&r, 422);
        let paths: Vec<&str> =
            r.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["path"].as_str()).collect();
        assert!(paths.contains(&path), "{path}: {}", r.body);
    }
    let mut specialist = bad("kind", json!("specialist"));
    specialist["guaranteed_volume"] = json!(0);
    let r = post(&s, "/v1/contracts", &admin, &specialist);
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/target_groups", "a specialist names its groups: {}", r.body);
    // The same offer under a second contract in an overlapping period (the core's rule).
    let r = post(&s, "/v1/contracts", &admin, &contract("k-overlap"));
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/offers/0", "{}", r.body);
    assert!(r.body["errors"][0]["reason"].as_str().is_some_and(|t| t.contains("k-1")), "{}", r.body);
    let r = post(&s, "/v1/contracts", &admin, &bad("kind", json!("preferred")));
    assert_problem(&r, 422);
    let mut buffer = bad("kind", json!("buffer"));
    buffer["guaranteed_volume"] = json!(3);
    let r = post(&s, "/v1/contracts", &admin, &buffer);
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/guaranteed_volume", "{}", r.body);
    // Roles: a caseworker, an auditor or a provider never writes a contract.
    for token in [&s.tokens.a_caseworker, &s.tokens.a_auditor, &s.tokens.a_provider] {
        assert_problem(&post(&s, "/v1/contracts", token, &contract("k-2")), 403);
    }
    let after =
        count(&s, "SELECT count(*) FROM contracts") + count(&s, "SELECT count(*) FROM contract_offers");
    assert_eq!(after, rows_before, "refused contracts wrote nothing");
    assert_eq!(get(&s, "/v1/contracts", &s.tokens.a_caseworker).body, before.body);

    // Another municipality sees none of A's contracts, and its contract of the same id is its own.
    let b_admin = create_token(&s.state.store, B, Role::Admin, "admin-b").expect("token");
    let r = get(&s, "/v1/contracts", &b_admin);
    assert_eq!(r.body["contracts"], json!([]), "{}", r.body);
    // The provider reads A's contracts with itself only.
    assert_eq!(
        get(&s, "/v1/contracts", &s.tokens.a_provider).body["contracts"].as_array().map(Vec::len),
        Some(1)
    );
    let other = create_provider_token(&s.state.store, A, "lev-0002", "prov-2").expect("token");
    assert_eq!(get(&s, "/v1/contracts", &other).body["contracts"], json!([]));
    assert_eq!(get(&s, "/v1/contracts?provider_id=lev-0001", &other).body["contracts"], json!([]));
    assert_eq!(get(&s, "/v1/contracts?kind=buffer", &s.tokens.a_admin).body["contracts"], json!([]));
}

/// The overview's row for a provider and group, from a JSON answer.
fn row<'a>(overview: &'a Value, provider: &str, group: &str) -> &'a Value {
    overview["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["provider_id"] == provider && r["target_group"] == group)
        .unwrap_or_else(|| panic!("no row {provider} × {group} in {overview}"))
}

#[test]
fn the_overview_counts_decisions_actually_made_with_contract_prices_and_the_supplier_tail() {
    let s = start("orderer-overview");
    let b_sys = seed(&s);
    let cw = s.tokens.a_caseworker.clone();
    assert_eq!(post(&s, "/v1/contracts", &s.tokens.a_admin, &contract("k-1")).status, 201);
    // Proposals are not spend: a batch run proposes (it has finished, and proposed), nobody
    // decides yet.
    let run = batch_run(&s, &cw);
    let proposals = get(&s, &format!("/v1/batch-runs/{run}/proposals"), &cw);
    assert!(
        proposals.body["proposals"].as_array().is_some_and(|p| !p.is_empty()),
        "the run proposed nothing: {}",
        proposals.body
    );
    let o = get(&s, "/v1/overview/providers", &s.tokens.a_admin);
    assert_eq!(o.status, 200, "{}", o.body);
    assert_eq!(
        (o.body["scope"].clone(), o.body["spend_dkk"].clone()),
        (json!("municipality"), json!(0)),
        "{}",
        o.body
    );
    assert_eq!(row(&o.body, "lev-0001", "sickness")["places"], 15, "{}", o.body);
    assert_eq!(row(&o.body, "lev-0001", "sickness")["contract"], "strategic_partner");
    assert_eq!(row(&o.body, "lev-0001", "sickness")["provider_name"], "Vejen Videre ApS (invented)");
    assert!(row(&o.body, "lev-0002", "sickness")["contract"].is_null());
    // Quality is the effect over no offer with its interval, as the provider's quality route
    // reads it (one reading), and the answer says so.
    assert!(
        o.body["quality_basis"].as_str().is_some_and(|b| b.contains("uplift over no offer")),
        "{}",
        o.body
    );
    let effect = &row(&o.body, "lev-0001", "sickness")["quality"]["effect"];
    // No history in this world: the estimate alone, no observed rate, the interval around it.
    assert_eq!(
        (effect["episodes"].clone(), effect["observed_rate"].clone()),
        (json!(0), json!(null)),
        "{effect}"
    );
    let [low, high] = [0, 1].map(|i| effect["uplift_interval_90"][i].as_f64().expect("interval"));
    let uplift = effect["uplift"].as_f64().expect("uplift");
    assert!(low <= uplift && uplift <= high, "{effect}");

    // Three accepts in A: course-1 at its list price, course-2 at the contract's 9,000,
    // course-3 at 20,000; one in B (not A's spend); then one of A's withdrawn.
    accept(&s, &cw, "cand-a1", "course-1");
    accept(&s, &cw, "cand-a2", "course-2");
    let third = accept(&s, &cw, "cand-a3", "course-3");
    let b_cw = create_token(&s.state.store, B, Role::Caseworker, "cw-b").expect("token");
    let _ = b_sys;
    accept(&s, &b_cw, "cand-b1", "course-1");
    let o = get(&s, "/v1/overview/providers", &cw).body;
    let r1 = row(&o, "lev-0001", "sickness");
    assert_eq!(
        (r1["accepted"].clone(), r1["held"].clone(), r1["spend_dkk"].clone()),
        (json!(2), json!(2), json!(21000)),
        "{o}"
    );
    assert_eq!(r1["price_dkk"], 10500);
    assert_eq!(row(&o, "lev-0002", "sickness")["spend_dkk"], 20000);
    assert_eq!(o["spend_dkk"], 41000);
    // Largest spend first.
    assert_eq!(o["rows"][0]["provider_id"], "lev-0001", "{o}");
    let w = post(
        &s,
        &format!("/v1/decisions/{third}/withdrawal"),
        &cw,
        &json!({"reason": "the course was cancelled"}),
    );
    assert_eq!(w.status, 201, "{}", w.body);
    let o = get(&s, "/v1/overview/providers", &cw).body;
    assert_eq!(row(&o, "lev-0002", "sickness")["accepted"], 0, "a withdrawn accept is not spend: {o}");
    assert_eq!(o["spend_dkk"], 21000);
    // An outcome gives the place back (held falls), the course stays bought (spend stays):
    // the overview follows every change of the ledger, even between two identical asks.
    let first =
        get(&s, "/v1/decisions?candidate_id=cand-a1", &cw).body["decisions"][0]["id"].as_i64().expect("id");
    let r = post(&s, "/v1/outcomes", &cw, &json!({"decision_id": first, "result": "in_work"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let o = get(&s, "/v1/overview/providers", &cw).body;
    let r1 = row(&o, "lev-0001", "sickness");
    assert_eq!(
        (r1["accepted"].clone(), r1["held"].clone(), r1["spend_dkk"].clone()),
        (json!(2), json!(1), json!(21000)),
        "{o}"
    );
    // Filters and paging.
    let f = get(&s, "/v1/overview/providers?provider_id=lev-0002&target_group=sickness", &cw).body;
    assert_eq!((f["total"].clone(), f["rows"].as_array().map(Vec::len)), (json!(1), Some(1)), "{f}");
    let f = get(&s, "/v1/overview/providers?contract=strategic_partner", &cw).body;
    assert!(f["rows"].as_array().expect("rows").iter().all(|r| r["provider_id"] == "lev-0001"), "{f}");
    let f = get(&s, "/v1/overview/providers?limit=1&offset=1", &cw).body;
    assert_eq!(f["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(f["rows"][0], get(&s, "/v1/overview/providers", &cw).body["rows"][1]);
    assert_problem(&get(&s, "/v1/overview/providers?contract=cheap", &cw), 422);
    assert_problem(&get(&s, "/v1/overview/providers?limit=0", &cw), 422);

    // CSV: the same rows, header first.
    let (status, head, body) = get_csv(&s, "/v1/overview/providers", &cw);
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("content-type: text/csv"), "{head}");
    let mut lines = body.lines();
    assert!(lines.next().expect("header").starts_with(
        "provider_id,provider_name,target_group,offers,places,accepted,held,price_dkk,spend_dkk,contract"
    ));
    let first: Vec<&str> = lines.next().expect("a row").split(',').collect();
    assert_eq!(
        (first[0], first[2], first[5], first[8], first[9]),
        ("lev-0001", "sickness", "2", "21000", "strategic_partner"),
        "{body}"
    );

    // National: the admin only, and it sums every municipality (B's accept included).
    assert_problem(&get(&s, "/v1/overview/providers?scope=national", &cw), 403);
    assert_problem(&get(&s, "/v1/overview/spend?scope=national", &s.tokens.a_auditor), 403);
    let n = get(&s, "/v1/overview/providers?scope=national", &s.tokens.a_admin).body;
    assert_eq!(n["scope"], "national");
    assert!(n["municipality"].is_null());
    assert_eq!(row(&n, "lev-0001", "sickness")["accepted"], 3, "{n}");
    // Another municipality's withdrawal changes the national figures (never A's own).
    let b_decision = get(&s, "/v1/decisions", &b_cw).body["decisions"][0]["id"].as_i64().expect("id");
    let w =
        post(&s, &format!("/v1/decisions/{b_decision}/withdrawal"), &b_cw, &json!({"reason": "moved away"}));
    assert_eq!(w.status, 201, "{}", w.body);
    let n = get(&s, "/v1/overview/providers?scope=national", &s.tokens.a_admin).body;
    assert_eq!(row(&n, "lev-0001", "sickness")["accepted"], 2, "{n}");
    assert_eq!(row(&get(&s, "/v1/overview/providers", &cw).body, "lev-0001", "sickness")["accepted"], 2);
    accept(&s, &b_cw, "cand-b1", "course-1");

    // Spend per period from decisions made: this month, two providers, one carries 80 %? No:
    // 12,000 + 9,000 to lev-0001 only (lev-0002's accept was withdrawn), so one provider.
    let month = &matcher_service::server::store::now_rfc3339()[..7];
    let sp = get(&s, "/v1/overview/spend?period=month", &s.tokens.a_system).body;
    assert_eq!(
        sp["periods"],
        json!([{"period": month, "accepted": 2, "spend_dkk": 21000, "providers": 1,
        "providers_for_80_percent": 1, "contracted_spend_dkk": 9000}]),
        "{sp}"
    );
    let q = get(&s, "/v1/overview/spend?period=quarter", &s.tokens.a_system).body;
    assert!(q["periods"][0]["period"].as_str().is_some_and(|p| p.contains("-Q")), "{q}");
    let y = get(&s, "/v1/overview/spend?period=year&scope=national", &s.tokens.a_admin).body;
    assert_eq!(y["periods"][0]["spend_dkk"], 33000, "B's accept counts nationally: {y}");
    assert_problem(&get(&s, "/v1/overview/spend?period=week", &cw), 422);
    assert_problem(&get(&s, "/v1/overview/spend", &s.tokens.a_provider), 403);
    // B's own figures hold only B's accept.
    let b_admin = create_token(&s.state.store, B, Role::Admin, "admin-b").expect("token");
    let sb = get(&s, "/v1/overview/spend", &b_admin).body;
    assert_eq!(sb["periods"][0]["spend_dkk"], 12000, "{sb}");
    assert_eq!(sb["municipality"], "0101");
}

#[test]
fn a_provider_sees_its_own_decisions_and_comments_and_nothing_else() {
    let s = start("orderer-provider");
    seed(&s);
    let cw = s.tokens.a_caseworker.clone();
    let p1 = s.tokens.a_provider.clone(); // bound to lev-0001
    let p2 = create_provider_token(&s.state.store, A, "lev-0002", "prov-2").expect("token");
    let d1 = accept(&s, &cw, "cand-a1", "course-1");
    let d2 = accept(&s, &cw, "cand-a2", "course-3");

    // Its own decisions: pseudonymous, no reason, decider or other offers suggested.
    let own = get(&s, "/v1/providers/lev-0001/decisions", &p1);
    assert_eq!(own.status, 200, "{}", own.body);
    let list = own.body["decisions"].as_array().expect("decisions");
    assert_eq!(list.len(), 1, "{}", own.body);
    assert_eq!((list[0]["id"].as_i64(), list[0]["candidate_id"].as_str()), (Some(d1), Some("cand-a1")));
    let text = own.body.to_string();
    for hidden in ["near home", "cw-a", "suggested", "course-3", "decided_by", "reason"] {
        assert!(!text.contains(hidden), "{hidden} shown to the provider: {text}");
    }
    // Another provider's decisions answer exactly like an unknown provider's.
    let other = get(&s, "/v1/providers/lev-0002/decisions", &p1);
    let unknown = get(&s, "/v1/providers/lev-9999/decisions", &p1);
    assert_problem(&other, 404);
    assert_problem(&unknown, 404);
    assert_eq!(
        (other.body["type"].clone(), other.body["detail"].clone()),
        (unknown.body["type"].clone(), unknown.body["detail"].clone())
    );

    // Comments: on its own decision yes; on another provider's, another tenant's or an unknown
    // decision it is 404 alike, and nothing is written.
    let c = post(
        &s,
        &format!("/v1/decisions/{d1}/comments"),
        &p1,
        &json!({"text": "Started; first interview held."}),
    );
    assert_eq!(c.status, 201, "{}", c.body);
    assert_eq!(
        (c.body["provider_id"].clone(), c.body["role"].clone(), c.body["author"].clone()),
        (json!("lev-0001"), json!("provider"), json!("prov-a"))
    );
    let on_other = post(&s, &format!("/v1/decisions/{d2}/comments"), &p1, &json!({"text": "not mine"}));
    let on_unknown = post(&s, "/v1/decisions/999/comments", &p1, &json!({"text": "nobody's"}));
    assert_problem(&on_other, 404);
    assert_problem(&on_unknown, 404);
    assert_eq!(on_other.body["detail"], on_unknown.body["detail"]);
    assert_problem(&get(&s, &format!("/v1/decisions/{d2}/comments"), &p1), 404);
    assert_eq!(
        post(&s, &format!("/v1/decisions/{d2}/comments"), &p2, &json!({"text": "Mentor assigned."})).status,
        201
    );
    // A CPR number in a comment is refused and not echoed.
    let r = post(
        &s,
        &format!("/v1/decisions/{d1}/comments"),
        &p1,
        &json!({"text": "borger 010190-1234 mødte op"}),
    );
    assert_problem(&r, 422);
    assert!(!r.body.to_string().contains("010190"), "{}", r.body);
    assert_problem(&post(&s, &format!("/v1/decisions/{d1}/comments"), &p1, &json!({"text": "  "})), 422);
    assert_eq!(count(&s, "SELECT count(*) FROM decision_comments"), 2);

    // The municipality's caseworker reads the provider's comment on its decision and answers.
    let r = get(&s, &format!("/v1/decisions/{d1}/comments"), &cw);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["comments"][0]["text"], "Started; first interview held.");
    assert_eq!(
        post(&s, &format!("/v1/decisions/{d1}/comments"), &cw, &json!({"text": "Thanks, noted."})).status,
        201
    );
    let r = get(&s, &format!("/v1/decisions/{d1}/comments"), &p1);
    let texts: Vec<&str> =
        r.body["comments"].as_array().expect("comments").iter().filter_map(|c| c["text"].as_str()).collect();
    assert_eq!(texts, ["Started; first interview held.", "Thanks, noted."], "{}", r.body);
    // The other provider never sees lev-0001's comments, nor lev-0001 its.
    assert!(!get(&s, &format!("/v1/decisions/{d2}/comments"), &p2).body.to_string().contains("interview"));
    assert_eq!(get(&s, "/v1/providers/lev-0001/decisions", &p1).body["decisions"][0]["comments"], 2);
    // Another municipality's caseworker: the same number is not its decision.
    let b_cw = create_token(&s.state.store, B, Role::Caseworker, "cw-b").expect("token");
    assert_problem(&get(&s, &format!("/v1/decisions/{d1}/comments"), &b_cw), 404);
    assert_problem(&post(&s, &format!("/v1/decisions/{d1}/comments"), &b_cw, &json!({"text": "x"})), 404);
    // An auditor or system reads comments, never writes them.
    assert_eq!(get(&s, &format!("/v1/decisions/{d1}/comments"), &s.tokens.a_auditor).status, 200);
    assert_problem(
        &post(&s, &format!("/v1/decisions/{d1}/comments"), &s.tokens.a_system, &json!({"text": "x"})),
        403,
    );

    // Comments are append-only in the file itself.
    let db = rusqlite::Connection::open(s.state.store.path()).expect("open");
    assert!(db.execute("UPDATE decision_comments SET text = 'changed'", []).is_err());
    assert!(db.execute("DELETE FROM decision_comments", []).is_err());

    // The provider's overview is its own rows only.
    let o = get(&s, "/v1/overview/providers", &p1).body;
    assert!(o["rows"].as_array().expect("rows").iter().all(|r| r["provider_id"] == "lev-0001"), "{o}");
    assert_eq!(get(&s, "/v1/overview/providers?provider_id=lev-0002", &p1).body["total"], 0);
    assert_problem(&get(&s, "/v1/overview/providers?scope=national", &p1), 403);

    // Every other door: never decide, never read candidates or the tenant's decisions.
    let decide =
        json!({"candidate_id": "cand-a3", "offer_id": "course-1", "action": "accept", "reason": "x"});
    assert_problem(&post(&s, "/v1/decisions", &p1, &decide), 403);
    assert_problem(&post(&s, &format!("/v1/decisions/{d1}/withdrawal"), &p1, &json!({"reason": "x"})), 403);
    assert_problem(&post(&s, "/v1/outcomes", &p1, &json!({"decision_id": d1, "result": "in_work"})), 403);
    for path in [
        "/v1/candidates".to_string(),
        "/v1/candidates/cand-a1".to_string(),
        "/v1/candidates/cand-a1/export".to_string(),
        "/v1/decisions".to_string(),
        format!("/v1/decisions/{d1}"),
        "/v1/audit/access".to_string(),
    ] {
        assert_problem(&get(&s, &path, &p1), 403);
    }
    assert_problem(&post(&s, "/v1/suggestions", &p1, &json!({"candidate_id": "cand-a1"})), 403);
    assert_eq!(count(&s, "SELECT count(*) FROM decisions"), 2, "the provider wrote no decision");

    // A provider token bound to no provider reads nothing of a provider's own.
    let unbound = create_token(&s.state.store, A, Role::Provider, "prov-unbound").expect("token");
    assert_problem(&get(&s, "/v1/providers/lev-0001/decisions", &unbound), 403);
    assert_problem(&post(&s, &format!("/v1/decisions/{d1}/comments"), &unbound, &json!({"text": "x"})), 403);
    assert_problem(&get(&s, "/v1/overview/providers", &unbound), 403);
    // The municipality's staff read the provider's view of any provider of theirs.
    let r = get(&s, "/v1/providers/lev-0002/decisions", &cw);
    assert_eq!(r.body["decisions"][0]["id"].as_i64(), Some(d2), "{}", r.body);
}

#[test]
fn token_create_binds_a_provider_token_to_a_known_provider() {
    let s = start("orderer-cli");
    seed(&s);
    let d1 = accept(&s, &s.tokens.a_caseworker, "cand-a1", "course-1");
    let db = s.state.store.path().to_path_buf();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_matcher"))
            .args(["token", "create", "--municipality", "0851", "--user", "lev-user", "--db"])
            .arg(&db)
            .args(extra)
            .output()
            .expect("token create")
    };
    let without = run(&["--role", "provider"]);
    assert!(!without.status.success());
    assert!(
        String::from_utf8_lossy(&without.stderr).contains("--provider"),
        "{}",
        String::from_utf8_lossy(&without.stderr)
    );
    assert!(!run(&["--role", "provider", "--provider", "lev-7777"]).status.success(), "unknown provider");
    assert!(
        !run(&["--role", "caseworker", "--provider", "lev-0001"]).status.success(),
        "only providers are bound"
    );
    let ok = run(&["--role", "provider", "--provider", "lev-0001"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let token = String::from_utf8_lossy(&ok.stdout).trim().to_string();
    let r = get(&s, "/v1/providers/lev-0001/decisions", &token);
    assert_eq!(r.body["decisions"][0]["id"].as_i64(), Some(d1), "{}", r.body);
    assert_problem(&get(&s, "/v1/providers/lev-0002/decisions", &token), 404);
    let list = std::process::Command::new(env!("CARGO_BIN_EXE_matcher"))
        .args(["token", "list", "--db"])
        .arg(&db)
        .output()
        .expect("list");
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.lines().any(|l| l.contains("\tprovider\tlev-user\t") && l.ends_with("\tlev-0001")),
        "{text}"
    );
    let _ = temp_dir;
}
