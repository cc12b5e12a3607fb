//! HTTP: one warp filter that reads the request (with the body limit), then a small router
//! over [`ROUTES`], the single table that both dispatches requests and generates
//! `/openapi.json`, so the document cannot drift from the routes.
//!
//! Every request gets an id (`x-request-id`), runs in its own task (a panic becomes a logged
//! 500, never a dropped connection) under the request timeout, and answers errors as RFC 9457
//! problem details.

pub mod answers;
mod handlers;
pub(crate) use handlers::{run_caseload_plan, team_overview_of};
pub mod openapi;
pub mod orderer;

/// The HTTP types of [`respond`], for callers that do not depend on warp themselves.
pub use warp::http;

use crate::server::AppState;
use crate::server::auth::{Principal, Role};
use crate::server::error::ApiError;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use warp::Filter;
use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};
use warp::hyper::body::Buf;
use warp::reply::Response;

/// Which handler a route runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Liveness.
    Healthz,
    /// Readiness (database answers, catalogue loaded).
    Readyz,
    /// Prometheus metrics.
    Metrics,
    /// The OpenAPI document.
    OpenApi,
    /// Bulk create or update offers.
    OffersUpsert,
    /// List offers.
    OffersList,
    /// Read one offer.
    OfferGet,
    /// Retire an offer.
    OfferRetire,
    /// Quality of an offer.
    OfferQuality,
    /// Quality of a provider.
    ProviderQuality,
    /// Bulk create or update candidates.
    CandidatesUpsert,
    /// List candidates.
    CandidatesList,
    /// Read a candidate.
    CandidateGet,
    /// Erase a candidate.
    CandidateDelete,
    /// Suggestions for one candidate.
    Suggestions,
    /// Record a decision.
    DecisionCreate,
    /// List decisions.
    DecisionsList,
    /// Read a decision.
    DecisionGet,
    /// Withdraw a decision.
    DecisionWithdraw,
    /// Record an outcome.
    OutcomeCreate,
    /// Record an episode without an offer (left benefit, or still on it at follow-up).
    ExitCreate,
    /// The tenant's episode history in the `outcomes` table's format.
    HistoryList,
    /// Start a batch run.
    BatchStart,
    /// Status of a batch run.
    BatchGet,
    /// Proposals of a batch run.
    BatchProposals,
    /// The suggestion log of a candidate.
    AuditSuggestions,
    /// The access log.
    AuditAccess,
    /// Everything held about a candidate (right of access).
    CandidateExport,
    /// Oversight of the system's influence on decisions.
    Oversight,
    /// Create or update providers in the registry.
    ProvidersUpsert,
    /// List the provider registry.
    ProvidersList,
    /// Read one provider.
    ProviderGet,
    /// Decisions about a provider's offers (the provider's view).
    ProviderDecisions,
    /// Write one of the municipality's contracts.
    ContractPut,
    /// List the municipality's contracts.
    ContractsList,
    /// The overview of providers × target groups.
    OverviewProviders,
    /// Spend per period from decisions made.
    OverviewSpend,
    /// Comments on a decision.
    CommentsList,
    /// Comment on a decision.
    CommentCreate,
    /// Run (and apply) the caseload plan.
    CaseloadPlan,
    /// A team's workload.
    TeamOverview,
}

/// One route: what dispatch and the OpenAPI document need to know.
#[derive(Debug)]
pub struct Route {
    /// Handler.
    pub op: Op,
    /// HTTP method.
    pub method: &'static str,
    /// Path pattern; `{name}` is one segment.
    pub path: &'static str,
    /// Summary line.
    pub summary: &'static str,
    /// Roles admitted; empty for a public route (no token needed).
    pub roles: &'static [Role],
    /// Request body schema name, if the route takes a body.
    pub request: Option<&'static str>,
    /// Success status and its schema name.
    pub success: (u16, &'static str),
    /// Error statuses the route can answer (besides 500 and 503).
    pub errors: &'static [u16],
}

const ALL: &[Role] = &[Role::System, Role::Caseworker, Role::Provider, Role::Admin, Role::Auditor];
const OFFER_WRITERS: &[Role] = &[Role::System, Role::Admin];
const TENANT_DATA: &[Role] = &[Role::System, Role::Caseworker, Role::Admin];
const DECIDERS: &[Role] = &[Role::Caseworker, Role::Admin];
const AUDITORS: &[Role] = &[Role::Admin, Role::Auditor];
const TENANT_READERS: &[Role] = &[Role::System, Role::Caseworker, Role::Admin, Role::Auditor];
/// The tenant's readers and a provider's user, who reads only what concerns its own offers.
const READERS_AND_PROVIDER: &[Role] =
    &[Role::System, Role::Caseworker, Role::Admin, Role::Auditor, Role::Provider];
/// Who may comment on a decision: its provider's user and the municipality's deciders.
const COMMENTERS: &[Role] = &[Role::Provider, Role::Caseworker, Role::Admin];
const CASELOAD_PLANNERS: &[Role] = &[Role::System, Role::Admin];
const TEAM_READERS: &[Role] = &[Role::Caseworker, Role::Admin];

/// Every route of the service.
pub const ROUTES: &[Route] = &[
    Route {
        op: Op::Healthz,
        method: "GET",
        path: "/healthz",
        summary: "Liveness",
        roles: &[],
        request: None,
        success: (200, "Health"),
        errors: &[],
    },
    Route {
        op: Op::Readyz,
        method: "GET",
        path: "/readyz",
        summary: "Readiness: database answers and offers are loaded",
        roles: &[],
        request: None,
        success: (200, "Health"),
        errors: &[],
    },
    Route {
        op: Op::Metrics,
        method: "GET",
        path: "/metrics",
        summary: "Prometheus metrics (text format)",
        roles: &[],
        request: None,
        success: (200, "PrometheusText"),
        errors: &[],
    },
    Route {
        op: Op::OpenApi,
        method: "GET",
        path: "/openapi.json",
        summary: "This document",
        roles: &[],
        request: None,
        success: (200, "OpenApi"),
        errors: &[],
    },
    Route {
        op: Op::OffersUpsert,
        method: "POST",
        path: "/v1/offers",
        summary: "Create or update offers in bulk (shared by all to read; each changed only by the municipality that contracts it)",
        roles: OFFER_WRITERS,
        request: Some("OfferRecords"),
        success: (200, "UpsertResult"),
        errors: &[400, 401, 403, 409, 413, 415, 422],
    },
    Route {
        op: Op::OffersList,
        method: "GET",
        path: "/v1/offers",
        summary: "List offers (limit, offset)",
        roles: ALL,
        request: None,
        success: (200, "OfferList"),
        errors: &[401, 422],
    },
    Route {
        op: Op::OfferGet,
        method: "GET",
        path: "/v1/offers/{id}",
        summary: "Read an offer with its remaining places",
        roles: ALL,
        request: None,
        success: (200, "OfferView"),
        errors: &[401, 404, 422],
    },
    Route {
        op: Op::OfferRetire,
        method: "POST",
        path: "/v1/offers/{id}/retire",
        summary: "Retire an offer of your municipality: it takes no one new; decisions keep pointing at it",
        roles: OFFER_WRITERS,
        request: None,
        success: (200, "OfferView"),
        errors: &[400, 401, 403, 404, 415, 422],
    },
    Route {
        op: Op::OfferQuality,
        method: "GET",
        path: "/v1/offers/{id}/quality",
        summary: "Success rate per target group with a 90% interval, utilisation, price",
        roles: ALL,
        request: None,
        success: (200, "Quality"),
        errors: &[401, 404, 422],
    },
    Route {
        op: Op::ProviderQuality,
        method: "GET",
        path: "/v1/providers/{id}/quality",
        summary: "A provider's success rate per target group over its offers",
        roles: ALL,
        request: None,
        success: (200, "ProviderQuality"),
        errors: &[401, 404, 422],
    },
    Route {
        op: Op::CandidatesUpsert,
        method: "POST",
        path: "/v1/candidates",
        summary: "Create or update the tenant's candidates in bulk",
        roles: TENANT_DATA,
        request: Some("CandidateRecords"),
        success: (200, "UpsertResult"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Route {
        op: Op::CandidatesList,
        method: "GET",
        path: "/v1/candidates",
        summary: "List the tenant's candidates (limit, offset)",
        roles: TENANT_READERS,
        request: None,
        success: (200, "CandidateList"),
        errors: &[401, 403, 422],
    },
    Route {
        op: Op::CandidateGet,
        method: "GET",
        path: "/v1/candidates/{id}",
        summary: "Read one of the tenant's candidates",
        roles: TENANT_READERS,
        request: None,
        success: (200, "CandidateRecord"),
        errors: &[401, 403, 404, 422],
    },
    Route {
        op: Op::CandidateDelete,
        method: "DELETE",
        path: "/v1/candidates/{id}",
        summary: "Erase a candidate (right to erasure); decisions keep the pseudonymous id",
        roles: TENANT_DATA,
        request: None,
        success: (200, "Erasure"),
        errors: &[401, 403, 404, 422],
    },
    Route {
        op: Op::Suggestions,
        method: "POST",
        path: "/v1/suggestions",
        summary: "Top-k offers for a stored or inline candidate, explained",
        roles: TENANT_DATA,
        request: Some("SuggestionRequest"),
        success: (200, "Suggestions"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Route {
        op: Op::DecisionCreate,
        method: "POST",
        path: "/v1/decisions",
        summary: "A caseworker accepts (reserving a place atomically) or declines an offer",
        roles: DECIDERS,
        request: Some("DecisionRequest"),
        success: (201, "DecisionRecorded"),
        errors: &[400, 401, 403, 404, 409, 413, 415, 422],
    },
    Route {
        op: Op::DecisionsList,
        method: "GET",
        path: "/v1/decisions",
        summary: "The tenant's decisions in id order, a page at a time (limit, after; candidate_id filter)",
        roles: TENANT_READERS,
        request: None,
        success: (200, "DecisionList"),
        errors: &[401, 403, 422],
    },
    Route {
        op: Op::DecisionGet,
        method: "GET",
        path: "/v1/decisions/{id}",
        summary: "One of the tenant's decisions",
        roles: TENANT_READERS,
        request: None,
        success: (200, "Decision"),
        errors: &[401, 403, 404, 422],
    },
    Route {
        op: Op::DecisionWithdraw,
        method: "POST",
        path: "/v1/decisions/{id}/withdrawal",
        summary: "A caseworker withdraws an earlier decision with a reason; an accept's place comes back at once",
        roles: DECIDERS,
        request: Some("WithdrawalRequest"),
        success: (201, "Decision"),
        errors: &[400, 401, 403, 404, 409, 413, 415, 422],
    },
    Route {
        op: Op::OutcomeCreate,
        method: "POST",
        path: "/v1/outcomes",
        summary: "Result of an accepted offer; updates the evidence behind quality figures",
        roles: TENANT_DATA,
        request: Some("OutcomeRequest"),
        success: (201, "Outcome"),
        errors: &[400, 401, 403, 404, 409, 413, 415, 422],
    },
    Route {
        op: Op::ExitCreate,
        method: "POST",
        path: "/v1/candidates/{id}/exits",
        summary: "Record that a candidate left benefit, or is still on it at the follow-up, without an accepted offer: an episode of the comparison group",
        roles: TENANT_DATA,
        request: Some("ExitRequest"),
        success: (201, "HistoryEpisode"),
        errors: &[400, 401, 403, 404, 409, 413, 415, 422],
    },
    Route {
        op: Op::HistoryList,
        method: "GET",
        path: "/v1/history",
        summary: "The municipality's finished episodes in the `outcomes` table's format (JSON, or CSV with Accept: text/csv), keyset-paged",
        roles: TENANT_DATA,
        request: None,
        success: (200, "HistoryPage"),
        errors: &[401, 403, 422],
    },
    Route {
        op: Op::BatchStart,
        method: "POST",
        path: "/v1/batch-runs",
        summary: "Start re-matching the tenant's candidates",
        roles: TENANT_DATA,
        request: None,
        success: (202, "BatchStarted"),
        errors: &[401, 403, 409],
    },
    Route {
        op: Op::BatchGet,
        method: "GET",
        path: "/v1/batch-runs/{id}",
        summary: "Status and summary of a batch run",
        roles: TENANT_DATA,
        request: None,
        success: (200, "BatchRun"),
        errors: &[401, 403, 404, 422],
    },
    Route {
        op: Op::BatchProposals,
        method: "GET",
        path: "/v1/batch-runs/{id}/proposals",
        summary: "Proposals of a finished batch run",
        roles: TENANT_DATA,
        request: None,
        success: (200, "Proposals"),
        errors: &[401, 403, 404, 409, 422],
    },
    Route {
        op: Op::AuditSuggestions,
        method: "GET",
        path: "/v1/audit/suggestions",
        summary: "What was suggested to a candidate (candidate_id; date, after, limit), exactly as it was shown",
        roles: AUDITORS,
        request: None,
        success: (200, "SuggestionLog"),
        errors: &[401, 403, 422],
    },
    Route {
        op: Op::AuditAccess,
        method: "GET",
        path: "/v1/audit/access",
        summary: "Who read or changed which candidate, oldest first (candidate_id; after, limit)",
        roles: AUDITORS,
        request: None,
        success: (200, "AccessLog"),
        errors: &[401, 403, 422],
    },
    Route {
        op: Op::CandidateExport,
        method: "GET",
        path: "/v1/candidates/{id}/export",
        summary: "Right of access: everything held about a candidate (data, suggestions shown, decisions, outcomes, accesses)",
        roles: AUDITORS,
        request: None,
        success: (200, "CandidateExport"),
        errors: &[401, 403, 404, 422],
    },
    Route {
        op: Op::Oversight,
        method: "GET",
        path: "/v1/oversight",
        summary: "Oversight of the system's influence: per caseworker (paged by name), team and municipality, top-suggestion accepts, offers not suggested, time to decision, decline reasons, rubber-stamp flag (from, to, after, limit)",
        roles: AUDITORS,
        request: None,
        success: (200, "Oversight"),
        errors: &[401, 403, 422],
    },
    Route {
        op: Op::ProvidersUpsert,
        method: "POST",
        path: "/v1/providers",
        summary: "Create or update providers in the registry (each written only by its home municipality)",
        roles: OFFER_WRITERS,
        request: Some("ProviderRecords"),
        success: (200, "UpsertResult"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Route {
        op: Op::ProvidersList,
        method: "GET",
        path: "/v1/providers",
        summary: "The provider registry (municipality, kind; limit, offset)",
        roles: ALL,
        request: None,
        success: (200, "ProviderList"),
        errors: &[401, 422],
    },
    Route {
        op: Op::ProviderGet,
        method: "GET",
        path: "/v1/providers/{id}",
        summary: "One provider: name, home municipality, contact, its offers",
        roles: ALL,
        request: None,
        success: (200, "ProviderView"),
        errors: &[401, 404, 422],
    },
    Route {
        op: Op::ProviderDecisions,
        method: "GET",
        path: "/v1/providers/{id}/decisions",
        summary: "The municipality's decisions about a provider's offers, pseudonymous (a provider: only its own; limit, after)",
        roles: READERS_AND_PROVIDER,
        request: None,
        success: (200, "ProviderDecisionList"),
        errors: &[401, 403, 404, 422],
    },
    Route {
        op: Op::ContractPut,
        method: "POST",
        path: "/v1/contracts",
        summary: "Write one of the municipality's contracts (201 new, 200 replaced by id)",
        roles: OFFER_WRITERS,
        request: Some("ContractRequest"),
        success: (201, "Contract"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Route {
        op: Op::ContractsList,
        method: "GET",
        path: "/v1/contracts",
        summary: "The municipality's contracts (provider_id, kind; limit, offset); a provider sees its own",
        roles: READERS_AND_PROVIDER,
        request: None,
        success: (200, "ContractList"),
        errors: &[401, 403, 422],
    },
    Route {
        op: Op::OverviewProviders,
        method: "GET",
        path: "/v1/overview/providers",
        summary: "Providers × target groups: places, use, price, spend, contract, quality (JSON, or CSV with Accept: text/csv)",
        roles: READERS_AND_PROVIDER,
        request: None,
        success: (200, "ProviderOverview"),
        errors: &[401, 403, 422],
    },
    Route {
        op: Op::OverviewSpend,
        method: "GET",
        path: "/v1/overview/spend",
        summary: "Spend from decisions made, per month, quarter or year, with the supplier tail",
        roles: TENANT_READERS,
        request: None,
        success: (200, "SpendOverview"),
        errors: &[401, 403, 422],
    },
    Route {
        op: Op::CommentsList,
        method: "GET",
        path: "/v1/decisions/{id}/comments",
        summary: "Comments on a decision (a provider: on decisions about its offers)",
        roles: READERS_AND_PROVIDER,
        request: None,
        success: (200, "CommentList"),
        errors: &[401, 403, 404, 422],
    },
    Route {
        op: Op::CommentCreate,
        method: "POST",
        path: "/v1/decisions/{id}/comments",
        summary: "Attach an append-only comment to a decision (a provider: on decisions about its offers)",
        roles: COMMENTERS,
        request: Some("CommentRequest"),
        success: (201, "Comment"),
        errors: &[400, 401, 403, 404, 413, 415, 422],
    },
    Route {
        op: Op::CaseloadPlan,
        method: "POST",
        path: "/v1/caseload-plans",
        summary: "Who takes each of the tenant's candidates without a case, balancing caseloads under the caps (`apply`: store the caseworkers and open the cases; 201)",
        roles: CASELOAD_PLANNERS,
        request: Some("CaseloadPlanRequest"),
        success: (200, "CaseloadPlan"),
        errors: &[400, 401, 403, 413, 415, 422],
    },
    Route {
        op: Op::TeamOverview,
        method: "GET",
        path: "/v1/teams/{team}/overview",
        summary: "A team's workload for the team meeting (from, to; format=html with lang=da|en for the page): caseloads against caps, new and closed cases, median case length, early action on sickness benefit; a picture of the load, not a ranking",
        roles: TEAM_READERS,
        request: None,
        success: (200, "TeamOverview"),
        errors: &[401, 403, 404, 422],
    },
];

/// A routed request, as a handler sees it.
pub struct Request {
    /// The route.
    pub route: &'static Route,
    /// Path parameters, in pattern order.
    pub params: Vec<String>,
    /// Raw query string.
    pub query: String,
    /// The body (already size-checked).
    pub body: Bytes,
    /// The caller (for routes with roles).
    pub principal: Option<Principal>,
    /// The `Idempotency-Key` header, when sent (`None` also when it is not valid UTF-8, which
    /// the handler reports).
    pub idempotency_key: Option<Result<String, ()>>,
    /// The request's id (`x-request-id`), recorded in the access log.
    pub request_id: String,
    /// The caller presented the metrics scraper's token (only looked at by `/metrics`).
    pub scraper: bool,
    /// The `Accept` header asks for `text/csv` (only looked at by routes that answer CSV).
    pub accepts_csv: bool,
    /// The `Accept` header names `text/html` (only looked at by the routes with a page).
    pub wants_html: bool,
}

/// True when the request's `Accept` headers name `media` (any parameters and case ignored):
/// the one reading of `Accept` for the routes with a CSV or HTML form.
fn accepts(headers: &warp::http::HeaderMap, media: &str) -> bool {
    headers.get_all("accept").iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|part| part.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(media))
    })
}

impl Request {
    /// The caller; routes with roles always have one.
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] on a public route.
    pub fn principal(&self) -> Result<&Principal, ApiError> {
        self.principal.as_ref().ok_or(ApiError::Unauthorized)
    }
}

/// What a handler answers.
pub enum Reply {
    /// JSON with a status.
    Json(u16, serde_json::Value),
    /// JSON already serialised (hot paths skip building a `Value`; the suggestion log shares
    /// the bytes).
    Raw(u16, Bytes),
    /// Plain text (metrics).
    Text(String),
    /// CSV (`text/csv`), with the `Link` of the next page when there is one.
    Csv(Vec<u8>, Option<String>),
    /// An HTML page (the team overview, the citizen's access page) with its own
    /// Content-Security-Policy: no page runs a script.
    Html { page: String, csp: String },
}

enum Matched {
    Route(&'static Route, Vec<String>),
    /// The path exists with these methods (for the `Allow` header RFC 9110 asks of a 405).
    WrongMethod(Vec<&'static str>),
    None,
}

fn route(method: &Method, path: &str) -> Matched {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut allowed = Vec::new();
    for r in ROUTES {
        let pattern: Vec<&str> = r.path.split('/').collect();
        if pattern.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let ok = pattern.iter().zip(&segments).all(|(p, s)| {
            if p.starts_with('{') {
                params.push((*s).to_string());
                !s.is_empty()
            } else {
                p == s
            }
        });
        if !ok {
            continue;
        }
        if r.method == method.as_str() {
            return Matched::Route(r, params);
        }
        allowed.push(r.method);
    }
    if allowed.is_empty() { Matched::None } else { Matched::WrongMethod(allowed) }
}

/// The whole service as one boxed warp filter.
pub fn filter(state: Arc<AppState>) -> warp::filters::BoxedFilter<(Response,)> {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let app = warp::any()
        .map(move || state.clone())
        .and(warp::method())
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .then(
            |state: Arc<AppState>,
             method: Method,
             path: warp::path::FullPath,
             query: String,
             headers: HeaderMap,
             body| async move {
                handle(state, method, path.as_str().to_string(), query, headers, body).await
            },
        );
    app.boxed()
}

/// Wraps the app in CORS for the configured origins (none: no CORS headers at all, and the
/// browser's same-origin rule applies).
pub fn with_cors(
    app: warp::filters::BoxedFilter<(Response,)>,
    state: Arc<AppState>,
) -> warp::filters::BoxedFilter<(Response,)> {
    let origins = &state.config.cors_origins;
    if origins.is_empty() {
        return app;
    }
    let cors = warp::cors()
        .allow_origins(origins.iter().map(String::as_str))
        .allow_methods(["GET", "POST", "DELETE"])
        .allow_headers(["authorization", "content-type", "idempotency-key"])
        .max_age(600)
        .build();
    // Browsers send Origin on a same-origin POST too (the demo page, a widget served beside the
    // API): warp's CORS would refuse it for not being listed, so same-origin skips CORS. Only
    // when the Host names this server: `Origin: http://evil.example` with `Host: evil.example`
    // is a page of another origin, not ours (issue 15, item 9).
    let same_origin = warp::header::optional::<String>("origin")
        .and(warp::header::optional::<String>("host"))
        .and_then(move |origin: Option<String>, host: Option<String>| {
            let ours = state.hosts.get().is_some_and(|h| h.allows(host.as_deref()));
            async move {
                match (origin, host) {
                    (Some(o), Some(h))
                        if ours && (o == format!("http://{h}") || o == format!("https://{h}")) =>
                    {
                        Ok(())
                    }
                    _ => Err(warp::reject::not_found()),
                }
            }
        })
        .untuple_one()
        .and(app.clone());
    let app = app
        .with(cors)
        .map(warp::Reply::into_response)
        .recover(|rejection: warp::Rejection| async move {
            // The only rejection left is CORS refusing an origin or a preflight.
            let status = if rejection.is_not_found() { 404 } else { 403 };
            let detail = if status == 403 { "origin or method not allowed by CORS" } else { "not found" };
            let body = serde_json::json!({
                "type": "/problems/forbidden", "title": "Forbidden", "status": status, "detail": detail
            });
            let mut r = json_response(status, &body, "application/problem+json", "-");
            secure_headers(&mut r);
            Ok::<_, std::convert::Infallible>(r)
        })
        .unify();
    same_origin.or(app).unify().boxed()
}

/// Answers one request held in memory, exactly as the server would (routing, body limit,
/// authentication, roles, handler, problem details). For in-process callers such as the fuzz
/// targets; the server itself goes through [`filter`].
pub async fn respond(
    state: Arc<AppState>,
    method: Method,
    path: &str,
    query: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = futures_util::stream::once(async move { Ok::<Bytes, warp::Error>(body) });
    handle(state, method, path.to_string(), query.to_string(), headers, body).await
}

/// [`read_body`] within [`crate::Config::read_timeout`]; a client that has not sent its whole
/// body by then is answered 408 and its connection closed.
async fn read_body_in_time<S, B>(state: &AppState, headers: &HeaderMap, body: S) -> Result<Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let deadline = state.config.read_timeout;
    match tokio::time::timeout(deadline, read_body(state, headers, body)).await {
        Ok(read) => read,
        Err(_) => {
            state.metrics.event("requests_body_too_slow");
            Err(ApiError::BodyTimeout(deadline.as_secs()))
        }
    }
}

async fn read_body<S, B>(state: &AppState, headers: &HeaderMap, body: S) -> Result<Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let limit = state.config.max_body_bytes;
    // Refuse early when the client announces too much; otherwise count while reading, which
    // also covers chunked bodies without Content-Length (warp's own limit answers those 411).
    if let Some(len) =
        headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let mut body = std::pin::pin!(body);
    let mut out = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let mut chunk =
            chunk.map_err(|e| ApiError::MalformedJson(format!("the body could not be read: {e}")))?;
        if out.len() + chunk.remaining() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            out.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(out.freeze())
}

async fn handle<S, B>(
    state: Arc<AppState>,
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: S,
) -> Response
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let started = Instant::now();
    let request_id = state.next_request_id();
    let mut allow = None;
    let (route_label, result) = match route(&method, &path) {
        Matched::None => ("unmatched", Err(ApiError::NotFound("route"))),
        Matched::WrongMethod(methods) => {
            allow = Some(methods.join(", "));
            ("unmatched", Err(ApiError::MethodNotAllowed))
        }
        Matched::Route(r, params) => {
            // A slot is held only while the request is worked on, never while its body is
            // read: 260 clients that announce a body and never send it held every slot and made
            // the service answer 503 to everyone (issue 15, item 1). Reading has its own
            // deadline instead; when the service is full the refusal still comes before reading.
            let result = match InFlight::full(&state, r) {
                Err(e) => Err(e),
                Ok(()) => match read_body_in_time(&state, &headers, body).await {
                    Err(e) => Err(e),
                    Ok(body) => match InFlight::enter(&state, r) {
                        Err(e) => Err(e),
                        Ok(slot) => {
                            run(state.clone(), r, params, query, headers, body, slot, &request_id).await
                        }
                    },
                },
            };
            (r.path, result)
        }
    };
    let response = match result {
        Ok(Reply::Json(status, value)) => json_response(status, &value, "application/json", &request_id),
        Ok(Reply::Raw(status, bytes)) => {
            let mut r = Response::new(bytes.into());
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
            set_request_id(&mut r, &request_id);
            r
        }
        Ok(Reply::Html { page, csp }) => {
            let mut r = Response::new(page.into());
            r.headers_mut().insert("content-type", HeaderValue::from_static("text/html; charset=utf-8"));
            if let Ok(v) = HeaderValue::from_str(&csp) {
                r.headers_mut().insert("content-security-policy", v);
            }
            set_request_id(&mut r, &request_id);
            r
        }
        Ok(Reply::Text(text)) => {
            let mut r = Response::new(text.into());
            r.headers_mut().insert("content-type", HeaderValue::from_static("text/plain; version=0.0.4"));
            set_request_id(&mut r, &request_id);
            r
        }
        Ok(Reply::Csv(bytes, link)) => {
            let mut r = Response::new(bytes.into());
            r.headers_mut().insert("content-type", HeaderValue::from_static("text/csv; charset=utf-8"));
            if let Some(v) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
                r.headers_mut().insert("link", v);
            }
            set_request_id(&mut r, &request_id);
            r
        }
        Err(e) => {
            if let ApiError::Internal(detail) = &e {
                let path = crate::server::error::mask_path(&path);
                tracing::error!(request_id, path, detail, "internal error");
            }
            let status = e.status();
            let retry_after = e.retry_after();
            let problem = e.problem(&path, &request_id);
            let value = serde_json::to_value(&problem).unwrap_or_default();
            let mut r = json_response(status, &value, "application/problem+json", &request_id);
            if let Some(seconds) = retry_after {
                r.headers_mut().insert("retry-after", HeaderValue::from(seconds));
            }
            if let Some(v) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
                r.headers_mut().insert("allow", v);
            }
            r
        }
    };
    let mut response = response;
    secure_headers(&mut response);
    if response.status() == StatusCode::REQUEST_TIMEOUT {
        // The rest of a late body may still arrive: this connection cannot carry another request.
        response.headers_mut().insert("connection", HeaderValue::from_static("close"));
    }
    state.metrics.observe(route_label, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// Headers on every API answer: no content sniffing (a JSON answer is never run as a script or
/// page), and no caching of answers that hold a tenant's data or depend on the token.
fn secure_headers(r: &mut Response) {
    r.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r.headers_mut().entry("cache-control").or_insert(HeaderValue::from_static("no-store"));
}

/// One admitted request. The slot travels into the handler's task, so a request that timed
/// out but still runs keeps counting: the bound is on work, not on open answers.
struct InFlight(Arc<AppState>);

impl InFlight {
    /// Refuses at once, before the body is read, when every slot is taken now (the same
    /// refusal as [`InFlight::enter`], which still decides after reading).
    fn full(state: &Arc<AppState>, route: &Route) -> Result<(), ApiError> {
        if matches!(route.op, Op::Healthz | Op::Readyz | Op::Metrics) {
            return Ok(());
        }
        let limit = state.config.max_in_flight;
        if state.in_flight.load(Ordering::Acquire) >= limit {
            state.metrics.event("requests_refused_overload");
            return Err(ApiError::Overloaded(limit));
        }
        Ok(())
    }

    /// Admits a request, or refuses it at once when `max_in_flight` are being handled. The
    /// probes are always admitted: an overloaded instance is alive, and says so.
    fn enter(state: &Arc<AppState>, route: &Route) -> Result<Option<InFlight>, ApiError> {
        if matches!(route.op, Op::Healthz | Op::Readyz | Op::Metrics) {
            return Ok(None);
        }
        let limit = state.config.max_in_flight;
        let admitted = state
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1))
            .is_ok();
        if admitted {
            Ok(Some(InFlight(state.clone())))
        } else {
            state.metrics.event("requests_refused_overload");
            Err(ApiError::Overloaded(limit))
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Authenticates, then runs the handler in its own task under the timeout.
#[allow(clippy::too_many_arguments)]
async fn run(
    state: Arc<AppState>,
    route: &'static Route,
    params: Vec<String>,
    query: String,
    headers: HeaderMap,
    body: Bytes,
    slot: Option<InFlight>,
    request_id: &str,
) -> Result<Reply, ApiError> {
    // Authentication comes first: a caller without a valid token learns nothing else.
    let not_json = !body.is_empty() && headers.get("content-type").is_some_and(|v| !is_json_media_type(v));
    let timeout = state.config.request_timeout;
    let task_state = state.clone();
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let idempotency_key =
        headers.get("idempotency-key").map(|v| v.to_str().map(str::to_string).map_err(|_| ()));
    let accepts_csv = accepts(&headers, "text/csv");
    let task_request_id = request_id.to_string();
    let wants_html = accepts(&headers, "text/html");
    let scraper = route.op == Op::Metrics
        && crate::server::metrics::is_scraper(state.config.metrics_token.as_deref(), auth.as_deref());
    let task = tokio::spawn(async move {
        let _slot = slot;
        let principal = if route.roles.is_empty() {
            None
        } else {
            let jwt = auth
                .as_deref()
                .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
                .map(str::trim)
                .filter(|t| crate::server::oidc::looks_like_jwt(t));
            let p = match (jwt, task_state.tokens.cached(auth.as_deref())) {
                // An identity-provider token: verified here (one signature check).
                (Some(token), _) => match &task_state.oidc {
                    Some(verifier) => verifier.verify(token)?,
                    None => {
                        return Err(ApiError::IdentityToken(
                            "this service accepts no identity-provider tokens (no --jwt-keys)".into(),
                        ));
                    }
                },
                (None, Some(p)) => p,
                (None, None) => {
                    let s = task_state.clone();
                    blocking(move || s.tokens.authenticate(&s.store, auth.as_deref())).await?
                }
            };
            p.require(route.roles, "use this route")?;
            Some(p)
        };
        if not_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let request = Request {
            route,
            params,
            query,
            body,
            principal,
            idempotency_key,
            scraper,
            accepts_csv,
            wants_html,
            request_id: task_request_id,
        };
        handlers::dispatch(task_state, request).await
    });
    match tokio::time::timeout(timeout, task).await {
        Err(_) => Err(ApiError::Timeout(timeout.as_secs())),
        Ok(Ok(result)) => result,
        Ok(Err(join)) => {
            tracing::error!(request_id, error = %join, "handler panicked");
            Err(ApiError::Internal(format!("handler task failed: {join}")))
        }
    }
}

/// `application/json`, with parameters (`; charset=utf-8`) or not, in any case; not
/// `application/jsonx` nor `application/json-seq` (issue 15, item 11).
fn is_json_media_type(value: &HeaderValue) -> bool {
    let Ok(text) = value.to_str() else { return false };
    let essence = text.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// Runs blocking work (SQLite, scoring) off the async workers; a panic becomes an error.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(ApiError::Internal(format!("blocking task failed: {e}"))),
    }
}

/// Runs a short CPU-bound answer (a suggestion list: SQLite reads of one candidate and a
/// ranking, ~0.3 ms) on the service's answer pool (`AppState::answer_pool`, one thread per
/// core by default); a panic becomes an error. Without the pool it is [`blocking`]. Under load
/// Tokio's blocking pool grows a thread per request in flight (8 or more at 8 connections on
/// 2 cores): their hand-offs, caches and allocator arenas cost ~20 % more CPU per answer, and
/// the suggestion log's writer thread got a small share of the cores and fell behind
/// (`docs/service.md`; `server::answer_pool` says why not rayon). Work here may block briefly
/// (a reader connection, the log's bounded queue when full), as any blocking task may, but
/// never on a Tokio worker.
pub(crate) async fn on_answer_pool<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let Some(pool) = &state.answer_pool else { return blocking(f).await };
    let (done, answer) = tokio::sync::oneshot::channel();
    let queued = pool.spawn(move || {
        let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    if !queued {
        return Err(ApiError::Internal("the answer threads have stopped".into()));
    }
    match answer.await {
        Ok(Ok(result)) => result,
        Ok(Err(payload)) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(ApiError::Internal(format!("an answer task panicked: {what}")))
        }
        Err(_) => Err(ApiError::Internal("an answer task was dropped".into())),
    }
}

fn set_request_id(r: &mut Response, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-request-id", v);
    }
}

fn json_response(
    status: u16,
    value: &serde_json::Value,
    content_type: &'static str,
    request_id: &str,
) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut r = Response::new(body.into());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert("content-type", HeaderValue::from_static(content_type));
    set_request_id(&mut r, request_id);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_by_method_and_segments() {
        let get = Method::GET;
        assert!(
            matches!(route(&get, "/v1/offers/course-1"), Matched::Route(r, p) if r.op == Op::OfferGet && p == ["course-1"])
        );
        assert!(
            matches!(route(&get, "/v1/offers/course-1/quality"), Matched::Route(r, _) if r.op == Op::OfferQuality)
        );
        assert!(matches!(route(&Method::PUT, "/v1/offers"), Matched::WrongMethod(m) if m == ["POST", "GET"]));
        assert!(matches!(route(&get, "/v1/offers//quality"), Matched::WrongMethod(_) | Matched::None));
        assert!(matches!(route(&get, "/v2/offers"), Matched::None));
    }

    #[test]
    fn issue_15_only_application_json_is_json() {
        for ok in ["application/json", "Application/JSON; charset=utf-8", " application/json ;x=1"] {
            assert!(is_json_media_type(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in ["application/jsonx", "application/json-seq", "text/json", "application/jsonp; a=b"] {
            assert!(!is_json_media_type(&HeaderValue::from_static(bad)), "{bad}");
        }
    }

    #[test]
    fn every_route_is_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(a.method != b.method || a.path != b.path, "{} {}", a.method, a.path);
            }
        }
    }
}
