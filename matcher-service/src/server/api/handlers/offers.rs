//! Offers: bulk upsert, list, read, retire, and the quality of offers and providers.

use super::*;
use crate::server::store::{GroupEvidence, NewOffer, OfferQualityRows, OfferState, ProviderQualityRows};
use matcher_core::model::ReferenceData;
use std::collections::HashMap;

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
        s.store.upsert_offers_as(municipality, &s.catalogues.today().to_string(), &rows)?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        s.catalogues.offers_written(&s.store, &ids).map_err(|e| ApiError::Internal(e.to_string()))?;
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
    let today = state.catalogues.today().to_string();
    // One snapshot for the page and its record locks (one index look-up per offer of the
    // page: a count of every offer would read every locked candidate for each page).
    let rows = blocking(move || Ok(s.store.list_offers(limit, offset, &today)?)).await?;
    let reference = state.catalogues.reference();
    let offers =
        rows.iter().map(|o| offer_view(reference, &o.state, o.recorded)).collect::<Result<_, _>>()?;
    answers::json(200, &OfferList { offers, limit, offset })
}

pub(super) async fn offer_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let view = blocking(move || {
        // Places as they add up today: reserved (course not started), running, recorded
        // (courses under way only candidates' records claim) and free, shared by every
        // municipality; read with the record from one snapshot.
        let offer = state.store.offer_on(&id, &state.catalogues.today().to_string())?;
        let mut view = offer_view(state.catalogues.reference(), &offer.state, offer.places.recorded)?;
        view.places = Some(offer.places.into());
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
        s.catalogues
            .offers_written(&s.store, &[id.as_str()])
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(s.store.offer(&id)?)
    })
    .await?;
    // Retired: no places left, whatever records claim.
    answers::json(200, &offer_view(state.catalogues.reference(), &offer, 0)?)
}

/// `recorded`: the offer's courses under way that only candidates' records claim.
fn offer_view(reference: &ReferenceData, offer: &OfferState, recorded: u32) -> Result<OfferView, ApiError> {
    OfferView::new(reference, &offer.record, offer.capacity, offer.reserved, recorded, offer.retired)
}

/// Whose quality: an offer or a provider, by id.
#[derive(Clone, Copy)]
pub(super) enum Level<'a> {
    Offer(&'a str),
    Provider(&'a str),
}

/// The measured effect of an offer or provider for one group, from the catalogue's estimates
/// (`effect::EffectModel`): the quality row where the history has episodes of it, otherwise
/// the shrunk estimate alone (an offer's own; a provider's, the mean over its offers).
fn group_effect(cat: &Catalogue, level: Level<'_>, code: &str, reference: &ReferenceData) -> GroupEffect {
    let (kind, id) = match level {
        Level::Offer(id) => ("offer", id),
        Level::Provider(id) => ("provider", id),
    };
    let row = cat.scorer.effects().quality.iter().find(|q| q.level == kind && q.id == id && q.group == code);
    let offers: Vec<usize> = match level {
        Level::Offer(id) => cat.scorer.offer_index(id).map(|i| i as usize).into_iter().collect(),
        Level::Provider(id) => cat
            .offers()
            .iter()
            .enumerate()
            .filter(|(_, o)| o.provider.as_str() == id)
            .map(|(i, _)| i)
            .collect(),
    };
    effect_of(cat, row, &offers, code, reference)
}

/// The effects of every provider × group, looked up by index instead of by scan: the orderer's
/// overview asks for thousands of rows at once.
pub(super) struct ProviderEffects<'a> {
    cat: &'a Catalogue,
    rows: HashMap<(&'a str, &'a str), &'a matcher_core::effect::QualityRow>,
    offers: HashMap<&'a str, Vec<usize>>,
}

impl<'a> ProviderEffects<'a> {
    /// Indexes the catalogue's provider quality rows and offers by provider.
    pub(super) fn new(cat: &'a Catalogue) -> Self {
        let rows = cat
            .scorer
            .effects()
            .quality
            .iter()
            .filter(|q| q.level == "provider")
            .map(|q| ((q.id.as_str(), q.group.as_str()), q))
            .collect();
        let mut offers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, o) in cat.offers().iter().enumerate() {
            offers.entry(o.provider.as_str()).or_default().push(i);
        }
        ProviderEffects { cat, rows, offers }
    }

    /// What [`group_effect`] answers for `Level::Provider(provider)`.
    pub(super) fn get(&self, provider: &str, code: &str, reference: &ReferenceData) -> GroupEffect {
        let row = self.rows.get(&(provider, code)).copied();
        let offers = self.offers.get(provider).map_or(&[][..], Vec::as_slice);
        effect_of(self.cat, row, offers, code, reference)
    }
}

/// The one reading of an effect for a group: the history's quality row when there is one,
/// otherwise the mean of the offers' shrunk uplifts.
fn effect_of(
    cat: &Catalogue,
    row: Option<&matcher_core::effect::QualityRow>,
    offers: &[usize],
    code: &str,
    reference: &ReferenceData,
) -> GroupEffect {
    let effects = cat.scorer.effects();
    let g = reference.group(code).map(|g| usize::from(g.0));
    let no_offer_rate = g.map_or(0.0, |g| effects.no_offer.group_rate(g));
    if let Some(q) = row {
        return GroupEffect {
            episodes: q.episodes,
            observed_rate: Some(q.observed_rate),
            expected_rate: Some(q.expected_rate),
            adjusted_rate: Some(q.adjusted_rate),
            uplift: q.uplift,
            uplift_interval_90: [q.uplift_low, q.uplift_high],
            no_offer_rate,
        };
    }
    let (mut mean, mut low, mut high) = (0.0, 0.0, 0.0);
    if let Some(g) = g
        && !offers.is_empty()
    {
        for &o in offers {
            let e = effects.offer_uplift(o, g);
            mean += e.mean;
            low += e.low();
            high += e.high();
        }
        let n = offers.len() as f64;
        (mean, low, high) = (mean / n, low / n, high / n);
    }
    GroupEffect {
        episodes: 0,
        observed_rate: None,
        expected_rate: None,
        adjusted_rate: None,
        uplift: mean,
        uplift_interval_90: [low, high],
        no_offer_rate,
    }
}

/// The provider's name in the catalogue's data set (its id when the data set has none).
fn provider_name(cat: &Catalogue, id: &str) -> String {
    cat.scorer
        .data()
        .providers
        .iter()
        .find(|p| p.id.as_str() == id)
        .map_or_else(|| id.to_string(), |p| p.name.clone())
}

/// The groups to show: those with evidence, then those with episodes in the history.
fn with_history_groups(cat: &Catalogue, level: Level<'_>, rows: &[GroupEvidence]) -> Vec<GroupEvidence> {
    let mut out = rows.to_vec();
    let (kind, id) = match level {
        Level::Offer(id) => ("offer", id),
        Level::Provider(id) => ("provider", id),
    };
    for q in cat.scorer.effects().quality.iter().filter(|q| q.level == kind && q.id == id) {
        if !out.iter().any(|g| g.target_group == q.group) {
            out.push(GroupEvidence { target_group: q.group.clone(), trials: 0, successes: 0 });
        }
    }
    out
}

pub(super) fn group_quality(state: &AppState, level: Level<'_>, rows: &[GroupEvidence]) -> Vec<GroupQuality> {
    let reference = state.catalogues.reference();
    let cat = state.catalogues.current();
    with_history_groups(&cat, level, rows)
        .iter()
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
                effect: group_effect(&cat, level, code, reference),
            }
        })
        .collect()
}

pub(super) fn scarcity_price(state: &AppState, municipality: u16, offer: &str) -> Option<i64> {
    state.prices_for(municipality).map(|p| p.by_offer.get(offer).copied().unwrap_or(0))
}

/// Places in use over places; 0 without places.
fn utilisation(in_use: u32, capacity: u32) -> f64 {
    if capacity > 0 { f64::from(in_use) / f64::from(capacity) } else { 0.0 }
}

pub(super) async fn offer_quality(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let m = req.principal()?.municipality;
    let s = state.clone();
    let oid = id.clone();
    let today = state.catalogues.today().to_string();
    let OfferQualityRows {
        state: OfferState { record, capacity, reserved, retired, .. },
        evidence,
        recorded,
    } = blocking(move || Ok(s.store.offer_quality(&oid, &today)?)).await?;
    let record = OfferRecord::from_stored(&record)?;
    answers::json(
        200,
        &Quality {
            scarcity_price: scarcity_price(&state, m, &id),
            groups: group_quality(&state, Level::Offer(&id), &evidence),
            provider_name: provider_name(&state.catalogues.current(), &record.provider_id),
            offer_id: id,
            provider_id: record.provider_id,
            price_dkk: record.price_dkk,
            capacity,
            reserved,
            recorded,
            retired,
            utilisation: utilisation(reserved.saturating_add(recorded), capacity),
        },
    )
}

pub(super) async fn provider_quality(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let s = state.clone();
    let pid = id.clone();
    let today = state.catalogues.today().to_string();
    let ProviderQualityRows { offers, evidence: per_offer, recorded } =
        blocking(move || Ok(s.store.provider_quality(&pid, &today)?)).await?;
    if offers.is_empty() {
        return Err(ApiError::NotFound("provider"));
    }
    let capacity: u32 = offers.iter().map(|o| o.capacity).sum();
    let reserved: u32 = offers.iter().map(|o| o.reserved).sum();
    let mut evidence: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    for g in per_offer {
        let e = evidence.entry(g.target_group).or_default();
        e.0 = e.0.saturating_add(g.trials);
        e.1 = e.1.saturating_add(g.successes);
    }
    let rows: Vec<GroupEvidence> = evidence
        .into_iter()
        .map(|(target_group, (trials, successes))| GroupEvidence { target_group, trials, successes })
        .collect();
    answers::json(
        200,
        &ProviderQuality {
            provider_name: provider_name(&state.catalogues.current(), &id),
            groups: group_quality(&state, Level::Provider(&id), &rows),
            provider_id: id,
            offers: offers.iter().map(|o| o.id.clone()).collect(),
            capacity,
            reserved,
            recorded,
            utilisation: utilisation(reserved.saturating_add(recorded), capacity),
        },
    )
}
