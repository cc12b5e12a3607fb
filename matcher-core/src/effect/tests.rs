use super::world::{Variant, generate};
use super::*;
use crate::model::*;
use crate::policy::PolicySet;
use crate::score::tests::{candidate, offer, reference, scorer_for};
use crate::score::{Factor, Removal, evidence_reading_da};

fn episode(r: &ReferenceData, id: usize, weeks: f32, offer: Option<&str>, success: bool) -> Episode {
    let mut groups = GroupSet::EMPTY;
    groups.insert(r.group("sickness").expect("group"));
    Episode {
        id: EpisodeId::new(&format!("e-{id}")).expect("id"),
        municipality: MunicipalityCode(101),
        target_groups: groups,
        age_band: AgeBand::From40To49,
        benefit_kind: r.benefit_kind("sickness_benefit").expect("kind"),
        weeks_on_benefit: weeks,
        offer: offer.map(|o| OfferId::new(o).expect("id")),
        started: Date::parse("2025-01-06").expect("date"),
        success,
        weeks_to_exit: success.then_some(10.0),
    }
}

/// `n` episodes of which `successes` succeed, all in one cell.
fn episodes(
    r: &ReferenceData,
    out: &mut Vec<Episode>,
    weeks: f32,
    offer: Option<&str>,
    n: usize,
    successes: usize,
) {
    for k in 0..n {
        let id = out.len();
        out.push(episode(r, id, weeks, offer, k < successes));
    }
}

/// A cream-skimmer (`cream`: took short-duration candidates, 62 % success where no offer
/// gives 60 %) and a specialist (`long`: took long-term candidates, 30 % where no offer gives
/// 10 %), both of provider `p1`'s kind but of different providers.
fn cream_and_specialist(r: &ReferenceData) -> Dataset {
    let mut cream = offer(r, "cream", OfferKind::Provider, 55.70, 12.50);
    cream.provider = ProviderId::new("p-cream").expect("id");
    let mut long = offer(r, "long", OfferKind::Provider, 55.70, 12.50);
    long.provider = ProviderId::new("p-long").expect("id");
    let mut outcomes = Vec::new();
    episodes(r, &mut outcomes, 2.0, None, 400, 240);
    episodes(r, &mut outcomes, 30.0, None, 400, 40);
    episodes(r, &mut outcomes, 2.0, Some("cream"), 200, 124);
    episodes(r, &mut outcomes, 30.0, Some("long"), 200, 60);
    // What the old evidence table says of them: raw rates, no case mix.
    let g = r.group("sickness").expect("group");
    cream.evidence = vec![Evidence { group: g, trials: 200, successes: 124 }];
    long.evidence = vec![Evidence { group: g, trials: 200, successes: 60 }];
    Dataset {
        candidates: Vec::new(),
        offers: vec![std::sync::Arc::new(cream), std::sync::Arc::new(long)],
        providers: vec![],
        outcomes,
        declines: vec![],
        contracts: vec![],
    }
}

#[test]
fn no_offer_comparison_adjusts_for_the_case_mix() {
    let r = reference();
    let data = cream_and_specialist(&r);
    let m = EffectModel::estimate(&data, &r, Spread::default());
    let g = usize::from(r.group("sickness").expect("group").0);
    // No-offer rates by band: 60 % early, 10 % at 26-51 weeks (shrunk a little).
    let early = CaseMix { band: 0, age: AgeBand::From40To49, kind: data.outcomes[0].benefit_kind };
    let late = CaseMix { band: 2, ..early };
    assert!((m.no_offer.rate(g, early) - 0.6).abs() < 0.02, "{}", m.no_offer.rate(g, early));
    assert!((m.no_offer.rate(g, late) - 0.1).abs() < 0.02, "{}", m.no_offer.rate(g, late));
    // Raw rates say cream 62 % > long 30 %; against their own candidates' no-offer rates the
    // cream-skimmer adds about 2 points and the specialist about 20.
    let (cream, long) = (m.offer_uplift(0, g), m.offer_uplift(1, g));
    assert!(cream.mean < 0.05 && cream.mean > -0.02, "{cream:?}");
    assert!(long.mean > 0.15 && long.mean < 0.21, "{long:?}");
    let q = m.quality.iter().find(|q| q.level == "offer" && q.id == "long").expect("row");
    assert_eq!(q.episodes, 200);
    assert!((q.observed_rate - 0.30).abs() < 1e-12);
    assert!((q.expected_rate - 0.10).abs() < 0.02, "{q:?}");
    assert!(q.uplift_low < q.uplift && q.uplift < q.uplift_high);
}

#[test]
fn shrinkage_pulls_small_samples_to_the_level_above_and_lets_large_ones_speak() {
    let r = reference();
    let g = usize::from(r.group("sickness").expect("group").0);
    let build = |n: usize, successes: usize| {
        let mut o = offer(&r, "o", OfferKind::Provider, 55.70, 12.50);
        o.provider = ProviderId::new("p-o").expect("id");
        let mut outcomes = Vec::new();
        episodes(&r, &mut outcomes, 30.0, None, 1000, 100);
        episodes(&r, &mut outcomes, 30.0, Some("o"), n, successes);
        let data = Dataset {
            candidates: vec![],
            offers: vec![std::sync::Arc::new(o)],
            providers: vec![],
            outcomes,
            declines: vec![],
            contracts: vec![],
        };
        EffectModel::estimate(&data, &r, Spread::default()).offer_uplift(0, g)
    };
    // Raw uplift 40 % − 10 % = 30 points in both; 5 episodes are shrunk far toward 0 (this
    // offer is its provider's and its group's only one), 2,000 hardly.
    let small = build(5, 2);
    let large = build(2000, 800);
    assert!(small.mean < 0.15, "{small:?}");
    assert!((large.mean - 0.30).abs() < 0.02, "{large:?}");
    assert!(small.sd > 2.0 * large.sd);
    // Nothing at all: the prior, no uplift.
    let none = build(0, 0);
    assert_eq!(none.mean, 0.0);
}

#[test]
fn normal_update_and_interval_match_scipy() {
    // Prior N(0, 0.10²), one observation 0.15 with variance 0.05²: mean 0.12, sd √(1/500).
    // Reference values from scipy 1.17:
    //   python3 -c "from scipy.stats import norm; m=0.15*400/500; s=(1/500)**0.5;
    //               print(m, s, norm.interval(0.9, loc=m, scale=s))"
    //   0.12 0.044721359549995794 (0.046439909541988525, 0.19356009045801142)
    let e = Estimate::prior(0.10).update(0.15, 0.05 * 0.05);
    assert!((e.mean - 0.12).abs() < 1e-12);
    assert!((e.sd - 0.044_721_359_549_995_794).abs() < 1e-12);
    assert!((e.low() - 0.046_439_909_541_988_525).abs() < 1e-12, "{}", e.low());
    assert!((e.high() - 0.193_560_090_458_011_42).abs() < 1e-12, "{}", e.high());
    // scipy.stats.norm.ppf(0.95) = 1.6448536269514722
    assert_eq!(Z90, 1.644_853_626_951_472_2);
    // A useless observation changes nothing; widening adds variances.
    assert_eq!(e.update(1.0, f64::INFINITY), e);
    assert!((e.widen(0.03).sd - (e.sd * e.sd + 0.0009).sqrt()).abs() < 1e-15);
}

#[test]
fn the_cream_skimming_case_is_ranked_right() {
    let r = reference();
    let mut data = cream_and_specialist(&r);
    // A long-term candidate: 30 weeks on sickness benefit by 2026-11-22.
    let mut c = candidate(&r, "c1", 55.68, 12.57);
    c.benefit.start = Date::parse("2026-04-26").expect("date");
    c.benefit.end = Date::parse("2027-10-01");
    c.benefit.reassessment = None;
    data.candidates = vec![c];
    // Ranking, not money: the course limit is off (without the history the specialist's upper
    // end does not pay its price, and a policy with the limit would refuse it).
    let mut policies = PolicySet::default();
    policies.national.limits.min_course_effect_high_dkk = None;
    let s = scorer_for(&data, &r, &policies);
    let v = s.candidate(0).expect("view");
    let (cream, long) = (s.breakdown(&v, 0).expect("cream"), s.breakdown(&v, 1).expect("long"));
    assert!(long.uplift > cream.uplift + 0.1, "{} vs {}", long.uplift, cream.uplift);
    assert!(long.effect_dkk > cream.effect_dkk);
    assert!(s.score(&v, 1).expect("long") > s.score(&v, 0).expect("cream"));
    // Without the history, the raw rates mislead exactly as the issue describes.
    data.outcomes.clear();
    let s = scorer_for(&data, &r, &policies);
    let v = s.candidate(0).expect("view");
    assert!(s.breakdown(&v, 0).expect("cream").uplift > s.breakdown(&v, 1).expect("long").uplift);
}

#[test]
fn zero_trials_earn_the_prior_and_no_more_evidence_points_than_a_record() {
    let r = reference();
    let mut data = cream_and_specialist(&r);
    let mut unknown = offer(&r, "unknown", OfferKind::Provider, 55.70, 12.50);
    unknown.provider = ProviderId::new("p-unknown").expect("id");
    data.offers.push(std::sync::Arc::new(unknown));
    let mut c = candidate(&r, "c1", 55.68, 12.57);
    c.benefit.start = Date::parse("2026-04-26").expect("date");
    data.candidates = vec![c];
    let s = scorer_for(&data, &r, &PolicySet::default());
    let v = s.candidate(0).expect("view");
    let evidence = |o: usize| s.breakdown(&v, o).expect("pair").points[1];
    let unknown = s.breakdown(&v, 2).expect("pair");
    // The unknown offer's uplift is its group's (the only evidence about offers like it), and
    // with its wide interval it earns fewer "documented effect" points than the specialist.
    let g = usize::from(r.group("sickness").expect("group").0);
    assert!((unknown.uplift - s.effects().uplift(2, g, 2).mean).abs() < 1e-6);
    assert!(evidence(2) < evidence(1), "{} vs {}", evidence(2), evidence(1));
    assert_eq!(Factor::ALL[1], Factor::Evidence);
}

#[test]
fn a_poster_is_never_matched_to_their_own_need_and_their_side_counts_once() {
    let r = reference();
    let mut need = offer(&r, "need", OfferKind::ReciprocalHelp, 55.70, 12.50);
    need.provider = ProviderId::new("c-poster").expect("id");
    need.poster_weeks_saved = 10.0;
    need.capacity = 1;
    let poster = candidate(&r, "c-poster", 55.68, 12.57);
    let helper = candidate(&r, "c-helper", 55.68, 12.57);
    let data = Dataset {
        candidates: vec![poster, helper],
        offers: vec![std::sync::Arc::new(need)],
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    };
    let s = scorer_for(&data, &r, &PolicySet::default());
    assert_eq!(s.score(&s.candidate(0).expect("poster"), 0), Err(Removal::OwnNeed));
    let b = s.breakdown(&s.candidate(1).expect("helper"), 0).expect("helper pair");
    // The poster's side: 10 weeks of sickness benefit with the poster's own probability.
    let rate = f64::from(
        r.benefit_kinds[usize::from(r.benefit_kind("sickness_benefit").expect("k"))].weekly_rate_dkk,
    );
    let poster_side = 10.0 * rate * crate::score::POSTER_MET_PROBABILITY;
    assert!((b.effect_dkk - (b.uplift * b.weeks_avoided * rate + poster_side)).abs() < 1e-6, "{b:?}");
}

#[test]
fn an_early_sickness_case_outranks_a_late_one_for_its_weeks_not_its_deadline() {
    let r = reference();
    let o = offer(&r, "o1", OfferKind::Provider, 55.70, 12.50);
    // Early: 3 weeks on sickness benefit, the 8-week assessment in 5 weeks, 49 weeks left.
    let mut early = candidate(&r, "early", 55.68, 12.57);
    early.benefit.start = Date::parse("2026-11-01").expect("date");
    early.benefit.end = Date::parse("2027-10-31");
    early.benefit.reassessment = None;
    // Late: 45 weeks on it, the benefit ends in 4 weeks, no deadline ahead.
    let mut late = candidate(&r, "late", 55.68, 12.57);
    late.benefit.start = Date::parse("2026-01-11").expect("date");
    late.benefit.end = Date::parse("2026-12-20");
    late.benefit.reassessment = None;
    let data = Dataset {
        candidates: vec![early, late],
        offers: vec![std::sync::Arc::new(o)],
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    };
    // A policy with the course limit refuses the late pair outright: the course cannot pay back.
    let mut limited = PolicySet::default();
    limited.national.limits.min_course_effect_high_dkk = Some(0.0);
    let refusing = scorer_for(&data, &r, &limited);
    assert!(
        matches!(refusing.explain(1, 0).expect("i"), Err(Removal::BelowMinimumEffect { .. })),
        "a course that avoids no weeks is not bought"
    );
    // The ranking and its reason, with the course limit off (the national default).
    let policies = PolicySet::default();
    assert_eq!(policies.national.limits.min_course_effect_high_dkk, None);
    let s = scorer_for(&data, &r, &policies);
    let (e, l) = (s.explain(0, 0).expect("i").expect("early"), s.explain(1, 0).expect("i").expect("late"));
    assert!(e.total > l.total, "{} vs {}", e.total, l.total);
    // The reason: weeks still avoidable (the late case's end comes before a 12-week course
    // half-way point, so a success avoids nothing) ...
    assert!(
        e.weeks_avoidable > 40.0 && l.weeks_avoidable == 0.0,
        "{} {}",
        e.weeks_avoidable,
        l.weeks_avoidable
    );
    // ... and a legal deadline to meet (the 8-week assessment); the near end is no urgency.
    let urgency = |x: &crate::score::Explanation| x.contributions[4].value;
    assert!(urgency(&e) > 0.3 && urgency(&l) == 0.0, "{} {}", urgency(&e), urgency(&l));
}

#[test]
fn a_policy_can_refuse_pairs_below_an_expected_net_effect() {
    let r = reference();
    let data = Dataset {
        candidates: vec![candidate(&r, "c1", 55.68, 12.57)],
        offers: vec![std::sync::Arc::new(offer(&r, "o1", OfferKind::Provider, 55.70, 12.50))],
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    };
    let mut policies = PolicySet::default();
    let s = scorer_for(&data, &r, &policies);
    let effect = s.breakdown(&s.candidate(0).expect("c"), 0).expect("pair").effect_dkk;
    policies.national.limits.min_effect_dkk = Some(effect + 1.0);
    let s = scorer_for(&data, &r, &policies);
    assert!(matches!(s.score(&s.candidate(0).expect("c"), 0), Err(Removal::BelowMinimumEffect { .. })));
}

#[test]
fn the_world_is_deterministic_and_confounded() {
    let r = reference();
    let a = generate(Variant::Base, 7, &r).expect("world");
    let b = generate(Variant::Base, 7, &r).expect("world");
    assert_eq!(a.data, b.data);
    let places: u32 = a.data.offers.iter().map(|o| o.capacity).sum();
    assert!((places as usize) < a.data.candidates.len() / 2, "places are scarce");
    // Cream-skimmers (every fifth provider, from 0) took mostly short-duration candidates.
    let short = |o: &str| {
        let with: Vec<_> = a
            .data
            .outcomes
            .iter()
            .filter(|e| e.offer.as_ref().is_some_and(|x| x.as_str().starts_with(o)))
            .collect();
        with.iter().filter(|e| e.weeks_on_benefit < 26.0).count() as f64 / with.len().max(1) as f64
    };
    assert!(short("o-000") > 0.6 && short("o-001") < 0.5, "{} {}", short("o-000"), short("o-001"));
}

#[test]
fn a_band_borrows_the_shape_of_the_providers_other_offers() {
    let c = |episodes: u32, observed: f64, expected: f64| Comparison { episodes, observed, expected };
    // The siblings: 40 points above no offer in band 3 (100 episodes), none elsewhere (100).
    let in_band = c(100, 50.0, 10.0);
    let all = c(200, 80.0, 40.0);
    let shape = band_shape(&in_band, &all, 0.05);
    let raw = 0.40 - 0.0;
    assert!(shape.shift > 0.0 && shape.shift < raw, "{shape:?}");
    assert!(shape.explained > 0.0 && shape.explained < 1.0, "{shape:?}");
    // The offer's own estimate from its other bands moves by the shift and narrows.
    let others = Estimate { mean: 0.02, sd: 0.03 };
    let prior = others.shifted(shape, 0.05);
    assert!((prior.mean - (0.02 + shape.shift)).abs() < 1e-12);
    assert!(prior.sd < others.widen(0.05).sd && prior.sd >= others.sd);
    // Without siblings in the band there is no shape: the plain widened prior.
    let none = band_shape(&Comparison::default(), &all, 0.05);
    assert_eq!(none, BandShape::default());
    assert_eq!(others.shifted(none, 0.05), others.widen(0.05));
}

#[test]
fn the_explanation_speaks_of_the_uplift_and_the_adjusted_rate_with_the_counts() {
    let r = reference();
    let mut data = cream_and_specialist(&r);
    let mut c = candidate(&r, "c1", 55.68, 12.57);
    c.benefit.start = Date::parse("2026-04-26").expect("date");
    c.benefit.end = Date::parse("2027-10-01");
    c.benefit.reassessment = None;
    data.candidates = vec![c];
    let policies = PolicySet::default();
    let s = scorer_for(&data, &r, &policies);
    let (cream, long) =
        (s.explain(0, 0).expect("index").expect("cream"), s.explain(0, 1).expect("index").expect("long"));
    let (cream, long) = (&cream.evidence[0], &long.evidence[0]);
    // The counts stay: 200 episodes and the old 200 evidence trials of each.
    assert_eq!((long.episodes, long.episode_successes), (200, 60));
    assert_eq!((long.posterior.trials, long.posterior.successes), (200, 60));
    // The raw rate says cream 62 % > long 30 %; the uplift and the adjusted rate say otherwise.
    assert!(long.uplift > cream.uplift + 0.1, "{long:?} {cream:?}");
    assert!(long.uplift_low < long.uplift && long.uplift < long.uplift_high);
    assert!(long.adjusted_rate > cream.adjusted_rate, "{long:?} {cream:?}");
    let g = usize::from(r.group("sickness").expect("group").0);
    let expected = (long.no_offer_rate + s.effects().offer_uplift(1, g).mean).clamp(0.0, 1.0);
    assert!((long.adjusted_rate - expected).abs() < 1e-9, "{long:?}");
    assert!(long.reading_da.contains("120 af 400 forløb lykkedes"), "{}", long.reading_da);
    assert!(long.reading_da.contains("justeret mod gennemsnittet"), "{}", long.reading_da);
    assert!(long.reading_da.contains("procentpoint over intet tilbud"), "{}", long.reading_da);
}

#[test]
fn the_danish_reading_rounds_points_and_names_a_missing_record() {
    let text = evidence_reading_da(45, 48, 0.41, 0.12, 0.031, 0.214);
    assert_eq!(
        text,
        "45 af 48 forløb lykkedes (justeret mod gennemsnittet 41 %). Effekt: +12 procentpoint over \
         intet tilbud (90 %-interval +3 til +21)."
    );
    let none = evidence_reading_da(0, 0, 0.3, 0.0, -0.16, 0.16);
    assert!(none.starts_with("Ingen afsluttede forløb endnu"), "{none}");
    assert!(none.contains("0 procentpoint") && none.contains("-16 til +16"), "{none}");
}

/// A data set of `offers` (no candidates) with the history `outcomes`.
fn data_with(offers: Vec<Offer>, outcomes: Vec<Episode>) -> Dataset {
    Dataset {
        candidates: vec![],
        offers: offers.into_iter().map(std::sync::Arc::new).collect(),
        providers: vec![],
        outcomes,
        declines: vec![],
        contracts: vec![],
    }
}

fn provider_offer(r: &ReferenceData, id: &str, provider: &str) -> Offer {
    let mut o = offer(r, id, OfferKind::Provider, 55.70, 12.50);
    o.provider = ProviderId::new(provider).expect("id");
    o
}

#[test]
fn an_offer_nobody_measured_for_a_group_starts_from_no_uplift_not_the_groups_average() {
    let r = reference();
    let g = usize::from(r.group("sickness").expect("group").0);
    // The group's history: one specialist chosen for it, 30 points over no offer.
    let mut outcomes = Vec::new();
    episodes(&r, &mut outcomes, 30.0, None, 1000, 100);
    episodes(&r, &mut outcomes, 30.0, Some("chosen"), 400, 160);
    let data = data_with(
        vec![provider_offer(&r, "chosen", "p-chosen"), provider_offer(&r, "never", "p-never")],
        outcomes,
    );
    let m = EffectModel::estimate(&data, &r, Spread::default());
    let (chosen, never) = (m.offer_uplift(0, g), m.offer_uplift(1, g));
    assert!(chosen.mean > 0.25, "{chosen:?}");
    // The course caseworkers never chose for the group has no record of its own: it starts
    // from the group's level, which is held near no uplift (a few points here, from 400
    // episodes at 30), with the width of an unmeasured offer; not the chosen course's 30.
    assert!(never.mean > 0.0 && never.mean < 0.06, "{never:?}");
    assert!((never.sd - Spread::default().unmeasured()).abs() < 0.01, "{never:?}");
    assert!(never.low() < 0.0 && never.high() > 0.0);
}

#[test]
fn a_new_course_of_a_known_provider_gets_the_providers_record_shrunk() {
    let r = reference();
    let group = r.group("sickness").expect("group");
    let g = usize::from(group.0);
    let mut known = provider_offer(&r, "known", "p-good");
    // 150 of 200 against the group's prior rate of 55 %: 20 points, without case mix.
    known.evidence = vec![Evidence { group, trials: 200, successes: 150 }];
    let new = provider_offer(&r, "new", "p-good");
    let stranger = provider_offer(&r, "stranger", "p-other");
    let mut zero = provider_offer(&r, "zero", "p-zero");
    zero.evidence = vec![Evidence { group, trials: 0, successes: 0 }];
    let data = data_with(vec![known, new, stranger, zero], Vec::new());
    let m = EffectModel::estimate(&data, &r, Spread::default());
    let u = |o: usize| m.offer_uplift(o, g);
    assert!(u(0).mean > 0.05, "{:?}", u(0));
    // The new course starts from its provider's record, shrunk further and wider.
    assert!(u(1).mean > 0.02 && u(1).mean < u(0).mean, "{:?} {:?}", u(1), u(0));
    assert!(u(1).sd > u(0).sd);
    // A course of a provider without a record gets the prior; "0 af 0" is no record at all.
    assert!(u(2).mean.abs() < 1e-12);
    assert_eq!(u(3), u(2));
    for band in 0..N_BANDS {
        assert_eq!(m.uplift(3, g, band), m.uplift(2, g, band));
    }
}

/// A new course of a provider with a record, added to the estimates without estimating again,
/// gets what a new estimate gives it (the provider's record, from its history and its other
/// courses' evidence), and the others keep theirs. Where the new course has a record of its own
/// (evidence, or an episode of the history naming it) only a new estimate is exact.
#[test]
fn a_new_course_added_gets_what_a_new_estimate_gives_it_or_none() {
    let r = reference();
    let group = r.group("sickness").expect("group");
    let g = usize::from(group.0);
    let mut known = provider_offer(&r, "known", "p-good");
    known.evidence = vec![Evidence { group, trials: 200, successes: 150 }];
    let mut outcomes = Vec::new();
    episodes(&r, &mut outcomes, 2.0, None, 400, 200);
    episodes(&r, &mut outcomes, 30.0, Some("known"), 60, 40);
    let before = data_with(vec![known.clone(), provider_offer(&r, "stranger", "p-other")], outcomes.clone());
    let m = EffectModel::estimate(&before, &r, Spread::default());
    let after = data_with(
        vec![known.clone(), provider_offer(&r, "new", "p-good"), provider_offer(&r, "stranger", "p-other")],
        outcomes.clone(),
    );
    let added = m.with_new_offers(&after, &[1]).expect("kept");
    let fresh = EffectModel::estimate(&after, &r, Spread::default());
    for o in 0..3 {
        assert_eq!(added.offer_uplift(o, g), fresh.offer_uplift(o, g), "offer {o}");
        for band in 0..N_BANDS {
            assert_eq!(added.uplift(o, g, band), fresh.uplift(o, g, band), "offer {o}, band {band}");
        }
    }
    assert!(added.offer_uplift(1, g).mean > 0.02, "the provider's record: {:?}", added.offer_uplift(1, g));
    assert_eq!(added.quality, fresh.quality);
    // The new course has evidence of its own, or the history names it: no.
    let mut with_evidence = after.clone();
    std::sync::Arc::make_mut(&mut with_evidence.offers[1]).evidence =
        vec![Evidence { group, trials: 10, successes: 9 }];
    assert!(m.with_new_offers(&with_evidence, &[1]).is_none());
    let mut named = outcomes;
    episodes(&r, &mut named, 30.0, Some("new"), 5, 5);
    let named = data_with(after.offers.iter().map(|o| (**o).clone()).collect(), named);
    assert!(m.with_new_offers(&named, &[1]).is_none());
    // `new` that does not fit the data set: not ascending, out of range, or not one per added offer.
    assert!(m.with_new_offers(&after, &[1, 1]).is_none());
    assert!(m.with_new_offers(&after, &[3]).is_none());
    assert!(m.with_new_offers(&after, &[]).is_none());
}

/// The estimates of offers without a record of their own for a group are made once per
/// provider and group and copied: the same, bit for bit, as made offer by offer, on generated
/// data sets with history and evidence (most of their offers have no record for most groups).
#[test]
fn estimates_shared_by_a_providers_unmeasured_offers_are_each_ones_own() {
    let r = reference();
    for seed in 1..4 {
        let data = crate::r#gen::generate(crate::r#gen::Scale::Demo, seed, &r);
        let shared = EffectModel::estimate_sharing(&data, &r, Spread::default(), true);
        let own = EffectModel::estimate_sharing(&data, &r, Spread::default(), false);
        assert!(data.offers.iter().any(|o| !o.evidence.is_empty()) && !data.outcomes.is_empty());
        let bits =
            |e: &[Estimate]| e.iter().flat_map(|x| [x.mean.to_bits(), x.sd.to_bits()]).collect::<Vec<_>>();
        assert_eq!(bits(&shared.uplift), bits(&own.uplift), "seed {seed}");
        assert_eq!(bits(&shared.offer_level), bits(&own.offer_level), "seed {seed}");
        assert_eq!(shared.quality, own.quality);
    }
}

#[test]
fn zero_trials_earn_no_more_points_than_no_record() {
    let r = reference();
    let group = r.group("sickness").expect("group");
    let none = provider_offer(&r, "none", "p-none");
    let mut zero = provider_offer(&r, "zero", "p-zero");
    zero.evidence = vec![Evidence { group, trials: 0, successes: 0 }];
    let mut data = data_with(vec![none, zero], Vec::new());
    data.candidates = vec![candidate(&r, "c1", 55.70, 12.50)];
    let s = scorer_for(&data, &r, &PolicySet::default());
    let v = s.candidate(0).expect("view");
    let (a, b) = (s.breakdown(&v, 0).expect("none"), s.breakdown(&v, 1).expect("zero"));
    assert_eq!(a.points, b.points);
}

#[test]
fn evidence_the_history_already_holds_is_not_counted_twice() {
    assert_eq!(beyond_history((60, 200), 200), (0, 0));
    assert_eq!(beyond_history((60, 200), 250), (0, 0));
    assert_eq!(beyond_history((60, 200), 150), (15, 50));
    assert_eq!(beyond_history((60, 200), 0), (60, 200));
    let r = reference();
    let g = usize::from(r.group("sickness").expect("group").0);
    let mut outcomes = Vec::new();
    episodes(&r, &mut outcomes, 2.0, None, 400, 240);
    episodes(&r, &mut outcomes, 2.0, Some("cream"), 200, 124);
    let plain = data_with(vec![provider_offer(&r, "cream", "p-cream")], outcomes);
    let mut with_rows = plain.clone();
    // The same 200 episodes as an evidence row: 62 %, far above the group's prior of 55 %,
    // because its candidates were short-term. It must not move the estimate.
    std::sync::Arc::make_mut(&mut with_rows.offers[0]).evidence =
        vec![Evidence { group: GroupId(g as u8), trials: 200, successes: 124 }];
    let a = EffectModel::estimate(&plain, &r, Spread::default()).offer_uplift(0, g);
    let b = EffectModel::estimate(&with_rows, &r, Spread::default()).offer_uplift(0, g);
    assert_eq!(a, b);
}

#[test]
fn a_candidate_in_two_groups_gets_the_uplift_measured_for_both_groups() {
    let r = reference();
    let (psych, cash) = (r.group("psychiatric").expect("group"), r.group("cash_longterm").expect("group"));
    let kind = r.benefit_kind("cash_benefit").expect("kind");
    let episode = |id: usize, groups: &[GroupId], offer: Option<&str>, success: bool| {
        let mut set = GroupSet::EMPTY;
        groups.iter().for_each(|&g| set.insert(g));
        Episode {
            id: EpisodeId::new(&format!("e-{id}")).expect("id"),
            municipality: MunicipalityCode(101),
            target_groups: set,
            age_band: AgeBand::From40To49,
            benefit_kind: kind,
            weeks_on_benefit: 60.0,
            offer: offer.map(|o| OfferId::new(o).expect("id")),
            started: Date::parse("2025-01-06").expect("date"),
            success,
            weeks_to_exit: success.then_some(10.0),
        }
    };
    let mut outcomes = Vec::new();
    let mut add = |groups: &[GroupId], offer: Option<&str>, n: usize, successes: usize| {
        for k in 0..n {
            let id = outcomes.len();
            outcomes.push(episode(id, groups, offer, k < successes));
        }
    };
    // No offer: 10 % for psychiatric and for cash-benefit candidates alike.
    add(&[psych], None, 500, 50);
    add(&[cash], None, 500, 50);
    add(&[cash, psych], None, 200, 20);
    // The psychiatric specialist (psychiatric only): 40 % for its own group, 15 % for those
    // also on long-term cash benefit.
    add(&[psych], Some("spec"), 300, 120);
    add(&[cash, psych], Some("spec"), 300, 45);
    // A second psychiatric-only course, never taken by anyone also on cash benefit.
    add(&[psych], Some("other"), 300, 120);
    let restricted = |id: &str| {
        let mut o = provider_offer(&r, id, &format!("p-{id}"));
        o.target_groups = GroupSet::EMPTY;
        o.target_groups.insert(psych);
        o
    };
    let mut data = data_with(vec![restricted("spec"), restricted("other")], outcomes);
    let person = |id: &str, groups: &[GroupId]| {
        let mut c = candidate(&r, id, 55.70, 12.50);
        c.target_groups = GroupSet::EMPTY;
        groups.iter().for_each(|&g| c.target_groups.insert(g));
        c.benefit =
            Benefit { kind, start: Date::parse("2025-09-01").expect("date"), end: None, reassessment: None };
        c
    };
    data.candidates = vec![person("both", &[cash, psych]), person("psych", &[psych])];
    let s = scorer_for(&data, &r, &PolicySet::default());
    let (both, only) = (s.candidate(0).expect("view"), s.candidate(1).expect("view"));
    let (gp, gc) = (usize::from(psych.0), usize::from(cash.0));
    let band = weeks_band(60.0);
    let e = s.effects();
    // The psychiatric-only candidate: the psychiatric estimate.
    let spec_only = s.breakdown(&only, 0).expect("pair").uplift;
    assert!((spec_only - e.uplift(0, gp, band).mean).abs() < 1e-6);
    // The candidate in both groups: the mean of the two groups' estimates at this course, the
    // cash-benefit one measured on those who came in through the psychiatric group; lower
    // than what a psychiatric-only candidate gets, as the history shows.
    let spec_both = s.breakdown(&both, 0).expect("pair").uplift;
    let mean = 0.5 * (e.uplift(0, gp, band).mean + e.uplift(0, gc, band).mean);
    assert!((spec_both - mean).abs() < 1e-6, "{spec_both} vs {mean}");
    assert!(spec_both < spec_only - 0.03, "{spec_both} vs {spec_only}");
    // Where nobody of the other group was measured, the served group's estimate alone.
    let other_both = s.breakdown(&both, 1).expect("pair").uplift;
    assert!((other_both - e.uplift(1, gp, band).mean).abs() < 1e-6);
    // The engine then gives the candidate in both groups the course that helps them.
    assert!(other_both > spec_both);
}

#[test]
fn the_plain_estimator_shrinks_each_cell_toward_its_bands_no_offer_rate() {
    let r = reference();
    let data = cream_and_specialist(&r);
    let n_groups = r.target_groups.len();
    let g = usize::from(r.group("sickness").expect("group").0);
    let plain = world::plain_uplift(&data, n_groups, 10.0);
    let at = |o: usize, b: usize| plain[(o * n_groups + g) * N_BANDS + b];
    // Cream in band 0: (124 + 10 × r0) / 210 − r0 with r0 = (240 + 2 × 0.35) / 402.
    let group_rate = 280.0 / 800.0;
    let r0 = (240.0 + 2.0 * group_rate) / 402.0;
    assert!((at(0, 0) - ((124.0 + 10.0 * r0) / 210.0 - r0)).abs() < 1e-12);
    let r2 = (40.0 + 2.0 * group_rate) / 402.0;
    assert!((at(1, 2) - ((60.0 + 10.0 * r2) / 210.0 - r2)).abs() < 1e-12);
    assert!(at(1, 2) > at(0, 0) + 0.1);
    // A cell without episodes: no uplift.
    assert!(at(0, 2).abs() < 1e-12);
}
