//! Batch runs: the core's nightly re-matching for one tenant's candidates, started over HTTP
//! and run on a blocking thread (the solver uses its own rayon pool inside).

use crate::server::AppState;
use crate::server::catalogue::StoredCandidate;
use matcher_core::batch::{self, BatchOptions, ProposalRecord};
use matcher_core::model::Dataset;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Offer prices of a tenant's last finished batch run.
#[derive(Debug, Clone, Default)]
pub struct Prices {
    /// The run they come from: the tenant's number for it.
    pub run_id: i64,
    /// Dual price (score points) by offer id; offers not listed have price 0.
    pub by_offer: HashMap<String, i64>,
}

/// Runs batch `id` (row id; the tenant knows it as `number`) for municipality `m` and records
/// its result; never panics the server.
pub async fn run(state: Arc<AppState>, m: u16, id: i64, number: i64) {
    // The semaphore is never closed, so `acquire` fails only if it were; then run anyway.
    let _slot = state.batch_slot.acquire().await.ok();
    let s = state.clone();
    let outcome = tokio::task::spawn_blocking(move || compute(&s, m)).await;
    let outcome = match outcome {
        Ok(r) => r,
        Err(e) => Err(format!("batch task failed: {e}")),
    };
    let prices = outcome.as_ref().ok().map(|(_, _, by_offer, _)| by_offer.clone());
    let stored = outcome.map(|(summary, proposals, _, prices_json)| (summary, proposals, prices_json));
    if let Err(e) = &stored {
        tracing::warn!(run = id, municipality = m, number, error = %e, "batch run failed");
    }
    let s = state.clone();
    let written = tokio::task::spawn_blocking(move || s.store.finish_batch(id, stored)).await;
    match written {
        Ok(Ok(())) => {
            if let Some(by_offer) = prices {
                state.set_prices(m, Prices { run_id: number, by_offer });
            }
        }
        Ok(Err(e)) => tracing::error!(run = id, error = %e, "recording the batch run failed"),
        Err(e) => tracing::error!(run = id, error = %e, "recording the batch run panicked"),
    }
}

type Computed = (String, String, HashMap<String, i64>, String);

fn compute(state: &AppState, m: u16) -> Result<Computed, String> {
    let cat = state.catalogues.current();
    let models = state.store.candidate_models(m).map_err(|e| e.to_string())?;
    let mut candidates = Vec::with_capacity(models.len());
    for model in models {
        let stored: StoredCandidate =
            serde_json::from_str(&model).map_err(|e| format!("stored candidate: {e}"))?;
        candidates.push(stored.candidate);
    }
    let mut locked: HashMap<&str, u32> = HashMap::new();
    for c in &candidates {
        if let Some(cur) = c.current.as_ref().filter(|c| c.locked) {
            *locked.entry(cur.offer.as_str()).or_default() += 1;
        }
    }
    // Places already taken by accepted decisions are not for re-matching; courses under way
    // (locked) are kept, so an offer has at least as many places as it has locked candidates.
    let mut offers = cat.offers().to_vec();
    for (i, o) in offers.iter_mut().enumerate() {
        let left = o.capacity.saturating_sub(cat.reserved[i].load(Ordering::Relaxed));
        o.capacity = left.max(locked.get(o.id.as_str()).copied().unwrap_or(0));
        o.guaranteed_volume = o.guaranteed_volume.min(o.capacity);
    }
    let data =
        Dataset { candidates, offers, providers: cat.scorer.data().providers.clone(), declines: Vec::new() };
    let options =
        BatchOptions { today: Some(state.catalogues.today()), threads: 0, ..BatchOptions::default() };
    let data = Arc::new(data);
    let result = batch::run(
        data.clone(),
        state.catalogues.reference().clone(),
        state.catalogues.policies().clone(),
        &options,
    )
    .map_err(|e| e.to_string())?;
    let proposals: Vec<ProposalRecord> =
        result.proposals.iter().map(|p| ProposalRecord::new(p, &data)).collect();
    let by_offer: HashMap<String, i64> = result
        .prices
        .iter()
        .filter(|p| p.price != 0)
        .filter_map(|p| data.offers.get(p.offer as usize).map(|o| (o.id.to_string(), p.price)))
        .collect();
    let summary = json!({
        "candidates": data.candidates.len(),
        "matched": result.solution.matched(),
        "effect_dkk": result.methods.first().map(|m| m.effect_dkk),
        "total_score": result.methods.first().map(|m| m.total_weight),
        "offers_with_price": by_offer.len(),
        "today": result.today.to_string(),
        "graph_seconds": result.timings.graph_seconds,
        "solve_seconds": result.timings.solve_seconds,
    });
    let to = |v: &serde_json::Value| serde_json::to_string(v).map_err(|e| e.to_string());
    let prices_json = serde_json::to_string(&by_offer).map_err(|e| e.to_string())?;
    let proposals_json = serde_json::to_string(&proposals).map_err(|e| e.to_string())?;
    Ok((to(&summary)?, proposals_json, by_offer, prices_json))
}
