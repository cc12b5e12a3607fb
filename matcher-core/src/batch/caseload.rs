//! Caseloads: which caseworker takes each new candidate, balancing caseloads under each
//! caseworker's cap and matching specialities, solved by the same exact assignment solver
//! as the night's offers ([`assign::solve`], checked by [`assign::verify`]).
//!
//! Pure: candidates and caseworkers in, a proposal per new candidate and the loads before
//! and after out. A *new* candidate is one of the data set that is on no caseworker's list
//! of `cases`, in a municipality that has caseworkers in the file; municipalities absent
//! from the file take no part.
//!
//! # How a linear assignment balances loads
//!
//! A caseworker who holds `c` cases and may hold `cap` offers the places `c + 1 ..= cap`;
//! taking the place at *level* `L` means holding `L` cases afterwards. The place at level
//! `L` is worth `LOAD_UNIT · (top + 1 − L)` points (`top` is the municipality's highest level
//! on offer), plus [`SPECIALITY_BONUS`] when one of the caseworker's specialities is a target
//! group of the candidate. The marginal value falls with every case a caseworker already
//! holds (a convex cost of load), so the optimum fills the least-loaded places first: it is
//! water-filling, the most balanced loads the caps allow. The bonus is half a level, so a
//! speciality decides between caseworkers of equal load but never buys a less balanced
//! result.
//!
//! Caseworkers of one municipality with the same specialities are interchangeable except
//! for their load, so their places at one level are one offer with a capacity (how many of
//! them can go to that level). That keeps the problem to `classes × levels` offers per
//! municipality instead of one per place. At the optimum every lower level of a class is
//! full before a higher one is used (a lower place is strictly better for every candidate),
//! so the counts per level are turned back into caseworkers level by level; a solution that
//! broke this would be refused.

use crate::assign::{self, Certificate, Mode, Problem, SolveOptions};
use crate::dataset::MAX_CAP;
use crate::error::{Error, Result};
use crate::model::{Caseworker, Dataset, GroupSet, MunicipalityCode};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Points per case of load: the value of a place falls by this much per case held.
pub const LOAD_UNIT: i64 = 2;
/// Points for a caseworker who specialises in one of the candidate's target groups: less
/// than one [`LOAD_UNIT`], so it never outweighs balance.
pub const SPECIALITY_BONUS: i64 = 1;

/// Why a new candidate gets no caseworker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoCaseworker {
    /// Every caseworker of the municipality is at or over their cap.
    AllAtCap,
}

impl NoCaseworker {
    /// The reason's key, as in output files.
    pub fn key(self) -> &'static str {
        match self {
            NoCaseworker::AllAtCap => "all_at_cap",
        }
    }
}

/// The proposal for one new candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseworkerProposal {
    /// Candidate index in the data set.
    pub candidate: u32,
    /// Proposed caseworker, an index into the caseworkers.
    pub caseworker: Option<u32>,
    /// The caseworker's caseload with this candidate.
    pub load_after: u32,
    /// The caseworker specialises in one of the candidate's target groups.
    pub speciality: bool,
    /// Why there is no caseworker.
    pub reason: Option<NoCaseworker>,
}

/// One caseworker's load before and after the proposals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseworkerLoad {
    /// Caseload now.
    pub before: u32,
    /// Caseload with the proposed new candidates.
    pub after: u32,
}

/// The plan of one night.
#[derive(Debug, Clone)]
pub struct CaseloadPlan {
    /// One per new candidate, in data-set order.
    pub proposals: Vec<CaseworkerProposal>,
    /// One per caseworker, in file order.
    pub loads: Vec<CaseworkerLoad>,
    /// The certificate of the solve (gap 0).
    pub certificate: Certificate,
    /// Offers (caseworker class × load level) and edges of the problem solved.
    pub offers: usize,
    /// Edges of the problem solved.
    pub edges: usize,
}

/// Proposes a caseworker for every new candidate.
///
/// # Errors
/// [`Error::Problem`] when a caseworker's municipality or case is not in `data` consistently
/// (the reader checks this), or when the certificate shows a gap.
///
/// # Complexity
/// The problem has, per municipality, `new candidates × classes × levels` edges, where a
/// class is a set of specialities and levels run from the lowest caseload to the highest cap.
pub fn plan(data: &Dataset, caseworkers: &[Caseworker], threads: usize) -> Result<CaseloadPlan> {
    let index: std::collections::HashMap<&str, usize> =
        data.candidates.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut held = vec![false; data.candidates.len()];
    for w in caseworkers {
        if w.cap > MAX_CAP {
            return Err(Error::Problem(format!("caseworker {}: cap {} is above {MAX_CAP}", w.id, w.cap)));
        }
        for case in &w.cases {
            let &i = index.get(case.as_str()).ok_or_else(|| {
                Error::Problem(format!("caseworker {}: case {case} is not a candidate", w.id))
            })?;
            held[i] = true;
        }
    }
    let staffed: HashSet<MunicipalityCode> = caseworkers.iter().map(|w| w.municipality).collect();
    let new: Vec<usize> = (0..data.candidates.len())
        .filter(|&i| !held[i] && staffed.contains(&data.candidates[i].municipality))
        .collect();

    // Classes: caseworkers of one municipality with the same specialities.
    let mut classes: BTreeMap<(MunicipalityCode, u64), Vec<usize>> = BTreeMap::new();
    for (w, c) in caseworkers.iter().enumerate() {
        classes.entry((c.municipality, c.specialities.0)).or_default().push(w);
    }
    // Per class, the levels some of its caseworkers can go to, with how many can.
    let class_members: Vec<&Vec<usize>> = classes.values().collect();
    let open_levels: Vec<Vec<(u32, u32)>> = class_members
        .iter()
        .map(|members| {
            let lowest = members.iter().map(|&w| caseworkers[w].caseload).min().unwrap_or(0);
            let highest = members.iter().map(|&w| caseworkers[w].cap).max().unwrap_or(0);
            (lowest.saturating_add(1)..=highest)
                .map(|level| {
                    let open = members
                        .iter()
                        .filter(|&&w| caseworkers[w].caseload < level && level <= caseworkers[w].cap)
                        .count();
                    (level, open as u32)
                })
                .filter(|&(_, open)| open > 0)
                .collect()
        })
        .collect();
    // The highest level worth offering per municipality. If the places up to level `T` can
    // take every new candidate, no optimum puts anyone at level `T + 2` or above: a place at
    // `T` or below would be free, and moving there gains at least two levels (4 points)
    // against at most the bonus (1 point). Leaving those levels out changes no optimum, and
    // keeps the weights within a few points of each other: the auction's prices then never
    // need to climb far, which is what keeps it fast when many candidates are alike.
    let mut need: BTreeMap<MunicipalityCode, u64> = BTreeMap::new();
    for &i in &new {
        *need.entry(data.candidates[i].municipality).or_default() += 1;
    }
    let mut places: BTreeMap<MunicipalityCode, BTreeMap<u32, u64>> = BTreeMap::new();
    for (((municipality, _), _), open) in classes.iter().zip(&open_levels) {
        for &(level, n) in open {
            *places.entry(*municipality).or_default().entry(level).or_default() += u64::from(n);
        }
    }
    let limit: BTreeMap<MunicipalityCode, u32> = places
        .iter()
        .map(|(m, by_level)| {
            let wanted = need.get(m).copied().unwrap_or(0);
            let mut filled = 0;
            let enough = by_level.iter().find_map(|(&level, &n)| {
                filled += n;
                (filled >= wanted).then_some(level)
            });
            (*m, enough.map_or(u32::MAX, |t| t.saturating_add(1)))
        })
        .collect();

    // Offers: (class, level) with the number of its caseworkers that can go to that level.
    struct Level {
        class: usize,
        level: u32,
    }
    let mut levels = Vec::new();
    let mut capacity = Vec::new();
    let mut by_municipality: BTreeMap<MunicipalityCode, Vec<(u32, GroupSet)>> = BTreeMap::new();
    for (k, ((municipality, specialities), open)) in classes.keys().zip(&open_levels).enumerate() {
        if !need.contains_key(municipality) {
            continue;
        }
        let top = limit.get(municipality).copied().unwrap_or(u32::MAX);
        for &(level, n) in open.iter().filter(|&&(level, _)| level <= top) {
            by_municipality
                .entry(*municipality)
                .or_default()
                .push((levels.len() as u32, GroupSet(*specialities)));
            levels.push(Level { class: k, level });
            capacity.push(n);
        }
    }
    let (mut offsets, mut offers, mut weights) = (vec![0usize], Vec::new(), Vec::new());
    for &i in &new {
        let candidate = &data.candidates[i];
        let row = by_municipality.get(&candidate.municipality).map_or(&[][..], Vec::as_slice);
        // Weights count down from the municipality's highest offered level, so the lowest is
        // still worth taking (an unplaced candidate with a free place would gain).
        let top = row.iter().map(|&(j, _)| levels[j as usize].level).max().unwrap_or(0);
        for &(j, specialities) in row {
            let bonus = if specialities.intersects(candidate.target_groups) { SPECIALITY_BONUS } else { 0 };
            offers.push(j);
            weights.push(LOAD_UNIT * i64::from(top + 1 - levels[j as usize].level) + bonus);
        }
        offsets.push(offers.len());
    }
    let (n_offers, n_edges) = (capacity.len(), offers.len());
    let problem = Problem::new(new.len(), capacity, offsets, offers, weights)?;
    let options = SolveOptions { mode: Mode::Exact, threads, ..SolveOptions::default() };
    let solution = assign::solve(&problem, &options)?;
    let certificate = assign::verify(&problem, &solution)?;
    if certificate.gap != Some(0) {
        return Err(Error::Problem(format!(
            "the caseload solution's certificate shows a duality gap of {:?}",
            certificate.gap
        )));
    }

    // Back from counts per level to caseworkers, level by level (offers are in class, then
    // level order).
    let mut at_level: Vec<Vec<usize>> = vec![Vec::new(); n_offers];
    for (k, offer) in solution.assignment.iter().enumerate() {
        if let Some(j) = offer {
            at_level[*j as usize].push(k);
        }
    }
    let mut load: Vec<u32> = caseworkers.iter().map(|w| w.caseload).collect();
    let mut proposals: Vec<CaseworkerProposal> = new
        .iter()
        .map(|&i| CaseworkerProposal {
            candidate: i as u32,
            caseworker: None,
            load_after: 0,
            speciality: false,
            reason: Some(NoCaseworker::AllAtCap),
        })
        .collect();
    for (j, taken) in at_level.iter().enumerate() {
        let Level { class, level } = levels[j];
        let eligible: Vec<usize> = class_members[class]
            .iter()
            .copied()
            .filter(|&w| load[w] + 1 == level && level <= caseworkers[w].cap)
            .collect();
        if eligible.len() < taken.len() {
            return Err(Error::Problem(format!(
                "caseloads: {} candidates at load level {level} but only {} caseworkers can take them there",
                taken.len(),
                eligible.len()
            )));
        }
        for (&k, &w) in taken.iter().zip(&eligible) {
            load[w] = level;
            let candidate = &data.candidates[new[k]];
            proposals[k] = CaseworkerProposal {
                candidate: new[k] as u32,
                caseworker: Some(w as u32),
                load_after: level,
                speciality: caseworkers[w].specialities.intersects(candidate.target_groups),
                reason: None,
            };
        }
    }
    let loads = caseworkers
        .iter()
        .zip(&load)
        .map(|(w, &after)| CaseworkerLoad { before: w.caseload, after })
        .collect();
    Ok(CaseloadPlan { proposals, loads, certificate, offers: n_offers, edges: n_edges })
}

/// Caseloads of one municipality (or of all), before and after the proposals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MunicipalityCaseload {
    /// Municipality code, or `all`.
    pub municipality: String,
    /// Caseworkers.
    pub caseworkers: usize,
    /// New candidates.
    pub new_candidates: usize,
    /// Of those, with a proposed caseworker.
    pub assigned: usize,
    /// Of those, with a caseworker who specialises in one of their target groups.
    pub speciality_matches: usize,
    /// Mean caseload before.
    pub before_mean: f64,
    /// Largest caseload before.
    pub before_max: u32,
    /// Caseworkers over their cap before.
    pub before_over_cap: usize,
    /// Mean caseload after.
    pub after_mean: f64,
    /// Largest caseload after.
    pub after_max: u32,
    /// Caseworkers over their cap after (only those already over it: no case is added
    /// beyond a cap).
    pub after_over_cap: usize,
}

/// The caseload section of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseloadReport {
    /// All municipalities with caseworkers together.
    pub total: MunicipalityCaseload,
    /// Per municipality, by code.
    pub by_municipality: Vec<MunicipalityCaseload>,
    /// Duality gap of the caseload solve (0 = proven optimal).
    pub gap: Option<i128>,
}

/// The report's numbers of a plan.
pub fn report(data: &Dataset, caseworkers: &[Caseworker], plan: &CaseloadPlan) -> CaseloadReport {
    let municipalities: BTreeSet<MunicipalityCode> = caseworkers.iter().map(|w| w.municipality).collect();
    let summary = |key: String, keep: &dyn Fn(MunicipalityCode) -> bool| {
        let loads: Vec<(&Caseworker, &CaseworkerLoad)> =
            caseworkers.iter().zip(&plan.loads).filter(|(w, _)| keep(w.municipality)).collect();
        let proposals: Vec<&CaseworkerProposal> = plan
            .proposals
            .iter()
            .filter(|p| keep(data.candidates[p.candidate as usize].municipality))
            .collect();
        let n = loads.len().max(1) as f64;
        MunicipalityCaseload {
            municipality: key,
            caseworkers: loads.len(),
            new_candidates: proposals.len(),
            assigned: proposals.iter().filter(|p| p.caseworker.is_some()).count(),
            speciality_matches: proposals.iter().filter(|p| p.speciality).count(),
            before_mean: loads.iter().map(|(_, l)| f64::from(l.before)).sum::<f64>() / n,
            before_max: loads.iter().map(|(_, l)| l.before).max().unwrap_or(0),
            before_over_cap: loads.iter().filter(|(w, l)| l.before > w.cap).count(),
            after_mean: loads.iter().map(|(_, l)| f64::from(l.after)).sum::<f64>() / n,
            after_max: loads.iter().map(|(_, l)| l.after).max().unwrap_or(0),
            after_over_cap: loads.iter().filter(|(w, l)| l.after > w.cap).count(),
        }
    };
    CaseloadReport {
        total: summary("all".into(), &|_| true),
        by_municipality: municipalities.iter().map(|&m| summary(m.to_string(), &|x| x == m)).collect(),
        gap: plan.certificate.gap,
    }
}

#[cfg(test)]
mod tests;
