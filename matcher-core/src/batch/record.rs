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

/// The factors' keys in the order a map by key serialises them, with each one's place in
/// [`Factor::ALL`].
fn factors_by_key() -> [(&'static str, usize); 8] {
    let mut keys: [(&'static str, usize); 8] = std::array::from_fn(|k| (Factor::ALL[k].key(), k));
    keys.sort_unstable();
    keys
}

/// Writes `p`'s [`ProposalRecord`] as one JSON object, the bytes `serde_json` writes for
/// `ProposalRecord::new(p, data)`, without building the record: no string is copied and no
/// map of factors is allocated (the night writes 250,000 of them; `proposals.jsonl`). Each
/// value goes through `serde_json`'s own serialiser, so numbers and escapes are its own; a
/// test checks the bytes against the record's on nights with and without a previous run.
///
/// # Errors
/// Never for a `Vec`; `serde_json`'s error type is kept for the writer's signature.
pub fn write_record_json(p: &Proposal, data: &Dataset, out: &mut Vec<u8>) -> serde_json::Result<()> {
    fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> serde_json::Result<()> {
        serde_json::to_writer(&mut *out, v)
    }
    fn key(out: &mut Vec<u8>, first: bool, name: &str) {
        if !first {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
    }
    fn or_null<T: Serialize>(out: &mut Vec<u8>, v: Option<T>) -> serde_json::Result<()> {
        match v {
            Some(v) => value(out, &v),
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }
    let offer = |o: Option<u32>| o.and_then(|o| data.offers.get(o as usize));
    let suggested = offer(p.offer);
    let candidate = data.candidates.get(p.candidate as usize);
    out.push(b'{');
    key(out, true, "candidate_id");
    value(out, candidate.map_or("", |c| c.id.as_str()))?;
    key(out, false, "change");
    value(out, &p.change)?;
    key(out, false, "current_offer_id");
    or_null(out, offer(p.current).map(|o| o.id.as_str()))?;
    key(out, false, "distance_km");
    or_null(out, suggested.map(|_| (p.distance_km * 100.0).round() / 100.0))?;
    key(out, false, "effect_dkk");
    or_null(out, suggested.map(|_| p.effect_dkk.round()))?;
    key(out, false, "effect_flag");
    or_null(out, p.effect_flag)?;
    key(out, false, "factors");
    if suggested.is_some() {
        out.push(b'{');
        for (n, (name, k)) in factors_by_key().into_iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            value(out, name)?;
            out.push(b':');
            value(out, &p.points[k])?;
        }
        out.push(b'}');
    } else {
        out.extend_from_slice(b"null");
    }
    key(out, false, "municipality");
    match candidate {
        // Four digits: nothing to escape.
        Some(c) => {
            use std::io::Write;
            write!(out, "\"{}\"", c.municipality).map_err(serde_json::Error::io)?;
        }
        None => value(out, "")?,
    }
    key(out, false, "offer_id");
    or_null(out, suggested.map(|o| o.id.as_str()))?;
    key(out, false, "offer_kind");
    or_null(out, suggested.map(|o| o.kind.label()))?;
    key(out, false, "runner_up");
    match offer(p.runner_up) {
        Some(o) => {
            out.extend_from_slice(b"{\"difference\":");
            or_null(out, suggested.map(|_| p.score - p.runner_up_score))?;
            out.extend_from_slice(b",\"offer_id\":");
            value(out, o.id.as_str())?;
            out.extend_from_slice(b",\"score\":");
            value(out, &p.runner_up_score)?;
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    key(out, false, "score");
    or_null(out, suggested.map(|_| p.score))?;
    if let Some(since) = &p.since_previous {
        key(out, false, "since_previous");
        value(out, since)?;
    }
    key(out, false, "status");
    value(out, &ProposalStatus::Suggestion)?;
    key(out, false, "unmatched_reason");
    or_null(out, p.unmatched_reason)?;
    key(out, false, "uplift");
    or_null(out, suggested.map(|_| (p.uplift * 10_000.0).round() / 10_000.0))?;
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{self, BatchOptions};
    use crate::model::ReferenceData;
    use crate::policy::PolicySet;
    use std::sync::Arc;

    fn assert_same_bytes(result: &batch::BatchResult) {
        let data = &*result.night;
        for p in &result.proposals {
            let mut fast = Vec::new();
            write_record_json(p, data, &mut fast).expect("written");
            let plain = serde_json::to_vec(&ProposalRecord::new(p, data)).expect("serialised");
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&plain),
                "candidate {}",
                p.candidate
            );
        }
    }

    /// Issue 18: the hand-written record is the serialised `ProposalRecord`, byte for byte, on
    /// the demo night (matched, unmatched, locked, flagged, runners-up) and on the next night
    /// against it (`since_previous`), and for a proposal whose indices are out of the data set.
    #[test]
    fn the_written_record_is_the_serialised_record_byte_for_byte() {
        let reference = Arc::new(ReferenceData::embedded().expect("reference"));
        let data = Arc::new(crate::r#gen::generate(crate::r#gen::Scale::Demo, 3, &reference));
        let options =
            BatchOptions { today: Some(crate::r#gen::AS_OF), threads: 1, ..BatchOptions::default() };
        let policies = Arc::new(PolicySet::default());
        let first = batch::run(data.clone(), reference.clone(), policies.clone(), &options).expect("night");
        assert!(
            first.proposals.iter().any(|p| p.offer.is_none())
                && first.proposals.iter().any(|p| p.offer.is_some())
        );
        assert!(first.proposals.iter().any(|p| p.effect_flag.is_some()));
        assert_same_bytes(&first);
        let previous = batch::stability::as_previous_run(&first.night, &first);
        let options = BatchOptions { previous: Some(Arc::new(previous)), ..options };
        let second = batch::run(data, reference, policies, &options).expect("night");
        assert!(second.proposals.iter().all(|p| p.since_previous.is_some()));
        assert_same_bytes(&second);
        let mut odd = second.proposals[0].clone();
        odd.candidate = u32::MAX;
        odd.offer = Some(u32::MAX);
        odd.runner_up = Some(0);
        let (mut fast, data) = (Vec::new(), &*second.night);
        write_record_json(&odd, data, &mut fast).expect("written");
        assert_eq!(fast, serde_json::to_vec(&ProposalRecord::new(&odd, data)).expect("serialised"));
    }
}
