//! Batch runs: start, read, proposals.

use super::*;

// ----- batch runs -----

pub(super) async fn batch_start(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let principal = req.principal()?;
    let (m, by) = (principal.municipality, (principal.user.clone(), principal.role.name()));
    if !req.body.is_empty() {
        let _: Map<String, Value> = typed_body(&req)?;
    }
    let s = state.clone();
    let started = blocking(move || Ok(s.store.start_batch(m)?)).await?;
    state.metrics.event("batch_runs");
    tokio::spawn(crate::server::batch::run(state.clone(), m, started.row_id, started.number, by));
    answers::json(202, &BatchStarted { id: started.number, status: BatchStatus::Running })
}

pub(super) async fn batch_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_number(&req, 0)?;
    let row = blocking(move || Ok(state.store.batch(m, id)?)).await?;
    answers::json(
        200,
        &BatchRun {
            id: row.id,
            status: BatchStatus::parse(&row.status),
            started_at: row.started_at,
            finished_at: row.finished_at,
            error: row.error,
            summary: row.summary.as_deref().map(parse_record),
        },
    )
}

pub(super) async fn batch_proposals(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let id = path_number(&req, 0)?;
    let row = blocking(move || Ok(state.store.batch(m, id)?)).await?;
    match row.proposals {
        Some(p) => {
            let proposals = serde_json::from_str(&p)
                .map_err(|e| ApiError::Internal(format!("stored proposals of run {}: {e}", row.id)))?;
            answers::json(200, &Proposals { id: row.id, proposals })
        }
        None => Err(ApiError::Conflict(format!("batch run {} is {}", row.id, row.status))),
    }
}
