//! Decisions: record (an accept takes a place), list by key, read.

use super::*;
use crate::server::store::Decided;

// ----- decisions -----

pub(super) async fn decision_create(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
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
    if reason.is_empty() || reason.chars().count() > 2000 {
        errors.push(FieldError::new(
            "/reason",
            truncate(reason),
            "a reason of 1 to 2000 characters is required",
        ));
    } else if matcher_core::model::looks_like_cpr(reason) {
        // Decisions are append-only: a personal number written here could never be removed.
        errors.push(FieldError::new(
            "/reason",
            truncate(reason),
            "looks like it holds a CPR number; refer to the candidate by its pseudonymous id",
        ));
    }
    // Same alphabet and length as ids (a UUID fits), so that a key can never carry a CPR number.
    let key = match req.idempotency_key.clone() {
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
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let decision = NewDecision {
        municipality: p.municipality,
        candidate_id: body.candidate_id,
        offer_id: body.offer_id,
        accept: body.action == DecisionAction::Accept,
        reason: reason.to_string(),
        decided_by: p.user.clone(),
        role: p.role.name().to_string(),
        suggested: body.suggested_offer_ids,
        key,
    };
    let s = state.clone();
    let Decided { decision: row, remaining, replayed } =
        blocking(move || Ok(s.store.decide(&decision)?)).await?;
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
    let employer = format!("municipality {}", row.municipality);
    let answer = DecisionRecorded { decision: Decision::new(row), employer, remaining_places: remaining };
    // A replay answers 200 with the decision recorded the first time.
    answers::json(if replayed { 200 } else { 201 }, &answer)
}

/// Keyset paging, not offsets: an offset page shifts when decisions are added between two
/// reads, while `after` (the last id of the previous page) gives every decision exactly once.
pub(super) async fn decisions_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
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
    let page = blocking(move || Ok(state.store.decisions(m, candidate.as_deref(), after, limit)?)).await?;
    let decisions = page.decisions.into_iter().map(Decision::new).collect();
    answers::json(200, &DecisionList { decisions, next: page.next, limit })
}

pub(super) async fn decision_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_number(&req, 0)?;
    let row =
        blocking(move || Ok(state.store.decision(m, id)?)).await?.ok_or(ApiError::NotFound("decision"))?;
    answers::json(200, &Decision::new(row))
}
