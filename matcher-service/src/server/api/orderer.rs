//! The bodies of the orderer's routes (issue 16): the provider registry, contracts, the
//! overview of providers and spend, and the provider's view of decisions with comments. Kept
//! beside `answers.rs` (and re-exported by it) under the same rule: named types that serialise
//! exactly what is answered, with their schemas derived for `/openapi.json`. Must not hold
//! request logic.

use crate::server::auth::Role;
use matcher_core::model::{ContractKind, OfferKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::answers::{DecisionStatus, GroupEffect, RecordedAction};

// ----- the registry -----

/// A provider as written to the registry (`POST /v1/providers`, an array of these).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "lev-0003", "name": "Vejen Videre ApS (invented)", "municipality": "0851",
    "contact": "Visitation, 98 00 00 00"}))]
pub struct ProviderRecord {
    /// Provider id, as offers name it.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub id: String,
    /// Name (1–200 characters).
    pub name: String,
    /// Home municipality (kommunekode, e.g. `0851`): only its admin or system writes the entry.
    #[schema(pattern = "^[0-9]{1,4}$")]
    pub municipality: String,
    /// Whom to contact: a role, phone or shared mailbox, never a person's private data
    /// (at most 200 characters). Left out: the stored contact is kept.
    #[serde(default)]
    #[schema(nullable = false)]
    pub contact: Option<String>,
}

/// A provider with what it delivers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderView {
    /// Provider id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Home municipality (four digits).
    pub municipality: String,
    /// Whom to contact; null when the registry has none.
    #[schema(required = true)]
    pub contact: Option<String>,
    /// Kinds of its offers.
    pub kinds: Vec<OfferKind>,
    /// Its offers' ids, in id order.
    pub offer_ids: Vec<String>,
}

/// A page of the registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderList {
    /// In id order.
    pub providers: Vec<ProviderView>,
    /// Providers matching the filters, over all pages.
    pub total: usize,
    /// Page size.
    pub limit: u32,
    /// Providers skipped.
    pub offset: u32,
}

// ----- contracts -----

/// A contract of the municipality with a provider (`POST /v1/contracts`): the columns of the
/// data set's `contracts` table (`data/README.md`), checked by the core's contract rules. The
/// municipality is the token's; a body naming another is refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "k-2027-001", "provider_id": "lev-0003", "kind": "strategic_partner",
    "offers": ["course-00001"], "price_dkk": 18000, "places": 40, "guaranteed_volume": 30,
    "start": "2027-01-01", "end": "2027-12-31"}))]
pub struct ContractRequest {
    /// The municipality's id for the contract; a second POST with the same id replaces it.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub id: String,
    /// The municipality that holds it; must be the token's (left out: the token's).
    #[serde(default)]
    #[schema(pattern = "^[0-9]{1,4}$", nullable = false)]
    pub municipality: Option<String>,
    /// The provider, which must be in the registry.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub provider_id: String,
    /// `buffer` (used when specialists and partners in reach are full), `specialist` (takes
    /// only its target groups), `strategic_partner` (a guaranteed volume).
    pub kind: ContractKind,
    /// Price per course, DKK; 0 (or left out) keeps the offers' own prices.
    #[serde(default)]
    pub price_dkk: u32,
    /// Places bought (at least 1).
    pub places: u32,
    /// Places the municipality promises to fill; strategic partners only, at most `places`.
    #[serde(default)]
    pub guaranteed_volume: u32,
    /// First day in force (`YYYY-MM-DD`).
    #[schema(format = Date)]
    pub start: String,
    /// Last day in force (`YYYY-MM-DD`), not before `start`.
    #[schema(format = Date)]
    pub end: String,
    /// Specialists: the target-group codes its offers take (required for them, refused for
    /// the others).
    #[serde(default)]
    pub target_groups: Vec<String>,
    /// Offers it covers: the provider's courses serving the municipality (1–1000).
    pub offers: Vec<String>,
}

/// Where a contract stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    /// Its period has not started.
    Future,
    /// Today is in its period.
    InForce,
    /// Its period is over.
    Ended,
}

/// A contract as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contract {
    /// The municipality's id for it.
    pub id: String,
    /// The municipality that holds it (four digits).
    pub municipality: String,
    /// The provider.
    pub provider_id: String,
    /// Its kind.
    pub kind: ContractKind,
    /// Price per course, DKK; 0: the offers' own prices.
    pub price_dkk: u32,
    /// Places bought.
    pub places: u32,
    /// Places promised.
    pub guaranteed_volume: u32,
    /// First day in force.
    pub start: String,
    /// Last day in force.
    pub end: String,
    /// Specialists: the target groups its offers take; empty for the others.
    pub target_groups: Vec<String>,
    /// Offers covered.
    pub offers: Vec<String>,
    /// Where it stands today.
    pub status: ContractStatus,
    /// Who wrote it last.
    pub written_by: String,
    /// When (UTC).
    pub updated_at: String,
}

/// A page of the municipality's contracts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractList {
    /// In id order.
    pub contracts: Vec<Contract>,
    /// Page size.
    pub limit: u32,
    /// Contracts skipped.
    pub offset: u32,
}

// ----- the overview -----

/// Whose decisions an overview counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverviewScope {
    /// The token's municipality: its decisions, its contracts, the offers serving it.
    Municipality,
    /// Every municipality summed (admin only): no municipality's own figures are shown.
    National,
}

/// Quality of a provider for a target group: its offers' results shrunk toward the group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverviewQuality {
    /// Candidates of the group who completed or left its offers.
    pub trials: u32,
    /// Of them, successes.
    pub successes: u32,
    /// Shrunk success rate (Beta posterior mean toward the group average).
    pub posterior_mean: f64,
    /// 90 % interval of the rate.
    #[schema(min_items = 2, max_items = 2)]
    pub interval_90: [f64; 2],
    /// The effect: uplift over no offer, adjusted for the case mix and shrunk offer → provider
    /// → group, with its 90 % interval (the same reading as the provider's quality route).
    pub effect: GroupEffect,
}

/// One provider × target group of the overview.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverviewRow {
    /// The provider.
    pub provider_id: String,
    /// Its name from the registry; null when it is not registered.
    #[schema(required = true)]
    pub provider_name: Option<String>,
    /// Target-group code; `all` for offers open to every group.
    pub target_group: String,
    /// The provider's offers open to this group (in the scope).
    pub offers: u32,
    /// Their places (an offer open to several groups counts in each).
    pub places: u32,
    /// Standing accepts of candidates of this group on them (each accept in one group: the
    /// first of the candidate's groups the offer serves).
    pub accepted: u32,
    /// Of those, places held now (course reserved or running).
    pub held: u32,
    /// Price per course paid on average (spend ÷ accepts); the offers' mean list price when
    /// nothing was accepted.
    pub price_dkk: u32,
    /// Spend: each standing accept at its contract's price on the day of the decision, or the
    /// offer's list price.
    pub spend_dkk: u64,
    /// The municipality's contract in force today covering these offers (national scope:
    /// the offers' own contract field); null when none.
    #[schema(required = true)]
    pub contract: Option<ContractKind>,
    /// Quality for this group over the provider's offers; `all` rows take every group.
    pub quality: OverviewQuality,
}

/// The orderer's overview: providers × target groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderOverview {
    /// Whose decisions are counted.
    pub scope: OverviewScope,
    /// The municipality (scope `municipality`); null for `national`.
    #[schema(required = true)]
    pub municipality: Option<String>,
    /// What `quality` is: `quality.effect` is the case-mix adjusted uplift over no offer with
    /// its 90 % interval; `posterior_mean` is a shrunk success rate, not an effect.
    pub quality_basis: String,
    /// Rows by spend, largest first (then provider, group).
    pub rows: Vec<OverviewRow>,
    /// Rows matching the filters, over all pages.
    pub total: usize,
    /// Spend of all matching rows, DKK.
    pub spend_dkk: u64,
    /// Page size.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u32,
}

/// A period of spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpendPeriodKind {
    /// Calendar months (`2026-09`).
    Month,
    /// Quarters (`2026-Q3`).
    Quarter,
    /// Years (`2026`).
    Year,
}

/// Spend of one period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpendPeriod {
    /// `2026-09`, `2026-Q3` or `2026`.
    pub period: String,
    /// Standing accepts decided in the period.
    pub accepted: u32,
    /// Their spend, DKK.
    pub spend_dkk: u64,
    /// Providers paid.
    pub providers: u32,
    /// The supplier tail: the fewest providers that carry 80 % of the period's spend.
    pub providers_for_80_percent: u32,
    /// Spend under a contract of the municipality (the rest at list prices), DKK.
    pub contracted_spend_dkk: u64,
}

/// Spend from decisions actually made (standing accepts × price), per period.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpendOverview {
    /// Whose decisions are counted.
    pub scope: OverviewScope,
    /// The municipality (scope `municipality`); null for `national`.
    #[schema(required = true)]
    pub municipality: Option<String>,
    /// The period kind.
    pub period: SpendPeriodKind,
    /// Oldest first.
    pub periods: Vec<SpendPeriod>,
}

// ----- the provider's view -----

/// A decision about one of a provider's offers, as the provider may see it: the pseudonymous
/// candidate id and what was decided, never the reason (it may describe the candidate), the
/// decider or the other offers suggested.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderDecision {
    /// The municipality's number for the decision.
    pub id: i64,
    /// The deciding municipality.
    pub municipality: String,
    /// Pseudonymous candidate id.
    pub candidate_id: String,
    /// The provider's offer.
    pub offer_id: String,
    /// What was decided.
    pub action: RecordedAction,
    /// Where it stands.
    pub status: DecisionStatus,
    /// When (UTC).
    pub decided_at: String,
    /// An accept: the course's first day.
    #[schema(required = true)]
    pub starts_on: Option<String>,
    /// An accept: the course's last day.
    #[schema(required = true)]
    pub ends_on: Option<String>,
    /// Comments on it the caller may read.
    pub comments: u32,
}

/// A page of decisions about a provider's offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderDecisionList {
    /// In id order.
    pub decisions: Vec<ProviderDecision>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub next: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// A comment to attach to a decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Started on the 7th; first interview held."}))]
pub struct CommentRequest {
    /// 1–2000 characters; never a CPR number.
    pub text: String,
}

/// A comment on a decision (append-only).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Comment {
    /// The municipality's number for it.
    pub id: i64,
    /// The decision.
    pub decision_id: i64,
    /// The author's provider; null for the municipality's staff.
    #[schema(required = true)]
    pub provider_id: Option<String>,
    /// Who wrote it.
    pub author: String,
    /// The author's role.
    pub role: Role,
    /// The author's employer.
    pub employer: String,
    /// The text.
    pub text: String,
    /// When (UTC).
    pub written_at: String,
}

/// The comments on a decision the caller may read, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    /// The decision.
    pub decision_id: i64,
    /// The comments.
    pub comments: Vec<Comment>,
}
