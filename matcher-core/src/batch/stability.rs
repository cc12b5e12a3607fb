//! The night knows yesterday: tonight's suggestions compared with the previous run's.
//!
//! Owns three things: the fingerprints that let tomorrow tell which rows changed
//! ([`candidate_fingerprint`], [`offer_fingerprint`]); the stability bonus, the policy's
//! `stability.least_gain_points` added to the pair each candidate was suggested yesterday, so
//! that the exact solver changes a suggestion only for at least that gain; and the comparison
//! itself ([`compare`]): each candidate's suggestion kept, changed, new or dropped, and why.
//!
//! Why a suggestion changed is derived from the two runs' inputs, in this order: the
//! candidate's own data changed (its fingerprint differs), else one of the two offers changed
//! (yesterday's or tonight's: different data, gone, or new tonight), else the pair suggested
//! yesterday scores differently tonight with the same rows (the benefit clock moved on, or the
//! policy changed), else only the competition for places changed (other candidates, other
//! offers). Must not: read files (the previous run comes through
//! [`crate::dataset::previous`]) or change scores (the bonus goes into the solver's problem,
//! never into a reported score).

use crate::assign::Problem;
use crate::dataset::previous::PreviousRun;
use crate::dataset::snapshot::fnv1a64;
use crate::graph::CandidateGraph;
use crate::model::{AuditAttributes, Candidate, Dataset, Offer, OfferId};
use crate::policy::PolicySet;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Fingerprint of what scoring reads of a candidate: every field but the protected
/// attributes (a change there cannot change a suggestion, so it must not be named as a reason).
pub fn candidate_fingerprint(candidate: &Candidate) -> u64 {
    let scored = Candidate { audit: AuditAttributes::default(), ..candidate.clone() };
    encode_hash(&scored)
}

/// Fingerprint of an offer's data (places, groups, price, evidence, ...).
pub fn offer_fingerprint(offer: &Offer) -> u64 {
    encode_hash(offer)
}

fn encode_hash<T: Serialize>(value: &T) -> u64 {
    // bincode's standard configuration is deterministic; the model types always encode.
    bincode::serde::encode_to_vec(value, bincode::config::standard()).map_or(0, |bytes| fnv1a64(&bytes))
}

/// The fingerprint of every candidate, in data-set order.
pub fn candidate_fingerprints(data: &Dataset) -> Vec<u64> {
    data.candidates.par_iter().map(candidate_fingerprint).collect()
}

/// The fingerprint of every offer, in data-set order.
pub fn offer_fingerprints(data: &Dataset) -> Vec<u64> {
    data.offers.par_iter().map(|o| offer_fingerprint(o)).collect()
}

/// One candidate's row of the previous run, mapped onto tonight's indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YesterdayRow {
    /// The offer suggested yesterday, by id (it may be gone tonight).
    pub offer_id: Option<OfferId>,
    /// The same offer's index tonight, when it is still in the data set.
    pub offer: Option<u32>,
    /// Score of yesterday's pair, yesterday.
    pub score: Option<i64>,
    /// The candidate's fingerprint yesterday.
    pub fingerprint: Option<u64>,
}

/// The previous run, mapped onto tonight's data set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Yesterday {
    /// Per candidate of tonight's data set; `None` for a candidate not in the previous run.
    pub rows: Vec<Option<YesterdayRow>>,
    /// Per offer of tonight's data set, its fingerprint yesterday (`None`: new tonight, or a
    /// run written before fingerprints).
    pub offer_fingerprints: Vec<Option<u64>>,
    /// Per offer of tonight's data set, its dual price yesterday (0 for new offers).
    pub prices: Vec<i64>,
    /// Candidates of the previous run who are not in tonight's data set.
    pub gone: usize,
    /// The previous run carried fingerprints (runs written before them did not).
    pub has_fingerprints: bool,
}

impl Yesterday {
    /// Maps `previous` onto `data`'s candidate and offer indices.
    pub fn map(data: &Dataset, previous: &PreviousRun) -> Yesterday {
        let offers: HashMap<&str, u32> =
            data.offers.iter().enumerate().map(|(j, o)| (o.id.as_str(), j as u32)).collect();
        let candidates: HashMap<&str, usize> =
            data.candidates.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
        let mut rows = vec![None; data.candidates.len()];
        let mut gone = 0;
        for p in &previous.proposals {
            let Some(&i) = candidates.get(p.candidate.as_str()) else {
                gone += 1;
                continue;
            };
            rows[i] = Some(YesterdayRow {
                offer_id: p.offer.clone(),
                offer: p.offer.as_ref().and_then(|o| offers.get(o.as_str()).copied()),
                score: p.score,
                fingerprint: p.fingerprint,
            });
        }
        let mut offer_fingerprints = vec![None; data.offers.len()];
        let mut prices = vec![0; data.offers.len()];
        for o in &previous.offers {
            if let Some(&j) = offers.get(o.offer.as_str()) {
                offer_fingerprints[j as usize] = o.fingerprint;
                prices[j as usize] = o.price.max(0);
            }
        }
        let has_fingerprints = previous.proposals.iter().any(|p| p.fingerprint.is_some());
        Yesterday { rows, offer_fingerprints, prices, gone, has_fingerprints }
    }

    /// Yesterday's suggestion of every candidate, by tonight's offer index (the solver's warm
    /// start).
    pub fn assignment(&self) -> Vec<Option<u32>> {
        self.rows.iter().map(|r| r.as_ref().and_then(|r| r.offer)).collect()
    }
}

/// Adds each candidate's stability bonus (its policy's `stability.least_gain_points`) to the
/// weight of the pair suggested yesterday, in the solver's problem only. Locked candidates are
/// kept anyway and get none. Returns the bonus per candidate (0 where none applied).
///
/// With the bonus `b` on yesterday's pairs `X`, the solver maximises `w(Y) + b·|Y ∩ X|`, so
/// any assignment `Y` it returns satisfies `w(Y) − w(X') ≥ b·|X' \ Y|` for every assignment
/// `X'` of yesterday's pairs that is still feasible: a set of suggestions moves only if the
/// night gains more than `b` points per moved suggestion. The weights stay integers and the
/// certificate proves the optimum of exactly this problem.
pub fn add_bonus(
    problem: &mut Problem,
    data: &Dataset,
    policies: &PolicySet,
    yesterday: &Yesterday,
) -> Vec<i64> {
    let mut bonus = vec![0i64; problem.n_candidates];
    for (i, row) in yesterday.rows.iter().enumerate() {
        let Some(o) = row.as_ref().and_then(|r| r.offer) else { continue };
        if problem.locked.get(i).copied().unwrap_or(false) {
            continue;
        }
        let points = bonus_points(data, policies, i);
        if points == 0 {
            continue;
        }
        let range = problem.offsets[i]..problem.offsets[i + 1];
        if let Some(e) = range.clone().find(|&e| problem.offers[e] == o) {
            problem.weights[e] += points;
            bonus[i] = points;
        }
    }
    bonus
}

/// The stability bonus of candidate `i`'s pair of yesterday: its policy's
/// `stability.least_gain_points`.
pub(crate) fn bonus_points(data: &Dataset, policies: &PolicySet, i: usize) -> i64 {
    policies.get(policies.index_for(data.candidates[i].municipality)).stability.least_gain_points
}

/// A candidate's suggestion tonight against the previous run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Since {
    /// The same offer as yesterday.
    Kept,
    /// A different offer than yesterday.
    Changed,
    /// An offer, where yesterday there was none (or the candidate was not in that run).
    New,
    /// No offer, where yesterday there was one.
    Dropped,
    /// No offer, tonight or yesterday.
    Unmatched,
}

impl Since {
    /// Every status, in report order.
    pub const ALL: [Since; 5] = [Since::Kept, Since::Changed, Since::New, Since::Dropped, Since::Unmatched];

    /// The status as written in output files.
    pub fn key(self) -> &'static str {
        match self {
            Since::Kept => "kept",
            Since::Changed => "changed",
            Since::New => "new",
            Since::Dropped => "dropped",
            Since::Unmatched => "unmatched",
        }
    }
}

/// Why a suggestion is not what it was yesterday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeReason {
    /// The candidate was not in the previous run.
    NotInPreviousRun,
    /// The candidate's own data changed (current offer, declines and exclusions included).
    CandidateData,
    /// Yesterday's or tonight's offer changed: its data, or it is gone, or it is new tonight.
    Offer,
    /// The rows are the same, but yesterday's pair scores differently tonight (the benefit
    /// clock moved on, or the policy changed).
    Scoring,
    /// Nothing about this candidate or these offers changed: only the competition for places
    /// did (other candidates, other offers, another municipality's policy).
    Competition,
    /// The previous run has no fingerprints (written before they existed).
    Unknown,
}

impl ChangeReason {
    /// Every reason, in report order.
    pub const ALL: [ChangeReason; 6] = [
        ChangeReason::NotInPreviousRun,
        ChangeReason::CandidateData,
        ChangeReason::Offer,
        ChangeReason::Scoring,
        ChangeReason::Competition,
        ChangeReason::Unknown,
    ];

    /// The reason as written in output files.
    pub fn key(self) -> &'static str {
        match self {
            ChangeReason::NotInPreviousRun => "not_in_previous_run",
            ChangeReason::CandidateData => "candidate_data",
            ChangeReason::Offer => "offer",
            ChangeReason::Scoring => "scoring",
            ChangeReason::Competition => "competition",
            ChangeReason::Unknown => "unknown",
        }
    }
}

/// One candidate against yesterday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SincePrevious {
    /// Kept, changed, new, dropped or unmatched.
    pub status: Since,
    /// Why, for `changed`, `new` and `dropped`.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub reason: Option<ChangeReason>,
    /// The offer suggested yesterday, by id.
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>, required = true))]
    pub previous_offer: Option<OfferId>,
}

/// The fingerprints of tonight's inputs, needed both for the comparison and for tomorrow.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprints {
    /// Per candidate, data-set order.
    pub candidates: Vec<u64>,
    /// Per offer, data-set order.
    pub offers: Vec<u64>,
}

impl Fingerprints {
    /// Fingerprints of every candidate and offer of `data`.
    pub fn of(data: &Dataset) -> Fingerprints {
        Fingerprints { candidates: candidate_fingerprints(data), offers: offer_fingerprints(data) }
    }
}

/// Compares candidate `i`'s suggestion tonight (`tonight`, with the graph it was chosen from)
/// with yesterday's.
pub fn compare(
    i: usize,
    tonight: Option<u32>,
    graph: &CandidateGraph,
    yesterday: &Yesterday,
    fingerprints: &Fingerprints,
) -> SincePrevious {
    let Some(row) = yesterday.rows.get(i).and_then(Option::as_ref) else {
        let status = if tonight.is_some() { Since::New } else { Since::Unmatched };
        let reason = tonight.is_some().then_some(ChangeReason::NotInPreviousRun);
        return SincePrevious { status, reason, previous_offer: None };
    };
    let status = match (&row.offer_id, tonight) {
        (None, None) => Since::Unmatched,
        (None, Some(_)) => Since::New,
        (Some(_), None) => Since::Dropped,
        (Some(_), Some(o)) if row.offer == Some(o) => Since::Kept,
        (Some(_), Some(_)) => Since::Changed,
    };
    let reason = match status {
        Since::Kept | Since::Unmatched => None,
        _ => Some(reason(i, tonight, row, graph, yesterday, fingerprints)),
    };
    SincePrevious { status, reason, previous_offer: row.offer_id.clone() }
}

fn reason(
    i: usize,
    tonight: Option<u32>,
    row: &YesterdayRow,
    graph: &CandidateGraph,
    yesterday: &Yesterday,
    fingerprints: &Fingerprints,
) -> ChangeReason {
    let Some(before) = row.fingerprint else { return ChangeReason::Unknown };
    if fingerprints.candidates.get(i) != Some(&before) {
        return ChangeReason::CandidateData;
    }
    if row.offer_id.is_some() && row.offer.is_none() {
        return ChangeReason::Offer;
    }
    let offer_changed = |j: u32| {
        yesterday.offer_fingerprints.get(j as usize).copied().flatten()
            != fingerprints.offers.get(j as usize).copied()
    };
    if row.offer.into_iter().chain(tonight).any(offer_changed) {
        return ChangeReason::Offer;
    }
    if let Some(o) = row.offer {
        let now = graph.row(i).find(|&(j, _)| j == o).map(|(_, w)| w);
        if now != row.score {
            return ChangeReason::Scoring;
        }
    }
    ChangeReason::Competition
}

/// The report's stability section: tonight against the previous run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Stability {
    /// Always `previous_run`: the counts compare with the previous run's suggestions, not with
    /// the candidates' current offers.
    pub against: String,
    /// Candidates per status (`kept`, `changed`, `new`, `dropped`, `unmatched`).
    pub by_status: BTreeMap<String, usize>,
    /// Changed, new and dropped suggestions per reason.
    pub by_reason: BTreeMap<String, usize>,
    /// Candidates of the previous run who are not in tonight's data set.
    pub gone: usize,
    /// Candidates whose yesterday's pair carried the stability bonus.
    pub held_by_bonus: usize,
    /// The least gain per policy, `national-default` first, in points.
    pub least_gain_points: Vec<(String, i64)>,
    /// The previous run carried fingerprints; without them reasons are `unknown`.
    pub reasons_known: bool,
}

/// Counts the comparison of every candidate for the report.
pub fn summarise(
    since: &[SincePrevious],
    bonus: &[i64],
    yesterday: &Yesterday,
    policies: &PolicySet,
) -> Stability {
    let mut by_status: BTreeMap<String, usize> =
        Since::ALL.iter().map(|s| (s.key().to_string(), 0)).collect();
    let mut by_reason = BTreeMap::new();
    for s in since {
        *by_status.entry(s.status.key().to_string()).or_default() += 1;
        if let Some(r) = s.reason {
            *by_reason.entry(r.key().to_string()).or_default() += 1;
        }
    }
    Stability {
        against: "previous_run".into(),
        by_status,
        by_reason,
        gone: yesterday.gone,
        held_by_bonus: bonus.iter().filter(|&&b| b > 0).count(),
        least_gain_points: (0..policies.len())
            .map(|k| {
                let p = policies.get(k);
                (p.name.clone(), p.stability.least_gain_points)
            })
            .collect(),
        reasons_known: yesterday.has_fingerprints,
    }
}

/// The previous run as tonight's run would write it: used by the service (which keeps runs in
/// its database, not in files) and by tests.
pub fn as_previous_run(data: &Dataset, result: &super::BatchResult) -> PreviousRun {
    use crate::dataset::previous::{PreviousOffer, PreviousProposal};
    PreviousRun {
        proposals: result
            .proposals
            .iter()
            .map(|p| PreviousProposal {
                candidate: data.candidates[p.candidate as usize].id.clone(),
                offer: p.offer.map(|o| data.offers[o as usize].id.clone()),
                score: p.offer.map(|_| p.score),
                fingerprint: result.fingerprints.candidates.get(p.candidate as usize).copied(),
            })
            .collect(),
        offers: result
            .prices
            .iter()
            .map(|p| PreviousOffer {
                offer: data.offers[p.offer as usize].id.clone(),
                price: p.price,
                fingerprint: result.fingerprints.offers.get(p.offer as usize).copied(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{BatchOptions, BatchResult, run};
    use crate::model::{Date, ReferenceData};
    use crate::policy::Policy;
    use std::sync::Arc;

    fn reference() -> Arc<ReferenceData> {
        Arc::new(ReferenceData::embedded().expect("embedded reference data"))
    }

    /// The demo data set without guaranteed volumes: the bound below is about the stability
    /// bonus alone (guaranteed places are filled first, whatever the bonus).
    fn demo(reference: &ReferenceData) -> Dataset {
        let mut data = crate::r#gen::generate(crate::r#gen::Scale::Demo, 1, reference);
        for o in &mut data.offers {
            let o = std::sync::Arc::make_mut(o);
            o.guaranteed_volume = 0;
        }
        data
    }

    fn policies(least_gain: i64) -> Arc<PolicySet> {
        let mut national = Policy::national_default();
        national.stability.least_gain_points = least_gain;
        Arc::new(PolicySet { national, municipal: Vec::new() })
    }

    fn night(
        data: &Dataset,
        reference: &Arc<ReferenceData>,
        today: Date,
        least_gain: i64,
        previous: Option<&BatchResult>,
        previous_data: Option<&Dataset>,
    ) -> BatchResult {
        let previous = previous.map(|r| Arc::new(as_previous_run(previous_data.unwrap_or(data), r)));
        // The least-gain property is about scores; the buffer rule is a priority above them
        // (tested in `batch::rules`), so it is off here.
        let rules = crate::model::ContractRules { buffer_last: false, ..Default::default() };
        let options =
            BatchOptions { today: Some(today), threads: 1, previous, rules, ..BatchOptions::default() };
        let result =
            run(Arc::new(data.clone()), reference.clone(), policies(least_gain), &options).expect("night");
        assert_eq!(result.certificate.gap, Some(0));
        result
    }

    fn since(result: &BatchResult, i: usize) -> &SincePrevious {
        result.proposals[i].since_previous.as_ref().expect("compared with the previous run")
    }

    fn count(result: &BatchResult, status: Since) -> usize {
        result
            .proposals
            .iter()
            .filter(|p| p.since_previous.as_ref().is_some_and(|s| s.status == status))
            .count()
    }

    #[test]
    fn an_unchanged_night_changes_no_suggestion() {
        let reference = reference();
        let data = demo(&reference);
        let today = crate::r#gen::AS_OF;
        let first = night(&data, &reference, today, 0, None, None);
        assert!(first.proposals.iter().all(|p| p.since_previous.is_none()));
        assert!(first.stability.is_none());
        let second = night(&data, &reference, today, 1, Some(&first), None);
        for (a, b) in first.proposals.iter().zip(&second.proposals) {
            assert_eq!(a.offer, b.offer, "candidate {}", a.candidate);
            assert_eq!(a.score, b.score, "reported scores never carry the bonus");
        }
        assert_eq!(
            count(&second, Since::Changed) + count(&second, Since::New) + count(&second, Since::Dropped),
            0
        );
        let st = second.stability.expect("stability against the previous run");
        assert_eq!(st.against, "previous_run");
        assert_eq!(st.by_status["kept"], first.solution.matched());
        assert!(st.by_reason.is_empty());
        assert!(st.held_by_bonus > 0);
    }

    /// Same rows, eight weeks later: benefit clocks moved, so pair scores moved and some
    /// suggestions are worth changing. Whatever the least gain `b`, the night's assignment `Y`
    /// against yesterday's pairs still feasible tonight `X'` satisfies
    /// `w(Y) − w(X') ≥ b · |X' \ Y|` (scores without the bonus): a suggestion moves only when
    /// the night gains at least `b` points per moved suggestion. A larger `b` never moves more.
    #[test]
    fn a_suggestion_moves_only_when_the_gain_passes_the_threshold() {
        let reference = reference();
        let data = demo(&reference);
        let today = crate::r#gen::AS_OF;
        let first = night(&data, &reference, today, 0, None, None);
        let later = today.plus_days(56);
        let mut moved_before = usize::MAX;
        let mut moved_at_zero = 0;
        for least_gain in [0, 100, 1_000, 10_000, crate::policy::MAX_LEAST_GAIN] {
            let second = night(&data, &reference, later, least_gain, Some(&first), None);
            let weight = |i: usize, o: u32| second.graph.row(i).find(|&(j, _)| j == o).map(|(_, w)| w);
            let (mut w_tonight, mut w_yesterday, mut moved) = (0i64, 0i64, 0i64);
            for (i, (y, p)) in first.proposals.iter().zip(&second.proposals).enumerate() {
                w_tonight += p.offer.and_then(|o| weight(i, o)).unwrap_or(0);
                // Yesterday's pair, if it is still feasible tonight (X').
                if let Some(w) = y.offer.and_then(|o| weight(i, o)) {
                    w_yesterday += w;
                    moved += i64::from(p.offer != y.offer);
                }
                let s = since(&second, i);
                if let Some(reason) = s.reason {
                    assert!(
                        matches!(reason, ChangeReason::Scoring | ChangeReason::Competition),
                        "candidate {i}: rows are unchanged, yet the reason is {reason:?}"
                    );
                }
            }
            assert!(
                w_tonight - w_yesterday >= least_gain * moved,
                "least gain {least_gain}: {moved} moved for a gain of {}",
                w_tonight - w_yesterday
            );
            let changed = count(&second, Since::Changed) + count(&second, Since::Dropped);
            assert!(changed <= moved_before, "least gain {least_gain}: {changed} changed, more than before");
            if least_gain == 0 {
                moved_at_zero = changed;
            }
            if least_gain == crate::policy::MAX_LEAST_GAIN {
                assert_eq!(
                    moved, 0,
                    "no feasible suggestion of yesterday moves under the largest least gain"
                );
            }
            moved_before = changed;
        }
        assert!(
            moved_at_zero > 0,
            "the clock moving should change some suggestions, or this test proves nothing"
        );
    }

    #[test]
    fn reasons_name_what_changed() {
        let reference = reference();
        let data = demo(&reference);
        let today = crate::r#gen::AS_OF;
        let first = night(&data, &reference, today, 0, None, None);
        let matched: Vec<usize> = first
            .proposals
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                p.offer.is_some() && !data.candidates[*i].current.as_ref().is_some_and(|a| a.locked)
            })
            .map(|(i, _)| i)
            .collect();
        let mut next = data.clone();
        // Candidate a: an exclusion of its own suggestion (its data changed).
        let a = matched[0];
        let a_offer = first.proposals[a].offer.expect("matched");
        next.candidates[a].excluded_offers.push(data.offers[a_offer as usize].id.clone());
        // Candidate b: its suggested offer closes (the offer changed).
        let b = *matched
            .iter()
            .find(|&&i| {
                let o = first.proposals[i].offer;
                o != Some(a_offer)
                    && !next.candidates.iter().any(|c| {
                        c.current.as_ref().is_some_and(|x| {
                            x.locked
                                && Some(x.offer.as_str()) == o.map(|o| data.offers[o as usize].id.as_str())
                        })
                    })
            })
            .expect("another matched candidate");
        let b_offer = first.proposals[b].offer.expect("matched") as usize;
        std::sync::Arc::make_mut(&mut next.offers[b_offer]).capacity = 0;
        // Candidate c: only a protected attribute changes; that cannot move a suggestion.
        let c = *matched.iter().find(|&&i| i != a && i != b).expect("a third");
        next.candidates[c].audit.gender = Some(crate::model::Gender::Other);
        let second = night(&next, &reference, today, 0, Some(&first), Some(&data));
        assert_ne!(since(&second, a).status, Since::Kept);
        assert_eq!(since(&second, a).reason, Some(ChangeReason::CandidateData));
        assert_ne!(since(&second, b).status, Since::Kept);
        assert_eq!(since(&second, b).reason, Some(ChangeReason::Offer));
        assert_ne!(since(&second, c).reason, Some(ChangeReason::CandidateData));
        for i in 0..next.candidates.len() {
            let s = since(&second, i);
            let offers_same = |o: Option<u32>| o.is_none_or(|o| o as usize != b_offer);
            if i != a
                && s.reason.is_some()
                && offers_same(second.proposals[i].offer)
                && offers_same(first.proposals[i].offer)
            {
                assert_eq!(s.reason, Some(ChangeReason::Competition), "candidate {i}: {s:?}");
            }
        }
        let st = second.stability.expect("stability");
        assert!(st.by_reason.get("competition").copied().unwrap_or(0) > 0, "{st:?}");
        assert!(st.reasons_known);
    }

    #[test]
    fn yesterdays_pair_outside_the_top_k_is_kept_in_the_graph() {
        let reference = reference();
        let data = demo(&reference);
        let today = crate::r#gen::AS_OF;
        let mut narrow = Policy::national_default();
        narrow.top_k = 2;
        let policies = Arc::new(PolicySet { national: narrow, municipal: Vec::new() });
        let scorer = crate::score::Scorer::new(Arc::new(data.clone()), reference.clone(), policies, today)
            .expect("scorer");
        let graph = crate::graph::build(&scorer).expect("graph");
        // Yesterday suggested, to every unlocked candidate, its worst feasible offer outside
        // tonight's row (if any): the row must hold it too, in its place, and nothing else
        // may change.
        let mut yesterday = vec![None; data.candidates.len()];
        for (i, y) in yesterday.iter_mut().enumerate() {
            let view = scorer.candidate(i).expect("view");
            if view.locked {
                continue;
            }
            *y = (0..data.offers.len() as u32)
                .filter(|&o| graph.row(i).all(|(j, _)| j != o))
                .filter_map(|o| scorer.score(&view, o as usize).ok().map(|w| (w, o)))
                .min()
                .map(|(_, o)| o);
        }
        let kept = crate::graph::build_keeping(&scorer, &|i| yesterday[i], None).expect("graph");
        let mut added = 0;
        for (i, y) in yesterday.iter().enumerate() {
            let mut expected: Vec<(u32, i64)> = graph.row(i).collect();
            if let Some(o) = *y {
                let view = scorer.candidate(i).expect("view");
                expected.push((o, scorer.score(&view, o as usize).expect("feasible")));
                expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                added += 1;
            }
            assert_eq!(kept.row(i).collect::<Vec<_>>(), expected, "row {i}");
        }
        assert!(added > 100, "only {added} candidates had a pair outside their row");
        assert_eq!(kept.n_edges(), graph.n_edges() + added);
    }
}
