//! The bodies the API answers and accepts, as named types: the handlers serialise exactly these,
//! and `openapi.rs` derives the document's schemas from them (`utoipa::ToSchema`), so the two
//! cannot drift. Owns the wire shape and its normalisation (records stored as they were sent,
//! CSV text or JSON numbers, are answered in one typed form); must not hold request logic.

use crate::server::auth::Role;
use crate::server::error::ApiError;
use crate::server::ledger::OfferPlaces;
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
pub use super::orderer::*;

/// The id rule of `matcher_core::model::check_id` (the CPR-like refusal is in the description
/// only: generators of test data cannot all read look-ahead patterns).
pub const ID_PATTERN: &str = "^[A-Za-z0-9_.:-]{1,64}$";

/// A JSON answer from a typed body.
pub fn json<T: Serialize>(status: u16, body: &T) -> Result<Reply, ApiError> {
    let value = serde_json::to_value(body).map_err(|e| ApiError::Internal(format!("serialising: {e}")))?;
    Ok(Reply::Json(status, value))
}

/// A JSON answer serialised straight to bytes, not through a `Value`: the one to use when the
/// body holds stored JSON text (`RawValue`) that must go out byte for byte.
pub fn json_bytes<T: Serialize>(status: u16, body: &T) -> Result<Reply, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Internal(format!("serialising: {e}")))?;
    Ok(Reply::Raw(status, bytes.into()))
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
    "address": {"postcode": "9000", "town": "Aalborg"},
    "places": {"capacity": 12, "reserved": 2, "running": 1, "free": 9, "overbooked": 0}}))]
pub struct OfferView {
    /// The offer.
    pub record: OfferRecord,
    /// Places.
    pub capacity: u32,
    /// Places taken by accepted decisions.
    pub reserved: u32,
    /// Places left (0 once retired): the capacity less the places taken by accepted decisions
    /// and by courses under way that only candidates' records claim (`places.recorded`).
    pub remaining_places: u32,
    /// Retired offers take no one new.
    pub retired: bool,
    /// The record's occupations with their titles from the reference data.
    pub occupations: Vec<OccupationOut>,
    /// The town of `address_postcode` (null without one).
    #[schema(required = true)]
    pub address: Option<AddressOut>,
    /// One offer only (absent in a list): its places today across every municipality.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub places: Option<Places>,
}

impl OfferView {
    /// The view of a stored offer (without its places today), with the titles of its occupations and the town of its
    /// address from `reference`. `recorded`: the courses under way on it that only candidates'
    /// records claim (`ledger::recorded_locks`), taken from the places left like `reserved`.
    pub fn new(
        reference: &ReferenceData,
        record: &str,
        capacity: u32,
        reserved: u32,
        recorded: u32,
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
            remaining_places: if retired {
                0
            } else {
                capacity.saturating_sub(reserved.saturating_add(recorded))
            },
            retired,
            occupations,
            address,
            places: None,
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

/// An offer's places today, shared by every municipality, from the ledger and from the
/// candidates' records of courses under way: `reserved + running + recorded + free = capacity`
/// (`overbooked` counts places taken beyond a lowered capacity, which the service refuses to
/// create but an old file may hold, or beyond what case systems' records claim).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"capacity": 12, "reserved": 2, "running": 1, "recorded": 1, "free": 8, "overbooked": 0}))]
pub struct Places {
    /// Places.
    pub capacity: u32,
    /// Accepted, course not started yet.
    pub reserved: u32,
    /// Course under way.
    pub running: u32,
    /// Course under way that only a candidate's record claims (a case system's current offer,
    /// locked), with no accept in the ledger.
    pub recorded: u32,
    /// None of these: free for a new accept.
    pub free: u32,
    /// Taken beyond the capacity.
    pub overbooked: u32,
}

impl From<OfferPlaces> for Places {
    fn from(p: OfferPlaces) -> Places {
        Places {
            capacity: p.capacity,
            reserved: p.reserved,
            running: p.running,
            recorded: p.recorded,
            free: p.free,
            overbooked: p.overbooked,
        }
    }
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
    /// The measured effect from the episode history, case-mix adjusted (`docs/effects.md`).
    pub effect: GroupEffect,
}

/// An offer's (or provider's) effect for one target group: its uplift over no offer for
/// comparable candidates, learned from the episode history with its case mix, and the success
/// rates behind it. Assumes candidates with and without the offer are comparable on what is
/// recorded (time on benefit, age band, benefit kind, group).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(example = json!({"episodes": 48, "observed_rate": 0.94, "expected_rate": 0.61, "adjusted_rate": 0.72,
    "uplift": 0.12, "uplift_interval_90": [0.04, 0.20], "no_offer_rate": 0.39}))]
pub struct GroupEffect {
    /// Episodes with the offer (the provider's offers) for the group in the history.
    pub episodes: u32,
    /// Observed success rate of those episodes (null without any).
    #[schema(required = true)]
    pub observed_rate: Option<f64>,
    /// The rate those candidates would have had without an offer, from their case mix
    /// (null without episodes).
    #[schema(required = true)]
    pub expected_rate: Option<f64>,
    /// The rate on the group's average case mix: observed − expected + the group's no-offer
    /// rate ("justeret mod gennemsnittet"; null without episodes).
    #[schema(required = true)]
    pub adjusted_rate: Option<f64>,
    /// Uplift over no offer (share; 0.12 = 12 percentage points), shrunk toward the provider
    /// and the group; without history or evidence the prior, 0.
    pub uplift: f64,
    /// 90% interval of the uplift.
    #[schema(min_items = 2, max_items = 2)]
    pub uplift_interval_90: [f64; 2],
    /// The group's success rate without an offer, on its average case mix.
    pub no_offer_rate: f64,
}

/// An offer's quality.
#[derive(Debug, Serialize, ToSchema)]
pub struct Quality {
    /// The offer.
    pub offer_id: String,
    /// Its provider.
    pub provider_id: String,
    /// The provider's name as the data set gives it (its id where none is known).
    pub provider_name: String,
    /// Price per course, DKK.
    pub price_dkk: u32,
    /// Places.
    pub capacity: u32,
    /// Places the ledger holds (accepted courses, reserved or running).
    pub reserved: u32,
    /// Courses under way that only candidates' records claim (no accept in the ledger), in
    /// every municipality: they take places as the ledger's do.
    pub recorded: u32,
    /// Retired.
    pub retired: bool,
    /// (reserved + recorded) / capacity: above 1 when the offer is overbooked.
    pub utilisation: f64,
    /// Dual price from the municipality's last batch run: what one more place there would have
    /// added to that night's optimum, in points (null without a run).
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
    /// Its name as the data set gives it (its id where none is known).
    pub provider_name: String,
    /// Its offers' ids.
    pub offers: Vec<String>,
    /// Places over its offers.
    pub capacity: u32,
    /// Places the ledger holds over its offers.
    pub reserved: u32,
    /// Courses under way over its offers that only candidates' records claim.
    pub recorded: u32,
    /// (reserved + recorded) / capacity.
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
    /// Shrunk success rate of the old evidence counts (not the effect; see `uplift`).
    pub posterior_mean: f64,
    /// 90% interval of that rate.
    #[schema(min_items = 2, max_items = 2)]
    pub interval_90: [f64; 2],
    /// Episodes of the offer for this group in the outcomes history.
    pub episodes: u32,
    /// The group's success rate without an offer (average case mix).
    pub no_offer_rate: f64,
    /// The offer's success rate adjusted for case mix and shrunk toward the average
    /// ("justeret mod gennemsnittet").
    pub adjusted_rate: f64,
    /// Uplift over no offer for this candidate (share): the effect behind `effect_dkk`.
    pub uplift: f64,
    /// 90% interval of the uplift.
    #[schema(min_items = 2, max_items = 2)]
    pub uplift_interval_90: [f64; 2],
    /// The same in Danish words.
    pub reading_da: String,
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
    /// Dual price of the offer in the municipality's last batch run: what one more place there
    /// would have added to that night's optimum, in points.
    #[schema(required = true)]
    pub scarcity_price: Option<i64>,
    /// score − scarcity_price.
    #[schema(required = true)]
    pub adjusted_score: Option<i64>,
    /// One per factor.
    pub factors: Vec<Contribution>,
    /// Expected effect, DKK.
    pub effect_dkk: f64,
    /// Why the expected net effect is negative: `small_effect_for_price` (even the upper end of
    /// the uplift's interval does not pay for the price) or `too_uncertain`; null when it pays.
    #[schema(required = true)]
    pub effect_flag: Option<matcher_core::batch::EffectFlag>,
    /// Uplift over no offer behind `effect_dkk` (share, averaged over the shared groups).
    pub uplift: f64,
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

/// The course a candidate holds a place on.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"decision_id": 4, "offer_id": "course-00001", "offer_name": "Early return-to-work course",
    "starts_on": "2026-12-01", "ends_on": "2027-02-28"}))]
pub struct RunningOut<'a> {
    /// The accept holding the place.
    #[schema(minimum = 1)]
    pub decision_id: i64,
    /// Its offer.
    pub offer_id: &'a str,
    /// The offer's name (null when the offer is no longer in the catalogue).
    #[schema(required = true)]
    pub offer_name: Option<&'a str>,
    /// The course's first day.
    #[schema(format = Date)]
    pub starts_on: &'a str,
    /// Its last day (the place comes back after it).
    #[schema(format = Date)]
    pub ends_on: &'a str,
}

/// The top-k answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Suggestions)]
#[schema(example = json!({"candidate_id": "cand-000001", "running": null, "benefit_end": "2026-12-31",
    "reassessment_date": null, "offers_version": 3, "batch_run_id": null,
    "offers_in_reach": 14, "offers_feasible": 9, "suggestions": [{"rank": 1, "offer_id": "course-00001",
    "name": "Early return-to-work course", "kind": "provider", "provider_id": "lev-0003", "score": 612,
    "scarcity_price": null, "adjusted_score": null,
    "factors": [{"factor": "group_fit", "value": 1.0, "weight": 0.3, "points": 300},
                {"factor": "distance", "value": 0.78, "weight": 0.4, "points": 312}],
    "effect_dkk": 18400.0, "weeks_avoidable": 6.5, "distance_km": 4.4,
    "evidence": [{"target_group": "sickness", "target_group_name_da": "Sygedagpenge",
        "target_group_name_en": "Sickness benefit", "group_average": 0.4, "trials": 72, "successes": 32,
        "posterior_mean": 0.44, "interval_90": [0.35, 0.53], "episodes": 0, "no_offer_rate": 0.4,
        "adjusted_rate": 0.47, "uplift": 0.07, "uplift_interval_90": [-0.05, 0.19],
        "reading_da": "32 af 72 forløb lykkedes (justeret mod gennemsnittet 47 %). Effekt: +7 procentpoint over intet tilbud (90 %-interval -5 til +19)."}],
    "remaining_places": 9, "capacity": 12, "price_dkk": 21000, "policy": "national default", "runner_up": null,
    "duration_weeks": 13, "start": {"next_start": null, "continuous_intake": true, "wait_weeks": 0,
        "starts_after_benefit_end": false},
    "address": {"postcode": "9000", "town": "Aalborg"}, "contact": "Forløbskoordinator, tlf. 70 00 00 00",
    "occupations": [{"code": "9112", "title_da": "Rengøringsarbejde undtagen i private hjem",
        "title_en": "Cleaners and helpers in offices, hotels and other establishments"}]}]}))]
pub struct SuggestionsOut<'a> {
    /// The candidate.
    pub candidate_id: &'a str,
    /// The course the candidate holds a place on (accepted, not ended, not withdrawn): a
    /// second accept is refused until it is withdrawn or corrected.
    #[schema(required = true)]
    pub running: Option<RunningOut<'a>>,
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
    /// An accept: the course's first day (default today, within a year of today); the place
    /// is held for the offer's `duration_weeks` from it.
    #[serde(default)]
    #[schema(format = Date)]
    pub starts_on: Option<String>,
    /// The id of an earlier decision about the same candidate that this one corrects: it is
    /// withdrawn in the same transaction (its place released or moved).
    #[serde(default, deserialize_with = "super::handlers::optional_integer_id")]
    #[schema(minimum = 1, nullable = false)]
    pub corrects: Option<i64>,
}

/// Withdraw a decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Recorded for the wrong candidate"}))]
pub struct WithdrawalRequest {
    /// Why, in plain words (never a CPR number).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// What a recorded decision is: an accept, a decline, or the withdrawal of an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordedAction {
    /// The candidate takes the offer.
    Accept,
    /// Not this offer.
    Decline,
    /// Withdraws the decision named in `corrects`.
    Withdrawal,
}

/// Where a decision stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// An accept whose course has not started: it holds a place.
    Reserved,
    /// An accept whose course is under way: it holds a place.
    Running,
    /// An accept whose course is over (ended, outcome recorded or candidate deleted).
    Ended,
    /// Withdrawn or corrected by a later decision (`corrected_by`).
    Withdrawn,
    /// A decline that keeps the offer out of the candidate's suggestions.
    InForce,
    /// A decline past its `excluded_until`.
    Expired,
    /// A decline from before declines excluded anything.
    Recorded,
    /// A withdrawal.
    Withdrawal,
}

/// Why an accept's place came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleasedWhy {
    /// The course's last day passed.
    CourseEnded,
    /// An outcome was recorded.
    Outcome,
    /// The decision was withdrawn or corrected.
    Withdrawn,
    /// The candidate was deleted.
    CandidateDeleted,
}

/// One decision as recorded.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "municipality": "0851", "candidate_id": "cand-000001", "offer_id": "course-00001",
    "action": "accept", "reason": "Near home", "decided_by": "anna", "employer": "Aarhus Kommune, Jobcenter",
    "role": "caseworker",
    "suggested_offer_ids": ["course-00001"], "decided_at": "2026-12-05T10:00:00Z", "corrects": null,
    "corrected_by": null, "starts_on": "2026-12-07", "ends_on": "2027-03-07", "excluded_until": null,
    "status": "reserved", "released_why": null}))]
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
    /// Accept, decline or withdrawal.
    pub action: RecordedAction,
    /// Why.
    pub reason: String,
    /// Who decided (the token's user, or the person a verified identity-provider token names).
    pub decided_by: String,
    /// The decider's employer as stored when deciding (from the verified identity; rows from
    /// before the column existed show the municipality).
    pub employer: String,
    /// The decider's role.
    pub role: Role,
    /// The offers shown, in order.
    pub suggested_offer_ids: Vec<String>,
    /// When (UTC, RFC 3339).
    #[schema(format = DateTime)]
    pub decided_at: String,
    /// The decision this one withdraws (a withdrawal) or corrects; null otherwise.
    #[schema(required = true, minimum = 1)]
    pub corrects: Option<i64>,
    /// The later decision that withdrew or corrected this one; null while it stands.
    #[schema(required = true, minimum = 1)]
    pub corrected_by: Option<i64>,
    /// An accept: the course's first day.
    #[schema(required = true, format = Date)]
    pub starts_on: Option<String>,
    /// An accept: the course's last day (the place comes back after it).
    #[schema(required = true, format = Date)]
    pub ends_on: Option<String>,
    /// A decline: the last day the offer stays out of the candidate's suggestions.
    #[schema(required = true, format = Date)]
    pub excluded_until: Option<String>,
    /// Where it stands today.
    pub status: DecisionStatus,
    /// Why an accept's place came back; null while it holds its place (and for others).
    #[schema(required = true)]
    pub released_why: Option<ReleasedWhy>,
}

impl Decision {
    /// The answer for a stored row (its action and role were written from these enums).
    pub fn new(row: DecisionRow) -> Decision {
        Decision {
            id: row.id,
            municipality: row.municipality,
            candidate_id: row.candidate_id,
            offer_id: row.offer_id,
            action: match row.action.as_str() {
                "accept" => RecordedAction::Accept,
                "withdrawal" => RecordedAction::Withdrawal,
                _ => RecordedAction::Decline,
            },
            reason: row.reason,
            decided_by: row.decided_by,
            employer: row.employer,
            role: Role::parse(&row.role).unwrap_or(Role::Caseworker),
            suggested_offer_ids: row.suggested_offer_ids,
            decided_at: row.decided_at,
            corrects: row.corrects,
            corrected_by: row.corrected_by,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            excluded_until: row.excluded_until,
            status: match row.status.as_str() {
                "reserved" => DecisionStatus::Reserved,
                "running" => DecisionStatus::Running,
                "ended" => DecisionStatus::Ended,
                "withdrawn" => DecisionStatus::Withdrawn,
                "in_force" => DecisionStatus::InForce,
                "expired" => DecisionStatus::Expired,
                "withdrawal" => DecisionStatus::Withdrawal,
                _ => DecisionStatus::Recorded,
            },
            released_why: row.released_why.as_deref().and_then(|why| match why {
                "course_ended" => Some(ReleasedWhy::CourseEnded),
                "outcome" => Some(ReleasedWhy::Outcome),
                "withdrawn" => Some(ReleasedWhy::Withdrawn),
                "candidate_deleted" => Some(ReleasedWhy::CandidateDeleted),
                _ => None,
            }),
        }
    }
}

/// A decision just recorded (or replayed by its Idempotency-Key).
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionRecorded {
    /// The decision.
    #[serde(flatten)]
    pub decision: Decision,
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
    /// The day the candidate left benefit (a success), or the outcome was known (a drop-out);
    /// default today. Not in the future and not before the decision: the episode's
    /// `weeks_to_exit` counts from the decision to it.
    #[serde(default)]
    #[schema(format = Date, nullable = false)]
    pub exited_on: Option<String>,
}

/// An outcome as recorded.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"decision_id": 1, "offer_id": "course-00001", "result": "in_work", "success": true,
    "place_released": true}))]
pub struct Outcome {
    /// The decision.
    pub decision_id: i64,
    /// Its offer.
    pub offer_id: String,
    /// What became of it.
    pub result: OutcomeKind,
    /// Counts as a success in the offer's evidence.
    pub success: bool,
    /// The accept's place came back with this outcome (false when it had already come back).
    pub place_released: bool,
}

// ----- episode history -----

/// What happened to a candidate without an accepted offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExitKind {
    /// Left benefit for work (success).
    InWork,
    /// Left benefit for education (success).
    InEducation,
    /// Back at their own job (success).
    BackAtWork,
    /// Left benefit for another reason (moved, another benefit, died, …).
    LeftOther,
    /// Still on benefit when the follow-up (52 weeks from `started`) ended.
    StillOnBenefit,
}

impl ExitKind {
    /// The store's kind.
    pub fn stored(self) -> crate::server::store::ExitResult {
        use crate::server::store::ExitResult as X;
        match self {
            ExitKind::InWork => X::InWork,
            ExitKind::InEducation => X::InEducation,
            ExitKind::BackAtWork => X::BackAtWork,
            ExitKind::LeftOther => X::LeftOther,
            ExitKind::StillOnBenefit => X::StillOnBenefit,
        }
    }
}

/// Record an episode without an offer (the comparison group).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"result": "in_work", "started": "2026-01-05", "weeks_to_exit": 14}))]
pub struct ExitRequest {
    /// What happened.
    pub result: ExitKind,
    /// First day of the episode observed (e.g. the day the candidate was assessed and no offer
    /// was chosen); not in the future, not before the benefit began.
    #[schema(format = Date)]
    pub started: String,
    /// Weeks from `started` until the candidate left benefit, 0–52 (the follow-up); required
    /// when the candidate left, absent for `still_on_benefit`. The exit day must not be in the
    /// future.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 52, nullable = false)]
    pub weeks_to_exit: Option<f64>,
}

/// One episode of the history, with the `outcomes` table's columns (`data/README.md`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "e0851-7", "municipality": "0851", "target_groups": ["youth_psychosocial"],
    "age_band": "18-24", "benefit_kind": "education_benefit", "weeks_on_benefit": 30.1,
    "offer_id": null, "started": "2026-01-05", "success": true, "weeks_to_exit": 14, "result": "in_work"}))]
pub struct HistoryEpisode {
    /// Episode id (`e` + municipality + `-` + the municipality's number for it).
    pub id: String,
    /// Municipality.
    pub municipality: String,
    /// The candidate's target groups when the episode started.
    pub target_groups: Vec<String>,
    /// Age band at the start.
    pub age_band: AgeBandLabel,
    /// Benefit kind at the start.
    pub benefit_kind: String,
    /// Weeks on benefit at the start.
    pub weeks_on_benefit: f64,
    /// The offer taken; null: no offer (the comparison group).
    #[schema(required = true)]
    pub offer_id: Option<String>,
    /// First day: the day of the accepting decision, or the no-offer record's `started`.
    #[schema(format = Date)]
    pub started: String,
    /// Left benefit for work or education within the follow-up (52 weeks).
    pub success: bool,
    /// Weeks from the start until off benefit; null when not within the follow-up.
    #[schema(required = true)]
    pub weeks_to_exit: Option<f64>,
    /// What was recorded: the outcome's result, or the no-offer record's.
    pub result: String,
}

impl HistoryEpisode {
    /// From a stored row.
    pub fn new(r: &crate::server::store::HistoryRow) -> HistoryEpisode {
        HistoryEpisode {
            id: r.episode_id(),
            municipality: format!("{:04}", r.municipality),
            target_groups: r.target_groups.clone(),
            age_band: serde_json::from_value(Value::String(r.age_band.clone()))
                .unwrap_or(AgeBandLabel::From30To39),
            benefit_kind: r.benefit_kind.clone(),
            weeks_on_benefit: r.weeks_on_benefit,
            offer_id: r.offer_id.clone(),
            started: r.started.clone(),
            success: r.success,
            weeks_to_exit: r.weeks_to_exit,
            result: r.result.clone(),
        }
    }
}

/// A page of the episode history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    /// In order of recording, at most `limit`.
    pub episodes: Vec<HistoryEpisode>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub next: Option<i64>,
    /// Page size.
    #[schema(minimum = 1, maximum = 10000)]
    pub limit: u32,
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

// ----- accountability: suggestion log, access log, access export, erasure -----

/// One suggestion list or batch proposal as the suggestion log holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionLogEntry {
    /// Numbered per municipality.
    #[schema(minimum = 1)]
    pub number: i64,
    /// When it was shown (UTC, RFC 3339 with milliseconds).
    #[schema(format = DateTime)]
    pub shown_at: String,
    /// `api` (a suggestions answer) or `batch` (a batch proposal).
    pub source: LogSource,
    /// Who asked (the token's user or the verified person).
    pub requested_by: String,
    /// Their role.
    pub role: Role,
    /// The candidate's pseudonymous id.
    pub candidate_id: String,
    /// The offers' version the answer was computed on.
    pub offers_version: i64,
    /// The batch run whose scarcity prices applied (the municipality's number for it).
    #[schema(required = true)]
    pub batch_run_id: Option<i64>,
    /// The engine's version.
    pub engine_version: String,
    /// The policy in force.
    pub policy_name: String,
    /// SHA-256 of the policy's JSON.
    pub policy_hash: String,
    /// SHA-256 of the reference data's JSON.
    pub reference_hash: String,
    /// The suggestions answer (`source` api) or the batch proposal (`source` batch), the
    /// stored text unchanged: byte for byte what was served.
    #[schema(value_type = Object)]
    pub answer: Box<serde_json::value::RawValue>,
}

/// Where a logged suggestion came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    /// `POST /v1/suggestions` (API or widget).
    Api,
    /// A batch run's proposal.
    Batch,
}

impl SuggestionLogEntry {
    /// The answer for a stored row (its source and role were written from these enums).
    pub fn new(row: crate::server::store::SuggestionLogRow) -> Result<SuggestionLogEntry, ApiError> {
        let answer = serde_json::value::RawValue::from_string(row.answer)
            .map_err(|e| ApiError::Internal(format!("logged answer: {e}")))?;
        Ok(SuggestionLogEntry {
            number: row.number,
            shown_at: row.shown_at,
            source: if row.source == "batch" { LogSource::Batch } else { LogSource::Api },
            requested_by: row.requested_by,
            role: Role::parse(&row.role).unwrap_or(Role::Caseworker),
            candidate_id: row.candidate_id,
            offers_version: row.offers_version,
            batch_run_id: row.batch_run_id,
            engine_version: row.engine_version,
            policy_name: row.policy_name,
            policy_hash: row.policy_hash,
            reference_hash: row.reference_hash,
            answer,
        })
    }
}

/// A page of the suggestion log for one candidate.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"candidate_id": "cand-000001", "entries": [{"number": 1,
    "shown_at": "2026-12-05T10:00:00.123Z", "source": "api", "requested_by": "anna", "role": "caseworker",
    "candidate_id": "cand-000001", "offers_version": 3, "batch_run_id": null, "engine_version": "0.1.0",
    "policy_name": "default", "policy_hash": "9f2c…", "reference_hash": "41ab…",
    "answer": {"candidate_id": "cand-000001", "suggestions": []}}], "next": null}))]
pub struct SuggestionLog {
    /// The candidate.
    pub candidate_id: String,
    /// Oldest first.
    pub entries: Vec<SuggestionLogEntry>,
    /// Pass as `after` for the next page; null on the last page.
    #[schema(required = true)]
    pub next: Option<i64>,
}

/// What someone did with a candidate's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    /// Read one record.
    Read,
    /// Saw it in a list.
    List,
    /// Created or changed it.
    Write,
    /// Erased it.
    Erase,
    /// Exported it (access request).
    Export,
    /// Asked for suggestions for them.
    Suggest,
    /// Decided on an offer for them.
    Decide,
    /// Withdrew a decision about them.
    Withdraw,
    /// Recorded that they left benefit (or are still on it) without an offer.
    RecordExit,
}

impl AccessAction {
    /// As stored (the handlers write these words).
    pub fn parse(text: &str) -> Option<AccessAction> {
        Some(match text {
            "read" => AccessAction::Read,
            "list" => AccessAction::List,
            "write" => AccessAction::Write,
            "erase" => AccessAction::Erase,
            "export" => AccessAction::Export,
            "suggest" => AccessAction::Suggest,
            "decide" => AccessAction::Decide,
            "withdraw" => AccessAction::Withdraw,
            "record_exit" => AccessAction::RecordExit,
            _ => return None,
        })
    }
}

/// One line of the access log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    /// Numbered per municipality.
    #[schema(minimum = 1)]
    pub number: i64,
    /// When (UTC, RFC 3339 with milliseconds).
    #[schema(format = DateTime)]
    pub at: String,
    /// Who (the token's user or the verified person).
    pub user: String,
    /// Their role.
    pub role: Role,
    /// Their employer.
    pub employer: String,
    /// What they did.
    pub action: AccessAction,
    /// The candidate's pseudonymous id.
    pub candidate_id: String,
    /// The request's id (as in the service log and problem details).
    pub request_id: String,
}

impl AccessEntry {
    /// The answer for a stored row.
    pub fn new(row: crate::server::store::AccessRow) -> Result<AccessEntry, ApiError> {
        let action = AccessAction::parse(&row.action)
            .ok_or_else(|| ApiError::Internal(format!("stored access action {}", row.action)))?;
        Ok(AccessEntry {
            number: row.number,
            at: row.at,
            user: row.user,
            role: Role::parse(&row.role).unwrap_or(Role::Caseworker),
            employer: row.employer,
            action,
            candidate_id: row.candidate_id,
            request_id: row.request_id,
        })
    }
}

/// A page of the access log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"entries": [{"number": 1, "at": "2026-12-05T10:00:00.123Z", "user": "anna",
    "role": "caseworker", "employer": "Aarhus Kommune, Jobcenter", "action": "read", "candidate_id": "cand-000001",
    "request_id": "7f3e2a"}], "next": null, "limit": 1000}))]
pub struct AccessLog {
    /// Oldest first.
    pub entries: Vec<AccessEntry>,
    /// Pass as `after` for the next page; null on the last page.
    #[schema(required = true)]
    pub next: Option<i64>,
    /// Page size.
    #[schema(minimum = 1, maximum = 10000)]
    pub limit: u32,
}

/// An outcome of one of the candidate's decisions, as the export shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedOutcome {
    /// The decision (the municipality's number for it).
    pub decision_id: i64,
    /// Its offer.
    pub offer_id: String,
    /// What became of it.
    pub result: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    #[schema(format = DateTime)]
    pub recorded_at: String,
}

/// What each part of the export is, in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportParts {
    /// About `data`.
    pub data: &'static str,
    /// About `suggestions_shown`.
    pub suggestions_shown: &'static str,
    /// About `decisions`.
    pub decisions: &'static str,
    /// About `outcomes`.
    pub outcomes: &'static str,
    /// About `episodes`.
    pub episodes: &'static str,
    /// About `accesses`.
    pub accesses: &'static str,
}

/// The export's explanation in Danish and English.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportExplanation {
    /// Danish.
    pub da: ExportParts,
    /// English.
    pub en: ExportParts,
}

impl ExportExplanation {
    /// The fixed texts.
    pub fn texts() -> ExportExplanation {
        ExportExplanation {
            da: ExportParts {
                data: "Oplysningerne om dig, som kommunen har registreret i Brobygger (tom efter sletning).",
                suggestions_shown: "Hvert forslag, systemet har vist din sagsbehandler, præcis som det blev vist: tilbud, point pr. faktor, forventet effekt og hvilke versioner af regler og data der blev brugt.",
                decisions: "Beslutninger om tilbud, truffet af en sagsbehandler (navngivet) med begrundelse. Systemet foreslår; det beslutter ikke.",
                outcomes: "Resultatet af et tilbud, du har fået.",
                episodes: "Forløb, der bruges til at måle, hvad tilbud virker: din målgruppe, aldersgruppe, ydelse og tid på ydelse, da forløbet begyndte, og om du kom i job eller uddannelse. Udleveres til statistik uden dit id.",
                accesses: "Hvem der har læst eller ændret dine oplysninger, og hvornår.",
            },
            en: ExportParts {
                data: "The data the municipality registered about you in Brobygger (empty after erasure).",
                suggestions_shown: "Every suggestion the system showed your caseworker, exactly as shown: offers, points per factor, expected effect, and the versions of policy and data used.",
                decisions: "Decisions on offers, made by a named caseworker with a reason. The system suggests; it does not decide.",
                outcomes: "The result of an offer you took.",
                episodes: "Episodes used to measure which offers work: your target group, age band, benefit and time on benefit when the episode began, and whether you got a job or education. Exported for statistics without your id.",
                accesses: "Who read or changed your data, and when.",
            },
        }
    }
}

/// Everything held about one candidate in this municipality (GDPR Art. 15).
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateExport {
    /// The candidate.
    pub candidate_id: String,
    /// When the export was made (UTC, RFC 3339 with milliseconds).
    #[schema(format = DateTime)]
    pub exported_at: String,
    /// Who made it.
    pub exported_by: String,
    /// The record as stored, protected attributes included; null after erasure.
    #[schema(required = true)]
    pub data: Option<CandidateRecord>,
    /// Suggestion-log entries with the answers as shown, oldest first.
    pub suggestions_shown: Vec<SuggestionLogEntry>,
    /// Decisions about the candidate.
    pub decisions: Vec<Decision>,
    /// Outcomes of those decisions.
    pub outcomes: Vec<ExportedOutcome>,
    /// Episodes of the history that name the candidate (their case mix on the first day);
    /// `result` `open` for an accept without an outcome yet.
    pub episodes: Vec<HistoryEpisode>,
    /// Who read or changed the candidate's data.
    pub accesses: Vec<AccessEntry>,
    /// What each part is.
    pub explanation: ExportExplanation,
}

/// A kind of record an erasure kept, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeptRecord {
    /// Which record.
    pub record: KeptKind,
    /// How many rows name the candidate.
    pub count: usize,
    /// The legal reason it is kept.
    pub why: &'static str,
}

/// Records an erasure keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeptKind {
    /// The decisions.
    Decisions,
    /// The suggestion log.
    SuggestionLog,
    /// The access log.
    AccessLog,
    /// The episode history.
    Episodes,
    /// The caseworkers' cases (the open one closed by the erasure).
    Cases,
    /// The tenant's batch runs that proposed for the candidate, until their retention ends.
    BatchRuns,
}

/// An erased candidate: what was removed and what was kept, and why.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"deleted": "cand-000001", "places_released": 1,
    "erased": ["the candidate record: every field received about the person, protected attributes included"],
    "kept": [{"record": "decisions", "count": 1, "why": "the authority's record of its decisions (who decided what, when and why); kept under the municipality's duty to keep records, with the pseudonymous id only"}]}))]
pub struct Erasure {
    /// Its id.
    pub deleted: String,
    /// Places the candidate held (accepted, course not ended) that came back.
    pub places_released: usize,
    /// What was removed.
    pub erased: Vec<&'static str>,
    /// What was kept, and why.
    pub kept: Vec<KeptRecord>,
}

// ----- caseloads and the team overview -----

/// A caseworker as the caseload plan takes them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseworkerInput {
    /// Pseudonymous id, unique within the municipality.
    #[schema(example = "sb-0851-001")]
    pub id: String,
    /// The team the caseworker belongs to (same rules as an id).
    #[schema(example = "sygedagpenge-1")]
    pub team: String,
    /// The most cases the caseworker should hold (at most 1000).
    #[schema(example = 45)]
    pub cap: u32,
    /// Cases held outside Brobygger (other programmes); counted in the caseload.
    #[serde(default)]
    pub other_cases: u32,
    /// Target-group codes the caseworker specialises in.
    #[serde(default)]
    pub specialities: Vec<String>,
}

/// Run the caseload plan: who takes each of the tenant's candidates that has no open case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"caseworkers": [{"id": "sb-0851-001", "team": "sygedagpenge-1", "cap": 45,
    "other_cases": 12, "specialities": ["sickness"]}], "apply": false}))]
pub struct CaseloadPlanRequest {
    /// The municipality's caseworkers (1–2000). Their stored cases are their caseload.
    pub caseworkers: Vec<CaseworkerInput>,
    /// Store the caseworkers and open the proposed cases; `false` (the default) only answers
    /// the plan.
    #[serde(default)]
    pub apply: bool,
}

/// The plan's proposal for one candidate without a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseProposal {
    /// The candidate.
    pub candidate_id: String,
    /// The proposed caseworker; null when every caseworker is at the cap.
    #[schema(required = true)]
    pub caseworker_id: Option<String>,
    /// The caseworker's team.
    #[schema(required = true)]
    pub team: Option<String>,
    /// The caseworker's caseload with this candidate.
    pub caseload_after: u32,
    /// The caseworker specialises in one of the candidate's target groups.
    pub speciality: bool,
    /// Why nobody takes the candidate (`all_at_cap`).
    #[schema(required = true)]
    pub reason: Option<&'static str>,
}

/// One caseworker's caseload before and after the plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseworkerPlanLoad {
    /// The caseworker.
    pub caseworker_id: String,
    /// The team.
    pub team: String,
    /// The cap.
    pub cap: u32,
    /// Caseload now (open cases and other cases).
    pub before: u32,
    /// Caseload with the proposed candidates.
    pub after: u32,
}

/// A caseload plan, and whether it was applied.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseloadPlan {
    /// The caseworkers were stored and the cases opened.
    pub applied: bool,
    /// Cases opened (0 when not applied).
    pub cases_opened: usize,
    /// One per candidate without an open case, by candidate id.
    pub proposals: Vec<CaseProposal>,
    /// One per caseworker of the request, in its order.
    pub caseworkers: Vec<CaseworkerPlanLoad>,
    /// The solver's duality gap (0: proven optimal balance; null when nothing was solved).
    #[schema(required = true)]
    pub gap: Option<i64>,
}

/// The dates a team overview counts new and closed cases in (both included).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverviewPeriod {
    /// First day.
    #[schema(format = Date)]
    pub from: String,
    /// Last day.
    #[schema(format = Date)]
    pub to: String,
}

/// Sickness-benefit cases and the 8-week assessment (8 weeks after the benefit's first day).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct EarlyAction {
    /// Sickness-benefit cases counted (open, or closed in the period).
    pub cases: u32,
    /// Of those, cases whose assessment date has passed or that were acted on before it: the
    /// cases where the answer is known.
    pub known: u32,
    /// Cases with a decision (accept or decline) recorded on or before the assessment date.
    pub acted_before_assessment: u32,
    /// `acted_before_assessment / known`; null when nothing is known yet.
    #[schema(required = true)]
    pub share_acted_before_assessment: Option<f64>,
    /// Open cases not yet acted on whose assessment date is within the next 14 days.
    pub due_within_14_days: u32,
}

/// The workload figures of a caseworker or a whole team.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Workload {
    /// Cases held now: open cases plus cases held outside Brobygger.
    pub caseload: u32,
    /// The cap (for a team: the sum of its caseworkers' caps).
    pub cap: u32,
    /// Of the caseload, cases held outside Brobygger.
    pub other_cases: u32,
    /// Cases opened in the period.
    pub new_cases: u32,
    /// Cases closed in the period (the citizen left the benefit, or was erased).
    pub closed_cases: u32,
    /// Median days from opening to closing of the cases closed in the period.
    #[schema(required = true)]
    pub median_days_closed_cases: Option<f64>,
    /// Median days the open cases have been open.
    #[schema(required = true)]
    pub median_days_open_cases: Option<f64>,
    /// Early action on sickness-benefit cases.
    pub early_action: EarlyAction,
}

/// One caseworker's part of the team's workload.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseworkerWorkload {
    /// The caseworker.
    pub caseworker_id: String,
    /// The figures.
    pub workload: Workload,
}

/// A team's workload for the team meeting: the whole team and each caseworker, in id order.
/// A picture of the load to share out, not a ranking of people.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamOverview {
    /// The team.
    pub team: String,
    /// The municipality (tenant), four digits.
    pub municipality: String,
    /// The day the figures are read against.
    #[schema(format = Date)]
    pub today: String,
    /// The period of new and closed cases.
    pub period: OverviewPeriod,
    /// The whole team.
    pub team_workload: Workload,
    /// Each caseworker, by id (never by a figure).
    pub caseworkers: Vec<CaseworkerWorkload>,
}
