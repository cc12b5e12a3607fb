//! Scoring policy: factor weights and hard limits, one per municipality with a national
//! default. Read from TOML; a bad file is refused with the file, the key and the reason.
//!
//! The policy is plain data; it knows nothing of how factors are computed ([`crate::score`]).

use crate::error::{Error, Result};
use crate::model::{MunicipalityCode, ReferenceData};
use serde::{Deserialize, Serialize};

/// The national default policy, embedded at build time.
pub const NATIONAL_DEFAULT_TOML: &str = include_str!("../../data/policy/national.toml");

/// Relative weight of each score factor (0 switches a factor off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)] // Each field is the weight of the factor of the same name in `score::Factor`.
pub struct Weights {
    pub group_fit: f64,
    pub evidence: f64,
    pub distance: f64,
    pub occupation: f64,
    pub urgency: f64,
    pub effect: f64,
    pub continuity: f64,
    pub preference: f64,
}

/// Hard limits that remove a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Never farther than this, km, whatever the candidate accepts.
    pub max_distance_km: f64,
    /// Jobs and work trials need at least this many shared ISCO-08 digits (0 turns it off).
    pub job_min_shared_level: u8,
    /// Pairs scoring fewer points are dropped.
    pub min_score: i64,
    /// Pairs whose expected net effect (DKK) is below this are dropped; `None`: no limit.
    pub min_effect_dkk: Option<f64>,
    /// Pairs with an offer bought at a price (a course) whose expected net effect (DKK) is
    /// below this are dropped; `None` (national default): no limit. Offers without a price
    /// (jobs, work trials, reciprocal help) are not bound by it.
    pub min_course_effect_dkk: Option<f64>,
    /// Pairs with an offer bought at a price whose net effect at the *upper end* of the
    /// uplift's 90 % interval (DKK) is below this are dropped: the course loses money even if
    /// it works as well as its record allows. `None` (national default): no limit; a
    /// municipality's policy turns it on (`docs/effects.md`).
    pub min_course_effect_high_dkk: Option<f64>,
}

/// How the expected effect in DKK is computed and scaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EffectSettings {
    /// Benefit weeks a success can avoid at most.
    pub horizon_weeks: f64,
    /// Effect (DKK) that maps to factor 1; minus this maps to 0.
    pub scale_dkk: f64,
}

/// How urgency follows the benefit clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UrgencySettings {
    /// Weeks before a legal deadline (the 8-week assessment of sickness benefit, a
    /// re-assessment date) at which urgency starts to rise from 0.
    pub horizon_weeks: f64,
}

/// How much a night may change yesterday's suggestions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StabilitySettings {
    /// The least gain, in score points, that justifies changing a candidate's suggestion from
    /// the previous run (`matcher batch --previous`). Applied as a bonus of this many points on
    /// the pair suggested yesterday, so the solver stays exact: tonight's optimum changes a
    /// set of suggestions only if that raises the night's total score by more than this many
    /// points per changed suggestion. 0 lets any gain, however small, move a suggestion.
    pub least_gain_points: i64,
}

/// What a recorded decision does to later suggestions (used by the service).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionSettings {
    /// Days a declined offer stays out of the candidate's suggestions and proposals.
    pub decline_days: u32,
}

/// When the service's oversight figures flag a group of decisions (a caseworker, a team, a
/// municipality) as possibly rubber-stamped: the suggestions may be deciding rather than the
/// caseworker (the Austrian AMS ruling's "largely determined"). All three must hold. Used by
/// the service (`GET /v1/oversight`, `matcher oversight`); the engine never reads them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OversightSettings {
    /// Flag when more than this share of the decisions accepts the top suggestion (0 to 1).
    pub rubber_stamp_top_share: f64,
    /// ... and the median time from the suggestions shown to the decision is below this
    /// many seconds ...
    pub rubber_stamp_median_seconds: f64,
    /// ... and there are at least this many decisions (fewer say too little to flag).
    pub min_decisions: u32,
}

/// How long the service keeps each kind of record, in days from the record's own date
/// (enforced by `matcher serve` daily and by `matcher retention`). Each municipality, as data
/// controller, sets its own; `docs/accountability.md` gives the reasoning of the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// The suggestion log (what the system showed), from the day it was shown.
    pub suggestion_log_days: u32,
    /// The access log (who read or changed a candidate), from the day of the access.
    pub access_log_days: u32,
    /// Decisions (the authority's case record), from the day decided.
    pub decisions_days: u32,
    /// Outcomes, from the day recorded (an outcome never outlives its decision).
    pub outcomes_days: u32,
    /// Batch runs (working data; their proposals are also in the suggestion log), from the
    /// day started. A municipality's latest finished run is always kept.
    pub batch_runs_days: u32,
}

/// What the contracts of the municipality mean in matching (see [`crate::model::contract`]).
/// Each rule keeps the solver exact: it changes the problem solved, never the proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContractSettings {
    /// A buffer course is suggested to a candidate only when every specialist and strategic
    /// partner course in the candidate's reach is full. In the solver's problem only, each of
    /// the candidate's buffer pairs is lowered to one point below its weakest specialist or
    /// partner pair, so an optimum that puts the candidate at a buffer while such a course has
    /// a free place could move the candidate there and gain: it cannot be an optimum. With a
    /// previous run, yesterday's pair keeps its stability bonus on top of this.
    pub buffer_last: bool,
    /// A specialist contract's courses take only the contract's target groups (a hard limit).
    pub specialist_groups_only: bool,
    /// A strategic partner's guaranteed volume is filled when feasible: the guaranteed places
    /// are filled first (as many as any assignment can), then the score decides.
    pub fill_guarantees: bool,
}

/// A scoring policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Name shown in reports.
    pub name: String,
    /// The municipality this policy is for; `None` for the national default. Written as
    /// people write a kommunekode: `"0851"`, `851`, or `0851` (see [`Policy::from_toml`]).
    #[serde(deserialize_with = "municipality_code")]
    pub municipality: Option<u16>,
    /// Offers kept per candidate in the candidate graph.
    pub top_k: usize,
    /// Factor weights.
    pub weights: Weights,
    /// Hard limits.
    pub limits: Limits,
    /// Effect settings.
    pub effect: EffectSettings,
    /// Urgency settings.
    pub urgency: UrgencySettings,
    /// Stability against the previous run.
    pub stability: StabilitySettings,
    /// Effects of recorded decisions.
    pub decisions: DecisionSettings,
    /// Oversight figures: when decisions look rubber-stamped.
    pub oversight: OversightSettings,
    /// How long records are kept.
    pub retention: RetentionSettings,
    /// What contracts mean in matching (the municipality's that holds a contract, and for the
    /// buffer rule the candidate's).
    pub contracts: ContractSettings,
}

/// The national default in code. `data/policy/national.toml` documents the same values for
/// people who write their own policy; a test keeps the two equal. (Parsing the file here
/// would recurse: serde fills missing keys from `Default`, which is this function.)
fn national() -> Policy {
    Policy {
        name: "national-default".into(),
        municipality: None,
        top_k: 64,
        weights: Weights {
            group_fit: 1.0,
            evidence: 3.0,
            distance: 1.0,
            occupation: 1.5,
            urgency: 1.0,
            effect: 6.0,
            continuity: 1.0,
            preference: 0.5,
        },
        limits: Limits {
            max_distance_km: 60.0,
            job_min_shared_level: 1,
            min_score: 0,
            min_effect_dkk: None,
            min_course_effect_dkk: None,
            min_course_effect_high_dkk: None,
        },
        effect: EffectSettings { horizon_weeks: 52.0, scale_dkk: 50_000.0 },
        urgency: UrgencySettings { horizon_weeks: 8.0 },
        stability: StabilitySettings { least_gain_points: 100 },
        decisions: DecisionSettings { decline_days: 90 },
        oversight: OversightSettings {
            rubber_stamp_top_share: 0.95,
            rubber_stamp_median_seconds: 10.0,
            min_decisions: 20,
        },
        retention: RetentionSettings {
            suggestion_log_days: 730,
            access_log_days: 730,
            decisions_days: 1830,
            outcomes_days: 1830,
            batch_runs_days: 90,
        },
        contracts: ContractSettings {
            buffer_last: true,
            specialist_groups_only: true,
            fill_guarantees: true,
        },
    }
}

macro_rules! default_from_national {
    ($($ty:ident => $field:ident),*) => {$(
        impl Default for $ty {
            fn default() -> Self {
                national().$field
            }
        }
    )*};
}
default_from_national!(
    Weights => weights,
    Limits => limits,
    EffectSettings => effect,
    UrgencySettings => urgency,
    StabilitySettings => stability,
    DecisionSettings => decisions,
    OversightSettings => oversight,
    RetentionSettings => retention,
    ContractSettings => contracts
);

impl Default for Policy {
    fn default() -> Self {
        national()
    }
}

/// Largest `stability.least_gain_points` accepted: above any pair's score (8 factors at the
/// largest weight), so it can hold every suggestion, and far inside the solver's arithmetic.
pub const MAX_LEAST_GAIN: i64 = 8 * 1000 * 1000;

/// Largest weight accepted; keeps every score comfortably inside `i64` and the solver's
/// scaled arithmetic.
pub const MAX_WEIGHT: f64 = 1000.0;

impl Policy {
    /// The national default policy.
    pub fn national_default() -> Policy {
        national()
    }

    /// Parses and validates a policy; keys left out keep the national default.
    ///
    /// The top-level `municipality` may be written `0851` although a TOML integer cannot start
    /// with 0: that one line is read as if it were quoted (see [`quote_leading_zero_code`]);
    /// everything else is plain TOML.
    ///
    /// # Errors
    /// [`Error::Policy`] naming `file`, the key and the reason (syntax errors carry the line).
    pub fn from_toml(text: &str, file: &str) -> Result<Policy> {
        let fixed = quote_leading_zero_code(text);
        let text = fixed.as_str();
        let policy: Policy = toml::from_str(text).map_err(|e| {
            // The span is the bad value (or an unknown key): name the key of its line.
            let key = e
                .span()
                .and_then(|s| {
                    let start = text.get(..s.start)?.rfind('\n').map_or(0, |i| i + 1);
                    let line = text.get(start..)?.lines().next()?;
                    Some(line.split_once('=').map_or(line, |(k, _)| k).trim().to_string())
                })
                .unwrap_or_default();
            // Counted by newlines, not `lines()`: a span at the start of a line (an unknown
            // key) has that line's newline just before it and is on the next line.
            let line = e.span().map(|s| 1 + text.get(..s.start).map_or(0, |t| t.matches('\n').count()));
            let message = crate::error::plain_words(e.message().trim());
            // The key and the message quote the file's text: star out CPR-like numbers as
            // `InputProblem::new` does, since the message goes to logs kept for long.
            let (key, message) = (crate::model::cpr::mask(&key), crate::model::cpr::mask(&message));
            let reason = match line {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            };
            Error::Policy { file: file.to_string(), key, reason }
        })?;
        policy.validate(file)?;
        Ok(policy)
    }

    /// Checks ranges that TOML types cannot express.
    ///
    /// # Errors
    /// [`Error::Policy`] naming the first bad key.
    pub fn validate(&self, file: &str) -> Result<()> {
        // A reason quotes the value (`top_k = 1101901234`): star out a CPR-like number.
        let bad = |key: &str, reason: String| {
            Err(Error::Policy {
                file: file.into(),
                key: key.into(),
                reason: crate::model::cpr::mask(&reason),
            })
        };
        let w = &self.weights;
        for (key, value) in [
            ("weights.group_fit", w.group_fit),
            ("weights.evidence", w.evidence),
            ("weights.distance", w.distance),
            ("weights.occupation", w.occupation),
            ("weights.urgency", w.urgency),
            ("weights.effect", w.effect),
            ("weights.continuity", w.continuity),
            ("weights.preference", w.preference),
        ] {
            if !(0.0..=MAX_WEIGHT).contains(&value) {
                return bad(key, format!("{value} is not a weight from 0 to {MAX_WEIGHT}"));
            }
        }
        if !(1..=1024).contains(&self.top_k) {
            return bad("top_k", format!("{} is not from 1 to 1024", self.top_k));
        }
        if !(self.limits.max_distance_km > 0.0 && self.limits.max_distance_km <= 1000.0) {
            return bad(
                "limits.max_distance_km",
                format!("{} is not from 0 to 1000 km", self.limits.max_distance_km),
            );
        }
        for (key, value) in [
            ("limits.min_effect_dkk", self.limits.min_effect_dkk),
            ("limits.min_course_effect_dkk", self.limits.min_course_effect_dkk),
            ("limits.min_course_effect_high_dkk", self.limits.min_course_effect_high_dkk),
        ] {
            if let Some(minimum) = value
                && !(minimum.is_finite() && minimum.abs() <= 1e9)
            {
                return bad(key, format!("{minimum} is not a finite amount from -1e9 to 1e9"));
            }
        }
        if self.limits.job_min_shared_level > 4 {
            return bad("limits.job_min_shared_level", "ISCO-08 codes have at most 4 levels".into());
        }
        if !(self.effect.horizon_weeks > 0.0 && self.effect.horizon_weeks <= 520.0) {
            return bad(
                "effect.horizon_weeks",
                format!("{} is not from 0 to 520", self.effect.horizon_weeks),
            );
        }
        if !(self.effect.scale_dkk >= 1.0 && self.effect.scale_dkk <= 1e9) {
            return bad("effect.scale_dkk", format!("{} is not from 1 to 1e9", self.effect.scale_dkk));
        }
        if !(self.urgency.horizon_weeks > 0.0 && self.urgency.horizon_weeks <= 520.0) {
            return bad(
                "urgency.horizon_weeks",
                format!("{} is not from 0 to 520", self.urgency.horizon_weeks),
            );
        }
        if !(0..=MAX_LEAST_GAIN).contains(&self.stability.least_gain_points) {
            return bad(
                "stability.least_gain_points",
                format!("{} is not from 0 to {MAX_LEAST_GAIN}", self.stability.least_gain_points),
            );
        }
        if !(1..=3650).contains(&self.decisions.decline_days) {
            return bad(
                "decisions.decline_days",
                format!("{} is not from 1 to 3650", self.decisions.decline_days),
            );
        }
        let o = &self.oversight;
        if !(o.rubber_stamp_top_share > 0.0 && o.rubber_stamp_top_share <= 1.0) {
            return bad(
                "oversight.rubber_stamp_top_share",
                format!("{} is not a share above 0 and at most 1", o.rubber_stamp_top_share),
            );
        }
        if !(o.rubber_stamp_median_seconds > 0.0 && o.rubber_stamp_median_seconds <= 86_400.0) {
            return bad(
                "oversight.rubber_stamp_median_seconds",
                format!("{} is not from 0 to 86400", o.rubber_stamp_median_seconds),
            );
        }
        if o.min_decisions == 0 {
            return bad("oversight.min_decisions", "0 is not at least 1".to_string());
        }
        let r = &self.retention;
        for (key, days) in [
            ("retention.suggestion_log_days", r.suggestion_log_days),
            ("retention.access_log_days", r.access_log_days),
            ("retention.decisions_days", r.decisions_days),
            ("retention.outcomes_days", r.outcomes_days),
            ("retention.batch_runs_days", r.batch_runs_days),
        ] {
            if !(1..=36_500).contains(&days) {
                return bad(key, format!("{days} is not from 1 to 36500"));
            }
        }
        // Danish codes are 101 to 999, a synthetic region's 1000 × tile + a Danish code
        // (`data/README.md`, "Synthetic regions"); whether the code is a municipality is a
        // question for the reference data in force ([`PolicySet::from_files_for`]).
        if let Some(code) = self.municipality
            && !(101..=9999).contains(&code)
        {
            return bad("municipality", format!("{code} is not a municipality code"));
        }
        Ok(())
    }

    /// The municipality this policy is for.
    pub fn municipality_code(&self) -> Option<MunicipalityCode> {
        self.municipality.map(MunicipalityCode)
    }
}

/// Reads `municipality` as a number (`851`) or a string of 1 to 4 digits (`"0851"`, `"851"`).
fn municipality_code<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<u16>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Code {
        Number(i64),
        Text(String),
    }
    let expected = "a municipality code such as \"0851\"";
    match Code::deserialize(d)? {
        Code::Number(n) => {
            u16::try_from(n).map(Some).map_err(|_| serde::de::Error::custom(format!("{n} is not {expected}")))
        }
        Code::Text(t) => {
            let digits = t.trim();
            if (1..=4).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                digits
                    .parse()
                    .map(Some)
                    .map_err(|_| serde::de::Error::custom(format!("{t:?} is not {expected}")))
            } else {
                Err(serde::de::Error::custom(format!("{t:?} is not {expected}")))
            }
        }
    }
}

/// `text` with a top-level `municipality = 0NNN` line (before any `[table]`) written as
/// `municipality = "0NNN"`. A kommunekode is written with its leading zero, which TOML refuses
/// for integers; quoting that one value, on its own line, keeps line numbers of errors and
/// changes nothing else. Any other value is left for the parser to judge.
pub fn quote_leading_zero_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let mut top_level = true;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            top_level = false;
        }
        let fixed = top_level
            .then(|| trimmed.strip_prefix("municipality"))
            .flatten()
            .and_then(|rest| rest.trim_start().strip_prefix('='))
            .and_then(|value| {
                let value = value.trim_start();
                let digits = value.bytes().take_while(u8::is_ascii_digit).count();
                let tail = &value[digits..];
                let tail_ok = tail.trim().is_empty() || tail.trim_start().starts_with('#');
                (digits >= 2 && value.starts_with('0') && tail_ok)
                    .then(|| format!("municipality = \"{}\"{tail}", &value[..digits]))
            });
        match fixed {
            Some(f) => {
                out.push_str(&line[..line.len() - trimmed.len()]);
                out.push_str(&f);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The national default plus any municipality's own policy.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicySet {
    /// Used for every municipality without its own.
    pub national: Policy,
    /// Municipalities' own policies, sorted by code.
    pub municipal: Vec<Policy>,
}

impl PolicySet {
    /// The policy that applies in `municipality`, as an index: 0 is the national default,
    /// `i + 1` is `municipal[i]`.
    pub fn index_for(&self, municipality: MunicipalityCode) -> usize {
        self.municipal.iter().position(|p| p.municipality_code() == Some(municipality)).map_or(0, |i| i + 1)
    }

    /// The policy at an index returned by [`PolicySet::index_for`].
    pub fn get(&self, index: usize) -> &Policy {
        if index == 0 { &self.national } else { &self.municipal[index - 1] }
    }

    /// Number of policies (national included).
    pub fn len(&self) -> usize {
        1 + self.municipal.len()
    }

    /// Always false: the national default is always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Assembles a set from policy files, given as (name for messages, contents): a file with
    /// a `municipality` applies there, one without replaces the national default (the last
    /// such file wins). The caller reads the files; this does no I/O.
    ///
    /// # Errors
    /// [`Error::Policy`] for a file that does not parse or validate, or a second policy for
    /// one municipality.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<PolicySet> {
        Self::assemble(files, None)
    }

    /// [`PolicySet::from_files`], with each policy's `municipality` checked against
    /// `reference`: a code that is no municipality there (a typo, 815 for 851) would apply to
    /// nobody and leave the municipality it was meant for on the national default without a
    /// word, so it is refused naming the file.
    ///
    /// # Errors
    /// As [`PolicySet::from_files`], and [`Error::Policy`] for a municipality `reference`
    /// does not know.
    pub fn from_files_for<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
        reference: &ReferenceData,
    ) -> Result<PolicySet> {
        Self::assemble(files, Some(reference))
    }

    fn assemble<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
        reference: Option<&ReferenceData>,
    ) -> Result<PolicySet> {
        let mut set = PolicySet::default();
        for (name, text) in files {
            let policy = Policy::from_toml(text, name)?;
            match policy.municipality_code() {
                None => set.national = policy,
                Some(code) => {
                    if let Some(reference) = reference
                        && reference.municipality(code).is_none()
                    {
                        return Err(Error::Policy {
                            file: name.to_string(),
                            key: "municipality".into(),
                            reason: format!(
                                "{code} is no municipality of the reference data (reference/municipalities.csv, or a synthetic region of --reference)"
                            ),
                        });
                    }
                    if set.municipal.iter().any(|p| p.municipality_code() == Some(code)) {
                        return Err(Error::Policy {
                            file: name.to_string(),
                            key: "municipality".into(),
                            reason: format!("a second policy for municipality {code}"),
                        });
                    }
                    set.municipal.push(policy);
                }
            }
        }
        set.municipal.sort_by_key(|p| p.municipality);
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses_and_validates() {
        let p = Policy::from_toml(NATIONAL_DEFAULT_TOML, "national.toml").expect("default policy");
        assert_eq!(p.top_k, 64);
        assert_eq!(p, Policy::national_default());
    }

    #[test]
    fn partial_file_keeps_the_defaults() {
        let p = Policy::from_toml(
            "name = \"Aarhus\"\nmunicipality = 751\n[weights]\ndistance = 4.0\n",
            "aarhus.toml",
        )
        .expect("valid");
        assert_eq!(p.weights.distance, 4.0);
        assert_eq!(p.weights.evidence, 3.0);
        assert_eq!(p.municipality_code(), Some(MunicipalityCode(751)));
    }

    #[test]
    fn municipality_codes_are_read_as_people_write_them() {
        for text in [
            "municipality = \"0851\"\n",
            "municipality = 0851\n",
            "municipality = 851\n",
            "municipality = \"851\"\n",
            "  municipality=0851 # Aalborg\n[weights]\ndistance = 2.0\n",
        ] {
            let p = Policy::from_toml(text, "p.toml").unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(p.municipality_code(), Some(MunicipalityCode(851)), "{text:?}");
        }
        // Only the top-level key is touched: a leading zero elsewhere is still TOML's error.
        assert!(Policy::from_toml("[weights]\ndistance = 01\n", "p.toml").is_err());
        for bad in ["municipality = \"Aalborg\"\n", "municipality = \"08510\"\n", "municipality = -851\n"] {
            match Policy::from_toml(bad, "p.toml") {
                Err(Error::Policy { file, reason, .. }) => {
                    assert_eq!(file, "p.toml");
                    assert!(reason.contains("municipality code"), "{bad:?}: {reason}");
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        // 0999 is four digits but no municipality: the range check still speaks.
        assert!(Policy::from_toml("municipality = 0042\n", "p.toml").is_err());
    }

    #[test]
    fn a_set_is_assembled_from_files_and_refuses_a_second_policy_for_one_municipality() {
        let national = "name = \"strict\"\ntop_k = 8\n";
        let aalborg = "municipality = 0851\n[weights]\ndistance = 4.0\n";
        let aarhus = "municipality = \"0751\"\n";
        let set = PolicySet::from_files([("n.toml", national), ("a.toml", aalborg), ("b.toml", aarhus)])
            .expect("valid set");
        assert_eq!(set.national.top_k, 8);
        assert_eq!(set.municipal.iter().map(|p| p.municipality).collect::<Vec<_>>(), [Some(751), Some(851)]);
        assert_eq!(set.get(set.index_for(MunicipalityCode(851))).weights.distance, 4.0);
        assert_eq!(set.index_for(MunicipalityCode(101)), 0);
        match PolicySet::from_files([("a.toml", aalborg), ("again.toml", "municipality = 851\n")]) {
            Err(Error::Policy { file, key, reason }) => {
                assert_eq!((file.as_str(), key.as_str()), ("again.toml", "municipality"));
                assert!(reason.contains("second policy"), "{reason}");
            }
            other => panic!("duplicate gave {other:?}"),
        }
    }

    #[test]
    fn bad_files_name_file_key_and_reason() {
        let cases = [
            ("[weights]\ndistanse = 1.0\n", "distanse", "unknown field"),
            ("[weights]\ndistance = -1.0\n", "weights.distance", "not a weight"),
            ("top_k = 0\n", "top_k", "not from 1"),
            // Issue 15, item 11: the key, not the value, and no Rust type name ("usize").
            (
                "top_k = \"many\"\n",
                "top_k",
                "line 1: invalid type: string \"many\", expected a whole number, 0 or more",
            ),
            ("[limits]\nmax_distance_km = nan\n", "limits.max_distance_km", "not from 0"),
            ("municipality = 42\n", "municipality", "not a municipality"),
            ("[stability]\nleast_gain_points = -5\n", "stability.least_gain_points", "not from 0"),
            ("[decisions]\ndecline_days = 0\n", "decisions.decline_days", "not from 1"),
            (
                "[oversight]\nrubber_stamp_top_share = 1.5\n",
                "oversight.rubber_stamp_top_share",
                "not a share",
            ),
            ("[oversight]\nmin_decisions = 0\n", "oversight.min_decisions", "at least 1"),
            ("[retention]\naccess_log_days = 0\n", "retention.access_log_days", "not from 1"),
            ("[weights\n", "", "line 1"),
        ];
        for (text, key, reason) in cases {
            match Policy::from_toml(text, "p.toml") {
                Err(Error::Policy { file, key: k, reason: r }) => {
                    assert_eq!(file, "p.toml");
                    assert!(k.contains(key), "{text:?}: key {k:?}, expected {key:?}");
                    assert!(r.contains(reason), "{text:?}: reason {r:?}");
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }

    /// A key at the start of its line used to be reported on the line before (the text before
    /// the span ends with that line's newline), and a CPR-like key or value was echoed in the
    /// message, which the CLI prints to logs kept longer than any citizen's data may be.
    #[test]
    fn policy_errors_name_the_right_line_and_never_echo_a_cpr_number() {
        for (text, line, secret) in [
            ("[weights]\n0101901234 = 1\n", "line 2:", "0101901234"),
            ("name = \"x\"\n\n[limits]\nfar = 3\n", "line 4:", "far"),
            ("[weights]\neffect = \"010190-1234\"\n", "line 2:", "010190-1234"),
            ("top_k = 1101901234\n", "top_k", "1101901234"),
        ] {
            let Err(error) = Policy::from_toml(text, "p.toml") else { panic!("{text:?} accepted") };
            let message = error.to_string();
            assert!(message.contains(line), "{text:?}: {message}");
            if secret != "far" {
                assert!(!message.contains(secret), "{text:?} echoes the CPR-like number: {message}");
            }
        }
    }
}
