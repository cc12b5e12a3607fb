//! The service harness of the end-to-end tests: a tiny HTTP/1.1 client, an in-process server
//! on an ephemeral port with one token per role, the real binary as a child process, and the
//! records the tests post.

use matcher_service::server::auth::{Role, create_provider_token, create_token};
use matcher_service::server::{AppState, Config};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub(crate) struct TempDir(pub(crate) PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn temp_dir(label: &str) -> TempDir {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("brobygger-svc-{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    TempDir(dir)
}

// ----- a tiny HTTP/1.1 client (one connection per request) -----

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) body: Value,
}

pub(crate) fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String, Vec<u8>) {
    // Status 0 stands for "no answer" (the kill -9 test connects to a dead server).
    let Ok(mut s) = TcpStream::connect(addr) else { return (0, String::new(), Vec::new()) };
    let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
    // The server may answer (413) and close before the whole body is sent: ignore that.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..split]).to_string();
    let body = out.get(split + 4..).unwrap_or(&[]).to_vec();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body)
}

pub(crate) fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("content-type: application/json\r\ncontent-length: {}\r\n\r\n{b}", b.len()));
    } else {
        req.push_str("\r\n");
    }
    let (status, headers, body) = raw(addr, req.as_bytes());
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    Answer { status, headers, body }
}

// ----- an in-process server -----

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) tokens: Tokens,
    pub(crate) state: std::sync::Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub(crate) _dir: TempDir,
}

#[derive(Clone)]
pub(crate) struct Tokens {
    pub(crate) a_caseworker: String,
    pub(crate) a_admin: String,
    pub(crate) a_system: String,
    pub(crate) a_provider: String,
    pub(crate) a_auditor: String,
    pub(crate) b_caseworker: String,
}

impl Tokens {
    pub(crate) fn for_role(&self, role: Role) -> &str {
        match role {
            Role::Caseworker => &self.a_caseworker,
            Role::Admin => &self.a_admin,
            Role::System => &self.a_system,
            Role::Provider => &self.a_provider,
            Role::Auditor => &self.a_auditor,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub(crate) const A: u16 = 851;
pub(crate) const B: u16 = 101;

pub(crate) fn start(label: &str) -> Server {
    start_with(label, Vec::new())
}

pub(crate) fn start_with(label: &str, cors_origins: Vec<String>) -> Server {
    start_config(label, |c| c.cors_origins = cors_origins)
}

pub(crate) fn start_config(label: &str, tweak: impl FnOnce(&mut Config)) -> Server {
    let dir = temp_dir(label);
    let mut config = Config {
        db: dir.0.join("matcher.db"),
        max_body_bytes: 1024 * 1024,
        today: matcher_core::model::Date::parse("2026-09-01"),
        ..Config::default()
    };
    tweak(&mut config);
    let state = AppState::open(config).expect("open state");
    let t = |m, role, user| create_token(&state.store, m, role, user).expect("token");
    let tokens = Tokens {
        a_caseworker: t(A, Role::Caseworker, "cw-a"),
        a_admin: t(A, Role::Admin, "admin-a"),
        a_system: t(A, Role::System, "sys-a"),
        a_provider: create_provider_token(&state.store, A, "lev-0001", "prov-a").expect("token"),
        a_auditor: t(A, Role::Auditor, "auditor-a"),
        b_caseworker: t(B, Role::Caseworker, "cw-b"),
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let serve_state = state.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let (listener, addr) =
                matcher_service::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
            addr_tx.send(addr).expect("send addr");
            matcher_service::server::serve(serve_state, listener, async {
                let _ = rx.await;
            })
            .await;
        });
    });
    let addr = addr_rx.recv().expect("server address");
    Server { addr, tokens, state, stop: Some(tx), thread: Some(thread), _dir: dir }
}

pub(crate) fn offer(id: &str, capacity: u32) -> Value {
    json!({"id": id, "kind": "provider", "name": format!("Course {id} (invented)"), "provider_id": "lev-0001",
           "municipality": "0851", "lat": 57.01, "lon": 9.94, "capacity": capacity, "price_dkk": 12000,
           "contract": "specialist", "target_groups": ["sickness", "cash_longterm"], "languages": "da",
           "min_hours": 5, "duration_weeks": 12})
}

pub(crate) fn candidate(id: &str, municipality: &str) -> Value {
    json!({"id": id, "municipality": municipality, "lat": 57.05, "lon": 10.0, "age_band": "40-49",
           "target_groups": "sickness", "benefit_kind": "sickness_benefit", "benefit_start": "2026-07-01",
           "benefit_end": "2027-03-01", "max_travel_km": 40, "languages": ["da"]})
}

/// Offers course-1 (10 places) and course-2 (3 places); candidates a1, a2 in A and b1 in B.
pub(crate) fn seed(s: &Server) {
    seed_offers(s, &[("course-1", 10), ("course-2", 3)]);
}

/// The given offers (id, places); candidates a1, a2 in A and b1 in B.
pub(crate) fn seed_offers(s: &Server, places: &[(&str, u32)]) {
    let offers = Value::Array(places.iter().map(|&(id, c)| offer(id, c)).collect()).to_string();
    let r = call(s.addr, "POST", "/v1/offers", Some(&s.tokens.a_system), Some(&offers));
    assert_eq!(r.status, 200, "{}", r.body);
    let a = json!([candidate("cand-a1", "0851"), candidate("cand-a2", "0851")]).to_string();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&s.tokens.a_caseworker), Some(&a));
    assert_eq!(r.status, 200, "{}", r.body);
    let b_token = create_token(&s.state.store, B, Role::System, "sys-b").expect("token");
    let b = json!([candidate("cand-b1", "0101")]).to_string();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&b_token), Some(&b));
    assert_eq!(r.status, 200, "{}", r.body);
}

pub(crate) fn decide(s: &Server, token: &str, candidate: &str, offer: &str, action: &str) -> Answer {
    let body = json!({"candidate_id": candidate, "offer_id": offer, "action": action, "reason": "fits the plan",
                      "suggested_offer_ids": [offer]});
    call(s.addr, "POST", "/v1/decisions", Some(token), Some(&body.to_string()))
}

pub(crate) fn assert_problem(r: &Answer, status: u16) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(r.headers.contains("content-type: application/problem+json"), "{}", r.headers);
    assert_eq!(r.body["status"], status, "{}", r.body);
    assert!(r.body["type"].as_str().is_some_and(|t| t.starts_with("/problems/")), "{}", r.body);
    assert!(r.body["request_id"].is_string(), "{}", r.body);
}

// ----- the real binary: kill -9 and restart -----

pub(crate) struct Child(pub(crate) std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn spawn_server(db: &Path) -> (Child, SocketAddr) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_matcher"))
        .args(["serve", "--bind", "127.0.0.1:0", "--today", "2026-09-01", "--db"])
        .arg(db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn matcher serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the listening line");
    let addr = line.trim().trim_start_matches("listening on http://").parse().expect("address");
    (Child(child), addr)
}

pub(crate) fn cli_token(db: &Path, municipality: &str, role: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_matcher"))
        .args(["token", "create", "--municipality", municipality, "--role", role, "--user", "e2e", "--db"])
        .arg(db)
        .output()
        .expect("token create");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Starts a batch run for the token's municipality and waits for it to finish (30 s at most);
/// returns its number.
pub(crate) fn batch_run(s: &Server, token: &str) -> i64 {
    let r = call(s.addr, "POST", "/v1/batch-runs", Some(token), None);
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_i64().expect("id");
    for _ in 0..600 {
        let r = call(s.addr, "GET", &format!("/v1/batch-runs/{id}"), Some(token), None);
        if r.body["status"] != "running" {
            assert_eq!(r.body["status"], "finished", "{}", r.body);
            return id;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("batch run {id} did not finish");
}

/// The database file with its logs' file attached as `logs`, as the service's readers see it:
/// the log tables are named unqualified (the records' file has none since schema 14).
pub(crate) fn open_db(db: &std::path::Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(db).expect("open the database file");
    let logs = matcher_service::server::store::logs_path(db);
    c.execute("ATTACH DATABASE ?1 AS logs", [logs.to_str().expect("a text path")])
        .expect("attach the logs' file");
    c
}

/// The rows a query reads, each as the text stored, values joined by ` | ` (not Rust's debug
/// form, which shows text as a list of bytes that no search for a word can match).
pub(crate) fn rows_as_text(db: &rusqlite::Connection, sql: &str) -> Vec<String> {
    use rusqlite::types::ValueRef;
    let mut stmt = db.prepare(sql).expect("select");
    let columns = stmt.column_count();
    stmt.query_map([], |r| {
        Ok((0..columns)
            .map(|i| match r.get_ref(i) {
                Ok(ValueRef::Text(t) | ValueRef::Blob(t)) => String::from_utf8_lossy(t).into_owned(),
                Ok(ValueRef::Integer(x)) => x.to_string(),
                Ok(ValueRef::Real(x)) => x.to_string(),
                Ok(ValueRef::Null) => String::new(),
                Err(e) => e.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" | "))
    })
    .expect("rows")
    .collect::<Result<_, _>>()
    .expect("read")
}
