//! Batch runs: the core's nightly re-matching for one tenant's candidates, started over HTTP
//! and run on a blocking thread (the solver uses its own rayon pool inside).

use crate::server::AppState;
use crate::server::catalogue::Catalogues;
use crate::server::catalogue::StoredCandidate;
use crate::server::store::NewSuggestionLogEntry;
use crate::server::store::{Store, StoredRun};
use matcher_core::batch::{self, BatchOptions, ProposalRecord};
use matcher_core::dataset::previous::{PreviousOffer, PreviousProposal, PreviousRun};
use matcher_core::model::{CandidateId, CurrentAssignment, Dataset, Date, Decline, OfferId};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Offer prices of a tenant's last finished batch run.
#[derive(Debug, Default)]
pub struct Prices {
    /// The run they come from: the tenant's number for it.
    pub run_id: i64,
    /// Dual price (score points) by offer id; offers not listed have price 0.
    pub by_offer: HashMap<String, i64>,
    /// The same prices by offer index of one catalogue layout (`Catalogue::layout`), made by
    /// the first suggestion that needs them: a ranking asks for the price of every offer in
    /// the candidate's reach (~600), and a look-up by id hashes a string each time.
    by_index: std::sync::Mutex<Option<(u64, Arc<[i64]>)>>,
}

impl Prices {
    /// The prices of run `run_id`.
    pub fn new(run_id: i64, by_offer: HashMap<String, i64>) -> Prices {
        Prices { run_id, by_offer, by_index: Default::default() }
    }

    /// The prices by offer index of `cat` (0 for an offer the run did not price).
    pub fn by_index(&self, cat: &crate::server::catalogue::Catalogue) -> Arc<[i64]> {
        let mut cached = self.by_index.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((layout, prices)) = cached.as_ref()
            && *layout == cat.layout
        {
            return prices.clone();
        }
        let prices: Arc<[i64]> =
            cat.offers().iter().map(|o| self.by_offer.get(o.id.as_str()).copied().unwrap_or(0)).collect();
        *cached = Some((cat.layout, prices.clone()));
        prices
    }
}

/// Runs batch `id` (row id; the tenant knows it as `number`) for municipality `m` and records
/// its result, and each proposal in the suggestion log as asked by `by` (user, role); never
/// panics the server.
pub async fn run(state: Arc<AppState>, m: u16, id: i64, number: i64, by: (String, &'static str)) {
    // The semaphore is never closed, so `acquire` fails only if it were; then run anyway.
    let _slot = state.batch_slot.acquire().await.ok();
    let s = state.clone();
    let outcome = tokio::task::spawn_blocking(move || compute(&s, m, id)).await;
    let outcome = match outcome {
        Ok(r) => r,
        Err(e) => Err(format!("batch task failed: {e}")),
    };
    let prices = outcome.as_ref().ok().map(|c| c.by_offer.clone());
    let logged = outcome.as_ref().ok().map(|c| (c.offers_version, c.log.clone()));
    let fingerprints = outcome.as_ref().ok().map(|c| c.fingerprints.clone());
    let stored = outcome.map(|c| (c.summary, c.proposals, c.prices));
    if let Err(e) = &stored {
        tracing::warn!(run = id, municipality = m, number, error = %e, "batch run failed");
    }
    let s = state.clone();
    let written = tokio::task::spawn_blocking(move || {
        if let Some(f) = &fingerprints {
            s.store.save_fingerprints(id, f)?;
        }
        s.store.finish_batch(id, stored)
    })
    .await;
    match written {
        Ok(Ok(())) => {
            if let Some(by_offer) = prices {
                state.set_prices(m, Prices::new(number, by_offer));
            }
            if let Some(entries) = logged {
                log_proposals(&state, m, number, by, entries).await;
            }
        }
        Ok(Err(e)) => tracing::error!(run = id, error = %e, "recording the batch run failed"),
        Err(e) => tracing::error!(run = id, error = %e, "recording the batch run panicked"),
    }
}

/// One proposal as the suggestion log takes it.
struct LoggedProposal {
    candidate_id: String,
    /// The proposed offer (the one offer a proposal shows).
    offer_id: String,
    /// The proposal's JSON.
    answer: String,
}

/// What a finished computation hands back to be stored.
struct Computed {
    summary: String,
    proposals: String,
    by_offer: HashMap<String, i64>,
    prices: String,
    /// Per proposal, for the suggestion log.
    log: Arc<Vec<LoggedProposal>>,
    offers_version: u64,
    /// The run's fingerprints (JSON), kept for the next run.
    fingerprints: String,
}

/// Appends one suggestion-log row per proposal of run `number`, in one transaction.
async fn log_proposals(
    state: &Arc<AppState>,
    m: u16,
    number: i64,
    (user, role): (String, &'static str),
    (offers_version, proposals): (u64, Arc<Vec<LoggedProposal>>),
) {
    let s = state.clone();
    let written = tokio::task::spawn_blocking(move || {
        let log = &s.audit_log;
        let (policy_name, policy_hash) = log.versions.policy(s.catalogues.policies(), m);
        let shown_at = crate::server::audit_log::now_millis();
        let entries: Vec<NewSuggestionLogEntry> = proposals
            .iter()
            .map(|p| NewSuggestionLogEntry {
                municipality: m,
                shown_at: shown_at.clone(),
                source: "batch",
                requested_by: user.clone(),
                role: role.to_string(),
                candidate_id: p.candidate_id.clone(),
                offers_version: i64::try_from(offers_version).unwrap_or(i64::MAX),
                batch_run_id: Some(number),
                engine_version: crate::server::audit_log::ENGINE_VERSION.to_string(),
                policy_name: policy_name.clone(),
                policy_hash: policy_hash.clone(),
                reference_hash: log.versions.reference_hash.clone(),
                answer: bytes::Bytes::from(p.answer.clone()),
                offer_ids: p.offer_id.clone(),
            })
            .collect();
        s.store.append_suggestions(&entries)
    })
    .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::error!(run = number, municipality = m, error = %e, "logging the batch proposals failed")
        }
        Err(e) => {
            tracing::error!(run = number, municipality = m, error = %e, "logging the batch proposals panicked")
        }
    }
}

/// The fingerprints a run keeps for the next one: by candidate id and by offer id.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct RunFingerprints {
    candidates: HashMap<String, u64>,
    offers: HashMap<String, u64>,
}

/// The tenant's previous finished run as the core compares with it.
fn previous_run(state: &AppState, m: u16, run: i64) -> Result<Option<PreviousRun>, String> {
    let Some(StoredRun { proposals, prices, fingerprints }) =
        state.store.previous_run(m, run).map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let records: Vec<ProposalRecord> =
        serde_json::from_str(&proposals).map_err(|e| format!("stored proposals: {e}"))?;
    let prices: HashMap<String, i64> =
        serde_json::from_str(&prices).map_err(|e| format!("stored prices: {e}"))?;
    let f: RunFingerprints = match fingerprints {
        Some(text) => serde_json::from_str(&text).map_err(|e| format!("stored fingerprints: {e}"))?,
        None => RunFingerprints::default(),
    };
    let proposals = records
        .iter()
        .filter_map(|r| {
            Some(PreviousProposal {
                candidate: CandidateId::new(&r.candidate_id).ok()?,
                offer: r.offer_id.as_deref().and_then(|o| OfferId::new(o).ok()),
                score: r.score,
                fingerprint: f.candidates.get(&r.candidate_id).copied(),
            })
        })
        .collect();
    let mut offer_ids: Vec<&String> = f.offers.keys().chain(prices.keys()).collect();
    offer_ids.sort();
    offer_ids.dedup();
    let offers = offer_ids
        .into_iter()
        .filter_map(|o| {
            Some(PreviousOffer {
                offer: OfferId::new(o).ok()?,
                price: prices.get(o).copied().unwrap_or(0),
                fingerprint: f.offers.get(o).copied(),
            })
        })
        .collect();
    Ok(Some(PreviousRun { proposals, offers }))
}

/// The tenant's live state as a data set, exactly as its night run sees it: its candidates,
/// each holding a place locked to that course, the declines in force, and every offer with
/// the tenant's share of its free places (plus its own running courses). `matcher
/// export-state` writes it out, so that the CLI batch can run on it.
///
/// # Errors
/// A storage failure or a stored record that does not read back, as text.
pub fn live_dataset(store: &Store, catalogues: &Catalogues, m: u16) -> Result<Dataset, String> {
    let cat = catalogues.current();
    let day = catalogues.today().to_string();
    let models = store.candidate_models(m).map_err(|e| e.to_string())?;
    let mut candidates = Vec::with_capacity(models.len());
    for model in models {
        let stored: StoredCandidate =
            serde_json::from_str(&model).map_err(|e| format!("stored candidate: {e}"))?;
        candidates.push(stored.candidate);
    }
    // Live state: a candidate holding a place is locked to that course; declines in force
    // keep their offers out (with their reasons, as the data set's `declines`).
    let held: HashMap<String, String> = store
        .held_places(m, &day)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|p| (p.candidate_id, p.offer_id))
        .collect();
    for c in &mut candidates {
        if let Some(offer) = held.get(c.id.as_str()).and_then(|o| OfferId::new(o).ok()) {
            c.current = Some(CurrentAssignment { offer, locked: true });
        }
    }
    let known: std::collections::HashSet<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
    let declines: Vec<Decline> = store
        .active_declines(m, None, &day)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|d| {
            known.contains(d.candidate_id.as_str())
                && held.get(&d.candidate_id) != Some(&d.offer_id)
                && cat.scorer.offer_index(&d.offer_id).is_some()
        })
        .filter_map(|d| {
            Some(Decline {
                candidate: CandidateId::new(&d.candidate_id).ok()?,
                offer: OfferId::new(&d.offer_id).ok()?,
                until: Date::parse(&d.until)?,
                reason: d.reason,
            })
        })
        .collect();
    let mut locked: HashMap<&str, u32> = HashMap::new();
    for c in &candidates {
        if let Some(cur) = c.current.as_ref().filter(|c| c.locked) {
            *locked.entry(cur.offer.as_str()).or_default() += 1;
        }
    }
    // One ledger of shared places: an offer's free places (capacity minus every tenant's
    // places taken) are shared out between the municipalities it serves by
    // `ledger::night_share`, so that all tenants' runs together never propose more than is
    // free. This tenant's own courses under way are kept on top of its share. A course under
    // way that only a candidate's record claims (a case system's `current_locked`, no accept
    // in the ledger) takes a place too: counted as taken, or each such record would add a
    // place to its course (the demo's first night proposed beyond the places at 35 offers).
    let crate::server::store::NightPlaces { taken, recorded, tenants } =
        store.night_places(&day).map_err(|e| e.to_string())?;
    let mut offers = cat.offers().to_vec();
    for (i, o) in offers.iter_mut().enumerate() {
        // Every offer's places become this tenant's share: each is copied from the catalogue's.
        let o = std::sync::Arc::make_mut(o);
        let counted = taken
            .get(o.id.as_str())
            .copied()
            .unwrap_or(0)
            .max(cat.reserved[i].load(Ordering::Relaxed))
            .saturating_add(recorded.get(o.id.as_str()).copied().unwrap_or(0));
        let free = o.capacity.saturating_sub(counted);
        let serves: Vec<u16> = o.serves_municipalities.iter().map(|c| c.0).collect();
        let share = crate::server::ledger::night_share(free, &tenants, &serves, o.id.as_str(), m);
        o.capacity = share + locked.get(o.id.as_str()).copied().unwrap_or(0);
        o.guaranteed_volume = o.guaranteed_volume.min(o.capacity);
    }
    // The episode history the catalogue learns from (every tenant's: offers are shared; the
    // evidence counts those outcomes too, and the core takes them out once), so the run's
    // estimates are the suggestions' estimates. `matcher export-state` keeps only the
    // tenant's own episodes.
    Ok(Dataset {
        candidates,
        offers,
        providers: cat.scorer.data().providers.clone(),
        outcomes: cat.scorer.data().outcomes.clone(),
        declines,
        // The tenant's contracts: those in force tonight set their offers' terms (the core's
        // `contract::apply`), as in `matcher batch` on a data set with a contracts table.
        contracts: store
            .contracts(m, &crate::server::store::ContractFilter::default(), u32::MAX, 0)
            .map_err(|e| e.to_string())?
            .iter()
            .filter_map(|c| c.to_core(catalogues.reference()))
            .collect(),
    })
}

fn compute(state: &AppState, m: u16, run: i64) -> Result<Computed, String> {
    let today = state.catalogues.today();
    // The offers' version the run reads (the catalogue is swapped whole on a change).
    let offers_version = state.catalogues.current().version;
    let data = live_dataset(&state.store, &state.catalogues, m)?;
    let previous = previous_run(state, m, run)?.map(Arc::new);
    let options = BatchOptions { today: Some(today), threads: 0, previous, ..BatchOptions::default() };
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
    let fingerprints = RunFingerprints {
        candidates: data
            .candidates
            .iter()
            .zip(&result.fingerprints.candidates)
            .map(|(c, f)| (c.id.to_string(), *f))
            .collect(),
        offers: data
            .offers
            .iter()
            .zip(&result.fingerprints.offers)
            .map(|(o, f)| (o.id.to_string(), *f))
            .collect(),
    };
    let summary = json!({
        "stability": result.stability,
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
    let fingerprints_json = serde_json::to_string(&fingerprints).map_err(|e| e.to_string())?;
    let log = proposals
        .iter()
        .map(|p| {
            Ok(LoggedProposal {
                candidate_id: p.candidate_id.clone(),
                offer_id: p.offer_id.clone().unwrap_or_default(),
                answer: serde_json::to_string(p).map_err(|e| e.to_string())?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Computed {
        summary: to(&summary)?,
        proposals: proposals_json,
        by_offer,
        prices: prices_json,
        log: Arc::new(log),
        offers_version,
        fingerprints: fingerprints_json,
    })
}
