//! Suggestions for one candidate: the core's ranking (`graph::rank`) shaped into the answer.

use super::*;
use crate::server::store::NewSuggestionLogEntry;
use bytes::Bytes;

// ----- suggestions -----

pub(super) async fn suggestions(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let principal = req.principal()?;
    let m = principal.municipality;
    let (asker, role) = (principal.user.clone(), principal.role.name());
    let who = Who::of(&req)?;
    let body: SuggestionRequest = typed_body(&req)?;
    let k = body.k.unwrap_or(5);
    if !(1..=50).contains(&k) {
        return Err(ApiError::field("/k", k.to_string(), "expected 1 to 50"));
    }
    if let Some(id) = &body.candidate_id {
        check_id(id).map_err(|reason| ApiError::field("/candidate_id", truncate(id), reason))?;
    }
    let s = state.clone();
    let work = move || {
        let cat = s.catalogues.current();
        let candidate = match (body.candidate_id, body.candidate) {
            (Some(id), None) => {
                let row = s.store.candidate(m, &id)?;
                let stored: StoredCandidate = serde_json::from_str(&row.model)
                    .map_err(|e| ApiError::Internal(format!("stored candidate: {e}")))?;
                stored.candidate
            }
            (None, Some(object)) => {
                let mut list = dataset::candidates_from_json(
                    "candidate",
                    &one_per_line(&[&object]),
                    s.catalogues.reference(),
                )
                .map_err(|p| problems_to_fields(p, |_| "/candidate".to_string()))?;
                let (_, c) = list.pop().ok_or_else(|| ApiError::field("/candidate", "", "no candidate"))?;
                if c.municipality.0 != m {
                    return Err(ApiError::field(
                        "/candidate/municipality",
                        c.municipality.to_string(),
                        format!("your token is for municipality {m:04}"),
                    ));
                }
                let mut errors = Vec::new();
                check_offer_refs(&cat, &c, "/candidate", &mut errors);
                if !errors.is_empty() {
                    return Err(ApiError::Validation(errors));
                }
                c
            }
            _ => return Err(ApiError::field("", "", "give exactly one of candidate_id and candidate")),
        };
        // Live state: the course the candidate holds a place on, and the offers declined
        // for it that are still kept out.
        let today = s.catalogues.today().to_string();
        let mut candidate = candidate;
        let running = s.store.running_place(m, candidate.id.as_str(), &today)?;
        for decline in s.store.active_declines(m, Some(candidate.id.as_str()), &today)? {
            if let Ok(offer) = matcher_core::model::OfferId::new(&decline.offer_id)
                && running.as_ref().is_none_or(|r| r.offer_id != decline.offer_id)
                && !candidate.excluded_offers.contains(&offer)
            {
                candidate.excluded_offers.push(offer);
            }
        }
        if let Some(r) = &running
            && let Ok(offer) = matcher_core::model::OfferId::new(&r.offer_id)
        {
            // The current offer, not locked here: a locked candidate's row holds only its course,
            // and the caseworker should still see the alternatives (the widget says that a
            // course runs, and a second accept is refused). Batch runs lock it.
            candidate.current = Some(matcher_core::model::CurrentAssignment { offer, locked: false });
            candidate.excluded_offers.retain(|o| o.as_str() != r.offer_id);
        }
        let prices = s.prices_for(m);
        let (answer, offer_ids) =
            suggest(&s, &cat, prices.as_deref(), &candidate, k as usize, running.as_ref())?;
        // One buffer for the answer sent and the answer logged: counted, not copied.
        let answer = Bytes::from(answer);
        who.accessed(&s, "suggest", [candidate.id.as_str()]);
        let run_id = prices.map(|p| p.run_id);
        log_answer(&s, &cat, m, &candidate, (asker, role), run_id, (answer.clone(), offer_ids));
        Ok(answer)
    };
    let answer = on_answer_pool(&state, work).await?;
    Ok(Reply::Raw(200, answer))
}

/// Hands the answer, exactly as it will be sent, to the suggestion log's writer.
fn log_answer(
    state: &AppState,
    cat: &Catalogue,
    m: u16,
    candidate: &Candidate,
    (requested_by, role): (String, &str),
    batch_run_id: Option<i64>,
    (answer, offer_ids): (Bytes, String),
) {
    let log = &state.audit_log;
    let (policy_name, policy_hash) = log.versions.policy(state.catalogues.policies(), m);
    log.record(NewSuggestionLogEntry {
        municipality: m,
        shown_at: crate::server::audit_log::now_millis(),
        source: "api",
        requested_by,
        role: role.to_string(),
        candidate_id: candidate.id.to_string(),
        offers_version: i64::try_from(cat.version).unwrap_or(i64::MAX),
        batch_run_id,
        engine_version: crate::server::audit_log::ENGINE_VERSION.to_string(),
        policy_name,
        policy_hash,
        reference_hash: log.versions.reference_hash.clone(),
        answer,
        offer_ids,
    });
}

/// The top-k answer, serialised straight from typed rows: this is the hot path, and building
/// a `serde_json::Value` tree first cost a third of its time in allocations. `prices` are the
/// tenant's batch prices read once by the caller, so the log records the run that applied.
/// Returns the answer and the offers it shows, in order, space-separated (for the log's
/// `offer_ids`, which the oversight figures read).
pub(super) fn suggest(
    state: &AppState,
    cat: &Catalogue,
    prices: Option<&crate::server::batch::Prices>,
    candidate: &Candidate,
    k: usize,
    running: Option<&crate::server::ledger::RunningPlace>,
) -> Result<(Vec<u8>, String), ApiError> {
    let by_index = prices.map(|p| p.by_index(cat));
    let price = by_index.as_ref().map(|p| move |o: usize| p.get(o).copied().unwrap_or(0));
    let ranking =
        matcher_core::graph::rank(&cat.index, &cat.scorer, candidate, k, |o| cat.remaining(o), price)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    let counts = ranking.counts;
    let today = cat.scorer.today();
    let reference = state.catalogues.reference();
    let mut out = Vec::with_capacity(ranking.ranked.len());
    // The candidate's time on benefit, for the uplift of candidates like them.
    let view = cat.scorer.view(candidate).ok();
    for (i, ranked) in ranking.ranked.iter().enumerate() {
        let (o, score, price, adjusted, explanation) =
            (&ranked.offer, &ranked.score, &ranked.price, &ranked.adjusted, &ranked.explanation);
        let offer: &Offer = &cat.offers()[*o as usize];
        let runner_up = ranked.runner_up.as_ref().map(|up| {
            let next: &Offer = &cat.offers()[up.offer as usize];
            RunnerUpOut {
                offer_id: next.id.as_str(),
                name: &next.name,
                difference: up.difference,
                factor_differences: up
                    .factor_differences
                    .iter()
                    .map(|&(factor, points)| FactorDifference { factor, points })
                    .collect(),
            }
        });
        out.push(SuggestionOut {
            rank: i + 1,
            offer_id: offer.id.as_str(),
            name: &offer.name,
            kind: offer.kind,
            provider_id: offer.provider.as_str(),
            score: *score,
            scarcity_price: prices.as_ref().map(|_| *price),
            adjusted_score: prices.as_ref().map(|_| *adjusted),
            factors: explanation.contributions.clone(),
            effect_dkk: explanation.effect_dkk,
            // The flag needs the effect at the optimistic end of the uplift's interval, which
            // only the breakdown carries; a removed pair is never ranked, so it has one.
            effect_flag: view
                .as_ref()
                .and_then(|v| cat.scorer.breakdown(v, *o as usize).ok())
                .and_then(|b| matcher_core::batch::EffectFlag::of(b.effect_dkk, b.effect_high_dkk)),
            uplift: explanation.uplift,
            weeks_avoidable: explanation.weeks_avoidable,
            distance_km: explanation.distance_km,
            evidence: explanation
                .evidence
                .iter()
                .map(|e| {
                    let names = reference
                        .group(&e.group)
                        .and_then(|g| reference.target_groups.get(usize::from(g.0)))
                        .map_or((e.group.clone(), e.group.clone()), |g| {
                            (g.name_da.clone(), g.name_en.clone())
                        });
                    EvidenceOut {
                        target_group: e.group.clone(),
                        target_group_name_da: names.0,
                        target_group_name_en: names.1,
                        group_average: e.group_average,
                        trials: e.posterior.trials,
                        successes: e.posterior.successes,
                        posterior_mean: e.posterior.mean,
                        interval_90: [e.posterior.low, e.posterior.high],
                        episodes: e.episodes,
                        no_offer_rate: e.no_offer_rate,
                        adjusted_rate: e.adjusted_rate,
                        uplift: e.uplift,
                        uplift_interval_90: [e.uplift_low, e.uplift_high],
                        reading_da: e.reading_da.clone(),
                    }
                })
                .collect(),
            remaining_places: cat.remaining(*o as usize),
            capacity: offer.capacity,
            price_dkk: offer.price_dkk,
            policy: explanation.policy.clone(),
            runner_up,
            duration_weeks: offer.duration_weeks,
            start: StartOut::new(&offer.time_and_place, today, candidate.benefit.end),
            address: address(reference, offer.time_and_place.address_postcode),
            contact: offer.time_and_place.contact.as_deref(),
            occupations: occupation_titles(reference, offer.occupations.iter().copied()),
        });
    }
    let answer = SuggestionsOut {
        candidate_id: candidate.id.as_str(),
        running: running.map(|r| RunningOut {
            decision_id: r.decision_id,
            offer_id: &r.offer_id,
            offer_name: cat.scorer.offer_index(&r.offer_id).map(|i| cat.offers()[i as usize].name.as_str()),
            starts_on: &r.starts_on,
            ends_on: &r.ends_on,
        }),
        benefit_end: candidate.benefit.end.map(|d| d.to_string()),
        reassessment_date: candidate.benefit.reassessment.map(|d| d.to_string()),
        offers_version: cat.version,
        batch_run_id: prices.as_ref().map(|p| p.run_id),
        offers_in_reach: counts.in_reach,
        offers_feasible: counts.feasible + counts.pruned,
        suggestions: out,
    };
    let offer_ids = answer.suggestions.iter().map(|s| s.offer_id).collect::<Vec<_>>().join(" ");
    // Sized for the answer up front (about 2.3 KB per suggestion with its runner-up and
    // evidence): growing from empty copied it eight times.
    let mut bytes = Vec::with_capacity(4_096 + 3_072 * answer.suggestions.len());
    serde_json::to_writer(&mut bytes, &answer)
        .map_err(|e| ApiError::Internal(format!("serialising: {e}")))?;
    Ok((bytes, offer_ids))
}
