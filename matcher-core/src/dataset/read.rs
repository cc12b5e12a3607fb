//! Reading a data set directory: every table, every row, every cross-file reference.
//!
//! Tables are read in dependency order (providers, offers, evidence, candidates) so that a
//! reference can be checked on the row that makes it. An id is recorded before the rest of its
//! row is checked: a row that is bad for another reason does not make every reference to it
//! look unknown as well.

use super::encoding::Encoding;
use super::table::{Row, Table};
use super::{
    CANDIDATE_COLUMNS, CONTRACT_COLUMNS, CONTRACT_REQUIRED, DECLINE_COLUMNS, DECLINE_REQUIRED,
    EVIDENCE_COLUMNS, OFFER_COLUMNS, PROVIDER_COLUMNS, PROVIDER_REQUIRED,
};
use super::{ReadOptions, Seen};
use crate::error::{Error, InputProblem, InputProblems, Result};
use crate::model::limits;
use crate::model::{
    AgeBand, AuditAttributes, Benefit, Candidate, CandidateId, Contract, ContractId, ContractKind,
    ContractWorld, CurrentAssignment, Dataset, Decline, Episode, Evidence, Gender, GroupId, GroupSet,
    Language, LatLon, MunicipalityCode, Occupation, Offer, OfferId, OfferKind, Origin, Provider, ProviderId,
    ReferenceData, TimeAndPlace,
};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Loads and validates a data set directory (see the module documentation of
/// [`crate::dataset`] and `data/README.md` for the tables and their columns).
///
/// # Errors
/// [`Error::InvalidData`] listing every bad row (the first problem of each), in file and line
/// order; [`Error::Io`] when the directory or a file cannot be read.
pub fn load_dir(dir: &Path, reference: &ReferenceData) -> Result<Dataset> {
    load_dir_with(dir, reference, &ReadOptions::default())
}

/// As [`load_dir`], reading CSV files as `options` says (their encoding).
///
/// A table that cannot be read at all (not in the encoding, empty, a bad header) is one
/// problem, and the references other tables make to it are not checked: instead of one
/// knock-on error per row, one line says they were not checked and why.
///
/// # Errors
/// As [`load_dir`].
pub fn load_dir_with(dir: &Path, reference: &ReferenceData, options: &ReadOptions) -> Result<Dataset> {
    if !dir.is_dir() {
        return Err(super::not_found(dir));
    }
    let mut problems = Vec::new();
    let enc = options.encoding;

    let mut provider_ids = Seen::default();
    let providers = open(dir, "providers", PROVIDER_COLUMNS, PROVIDER_REQUIRED, true, enc, &mut problems)?
        .map(|table| rows(table, &mut problems, |r| provider(r, reference, &mut provider_ids)));
    let provider_ids = providers.as_ref().map(|_| provider_ids);

    let mut offer_ids = Seen::default();
    let required = super::OFFER_REQUIRED;
    let offers = open(dir, "offers", OFFER_COLUMNS, required, true, enc, &mut problems)?.map(|table| {
        if provider_ids.is_none() {
            problems.push(not_checked(table.file(), "provider_id", "providers"));
        }
        rows(table, &mut problems, |r| offer(r, reference, provider_ids.as_ref(), &mut offer_ids))
    });
    let offer_ids = offers.as_ref().map(|_| offer_ids);

    let mut evidence_seen = Seen::default();
    let evidence = match open(dir, "evidence", EVIDENCE_COLUMNS, EVIDENCE_COLUMNS, false, enc, &mut problems)?
    {
        Some(table) => {
            if offer_ids.is_none() {
                problems.push(not_checked(table.file(), "offer_id", "offers"));
            }
            rows(table, &mut problems, |r| evidence(r, reference, offer_ids.as_ref(), &mut evidence_seen))
        }
        None => Vec::new(),
    };

    // Candidates and the episode history are the two long tables and need only the offers'
    // ids: they are read side by side, each listing its own problems, which are then put in
    // the order a one-by-one read gives (candidates first).
    let read_candidates = || -> Result<(Vec<Candidate>, Seen, Vec<InputProblem>)> {
        let mut problems = Vec::new();
        // Locked assignments are kept by every run, so more of them than places is a
        // contradiction no solver can resolve: refuse it here, on the row that overfills the offer.
        let mut places: HashMap<&str, (u32, u32)> =
            offers.iter().flatten().map(|o| (o.id.as_str(), (o.capacity, 0))).collect();
        let mut candidate_ids = Seen::default();
        let required = super::CANDIDATE_REQUIRED;
        let candidates = match open(dir, "candidates", CANDIDATE_COLUMNS, required, true, enc, &mut problems)?
        {
            Some(table) => {
                if offer_ids.is_none() {
                    problems.push(not_checked(table.file(), "current_offer and excluded_offers", "offers"));
                }
                let (accepted, bad) = table.for_each_row_split(
                    |r| candidate_row(r, reference, offer_ids.as_ref()),
                    |r, row| {
                        let candidate = settle_candidate(r, row, &mut candidate_ids)?;
                        if let Some(current) = candidate.current.as_ref().filter(|c| c.locked)
                            && let Some((capacity, locked)) = places.get_mut(current.offer.as_str())
                        {
                            *locked += 1;
                            if *locked > *capacity {
                                return Err(r.problem(
                                    "current_locked",
                                    format!(
                                        "offer {} has {capacity} places, all held by other locked candidates",
                                        current.offer
                                    ),
                                ));
                            }
                        }
                        Ok(candidate)
                    },
                );
                problems.extend(bad);
                accepted.into_iter().map(|(_, c)| c).collect()
            }
            None => Vec::new(),
        };
        Ok((candidates, candidate_ids, problems))
    };
    let read_outcomes = || -> Result<(Vec<Episode>, Vec<InputProblem>)> {
        let mut problems = Vec::new();
        let mut episode_ids = Seen::default();
        let (known, required) = (super::OUTCOME_COLUMNS, super::OUTCOME_REQUIRED);
        let outcomes = match open(dir, "outcomes", known, required, false, enc, &mut problems)? {
            Some(table) => rows(table, &mut problems, |r| {
                super::outcomes::episode(r, reference, offer_ids.as_ref(), &mut episode_ids)
            }),
            None => Vec::new(),
        };
        Ok((outcomes, problems))
    };
    let (candidates_read, outcomes_read) = rayon::join(read_candidates, read_outcomes);
    let (candidates, candidate_ids, candidate_problems) = candidates_read?;
    problems.extend(candidate_problems);
    let (outcomes, outcome_problems) = outcomes_read?;
    problems.extend(outcome_problems);
    let candidate_ids = Some(candidate_ids);
    let declines = match open(dir, "declines", DECLINE_COLUMNS, DECLINE_REQUIRED, false, enc, &mut problems)?
    {
        Some(table) => rows(table, &mut problems, |r| decline(r, candidate_ids.as_ref(), offer_ids.as_ref())),
        None => Vec::new(),
    };

    let contracts =
        match open(dir, "contracts", CONTRACT_COLUMNS, CONTRACT_REQUIRED, false, enc, &mut problems)? {
            Some(table) => {
                let world = match (&providers, &offers) {
                    (Some(_), Some(offers)) => Some(World {
                        reference,
                        providers: provider_ids.as_ref(),
                        offers: offers.iter().map(|o| (o.id.as_str(), o)).collect(),
                        offer_ids: offer_ids.as_ref(),
                    }),
                    _ => {
                        problems.push(not_checked(
                            table.file(),
                            "provider_id and offers",
                            "providers and offers",
                        ));
                        None
                    }
                };
                let mut seen = Seen::default();
                let (accepted, bad) =
                    table.for_each_row(|r| contract(r, reference, world.as_ref(), &mut seen));
                problems.extend(bad);
                let file =
                    format!("contracts.{}", if dir.join("contracts.csv").is_file() { "csv" } else { "json" });
                let contracts: Vec<Contract> = accepted.iter().map(|(_, c)| c.clone()).collect();
                for (i, problem) in crate::model::contract::check_overlaps(&contracts) {
                    let (line, c) = &accepted[i];
                    problems.push(InputProblem::new(
                        &file,
                        *line,
                        problem.field(),
                        c.id.to_string(),
                        problem.to_string(),
                    ));
                }
                contracts
            }
            None => Vec::new(),
        };

    if !problems.is_empty() {
        return Err(Error::InvalidData(InputProblems(problems)));
    }
    let mut offers = offers.unwrap_or_default();
    let position: HashMap<&str, usize> = offers.iter().enumerate().map(|(i, o)| (o.id.as_str(), i)).collect();
    let mut attached = vec![Vec::new(); offers.len()];
    for (offer_id, item) in evidence {
        // Every evidence row was checked against the offer ids above.
        if let Some(&i) = position.get(offer_id.as_str()) {
            attached[i].push(item);
        }
    }
    for (offer, items) in offers.iter_mut().zip(attached) {
        offer.evidence = items;
    }
    Ok(Dataset {
        candidates,
        offers: offers.into_iter().map(Arc::new).collect(),
        providers: providers.unwrap_or_default(),
        outcomes,
        declines,
        contracts,
    })
}

/// The data set's providers and offers, as a contract is checked against them.
pub(super) struct World<'a> {
    pub(super) reference: &'a ReferenceData,
    pub(super) providers: Option<&'a Seen>,
    /// The offers read whole.
    pub(super) offers: HashMap<&'a str, &'a Offer>,
    /// Every offer id seen, bad rows included.
    pub(super) offer_ids: Option<&'a Seen>,
}

impl ContractWorld for World<'_> {
    fn municipality_exists(&self, code: MunicipalityCode) -> bool {
        self.reference.municipality(code).is_some()
    }
    fn provider_exists(&self, id: &ProviderId) -> bool {
        self.providers.is_some_and(|p| p.contains_key(id.as_str()))
    }
    fn offer(&self, id: &OfferId) -> Option<&Offer> {
        self.offers.get(id.as_str()).copied()
    }
}

/// One row of `contracts`; checked against the providers and offers when both could be read.
pub(super) fn contract(
    r: &Row<'_>,
    reference: &ReferenceData,
    world: Option<&World<'_>>,
    seen: &mut Seen,
) -> Result<Contract, InputProblem> {
    let id = unique_id(r, "id", seen, ContractId::new)?;
    let municipality = municipality(r, "municipality", reference)?;
    let provider_text = r.text("provider_id")?;
    let provider = ProviderId::new(provider_text).map_err(|reason| r.problem("provider_id", reason))?;
    let kind = ContractKind::parse(r.text("kind")?)
        .ok_or_else(|| r.problem("kind", "expected buffer, specialist or strategic_partner"))?;
    let offers = r.list("offers", "an offer id", |s| OfferId::new(s).ok())?;
    let contract = Contract {
        id,
        municipality,
        provider,
        kind,
        price_dkk: opt_count(r, "price_dkk", 0, limits::MAX_PRICE_DKK)?,
        places: r.count_at_most("places", limits::MAX_CONTRACT_PLACES)?,
        guaranteed_volume: opt_count(r, "guaranteed_volume", 0, limits::MAX_CONTRACT_PLACES)?,
        start: r.date("start")?,
        end: r.date("end")?,
        target_groups: groups(r, "target_groups", reference)?,
        offers,
    };
    // An offer whose own row is bad was reported there; the contract is then checked on its
    // own terms only, instead of blaming it for an offer that exists.
    let whole = |w: &World<'_>| {
        contract.offers.iter().all(|o| {
            w.offers.contains_key(o.as_str()) || !w.offer_ids.is_some_and(|ids| ids.contains_key(o.as_str()))
        })
    };
    let checked = match world {
        Some(world) if whole(world) => contract.validate(world),
        _ => contract.check_terms(),
    };
    checked.map_err(|problem| r.problem(problem.field(), problem.to_string()))?;
    Ok(contract)
}

/// Longest decline reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// One row of `declines`: a candidate, an offer, the last day it stays excluded, the reason.
fn decline(r: &Row<'_>, candidates: Option<&Seen>, offers: Option<&Seen>) -> Result<Decline, InputProblem> {
    let candidate =
        reference_id(r, "candidate_id", r.text("candidate_id")?, candidates, "candidates", CandidateId::new)?;
    let offer = reference_id(r, "offer_id", r.text("offer_id")?, offers, "offers", OfferId::new)?;
    let until = r.date("until")?;
    let reason = r.opt_text("reason").unwrap_or("");
    // The value is left out of these two problems: it may hold a personal number.
    if crate::model::looks_like_cpr(reason) {
        return Err(InputProblem::new(
            r.file(),
            r.line(),
            "reason",
            "",
            "looks like it holds a CPR number; remove the personal number",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(InputProblem::new(
            r.file(),
            r.line(),
            "reason",
            "",
            format!("longer than {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(Decline { candidate, offer, until, reason: reason.to_string() })
}

/// Reads `NAME.csv` or `NAME.json`. `None` when the table is absent or its header is unusable
/// (the reason is added to `problems`, unless the table is optional and simply absent).
pub(super) fn open(
    dir: &Path,
    stem: &str,
    known: &[&str],
    required: &[&str],
    mandatory: bool,
    encoding: Encoding,
    problems: &mut Vec<InputProblem>,
) -> Result<Option<Table<std::io::Cursor<Vec<u8>>>>> {
    let csv_name = format!("{stem}.csv");
    let json_name = format!("{stem}.json");
    let (csv_path, json_path) = (dir.join(&csv_name), dir.join(&json_name));
    let table = match (csv_path.is_file(), json_path.is_file()) {
        (true, true) => {
            problems.push(InputProblem::new(
                &csv_name,
                0,
                "",
                "",
                format!("both {csv_name} and {json_name} exist; keep one of them"),
            ));
            return Ok(None);
        }
        (false, false) => {
            if mandatory {
                problems.push(InputProblem::new(
                    &csv_name,
                    0,
                    "",
                    "",
                    format!("table is missing: expected {csv_name} or {json_name}"),
                ));
            }
            return Ok(None);
        }
        (true, false) => {
            let bytes = std::fs::read(&csv_path).map_err(|e| Error::io(&csv_path, e))?;
            Table::from_bytes(&csv_name, &bytes, required, encoding)
        }
        (false, true) => {
            let bytes = std::fs::read(&json_path).map_err(|e| Error::io(&json_path, e))?;
            // JSON is UTF-8 by definition (RFC 8259): the flag does not apply, a BOM is dropped.
            match super::encoding::decode(&json_name, &bytes, Encoding::Utf8) {
                Ok(decoded) => super::json::table(&json_name, &decoded.text, required),
                Err(problem) => {
                    problems.push(problem);
                    return Ok(None);
                }
            }
        }
    };
    let table = match table {
        Ok(table) => table,
        Err(header_problems) => {
            problems.extend(header_problems.0);
            return Ok(None);
        }
    };
    let unknown: Vec<InputProblem> = table
        .header()
        .iter()
        .filter(|(name, _)| !known.contains(&name.as_str()))
        .map(|(name, line)| {
            InputProblem::new(
                table.file(),
                *line,
                name,
                "",
                format!("unknown column; the columns are: {}", known.join(", ")),
            )
        })
        .collect();
    if !unknown.is_empty() {
        problems.extend(unknown);
        return Ok(None);
    }
    Ok(Some(table))
}

/// The line that says why the references `column` of `file` makes to `table` were not checked.
fn not_checked(file: &str, column: &str, table: &str) -> InputProblem {
    InputProblem::new(
        file,
        0,
        "",
        "",
        format!(
            "{column} not checked against {table}, because {table} could not be read (see above); errors they would give are suppressed"
        ),
    )
}

pub(super) fn rows<R: std::io::Read, T>(
    table: Table<R>,
    problems: &mut Vec<InputProblem>,
    f: impl FnMut(&Row<'_>) -> Result<T, InputProblem>,
) -> Vec<T> {
    let (accepted, bad) = table.for_each_row(f);
    problems.extend(bad);
    accepted.into_iter().map(|(_, v)| v).collect()
}

/// Validates the id in `column` and records it, refusing a second use.
pub(super) fn unique_id<T>(
    r: &Row<'_>,
    column: &str,
    seen: &mut Seen,
    new: fn(&str) -> Result<T, String>,
) -> Result<T, InputProblem> {
    let text = r.text(column)?;
    let id = new(text).map_err(|reason| r.problem(column, reason))?;
    first_use(r, column, seen)?;
    Ok(id)
}

/// Records the (valid) id in `column` as seen on this row, refusing a second use.
fn first_use(r: &Row<'_>, column: &str, seen: &mut Seen) -> Result<(), InputProblem> {
    let text = r.raw(column);
    if let Some(first) = seen.get(text) {
        return Err(r.problem(column, format!("duplicate id; first used on line {first}")));
    }
    seen.insert(text.to_string(), r.line());
    Ok(())
}

/// An id that must name a row of another table (`None` when that table could not be read).
fn reference_id<T>(
    r: &Row<'_>,
    column: &str,
    text: &str,
    known: Option<&Seen>,
    table: &str,
    new: fn(&str) -> Result<T, String>,
) -> Result<T, InputProblem> {
    let id = new(text).map_err(|reason| r.problem(column, format!("`{text}`: {reason}")))?;
    if known.is_some_and(|ids| !ids.contains_key(text)) {
        return Err(r.problem(column, format!("`{text}` is not an id in {table}")));
    }
    Ok(id)
}

pub(super) fn municipality(
    r: &Row<'_>,
    column: &str,
    reference: &ReferenceData,
) -> Result<MunicipalityCode, InputProblem> {
    let code: u16 = r.parse(column, "a municipality code (kommunekode), e.g. 0101")?;
    let code = MunicipalityCode(code);
    reference.municipality(code).map(|_| code).ok_or_else(|| r.problem(column, "unknown municipality code"))
}

/// `lat` and `lon`, or else the place point of `postcode`.
fn location(r: &Row<'_>, reference: &ReferenceData) -> Result<LatLon, InputProblem> {
    match (r.opt_text("lat"), r.opt_text("lon")) {
        (Some(_), Some(_)) => {
            let lat = finite(r, "lat")?;
            if reference.synthetic_regions.is_empty() {
                if !LatLon::LAT_RANGE.contains(&lat) {
                    return Err(r.problem("lat", "latitude is outside Denmark (54.4 to 57.9)"));
                }
                let lon = finite(r, "lon")?;
                return LatLon::new(lat, lon).map_err(|reason| r.problem("lon", reason));
            }
            let lon = finite(r, "lon")?;
            // Generated Nordic-scale data: Denmark or one of the reference data's synthetic
            // regions (`ReferenceData::accepts`).
            if !reference.accepts(lat, lon) {
                return Err(r.problem("lat", "the point is outside Denmark and the synthetic regions"));
            }
            Ok(LatLon { lat, lon })
        }
        (Some(_), None) => Err(r.problem("lon", "lat is given, so lon is required too")),
        (None, Some(_)) => Err(r.problem("lat", "lon is given, so lat is required too")),
        (None, None) => {
            let Some(text) = r.opt_text("postcode") else {
                return Err(r.problem("postcode", "give lat and lon, or a postcode"));
            };
            let code: u16 = r.parse("postcode", "a four-digit postcode")?;
            let postcode =
                reference.postcode(code).ok_or_else(|| r.problem("postcode", "unknown postcode"))?;
            if postcode.special {
                return Err(r.problem(
                    "postcode",
                    format!("postcode {text} is a special (non-geographic) code and gives no location; give lat and lon"),
                ));
            }
            Ok(postcode.location)
        }
    }
}

fn finite(r: &Row<'_>, column: &str) -> Result<f64, InputProblem> {
    let value: f64 = r.decimal(column)?;
    if value.is_finite() { Ok(value) } else { Err(r.problem(column, "expected a finite number")) }
}

/// A finite `f32` in `range`. Parsed as `f32` directly so that the shortest text a writer
/// prints reads back as the identical value.
fn number_f32(r: &Row<'_>, column: &str, range: std::ops::RangeInclusive<f32>) -> Result<f32, InputProblem> {
    let value: f32 = r.decimal(column)?;
    if !value.is_finite() {
        return Err(r.problem(column, "expected a finite number"));
    }
    if !range.contains(&value) {
        return Err(r.problem(column, format!("must be between {} and {}", range.start(), range.end())));
    }
    Ok(value)
}

fn opt_count(r: &Row<'_>, column: &str, default: u32, max: u32) -> Result<u32, InputProblem> {
    if r.opt_text(column).is_none() { Ok(default) } else { r.count_at_most(column, max) }
}

fn small<T: TryFrom<u32>>(r: &Row<'_>, column: &str, value: u32, max: u32) -> Result<T, InputProblem> {
    if value > max {
        return Err(r.problem(column, format!("must be at most {max}")));
    }
    T::try_from(value).map_err(|_| r.problem(column, format!("must be at most {max}")))
}

pub(super) fn groups(r: &Row<'_>, column: &str, reference: &ReferenceData) -> Result<GroupSet, InputProblem> {
    let list = r.list(column, "a known target group code", |s| reference.group(s))?;
    let mut set = GroupSet::EMPTY;
    list.into_iter().for_each(|g| set.insert(g));
    Ok(set)
}

fn occupations(
    r: &Row<'_>,
    column: &str,
    reference: &ReferenceData,
) -> Result<Vec<Occupation>, InputProblem> {
    r.list(column, "an ISCO-08 code in the reference data", |s| {
        Occupation::parse(s).filter(|o| reference.occupation_exists(*o))
    })
}

fn languages(r: &Row<'_>) -> Result<Vec<Language>, InputProblem> {
    r.list("languages", "a two-letter ISO 639-1 language code", Language::parse)
}

/// A required free-text value. Names are shown to caseworkers and kept in run files, so a
/// personal number typed into one is refused like one in an id.
fn free_text(r: &Row<'_>, column: &str) -> Result<String, InputProblem> {
    let text = r.text(column)?;
    if crate::model::looks_like_cpr(text) {
        return Err(r.problem(column, "looks like it holds a CPR number; remove the personal number"));
    }
    Ok(text.to_string())
}

pub(super) fn provider(
    r: &Row<'_>,
    reference: &ReferenceData,
    seen: &mut Seen,
) -> Result<Provider, InputProblem> {
    let id = unique_id(r, "id", seen, ProviderId::new)?;
    Ok(Provider {
        id,
        name: free_text(r, "name")?,
        municipality: municipality(r, "municipality", reference)?,
        contact: contact(r)?,
    })
}

pub(super) fn offer(
    r: &Row<'_>,
    reference: &ReferenceData,
    providers: Option<&Seen>,
    seen: &mut Seen,
) -> Result<Offer, InputProblem> {
    let id = unique_id(r, "id", seen, OfferId::new)?;
    let kind = OfferKind::parse(r.text("kind")?)
        .ok_or_else(|| r.problem("kind", "expected provider, job, work_trial or reciprocal_help"))?;
    let name = free_text(r, "name")?;
    let provider =
        reference_id(r, "provider_id", r.text("provider_id")?, providers, "providers", ProviderId::new)?;
    let municipality = municipality(r, "municipality", reference)?;
    let location = location(r, reference)?;
    let serves_municipalities = r.list("serves_municipalities", "a known municipality code", |s| {
        s.parse().ok().map(MunicipalityCode).filter(|&c| reference.municipality(c).is_some())
    })?;
    let capacity = r.count_at_most("capacity", limits::MAX_CAPACITY)?;
    let price_dkk = opt_count(r, "price_dkk", 0, limits::MAX_PRICE_DKK)?;
    let contract = match r.opt_text("contract") {
        None => None,
        Some(text) => Some(
            ContractKind::parse(text)
                .ok_or_else(|| r.problem("contract", "expected buffer, specialist or strategic_partner"))?,
        ),
    };
    if contract.is_some() && kind != OfferKind::Provider {
        return Err(r.problem("contract", "only provider offers have a contract"));
    }
    let guaranteed_volume = opt_count(r, "guaranteed_volume", 0, limits::MAX_CAPACITY)?;
    if guaranteed_volume > 0 && contract != Some(ContractKind::StrategicPartner) {
        return Err(
            r.problem("guaranteed_volume", "only a strategic_partner contract has a guaranteed volume")
        );
    }
    if guaranteed_volume > capacity {
        return Err(
            r.problem("guaranteed_volume", format!("guaranteed volume exceeds the capacity of {capacity}"))
        );
    }
    let poster_weeks_saved = if r.opt_text("poster_weeks_saved").is_none() {
        0.0
    } else {
        number_f32(r, "poster_weeks_saved", 0.0..=520.0)?
    };
    if poster_weeks_saved > 0.0 && kind != OfferKind::ReciprocalHelp {
        return Err(
            r.problem("poster_weeks_saved", "only reciprocal_help offers save the poster benefit weeks")
        );
    }
    Ok(Offer {
        id,
        kind,
        name,
        provider,
        municipality,
        location,
        serves_municipalities,
        capacity,
        price_dkk,
        contract,
        guaranteed_volume,
        target_groups: groups(r, "target_groups", reference)?,
        occupations: occupations(r, "occupations", reference)?,
        languages: languages(r)?,
        requires_driving_licence: r.flag("requires_driving_licence", false)?,
        min_hours: small(r, "min_hours", opt_count(r, "min_hours", 0, limits::MAX_WEEKLY_HOURS)?, 168)?,
        duration_weeks: small(
            r,
            "duration_weeks",
            r.count_at_most("duration_weeks", limits::MAX_DURATION_WEEKS)?,
            limits::MAX_DURATION_WEEKS,
        )?,
        poster_weeks_saved,
        evidence: Vec::new(),
        time_and_place: time_and_place(r, reference)?,
    })
}

/// Longest contact text: a role and a phone number fit; a letter does not.
const CONTACT_MAX_CHARS: usize = 70;

/// The optional `next_start`, `address_postcode` and `contact` columns of an offer.
fn time_and_place(r: &Row<'_>, reference: &ReferenceData) -> Result<TimeAndPlace, InputProblem> {
    let next_start = r.opt_date("next_start")?;
    let address_postcode = match r.opt_text("address_postcode") {
        None => None,
        Some(text) => {
            let code: u16 = r.parse("address_postcode", "a four-digit postcode")?;
            match reference.postcode(code) {
                Some(p) if !p.special => Some(code),
                Some(_) => {
                    return Err(r.problem(
                        "address_postcode",
                        format!("postcode {text} is a special (non-geographic) code, not an address"),
                    ));
                }
                None => return Err(r.problem("address_postcode", "unknown postcode")),
            }
        }
    };
    Ok(TimeAndPlace { next_start, address_postcode, contact: contact(r)? })
}

/// The optional `contact` column (offers and providers): a role or a work phone number.
fn contact(r: &Row<'_>) -> Result<Option<String>, InputProblem> {
    let Some(text) = r.opt_text("contact") else { return Ok(None) };
    // The value is left out: it may hold a personal number.
    if crate::model::looks_like_cpr(text) {
        return Err(InputProblem::new(
            r.file(),
            r.line(),
            "contact",
            "",
            "looks like it holds a CPR number; give a role or a phone number",
        ));
    }
    if text.chars().count() > CONTACT_MAX_CHARS {
        return Err(r.problem(
            "contact",
            format!("longer than {CONTACT_MAX_CHARS} characters; give a role or a phone number"),
        ));
    }
    Ok(Some(text.to_string()))
}

fn evidence(
    r: &Row<'_>,
    reference: &ReferenceData,
    offers: Option<&Seen>,
    seen: &mut Seen,
) -> Result<(OfferId, Evidence), InputProblem> {
    let offer = reference_id(r, "offer_id", r.text("offer_id")?, offers, "offers", OfferId::new)?;
    let code = r.text("target_group")?;
    let group =
        reference.group(code).ok_or_else(|| r.problem("target_group", "unknown target group code"))?;
    let key = format!("{offer}\u{0}{code}");
    if let Some(first) = seen.get(&key) {
        return Err(r.problem(
            "target_group",
            format!("duplicate evidence for this offer and group; first on line {first}"),
        ));
    }
    seen.insert(key, r.line());
    let trials = r.count_at_most("trials", limits::MAX_TRIALS)?;
    let successes = r.count_at_most("successes", limits::MAX_TRIALS)?;
    if successes > trials {
        return Err(r.problem("successes", format!("more successes than the {trials} trials")));
    }
    Ok((offer, Evidence { group, trials, successes }))
}

/// A candidate row read on its own: whether its id is valid (so that it counts as used), and
/// the candidate or the row's first problem. The checks against earlier rows are
/// [`settle_candidate`]'s.
struct CandidateRow {
    id_valid: bool,
    candidate: Result<Candidate, InputProblem>,
}

fn candidate(
    r: &Row<'_>,
    reference: &ReferenceData,
    offers: Option<&Seen>,
    seen: &mut Seen,
) -> Result<Candidate, InputProblem> {
    settle_candidate(r, candidate_row(r, reference, offers), seen)
}

/// A candidate row's id, checked against the rows before it: a repeated id is the row's first
/// problem (as [`unique_id`] makes it for the other tables); a valid id counts as used even when
/// the rest of its row is bad, so that later references to it are not reported as well.
fn settle_candidate(r: &Row<'_>, row: CandidateRow, seen: &mut Seen) -> Result<Candidate, InputProblem> {
    if row.id_valid {
        first_use(r, "id", seen)?;
    }
    row.candidate
}

fn candidate_row(r: &Row<'_>, reference: &ReferenceData, offers: Option<&Seen>) -> CandidateRow {
    let id = r.text("id").and_then(|text| CandidateId::new(text).map_err(|reason| r.problem("id", reason)));
    match id {
        Ok(id) => CandidateRow { id_valid: true, candidate: candidate_fields(r, reference, offers, id) },
        Err(problem) => CandidateRow { id_valid: false, candidate: Err(problem) },
    }
}

fn candidate_fields(
    r: &Row<'_>,
    reference: &ReferenceData,
    offers: Option<&Seen>,
    id: CandidateId,
) -> Result<Candidate, InputProblem> {
    let municipality = municipality(r, "municipality", reference)?;
    let home = location(r, reference)?;
    let age_band = AgeBand::parse(r.text("age_band")?)
        .ok_or_else(|| r.problem("age_band", "expected 15-17, 18-24, 25-29, 30-39, 40-49, 50-59 or 60+"))?;
    let target_groups = groups(r, "target_groups", reference)?;
    if target_groups.is_empty() {
        return Err(r.problem("target_groups", "a candidate belongs to at least one target group"));
    }
    let (young, old) = age_band.ages();
    for g in target_groups.iter() {
        let group = &reference.target_groups[usize::from(g.0)];
        let (min, max) = (group.min_age.unwrap_or(0), group.max_age.unwrap_or(u8::MAX));
        if old < min || young > max {
            return Err(r.problem(
                "age_band",
                format!("outside the ages {min} to {max} of target group {}", group.code),
            ));
        }
    }
    let kind_code = r.text("benefit_kind")?;
    let kind = reference
        .benefit_kind(kind_code)
        .ok_or_else(|| r.problem("benefit_kind", "unknown benefit kind code"))?;
    let start = r.date("benefit_start")?;
    let end = r.opt_date("benefit_end")?;
    if end.is_some_and(|end| end < start) {
        return Err(r.problem("benefit_end", format!("benefit ends before it starts ({start})")));
    }
    let reassessment = r.opt_date("reassessment_date")?;
    if reassessment.is_some_and(|d| d < start) {
        return Err(
            r.problem("reassessment_date", format!("re-assessment before the benefit starts ({start})"))
        );
    }
    let wished_occupations = occupations(r, "wished_occupations", reference)?;
    let max_travel_km = number_f32(r, "max_travel_km", 0.0..=500.0)?;
    let languages = languages(r)?;
    let driving_licence = r.flag("driving_licence", false)?;
    let hours_available =
        small(r, "hours_available", opt_count(r, "hours_available", 37, limits::MAX_WEEKLY_HOURS)?, 168)?;
    let preferred_kinds =
        r.list("preferred_kinds", "provider, job, work_trial or reciprocal_help", OfferKind::parse)?;
    let current = match r.opt_text("current_offer") {
        None => {
            if r.flag("current_locked", false)? {
                return Err(r.problem("current_locked", "locked, but current_offer is empty"));
            }
            None
        }
        Some(text) => Some(CurrentAssignment {
            offer: reference_id(r, "current_offer", text, offers, "offers", OfferId::new)?,
            locked: r.flag("current_locked", false)?,
        }),
    };
    let mut excluded_offers = Vec::new();
    if let Some(text) = r.opt_text("excluded_offers") {
        if text.split(';').filter(|s| !s.trim().is_empty()).nth(limits::MAX_LIST_ITEMS).is_some() {
            return Err(r.problem("excluded_offers", format!("more than {} items", limits::MAX_LIST_ITEMS)));
        }
        for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let offer = reference_id(r, "excluded_offers", item, offers, "offers", OfferId::new)?;
            if current.as_ref().is_some_and(|c| c.offer == offer) {
                return Err(r.problem("excluded_offers", format!("`{item}` is also the current_offer")));
            }
            excluded_offers.push(offer);
        }
    }
    let gender = match r.opt_text("gender") {
        None => None,
        Some(text) => {
            Some(parse_gender(text).ok_or_else(|| r.problem("gender", "expected female, male or other"))?)
        }
    };
    let origin = match r.opt_text("origin") {
        None => None,
        Some(text) => Some(
            parse_origin(text)
                .ok_or_else(|| r.problem("origin", "expected danish, western or non_western"))?,
        ),
    };
    Ok(Candidate {
        id,
        municipality,
        home,
        age_band,
        target_groups,
        benefit: Benefit { kind, start, end, reassessment },
        wished_occupations,
        max_travel_km,
        languages,
        driving_licence,
        hours_available,
        preferred_kinds,
        current,
        excluded_offers,
        audit: AuditAttributes { gender, origin },
    })
}

/// The label of a gender in data files.
pub(crate) fn gender_label(gender: Gender) -> &'static str {
    match gender {
        Gender::Female => "female",
        Gender::Male => "male",
        Gender::Other => "other",
    }
}

/// The label of an origin in data files.
pub(crate) fn origin_label(origin: Origin) -> &'static str {
    match origin {
        Origin::Danish => "danish",
        Origin::Western => "western",
        Origin::NonWestern => "non_western",
    }
}

fn parse_gender(text: &str) -> Option<Gender> {
    [Gender::Female, Gender::Male, Gender::Other].into_iter().find(|g| gender_label(*g) == text)
}

fn parse_origin(text: &str) -> Option<Origin> {
    [Origin::Danish, Origin::Western, Origin::NonWestern].into_iter().find(|o| origin_label(*o) == text)
}

/// Checks that every index and code of a data set (from a snapshot) exists in `reference`.
///
/// # Errors
/// [`Error::Snapshot`] naming the first item that does not fit.
pub(crate) fn check_against_reference(
    dataset: &Dataset,
    reference: &ReferenceData,
    path: &Path,
) -> Result<()> {
    let groups = reference.target_groups.len();
    let group_ok = |set: GroupSet| set.iter().all(|GroupId(g)| usize::from(g) < groups);
    let municipality_ok = |code: MunicipalityCode| reference.municipality(code).is_some();
    let occupations_ok = |list: &[Occupation]| list.iter().all(|o| reference.occupation_exists(*o));
    let bad = |what: String| Error::Snapshot {
        path: path.to_path_buf(),
        reason: format!(
            "{what} does not exist in the reference data; was the snapshot written with other reference tables?"
        ),
    };
    // On the caller's threads (a national snapshot: 250,000 candidates and 60,000 episodes
    // checked before the night can start); `find_first` names the same record as a loop would.
    if let Some(c) = dataset.candidates.par_iter().find_first(|c| {
        !group_ok(c.target_groups)
            || usize::from(c.benefit.kind) >= reference.benefit_kinds.len()
            || !municipality_ok(c.municipality)
            || !occupations_ok(&c.wished_occupations)
    }) {
        return Err(bad(format!("a group, benefit kind, municipality or occupation of candidate {}", c.id)));
    }
    if let Some(o) = dataset.offers.par_iter().find_first(|o| {
        !group_ok(o.target_groups)
            || o.evidence.iter().any(|e| usize::from(e.group.0) >= groups)
            || !municipality_ok(o.municipality)
            || !o.serves_municipalities.iter().all(|&m| municipality_ok(m))
            || !occupations_ok(&o.occupations)
    }) {
        return Err(bad(format!("a group, municipality or occupation of offer {}", o.id)));
    }
    if let Some(p) = dataset.providers.iter().find(|p| !municipality_ok(p.municipality)) {
        return Err(bad(format!("the municipality of provider {}", p.id)));
    }
    if let Some(c) =
        dataset.contracts.iter().find(|c| !municipality_ok(c.municipality) || !group_ok(c.target_groups))
    {
        return Err(bad(format!("the municipality or a target group of contract {}", c.id)));
    }
    if let Some(e) = dataset.outcomes.par_iter().find_first(|e| {
        !group_ok(e.target_groups)
            || usize::from(e.benefit_kind) >= reference.benefit_kinds.len()
            || !municipality_ok(e.municipality)
    }) {
        return Err(bad(format!("a group, benefit kind or municipality of episode {}", e.id)));
    }
    Ok(())
}

/// Reads a JSON table that arrives as text rather than as a file (a request body), refusing
/// unknown fields exactly as [`load_dir`] refuses unknown columns.
fn json_text_table<'a>(
    file: &str,
    text: &str,
    known: &[&str],
    required: &[&str],
) -> std::result::Result<Table<&'a [u8]>, InputProblems> {
    let table = super::json::table(file, text, required)?;
    let unknown: Vec<InputProblem> = table
        .header()
        .iter()
        .filter(|(name, _)| !known.contains(&name.as_str()))
        .map(|(name, line)| {
            InputProblem::new(
                file,
                *line,
                name,
                "",
                format!("unknown field; the fields are: {}", known.join(", ")),
            )
        })
        .collect();
    if unknown.is_empty() { Ok(table) } else { Err(InputProblems(unknown)) }
}

/// Validates offers given as the text of a JSON table (the `offers.json` format of
/// `data/README.md`), e.g. a request body. Returns each offer with the line of its object.
/// `provider_id` is checked as an id but not against a providers table; evidence is empty.
///
/// # Errors
/// Every bad object (its first problem), with line, field and value; duplicate ids included.
pub fn offers_from_json(
    file: &str,
    text: &str,
    reference: &ReferenceData,
) -> std::result::Result<Vec<(u64, Offer)>, InputProblems> {
    let required = super::OFFER_REQUIRED;
    let table = json_text_table(file, text, OFFER_COLUMNS, required)?;
    let mut seen = Seen::default();
    let (accepted, problems) = table.for_each_row(|r| offer(r, reference, None, &mut seen));
    if problems.is_empty() { Ok(accepted) } else { Err(InputProblems(problems)) }
}

/// Validates candidates given as the text of a JSON table (the `candidates.json` format of
/// `data/README.md`), e.g. a request body. Returns each candidate with the line of its object.
/// `current_offer` and `excluded_offers` are checked as ids but not against the offers: the
/// caller knows its offers.
///
/// # Errors
/// Every bad object (its first problem), with line, field and value; duplicate ids included.
pub fn candidates_from_json(
    file: &str,
    text: &str,
    reference: &ReferenceData,
) -> std::result::Result<Vec<(u64, Candidate)>, InputProblems> {
    let required = super::CANDIDATE_REQUIRED;
    let table = json_text_table(file, text, CANDIDATE_COLUMNS, required)?;
    let mut seen = Seen::default();
    let (accepted, problems) = table.for_each_row(|r| candidate(r, reference, None, &mut seen));
    if problems.is_empty() { Ok(accepted) } else { Err(InputProblems(problems)) }
}
