//! Batch runs: start, read, proposals.

use super::*;

// ----- batch runs -----

pub(super) async fn batch_start(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    if !req.body.is_empty() {
        let _: Map<String, Value> = typed_body(&req)?;
    }
    let s = state.clone();
    let (id, number) = blocking(move || Ok(s.store.start_batch(m)?)).await?;
    state.metrics.event("batch_runs");
    tokio::spawn(crate::server::batch::run(state.clone(), m, id, number));
    Ok(Reply::Json(202, json!({"id": number, "status": "running"})))
}

pub(super) async fn batch_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_number(&req, 0)?;
    let row = blocking(move || Ok(state.store.batch(m, id)?)).await?;
    Ok(Reply::Json(
        200,
        json!({
            "id": row.id,
            "status": row.status,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
            "error": row.error,
            "summary": row.summary.as_deref().map(parse_record),
        }),
    ))
}

pub(super) async fn batch_proposals(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_number(&req, 0)?;
    let row = blocking(move || Ok(state.store.batch(m, id)?)).await?;
    match row.proposals {
        Some(p) => Ok(Reply::Json(200, json!({"id": row.id, "proposals": parse_record(&p)}))),
        None => Err(ApiError::Conflict(format!("batch run {} is {}", row.id, row.status))),
    }
}
