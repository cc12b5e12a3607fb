//! A municipality's candidates: bulk upsert, list, read, delete.

use super::*;
use crate::server::store::CandidateRow;

// ----- candidates -----

pub(super) async fn candidates_upsert(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
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
        s.store.upsert_candidates(m, &rows)?;
        Ok(rows.len())
    })
    .await?;
    answers::json(200, &UpsertResult { upserted: n, offers_version: None })
}

pub(super) async fn candidates_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let (limit, offset) = paging(&req)?;
    let rows = blocking(move || Ok(state.store.list_candidates(m, limit, offset)?)).await?;
    let candidates = rows.iter().map(|r| CandidateRecord::from_stored(r)).collect::<Result<_, _>>()?;
    answers::json(200, &CandidateList { candidates, limit, offset })
}

pub(super) async fn candidate_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_id(&req, 0)?;
    let row = blocking(move || Ok(state.store.candidate(m, &id)?)).await?;
    answers::json(200, &CandidateRecord::from_stored(&row.record)?)
}

pub(super) async fn candidate_delete(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_id(&req, 0)?;
    let echo = id.clone();
    let s = state.clone();
    let released = blocking(move || Ok(s.store.delete_candidate(m, &id)?)).await?;
    give_back(&state, &released);
    answers::json(200, &Deleted { deleted: echo, places_released: released.offers.len() })
}
