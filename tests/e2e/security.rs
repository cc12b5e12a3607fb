//! Issue 15 (security round two): one regression test per finding, each named after it, over a
//! real loopback socket. `scripts/attack.sh` runs the same attacks at full size and measures.

use crate::common::server::{Server, assert_problem, call, candidate, offer, raw, seed_offers, start_config};
use matcher_service::server::auth::{Role, create_token};
use matcher_service::server::store::NewOffer;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Municipalities of the test server (A owns the seeded offers, B is another tenant).
const B: u16 = 101;

fn decide(s: &Server, token: &str, candidate: &str, offer: &str) -> crate::common::server::Answer {
    let body =
        json!({"candidate_id": candidate, "offer_id": offer, "action": "accept", "reason": "fits the plan"});
    call(s.addr, "POST", "/v1/decisions", Some(token), Some(&body.to_string()))
}

/// A connection that sent `head` and then nothing: is it closed by the server within `within`?
fn closed_within(stream: &mut TcpStream, within: Duration) -> (bool, Vec<u8>) {
    stream.set_read_timeout(Some(within)).expect("read timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (true, got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (true, got),
            Err(_) => return (false, got),
        }
    }
}

#[test]
fn issue_15_slow_bodies_and_slow_headers_cannot_starve_caseworkers() {
    let s = start_config("slow", |c| {
        c.max_in_flight = 4;
        c.read_timeout = Duration::from_secs(2);
    });
    seed_offers(&s, &[("course-1", 10)]);
    let header = format!(
        "POST /v1/suggestions HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n",
        s.addr
    );
    // Ten times the slots: each announces 100,000 bytes and sends 36.
    let mut slow: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr).expect("connect");
            c.write_all(header.as_bytes()).expect("head");
            c.write_all(&[b' '; 36]).expect("36 bytes");
            c
        })
        .collect();
    // And some that never finish their headers.
    let mut half: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr).expect("connect");
            c.write_all(b"POST /v1/suggestions HTTP/1.1\r\nhost: x\r\n").expect("half a head");
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // Before the fix every one of these was a 503 (the slots were held by the readers).
    let body = r#"{"candidate_id": "cand-a1", "k": 3}"#;
    for _ in 0..5 {
        let r = call(s.addr, "POST", "/v1/suggestions", Some(&s.tokens.a_caseworker), Some(body));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // The slow bodies are answered 408 (a problem) at the read deadline and closed.
    let started = Instant::now();
    let (closed, answer) = closed_within(&mut slow[0], Duration::from_secs(10));
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(closed && answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("/problems/body-timeout"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    // The half headers are closed too (hyper's header-read timeout with a timer).
    for c in &mut half {
        assert!(closed_within(c, Duration::from_secs(10)).0, "a half-sent head stays open");
    }
    assert_eq!(s.state.in_flight.load(std::sync::atomic::Ordering::Acquire), 0);
}

#[test]
fn issue_15_a_capacity_of_4294967295_is_refused_and_a_stored_one_cannot_abort_a_run() {
    let s = start_config("capacity", |_| {});
    seed_offers(&s, &[("course-1", 10)]);
    let body =
        json!([offer("course-huge", 1)]).to_string().replace("\"capacity\":1", "\"capacity\":4294967295");
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_admin), Some(&body));
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/0/capacity", "{}", r.body);
    assert!(r.body["errors"][0]["reason"].as_str().unwrap_or("").contains("at most"), "{}", r.body);
    // A row written before the bound (or by hand): the run sizes its arrays by the candidates.
    let rows = s.state.store.catalogue_rows("2026-11-02").expect("offers").offers;
    let mut model: Value = serde_json::from_str(&rows[0].model).expect("model");
    model["capacity"] = json!(u32::MAX);
    let record = r#"{"id":"course-1"}"#.to_string();
    s.state
        .store
        .upsert_offers(&[NewOffer {
            id: rows[0].id.clone(),
            provider_id: "lev-0001".into(),
            record,
            model: model.to_string(),
            capacity: u32::MAX,
        }])
        .expect("store");
    s.state.catalogues.rebuild(&s.state.store).expect("rebuild");
    let r = call(s.addr, "POST", "/v1/batch-runs", Some(&s.tokens.a_system), None);
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_i64().expect("run id");
    let mut status = Value::Null;
    for _ in 0..200 {
        status = call(s.addr, "GET", &format!("/v1/batch-runs/{id}"), Some(&s.tokens.a_system), None).body;
        if status["status"] != "running" && status["status"] != "queued" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status["status"], "finished", "{status}");
    assert_eq!(call(s.addr, "GET", "/healthz", None, None).status, 200);
}

#[test]
fn issue_15_offers_are_changed_only_by_the_municipality_that_contracts_them() {
    let s = start_config("owner", |_| {});
    seed_offers(&s, &[("course-1", 10), ("course-2", 3)]);
    let b_admin = create_token(&s.state.store, B, Role::Admin, "admin-b").expect("token");
    // B cannot write an offer contracted by A, new or existing, nor move A's to itself.
    let as_a = json!([offer("course-new", 5)]).to_string();
    let r = call(s.addr, "POST", "/v1/offers", Some(&b_admin), Some(&as_a));
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/0/municipality", "{}", r.body);
    let mut taken = offer("course-1", 1);
    taken["municipality"] = json!("0101");
    let r = call(s.addr, "POST", "/v1/offers", Some(&b_admin), Some(&json!([taken]).to_string()));
    assert_problem(&r, 403);
    assert_problem(&call(s.addr, "POST", "/v1/offers/course-1/retire", Some(&b_admin), None), 403);
    let view = call(s.addr, "GET", "/v1/offers/course-1", Some(&b_admin), None);
    assert_eq!((view.body["capacity"].as_u64(), view.body["retired"].as_bool()), (Some(10), Some(false)));
    // A's admin can; but not below the places already taken.
    for c in ["cand-a1", "cand-a2"] {
        assert_eq!(decide(&s, &s.tokens.a_caseworker, c, "course-2").status, 201);
    }
    let lower = |places: u32| json!([offer("course-2", places)]).to_string();
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_admin), Some(&lower(1)));
    assert_problem(&r, 409);
    let view = call(s.addr, "GET", "/v1/offers/course-2/quality", Some(&s.tokens.a_admin), None);
    assert!(view.body["utilisation"].as_f64().unwrap_or(9.0) <= 1.0, "{}", view.body);
    assert_eq!(call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_admin), Some(&lower(2))).status, 200);
    assert_eq!(call(s.addr, "POST", "/v1/offers/course-1/retire", Some(&s.tokens.a_admin), None).status, 200);
}

#[test]
fn issue_15_a_restricted_offer_takes_decisions_only_from_the_municipalities_it_serves() {
    let s = start_config("serves", |_| {});
    seed_offers(&s, &[("course-1", 10)]);
    let mut local = offer("course-local", 5);
    local["serves_municipalities"] = json!("0851");
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_system), Some(&json!([local]).to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    let b_cw = s.tokens.b_caseworker.clone();
    let r = decide(&s, &b_cw, "cand-b1", "course-local");
    assert_problem(&r, 422);
    assert_eq!(r.body["errors"][0]["path"], "/offer_id", "{}", r.body);
    let view = call(s.addr, "GET", "/v1/offers/course-local", Some(&b_cw), None);
    assert_eq!(view.body["reserved"], 0, "no place was taken: {}", view.body);
    assert_eq!(decide(&s, &s.tokens.a_caseworker, "cand-a1", "course-local").status, 201);
    // An unrestricted offer still serves everyone.
    assert_eq!(decide(&s, &b_cw, "cand-b1", "course-1").status, 201);
}

/// Every written form of one CPR number (issue 15, items 5 and 6).
const WRITTEN: &[&str] = &[
    "0102031234",
    "010203-1234",
    "010203 1234",
    "01 02 03 12 34",
    "010203/1234",
    "01.02.03-1234",
    "\u{FF10}\u{FF11}\u{FF10}\u{FF12}\u{FF10}\u{FF13}\u{FF11}\u{FF12}\u{FF13}\u{FF14}",
    "0102\u{200B}031234",
    "010203\u{2011}1234",
    "010203\u{00A0}1234",
    "\u{0660}\u{0661}\u{0660}\u{0662}\u{0660}\u{0663}\u{0661}\u{0662}\u{0663}\u{0664}",
];

/// `text` with `%XX` decoded, so a number echoed in an encoded path is seen too.
fn percent_decoded(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = |at: usize| b.get(at).and_then(|&c| (c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn issue_15_written_cpr_forms_are_refused_everywhere_and_never_echoed() {
    let s = start_config("cpr", |_| {});
    seed_offers(&s, &[("course-1", 10)]);
    let cw = s.tokens.a_caseworker.clone();
    let sys = s.tokens.a_system.clone();
    let answers = |form: &str| -> Vec<(String, crate::common::server::Answer)> {
        let reason = json!({"candidate_id": "cand-a1", "offer_id": "course-1", "action": "decline",
                            "reason": format!("ringede {form} i dag")});
        let mut named = offer("course-x", 1);
        named["name"] = json!(format!("Forløb {form}"));
        let mut keyed = offer("course-y", 1);
        keyed[form] = json!("x");
        let mut id = candidate("cand-z", "0851");
        id["id"] = json!(format!("c-{form}"));
        let suggestion_key = format!(r#"{{"candidate_id": "cand-a1", "{form}": {{"a": 1}}}}"#);
        let path: String = form
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        vec![
            ("reason".into(), call(s.addr, "POST", "/v1/decisions", Some(&cw), Some(&reason.to_string()))),
            (
                "name".into(),
                call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&json!([named]).to_string())),
            ),
            ("key".into(), call(s.addr, "POST", "/v1/offers", Some(&sys), Some(&json!([keyed]).to_string()))),
            ("id".into(), call(s.addr, "POST", "/v1/candidates", Some(&cw), Some(&json!([id]).to_string()))),
            ("body key".into(), call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(&suggestion_key))),
            ("path".into(), call(s.addr, "GET", &format!("/v1/candidates/{path}"), Some(&cw), None)),
        ]
    };
    for form in WRITTEN {
        for (field, r) in answers(form) {
            assert!((400..500).contains(&r.status), "{form:?} in {field}: {} {}", r.status, r.body);
            // The request id is random hex, which can hold ten digits in a row: not an echo.
            let mut body = r.body.clone();
            body["request_id"] = Value::Null;
            let text = percent_decoded(&body.to_string());
            assert!(!matcher_core::model::looks_like_cpr(&text), "{form:?} in {field} echoed: {text}");
        }
    }
    // Nothing was stored: no decision, no offer, no candidate.
    let decisions = call(s.addr, "GET", "/v1/decisions", Some(&cw), None);
    assert_eq!(decisions.body["decisions"].as_array().map(Vec::len), Some(0), "{}", decisions.body);
    assert_eq!(call(s.addr, "GET", "/v1/offers/course-x", Some(&cw), None).status, 404);
}

#[test]
fn issue_15_anonymous_metrics_count_no_tenant_activity() {
    let s = start_config("metrics-anon", |c| c.metrics_token = Some("scrape".into()));
    seed_offers(&s, &[("course-1", 10)]);
    assert_eq!(decide(&s, &s.tokens.a_caseworker, "cand-a1", "course-1").status, 201);
    let anonymous = call(s.addr, "GET", "/metrics", None, None).body.as_str().unwrap_or("").to_string();
    assert!(anonymous.contains("brobygger_up 1"), "{anonymous}");
    for leak in ["decision", "/v1/", "batch", "outcome"] {
        assert!(!anonymous.contains(leak), "{leak}: {anonymous}");
    }
    // A tenant's token is not the scraper's.
    let tenant = call(s.addr, "GET", "/metrics", Some(&s.tokens.a_admin), None);
    assert!(!tenant.body.as_str().unwrap_or("").contains("decision"));
    let scraper =
        call(s.addr, "GET", "/metrics", Some("scrape"), None).body.as_str().unwrap_or("").to_string();
    assert!(scraper.contains("brobygger_events_total{event=\"decisions_accepted\"} 1"), "{scraper}");
}

#[test]
fn issue_15_the_demo_page_and_same_origin_need_a_host_that_names_this_server() {
    let s = start_config("host", |c| c.cors_origins = vec!["https://case.example".into()]);
    let demo = matcher_service::server::widget::DemoPage {
        token: s.tokens.a_caseworker.clone(),
        municipality: 851,
        municipality_name: "Aalborg".into(),
        candidates: vec![("cand-a1".into(), "40-49".into())],
        teams: vec!["nord".into()],
    };
    assert!(s.state.demo.set(demo).is_ok());
    // The demo's team page (issue 20) holds the tenant's figures: the same Host rule.
    let team = |host: &str, path: &str| {
        raw(s.addr, format!("GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes()).0
    };
    assert_eq!(team("evil.example", "/team"), 421);
    assert_eq!(team(&s.addr.to_string(), "/team?team=nord"), 404, "no caseworkers stored: no team");
    assert_eq!(team(&s.addr.to_string(), "/team?team=other"), 404);
    let page = |host: &str| {
        raw(s.addr, format!("GET / HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes())
    };
    let (status, _, body) = page("evil.example");
    assert_eq!(status, 421);
    assert!(!String::from_utf8_lossy(&body).contains(&s.tokens.a_caseworker), "the token leaked");
    assert_eq!(page(&format!("evil.example:{}", s.addr.port())).0, 421);
    assert_eq!(page(&s.addr.to_string()).0, 200);
    assert_eq!(page(&format!("localhost:{}", s.addr.port())).0, 200);
    // The same-origin shortcut past CORS: a forged pair of Origin and Host is cross-origin.
    let post = |origin: &str, host: &str| {
        let req = format!(
            "POST /v1/suggestions HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\norigin: {origin}\r\n\
             content-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}"
        );
        raw(s.addr, req.as_bytes()).0
    };
    assert_eq!(post("http://evil.example", "evil.example"), 403);
    assert_eq!(post(&format!("http://{}", s.addr), &s.addr.to_string()), 401, "same origin reaches the API");
}

#[test]
fn issue_15_the_widget_script_is_served_to_any_origin() {
    let s = start_config("widget-any", |c| c.cors_origins = vec!["https://case.example".into()]);
    let req = format!(
        "GET /widget/v1/brobygger.js HTTP/1.1\r\nhost: {}\r\nconnection: close\r\norigin: https://other.example\r\n\r\n",
        s.addr
    );
    let (status, headers, body) = raw(s.addr, req.as_bytes());
    assert_eq!(status, 200, "{headers}");
    assert!(headers.contains("access-control-allow-origin: *"), "{headers}");
    assert!(!body.is_empty());
}

#[test]
fn issue_15_api_answers_are_strict_about_json_and_carry_nosniff_and_no_store() {
    let s = start_config("strict", |_| {});
    seed_offers(&s, &[("course-1", 10)]);
    let jsonx = format!(
        "POST /v1/suggestions HTTP/1.1\r\nhost: {}\r\nconnection: close\r\nauthorization: Bearer {}\r\n\
         content-type: application/jsonx\r\ncontent-length: 27\r\n\r\n{{\"candidate_id\": \"cand-a1\"}}",
        s.addr, s.tokens.a_caseworker
    );
    let (status, headers, _) = raw(s.addr, jsonx.as_bytes());
    assert_eq!(status, 415, "{headers}");
    let r = call(s.addr, "POST", "/v1/offers/course-1/retire", Some(&s.tokens.a_admin), Some("{not json"));
    assert_problem(&r, 400);
    assert_eq!(
        call(s.addr, "GET", "/v1/offers/course-1", Some(&s.tokens.a_admin), None).body["retired"],
        false
    );
    for r in [
        call(s.addr, "GET", "/v1/offers/course-1", Some(&s.tokens.a_admin), None),
        call(s.addr, "GET", "/v1/nothing", None, None),
        call(s.addr, "GET", "/healthz", None, None),
    ] {
        assert!(r.headers.contains("x-content-type-options: nosniff"), "{}", r.headers);
        assert!(r.headers.contains("cache-control: no-store"), "{}", r.headers);
    }
}

#[test]
fn issue_15_the_command_line_speaks_plainly_and_stops_quietly_on_a_closed_pipe() {
    use crate::common::{matcher, run, temp_dir};
    let tmp = temp_dir("cli15");
    let dir: &std::path::Path = tmp.as_ref();
    let data = dir.join("data");
    let (out, _, err) = run(matcher().args(["gen", "--scale", "demo", "--out"]).arg(&data));
    assert!(out.status.success(), "{err}");
    let first = |file: &str| {
        let text = std::fs::read_to_string(data.join(file)).expect("table");
        text.lines().nth(1).and_then(|l| l.split(',').next()).unwrap_or_default().to_string()
    };
    let (candidate, offer) = (first("candidates.csv"), first("offers.csv"));
    // `| true`: the reader is gone before the first line. Exit 101 and a panic before; now
    // what a shell reports for any tool ended by SIGPIPE, and nothing on stderr.
    let mut child = matcher()
        .args(["explain"])
        .arg(&data)
        .args([&candidate, &offer])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "128 + SIGPIPE, quietly: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A missing directory: the reason once, no "(os error 2)".
    let (out, _, err) = run(matcher().args(["validate"]).arg(dir.join("missing")));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.matches("No such file or directory").count() <= 1, "{err}");
    assert!(!err.contains("os error"), "{err}");
    // A policy with a value of the wrong type names the key, in plain words.
    std::fs::write(dir.join("p.toml"), "top_k = \"many\"\n").expect("policy");
    let (out, _, err) = run(matcher().args(["graph", "--policy"]).arg(dir.join("p.toml")).arg(&data));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("top_k") && err.contains("a whole number"), "{err}");
    for rust in ["usize", "u32", "u64", "f64"] {
        assert!(!err.contains(rust), "{err}");
    }
    // One offer with 4,294,967,295 places: a clear error (exit 1), not an abort (exit 134).
    let mut reader = csv::Reader::from_path(data.join("offers.csv")).expect("offers");
    let header = reader.headers().expect("header").clone();
    let at = header.iter().position(|c| c == "capacity").expect("capacity column");
    let mut rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let mut first_row: Vec<String> = rows[0].iter().map(str::to_string).collect();
    first_row[at] = "4294967295".into();
    rows[0] = csv::StringRecord::from(first_row);
    let mut writer = csv::Writer::from_path(data.join("offers.csv")).expect("write");
    writer.write_record(&header).expect("header");
    rows.iter().for_each(|r| writer.write_record(r).expect("row"));
    writer.flush().expect("flush");
    let (out, _, err) = run(matcher().args(["batch", "--data"]).arg(&data).arg("--out").arg(dir.join("run")));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("offers.csv:2") && err.contains("capacity") && err.contains("at most"), "{err}");
}
