//! The route handlers. Each one: check input (ids, bodies), call the store or the core off the
//! async workers, shape the answer. Tenant isolation is in the store's queries; roles were
//! checked before dispatch from the route table.

mod audit;
mod batch_runs;
mod candidates;
mod citizen;
mod decisions;
mod history;
mod offers;
mod orderer;
pub(super) mod outcomes;
mod oversight;
mod suggestions;
mod teams;

use super::answers::{self, *};
use super::{Op, Reply, Request, blocking, on_answer_pool};
use crate::server::AppState;
use crate::server::catalogue::{Catalogue, StoredCandidate};
use crate::server::error::{ApiError, FieldError};
use crate::server::store::{NewAccess, NewDecision};
use audit::*;
use batch_runs::*;
use candidates::*;
use citizen::*;
pub(super) use decisions::optional_integer_id;
use decisions::*;
use history::*;
use matcher_core::dataset;
use matcher_core::model::{Candidate, Offer, check_id};
use matcher_core::score::evidence::posterior;
use offers::*;
use orderer::*;
pub(super) use outcomes::integer_id;
use outcomes::*;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use suggestions::*;
pub(crate) use teams::run_caseload_plan;
pub(crate) use teams::team_overview_of;
use teams::*;

/// Largest number of records in one bulk body.
const MAX_RECORDS: usize = 50_000;

pub(super) async fn dispatch(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    match req.route.op {
        Op::Healthz => answers::json(200, &Health { status: HealthStatus::Ok, offers_version: None }),
        Op::Readyz => readyz(state).await,
        Op::Metrics => Ok(Reply::Text(state.metrics.render(req.scraper, state.catalogues.refresh_totals()))),
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
        Op::ExitCreate => exit_create(state, req).await,
        Op::HistoryList => history_list(state, req).await,
        Op::BatchStart => batch_start(state, req).await,
        Op::BatchGet => batch_get(state, req).await,
        Op::BatchProposals => batch_proposals(state, req).await,
        Op::AuditSuggestions => audit_suggestions(state, req).await,
        Op::AuditAccess => audit_access(state, req).await,
        Op::CandidateExport => candidate_export(state, req).await,
        Op::Oversight => oversight::oversight(state, req).await,
        Op::ProvidersUpsert => providers_upsert(state, req).await,
        Op::ProvidersList => providers_list(state, req).await,
        Op::ProviderGet => provider_get(state, req).await,
        Op::ProviderDecisions => provider_decisions(state, req).await,
        Op::ContractPut => contract_put(state, req).await,
        Op::ContractsList => contracts_list(state, req).await,
        Op::OverviewProviders => overview_providers(state, req).await,
        Op::OverviewSpend => overview_spend(state, req).await,
        Op::CommentsList => comments_list(state, req).await,
        Op::CommentCreate => comment_create(state, req).await,
        Op::CaseloadPlan => caseload_plan(state, req).await,
        Op::TeamOverview => team_overview(state, req).await,
    }
}

// ----- the access log -----

/// Who is asking, for the access log: taken from the request before a blocking closure.
#[derive(Clone)]
struct Who {
    municipality: u16,
    user: String,
    role: &'static str,
    employer: String,
    request_id: String,
}

impl Who {
    fn of(req: &Request) -> Result<Who, ApiError> {
        let p = req.principal()?;
        Ok(Who {
            municipality: p.municipality,
            user: p.user.clone(),
            role: p.role.name(),
            employer: p.employer.clone(),
            request_id: req.request_id.clone(),
        })
    }

    /// Records in the access log that this caller did `action` to each candidate. Blocking
    /// (waits only when the log writer's queue is full): call inside `blocking`.
    fn accessed<'a>(
        &self,
        state: &AppState,
        action: &'static str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) {
        let at = crate::server::audit_log::now_millis();
        for id in candidates {
            state.audit_log.record_access(NewAccess {
                municipality: self.municipality,
                at: at.clone(),
                user: self.user.clone(),
                role: self.role,
                employer: self.employer.clone(),
                action,
                candidate_id: id.to_string(),
                request_id: self.request_id.clone(),
            });
        }
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

/// `%XX` sequences decoded (invalid ones kept as written), invalid UTF-8 replaced.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
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

/// The query of a keyset-paged list: `candidate_id`, `date` (only where the route takes one),
/// `after` (the last entry of the previous page) and `limit`. One parser for every such list,
/// so they refuse the same bad values with the same words.
struct PageQuery {
    candidate: Option<String>,
    date: Option<String>,
    after: i64,
    limit: u32,
}

/// Reads a [`PageQuery`]; `after_what` names what `after` counts (in the error), `with_date`
/// says whether `date` is read (other routes ignore it like any unknown key).
fn page_query(
    req: &Request,
    default_limit: u32,
    max_limit: u32,
    after_what: &str,
    with_date: bool,
) -> Result<PageQuery, ApiError> {
    let mut q = PageQuery { candidate: None, date: None, after: 0, limit: default_limit };
    for (k, v) in query_params(req) {
        match k.as_str() {
            "candidate_id" => {
                check_id(&v)
                    .map_err(|reason| ApiError::field("/query/candidate_id", truncate(&v), reason))?;
                q.candidate = Some(v);
            }
            "date" if with_date => {
                let day = matcher_core::model::Date::parse(&v).ok_or_else(|| {
                    ApiError::field("/query/date", truncate(&v), "expected a date YYYY-MM-DD")
                })?;
                q.date = Some(day.to_string());
            }
            "limit" => {
                q.limit = v.parse().ok().filter(|n| (1..=max_limit).contains(n)).ok_or_else(|| {
                    ApiError::field(
                        "/query/limit",
                        truncate(&v),
                        format!("expected a whole number from 1 to {max_limit}"),
                    )
                })?
            }
            "after" => {
                q.after = v.parse().ok().filter(|n: &i64| *n > 0).ok_or_else(|| {
                    ApiError::field(
                        "/query/after",
                        truncate(&v),
                        format!("expected {after_what}, as in `next`"),
                    )
                })?
            }
            _ => {}
        }
    }
    Ok(q)
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
        let reason = matcher_core::error::plain_words(&e.into_inner().to_string());
        ApiError::Validation(vec![FieldError::new(path, "", reason)])
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

fn parse_record(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

// ----- health -----

async fn readyz(state: Arc<AppState>) -> Result<Reply, ApiError> {
    let s = state.clone();
    let ok = blocking(move || Ok(s.store.ping())).await?;
    if ok && !state.shutting_down.load(std::sync::atomic::Ordering::Relaxed) {
        let version = state.catalogues.current().version;
        answers::json(200, &Health { status: HealthStatus::Ready, offers_version: Some(version) })
    } else {
        Err(ApiError::Unavailable)
    }
}
