//! The episode history: no-offer records (the comparison group) and the export of a tenant's
//! episodes in the `outcomes` table's format (JSON or CSV). Checks input and shapes answers;
//! the episodes themselves are the store's (`store::history`).

use super::*;
use crate::server::store::{NewExit, RecordedExit};
use matcher_core::model::{Date, FOLLOW_UP_WEEKS};

/// Checks a no-offer record against the calendar: dates parse and are not in the future, the
/// weeks fit the follow-up, `still_on_benefit` only once the follow-up is over.
fn check_exit(body: &ExitRequest, today: Date) -> Result<(Date, Option<f64>), ApiError> {
    let started = Date::parse(&body.started)
        .ok_or_else(|| ApiError::field("/started", truncate(&body.started), "expected a date YYYY-MM-DD"))?;
    if started > today {
        return Err(ApiError::field(
            "/started",
            started.to_string(),
            format!("in the future (today is {today})"),
        ));
    }
    let follow_up_days = (FOLLOW_UP_WEEKS * 7.0) as i32;
    match (body.result, body.weeks_to_exit) {
        (ExitKind::StillOnBenefit, Some(w)) => Err(ApiError::field(
            "/weeks_to_exit",
            w.to_string(),
            "still on benefit: there is no exit, leave weeks_to_exit out",
        )),
        (ExitKind::StillOnBenefit, None) => {
            let ends = started.plus_days(follow_up_days);
            if ends > today {
                return Err(ApiError::field(
                    "/started",
                    started.to_string(),
                    format!(
                        "the follow-up of {FOLLOW_UP_WEEKS} weeks ends on {ends}; record still_on_benefit then (an episode is finished at the end of its follow-up)"
                    ),
                ));
            }
            Ok((started, None))
        }
        (_, None) => Err(ApiError::field(
            "/weeks_to_exit",
            "",
            "the candidate left benefit: weeks_to_exit (0 to 52, weeks from started) is required",
        )),
        (_, Some(w)) if !w.is_finite() || w < 0.0 => {
            Err(ApiError::field("/weeks_to_exit", w.to_string(), "a number of weeks must not be negative"))
        }
        (_, Some(w)) if w > f64::from(FOLLOW_UP_WEEKS) => Err(ApiError::field(
            "/weeks_to_exit",
            w.to_string(),
            format!(
                "beyond the follow-up of {FOLLOW_UP_WEEKS} weeks: the episode ended still on benefit (record still_on_benefit)"
            ),
        )),
        (_, Some(w)) => {
            let exit = started.plus_days((w * 7.0).round() as i32);
            if exit > today {
                return Err(ApiError::field(
                    "/weeks_to_exit",
                    w.to_string(),
                    format!(
                        "the exit day {exit} ({w} weeks after {started}) is in the future (today is {today})"
                    ),
                ));
            }
            Ok((started, Some(w)))
        }
    }
}

pub(super) async fn exit_create(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let candidate_id = path_id(&req, 0)?;
    let body: ExitRequest = typed_body(&req)?;
    let today = state.catalogues.today();
    let (started, weeks_to_exit) = check_exit(&body, today)?;
    let mut errors = Vec::new();
    let key = idempotency_key(&req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let exit = NewExit {
        municipality: p.municipality,
        candidate_id,
        result: body.result.stored(),
        started,
        weeks_to_exit,
        recorded_by: p.user.clone(),
        key,
        kind_codes: state.catalogues.reference().benefit_kinds.iter().map(|k| k.code.clone()).collect(),
    };
    let s = state.clone();
    let who = Who::of(&req)?;
    let RecordedExit { episode, replayed } = blocking(move || {
        let recorded = s.store.record_exit(&exit)?;
        who.accessed(&s, "record_exit", [exit.candidate_id.as_str()]);
        Ok(recorded)
    })
    .await?;
    if !replayed {
        // The no-offer rates the estimates compare with have changed: they reach the scorer
        // through the same coalesced refresh beside the request as an outcome's evidence
        // (`Catalogues::evidence_changed`), so the answer waits for the store's commit only.
        // No place and no offer changed, so nothing else of the catalogue is rebuilt.
        let s = state.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = s.catalogues.evidence_changed(&s.store) {
                tracing::error!(error = %e, "history refresh failed; the previous catalogue keeps serving");
            }
        });
        state.metrics.event("exits");
    }
    answers::json(if replayed { 200 } else { 201 }, &HistoryEpisode::new(&episode))
}

/// Keyset paging over the tenant's episode numbers. An episode enters the history when it is
/// finished (a no-offer record at once, an accept with its outcome), so the export is meant to
/// be read whole each time, as the nightly run does.
pub(super) async fn history_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let PageQuery { after, limit, .. } =
        page_query(&req, 1000, 10_000, "an episode number (a positive whole number)", false)?;
    let mut rows = blocking(move || Ok(state.store.history(Some(m), after, limit + 1)?)).await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.number)
    } else {
        None
    };
    if req.accepts_csv {
        let link = next.map(|n| format!("</v1/history?after={n}&limit={limit}>; rel=\"next\""));
        return Ok(Reply::Csv(crate::server::history::csv(&rows), link));
    }
    let episodes = rows.iter().map(HistoryEpisode::new).collect();
    answers::json(200, &HistoryPage { episodes, next, limit })
}
