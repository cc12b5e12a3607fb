//! Scenarios for a procurement analysis: the same night on another offer set, the two nights
//! side by side, and what one more place at an offer is worth in kroner.
//!
//! Owns [`Scenario`] (what a procurement officer changes: providers, offers and contracts added
//! or replaced by id, offers closed to new candidates, contracts removed, places added),
//! [`apply`] (the data set with a scenario applied), [`compare`] (two nights' reports side by
//! side: expected effect, spend, match rate per target group and per municipality, and the
//! suggestions that change) and [`place_values`] (the dual price of a place next to an actual
//! re-solve with one more place, in points and kroner).
//!
//! Must not read files (a scenario directory is read by [`crate::dataset::scenario`], which
//! names file, line and column of a bad row), must not score or solve on its own (`batch::run`
//! runs both nights), and renders nothing (the binary writes the files and the page).

use super::report::Report;
use super::{BatchResult, Change};
use crate::assign::{Problem, Solution};
use crate::error::{Error, InputProblem, Result};
use crate::model::limits;
use crate::model::{Contract, ContractId, Dataset, Offer, OfferId, Provider, ReferenceData};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Places added to one offer (`--add-places OFFER=N`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddPlaces {
    /// The offer.
    pub offer: OfferId,
    /// Places added (at least 1).
    pub places: u32,
    /// Where it was asked for (the flag as given, or `FILE:LINE`), for error messages.
    pub source: String,
}

/// What a scenario changes in a data set. Rows are whole rows in the data set's own columns;
/// one with an id the data set has replaces that row, one with a new id is added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scenario {
    /// A short name for the report (the scenario directory's name, or the flags).
    pub name: String,
    /// Providers added or replaced by id.
    pub providers: Vec<Provider>,
    /// Offers added or replaced by id (a replaced offer keeps its recorded evidence).
    pub offers: Vec<Offer>,
    /// Contracts added or replaced by id.
    pub contracts: Vec<Contract>,
    /// Offers closed to new candidates: their places shrink to the running (locked) courses,
    /// which go on (no course under way is pulled home), and any guaranteed volume lapses.
    pub close_offers: Vec<OfferId>,
    /// Contracts removed (their offers keep their own columns, as without a contract).
    pub remove_contracts: Vec<ContractId>,
    /// Places added to existing or scenario offers.
    pub add_places: Vec<AddPlaces>,
}

/// How many rows a scenario changed, for the report's first lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioChanges {
    /// Providers added.
    pub providers_added: usize,
    /// Providers replaced.
    pub providers_replaced: usize,
    /// Offers added.
    pub offers_added: usize,
    /// Offers replaced.
    pub offers_replaced: usize,
    /// Offers closed to new candidates.
    pub offers_closed: usize,
    /// Contracts added.
    pub contracts_added: usize,
    /// Contracts replaced.
    pub contracts_replaced: usize,
    /// Contracts removed.
    pub contracts_removed: usize,
    /// Places added by `add_places`.
    pub places_added: u64,
    /// Places of the offer set before / after (every offer).
    pub places_before: u64,
    /// See `places_before`.
    pub places_after: u64,
}

/// Replaces the row with the same key or appends it; true when it replaced one.
fn upsert<T>(rows: &mut Vec<T>, row: T, key: impl Fn(&T) -> &str) -> bool {
    match rows.iter().position(|r| key(r) == key(&row)) {
        Some(i) => {
            rows[i] = row;
            true
        }
        None => {
            rows.push(row);
            false
        }
    }
}

/// A closed offer's guarantee lapses: each contract with a guaranteed volume that covers a
/// closed offer gives up that offer's share and lets it go. The night shares a contract's
/// volume out over its offers by places ([`Contract::guarantee_shares`]), so a closed offer
/// left in it would hand its share to the contract's other offers, up to more guaranteed
/// places than they have (closing course-00008 of the demo guaranteed course-00002 65 of its 49
/// places). The offer keeps the kind and price the contract gave it, for its running courses.
/// Call before the closed offers' places shrink: the shares are those of the offer set as the
/// scenario leaves it.
fn lapse_guarantees(data: &mut Dataset, position: &HashMap<String, usize>, closing: &[bool]) {
    let Dataset { contracts, offers, .. } = data;
    for c in contracts.iter_mut().filter(|c| c.guaranteed_volume > 0) {
        let covered: Vec<usize> =
            c.offers.iter().filter_map(|id| position.get(id.as_str()).copied()).collect();
        if !covered.iter().any(|&j| closing[j]) {
            continue;
        }
        let capacities: Vec<u32> = covered.iter().map(|&j| offers[j].capacity).collect();
        for (&j, share) in covered.iter().zip(c.guarantee_shares(&capacities)) {
            if closing[j] {
                c.guaranteed_volume -= share.min(c.guaranteed_volume);
                let o = Arc::make_mut(&mut offers[j]);
                o.contract = Some(c.kind);
                if c.price_dkk > 0 {
                    o.price_dkk = c.price_dkk;
                }
            }
        }
        c.offers.retain(|id| position.get(id.as_str()).is_none_or(|&j| !closing[j]));
    }
}

/// The data set with `scenario` applied. Offers keep their positions (added ones come last),
/// so that the two nights' offer indices agree for every offer the base has.
///
/// Rows read from a scenario directory were checked there (references, overlapping contracts,
/// locked courses over places); what is checked here is what flags can get wrong.
///
/// # Errors
/// [`Error::Input`] naming the flag or row when `add_places` or `close_offers` names an offer
/// that neither the data set nor the scenario has, `remove_contracts` a contract that does not
/// exist, or places would exceed the limit of an offer.
///
/// # Complexity
/// `O(rows of the data set + rows of the scenario × rows of its table)`.
pub fn apply(base: &Dataset, scenario: &Scenario) -> Result<(Dataset, ScenarioChanges)> {
    let mut data = base.clone();
    let mut changes = ScenarioChanges {
        places_before: base.offers.iter().map(|o| u64::from(o.capacity)).sum(),
        ..ScenarioChanges::default()
    };
    for p in &scenario.providers {
        let replaced = upsert(&mut data.providers, p.clone(), |p| p.id.as_str());
        *if replaced { &mut changes.providers_replaced } else { &mut changes.providers_added } += 1;
    }
    for o in &scenario.offers {
        let mut o = o.clone();
        if o.evidence.is_empty()
            && let Some(before) = base.offers.iter().find(|b| b.id == o.id)
        {
            o.evidence = before.evidence.clone();
        }
        let replaced = upsert(&mut data.offers, Arc::new(o), |o| o.id.as_str());
        *if replaced { &mut changes.offers_replaced } else { &mut changes.offers_added } += 1;
    }
    for c in &scenario.contracts {
        let replaced = upsert(&mut data.contracts, c.clone(), |c| c.id.as_str());
        *if replaced { &mut changes.contracts_replaced } else { &mut changes.contracts_added } += 1;
    }
    let position: HashMap<String, usize> =
        data.offers.iter().enumerate().map(|(j, o)| (o.id.to_string(), j)).collect();
    let unknown_offer = |source: &str, id: &OfferId| {
        Error::Input(InputProblem::new(
            source,
            0,
            "offer",
            id.as_str(),
            "no offer with this id in the data set or the scenario",
        ))
    };
    if !scenario.close_offers.is_empty() {
        let mut locked = vec![0u32; data.offers.len()];
        for c in &data.candidates {
            if let Some(a) = c.current.as_ref().filter(|a| a.locked)
                && let Some(&j) = position.get(a.offer.as_str())
            {
                locked[j] += 1;
            }
        }
        let mut closing = vec![false; data.offers.len()];
        for id in &scenario.close_offers {
            let &j = position.get(id.as_str()).ok_or_else(|| unknown_offer("remove", id))?;
            closing[j] = true;
        }
        lapse_guarantees(&mut data, &position, &closing);
        for id in &scenario.close_offers {
            let &j = position.get(id.as_str()).ok_or_else(|| unknown_offer("remove", id))?;
            let o = Arc::make_mut(&mut data.offers[j]);
            o.capacity = locked[j].min(o.capacity);
            o.guaranteed_volume = 0;
            changes.offers_closed += 1;
        }
    }
    for id in &scenario.remove_contracts {
        let before = data.contracts.len();
        data.contracts.retain(|c| c.id != *id);
        if data.contracts.len() == before {
            return Err(Error::Input(InputProblem::new(
                "remove",
                0,
                "id",
                id.as_str(),
                "no contract with this id in the data set or the scenario",
            )));
        }
        changes.contracts_removed += 1;
    }
    for add in &scenario.add_places {
        let &j = position.get(add.offer.as_str()).ok_or_else(|| unknown_offer(&add.source, &add.offer))?;
        let o = Arc::make_mut(&mut data.offers[j]);
        let places =
            o.capacity.checked_add(add.places).filter(|&p| p <= limits::MAX_CAPACITY).ok_or_else(|| {
                Error::Input(InputProblem::new(
                    add.source.as_str(),
                    0,
                    "places",
                    add.places.to_string(),
                    format!(
                        "{} has {} places; more than {} in all is refused",
                        o.id,
                        o.capacity,
                        limits::MAX_CAPACITY
                    ),
                ))
            })?;
        o.capacity = places;
        changes.places_added += u64::from(add.places);
    }
    changes.places_after = data.offers.iter().map(|o| u64::from(o.capacity)).sum();
    Ok((data, changes))
}

/// What one more place at an offer is worth tonight: its dual price (points) beside the night
/// actually re-solved with one more place there, in points and in kroner of expected effect.
///
/// The dual price is what the optimum of the night's problem rises by with one more place:
/// the solver reports the least optimal duals (`assign::prices`), and by linear-programming
/// sensitivity with integer data that is the rise itself, not only a bound. The re-solve says
/// which candidates move: one takes the new place, another takes the place that one left, and
/// so on along a chain that ends with a candidate newly matched or a weaker pair given up. The
/// kroner are the expected effect of those moves. Points weigh more than kroner (closeness,
/// wishes, waiting time, continuity), so a place worth many points can be worth few kroner,
/// and the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlaceValue {
    /// Offer index.
    pub offer: u32,
    /// The offer's dual price: what one more place adds to the night's optimum, points.
    pub dual_points: i64,
    /// The re-solve's optimum minus tonight's, points (equal to `dual_points`; kept as the
    /// re-solve's own check).
    pub gain_points: i64,
    /// The expected net effect the moves add, DKK per night.
    pub gain_dkk: f64,
    /// Candidates whose suggestion changes with the extra place.
    pub moved: usize,
    /// Candidates matched with the extra place who had no suggestion without it.
    pub newly_matched: usize,
}

/// The offers with the highest dual price (`top` of them, ties by index), each re-solved with
/// one more place: see [`PlaceValue`]. `problem` is the night's problem (its capacities are put
/// back), `solution` its optimum, `effect_at(i, offer)` the expected net effect of candidate `i`
/// at `offer` (0 for none), `solve` the night's exact solve (warm-started from `solution`).
///
/// # Errors
/// Whatever `solve` returns.
///
/// # Complexity
/// `top` solves; each warm start from tonight's duals repairs only the chain the new place
/// opens, far less than a cold solve.
pub fn place_values(
    problem: &mut Problem,
    solution: &Solution,
    top: usize,
    effect_at: &(impl Fn(usize, Option<u32>) -> f64 + Sync),
    mut solve: impl FnMut(&Problem) -> Result<Solution>,
) -> Result<Vec<PlaceValue>> {
    let mut offers: Vec<u32> = (0..problem.n_offers() as u32)
        .filter(|&j| solution.offer_prices.get(j as usize).copied().unwrap_or(0) > 0)
        .collect();
    offers.sort_by_key(|&j| (std::cmp::Reverse(solution.offer_prices[j as usize]), j));
    offers.truncate(top);
    let mut out = Vec::with_capacity(offers.len());
    for j in offers {
        let before = problem.capacity[j as usize];
        problem.capacity[j as usize] = before.saturating_add(1);
        let again = solve(problem);
        problem.capacity[j as usize] = before;
        let again = again?;
        let (mut gain_dkk, mut moved, mut newly_matched) = (0.0, 0, 0);
        for (i, (a, b)) in solution.assignment.iter().zip(&again.assignment).enumerate() {
            if a != b {
                moved += 1;
                newly_matched += usize::from(a.is_none());
                gain_dkk += effect_at(i, *b) - effect_at(i, *a);
            }
        }
        out.push(PlaceValue {
            offer: j,
            dual_points: solution.offer_prices[j as usize],
            gain_points: again.objective - solution.objective,
            gain_dkk,
            moved,
            newly_matched,
        });
    }
    Ok(out)
}

/// A night's headline figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Candidates.
    pub candidates: usize,
    /// Candidates with a suggestion (running courses included).
    pub matched: usize,
    /// `matched / candidates`.
    pub match_rate: f64,
    /// Expected net effect of the night's new suggestions, DKK.
    pub effect_dkk: f64,
    /// Course prices of the night's new suggestions, DKK.
    pub spend_dkk: u64,
    /// Providers with spend tonight.
    pub providers_with_spend: usize,
    /// Places of the offer set.
    pub places: u64,
    /// Guaranteed places no assignment could fill.
    pub guaranteed_short: u64,
}

impl Figures {
    fn of(report: &Report) -> Figures {
        Figures {
            candidates: report.candidates,
            matched: report.matched,
            match_rate: if report.candidates == 0 {
                0.0
            } else {
                report.matched as f64 / report.candidates as f64
            },
            effect_dkk: report.effect_dkk,
            spend_dkk: report.spend_dkk,
            providers_with_spend: report.providers_with_spend,
            places: report.capacity.places,
            guaranteed_short: report.contracts.guaranteed_short,
        }
    }
}

/// One target group or municipality in both nights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SliceDelta {
    /// Group code or municipality code.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Candidates (the same in both nights).
    pub candidates: usize,
    /// Matched today / in the scenario.
    pub matched: usize,
    /// See `matched`.
    pub matched_scenario: usize,
    /// Match rate today / in the scenario.
    pub match_rate: f64,
    /// See `match_rate`.
    pub match_rate_scenario: f64,
    /// Expected net effect today / in the scenario, DKK.
    pub effect_dkk: f64,
    /// See `effect_dkk`.
    pub effect_scenario_dkk: f64,
    /// Spend today / in the scenario, DKK (municipalities only; 0 for groups).
    pub spend_dkk: u64,
    /// See `spend_dkk`.
    pub spend_scenario_dkk: u64,
    /// Candidates whose suggestion differs between the nights.
    pub changed: usize,
}

impl SliceDelta {
    /// `effect_scenario_dkk − effect_dkk`.
    pub fn effect_delta_dkk(&self) -> f64 {
        self.effect_scenario_dkk - self.effect_dkk
    }
}

/// The suggestions that differ between the two nights (candidates in running courses never do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioChurn {
    /// Same suggestion (or none in both).
    pub same: usize,
    /// Another offer in the scenario.
    pub moved: usize,
    /// A suggestion in the scenario, none today.
    pub gained: usize,
    /// A suggestion today, none in the scenario.
    pub lost: usize,
}

impl ScenarioChurn {
    /// Suggestions that change: `moved + gained + lost`.
    pub fn changed(&self) -> usize {
        self.moved + self.gained + self.lost
    }
}

/// A [`PlaceValue`] with the offer's names, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceValueLine {
    /// Offer id.
    pub offer: String,
    /// Offer name.
    pub name: String,
    /// Provider id.
    pub provider: String,
    /// Municipality code of the offer.
    pub municipality: String,
    /// Places and places given tonight.
    pub capacity: u32,
    /// See `capacity`.
    pub assigned: u32,
    /// The value (`value.offer` is the offer's index in its night's data set).
    pub value: PlaceValue,
}

/// The two nights side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The day of both nights.
    pub date: String,
    /// The scenario's name.
    pub scenario: String,
    /// What the scenario changed.
    pub changes: ScenarioChanges,
    /// Today's offer set.
    pub today: Figures,
    /// The scenario's.
    pub scenario_figures: Figures,
    /// Per target group (a candidate in several groups counts in each).
    pub by_group: Vec<SliceDelta>,
    /// Per municipality of the candidates (spend: of the courses its candidates are suggested).
    pub by_municipality: Vec<SliceDelta>,
    /// Suggestions that change.
    pub churn: ScenarioChurn,
    /// One more place, today's offer set (highest dual first).
    pub place_values: Vec<PlaceValueLine>,
    /// One more place, the scenario's offer set.
    pub place_values_scenario: Vec<PlaceValueLine>,
}

/// Spend per municipality code, DKK.
type SpendByKey = HashMap<String, u64>;

/// One night as [`compare`] reads it.
pub struct Night<'a> {
    /// The night's data set (with the scenario applied, for the scenario's night).
    pub data: &'a Dataset,
    /// Its run.
    pub result: &'a BatchResult,
    /// Its report (`report::build`).
    pub report: &'a Report,
}

/// The suggested offer's id of every candidate.
fn suggested<'a>(night: &Night<'a>) -> Vec<Option<&'a str>> {
    night
        .result
        .proposals
        .iter()
        .map(|p| p.offer.map(|o| night.data.offers[o as usize].id.as_str()))
        .collect()
}

/// Place values with the offers' names.
pub fn place_value_lines(data: &Dataset, result: &BatchResult) -> Vec<PlaceValueLine> {
    result
        .place_values
        .iter()
        .map(|v| {
            let o = &data.offers[v.offer as usize];
            let price = result.prices.get(v.offer as usize);
            PlaceValueLine {
                offer: o.id.to_string(),
                name: o.name.clone(),
                provider: o.provider.to_string(),
                municipality: o.municipality.to_string(),
                capacity: price.map_or(o.capacity, |p| p.capacity),
                assigned: price.map_or(0, |p| p.assigned),
                value: *v,
            }
        })
        .collect()
}

/// The two nights side by side. Both must be runs of the same candidates (a scenario changes
/// offers, providers and contracts only), so candidates are compared by position.
///
/// # Errors
/// [`Error::Problem`] when the two nights have different candidates.
pub fn compare(
    name: &str,
    reference: &ReferenceData,
    today: &Night<'_>,
    scenario: &Night<'_>,
    changes: ScenarioChanges,
) -> Result<Comparison> {
    let same_candidates = today.data.candidates.len() == scenario.data.candidates.len()
        && today.data.candidates.iter().zip(&scenario.data.candidates).all(|(a, b)| a.id == b.id);
    if !same_candidates {
        return Err(Error::Problem("the scenario's night has other candidates than today's".into()));
    }
    let (a, b) = (suggested(today), suggested(scenario));
    let mut churn = ScenarioChurn::default();
    let mut changed_in: HashMap<String, usize> = HashMap::new();
    let mut changed_group: HashMap<u8, usize> = HashMap::new();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        match (x, y) {
            _ if x == y => {
                churn.same += 1;
                continue;
            }
            (Some(_), Some(_)) => churn.moved += 1,
            (None, _) => churn.gained += 1,
            (_, None) => churn.lost += 1,
        }
        let c = &today.data.candidates[i];
        *changed_in.entry(c.municipality.to_string()).or_default() += 1;
        for g in c.target_groups.iter() {
            *changed_group.entry(g.0).or_default() += 1;
        }
    }
    debug_assert!(today.result.proposals.iter().zip(&scenario.result.proposals).all(|(p, q)| {
        p.change != Change::Locked || q.change != Change::Locked || p.offer.is_some() == q.offer.is_some()
    }));
    let spend = |r: &Report| -> HashMap<String, u64> {
        r.contracts.spend_by_municipality.iter().map(|m| (m.municipality.clone(), m.spend_dkk)).collect()
    };
    let slices = |x: &[super::report::Slice],
                  y: &[super::report::Slice],
                  spends: Option<(&SpendByKey, &SpendByKey)>,
                  changed: &dyn Fn(&str) -> usize| {
        let mut rows: BTreeMap<String, SliceDelta> = BTreeMap::new();
        for s in x {
            let row = rows.entry(s.key.clone()).or_default();
            (row.key, row.name, row.candidates) = (s.key.clone(), s.name.clone(), s.candidates);
            (row.matched, row.match_rate, row.effect_dkk) = (s.matched, s.match_rate, s.effect_dkk);
        }
        for s in y {
            let row = rows.entry(s.key.clone()).or_default();
            (row.key, row.name, row.candidates) = (s.key.clone(), s.name.clone(), s.candidates);
            (row.matched_scenario, row.match_rate_scenario, row.effect_scenario_dkk) =
                (s.matched, s.match_rate, s.effect_dkk);
        }
        for row in rows.values_mut() {
            if let Some((sx, sy)) = spends {
                row.spend_dkk = sx.get(&row.key).copied().unwrap_or(0);
                row.spend_scenario_dkk = sy.get(&row.key).copied().unwrap_or(0);
            }
            row.changed = changed(&row.key);
        }
        rows.into_values().collect::<Vec<_>>()
    };
    let (sx, sy) = (spend(today.report), spend(scenario.report));
    let by_municipality =
        slices(&today.report.by_municipality, &scenario.report.by_municipality, Some((&sx, &sy)), &|key| {
            changed_in.get(key).copied().unwrap_or(0)
        });
    let by_group = slices(&today.report.by_group, &scenario.report.by_group, None, &|key| {
        reference.group(key).and_then(|g| changed_group.get(&g.0)).copied().unwrap_or(0)
    });
    Ok(Comparison {
        date: today.report.date.clone(),
        scenario: name.to_string(),
        changes,
        today: Figures::of(today.report),
        scenario_figures: Figures::of(scenario.report),
        by_group,
        by_municipality,
        churn,
        place_values: place_value_lines(today.data, today.result),
        place_values_scenario: place_value_lines(scenario.data, scenario.result),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::{Mode, SolveOptions, solve};
    use crate::batch::{BatchOptions, report, run};
    use crate::model::{ContractKind, OfferKind};
    use crate::policy::PolicySet;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn exact() -> SolveOptions {
        SolveOptions { mode: Mode::Exact, threads: 1, ..SolveOptions::default() }
    }

    /// Two candidates, one offer with one place: 100 and 60 points, 1,000 and 500 kr. One more
    /// place adds the second candidate: 60 points and 500 kr., exactly the dual price (the
    /// least one; any price from 60 to 100 proves tonight's optimum).
    #[test]
    fn one_more_place_is_priced_by_the_candidate_who_takes_it() {
        let mut problem = Problem::new(2, vec![1], vec![0, 1, 2], vec![0, 0], vec![100, 60]).unwrap();
        let solution = solve(&problem, &exact()).unwrap();
        assert_eq!(solution.assignment, vec![Some(0), None]);
        let effect = |i: usize, o: Option<u32>| if o.is_some() { [1000.0, 500.0][i] } else { 0.0 };
        let values = place_values(&mut problem, &solution, 5, &effect, |p| solve(p, &exact())).unwrap();
        assert_eq!(values.len(), 1);
        let v = values[0];
        assert_eq!((v.offer, v.gain_points, v.moved, v.newly_matched), (0, 60, 1, 1));
        assert_eq!(v.gain_dkk, 500.0);
        assert_eq!(v.dual_points, 60);
        assert_eq!(problem.capacity, vec![1], "the capacity is put back");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// On random small nights: the warm re-solve with one more place gives the optimum a
        /// cold solve of the larger problem gives, exactly the offer's dual price; offers with
        /// a zero price (one more place adds nothing) are not priced.
        #[test]
        fn one_more_place_gains_exactly_its_dual_price(
            n in 1usize..9,
            caps in proptest::collection::vec(0u32..3, 1..5),
            rows in proptest::collection::vec(proptest::collection::vec((0usize..5, -20i64..400), 0..4), 9),
        ) {
            let m = caps.len();
            let (mut offsets, mut targets, mut weights) = (vec![0], Vec::new(), Vec::new());
            for row in rows.iter().take(n) {
                let mut seen = std::collections::BTreeMap::new();
                for &(j, w) in row { if j < m { seen.insert(j as u32, w); } }
                for (j, w) in seen { targets.push(j); weights.push(w); }
                offsets.push(targets.len());
            }
            let mut problem = Problem::new(n, caps.clone(), offsets, targets, weights).unwrap();
            let solution = solve(&problem, &exact()).unwrap();
            let warm = SolveOptions {
                warm_start: Some(solution.offer_prices.clone()),
                warm_assignment: Some(solution.assignment.clone()),
                ..exact()
            };
            let values = place_values(&mut problem, &solution, m, &|_, _| 0.0, |p| solve(p, &warm)).unwrap();
            prop_assert_eq!(&problem.capacity, &caps);
            for v in &values {
                prop_assert!(v.dual_points > 0);
                prop_assert!(v.gain_points >= 0, "{:?}", v);
                // The reported dual is the least one: exactly the rise, not just a bound.
                prop_assert_eq!(v.gain_points, v.dual_points, "{:?}", v);
                let mut bigger = problem.clone();
                bigger.capacity[v.offer as usize] += 1;
                let cold = solve(&bigger, &exact()).unwrap();
                prop_assert_eq!(cold.objective - solution.objective, v.gain_points);
            }
            let priced = solution.offer_prices.iter().filter(|&&p| p > 0).count();
            prop_assert_eq!(values.len(), priced);
        }
    }

    fn demo() -> (Arc<ReferenceData>, Arc<Dataset>) {
        let reference = Arc::new(ReferenceData::embedded().unwrap());
        let data = Arc::new(crate::r#gen::generate(crate::r#gen::Scale::Demo, 1, &reference));
        (reference, data)
    }

    fn options(place_values: usize) -> BatchOptions {
        BatchOptions { today: Some(crate::r#gen::AS_OF), threads: 1, place_values, ..BatchOptions::default() }
    }

    /// The scenario "one more place at `offer`" applied to `data`: the larger data set.
    fn with_one_more_place(data: &Dataset, offer: &OfferId) -> Dataset {
        let scenario = Scenario {
            name: "one more place".into(),
            add_places: vec![AddPlaces { offer: offer.clone(), places: 1, source: "test".into() }],
            ..Scenario::default()
        };
        apply(data, &scenario).unwrap().0
    }

    /// The demo night: the place value of its top offer is what a whole night re-run with one
    /// more place there gains (points; kroner can differ between optima that tie in points),
    /// and the comparison of the two nights adds up.
    #[test]
    fn the_demo_nights_place_value_is_the_night_re_run_with_one_more_place() {
        let (reference, data) = demo();
        let policies = Arc::new(PolicySet::default());
        let today = run(data.clone(), reference.clone(), policies.clone(), &options(2)).unwrap();
        assert_eq!(today.place_values.len(), 2);
        let top = today.place_values[0];
        assert!(top.dual_points >= today.place_values[1].dual_points);
        let offer = data.offers[top.offer as usize].id.clone();
        let scenario = Scenario {
            name: "one more place".into(),
            add_places: vec![AddPlaces { offer: offer.clone(), places: 1, source: "test".into() }],
            ..Scenario::default()
        };
        let (bigger, changes) = apply(&data, &scenario).unwrap();
        assert_eq!(changes.places_added, 1);
        assert_eq!(changes.places_after, changes.places_before + 1);
        let bigger = Arc::new(bigger);
        let other = run(bigger.clone(), reference.clone(), policies, &options(0)).unwrap();
        assert_eq!(other.certificate.gap, Some(0));
        assert_eq!(other.solution.objective - today.solution.objective, top.gain_points);
        assert_eq!(top.gain_points, top.dual_points);

        let (r1, r2) = (report::build(&data, &reference, &today), report::build(&bigger, &reference, &other));
        let c = compare(
            &scenario.name,
            &reference,
            &Night { data: &data, result: &today, report: &r1 },
            &Night { data: &bigger, result: &other, report: &r2 },
            changes,
        )
        .unwrap();
        assert_eq!(c.today.effect_dkk, r1.effect_dkk);
        assert_eq!(c.scenario_figures.matched, other.solution.matched());
        let by_municipality: f64 = c.by_municipality.iter().map(SliceDelta::effect_delta_dkk).sum();
        assert!((by_municipality - (c.scenario_figures.effect_dkk - c.today.effect_dkk)).abs() < 1e-3);
        assert_eq!(c.by_municipality.iter().map(|m| m.changed).sum::<usize>(), c.churn.changed());
        assert_eq!(c.churn.changed() + c.churn.same, data.candidates.len());
        assert_eq!(c.place_values.len(), 2);
        assert_eq!(c.place_values[0].offer, offer.as_str());
    }

    /// An offer under a strategic-partner contract with two offers whose guarantee binds: one
    /// more place there also moves a guaranteed place to it from the other offer (the
    /// guarantee is shared by places, `Contract::guarantee_shares`), so the night re-run with
    /// `--add-places` rises by what that frees (seen: 620 points, a candidate held at
    /// course-00002 for its guarantee moves to course-00008, 4,941 → 5,561 points). The dual
    /// price is the rise with tonight's guaranteed places held (0 here: course-00008 has free
    /// places), and `prices.csv` says so for both offers (`batch::shares`: the exact rise
    /// would need a re-solve of the night per such offer).
    #[test]
    fn one_more_place_under_a_shared_guarantee_is_priced_with_tonights_shares_and_says_so() {
        let (reference, data) = demo();
        let mut data = (*data).clone();
        let ids = ["course-00002", "course-00008"];
        for o in data.offers.iter_mut().filter(|o| ids.contains(&o.id.as_str())) {
            let o = std::sync::Arc::make_mut(o);
            (o.capacity, o.guaranteed_volume) = (300, 0);
        }
        let k = data.contracts.iter().position(|c| c.id.as_str() == "k-0851-lev-0005").unwrap();
        let c = &mut data.contracts[k];
        assert_eq!(c.offers.iter().map(|o| o.as_str()).collect::<Vec<_>>(), ids);
        (c.places, c.guaranteed_volume) = (600, 501);
        let data = Arc::new(data);
        let policies = Arc::new(PolicySet::default());
        let today = run(data.clone(), reference.clone(), policies.clone(), &options(0)).unwrap();
        let j = data.offers.iter().position(|o| o.id.as_str() == "course-00008").unwrap();
        let price = today.prices[j];
        assert_eq!((price.capacity, price.assigned), (300, 250), "the guarantee binds");
        // One more place at course-00002 leaves the shares as they are (251 and 250).
        let holding: Vec<&str> = today
            .prices
            .iter()
            .filter(|p| p.holds_guarantee_shares)
            .map(|p| data.offers[p.offer as usize].id.as_str())
            .collect();
        assert_eq!(holding, ["course-00008"], "prices.csv says which prices hold tonight's shares");

        // The night re-run with one more place, the guarantee shared again: more than the price.
        let bigger = with_one_more_place(&data, &data.offers[j].id);
        let other = run(Arc::new(bigger), reference.clone(), policies.clone(), &options(0)).unwrap();
        let rise = other.solution.objective - today.solution.objective;
        assert!(rise > price.price, "re-shared: {rise} against the price {}", price.price);

        // With tonight's shares held (the contract's offers guaranteeing their own columns'
        // places, as tonight): the same night, and one more place adds exactly the price.
        let mut held = (*data).clone();
        held.contracts.remove(k);
        for (o, night) in
            held.offers.iter_mut().zip(&today.night.offers).filter(|(o, _)| ids.contains(&o.id.as_str()))
        {
            let o = std::sync::Arc::make_mut(o);
            (o.contract, o.guaranteed_volume) =
                (Some(ContractKind::StrategicPartner), night.guaranteed_volume);
        }
        let held = Arc::new(held);
        let same = run(held.clone(), reference.clone(), policies.clone(), &options(0)).unwrap();
        assert_eq!(
            same.solution.objective, today.solution.objective,
            "tonight's night, without the contract"
        );
        let more =
            run(Arc::new(with_one_more_place(&held, &held.offers[j].id)), reference, policies, &options(0))
                .unwrap();
        assert_eq!(
            more.solution.objective - today.solution.objective,
            price.price,
            "course-00008, shares held"
        );
    }

    /// An offer with no places tonight (full this month, or the tenant's share of an offer's
    /// free places used up): the night re-run with one more place rises by what the
    /// candidates who want it gain, and `prices.csv` says so. The scorer removes the pairs of
    /// an offer without places before the solve, so its dual was 0 (0 against 8,700 points for
    /// help-00004 on the demo night); `batch::closed` prices it from the solve's duals.
    #[test]
    fn one_more_place_at_an_offer_without_places_is_priced_as_the_night_re_run() {
        let (reference, data) = demo();
        let mut data = (*data).clone();
        let j = data.offers.iter().position(|o| o.id.as_str() == "help-00004").unwrap();
        std::sync::Arc::make_mut(&mut data.offers[j]).capacity = 0;
        let data = Arc::new(data);
        let policies = Arc::new(PolicySet::default());
        let today = run(data.clone(), reference.clone(), policies.clone(), &options(0)).unwrap();
        let bigger = with_one_more_place(&data, &data.offers[j].id);
        let other = run(Arc::new(bigger), reference, policies, &options(0)).unwrap();
        assert!(other.solution.objective > today.solution.objective, "a place at help-00004 is wanted");
        assert_eq!(other.solution.objective - today.solution.objective, today.prices[j].price, "help-00004");
    }

    /// Closing an offer under a strategic-partner contract lets its guarantee lapse
    /// (docs/procurement.md): the contract's other offers keep the guaranteed places they had,
    /// and no offer is guaranteed more places than it has. The contract's whole volume used to
    /// be spread again over the places left (demo, closing course-00008: course-00002 was
    /// guaranteed 65 of its 49 places, and `matcher compare` reported 17 guaranteed places not
    /// filled).
    #[test]
    fn closing_an_offer_under_a_contract_lets_its_guarantee_lapse() {
        use crate::model::contract::offer_terms;
        let (_, data) = demo();
        let day = crate::r#gen::AS_OF;
        let index: HashMap<&str, usize> =
            data.offers.iter().enumerate().map(|(j, o)| (o.id.as_str(), j)).collect();
        let contract = data
            .contracts
            .iter()
            .find(|c| c.in_force(day) && c.guaranteed_volume > 0 && c.offers.len() == 2)
            .expect("the demo has a strategic partner with two courses");
        let (closed, open) = (index[contract.offers[1].as_str()], index[contract.offers[0].as_str()]);
        let before = offer_terms(&data, day);
        assert!(before[closed].guaranteed > 0 && before[open].guaranteed > 0);
        let scenario = Scenario { close_offers: vec![contract.offers[1].clone()], ..Scenario::default() };
        let (out, _) = apply(&data, &scenario).unwrap();
        let after = offer_terms(&out, day);
        for (o, t) in out.offers.iter().zip(&after) {
            assert!(
                t.guaranteed <= o.capacity,
                "{}: {} guaranteed of {} places",
                o.id,
                t.guaranteed,
                o.capacity
            );
        }
        assert_eq!(after[open].guaranteed, before[open].guaranteed, "the open course keeps its guarantee");
        assert_eq!(after[closed].guaranteed, 0, "the closed course's guarantee lapses");
    }

    #[test]
    fn a_scenario_replaces_adds_and_closes_offers_and_names_what_it_cannot_find() {
        let (_, data) = demo();
        let mut replaced = Offer::clone(&data.offers[0]);
        replaced.capacity += 5;
        let mut added = Offer::clone(&data.offers[0]);
        added.id = OfferId::new("course-new").unwrap();
        added.evidence.clear();
        // An offer with locked courses, closed: its places shrink to them.
        let running = data
            .candidates
            .iter()
            .find_map(|c| c.current.as_ref().filter(|a| a.locked).map(|a| a.offer.clone()))
            .expect("the demo has running courses");
        let held = data
            .candidates
            .iter()
            .filter(|c| c.current.as_ref().is_some_and(|a| a.locked && a.offer == running))
            .count() as u32;
        let scenario = Scenario {
            offers: vec![replaced.clone(), added],
            close_offers: vec![running.clone()],
            remove_contracts: data.contracts.first().map(|c| c.id.clone()).into_iter().collect(),
            ..Scenario::default()
        };
        let (out, changes) = apply(&data, &scenario).unwrap();
        assert_eq!((changes.offers_replaced, changes.offers_added, changes.offers_closed), (1, 1, 1));
        assert_eq!(changes.contracts_removed, usize::from(!data.contracts.is_empty()));
        assert_eq!(out.offers.len(), data.offers.len() + 1);
        assert_eq!(out.offers[0].capacity, replaced.capacity);
        assert_eq!(out.offers[0].evidence, data.offers[0].evidence, "a replaced offer keeps its record");
        assert_eq!(out.offers.last().map(|o| o.id.as_str()), Some("course-new"));
        let closed = out.offers.iter().find(|o| o.id == running).unwrap();
        assert_eq!((closed.capacity, closed.guaranteed_volume), (held, 0));
        assert_eq!(
            out.offers.iter().filter(|o| o.kind == OfferKind::Provider).count(),
            data.offers.iter().filter(|o| o.kind == OfferKind::Provider).count() + 1
        );

        let unknown = Scenario {
            add_places: vec![AddPlaces {
                offer: OfferId::new("no-such-offer").unwrap(),
                places: 1,
                source: "--add-places no-such-offer=1".into(),
            }],
            ..Scenario::default()
        };
        let message = apply(&data, &unknown).unwrap_err().to_string();
        assert!(
            message.contains("--add-places no-such-offer=1") && message.contains("no offer with this id"),
            "{message}"
        );
        let too_many = Scenario {
            add_places: vec![AddPlaces {
                offer: data.offers[0].id.clone(),
                places: limits::MAX_CAPACITY,
                source: "flag".into(),
            }],
            ..Scenario::default()
        };
        assert!(apply(&data, &too_many).unwrap_err().to_string().contains("places"));
    }
}
