//! `GET /v1/oversight`: the oversight figures of the caller's municipality (admin and auditor
//! only), computed by `server::oversight` from the decisions and the suggestion log. Reads
//! only.

use super::*;

/// Longest period one answer covers, in days.
const MAX_DAYS: i32 = 3660;

/// `GET /v1/oversight[?from=YYYY-MM-DD][&to=YYYY-MM-DD][&after=NAME][&limit=N]`: the
/// figures per caseworker (paged by name), team and municipality for decisions made from
/// `from` to `to` (both days counted; default the 30 days to today, UTC).
pub(super) async fn oversight(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    // Decisions are stamped by the wall clock, not by the scorer's day (`--today`).
    let today = crate::clock::today_utc();
    let (mut from, mut to, mut after, mut limit) = (None, None, None, 100usize);
    let day = |k: &str, v: &str| {
        matcher_core::model::Date::parse(v)
            .ok_or_else(|| ApiError::field(format!("/query/{k}"), truncate(v), "expected a date YYYY-MM-DD"))
    };
    for (k, v) in query_params(&req) {
        match k.as_str() {
            "from" => from = Some(day("from", &v)?),
            "to" => to = Some(day("to", &v)?),
            "after" => {
                if v.is_empty() || v.chars().count() > 200 {
                    return Err(ApiError::field(
                        "/query/after",
                        truncate(&v),
                        "expected a name, as in `next`",
                    ));
                }
                after = Some(v);
            }
            "limit" => {
                limit = v.parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
                    ApiError::field("/query/limit", truncate(&v), "expected a whole number from 1 to 1000")
                })?
            }
            _ => {}
        }
    }
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to.plus_days(-29));
    if from > to {
        return Err(ApiError::field("/query/from", from.to_string(), "must not be after `to`"));
    }
    if to.0 - from.0 >= MAX_DAYS {
        return Err(ApiError::field(
            "/query/from",
            from.to_string(),
            format!("at most {MAX_DAYS} days from `to`"),
        ));
    }
    let answer = blocking(move || {
        state.audit_log.flush();
        let (from, to) = (from.to_string(), to.to_string());
        let rows = state.store.decisions_shown(m, &from, &to)?;
        let policies = state.catalogues.policies();
        let policy = policies.get(policies.index_for(matcher_core::model::MunicipalityCode(m)));
        Ok(crate::server::oversight::oversight(
            m,
            (&from, &to),
            &rows,
            &policy.oversight,
            (after.as_deref(), limit),
        ))
    })
    .await?;
    answers::json_bytes(200, &answer)
}
