//! Suggestions for one candidate: the core's ranking (`graph::rank`) shaped into the answer.

use super::*;

// ----- suggestions -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestionRequest {
    candidate_id: Option<String>,
    candidate: Option<Map<String, Value>>,
    k: Option<u32>,
}

pub(super) async fn suggestions(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let body: SuggestionRequest = typed_body(&req)?;
    let k = body.k.unwrap_or(5);
    if !(1..=50).contains(&k) {
        return Err(ApiError::field("/k", k.to_string(), "expected 1 to 50"));
    }
    if let Some(id) = &body.candidate_id {
        check_id(id).map_err(|reason| ApiError::field("/candidate_id", truncate(id), reason))?;
    }
    let s = state.clone();
    let answer = blocking(move || {
        let cat = s.catalogues.current();
        let candidate = match (body.candidate_id, body.candidate) {
            (Some(id), None) => {
                let (_, model) = s.store.candidate(m, &id)?;
                let stored: StoredCandidate = serde_json::from_str(&model)
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
        suggest(&s, &cat, m, &candidate, k as usize)
    })
    .await?;
    Ok(Reply::Raw(200, answer))
}

#[derive(Serialize)]
struct EvidenceOut {
    target_group: String,
    /// The group's names from the reference data, so a client need not keep its own list.
    target_group_name_da: String,
    target_group_name_en: String,
    group_average: f64,
    trials: u32,
    successes: u32,
    posterior_mean: f64,
    interval_90: [f64; 2],
}

#[derive(Serialize)]
struct SuggestionOut<'a> {
    rank: usize,
    offer_id: &'a str,
    name: &'a str,
    kind: &'static str,
    provider_id: &'a str,
    score: i64,
    scarcity_price: Option<i64>,
    adjusted_score: Option<i64>,
    factors: Vec<matcher_core::score::Contribution>,
    effect_dkk: f64,
    weeks_avoidable: f64,
    distance_km: f64,
    evidence: Vec<EvidenceOut>,
    remaining_places: u32,
    capacity: u32,
    price_dkk: u32,
    policy: String,
    runner_up: Option<RunnerUpOut<'a>>,
    /// Typical duration in weeks.
    duration_weeks: u16,
    /// When, where and whom to call.
    start: StartOut,
    address: Option<AddressOut>,
    contact: Option<&'a str>,
    /// The offer's occupations with Danish (DISCO-08) and English (ISCO-08) titles.
    occupations: Vec<OccupationOut>,
}

/// When the offer can start, as of the scorer's day.
#[derive(Serialize)]
struct StartOut {
    /// The next start date; `null` with continuous intake.
    next_start: Option<String>,
    continuous_intake: bool,
    /// Whole weeks from today to the start (rounded up; 0 for continuous intake).
    wait_weeks: u32,
    /// The offer cannot start before the candidate's benefit ends: a success then avoids no
    /// benefit weeks (`weeks_avoidable` is 0).
    starts_after_benefit_end: bool,
}

/// The offer's address without street: postcode and town.
#[derive(Serialize)]
pub(super) struct AddressOut {
    pub(super) postcode: String,
    pub(super) town: String,
}

/// An ISCO-08 group with its titles: Danish from DISCO-08 (`null` for the 14 codes Denmark
/// leaves out), English always.
#[derive(Serialize)]
pub(super) struct OccupationOut {
    pub(super) code: String,
    pub(super) title_da: Option<String>,
    pub(super) title_en: String,
}

/// The titles of each occupation the reference data knows.
pub(super) fn occupation_titles(
    reference: &matcher_core::model::ReferenceData,
    codes: impl IntoIterator<Item = matcher_core::model::Occupation>,
) -> Vec<OccupationOut> {
    codes
        .into_iter()
        .filter_map(|o| reference.occupation(o))
        .map(|t| OccupationOut {
            code: t.code.to_string(),
            title_da: t.title_da.clone(),
            title_en: t.title_en.clone(),
        })
        .collect()
}

/// The town of a postcode the reference data knows.
pub(super) fn address(
    reference: &matcher_core::model::ReferenceData,
    postcode: Option<u16>,
) -> Option<AddressOut> {
    let p = reference.postcode(postcode?)?;
    Some(AddressOut { postcode: format!("{:04}", p.code), town: p.town.clone() })
}

/// The next offer in the ranking, and why this one is ahead of it.
#[derive(Serialize)]
struct RunnerUpOut<'a> {
    offer_id: &'a str,
    name: &'a str,
    /// Ranking key of this suggestion minus the runner-up's (the adjusted score when prices
    /// from a batch run apply, the score otherwise); never negative.
    difference: i64,
    /// This suggestion's points minus the runner-up's, per factor in the core's order.
    factor_differences: Vec<FactorDifference>,
}

#[derive(Serialize)]
struct FactorDifference {
    factor: matcher_core::score::Factor,
    points: i64,
}

#[derive(Serialize)]
struct SuggestionsOut<'a> {
    candidate_id: &'a str,
    /// The candidate's clocks, so a screen can set each start against them.
    benefit_end: Option<String>,
    reassessment_date: Option<String>,
    offers_version: u64,
    batch_run_id: Option<i64>,
    offers_in_reach: u32,
    offers_feasible: u32,
    suggestions: Vec<SuggestionOut<'a>>,
}

fn start_out(
    t: &matcher_core::model::TimeAndPlace,
    today: matcher_core::model::Date,
    benefit_end: Option<matcher_core::model::Date>,
) -> StartOut {
    let days = t.days_until_start(today);
    let starts = today.plus_days(days as i32);
    StartOut {
        next_start: t.next_start.map(|d| d.to_string()),
        continuous_intake: t.next_start.is_none(),
        wait_weeks: days.div_ceil(7),
        starts_after_benefit_end: benefit_end.is_some_and(|end| starts > end),
    }
}

/// The top-k answer, serialised straight from typed rows: this is the hot path, and building
/// a `serde_json::Value` tree first cost a third of its time in allocations.
pub(super) fn suggest(
    state: &AppState,
    cat: &Catalogue,
    m: u16,
    candidate: &Candidate,
    k: usize,
) -> Result<Vec<u8>, ApiError> {
    let prices = state.prices_for(m);
    let price = prices.as_ref().map(|p| {
        move |o: usize| {
            cat.offers().get(o).and_then(|offer| p.by_offer.get(offer.id.as_str()).copied()).unwrap_or(0)
        }
    });
    let ranking =
        matcher_core::graph::rank(&cat.index, &cat.scorer, candidate, k, |o| cat.remaining(o), price)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    let counts = ranking.counts;
    let today = cat.scorer.today();
    let reference = state.catalogues.reference();
    let mut out = Vec::with_capacity(ranking.ranked.len());
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
            kind: offer.kind.label(),
            provider_id: offer.provider.as_str(),
            score: *score,
            scarcity_price: prices.as_ref().map(|_| *price),
            adjusted_score: prices.as_ref().map(|_| *adjusted),
            factors: explanation.contributions.clone(),
            effect_dkk: explanation.effect_dkk,
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
                    }
                })
                .collect(),
            remaining_places: cat.remaining(*o as usize),
            capacity: offer.capacity,
            price_dkk: offer.price_dkk,
            policy: explanation.policy.clone(),
            runner_up,
            duration_weeks: offer.duration_weeks,
            start: start_out(&offer.time_and_place, today, candidate.benefit.end),
            address: address(reference, offer.time_and_place.address_postcode),
            contact: offer.time_and_place.contact.as_deref(),
            occupations: occupation_titles(reference, offer.occupations.iter().copied()),
        });
    }
    let answer = SuggestionsOut {
        candidate_id: candidate.id.as_str(),
        benefit_end: candidate.benefit.end.map(|d| d.to_string()),
        reassessment_date: candidate.benefit.reassessment.map(|d| d.to_string()),
        offers_version: cat.version,
        batch_run_id: prices.as_ref().map(|p| p.run_id),
        offers_in_reach: counts.in_reach,
        offers_feasible: counts.feasible + counts.pruned,
        suggestions: out,
    };
    serde_json::to_vec(&answer).map_err(|e| ApiError::Internal(format!("serialising: {e}")))
}
