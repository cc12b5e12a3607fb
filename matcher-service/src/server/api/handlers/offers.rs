//! Offers: bulk upsert, list, read, retire, and the quality of offers and providers.

use super::*;
use crate::server::store::{GroupEvidence, NewOffer, OfferState};
use matcher_core::model::ReferenceData;

// ----- offers -----

pub(super) async fn offers_upsert(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let municipality = req.principal()?.municipality;
    let objects = record_array(&req)?;
    let s = state.clone();
    let n = blocking(move || {
        let refs: Vec<&Map<String, Value>> = objects.iter().collect();
        let text = one_per_line(&refs);
        let offers = dataset::offers_from_json("body", &text, s.catalogues.reference())
            .map_err(|p| problems_to_fields(p, |i| format!("/{i}")))?;
        owned_by(municipality, offers.iter().map(|(_, o)| o))?;
        let mut rows = Vec::with_capacity(offers.len());
        for ((_, offer), object) in offers.iter().zip(&objects) {
            rows.push(NewOffer {
                id: offer.id.to_string(),
                provider_id: offer.provider.to_string(),
                record: to_json(object)?,
                model: to_json(offer)?,
                capacity: offer.capacity,
            });
        }
        s.store.upsert_offers_as(municipality, &rows)?;
        s.catalogues.rebuild(&s.store).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(rows.len())
    })
    .await?;
    answers::json(
        200,
        &UpsertResult { upserted: n, offers_version: Some(state.catalogues.current().version) },
    )
}

/// Offers are shared to read but owned to change: a municipality writes only offers it
/// contracts (the record's `municipality`); the store checks the same of stored ones.
fn owned_by<'a>(
    municipality: u16,
    offers: impl Iterator<Item = &'a matcher_core::model::Offer>,
) -> Result<(), ApiError> {
    let errors: Vec<FieldError> = offers
        .enumerate()
        .filter(|(_, o)| o.municipality.0 != municipality)
        .map(|(i, o)| {
            FieldError::new(
                format!("/{i}/municipality"),
                format!("{:04}", o.municipality.0),
                format!(
                    "an offer is owned by the municipality that contracts it; yours is {municipality:04}"
                ),
            )
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

pub(super) async fn offers_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let (limit, offset) = paging(&req)?;
    let s = state.clone();
    let rows = blocking(move || Ok(s.store.list_offers(limit, offset)?)).await?;
    let reference = state.catalogues.reference();
    let offers = rows.iter().map(|o| offer_view(reference, o)).collect::<Result<_, _>>()?;
    answers::json(200, &OfferList { offers, limit, offset })
}

pub(super) async fn offer_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let view = blocking(move || {
        let offer = state.store.offer(&id)?;
        let mut view = offer_view(state.catalogues.reference(), &offer)?;
        // Places as they add up today: reserved (course not started), running and free, from
        // the ledger shared by every municipality.
        view.places = Some(state.store.offer_places(&id, &state.catalogues.today().to_string())?.into());
        Ok(view)
    })
    .await?;
    answers::json(200, &view)
}

pub(super) async fn offer_retire(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let municipality = req.principal()?.municipality;
    // The route takes no body; one that is sent must at least be JSON (a malformed one was
    // ignored, issue 15, item 11), so a client's mistake is not silently taken as consent.
    if !req.body.is_empty() {
        json_value(&req)?;
    }
    let s = state.clone();
    let offer = blocking(move || {
        s.store.retire_offer_as(Some(municipality), &id)?;
        s.catalogues.rebuild(&s.store).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(s.store.offer(&id)?)
    })
    .await?;
    answers::json(200, &offer_view(state.catalogues.reference(), &offer)?)
}

fn offer_view(reference: &ReferenceData, offer: &OfferState) -> Result<OfferView, ApiError> {
    OfferView::new(reference, &offer.record, offer.capacity, offer.reserved, offer.retired)
}

pub(super) fn group_quality(state: &AppState, rows: &[GroupEvidence]) -> Vec<GroupQuality> {
    let reference = state.catalogues.reference();
    rows.iter()
        .map(|GroupEvidence { target_group: code, trials, successes }| {
            let (prior, strength) = reference
                .group(code)
                .and_then(|g| reference.target_groups.get(usize::from(g.0)))
                .map_or((0.5, 0.0), |g| (g.prior_success_rate, g.prior_strength));
            let p = posterior(*successes, *trials, prior, strength);
            GroupQuality {
                target_group: code.clone(),
                trials: *trials,
                successes: *successes,
                raw_rate: if *trials > 0 { f64::from(*successes) / f64::from(*trials) } else { 0.0 },
                group_average: prior,
                posterior_mean: p.mean,
                interval_90: [p.low, p.high],
            }
        })
        .collect()
}

pub(super) fn scarcity_price(state: &AppState, municipality: u16, offer: &str) -> Option<i64> {
    state.prices_for(municipality).map(|p| p.by_offer.get(offer).copied().unwrap_or(0))
}

pub(super) async fn offer_quality(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let m = req.principal()?.municipality;
    let s = state.clone();
    let oid = id.clone();
    let (OfferState { record, capacity, reserved, retired }, evidence) =
        blocking(move || Ok((s.store.offer(&oid)?, s.store.offer_evidence(&oid)?))).await?;
    let record = OfferRecord::from_stored(&record)?;
    answers::json(
        200,
        &Quality {
            scarcity_price: scarcity_price(&state, m, &id),
            groups: group_quality(&state, &evidence),
            offer_id: id,
            provider_id: record.provider_id,
            price_dkk: record.price_dkk,
            capacity,
            reserved,
            retired,
            utilisation: if capacity > 0 { f64::from(reserved) / f64::from(capacity) } else { 0.0 },
        },
    )
}

pub(super) async fn provider_quality(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let s = state.clone();
    let pid = id.clone();
    let (offers, evidence) = blocking(move || {
        let offers = s.store.provider_offers(&pid)?;
        let mut evidence: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
        for offer in &offers {
            for g in s.store.offer_evidence(&offer.id)? {
                let e = evidence.entry(g.target_group).or_default();
                e.0 = e.0.saturating_add(g.trials);
                e.1 = e.1.saturating_add(g.successes);
            }
        }
        Ok((offers, evidence))
    })
    .await?;
    if offers.is_empty() {
        return Err(ApiError::NotFound("provider"));
    }
    let capacity: u32 = offers.iter().map(|o| o.capacity).sum();
    let reserved: u32 = offers.iter().map(|o| o.reserved).sum();
    let rows: Vec<GroupEvidence> = evidence
        .into_iter()
        .map(|(target_group, (trials, successes))| GroupEvidence { target_group, trials, successes })
        .collect();
    answers::json(
        200,
        &ProviderQuality {
            provider_id: id,
            offers: offers.iter().map(|o| o.id.clone()).collect(),
            capacity,
            reserved,
            utilisation: if capacity > 0 { f64::from(reserved) / f64::from(capacity) } else { 0.0 },
            groups: group_quality(&state, &rows),
        },
    )
}
