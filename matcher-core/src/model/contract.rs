//! Contracts: what a municipality bought from a provider, and the terms they put on its offers.
//!
//! Owns [`Contract`], its validation ([`Contract::check_terms`], [`Contract::validate`] against
//! a [`ContractWorld`]: the data set's or the service's providers and offers) and the terms a
//! night reads from the contracts in force ([`offer_terms`], [`apply`], [`apply_in_place`]). It
//! does no I/O (the `contracts` table is read by [`crate::dataset`]) and no matching (the batch
//! turns the terms into its problem).
//!
//! Which wins: an offer covered by a contract *in force on the day of the run* takes that
//! contract's kind, its share of the guaranteed volume, its price (when the contract gives one)
//! and, for a specialist, only the contract's target groups. Offers no contract in force
//! covers keep their own `contract` and `guaranteed_volume` columns (data from before the
//! contracts table). The offer's own columns, when given, must agree with every contract that
//! covers it (checked when the data set is read).

use super::{
    ContractId, ContractKind, Dataset, Date, GroupSet, MunicipalityCode, Offer, OfferId, OfferKind,
    ProviderId,
};
use serde::{Deserialize, Serialize};

/// A contract of one municipality with one provider, covering some of the provider's offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    /// Id, unique in the data set.
    pub id: ContractId,
    /// The municipality that holds the contract (and alone may change it).
    pub municipality: MunicipalityCode,
    /// The provider.
    pub provider: ProviderId,
    /// Buffer, specialist or strategic partner.
    pub kind: ContractKind,
    /// Price per course in DKK; 0 when the offers keep their own prices.
    pub price_dkk: u32,
    /// Places bought for the period.
    pub places: u32,
    /// Places the municipality promised to fill (strategic partners only; at most `places`).
    pub guaranteed_volume: u32,
    /// First day in force.
    pub start: Date,
    /// Last day in force (not before `start`).
    pub end: Date,
    /// Specialists: the only target groups the contract's offers take. Empty for the others.
    pub target_groups: GroupSet,
    /// The offers it covers (at least one, all of `provider`, all provider courses).
    pub offers: Vec<OfferId>,
}

/// What is wrong with a contract, naming the field. The service maps it to a problem body,
/// the data-set reader to a line of `contracts.csv`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractProblem {
    /// The guaranteed volume is above the places bought.
    #[error("guaranteed volume {guaranteed} is above the {places} places of the contract")]
    GuaranteeAbovePlaces {
        /// Guaranteed volume.
        guaranteed: u32,
        /// Places.
        places: u32,
    },
    /// Only a strategic partner has a guaranteed volume.
    #[error("only a strategic_partner contract has a guaranteed volume")]
    GuaranteeWithoutPartner,
    /// The period ends before it starts.
    #[error("the period ends ({end}) before it starts ({start})")]
    EndsBeforeStart {
        /// First day.
        start: Date,
        /// Last day.
        end: Date,
    },
    /// A specialist contract must say which groups it takes.
    #[error("a specialist contract names the target groups it takes")]
    SpecialistWithoutGroups,
    /// Only a specialist contract restricts target groups.
    #[error("only a specialist contract restricts target groups")]
    GroupsWithoutSpecialist,
    /// The contract covers no offer.
    #[error("a contract covers at least one offer")]
    NoOffers,
    /// The same offer is listed twice.
    #[error("offer {0} is listed twice")]
    OfferListedTwice(OfferId),
    /// The municipality does not exist.
    #[error("unknown municipality code {0}")]
    UnknownMunicipality(MunicipalityCode),
    /// The provider does not exist.
    #[error("`{0}` is not a known provider")]
    UnknownProvider(ProviderId),
    /// An offer does not exist.
    #[error("`{0}` is not a known offer")]
    UnknownOffer(OfferId),
    /// An offer is not a provider course.
    #[error("offer {0} is not a provider course (kind provider)")]
    OfferNotACourse(OfferId),
    /// An offer belongs to another provider.
    #[error("offer {offer} belongs to provider {owner}, not to the contract's provider")]
    OfferOfAnotherProvider {
        /// The offer.
        offer: OfferId,
        /// Its provider.
        owner: ProviderId,
    },
    /// An offer does not serve the contract's municipality.
    #[error("offer {offer} does not serve municipality {municipality}")]
    OfferNotServing {
        /// The offer.
        offer: OfferId,
        /// The contract's municipality.
        municipality: MunicipalityCode,
    },
    /// A specialist's groups and an offer's groups do not meet: the offer would take nobody.
    #[error("offer {0} takes none of the specialist contract's target groups")]
    GroupsDisjoint(OfferId),
    /// The offers have fewer places than the guarantee.
    #[error("guaranteed volume {guaranteed} is above the {capacity} places of its offers")]
    GuaranteeAboveOfferPlaces {
        /// Guaranteed volume.
        guaranteed: u32,
        /// Places of the covered offers together.
        capacity: u32,
    },
    /// An offer is covered by another contract whose period overlaps.
    #[error("offer {offer} is also covered by contract {other} in an overlapping period")]
    Overlaps {
        /// The offer.
        offer: OfferId,
        /// The other contract.
        other: ContractId,
    },
    /// The offer's own contract column says another kind.
    #[error("offer {offer} says contract {said}, but this contract makes it {kind}")]
    OfferSaysOtherKind {
        /// The offer.
        offer: OfferId,
        /// What its `contract` column says.
        said: &'static str,
        /// This contract's kind.
        kind: &'static str,
    },
    /// The offer's own guaranteed volume differs from its share of this contract's.
    #[error("offer {offer} says guaranteed volume {said}, but its share of this contract's is {share}")]
    OfferSaysOtherGuarantee {
        /// The offer.
        offer: OfferId,
        /// What its `guaranteed_volume` column says.
        said: u32,
        /// Its share.
        share: u32,
    },
}

impl ContractProblem {
    /// The field (column of `contracts.csv`, key of the API body) the problem is about.
    pub fn field(&self) -> &'static str {
        use ContractProblem::*;
        match self {
            GuaranteeAbovePlaces { .. }
            | GuaranteeWithoutPartner
            | GuaranteeAboveOfferPlaces { .. }
            | OfferSaysOtherGuarantee { .. } => "guaranteed_volume",
            EndsBeforeStart { .. } => "end",
            SpecialistWithoutGroups | GroupsWithoutSpecialist => "target_groups",
            UnknownMunicipality(_) => "municipality",
            UnknownProvider(_) => "provider_id",
            NoOffers
            | OfferListedTwice(_)
            | UnknownOffer(_)
            | OfferNotACourse(_)
            | OfferOfAnotherProvider { .. }
            | OfferNotServing { .. }
            | GroupsDisjoint(_)
            | Overlaps { .. }
            | OfferSaysOtherKind { .. } => "offers",
        }
    }

    /// The offer the problem names, if it names one.
    pub fn offer(&self) -> Option<&OfferId> {
        use ContractProblem::*;
        match self {
            OfferListedTwice(o)
            | UnknownOffer(o)
            | OfferNotACourse(o)
            | GroupsDisjoint(o)
            | OfferOfAnotherProvider { offer: o, .. }
            | OfferNotServing { offer: o, .. }
            | Overlaps { offer: o, .. }
            | OfferSaysOtherKind { offer: o, .. }
            | OfferSaysOtherGuarantee { offer: o, .. } => Some(o),
            _ => None,
        }
    }
}

/// What a contract is checked against: the providers and offers that exist (the data set's, or
/// the service's store).
pub trait ContractWorld {
    /// True if the municipality code exists.
    fn municipality_exists(&self, code: MunicipalityCode) -> bool;
    /// True if the provider exists.
    fn provider_exists(&self, id: &ProviderId) -> bool;
    /// The offer, if it exists.
    fn offer(&self, id: &OfferId) -> Option<&Offer>;
}

impl Contract {
    /// True on the days from `start` to `end`, both included.
    pub fn in_force(&self, day: Date) -> bool {
        self.start <= day && day <= self.end
    }

    /// True if the two periods share a day.
    pub fn overlaps(&self, other: &Contract) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// The checks that need nothing but the contract itself.
    ///
    /// # Errors
    /// The first [`ContractProblem`] found.
    pub fn check_terms(&self) -> Result<(), ContractProblem> {
        if self.end < self.start {
            return Err(ContractProblem::EndsBeforeStart { start: self.start, end: self.end });
        }
        if self.guaranteed_volume > 0 && self.kind != ContractKind::StrategicPartner {
            return Err(ContractProblem::GuaranteeWithoutPartner);
        }
        if self.guaranteed_volume > self.places {
            return Err(ContractProblem::GuaranteeAbovePlaces {
                guaranteed: self.guaranteed_volume,
                places: self.places,
            });
        }
        match (self.kind, self.target_groups.is_empty()) {
            (ContractKind::Specialist, true) => return Err(ContractProblem::SpecialistWithoutGroups),
            (ContractKind::Buffer | ContractKind::StrategicPartner, false) => {
                return Err(ContractProblem::GroupsWithoutSpecialist);
            }
            _ => {}
        }
        if self.offers.is_empty() {
            return Err(ContractProblem::NoOffers);
        }
        for (i, offer) in self.offers.iter().enumerate() {
            if self.offers[..i].contains(offer) {
                return Err(ContractProblem::OfferListedTwice(offer.clone()));
            }
        }
        Ok(())
    }

    /// Every check of one contract: [`Contract::check_terms`], then the municipality, the
    /// provider and each offer against `world`, the guarantee against the offers' places, and
    /// the offers' own contract columns against this contract. Overlaps with other contracts
    /// are [`check_overlaps`]'s job.
    ///
    /// # Errors
    /// The first [`ContractProblem`] found.
    pub fn validate(&self, world: &impl ContractWorld) -> Result<(), ContractProblem> {
        self.check_terms()?;
        if !world.municipality_exists(self.municipality) {
            return Err(ContractProblem::UnknownMunicipality(self.municipality));
        }
        if !world.provider_exists(&self.provider) {
            return Err(ContractProblem::UnknownProvider(self.provider.clone()));
        }
        let mut offers = Vec::with_capacity(self.offers.len());
        for id in &self.offers {
            let offer = world.offer(id).ok_or_else(|| ContractProblem::UnknownOffer(id.clone()))?;
            if offer.kind != OfferKind::Provider {
                return Err(ContractProblem::OfferNotACourse(id.clone()));
            }
            if offer.provider != self.provider {
                return Err(ContractProblem::OfferOfAnotherProvider {
                    offer: id.clone(),
                    owner: offer.provider.clone(),
                });
            }
            if !offer.serves_municipalities.is_empty()
                && !offer.serves_municipalities.contains(&self.municipality)
                && offer.municipality != self.municipality
            {
                return Err(ContractProblem::OfferNotServing {
                    offer: id.clone(),
                    municipality: self.municipality,
                });
            }
            if self.kind == ContractKind::Specialist
                && !offer.target_groups.is_empty()
                && !offer.target_groups.intersects(self.target_groups)
            {
                return Err(ContractProblem::GroupsDisjoint(id.clone()));
            }
            offers.push(offer);
        }
        let capacity: u32 = offers.iter().map(|o| o.capacity).fold(0u32, u32::saturating_add);
        if self.guaranteed_volume > capacity {
            return Err(ContractProblem::GuaranteeAboveOfferPlaces {
                guaranteed: self.guaranteed_volume,
                capacity,
            });
        }
        let capacities: Vec<u32> = offers.iter().map(|o| o.capacity).collect();
        for ((offer, share), id) in offers.iter().zip(self.guarantee_shares(&capacities)).zip(&self.offers) {
            if let Some(said) = offer.contract
                && said != self.kind
            {
                return Err(ContractProblem::OfferSaysOtherKind {
                    offer: id.clone(),
                    said: said.label(),
                    kind: self.kind.label(),
                });
            }
            if offer.guaranteed_volume > 0 && offer.guaranteed_volume != share {
                return Err(ContractProblem::OfferSaysOtherGuarantee {
                    offer: id.clone(),
                    said: offer.guaranteed_volume,
                    share,
                });
            }
        }
        Ok(())
    }

    /// The guaranteed volume shared over the covered offers in proportion to their places
    /// (`capacities`, in the order of [`Contract::offers`]): largest remainder, ties to the
    /// earlier offer. Never above an offer's places when the guarantee fits the places.
    ///
    /// # Example
    /// ```
    /// # use matcher_core::model::*;
    /// let c = Contract {
    ///     id: ContractId::new("k-1").unwrap(),
    ///     municipality: MunicipalityCode(851),
    ///     provider: ProviderId::new("lev-1").unwrap(),
    ///     kind: ContractKind::StrategicPartner,
    ///     price_dkk: 0,
    ///     places: 40,
    ///     guaranteed_volume: 10,
    ///     start: Date::parse("2026-01-01").unwrap(),
    ///     end: Date::parse("2026-12-31").unwrap(),
    ///     target_groups: GroupSet::EMPTY,
    ///     offers: vec![OfferId::new("a").unwrap(), OfferId::new("b").unwrap()],
    /// };
    /// assert_eq!(c.guarantee_shares(&[30, 10]), vec![8, 2]);
    /// ```
    pub fn guarantee_shares(&self, capacities: &[u32]) -> Vec<u32> {
        let total: u64 = capacities.iter().map(|&c| u64::from(c)).sum();
        let g = u64::from(self.guaranteed_volume);
        if total == 0 || g == 0 {
            return vec![0; capacities.len()];
        }
        let mut shares: Vec<u32> = capacities.iter().map(|&c| (g * u64::from(c) / total) as u32).collect();
        let mut left = g - shares.iter().map(|&s| u64::from(s)).sum::<u64>();
        let mut order: Vec<usize> = (0..capacities.len()).collect();
        // Largest remainder first; the sort is stable, so ties keep the offers' order.
        order.sort_by_key(|&i| std::cmp::Reverse(g * u64::from(capacities[i]) % total));
        for i in order {
            if left == 0 {
                break;
            }
            if shares[i] < capacities[i] {
                shares[i] += 1;
                left -= 1;
            }
        }
        shares
    }
}

/// Every pair of contracts that cover the same offer in overlapping periods: `(index of the
/// later contract, problem)`, in contract order.
pub fn check_overlaps(contracts: &[Contract]) -> Vec<(usize, ContractProblem)> {
    let mut by_offer: std::collections::HashMap<&OfferId, Vec<usize>> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for (i, c) in contracts.iter().enumerate() {
        let mut found = None;
        for offer in &c.offers {
            let earlier = by_offer.entry(offer).or_default();
            if found.is_none()
                && let Some(&k) = earlier.iter().find(|&&k| contracts[k].overlaps(c))
            {
                found =
                    Some(ContractProblem::Overlaps { offer: offer.clone(), other: contracts[k].id.clone() });
            }
            earlier.push(i);
        }
        if let Some(problem) = found {
            out.push((i, problem));
        }
    }
    out
}

/// Which contract rules a night applies (all of them normally; the report turns one off at a
/// time to price it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractRules {
    /// A buffer is used only when the specialists and partners in a candidate's reach are full.
    pub buffer_last: bool,
    /// A specialist takes only its target groups.
    pub specialist_groups: bool,
    /// A strategic partner's guaranteed volume is filled when feasible.
    pub guarantees: bool,
}

impl Default for ContractRules {
    fn default() -> Self {
        ContractRules { buffer_last: true, specialist_groups: true, guarantees: true }
    }
}

impl ContractRules {
    /// The rules both `self` and `other` apply.
    pub fn and(self, other: ContractRules) -> ContractRules {
        ContractRules {
            buffer_last: self.buffer_last && other.buffer_last,
            specialist_groups: self.specialist_groups && other.specialist_groups,
            guarantees: self.guarantees && other.guarantees,
        }
    }
}

/// The contract terms of one offer on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OfferTerms {
    /// Index into [`Dataset::contracts`] of the contract in force that covers it.
    pub contract: Option<usize>,
    /// The contract kind (the contract's, or the offer's own column without one).
    pub kind: Option<ContractKind>,
    /// Guaranteed places at this offer.
    pub guaranteed: u32,
}

/// Per offer, the terms on `day`: from the contract in force that covers it, or else from the
/// offer's own columns.
pub fn offer_terms(data: &Dataset, day: Date) -> Vec<OfferTerms> {
    let mut terms: Vec<OfferTerms> = data
        .offers
        .iter()
        .map(|o| OfferTerms {
            contract: None,
            kind: o.contract,
            guaranteed: if o.contract == Some(ContractKind::StrategicPartner) {
                o.guaranteed_volume
            } else {
                0
            },
        })
        .collect();
    if data.contracts.is_empty() {
        return terms;
    }
    let index: std::collections::HashMap<&str, usize> =
        data.offers.iter().enumerate().map(|(j, o)| (o.id.as_str(), j)).collect();
    for (k, c) in data.contracts.iter().enumerate().filter(|(_, c)| c.in_force(day)) {
        let covered: Vec<usize> = c.offers.iter().filter_map(|id| index.get(id.as_str()).copied()).collect();
        let capacities: Vec<u32> = covered.iter().map(|&j| data.offers[j].capacity).collect();
        for (&j, share) in covered.iter().zip(c.guarantee_shares(&capacities)) {
            terms[j] = OfferTerms { contract: Some(k), kind: Some(c.kind), guaranteed: share };
        }
    }
    terms
}

/// The data set as the night on `day` sees it: each offer's `contract` and
/// `guaranteed_volume` from [`offer_terms`], its price from a contract that gives one, and a
/// specialist's offers narrowed to the contract's target groups. `rules` says which rules the
/// municipality holding a contract applies (for an offer without a contract, the offer's
/// municipality). `None` when nothing changes, so the caller can keep its data set.
///
/// A copy of the whole data set; the night itself uses [`apply_in_place`], which changes the
/// offers only.
pub fn apply(
    data: &Dataset,
    day: Date,
    rules: impl Fn(MunicipalityCode) -> ContractRules,
) -> Option<Dataset> {
    if !changes_offers(data, &rules) {
        return None;
    }
    let mut out = data.clone();
    apply_in_place(&mut out, day, rules);
    Some(out)
}

/// Whether [`apply_in_place`] can change anything: there are contracts, or an offer's own
/// guaranteed volume is turned off by its municipality's rules.
pub fn changes_offers(data: &Dataset, rules: impl Fn(MunicipalityCode) -> ContractRules) -> bool {
    !data.contracts.is_empty()
        || data.offers.iter().any(|o| o.guaranteed_volume > 0 && !rules(o.municipality).guarantees)
}

/// [`apply`] on the data set itself: the offers take the terms of the contracts in force on
/// `day`; candidates, contracts and the rest are left as they are. The national night holds
/// one data set instead of two (issue 18: the copy was ~100 MB of the peak).
pub fn apply_in_place(data: &mut Dataset, day: Date, rules: impl Fn(MunicipalityCode) -> ContractRules) {
    if !changes_offers(data, &rules) {
        return;
    }
    let terms = offer_terms(data, day);
    let contracts = &data.contracts;
    for (offer, t) in data.offers.iter_mut().zip(&terms) {
        // The night holds the only reference to its offers: no offer is copied here.
        let offer = std::sync::Arc::make_mut(offer);
        let contract = t.contract.map(|k| &contracts[k]);
        let rules = rules(contract.map_or(offer.municipality, |c| c.municipality));
        offer.contract = t.kind;
        offer.guaranteed_volume = if rules.guarantees { t.guaranteed } else { 0 };
        let Some(contract) = contract else { continue };
        if contract.price_dkk > 0 {
            offer.price_dkk = contract.price_dkk;
        }
        if rules.specialist_groups && contract.kind == ContractKind::Specialist {
            offer.target_groups = specialist_groups(offer.target_groups, contract.target_groups);
        }
    }
}

/// The groups a specialist's offer takes under its contract: those both name. An empty set
/// means every group, so an offer whose own groups share none with the contract's (changed
/// after the contract was checked) takes the contract's, which is what the municipality buys;
/// the plain intersection would have been empty and opened it to every group. A contract that
/// names no groups leaves the offer's own.
fn specialist_groups(offer: GroupSet, contract: GroupSet) -> GroupSet {
    let both = GroupSet(offer.0 & contract.0);
    match (offer.is_empty(), contract.is_empty()) {
        (_, true) => offer,
        (true, false) => contract,
        (false, false) if both.is_empty() => contract,
        (false, false) => both,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GroupId;

    #[test]
    fn a_specialist_offer_never_opens_to_every_group() {
        let set = |gs: &[u8]| {
            let mut s = GroupSet::EMPTY;
            for &g in gs {
                s.insert(GroupId(g));
            }
            s
        };
        // Sharing some: those. Sharing none: the contract's, never the empty "all".
        assert_eq!(specialist_groups(set(&[1, 2]), set(&[2, 3])), set(&[2]));
        assert_eq!(specialist_groups(set(&[1]), set(&[3])), set(&[3]));
        assert_eq!(specialist_groups(GroupSet::EMPTY, set(&[3])), set(&[3]));
        assert_eq!(specialist_groups(set(&[1]), GroupSet::EMPTY), set(&[1]));
        assert!(specialist_groups(GroupSet::EMPTY, GroupSet::EMPTY).is_empty());
    }

    /// The shared test offer, as an uncontracted course of `provider` serving Aalborg.
    fn offer(id: &str, provider: &str, capacity: u32) -> Offer {
        Offer {
            name: id.into(),
            provider: ProviderId::new(provider).unwrap(),
            municipality: MunicipalityCode(851),
            serves_municipalities: vec![MunicipalityCode(851)],
            capacity,
            price_dkk: 20_000,
            contract: None,
            target_groups: GroupSet::EMPTY,
            duration_weeks: 10,
            ..crate::score::tests::offer(
                &crate::score::tests::reference(),
                id,
                OfferKind::Provider,
                57.0,
                9.9,
            )
        }
    }

    fn contract(kind: ContractKind, offers: &[&str]) -> Contract {
        Contract {
            id: ContractId::new("k-1").unwrap(),
            municipality: MunicipalityCode(851),
            provider: ProviderId::new("lev-1").unwrap(),
            kind,
            price_dkk: 0,
            places: 40,
            guaranteed_volume: 0,
            start: Date::parse("2026-01-01").unwrap(),
            end: Date::parse("2026-12-31").unwrap(),
            target_groups: GroupSet::EMPTY,
            offers: offers.iter().map(|o| OfferId::new(o).unwrap()).collect(),
        }
    }

    struct World(Vec<Offer>);
    impl ContractWorld for World {
        fn municipality_exists(&self, code: MunicipalityCode) -> bool {
            code.0 == 851
        }
        fn provider_exists(&self, id: &ProviderId) -> bool {
            id.as_str().starts_with("lev-")
        }
        fn offer(&self, id: &OfferId) -> Option<&Offer> {
            self.0.iter().find(|o| &o.id == id)
        }
    }

    #[test]
    fn every_bad_contract_is_named_by_its_field() {
        let world = World(vec![offer("a", "lev-1", 10), offer("b", "lev-2", 10)]);
        let ok = contract(ContractKind::Buffer, &["a"]);
        assert_eq!(ok.validate(&world), Ok(()));
        let cases: Vec<(Contract, &str)> = vec![
            (Contract { guaranteed_volume: 5, ..ok.clone() }, "guaranteed_volume"),
            (
                Contract { kind: ContractKind::StrategicPartner, guaranteed_volume: 41, ..ok.clone() },
                "guaranteed_volume",
            ),
            (
                Contract { kind: ContractKind::StrategicPartner, guaranteed_volume: 11, ..ok.clone() },
                "guaranteed_volume",
            ),
            (Contract { end: Date::parse("2025-12-31").unwrap(), ..ok.clone() }, "end"),
            (Contract { kind: ContractKind::Specialist, ..ok.clone() }, "target_groups"),
            (Contract { municipality: MunicipalityCode(9999), ..ok.clone() }, "municipality"),
            (Contract { provider: ProviderId::new("x").unwrap(), ..ok.clone() }, "provider_id"),
            (contract(ContractKind::Buffer, &["zz"]), "offers"),
            (contract(ContractKind::Buffer, &["b"]), "offers"),
            (contract(ContractKind::Buffer, &["a", "a"]), "offers"),
            (contract(ContractKind::Buffer, &[]), "offers"),
        ];
        for (c, field) in cases {
            let problem = c.validate(&world).expect_err(field);
            assert_eq!(problem.field(), field, "{problem}");
        }
    }

    #[test]
    fn an_offer_column_that_disagrees_with_its_contract_is_refused() {
        let mut a = offer("a", "lev-1", 10);
        a.contract = Some(ContractKind::Specialist);
        let world = World(vec![a]);
        let problem = contract(ContractKind::Buffer, &["a"]).validate(&world).unwrap_err();
        assert!(matches!(problem, ContractProblem::OfferSaysOtherKind { .. }), "{problem}");
    }

    #[test]
    fn guarantees_are_shared_by_places_and_never_exceed_them() {
        let c = Contract {
            kind: ContractKind::StrategicPartner,
            guaranteed_volume: 7,
            ..contract(ContractKind::StrategicPartner, &["a", "b", "c"])
        };
        let shares = c.guarantee_shares(&[5, 5, 1]);
        assert_eq!(shares.iter().sum::<u32>(), 7);
        assert!(shares.iter().zip([5, 5, 1]).all(|(s, c)| *s <= c));
        assert_eq!(c.guarantee_shares(&[0, 0, 0]), vec![0, 0, 0]);
        let full = Contract { guaranteed_volume: 11, ..c };
        assert_eq!(full.guarantee_shares(&[5, 5, 1]), vec![5, 5, 1]);
    }

    #[test]
    fn contracts_in_force_set_the_terms_and_old_columns_stay_without_one() {
        let mut data = Dataset {
            offers: vec![
                std::sync::Arc::new(offer("a", "lev-1", 10)),
                std::sync::Arc::new(offer("b", "lev-1", 10)),
                std::sync::Arc::new(offer("c", "lev-1", 10)),
            ],
            ..Dataset::default()
        };
        std::sync::Arc::make_mut(&mut data.offers[2]).contract = Some(ContractKind::StrategicPartner);
        std::sync::Arc::make_mut(&mut data.offers[2]).guaranteed_volume = 4;
        let mut groups = GroupSet::EMPTY;
        groups.insert(GroupId(2));
        data.contracts = vec![
            Contract {
                target_groups: groups,
                price_dkk: 9_000,
                ..contract(ContractKind::Specialist, &["a"])
            },
            Contract {
                id: ContractId::new("k-2").unwrap(),
                start: Date::parse("2027-01-01").unwrap(),
                end: Date::parse("2027-12-31").unwrap(),
                ..contract(ContractKind::Buffer, &["b"])
            },
        ];
        let day = Date::parse("2026-06-01").unwrap();
        let terms = offer_terms(&data, day);
        assert_eq!(terms[0].kind, Some(ContractKind::Specialist));
        assert_eq!(terms[1], OfferTerms::default(), "a contract not yet in force does nothing");
        assert_eq!((terms[2].kind, terms[2].guaranteed), (Some(ContractKind::StrategicPartner), 4));
        let all = |_| ContractRules::default();
        let night = apply(&data, day, all).unwrap();
        assert_eq!((night.offers[0].price_dkk, night.offers[0].target_groups), (9_000, groups));
        let open =
            apply(&data, day, |_| ContractRules { specialist_groups: false, ..ContractRules::default() });
        assert!(open.unwrap().offers[0].target_groups.is_empty());
        let none = apply(&data, day, |_| ContractRules { guarantees: false, ..ContractRules::default() });
        assert_eq!(none.unwrap().offers[2].guaranteed_volume, 0);
    }

    #[test]
    fn terms_in_place_change_the_offers_as_the_copy_does_and_nothing_else() {
        let mut data = Dataset {
            offers: vec![
                std::sync::Arc::new(offer("a", "lev-1", 10)),
                std::sync::Arc::new(offer("b", "lev-1", 10)),
            ],
            contracts: vec![Contract { price_dkk: 7_000, ..contract(ContractKind::Buffer, &["a"]) }],
            ..Dataset::default()
        };
        let day = Date::parse("2026-06-01").unwrap();
        let all = |_| ContractRules::default();
        let copy = apply(&data, day, all).unwrap();
        assert!(changes_offers(&data, all));
        apply_in_place(&mut data, day, all);
        assert_eq!(data, copy);
        assert_eq!((data.offers[0].contract, data.offers[0].price_dkk), (Some(ContractKind::Buffer), 7_000));
        assert_eq!(data.offers[1].price_dkk, 20_000, "an offer no contract covers keeps its price");
        let mut plain =
            Dataset { offers: vec![std::sync::Arc::new(offer("c", "lev-1", 10))], ..Dataset::default() };
        assert!(!changes_offers(&plain, all) && apply(&plain, day, all).is_none());
        let before = plain.clone();
        apply_in_place(&mut plain, day, all);
        assert_eq!(plain, before);
    }

    #[test]
    fn overlapping_contracts_on_one_offer_are_found() {
        let a = contract(ContractKind::Buffer, &["a"]);
        let b = Contract { id: ContractId::new("k-2").unwrap(), ..a.clone() };
        let c = Contract {
            id: ContractId::new("k-3").unwrap(),
            start: Date::parse("2027-01-01").unwrap(),
            end: Date::parse("2027-12-31").unwrap(),
            ..a.clone()
        };
        let found = check_overlaps(&[a, b, c]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 1);
    }
}
