//! The bodies the API answers and accepts, as named types: the handlers serialise exactly these,
//! and `openapi.rs` derives the document's schemas from them (`utoipa::ToSchema`), so the two
//! cannot drift. Owns the wire shape and its normalisation (records stored as they were sent,
//! CSV text or JSON numbers, are answered in one typed form); must not hold request logic.

use crate::server::auth::Role;
use crate::server::error::ApiError;
use crate::server::store::DecisionRow;
use matcher_core::batch::ProposalRecord;
use matcher_core::model::{
    ContractKind, Date, Gender, Occupation, OfferKind, Origin, ReferenceData, TimeAndPlace,
};
use matcher_core::score::{Contribution, Factor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Reply;

/// The id rule of `matcher_core::model::check_id` (the CPR-like refusal is in the description
/// only: generators of test data cannot all read look-ahead patterns).
pub const ID_PATTERN: &str = "^[A-Za-z0-9_.:-]{1,64}$";

/// A JSON answer from a typed body.
pub fn json<T: Serialize>(status: u16, body: &T) -> Result<Reply, ApiError> {
    let value = serde_json::to_value(body).map_err(|e| ApiError::Internal(format!("serialising: {e}")))?;
    Ok(Reply::Json(status, value))
}

// ----- records -----

/// Age band of a candidate, as written in data files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AgeBandLabel {
    /// 15 to 17.
    #[serde(rename = "15-17")]
    From15To17,
    /// 18 to 24.
    #[serde(rename = "18-24")]
    From18To24,
    /// 25 to 29.
    #[serde(rename = "25-29")]
    From25To29,
    /// 30 to 39.
    #[serde(rename = "30-39")]
    From30To39,
    /// 40 to 49.
    #[serde(rename = "40-49")]
    From40To49,
    /// 50 to 59.
    #[serde(rename = "50-59")]
    From50To59,
    /// 60 and over.
    #[serde(rename = "60+")]
    From60,
}

/// One offer with the columns of `offers` (data/README.md). Posted records may write numbers
/// and yes/no values as text and lists as `a;b` (as in CSV); answers always use these types.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "course-00001", "kind": "provider", "name": "Early return-to-work course",
    "provider_id": "lev-0003", "municipality": "0851", "lat": 57.01027, "lon": 9.94486, "serves_municipalities": [],
    "capacity": 12, "price_dkk": 21000, "contract": "specialist", "guaranteed_volume": 0, "target_groups": ["sickness"],
    "occupations": [], "languages": ["da"], "requires_driving_licence": false, "min_hours": 0, "duration_weeks": 13,
    "poster_weeks_saved": 0.0, "next_start": "2027-01-04", "address_postcode": "9000",
    "contact": "Forløbskoordinator, tlf. 70 00 00 00"}))]
pub struct OfferRecord {
    /// Unique id.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub id: String,
    /// Kind of offer.
    pub kind: OfferKind,
    /// Shown to caseworkers.
    pub name: String,
    /// The provider's id.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub provider_id: String,
    /// Where it takes place: municipality code, four digits.
    #[schema(pattern = "^[0-9]{4}$")]
    pub municipality: String,
    /// Latitude (with `lon`, or give `postcode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Postcode, when no coordinates are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// Municipality codes served; empty: anyone in reach.
    #[serde(default)]
    pub serves_municipalities: Vec<String>,
    /// Places; 0 closes the offer to new candidates.
    pub capacity: u32,
    /// Price per course, DKK.
    #[serde(default)]
    pub price_dkk: u32,
    /// How a provider's offer is contracted (only for `kind=provider`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractKind>,
    /// Guaranteed volume of a strategic partner.
    #[serde(default)]
    pub guaranteed_volume: u32,
    /// Target-group codes; empty: open to all groups.
    #[serde(default)]
    pub target_groups: Vec<String>,
    /// ISCO-08 codes.
    #[serde(default)]
    pub occupations: Vec<String>,
    /// ISO 639-1 codes; empty: any.
    #[serde(default)]
    pub languages: Vec<String>,
    /// The candidate needs a driving licence.
    #[serde(default)]
    pub requires_driving_licence: bool,
    /// Minimum hours a week.
    #[serde(default)]
    #[schema(maximum = 168)]
    pub min_hours: u32,
    /// Typical duration, weeks.
    #[schema(maximum = 520)]
    pub duration_weeks: u32,
    /// Benefit weeks the poster saves (only `reciprocal_help`).
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 520.0)]
    pub poster_weeks_saved: f64,
    /// The next day a candidate can start; absent: continuous intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub next_start: Option<String>,
    /// Where it takes place, without street: a geographic postcode (the town is in the view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9]{4}$")]
    pub address_postcode: Option<String>,
    /// Whom to contact: a role or a work phone number, never private data (CPR-like text is
    /// refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 70)]
    pub contact: Option<String>,
}

/// One candidate with the columns of `candidates` (data/README.md). Posted records may write
/// numbers and yes/no values as text and lists as `a;b` (as in CSV); answers always use these
/// types.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "cand-000001", "municipality": "0851", "postcode": "9000", "age_band": "25-29",
    "target_groups": ["sickness"], "benefit_kind": "sickness_benefit", "benefit_start": "2026-07-19",
    "benefit_end": "2026-12-31", "wished_occupations": [], "max_travel_km": 25.0, "languages": ["da"],
    "driving_licence": false, "hours_available": 37, "preferred_kinds": [], "current_locked": false,
    "excluded_offers": []}))]
pub struct CandidateRecord {
    /// Pseudonymous id, never a CPR number.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub id: String,
    /// The responsible municipality, four digits.
    #[schema(pattern = "^[0-9]{4}$")]
    pub municipality: String,
    /// Home latitude (with `lon`, or give `postcode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Home longitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Postcode, when no coordinates are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// Age band.
    pub age_band: AgeBandLabel,
    /// Target-group codes, at least one.
    #[schema(min_items = 1)]
    pub target_groups: Vec<String>,
    /// Benefit-kind code.
    pub benefit_kind: String,
    /// Start of the benefit.
    #[schema(format = Date)]
    pub benefit_start: String,
    /// Legal end date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub benefit_end: Option<String>,
    /// Next re-assessment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub reassessment_date: Option<String>,
    /// ISCO-08 codes.
    #[serde(default)]
    pub wished_occupations: Vec<String>,
    /// Longest distance the candidate will travel, km.
    #[schema(minimum = 0.0, maximum = 500.0)]
    pub max_travel_km: f64,
    /// ISO 639-1 codes.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Holds a driving licence.
    #[serde(default)]
    pub driving_licence: bool,
    /// Hours a week (37 when not given).
    #[serde(default)]
    #[schema(maximum = 168)]
    pub hours_available: u32,
    /// Offer kinds asked for; empty: no preference.
    #[serde(default)]
    pub preferred_kinds: Vec<OfferKind>,
    /// The current offer's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub current_offer: Option<String>,
    /// A course under way that re-matching must keep.
    #[serde(default)]
    pub current_locked: bool,
    /// Offers this candidate must not get.
    #[serde(default)]
    pub excluded_offers: Vec<String>,
    /// Audits only, never used for scoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// Audits only, never used for scoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// A stored record's fields as the text a CSV cell would hold (the core's JSON reader turns
/// values into the same text), so that one parser serves records sent either way.
struct Cells<'a>(&'a Map<String, Value>);

impl Cells<'_> {
    fn text(&self, key: &str) -> Option<String> {
        let text = match self.0.get(key)? {
            Value::Null => return None,
            Value::String(s) => s.trim().to_string(),
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(";"),
            other => other.to_string(),
        };
        (!text.is_empty()).then_some(text)
    }
    fn list(&self, key: &str) -> Vec<String> {
        self.text(key).map_or_else(Vec::new, |t| {
            t.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
        })
    }
    fn number<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.text(key)?.parse().ok()
    }
    fn yes(&self, key: &str) -> bool {
        matches!(self.text(key).map(|t| t.to_ascii_lowercase()).as_deref(), Some("true" | "1" | "yes" | "ja"))
    }
    fn label<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        serde_json::from_value(Value::String(self.text(key)?)).ok()
    }
    fn municipality(&self, key: &str) -> String {
        self.number::<u16>(key).map_or_else(|| self.text(key).unwrap_or_default(), |m| format!("{m:04}"))
    }
    fn codes(&self, key: &str) -> Vec<String> {
        self.list(key).into_iter().map(|c| c.parse::<u16>().map_or(c, |m| format!("{m:04}"))).collect()
    }
}

fn stored(text: &str) -> Result<Map<String, Value>, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored record: {e}")))
}

impl OfferRecord {
    /// The typed record of a stored one (validated by the core when it was written).
    pub fn from_stored(text: &str) -> Result<OfferRecord, ApiError> {
        let map = stored(text)?;
        let c = Cells(&map);
        Ok(OfferRecord {
            id: c.text("id").unwrap_or_default(),
            kind: c.text("kind").as_deref().and_then(OfferKind::parse).unwrap_or(OfferKind::Provider),
            name: c.text("name").unwrap_or_default(),
            provider_id: c.text("provider_id").unwrap_or_default(),
            municipality: c.municipality("municipality"),
            lat: c.number("lat"),
            lon: c.number("lon"),
            postcode: c.text("postcode"),
            serves_municipalities: c.codes("serves_municipalities"),
            capacity: c.number("capacity").unwrap_or(0),
            price_dkk: c.number("price_dkk").unwrap_or(0),
            contract: c.text("contract").as_deref().and_then(ContractKind::parse),
            guaranteed_volume: c.number("guaranteed_volume").unwrap_or(0),
            target_groups: c.list("target_groups"),
            occupations: c.list("occupations"),
            languages: c.list("languages"),
            requires_driving_licence: c.yes("requires_driving_licence"),
            min_hours: c.number("min_hours").unwrap_or(0),
            duration_weeks: c.number("duration_weeks").unwrap_or(0),
            poster_weeks_saved: c.number("poster_weeks_saved").unwrap_or(0.0),
            next_start: c.text("next_start"),
            address_postcode: c.text("address_postcode"),
            contact: c.text("contact"),
        })
    }
}

impl CandidateRecord {
    /// The typed record of a stored one (validated by the core when it was written).
    pub fn from_stored(text: &str) -> Result<CandidateRecord, ApiError> {
        let map = stored(text)?;
        let c = Cells(&map);
        Ok(CandidateRecord {
            id: c.text("id").unwrap_or_default(),
            municipality: c.municipality("municipality"),
            lat: c.number("lat"),
            lon: c.number("lon"),
            postcode: c.text("postcode"),
            age_band: c.label("age_band").unwrap_or(AgeBandLabel::From30To39),
            target_groups: c.list("target_groups"),
            benefit_kind: c.text("benefit_kind").unwrap_or_default(),
            benefit_start: c.text("benefit_start").unwrap_or_default(),
            benefit_end: c.text("benefit_end"),
            reassessment_date: c.text("reassessment_date"),
            wished_occupations: c.list("wished_occupations"),
            max_travel_km: c.number("max_travel_km").unwrap_or(0.0),
            languages: c.list("languages"),
            driving_licence: c.yes("driving_licence"),
            hours_available: c.number("hours_available").unwrap_or(37),
            preferred_kinds: c.list("preferred_kinds").iter().filter_map(|k| OfferKind::parse(k)).collect(),
            current_offer: c.text("current_offer"),
            current_locked: c.yes("current_locked"),
            excluded_offers: c.list("excluded_offers"),
            gender: c.label("gender"),
            origin: c.label("origin"),
        })
    }
}

// ----- offers and candidates -----

/// Result of a bulk upsert.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"upserted": 2, "offers_version": 3}))]
pub struct UpsertResult {
    /// Records created or updated.
    pub upserted: usize,
    /// The offers' version after the upsert (offers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offers_version: Option<u64>,
}

/// An offer with its places.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"record": {"id": "course-00001", "kind": "provider", "name": "Early return-to-work course",
    "provider_id": "lev-0003", "municipality": "0851", "lat": 57.01027, "lon": 9.94486, "serves_municipalities": [],
    "capacity": 12, "price_dkk": 21000, "contract": "specialist", "guaranteed_volume": 0, "target_groups": ["sickness"],
    "occupations": ["9112"], "languages": ["da"], "requires_driving_licence": false, "min_hours": 0,
    "duration_weeks": 13, "poster_weeks_saved": 0.0, "next_start": "2027-01-04", "address_postcode": "9000",
    "contact": "Forløbskoordinator, tlf. 70 00 00 00"}, "capacity": 12, "reserved": 3, "remaining_places": 9,
    "retired": false, "occupations": [{"code": "9112", "title_da": "Rengøringsarbejde undtagen i private hjem",
    "title_en": "Cleaners and helpers in offices, hotels and other establishments"}],
    "address": {"postcode": "9000", "town": "Aalborg"}}))]
pub struct OfferView {
    /// The offer.
    pub record: OfferRecord,
    /// Places.
    pub capacity: u32,
    /// Places taken by accepted decisions.
    pub reserved: u32,
    /// Places left (0 once retired).
    pub remaining_places: u32,
    /// Retired offers take no one new.
    pub retired: bool,
    /// The record's occupations with their titles from the reference data.
    pub occupations: Vec<OccupationOut>,
    /// The town of `address_postcode` (null without one).
    #[schema(required = true)]
    pub address: Option<AddressOut>,
}

impl OfferView {
    /// The view of a stored offer, with the titles of its occupations and the town of its
    /// address from `reference`.
    pub fn new(
        reference: &ReferenceData,
        record: &str,
        capacity: u32,
        reserved: u32,
        retired: bool,
    ) -> Result<OfferView, ApiError> {
        let record = OfferRecord::from_stored(record)?;
        let occupations =
            occupation_titles(reference, record.occupations.iter().filter_map(|c| Occupation::parse(c)));
        let address = address(reference, record.address_postcode.as_deref().and_then(|p| p.parse().ok()));
        Ok(OfferView {
            record,
            capacity,
            reserved,
            remaining_places: if retired { 0 } else { capacity.saturating_sub(reserved) },
            retired,
            occupations,
            address,
        })
    }
}

/// An offer's address without street: postcode and town.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Address, example = json!({"postcode": "9000", "town": "Aalborg"}))]
pub struct AddressOut {
    /// Four digits.
    #[schema(pattern = "^[0-9]{4}$")]
    pub postcode: String,
    /// The postcode's town.
    pub town: String,
}

/// An ISCO-08 group with its titles.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Occupation, example = json!({"code": "9112",
    "title_da": "Rengøringsarbejde undtagen i private hjem",
    "title_en": "Cleaners and helpers in offices, hotels and other establishments"}))]
pub struct OccupationOut {
    /// ISCO-08 code, 1 to 4 digits.
    pub code: String,
    /// Danish title from DISCO-08 (Danmarks Statistik); null for the 14 codes Denmark leaves out.
    #[schema(required = true)]
    pub title_da: Option<String>,
    /// English title (ISCO-08 as published in ESCO), always.
    pub title_en: String,
}

/// The titles of each occupation the reference data knows (unknown codes are left out).
pub fn occupation_titles(
    reference: &ReferenceData,
    codes: impl IntoIterator<Item = Occupation>,
) -> Vec<OccupationOut> {
    codes
        .into_iter()
        .filter_map(|o| reference.occupation(o))
        .map(|t| OccupationOut {
            code: t.code.to_string(),
            title_da: t.title_da.clone(),
            title_en: t.title_en.clone(),
        })
        .collect()
}

/// The town of a postcode the reference data knows.
pub fn address(reference: &ReferenceData, postcode: Option<u16>) -> Option<AddressOut> {
    let p = reference.postcode(postcode?)?;
    Some(AddressOut { postcode: format!("{:04}", p.code), town: p.town.clone() })
}

/// A page of offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    /// The offers.
    pub offers: Vec<OfferView>,
    /// Page size.
    pub limit: u32,
    /// Offset of the page.
    pub offset: u32,
}

/// A page of candidates.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateList {
    /// The candidates.
    pub candidates: Vec<CandidateRecord>,
    /// Page size.
    pub limit: u32,
    /// Offset of the page.
    pub offset: u32,
}

/// An erased candidate.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"deleted": "cand-000001"}))]
pub struct Deleted {
    /// Its id.
    pub deleted: String,
}

/// Success of one target group on an offer (or a provider's offers).
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupQuality {
    /// Target-group code.
    pub target_group: String,
    /// Candidates of the group who completed or left.
    pub trials: u32,
    /// Of them, successes.
    pub successes: u32,
    /// successes / trials (0 without trials).
    pub raw_rate: f64,
    /// The group's prior success rate.
    pub group_average: f64,
    /// Shrunk estimate.
    pub posterior_mean: f64,
    /// 90% interval of the rate.
    #[schema(min_items = 2, max_items = 2)]
    pub interval_90: [f64; 2],
}

/// An offer's quality.
#[derive(Debug, Serialize, ToSchema)]
pub struct Quality {
    /// The offer.
    pub offer_id: String,
    /// Its provider.
    pub provider_id: String,
    /// Price per course, DKK.
    pub price_dkk: u32,
    /// Places.
    pub capacity: u32,
    /// Places taken.
    pub reserved: u32,
    /// Retired.
    pub retired: bool,
    /// reserved / capacity.
    pub utilisation: f64,
    /// Dual price from the municipality's last batch run (null without one).
    #[schema(required = true)]
    pub scarcity_price: Option<i64>,
    /// Per target group.
    pub groups: Vec<GroupQuality>,
}

/// A provider's quality over its offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderQuality {
    /// The provider.
    pub provider_id: String,
    /// Its offers' ids.
    pub offers: Vec<String>,
    /// Places over its offers.
    pub capacity: u32,
    /// Places taken.
    pub reserved: u32,
    /// reserved / capacity.
    pub utilisation: f64,
    /// Per target group.
    pub groups: Vec<GroupQuality>,
}

// ----- suggestions -----

/// Ask for suggestions: exactly one of `candidate_id` and `candidate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"candidate_id": "cand-000001", "k": 5}))]
pub struct SuggestionRequest {
    /// A stored candidate of this municipality.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$", nullable = false)]
    pub candidate_id: Option<String>,
    /// A candidate not stored (checked like a posted record, not kept).
    #[schema(value_type = CandidateRecord, required = false)]
    pub candidate: Option<Map<String, Value>>,
    /// How many suggestions.
    #[schema(minimum = 1, maximum = 50, default = 5)]
    pub k: Option<u32>,
}

/// Evidence for one of the candidate's groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceOut {
    /// Target-group code.
    pub target_group: String,
    /// The group's Danish name from the reference data, so a client need not keep its own list.
    pub target_group_name_da: String,
    /// The group's English name.
    pub target_group_name_en: String,
    /// The group's prior success rate.
    pub group_average: f64,
    /// Trials of the offer for this group.
    pub trials: u32,
    /// Successes.
    pub successes: u32,
    /// Shrunk estimate.
    pub posterior_mean: f64,
    /// 90% interval.
    #[schema(min_items = 2, max_items = 2)]
    pub interval_90: [f64; 2],
}

/// One suggested offer, with its explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionOut<'a> {
    /// 1 for the best.
    pub rank: usize,
    /// The offer.
    pub offer_id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its kind.
    pub kind: OfferKind,
    /// Its provider.
    pub provider_id: &'a str,
    /// Score, points: the sum of the factors' points.
    pub score: i64,
    /// Dual price of the offer in the municipality's last batch run.
    #[schema(required = true)]
    pub scarcity_price: Option<i64>,
    /// score − scarcity_price.
    #[schema(required = true)]
    pub adjusted_score: Option<i64>,
    /// One per factor.
    pub factors: Vec<Contribution>,
    /// Expected effect, DKK.
    pub effect_dkk: f64,
    /// Benefit weeks avoidable.
    pub weeks_avoidable: f64,
    /// Travel distance, km.
    pub distance_km: f64,
    /// Per target group of the candidate.
    pub evidence: Vec<EvidenceOut>,
    /// Places left.
    pub remaining_places: u32,
    /// Places.
    pub capacity: u32,
    /// Price, DKK.
    pub price_dkk: u32,
    /// The policy that weighed the factors.
    pub policy: String,
    /// The next offer in the ranking and how far this one is ahead of it.
    #[schema(required = true)]
    pub runner_up: Option<RunnerUpOut<'a>>,
    /// Typical duration, weeks.
    pub duration_weeks: u16,
    /// When the offer can start, set against the candidate's benefit end.
    pub start: StartOut,
    /// Where it takes place (null without an address).
    #[schema(required = true)]
    pub address: Option<AddressOut>,
    /// Whom to contact: a role or a phone number (null without one).
    #[schema(required = true)]
    pub contact: Option<&'a str>,
    /// The offer's occupations with their Danish and English titles.
    pub occupations: Vec<OccupationOut>,
}

/// When an offer can start, as of the scorer's day.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"next_start": "2027-01-04", "continuous_intake": false, "wait_weeks": 5,
    "starts_after_benefit_end": false}))]
pub struct StartOut {
    /// The next start date; null with continuous intake.
    #[schema(format = Date, required = true)]
    pub next_start: Option<String>,
    /// A candidate can start any day.
    pub continuous_intake: bool,
    /// Whole weeks from today to the start, rounded up (0 for continuous intake).
    pub wait_weeks: u32,
    /// The offer cannot start before the candidate's benefit ends: a success then avoids no
    /// benefit weeks (`weeks_avoidable` is 0).
    pub starts_after_benefit_end: bool,
}

impl StartOut {
    /// The start of `t` seen from `today`, for a candidate whose benefit ends at `benefit_end`.
    pub fn new(t: &TimeAndPlace, today: Date, benefit_end: Option<Date>) -> StartOut {
        let days = t.days_until_start(today);
        let starts = today.plus_days(i32::try_from(days).unwrap_or(i32::MAX));
        StartOut {
            next_start: t.next_start.map(|d| d.to_string()),
            continuous_intake: t.next_start.is_none(),
            wait_weeks: days.div_ceil(7),
            starts_after_benefit_end: benefit_end.is_some_and(|end| starts > end),
        }
    }
}

/// The next offer in the ranking, and why this one is ahead of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunnerUpOut<'a> {
    /// Its id.
    pub offer_id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Ranking key of this suggestion minus the runner-up's (the adjusted score when prices
    /// from a batch run apply, the score otherwise); never negative.
    #[schema(minimum = 0)]
    pub difference: i64,
    /// This suggestion's points minus the runner-up's, per factor in the core's order.
    pub factor_differences: Vec<FactorDifference>,
}

/// Points ahead on one factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactorDifference {
    /// The factor.
    pub factor: Factor,
    /// Points (negative: behind).
    pub points: i64,
}

/// The top-k answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Suggestions)]
#[schema(example = json!({"candidate_id": "cand-000001", "benefit_end": "2026-12-31", "reassessment_date": null,
    "offers_version": 3, "batch_run_id": null,
    "offers_in_reach": 14, "offers_feasible": 9, "suggestions": [{"rank": 1, "offer_id": "course-00001",
    "name": "Early return-to-work course", "kind": "provider", "provider_id": "lev-0003", "score": 612,
    "scarcity_price": null, "adjusted_score": null,
    "factors": [{"factor": "group_fit", "value": 1.0, "weight": 0.3, "points": 300},
                {"factor": "distance", "value": 0.78, "weight": 0.4, "points": 312}],
    "effect_dkk": 18400.0, "weeks_avoidable": 6.5, "distance_km": 4.4,
    "evidence": [{"target_group": "sickness", "target_group_name_da": "Sygedagpenge",
        "target_group_name_en": "Sickness benefit", "group_average": 0.4, "trials": 72, "successes": 32,
        "posterior_mean": 0.44, "interval_90": [0.35, 0.53]}],
    "remaining_places": 9, "capacity": 12, "price_dkk": 21000, "policy": "national default", "runner_up": null,
    "duration_weeks": 13, "start": {"next_start": null, "continuous_intake": true, "wait_weeks": 0,
        "starts_after_benefit_end": false},
    "address": {"postcode": "9000", "town": "Aalborg"}, "contact": "Forløbskoordinator, tlf. 70 00 00 00",
    "occupations": [{"code": "9112", "title_da": "Rengøringsarbejde undtagen i private hjem",
        "title_en": "Cleaners and helpers in offices, hotels and other establishments"}]}]}))]
pub struct SuggestionsOut<'a> {
    /// The candidate.
    pub candidate_id: &'a str,
    /// The candidate's legal benefit end, so a screen can set each start against it.
    #[schema(format = Date, required = true)]
    pub benefit_end: Option<String>,
    /// The candidate's next re-assessment.
    #[schema(format = Date, required = true)]
    pub reassessment_date: Option<String>,
    /// The offers' version ranked.
    pub offers_version: u64,
    /// The batch run the scarcity prices come from: the municipality's own number for it.
    #[schema(required = true)]
    pub batch_run_id: Option<i64>,
    /// Offers within the travel limit.
    pub offers_in_reach: u32,
    /// Of them, those the candidate is eligible for.
    pub offers_feasible: u32,
    /// Best first.
    pub suggestions: Vec<SuggestionOut<'a>>,
}

// ----- decisions and outcomes -----

/// What a caseworker decided about a suggested offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionAction {
    /// The candidate takes the offer: a place is reserved.
    Accept,
    /// Not this offer.
    Decline,
}

impl DecisionAction {
    /// As stored.
    pub fn name(self) -> &'static str {
        match self {
            DecisionAction::Accept => "accept",
            DecisionAction::Decline => "decline",
        }
    }
}

/// Record a decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"candidate_id": "cand-000001", "offer_id": "course-00001", "action": "accept",
    "reason": "Near home and fits the sickness group", "suggested_offer_ids": ["course-00001", "job-00002"]}))]
pub struct DecisionRequest {
    /// The candidate.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub candidate_id: String,
    /// The offer decided on.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub offer_id: String,
    /// Accept or decline.
    pub action: DecisionAction,
    /// Why, in plain words (never a CPR number).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// The offers shown, in order.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub suggested_offer_ids: Vec<String>,
}

/// One decision as recorded.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "municipality": "0851", "candidate_id": "cand-000001", "offer_id": "course-00001",
    "action": "accept", "reason": "Near home", "decided_by": "anna", "role": "caseworker",
    "suggested_offer_ids": ["course-00001"], "decided_at": "2026-12-05T10:00:00Z"}))]
pub struct Decision {
    /// Numbered per municipality (1, 2, 3, …): the numbers say nothing about other municipalities.
    #[schema(minimum = 1)]
    pub id: i64,
    /// Employer of the decider: the municipality code.
    pub municipality: String,
    /// The candidate.
    pub candidate_id: String,
    /// The offer.
    pub offer_id: String,
    /// Accept or decline.
    pub action: DecisionAction,
    /// Why.
    pub reason: String,
    /// Who decided (the token's user).
    pub decided_by: String,
    /// The decider's role.
    pub role: Role,
    /// The offers shown, in order.
    pub suggested_offer_ids: Vec<String>,
    /// When (UTC, RFC 3339).
    #[schema(format = DateTime)]
    pub decided_at: String,
}

impl Decision {
    /// The answer for a stored row (its action and role were written from these enums).
    pub fn new(row: DecisionRow) -> Decision {
        Decision {
            id: row.id,
            municipality: row.municipality,
            candidate_id: row.candidate_id,
            offer_id: row.offer_id,
            action: if row.action == "accept" { DecisionAction::Accept } else { DecisionAction::Decline },
            reason: row.reason,
            decided_by: row.decided_by,
            role: Role::parse(&row.role).unwrap_or(Role::Caseworker),
            suggested_offer_ids: row.suggested_offer_ids,
            decided_at: row.decided_at,
        }
    }
}

/// A decision just recorded (or replayed by its Idempotency-Key).
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionRecorded {
    /// The decision.
    #[serde(flatten)]
    pub decision: Decision,
    /// The decider's employer, in words.
    pub employer: String,
    /// Places left on the offer.
    pub remaining_places: u32,
}

/// A page of decisions.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionList {
    /// In id order, at most `limit`.
    pub decisions: Vec<Decision>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub next: Option<i64>,
    /// Page size.
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: u32,
}

/// What became of an accepted decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// In work (success).
    InWork,
    /// In education (success).
    InEducation,
    /// Back at work (success).
    BackAtWork,
    /// Dropped out.
    DroppedOut,
}

impl OutcomeKind {
    /// Its label and whether it counts as a success.
    pub fn label(self) -> (&'static str, bool) {
        match self {
            OutcomeKind::InWork => ("in_work", true),
            OutcomeKind::InEducation => ("in_education", true),
            OutcomeKind::BackAtWork => ("back_at_work", true),
            OutcomeKind::DroppedOut => ("dropped_out", false),
        }
    }
}

/// Record an outcome.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision_id": 1, "result": "in_work"}))]
pub struct OutcomeRequest {
    /// The decision's `id`, the municipality's own number for it.
    #[serde(deserialize_with = "super::handlers::integer_id")]
    #[schema(minimum = 1)]
    pub decision_id: i64,
    /// What became of it.
    pub result: OutcomeKind,
}

/// An outcome as recorded.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"decision_id": 1, "offer_id": "course-00001", "result": "in_work", "success": true}))]
pub struct Outcome {
    /// The decision.
    pub decision_id: i64,
    /// Its offer.
    pub offer_id: String,
    /// What became of it.
    pub result: OutcomeKind,
    /// Counts as a success in the offer's evidence.
    pub success: bool,
}

// ----- batch runs -----

/// State of a batch run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Under way.
    Running,
    /// Done; proposals are available.
    Finished,
    /// Failed; see `error`.
    Failed,
}

impl BatchStatus {
    /// From the stored text.
    pub fn parse(text: &str) -> BatchStatus {
        match text {
            "finished" => BatchStatus::Finished,
            "failed" => BatchStatus::Failed,
            _ => BatchStatus::Running,
        }
    }
}

/// A batch run just started.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "status": "running"}))]
pub struct BatchStarted {
    /// Numbered per municipality (1, 2, 3, …).
    pub id: i64,
    /// Always `running`.
    pub status: BatchStatus,
}

/// A batch run.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchRun {
    /// Numbered per municipality (1, 2, 3, …).
    pub id: i64,
    /// State.
    pub status: BatchStatus,
    /// Start time (UTC).
    pub started_at: String,
    /// End time (UTC).
    #[schema(required = true)]
    pub finished_at: Option<String>,
    /// Why it failed.
    #[schema(required = true)]
    pub error: Option<String>,
    /// The run's summary (counts, timings), as the run wrote it.
    #[schema(value_type = Option<Object>, required = true)]
    pub summary: Option<Value>,
}

/// A finished run's proposals.
#[derive(Debug, Serialize, ToSchema)]
pub struct Proposals {
    /// The run.
    pub id: i64,
    /// One per candidate.
    pub proposals: Vec<ProposalRecord>,
}

// ----- health -----

/// Liveness or readiness.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Alive.
    Ok,
    /// Ready to serve.
    Ready,
}

/// Health answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "offers_version": 1}))]
pub struct Health {
    /// Status.
    pub status: HealthStatus,
    /// The offers' version (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offers_version: Option<u64>,
}
