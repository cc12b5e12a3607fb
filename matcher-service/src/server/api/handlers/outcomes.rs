//! Outcomes of accepted decisions: each finishes the decision's episode in the history
//! (`store::history`) and adds to the offer's evidence.

use super::*;

// ----- outcomes -----

/// An integer as JSON Schema counts them: `73584` or `73584.0` (found by schemathesis: the
/// document says `integer`, and a client may well send the float form), never `73584.5`.
pub(in crate::server::api) fn integer_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
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

pub(super) async fn outcome_create(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let body: OutcomeRequest = typed_body(&req)?;
    let (label, success) = body.result.label();
    let today = state.catalogues.today();
    let exited_on = match body.exited_on.as_deref() {
        None => today,
        Some(text) => {
            let day = matcher_core::model::Date::parse(text)
                .ok_or_else(|| ApiError::field("/exited_on", truncate(text), "expected a date YYYY-MM-DD"))?;
            if day > today {
                return Err(ApiError::field(
                    "/exited_on",
                    day.to_string(),
                    format!("in the future (today is {today})"),
                ));
            }
            day
        }
    };
    let s = state.clone();
    let (offer, released) = blocking(move || {
        let recorded =
            s.store.record_outcome(p.municipality, body.decision_id, label, success, exited_on, &p.user)?;
        // A released place lets the candidate's record lock, if its record still claims a
        // course, count again.
        if recorded.1
            && let Ok(Some(row)) =
                s.store.decision(p.municipality, body.decision_id, &s.catalogues.today().to_string())
        {
            super::decisions::recount_records(&s, p.municipality, &[row.candidate_id.as_str()], Vec::new());
        }
        Ok(recorded)
    })
    .await?;
    // The released place counts at once; the evidence reaches the scorer through a refresh
    // beside this request (`refresh_evidence`).
    if released {
        let cat = state.catalogues.current();
        if let Some(i) = cat.scorer.offer_index(&offer)
            && let Some(r) = cat.reserved.get(i as usize)
        {
            let _ = r.fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |v| Some(v.saturating_sub(1)),
            );
        }
    }
    super::decisions::refresh_evidence(&state);
    state.metrics.event("outcomes");
    answers::json(
        201,
        &Outcome {
            decision_id: body.decision_id,
            offer_id: offer,
            result: body.result,
            success,
            place_released: released,
        },
    )
}
