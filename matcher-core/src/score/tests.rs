use super::*;
use crate::model::*;
use proptest::prelude::*;
use std::sync::Arc;

pub(crate) fn reference() -> ReferenceData {
    static REFERENCE: std::sync::OnceLock<ReferenceData> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(|| ReferenceData::embedded().expect("embedded reference data")).clone()
}

type Change = Box<dyn Fn(&mut Candidate, &mut Offer)>;
type Expect = Option<fn(&Removal) -> bool>;

pub(crate) fn candidate(r: &ReferenceData, id: &str, lat: f64, lon: f64) -> Candidate {
    let mut groups = GroupSet::EMPTY;
    groups.insert(r.group("sickness").expect("group"));
    Candidate {
        id: CandidateId::new(id).expect("id"),
        municipality: MunicipalityCode(101),
        home: LatLon::new(lat, lon).expect("point"),
        age_band: AgeBand::From40To49,
        target_groups: groups,
        benefit: Benefit {
            kind: r.benefit_kind("sickness_benefit").expect("kind"),
            start: Date::parse("2026-06-01").expect("date"),
            end: Date::parse("2027-06-01"),
            reassessment: Date::parse("2026-12-20"),
        },
        wished_occupations: vec![Occupation::parse("8322").expect("isco")],
        max_travel_km: 30.0,
        languages: vec![Language::parse("da").expect("lang")],
        driving_licence: true,
        hours_available: 37,
        preferred_kinds: vec![],
        current: None,
        excluded_offers: vec![],
        audit: AuditAttributes::default(),
    }
}

pub(crate) fn offer(r: &ReferenceData, id: &str, kind: OfferKind, lat: f64, lon: f64) -> Offer {
    let mut groups = GroupSet::EMPTY;
    if kind == OfferKind::Provider {
        groups.insert(r.group("sickness").expect("group"));
    }
    Offer {
        id: OfferId::new(id).expect("id"),
        kind,
        name: format!("Offer {id}"),
        provider: ProviderId::new("p1").expect("id"),
        municipality: MunicipalityCode(101),
        location: LatLon::new(lat, lon).expect("point"),
        serves_municipalities: vec![],
        capacity: 5,
        price_dkk: if kind == OfferKind::Provider { 20_000 } else { 0 },
        contract: (kind == OfferKind::Provider).then_some(ContractKind::Specialist),
        guaranteed_volume: 0,
        target_groups: groups,
        occupations: if kind == OfferKind::Provider {
            vec![]
        } else {
            vec![Occupation::parse("8322").expect("isco")]
        },
        languages: vec![],
        requires_driving_licence: false,
        min_hours: 0,
        duration_weeks: 12,
        poster_weeks_saved: 0.0,
        evidence: vec![],
        time_and_place: Default::default(),
    }
}

fn today() -> Date {
    Date::parse("2026-11-22").expect("date")
}

/// A scorer over copies of the inputs, as of 2026-11-22.
pub(crate) fn scorer_for(data: &Dataset, r: &ReferenceData, p: &PolicySet) -> Scorer {
    Scorer::new(Arc::new(data.clone()), Arc::new(r.clone()), Arc::new(p.clone()), today()).expect("scorer")
}

#[test]
fn explanation_sums_to_the_score_and_names_every_factor() {
    let r = reference();
    let data = Dataset {
        candidates: vec![candidate(&r, "c1", 55.68, 12.57)],
        offers: vec![std::sync::Arc::new(offer(&r, "o1", OfferKind::Provider, 55.70, 12.50))],
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    };
    let policies = PolicySet::default();
    let s = scorer_for(&data, &r, &policies);
    let e = s.explain(0, 0).expect("indices").expect("feasible");
    assert_eq!(e.contributions.len(), 8);
    assert_eq!(e.contributions.iter().map(|c| c.points).sum::<i64>(), e.total);
    assert_eq!(s.score(&s.candidate(0).expect("c"), 0), Ok(e.total));
    assert!((4.0..6.0).contains(&e.distance_km), "{}", e.distance_km);
    assert_eq!(e.evidence.len(), 1);
    assert_eq!(e.evidence[0].group, "sickness");
}

#[test]
fn each_hard_limit_removes_the_pair_and_says_which() {
    let r = reference();
    let base_c = candidate(&r, "c1", 55.68, 12.57);
    let base_o = offer(&r, "o1", OfferKind::Job, 55.70, 12.50);
    let policies = PolicySet::default();
    // `None`: the change must leave the pair feasible (a control for the case after it).
    let cases: Vec<(Change, Expect)> = vec![
        (Box::new(|c, o| c.excluded_offers.push(o.id.clone())), Some(|r| matches!(r, Removal::Excluded))),
        (Box::new(|_, o| o.capacity = 0), Some(|r| matches!(r, Removal::NoCapacity))),
        (
            Box::new(|c, _| c.home = LatLon::new(57.05, 9.92).expect("Aalborg")),
            Some(|r| matches!(r, Removal::OutOfReach { limit_km, .. } if *limit_km == 30.0)),
        ),
        (Box::new(|c, _| c.driving_licence = false), None),
        (
            Box::new(|c, o| {
                c.driving_licence = false;
                o.requires_driving_licence = true;
            }),
            Some(|r| matches!(r, Removal::DrivingLicence)),
        ),
        (
            Box::new(|_, o| o.languages = vec![Language::parse("de").expect("lang")]),
            Some(|r| matches!(r, Removal::Language)),
        ),
        (
            Box::new(|c, o| {
                c.hours_available = 10;
                o.min_hours = 20;
            }),
            Some(|r| matches!(r, Removal::Hours { needed: 20, available: 10 })),
        ),
        (
            Box::new(|_, o| o.occupations = vec![Occupation::parse("2111").expect("isco")]),
            Some(|r| matches!(r, Removal::Occupation { shared_level: 0, required: 1 })),
        ),
        (
            Box::new(|_, o| o.serves_municipalities = vec![MunicipalityCode(751)]),
            Some(|r| matches!(r, Removal::OutsideServiceArea)),
        ),
        (Box::new(|_, o| o.target_groups.insert(GroupId(0))), Some(|r| matches!(r, Removal::GroupNotServed))),
    ];
    for (i, (change, expected)) in cases.iter().enumerate() {
        let (mut c, mut o) = (base_c.clone(), base_o.clone());
        change(&mut c, &mut o);
        let data = Dataset {
            candidates: vec![c],
            offers: vec![std::sync::Arc::new(o)],
            providers: vec![],
            outcomes: vec![],
            declines: vec![],
            contracts: vec![],
        };
        let s = scorer_for(&data, &r, &policies);
        let got = s.explain(0, 0).expect("indices");
        match (got, expected) {
            (Err(removal), Some(expected)) => assert!(expected(&removal), "case {i}: {removal:?}"),
            (Err(removal), None) => panic!("case {i}: should stay feasible, removed by {removal:?}"),
            (Ok(e), Some(_)) => panic!("case {i}: should be removed, scored {}", e.total),
            (Ok(_), None) => {}
        }
    }
}

#[test]
fn youth_group_eligibility_follows_age_not_score() {
    let r = reference();
    let youth = r.group("youth_psychosocial").expect("group");
    let mut c = candidate(&r, "c1", 55.68, 12.57);
    c.target_groups = GroupSet::EMPTY;
    c.target_groups.insert(youth);
    let mut o = offer(&r, "o1", OfferKind::Provider, 55.70, 12.50);
    o.target_groups = GroupSet::EMPTY;
    o.target_groups.insert(youth);
    let policies = PolicySet::default();
    c.age_band = AgeBand::From18To24;
    let data = Dataset {
        candidates: vec![c.clone()],
        offers: vec![std::sync::Arc::new(o.clone())],
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    };
    assert!(scorer_for(&data, &r, &policies).explain(0, 0).expect("idx").is_ok());
    c.age_band = AgeBand::From40To49;
    let data = Dataset {
        candidates: vec![c],
        offers: vec![std::sync::Arc::new(o)],
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    };
    assert_eq!(scorer_for(&data, &r, &policies).explain(0, 0).expect("idx"), Err(Removal::GroupNotServed));
}

#[test]
fn strong_evidence_outscores_a_lucky_single_success() {
    let r = reference();
    let g = r.group("sickness").expect("group");
    let mut lucky = offer(&r, "lucky", OfferKind::Provider, 55.70, 12.50);
    lucky.evidence = vec![Evidence { group: g, trials: 1, successes: 1 }];
    let mut proven = offer(&r, "proven", OfferKind::Provider, 55.70, 12.50);
    proven.evidence = vec![Evidence { group: g, trials: 100, successes: 80 }];
    let data = Dataset {
        candidates: vec![candidate(&r, "c1", 55.68, 12.57)],
        offers: vec![std::sync::Arc::new(lucky), std::sync::Arc::new(proven)],
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    };
    let policies = PolicySet::default();
    let s = scorer_for(&data, &r, &policies);
    let a = s.explain(0, 0).expect("idx").expect("ok");
    let b = s.explain(0, 1).expect("idx").expect("ok");
    let ev = |e: &Explanation| e.contributions[1].value;
    assert!(ev(&b) > ev(&a), "80/100 {} vs 1/1 {}", ev(&b), ev(&a));
    assert!(b.total > a.total);
    assert!(
        b.evidence[0].posterior.high - b.evidence[0].posterior.low
            < a.evidence[0].posterior.high - a.evidence[0].posterior.low
    );
}

#[test]
fn protected_attributes_do_not_change_any_score() {
    let r = reference();
    let mut a = candidate(&r, "c1", 55.68, 12.57);
    a.audit = AuditAttributes { gender: Some(Gender::Female), origin: Some(Origin::NonWestern) };
    let mut b = a.clone();
    b.audit = AuditAttributes { gender: Some(Gender::Male), origin: Some(Origin::Danish) };
    let offers = vec![
        offer(&r, "o1", OfferKind::Provider, 55.70, 12.50),
        offer(&r, "o2", OfferKind::Job, 55.60, 12.40),
    ];
    let data = Dataset {
        candidates: vec![a, b],
        offers: offers.into_iter().map(std::sync::Arc::new).collect(),
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    };
    let policies = PolicySet::default();
    let s = scorer_for(&data, &r, &policies);
    for o in 0..2 {
        assert_eq!(s.explain(0, o).expect("idx"), s.explain(1, o).expect("idx"));
    }
}

#[test]
fn equirectangular_distance_is_within_half_a_percent_of_great_circle() {
    let points = [(54.9, 8.7), (55.68, 12.57), (57.45, 10.0), (56.16, 10.2), (55.1, 14.9)];
    for &(la, lo) in &points {
        for &(dla, dlo) in &[(0.3, 0.5), (-0.6, 0.2), (0.1, -0.9), (0.5, 0.5)] {
            let a = LatLon::new(la, lo).expect("a");
            let Ok(b) = LatLon::new(la + dla, lo + dlo) else { continue };
            let exact = a.distance_km(b);
            let approx = distance_km(la, lo, la.to_radians().cos(), b.lat, b.lon);
            assert!(exact < 100.0 || (approx - exact).abs() / exact < 0.005, "{a:?} {b:?} {approx} {exact}");
        }
    }
}

fn arb_pair() -> impl Strategy<Value = (Candidate, Offer)> {
    (
        54.6f64..57.7,
        8.1f64..15.0,
        -0.5f64..0.5,
        -0.5f64..0.5,
        0usize..4,
        0u32..200,
        0u32..200,
        0u32..200_000,
        1.0f32..100.0,
        0i32..800,
        0usize..6,
        proptest::bool::ANY,
    )
        .prop_map(|(lat, lon, dlat, dlon, kind, trials, succ, price, travel, days, group, pref)| {
            let r = reference();
            let mut c = candidate(&r, "c1", lat, lon);
            c.max_travel_km = travel;
            c.benefit.end = Some(Date::parse("2026-11-22").expect("d").plus_days(days - 100));
            c.target_groups.insert(GroupId(group as u8));
            if pref {
                c.preferred_kinds = vec![OfferKind::Provider];
            }
            let olat = (lat + dlat).clamp(54.5, 57.8);
            let olon = (lon + dlon).clamp(8.0, 15.2);
            let mut o = offer(&r, "o1", OfferKind::ALL[kind], olat, olon);
            o.price_dkk = price;
            o.evidence = vec![Evidence { group: GroupId(group as u8), trials, successes: succ.min(trials) }];
            (c, o)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_factor_is_in_unit_range_and_explanations_sum_exactly((c, o) in arb_pair()) {
        let r = reference();
        let data = Dataset { candidates: vec![c], offers: vec![std::sync::Arc::new(o)], providers: vec![], outcomes: vec![], declines: vec![], contracts: vec![] };
        let policies = PolicySet::default();
        let s = scorer_for(&data, &r, &policies);
        let view = s.candidate(0).expect("c");
        match s.explain(0, 0).expect("idx") {
            Ok(e) => {
                for c in &e.contributions {
                    prop_assert!((0.0..=1.0).contains(&c.value), "{:?}", c);
                }
                prop_assert_eq!(e.contributions.iter().map(|c| c.points).sum::<i64>(), e.total);
                prop_assert_eq!(s.score(&view, 0), Ok(e.total));
            }
            Err(removal) => prop_assert_eq!(s.score(&view, 0), Err(removal)),
        }
    }
}

/// Issue 20: an offer that cannot start before the candidate's benefit ends avoids nothing;
/// one that starts a while before the end avoids the weeks left after its start, less half its
/// duration (a success comes, on average, half-way through).
#[test]
fn an_offer_starting_after_the_benefit_ends_avoids_no_weeks() {
    let r = reference();
    let mut c = candidate(&r, "c1", 55.68, 12.57);
    // Ten weeks of benefit left on the scorer's day (2026-11-22).
    c.benefit.end = Date::parse("2027-01-31");
    c.benefit.reassessment = None;
    let now = offer(&r, "now", OfferKind::Provider, 55.70, 12.50);
    let mut soon = offer(&r, "soon", OfferKind::Provider, 55.70, 12.50);
    soon.time_and_place.next_start = Date::parse("2026-12-20"); // 4 weeks on: 6 weeks left
    let mut late = offer(&r, "late", OfferKind::Provider, 55.70, 12.50);
    late.time_and_place.next_start = Date::parse("2027-02-07"); // after the end
    // Half the duration (1 week) passes before a success ends the benefit.
    let (mut now, mut soon, mut late) = (now, soon, late);
    // Documented results, so that a success is worth something (an uplift over no offer).
    let g = r.group("sickness").expect("group");
    for o in [&mut now, &mut soon, &mut late] {
        o.duration_weeks = 2;
        o.evidence = vec![Evidence { group: g, trials: 100, successes: 80 }];
    }
    let data = Dataset {
        candidates: vec![c],
        offers: vec![std::sync::Arc::new(now), std::sync::Arc::new(soon), std::sync::Arc::new(late)],
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    };
    // Weeks, not money: the course limit is off (the late course avoids nothing, so a policy
    // with the limit would refuse it).
    let mut policies = PolicySet::default();
    policies.national.limits.min_course_effect_high_dkk = None;
    let s = scorer_for(&data, &r, &policies);
    let explain = |o| s.explain(0, o).expect("indices").expect("feasible");
    let (now, soon, late) = (explain(0), explain(1), explain(2));
    assert!((now.weeks_avoidable - 9.0).abs() < 1e-9, "{}", now.weeks_avoidable);
    assert!((soon.weeks_avoidable - 5.0).abs() < 1e-9, "{}", soon.weeks_avoidable);
    assert_eq!(late.weeks_avoidable, 0.0);
    // With no weeks to avoid, the expected effect is minus the price, and the ranking sees it.
    assert_eq!(late.effect_dkk, -20_000.0);
    assert!(
        now.effect_dkk > soon.effect_dkk && soon.effect_dkk > late.effect_dkk,
        "{} {} {} uplift {}",
        now.effect_dkk,
        soon.effect_dkk,
        late.effect_dkk,
        now.uplift
    );
    assert!(
        now.total >= soon.total && soon.total > late.total,
        "{} {} {}",
        now.total,
        soon.total,
        late.total
    );
    // Scores and explanations agree, and pruning with the candidate-wide bound stays exact.
    let view = s.candidate(0).expect("candidate");
    assert_eq!(s.score(&view, 2), Ok(late.total));
}

#[test]
fn a_decline_excludes_the_offer_until_its_last_day_only() {
    let r = Arc::new(ReferenceData::embedded().expect("reference"));
    let c = candidate(&r, "c1", 55.68, 12.57);
    let o = offer(&r, "o1", OfferKind::Provider, 55.70, 12.50);
    let until = crate::r#gen::AS_OF.plus_days(10);
    let decline = crate::model::Decline {
        candidate: c.id.clone(),
        offer: o.id.clone(),
        until,
        reason: "for langt".into(),
    };
    let data = Dataset {
        candidates: vec![c],
        offers: vec![std::sync::Arc::new(o)],
        providers: vec![],
        outcomes: vec![],
        declines: vec![decline],
        contracts: vec![],
    };
    let policies = PolicySet::default();
    for (day, excluded) in [(0, true), (10, true), (11, false)] {
        let scorer = Scorer::new(
            Arc::new(data.clone()),
            r.clone(),
            Arc::new(policies.clone()),
            crate::r#gen::AS_OF.plus_days(day),
        )
        .expect("scorer");
        let got = scorer.explain(0, 0).expect("indices");
        assert_eq!(got.is_err(), excluded, "day +{day}: {got:?}");
        if excluded {
            assert_eq!(got, Err(Removal::Excluded));
        }
    }
}

/// One edit a service's write can make to an offer (see `with_changed_offers_scores_as_new`).
fn edit_offer(data: &mut Dataset, r: &ReferenceData, at: usize, kind: u8, param: u32) {
    let n = data.offers.len();
    let other = data.offers[(at + 1 + param as usize) % n].clone();
    let o = std::sync::Arc::make_mut(&mut data.offers[at]);
    match kind % 13 {
        0 => o.capacity = param % 4,
        // Metres: stays in its grid cell more often than not.
        1 => {
            o.location = LatLon::new(o.location.lat + (f64::from(param % 100) - 50.0) * 1e-5, o.location.lon)
                .expect("point")
        }
        // Kilometres: another cell, and the offers' order with it.
        2 => o.location = other.location,
        3 => {
            let g = GroupId((param as usize % r.target_groups.len()) as u8);
            if o.target_groups.contains(g) {
                o.target_groups.0 &= !(1u64 << g.0);
            } else {
                o.target_groups.insert(g);
            }
        }
        4 => o.languages = other.languages.clone(),
        5 => {
            o.languages =
                vec![Language::parse(if param.is_multiple_of(2) { "fo" } else { "kl" }).expect("lang")]
        }
        6 => {
            if o.serves_municipalities.is_empty() {
                o.serves_municipalities = vec![o.municipality, MunicipalityCode(851)];
            } else {
                o.serves_municipalities.clear();
            }
        }
        7 => o.occupations = other.occupations.clone(),
        8 => o.price_dkk = param % 50_000,
        9 => {
            o.min_hours = (param % 38) as u8;
            o.requires_driving_licence = !o.requires_driving_licence;
        }
        // The effect estimates read these two.
        10 => o.provider = other.provider.clone(),
        // Reciprocal help is its poster's own need, which the poster is never matched to.
        11 => {
            o.kind = if o.kind == OfferKind::ReciprocalHelp {
                OfferKind::Provider
            } else {
                OfferKind::ReciprocalHelp
            }
        }
        _ => o.name = format!("{} (ny)", o.name),
    }
}

/// A reciprocal-help offer is its poster's own need, which the poster is never matched to.
/// A patch that turns such an offer into another kind (or back) must forget (or learn) that
/// need as a scorer built anew does; a patch that changes no offer's kind keeps the needs.
#[test]
fn a_patch_that_changes_a_posted_need_scores_its_poster_as_new() {
    let r = Arc::new(reference());
    let mut data = crate::r#gen::generate(crate::r#gen::Scale::Demo, 1, &r);
    let today = crate::r#gen::AS_OF;
    let policies = Arc::new(PolicySet::default());
    // The demo's posters are not among its candidates: five of its candidates post a need.
    let needs: Vec<usize> = (0..data.offers.len())
        .filter(|&j| data.offers[j].kind == OfferKind::ReciprocalHelp)
        .take(5)
        .collect();
    assert_eq!(needs.len(), 5, "the demo has reciprocal help");
    let mut posted = Vec::new();
    for (n, &j) in needs.iter().enumerate() {
        let i = 7 * n;
        let poster = crate::model::ProviderId::new(data.candidates[i].id.as_str()).expect("id");
        std::sync::Arc::make_mut(&mut data.offers[j]).provider = poster;
        posted.push((i, j));
    }
    let base = Scorer::new(Arc::new(data.clone()), r.clone(), policies.clone(), today).expect("scorer");
    for &(i, j) in &posted {
        for kind in [OfferKind::Provider, OfferKind::ReciprocalHelp] {
            let mut next = data.clone();
            if kind == OfferKind::Provider {
                std::sync::Arc::make_mut(&mut next.offers[j]).kind = kind;
            }
            let next = Arc::new(next);
            let patched = base.with_changed_offers(next.clone(), &[j]).expect("patched");
            let fresh = Scorer::new(next, r.clone(), policies.clone(), today).expect("fresh");
            let (vp, vf) = (patched.candidate(i).expect("view"), fresh.candidate(i).expect("view"));
            assert_eq!(patched.breakdown(&vp, j), fresh.breakdown(&vf, j), "poster {i}, offer {j}, {kind:?}");
        }
    }
}

/// Every pair of every 7th candidate, and each one's top-5 row, as `b` scores them, must be
/// what `a` gives.
fn assert_same_scores(a: &Scorer, b: &Scorer) {
    let (ia, ib) = (crate::graph::Index::new(a), crate::graph::Index::new(b));
    for i in (0..a.n_candidates()).step_by(7) {
        let (va, vb) = (a.candidate(i).expect("view"), b.candidate(i).expect("view"));
        for k in 0..a.n_offers() {
            assert_eq!(a.breakdown(&va, k), b.breakdown(&vb, k), "candidate {i}, offer {k}");
            assert_eq!(a.score(&va, k), b.score(&vb, k), "candidate {i}, offer {k}");
        }
        assert_eq!(ia.top_k(a, &va, 5), ib.top_k(b, &vb, 5), "candidate {i}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// A scorer patched for a few changed offers scores every pair as one built anew from the
    /// same data, whichever path the patch takes (in place, laid out again, estimated again),
    /// and so does a patch of a patch.
    #[test]
    fn with_changed_offers_scores_as_new(
        seed in 1u64..4,
        first in proptest::collection::vec((0usize..1000, 0u8..13, 0u32..100_000), 1..5),
        second in proptest::collection::vec((0usize..1000, 0u8..13, 0u32..100_000), 1..4),
    ) {
        let r = Arc::new(reference());
        let mut data = crate::r#gen::generate(crate::r#gen::Scale::Demo, seed, &r);
        let today = crate::r#gen::AS_OF;
        let policies = Arc::new(PolicySet::default());
        let base = Scorer::new(Arc::new(data.clone()), r.clone(), policies.clone(), today).expect("scorer");
        let mut patched = base;
        for edits in [&first, &second] {
            let mut changed: Vec<usize> = Vec::new();
            for &(at, kind, param) in edits {
                let at = at % data.offers.len();
                edit_offer(&mut data, &r, at, kind, param);
                changed.push(at);
            }
            let data = Arc::new(data.clone());
            patched = patched.with_changed_offers(data.clone(), &changed).expect("patched");
            let fresh = Scorer::new(data, r.clone(), policies.clone(), today).expect("fresh");
            assert_same_scores(&fresh, &patched);
            prop_assert_eq!(fresh.effects().quality.clone(), patched.effects().quality.clone());
        }
    }
}

/// The offers of `data` that no episode names: those a service's new offer can stand for.
fn unmeasured(data: &Dataset) -> Vec<usize> {
    let named: std::collections::HashSet<&str> =
        data.outcomes.iter().filter_map(|e| e.offer.as_ref().map(|o| o.as_str())).collect();
    (0..data.offers.len()).filter(|&i| !named.contains(data.offers[i].id.as_str())).collect()
}

/// `full` with the offers at `new` and the providers no other offer has taken out: the data
/// set before those offers were added.
fn without_offers(full: &Dataset, new: &[usize]) -> Dataset {
    let mut old = full.clone();
    old.offers = (0..full.offers.len())
        .filter(|i| new.binary_search(i).is_err())
        .map(|i| full.offers[i].clone())
        .collect();
    old.providers.retain(|p| old.offers.iter().any(|o| o.provider == p.id));
    old
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// A scorer given new offers scores every pair as one built anew from the same data,
    /// keeping the other offers' effect estimates (the same estimates, bit for bit) and,
    /// unless a new offer speaks a new language, their layout; also for a new offer of a
    /// provider the data set did not have, and again on top.
    #[test]
    fn with_new_offers_scores_as_new(
        seed in 1u64..4,
        picks in proptest::collection::vec(0usize..10_000, 1..5),
        more in 0usize..10_000,
        new_provider in proptest::bool::ANY,
        new_language in proptest::bool::ANY,
    ) {
        let r = Arc::new(reference());
        let mut full = crate::r#gen::generate(crate::r#gen::Scale::Demo, seed, &r);
        let today = crate::r#gen::AS_OF;
        let policies = Arc::new(PolicySet::default());
        let free = unmeasured(&full);
        // `first` are added to a scorer that had none of them, then `last` on top.
        let last = free[more % free.len()];
        let mut first: Vec<usize> = picks.iter().map(|p| free[p % free.len()]).filter(|&i| i != last).collect();
        first.sort_unstable();
        first.dedup();
        prop_assume!(!first.is_empty());
        // A service's new offer carries no evidence.
        for &i in first.iter().chain([&last]) {
            std::sync::Arc::make_mut(&mut full.offers[i]).evidence.clear();
        }
        if new_provider {
            let id = ProviderId::new("ny-udbyder").expect("id");
            let at = full.offers[first[0]].municipality;
            std::sync::Arc::make_mut(&mut full.offers[first[0]]).provider = id.clone();
            full.providers.push(Provider { id, name: "Ny udbyder".into(), municipality: at, contact: None });
            full.providers.sort_by(|a, b| a.id.cmp(&b.id));
        }
        // A language no offer spoke lays every offer out again; otherwise the others keep theirs.
        if new_language {
            std::sync::Arc::make_mut(&mut full.offers[last]).languages = vec![Language::parse("kl").expect("lang")];
        }
        let mut all = first.clone();
        all.push(last);
        all.sort_unstable();
        let base = Scorer::new(Arc::new(without_offers(&full, &all)), r.clone(), policies.clone(), today).expect("scorer");
        let with_first = without_offers(&full, &[last]);
        // `first` as indices of `with_first`, which lacks `last`.
        let first_there: Vec<usize> = first.iter().map(|&i| if i > last { i - 1 } else { i }).collect();
        let with_first = Arc::new(with_first);
        prop_assert!(base.effects().with_new_offers(&with_first, &first_there).is_some(), "the estimates are kept");
        let patched = base.with_new_offers(with_first.clone(), &first_there).expect("patched");
        let fresh = Scorer::new(with_first, r.clone(), policies.clone(), today).expect("fresh");
        assert_same_scores(&fresh, &patched);
        assert_same_estimates(&fresh, &patched);
        let full = Arc::new(full);
        let again = patched.with_new_offers(full.clone(), &[last]).expect("again");
        let fresh = Scorer::new(full, r.clone(), policies.clone(), today).expect("fresh");
        assert_same_scores(&fresh, &again);
        assert_same_estimates(&fresh, &again);
    }
}

/// Every offer's estimates in `b`, and its quality rows, are `a`'s, bit for bit.
fn assert_same_estimates(a: &Scorer, b: &Scorer) {
    let (ea, eb) = (a.effects(), b.effects());
    let n_groups = a.reference.target_groups.len().max(1);
    for o in 0..a.n_offers() {
        for g in 0..n_groups {
            assert_eq!(ea.offer_uplift(o, g), eb.offer_uplift(o, g), "offer {o}, group {g}");
            assert_eq!(ea.offer_counts(o, g), eb.offer_counts(o, g), "offer {o}, group {g}");
            for band in 0..crate::effect::N_BANDS {
                assert_eq!(ea.uplift(o, g, band), eb.uplift(o, g, band), "offer {o}, group {g}, band {band}");
            }
        }
    }
    assert_eq!(ea.quality, eb.quality);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// A scorer refreshed for new evidence and history (an outcome recorded, an exit without
    /// an offer) scores every pair and estimates every offer as one built anew from the same
    /// data, though it lays out only the uplift rows and their bounds again.
    #[test]
    fn with_new_evidence_scores_as_new(
        seed in 1u64..4,
        evidence in proptest::collection::vec((0usize..10_000, 0usize..16, 0u32..60, 0u32..60), 0..6),
        dropped in 0usize..40,
        added in proptest::collection::vec((0usize..10_000, proptest::bool::ANY), 0..30),
    ) {
        let r = Arc::new(reference());
        let mut data = crate::r#gen::generate(crate::r#gen::Scale::Demo, seed, &r);
        let today = crate::r#gen::AS_OF;
        let policies = Arc::new(PolicySet::default());
        let base = Scorer::new(Arc::new(data.clone()), r.clone(), policies.clone(), today).expect("scorer");
        let n = data.offers.len();
        for &(at, group, a, b) in &evidence {
            let group = GroupId((group % r.target_groups.len()) as u8);
            std::sync::Arc::make_mut(&mut data.offers[at % n]).evidence =
                vec![Evidence { group, trials: a.max(b), successes: a.min(b) }];
        }
        let keep = data.outcomes.len().saturating_sub(dropped);
        data.outcomes.truncate(keep);
        for (k, &(at, success)) in added.iter().enumerate() {
            let Some(mut e) = data.outcomes.get(at % data.outcomes.len().max(1)).cloned() else { break };
            e.id = EpisodeId::new(&format!("ny-{k}")).expect("id");
            e.success = success;
            data.outcomes.push(e);
        }
        let data = Arc::new(data);
        let refreshed = base.with_new_evidence(data.clone()).expect("refreshed");
        let fresh = Scorer::new(data, r.clone(), policies.clone(), today).expect("fresh");
        assert_same_scores(&fresh, &refreshed);
        assert_same_estimates(&fresh, &refreshed);
    }
}
