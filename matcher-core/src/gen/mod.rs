//! Synthetic data sets for demos, tests and benchmarks, calibrated to the public figures in
//! `shared/DOMAIN.md`.
//!
//! Owns the generator and its pseudo-random numbers ([`rng`]). It is pure: no I/O, no clock,
//! no hash-map iteration, no random numbers but its own, so one seed gives one data set, byte
//! for byte, on any machine and with any crate versions. It must not read files (that is
//! [`crate::dataset`]) and must not hard-code what belongs to reference data: groups, benefit
//! kinds and occupations are looked up by code and skipped when absent.
//!
//! Everything generated is invented: people, providers, employers, prices, results. Names are
//! Danish, as a caseworker would see them, and names of organisations end in `(opdigtet)`
//! ("invented") so that nobody mistakes a demo for real data. Occupation titles come from the
//! reference data (DISCO-08 in Danish, English where Denmark has no title).

mod history;
pub mod rng;

use std::ops::RangeInclusive;

use crate::model::reference::SyntheticRegion;
use crate::model::{
    AgeBand, AuditAttributes, Benefit, Candidate, CandidateId, Caseworker, CaseworkerId, ContractKind,
    CurrentAssignment, Dataset, Date, Evidence, Gender, GroupId, GroupSet, Language, LatLon, Municipality,
    MunicipalityCode, Occupation, OccupationTitle, Offer, OfferId, OfferKind, Origin, Provider, ProviderId,
    ReferenceData, TimeAndPlace,
};
use rng::{Cumulative, Rng};

/// The size of a generated data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// About 2,000 candidates and 200 offers in four municipalities of North Jutland (one city,
    /// three rural neighbours): small enough to read.
    Demo,
    /// About 10,000 candidates and 1,500 offers: the stock of one large municipality (Aarhus).
    Municipality,
    /// About 250,000 candidates in all 98 municipalities, 3,000 provider offers, 25,000 jobs
    /// and work trials and 5,000 reciprocal-help needs: a whole country's nightly run.
    National,
    /// 1,000,000 candidates and 120,000 offers over Denmark and the reference data's synthetic
    /// regions (`data/reference-nordic/`: three copies of Denmark's geography in Sweden,
    /// Finland and the north, up to 70° N), the national mix of offers: the Nordic
    /// countries' nightly run, for load tests. Without synthetic regions in the reference
    /// data it is Denmark alone at four times the national density.
    Nordic,
}

impl Scale {
    /// Every scale.
    pub const ALL: [Scale; 4] = [Scale::Demo, Scale::Municipality, Scale::National, Scale::Nordic];

    /// The scale's name on the command line.
    pub fn label(self) -> &'static str {
        match self {
            Scale::Demo => "demo",
            Scale::Municipality => "municipality",
            Scale::National => "national",
            Scale::Nordic => "nordic",
        }
    }

    /// Parses `demo`, `municipality`, `national` or `nordic`.
    pub fn parse(text: &str) -> Option<Scale> {
        Scale::ALL.into_iter().find(|s| s.label() == text)
    }

    fn plan(self) -> Plan {
        match self {
            Scale::Demo => Plan {
                municipalities: &[851, 860, 810, 849],
                synthetic: false,
                candidates: 2_000,
                course_providers: 12,
                courses: 40,
                jobs: 80,
                trials: 50,
                help: 30,
                episodes: 4_000,
            },
            Scale::Municipality => Plan {
                municipalities: &[751],
                synthetic: false,
                candidates: 10_000,
                course_providers: 45,
                courses: 250,
                jobs: 700,
                trials: 350,
                help: 200,
                episodes: 15_000,
            },
            Scale::National => Plan {
                municipalities: &[],
                synthetic: false,
                candidates: 250_000,
                course_providers: 600,
                courses: 3_000,
                jobs: 15_000,
                trials: 10_000,
                help: 5_000,
                episodes: 60_000,
            },
            // The national mix of offers (3 : 15 : 10 : 5) scaled to 120,000.
            Scale::Nordic => Plan {
                municipalities: &[],
                synthetic: true,
                candidates: 1_000_000,
                course_providers: 2_400,
                courses: 10_910,
                jobs: 54_545,
                trials: 36_364,
                help: 18_181,
                episodes: 240_000,
            },
        }
    }
}

struct Plan {
    /// Municipality codes; empty for all Danish ones.
    municipalities: &'static [u16],
    /// With every synthetic region's municipalities too (when `municipalities` is empty).
    synthetic: bool,
    candidates: usize,
    course_providers: usize,
    courses: usize,
    jobs: usize,
    trials: usize,
    help: usize,
    /// Finished episodes of the `outcomes` history ([`history`]).
    episodes: usize,
}

/// The day the generated stock describes (a Monday). Benefit clocks are set relative to it.
pub const AS_OF: Date = Date(20_759); // 2026-11-02

/// Generates a data set. Pure and deterministic: the same `scale`, `seed` and `reference`
/// give the identical data set.
///
/// Target groups, benefit kinds and occupations are looked up by code in `reference`; a
/// segment whose group or benefit kind is missing is left out, so a reference without any of
/// the known groups gives a data set without candidates rather than a panic.
///
/// # Complexity
/// Linear in the number of candidates and offers.
pub fn generate(scale: Scale, seed: u64, reference: &ReferenceData) -> Dataset {
    generate_plan(&scale.plan(), seed, reference)
}

fn generate_plan(plan: &Plan, seed: u64, reference: &ReferenceData) -> Dataset {
    let areas = areas(reference, plan.municipalities, plan.synthetic);
    if areas.is_empty() {
        return Dataset::default();
    }
    let segments = segments(reference);
    let occupations = OccupationPool::new(reference);
    let world =
        World { plan, seed, reference, areas: &areas, segments: &segments, occupations: &occupations };
    let mut providers = Vec::new();
    let mut offers = Vec::new();
    let mut truths = Vec::new();
    courses(world, &mut providers, &mut offers, &mut truths);
    workplaces(world, &mut providers, &mut offers, &mut truths);
    reciprocal_help(world, &mut providers, &mut offers);
    truths.resize(offers.len(), None);
    time_and_place(world, &mut offers);
    let candidates = candidates(world, &offers);
    let contracts = contracts(&mut providers, &mut offers);
    let outcomes = history::episodes(seed, plan.episodes, reference, &candidates, &offers, &truths);
    let offers = offers.into_iter().map(std::sync::Arc::new).collect();
    Dataset { candidates, offers, providers, outcomes, declines: Vec::new(), contracts }
}

/// One contract per course provider and municipality where its courses take place, of the
/// provider's kind, for the calendar year of [`AS_OF`]: places = the courses' places, a
/// strategic partner's guarantee = the courses' guaranteed places together (each course then
/// holds its share, as the contract's terms give it), a specialist's groups = the provider's
/// groups, with every third of its courses itself open to all groups (the contract narrows
/// it). Course providers get a contact role. No random draws: the rest of the data set does
/// not move.
fn contracts(providers: &mut [Provider], offers: &mut [Offer]) -> Vec<crate::model::Contract> {
    use crate::model::{Contract, ContractId};
    use std::collections::BTreeMap;
    let (year, _, _) = AS_OF.ymd();
    let (Some(start), Some(end)) = (Date::from_ymd(year, 1, 1), Date::from_ymd(year, 12, 31)) else {
        return Vec::new();
    };
    let mut groups: BTreeMap<(usize, MunicipalityCode), Vec<usize>> = BTreeMap::new();
    let provider_index: std::collections::HashMap<ProviderId, usize> =
        providers.iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
    for (j, o) in offers.iter().enumerate() {
        if o.kind != OfferKind::Provider || o.contract.is_none() {
            continue;
        }
        if let Some(&p) = provider_index.get(&o.provider) {
            groups.entry((p, o.municipality)).or_default().push(j);
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for ((p, municipality), covered) in groups {
        let Some(kind) = offers[covered[0]].contract else { continue };
        let provider = &mut providers[p];
        provider.contact.get_or_insert_with(|| format!("Kontraktansvarlig {INVENTED}"));
        let mut target_groups = GroupSet::EMPTY;
        if kind == ContractKind::Specialist {
            for &j in &covered {
                target_groups.0 |= offers[j].target_groups.0;
            }
            if target_groups.is_empty() {
                continue;
            }
        }
        let contract = Contract {
            id: id(ContractId::new, format!("k-{municipality}-{}", provider.id)),
            municipality,
            provider: provider.id.clone(),
            kind,
            price_dkk: 0,
            places: covered.iter().map(|&j| offers[j].capacity).sum(),
            guaranteed_volume: covered.iter().map(|&j| offers[j].guaranteed_volume).sum(),
            start,
            end,
            target_groups,
            offers: covered.iter().map(|&j| offers[j].id.clone()).collect(),
        };
        let capacities: Vec<u32> = covered.iter().map(|&j| offers[j].capacity).collect();
        for (n, (&j, share)) in covered.iter().zip(contract.guarantee_shares(&capacities)).enumerate() {
            offers[j].guaranteed_volume = share;
            if kind == ContractKind::Specialist && n % 3 == 2 {
                offers[j].target_groups = GroupSet::EMPTY;
            }
        }
        out.push(contract);
    }
    out
}

/// The next night of a generated data set: the same offers and providers, and the same
/// candidates except every `1/fraction`-th one (`ceil(n·fraction)` in all, spread evenly),
/// whose circumstances changed: home, wishes, groups and limits are drawn afresh (from the data
/// set of seed `seed + 1` at the same scale), the id stays, and any current offer has ended.
/// This is the input of the warm re-run figure: last night's prices, 1% of candidates changed.
///
/// Pure and deterministic; `fraction` is clamped to `0..=1`.
pub fn next_night(
    data: &Dataset,
    scale: Scale,
    seed: u64,
    fraction: f64,
    reference: &ReferenceData,
) -> Dataset {
    let mut next = data.clone();
    let n = next.candidates.len();
    let changed = ((n as f64) * fraction.clamp(0.0, 1.0)).ceil() as usize;
    if changed == 0 {
        return next;
    }
    let fresh = generate(scale, seed.wrapping_add(1), reference);
    let stride = (n / changed).max(1);
    for (i, new) in (0..n).step_by(stride).take(changed).zip(fresh.candidates.into_iter().step_by(stride)) {
        let id = next.candidates[i].id.clone();
        next.candidates[i] = Candidate { id, current: None, excluded_offers: Vec::new(), ..new };
    }
    next
}

/// What every part of the generator reads.
#[derive(Clone, Copy)]
struct World<'a> {
    plan: &'a Plan,
    seed: u64,
    reference: &'a ReferenceData,
    areas: &'a [Area<'a>],
    segments: &'a [Segment],
    occupations: &'a OccupationPool,
}

// ---------------------------------------------------------------------------------------------
// Geography

/// A municipality as the generator sees it.
struct Area<'r> {
    municipality: &'r Municipality,
    /// Non-special postcode points of the municipality.
    points: Vec<LatLon>,
    /// Radius of the jitter around a postcode point, km: the area each point stands for.
    jitter_km: f64,
    /// Range of `max_travel_km` of its candidates: short in dense cities, long in the country.
    travel_km: (u32, u32),
    /// For a municipality outside Denmark, the latitude and longitude bounds of the synthetic
    /// region it lies in (computed once: eight cosines a call).
    region: Option<(RangeInclusive<f64>, RangeInclusive<f64>)>,
}

fn areas<'r>(reference: &'r ReferenceData, codes: &[u16], synthetic: bool) -> Vec<Area<'r>> {
    let chosen: Vec<&Municipality> = if codes.is_empty() {
        reference.municipalities.iter().filter(|m| synthetic || m.code.0 < 1000).collect()
    } else {
        let found: Vec<&Municipality> =
            codes.iter().filter_map(|&c| reference.municipality(MunicipalityCode(c))).collect();
        if found.is_empty() { reference.municipalities.iter().take(1).collect() } else { found }
    };
    chosen
        .into_iter()
        .map(|m| {
            // A synthetic municipality has the postcode points of its Danish original, placed.
            let region = reference.synthetic_region(m.code);
            let danish = MunicipalityCode(m.code.0 % 1000);
            let mut points: Vec<LatLon> = reference
                .postcodes
                .iter()
                .filter(|p| p.municipality == danish && !p.special)
                .map(|p| region.map_or(p.location, |r| r.place(p.location)))
                .collect();
            if points.is_empty() {
                points.push(m.centre);
            }
            let radius = (m.area_km2.max(1.0) / std::f64::consts::PI).sqrt();
            let jitter_km = (radius / (points.len() as f64).sqrt()).clamp(0.5, 6.0);
            let density = f64::from(m.population) / m.area_km2.max(1.0);
            let travel_km = if density >= 1_000.0 {
                (8, 15)
            } else if density >= 300.0 {
                (12, 25)
            } else {
                (20, 40)
            };
            Area {
                municipality: m,
                points,
                jitter_km,
                travel_km,
                region: region.map(SyntheticRegion::bounds),
            }
        })
        .collect()
}

impl Area<'_> {
    /// A whole number of km in the area's range, skewed toward the short end: most people
    /// want a short trip, and every km of reach adds offers to the candidate graph.
    fn travel(&self, rng: &mut Rng) -> f32 {
        let (lo, hi) = self.travel_km;
        let u = rng.unit();
        (f64::from(lo) + f64::from(hi - lo) * u * u).round() as f32
    }

    /// A point near one of the municipality's postcode points, rounded to 5 decimals (~1 m).
    fn place(&self, rng: &mut Rng) -> LatLon {
        let base = self.points[rng.below(self.points.len())];
        let r = self.jitter_km * rng.unit().sqrt();
        let angle = std::f64::consts::TAU * rng.unit();
        let lat = base.lat + r * angle.sin() / 111.32;
        let lon = base.lon + r * angle.cos() / (111.32 * base.lat.to_radians().cos());
        let round = |x: f64| (x * 1e5).round() / 1e5;
        let (lat, lon) = (round(lat), round(lon));
        match &self.region {
            None => LatLon::new(lat, lon).unwrap_or(base),
            Some((la, lo)) => {
                if la.contains(&lat) && lo.contains(&lon) {
                    LatLon { lat, lon }
                } else {
                    base
                }
            }
        }
    }
}

/// Splits `total` over areas in proportion to population, by largest remainder, so that the
/// counts add up exactly.
fn apportion(areas: &[Area<'_>], total: usize) -> Vec<usize> {
    let population: f64 = areas.iter().map(|a| f64::from(a.municipality.population)).sum::<f64>().max(1.0);
    let shares: Vec<f64> =
        areas.iter().map(|a| total as f64 * f64::from(a.municipality.population) / population).collect();
    let mut counts: Vec<usize> = shares.iter().map(|s| s.floor() as usize).collect();
    let mut order: Vec<usize> = (0..areas.len()).collect();
    order.sort_by(|&a, &b| {
        (shares[b] - shares[b].floor()).total_cmp(&(shares[a] - shares[a].floor())).then(a.cmp(&b))
    });
    let missing = total.saturating_sub(counts.iter().sum());
    for &i in order.iter().cycle().take(missing) {
        counts[i] += 1;
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// Target-group segments

/// A slice of the benefit stock with one primary target group.
struct Segment {
    group: GroupId,
    code: &'static str,
    /// Share of the national stock (thousands of full-time persons, DOMAIN.md).
    weight: f64,
    benefit: u8,
    clock: Clock,
    /// Weights over [`AgeBand::ALL`].
    ages: [f64; 7],
    /// Probability of also belonging to the psychiatric group.
    psychiatric: f64,
    female: f64,
    licence: f64,
    /// Probabilities of Western and non-Western origin.
    origin: (f64, f64),
}

#[derive(Clone, Copy)]
enum Clock {
    Sickness,
    /// Years on benefit: minimum and mean of the exponential part.
    Years(f64, f64),
    JobClarification,
    ResourceCourse,
}

fn segments(reference: &ReferenceData) -> Vec<Segment> {
    // Stock figures (thousands): sickness benefit ~77, activity-ready cash benefit ~72 (80% of
    // ~90), job clarification ~18; resource courses, young people with psychosocial needs and
    // cash-benefit recipients whose main need is a psychiatric diagnosis are rounded estimates.
    // One row per segment: group, benefit kind, stock, clock, age-band weights, psychiatric
    // share, female share, driving-licence share, (Western, non-Western) origin shares.
    type Row = (&'static str, &'static str, f64, Clock, [f64; 7], f64, f64, f64, (f64, f64));
    let table: [Row; 6] = [
        (
            "sickness",
            "sickness_benefit",
            77.0,
            Clock::Sickness,
            [0.0, 5.0, 8.0, 20.0, 25.0, 30.0, 12.0],
            0.18,
            0.58,
            0.82,
            (0.05, 0.10),
        ),
        (
            "cash_longterm",
            "cash_benefit",
            72.0,
            Clock::Years(1.0, 4.0),
            [0.0, 0.0, 8.0, 25.0, 28.0, 29.0, 10.0],
            0.30,
            0.48,
            0.55,
            (0.06, 0.30),
        ),
        (
            "youth_psychosocial",
            "education_benefit",
            40.0,
            Clock::Years(0.1, 1.5),
            [0.0, 70.0, 30.0, 0.0, 0.0, 0.0, 0.0],
            0.25,
            0.47,
            0.40,
            (0.04, 0.22),
        ),
        (
            "resource_course",
            "resource_course_benefit",
            28.0,
            Clock::ResourceCourse,
            [0.0, 0.0, 10.0, 25.0, 28.0, 30.0, 7.0],
            0.45,
            0.55,
            0.60,
            (0.05, 0.18),
        ),
        (
            "job_clarification",
            "job_clarification_benefit",
            18.0,
            Clock::JobClarification,
            [0.0, 0.0, 0.0, 20.0, 30.0, 38.0, 12.0],
            0.40,
            0.60,
            0.75,
            (0.05, 0.12),
        ),
        (
            "psychiatric",
            "cash_benefit",
            15.0,
            Clock::Years(0.5, 2.5),
            [0.0, 10.0, 15.0, 30.0, 25.0, 20.0, 0.0],
            0.0,
            0.50,
            0.55,
            (0.05, 0.15),
        ),
    ];
    table
        .into_iter()
        .filter_map(|(code, benefit, weight, clock, ages, psychiatric, female, licence, origin)| {
            Some(Segment {
                group: reference.group(code)?,
                code,
                weight,
                benefit: reference.benefit_kind(benefit)?,
                clock,
                ages,
                psychiatric,
                female,
                licence,
                origin,
            })
        })
        .collect()
}

fn course_title(code: &str) -> &'static str {
    match code {
        "youth_psychosocial" => "Mentorforløb for unge",
        "cash_longterm" => "Trin-for-trin-forløb mod job",
        "psychiatric" => "IPS-beskæftigelsesstøtte",
        "sickness" => "Tidlig tilbage-til-arbejde-forløb",
        "resource_course" => "Koordineret støtte i ressourceforløb",
        "job_clarification" => "Afklaringsværksted",
        _ => "Jobparathedsforløb",
    }
}

/// Invented price range per course **week** (DKK) and duration range (weeks), by group; a
/// course's price is its weeks times a weekly price drawn from the range, rounded to 500.
///
/// The weekly prices are anchored on public figures (`data/README.md`): a firm's mentor paid
/// 200 kr. an hour, about 500 kr. a week for a work-trial trainee; labour-market (AMU)
/// courses at 134–200 kr. a course day for the subsidised participant and 700–900 kr. a day
/// for others, i.e. about 700–4,500 kr. a week. Intensive short courses (sickness benefit)
/// are put at the top, mentor-like support (young people, long-term cash benefit) near the
/// bottom. The durations are those the generator always used.
fn course_terms(code: &str) -> ((u32, u32), (u32, u32)) {
    match code {
        "youth_psychosocial" => ((500, 1_200), (13, 26)),
        "cash_longterm" => ((500, 1_200), (13, 26)),
        "psychiatric" => ((700, 1_500), (16, 39)),
        "sickness" => ((1_000, 2_500), (6, 13)),
        "resource_course" => ((700, 1_500), (26, 52)),
        "job_clarification" => ((700, 1_500), (8, 20)),
        _ => ((700, 1_500), (8, 20)),
    }
}

// ---------------------------------------------------------------------------------------------
// Time and place

/// Start dates, address postcodes and contacts of the offers, from a random stream of their
/// own (5), so that adding them changed no other value of a data set.
///
/// Courses have continuous intake or a fixed start up to 20 weeks ahead (some start after a
/// candidate's benefit ends: the ranking must see that); jobs start within six weeks; work
/// trials and reciprocal help mostly start at once. The address is the postcode nearest the
/// offer in its municipality. Contacts are roles, never invented phone numbers (an invented
/// number may be a real person's).
fn time_and_place(world: World<'_>, offers: &mut [Offer]) {
    let World { seed, reference, .. } = world;
    let mut rng = Rng::new(seed, 5);
    for offer in offers.iter_mut() {
        let (continuous, weeks, contact) = match offer.kind {
            OfferKind::Provider => (0.5, (1, 20), "Forløbskoordinator hos leverandøren"),
            OfferKind::Job => (0.0, (1, 6), "Virksomhedskonsulent i jobcentret"),
            OfferKind::WorkTrial => (0.7, (1, 4), "Virksomhedskonsulent i jobcentret"),
            OfferKind::ReciprocalHelp => (0.8, (1, 3), "Jobcentrets koordinator for gensidig hjælp"),
        };
        let next_start = if rng.chance(continuous) {
            None
        } else {
            Some(AS_OF.plus_days(7 * rng.between(weeks.0, weeks.1) as i32))
        };
        let address_postcode = reference
            .postcodes
            .iter()
            .filter(|p| p.municipality == offer.municipality && !p.special)
            .min_by(|a, b| {
                let d = |p: &crate::model::Postcode| {
                    (p.location.lat - offer.location.lat).powi(2)
                        + (p.location.lon - offer.location.lon).powi(2)
                };
                d(a).total_cmp(&d(b)).then(a.code.cmp(&b.code))
            })
            .map(|p| p.code);
        offer.time_and_place =
            TimeAndPlace { next_start, address_postcode, contact: Some(contact.to_string()) };
    }
}

// ---------------------------------------------------------------------------------------------
// Occupations

/// ISCO-08 unit groups, with the common jobs of this population drawn far more often.
struct OccupationPool {
    /// Unit groups in the reference data.
    units: Vec<Occupation>,
    /// Common unit groups present in the reference data, most common first.
    common: Vec<Occupation>,
    common_weights: Cumulative,
    titles: Vec<OccupationTitle>,
}

/// Unit groups that candidates on benefits often wish for or are offered, most common first.
const COMMON_OCCUPATIONS: [&str; 30] = [
    "9112", "5223", "8322", "9333", "5322", "9412", "5120", "9329", "4110", "5321", "9313", "7115", "5131",
    "4321", "9214", "8332", "5311", "5230", "9622", "7231", "8344", "6113", "4222", "9111", "7212", "7411",
    "9211", "4311", "7112", "8160",
];

impl OccupationPool {
    fn new(reference: &ReferenceData) -> OccupationPool {
        let units: Vec<Occupation> =
            reference.occupations.iter().map(|o| o.code).filter(|o| o.level == 4).collect();
        let common: Vec<Occupation> = COMMON_OCCUPATIONS
            .iter()
            .filter_map(|c| Occupation::parse(c))
            .filter(|o| reference.occupation_exists(*o))
            .collect();
        let common_weights = Cumulative::new((0..common.len()).map(|i| 1.0 / (i as f64 + 2.0)));
        OccupationPool { units, common, common_weights, titles: reference.occupations.clone() }
    }

    /// A unit group: 80% from the common list (Zipf-like), 20% from all unit groups.
    fn draw(&self, rng: &mut Rng) -> Option<Occupation> {
        if rng.chance(0.8)
            && let Some(i) = self.common_weights.pick(rng)
        {
            return Some(self.common[i]);
        }
        rng.pick(&self.units).copied()
    }

    /// The code if the reference data has it.
    fn known(&self, code: &str) -> Option<Occupation> {
        Occupation::parse(code).filter(|o| self.titles.binary_search_by_key(o, |x| x.code).is_ok())
    }

    /// The Danish title (DISCO-08), the English one where Denmark has none.
    fn title(&self, occupation: Occupation) -> &str {
        self.titles
            .binary_search_by_key(&occupation, |o| o.code)
            .map_or("Arbejde uden nærmere angivelse", |i| self.titles[i].title_da_or_en())
    }
}

// ---------------------------------------------------------------------------------------------
// Offers

fn id<T>(make: fn(&str) -> Result<T, String>, text: String) -> T {
    // Generated ids are short letters, a dash and at most 6 digits: never CPR-like.
    match make(&text) {
        Ok(id) => id,
        Err(reason) => unreachable!("generated id {text} refused: {reason}"),
    }
}

fn languages(codes: &[&str]) -> Vec<Language> {
    codes.iter().filter_map(|c| Language::parse(c)).collect()
}

/// Ends every invented organisation's name: Danish for "invented".
pub const INVENTED: &str = "(opdigtet)";

const PROVIDER_WORDS: [&str; 16] = [
    "Broen",
    "Fyrtårnet",
    "Kompasset",
    "Trinvis",
    "Nordlys",
    "Havnen",
    "Udsigten",
    "Springbrættet",
    "Ankerpladsen",
    "Vejviseren",
    "Rødderne",
    "Milepælen",
    "Horisont",
    "Stifinderen",
    "Bølgen",
    "Lærkereden",
];
const PROVIDER_SUFFIXES: [&str; 8] = [
    "Mentor ApS",
    "Job & Trivsel",
    "Uddannelse I/S",
    "Kompetencecenter",
    "Partnere A/S",
    "Netværk",
    "Akademi",
    "Rådgivning",
];

fn courses(
    world: World<'_>,
    providers: &mut Vec<Provider>,
    offers: &mut Vec<Offer>,
    truths: &mut Vec<Option<history::OfferTruth>>,
) {
    let World { plan, seed, reference, areas, segments, occupations } = world;
    if segments.is_empty() {
        return;
    }
    let mut rng = Rng::new(seed, 1);
    // Which providers cream-skim, from a stream of its own (8).
    let mut skim_rng = Rng::new(seed, 8);
    let area_weights = Cumulative::new(areas.iter().map(|a| f64::from(a.municipality.population)));
    let group_weights: Vec<f64> = segments.iter().map(|s| s.weight).collect();
    struct CourseProvider {
        index: usize,
        area: usize,
        groups: Vec<usize>,
        /// True hazard ratio on leaving benefit in its own groups ([`history`]).
        hazard: f64,
        cream_skims: bool,
        contract: ContractKind,
    }
    let mut own = Vec::with_capacity(plan.course_providers);
    for n in 0..plan.course_providers {
        let area = area_weights.pick(&mut rng).unwrap_or(0);
        let first = rng.weighted(&group_weights);
        let mut groups = vec![first];
        if rng.chance(0.3) {
            let second = rng.weighted(&group_weights);
            if second != first {
                groups.push(second);
            }
        }
        let contract = match rng.weighted(&[0.7, 0.2, 0.1]) {
            0 => ContractKind::Specialist,
            1 => ContractKind::Buffer,
            _ => ContractKind::StrategicPartner,
        };
        let name = format!(
            "{} {} {INVENTED}",
            PROVIDER_WORDS[rng.below(PROVIDER_WORDS.len())],
            PROVIDER_SUFFIXES[rng.below(PROVIDER_SUFFIXES.len())]
        );
        let quality = rng.unit();
        let cream_skims = skim_rng.chance(1.0 / 3.0);
        let hazard = if cream_skims { 0.9 + 0.25 * skim_rng.unit() } else { course_hazard(quality) };
        own.push(CourseProvider { index: providers.len(), area, groups, hazard, cream_skims, contract });
        providers.push(Provider {
            id: id(ProviderId::new, format!("lev-{:04}", n + 1)),
            name,
            municipality: areas[area].municipality.code,
            contact: None,
        });
    }
    let mut number = 0;
    for (a, count) in apportion(areas, plan.courses).into_iter().enumerate() {
        let area = &areas[a];
        let region = area.municipality.region_code;
        let local: Vec<&CourseProvider> =
            own.iter().filter(|p| areas[p.area].municipality.region_code == region).collect();
        let same_region: Vec<&Area<'_>> =
            areas.iter().filter(|x| x.municipality.region_code == region).collect();
        for _ in 0..count {
            let provider = if !local.is_empty() && rng.chance(0.85) {
                local[rng.below(local.len())]
            } else {
                &own[rng.below(own.len())]
            };
            number += 1;
            let main = &segments[provider.groups[0]];
            let mut target_groups = GroupSet::EMPTY;
            provider.groups.iter().for_each(|&g| target_groups.insert(segments[g].group));
            let ((price_lo, price_hi), (weeks_lo, weeks_hi)) = course_terms(main.code);
            let contract = provider.contract;
            let capacity = match contract {
                ContractKind::StrategicPartner => rng.between(30, 80),
                ContractKind::Specialist => rng.between(6, 30),
                ContractKind::Buffer => rng.between(5, 20),
            };
            let guaranteed_volume = match contract {
                ContractKind::StrategicPartner => capacity * rng.between(30, 70) / 100,
                _ => 0,
            };
            let mut serves = vec![area.municipality.code];
            match rng.weighted(&[0.8, 0.15, 0.05]) {
                0 => {}
                1 => {
                    for _ in 0..2 {
                        if let Some(other) = rng.pick(&same_region)
                            && !serves.contains(&other.municipality.code)
                        {
                            serves.push(other.municipality.code);
                        }
                    }
                }
                _ => serves.clear(),
            }
            let langs = match rng.weighted(&[0.85, 0.10, 0.03, 0.02]) {
                0 => languages(&["da"]),
                1 => languages(&["da", "en"]),
                2 => languages(&["ar", "da"]),
                _ => languages(&["da", "uk"]),
            };
            let course_occupations: Vec<Occupation> =
                if rng.chance(0.2) { occupations.draw(&mut rng).into_iter().collect() } else { Vec::new() };
            // The course's own hazard ratio: the provider's method, varied ±20 % per course.
            let hazard = 1.0 + (provider.hazard - 1.0) * (0.8 + 0.4 * rng.unit());
            let evidence = provider
                .groups
                .iter()
                .filter_map(|&g| {
                    let segment = &segments[g];
                    if !rng.chance(0.85) {
                        return None;
                    }
                    // Old raw counts without case mix, from the same world: a cream-skimmer's
                    // candidates left benefit more often anyway, a specialist's less.
                    let prior = reference.target_groups[usize::from(segment.group.0)].prior_success_rate;
                    let mix = if provider.cream_skims { 1.4 } else { 0.85 };
                    let rate = history::with_hazard((prior * mix).min(0.9), hazard).clamp(0.01, 0.95);
                    Some(evidence_for(&mut rng, segment.group, rate))
                })
                .collect();
            let duration_weeks = rng.between(weeks_lo, weeks_hi);
            let price = (duration_weeks * rng.between(price_lo, price_hi)).div_ceil(500) * 500;
            truths.push(Some(history::OfferTruth {
                own: target_groups,
                hazard_own: hazard,
                hazard_other: 1.0 + (hazard - 1.0) * 0.5,
                cream_skims: provider.cream_skims,
            }));
            offers.push(Offer {
                id: id(OfferId::new, format!("course-{number:05}")),
                kind: OfferKind::Provider,
                name: format!("{}, {}", course_title(main.code), providers[provider.index].name),
                provider: providers[provider.index].id.clone(),
                municipality: area.municipality.code,
                location: area.place(&mut rng),
                serves_municipalities: serves,
                capacity,
                price_dkk: price,
                contract: Some(contract),
                guaranteed_volume,
                target_groups,
                occupations: course_occupations,
                languages: langs,
                requires_driving_licence: rng.chance(0.03),
                min_hours: rng.between(5, 15) as u8,
                duration_weeks: duration_weeks as u16,
                poster_weeks_saved: 0.0,
                evidence,
                time_and_place: TimeAndPlace::default(),
            });
        }
    }
}

/// True hazard ratio on leaving benefit of a (not cream-skimming) course provider of quality
/// `quality` (0–1): from 0.85, slightly harmful (time on a course that does not help is time
/// not spent looking for work), through 1.27 (the average of activation other than work
/// trials in the ministry's 2016 analysis) to 1.9, as good as a private work trial
/// ([`history`]). In points that is −3 to +12 for a long-term cash-benefit candidate with a
/// 15 % chance of leaving anyway, −5 to +24 for a sickness-benefit candidate with 55 %.
/// Whether a course pays also depends on its price and the benefit weeks it can avoid, so
/// the demo shows good, useless and loss-making offers side by side.
fn course_hazard(quality: f64) -> f64 {
    0.85 + 1.05 * quality
}

/// True hazard ratio of a work trial: 1.3 to 1.84 (the ministry's 2016 analysis: ×1.65 after a
/// public and ×1.84 after a private work trial), drawn from a stream of its own (6).
fn trial_hazard(rng: &mut Rng) -> f64 {
    1.3 + 0.54 * rng.unit()
}

/// Results for one group: mostly tens of trials, but one in ten a tiny sample (1 to 3 trials,
/// e.g. 1 of 1) that must not look better than it is.
fn evidence_for(rng: &mut Rng, group: GroupId, rate: f64) -> Evidence {
    let trials = if rng.chance(0.1) {
        rng.between(1, 3)
    } else {
        // Roughly log-uniform from 4 to 200.
        (4.0 * 50f64.powf(rng.unit())).round() as u32
    };
    let successes = (0..trials).filter(|_| rng.chance(rate)).count() as u32;
    Evidence { group, trials, successes }
}

/// Sectors of the invented employers and the unit groups they hire for.
const SECTORS: [(&str, &[&str], f64); 11] = [
    ("Rengøring", &["9112", "9111"], 1.0),
    ("Handel", &["5223", "5230", "4321"], 1.2),
    ("Transport", &["8322", "8332", "9333"], 0.8),
    ("Lager & Logistik", &["9333", "4321", "8344"], 0.9),
    ("Køkken & Kantine", &["5120", "9412", "5131"], 0.9),
    ("Pleje & Omsorg", &["5322", "5321", "5311"], 1.1),
    ("Byg & Anlæg", &["7115", "9313", "7411", "7112"], 0.9),
    ("Produktion", &["9329", "8160", "7212"], 0.8),
    ("Gartneri & Park", &["9214", "6113", "9211"], 0.5),
    ("Auto & Service", &["7231", "9622"], 0.4),
    ("Kontor & Kundeservice", &["4110", "4222", "4311"], 0.6),
];
const TOWN_WORDS: [&str; 12] =
    ["Nord", "Syd", "Øst", "Vest", "Midt", "By", "Havne", "Skov", "Eng", "Bakke", "Å", "Fjord"];

fn workplaces(
    world: World<'_>,
    providers: &mut Vec<Provider>,
    offers: &mut Vec<Offer>,
    truths: &mut Vec<Option<history::OfferTruth>>,
) {
    let World { plan, seed, reference, areas, segments, occupations } = world;
    let mut rng = Rng::new(seed, 2);
    let mut effect_rng = Rng::new(seed, 6);
    let sector_weights: Vec<f64> = SECTORS.iter().map(|s| s.2).collect();
    let group = |code: &str| reference.group(code);
    let mut jobs = 0;
    let mut trials = 0;
    let mut employers = 0;
    let employer_share = 3; // workplaces per employer, on average
    for (a, count) in apportion(areas, plan.jobs + plan.trials).into_iter().enumerate() {
        let area = &areas[a];
        let mut employer: Option<(usize, usize)> = None; // (provider index, sector)
        for _ in 0..count {
            if employer.is_none() || rng.below(employer_share) == 0 {
                let sector = rng.weighted(&sector_weights);
                employers += 1;
                providers.push(Provider {
                    id: id(ProviderId::new, format!("firm-{employers:06}")),
                    name: format!(
                        "{}{} {} {INVENTED}",
                        TOWN_WORDS[rng.below(TOWN_WORDS.len())],
                        if rng.chance(0.5) { "-" } else { "" },
                        SECTORS[sector].0
                    ),
                    municipality: area.municipality.code,
                    contact: None,
                });
                employer = Some((providers.len() - 1, sector));
            }
            let Some((employer_index, sector)) = employer else { continue };
            let codes = SECTORS[sector].1;
            let occupation =
                occupations.known(codes[rng.below(codes.len())]).or_else(|| occupations.draw(&mut rng));
            let is_job = if jobs >= plan.jobs {
                false
            } else if trials >= plan.trials {
                true
            } else {
                rng.below(plan.jobs + plan.trials) < plan.jobs
            };
            let title = occupation.map_or("Almindeligt arbejde", |o| occupations.title(o)).to_string();
            let needs_licence = occupation.is_some_and(|o| o.prefix(2) == 83) || rng.chance(0.1);
            let mut target_groups = GroupSet::EMPTY;
            // Wage-subsidy jobs, work trials and half of the ordinary jobs come through the
            // municipality's own company contacts and serve its candidates only; the rest are
            // open to anyone in reach. This also keeps the candidate graph sparse in the
            // capital region, where a 10 km circle holds a million people.
            let local_only;
            let hazard = trial_hazard(&mut effect_rng);
            let (kind, name, capacity, langs, min_hours, weeks, evidence) = if is_job {
                jobs += 1;
                let subsidy = rng.chance(0.15);
                local_only = subsidy || rng.chance(0.5);
                if subsidy {
                    if let Some(g) = group("cash_longterm") {
                        target_groups.insert(g);
                    }
                    if let Some(g) = group("resource_course") {
                        target_groups.insert(g);
                    }
                }
                let langs = match rng.weighted(&[0.65, 0.30, 0.05]) {
                    0 => languages(&["da"]),
                    1 => Vec::new(),
                    _ => languages(&["en"]),
                };
                (
                    OfferKind::Job,
                    format!("{title}{}", if subsidy { " (job med løntilskud)" } else { " (job)" }),
                    if rng.chance(0.8) { 1 } else { rng.between(2, 3) },
                    langs,
                    rng.between(15, 37) as u8,
                    if subsidy { 26 } else { 52 },
                    Vec::new(),
                )
            } else {
                trials += 1;
                local_only = rng.chance(0.8);
                if rng.chance(0.4)
                    && let Some(s) = rng.pick(segments)
                {
                    target_groups.insert(s.group);
                }
                let evidence = if rng.chance(0.15) {
                    let g = target_groups.iter().next().or_else(|| segments.first().map(|s| s.group));
                    g.map(|g| {
                        let prior = reference.target_groups[usize::from(g.0)].prior_success_rate;
                        let rate = history::with_hazard(prior, hazard).clamp(0.01, 0.95);
                        evidence_for(&mut rng, g, rate)
                    })
                    .into_iter()
                    .collect()
                } else {
                    Vec::new()
                };
                (
                    OfferKind::WorkTrial,
                    format!("{title} (virksomhedspraktik)"),
                    rng.between(1, 2),
                    if rng.chance(0.5) { languages(&["da"]) } else { Vec::new() },
                    rng.between(8, 20) as u8,
                    rng.between(4, 13) as u16,
                    evidence,
                )
            };
            let (number, prefix) = if is_job { (jobs, "job") } else { (trials, "trial") };
            truths.resize(offers.len(), None);
            truths.push((!is_job).then_some(history::OfferTruth {
                own: GroupSet::EMPTY,
                hazard_own: hazard,
                hazard_other: hazard,
                cream_skims: false,
            }));
            offers.push(Offer {
                id: id(OfferId::new, format!("{prefix}-{number:05}")),
                kind,
                name,
                provider: providers[employer_index].id.clone(),
                municipality: area.municipality.code,
                location: area.place(&mut rng),
                serves_municipalities: if local_only { vec![area.municipality.code] } else { Vec::new() },
                capacity,
                price_dkk: 0,
                contract: None,
                guaranteed_volume: 0,
                target_groups,
                occupations: occupation.into_iter().collect(),
                languages: langs,
                requires_driving_licence: needs_licence,
                min_hours,
                duration_weeks: weeks,
                poster_weeks_saved: 0.0,
                evidence,
                time_and_place: TimeAndPlace::default(),
            });
        }
    }
}

/// Needs that one citizen or firm has and a candidate can meet: (name, occupation, languages,
/// driving licence, weeks, range of benefit weeks the poster saves, posted by a firm).
type Need = (&'static str, &'static str, &'static [&'static str], bool, u16, (u32, u32), bool);
const NEEDS: [Need; 8] = [
    (
        "Chauffør i 3 måneder, mens opslagsstillerens brækkede arm heler",
        "8322",
        &["da"],
        true,
        13,
        (8, 13),
        true,
    ),
    ("Afløser i butikken under ejerens genoptræning", "5223", &["da"], false, 8, (4, 8), true),
    ("Havearbejde og snerydning for en ældre nabo", "9214", &[], false, 12, (0, 0), false),
    ("Børnepasning, så en forælder kan gå til behandling", "5311", &["da"], false, 10, (2, 6), false),
    ("Hjælp med bogføring i en lokal idrætsforening", "4311", &["da"], false, 8, (0, 0), false),
    ("Sprogven (arabisk og dansk) for en nyankommen familie", "", &["ar"], false, 12, (0, 0), false),
    ("Lagerhjælp, mens en medarbejder er delvist sygemeldt", "9333", &["da"], false, 6, (3, 6), true),
    ("Køkkenhjælp i en fælles café", "9412", &[], false, 12, (0, 2), false),
];

fn reciprocal_help(world: World<'_>, providers: &mut Vec<Provider>, offers: &mut Vec<Offer>) {
    let World { plan, seed, areas, occupations, .. } = world;
    let mut rng = Rng::new(seed, 3);
    let weights = [3.0, 2.0, 2.0, 1.5, 1.0, 1.0, 2.0, 1.5];
    let mut number = 0;
    for (a, count) in apportion(areas, plan.help).into_iter().enumerate() {
        let area = &areas[a];
        for _ in 0..count {
            number += 1;
            let (name, occupation, langs, licence, weeks, saved, firm) = NEEDS[rng.weighted(&weights)];
            let poster = id(ProviderId::new, format!("poster-{number:05}"));
            providers.push(Provider {
                id: poster.clone(),
                name: format!("{} {number} {INVENTED}", if firm { "Lokal virksomhed" } else { "Borger" }),
                municipality: area.municipality.code,
                contact: None,
            });
            offers.push(Offer {
                id: id(OfferId::new, format!("help-{number:05}")),
                kind: OfferKind::ReciprocalHelp,
                name: name.to_string(),
                provider: poster,
                municipality: area.municipality.code,
                location: area.place(&mut rng),
                // Reciprocal help is arranged by the municipality, mostly among its own citizens.
                serves_municipalities: if rng.chance(0.9) {
                    vec![area.municipality.code]
                } else {
                    Vec::new()
                },
                capacity: 1,
                price_dkk: 0,
                contract: None,
                guaranteed_volume: 0,
                target_groups: GroupSet::EMPTY,
                occupations: occupations.known(occupation).into_iter().collect(),
                languages: languages(langs),
                requires_driving_licence: licence,
                min_hours: rng.between(4, 15) as u8,
                duration_weeks: weeks,
                poster_weeks_saved: rng.between(saved.0, saved.1) as f32,
                evidence: Vec::new(),
                time_and_place: TimeAndPlace::default(),
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Candidates

/// Languages other than Danish among immigrants and descendants (non-Western, Western).
const NON_WESTERN_LANGUAGES: [&str; 7] = ["ar", "tr", "so", "fa", "ur", "ti", "ps"];
const WESTERN_LANGUAGES: [&str; 5] = ["pl", "ro", "de", "uk", "lt"];
const HOURS: [u8; 6] = [10, 15, 20, 25, 30, 37];
const HOURS_WEIGHTS: [f64; 6] = [10.0, 15.0, 20.0, 15.0, 15.0, 25.0];

fn candidates(world: World<'_>, offers: &[Offer]) -> Vec<Candidate> {
    let World { plan, seed, reference, areas, segments, occupations } = world;
    if segments.is_empty() {
        return Vec::new();
    }
    let mut rng = Rng::new(seed, 4);
    let segment_weights: Vec<f64> = segments.iter().map(|s| s.weight).collect();
    let psychiatric = reference.group("psychiatric");
    let youth = reference.group("youth_psychosocial");
    let youth_ok = |band: AgeBand| {
        youth.is_some_and(|g| {
            let t = &reference.target_groups[usize::from(g.0)];
            let (lo, hi) = band.ages();
            hi >= t.min_age.unwrap_or(0) && lo <= t.max_age.unwrap_or(u8::MAX)
        })
    };
    // Offers by municipality, for current assignments and exclusions.
    let mut local: Vec<Vec<usize>> = vec![Vec::new(); areas.len()];
    let area_of = |code: MunicipalityCode| areas.iter().position(|a| a.municipality.code == code);
    for (i, o) in offers.iter().enumerate() {
        if let Some(a) = area_of(o.municipality) {
            local[a].push(i);
        }
    }
    let mut taken = vec![0u32; offers.len()];
    let mut out = Vec::with_capacity(plan.candidates);
    for (a, count) in apportion(areas, plan.candidates).into_iter().enumerate() {
        let area = &areas[a];
        for _ in 0..count {
            let segment = &segments[rng.weighted(&segment_weights)];
            let age_band = AgeBand::ALL[rng.weighted(&segment.ages)];
            let mut target_groups = GroupSet::EMPTY;
            target_groups.insert(segment.group);
            if let Some(g) = psychiatric
                && rng.chance(segment.psychiatric)
            {
                target_groups.insert(g);
            }
            if let Some(g) = youth
                && segment.code == "cash_longterm"
                && youth_ok(age_band)
                && rng.chance(0.3)
            {
                target_groups.insert(g);
            }
            let benefit = benefit(&mut rng, segment);
            let origin = match rng.weighted(&[
                1.0 - segment.origin.0 - segment.origin.1,
                segment.origin.0,
                segment.origin.1,
            ]) {
                0 => Origin::Danish,
                1 => Origin::Western,
                _ => Origin::NonWestern,
            };
            let langs = candidate_languages(&mut rng, origin);
            let gender = if rng.chance(0.005) {
                Gender::Other
            } else if rng.chance(segment.female) {
                Gender::Female
            } else {
                Gender::Male
            };
            let mut wished: Vec<Occupation> = Vec::new();
            for _ in 0..rng.weighted(&[15.0, 45.0, 30.0, 10.0]) {
                if let Some(o) = occupations.draw(&mut rng)
                    && !wished.contains(&o)
                {
                    wished.push(o);
                }
            }
            let driving_licence = rng.chance(segment.licence);
            let preferred_kinds = if rng.chance(0.7) {
                Vec::new()
            } else {
                let mut kinds = Vec::new();
                for _ in 0..rng.between(1, 2) {
                    let k = OfferKind::ALL[rng.weighted(&[0.35, 0.35, 0.25, 0.05])];
                    if !kinds.contains(&k) {
                        kinds.push(k);
                    }
                }
                kinds
            };
            let n = out.len() + 1;
            let mut candidate = Candidate {
                id: id(CandidateId::new, format!("cand-{n:06}")),
                municipality: area.municipality.code,
                home: area.place(&mut rng),
                age_band,
                target_groups,
                benefit,
                wished_occupations: wished,
                max_travel_km: area.travel(&mut rng),
                languages: langs,
                driving_licence,
                hours_available: HOURS[rng.weighted(&HOURS_WEIGHTS)],
                preferred_kinds,
                current: None,
                excluded_offers: Vec::new(),
                audit: AuditAttributes {
                    gender: (!rng.chance(0.02)).then_some(gender),
                    origin: (!rng.chance(0.03)).then_some(origin),
                },
            };
            if rng.chance(0.15) {
                candidate.current = current(&mut rng, &candidate, &local[a], offers, &mut taken);
            }
            if rng.chance(0.02) {
                for _ in 0..rng.between(1, 2) {
                    if let Some(&o) = rng.pick(&local[a]) {
                        let offer = &offers[o].id;
                        let is_current = candidate.current.as_ref().is_some_and(|c| &c.offer == offer);
                        if !is_current && !candidate.excluded_offers.contains(offer) {
                            candidate.excluded_offers.push(offer.clone());
                        }
                    }
                }
            }
            out.push(candidate);
        }
    }
    out
}

fn candidate_languages(rng: &mut Rng, origin: Origin) -> Vec<Language> {
    let one = |rng: &mut Rng, list: &[&'static str]| -> &'static str { list[rng.below(list.len())] };
    let codes: Vec<&str> = match origin {
        Origin::Danish => {
            if rng.chance(0.25) {
                vec!["da", "en"]
            } else {
                vec!["da"]
            }
        }
        Origin::Western => match rng.weighted(&[0.25, 0.40, 0.15, 0.20]) {
            0 => vec!["da"],
            1 => vec!["da", "en"],
            2 => vec!["en"],
            _ => vec![one(rng, &WESTERN_LANGUAGES), "da"],
        },
        Origin::NonWestern => match rng.weighted(&[0.45, 0.35, 0.10, 0.10]) {
            0 => vec!["da"],
            1 => vec![one(rng, &NON_WESTERN_LANGUAGES), "da"],
            2 => vec![one(rng, &NON_WESTERN_LANGUAGES)],
            _ => vec![one(rng, &NON_WESTERN_LANGUAGES), "en"],
        },
    };
    languages(&codes)
}

fn end_of_month(date: Date) -> Date {
    let (y, m, _) = date.ymd();
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Date::from_ymd(ny, nm, 1).map_or(date, |first| first.plus_days(-1))
}

fn benefit(rng: &mut Rng, segment: &Segment) -> Benefit {
    let days_ago = |rng: &mut Rng, years_min: f64, years_mean: f64| {
        let years = (years_min - years_mean * (1.0 - rng.unit()).ln()).min(25.0);
        (years * 365.25) as i32
    };
    let kind = segment.benefit;
    match segment.clock {
        Clock::Sickness => {
            // Paid weeks so far: most within the first year, some on an extension.
            let weeks = if rng.chance(0.9) { rng.between(0, 51) } else { rng.between(52, 120) } as i32;
            let start = AS_OF.plus_days(-(weeks * 7 + rng.between(0, 6) as i32));
            let (end, reassessment) = if weeks < 22 {
                // Re-assessed at the end of the month in which 22 weeks are reached; the
                // benefit stops then unless it is extended.
                let month_end = end_of_month(start.plus_days(22 * 7));
                (month_end, month_end)
            } else {
                let extension = if weeks < 52 { 69 } else { 134 };
                (start.plus_days(extension * 7), AS_OF.plus_days(7 * rng.between(1, 8) as i32))
            };
            Benefit { kind, start, end: Some(end), reassessment: Some(reassessment) }
        }
        Clock::Years(min, mean) => {
            Benefit { kind, start: AS_OF.plus_days(-days_ago(rng, min, mean)), end: None, reassessment: None }
        }
        Clock::JobClarification => {
            // Periods of about five months, renewed; the current period ends after AS_OF.
            let start = AS_OF.plus_days(-(rng.between(0, 104) as i32 * 7));
            let period = 22 * 7;
            let periods = start.days_until(AS_OF) / period + 1;
            let end = start.plus_days(periods * period);
            Benefit { kind, start, end: Some(end), reassessment: Some(end.plus_days(-28)) }
        }
        Clock::ResourceCourse => {
            let start = AS_OF.plus_days(-(rng.between(0, 5 * 365) as i32));
            let years = start.days_until(AS_OF) / 365 + 1;
            Benefit { kind, start, end: None, reassessment: Some(start.plus_days(years * 365)) }
        }
    }
}

/// A course or work trial under way for this candidate, within its capacity and compatible
/// with the candidate's groups, languages and licence.
fn current(
    rng: &mut Rng,
    candidate: &Candidate,
    local: &[usize],
    offers: &[Offer],
    taken: &mut [u32],
) -> Option<CurrentAssignment> {
    for _ in 0..12 {
        let &o = rng.pick(local)?;
        let offer = &offers[o];
        let fits = matches!(offer.kind, OfferKind::Provider | OfferKind::WorkTrial)
            && taken[o] < offer.capacity
            && (offer.target_groups.is_empty() || offer.target_groups.intersects(candidate.target_groups))
            && (offer.languages.is_empty()
                || offer.languages.iter().any(|l| candidate.languages.contains(l)))
            && (!offer.requires_driving_licence || candidate.driving_licence)
            && (offer.serves_municipalities.is_empty()
                || offer.serves_municipalities.contains(&candidate.municipality));
        if fits {
            taken[o] += 1;
            return Some(CurrentAssignment { offer: offer.id.clone(), locked: rng.chance(0.6) });
        }
    }
    None
}

/// Caseworkers for a generated data set: in every municipality with candidates, about one
/// caseworker per 52 candidates, each holding a random share of them (so caseloads are
/// uneven, some over their cap of 55 to 65), a few citizens outside the data set, and up to
/// two specialities among the municipality's target groups. About 6% of the candidates are on
/// no caseload: the new ones a caseload plan assigns. Deterministic in `data` and `seed`,
/// and drawn from its own stream, so the data set itself does not change.
pub fn caseworkers(data: &Dataset, seed: u64) -> Vec<Caseworker> {
    let mut rng = Rng::new(seed, 0xCA5E_10AD);
    let mut by_municipality: std::collections::BTreeMap<MunicipalityCode, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, c) in data.candidates.iter().enumerate() {
        by_municipality.entry(c.municipality).or_default().push(i);
    }
    let mut out = Vec::new();
    for (municipality, members) in by_municipality {
        let listed: Vec<usize> = members.iter().copied().filter(|_| !rng.chance(0.06)).collect();
        let n = listed.len().div_ceil(52).max(1);
        let share = Cumulative::new((0..n).map(|_| 0.75 + 0.5 * rng.unit()));
        let mut cases = vec![Vec::new(); n];
        for &i in &listed {
            cases[share.pick(&mut rng).unwrap_or(0)].push(data.candidates[i].id.clone());
        }
        for (k, cases) in cases.into_iter().enumerate() {
            let mut specialities = GroupSet::EMPTY;
            let draws = rng.weighted(&[0.45, 0.4, 0.15]);
            for _ in 0..draws {
                if let Some(&i) = rng.pick(&members)
                    && let Some(g) = data.candidates[i].target_groups.iter().next()
                {
                    specialities.insert(g);
                }
            }
            out.push(Caseworker {
                id: id(CaseworkerId::new, format!("sb-{municipality}-{:03}", k + 1)),
                municipality,
                caseload: cases.len() as u32 + rng.between(0, 12),
                cap: *rng.pick(&[55, 60, 65]).unwrap_or(&60),
                specialities,
                cases,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_night_changes_the_given_share_of_candidates_only() {
        let r = ReferenceData::embedded().unwrap();
        let a = generate(Scale::Demo, 1, &r);
        let b = next_night(&a, Scale::Demo, 1, 0.01, &r);
        assert_eq!(b, next_night(&a, Scale::Demo, 1, 0.01, &r));
        assert_eq!(a.offers, b.offers);
        assert_eq!(a.providers, b.providers);
        assert_eq!(a.candidates.len(), b.candidates.len());
        let changed = a.candidates.iter().zip(&b.candidates).filter(|(x, y)| x != y).count();
        assert_eq!(changed, 20);
        assert!(a.candidates.iter().zip(&b.candidates).all(|(x, y)| x.id == y.id));
        assert_eq!(next_night(&a, Scale::Demo, 1, 0.0, &r), a);
    }

    #[test]
    fn as_of_is_the_documented_day() {
        assert_eq!(Date::from_ymd(2026, 11, 2), Some(AS_OF));
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let r = ReferenceData::embedded().unwrap();
        let a = generate(Scale::Demo, 1, &r);
        assert_eq!(a, generate(Scale::Demo, 1, &r));
        assert_ne!(a, generate(Scale::Demo, 2, &r));
        assert_eq!(a.candidates.len(), 2_000);
        assert_eq!(a.offers.len(), 200);
    }

    #[test]
    fn current_assignments_fit_capacity_and_guarantees_fit_capacity() {
        let r = ReferenceData::embedded().unwrap();
        let d = generate(Scale::Municipality, 3, &r);
        let mut used = std::collections::BTreeMap::new();
        for c in &d.candidates {
            if let Some(cur) = &c.current {
                *used.entry(cur.offer.clone()).or_insert(0u32) += 1;
            }
        }
        for o in &d.offers {
            assert!(used.get(&o.id).copied().unwrap_or(0) <= o.capacity, "{}", o.id);
            assert!(o.guaranteed_volume <= o.capacity);
        }
        let locked = d.candidates.iter().filter(|c| c.current.as_ref().is_some_and(|x| x.locked)).count();
        assert!(locked > 100, "{locked}");
    }

    /// The reference data with the synthetic regions of `data/reference-nordic/`.
    fn nordic_reference() -> ReferenceData {
        let mut r = ReferenceData::embedded().unwrap();
        let text = include_str!("../../../data/reference-nordic/synthetic_regions.csv");
        let table =
            crate::dataset::table::Table::new("synthetic_regions.csv", text.as_bytes(), &["tile"]).unwrap();
        let (rows, bad) = crate::model::reference::synthetic_region_rows(table);
        assert!(bad.is_empty(), "{bad:?}");
        assert!(r.add_synthetic_regions("synthetic_regions.csv", rows).is_empty());
        r
    }

    /// The Nordic plan at 1/200 of its size: the same areas, mix and streams.
    fn small_nordic() -> Plan {
        let p = Scale::Nordic.plan();
        Plan {
            candidates: p.candidates / 200,
            course_providers: p.course_providers / 200,
            courses: p.courses / 200,
            jobs: p.jobs / 200,
            trials: p.trials / 200,
            help: p.help / 200,
            episodes: p.episodes / 200,
            ..p
        }
    }

    #[test]
    fn the_nordic_scale_is_deterministic_and_spread_over_the_regions() {
        let r = nordic_reference();
        let plan = small_nordic();
        let a = generate_plan(&plan, 7, &r);
        assert_eq!(a, generate_plan(&plan, 7, &r));
        assert_ne!(a, generate_plan(&plan, 8, &r));
        assert_eq!(a.candidates.len(), 5_000);
        assert_eq!(a.offers.len(), 54 + 272 + 181 + 90);
        // A quarter of the candidates in Denmark and in each region, as their populations are
        // copies of Denmark's.
        for tile in 0..4u16 {
            let n = a.candidates.iter().filter(|c| c.municipality.0 / 1000 == tile).count();
            assert!((1_200..=1_300).contains(&n), "tile {tile}: {n}");
        }
        // Every point lies in its municipality's region, up to 70° N, and is accepted there.
        let mut north: f64 = 0.0;
        for (code, at) in a
            .candidates
            .iter()
            .map(|c| (c.municipality, c.home))
            .chain(a.offers.iter().map(|o| (o.municipality, o.location)))
        {
            assert!(r.accepts(at.lat, at.lon), "{code}: {at:?}");
            match r.synthetic_region(code) {
                None => assert!(LatLon::new(at.lat, at.lon).is_ok(), "{code}: {at:?}"),
                Some(region) => {
                    let (la, lo) = region.bounds();
                    assert!(la.contains(&at.lat) && lo.contains(&at.lon), "{code}: {at:?}");
                }
            }
            north = north.max(at.lat);
        }
        assert!(north > 69.5, "{north}");
        // The national scale does not see the regions.
        let national = Plan { synthetic: false, ..small_nordic() };
        let d = generate_plan(&national, 7, &r);
        assert!(d.candidates.iter().all(|c| c.municipality.0 < 1000));
    }

    #[test]
    fn a_synthetic_region_keeps_distances_in_km() {
        let r = nordic_reference();
        let (aarhus, copenhagen) =
            (LatLon { lat: 56.1629, lon: 10.2039 }, LatLon { lat: 55.6761, lon: 12.5683 });
        let danish = aarhus.distance_km(copenhagen);
        for region in &r.synthetic_regions {
            let moved = region.place(aarhus).distance_km(region.place(copenhagen));
            assert!((moved - danish).abs() / danish < 0.02, "{}: {moved} vs {danish}", region.name);
        }
        // Codes at or above 1000 are synthetic, and only with the regions loaded.
        let aarhus_1 = MunicipalityCode(1751);
        assert!(r.municipality(aarhus_1).is_some_and(|m| m.name.contains("syntetisk")));
        assert!(ReferenceData::embedded().unwrap().municipality(aarhus_1).is_none());
        assert!(!ReferenceData::embedded().unwrap().accepts(69.0, 20.0));
        assert!(r.accepts(69.0, 20.0));
    }

    #[test]
    fn a_reference_without_the_known_groups_gives_no_candidates() {
        let mut r = ReferenceData::embedded().unwrap();
        r.target_groups.iter_mut().for_each(|g| g.code.push('x'));
        let d = generate(Scale::Demo, 1, &r);
        assert!(d.candidates.is_empty());
    }
}
