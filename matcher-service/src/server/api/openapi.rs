//! `/openapi.json`: the schemas are derived (`utoipa::ToSchema`) from the very types in
//! [`super::answers`] (and the core's proposal record) that serialise the answers and read the
//! bodies; the paths, methods, roles and statuses come from [`super::ROUTES`], the table that
//! dispatches requests. Nothing here repeats a field list, so the document cannot drift from
//! the answers; a golden-file test (`tests/e2e/service.rs`) makes every change to it visible.
//! Owns the document's assembly; must not define wire types of its own.

use super::answers::*;
use super::{Op, ROUTES};
use crate::server::auth::Role;
use crate::server::error::{FieldError, Problem};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

/// Every schema the routes name; the types they contain are collected by utoipa.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Problem,
    FieldError,
    Role,
    OfferRecord,
    CandidateRecord,
    UpsertResult,
    OfferView,
    OfferList,
    CandidateList,
    Erasure,
    Quality,
    ProviderQuality,
    SuggestionRequest,
    SuggestionsOut,
    DecisionRequest,
    WithdrawalRequest,
    Decision,
    DecisionRecorded,
    DecisionList,
    OutcomeRequest,
    Outcome,
    ExitRequest,
    HistoryEpisode,
    HistoryPage,
    BatchStarted,
    BatchRun,
    Proposals,
    Health,
    SuggestionLog,
    AccessLog,
    CandidateExport,
    crate::server::oversight::Oversight,
    ProviderRecord,
    ProviderView,
    ProviderList,
    ContractRequest,
    Contract,
    ContractList,
    ProviderOverview,
    SpendOverview,
    ProviderDecisionList,
    CommentRequest,
    Comment,
    CommentList,
    CaseloadPlanRequest,
    CaseloadPlan,
    TeamOverview,
)))]
struct Schemas;

/// An external id as `matcher_core::model::check_id` accepts it.
fn id_schema() -> Value {
    json!({"type": "string", "pattern": ID_PATTERN,
           "description": "1–64 characters from A–Z a–z 0–9 - _ . : and never CPR-like (10 digits, or 6-dash-4)"})
}

/// The derived schemas, plus the few that are not Rust types: bulk bodies (arrays of
/// records), the id, and the two non-JSON-object answers.
fn schemas() -> Value {
    let mut components = serde_json::to_value(Schemas::openapi().components).unwrap_or(Value::Null);
    let mut schemas = components.get_mut("schemas").map(Value::take).unwrap_or_else(|| json!({}));
    if let Value::Object(map) = &mut schemas {
        for (name, item) in [
            ("OfferRecords", "OfferRecord"),
            ("CandidateRecords", "CandidateRecord"),
            ("ProviderRecords", "ProviderRecord"),
        ] {
            let example = map.get(item).and_then(|record| record.get("example")).cloned();
            let mut array = json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")},
                "minItems": 1, "maxItems": 50000});
            if let Some(example) = example {
                array["example"] = json!([example]);
            }
            map.insert(name.into(), array);
        }
        map.insert("Id".into(), id_schema());
        // What a derive cannot say: list items that are ids, and "exactly one of" two fields.
        if let Some(items) = map
            .get_mut("DecisionRequest")
            .and_then(|d| d.pointer_mut("/properties/suggested_offer_ids/items"))
        {
            *items = json!({"$ref": "#/components/schemas/Id"});
        }
        if let Some(Value::Object(request)) = map.get_mut("SuggestionRequest") {
            // not (both or neither), rather than `oneOf`: openapi-python-client turns an object
            // with `oneOf` into an untyped body, and ignores `not`.
            let (both, either) = (
                json!({"required": ["candidate_id", "candidate"]}),
                json!({"anyOf": [{"required": ["candidate_id"]}, {"required": ["candidate"]}]}),
            );
            request.insert("not".into(), json!({"anyOf": [both, {"not": either}]}));
        }
        map.insert("PrometheusText".into(), json!({"type": "string"}));
        map.insert("OpenApi".into(), json!({"type": "object", "description": "This document (OpenAPI 3.1)"}));
    }
    schemas
}

/// An example answer for a route whose answer type has no example of its own (those with one,
/// `#[schema(example = …)]`, show it on the schema), built from the answer types so that it
/// is type-checked.
fn example(op: Op) -> Option<Value> {
    let value = match op {
        Op::OpenApi => {
            json!({"openapi": "3.1.0", "info": {"title": "Brobygger matcher service"}, "paths": {}})
        }
        Op::Metrics => json!("# TYPE matcher_requests_total counter\nmatcher_requests_total 1\n"),
        Op::Healthz => {
            serde_json::to_value(Health { status: HealthStatus::Ok, offers_version: None }).ok()?
        }
        Op::OffersList => serde_json::to_value(OfferList { offers: vec![], limit: 100, offset: 0 }).ok()?,
        Op::CandidatesList => {
            serde_json::to_value(CandidateList { candidates: vec![], limit: 100, offset: 0 }).ok()?
        }
        Op::OfferQuality => serde_json::to_value(Quality {
            offer_id: "course-00001".into(),
            provider_id: "lev-0003".into(),
            provider_name: "Eksempel Beskæftigelse ApS".into(),
            price_dkk: 21000,
            capacity: 12,
            reserved: 2,
            recorded: 1,
            retired: false,
            utilisation: 0.25,
            scarcity_price: Some(0),
            groups: vec![GroupQuality {
                target_group: "sickness".into(),
                trials: 72,
                successes: 32,
                raw_rate: 32.0 / 72.0,
                group_average: 0.4,
                posterior_mean: 0.44,
                interval_90: [0.35, 0.53],
                effect: GroupEffect {
                    episodes: 72,
                    observed_rate: Some(32.0 / 72.0),
                    expected_rate: Some(0.31),
                    adjusted_rate: Some(0.52),
                    uplift: 0.12,
                    uplift_interval_90: [0.04, 0.2],
                    no_offer_rate: 0.38,
                },
            }],
        })
        .ok()?,
        Op::ProviderQuality => serde_json::to_value(ProviderQuality {
            provider_id: "lev-0003".into(),
            provider_name: "Eksempel Beskæftigelse ApS".into(),
            offers: vec!["course-00001".into()],
            capacity: 12,
            reserved: 2,
            recorded: 1,
            utilisation: 0.25,
            groups: vec![],
        })
        .ok()?,
        Op::DecisionCreate => {
            serde_json::to_value(DecisionRecorded { decision: example_decision(), remaining_places: 11 })
                .ok()?
        }
        Op::DecisionsList => {
            serde_json::to_value(DecisionList { decisions: vec![example_decision()], next: None, limit: 100 })
                .ok()?
        }
        Op::BatchGet => serde_json::to_value(BatchRun {
            id: 1,
            status: BatchStatus::Finished,
            started_at: "2026-12-05T02:00:00Z".into(),
            finished_at: Some("2026-12-05T02:00:04Z".into()),
            error: None,
            summary: Some(json!({"candidates": 120, "matched": 97})),
        })
        .ok()?,
        Op::BatchProposals => serde_json::to_value(Proposals { id: 1, proposals: vec![] }).ok()?,
        Op::CandidateExport => serde_json::to_value(CandidateExport {
            candidate_id: "cand-000001".into(),
            exported_at: "2026-12-05T11:00:00.000Z".into(),
            exported_by: "revisor".into(),
            data: None,
            suggestions_shown: vec![],
            decisions: vec![example_decision()],
            outcomes: vec![ExportedOutcome {
                decision_id: 1,
                offer_id: "course-00001".into(),
                result: "in_work".into(),
                recorded_by: "anna".into(),
                recorded_at: "2027-03-01T09:00:00Z".into(),
            }],
            episodes: vec![],
            accesses: vec![],
            explanation: ExportExplanation::texts(),
        })
        .ok()?,
        _ => return None,
    };
    Some(value)
}

fn example_decision() -> Decision {
    Decision {
        id: 1,
        municipality: "0851".into(),
        candidate_id: "cand-000001".into(),
        offer_id: "course-00001".into(),
        action: RecordedAction::Accept,
        reason: "Near home and fits the sickness group".into(),
        decided_by: "anna".into(),
        employer: "Aarhus Kommune, Jobcenter".into(),
        role: Role::Caseworker,
        suggested_offer_ids: vec!["course-00001".into()],
        decided_at: "2026-12-05T10:00:00Z".into(),
        corrects: None,
        corrected_by: None,
        starts_on: Some("2026-12-07".into()),
        ends_on: Some("2027-03-07".into()),
        excluded_until: None,
        status: DecisionStatus::Reserved,
        released_why: None,
    }
}

/// The query parameters of the orderer's routes (issue 16).
fn orderer_params(op: Op) -> Vec<Value> {
    let query = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema});
    let id = json!({"$ref": "#/components/schemas/Id"});
    let offset_paging = || {
        vec![
            query(
                "limit",
                "Page size",
                json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
            ),
            query("offset", "Rows skipped", json!({"type": "integer", "minimum": 0, "default": 0})),
        ]
    };
    let scope = query(
        "scope",
        "`municipality` (the token's, default) or `national` (every municipality summed; admin only)",
        json!({"type": "string", "enum": ["municipality", "national"], "default": "municipality"}),
    );
    match op {
        Op::ProvidersList => {
            let mut p = vec![
                query(
                    "municipality",
                    "Only providers with this home municipality",
                    json!({"type": "string", "pattern": "^[0-9]{1,4}$"}),
                ),
                query(
                    "kind",
                    "Only providers with an offer of this kind",
                    json!({"type": "string", "enum": ["provider", "job", "work_trial", "reciprocal_help"]}),
                ),
            ];
            p.extend(offset_paging());
            p
        }
        Op::ContractsList => {
            let mut p = vec![
                query("provider_id", "Only this provider's contracts", id),
                query(
                    "kind",
                    "Only this kind",
                    json!({"type": "string", "enum": ["buffer", "specialist", "strategic_partner"]}),
                ),
            ];
            p.extend(offset_paging());
            p
        }
        Op::OverviewProviders => vec![
            scope,
            query("provider_id", "Only this provider (a provider's token: always its own)", id),
            query(
                "target_group",
                "Only this target group (`all`: offers open to every group)",
                json!({"type": "string"}),
            ),
            query(
                "contract",
                "Only rows under this contract kind (`none`: without one)",
                json!({"type": "string", "enum": ["buffer", "specialist", "strategic_partner", "none"]}),
            ),
            query(
                "kind",
                "Offer kind counted (default `provider`; `any`: all)",
                json!({"type": "string", "enum": ["provider", "job", "work_trial", "reciprocal_help", "any"], "default": "provider"}),
            ),
            query(
                "limit",
                "Page size (JSON default 100; CSV default: every row)",
                json!({"type": "integer", "minimum": 1, "maximum": 10000}),
            ),
            query("offset", "Rows skipped", json!({"type": "integer", "minimum": 0, "default": 0})),
        ],
        Op::OverviewSpend => vec![
            scope,
            query(
                "period",
                "Period of the rows",
                json!({"type": "string", "enum": ["month", "quarter", "year"], "default": "month"}),
            ),
        ],
        Op::ProviderDecisions => vec![
            query(
                "limit",
                "Page size",
                json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
            ),
            query(
                "after",
                "The `next` of the previous page",
                json!({"type": "integer", "minimum": 1, "maximum": i64::MAX}),
            ),
        ],
        _ => Vec::new(),
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Malformed JSON",
        401 => {
            "No, unknown, expired or revoked bearer token, or a refused identity-provider JWT (type /problems/unauthorized, /problems/token-expired, /problems/token-revoked or /problems/identity-token-refused)"
        }
        403 => "The token's role may not use this route, or the offer belongs to another municipality",
        408 => "The body did not arrive within the read timeout (the connection is closed)",
        404 => "Not found (also for another municipality's data)",
        409 => "Conflict with the current state",
        413 => "Body larger than the limit",
        415 => "Body is not application/json",
        422 => "Invalid field(s), each with a JSON Pointer",
        500 => "Internal error (logged with the request id)",
        503 => "Not ready, shutting down, at capacity or timed out; Retry-After says when to retry",
        _ => "Response",
    }
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let mut op = Map::new();
        op.insert("summary".into(), json!(r.summary));
        op.insert("operationId".into(), json!(format!("{:?}", r.op)));
        let mut params: Vec<Value> = r
            .path
            .split('/')
            .filter(|s| s.starts_with('{'))
            .map(|s| {
                // Batch runs and decisions are numbered per municipality; everything else has an external id.
                let numbered = matches!(
                    r.op,
                    Op::BatchGet
                        | Op::BatchProposals
                        | Op::DecisionGet
                        | Op::DecisionWithdraw
                        | Op::CommentsList
                        | Op::CommentCreate
                );
                let schema = if numbered {
                    json!({"type": "integer", "minimum": 1, "maximum": i64::MAX})
                } else {
                    json!({"$ref": "#/components/schemas/Id"})
                };
                let mut param = json!({"name": s.trim_matches(['{', '}']), "in": "path", "required": true, "schema": schema});
                if numbered {
                    param["description"] = json!("The `id` this municipality was given: its own number, so the same number in another municipality is another row, never reachable from here");
                }
                param
            })
            .collect();
        if r.op == Op::DecisionsList {
            params.push(json!({"name": "candidate_id", "in": "query", "required": false,
                "description": "Only this candidate's decisions", "schema": {"$ref": "#/components/schemas/Id"}}));
            params
                .push(json!({"name": "limit", "in": "query", "required": false, "description": "Page size",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}));
            params.push(json!({"name": "after", "in": "query", "required": false,
                "description": "The `next` of the previous page: only decisions with a larger id. Ids are the municipality's own numbers, and this one is never looked up, so any number is accepted",
                "schema": {"type": "integer", "minimum": 1, "maximum": i64::MAX}}));
        }
        if r.op == Op::AuditSuggestions {
            params.push(json!({"name": "candidate_id", "in": "query", "required": true,
                "description": "The candidate", "schema": {"$ref": "#/components/schemas/Id"}}));
            params.push(json!({"name": "date", "in": "query", "required": false,
                "description": "Only what was shown on this day (UTC)", "schema": {"type": "string", "format": "date"}}));
            params
                .push(json!({"name": "limit", "in": "query", "required": false, "description": "Page size",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}));
            params.push(json!({"name": "after", "in": "query", "required": false, "description": "The `next` of the previous page",
                "schema": {"type": "integer", "minimum": 1, "maximum": i64::MAX}}));
        }
        if r.op == Op::Oversight {
            for (name, description) in [
                ("from", "First day of decisions counted (UTC); default 29 days before `to`"),
                ("to", "Last day of decisions counted (UTC); default today"),
            ] {
                params
                    .push(json!({"name": name, "in": "query", "required": false, "description": description,
                    "schema": {"type": "string", "format": "date"}}));
            }
            params.push(json!({"name": "after", "in": "query", "required": false,
                "description": "The `next` of the previous page: caseworkers after this name", "schema": {"type": "string"}}));
            params
                .push(json!({"name": "limit", "in": "query", "required": false, "description": "Caseworkers per page",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}));
        }
        if r.op == Op::AuditAccess {
            params.push(json!({"name": "candidate_id", "in": "query", "required": false,
                "description": "Only this candidate", "schema": {"$ref": "#/components/schemas/Id"}}));
            params
                .push(json!({"name": "limit", "in": "query", "required": false, "description": "Page size",
                "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}}));
            params.push(json!({"name": "after", "in": "query", "required": false, "description": "The `next` of the previous page",
                "schema": {"type": "integer", "minimum": 1, "maximum": i64::MAX}}));
        }
        params.extend(orderer_params(r.op));
        if r.op == Op::TeamOverview {
            params.push(json!({"name": "from", "in": "query", "required": false,
                "description": "First day of the period of new and closed cases (default: 27 days before `to`)",
                "schema": {"type": "string", "format": "date"}}));
            params.push(json!({"name": "to", "in": "query", "required": false,
                "description": "Last day of the period (default: today); at most 366 days after `from`",
                "schema": {"type": "string", "format": "date"}}));
            params.push(json!({"name": "format", "in": "query", "required": false,
                "description": "`html`: the page for the team meeting instead of JSON",
                "schema": {"type": "string", "enum": ["json", "html"], "default": "json"}}));
            params.push(json!({"name": "lang", "in": "query", "required": false,
                "description": "The page's language", "schema": {"type": "string", "enum": ["da", "en"], "default": "da"}}));
        }
        if r.op == Op::HistoryList {
            params
                .push(json!({"name": "limit", "in": "query", "required": false, "description": "Page size",
                "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}}));
            params.push(json!({"name": "after", "in": "query", "required": false,
                "description": "The `next` of the previous page (CSV: the `Link` header's `rel=\"next\"`)",
                "schema": {"type": "integer", "minimum": 1, "maximum": i64::MAX}}));
        }
        if matches!(r.op, Op::DecisionCreate | Op::DecisionWithdraw | Op::ExitCreate) {
            let description = if r.op == Op::ExitCreate {
                "Retry safely: a second request with the same key (same candidate and result) gets the episode recorded the first time, with 200; the same key with another record gets 409."
            } else if r.op == Op::DecisionCreate {
                "Retry safely: a second request with the same key (same candidate, offer and action) gets the decision recorded the first time, with 200; the same key with another decision gets 409."
            } else {
                "Retry safely: a second withdrawal of the same decision with the same key gets the withdrawal recorded the first time, with 200; the same key used for anything else gets 409."
            };
            params.push(json!({
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": description,
                "schema": {"$ref": "#/components/schemas/Id"}
            }));
        }
        if !params.is_empty() {
            op.insert("parameters".into(), json!(params));
        }
        if r.roles.is_empty() {
            op.insert("security".into(), json!([]));
        } else {
            op.insert("x-roles".into(), json!(r.roles));
        }
        if let Some(schema) = r.request {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
            );
        }
        let mut responses = Map::new();
        let (status, schema) = r.success;
        let media = if schema == "PrometheusText" { "text/plain" } else { "application/json" };
        let mut content = json!({"schema": {"$ref": format!("#/components/schemas/{schema}")}});
        if let Some(example) = example(r.op) {
            content["example"] = example;
        }
        let mut contents = json!({media: content});
        if r.op == Op::HistoryList {
            contents["text/csv"] = json!({"schema": {"type": "string",
                "description": "With Accept: text/csv: the `outcomes` table as `matcher batch` reads it (header, one episode a line); the next page is in the `Link` header"}});
        }
        if r.op == Op::OverviewProviders {
            // The same rows as CSV for a spreadsheet, when the request's Accept asks for it.
            contents["text/csv"] = json!({"schema": {"type": "string",
                "description": "Header row, then one row per provider × target group (the JSON rows' fields; quality as quality_trials, quality_successes, quality_posterior_mean, quality_low_90, quality_high_90)"}});
        }
        responses
            .insert(status.to_string(), json!({"description": status_text(status), "content": contents}));
        if r.op == Op::ContractPut {
            responses.insert(
                "200".into(),
                json!({"description": "A contract of the same id replaced", "content": {media: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
            );
        }
        if r.op == Op::CaseloadPlan {
            responses.insert(
                "201".into(),
                json!({"description": "Applied: the caseworkers were stored and the cases opened", "content": {media: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
            );
        }
        if r.op == Op::TeamOverview
            && let Some(Value::Object(ok)) = responses.get_mut("200").and_then(|r| r.get_mut("content"))
        {
            ok.insert("text/html".into(), json!({"schema": {"type": "string"}}));
        }
        if matches!(r.op, Op::DecisionCreate | Op::DecisionWithdraw | Op::ExitCreate) {
            let what = if r.op == Op::ExitCreate { "episode" } else { "decision" };
            responses.insert(
                "200".into(),
                json!({"description": format!("The {what} recorded earlier with this Idempotency-Key"), "content": {media: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
            );
        }
        let read = if r.method == "POST" { &[408u16][..] } else { &[] };
        for e in r.errors.iter().chain(read).chain([500u16, 503].iter()) {
            let mut response = json!({"description": status_text(*e), "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});
            if *e == 503 {
                response["headers"] = json!({"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}});
            }
            responses.insert(e.to_string(), response);
        }
        op.insert("responses".into(), Value::Object(responses));
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        if let Value::Object(methods) = entry {
            methods.insert(r.method.to_ascii_lowercase(), Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Brobygger matcher service", "version": env!("CARGO_PKG_VERSION"),
            "description": "Suggestions, decisions and quality for Danish job centres. Every /v1 route needs a bearer token scoped to one municipality and one role (x-roles)."},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas(), "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })
}
