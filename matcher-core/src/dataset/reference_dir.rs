//! A municipality's reference directory (`--reference DIR`): `target_groups.csv` and
//! `benefit_kinds.csv` that replace or extend the embedded tables, so that new target groups
//! and this year's weekly rates need no new release.
//!
//! The files go through the same reader as every data table (encoding, separator, file, line,
//! column and value in every message). This module only reads; how rows replace or extend the
//! embedded ones is [`ReferenceData::apply_overrides`]. Municipalities, postcodes and ISCO-08
//! groups stay embedded: a file of theirs in the directory is refused, never silently ignored.

use super::ReadOptions;
use super::table::Table;
use crate::error::{Error, InputProblem, InputProblems, Result};
use crate::model::ReferenceData;
use crate::model::reference::{
    BENEFIT_KIND_COLUMNS, BENEFIT_KIND_REQUIRED, TARGET_GROUP_COLUMNS, TARGET_GROUP_REQUIRED,
    benefit_kind_rows, target_group_rows,
};
use std::path::Path;

/// The files a reference directory may hold.
pub const REFERENCE_FILES: &[&str] = &["target_groups.csv", "benefit_kinds.csv"];

/// The embedded reference data with the tables of `dir` applied over it.
///
/// # Errors
/// [`Error::Input`] when `dir` is not a directory; [`Error::InvalidData`] listing every bad
/// row, a file that cannot be read, an unknown column, a CSV file other than the two, or a
/// directory that holds neither; [`Error::Io`] when a file cannot be read.
pub fn load_reference(dir: &Path, options: &ReadOptions) -> Result<ReferenceData> {
    let mut reference = ReferenceData::embedded()?;
    if !dir.is_dir() {
        return Err(Error::Input(InputProblem::new(
            dir.display().to_string(),
            0,
            "",
            "",
            "reference directory does not exist; expected a directory with target_groups.csv and/or benefit_kinds.csv",
        )));
    }
    let mut problems = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    for name in &names {
        let csv = name.to_ascii_lowercase().ends_with(".csv");
        if csv && !REFERENCE_FILES.contains(&name.as_str()) {
            problems.push(InputProblem::new(
                name,
                0,
                "",
                "",
                "not a reference table that can be replaced; a reference directory holds target_groups.csv and benefit_kinds.csv (municipalities, postcodes and ISCO-08 groups are embedded)",
            ));
        }
    }
    let mut read = |name: &str, required: &[&str], known: &[&str]| -> Result<Option<Table<_>>> {
        let path = dir.join(name);
        if !path.is_file() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        match Table::from_bytes(name, &bytes, required, options.encoding) {
            Err(bad) => {
                problems.extend(bad.0);
                Ok(None)
            }
            Ok(table) => {
                let unknown: Vec<InputProblem> = table
                    .header()
                    .iter()
                    .filter(|(column, _)| !known.contains(&column.as_str()))
                    .map(|(column, line)| {
                        InputProblem::new(
                            name,
                            *line,
                            column,
                            "",
                            format!("unknown column; the columns are: {}", known.join(", ")),
                        )
                    })
                    .collect();
                if unknown.is_empty() {
                    Ok(Some(table))
                } else {
                    problems.extend(unknown);
                    Ok(None)
                }
            }
        }
    };
    let groups = read("target_groups.csv", TARGET_GROUP_REQUIRED, TARGET_GROUP_COLUMNS)?;
    let kinds = read("benefit_kinds.csv", BENEFIT_KIND_REQUIRED, BENEFIT_KIND_COLUMNS)?;
    if !names.iter().any(|n| REFERENCE_FILES.contains(&n.as_str())) {
        problems.push(InputProblem::new(
            dir.display().to_string(),
            0,
            "",
            "",
            "holds neither target_groups.csv nor benefit_kinds.csv",
        ));
    }
    let groups = groups.map(|t| {
        let (rows, bad) = target_group_rows(t);
        problems.extend(bad);
        rows
    });
    let kinds = kinds.map(|t| {
        let (rows, bad) = benefit_kind_rows(t);
        problems.extend(bad);
        rows
    });
    if problems.is_empty() {
        problems.extend(reference.apply_overrides(
            ("target_groups.csv", groups.unwrap_or_default()),
            ("benefit_kinds.csv", kinds.unwrap_or_default()),
        ));
    }
    if problems.is_empty() { Ok(reference) } else { Err(Error::InvalidData(InputProblems(problems))) }
}
