//! What a data protection officer and an IT department check, route by route from the live
//! `/openapi.json`: another municipality's tokens, of every role, reach none of a tenant's
//! candidates, decisions, batch runs, comments, teams or logs (each answer is the answer to an
//! unknown id, or holds none of the tenant's rows) and change nothing of them; and each role
//! reaches only the routes `docs/service.md` gives it, a refused call changing nothing.

use crate::common::server::{Server, batch_run, call, decide, open_db, rows_as_text, seed, start};
use matcher_service::server::auth::{Role, create_provider_token, create_token};
use serde_json::{Value, json};

/// Every row of the database whose `municipality` is not `skip` (tables without the column:
/// every row), as text, table by table, after the log writer's queue is flushed: what a call
/// may not change.
fn snapshot(s: &Server, skip: u16) -> Vec<(String, Vec<String>)> {
    s.state.audit_log.flush();
    let db = open_db(&s._dir.0.join("matcher.db"));
    // Both files: the records' and the logs' (attached as `logs`).
    let mut tables: Vec<(String, String)> = db
        .prepare(
            "SELECT 'main', name FROM main.sqlite_master WHERE type = 'table'
             UNION ALL SELECT 'logs', name FROM logs.sqlite_master WHERE type = 'table' ORDER BY 1, 2",
        )
        .expect("tables")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("names");
    // Tokens are the harness's; a retention gate is empty outside a sweep.
    tables.retain(|(_, t)| t != "tokens" && t != "sqlite_sequence");
    tables
        .into_iter()
        .map(|(schema, table)| {
            let has_m: bool = db
                .query_row(
                    &format!(
                        "SELECT count(*) > 0 FROM pragma_table_info('{table}', '{schema}') WHERE name = 'municipality'"
                    ),
                    [],
                    |r| r.get(0),
                )
                .expect("columns");
            let sql = if has_m {
                format!("SELECT * FROM {schema}.{table} WHERE municipality != {skip} ORDER BY rowid")
            } else {
                format!("SELECT * FROM {schema}.{table} ORDER BY rowid")
            };
            let rows = rows_as_text(&db, &sql);
            (table, rows)
        })
        .collect()
}

/// Municipality A with something behind every kind of id: candidates, an accept (decision 1)
/// with a provider's comment, a decline (2), a suggestion list, a no-offer exit, a finished
/// batch run (1), a contract, and applied caseloads in team `nord`.
fn tenant_a(s: &Server) {
    seed(s);
    let r = call(
        s.addr,
        "POST",
        "/v1/suggestions",
        Some(&s.tokens.a_caseworker),
        Some(r#"{"candidate_id": "cand-a1"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let d1 = decide(s, &s.tokens.a_caseworker, "cand-a1", "course-1", "accept");
    assert_eq!((d1.status, d1.body["id"].as_i64()), (201, Some(1)), "{}", d1.body);
    let d2 = decide(s, &s.tokens.a_caseworker, "cand-a2", "course-2", "decline");
    assert_eq!((d2.status, d2.body["id"].as_i64()), (201, Some(2)), "{}", d2.body);
    let c = call(
        s.addr,
        "POST",
        "/v1/decisions/1/comments",
        Some(&s.tokens.a_provider),
        Some(r#"{"text": "mødt op første dag"}"#),
    );
    assert_eq!(c.status, 201, "{}", c.body);
    let providers =
        json!([{"id": "lev-0001", "name": "Vejen Videre ApS (invented)", "municipality": "0851"}]);
    let r = call(s.addr, "POST", "/v1/providers", Some(&s.tokens.a_system), Some(&providers.to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    let contract = json!({"id": "k-1", "provider_id": "lev-0001", "kind": "specialist", "offers": ["course-2"], "target_groups": ["sickness"],
                          "price_dkk": 9000, "places": 3, "guaranteed_volume": 0, "start": "2026-01-01", "end": "2030-12-31"});
    let r = call(s.addr, "POST", "/v1/contracts", Some(&s.tokens.a_admin), Some(&contract.to_string()));
    assert!(r.status == 200 || r.status == 201, "{}", r.body);
    let exit = json!({"result": "in_work", "started": "2026-08-01", "weeks_to_exit": 2});
    let r = call(
        s.addr,
        "POST",
        "/v1/candidates/cand-a2/exits",
        Some(&s.tokens.a_caseworker),
        Some(&exit.to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(batch_run(s, &s.tokens.a_system), 1);
    let plan = json!({"apply": true, "caseworkers": [{"id": "sb-1", "team": "nord", "cap": 5}]});
    let r = call(s.addr, "POST", "/v1/caseload-plans", Some(&s.tokens.a_admin), Some(&plan.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
}

/// What a call of `method path` sends for municipality A's ids (`None`: no body).
fn body_for(method: &str, path: &str) -> Option<String> {
    let body = match (method, path) {
        ("POST", "/v1/offers") => json!([crate::common::server::offer("course-1", 1)]),
        ("POST", "/v1/offers/{id}/retire") => return None,
        ("POST", "/v1/candidates") => json!([crate::common::server::candidate("cand-a1", "0851")]),
        ("POST", "/v1/suggestions") => json!({"candidate_id": "cand-a1"}),
        ("POST", "/v1/decisions") => {
            json!({"candidate_id": "cand-a1", "offer_id": "course-2", "action": "accept",
                                             "reason": "from B", "corrects": 1})
        }
        ("POST", "/v1/decisions/{id}/withdrawal") => json!({"reason": "from B"}),
        ("POST", "/v1/outcomes") => json!({"decision_id": 1, "result": "in_work"}),
        ("POST", "/v1/candidates/{id}/exits") => {
            json!({"result": "in_work", "started": "2026-08-01", "weeks_to_exit": 2})
        }
        ("POST", "/v1/batch-runs") => return None,
        ("POST", "/v1/providers") => {
            json!([{"id": "lev-0001", "name": "Taken over (invented)", "municipality": "0851"}])
        }
        ("POST", "/v1/contracts") => {
            json!({"id": "k-1", "provider_id": "lev-0001", "kind": "buffer", "offers": ["course-2"],
                                            "price_dkk": 1, "places": 1, "guaranteed_volume": 0, "municipality": "0851",
                                            "start": "2026-01-01", "end": "2030-12-31"})
        }
        ("POST", "/v1/decisions/{id}/comments") => json!({"text": "from B"}),
        ("POST", "/v1/caseload-plans") => {
            json!({"apply": false, "caseworkers": [{"id": "sb-9", "team": "nord", "cap": 5}]})
        }
        _ => return None,
    };
    Some(body.to_string())
}

/// `path` with municipality A's ids (`known`) or ids nobody has (`!known`), same shape.
fn concrete(path: &str, known: bool) -> String {
    let (candidate, number, team) = if known { ("cand-a1", "1", "nord") } else { ("cand-zz", "99", "zz") };
    let path = if path.starts_with("/v1/candidates/") {
        path.replace("{id}", candidate)
    } else if path.starts_with("/v1/decisions/") || path.starts_with("/v1/batch-runs/") {
        path.replace("{id}", number)
    } else if path.starts_with("/v1/offers/") {
        path.replace("{id}", "course-1")
    } else if path.starts_with("/v1/providers/") {
        path.replace("{id}", "lev-0001")
    } else {
        path.replace("{team}", team)
    };
    // The logs and the decision list are asked about A's candidate by name.
    match path.as_str() {
        "/v1/audit/suggestions" | "/v1/audit/access" | "/v1/decisions" => {
            format!("{path}?candidate_id={candidate}")
        }
        _ => path,
    }
}

/// A body with what differs between two calls of the same answer taken out.
fn normalised(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        for k in ["request_id", "instance", "exported_at"] {
            o.remove(k);
        }
    }
    body
}

/// Words only municipality A's rows hold: its users, the reason, the comment, the contract,
/// its candidates. None may appear in any answer to B.
const A_MARKERS: &[&str] =
    &["cw-a", "admin-a", "sys-a", "prov-a", "fits the plan", "mødt op", "k-1", "cand-a1", "cand-a2", "sb-1"];

#[test]
fn another_municipality_reaches_nothing_of_a_tenant_on_any_route() {
    let s = start("isolation");
    tenant_a(&s);
    let store = &s.state.store;
    let b = [
        (Role::Caseworker, s.tokens.b_caseworker.clone()),
        (Role::Admin, create_token(store, crate::common::server::B, Role::Admin, "admin-b").expect("token")),
        (Role::System, create_token(store, crate::common::server::B, Role::System, "sys-b2").expect("token")),
        (
            Role::Auditor,
            create_token(store, crate::common::server::B, Role::Auditor, "auditor-b").expect("token"),
        ),
        (
            Role::Provider,
            create_provider_token(store, crate::common::server::B, "lev-0001", "prov-b").expect("token"),
        ),
    ];
    let doc = call(s.addr, "GET", "/openapi.json", None, None).body;
    let paths = doc["paths"].as_object().expect("paths");
    let before = snapshot(&s, crate::common::server::B);
    let mut calls = 0;
    let mut wrong = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("operation") {
            let method = method.to_ascii_uppercase();
            let roles: Vec<&str> = op["x-roles"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            // B's own new rows (a batch run, its own candidate) are checked below, after the rest.
            if roles.is_empty() || (method.as_str(), path.as_str()) == ("POST", "/v1/batch-runs") {
                continue;
            }
            for (role, token) in &b {
                if !roles.contains(&role.name()) {
                    continue;
                }
                calls += 1;
                let body = body_for(&method, path);
                let known = call(s.addr, &method, &concrete(path, true), Some(token), body.as_deref());
                // The caller's own words echoed back (the path, the asked-for id) are not A's data.
                let mut echo_free = normalised(known.body.clone());
                if let Some(o) = echo_free.as_object_mut() {
                    o.remove("candidate_id");
                }
                let text = echo_free.to_string();
                let what = format!("{method} {} as B's {}", concrete(path, true), role.name());
                if let Some(marker) = A_MARKERS.iter().find(|m| text.contains(**m)) {
                    wrong.push(format!("{what}: {} names A's {marker:?}: {text}", known.status));
                }
                if known.status < 300 && method != "GET" && path != "/v1/caseload-plans" {
                    wrong.push(format!("{what}: {} accepted a write on A's ids: {text}", known.status));
                }
                // A path id of A's answers exactly as an id nobody has.
                if path.contains('{')
                    && !path.starts_with("/v1/offers/")
                    && !path.starts_with("/v1/providers/{id}")
                {
                    let unknown = call(s.addr, &method, &concrete(path, false), Some(token), body.as_deref());
                    let strip = |v: &Value| {
                        normalised(v.clone()).to_string().replace("cand-zz", "ID").replace("cand-a1", "ID")
                    };
                    if (known.status, strip(&known.body)) != (unknown.status, strip(&unknown.body)) {
                        wrong.push(format!(
                            "{what}: {} {} where an unknown id answers {} {}",
                            known.status, known.body, unknown.status, unknown.body
                        ));
                    }
                }
            }
        }
    }
    assert!(calls > 60, "only {calls} calls made");
    let after = snapshot(&s, crate::common::server::B);
    for ((table, rows), (_, rows_after)) in before.iter().zip(&after) {
        if rows != rows_after {
            wrong.push(format!("A's {table} changed: {rows:?} → {rows_after:?}"));
        }
    }

    // B's own writes under A's ids make B's own rows and leave A's as they were.
    let own = json!([crate::common::server::candidate("cand-a1", "0101")]).to_string();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&b[2].1), Some(&own));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(batch_run(&s, &b[2].1), 1, "B counts its own batch runs");
    let r = call(s.addr, "GET", "/v1/batch-runs/1/proposals", Some(&b[0].1), None);
    let ids: Vec<&str> = r.body["proposals"]
        .as_array()
        .map(|p| p.iter().filter_map(|x| x["candidate_id"].as_str()).collect())
        .unwrap_or_default();
    assert!(ids.iter().all(|i| ["cand-a1", "cand-b1"].contains(i)) && ids.len() == 2, "{}", r.body);
    let mine = call(s.addr, "GET", "/v1/candidates/cand-a1", Some(&s.tokens.a_caseworker), None);
    assert_eq!(mine.body["municipality"], "0851", "{}", mine.body);
    let after_own = snapshot(&s, crate::common::server::B);
    for ((table, rows), (_, rows_after)) in after.iter().zip(&after_own) {
        // A's access log gains A's own read just above; tables without a tenant column (the
        // runs' fingerprints) gain B's rows after A's.
        if table != "access_log" && !rows_after.starts_with(rows) {
            wrong.push(format!("B's own writes changed A's {table}: {rows:?} → {rows_after:?}"));
        }
    }
    assert!(wrong.is_empty(), "{} wrong answers:\n{}", wrong.len(), wrong.join("\n"));
}

/// The roles of `docs/service.md`'s route table, as `method path → roles`.
const DOC_ROLES: &[(&str, &str, &[&str])] = &[
    ("POST", "/v1/offers", &["system", "admin"]),
    ("GET", "/v1/offers", &["system", "caseworker", "provider", "admin", "auditor"]),
    ("GET", "/v1/offers/{id}", &["system", "caseworker", "provider", "admin", "auditor"]),
    ("POST", "/v1/offers/{id}/retire", &["system", "admin"]),
    ("GET", "/v1/offers/{id}/quality", &["system", "caseworker", "provider", "admin", "auditor"]),
    ("GET", "/v1/providers/{id}/quality", &["system", "caseworker", "provider", "admin", "auditor"]),
    ("POST", "/v1/candidates", &["system", "caseworker", "admin"]),
    // The auditor reads candidates (the security model and docs/accountability.md).
    ("GET", "/v1/candidates", &["system", "caseworker", "admin", "auditor"]),
    ("GET", "/v1/candidates/{id}", &["system", "caseworker", "admin", "auditor"]),
    ("DELETE", "/v1/candidates/{id}", &["system", "caseworker", "admin"]),
    ("POST", "/v1/suggestions", &["system", "caseworker", "admin"]),
    ("POST", "/v1/decisions", &["caseworker", "admin"]),
    ("GET", "/v1/decisions", &["system", "caseworker", "admin", "auditor"]),
    ("GET", "/v1/decisions/{id}", &["system", "caseworker", "admin", "auditor"]),
    ("POST", "/v1/decisions/{id}/withdrawal", &["caseworker", "admin"]),
    ("POST", "/v1/outcomes", &["system", "caseworker", "admin"]),
    ("POST", "/v1/candidates/{id}/exits", &["system", "caseworker", "admin"]),
    ("GET", "/v1/history", &["system", "caseworker", "admin"]),
    ("POST", "/v1/batch-runs", &["system", "caseworker", "admin"]),
    ("GET", "/v1/batch-runs/{id}", &["system", "caseworker", "admin"]),
    ("GET", "/v1/batch-runs/{id}/proposals", &["system", "caseworker", "admin"]),
    ("GET", "/v1/audit/suggestions", &["admin", "auditor"]),
    ("GET", "/v1/audit/access", &["admin", "auditor"]),
    ("GET", "/v1/candidates/{id}/export", &["admin", "auditor"]),
    ("GET", "/v1/oversight", &["admin", "auditor"]),
    ("POST", "/v1/providers", &["system", "admin"]),
    ("GET", "/v1/providers", &["system", "caseworker", "provider", "admin", "auditor"]),
    ("GET", "/v1/providers/{id}", &["system", "caseworker", "provider", "admin", "auditor"]),
    ("GET", "/v1/providers/{id}/decisions", &["system", "caseworker", "admin", "auditor", "provider"]),
    ("POST", "/v1/contracts", &["system", "admin"]),
    ("GET", "/v1/contracts", &["system", "caseworker", "admin", "auditor", "provider"]),
    ("GET", "/v1/overview/providers", &["system", "caseworker", "admin", "auditor", "provider"]),
    ("GET", "/v1/overview/spend", &["system", "caseworker", "admin", "auditor"]),
    ("GET", "/v1/decisions/{id}/comments", &["system", "caseworker", "admin", "auditor", "provider"]),
    ("POST", "/v1/decisions/{id}/comments", &["provider", "caseworker", "admin"]),
    ("POST", "/v1/caseload-plans", &["system", "admin"]),
    ("GET", "/v1/teams/{team}/overview", &["caseworker", "admin"]),
];

#[test]
fn each_role_reaches_only_the_routes_the_docs_give_it_and_a_refusal_changes_nothing() {
    let s = start("roles");
    tenant_a(&s);
    let doc = call(s.addr, "GET", "/openapi.json", None, None).body;
    let paths = doc["paths"].as_object().expect("paths");
    let mut published = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("operation") {
            let mut roles: Vec<String> = op["x-roles"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).map(String::from).collect())
                .unwrap_or_default();
            if path.starts_with("/v1/") {
                roles.sort();
                published.push((method.to_ascii_uppercase(), path.clone(), roles));
            }
        }
    }
    let mut documented: Vec<(String, String, Vec<String>)> = DOC_ROLES
        .iter()
        .map(|(m, p, r)| {
            let mut r: Vec<String> = r.iter().map(|x| x.to_string()).collect();
            r.sort();
            (m.to_string(), p.to_string(), r)
        })
        .collect();
    published.sort();
    documented.sort();
    assert_eq!(published, documented, "the published roles are the documented ones");
    // The docs' rules in one place: the auditor changes nothing; only a person of the
    // authority decides or withdraws (never system or provider); a provider never reads
    // candidates, runs batches, records outcomes or reads the audit logs.
    for (method, path, roles) in &published {
        let has = |r: &str| roles.iter().any(|x| x == r);
        assert!(method == "GET" || !has("auditor"), "{method} {path} lets the auditor change something");
        if path.starts_with("/v1/decisions") && method == "POST" && !path.ends_with("/comments") {
            assert!(!has("system") && !has("provider"), "{method} {path}: {roles:?}");
        }
        if path.starts_with("/v1/candidates")
            || path.starts_with("/v1/audit")
            || path.starts_with("/v1/batch-runs")
        {
            assert!(!has("provider"), "{method} {path}: {roles:?}");
        }
    }

    // Every refused (route, role) of municipality A answers 403 and changes nothing.
    let before = snapshot(&s, 0);
    let mut wrong = Vec::new();
    for (method, path, roles) in &published {
        for role in Role::ALL {
            if roles.iter().any(|r| r == role.name()) {
                continue;
            }
            let r = call(
                s.addr,
                method,
                &concrete(path, true),
                Some(s.tokens.for_role(role)),
                body_for(method, path).as_deref(),
            );
            if r.status != 403 {
                wrong.push(format!("{method} {path} as {}: {} {}", role.name(), r.status, r.body));
            }
        }
    }
    let after = snapshot(&s, 0);
    for ((table, rows), (_, rows_after)) in before.iter().zip(&after) {
        if rows != rows_after {
            wrong.push(format!("a refused call changed {table}: {rows:?} → {rows_after:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The tables that still name `id` anywhere in a row, after the log writer's queue is flushed.
fn tables_naming(s: &Server, id: &str) -> Vec<String> {
    snapshot(s, 0)
        .into_iter()
        .filter(|(_, rows)| rows.iter().any(|r| r.contains(id)))
        .map(|(table, _)| table)
        .collect()
}

#[test]
fn an_erasure_leaves_the_candidate_only_in_the_records_its_answer_says_it_keeps() {
    let s = start("erasure-kept");
    tenant_a(&s);
    let erased = call(s.addr, "DELETE", "/v1/candidates/cand-a1", Some(&s.tokens.a_admin), None);
    assert_eq!(erased.status, 200, "{}", erased.body);
    let kept: Vec<&str> =
        erased.body["kept"].as_array().expect("kept").iter().filter_map(|k| k["record"].as_str()).collect();
    // Each kept record and the tables that hold it; the places and keys of a decision are part of it.
    let allowed = |table: &str| match table {
        "decisions" | "places" | "decision_keys" | "outcomes" => kept.contains(&"decisions"),
        "batch_fingerprints" => kept.contains(&"batch_runs"),
        t => kept.contains(&t),
    };
    let left: Vec<String> = tables_naming(&s, "cand-a1").into_iter().filter(|t| !allowed(t)).collect();
    assert!(
        left.is_empty(),
        "cand-a1 is still in {left:?}, which the erasure's answer does not name: {}",
        erased.body
    );
    // The suggestion log keeps each answer as shown, which carries the record's benefit end
    // (2027-03-01): the answer's why must say so, not "no personal data of the record".
    let log =
        call(s.addr, "GET", "/v1/audit/suggestions?candidate_id=cand-a1", Some(&s.tokens.a_auditor), None);
    assert!(log.body.to_string().contains("\"2027-03-01\""), "{}", log.body);
    let why = erased.body["kept"]
        .as_array()
        .expect("kept")
        .iter()
        .find(|k| k["record"] == "suggestion_log")
        .and_then(|k| k["why"].as_str())
        .unwrap_or("");
    assert!(
        why.contains("benefit end") && !why.contains("no personal data"),
        "the suggestion log keeps the record's benefit_end 2027-03-01, and the erasure says: {why}"
    );
    // What is kept is reachable only where the answer says: the batch run's proposals no longer name it.
    let r = call(s.addr, "GET", "/v1/batch-runs/1/proposals", Some(&s.tokens.a_system), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.to_string().contains("cand-a1") || kept.contains(&"batch_runs"), "{}", r.body);
}
