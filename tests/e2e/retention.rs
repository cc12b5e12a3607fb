//! Issue 17, citizens' rights: retention periods delete what is due and nothing else (the
//! database file counted before and after, with the day given to `matcher retention`), and
//! the access export reads as a page in Danish.

use super::common::server::*;
use matcher_service::server::auth::{Role, create_token};
use serde_json::json;
use std::process::Command;

/// 0851's periods, all different, so each kind's day shows on its own.
const POLICY: &str = "name = \"test-0851\"\nmunicipality = \"0851\"\n[retention]\nsuggestion_log_days = 10\naccess_log_days = 20\ndecisions_days = 30\noutcomes_days = 25\nbatch_runs_days = 5\n";

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Counts {
    suggestion_log: i64,
    access_log: i64,
    decisions: i64,
    outcomes: i64,
    batch_runs: i64,
    places: i64,
}

fn counts(db: &std::path::Path, m: u16) -> Counts {
    let c = open_db(db);
    let n = |table: &str| -> i64 {
        c.query_row(&format!("SELECT count(*) FROM {table} WHERE municipality = ?1"), [m], |r| r.get(0))
            .expect("count")
    };
    Counts {
        suggestion_log: n("suggestion_log"),
        access_log: n("access_log"),
        decisions: n("decisions"),
        outcomes: n("outcomes"),
        batch_runs: n("batch_runs"),
        places: n("places"),
    }
}

fn retention(db: &std::path::Path, policy: &std::path::Path, today: &str, dry_run: bool) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_matcher"));
    cmd.args(["retention", "--db"]).arg(db).arg("--policy").arg(policy).args(["--today", today]);
    if dry_run {
        cmd.arg("--dry-run");
    }
    let out = cmd.output().expect("run matcher retention");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn batch(s: &Server) {
    let run = call(s.addr, "POST", "/v1/batch-runs", Some(&s.tokens.a_system), None);
    assert_eq!(run.status, 202, "{}", run.body);
    let id = run.body["id"].as_i64().expect("id");
    for _ in 0..300 {
        let r = call(s.addr, "GET", &format!("/v1/batch-runs/{id}"), Some(&s.tokens.a_system), None);
        if r.body["status"] != "running" {
            assert_eq!(r.body["status"], "finished", "{}", r.body);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("batch run {id} did not finish");
}

#[test]
fn retention_deletes_what_is_due_and_nothing_else() {
    let s = start("retention");
    seed(&s);
    let cw = s.tokens.a_caseworker.clone();
    for c in ["cand-a1", "cand-a2"] {
        let body = json!({"candidate_id": c}).to_string();
        assert_eq!(call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(&body)).status, 200);
    }
    let b_cw = create_token(&s.state.store, B, Role::Caseworker, "cw-b2").expect("token");
    let b_body = json!({"candidate_id": "cand-b1"}).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/suggestions", Some(&b_cw), Some(&b_body)).status, 200);
    // a1: accepted, outcome recorded (its place comes back); a2: declined, then accepted
    // elsewhere without an outcome, so that place is still held.
    let first = decide(&s, &cw, "cand-a1", "course-1", "accept");
    assert_eq!(first.status, 201, "{}", first.body);
    let outcome = json!({"decision_id": first.body["id"], "result": "in_work"}).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&outcome)).status, 201);
    assert_eq!(decide(&s, &cw, "cand-a2", "course-2", "decline").status, 201);
    assert_eq!(decide(&s, &cw, "cand-a2", "course-1", "accept").status, 201);
    batch(&s);
    batch(&s);
    s.state.audit_log.flush();

    let db = s._dir.0.join("matcher.db");
    let policy = s._dir.0.join("test-0851.toml");
    std::fs::write(&policy, POLICY).expect("policy file");
    let today = matcher_service::clock::today_utc();
    let day = |n: i32| today.plus_days(n).to_string();
    let start = counts(&db, A);
    let b_start = counts(&db, B);
    assert_eq!((start.decisions, start.outcomes, start.batch_runs, start.places), (3, 1, 2, 2), "{start:?}");
    assert!(start.suggestion_log >= 4 && start.access_log >= 5, "{start:?}");

    // Nothing is due on the last day of every period.
    retention(&db, &policy, &day(5), false);
    assert_eq!(counts(&db, A), start);
    // A dry run counts and deletes nothing.
    let dry = retention(&db, &policy, &day(11), true);
    assert!(dry.contains(&format!("0851\t{}\t0\t0\t0\t1", start.suggestion_log)), "{dry}");
    assert_eq!(counts(&db, A), start, "a dry run leaves the file as it was");
    // Day 6: the older batch run goes; the latest finished one stays.
    retention(&db, &policy, &day(6), false);
    assert_eq!(counts(&db, A), Counts { batch_runs: 1, ..start });
    let last = |table: &str| -> i64 {
        let c = open_db(&db);
        c.query_row(
            &format!("SELECT COALESCE(MAX(number), 0) FROM {table} WHERE municipality = ?1"),
            [A],
            |r| r.get(0),
        )
        .expect("highest number")
    };
    let (last_shown, last_access) = (last("suggestion_log"), last("access_log"));
    assert!(last_shown > 0 && last_access > 0);
    // Day 11: the suggestion log.
    retention(&db, &policy, &day(11), false);
    assert_eq!(counts(&db, A), Counts { batch_runs: 1, suggestion_log: 0, ..start });
    // Day 21: the access log.
    retention(&db, &policy, &day(21), false);
    assert_eq!(counts(&db, A), Counts { batch_runs: 1, suggestion_log: 0, access_log: 0, ..start });
    // Both logs are empty for 0851 now; the next rows continue the numbering, so a number a
    // client kept never names another row (it started at 1 again before).
    let body = json!({"candidate_id": "cand-a1"}).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(&body)).status, 200);
    s.state.audit_log.flush();
    let c = open_db(&db);
    let first_after = |table: &str| -> i64 {
        c.query_row(&format!("SELECT MIN(number) FROM {table} WHERE municipality = ?1"), [A], |r| r.get(0))
            .expect("new rows")
    };
    assert_eq!(first_after("suggestion_log"), last_shown + 1);
    assert_eq!(first_after("access_log"), last_access + 1);
    drop(c);
    // The new rows are due on day 21 as well; the rest of the test goes on from there.
    retention(&db, &policy, &day(21), false);
    assert_eq!(counts(&db, A), Counts { batch_runs: 1, suggestion_log: 0, access_log: 0, ..start });
    // Day 26: the outcome.
    retention(&db, &policy, &day(26), false);
    let before_decisions = Counts { batch_runs: 1, suggestion_log: 0, access_log: 0, outcomes: 0, ..start };
    assert_eq!(counts(&db, A), before_decisions);
    // Day 31: the decisions, but the accept whose place is still held, and the released
    // place goes with its decision.
    let out = retention(&db, &policy, &day(31), false);
    assert!(out.contains("0851\t0\t0\t2\t0\t0"), "{out}");
    assert_eq!(counts(&db, A), Counts { decisions: 1, places: 1, ..before_decisions });
    let c = open_db(&db);
    let kept: (String, Option<String>) = c
        .query_row("SELECT d.action, p.released_at FROM decisions d JOIN places p ON p.decision_id = d.id WHERE d.municipality = 851", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("the held accept");
    assert_eq!(kept, ("accept".to_string(), None));
    // Another municipality (national periods: years) keeps everything.
    assert_eq!(counts(&db, B), b_start);
    // Outside the retention sweep the logs are append-only as before.
    let refused = c.execute("DELETE FROM suggestion_log WHERE municipality = 101", []);
    assert!(refused.is_err_and(|e| e.to_string().contains("append-only")));
    let refused = c.execute("DELETE FROM decisions", []);
    assert!(refused.is_err_and(|e| e.to_string().contains("append-only")));
    for gate in ["main.retention_gate", "logs.retention_gate"] {
        let open: i64 = c.query_row(&format!("SELECT count(*) FROM {gate}"), [], |r| r.get(0)).expect("gate");
        assert_eq!(open, 0, "{gate} is never left open");
    }
}

#[test]
fn the_access_export_is_a_page_in_danish() {
    let s = start("access-page");
    seed(&s);
    let mut record = candidate("cand-a3", "0851");
    record["gender"] = json!("female");
    let body = json!([record]).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/candidates", Some(&s.tokens.a_system), Some(&body)).status, 200);
    let cw = s.tokens.a_caseworker.clone();
    let shown =
        call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(r#"{"candidate_id": "cand-a3", "k": 2}"#));
    assert_eq!(shown.status, 200);
    let decline = json!({"candidate_id": "cand-a3", "offer_id": "course-2", "action": "decline",
                         "reason": "Too far <b>away</b> & late", "suggested_offer_ids": ["course-1", "course-2"]});
    assert_eq!(call(s.addr, "POST", "/v1/decisions", Some(&cw), Some(&decline.to_string())).status, 201);
    let d = decide(&s, &cw, "cand-a3", "course-1", "accept");
    let outcome = json!({"decision_id": d.body["id"], "result": "in_work"}).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&outcome)).status, 201);

    let get = |accept: &str, path: &str| {
        let req = format!(
            "GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\nauthorization: Bearer {}\r\naccept: {accept}\r\n\r\n",
            s.tokens.a_auditor
        );
        let (status, headers, body) = raw(s.addr, req.as_bytes());
        (status, headers, String::from_utf8(body).expect("utf-8"))
    };
    let (status, headers, page) =
        get("text/html,application/xhtml+xml;q=0.9", "/v1/candidates/cand-a3/export");
    assert_eq!(status, 200, "{page}");
    assert!(headers.contains("content-type: text/html; charset=utf-8"), "{headers}");
    assert!(headers.contains("content-security-policy: default-src 'none'"), "{headers}");
    let (_, _, by_query) = get("*/*", "/v1/candidates/cand-a3/export?format=html");
    assert!(by_query.starts_with("<!DOCTYPE html>"), "?format=html gives the page too");
    let (_, json_headers, _) = get("application/json", "/v1/candidates/cand-a3/export");
    assert!(json_headers.contains("content-type: application/json"), "JSON stays the default");

    // Structure: a Danish document, one h1, the five parts as sections with headings, tables
    // with captions and column headers.
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"da\">"), "{page}");
    assert_eq!(page.matches("<h1>").count(), 1);
    for heading in [
        "1. Dine oplysninger",
        "2. Forslag, systemet har vist",
        "3. Beslutninger",
        "4. Resultater",
        "5. Hvem har set eller ændret dine oplysninger",
        "Dine rettigheder",
    ] {
        assert!(page.contains(&format!("{heading}</h2>")), "{heading} missing");
    }
    assert_eq!(page.matches("<section").count(), page.matches("</section>").count());
    assert_eq!(page.matches("<table>").count(), page.matches("<caption>").count());
    assert!(page.contains("<th scope=\"col\">"));
    assert!(!page.contains("<script"), "no script on the page");
    // Everything held, in plain words.
    let offer_name = shown.body["suggestions"][0]["name"].as_str().expect("offer name");
    for text in [
        "Dit nummer i Brobygger: <strong>cand-a3</strong>",
        "Køn (bruges kun til at kontrollere",
        "female",
        "sickness_benefit",
        offer_name,
        "vist på skærmen",
        "Tilbuddet blev fravalgt",
        "Tilbuddet blev givet",
        "I arbejde",
        "cw-a (sagsbehandler)",
        "traf en beslutning",
        "det er altid en sagsbehandler i kommunen, der beslutter",
    ] {
        assert!(page.contains(text), "{text} missing from the page");
    }
    // Every value escaped; no CPR-like number anywhere (ids and reasons are checked for one
    // when written, and the page adds none).
    assert!(page.contains("Too far &lt;b&gt;away&lt;/b&gt; &amp; late"), "escaped reason");
    assert!(!page.contains("<b>away</b>"));
    let digits: Vec<&str> = page.split(|c: char| !c.is_ascii_digit()).filter(|d| d.len() >= 10).collect();
    assert!(digits.is_empty(), "no 10-digit numbers: {digits:?}");
    // Another tenant and unknown ids: the same 404 problem as JSON.
    let b_admin = create_token(&s.state.store, B, Role::Admin, "admin-b").expect("token");
    let other = call(s.addr, "GET", "/v1/candidates/cand-a3/export?format=html", Some(&b_admin), None);
    assert_problem(&other, 404);
    assert!(!other.body.to_string().contains("female"));
}

/// The access page through axe-core in chromium (the widget test's tools, `tests/browser`).
#[test]
fn the_access_page_passes_axe() {
    let s = start("access-axe");
    seed(&s);
    let cw = s.tokens.a_caseworker.clone();
    assert_eq!(
        call(s.addr, "POST", "/v1/suggestions", Some(&cw), Some(r#"{"candidate_id": "cand-a1"}"#)).status,
        200
    );
    assert_eq!(decide(&s, &cw, "cand-a1", "course-1", "accept").status, 201);
    let page =
        call(s.addr, "GET", "/v1/candidates/cand-a1/export?format=html", Some(&s.tokens.a_auditor), None);
    assert_eq!(page.status, 200);
    let html = page.body.as_str().expect("a page, not JSON").to_string();
    let file = s._dir.0.join("access-page.html");
    std::fs::write(&file, html).expect("write the page");
    let browser_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser");
    assert!(
        browser_dir.join("node_modules/axe-core").is_dir(),
        "tests/browser/node_modules is missing: `npm ci --prefix tests/browser` (`.ci/run` does it)"
    );
    let run = Command::new("node")
        .arg("page_axe.mjs")
        .arg(&file)
        .current_dir(&browser_dir)
        .output()
        .expect("run node (the browser test's tools)");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{out}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(out.contains("no serious accessibility violations"), "{out}");
}

/// A decision past its period that a caseworker commented on: the sweep must still run (the
/// comment goes with its decision, like its keys and its released place), and the other
/// records due go too.
#[test]
fn a_commented_decision_past_its_period_does_not_stop_the_sweep() {
    let s = start("retention-comment");
    seed(&s);
    let cw = s.tokens.a_caseworker.clone();
    let declined = decide(&s, &cw, "cand-a2", "course-2", "decline");
    assert_eq!(declined.status, 201, "{}", declined.body);
    let id = declined.body["id"].as_i64().expect("id");
    let body = json!({"text": "Citizen prefers a course nearer home."}).to_string();
    let comment = call(s.addr, "POST", &format!("/v1/decisions/{id}/comments"), Some(&cw), Some(&body));
    assert_eq!(comment.status, 201, "{}", comment.body);
    let first_comment = comment.body["id"].as_i64().expect("comment id");
    s.state.audit_log.flush();

    let db = s._dir.0.join("matcher.db");
    let policy = s._dir.0.join("test-0851.toml");
    std::fs::write(&policy, POLICY).expect("policy file");
    retention(&db, &policy, &matcher_service::clock::today_utc().plus_days(31).to_string(), false);
    let after = counts(&db, A);
    assert_eq!((after.decisions, after.suggestion_log, after.access_log), (0, 0, 0), "{after:?}");
    let c = rusqlite::Connection::open(&db).expect("open");
    let comments: i64 = c
        .query_row("SELECT count(*) FROM decision_comments WHERE municipality = ?1", [A], |r| r.get(0))
        .expect("comments");
    assert_eq!(comments, 0, "the comment goes with its decision");
    drop(c);
    // A new comment on a new decision does not take the deleted comment's number.
    let again = decide(&s, &cw, "cand-a2", "course-2", "decline");
    assert_eq!(again.status, 201, "{}", again.body);
    let id = again.body["id"].as_i64().expect("id");
    let comment = call(s.addr, "POST", &format!("/v1/decisions/{id}/comments"), Some(&cw), Some(&body));
    assert_eq!(comment.status, 201, "{}", comment.body);
    assert!(comment.body["id"].as_i64().expect("comment id") > first_comment, "{}", comment.body);
}

/// An outcome past its period (shorter than its decision's) goes; the decision stays. A second
/// outcome on that decision is still a second outcome (409): the offer's evidence kept the first
/// one, and the episode already ended.
#[test]
fn an_outcome_past_its_period_is_not_recorded_again() {
    let s = start("retention-outcome");
    seed(&s);
    let cw = s.tokens.a_caseworker.clone();
    let accept = decide(&s, &cw, "cand-a1", "course-1", "accept");
    assert_eq!(accept.status, 201, "{}", accept.body);
    let outcome = json!({"decision_id": accept.body["id"], "result": "in_work"}).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&outcome)).status, 201);
    let evidence = |db: &std::path::Path| -> i64 {
        let c = rusqlite::Connection::open(db).expect("open");
        c.query_row("SELECT COALESCE(SUM(trials), 0) FROM evidence WHERE offer_id = 'course-1'", [], |r| {
            r.get(0)
        })
        .expect("trials")
    };
    let db = s._dir.0.join("matcher.db");
    let trials = evidence(&db);
    let policy = s._dir.0.join("test-0851.toml");
    std::fs::write(&policy, POLICY).expect("policy file");
    // Day 26: the outcome is due (25 days), its decision not yet (30 days).
    retention(&db, &policy, &matcher_service::clock::today_utc().plus_days(26).to_string(), false);
    let after = counts(&db, A);
    assert_eq!((after.decisions, after.outcomes), (1, 0), "{after:?}");
    let again = call(s.addr, "POST", "/v1/outcomes", Some(&cw), Some(&outcome));
    assert_problem(&again, 409);
    assert_eq!(evidence(&db), trials, "the course counted once in its offer's evidence");
    // The accept is not open either: a later no-offer record of the candidate is taken.
    let exit = json!({"result": "in_work", "started": "2026-07-06", "weeks_to_exit": 4}).to_string();
    let r = call(s.addr, "POST", "/v1/candidates/cand-a1/exits", Some(&cw), Some(&exit));
    assert_eq!(r.status, 201, "{}", r.body);
}
