//! One more place under a shared guarantee: which offers' prices hold tonight's guarantee
//! shares.
//!
//! A strategic partner's guaranteed volume is shared over the contract's offers by places
//! (`Contract::guarantee_shares`), so one more place at one of them can also move a
//! guaranteed place from another to it. The dual price of the offer's places is the rise
//! with tonight's shares held; the night re-run with one more place re-shares them, and the
//! two differ when a guarantee binds (a candidate held at an offer for its guarantee moves
//! once the guarantee moves; demo: 0 against +620 points). Owns telling those offers apart;
//! must not change the price, the problem or its solution.
//!
//! Why the others' prices are exact. Let one more place at offer `j` change the guaranteed
//! places `L_i` of the contract's offers to `L'_i`, and let tonight's assignment give every
//! offer `i` with `L'_i ≠ L_i` at least `max(L_i, L'_i) + 1` candidates. Then the rise is the
//! dual price `p_j`:
//! * at least: the night with one more place at `j` and tonight's shares has an optimum one
//!   augmenting cycle away from tonight's, which moves any other offer's count by at most
//!   one, so every changed offer keeps at least `max(L_i, L'_i)` candidates there and the
//!   guaranteed places can be relabelled to the new shares with the same weight and as many
//!   filled;
//! * at most: each changed offer has candidates on both its guaranteed and its regular
//!   places tonight, so in every optimal dual its guaranteed price less the bonus equals its
//!   regular price, and the dual bound on the new optimum (tonight's optimum plus the change
//!   of places times any optimal dual) is `p_j` plus the bonus times the change of filled
//!   guaranteed places.
//!
//! Where this does not hold (a guarantee filled exactly, or short), the exact rise needs a
//! re-solve of the whole night per offer, so `prices.csv` says the price holds tonight's
//! shares instead (`docs/procurement.md`).

use crate::model::{ContractKind, Dataset, Date};

/// Per offer of `data` (the night's terms): whether its price holds tonight's guarantee
/// shares, i.e. one more place there would move a guaranteed place between its contract's
/// offers and tonight's assignment does not show that this changes nothing (see the module).
/// `min_volume` is the solver's guaranteed places per offer (locked candidates included),
/// `assigned` the night's candidates per offer (locked ones included).
pub(crate) fn holds_shares(data: &Dataset, today: Date, min_volume: &[u32], assigned: &[u32]) -> Vec<bool> {
    let mut holds = vec![false; data.offers.len()];
    if min_volume.iter().all(|&l| l == 0) {
        return holds;
    }
    let index: std::collections::HashMap<&str, usize> =
        data.offers.iter().enumerate().map(|(j, o)| (o.id.as_str(), j)).collect();
    // A partner's offer without a contract in force guarantees its own column's places, as
    // many as it has: one more place adds a guaranteed one when the column asks for more.
    let mut under_contract = vec![false; data.offers.len()];
    for c in data.contracts.iter().filter(|c| c.in_force(today)) {
        for id in &c.offers {
            if let Some(&j) = index.get(id.as_str()) {
                under_contract[j] = true;
            }
        }
    }
    for (j, o) in data.offers.iter().enumerate() {
        holds[j] = !under_contract[j]
            && min_volume.get(j).is_some_and(|&l| l > 0)
            && o.guaranteed_volume > o.capacity;
    }
    let guaranteed = |share: u32, j: usize| share.min(data.offers[j].capacity);
    for c in data
        .contracts
        .iter()
        .filter(|c| c.in_force(today) && c.kind == ContractKind::StrategicPartner && c.guaranteed_volume > 0)
    {
        let covered: Vec<usize> = c.offers.iter().filter_map(|id| index.get(id.as_str()).copied()).collect();
        let capacities: Vec<u32> = covered.iter().map(|&j| data.offers[j].capacity).collect();
        let shares = c.guarantee_shares(&capacities);
        // A municipality that turns the guarantees off has none in the problem: nothing moves.
        if covered.iter().zip(&shares).any(|(&j, &s)| min_volume.get(j) != Some(&guaranteed(s, j))) {
            continue;
        }
        let counts: Vec<u32> = covered.iter().map(|&j| assigned.get(j).copied().unwrap_or(0)).collect();
        for (&j, h) in
            covered.iter().zip(contract_holds(&capacities, &counts, |caps| c.guarantee_shares(caps)))
        {
            holds[j] = h;
        }
    }
    holds
}

/// [`holds_shares`] for one contract's offers: their places, their candidates tonight and how
/// the contract shares its guarantee over places. Per offer, in the same order.
fn contract_holds(capacities: &[u32], assigned: &[u32], shares: impl Fn(&[u32]) -> Vec<u32>) -> Vec<bool> {
    let guaranteed = |shares: &[u32], caps: &[u32]| -> Vec<u32> {
        shares.iter().zip(caps).map(|(&s, &c)| s.min(c)).collect()
    };
    let before = guaranteed(&shares(capacities), capacities);
    (0..capacities.len())
        .map(|t| {
            let mut more = capacities.to_vec();
            more[t] = more[t].saturating_add(1);
            let after = guaranteed(&shares(&more), &more);
            let settled =
                (0..capacities.len()).all(|u| before[u] == after[u] || assigned[u] > before[u].max(after[u]));
            !settled
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::{Mode, Problem, SolveOptions, solve};
    use crate::model::{Contract, ContractId, GroupSet, MunicipalityCode, OfferId, ProviderId};
    use proptest::prelude::*;

    fn contract(guaranteed: u32, offers: usize) -> Contract {
        Contract {
            id: ContractId::new("k-1").unwrap(),
            municipality: MunicipalityCode(851),
            provider: ProviderId::new("lev-1").unwrap(),
            kind: ContractKind::StrategicPartner,
            price_dkk: 0,
            places: 0,
            guaranteed_volume: guaranteed,
            start: crate::r#gen::AS_OF,
            end: crate::r#gen::AS_OF,
            target_groups: GroupSet::EMPTY,
            offers: (0..offers).map(|j| OfferId::new(&format!("o{j}")).unwrap()).collect(),
        }
    }

    /// The night's answer by enumeration: the most guaranteed places filled, then the most
    /// weight, as `(filled, weight)`.
    fn best(p: &Problem) -> (u32, i64) {
        fn go(p: &Problem, i: usize, used: &mut Vec<u32>, weight: i64, out: &mut (u32, i64)) {
            if i == p.n_candidates {
                let filled = used.iter().zip(&p.min_volume).map(|(&a, &l)| a.min(l)).sum();
                *out = (*out).max((filled, weight));
                return;
            }
            go(p, i + 1, used, weight, out);
            let (offers, weights) = p.edges(i);
            for (&j, &w) in offers.iter().zip(weights) {
                if used[j as usize] < p.capacity[j as usize] {
                    used[j as usize] += 1;
                    go(p, i + 1, used, weight + w, out);
                    used[j as usize] -= 1;
                }
            }
        }
        let mut out = (0, i64::MIN);
        go(p, 0, &mut vec![0; p.n_offers()], 0, &mut out);
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Where an offer's price is not said to hold tonight's shares, one more place there,
        /// with the contract's guarantee shared again over the places, adds exactly the price
        /// (enumeration), also when the shares move.
        #[test]
        fn a_price_not_holding_the_shares_is_the_rise_with_the_shares_moved(
            capacities in proptest::collection::vec(0u32..=4, 1..=3),
            rows in proptest::collection::vec(proptest::collection::vec(proptest::option::weighted(0.9, -2i64..=9), 3), 0..=7),
            guarantee in 0u32..=4,
        ) {
            let m = capacities.len();
            let total: u32 = capacities.iter().sum();
            let c = contract(guarantee.min(total), m);
            let mut offsets = vec![0];
            let (mut offers, mut weights) = (Vec::new(), Vec::new());
            for row in &rows {
                for (j, w) in row.iter().enumerate().take(m) {
                    if let Some(w) = w {
                        offers.push(j as u32);
                        weights.push(*w);
                    }
                }
                offsets.push(offers.len());
            }
            let shared = |caps: &[u32]| -> Vec<u32> {
                c.guarantee_shares(caps).iter().zip(caps).map(|(&s, &k)| s.min(k)).collect()
            };
            let mut p = Problem::new(rows.len(), capacities.clone(), offsets, offers, weights).unwrap();
            p.min_volume = shared(&capacities);
            let exact = SolveOptions { mode: Mode::Exact, threads: 1, ..SolveOptions::default() };
            let night = solve(&p, &exact).unwrap();
            let mut assigned = vec![0u32; m];
            for j in night.assignment.iter().flatten() {
                assigned[*j as usize] += 1;
            }
            let (_, tonight) = best(&p);
            prop_assert_eq!(night.objective, tonight);
            let holds = contract_holds(&capacities, &assigned, |caps| c.guarantee_shares(caps));
            for (t, &held) in holds.iter().enumerate() {
                let mut more = p.clone();
                more.capacity[t] += 1;
                more.min_volume = shared(&more.capacity);
                let moved = more.min_volume != p.min_volume;
                let (_, rise) = best(&more);
                if !held {
                    prop_assert_eq!(rise - tonight, night.offer_prices[t], "offer {}, shares moved: {}", t, moved);
                }
                if !moved {
                    prop_assert!(!held);
                }
            }
        }
    }
}
