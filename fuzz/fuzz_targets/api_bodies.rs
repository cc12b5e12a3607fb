//! Request bodies through the whole service in process: routing, body limit, authentication,
//! the handler's parsing and validation, the store. The first byte picks the route and the
//! caller's role; the rest is the body. A 500 is a bug (a 4xx is the right answer to junk).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use matcher_service::server::api::http::{HeaderMap, HeaderValue, Method};
use matcher_service::server::auth::Role;
use matcher_service::server::{AppState, Config, load_demo};
use std::sync::{Arc, OnceLock};

const ROUTES: [(&str, &str); 8] = [
    ("POST", "/v1/offers"),
    ("POST", "/v1/candidates"),
    ("POST", "/v1/suggestions"),
    ("POST", "/v1/decisions"),
    ("POST", "/v1/outcomes"),
    ("POST", "/v1/batch-runs"),
    ("POST", "/v1/offers/x/retire"),
    ("DELETE", "/v1/candidates/x"),
];

struct Setup {
    runtime: tokio::runtime::Runtime,
    state: Arc<AppState>,
    tokens: Vec<(Role, String)>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("brobygger-fuzz-api-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let config = Config {
            db: dir.join("matcher.db"),
            today: matcher_core::model::Date::parse("2026-09-01"),
            ..Config::default()
        };
        let state = AppState::open(config).expect("open the service state");
        let tokens = load_demo(&state).expect("demo data");
        // The main municipality's tokens, one per role (the last demo token is another tenant).
        let tokens = tokens.into_iter().take(4).map(|(_, role, _, token)| (role, token)).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        Setup { runtime, state, tokens }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let setup = setup();
    let (method, path) = ROUTES[usize::from(which) % ROUTES.len()];
    let (_, token) = &setup.tokens[usize::from(which / 8) % setup.tokens.len()];
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {token}")).expect("token header"));
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let response = setup.runtime.block_on(matcher_service::server::api::respond(
        setup.state.clone(),
        method,
        path,
        "",
        headers,
        Bytes::copy_from_slice(body),
    ));
    assert_ne!(response.status().as_u16(), 500, "{path} answered 500 to {:?}", String::from_utf8_lossy(body));
});
