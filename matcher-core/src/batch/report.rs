//! The numbers of the morning report, computed from a run. Plain data (serialised to
//! `report.json`); the binary renders it to HTML. Protected attributes appear here, in the
//! fairness tables, and nowhere in scoring.

use super::{BatchResult, Change, MethodSummary, UnmatchedReason};
use crate::model::{AgeBand, Dataset, ReferenceData};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts and effect for one slice of the candidates (a group, a municipality, an age band).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slice {
    /// Code or label of the slice.
    pub key: String,
    /// Readable name.
    pub name: String,
    /// Candidates in the slice.
    pub candidates: usize,
    /// Of those, with a suggestion.
    pub matched: usize,
    /// `matched / candidates`.
    pub match_rate: f64,
    /// Total expected effect, DKK.
    pub effect_dkk: f64,
    /// Mean expected effect per matched candidate, DKK.
    pub mean_effect_dkk: f64,
}

/// Suggestions whose expected net effect is negative, by why (see `batch::EffectFlag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NegativeEffect {
    /// Even the optimistic end of the uplift does not pay for the price.
    pub small_for_price: usize,
    /// The expected effect does not pay; the record is too thin to say.
    pub too_uncertain: usize,
}

/// The certificate in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateSummary {
    /// Total score of the assignment (with continuity bonuses), points.
    pub objective: i64,
    /// Primal value of the modified problem the certificate is about: the objective plus the
    /// guarantee bonus for every guaranteed place filled (see `assign::verify`).
    pub modified_primal: i128,
    /// The dual bound of the modified problem.
    pub dual_bound: Option<i128>,
    /// Dual bound minus primal; 0 proves optimality.
    pub gap: Option<i128>,
    /// Guaranteed places: contracted, fillable at most, filled.
    pub guarantees: Option<super::GuaranteeProof>,
}

/// Churn against the current assignment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Churn {
    /// Locked courses kept.
    pub locked_kept: usize,
    /// Candidates whose current offer is suggested again.
    pub kept: usize,
    /// Candidates suggested a different offer.
    pub changed: usize,
    /// Candidates without an offer who get one.
    pub new: usize,
    /// Candidates with a current offer who get no suggestion.
    pub dropped: usize,
    /// Candidates with neither.
    pub unmatched: usize,
}

/// One offer's capacity line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferLine {
    /// Offer id.
    pub offer: String,
    /// Offer name.
    pub name: String,
    /// Places.
    pub capacity: u32,
    /// Places given.
    pub assigned: u32,
    /// Value of one more place, points.
    pub price: i64,
}

/// A strategic partner's guaranteed volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guarantee {
    /// Offer id.
    pub offer: String,
    /// Guaranteed minimum.
    pub guaranteed: u32,
    /// Given in this run.
    pub assigned: u32,
    /// Missing places (0 when met).
    pub short: u32,
}

/// Capacity use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// Places in all offers.
    pub places: u64,
    /// Places given.
    pub assigned: u64,
    /// Offers with at least one place.
    pub open_offers: usize,
    /// Of those, offers given nobody.
    pub empty_offers: usize,
    /// Offers with a waiting line: full, with a positive price; highest price first (top 20).
    pub waiting_lines: Vec<OfferLine>,
    /// Offers with a waiting line, in all.
    pub offers_with_waiting_line: usize,
    /// Guaranteed volumes, met or short.
    pub guarantees: Vec<Guarantee>,
    /// Utilisation per offer kind: (kind, places, assigned).
    pub by_kind: Vec<(String, u64, u64)>,
}

/// Spend with one provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderSpend {
    /// Provider id.
    pub provider: String,
    /// Provider name.
    pub name: String,
    /// Courses bought in this run.
    pub courses: u32,
    /// Places the provider offers.
    pub places: u64,
    /// Spend, DKK.
    pub spend_dkk: u64,
}

/// One contract's night: places, use, guarantee and shortfall, spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractLine {
    /// Contract id.
    pub contract: String,
    /// The municipality holding it.
    pub municipality: String,
    /// Provider id.
    pub provider: String,
    /// Provider name.
    pub provider_name: String,
    /// `buffer`, `specialist` or `strategic_partner`.
    pub kind: String,
    /// Places of its offers tonight.
    pub places: u64,
    /// Places given tonight (running courses included).
    pub used: u64,
    /// Guaranteed places tonight.
    pub guaranteed: u64,
    /// Guaranteed places not filled (0 when met).
    pub short: u64,
    /// Price of tonight's new suggestions at its offers, DKK.
    pub spend_dkk: u64,
}

/// Spend of one municipality's candidates, by contract kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MunicipalitySpend {
    /// Municipality code.
    pub municipality: String,
    /// Name.
    pub name: String,
    /// Price of tonight's new suggestions, DKK.
    pub spend_dkk: u64,
    /// Of which under a strategic-partner contract, DKK.
    pub strategic_partner_dkk: u64,
    /// Of which under a specialist contract, DKK.
    pub specialist_dkk: u64,
    /// Of which under a buffer contract, DKK.
    pub buffer_dkk: u64,
    /// Of which without a contract, DKK.
    pub no_contract_dkk: u64,
    /// Providers with spend.
    pub providers: usize,
    /// The fewest providers that carry 80 % of the spend.
    pub providers_for_80_percent: usize,
}

/// Contracts in the night: what each rule costs, each contract's use and guarantee, and spend
/// per municipality.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContractsReport {
    /// What the buffer rule did to the problem.
    pub buffer_rule: super::rules::BufferRule,
    /// What each rule costs against the same night without it (empty when not asked for).
    pub rule_costs: Vec<super::rules::RuleCost>,
    /// Tonight: candidates at a buffer while a specialist or partner in reach had a free place.
    pub buffer_breaches: usize,
    /// One line per contract in force.
    pub contracts: Vec<ContractLine>,
    /// Guaranteed places short, all contracts together.
    pub guaranteed_short: u64,
    /// Spend per municipality (of the candidates), largest first.
    pub spend_by_municipality: Vec<MunicipalitySpend>,
}

/// One provider × target group line of the orderer's overview (`provider_groups.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderGroupLine {
    /// Provider id.
    pub provider: String,
    /// Provider name.
    pub provider_name: String,
    /// Target group code.
    pub target_group: String,
    /// Places of the provider's courses that take the group (open courses included).
    pub places: u64,
    /// Candidates of the group suggested one of those courses tonight (running included).
    pub used: u64,
    /// Mean price per course of those courses, DKK.
    pub mean_price_dkk: u64,
    /// Price of tonight's new suggestions of the group there, DKK.
    pub spend_dkk: u64,
    /// Contract kinds of those courses (`;`-separated; `none` without one).
    pub contract: String,
}

/// The provider × target group overview of a run: provider courses only, one line per provider
/// and group its courses take, in provider and group order.
pub fn provider_groups(result: &BatchResult, reference: &ReferenceData) -> Vec<ProviderGroupLine> {
    let data = &*result.night;
    let names: BTreeMap<&str, &str> =
        data.providers.iter().map(|p| (p.id.as_str(), p.name.as_str())).collect();
    #[derive(Default)]
    struct Acc {
        places: u64,
        price_sum: u64,
        courses: u64,
        used: u64,
        spend: u64,
        kinds: std::collections::BTreeSet<&'static str>,
    }
    let mut lines: BTreeMap<(&str, u8), Acc> = BTreeMap::new();
    let all = crate::model::GroupSet((1u64 << reference.target_groups.len().min(63)) - 1);
    for o in data.offers.iter().filter(|o| o.kind == crate::model::OfferKind::Provider) {
        let groups = if o.target_groups.is_empty() { all } else { o.target_groups };
        for g in groups.iter() {
            let a = lines.entry((o.provider.as_str(), g.0)).or_default();
            a.places += u64::from(o.capacity);
            a.price_sum += u64::from(o.price_dkk);
            a.courses += 1;
            a.kinds.insert(o.contract.map_or("none", |k| k.label()));
        }
    }
    for (p, c) in result.proposals.iter().zip(&data.candidates) {
        let Some(j) = p.offer else { continue };
        let o = &data.offers[j as usize];
        if o.kind != crate::model::OfferKind::Provider {
            continue;
        }
        for g in c.target_groups.iter() {
            if let Some(a) = lines.get_mut(&(o.provider.as_str(), g.0)) {
                a.used += 1;
                if p.change != Change::Locked {
                    a.spend += u64::from(o.price_dkk);
                }
            }
        }
    }
    lines
        .into_iter()
        .map(|((provider, g), a)| ProviderGroupLine {
            provider: provider.to_string(),
            provider_name: names.get(provider).copied().unwrap_or_default().to_string(),
            target_group: reference
                .target_groups
                .get(usize::from(g))
                .map_or(String::new(), |t| t.code.clone()),
            places: a.places,
            used: a.used,
            mean_price_dkk: a.price_sum / a.courses.max(1),
            spend_dkk: a.spend,
            contract: a.kinds.into_iter().collect::<Vec<_>>().join(";"),
        })
        .collect()
}

/// The fewest of `spends` (any order) that carry 80 % of their sum.
fn tail_80(mut spends: Vec<u64>) -> usize {
    spends.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = spends.iter().sum();
    let mut running = 0u64;
    spends
        .iter()
        .position(|s| {
            running += s;
            running * 10 >= total * 8
        })
        .map_or(0, |i| i + 1)
}

/// The contracts part of the report.
fn contracts_report(data: &Dataset, reference: &ReferenceData, result: &BatchResult) -> ContractsReport {
    let terms = crate::model::contract::offer_terms(data, result.today);
    let names: BTreeMap<&str, &str> =
        data.providers.iter().map(|p| (p.id.as_str(), p.name.as_str())).collect();
    let mut spend_at = vec![0u64; data.offers.len()];
    let mut by_municipality: BTreeMap<
        crate::model::MunicipalityCode,
        (MunicipalitySpend, BTreeMap<&str, u64>),
    > = BTreeMap::new();
    for (p, c) in result.proposals.iter().zip(&data.candidates) {
        let Some(j) = p.offer.filter(|_| p.change != Change::Locked) else { continue };
        let o = &data.offers[j as usize];
        let price = u64::from(o.price_dkk);
        spend_at[j as usize] += price;
        let (line, providers) = by_municipality.entry(c.municipality).or_insert_with(|| {
            (
                MunicipalitySpend {
                    municipality: c.municipality.to_string(),
                    name: reference.municipality(c.municipality).map_or(String::new(), |m| m.name.clone()),
                    spend_dkk: 0,
                    strategic_partner_dkk: 0,
                    specialist_dkk: 0,
                    buffer_dkk: 0,
                    no_contract_dkk: 0,
                    providers: 0,
                    providers_for_80_percent: 0,
                },
                BTreeMap::new(),
            )
        });
        line.spend_dkk += price;
        match o.contract {
            Some(crate::model::ContractKind::StrategicPartner) => line.strategic_partner_dkk += price,
            Some(crate::model::ContractKind::Specialist) => line.specialist_dkk += price,
            Some(crate::model::ContractKind::Buffer) => line.buffer_dkk += price,
            None => line.no_contract_dkk += price,
        }
        if price > 0 {
            *providers.entry(o.provider.as_str()).or_default() += price;
        }
    }
    let mut spend_by_municipality: Vec<MunicipalitySpend> = by_municipality
        .into_values()
        .map(|(mut line, providers)| {
            line.providers = providers.len();
            line.providers_for_80_percent = tail_80(providers.into_values().collect());
            line
        })
        .collect();
    spend_by_municipality
        .sort_by(|a, b| b.spend_dkk.cmp(&a.spend_dkk).then_with(|| a.municipality.cmp(&b.municipality)));
    // Each contract's offers, listed once: a scan of every offer per contract was 2,520 × 33,000
    // steps on the national night (~75 ms of the report's one core).
    let mut offers_of: Vec<Vec<usize>> = vec![Vec::new(); data.contracts.len()];
    for (j, t) in terms.iter().enumerate() {
        if let Some(list) = t.contract.and_then(|k| offers_of.get_mut(k)) {
            list.push(j);
        }
    }
    let mut contracts = Vec::new();
    for (k, c) in data.contracts.iter().enumerate().filter(|(_, c)| c.in_force(result.today)) {
        let mut line = ContractLine {
            contract: c.id.to_string(),
            municipality: c.municipality.to_string(),
            provider: c.provider.to_string(),
            provider_name: names.get(c.provider.as_str()).copied().unwrap_or_default().to_string(),
            kind: c.kind.label().to_string(),
            places: 0,
            used: 0,
            guaranteed: 0,
            short: 0,
            spend_dkk: 0,
        };
        for &j in &offers_of[k] {
            let t = &terms[j];
            let assigned = u64::from(result.prices.get(j).map_or(0, |p| p.assigned));
            let guaranteed = u64::from(data.offers[j].guaranteed_volume);
            line.places += u64::from(data.offers[j].capacity);
            line.used += assigned;
            line.guaranteed += guaranteed;
            line.short += guaranteed.saturating_sub(assigned);
            line.spend_dkk += spend_at[j];
            debug_assert_eq!(t.kind, Some(c.kind));
        }
        contracts.push(line);
    }
    // The night's locks (as `problem_of_night` reads them) and the graph's rows, borrowed: no
    // copy of the graph's 14 M edges for one count.
    let (_, locked) = super::current_and_locked_by_id(data);
    let night = super::rules::Rows {
        offsets: &result.graph.offsets,
        offers: &result.graph.offers,
        locked: &locked,
        capacity: &|j| data.offers[j as usize].capacity,
    };
    ContractsReport {
        buffer_rule: result.buffer_rule,
        rule_costs: result.rule_costs.clone(),
        buffer_breaches: super::rules::buffer_breaches_in(&night, data, &result.solution.assignment).len(),
        guaranteed_short: contracts.iter().map(|c| c.short).sum(),
        contracts,
        spend_by_municipality,
    }
}

/// The morning report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Day of the run.
    pub date: String,
    /// Candidates in the run.
    pub candidates: usize,
    /// Offers in the run.
    pub offers: usize,
    /// Edges in the candidate graph.
    pub graph_edges: usize,
    /// Candidates with a suggestion.
    pub matched: usize,
    /// Total expected effect of the suggestions, DKK.
    pub effect_dkk: f64,
    /// Total price of the suggested courses, DKK: tonight's new spend (locked, running
    /// courses were paid for the night they were suggested and are not counted again).
    pub spend_dkk: u64,
    /// Per target group (a candidate in two groups counts in both: see
    /// [`Report::candidates_in_several_groups`]).
    pub by_group: Vec<Slice>,
    /// Candidates counted in more than one group row: the group rows overlap by this many and
    /// add up to more than the total.
    pub candidates_in_several_groups: usize,
    /// Suggestions expected to cost more than they save, by why.
    pub negative_effect: NegativeEffect,
    /// Per municipality.
    pub by_municipality: Vec<Slice>,
    /// The certificate.
    pub certificate: CertificateSummary,
    /// Optimal against the baselines.
    pub methods: Vec<MethodSummary>,
    /// Churn against the candidates' current offers.
    pub churn: Churn,
    /// Tonight against the previous run's suggestions (`--previous`); absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stability: Option<super::stability::Stability>,
    /// Capacity.
    pub capacity: Capacity,
    /// Spend per provider, largest first (top 25).
    pub providers: Vec<ProviderSpend>,
    /// Providers with any spend.
    pub providers_with_spend: usize,
    /// The fewest providers that carry 80% of the spend.
    pub providers_for_80_percent: usize,
    /// Unmatched candidates by reason.
    pub unmatched_by_reason: Vec<(String, usize)>,
    /// Fairness: match rate and mean effect by age band.
    pub by_age_band: Vec<Slice>,
    /// Fairness: by region.
    pub by_region: Vec<Slice>,
    /// Fairness (audit only): by gender, as recorded.
    pub by_gender: Vec<Slice>,
    /// Fairness (audit only): by origin, as recorded.
    pub by_origin: Vec<Slice>,
    /// Fairness with uncertainty: intervals, small-sample warnings and the causes of each
    /// gap, by gender, origin, age band and region (`batch::fairness`); absent in reports
    /// written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness: Option<super::fairness::Fairness>,
    /// Caseloads before and after, when caseworkers were given (see `batch::caseload`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caseloads: Option<super::caseload::CaseloadReport>,
    /// Contracts: what each rule costs, each contract's use and guarantee, spend per
    /// municipality by contract kind.
    #[serde(default)]
    pub contracts: ContractsReport,
}

#[derive(Default)]
struct Acc<'a> {
    name: &'a str,
    candidates: usize,
    matched: usize,
    effect: f64,
}

/// The slices of one breakdown, accumulated in one slot per key: a candidate's slot is found
/// by index (group, municipality, band), never by a string key, and the key-ordered list is
/// made once at the end. Each slot sums its effects in candidate order, as a map by key did.
#[derive(Default)]
struct Tally<'a> {
    keys: std::collections::HashMap<String, usize>,
    slots: Vec<(String, Acc<'a>)>,
}

impl<'a> Tally<'a> {
    /// The slot of `key`, made on first use (a slot no candidate is added to is left out).
    fn slot(&mut self, key: String) -> usize {
        let next = self.slots.len();
        let at = *self.keys.entry(key).or_insert(next);
        if at == next {
            self.slots.push((String::new(), Acc::default()));
        }
        at
    }

    /// Counts one candidate in `slot`; the slot's name is that of its first candidate.
    fn add(&mut self, slot: usize, name: &'a str, matched: bool, effect: f64) {
        let a = &mut self.slots[slot].1;
        if a.candidates == 0 {
            a.name = name;
        }
        a.candidates += 1;
        a.matched += usize::from(matched);
        a.effect += effect;
    }

    fn into_slices(mut self) -> Vec<Slice> {
        for (key, at) in self.keys {
            self.slots[at].0 = key;
        }
        let map: BTreeMap<String, Acc<'a>> =
            self.slots.into_iter().filter(|(_, a)| a.candidates > 0).collect();
        slices(map)
    }
}

fn slices(map: BTreeMap<String, Acc<'_>>) -> Vec<Slice> {
    map.into_iter()
        .map(|(key, a)| Slice {
            key,
            name: a.name.to_string(),
            candidates: a.candidates,
            matched: a.matched,
            match_rate: if a.candidates > 0 { a.matched as f64 / a.candidates as f64 } else { 0.0 },
            effect_dkk: a.effect,
            mean_effect_dkk: if a.matched > 0 { a.effect / a.matched as f64 } else { 0.0 },
        })
        .collect()
}

/// Computes the report of a run.
///
/// # Complexity
/// One pass over the candidates with every slice found by index (group, municipality, age
/// band, gender, origin), one over the offers; the fairness section and the contracts part
/// run beside it on the current rayon pool.
pub fn build(data: &Dataset, reference: &ReferenceData, result: &BatchResult) -> Report {
    // The offers as the night saw them: the terms of the contracts in force (prices included).
    let data = if result.night.candidates.len() == data.candidates.len() { &*result.night } else { data };
    let ((mut report, fairness), contracts) = rayon::join(
        || {
            rayon::join(
                || summary(data, reference, result),
                || super::fairness::build(data, reference, result),
            )
        },
        || contracts_report(data, reference, result),
    );
    report.fairness = Some(fairness);
    report.contracts = contracts;
    report
}

/// The report without its fairness section and contracts part.
fn summary(data: &Dataset, reference: &ReferenceData, result: &BatchResult) -> Report {
    use super::fairness::{GENDERS, ORIGINS, band_class, gender_class, origin_class};
    let mut by_group = Tally::default();
    let mut by_municipality = Tally::default();
    let mut by_age = Tally::default();
    let mut by_region = Tally::default();
    let mut by_gender = Tally::default();
    let mut by_origin = Tally::default();
    // Slots by index: target group id, municipality code, age band, gender, origin.
    let group_slot: Vec<usize> =
        reference.target_groups.iter().map(|g| by_group.slot(g.code.clone())).collect();
    let mut municipality_slots: std::collections::HashMap<
        crate::model::MunicipalityCode,
        (usize, usize, &str, &str),
    > = std::collections::HashMap::new();
    let age_slot: Vec<usize> = (0..AgeBand::ALL.len()).map(|b| by_age.slot(format!("{b}"))).collect();
    let gender_slot: Vec<usize> = GENDERS.iter().map(|g| by_gender.slot((*g).into())).collect();
    let origin_slot: Vec<usize> = ORIGINS.iter().map(|o| by_origin.slot((*o).into())).collect();
    let mut churn = Churn::default();
    let mut reasons: BTreeMap<UnmatchedReason, usize> = BTreeMap::new();
    let mut effect_total = 0.0;
    // (courses, spend) by offer, summed into providers after the loop.
    let mut spend_by_offer: Vec<(u32, u64)> = vec![(0, 0); data.offers.len()];
    let mut spend_total = 0u64;
    let mut several_groups = 0usize;
    let mut negative = NegativeEffect::default();
    for (p, c) in result.proposals.iter().zip(&data.candidates) {
        several_groups += usize::from(c.target_groups.len() > 1);
        match p.effect_flag {
            Some(super::EffectFlag::SmallForPrice) => negative.small_for_price += 1,
            Some(super::EffectFlag::TooUncertain) => negative.too_uncertain += 1,
            None => {}
        }
        let matched = p.offer.is_some();
        let effect = p.effect_dkk;
        effect_total += effect;
        for g in c.target_groups.iter() {
            if let Some(group) = reference.target_groups.get(usize::from(g.0)) {
                by_group.add(group_slot[usize::from(g.0)], &group.name_en, matched, effect);
            }
        }
        let (m_slot, r_slot, m_name, r_name) =
            *municipality_slots.entry(c.municipality).or_insert_with(|| {
                let m = reference.municipality(c.municipality);
                (
                    by_municipality.slot(c.municipality.to_string()),
                    by_region.slot(m.map_or(String::new(), |m| m.region_code.to_string())),
                    m.map_or("", |m| m.name.as_str()),
                    m.map_or("", |m| m.region.as_str()),
                )
            });
        by_municipality.add(m_slot, m_name, matched, effect);
        by_region.add(r_slot, r_name, matched, effect);
        by_age.add(age_slot[band_class(c)], c.age_band.label(), matched, effect);
        let gender = gender_class(c);
        by_gender.add(gender_slot[gender], GENDERS[gender], matched, effect);
        let origin = origin_class(c);
        by_origin.add(origin_slot[origin], ORIGINS[origin], matched, effect);
        match p.change {
            Change::Locked => churn.locked_kept += 1,
            Change::Kept => churn.kept += 1,
            Change::Changed => churn.changed += 1,
            Change::New => churn.new += 1,
            Change::Unmatched if p.current.is_some() => churn.dropped += 1,
            Change::Unmatched => churn.unmatched += 1,
        }
        if let Some(reason) = p.unmatched_reason {
            *reasons.entry(reason).or_default() += 1;
        }
        if let Some(o) = p.offer.filter(|_| p.change != Change::Locked) {
            let price = u64::from(data.offers[o as usize].price_dkk);
            let entry = &mut spend_by_offer[o as usize];
            entry.0 += 1;
            entry.1 += price;
            spend_total += price;
        }
    }
    let mut spend_by_provider: BTreeMap<&str, (u32, u64)> = BTreeMap::new();
    for (offer, &(courses, spend)) in data.offers.iter().zip(&spend_by_offer) {
        if courses > 0 {
            let entry = spend_by_provider.entry(offer.provider.as_str()).or_default();
            entry.0 += courses;
            entry.1 += spend;
        }
    }
    let mut places_by_provider: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_kind: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut waiting = Vec::new();
    let mut guarantees = Vec::new();
    let (mut places, mut assigned_total, mut open_offers, mut empty_offers) = (0u64, 0u64, 0usize, 0usize);
    for (price, offer) in result.prices.iter().zip(&data.offers) {
        *places_by_provider.entry(offer.provider.as_str()).or_default() += u64::from(offer.capacity);
        let k = by_kind.entry(offer.kind.label()).or_default();
        k.0 += u64::from(offer.capacity);
        k.1 += u64::from(price.assigned);
        places += u64::from(offer.capacity);
        assigned_total += u64::from(price.assigned);
        if offer.capacity > 0 {
            open_offers += 1;
            empty_offers += usize::from(price.assigned == 0);
        }
        if price.price > 0 {
            waiting.push(OfferLine {
                offer: offer.id.to_string(),
                name: offer.name.clone(),
                capacity: offer.capacity,
                assigned: price.assigned,
                price: price.price,
            });
        }
        if offer.guaranteed_volume > 0 && offer.contract == Some(crate::model::ContractKind::StrategicPartner)
        {
            guarantees.push(Guarantee {
                offer: offer.id.to_string(),
                guaranteed: offer.guaranteed_volume,
                assigned: price.assigned,
                short: offer.guaranteed_volume.saturating_sub(price.assigned),
            });
        }
    }
    let offers_with_waiting_line = waiting.len();
    waiting.sort_by(|a, b| b.price.cmp(&a.price).then_with(|| a.offer.cmp(&b.offer)));
    waiting.truncate(20);
    let names: BTreeMap<&str, &str> =
        data.providers.iter().map(|p| (p.id.as_str(), p.name.as_str())).collect();
    let mut providers: Vec<ProviderSpend> = spend_by_provider
        .iter()
        .filter(|(_, (_, spend))| *spend > 0)
        .map(|(id, (courses, spend))| ProviderSpend {
            provider: id.to_string(),
            name: names.get(id).copied().unwrap_or_default().to_string(),
            courses: *courses,
            places: places_by_provider.get(id).copied().unwrap_or(0),
            spend_dkk: *spend,
        })
        .collect();
    providers.sort_by(|a, b| b.spend_dkk.cmp(&a.spend_dkk).then_with(|| a.provider.cmp(&b.provider)));
    let providers_with_spend = providers.len();
    let mut running = 0u64;
    let providers_for_80_percent = providers
        .iter()
        .position(|p| {
            running += p.spend_dkk;
            running * 10 >= spend_total * 8
        })
        .map_or(0, |i| i + 1);
    providers.truncate(25);
    Report {
        date: result.today.to_string(),
        candidates: data.candidates.len(),
        offers: data.offers.len(),
        graph_edges: result.graph.n_edges(),
        matched: result.solution.matched(),
        effect_dkk: effect_total,
        spend_dkk: spend_total,
        by_group: by_group.into_slices(),
        candidates_in_several_groups: several_groups,
        negative_effect: negative,
        by_municipality: by_municipality.into_slices(),
        certificate: CertificateSummary {
            objective: result.certificate.objective,
            modified_primal: result.certificate.modified_primal,
            dual_bound: result.certificate.dual,
            gap: result.certificate.gap,
            guarantees: result.guarantees,
        },
        methods: result.methods.clone(),
        churn,
        stability: result.stability.clone(),
        capacity: Capacity {
            places,
            assigned: assigned_total,
            open_offers,
            empty_offers,
            waiting_lines: waiting,
            offers_with_waiting_line,
            guarantees,
            by_kind: by_kind.into_iter().map(|(k, (p, a))| (k.to_string(), p, a)).collect(),
        },
        providers,
        providers_with_spend,
        providers_for_80_percent,
        unmatched_by_reason: UnmatchedReason::ALL
            .iter()
            .map(|r| (r.key().to_string(), reasons.get(r).copied().unwrap_or(0)))
            .collect(),
        by_age_band: by_age.into_slices(),
        by_region: by_region.into_slices(),
        by_gender: by_gender.into_slices(),
        by_origin: by_origin.into_slices(),
        fairness: None,
        caseloads: None,
        contracts: ContractsReport::default(),
    }
}
