//! Pair scoring throughput: every candidate against every offer, all within reach, so every
//! pair runs the full factor code (nothing is cut early by the distance check).
//!
//! `cargo bench -p matcher-core --bench scoring`; the figure to read is "elements/s".
//!
//! Also what a service's write to one offer costs the scorer (`offer_write/…`): a scorer
//! built anew for the national offers (`matcher gen --scale national --seed 1`'s 33,000, no
//! candidates: what the service's catalogue holds) against one patched for that offer
//! (`Scorer::with_changed_offers`), with new places, and with another target group (which
//! copies the uplift table). The data set's copy, which the service makes too, is inside
//! each figure. Under `cargo test --benches` the demo's offers are used.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use matcher_core::model::*;
use matcher_core::policy::PolicySet;
use matcher_core::score::Scorer;
use rayon::prelude::*;

fn world(n_candidates: usize, n_offers: usize) -> (Dataset, ReferenceData) {
    let r = ReferenceData::embedded().expect("reference");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let groups: Vec<GroupId> = (0..r.target_groups.len() as u8).map(GroupId).collect();
    let occupations: Vec<Occupation> =
        r.occupations.iter().map(|o| o.code).filter(|o| o.level == 4).collect();
    let mut data = Dataset::default();
    for i in 0..n_candidates {
        let mut g = GroupSet::EMPTY;
        g.insert(groups[i % groups.len()]);
        data.candidates.push(Candidate {
            id: CandidateId::new(&format!("c{i}")).expect("id"),
            municipality: MunicipalityCode(101),
            home: LatLon::new(55.6 + next() * 0.2, 12.4 + next() * 0.3).expect("point"),
            age_band: AgeBand::From25To29,
            target_groups: g,
            benefit: Benefit {
                kind: (i % r.benefit_kinds.len()) as u8,
                start: Date::parse("2026-01-05").expect("date"),
                end: (i % 3 == 0).then(|| Date::parse("2027-03-01").expect("date")),
                reassessment: None,
            },
            wished_occupations: vec![occupations[(next() * occupations.len() as f64) as usize]],
            max_travel_km: 60.0,
            languages: vec![Language::parse("da").expect("lang")],
            driving_licence: i % 3 != 0,
            hours_available: 37,
            preferred_kinds: vec![],
            current: None,
            excluded_offers: vec![],
            audit: AuditAttributes::default(),
        });
    }
    for j in 0..n_offers {
        let kind = OfferKind::ALL[j % 4];
        let mut g = GroupSet::EMPTY;
        if kind == OfferKind::Provider {
            g.insert(groups[j % groups.len()]);
        }
        data.offers.push(std::sync::Arc::new(Offer {
            id: OfferId::new(&format!("o{j}")).expect("id"),
            kind,
            name: format!("offer {j}"),
            provider: ProviderId::new("p").expect("id"),
            municipality: MunicipalityCode(101),
            location: LatLon::new(55.6 + next() * 0.2, 12.4 + next() * 0.3).expect("point"),
            serves_municipalities: vec![],
            capacity: 1 + (next() * 10.0) as u32,
            price_dkk: (next() * 40_000.0) as u32,
            contract: None,
            guaranteed_volume: 0,
            target_groups: g,
            occupations: if kind == OfferKind::Provider {
                vec![]
            } else {
                vec![occupations[(next() * occupations.len() as f64) as usize]]
            },
            languages: vec![],
            requires_driving_licence: false,
            min_hours: 0,
            duration_weeks: 12,
            poster_weeks_saved: 0.0,
            evidence: vec![Evidence { group: groups[j % groups.len()], trials: 40, successes: 12 }],
            time_and_place: Default::default(),
        }));
    }
    (data, r)
}

fn scoring(c: &mut Criterion) {
    let (mixed, r) = world(2_000, 5_000);
    // The same world with every eligibility limit lifted, so that every pair runs every factor.
    let mut feasible = mixed.clone();
    for offer in &mut feasible.offers {
        let offer = std::sync::Arc::make_mut(offer);
        offer.target_groups = GroupSet::EMPTY;
    }
    let mut lifted = PolicySet::default();
    lifted.national.limits.job_min_shared_level = 0;
    let today = Date::parse("2026-11-22").expect("date");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
    let mut group = c.benchmark_group("score");
    group.sample_size(10);
    for (name, data, policies) in [
        ("mixed_limits_2_threads", &mixed, PolicySet::default()),
        ("all_feasible_2_threads", &feasible, lifted),
    ] {
        let scorer =
            Scorer::new(Arc::new(data.clone()), Arc::new(r.clone()), Arc::new(policies.clone()), today)
                .expect("scorer");
        let views: Vec<_> = (0..data.candidates.len()).map(|i| scorer.candidate(i).expect("view")).collect();
        let removed: usize = views
            .iter()
            .map(|v| (0..scorer.n_offers()).filter(|&o| scorer.score(v, o).is_err()).count())
            .sum();
        let pairs = (views.len() * data.offers.len()) as u64;
        eprintln!("{name}: {pairs} pairs, {removed} removed by a hard limit");
        group.throughput(Throughput::Elements(pairs));
        group.bench_function(name, |b| {
            b.iter(|| {
                pool.install(|| {
                    views
                        .par_iter()
                        .map(|v| (0..scorer.n_offers()).map(|o| scorer.score(v, o).unwrap_or(0)).sum::<i64>())
                        .sum::<i64>()
                })
            })
        });
    }
    group.finish();
}

fn offer_write(c: &mut Criterion) {
    let smoke = std::env::args().any(|a| a == "--test" || a == "--list");
    let scale = if smoke { matcher_core::Scale::Demo } else { matcher_core::Scale::National };
    let r = Arc::new(ReferenceData::embedded().expect("reference"));
    let mut data = matcher_core::generate(scale, 1, &r);
    data.candidates.clear();
    let today = Date::parse("2026-11-22").expect("date");
    let policies = Arc::new(PolicySet::default());
    let scorer = Scorer::new(Arc::new(data.clone()), r.clone(), policies.clone(), today).expect("scorer");
    let at = data.offers.len() / 2;
    let mut places = data.clone();
    std::sync::Arc::make_mut(&mut places.offers[at]).capacity += 3;
    let mut groups = data.clone();
    let other = groups.offers[(at + 1) % groups.offers.len()].target_groups;
    std::sync::Arc::make_mut(&mut groups.offers[at]).target_groups = GroupSet(other.0 ^ 1);
    // A new offer: the data set before it (one offer no episode names, without its evidence,
    // taken out) and after it.
    let named: std::collections::HashSet<&str> =
        data.outcomes.iter().filter_map(|e| e.offer.as_ref().map(|o| o.as_str())).collect();
    let fresh =
        (at..data.offers.len()).find(|&i| !named.contains(data.offers[i].id.as_str())).expect("an offer");
    let mut added = data.clone();
    std::sync::Arc::make_mut(&mut added.offers[fresh]).evidence.clear();
    let mut before_new = added.clone();
    before_new.offers.remove(fresh);
    let before_new = Scorer::new(Arc::new(before_new), r.clone(), policies.clone(), today).expect("scorer");
    let mut group = c.benchmark_group("offer_write");
    group.sample_size(10);
    group.bench_function(format!("{}_scorer_new", scale.label()), |b| {
        b.iter(|| Scorer::new(Arc::new(places.clone()), r.clone(), policies.clone(), today).expect("scorer"))
    });
    group.bench_function(format!("{}_estimate", scale.label()), |b| {
        b.iter(|| {
            matcher_core::effect::EffectModel::estimate(&places, &r, matcher_core::effect::Spread::default())
        })
    });
    // An outcome's refresh: one offer's evidence grown.
    let mut evidence = data.clone();
    let grown = &mut std::sync::Arc::make_mut(&mut evidence.offers[at]).evidence;
    grown.push(matcher_core::model::Evidence {
        group: matcher_core::model::GroupId(0),
        trials: 10,
        successes: 7,
    });
    group.bench_function(format!("{}_new_evidence", scale.label()), |b| {
        b.iter(|| scorer.with_new_evidence(Arc::new(evidence.clone())).expect("scorer"))
    });
    group.bench_function(format!("{}_patch_places", scale.label()), |b| {
        b.iter(|| scorer.with_changed_offers(Arc::new(places.clone()), &[at]).expect("scorer"))
    });
    group.bench_function(format!("{}_new_offer", scale.label()), |b| {
        b.iter(|| before_new.with_new_offers(Arc::new(added.clone()), &[fresh]).expect("scorer"))
    });
    group.bench_function(format!("{}_patch_groups", scale.label()), |b| {
        b.iter(|| scorer.with_changed_offers(Arc::new(groups.clone()), &[at]).expect("scorer"))
    });
    group.finish();
}

criterion_group!(benches, scoring, offer_write);
criterion_main!(benches);
