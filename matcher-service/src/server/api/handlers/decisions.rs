//! Decisions: record (an accept takes a place), list by key, read, withdraw (the place comes back).

use super::*;
use crate::server::store::{Decided, Withdrawn};

// ----- decisions -----

/// `corrects` as decisions take it: absent, or an integer as [`integer_id`] reads it.
pub(in crate::server::api) fn optional_integer_id<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<i64>, D::Error> {
    integer_id(d).map(Some)
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
pub(super) fn idempotency_key(req: &Request, errors: &mut Vec<FieldError>) -> Option<String> {
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
pub(super) fn give_back(state: &AppState, released: &crate::server::store::Released) {
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

/// After a write about these candidates of `municipality` (their records, or their places in
/// the ledger), the catalogue's counts of courses under way that only records claim follow:
/// the offers their records name as locked now, and `before` (what the records named before
/// the write), are recounted. Blocking; after the commit, so a failure is only logged.
pub(super) fn recount_records(state: &AppState, municipality: u16, candidates: &[&str], before: Vec<String>) {
    let mut offers = before;
    match state.store.record_lock_offers(municipality, candidates) {
        Ok(now) => offers.extend(now),
        Err(e) => tracing::warn!(error = %e, "reading the courses under way that records claim failed"),
    }
    offers.sort();
    offers.dedup();
    state.catalogues.recount_recorded(&state.store, &offers);
}

/// Evidence changed in the store (an outcome recorded, or taken back with its withdrawn
/// accept): the scorer is refreshed beside the request, coalesced with the other writes'
/// refreshes, so the answer waits for the store's commit only (issue 18).
pub(super) fn refresh_evidence(state: &Arc<AppState>) {
    let s = state.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = s.catalogues.evidence_changed(&s.store) {
            tracing::error!(error = %e, "evidence refresh failed; the previous catalogue keeps serving");
        }
    });
}

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
    check_reason(reason, &mut errors);
    let today = state.catalogues.today();
    if let Some(start) = &body.starts_on {
        match matcher_core::model::Date::parse(start) {
            _ if body.action != DecisionAction::Accept => errors.push(FieldError::new(
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
    if body.action == DecisionAction::Accept
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
        accept: body.action == DecisionAction::Accept,
        reason: reason.to_string(),
        decided_by: p.user.clone(),
        employer: p.employer.clone(),
        role: p.role.name().to_string(),
        suggested: body.suggested_offer_ids,
        key,
        today: today.to_string(),
        starts_on: body.starts_on,
        decline_days,
        corrects: body.corrects,
        kind_codes: state.catalogues.reference().benefit_kinds.iter().map(|k| k.code.clone()).collect(),
    };
    let s = state.clone();
    let who = Who::of(&req)?;
    let Decided { decision: row, remaining, replayed, released } = blocking(move || {
        let decided = s.store.decide(&decision)?;
        who.accessed(&s, "decide", [decision.candidate_id.as_str()]);
        if !decided.replayed {
            // A place taken or released hides or shows the candidate's own record lock.
            recount_records(&s, decision.municipality, &[decision.candidate_id.as_str()], Vec::new());
        }
        Ok(decided)
    })
    .await?;
    give_back(&state, &released);
    if released.evidence {
        refresh_evidence(&state);
    }
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
    let answer = DecisionRecorded { decision: Decision::new(row), remaining_places: remaining };
    // A replay answers 200 with the decision recorded the first time.
    answers::json(if replayed { 200 } else { 201 }, &answer)
}

/// Keyset paging, not offsets: an offset page shifts when decisions are added between two
/// reads, while `after` (the last id of the previous page) gives every decision exactly once.
pub(super) async fn decisions_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let PageQuery { candidate, after, limit, .. } =
        page_query(&req, 100, 1000, "a decision id (a positive whole number)", false)?;
    let today = state.catalogues.today().to_string();
    let page =
        blocking(move || Ok(state.store.decisions(m, candidate.as_deref(), after, limit, &today)?)).await?;
    let decisions = page.decisions.into_iter().map(Decision::new).collect();
    answers::json(200, &DecisionList { decisions, next: page.next, limit })
}

pub(super) async fn decision_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_number(&req, 0)?;
    let row = blocking(move || Ok(state.store.decision(m, id, &state.catalogues.today().to_string())?))
        .await?
        .ok_or(ApiError::NotFound("decision"))?;
    answers::json(200, &Decision::new(row))
}

/// A caseworker withdraws an earlier decision with a reason; an accept's place comes back in
/// the same transaction. Decisions stay append-only: the withdrawal is a decision of its own
/// that names the one it withdraws.
pub(super) async fn decision_withdraw(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
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
        employer: p.employer.clone(),
        role: p.role.name().to_string(),
        key,
        today: state.catalogues.today().to_string(),
    };
    let s = state.clone();
    let who = Who::of(&req)?;
    let Withdrawn { decision: row, replayed, released } = blocking(move || {
        let withdrawn = s.store.withdraw(&w)?;
        who.accessed(&s, "withdraw", [withdrawn.decision.candidate_id.as_str()]);
        if !withdrawn.replayed {
            recount_records(&s, w.municipality, &[withdrawn.decision.candidate_id.as_str()], Vec::new());
        }
        Ok(withdrawn)
    })
    .await?;
    give_back(&state, &released);
    if released.evidence {
        refresh_evidence(&state);
    }
    if !replayed {
        state.metrics.event("decisions_withdrawn");
    }
    // A replay answers 200 with the withdrawal recorded the first time.
    answers::json(if replayed { 200 } else { 201 }, &Decision::new(row))
}
