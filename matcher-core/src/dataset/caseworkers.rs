//! Reading the caseworkers file (`--caseworkers`): one row per caseworker with their
//! municipality, caseload, cap, specialities and the candidates on their caseload now.
//!
//! Goes through the same [`Table`] reader as the data set, so a bad row is reported with
//! file, line, column and value, and the file is accepted whole or not at all. It is read
//! against an already loaded [`Dataset`]: the cases it lists must be candidates of it.

use super::Seen;
use super::read::{groups, municipality, unique_id};
use super::table::{Row, Table};
use crate::error::{Error, InputProblem, InputProblems, Result};
use crate::model::{CandidateId, Caseworker, CaseworkerId, Dataset, MunicipalityCode, ReferenceData};
use std::collections::HashMap;
use std::path::Path;

/// Columns of the caseworkers file, in the order [`caseworkers_csv`] writes them.
pub const CASEWORKER_COLUMNS: &[&str] = &["id", "municipality", "caseload", "cap", "specialities", "cases"];

/// Columns every caseworker row must have.
pub const CASEWORKER_REQUIRED: &[&str] = &["id", "municipality", "caseload", "cap"];

/// The largest cap accepted: far above any real caseload, and it bounds the solver's problem.
pub const MAX_CAP: u32 = 1_000;

/// Reads and validates a caseworkers file (`.json` for a JSON array, CSV otherwise).
///
/// # Errors
/// [`Error::InvalidData`] listing every bad row (the first problem of each); [`Error::Io`]
/// when the file cannot be read.
pub fn load_caseworkers(path: &Path, data: &Dataset, reference: &ReferenceData) -> Result<Vec<Caseworker>> {
    load_caseworkers_with(path, data, reference, &super::ReadOptions::default())
}

/// As [`load_caseworkers`], reading a CSV file as `options` says (its encoding).
///
/// # Errors
/// As [`load_caseworkers`].
pub fn load_caseworkers_with(
    path: &Path,
    data: &Dataset,
    reference: &ReferenceData,
    options: &super::ReadOptions,
) -> Result<Vec<Caseworker>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file = path.display().to_string();
    let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    caseworkers_from_bytes(&file, &bytes, json, data, reference, options.encoding)
}

/// Reads caseworkers from the bytes of a file named `file` (used in messages).
///
/// # Errors
/// As [`load_caseworkers`].
pub fn caseworkers_from_bytes(
    file: &str,
    bytes: &[u8],
    json: bool,
    data: &Dataset,
    reference: &ReferenceData,
    encoding: super::Encoding,
) -> Result<Vec<Caseworker>> {
    let invalid = |problems: Vec<InputProblem>| Error::InvalidData(InputProblems(problems));
    let table = if json {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| invalid(vec![InputProblem::new(file, 0, "", "", "file is not UTF-8 text")]))?;
        super::json::table(file, text, CASEWORKER_REQUIRED)
    } else {
        Table::from_bytes(file, bytes, CASEWORKER_REQUIRED, encoding)
    }
    .map_err(|p| invalid(p.0))?;
    let unknown: Vec<InputProblem> = table
        .header()
        .iter()
        .filter(|(name, _)| !CASEWORKER_COLUMNS.contains(&name.as_str()))
        .map(|(name, line)| {
            InputProblem::new(
                file,
                *line,
                name,
                "",
                format!("unknown column; the columns are: {}", CASEWORKER_COLUMNS.join(", ")),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(invalid(unknown));
    }

    let candidates: HashMap<&str, MunicipalityCode> =
        data.candidates.iter().map(|c| (c.id.as_str(), c.municipality)).collect();
    let mut ids = Seen::default();
    // Candidate id → (caseworker id, line) of the caseload that lists it first.
    let mut held: HashMap<String, (String, u64)> = HashMap::new();
    let (rows, problems) = table.for_each_row(|r| caseworker(r, reference, &candidates, &mut ids, &mut held));
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    Ok(rows.into_iter().map(|(_, c)| c).collect())
}

fn caseworker(
    r: &Row<'_>,
    reference: &ReferenceData,
    candidates: &HashMap<&str, MunicipalityCode>,
    ids: &mut Seen,
    held: &mut HashMap<String, (String, u64)>,
) -> std::result::Result<Caseworker, InputProblem> {
    let id: CaseworkerId = unique_id(r, "id", ids, CaseworkerId::new)?;
    let municipality = municipality(r, "municipality", reference)?;
    let caseload = r.count("caseload")?;
    let cap = r.count("cap")?;
    if cap > MAX_CAP {
        return Err(r.problem("cap", format!("must be at most {MAX_CAP}")));
    }
    let specialities = groups(r, "specialities", reference)?;
    let cases = r.list("cases", "a valid candidate id", |s| CandidateId::new(s).ok())?;
    for case in &cases {
        match candidates.get(case.as_str()) {
            None => return Err(r.problem("cases", format!("`{case}` is not an id in candidates"))),
            Some(&m) if m != municipality => {
                return Err(r.problem(
                    "cases",
                    format!(
                        "candidate `{case}` belongs to municipality {m}, the caseworker to {municipality}"
                    ),
                ));
            }
            Some(_) => {}
        }
        if let Some((other, line)) = held.get(case.as_str()) {
            return Err(r.problem(
                "cases",
                format!("candidate `{case}` is already on the caseload of {other} (line {line})"),
            ));
        }
    }
    if cases.len() as u64 > u64::from(caseload) {
        return Err(
            r.problem("caseload", format!("{} cases are listed, more than the caseload", cases.len()))
        );
    }
    for case in &cases {
        held.insert(case.to_string(), (id.to_string(), r.line()));
    }
    Ok(Caseworker { id, municipality, caseload, cap, specialities, cases })
}

/// The caseworkers as CSV bytes with the columns of [`CASEWORKER_COLUMNS`].
///
/// # Errors
/// [`Error::Io`] if the CSV writer fails (not expected: it writes to memory).
pub fn caseworkers_csv(caseworkers: &[Caseworker], reference: &ReferenceData) -> Result<Vec<u8>> {
    let fail = |e: csv::Error| Error::io(Path::new("caseworkers.csv"), std::io::Error::other(e));
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record(CASEWORKER_COLUMNS).map_err(fail)?;
    for c in caseworkers {
        let specialities: Vec<&str> = c
            .specialities
            .iter()
            .filter_map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.code.as_str()))
            .collect();
        let cases: Vec<&str> = c.cases.iter().map(CandidateId::as_str).collect();
        w.write_record([
            c.id.as_str(),
            &c.municipality.to_string(),
            &c.caseload.to_string(),
            &c.cap.to_string(),
            &specialities.join(";"),
            &cases.join(";"),
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| Error::io(Path::new("caseworkers.csv"), std::io::Error::other(e.to_string())))
}
