//! Citizens' rights: the access export of one candidate (GDPR Art. 15), for the municipality
//! to hand to the citizen. Admin and auditor only; the export itself is logged as an access.

use super::*;

/// Largest number of log rows of one kind an export gathers.
const EXPORT_ROWS: u32 = 100_000;

/// `GET /v1/candidates/{id}/export`: everything held about the candidate in this tenant, as
/// one JSON document. 404 when nothing is held (as for another tenant's candidate).
pub(super) async fn candidate_export(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let who = Who::of(&req)?;
    let id = path_id(&req, 0)?;
    let document = blocking(move || {
        state.audit_log.flush();
        let store = &state.store;
        let record = store.candidate_record(m, &id)?;
        let shown = store.suggestion_log(m, &id, None, 0, EXPORT_ROWS)?;
        let decisions = store.decisions(m, Some(&id), 0, 1000)?.decisions;
        let outcomes = store.candidate_outcomes(m, &id)?;
        let accesses = store.access_log(m, Some(&id), 0, EXPORT_ROWS)?;
        if record.is_none() && shown.is_empty() && decisions.is_empty() && accesses.is_empty() {
            return Err(ApiError::NotFound("candidate"));
        }
        let shown: Vec<Value> = shown
            .iter()
            .map(|row| {
                let mut v = serde_json::to_value(row).unwrap_or(Value::Null);
                v["answer"] = serde_json::from_str(&row.answer).unwrap_or(Value::Null);
                v
            })
            .collect();
        let document = json!({
            "candidate_id": id,
            "exported_at": crate::server::audit_log::now_millis(),
            "exported_by": who.user,
            "data": record.as_deref().map(parse_record),
            "suggestions_shown": shown,
            "decisions": decisions,
            "outcomes": outcomes,
            "accesses": accesses,
            "explanation": {
                "da": {
                    "data": "Oplysningerne om dig, som kommunen har registreret i Brobygger (tom efter sletning).",
                    "suggestions_shown": "Hvert forslag, systemet har vist din sagsbehandler, præcis som det blev vist: tilbud, point pr. faktor, forventet effekt og hvilke versioner af regler og data der blev brugt.",
                    "decisions": "Beslutninger om tilbud, truffet af en sagsbehandler (navngivet) med begrundelse. Systemet foreslår; det beslutter ikke.",
                    "outcomes": "Resultatet af et tilbud, du har fået.",
                    "accesses": "Hvem der har læst eller ændret dine oplysninger, og hvornår."
                },
                "en": {
                    "data": "The data the municipality registered about you in Brobygger (empty after erasure).",
                    "suggestions_shown": "Every suggestion the system showed your caseworker, exactly as shown: offers, points per factor, expected effect, and the versions of policy and data used.",
                    "decisions": "Decisions on offers, made by a named caseworker with a reason. The system suggests; it does not decide.",
                    "outcomes": "The result of an offer you took.",
                    "accesses": "Who read or changed your data, and when."
                }
            }
        });
        who.accessed(&state, "export", [id.as_str()]);
        Ok(document)
    })
    .await?;
    Ok(Reply::Json(200, document))
}
