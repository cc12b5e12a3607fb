//! Reference values: scipy 1.17.1 (`scipy.stats.binomtest(k, n).proportion_ci(0.95,
//! "wilson")`; Newcombe's method 10 assembled from those Wilson ends; means by Python's
//! `statistics`), and the published worked examples of Newcombe (1998): "Two-sided confidence
//! intervals for the single proportion", Statistics in Medicine 17:857–872, Table I (81/263,
//! 15/148, 0/20, 1/29, Wilson with continuity correction left out), and "Interval estimation
//! for the difference between independent proportions", Statistics in Medicine 17:873–890,
//! Table II (56/70 − 48/80, method 10: 0.0524 to 0.3339).

use super::*;
use crate::batch::{self, BatchOptions};
use crate::model::*;
use crate::policy::PolicySet;
use crate::score::tests::{candidate, offer, reference};
use std::sync::Arc;

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

#[test]
fn wilson_matches_scipy_and_newcombes_table() {
    // (x, n, low, high) from scipy 1.17.1.
    let cases = [
        (1, 10, 0.017876213095072896, 0.4041500267952385),
        (81, 263, 0.2552885198782742, 0.36620957698280004),
        (15, 148, 0.06238639953073629, 0.16048724172330803),
        (0, 20, 0.0, 0.16112515805281935),
        (1, 29, 0.006113214292762667, 0.17175521879320282),
        (10, 10, 0.7224672001371109, 1.0),
    ];
    for (x, n, low, high) in cases {
        let i = wilson(x, n).expect("n > 0");
        assert!(close(i.low, low, 1e-12) && close(i.high, high, 1e-12), "{x}/{n}: {i:?}");
    }
    // Newcombe (1998a), Table I, four decimals.
    let i = wilson(81, 263).expect("n > 0");
    assert_eq!((format!("{:.4}", i.low), format!("{:.4}", i.high)), ("0.2553".into(), "0.3662".into()));
    assert_eq!(wilson(0, 0), None);
}

#[test]
fn newcombe_matches_the_published_example_and_scipy() {
    // Newcombe (1998b), Table II, method 10: 56/70 − 48/80 = 0.2, interval 0.0524 to 0.3339.
    let i = newcombe(56, 70, 48, 80).expect("samples");
    assert_eq!((format!("{:.4}", i.low), format!("{:.4}", i.high)), ("0.0524".into(), "0.3339".into()));
    for (x1, n1, x2, n2, low, high) in [
        (56, 70, 48, 80, 0.052431472402364815, 0.3338726540369059),
        (1, 10, 50, 90, -0.5836368786814105, -0.13449085561900104),
        (46, 100, 56, 100, -0.23270622704583904, 0.037935812326642504),
        (9, 10, 3, 10, 0.17052272393450302, 0.8090179735354881),
    ] {
        let i = newcombe(x1, n1, x2, n2).expect("samples");
        assert!(close(i.low, low, 1e-12) && close(i.high, high, 1e-12), "{x1}/{n1} − {x2}/{n2}: {i:?}");
    }
    assert_eq!(newcombe(1, 10, 0, 0), None);
}

#[test]
fn normal_intervals_of_a_mean_and_a_difference_match_python() {
    let a = Moments::of(&[1200.0, -300.0, 4500.0, 800.0, 2500.0]);
    let b = Moments::of(&[100.0, 200.0, -50.0, 900.0]);
    assert_eq!(a.mean, 1740.0);
    let i = a.mean_interval().expect("n ≥ 2");
    assert!(close(i.low, 127.81792651027035, 1e-9) && close(i.high, 3352.1820734897296, 1e-9), "{i:?}");
    let d = a.difference_interval(b).expect("n ≥ 2");
    assert!(close(d.low, -211.6501426463003, 1e-9) && close(d.high, 3116.6501426463, 1e-9), "{d:?}");
    assert_eq!(Moments::of(&[5.0]).mean_interval(), None);
}

fn night(data: Dataset) -> (Dataset, batch::BatchResult) {
    let r = Arc::new(reference());
    let data = Arc::new(data);
    let options = BatchOptions { today: Date::parse("2026-11-22"), threads: 1, ..BatchOptions::default() };
    let result = batch::run(data.clone(), r, Arc::new(PolicySet::default()), &options).expect("night");
    (Arc::unwrap_or_clone(data), result)
}

fn dataset(candidates: Vec<Candidate>, offers: Vec<Offer>) -> Dataset {
    Dataset {
        candidates,
        offers: offers.into_iter().map(std::sync::Arc::new).collect(),
        providers: vec![],
        outcomes: vec![],
        declines: vec![],
        contracts: vec![],
    }
}

/// Group A (non-Western origin, speaking only Arabic) gets nothing because the one offer in
/// reach teaches in Danish: the whole gap must be put down to language.
#[test]
fn a_gap_made_by_language_requirements_is_put_down_to_language() {
    let r = reference();
    let mut danish_course = offer(&r, "o1", OfferKind::Provider, 55.70, 12.50);
    danish_course.languages = vec![Language::parse("da").expect("da")];
    danish_course.capacity = 20;
    let mut candidates = Vec::new();
    for i in 0..12 {
        let mut c = candidate(&r, &format!("d{i}"), 55.68, 12.57);
        c.audit = AuditAttributes { gender: Some(Gender::Female), origin: Some(Origin::Danish) };
        candidates.push(c);
    }
    for i in 0..8 {
        let mut c = candidate(&r, &format!("n{i}"), 55.68, 12.57);
        c.languages = vec![Language::parse("ar").expect("ar")];
        c.audit = AuditAttributes { gender: Some(Gender::Female), origin: Some(Origin::NonWestern) };
        candidates.push(c);
    }
    let (data, result) = night(dataset(candidates, vec![danish_course]));
    let fairness = build(&data, &reference(), &result);
    let origin = fairness.dimensions.iter().find(|d| d.key == "origin").expect("origin");
    let group = origin.groups.iter().find(|g| g.key == "non_western").expect("non-Western");
    assert_eq!((group.candidates, group.matched, group.rest_candidates), (8, 0, 12));
    assert_eq!(group.match_gap, Some(-1.0));
    assert_eq!(group.unmatched_gap, Some(1.0));
    for c in &group.causes {
        let expected = if c.cause == UnmatchedCause::Language { 1.0 } else { 0.0 };
        assert_eq!(c.gap, Some(expected), "{:?}", c.cause);
    }
    let sum: f64 = group.causes.iter().filter_map(|c| c.gap).sum();
    assert_eq!(sum, 1.0);
    // 0/8 against 12/12: Newcombe's interval is far from 0, and the group is small.
    let gap = group.match_gap_interval.expect("interval");
    assert!(gap.high < -0.5, "{gap:?}");
    assert!(group.warnings.contains(&SampleWarning::FewCandidates));
    assert!(group.warnings.contains(&SampleWarning::WideInterval));
    // Gender: every candidate is a woman; the one group has no rest to compare with.
    let gender = fairness.dimensions.iter().find(|d| d.key == "gender").expect("gender");
    assert_eq!(gender.groups.len(), 1);
    assert_eq!(gender.groups[0].match_gap_interval, None);
    assert_eq!(gender.groups[0].unmatched_gap, None);
}

#[test]
fn each_rung_of_the_ladder_is_found() {
    let r = reference();
    // One place, two equal candidates: one goes without by the engine's choice.
    let mut one_place = offer(&r, "o1", OfferKind::Provider, 55.70, 12.50);
    one_place.capacity = 1;
    // Far in Jutland: a full course (capacity), a Danish-only course, a course for another
    // group (eligibility), each near its own candidate only.
    let mut full = offer(&r, "o2", OfferKind::Provider, 56.15, 10.20);
    full.capacity = 0;
    let mut danish = offer(&r, "o3", OfferKind::Provider, 57.05, 9.92);
    danish.languages = vec![Language::parse("da").expect("da")];
    let mut other_group = offer(&r, "o4", OfferKind::Provider, 55.40, 10.39);
    other_group.target_groups = GroupSet::EMPTY;
    other_group.target_groups.insert(r.group("cash_longterm").expect("group"));
    let mut excluded = offer(&r, "o5", OfferKind::Provider, 55.49, 8.45);
    let c = |id: &str, lat, lon| candidate(&r, id, lat, lon);
    let mut speaks_arabic = c("c4", 57.05, 9.92);
    speaks_arabic.languages = vec![Language::parse("ar").expect("ar")];
    let mut excludes = c("c6", 55.49, 8.45);
    excludes.excluded_offers = vec![excluded.id.clone()];
    excluded.capacity = 3;
    let candidates = vec![
        c("c1", 55.68, 12.57),
        c("c2", 55.68, 12.57),
        c("c3", 56.15, 10.20),
        speaks_arabic,
        c("c5", 55.40, 10.39),
        excludes,
        c("c7", 54.90, 14.90), // Bornholm's sea: nothing within 30 km
    ];
    let (_, result) = night(dataset(candidates, vec![one_place, full, danish, other_group, excluded]));
    let causes: Vec<Option<UnmatchedCause>> = result.proposals.iter().map(|p| p.unmatched_cause).collect();
    let engine = causes[..2].iter().filter(|c| **c == Some(UnmatchedCause::EngineChoice)).count();
    assert_eq!(engine, 1, "{causes:?}");
    assert_eq!(
        &causes[2..],
        &[
            Some(UnmatchedCause::FullPlaces),
            Some(UnmatchedCause::Language),
            Some(UnmatchedCause::Eligibility),
            Some(UnmatchedCause::Excluded),
            Some(UnmatchedCause::NothingInReach),
        ]
    );
}

#[test]
fn the_demo_nights_gaps_add_up_by_cause_and_its_bytes_are_stable() {
    let r = Arc::new(reference());
    let data = Arc::new(crate::r#gen::generate(crate::r#gen::Scale::Demo, 1, &r));
    let options = BatchOptions { today: Some(crate::r#gen::AS_OF), threads: 2, ..BatchOptions::default() };
    let result =
        batch::run(data.clone(), r.clone(), Arc::new(PolicySet::default()), &options).expect("night");
    let fairness = build(&data, &r, &result);
    assert_eq!(fairness.dimensions.len(), 4);
    for d in &fairness.dimensions {
        assert_eq!(d.groups.iter().map(|g| g.candidates).sum::<usize>(), data.candidates.len(), "{}", d.key);
        for g in &d.groups {
            if let (Some(gap), Some(match_gap)) = (g.unmatched_gap, g.match_gap) {
                let sum: f64 = g.causes.iter().filter_map(|c| c.gap).sum();
                assert!(close(sum, gap, 1e-9), "{} {}: {sum} vs {gap}", d.key, g.key);
                assert!(close(gap, -match_gap, 1e-12));
            }
            let i = g.match_rate_interval.expect("non-empty group");
            assert!(i.low <= g.match_rate && g.match_rate <= i.high);
            if g.candidates < SMALL_SAMPLE {
                assert!(g.warnings.contains(&SampleWarning::FewCandidates), "{} {}", d.key, g.key);
            }
        }
    }
    // The batch settles a candidate with an edge as the engine's choice without a walk; the
    // walk over every offer in reach agrees for every unmatched candidate.
    let scorer = Scorer::new(data.clone(), r.clone(), Arc::new(PolicySet::default()), crate::r#gen::AS_OF)
        .expect("scorer");
    let index = Index::new(&scorer);
    for p in result.proposals.iter().filter(|p| p.offer.is_none()) {
        let view = scorer.candidate(p.candidate as usize).expect("view");
        assert_eq!(Some(cause_of(&scorer, &index, &view)), p.unmatched_cause, "candidate {}", p.candidate);
    }
    let unmatched = result.proposals.iter().filter(|p| p.offer.is_none()).count();
    let with_cause = result.proposals.iter().filter(|p| p.unmatched_cause.is_some()).count();
    assert_eq!(unmatched, with_cause);
    let again = batch::run(
        data.clone(),
        r.clone(),
        Arc::new(PolicySet::default()),
        &BatchOptions { threads: 1, ..options },
    )
    .expect("night");
    assert_eq!(table(&build(&data, &r, &again)), table(&fairness));
}

/// The invariant the section relies on: protected attributes never reach a score, so the
/// whole night (suggestions, scores, causes) is the same when every candidate's gender and
/// origin are changed; only the fairness figures move.
#[test]
fn changing_every_protected_attribute_changes_no_suggestion_and_no_cause() {
    let r = Arc::new(reference());
    let data = crate::r#gen::generate(crate::r#gen::Scale::Demo, 1, &r);
    let mut flipped = data.clone();
    for c in &mut flipped.candidates {
        c.audit = AuditAttributes {
            gender: match c.audit.gender {
                Some(Gender::Female) => Some(Gender::Male),
                Some(Gender::Male) => None,
                _ => Some(Gender::Female),
            },
            origin: match c.audit.origin {
                Some(Origin::Danish) => Some(Origin::NonWestern),
                _ => Some(Origin::Danish),
            },
        };
    }
    let options = BatchOptions { today: Some(crate::r#gen::AS_OF), threads: 1, ..BatchOptions::default() };
    let run = |d: Dataset| {
        let d = Arc::new(d);
        let night =
            batch::run(d.clone(), r.clone(), Arc::new(PolicySet::default()), &options).expect("night");
        (build(&d, &r, &night), night.proposals)
    };
    let (before, a) = run(data);
    let (after, b) = run(flipped);
    assert_eq!(a, b);
    assert_ne!(before.dimensions[0], after.dimensions[0], "the gender figures follow the data");
}

/// Issue 18: the section interns each candidate's group once and sums the effects from the
/// rows without collecting them; the groups, counts and every figure are the ones the plain
/// computation gives (string keys, each side's effects collected into a list), to the bit.
#[test]
fn the_interned_groups_give_the_plain_figures_to_the_bit() {
    let r = Arc::new(reference());
    let data = Arc::new(crate::r#gen::generate(crate::r#gen::Scale::Demo, 2, &r));
    let options = BatchOptions { today: Some(crate::r#gen::AS_OF), threads: 2, ..BatchOptions::default() };
    let result =
        batch::run(data.clone(), r.clone(), Arc::new(PolicySet::default()), &options).expect("night");
    let fairness = build(&result.night, &r, &result);
    let data = &*result.night;
    let plain_label = |d: usize, i: usize| -> (String, String) {
        let c = &data.candidates[i];
        match d {
            0 => {
                let g = match c.audit.gender {
                    Some(Gender::Female) => "female",
                    Some(Gender::Male) => "male",
                    Some(Gender::Other) => "other",
                    None => "not_recorded",
                };
                (g.into(), g.into())
            }
            1 => {
                let o = match c.audit.origin {
                    Some(Origin::Danish) => "danish",
                    Some(Origin::Western) => "western",
                    Some(Origin::NonWestern) => "non_western",
                    None => "not_recorded",
                };
                (o.into(), o.into())
            }
            2 => {
                let b = crate::model::AgeBand::ALL.iter().position(|b| *b == c.age_band).unwrap();
                (b.to_string(), c.age_band.label().into())
            }
            _ => {
                let m = r.municipality(c.municipality);
                (
                    m.map_or(String::new(), |m| m.region_code.to_string()),
                    m.map_or(String::new(), |m| m.region.clone()),
                )
            }
        }
    };
    for (d, dimension) in fairness.dimensions.iter().enumerate() {
        let labels: Vec<(String, String)> = (0..data.candidates.len()).map(|i| plain_label(d, i)).collect();
        let mut groups = labels.clone();
        groups.sort();
        groups.dedup();
        let keys: Vec<(String, String)> =
            dimension.groups.iter().map(|g| (g.key.clone(), g.name.clone())).collect();
        assert_eq!(keys, groups, "{}", dimension.key);
        for g in &dimension.groups {
            let (mut inside, mut rest) = (Vec::new(), Vec::new());
            let mut candidates = 0;
            for (p, label) in result.proposals.iter().zip(&labels) {
                let effect = p.offer.filter(|_| p.change != batch::Change::Locked).map(|_| p.effect_dkk);
                if label.0 == g.key {
                    candidates += 1;
                    inside.extend(effect);
                } else {
                    rest.extend(effect);
                }
            }
            let (a, b) = (Moments::of(&inside), Moments::of(&rest));
            assert_eq!(g.candidates, candidates);
            assert_eq!(g.suggestions, a.n);
            assert_eq!(g.mean_effect_dkk.map(f64::to_bits), (a.n > 0).then_some(a.mean.to_bits()));
            assert_eq!(g.mean_effect_interval, a.mean_interval());
            assert_eq!(g.effect_gap_interval, a.difference_interval(b));
            assert_eq!(g.rest_mean_effect_dkk.map(f64::to_bits), (b.n > 0).then_some(b.mean.to_bits()));
        }
    }
}
