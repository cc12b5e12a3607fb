//! Citizens' rights: the access export of one candidate (GDPR Art. 15), for the municipality
//! to hand to the citizen. Admin and auditor only; the export itself is logged as an access.

use super::*;

/// Largest number of log rows of one kind an export gathers.
const EXPORT_ROWS: u32 = 100_000;

/// `GET /v1/candidates/{id}/export`: everything held about the candidate in this tenant, as
/// one JSON document, or as a page in Danish the citizen can read (`Accept: text/html` or
/// `?format=html`, `server::pages`). 404 when nothing is held (as for another tenant's
/// candidate).
pub(super) async fn candidate_export(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let who = Who::of(&req)?;
    let id = path_id(&req, 0)?;
    let html = req.wants_html || query_params(&req).iter().any(|(k, v)| k == "format" && v == "html");
    let document = blocking(move || {
        state.audit_log.flush();
        let today = state.catalogues.today().to_string();
        let store = &state.store;
        let record = store.candidate_record(m, &id)?;
        let shown = store.suggestion_log(m, &id, None, 0, EXPORT_ROWS)?;
        let decisions = store.decisions(m, Some(&id), 0, 1000, &today)?.decisions;
        let outcomes = store.candidate_outcomes(m, &id)?;
        let accesses = store.access_log(m, Some(&id), 0, EXPORT_ROWS)?;
        let episodes = store.candidate_episodes(m, &id)?;
        if record.is_none() && shown.is_empty() && decisions.is_empty() && accesses.is_empty() {
            return Err(ApiError::NotFound("candidate"));
        }
        let document = CandidateExport {
            candidate_id: id.clone(),
            exported_at: crate::server::audit_log::now_millis(),
            exported_by: who.user.clone(),
            data: record.as_deref().map(CandidateRecord::from_stored).transpose()?,
            suggestions_shown: shown.into_iter().map(SuggestionLogEntry::new).collect::<Result<_, _>>()?,
            decisions: decisions.into_iter().map(Decision::new).collect(),
            outcomes: outcomes
                .into_iter()
                .map(|o| ExportedOutcome {
                    decision_id: o.decision_id,
                    offer_id: o.offer_id,
                    result: o.result,
                    recorded_by: o.recorded_by,
                    recorded_at: o.recorded_at,
                })
                .collect(),
            episodes: episodes.iter().map(HistoryEpisode::new).collect(),
            accesses: accesses.into_iter().map(AccessEntry::new).collect::<Result<_, _>>()?,
            explanation: ExportExplanation::texts(),
        };
        who.accessed(&state, "export", [id.as_str()]);
        Ok(document)
    })
    .await?;
    if html {
        let value =
            serde_json::to_value(&document).map_err(|e| ApiError::Internal(format!("serialising: {e}")))?;
        // Everything held about a person: no script runs, nothing loads.
        return Ok(Reply::Html {
            page: crate::server::pages::access_page(&value),
            csp: "default-src 'none'; style-src 'unsafe-inline'".into(),
        });
    }
    answers::json_bytes(200, &document)
}
