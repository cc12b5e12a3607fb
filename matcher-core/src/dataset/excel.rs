//! Danish Excel CSV out: `;`-separated, a UTF-8 byte order mark first (so Excel reads æøå
//! right), decimal commas, CRLF line ends. This is the form a spreadsheet in a Danish locale
//! opens into columns with numbers it can sum, and the form [`super::load_dir`] reads back.
//!
//! This module only re-writes CSV text that another writer produced (the data set tables of
//! [`super::csv_tables`], the run files of `matcher batch`); it must not decide what a column
//! holds, beyond which columns are decimal numbers.

use super::encoding::UTF8_BOM;
use super::{ReadOptions, csv_tables, load_dir_with};
use crate::error::{Error, InputProblem, InputProblems, Result};
use crate::model::{Dataset, ReferenceData};
use std::path::Path;

/// Re-writes `,`-separated CSV text as Danish Excel CSV. In the columns named in `decimal`,
/// a value that is a number with a decimal point gets a decimal comma instead; every other
/// value is copied as it is (quoted where it holds `;`).
///
/// # Errors
/// [`Error::InvalidData`] naming the line if `csv_text` is not well-formed CSV (not expected:
/// it comes from our own writers).
pub fn to_excel_csv(file: &str, csv_text: &[u8], decimal: &[&str]) -> Result<Vec<u8>> {
    let bad = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        Error::InvalidData(InputProblems(vec![InputProblem::new(file, line, "", "", e.to_string())]))
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv_text);
    let mut out = UTF8_BOM.to_vec();
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(&mut out);
    let mut decimal_at: Vec<bool> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    while reader.read_record(&mut record).map_err(bad)? {
        if first {
            decimal_at = record.iter().map(|name| decimal.contains(&name)).collect();
            writer.write_record(&record).map_err(bad)?;
            first = false;
            continue;
        }
        let row: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let is_decimal = decimal_at.get(i).copied().unwrap_or(false)
                    && value.parse::<f64>().is_ok()
                    && value.matches('.').count() == 1;
                if is_decimal { value.replace('.', ",") } else { value.to_string() }
            })
            .collect();
        writer.write_record(&row).map_err(bad)?;
    }
    writer.flush().map_err(|e| Error::io(file, e))?;
    drop(writer);
    Ok(out)
}

/// The decimal columns of the data set tables.
pub const DECIMAL_COLUMNS: &[&str] = &["lat", "lon", "max_travel_km", "poster_weeks_saved"];

/// The four data set tables (and the contracts, when there are any) as Danish Excel CSV, named as [`super::write_dir`] names them.
///
/// # Errors
/// As [`csv_tables`].
pub fn excel_tables(dataset: &Dataset, reference: &ReferenceData) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let mut tables: Vec<(&'static str, Vec<u8>)> = csv_tables(dataset, reference)?.into_iter().collect();
    if !dataset.contracts.is_empty() {
        tables.push(("contracts.csv", super::contracts_csv(dataset, reference)?));
    }
    tables.into_iter().map(|(name, bytes)| Ok((name, to_excel_csv(name, &bytes, DECIMAL_COLUMNS)?))).collect()
}

/// Writes the data set into `dir` as Danish Excel CSV (replacing tables of those names) and
/// reads it back: the check that a municipality can take the files through Excel and in again.
///
/// # Errors
/// As [`super::write_dir`] and [`load_dir_with`].
pub fn write_excel_dir(dataset: &Dataset, reference: &ReferenceData, dir: &Path) -> Result<Dataset> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (name, bytes) in excel_tables(dataset, reference)? {
        super::write::replace(&dir.join(name), &bytes)?;
    }
    load_dir_with(dir, reference, &ReadOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scale;
    use crate::dataset::encoding::{Encoding, to_windows_1252};

    #[test]
    fn danish_excel_csv_round_trips_the_whole_data_set() {
        let reference = ReferenceData::embedded().unwrap();
        let mut data = crate::generate(Scale::Demo, 3, &reference);
        // The Excel copies are of the four main tables; the history stays a plain CSV table.
        data.outcomes.clear();
        let dir = std::env::temp_dir().join(format!("brobygger-excel-{}", std::process::id()));
        let back = write_excel_dir(&data, &reference, &dir).unwrap();
        assert_eq!(back, data);
        let offers = std::fs::read(dir.join("offers.csv")).unwrap();
        assert!(offers.starts_with(UTF8_BOM));
        let text = String::from_utf8_lossy(&offers);
        assert!(text.lines().nth(1).unwrap().contains(';') && text.contains("\r\n"));
        // lat and lon with a decimal comma, lists quoted because they hold `;`.
        assert!(text.lines().skip(1).all(|l| l.split(';').nth(5).is_none_or(|v| !v.contains('.'))));

        // The same files as Windows-1252 without the mark (Excel's plain "CSV"), read by flag.
        for name in ["providers.csv", "offers.csv", "evidence.csv", "candidates.csv"] {
            let path = dir.join(name);
            let utf8 = std::fs::read_to_string(&path).unwrap();
            let latin = to_windows_1252(utf8.trim_start_matches('\u{feff}')).unwrap();
            std::fs::write(&path, latin).unwrap();
        }
        let options = ReadOptions { encoding: Encoding::Windows1252 };
        let back = load_dir_with(&dir, &reference, &options).unwrap();
        assert_eq!(back, data);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
