//! The domain model: candidates, offers, providers and the reference data they point into.
//!
//! Owns the plain data types and their invariants (valid ids, coordinates inside Denmark or
//! a synthetic region of the reference data, interned target groups). It does no I/O and no scoring: parsing lives in [`crate::dataset`],
//! scoring in [`crate::score`]. Protected attributes live in [`AuditAttributes`], which the
//! scoring code never receives.

pub mod contract;
pub mod cpr;
mod date;
pub mod limits;
pub mod reference;

pub use contract::{Contract, ContractProblem, ContractRules, ContractWorld};
pub use cpr::looks_like_cpr;
pub use date::Date;
pub use reference::{BenefitKind, Municipality, OccupationTitle, Postcode, ReferenceData, TargetGroup};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Checks an external id: 1–64 characters from `A–Z a–z 0–9 - _ . :`, and not CPR-like.
pub fn check_id(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("id is empty".into());
    }
    if text.len() > 64 {
        return Err("id is longer than 64 characters".into());
    }
    if let Some(c) = text.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c))) {
        return Err(format!("id holds the character {c:?}; allowed are A-Z a-z 0-9 - _ . :"));
    }
    if looks_like_cpr(text) {
        return Err("id looks like a CPR number (10 digits); use a pseudonymous id".into());
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps an id (see [`check_id`]).
            pub fn new(text: &str) -> Result<Self, String> {
                check_id(text).map(|()| Self(text.to_string()))
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// Pseudonymous id of a candidate, unique within the data set.
    CandidateId
);
id_type!(
    /// Id of an offer, unique within the data set.
    OfferId
);
id_type!(
    /// Id of a provider (a course provider, an employer, or the poster of a reciprocal need).
    ProviderId
);
id_type!(
    /// Id of a contract, unique within the data set.
    ContractId
);

/// Official municipality code (kommunekode), e.g. 101 for København.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MunicipalityCode(pub u16);

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// A point on the map, in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
}

impl LatLon {
    /// Latitudes and longitudes a Danish candidate or offer can have (with a margin). A point
    /// outside is almost always swapped columns or a unit error in an export.
    pub const LAT_RANGE: std::ops::RangeInclusive<f64> = crate::geo::LAT_RANGE;
    /// See [`LatLon::LAT_RANGE`].
    pub const LON_RANGE: std::ops::RangeInclusive<f64> = crate::geo::LON_RANGE;

    /// Validates a point: finite and inside Denmark.
    pub fn new(lat: f64, lon: f64) -> Result<LatLon, String> {
        if !lat.is_finite() || !lon.is_finite() {
            return Err("coordinate is not a finite number".into());
        }
        if !Self::LAT_RANGE.contains(&lat) {
            return Err(format!("latitude {lat} is outside Denmark (54.4 to 57.9)"));
        }
        if !Self::LON_RANGE.contains(&lon) {
            return Err(format!("longitude {lon} is outside Denmark (7.9 to 15.3)"));
        }
        Ok(LatLon { lat, lon })
    }

    /// Great-circle distance in km (haversine, mean Earth radius 6,371.0 km).
    pub fn distance_km(self, other: LatLon) -> f64 {
        crate::geo::haversine_km(self.lat, self.lon, other.lat, other.lon)
    }
}

/// Index of a target group in [`ReferenceData::target_groups`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupId(pub u8);

/// A set of target groups, as a bit set (reference data holds at most 64 groups).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GroupSet(pub u64);

impl GroupSet {
    /// The empty set.
    pub const EMPTY: GroupSet = GroupSet(0);

    /// Adds a group.
    pub fn insert(&mut self, group: GroupId) {
        self.0 |= 1u64 << group.0;
    }
    /// True if the group is in the set.
    pub fn contains(self, group: GroupId) -> bool {
        self.0 & (1u64 << group.0) != 0
    }
    /// True if no group is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// True if the two sets share a group.
    pub fn intersects(self, other: GroupSet) -> bool {
        self.0 & other.0 != 0
    }
    /// The groups, in id order.
    pub fn iter(self) -> impl Iterator<Item = GroupId> {
        (0..64u8).filter(move |g| self.0 & (1u64 << g) != 0).map(GroupId)
    }
    /// Number of groups.
    pub fn len(self) -> u32 {
        self.0.count_ones()
    }
}

/// An ISCO-08 occupation group: a code of 1 to 4 digits, where each digit narrows the group
/// (major, sub-major, minor, unit group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Occupation {
    /// The code as a number, e.g. 8322 for "car, taxi and van drivers".
    pub code: u16,
    /// Number of digits, 1 (major group) to 4 (unit group).
    pub level: u8,
}

impl Occupation {
    /// Parses `"8322"`, `"832"`, `"83"` or `"8"`. Leading zeros matter (`"0110"` is level 4).
    pub fn parse(text: &str) -> Option<Occupation> {
        let ok = (1..=4).contains(&text.len()) && text.bytes().all(|c| c.is_ascii_digit());
        ok.then(|| Occupation { code: text.parse().unwrap_or(0), level: text.len() as u8 })
    }

    /// The code at a coarser level (`level` ≤ `self.level`).
    pub fn prefix(self, level: u8) -> u16 {
        self.code / 10u16.pow(u32::from(self.level.saturating_sub(level)))
    }

    /// How many leading digits the two groups share: 4 for the same unit group, 3 for the same
    /// minor group, and so on down to 0 for different major groups.
    #[inline]
    pub fn shared_level(self, other: Occupation) -> u8 {
        PackedOccupation::from(self).shared_level(PackedOccupation::from(other))
    }
}

/// An [`Occupation`] with one digit per 4 bits, left-aligned, and its level: the shared level
/// of two codes is then the number of leading zero nibbles of their XOR. Used on the scoring
/// hot path, where comparing codes digit by digit showed up in profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedOccupation {
    digits: u16,
    level: u8,
}

impl From<Occupation> for PackedOccupation {
    fn from(o: Occupation) -> Self {
        let mut digits = 0u16;
        let mut code = o.code;
        for i in 0..o.level.min(4) {
            digits |= (code % 10) << (4 * (4 - o.level + i));
            code /= 10;
        }
        PackedOccupation { digits, level: o.level.min(4) }
    }
}

impl PackedOccupation {
    /// See [`Occupation::shared_level`].
    #[inline]
    pub fn shared_level(self, other: PackedOccupation) -> u8 {
        let same = ((self.digits ^ other.digits).leading_zeros() / 4) as u8;
        same.min(self.level).min(other.level)
    }

    /// The first digit (ISCO-08 major group).
    #[inline]
    pub fn major(self) -> u8 {
        (self.digits >> 12) as u8
    }
}

impl fmt::Display for Occupation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$}", self.code, width = self.level as usize)
    }
}

/// An ISO 639-1 language code, lower case, e.g. `da`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Language(pub [u8; 2]);

impl Language {
    /// Parses a two-letter code (case-insensitive).
    pub fn parse(text: &str) -> Option<Language> {
        let b = text.as_bytes();
        (b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic))
            .then(|| Language([b[0].to_ascii_lowercase(), b[1].to_ascii_lowercase()]))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.0[0] as char, self.0[1] as char)
    }
}

/// Age band of a candidate. Used for programme eligibility (e.g. youth groups) and for
/// fairness audits; never as a score factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AgeBand {
    /// 15 to 17 years.
    #[serde(rename = "15-17")]
    From15To17,
    /// 18 to 24 years.
    #[serde(rename = "18-24")]
    From18To24,
    /// 25 to 29 years.
    #[serde(rename = "25-29")]
    From25To29,
    /// 30 to 39 years.
    #[serde(rename = "30-39")]
    From30To39,
    /// 40 to 49 years.
    #[serde(rename = "40-49")]
    From40To49,
    /// 50 to 59 years.
    #[serde(rename = "50-59")]
    From50To59,
    /// 60 years or more.
    #[serde(rename = "60+")]
    From60,
}

impl AgeBand {
    /// Every band, youngest first.
    pub const ALL: [AgeBand; 7] = [
        AgeBand::From15To17,
        AgeBand::From18To24,
        AgeBand::From25To29,
        AgeBand::From30To39,
        AgeBand::From40To49,
        AgeBand::From50To59,
        AgeBand::From60,
    ];

    /// The band's label as written in data files, e.g. `18-24`.
    pub fn label(self) -> &'static str {
        match self {
            AgeBand::From15To17 => "15-17",
            AgeBand::From18To24 => "18-24",
            AgeBand::From25To29 => "25-29",
            AgeBand::From30To39 => "30-39",
            AgeBand::From40To49 => "40-49",
            AgeBand::From50To59 => "50-59",
            AgeBand::From60 => "60+",
        }
    }

    /// Parses a label such as `25-29`.
    pub fn parse(text: &str) -> Option<AgeBand> {
        AgeBand::ALL.into_iter().find(|b| b.label() == text)
    }

    /// Youngest and oldest age in the band (the oldest of `60+` is taken as 99).
    pub fn ages(self) -> (u8, u8) {
        match self {
            AgeBand::From15To17 => (15, 17),
            AgeBand::From18To24 => (18, 24),
            AgeBand::From25To29 => (25, 29),
            AgeBand::From30To39 => (30, 39),
            AgeBand::From40To49 => (40, 49),
            AgeBand::From50To59 => (50, 59),
            AgeBand::From60 => (60, 99),
        }
    }
}

/// The benefit a candidate receives and its clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Benefit {
    /// Index into [`ReferenceData::benefit_kinds`].
    pub kind: u8,
    /// First day of the benefit.
    pub start: Date,
    /// Legal end date, for benefits that have one (sickness benefit).
    pub end: Option<Date>,
    /// Next re-assessment date, where the benefit has one.
    pub reassessment: Option<Date>,
}

/// What a candidate is doing now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentAssignment {
    /// The offer.
    pub offer: OfferId,
    /// True for a course under way: nightly re-matching must keep it.
    pub locked: bool,
}

/// Gender, recorded for fairness audits only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other or not stated.
    Other,
}

/// Origin in Statistics Denmark's categories, recorded for fairness audits only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Danish origin.
    Danish,
    /// Immigrant or descendant from a Western country.
    Western,
    /// Immigrant or descendant from a non-Western country.
    NonWestern,
}

/// Protected attributes. They exist so that reports can show disparities; the scoring code
/// has no access to them (see `ARCHITECTURE.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAttributes {
    /// Gender, if recorded.
    pub gender: Option<Gender>,
    /// Origin, if recorded.
    pub origin: Option<Origin>,
}

/// A citizen on a benefit, to be matched with an offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Pseudonymous id.
    pub id: CandidateId,
    /// The municipality responsible (the tenant).
    pub municipality: MunicipalityCode,
    /// Home, or the centre of the home postcode.
    pub home: LatLon,
    /// Age band (eligibility and audits only).
    pub age_band: AgeBand,
    /// Target groups the candidate belongs to (at least one).
    pub target_groups: GroupSet,
    /// Benefit and its clock.
    pub benefit: Benefit,
    /// Occupations the candidate wishes to work in.
    pub wished_occupations: Vec<Occupation>,
    /// Longest distance the candidate will travel, km.
    pub max_travel_km: f32,
    /// Languages the candidate speaks.
    pub languages: Vec<Language>,
    /// Holds a driving licence.
    pub driving_licence: bool,
    /// Hours a week the candidate can take part.
    pub hours_available: u8,
    /// Kinds of offer the candidate prefers; empty when no preference was stated.
    pub preferred_kinds: Vec<OfferKind>,
    /// Current assignment, if any.
    pub current: Option<CurrentAssignment>,
    /// Offers this candidate must not be suggested (a caseworker's or the candidate's choice).
    pub excluded_offers: Vec<OfferId>,
    /// Protected attributes, for audits only.
    pub audit: AuditAttributes,
}

/// The four kinds of offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    /// A specialist course or mentor from a provider.
    Provider,
    /// An ordinary job or a job with wage subsidy.
    Job,
    /// A work trial or work placement at a firm.
    WorkTrial,
    /// A need posted by a citizen or firm that another citizen can meet.
    ReciprocalHelp,
}

impl OfferKind {
    /// Every kind.
    pub const ALL: [OfferKind; 4] =
        [OfferKind::Provider, OfferKind::Job, OfferKind::WorkTrial, OfferKind::ReciprocalHelp];

    /// The kind as written in data files.
    pub fn label(self) -> &'static str {
        match self {
            OfferKind::Provider => "provider",
            OfferKind::Job => "job",
            OfferKind::WorkTrial => "work_trial",
            OfferKind::ReciprocalHelp => "reciprocal_help",
        }
    }

    /// Parses a label such as `work_trial`.
    pub fn parse(text: &str) -> Option<OfferKind> {
        OfferKind::ALL.into_iter().find(|k| k.label() == text)
    }
}

/// How a provider's offer is contracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContractKind {
    /// Used for peaks, no volume promised.
    Buffer,
    /// Bought for a speciality.
    Specialist,
    /// A strategic partner with a guaranteed minimum volume.
    StrategicPartner,
}

impl ContractKind {
    /// The kind as written in data files.
    pub fn label(self) -> &'static str {
        match self {
            ContractKind::Buffer => "buffer",
            ContractKind::Specialist => "specialist",
            ContractKind::StrategicPartner => "strategic_partner",
        }
    }

    /// Parses a label such as `strategic_partner`.
    pub fn parse(text: &str) -> Option<ContractKind> {
        [ContractKind::Buffer, ContractKind::Specialist, ContractKind::StrategicPartner]
            .into_iter()
            .find(|k| k.label() == text)
    }
}

/// Measured results of an offer for one target group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The target group.
    pub group: GroupId,
    /// Candidates of the group who completed or left the offer.
    pub trials: u32,
    /// Of those, how many reached the outcome (work, education, back to work).
    pub successes: u32,
}

/// Something a candidate can be matched with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Id.
    pub id: OfferId,
    /// Kind.
    pub kind: OfferKind,
    /// Name shown to caseworkers.
    pub name: String,
    /// Who delivers it: the provider, the employer or the poster of a reciprocal need.
    pub provider: ProviderId,
    /// Municipality where it takes place.
    pub municipality: MunicipalityCode,
    /// Where it takes place.
    pub location: LatLon,
    /// Municipalities whose candidates it serves; empty when it serves anyone in reach.
    pub serves_municipalities: Vec<MunicipalityCode>,
    /// Places (0 means closed for new candidates).
    pub capacity: u32,
    /// Price per course in DKK (0 for jobs and reciprocal help).
    pub price_dkk: u32,
    /// Contract, for provider offers.
    pub contract: Option<ContractKind>,
    /// Guaranteed minimum number of candidates (strategic partners; 0 otherwise).
    pub guaranteed_volume: u32,
    /// Target groups served; empty when open to all groups.
    pub target_groups: GroupSet,
    /// Occupations it leads to or requires; empty when none in particular.
    pub occupations: Vec<Occupation>,
    /// Languages it is given in; the candidate must speak one. Empty when any will do.
    pub languages: Vec<Language>,
    /// A driving licence is required (e.g. a driver's work trial).
    pub requires_driving_licence: bool,
    /// Minimum hours a week of participation.
    pub min_hours: u8,
    /// Typical duration in weeks.
    pub duration_weeks: u16,
    /// Reciprocal help only: benefit weeks the poster saves when the need is met.
    pub poster_weeks_saved: f32,
    /// Measured results per target group.
    pub evidence: Vec<Evidence>,
    /// When it starts, where it is and whom to call: what a caseworker needs to choose.
    /// Every part is optional; the last field, so that it stays easy to extend. (`default`
    /// lets offers stored as JSON before it existed read as continuous intake.)
    #[serde(default)]
    pub time_and_place: TimeAndPlace,
}

/// When an offer can start, where it is and whom to contact (all optional columns of
/// `offers.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimeAndPlace {
    /// The next start date; `None` is continuous intake (a candidate can start any day).
    pub next_start: Option<Date>,
    /// Postcode of the address (no street: the town comes from the reference postcodes).
    pub address_postcode: Option<u16>,
    /// Whom to contact: a role or a phone number, never a person's private data.
    pub contact: Option<String>,
}

impl TimeAndPlace {
    /// Days from `today` to the first day the offer can start: 0 for continuous intake or a
    /// start date already passed.
    pub fn days_until_start(&self, today: Date) -> u32 {
        self.next_start.map_or(0, |start| today.days_until(start).max(0) as u32)
    }
}

/// An organisation that delivers offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// Id.
    pub id: ProviderId,
    /// Name.
    pub name: String,
    /// Home municipality.
    pub municipality: MunicipalityCode,
    /// Whom to contact: a role or a work phone number, never a person's private data.
    pub contact: Option<String>,
}

/// A caseworker's decline of an offer for a candidate: the offer is kept out of that
/// candidate's suggestions and proposals up to and including `until`, and the reason is kept
/// with it. After `until` the offer may be suggested again.
///
/// This is live state from the service (a recorded decline) or from a job centre's own case
/// system; unlike `Candidate::excluded_offers` (a standing exclusion) it ends by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decline {
    /// The candidate.
    pub candidate: CandidateId,
    /// The declined offer.
    pub offer: OfferId,
    /// Last day the offer stays excluded.
    pub until: Date,
    /// Why it was declined, as the caseworker wrote it (may be empty).
    pub reason: String,
}

impl Decline {
    /// True while the decline keeps the offer out (on `today`, `until` included).
    pub fn active_on(&self, today: Date) -> bool {
        today <= self.until
    }
}

/// A whole data set: what one nightly run or one service instance works on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Dataset {
    /// Candidates, in input order.
    pub candidates: Vec<Candidate>,
    /// Offers, in input order. Each shared (`Arc`), so that a copy of the data set with a few
    /// offers changed (the service's write to an offer) copies pointers, not offers.
    pub offers: Vec<Arc<Offer>>,
    /// Providers, in input order.
    pub providers: Vec<Provider>,
    /// Finished episodes with their case mix (the optional `outcomes` table): what the effect
    /// estimates of [`crate::effect`] learn from. Empty when the data set has no history.
    pub outcomes: Vec<Episode>,
    /// Declines that exclude an offer for a candidate until a date, in input order.
    pub declines: Vec<Decline>,
    /// Contracts of the municipalities with providers (the optional `contracts` table), in
    /// input order. Empty when the data set has none: offers then keep their own contract
    /// columns (see [`contract`]).
    pub contracts: Vec<Contract>,
}

/// Weeks after an episode's start within which its outcome is observed. An exit later than
/// this is not a success of the episode.
pub const FOLLOW_UP_WEEKS: f32 = 52.0;

/// One finished episode of the history: a candidate's case mix when it started, the offer
/// taken (or none: the comparison group) and what happened within the follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// Episode id, unique in the table.
    pub id: EpisodeId,
    /// The municipality responsible.
    pub municipality: MunicipalityCode,
    /// The candidate's target groups when the episode started (at least one).
    pub target_groups: GroupSet,
    /// Age band at the start.
    pub age_band: AgeBand,
    /// Benefit kind at the start, index into [`ReferenceData::benefit_kinds`].
    pub benefit_kind: u8,
    /// Weeks on benefit when the episode started.
    pub weeks_on_benefit: f32,
    /// The offer taken; `None` for an episode without an offer.
    pub offer: Option<OfferId>,
    /// Day the episode started.
    pub started: Date,
    /// Left benefit for work or education within [`FOLLOW_UP_WEEKS`].
    pub success: bool,
    /// Weeks from the start until off benefit; `None` when not within the follow-up.
    pub weeks_to_exit: Option<f32>,
}

id_type!(
    /// Id of an episode in the `outcomes` table.
    EpisodeId
);

/// A caseworker (sagsbehandler) of a municipality's job centre, with the cases they hold.
///
/// Not part of a [`Dataset`]: caseworkers come from their own file and are used only to
/// propose who takes each new candidate (see `batch::caseload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caseworker {
    /// Pseudonymous id, unique within the file.
    pub id: CaseworkerId,
    /// The municipality whose candidates the caseworker takes.
    pub municipality: MunicipalityCode,
    /// Cases held now, including citizens outside this data set (other programmes).
    pub caseload: u32,
    /// The most cases the caseworker should hold; no new case is proposed beyond it.
    pub cap: u32,
    /// Target groups the caseworker specialises in.
    pub specialities: GroupSet,
    /// Candidates of the data set on the caseload now; every other candidate is new.
    pub cases: Vec<CandidateId>,
}

id_type!(
    /// Pseudonymous id of a caseworker.
    CaseworkerId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpr_like_ids_are_refused_anywhere_in_the_id() {
        for bad in ["0101901234", "010190-1234", "c-0101901234", "x010190-1234y", "123456789012"] {
            assert!(looks_like_cpr(bad), "{bad}");
            assert!(CandidateId::new(bad).is_err(), "{bad}");
        }
        assert!(looks_like_cpr("010190_1234"), "an underscore joins the groups like a dash");
        for good in ["c-000123", "123456789", "12345-12345", "K101-2026-00042"] {
            assert!(!looks_like_cpr(good), "{good}");
        }
        assert!(CandidateId::new("c 1").is_err());
        assert!(CandidateId::new("").is_err());
        assert!(CandidateId::new(&"a".repeat(65)).is_err());
    }

    #[test]
    fn occupations_share_levels_through_the_hierarchy() {
        let p = |s| Occupation::parse(s).unwrap();
        assert_eq!(p("8322").shared_level(p("8322")), 4);
        assert_eq!(p("8322").shared_level(p("8321")), 3);
        assert_eq!(p("8322").shared_level(p("8331")), 2);
        assert_eq!(p("8322").shared_level(p("8111")), 1);
        assert_eq!(p("8322").shared_level(p("2111")), 0);
        assert_eq!(p("83").shared_level(p("8322")), 2);
        assert_eq!(p("0110").to_string(), "0110");
        assert_eq!(Occupation::parse("12a4"), None);
    }

    #[test]
    fn coordinates_outside_denmark_or_not_finite_are_refused() {
        assert!(LatLon::new(55.68, 12.57).is_ok());
        assert!(LatLon::new(400.0, 12.0).is_err());
        assert!(LatLon::new(12.57, 55.68).is_err());
        assert!(LatLon::new(f64::NAN, 12.0).is_err());
        let cph = LatLon::new(55.6761, 12.5683).unwrap();
        let aarhus = LatLon::new(56.1629, 10.2039).unwrap();
        let d = cph.distance_km(aarhus);
        assert!((155.0..160.0).contains(&d), "{d}");
    }
}
