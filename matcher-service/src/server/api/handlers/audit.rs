//! Audit routes: what the system showed, read back from the suggestion log exactly as it was
//! served. Admin only (the municipality's auditor uses an admin token). Reads only; the log is
//! written by `server::audit_log`.

use super::*;

/// `GET /v1/audit/suggestions?candidate_id=X[&date=YYYY-MM-DD][&after=N][&limit=N]`: every
/// suggestion list and batch proposal logged for candidate X (on day D, UTC), oldest first.
/// Each entry's `answer` is the stored JSON text passed through unchanged (`RawValue`), so it
/// is byte for byte the body that was sent.
pub(super) async fn audit_suggestions(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let PageQuery { candidate, date, after, limit } = page_query(&req, 100, 1000, "an entry number", true)?;
    let candidate = candidate.ok_or_else(|| ApiError::field("/query/candidate_id", "", "required"))?;
    let asked = candidate.clone();
    let rows = blocking(move || {
        // Answers still in the writer's queue are committed first, so the log is complete up
        // to this request.
        state.audit_log.flush();
        Ok(state.store.suggestion_log(m, &asked, date.as_deref(), after, limit)?)
    })
    .await?;
    let next = rows.last().filter(|_| rows.len() == limit as usize).map(|r| r.number);
    let entries = rows.into_iter().map(SuggestionLogEntry::new).collect::<Result<_, _>>()?;
    answers::json_bytes(200, &SuggestionLog { candidate_id: candidate, entries, next })
}

/// `GET /v1/audit/access[?candidate_id=X][&after=N][&limit=N]`: the tenant's access log
/// (who read or changed which candidate), oldest first, for the municipality's auditor.
pub(super) async fn audit_access(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let PageQuery { candidate, after, limit, .. } = page_query(&req, 1000, 10_000, "an entry number", false)?;
    let rows = blocking(move || {
        state.audit_log.flush();
        Ok(state.store.access_log(m, candidate.as_deref(), after, limit)?)
    })
    .await?;
    let next = rows.last().filter(|_| rows.len() == limit as usize).map(|r| r.number);
    let entries = rows.into_iter().map(AccessEntry::new).collect::<Result<_, _>>()?;
    answers::json(200, &AccessLog { entries, next, limit })
}
