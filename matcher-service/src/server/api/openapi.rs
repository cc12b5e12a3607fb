//! `/openapi.json`, generated from [`super::ROUTES`] (paths, methods, roles, statuses) and the
//! schemas below. A golden-file test keeps the published document and the routes equal.

use super::{Op, ROUTES};
use matcher_core::dataset::{CANDIDATE_COLUMNS, OFFER_COLUMNS};
use serde_json::{Map, Value, json};

/// An external id as `matcher_core::model::check_id` accepts it (the CPR-like refusal is in
/// the description only: generators of test data cannot all read look-ahead patterns).
fn id_schema() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
           "description": "1–64 characters from A–Z a–z 0–9 - _ . : and never CPR-like (10 digits, or 6-dash-4)"})
}

/// Columns whose values are ids.
const ID_COLUMNS: &[&str] = &["id", "provider_id", "current_offer"];

fn record_schema(columns: &[&str], required: &[&str], doc: &str) -> Value {
    let properties: Map<String, Value> = columns
        .iter()
        .map(|c| {
            let description = format!("column `{c}` of {doc}");
            let schema = if ID_COLUMNS.contains(c) {
                let mut id = id_schema();
                id["description"] = json!(description);
                id
            } else if required.contains(c) {
                json!({"description": description, "type": ["string", "number", "boolean", "array"]})
            } else {
                json!({"description": description, "type": ["string", "number", "boolean", "array", "null"]})
            };
            (c.to_string(), schema)
        })
        .collect();
    json!({"type": "object", "additionalProperties": false, "properties": properties, "required": required,
           "description": format!("One record with the columns of {doc} (data/README.md)")})
}

fn schemas() -> Value {
    let offer = record_schema(OFFER_COLUMNS, matcher_core::dataset::OFFER_REQUIRED, "`offers`");
    let candidate =
        record_schema(CANDIDATE_COLUMNS, matcher_core::dataset::CANDIDATE_REQUIRED, "`candidates`");
    json!({
        "Problem": {"type": "object", "description": "RFC 9457 problem details", "required": ["type", "title", "status", "detail", "instance", "request_id"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}, "instance": {"type": "string"}, "request_id": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "required": ["path", "reason"],
                    "properties": {"path": {"type": "string", "description": "JSON Pointer"}, "value": {"type": "string"}, "reason": {"type": "string"}}}},
                "running_decision_id": {"type": "integer", "description": "A refused second accept (type /problems/running-course): the decision holding the candidate's running course"},
                "running_offer_id": {"type": "string"}}},
        "OfferRecord": offer,
        "OfferRecords": {"type": "array", "items": {"$ref": "#/components/schemas/OfferRecord"}, "minItems": 1, "maxItems": 50000},
        "CandidateRecord": candidate,
        "CandidateRecords": {"type": "array", "items": {"$ref": "#/components/schemas/CandidateRecord"}, "minItems": 1, "maxItems": 50000},
        "UpsertResult": {"type": "object", "properties": {"upserted": {"type": "integer"}, "offers_version": {"type": "integer"}}},
        "OfferView": {"type": "object", "properties": {"record": {"$ref": "#/components/schemas/OfferRecord"}, "capacity": {"type": "integer"},
            "reserved": {"type": "integer"}, "remaining_places": {"type": "integer"}, "retired": {"type": "boolean"},
            "places": {"type": "object", "description": "One offer: its places today across every municipality; reserved + running + free = capacity (overbooked counts places taken beyond a lowered capacity)",
                "properties": {"capacity": {"type": "integer"}, "reserved": {"type": "integer"}, "running": {"type": "integer"}, "free": {"type": "integer"}, "overbooked": {"type": "integer"}}}}},
        "OfferList": {"type": "object", "properties": {"offers": {"type": "array", "items": {"$ref": "#/components/schemas/OfferView"}},
            "limit": {"type": "integer"}, "offset": {"type": "integer"}}},
        "CandidateList": {"type": "object", "properties": {"candidates": {"type": "array", "items": {"$ref": "#/components/schemas/CandidateRecord"}},
            "limit": {"type": "integer"}, "offset": {"type": "integer"}}},
        "Deleted": {"type": "object", "properties": {"deleted": {"type": "string"}}},
        "Quality": {"type": "object", "properties": {"utilisation": {"type": "number"}, "capacity": {"type": "integer"}, "reserved": {"type": "integer"},
            "scarcity_price": {"type": ["integer", "null"]}, "price_dkk": {"type": "integer"},
            "groups": {"type": "array", "items": {"type": "object", "properties": {"target_group": {"type": "string"}, "trials": {"type": "integer"},
                "successes": {"type": "integer"}, "raw_rate": {"type": "number"}, "group_average": {"type": "number"}, "posterior_mean": {"type": "number"},
                "interval_90": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}}}}},
        "Id": id_schema(),
        "SuggestionRequest": {"type": "object", "additionalProperties": false, "description": "Exactly one of candidate_id and candidate",
            "oneOf": [{"required": ["candidate_id"]}, {"required": ["candidate"]}],
            "properties": {"candidate_id": {"$ref": "#/components/schemas/Id"}, "candidate": {"$ref": "#/components/schemas/CandidateRecord"},
                "k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5}}},
        "Suggestions": {"type": "object", "properties": {"candidate_id": {"type": "string"}, "offers_version": {"type": "integer"},
            "running": {"type": ["object", "null"], "description": "The course the candidate holds a place on: another accept is refused until it is withdrawn or corrected",
                "properties": {"decision_id": {"type": "integer"}, "offer_id": {"type": "string"}, "offer_name": {"type": ["string", "null"]}, "starts_on": {"type": "string", "format": "date"}, "ends_on": {"type": "string", "format": "date"}}},
            "batch_run_id": {"type": ["integer", "null"], "description": "The batch run the scarcity prices come from: the municipality's own number for it"}, "offers_in_reach": {"type": "integer"}, "offers_feasible": {"type": "integer"},
            "suggestions": {"type": "array", "items": {"type": "object", "properties": {
                "rank": {"type": "integer"}, "offer_id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
                "provider_id": {"type": "string"}, "score": {"type": "integer"},
                "scarcity_price": {"type": ["integer", "null"], "description": "dual price of the offer in the tenant's last batch run"},
                "adjusted_score": {"type": ["integer", "null"], "description": "score − scarcity_price"},
                "factors": {"type": "array", "items": {"type": "object", "properties": {"factor": {"type": "string"}, "value": {"type": "number"},
                    "weight": {"type": "number"}, "points": {"type": "integer"}}}},
                "effect_dkk": {"type": "number"}, "weeks_avoidable": {"type": "number"}, "distance_km": {"type": "number"},
                "evidence": {"type": "array", "items": {"type": "object", "properties": {"target_group": {"type": "string"},
                    "target_group_name_da": {"type": "string"}, "target_group_name_en": {"type": "string"},
                    "group_average": {"type": "number"}, "trials": {"type": "integer"}, "successes": {"type": "integer"},
                    "posterior_mean": {"type": "number"},
                    "interval_90": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}}},
                "remaining_places": {"type": "integer"},
                "capacity": {"type": "integer"}, "price_dkk": {"type": "integer"}, "policy": {"type": "string"},
                "runner_up": {"type": ["object", "null"], "description": "the next offer in the ranking and how far this one is ahead of it",
                    "properties": {"offer_id": {"type": "string"}, "name": {"type": "string"},
                        "difference": {"type": "integer", "description": "ranking key (adjusted score, else score) minus the runner-up's"},
                        "factor_differences": {"type": "array", "items": {"type": "object", "properties": {
                            "factor": {"type": "string"}, "points": {"type": "integer"}}}}}}}}}}},
        "DecisionRequest": {"type": "object", "additionalProperties": false, "required": ["candidate_id", "offer_id", "action", "reason"],
            "properties": {"candidate_id": {"$ref": "#/components/schemas/Id"}, "offer_id": {"$ref": "#/components/schemas/Id"}, "action": {"type": "string", "enum": ["accept", "decline"]},
                "reason": {"type": "string", "minLength": 1, "maxLength": 2000}, "suggested_offer_ids": {"type": "array", "items": {"$ref": "#/components/schemas/Id"}, "maxItems": 100},
                "starts_on": {"type": "string", "format": "date", "description": "An accept: the course's first day (default today, within a year of today); the place is held for the offer's duration_weeks from it"},
                "corrects": {"type": "integer", "minimum": 1, "maximum": i64::MAX, "description": "The id of an earlier decision about the same candidate that this one corrects: it is withdrawn in the same transaction (its place released or moved)"}}},
        "WithdrawalRequest": {"type": "object", "additionalProperties": false, "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}}},
        "Decision": {"type": "object", "properties": {"id": {"type": "integer", "description": "Numbered per municipality (1, 2, 3, …): the numbers say nothing about other municipalities"}, "municipality": {"type": "string"}, "employer": {"type": "string"},
            "candidate_id": {"type": "string"}, "offer_id": {"type": "string"}, "action": {"type": "string"}, "reason": {"type": "string"},
            "decided_by": {"type": "string"}, "role": {"type": "string"}, "suggested_offer_ids": {"type": "array", "items": {"type": "string"}},
            "decided_at": {"type": "string", "format": "date-time"}, "remaining_places": {"type": "integer"},
            "corrects": {"type": ["integer", "null"], "description": "The decision this one withdraws or corrects"},
            "corrected_by": {"type": ["integer", "null"], "description": "The later decision that withdrew or corrected this one"},
            "starts_on": {"type": ["string", "null"], "format": "date"}, "ends_on": {"type": ["string", "null"], "format": "date"},
            "excluded_until": {"type": ["string", "null"], "format": "date", "description": "A decline: the offer stays out of the candidate's suggestions until this day"},
            "status": {"type": "string", "enum": ["reserved", "running", "ended", "withdrawn", "in_force", "expired", "recorded", "withdrawal"]},
            "released_why": {"type": ["string", "null"], "enum": ["course_ended", "outcome", "withdrawn", "candidate_deleted", null]}}},
        "DecisionList": {"type": "object", "required": ["decisions", "limit"], "properties": {
            "decisions": {"type": "array", "items": {"$ref": "#/components/schemas/Decision"}, "description": "In id order, at most `limit`"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
            "next": {"type": "integer", "minimum": 1, "description": "Pass as `after` for the next page; absent on the last page"}}},
        "OutcomeRequest": {"type": "object", "additionalProperties": false, "required": ["decision_id", "result"],
            "properties": {"decision_id": {"type": "integer", "minimum": 1, "maximum": i64::MAX, "description": "The decision's `id`, the municipality's own number for it"}, "result": {"type": "string", "enum": ["in_work", "in_education", "back_at_work", "dropped_out"]}}},
        "Outcome": {"type": "object", "properties": {"decision_id": {"type": "integer"}, "offer_id": {"type": "string"}, "result": {"type": "string"}, "success": {"type": "boolean"}}},
        "BatchRun": {"type": "object", "properties": {"id": {"type": "integer", "description": "Numbered per municipality (1, 2, 3, …)"}, "status": {"type": "string", "enum": ["running", "finished", "failed"]},
            "started_at": {"type": "string"}, "finished_at": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]}, "summary": {"type": ["object", "null"]}}},
        "Proposals": {"type": "object", "properties": {"id": {"type": "integer"}, "proposals": {"type": "array", "items": {"type": "object"}}}},
        "Health": {"type": "object", "properties": {"status": {"type": "string"}}},
        "PrometheusText": {"type": "string"},
        "OpenApi": {"type": "object"},
    })
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Malformed JSON",
        401 => {
            "No, unknown, expired or revoked bearer token (type /problems/unauthorized, /problems/token-expired or /problems/token-revoked)"
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
                let schema = if matches!(r.op, Op::BatchGet | Op::BatchProposals | Op::DecisionGet) {
                    json!({"type": "integer", "minimum": 1, "maximum": i64::MAX})
                } else {
                    json!({"$ref": "#/components/schemas/Id"})
                };
                let mut param = json!({"name": s.trim_matches(['{', '}']), "in": "path", "required": true, "schema": schema});
                if matches!(r.op, Op::BatchGet | Op::BatchProposals | Op::DecisionGet) {
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
        if r.op == Op::DecisionCreate {
            params.push(json!({
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "Retry safely: a second request with the same key (same candidate, offer and action) gets the decision recorded the first time, with 200; the same key with another decision gets 409.",
                "schema": {"$ref": "#/components/schemas/Id"}
            }));
        }
        if !params.is_empty() {
            op.insert("parameters".into(), json!(params));
        }
        if r.roles.is_empty() {
            op.insert("security".into(), json!([]));
        } else {
            op.insert("x-roles".into(), json!(r.roles.iter().map(|r| r.name()).collect::<Vec<_>>()));
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
        responses.insert(
            status.to_string(),
            json!({"description": status_text(status), "content": {media: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
        );
        if r.op == Op::DecisionCreate {
            responses.insert(
                "200".into(),
                json!({"description": "The decision recorded earlier with this Idempotency-Key", "content": {media: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
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
