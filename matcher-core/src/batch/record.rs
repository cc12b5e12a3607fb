//! The one serialised shape of a proposal: a [`Proposal`] (indices into the night's data
//! set) turned into ids and labels, as written to `proposals.jsonl` by `matcher batch` and
//! answered by the service's `GET /v1/batch-runs/{id}/proposals`. Owns the field names; must
//! not compute anything a [`Proposal`] does not already hold.
//!
//! Fields are declared in alphabetical order, so that the JSON lines keep the byte order they
//! had when they were built as `serde_json` maps.
//!
//! With the `utoipa` feature (the service's OpenAPI document) the types derive `ToSchema`;
//! their `Option` fields are serialised as `null`, never left out, so the schema marks them
//! `required`.

use super::{Change, EffectFlag, Proposal, UnmatchedReason};
use crate::model::Dataset;
use crate::score::Factor;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a proposal record is: always a suggestion for a caseworker, never a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// A suggestion.
    Suggestion,
}

/// The best other offer of a candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RunnerUp {
    /// How many points the suggestion is ahead of it (absent without a suggestion).
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub difference: Option<i64>,
    /// Its offer id.
    pub offer_id: String,
    /// Its score, points.
    pub score: i64,
}

/// One candidate's proposal, by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ProposalRecord {
    /// Candidate id.
    pub candidate_id: String,
    /// What changed against the current assignment.
    pub change: Change,
    /// Current offer id, if any.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub current_offer_id: Option<String>,
    /// Travel distance to the suggested offer, km, two decimals.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub distance_km: Option<f64>,
    /// Expected effect of the suggested pair, whole DKK.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub effect_dkk: Option<f64>,
    /// Why the expected net effect is negative, if it is.
    pub effect_flag: Option<EffectFlag>,
    /// Points per factor (by policy key) of the suggested pair.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub factors: Option<BTreeMap<String, i64>>,
    /// The candidate's municipality code, four digits.
    pub municipality: String,
    /// Suggested offer id.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub offer_id: Option<String>,
    /// Kind of the suggested offer.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub offer_kind: Option<String>,
    /// The best other offer.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub runner_up: Option<RunnerUp>,
    /// Score of the suggested pair, points.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub score: Option<i64>,
    /// Against the previous run (`--previous`): kept, changed, new, dropped or unmatched, why,
    /// and yesterday's offer; absent without a previous run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(nullable = false))]
    pub since_previous: Option<super::stability::SincePrevious>,
    /// Always a suggestion.
    pub status: ProposalStatus,
    /// Why there is no suggestion.
    #[cfg_attr(feature = "utoipa", schema(required = true))]
    pub unmatched_reason: Option<UnmatchedReason>,
    /// Uplift over no offer behind the effect (share, four decimals).
    pub uplift: Option<f64>,
}

impl ProposalRecord {
    /// The record of `p`, a proposal of a run over `data`.
    pub fn new(p: &Proposal, data: &Dataset) -> ProposalRecord {
        let offer = |o: Option<u32>| o.and_then(|o| data.offers.get(o as usize));
        let suggested = offer(p.offer);
        let candidate = data.candidates.get(p.candidate as usize);
        ProposalRecord {
            candidate_id: candidate.map(|c| c.id.to_string()).unwrap_or_default(),
            change: p.change,
            current_offer_id: offer(p.current).map(|o| o.id.to_string()),
            distance_km: suggested.map(|_| (p.distance_km * 100.0).round() / 100.0),
            effect_dkk: suggested.map(|_| p.effect_dkk.round()),
            effect_flag: p.effect_flag,
            factors: suggested
                .map(|_| Factor::ALL.iter().zip(p.points).map(|(f, v)| (f.key().to_string(), v)).collect()),
            municipality: candidate.map(|c| c.municipality.to_string()).unwrap_or_default(),
            offer_id: suggested.map(|o| o.id.to_string()),
            offer_kind: suggested.map(|o| o.kind.label().to_string()),
            runner_up: offer(p.runner_up).map(|o| RunnerUp {
                difference: suggested.map(|_| p.score - p.runner_up_score),
                offer_id: o.id.to_string(),
                score: p.runner_up_score,
            }),
            score: suggested.map(|_| p.score),
            since_previous: p.since_previous.clone(),
            status: ProposalStatus::Suggestion,
            unmatched_reason: p.unmatched_reason,
            uplift: suggested.map(|_| (p.uplift * 10_000.0).round() / 10_000.0),
        }
    }
}
