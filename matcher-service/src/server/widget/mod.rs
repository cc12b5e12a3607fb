//! The caseworker widget and the demo case screen: static assets compiled into the binary
//! (`include_str!`, nothing read at run time), served beside the API.
//!
//! `/widget/v1/brobygger.js` is one script without dependencies that defines the
//! `<brobygger-suggestions>` element; a case system embeds it (see `docs/service.md`). The `v1`
//! in the path is the element's contract (attributes, events, CSS custom properties): a breaking
//! change gets a new path so embedded pages keep working. With `--demo`, `/` is a mock case
//! screen embedding the widget, so a new user sees it working at once.

use crate::html::escape;
use crate::server::AppState;
use sha2::Digest;
use std::sync::{Arc, OnceLock};
use warp::Filter;
use warp::http::{HeaderValue, Method, StatusCode};
use warp::reply::Response;

/// The widget script.
pub const WIDGET_JS: &str = include_str!("brobygger.js");
const DEMO_HTML: &str = include_str!("demo.html");
const DEMO_JS: &str = include_str!("demo.js");
const DEMO_CSS: &str = include_str!("demo.css");

/// The demo page's policy: only this origin's scripts, styles and API; no inline script, no
/// framing. The widget's styles are a constructed stylesheet, which `style-src` admits.
pub const DEMO_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
     img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the demo case screen shows: the demo caseworker's token and a few of the tenant's
/// candidates. Only set by `matcher serve --demo`, whose data and tokens are invented.
#[derive(Debug, Clone)]
pub struct DemoPage {
    /// Bearer token of the demo caseworker (handed to the widget, as a case system would).
    pub token: String,
    /// Municipality code of the demo tenant.
    pub municipality: u16,
    /// Its name.
    pub municipality_name: String,
    /// Candidates listed on the case screen: (id, short description).
    pub candidates: Vec<(String, String)>,
    /// The demo tenant's teams (for the team overview page at `/team`).
    pub teams: Vec<String>,
}

/// Serves the widget script to anyone (no token, any origin). Other requests are rejected (not
/// found) so that they fall through.
pub fn script() -> warp::filters::BoxedFilter<(Response,)> {
    static WIDGET_ETAG: OnceLock<String> = OnceLock::new();
    get_or_head()
        .and(warp::path!("widget" / "v1" / "brobygger.js"))
        .and(warp::header::optional::<String>("if-none-match"))
        .map(|head: bool, if_none_match: Option<String>| {
            let etag = WIDGET_ETAG.get_or_init(|| etag(WIDGET_JS));
            if if_none_match.as_deref() == Some(etag.as_str()) {
                let mut r = Response::new(Vec::new().into());
                *r.status_mut() = StatusCode::NOT_MODIFIED;
                set(&mut r, "etag", etag);
                return r;
            }
            let mut r = asset(WIDGET_JS, "text/javascript; charset=utf-8", head);
            set(&mut r, "etag", etag);
            // A classic script needs no CORS; this lets a host load it with `crossorigin` (for
            // subresource integrity) too. The script is public and carries no data.
            set(&mut r, "access-control-allow-origin", "*");
            set(&mut r, "x-content-type-options", "nosniff");
            r
        })
        .boxed()
}

/// With a demo page set, serves `/` and its assets. Other requests are rejected (not found) so
/// that they fall through to the API.
pub fn filter(state: Arc<AppState>) -> warp::filters::BoxedFilter<(Response,)> {
    let demo_state = state.clone();
    let page = get_or_head().and(warp::path::end()).and(warp::header::optional::<String>("host")).and_then(
        move |head: bool, host: Option<String>| {
            let state = demo_state.clone();
            async move {
                // The page carries a token: only for a Host that names this server, so a page of
                // another name resolving here (DNS rebinding) cannot read it.
                let ours = state.hosts.get().is_some_and(|h| h.allows(host.as_deref()));
                match state.demo.get() {
                    Some(_) if !ours => Ok(misdirected()),
                    Some(demo) => {
                        let mut r = asset(render_demo(demo), "text/html; charset=utf-8", head);
                        set(&mut r, "content-security-policy", DEMO_CSP);
                        set(&mut r, "referrer-policy", "no-referrer");
                        // The page holds a token: never keep it in a shared cache.
                        set(&mut r, "cache-control", "no-store");
                        Ok(r)
                    }
                    None => Err(warp::reject::not_found()),
                }
            }
        },
    );
    let team_state = state.clone();
    let demo_asset = move |name: &'static str, body: &'static str, content_type: &'static str| {
        let state = state.clone();
        get_or_head().and(warp::path("demo")).and(warp::path(name)).and(warp::path::end()).and_then(
            move |head: bool| {
                let present = state.demo.get().is_some();
                async move {
                    if present { Ok(asset(body, content_type, head)) } else { Err(warp::reject::not_found()) }
                }
            },
        )
    };
    let team = get_or_head()
        .and(warp::path("team"))
        .and(warp::path::end())
        .and(warp::header::optional::<String>("host"))
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and_then(
            move |head: bool, host: Option<String>, query: std::collections::HashMap<String, String>| {
                let state = team_state.clone();
                async move {
                    let ours = state.hosts.get().is_some_and(|h| h.allows(host.as_deref()));
                    let Some(demo) = state.demo.get().cloned() else { return Err(warp::reject::not_found()) };
                    if !ours {
                        return Ok(misdirected());
                    }
                    Ok(team_page(state, &demo, &query, head).await)
                }
            },
        );
    page.or(team)
        .unify()
        .or(demo_asset("demo.js", DEMO_JS, "text/javascript; charset=utf-8"))
        .unify()
        .or(demo_asset("demo.css", DEMO_CSS, "text/css; charset=utf-8"))
        .unify()
        .boxed()
}

/// The demo's team overview page (`/team?team=…&lang=da|en`): the page the API answers to
/// `GET /v1/teams/{team}/overview?format=html`, for the demo tenant, with a link to the other
/// language. The demo's data is invented; a real deployment shows the page through its case
/// system with a caseworker's token.
async fn team_page(
    state: Arc<AppState>,
    demo: &DemoPage,
    query: &std::collections::HashMap<String, String>,
    head: bool,
) -> Response {
    let lang = crate::html::Lang::from_code(query.get("lang").map(String::as_str));
    let team = query.get("team").cloned().or_else(|| demo.teams.first().cloned()).unwrap_or_default();
    let known = demo.teams.contains(&team);
    let m = demo.municipality;
    let today = state.catalogues.today();
    let team_for_link = team.clone();
    let overview = tokio::task::spawn_blocking(move || {
        if !known {
            return None;
        }
        crate::server::api::team_overview_of(&state, m, &team, today.plus_days(-27), today).ok()
    })
    .await
    .ok()
    .flatten();
    let Some(overview) = overview else {
        let mut r = Response::new("no such team in the demo".into());
        *r.status_mut() = StatusCode::NOT_FOUND;
        set(&mut r, "content-type", "text/plain; charset=utf-8");
        return r;
    };
    let other = match lang {
        crate::html::Lang::Da => format!("/team?team={team_for_link}&lang=en"),
        crate::html::Lang::En => format!("/team?team={team_for_link}&lang=da"),
    };
    let html = crate::server::team::page::render(&overview, lang, Some(&other));
    let mut r = asset(html, "text/html; charset=utf-8", head);
    set(&mut r, "content-security-policy", &crate::server::team::page::csp());
    set(&mut r, "cache-control", "no-store");
    r
}

/// GET and HEAD (true for HEAD). Any other method is left to the API, which answers 405 or 404.
fn get_or_head() -> impl Filter<Extract = (bool,), Error = warp::Rejection> + Clone {
    warp::method().and_then(|method: Method| async move {
        match method {
            Method::GET => Ok(false),
            Method::HEAD => Ok(true),
            _ => Err(warp::reject::not_found()),
        }
    })
}

/// A static answer; to HEAD the same headers (Content-Length of the GET body too) and no body,
/// as RFC 9110 asks, so caches and link checkers can probe the script.
fn asset(body: impl Into<warp::hyper::body::Bytes>, content_type: &'static str, head: bool) -> Response {
    let body: warp::hyper::body::Bytes = body.into();
    let length = body.len();
    let mut r = Response::new(if head { warp::hyper::body::Bytes::new().into() } else { body.into() });
    r.headers_mut().insert("content-length", HeaderValue::from(length));
    set(&mut r, "content-type", content_type);
    set(&mut r, "x-content-type-options", "nosniff");
    set(&mut r, "cache-control", "public, max-age=300");
    r
}

/// 421 Misdirected Request: this server is not the host the request names.
fn misdirected() -> Response {
    let body = serde_json::json!({
        "type": "/problems/misdirected", "title": "Misdirected request", "status": 421,
        "detail": "the Host header does not name this server; use its address or an --allowed-host"
    });
    let mut r = Response::new(serde_json::to_vec(&body).unwrap_or_default().into());
    *r.status_mut() = StatusCode::MISDIRECTED_REQUEST;
    set(&mut r, "content-type", "application/problem+json");
    set(&mut r, "cache-control", "no-store");
    r
}

fn set(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

fn etag(body: &str) -> String {
    let digest = sha2::Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn render_demo(demo: &DemoPage) -> String {
    let first = demo.candidates.first().map_or("", |(id, _)| id.as_str());
    let mut items = String::new();
    for (i, (id, description)) in demo.candidates.iter().enumerate() {
        items.push_str(&format!(
            "<li><button type=\"button\" class=\"case\" data-candidate=\"{id}\" aria-pressed=\"{pressed}\">\
             <span class=\"case-id\">{id}</span> <span class=\"case-desc\">{description}</span></button></li>\n",
            id = escape(id),
            description = escape(description),
            pressed = if i == 0 { "true" } else { "false" },
        ));
    }
    DEMO_HTML
        .replace("{{municipality}}", &format!("{:04}", demo.municipality))
        .replace("{{municipality_name}}", &escape(&demo.municipality_name))
        .replace("{{candidates}}", &items)
        .replace("{{first_candidate}}", &escape(first))
        .replace("{{token}}", &escape(&demo.token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_page_fills_every_placeholder_and_escapes_its_data() {
        let demo = DemoPage {
            token: "bro_abc".into(),
            municipality: 751,
            municipality_name: "Aarhus".into(),
            candidates: vec![("cand-1".into(), "<b>25-29</b>".into()), ("cand-2".into(), "x".into())],
            teams: vec![],
        };
        let html = render_demo(&demo);
        assert!(!html.contains("{{"), "a placeholder is left: {html}");
        assert!(html.contains("candidate-id=\"cand-1\""));
        assert!(html.contains("&lt;b&gt;25-29&lt;/b&gt;"));
        assert!(html.contains("0751"));
        assert!(!html.contains("<script>"), "the page must not need inline script");
    }

    #[test]
    fn the_widget_uses_no_eval_and_no_inline_handlers() {
        for needle in ["eval(", "new Function", "innerHTML", "onclick=", "document.write"] {
            assert!(!WIDGET_JS.contains(needle), "brobygger.js contains {needle}");
        }
        for page in [DEMO_HTML, WIDGET_JS, DEMO_JS] {
            let lower = page.to_ascii_lowercase();
            for (i, _) in lower.match_indices(" on") {
                let rest = &lower[i + 3..];
                let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
                assert!(
                    name_len == 0 || rest.as_bytes().get(name_len) != Some(&b'='),
                    "an inline event handler at byte {i}"
                );
            }
        }
    }
}
