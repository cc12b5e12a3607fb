//! A municipality's candidates: bulk upsert, list, read, delete. Every read and change is
//! recorded in the access log; the protected attributes (`gender`, `origin`, for fairness
//! audits only) are returned to the auditor role alone.

use super::*;
use crate::server::auth::Role;

/// The stored record as `role` may see it: the protected attributes (`gender`, `origin`) only
/// the auditor role reads; they never reach a score (ARCHITECTURE.md) and a caseworker has no
/// need of them.
fn visible(record: &str, role: Role) -> Result<CandidateRecord, ApiError> {
    let mut record = CandidateRecord::from_stored(record)?;
    if role != Role::Auditor {
        record.gender = None;
        record.origin = None;
    }
    Ok(record)
}
use crate::server::store::CandidateRow;

// ----- candidates -----

pub(super) async fn candidates_upsert(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let who = Who::of(&req)?;
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
            rows.push(CandidateRow {
                id: c.id.to_string(),
                record: to_json(object)?,
                model: to_json(&stored(c, &s))?,
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        // The courses under way the records claimed before and claim now take places.
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let before = s.store.record_lock_offers(m, &ids)?;
        s.store.upsert_candidates(m, &rows)?;
        super::decisions::recount_records(&s, m, &ids, before);
        who.accessed(&s, "write", rows.iter().map(|r| r.id.as_str()));
        Ok(rows.len())
    })
    .await?;
    answers::json(200, &UpsertResult { upserted: n, offers_version: None })
}

pub(super) async fn candidates_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let (m, role) = (req.principal()?.municipality, req.principal()?.role);
    let who = Who::of(&req)?;
    let (limit, offset) = paging(&req)?;
    let candidates = blocking(move || {
        let rows = state.store.list_candidates(m, limit, offset)?;
        let candidates =
            rows.iter().map(|r| visible(r, role)).collect::<Result<Vec<CandidateRecord>, ApiError>>()?;
        who.accessed(&state, "list", candidates.iter().map(|c| c.id.as_str()));
        Ok(candidates)
    })
    .await?;
    answers::json(200, &CandidateList { candidates, limit, offset })
}

pub(super) async fn candidate_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let (m, role) = (req.principal()?.municipality, req.principal()?.role);
    let who = Who::of(&req)?;
    let id = path_id(&req, 0)?;
    let record = blocking(move || {
        let row = state.store.candidate(m, &id)?;
        who.accessed(&state, "read", [id.as_str()]);
        Ok(row.record)
    })
    .await?;
    answers::json(200, &visible(&record, role)?)
}

pub(super) async fn candidate_delete(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let who = Who::of(&req)?;
    let id = path_id(&req, 0)?;
    let echo = id.clone();
    let s = state.clone();
    let (released, kept) = blocking(move || {
        let before = s.store.record_lock_offers(m, &[id.as_str()])?;
        let released = s.store.delete_candidate(m, &id)?;
        super::decisions::recount_records(&s, m, &[], before);
        who.accessed(&s, "erase", [id.as_str()]);
        s.audit_log.flush();
        let today = s.catalogues.today().to_string();
        let decisions = s.store.decisions(m, Some(&id), 0, 1000, &today)?.decisions.len();
        let shown = s.store.suggestion_log(m, &id, None, 0, 100_000)?.len();
        let accesses = s.store.access_log(m, Some(&id), 0, 100_000)?.len();
        let episodes = s.store.candidate_episodes(m, &id)?.len();
        let cases = s.store.candidate_case_count(m, &id)?;
        let batch_runs = s.store.candidate_batch_run_count(m, &id)?;
        let kept = vec![
            KeptRecord {
                record: KeptKind::Decisions,
                count: decisions,
                why: "the authority's record of its decisions (who decided what, when and why); kept under the municipality's duty to keep records, with the pseudonymous id only",
            },
            KeptRecord {
                record: KeptKind::SuggestionLog,
                count: shown,
                // The answer is stored exactly as shown, so that what was suggested can be
                // reproduced; it carries the record's benefit end and reassessment date and the
                // distances to the offers. Saying "no personal data" here was untrue.
                why: "automatic logging of what the system suggested (EU AI Act Art. 12): each answer exactly as shown, with the pseudonymous id, the offers and their distances, and the benefit end and reassessment date it carried; no other field of the record",
            },
            KeptRecord {
                record: KeptKind::AccessLog,
                count: accesses,
                why: "who read or changed the candidate's data, for the municipality's auditor; pseudonymous id only",
            },
            KeptRecord {
                record: KeptKind::Episodes,
                count: episodes,
                why: "the episode history that effects are measured from (case mix on the first day, dates, result); pseudonymous id only, left out of every export",
            },
            // Every table that still names the candidate is listed, so the answer is the whole
            // of what an erasure leaves (the e2e test reads the file for the id).
            KeptRecord {
                record: KeptKind::Cases,
                count: cases,
                why: "the caseworker's case (who held it, when it opened and closed; the open one is closed by this erasure): the authority's record of who handled the citizen, pseudonymous id only",
            },
            KeptRecord {
                record: KeptKind::BatchRuns,
                count: batch_runs,
                why: "the municipality's nightly runs that proposed for the candidate (offer, score, distance, and a fingerprint of the record as the run saw it): working data, deleted with the run when its retention period ends (90 days by default; the latest finished run is kept for the next night to compare with)",
            },
        ];
        Ok((released, kept))
    })
    .await?;
    give_back(&state, &released);
    let erased =
        vec!["the candidate record: every field received about the person, protected attributes included"];
    answers::json(200, &Erasure { deleted: echo, places_released: released.offers.len(), erased, kept })
}
