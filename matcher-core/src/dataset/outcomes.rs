//! The optional `outcomes` table: one finished episode per row, with the case mix at its start
//! (see `data/README.md`, heading `outcomes`).
//!
//! Owns the validation of an episode row and nothing else: the rows go into
//! [`crate::model::Dataset::outcomes`] as they are, and [`crate::effect`] learns from them.
//! Like every table, a bad row is reported with file, line, column and value and refuses the
//! whole data set. A CPR-like id is refused without echoing its digits.

use super::Seen;
use super::table::Row;
use crate::error::InputProblem;
use crate::model::{
    AgeBand, Episode, EpisodeId, FOLLOW_UP_WEEKS, GroupSet, MunicipalityCode, OfferId, ReferenceData,
    looks_like_cpr,
};

fn municipality(
    r: &Row<'_>,
    column: &str,
    reference: &ReferenceData,
) -> Result<MunicipalityCode, InputProblem> {
    let code = MunicipalityCode(r.parse(column, "a municipality code (kommunekode), e.g. 0101")?);
    reference.municipality(code).map(|_| code).ok_or_else(|| r.problem(column, "unknown municipality code"))
}

fn groups(r: &Row<'_>, column: &str, reference: &ReferenceData) -> Result<GroupSet, InputProblem> {
    let mut set = GroupSet::EMPTY;
    r.list(column, "a known target group code", |s| reference.group(s))?
        .into_iter()
        .for_each(|g| set.insert(g));
    Ok(set)
}

/// Columns of `outcomes.csv`, in the order `write_dir` writes them.
pub const OUTCOME_COLUMNS: &[&str] = &[
    "id",
    "municipality",
    "target_groups",
    "age_band",
    "benefit_kind",
    "weeks_on_benefit",
    "offer_id",
    "started",
    "success",
    "weeks_to_exit",
];

/// Columns every episode must have.
pub const OUTCOME_REQUIRED: &[&str] = &[
    "id",
    "municipality",
    "target_groups",
    "age_band",
    "benefit_kind",
    "weeks_on_benefit",
    "started",
    "success",
];

/// Longest time on benefit an episode may state, weeks (40 years).
const MAX_WEEKS_ON_BENEFIT: f64 = 2_080.0;

/// A problem about an id that looks like a CPR number: the value is not echoed.
fn cpr_problem(r: &Row<'_>, column: &str) -> InputProblem {
    InputProblem::new(
        r.file(),
        r.line(),
        column,
        "(hidden: looks like a CPR number)",
        "id looks like a CPR number (10 digits); use a pseudonymous id",
    )
}

/// Validates one episode row. `offers` holds the offer ids of the data set (`None` when the
/// offers table could not be read, so that its problems are not reported twice).
pub(super) fn episode(
    r: &Row<'_>,
    reference: &ReferenceData,
    offers: Option<&Seen>,
    seen: &mut Seen,
) -> Result<Episode, InputProblem> {
    let text = r.text("id")?;
    if looks_like_cpr(text) {
        return Err(cpr_problem(r, "id"));
    }
    let id = EpisodeId::new(text).map_err(|reason| r.problem("id", reason))?;
    if let Some(first) = seen.get(text) {
        return Err(r.problem("id", format!("duplicate id; first used on line {first}")));
    }
    seen.insert(text.to_string(), r.line());
    let municipality = municipality(r, "municipality", reference)?;
    let target_groups = groups(r, "target_groups", reference)?;
    if target_groups.is_empty() {
        return Err(r.problem("target_groups", "an episode belongs to at least one target group"));
    }
    let age_band = AgeBand::parse(r.text("age_band")?)
        .ok_or_else(|| r.problem("age_band", "expected 15-17, 18-24, 25-29, 30-39, 40-49, 50-59 or 60+"))?;
    let benefit_kind = reference
        .benefit_kind(r.text("benefit_kind")?)
        .ok_or_else(|| r.problem("benefit_kind", "unknown benefit kind code"))?;
    let weeks = |column: &str| -> Result<f32, InputProblem> {
        if r.text(column)?.starts_with('-') {
            return Err(r.problem(column, "a number of weeks must not be negative"));
        }
        Ok(r.number(column, 0.0..=MAX_WEEKS_ON_BENEFIT)? as f32)
    };
    let weeks_on_benefit = weeks("weeks_on_benefit")?;
    let offer = match r.opt_text("offer_id") {
        None => None,
        Some(text) if looks_like_cpr(text) => return Err(cpr_problem(r, "offer_id")),
        Some(text) => {
            let id = OfferId::new(text).map_err(|reason| r.problem("offer_id", reason))?;
            if offers.is_some_and(|ids| !ids.contains_key(text)) {
                return Err(r.problem(
                    "offer_id",
                    format!("`{text}` is not an id in offers (a retired offer stays there with capacity 0)"),
                ));
            }
            Some(id)
        }
    };
    let started = r.date("started")?;
    if r.opt_text("success").is_none() {
        return Err(r.problem("success", "value is required (yes or no)"));
    }
    let success = r.flag("success", false)?;
    let weeks_to_exit = match r.opt_text("weeks_to_exit") {
        None => None,
        Some(_) => Some(weeks("weeks_to_exit")?),
    };
    if success {
        match weeks_to_exit {
            Some(w) if w > FOLLOW_UP_WEEKS => {
                return Err(r.problem(
                    "weeks_to_exit",
                    format!("a success must leave benefit within the follow-up of {FOLLOW_UP_WEEKS} weeks"),
                ));
            }
            None => {
                return Err(r.problem(
                    "weeks_to_exit",
                    "a success left benefit, so weeks_to_exit is required (0 to 52)",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(Episode {
        id,
        municipality,
        target_groups,
        age_band,
        benefit_kind,
        weeks_on_benefit,
        offer,
        started,
        success,
        weeks_to_exit,
    })
}

/// The rows of `outcomes.csv` for `write_dir`, in [`OUTCOME_COLUMNS`] order.
pub(super) fn rows(outcomes: &[Episode], reference: &ReferenceData) -> Vec<Vec<String>> {
    outcomes
        .iter()
        .map(|e| {
            let groups: Vec<&str> = e
                .target_groups
                .iter()
                .filter_map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.code.as_str()))
                .collect();
            vec![
                e.id.to_string(),
                e.municipality.to_string(),
                groups.join(";"),
                e.age_band.label().to_string(),
                reference.benefit_kinds.get(usize::from(e.benefit_kind)).map_or("", |k| &k.code).to_string(),
                e.weeks_on_benefit.to_string(),
                e.offer.as_ref().map_or(String::new(), ToString::to_string),
                e.started.to_string(),
                if e.success { "yes" } else { "no" }.to_string(),
                e.weeks_to_exit.map_or(String::new(), |w| w.to_string()),
            ]
        })
        .collect()
}
