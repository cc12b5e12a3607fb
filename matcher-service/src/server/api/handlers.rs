//! The route handlers. Each one: check input (ids, bodies), call the store or the core off the
//! async workers, shape the answer. Tenant isolation is in the store's queries; roles were
//! checked before dispatch from the route table.

use super::{Op, Reply, Request, blocking};
use crate::server::AppState;
use crate::server::catalogue::{Catalogue, StoredCandidate};
use crate::server::error::{ApiError, FieldError};
use crate::server::store::NewDecision;
use matcher_core::dataset;
use matcher_core::model::{Candidate, Offer, check_id};
use matcher_core::score::evidence::posterior;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Largest number of records in one bulk body.
const MAX_RECORDS: usize = 50_000;

pub(super) async fn dispatch(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    match req.route.op {
        Op::Healthz => Ok(Reply::Json(200, json!({"status": "ok"}))),
        Op::Readyz => readyz(state).await,
        Op::Metrics => Ok(Reply::Text(state.metrics.render())),
        Op::OpenApi => Ok(Reply::Json(200, super::openapi::document())),
        Op::OffersUpsert => offers_upsert(state, req).await,
        Op::OffersList => offers_list(state, req).await,
        Op::OfferGet => offer_get(state, req).await,
        Op::OfferRetire => offer_retire(state, req).await,
        Op::OfferQuality => offer_quality(state, req).await,
        Op::ProviderQuality => provider_quality(state, req).await,
        Op::CandidatesUpsert => candidates_upsert(state, req).await,
        Op::CandidatesList => candidates_list(state, req).await,
        Op::CandidateGet => candidate_get(state, req).await,
        Op::CandidateDelete => candidate_delete(state, req).await,
        Op::Suggestions => suggestions(state, req).await,
        Op::DecisionCreate => decision_create(state, req).await,
        Op::DecisionsList => decisions_list(state, req).await,
        Op::DecisionGet => decision_get(state, req).await,
        Op::DecisionWithdraw => decision_withdraw(state, req).await,
        Op::OutcomeCreate => outcome_create(state, req).await,
        Op::BatchStart => batch_start(state, req).await,
        Op::BatchGet => batch_get(state, req).await,
        Op::BatchProposals => batch_proposals(state, req).await,
    }
}

// ----- input helpers -----

/// A path id: the documented id rules, CPR-like ids refused before anything is looked up.
fn path_id(req: &Request, i: usize) -> Result<String, ApiError> {
    let name = req.route.path.split('/').filter(|s| s.starts_with('{')).nth(i).unwrap_or("{id}");
    let text = req.params.get(i).map(String::as_str).unwrap_or("");
    let text = percent_decode(text);
    check_id(&text).map_err(|reason| {
        ApiError::field(format!("/path/{}", name.trim_matches(['{', '}'])), truncate(&text), reason)
    })?;
    Ok(text)
}

fn path_number(req: &Request, i: usize) -> Result<i64, ApiError> {
    let text = req.params.get(i).map(String::as_str).unwrap_or("");
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::field("/path/id", truncate(text), "expected a positive whole number"))
}

fn percent_decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Query parameters as pairs (values percent-decoded; `+` is not special here).
fn query_params(req: &Request) -> Vec<(String, String)> {
    req.query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn paging(req: &Request) -> Result<(u32, u32), ApiError> {
    let (mut limit, mut offset) = (100u32, 0u32);
    for (k, v) in query_params(req) {
        match k.as_str() {
            "limit" => {
                limit = v.parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
                    ApiError::field("/query/limit", truncate(&v), "expected a whole number from 1 to 1000")
                })?
            }
            "offset" => {
                offset = v.parse().map_err(|_| {
                    ApiError::field("/query/offset", truncate(&v), "expected a whole number ≥ 0")
                })?
            }
            _ => {}
        }
    }
    Ok((limit, offset))
}

/// The body as JSON, then as `T`, with the JSON Pointer of the first bad field.
fn typed_body<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let value = json_value(req)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path = String::new();
        for segment in e.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => path.push_str(&format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => path.push_str(&format!("/{key}")),
                serde_path_to_error::Segment::Enum { variant } => path.push_str(&format!("/{variant}")),
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        ApiError::Validation(vec![FieldError::new(path, "", e.into_inner().to_string())])
    })
}

fn json_value(req: &Request) -> Result<Value, ApiError> {
    if req.body.is_empty() {
        return Err(ApiError::MalformedJson("the body is empty; expected a JSON document".into()));
    }
    serde_json::from_slice(&req.body).map_err(|e| ApiError::MalformedJson(e.to_string()))
}

/// Turns JSON objects into the text of a JSON table with one object per line, so that the
/// core's line numbers (object `i` is on line `i + 2`) give back the array index.
fn one_per_line(objects: &[&Map<String, Value>]) -> String {
    let mut text = String::from("[\n");
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str(&serde_json::to_string(o).unwrap_or_default());
    }
    text.push_str("\n]");
    text
}

fn problems_to_fields(problems: matcher_core::InputProblems, prefix: impl Fn(u64) -> String) -> ApiError {
    let errors = problems
        .0
        .into_iter()
        .map(|p| {
            let base = prefix(p.line.saturating_sub(2));
            let path = if p.column.is_empty() { base } else { format!("{base}/{}", p.column) };
            FieldError::new(path, p.value, p.reason)
        })
        .collect();
    ApiError::Validation(errors)
}

/// The body as an array of record objects (the documented data columns).
fn record_array(req: &Request) -> Result<Vec<Map<String, Value>>, ApiError> {
    let Value::Array(items) = json_value(req)? else {
        return Err(ApiError::field("", "", "expected a JSON array of records"));
    };
    if items.is_empty() || items.len() > MAX_RECORDS {
        return Err(ApiError::field("", "", format!("expected 1 to {MAX_RECORDS} records")));
    }
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(o) => out.push(o),
            other => errors.push(FieldError::new(
                format!("/{i}"),
                truncate(&other.to_string()),
                "expected an object",
            )),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(ApiError::Validation(errors)) }
}

/// Checks references to offers against the catalogue (the core leaves that to the caller).
fn check_offer_refs(cat: &Catalogue, c: &Candidate, base: &str, errors: &mut Vec<FieldError>) {
    if let Some(current) = &c.current
        && cat.scorer.offer_index(current.offer.as_str()).is_none()
    {
        errors.push(FieldError::new(
            format!("{base}/current_offer"),
            current.offer.as_str(),
            "not an offer id",
        ));
    }
    for o in &c.excluded_offers {
        if cat.scorer.offer_index(o.as_str()).is_none() {
            errors.push(FieldError::new(format!("{base}/excluded_offers"), o.as_str(), "not an offer id"));
        }
    }
}

fn stored(c: &Candidate, state: &AppState) -> StoredCandidate {
    let reference = state.catalogues.reference();
    let group_codes = c
        .target_groups
        .iter()
        .filter_map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.code.clone()))
        .collect();
    StoredCandidate { candidate: c.clone(), group_codes }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(format!("serialising: {e}")))
}

/// A record's whole-number field, whether it was sent as a number or as text; 0 if absent.
fn whole_number(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn parse_record(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

// ----- health -----

async fn readyz(state: Arc<AppState>) -> Result<Reply, ApiError> {
    let s = state.clone();
    let ok = blocking(move || Ok(s.store.ping())).await?;
    if ok && !state.shutting_down.load(std::sync::atomic::Ordering::Relaxed) {
        Ok(Reply::Json(200, json!({"status": "ready", "offers_version": state.catalogues.current().version})))
    } else {
        Err(ApiError::Unavailable)
    }
}

// ----- offers -----

async fn offers_upsert(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let objects = record_array(&req)?;
    let s = state.clone();
    let n = blocking(move || {
        let refs: Vec<&Map<String, Value>> = objects.iter().collect();
        let text = one_per_line(&refs);
        let offers = dataset::offers_from_json("body", &text, s.catalogues.reference())
            .map_err(|p| problems_to_fields(p, |i| format!("/{i}")))?;
        let mut rows = Vec::with_capacity(offers.len());
        for ((_, offer), object) in offers.iter().zip(&objects) {
            rows.push((
                offer.id.to_string(),
                offer.provider.to_string(),
                to_json(object)?,
                to_json(offer)?,
                offer.capacity,
            ));
        }
        s.store.upsert_offers(&rows)?;
        s.catalogues.rebuild(&s.store).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(rows.len())
    })
    .await?;
    Ok(Reply::Json(200, json!({"upserted": n, "offers_version": state.catalogues.current().version})))
}

fn offer_view(record: &str, capacity: u32, reserved: u32, retired: bool) -> Value {
    json!({
        "record": parse_record(record),
        "capacity": capacity,
        "reserved": reserved,
        "remaining_places": if retired { 0 } else { capacity.saturating_sub(reserved) },
        "retired": retired,
    })
}

/// [`offer_view`] with the places as they add up today: reserved (course not started),
/// running and free, from the ledger shared by every municipality.
fn offer_view_with_places(
    state: &AppState,
    id: &str,
    record: &str,
    capacity: u32,
    reserved: u32,
    retired: bool,
) -> Result<Value, ApiError> {
    let mut view = offer_view(record, capacity, reserved, retired);
    let places = state.store.offer_places(id, &state.catalogues.today().to_string())?;
    if let Value::Object(o) = &mut view {
        o.insert(
            "places".into(),
            serde_json::to_value(places).map_err(|e| ApiError::Internal(e.to_string()))?,
        );
    }
    Ok(view)
}

async fn offers_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let (limit, offset) = paging(&req)?;
    let rows = blocking(move || Ok(state.store.list_offers(limit, offset)?)).await?;
    let items: Vec<Value> = rows.iter().map(|(r, c, res, ret)| offer_view(r, *c, *res, *ret)).collect();
    Ok(Reply::Json(200, json!({"offers": items, "limit": limit, "offset": offset})))
}

async fn offer_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let view = blocking(move || {
        let (r, c, res, ret) = state.store.offer(&id)?;
        offer_view_with_places(&state, &id, &r, c, res, ret)
    })
    .await?;
    Ok(Reply::Json(200, view))
}

async fn offer_retire(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let (r, c, res, ret) = blocking(move || {
        state.store.retire_offer(&id)?;
        state.catalogues.rebuild(&state.store).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(state.store.offer(&id)?)
    })
    .await?;
    Ok(Reply::Json(200, offer_view(&r, c, res, ret)))
}

fn group_quality(state: &AppState, rows: &[(String, u32, u32)]) -> Vec<Value> {
    let reference = state.catalogues.reference();
    rows.iter()
        .map(|(code, trials, successes)| {
            let (prior, strength) = reference
                .group(code)
                .and_then(|g| reference.target_groups.get(usize::from(g.0)))
                .map_or((0.5, 0.0), |g| (g.prior_success_rate, g.prior_strength));
            let p = posterior(*successes, *trials, prior, strength);
            json!({
                "target_group": code,
                "trials": trials,
                "successes": successes,
                "raw_rate": if *trials > 0 { f64::from(*successes) / f64::from(*trials) } else { 0.0 },
                "group_average": prior,
                "posterior_mean": p.mean,
                "interval_90": [p.low, p.high],
            })
        })
        .collect()
}

fn scarcity_price(state: &AppState, municipality: u16, offer: &str) -> Value {
    state.prices_for(municipality).map_or(Value::Null, |p| json!(p.by_offer.get(offer).copied().unwrap_or(0)))
}

async fn offer_quality(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let m = req.principal()?.municipality;
    let s = state.clone();
    let oid = id.clone();
    let ((record, capacity, reserved, retired), evidence) =
        blocking(move || Ok((s.store.offer(&oid)?, s.store.offer_evidence(&oid)?))).await?;
    let record = parse_record(&record);
    Ok(Reply::Json(
        200,
        json!({
            "offer_id": id,
            "provider_id": record.get("provider_id"),
            // A record loaded from CSV holds numbers as text: answer the documented integer.
            "price_dkk": whole_number(record.get("price_dkk")),
            "capacity": capacity,
            "reserved": reserved,
            "retired": retired,
            "utilisation": if capacity > 0 { f64::from(reserved) / f64::from(capacity) } else { 0.0 },
            "scarcity_price": scarcity_price(&state, m, &id),
            "groups": group_quality(&state, &evidence),
        }),
    ))
}

async fn provider_quality(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let s = state.clone();
    let pid = id.clone();
    let (offers, evidence) = blocking(move || {
        let offers = s.store.provider_offers(&pid)?;
        let mut evidence: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
        for (offer, _, _) in &offers {
            for (g, t, k) in s.store.offer_evidence(offer)? {
                let e = evidence.entry(g).or_default();
                e.0 = e.0.saturating_add(t);
                e.1 = e.1.saturating_add(k);
            }
        }
        Ok((offers, evidence))
    })
    .await?;
    if offers.is_empty() {
        return Err(ApiError::NotFound("provider"));
    }
    let capacity: u32 = offers.iter().map(|o| o.1).sum();
    let reserved: u32 = offers.iter().map(|o| o.2).sum();
    let rows: Vec<(String, u32, u32)> = evidence.into_iter().map(|(g, (t, k))| (g, t, k)).collect();
    Ok(Reply::Json(
        200,
        json!({
            "provider_id": id,
            "offers": offers.iter().map(|o| &o.0).collect::<Vec<_>>(),
            "capacity": capacity,
            "reserved": reserved,
            "utilisation": if capacity > 0 { f64::from(reserved) / f64::from(capacity) } else { 0.0 },
            "groups": group_quality(&state, &rows),
        }),
    ))
}

// ----- candidates -----

async fn candidates_upsert(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let objects = record_array(&req)?;
    let s = state.clone();
    let n = blocking(move || {
        let refs: Vec<&Map<String, Value>> = objects.iter().collect();
        let candidates =
            dataset::candidates_from_json("body", &one_per_line(&refs), s.catalogues.reference())
                .map_err(|p| problems_to_fields(p, |i| format!("/{i}")))?;
        let cat = s.catalogues.current();
        let mut errors = Vec::new();
        let mut rows = Vec::with_capacity(candidates.len());
        for (i, ((_, c), object)) in candidates.iter().zip(&objects).enumerate() {
            if c.municipality.0 != m {
                errors.push(FieldError::new(
                    format!("/{i}/municipality"),
                    c.municipality.to_string(),
                    format!("your token is for municipality {m:04}"),
                ));
                continue;
            }
            check_offer_refs(&cat, c, &format!("/{i}"), &mut errors);
            rows.push((c.id.to_string(), to_json(object)?, to_json(&stored(c, &s))?));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        s.store.upsert_candidates(m, &rows)?;
        Ok(rows.len())
    })
    .await?;
    Ok(Reply::Json(200, json!({"upserted": n})))
}

async fn candidates_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let (limit, offset) = paging(&req)?;
    let rows = blocking(move || Ok(state.store.list_candidates(m, limit, offset)?)).await?;
    let items: Vec<Value> = rows.iter().map(|r| parse_record(r)).collect();
    Ok(Reply::Json(200, json!({"candidates": items, "limit": limit, "offset": offset})))
}

async fn candidate_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_id(&req, 0)?;
    let (record, _) = blocking(move || Ok(state.store.candidate(m, &id)?)).await?;
    Ok(Reply::Json(200, parse_record(&record)))
}

async fn candidate_delete(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_id(&req, 0)?;
    let echo = id.clone();
    let s = state.clone();
    let released = blocking(move || Ok(s.store.delete_candidate(m, &id)?)).await?;
    give_back(&state, &released);
    Ok(Reply::Json(200, json!({"deleted": echo, "places_released": released.offers.len()})))
}

// ----- suggestions -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestionRequest {
    candidate_id: Option<String>,
    candidate: Option<Map<String, Value>>,
    k: Option<u32>,
}

async fn suggestions(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let body: SuggestionRequest = typed_body(&req)?;
    let k = body.k.unwrap_or(5);
    if !(1..=50).contains(&k) {
        return Err(ApiError::field("/k", k.to_string(), "expected 1 to 50"));
    }
    if let Some(id) = &body.candidate_id {
        check_id(id).map_err(|reason| ApiError::field("/candidate_id", truncate(id), reason))?;
    }
    let s = state.clone();
    let answer = blocking(move || {
        let cat = s.catalogues.current();
        let candidate = match (body.candidate_id, body.candidate) {
            (Some(id), None) => {
                let (_, model) = s.store.candidate(m, &id)?;
                let stored: StoredCandidate = serde_json::from_str(&model)
                    .map_err(|e| ApiError::Internal(format!("stored candidate: {e}")))?;
                stored.candidate
            }
            (None, Some(object)) => {
                let mut list = dataset::candidates_from_json(
                    "candidate",
                    &one_per_line(&[&object]),
                    s.catalogues.reference(),
                )
                .map_err(|p| problems_to_fields(p, |_| "/candidate".to_string()))?;
                let (_, c) = list.pop().ok_or_else(|| ApiError::field("/candidate", "", "no candidate"))?;
                if c.municipality.0 != m {
                    return Err(ApiError::field(
                        "/candidate/municipality",
                        c.municipality.to_string(),
                        format!("your token is for municipality {m:04}"),
                    ));
                }
                let mut errors = Vec::new();
                check_offer_refs(&cat, &c, "/candidate", &mut errors);
                if !errors.is_empty() {
                    return Err(ApiError::Validation(errors));
                }
                c
            }
            _ => return Err(ApiError::field("", "", "give exactly one of candidate_id and candidate")),
        };
        // Live state: the course the candidate holds a place on, and the offers declined
        // for it that are still kept out.
        let today = s.catalogues.today().to_string();
        let mut candidate = candidate;
        let running = s.store.running_place(m, candidate.id.as_str(), &today)?;
        for (_, decline) in s.store.active_declines(m, Some(candidate.id.as_str()), &today)? {
            if let Ok(offer) = matcher_core::model::OfferId::new(&decline.offer_id)
                && running.as_ref().is_none_or(|r| r.offer_id != decline.offer_id)
                && !candidate.excluded_offers.contains(&offer)
            {
                candidate.excluded_offers.push(offer);
            }
        }
        if let Some(r) = &running
            && let Ok(offer) = matcher_core::model::OfferId::new(&r.offer_id)
        {
            // The current offer, not locked here: a locked candidate's row holds only its course,
            // and the caseworker should still see the alternatives (the widget says that a
            // course runs, and a second accept is refused). Batch runs lock it.
            candidate.current = Some(matcher_core::model::CurrentAssignment { offer, locked: false });
            candidate.excluded_offers.retain(|o| o.as_str() != r.offer_id);
        }
        suggest(&s, &cat, m, &candidate, k as usize, running.as_ref())
    })
    .await?;
    Ok(Reply::Raw(200, answer))
}

#[derive(Serialize)]
struct EvidenceOut {
    target_group: String,
    /// The group's names from the reference data, so a client need not keep its own list.
    target_group_name_da: String,
    target_group_name_en: String,
    group_average: f64,
    trials: u32,
    successes: u32,
    posterior_mean: f64,
    interval_90: [f64; 2],
}

#[derive(Serialize)]
struct SuggestionOut<'a> {
    rank: usize,
    offer_id: &'a str,
    name: &'a str,
    kind: &'static str,
    provider_id: &'a str,
    score: i64,
    scarcity_price: Option<i64>,
    adjusted_score: Option<i64>,
    factors: Vec<matcher_core::score::Contribution>,
    effect_dkk: f64,
    weeks_avoidable: f64,
    distance_km: f64,
    evidence: Vec<EvidenceOut>,
    remaining_places: u32,
    capacity: u32,
    price_dkk: u32,
    policy: String,
    runner_up: Option<RunnerUpOut<'a>>,
}

/// The next offer in the ranking, and why this one is ahead of it.
#[derive(Serialize)]
struct RunnerUpOut<'a> {
    offer_id: &'a str,
    name: &'a str,
    /// Ranking key of this suggestion minus the runner-up's (the adjusted score when prices
    /// from a batch run apply, the score otherwise); never negative.
    difference: i64,
    /// This suggestion's points minus the runner-up's, per factor in the core's order.
    factor_differences: Vec<FactorDifference>,
}

#[derive(Serialize)]
struct FactorDifference {
    factor: matcher_core::score::Factor,
    points: i64,
}

#[derive(Serialize)]
struct SuggestionsOut<'a> {
    candidate_id: &'a str,
    /// The course the candidate holds a place on (accepted, not ended, not withdrawn): a
    /// second accept is refused until it is withdrawn or corrected.
    running: Option<RunningOut<'a>>,
    offers_version: u64,
    batch_run_id: Option<i64>,
    offers_in_reach: u32,
    offers_feasible: u32,
    suggestions: Vec<SuggestionOut<'a>>,
}

#[derive(Serialize)]
struct RunningOut<'a> {
    decision_id: i64,
    offer_id: &'a str,
    offer_name: Option<&'a str>,
    starts_on: &'a str,
    ends_on: &'a str,
}

/// The top-k answer, serialised straight from typed rows: this is the hot path, and building
/// a `serde_json::Value` tree first cost a third of its time in allocations.
fn suggest(
    state: &AppState,
    cat: &Catalogue,
    m: u16,
    candidate: &Candidate,
    k: usize,
    running: Option<&crate::server::ledger::RunningPlace>,
) -> Result<Vec<u8>, ApiError> {
    let scorer = &cat.scorer;
    let view = scorer.view(candidate).map_err(|e| ApiError::Internal(e.to_string()))?;
    // Ask for more than k: full offers are dropped and the price may reorder the rest.
    let (top, counts) = cat.index.top_k(scorer, &view, k * 2 + 8);
    let prices = state.prices_for(m);
    let mut rows: Vec<(u32, i64, i64, i64)> = top
        .into_iter()
        .filter(|&(o, _)| cat.remaining(o as usize) > 0)
        .map(|(o, score)| {
            let offer = &cat.offers()[o as usize];
            let price = prices.as_ref().and_then(|p| p.by_offer.get(offer.id.as_str()).copied()).unwrap_or(0);
            (o, score, price, score - price)
        })
        .collect();
    if prices.is_some() {
        // Scarcity-aware order: score minus the offer's dual price from the last batch.
        rows.sort_by(|a, b| b.3.cmp(&a.3).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    }
    // One more than shown: the last suggestion's runner-up.
    rows.truncate(k + 1);
    let reference = state.catalogues.reference();
    let mut explained = Vec::with_capacity(rows.len());
    for (o, score, price, adjusted) in rows {
        match scorer.explain_candidate(candidate, o as usize) {
            Ok(Ok(e)) => explained.push((o, score, price, adjusted, e)),
            Ok(Err(_)) => continue,
            Err(e) => return Err(ApiError::Internal(e.to_string())),
        }
    }
    let ranking_key = |score: i64, adjusted: i64| if prices.is_some() { adjusted } else { score };
    let shown = explained.len().min(k);
    let mut out = Vec::with_capacity(shown);
    for (i, (o, score, price, adjusted, explanation)) in explained.iter().take(shown).enumerate() {
        let offer: &Offer = &cat.offers()[*o as usize];
        let runner_up = explained.get(i + 1).map(|(next_o, next_score, _, next_adjusted, next_e)| {
            let next: &Offer = &cat.offers()[*next_o as usize];
            RunnerUpOut {
                offer_id: next.id.as_str(),
                name: &next.name,
                difference: ranking_key(*score, *adjusted) - ranking_key(*next_score, *next_adjusted),
                factor_differences: explanation
                    .contributions
                    .iter()
                    .zip(&next_e.contributions)
                    .map(|(a, b)| FactorDifference { factor: a.factor, points: a.points - b.points })
                    .collect(),
            }
        });
        out.push(SuggestionOut {
            rank: i + 1,
            offer_id: offer.id.as_str(),
            name: &offer.name,
            kind: offer.kind.label(),
            provider_id: offer.provider.as_str(),
            score: *score,
            scarcity_price: prices.as_ref().map(|_| *price),
            adjusted_score: prices.as_ref().map(|_| *adjusted),
            factors: explanation.contributions.clone(),
            effect_dkk: explanation.effect_dkk,
            weeks_avoidable: explanation.weeks_avoidable,
            distance_km: explanation.distance_km,
            evidence: explanation
                .evidence
                .iter()
                .map(|e| {
                    let names = reference
                        .group(&e.group)
                        .and_then(|g| reference.target_groups.get(usize::from(g.0)))
                        .map_or((e.group.clone(), e.group.clone()), |g| {
                            (g.name_da.clone(), g.name_en.clone())
                        });
                    EvidenceOut {
                        target_group: e.group.clone(),
                        target_group_name_da: names.0,
                        target_group_name_en: names.1,
                        group_average: e.group_average,
                        trials: e.posterior.trials,
                        successes: e.posterior.successes,
                        posterior_mean: e.posterior.mean,
                        interval_90: [e.posterior.low, e.posterior.high],
                    }
                })
                .collect(),
            remaining_places: cat.remaining(*o as usize),
            capacity: offer.capacity,
            price_dkk: offer.price_dkk,
            policy: explanation.policy.clone(),
            runner_up,
        });
    }
    let answer = SuggestionsOut {
        candidate_id: candidate.id.as_str(),
        running: running.map(|r| RunningOut {
            decision_id: r.decision_id,
            offer_id: &r.offer_id,
            offer_name: scorer.offer_index(&r.offer_id).map(|i| cat.offers()[i as usize].name.as_str()),
            starts_on: &r.starts_on,
            ends_on: &r.ends_on,
        }),
        offers_version: cat.version,
        batch_run_id: prices.as_ref().map(|p| p.run_id),
        offers_in_reach: counts.in_reach,
        offers_feasible: counts.feasible + counts.pruned,
        suggestions: out,
    };
    serde_json::to_vec(&answer).map_err(|e| ApiError::Internal(format!("serialising: {e}")))
}

// ----- decisions -----

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Action {
    Accept,
    Decline,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionRequest {
    candidate_id: String,
    offer_id: String,
    action: Action,
    reason: String,
    #[serde(default)]
    suggested_offer_ids: Vec<String>,
    /// An accept: the course's first day (default: today).
    #[serde(default)]
    starts_on: Option<String>,
    /// This decision corrects an earlier one of the same candidate (its id).
    #[serde(default, deserialize_with = "optional_integer_id")]
    corrects: Option<i64>,
}

fn optional_integer_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    integer_id(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawalRequest {
    reason: String,
}

/// A reason as decisions take it: 1 to 2000 characters, never CPR-like (decisions are
/// append-only: a personal number written here could never be removed).
fn check_reason(reason: &str, errors: &mut Vec<FieldError>) {
    if reason.is_empty() || reason.chars().count() > 2000 {
        errors.push(FieldError::new(
            "/reason",
            truncate(reason),
            "a reason of 1 to 2000 characters is required",
        ));
    } else if matcher_core::model::looks_like_cpr(reason) {
        errors.push(FieldError::new(
            "/reason",
            "",
            "looks like it holds a CPR number; refer to the candidate by its pseudonymous id",
        ));
    }
}

/// The request's `Idempotency-Key`, checked like an id.
fn idempotency_key(req: &Request, errors: &mut Vec<FieldError>) -> Option<String> {
    // Same alphabet and length as ids (a UUID fits), so that a key can never carry a CPR number.
    match req.idempotency_key.clone() {
        None => None,
        Some(Err(())) => {
            errors.push(FieldError::new("/header/Idempotency-Key", "", "not valid text"));
            None
        }
        Some(Ok(key)) => {
            if let Err(reason) = check_id(&key) {
                errors.push(FieldError::new("/header/Idempotency-Key", truncate(&key), reason));
            }
            Some(key)
        }
    }
}

/// Places that came back go back into the catalogue's counters (the ledger already has them).
fn give_back(state: &AppState, released: &crate::server::store::Released) {
    if released.offers.is_empty() {
        return;
    }
    let cat = state.catalogues.current();
    for offer in &released.offers {
        if let Some(i) = cat.scorer.offer_index(offer)
            && let Some(r) = cat.reserved.get(i as usize)
        {
            let _ = r.fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |v| Some(v.saturating_sub(1)),
            );
        }
    }
    state.metrics.event("places_released");
}

async fn decision_create(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let body: DecisionRequest = typed_body(&req)?;
    let mut errors = Vec::new();
    if let Err(reason) = check_id(&body.candidate_id) {
        errors.push(FieldError::new("/candidate_id", truncate(&body.candidate_id), reason));
    }
    if let Err(reason) = check_id(&body.offer_id) {
        errors.push(FieldError::new("/offer_id", truncate(&body.offer_id), reason));
    }
    for (i, id) in body.suggested_offer_ids.iter().enumerate() {
        if let Err(reason) = check_id(id) {
            errors.push(FieldError::new(format!("/suggested_offer_ids/{i}"), truncate(id), reason));
        }
    }
    if body.suggested_offer_ids.len() > 100 {
        errors.push(FieldError::new("/suggested_offer_ids", "", "at most 100 ids"));
    }
    let reason = body.reason.trim();
    check_reason(reason, &mut errors);
    let today = state.catalogues.today();
    if let Some(start) = &body.starts_on {
        match matcher_core::model::Date::parse(start) {
            _ if body.action != Action::Accept => errors.push(FieldError::new(
                "/starts_on",
                truncate(start),
                "only an accept has a course start",
            )),
            Some(day) if (today.plus_days(-366)..=today.plus_days(366)).contains(&day) => {}
            Some(_) => {
                errors.push(FieldError::new("/starts_on", truncate(start), "must be within a year of today"))
            }
            None => {
                errors.push(FieldError::new("/starts_on", truncate(start), "expected a date as YYYY-MM-DD"))
            }
        }
    }
    if body.corrects.is_some_and(|n| n < 1) {
        errors.push(FieldError::new("/corrects", "", "expected a decision id from 1"));
    }
    let key = idempotency_key(&req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if body.action == Action::Accept
        && let Some(start) = body.starts_on.as_deref().and_then(matcher_core::model::Date::parse)
    {
        let cat = state.catalogues.current();
        let weeks = cat
            .scorer
            .offer_index(&body.offer_id)
            .map_or(1, |i| cat.offers()[i as usize].duration_weeks.max(1));
        let ends = start.plus_days(i32::from(weeks) * 7 - 1);
        if ends < today {
            return Err(ApiError::field(
                "/starts_on",
                start.to_string(),
                format!("a course of {weeks} weeks from this day ended on {ends}, before today"),
            ));
        }
    }
    let policies = state.catalogues.policies();
    let decline_days = policies
        .get(policies.index_for(matcher_core::model::MunicipalityCode(p.municipality)))
        .decisions
        .decline_days;
    let decision = NewDecision {
        municipality: p.municipality,
        candidate_id: body.candidate_id,
        offer_id: body.offer_id,
        accept: body.action == Action::Accept,
        reason: reason.to_string(),
        decided_by: p.user.clone(),
        role: p.role.name().to_string(),
        suggested: body.suggested_offer_ids,
        key,
        today: today.to_string(),
        starts_on: body.starts_on,
        decline_days,
        corrects: body.corrects,
    };
    let s = state.clone();
    let (row, remaining, replayed, released) = blocking(move || Ok(s.store.decide(&decision)?)).await?;
    give_back(&state, &released);
    if replayed {
        // Nothing new was written: no place taken, no event counted.
    } else if row.action == "accept" {
        let cat = state.catalogues.current();
        if let Some(i) = cat.scorer.offer_index(&row.offer_id)
            && let Some(r) = cat.reserved.get(i as usize)
        {
            r.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        state.metrics.event("decisions_accepted");
    } else {
        state.metrics.event("decisions_declined");
    }
    let mut value = serde_json::to_value(&row).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Value::Object(o) = &mut value {
        o.insert("employer".into(), json!(format!("municipality {}", row.municipality)));
        o.insert("remaining_places".into(), json!(remaining));
    }
    // A replay answers 200 with the decision recorded the first time.
    Ok(Reply::Json(if replayed { 200 } else { 201 }, value))
}

/// Keyset paging, not offsets: an offset page shifts when decisions are added between two
/// reads, while `after` (the last id of the previous page) gives every decision exactly once.
async fn decisions_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let (mut candidate, mut after, mut limit) = (None, 0i64, 100u32);
    for (k, v) in query_params(&req) {
        match k.as_str() {
            "candidate_id" => {
                check_id(&v)
                    .map_err(|reason| ApiError::field("/query/candidate_id", truncate(&v), reason))?;
                candidate = Some(v);
            }
            "limit" => {
                limit = v.parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
                    ApiError::field("/query/limit", truncate(&v), "expected a whole number from 1 to 1000")
                })?
            }
            "after" => {
                after = v.parse().ok().filter(|n: &i64| *n > 0).ok_or_else(|| {
                    ApiError::field(
                        "/query/after",
                        truncate(&v),
                        "expected a decision id (a positive whole number), as in `next`",
                    )
                })?
            }
            _ => {}
        }
    }
    let today = state.catalogues.today().to_string();
    let page =
        blocking(move || Ok(state.store.decisions(m, candidate.as_deref(), after, limit, &today)?)).await?;
    let mut value = serde_json::to_value(&page).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Value::Object(o) = &mut value {
        o.insert("limit".into(), json!(limit));
    }
    Ok(Reply::Json(200, value))
}

async fn decision_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_number(&req, 0)?;
    let row = blocking(move || Ok(state.store.decision(m, id, &state.catalogues.today().to_string())?))
        .await?
        .ok_or(ApiError::NotFound("decision"))?;
    Ok(Reply::Json(200, serde_json::to_value(&row).map_err(|e| ApiError::Internal(e.to_string()))?))
}

/// A caseworker withdraws an earlier decision with a reason; an accept's place comes back in
/// the same transaction. Decisions stay append-only: the withdrawal is a decision of its own
/// that names the one it withdraws.
async fn decision_withdraw(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let id = path_number(&req, 0)?;
    let body: WithdrawalRequest = typed_body(&req)?;
    let mut errors = Vec::new();
    let reason = body.reason.trim().to_string();
    check_reason(&reason, &mut errors);
    let key = idempotency_key(&req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let w = crate::server::store::NewWithdrawal {
        municipality: p.municipality,
        decision: id,
        reason,
        decided_by: p.user.clone(),
        role: p.role.name().to_string(),
        key,
        today: state.catalogues.today().to_string(),
    };
    let s = state.clone();
    let (row, replayed, released) = blocking(move || Ok(s.store.withdraw(&w)?)).await?;
    give_back(&state, &released);
    if !replayed {
        state.metrics.event("decisions_withdrawn");
    }
    let value = serde_json::to_value(&row).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Reply::Json(if replayed { 200 } else { 201 }, value))
}

// ----- outcomes -----

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum OutcomeKind {
    InWork,
    InEducation,
    BackAtWork,
    DroppedOut,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeRequest {
    #[serde(deserialize_with = "integer_id")]
    decision_id: i64,
    result: OutcomeKind,
}

/// An integer as JSON Schema counts them: `73584` or `73584.0` (found by schemathesis: the
/// document says `integer`, and a client may well send the float form), never `73584.5`.
fn integer_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    match n.as_f64() {
        // 2^53: beyond it a float no longer holds every integer exactly.
        Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!("expected a whole number, got {n}"))),
    }
}

async fn outcome_create(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let body: OutcomeRequest = typed_body(&req)?;
    let (label, success) = match body.result {
        OutcomeKind::InWork => ("in_work", true),
        OutcomeKind::InEducation => ("in_education", true),
        OutcomeKind::BackAtWork => ("back_at_work", true),
        OutcomeKind::DroppedOut => ("dropped_out", false),
    };
    let s = state.clone();
    let (offer, released) = blocking(move || {
        let out = s.store.record_outcome(p.municipality, body.decision_id, label, success, &p.user)?;
        // The rebuild reads the places held from the store: the released one included.
        s.catalogues.rebuild(&s.store).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(out)
    })
    .await?;
    state.metrics.event("outcomes");
    Ok(Reply::Json(
        201,
        json!({"decision_id": body.decision_id, "offer_id": offer, "result": label, "success": success,
            "place_released": released}),
    ))
}

// ----- batch runs -----

async fn batch_start(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    if !req.body.is_empty() {
        let _: Map<String, Value> = typed_body(&req)?;
    }
    let s = state.clone();
    let (id, number) = blocking(move || Ok(s.store.start_batch(m)?)).await?;
    state.metrics.event("batch_runs");
    tokio::spawn(crate::server::batch::run(state.clone(), m, id, number));
    Ok(Reply::Json(202, json!({"id": number, "status": "running"})))
}

async fn batch_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_number(&req, 0)?;
    let row = blocking(move || Ok(state.store.batch(m, id)?)).await?;
    Ok(Reply::Json(
        200,
        json!({
            "id": row.id,
            "status": row.status,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
            "error": row.error,
            "summary": row.summary.as_deref().map(parse_record),
        }),
    ))
}

async fn batch_proposals(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_number(&req, 0)?;
    let row = blocking(move || Ok(state.store.batch(m, id)?)).await?;
    match row.proposals {
        Some(p) => Ok(Reply::Json(200, json!({"id": row.id, "proposals": parse_record(&p)}))),
        None => Err(ApiError::Conflict(format!("batch run {} is {}", row.id, row.status))),
    }
}
