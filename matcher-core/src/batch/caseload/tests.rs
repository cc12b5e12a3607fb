use super::*;
use crate::model::{Candidate, CandidateId, CaseworkerId, GroupId, ReferenceData};
use proptest::prelude::*;

const AALBORG: MunicipalityCode = MunicipalityCode(851);
const HJORRING: MunicipalityCode = MunicipalityCode(860);

/// A template candidate from the generator; tests set what matters here.
fn template() -> Candidate {
    let reference = ReferenceData::embedded().expect("reference");
    crate::generate(crate::Scale::Demo, 1, &reference).candidates.swap_remove(0)
}

fn candidates(specs: &[(MunicipalityCode, u8)]) -> Dataset {
    let t = template();
    let candidates = specs
        .iter()
        .enumerate()
        .map(|(i, &(municipality, group))| {
            let mut c = t.clone();
            c.id = CandidateId::new(&format!("c-{i}")).expect("id");
            c.municipality = municipality;
            c.target_groups = GroupSet::EMPTY;
            c.target_groups.insert(GroupId(group));
            c
        })
        .collect();
    Dataset { candidates, ..Dataset::default() }
}

fn worker(
    id: &str,
    municipality: MunicipalityCode,
    caseload: u32,
    cap: u32,
    specialities: &[u8],
) -> Caseworker {
    let mut set = GroupSet::EMPTY;
    specialities.iter().for_each(|&g| set.insert(GroupId(g)));
    Caseworker {
        id: CaseworkerId::new(id).expect("id"),
        municipality,
        caseload,
        cap,
        specialities: set,
        cases: Vec::new(),
    }
}

fn assigned_to(plan: &CaseloadPlan, candidate: u32) -> Option<u32> {
    plan.proposals.iter().find(|p| p.candidate == candidate).and_then(|p| p.caseworker)
}

#[test]
fn equal_specialities_end_within_one_case_of_each_other() {
    let data = candidates(&[(AALBORG, 0); 10]);
    let workers = [
        worker("a", AALBORG, 10, 30, &[]),
        worker("b", AALBORG, 12, 30, &[]),
        worker("c", AALBORG, 15, 30, &[]),
    ];
    let plan = plan(&data, &workers, 1).expect("plan");
    let after: Vec<u32> = plan.loads.iter().map(|l| l.after).collect();
    assert_eq!(after.iter().sum::<u32>(), 10 + 12 + 15 + 10);
    let (lo, hi) = (after.iter().min().unwrap(), after.iter().max().unwrap());
    assert!(hi - lo <= 1, "{after:?}");
    assert_eq!(plan.certificate.gap, Some(0));
    // Every proposal names the load it creates, and the loads add up to the proposals.
    for (w, load) in plan.loads.iter().enumerate() {
        let taken = plan.proposals.iter().filter(|p| p.caseworker == Some(w as u32)).count() as u32;
        assert_eq!(load.after, load.before + taken);
    }
}

#[test]
fn the_least_loaded_take_the_new_candidates_first() {
    let data = candidates(&[(AALBORG, 0); 3]);
    let workers = [worker("busy", AALBORG, 40, 50, &[]), worker("free", AALBORG, 20, 50, &[])];
    let plan = plan(&data, &workers, 1).expect("plan");
    assert_eq!(plan.loads[0].after, 40);
    assert_eq!(plan.loads[1].after, 23);
}

#[test]
fn a_cap_is_never_exceeded_and_the_rest_wait() {
    let data = candidates(&[(AALBORG, 0); 6]);
    let workers = [
        worker("full", AALBORG, 50, 45, &[]),
        worker("two-left", AALBORG, 43, 45, &[]),
        worker("one-left", AALBORG, 44, 45, &[]),
    ];
    let plan = plan(&data, &workers, 1).expect("plan");
    assert_eq!(plan.loads.iter().map(|l| l.after).collect::<Vec<_>>(), vec![50, 45, 45]);
    let waiting: Vec<_> = plan.proposals.iter().filter(|p| p.caseworker.is_none()).collect();
    assert_eq!(waiting.len(), 3);
    assert!(waiting.iter().all(|p| p.reason == Some(NoCaseworker::AllAtCap)));
    let report = report(&data, &workers, &plan);
    assert_eq!((report.total.before_over_cap, report.total.after_over_cap), (1, 1));
    assert_eq!((report.total.new_candidates, report.total.assigned), (6, 3));
}

#[test]
fn a_speciality_decides_between_equal_loads_but_never_unbalances() {
    // Candidate 0 is in group 1, candidate 1 in group 0; caseworker "psych" specialises in 1.
    let data = candidates(&[(AALBORG, 1), (AALBORG, 0)]);
    let workers = [worker("plain", AALBORG, 10, 30, &[]), worker("psych", AALBORG, 10, 30, &[1])];
    let plan1 = plan(&data, &workers, 1).expect("plan");
    assert_eq!(assigned_to(&plan1, 0), Some(1));
    assert_eq!(assigned_to(&plan1, 1), Some(0));
    assert!(plan1.proposals[0].speciality && !plan1.proposals[1].speciality);

    // Two group-1 candidates, the specialist two cases ahead: balance wins.
    let data = candidates(&[(AALBORG, 1), (AALBORG, 1)]);
    let workers = [worker("plain", AALBORG, 10, 30, &[]), worker("psych", AALBORG, 12, 30, &[1])];
    let plan2 = plan(&data, &workers, 1).expect("plan");
    assert_eq!(plan2.loads.iter().map(|l| l.after).collect::<Vec<_>>(), vec![12, 12]);
}

#[test]
fn candidates_on_a_caseload_and_other_municipalities_take_no_part() {
    let data = candidates(&[(AALBORG, 0), (AALBORG, 0), (HJORRING, 0), (MunicipalityCode(101), 0)]);
    let mut a = worker("a", AALBORG, 5, 10, &[]);
    a.cases.push(CandidateId::new("c-0").expect("id"));
    let workers = [a, worker("h", HJORRING, 0, 0, &[])];
    let plan = plan(&data, &workers, 1).expect("plan");
    let new: Vec<u32> = plan.proposals.iter().map(|p| p.candidate).collect();
    assert_eq!(new, vec![1, 2]);
    assert_eq!(assigned_to(&plan, 1), Some(0));
    assert_eq!(plan.proposals[1].reason, Some(NoCaseworker::AllAtCap));
    let report = report(&data, &workers, &plan);
    assert_eq!(report.by_municipality.len(), 2);
    assert_eq!(report.by_municipality[0].municipality, "0851");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Water-filling: nobody who took a new case holds more than one case beyond any other
    /// caseworker of the same municipality and specialities who still had room, caps hold,
    /// and as many candidates get a caseworker as there are places.
    #[test]
    fn loads_are_balanced_under_the_caps(
        workers in proptest::collection::vec((0u32..12, 0u32..14, 0u8..3), 1..5),
        groups in proptest::collection::vec(0u8..2, 0..20),
    ) {
        let specs: Vec<_> = groups.iter().map(|&g| (AALBORG, g)).collect();
        let data = candidates(&specs);
        let workers: Vec<Caseworker> = workers
            .iter()
            .enumerate()
            .map(|(i, &(load, cap, s))| {
                let specialities: &[u8] = match s { 0 => &[], 1 => &[0], _ => &[1] };
                worker(&format!("w{i}"), AALBORG, load, cap, specialities)
            })
            .collect();
        let plan = plan(&data, &workers, 1).expect("plan");
        prop_assert_eq!(plan.certificate.gap, Some(0));
        let room: u32 = workers.iter().map(|w| w.cap.saturating_sub(w.caseload)).sum();
        let assigned = plan.proposals.iter().filter(|p| p.caseworker.is_some()).count() as u32;
        prop_assert_eq!(assigned, room.min(groups.len() as u32));
        for (w, l) in workers.iter().zip(&plan.loads) {
            prop_assert!(l.after == l.before || l.after <= w.cap);
        }
        for (v, lv) in workers.iter().zip(&plan.loads) {
            if lv.after == lv.before {
                continue;
            }
            for (w, lw) in workers.iter().zip(&plan.loads) {
                if lw.after < w.cap {
                    // Whoever still has room ends at most one case below any who took one
                    // (exactly: a speciality tie-break is worth half a case).
                    prop_assert!(lv.after <= lw.after + 1, "{} at {} while {} at {}", v.id, lv.after, w.id, lw.after);
                }
            }
        }
    }
}
