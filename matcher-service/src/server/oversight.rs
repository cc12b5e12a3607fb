//! Oversight of the system's influence on decisions (EU AI Act Art. 14; the Austrian AMS
//! ruling asked whether decisions were "largely determined" by the score): per caseworker,
//! team and municipality, how often a decision takes the top suggestion, how often it takes
//! an offer that was not suggested, how long after the suggestions were shown it was made,
//! and why offers were declined; and a flag where the policy's thresholds say decisions look
//! rubber-stamped.
//!
//! Owns the figures and their definitions (pure computation over
//! `store::DecisionShown` rows) and the answer they make, shared by `GET /v1/oversight` and
//! `matcher oversight`. Must not rank people: groups are ordered by name, and the figures
//! describe the system's influence, not anyone's performance.
//!
//! Definitions (also in `docs/accountability.md`):
//! - the list a decision followed is the last suggestion list served for the candidate at or
//!   before the decision's second (the suggestion log); without one, the offers the client
//!   said were suggested (`suggested_offer_ids`), and no time;
//! - *top accept*: an accept of that list's first offer; *not suggested*: an accept of an
//!   offer not in it; shares are of all accepts and declines;
//! - time to decision: decision time (seconds) − time shown (milliseconds), at least 0, so
//!   exact to about a second; median (mean of the middle two for an even count) and p90
//!   (nearest rank);
//! - decline reasons: the free text, trimmed, lower-cased, inner spaces collapsed and a
//!   final `.`/`!` dropped, counted;
//! - rubber-stamp flag: at least `min_decisions` decisions, top-accept share above
//!   `rubber_stamp_top_share`, and a median below `rubber_stamp_median_seconds`.

use crate::server::store::DecisionShown;
use matcher_core::policy::OversightSettings;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Decline reasons shown per group at most.
const REASONS_SHOWN: usize = 10;

/// What the figures are and are not, said with every answer.
pub const NOTE: &str = "These figures show how much the system's suggestions shape the decisions, so that the municipality can check that people decide (EU AI Act Art. 14). They are not a measure of anyone's work: a high share of top accepts can be good judgement when the suggestions are good. Groups are in name order, never ranked.";

/// The figures of one group of decisions.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct OversightFigures {
    /// Accepts and declines counted.
    pub decisions: u32,
    /// Accepts.
    pub accepts: u32,
    /// Declines.
    pub declines: u32,
    /// Accepts of the first offer of the list shown.
    pub top_accepts: u32,
    /// `top_accepts / decisions`.
    #[schema(required = true)]
    pub top_accept_share: Option<f64>,
    /// Accepts of an offer that was not in the list shown.
    pub accepts_not_suggested: u32,
    /// `accepts_not_suggested / decisions`.
    #[schema(required = true)]
    pub not_suggested_share: Option<f64>,
    /// Decisions with a logged list before them (these have a time).
    pub timed: u32,
    /// Median seconds from the list shown to the decision.
    #[schema(required = true)]
    pub median_seconds: Option<f64>,
    /// 90th percentile of those seconds.
    #[schema(required = true)]
    pub p90_seconds: Option<f64>,
    /// Decline reasons, normalised, most frequent first (at most 10).
    pub decline_reasons: Vec<ReasonCount>,
    /// True when the policy's thresholds say the decisions look rubber-stamped.
    pub rubber_stamp: bool,
    /// Why the flag is raised, or why it cannot be (too few decisions); null otherwise.
    #[schema(required = true)]
    pub flag_reason: Option<String>,
}

/// A decline reason and how often it was given.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ReasonCount {
    /// The reason, normalised.
    pub reason: String,
    /// Declines giving it.
    pub count: u32,
}

/// The figures of one named group (a caseworker or a team).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NamedFigures {
    /// The caseworker (the decision's `decided_by`) or team (the decider's `employer`).
    pub name: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: OversightFigures,
}

/// The thresholds applied (from the municipality's policy).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OversightThresholds {
    /// Top-accept share above which a group may be flagged.
    pub rubber_stamp_top_share: f64,
    /// Median seconds below which a group may be flagged.
    pub rubber_stamp_median_seconds: f64,
    /// Fewest decisions a group needs to be flagged.
    pub min_decisions: u32,
}

/// `GET /v1/oversight`: oversight of the system's influence on one municipality's decisions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Oversight {
    /// The municipality (kommunekode).
    pub municipality: String,
    /// First day counted (UTC).
    #[schema(format = Date)]
    pub from: String,
    /// Last day counted (UTC).
    #[schema(format = Date)]
    pub to: String,
    /// What the figures are and are not.
    pub note: &'static str,
    /// The thresholds of the rubber-stamp flag.
    pub thresholds: OversightThresholds,
    /// The whole municipality.
    pub total: OversightFigures,
    /// Per team (the decider's employer as the identity provider names it), by name.
    pub teams: Vec<NamedFigures>,
    /// Per caseworker, by name; one page.
    pub caseworkers: Vec<NamedFigures>,
    /// Pass as `after` for the next page of caseworkers; null on the last page.
    #[schema(required = true)]
    pub next: Option<String>,
}

/// One decision's part in the figures.
struct Counted<'a> {
    accept: bool,
    top: bool,
    not_suggested: bool,
    seconds: Option<f64>,
    reason: &'a str,
}

fn counted(d: &DecisionShown) -> Counted<'_> {
    let accept = d.action == "accept";
    let list: &[String] = d.shown.as_ref().map_or(&d.suggested_by_client, |(_, ids)| ids);
    let top = accept && list.first().is_some_and(|first| *first == d.offer_id);
    let not_suggested = accept && !list.contains(&d.offer_id);
    let seconds = d.shown.as_ref().and_then(|(at, _)| {
        let decided = seconds_of(&d.decided_at)?;
        let shown = seconds_of(at)?;
        Some((decided - shown).max(0.0))
    });
    Counted { accept, top, not_suggested, seconds, reason: &d.reason }
}

/// Seconds since 1970 of `YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
pub fn seconds_of(at: &str) -> Option<f64> {
    let day = matcher_core::model::Date::parse(at.get(..10)?)?;
    let field = |range: std::ops::Range<usize>| at.get(range)?.parse::<u32>().ok();
    let (h, m, s) = (field(11..13)?, field(14..16)?, field(17..19)?);
    let millis = if at.as_bytes().get(19) == Some(&b'.') { field(20..23)? } else { 0 };
    Some(f64::from(day.0) * 86_400.0 + f64::from(h * 3600 + m * 60 + s) + f64::from(millis) / 1000.0)
}

/// A decline reason as counted.
pub fn normalise_reason(reason: &str) -> String {
    let words: Vec<String> = reason.split_whitespace().map(str::to_lowercase).collect();
    words.join(" ").trim_end_matches(['.', '!']).trim_end().to_string()
}

/// The median (mean of the middle two for an even count) of sorted values.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 })
}

/// The `q` quantile by nearest rank (`ceil(q·n)`-th smallest) of sorted values.
pub fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

fn figures(items: &[Counted<'_>], t: &OversightSettings) -> OversightFigures {
    let n = items.len() as u32;
    let count = |f: &dyn Fn(&Counted<'_>) -> bool| items.iter().filter(|c| f(c)).count() as u32;
    let accepts = count(&|c| c.accept);
    let top_accepts = count(&|c| c.top);
    let accepts_not_suggested = count(&|c| c.not_suggested);
    let mut seconds: Vec<f64> = items.iter().filter_map(|c| c.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    let share = |k: u32| (n > 0).then(|| f64::from(k) / f64::from(n));
    let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
    for c in items.iter().filter(|c| !c.accept) {
        *reasons.entry(normalise_reason(c.reason)).or_default() += 1;
    }
    let mut decline_reasons: Vec<ReasonCount> =
        reasons.into_iter().map(|(reason, count)| ReasonCount { reason, count }).collect();
    decline_reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    decline_reasons.truncate(REASONS_SHOWN);
    let top_accept_share = share(top_accepts);
    let median_seconds = median(&seconds);
    let (rubber_stamp, flag_reason) = if n < t.min_decisions {
        (false, Some(format!("{n} decisions: fewer than the {} needed to flag", t.min_decisions)))
    } else {
        match (top_accept_share, median_seconds) {
            (Some(s), Some(m)) if s > t.rubber_stamp_top_share && m < t.rubber_stamp_median_seconds => (
                true,
                Some(format!(
                    "{:.0} % of {n} decisions accepted the top suggestion (flag above {:.0} %), with a median of {m:.1} s from the suggestions shown to the decision (flag below {} s)",
                    s * 100.0,
                    t.rubber_stamp_top_share * 100.0,
                    t.rubber_stamp_median_seconds
                )),
            ),
            _ => (false, None),
        }
    };
    OversightFigures {
        decisions: n,
        accepts,
        declines: n - accepts,
        top_accepts,
        top_accept_share,
        accepts_not_suggested,
        not_suggested_share: share(accepts_not_suggested),
        timed: seconds.len() as u32,
        median_seconds,
        p90_seconds: nearest_rank(&seconds, 0.9),
        decline_reasons,
        rubber_stamp,
        flag_reason,
    }
}

fn grouped<'a>(
    rows: &'a [DecisionShown],
    key: impl Fn(&'a DecisionShown) -> &'a str,
    t: &OversightSettings,
) -> Vec<NamedFigures> {
    let mut groups: BTreeMap<&str, Vec<Counted<'a>>> = BTreeMap::new();
    for d in rows {
        groups.entry(key(d)).or_default().push(counted(d));
    }
    groups
        .into_iter()
        .map(|(name, items)| NamedFigures { name: name.to_string(), figures: figures(&items, t) })
        .collect()
}

/// The oversight answer for one municipality's decisions `rows` (from `from` to `to`), with
/// caseworkers paged by name: at most `limit` after `after`.
pub fn oversight(
    municipality: u16,
    (from, to): (&str, &str),
    rows: &[DecisionShown],
    thresholds: &OversightSettings,
    (after, limit): (Option<&str>, usize),
) -> Oversight {
    let total = figures(&rows.iter().map(counted).collect::<Vec<_>>(), thresholds);
    let teams = grouped(rows, |d| d.employer.as_str(), thresholds);
    let mut caseworkers: Vec<NamedFigures> = grouped(rows, |d| d.decided_by.as_str(), thresholds)
        .into_iter()
        .filter(|g| after.is_none_or(|a| g.name.as_str() > a))
        .collect();
    let next = (caseworkers.len() > limit).then(|| caseworkers[limit - 1].name.clone());
    caseworkers.truncate(limit);
    Oversight {
        municipality: format!("{municipality:04}"),
        from: from.to_string(),
        to: to.to_string(),
        note: NOTE,
        thresholds: OversightThresholds {
            rubber_stamp_top_share: thresholds.rubber_stamp_top_share,
            rubber_stamp_median_seconds: thresholds.rubber_stamp_median_seconds,
            min_decisions: thresholds.min_decisions,
        },
        total,
        teams,
        caseworkers,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_medians_and_reasons() {
        let a = seconds_of("2026-12-05T10:00:03Z").unwrap_or_default();
        let b = seconds_of("2026-12-05T10:00:00.500Z").unwrap_or_default();
        assert!((a - b - 2.5).abs() < 1e-9);
        assert_eq!(seconds_of("2026-12-05"), None);
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 4.0]), Some(2.0));
        assert_eq!(nearest_rank(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0], 0.9), Some(10.0));
        assert_eq!(nearest_rank(&[], 0.9), None);
        assert_eq!(normalise_reason("  Too   far Away. "), "too far away");
    }

    #[test]
    fn the_flag_needs_all_three() {
        let row = |n: i64, offer: &str, secs: u32| DecisionShown {
            number: n,
            decided_by: "a".into(),
            employer: "team".into(),
            action: "accept".into(),
            offer_id: offer.into(),
            reason: "ok".into(),
            decided_at: format!("2026-12-05T10:00:{secs:02}Z"),
            suggested_by_client: vec![],
            shown: Some(("2026-12-05T10:00:00.000Z".into(), vec!["x".into(), "y".into()])),
        };
        let t = OversightSettings {
            rubber_stamp_top_share: 0.95,
            rubber_stamp_median_seconds: 10.0,
            min_decisions: 3,
        };
        let fast: Vec<_> = (0..4).map(|n| row(n, "x", 2)).collect();
        let o = oversight(851, ("2026-12-01", "2026-12-31"), &fast, &t, (None, 10));
        assert!(o.total.rubber_stamp, "{:?}", o.total);
        let slow: Vec<_> = (0..4).map(|n| row(n, "x", 30)).collect();
        assert!(!oversight(851, ("", ""), &slow, &t, (None, 10)).total.rubber_stamp);
        let mut mixed = fast.clone();
        mixed.push(row(9, "y", 2));
        let o = oversight(851, ("", ""), &mixed, &t, (None, 10));
        assert_eq!((o.total.top_accepts, o.total.decisions), (4, 5));
        assert!(!o.total.rubber_stamp, "80 % is not above 95 %");
        let few = oversight(851, ("", ""), &fast[..2], &t, (None, 10));
        assert!(!few.total.rubber_stamp && few.total.flag_reason.is_some());
    }
}
