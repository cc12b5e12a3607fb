//! Writing a data set as a directory of CSV tables that [`super::load_dir`] reads back into
//! the identical [`Dataset`].
//!
//! Output is a pure function of the data set: rows in data set order, lists in their stored
//! order, numbers in Rust's shortest round-trip form. Each table goes to a temporary file that
//! is renamed into place, so a reader never sees half a table.

use super::read::{gender_label, origin_label};
use super::{
    CANDIDATE_COLUMNS, CONTRACT_COLUMNS, DECLINE_COLUMNS, EVIDENCE_COLUMNS, OFFER_COLUMNS, PROVIDER_COLUMNS,
};
use crate::error::{Error, InputProblem, InputProblems, Result};
use crate::model::{ContractKind, Dataset, GroupSet, ReferenceData};
use std::fmt::Display;
use std::path::Path;

/// Writes `providers.csv`, `offers.csv`, `evidence.csv`, `candidates.csv` and (with a history)
/// `outcomes.csv` into `dir`
/// (created if needed), replacing tables of those names, and `declines.csv` and
/// `contracts.csv` when the data set has declines or contracts (an old file is removed when it
/// has none).
///
/// # Errors
/// [`Error::Io`] when a file cannot be written, or when `dir` holds a JSON table of the same
/// name (the directory would then hold two versions of one table); [`Error::InvalidData`] when
/// the data set names a target group or benefit kind that `reference` does not have.
pub fn write_dir(dataset: &Dataset, reference: &ReferenceData, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for stem in ["providers", "offers", "evidence", "candidates", "outcomes", "declines", "contracts"] {
        let json = dir.join(format!("{stem}.json"));
        if json.exists() {
            return Err(Error::io(
                &json,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a JSON table of the same name is in the way; remove it or write elsewhere",
                ),
            ));
        }
    }
    for (name, bytes) in csv_tables(dataset, reference)? {
        replace(&dir.join(name), &bytes)?;
    }
    // The history is optional: a data set without one keeps its four files.
    if !dataset.outcomes.is_empty() {
        replace(&dir.join("outcomes.csv"), &outcomes_csv(dataset, reference)?)?;
    }
    let path = dir.join("declines.csv");
    if dataset.declines.is_empty() {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(&path, e)),
            _ => {}
        }
    } else {
        replace(&path, &declines_csv(dataset)?)?;
    }
    let path = dir.join("contracts.csv");
    if dataset.contracts.is_empty() {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(&path, e)),
            _ => {}
        }
    } else {
        replace(&path, &contracts_csv(dataset, reference)?)?;
    }
    Ok(())
}

/// The `contracts` table as CSV text (see `data/README.md`).
///
/// # Errors
/// [`Error::InvalidData`] when a contract names a target group `reference` does not have.
pub fn contracts_csv(dataset: &Dataset, reference: &ReferenceData) -> Result<Vec<u8>> {
    let mut csv = Csv::new(CONTRACT_COLUMNS)?;
    for (i, c) in dataset.contracts.iter().enumerate() {
        let groups = group_codes(c.target_groups, reference, "contracts.csv", i, "target_groups")?;
        csv.push(&c.id)
            .push(c.municipality)
            .push(&c.provider)
            .push(c.kind.label())
            .push(c.price_dkk)
            .push(c.places)
            .push(c.guaranteed_volume)
            .push(c.start)
            .push(c.end)
            .push(groups)
            .push(join(&c.offers))
            .end_row()?;
    }
    csv.finish()
}

/// The `declines` table as CSV text (see `data/README.md`).
///
/// # Errors
/// Only if the CSV writer fails (not expected in memory).
pub fn declines_csv(dataset: &Dataset) -> Result<Vec<u8>> {
    let mut csv = Csv::new(DECLINE_COLUMNS)?;
    for d in &dataset.declines {
        csv.push(&d.candidate).push(&d.offer).push(d.until).push(&d.reason).end_row()?;
    }
    csv.finish()
}

/// The `outcomes` table (the episode history) as CSV text, header included.
///
/// # Errors
/// [`Error::Io`] only if the CSV writer fails (not expected in memory).
pub fn outcomes_csv(dataset: &Dataset, reference: &ReferenceData) -> Result<Vec<u8>> {
    let mut csv = Csv::new(super::outcomes::OUTCOME_COLUMNS)?;
    for row in super::outcomes::rows(&dataset.outcomes, reference) {
        for value in row {
            csv.push(value);
        }
        csv.end_row()?;
    }
    csv.finish()
}

/// The four tables as CSV text, named as [`write_dir`] names their files. The service uses
/// them to show stored records in the documented column shape.
///
/// # Errors
/// [`Error::InvalidData`] when the data set names a target group or benefit kind that
/// `reference` does not have.
pub fn csv_tables(dataset: &Dataset, reference: &ReferenceData) -> Result<[(&'static str, Vec<u8>); 4]> {
    Ok([
        ("providers.csv", providers(dataset)?),
        ("offers.csv", offers(dataset, reference)?),
        ("evidence.csv", evidence(dataset, reference)?),
        ("candidates.csv", candidates(dataset, reference)?),
    ])
}

/// Writes `bytes` to a temporary file next to `path` and renames it over `path`.
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

struct Csv {
    writer: csv::Writer<Vec<u8>>,
    row: Vec<String>,
}

impl Csv {
    fn new(columns: &[&str]) -> Result<Csv> {
        let mut writer =
            csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
        writer.write_record(columns).map_err(csv_error)?;
        Ok(Csv { writer, row: Vec::with_capacity(columns.len()) })
    }

    fn push(&mut self, value: impl Display) -> &mut Self {
        self.row.push(value.to_string());
        self
    }

    fn end_row(&mut self) -> Result<()> {
        self.writer.write_record(&self.row).map_err(csv_error)?;
        self.row.clear();
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>> {
        self.writer.into_inner().map_err(|e| csv_error(e.into_error().into()))
    }
}

fn csv_error(e: csv::Error) -> Error {
    Error::io("<memory>", std::io::Error::other(e.to_string()))
}

fn join<T: Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(";")
}

fn opt<T: Display>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn unknown(file: &str, line: usize, column: &str, value: impl Display) -> Error {
    Error::InvalidData(InputProblems(vec![InputProblem::new(
        file,
        line as u64 + 2,
        column,
        value.to_string(),
        "index is not in the reference data",
    )]))
}

fn group_codes(
    set: GroupSet,
    reference: &ReferenceData,
    file: &str,
    line: usize,
    column: &str,
) -> Result<String> {
    let codes: Option<Vec<&str>> =
        set.iter().map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.code.as_str())).collect();
    codes.map(|c| c.join(";")).ok_or_else(|| unknown(file, line, column, set.0))
}

fn providers(dataset: &Dataset) -> Result<Vec<u8>> {
    let mut csv = Csv::new(PROVIDER_COLUMNS)?;
    for p in &dataset.providers {
        csv.push(&p.id)
            .push(&p.name)
            .push(p.municipality)
            .push(p.contact.as_deref().unwrap_or(""))
            .end_row()?;
    }
    csv.finish()
}

fn offers(dataset: &Dataset, reference: &ReferenceData) -> Result<Vec<u8>> {
    let mut csv = Csv::new(OFFER_COLUMNS)?;
    for (i, o) in dataset.offers.iter().enumerate() {
        let groups = group_codes(o.target_groups, reference, "offers.csv", i, "target_groups")?;
        csv.push(&o.id)
            .push(o.kind.label())
            .push(&o.name)
            .push(&o.provider)
            .push(o.municipality)
            .push(o.location.lat)
            .push(o.location.lon)
            .push("")
            .push(join(&o.serves_municipalities))
            .push(o.capacity)
            .push(o.price_dkk)
            .push(o.contract.map_or("", ContractKind::label))
            .push(o.guaranteed_volume)
            .push(groups)
            .push(join(&o.occupations))
            .push(join(&o.languages))
            .push(o.requires_driving_licence)
            .push(o.min_hours)
            .push(o.duration_weeks)
            .push(o.poster_weeks_saved)
            .push(o.time_and_place.next_start.map(|d| d.to_string()).unwrap_or_default())
            .push(o.time_and_place.address_postcode.map(|p| format!("{p:04}")).unwrap_or_default())
            .push(o.time_and_place.contact.as_deref().unwrap_or(""))
            .end_row()?;
    }
    csv.finish()
}

fn evidence(dataset: &Dataset, reference: &ReferenceData) -> Result<Vec<u8>> {
    let mut csv = Csv::new(EVIDENCE_COLUMNS)?;
    let mut line = 0;
    for o in &dataset.offers {
        for e in &o.evidence {
            let group = reference
                .target_groups
                .get(usize::from(e.group.0))
                .ok_or_else(|| unknown("evidence.csv", line, "target_group", e.group.0))?;
            csv.push(&o.id).push(&group.code).push(e.trials).push(e.successes).end_row()?;
            line += 1;
        }
    }
    csv.finish()
}

fn candidates(dataset: &Dataset, reference: &ReferenceData) -> Result<Vec<u8>> {
    let mut csv = Csv::new(CANDIDATE_COLUMNS)?;
    for (i, c) in dataset.candidates.iter().enumerate() {
        let groups = group_codes(c.target_groups, reference, "candidates.csv", i, "target_groups")?;
        let kind = reference
            .benefit_kinds
            .get(usize::from(c.benefit.kind))
            .ok_or_else(|| unknown("candidates.csv", i, "benefit_kind", c.benefit.kind))?;
        let kinds: Vec<&str> = c.preferred_kinds.iter().map(|k| k.label()).collect();
        csv.push(&c.id)
            .push(c.municipality)
            .push(c.home.lat)
            .push(c.home.lon)
            .push("")
            .push(c.age_band.label())
            .push(groups)
            .push(&kind.code)
            .push(c.benefit.start)
            .push(opt(c.benefit.end))
            .push(opt(c.benefit.reassessment))
            .push(join(&c.wished_occupations))
            .push(c.max_travel_km)
            .push(join(&c.languages))
            .push(c.driving_licence)
            .push(c.hours_available)
            .push(kinds.join(";"))
            .push(opt(c.current.as_ref().map(|a| &a.offer)))
            .push(c.current.as_ref().is_some_and(|a| a.locked))
            .push(join(&c.excluded_offers))
            .push(c.audit.gender.map_or("", gender_label))
            .push(c.audit.origin.map_or("", origin_label))
            .end_row()?;
    }
    csv.finish()
}
