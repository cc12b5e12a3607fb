//! A table with named columns and typed getters that report the exact place of a bad value
//! (file, line, column, value). Every CSV reader in the crate goes through it, and so do JSON
//! tables (an array of objects), which the `json` module turns into the same rows so that one set
//! of getters and messages serves both formats.

use crate::error::{InputProblem, InputProblems};
use crate::model::Date;
use std::collections::HashMap;
use std::io::Read;
use std::str::FromStr;

/// An open table: the header has been read and the required columns checked.
pub struct Table<R: Read> {
    file: String,
    source: Source<R>,
    columns: HashMap<String, usize>,
    /// Column names in header order with the line where each first appears (1 for CSV).
    header: Vec<(String, u64)>,
}

enum Source<R: Read> {
    Csv(csv::Reader<R>),
    Rows(std::vec::IntoIter<ParsedRow>),
}

/// A row already split by another reader (JSON): its values in column order, the line of the
/// row and of each value, or the problem that made the row unusable.
pub(crate) struct ParsedRow {
    pub(crate) line: u64,
    pub(crate) record: csv::StringRecord,
    pub(crate) field_lines: Vec<u64>,
    pub(crate) problem: Option<InputProblem>,
}

impl<R: Read> Table<R> {
    /// Reads the header and checks that every `required` column is present.
    ///
    /// # Errors
    /// One problem per missing column (line 1), or one for an unreadable header.
    pub fn new(file: &str, source: R, required: &[&str]) -> Result<Self, InputProblems> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(source);
        let headers = reader.headers().map_err(|e| {
            InputProblems(vec![InputProblem::new(file, 1, "", "", format!("cannot read the header: {e}"))])
        })?;
        let header: Vec<(String, u64)> =
            headers.iter().map(|h| (h.trim_start_matches('\u{feff}').to_string(), 1)).collect();
        let columns = check_header(file, &header, required, true)?;
        Ok(Table { file: file.to_string(), source: Source::Csv(reader), columns, header })
    }

    /// A table from rows split elsewhere (JSON). `header` holds the column names in order with
    /// the line where each first appears. A required column may be absent when there are no
    /// rows at all: an empty array is an empty table.
    pub(crate) fn from_rows(
        file: &str,
        header: Vec<(String, u64)>,
        rows: Vec<ParsedRow>,
        required: &[&str],
    ) -> Result<Self, InputProblems> {
        let columns = check_header(file, &header, required, !rows.is_empty())?;
        Ok(Table { file: file.to_string(), source: Source::Rows(rows.into_iter()), columns, header })
    }

    /// True if the header has this column.
    pub fn has_column(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    /// The column names in header order, each with the line where it first appears.
    pub fn header(&self) -> &[(String, u64)] {
        &self.header
    }

    /// The file name.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Reads every row, handing each to `f`. A row that `f` refuses, or that the CSV reader
    /// cannot split, becomes a problem; reading goes on so that every bad row is reported.
    pub fn for_each_row<T>(
        mut self,
        mut f: impl FnMut(&Row<'_>) -> Result<T, InputProblem>,
    ) -> (Vec<(u64, T)>, Vec<InputProblem>) {
        let mut accepted = Vec::new();
        let mut problems = Vec::new();
        let mut record = csv::StringRecord::new();
        let reader = match &mut self.source {
            Source::Csv(reader) => reader,
            Source::Rows(rows) => {
                for parsed in rows {
                    if let Some(problem) = parsed.problem {
                        problems.push(problem);
                        continue;
                    }
                    let row = Row {
                        file: &self.file,
                        line: parsed.line,
                        record: &parsed.record,
                        columns: &self.columns,
                        field_lines: &parsed.field_lines,
                    };
                    match f(&row) {
                        Ok(value) => accepted.push((parsed.line, value)),
                        Err(problem) => problems.push(problem),
                    }
                }
                return (accepted, problems);
            }
        };
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    let row = Row {
                        file: &self.file,
                        line,
                        record: &record,
                        columns: &self.columns,
                        field_lines: &[],
                    };
                    match f(&row) {
                        Ok(value) => accepted.push((line, value)),
                        Err(problem) => problems.push(problem),
                    }
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    problems.push(InputProblem::new(
                        &self.file,
                        line,
                        "",
                        "",
                        format!("malformed CSV row: {e}"),
                    ));
                    if !matches!(
                        e.kind(),
                        csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                    ) {
                        break;
                    }
                }
            }
        }
        (accepted, problems)
    }
}

fn check_header(
    file: &str,
    header: &[(String, u64)],
    required: &[&str],
    check_required: bool,
) -> Result<HashMap<String, usize>, InputProblems> {
    let mut columns = HashMap::with_capacity(header.len());
    let mut problems = Vec::new();
    for (i, (name, line)) in header.iter().enumerate() {
        if columns.insert(name.clone(), i).is_some() {
            problems.push(InputProblem::new(file, *line, name, "", "column appears twice in the header"));
        }
    }
    if check_required {
        problems.extend(
            required
                .iter()
                .filter(|c| !columns.contains_key(**c))
                .map(|c| InputProblem::new(file, 1, *c, "", "required column is missing from the header")),
        );
    }
    if problems.is_empty() { Ok(columns) } else { Err(InputProblems(problems)) }
}

/// One data row of a [`Table`].
pub struct Row<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::StringRecord,
    columns: &'a HashMap<String, usize>,
    /// Line of each value (JSON, where an object spans lines); empty for CSV.
    field_lines: &'a [u64],
}

impl Row<'_> {
    /// 1-based line of the row in its file.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The file name.
    pub fn file(&self) -> &str {
        self.file
    }

    /// A problem with the value in `column`.
    pub fn problem(&self, column: &str, reason: impl Into<String>) -> InputProblem {
        let line =
            self.columns.get(column).and_then(|&i| self.field_lines.get(i)).copied().unwrap_or(self.line);
        InputProblem::new(self.file, line, column, self.raw(column), reason)
    }

    fn raw(&self, column: &str) -> &str {
        self.columns.get(column).and_then(|&i| self.record.get(i)).unwrap_or("")
    }

    /// The text of an optional column: `None` when absent or empty.
    pub fn opt_text(&self, column: &str) -> Option<&str> {
        Some(self.raw(column)).filter(|s| !s.is_empty())
    }

    /// The text of a required column.
    pub fn text(&self, column: &str) -> Result<&str, InputProblem> {
        self.opt_text(column).ok_or_else(|| self.problem(column, "value is required"))
    }

    /// Parses a required value with `FromStr`; `what` names the expected type in the error.
    pub fn parse<T: FromStr>(&self, column: &str, what: &str) -> Result<T, InputProblem> {
        self.text(column)?.parse().map_err(|_| self.problem(column, format!("expected {what}")))
    }

    /// Parses an optional value.
    pub fn opt_parse<T: FromStr>(&self, column: &str, what: &str) -> Result<Option<T>, InputProblem> {
        match self.opt_text(column) {
            None => Ok(None),
            Some(text) => {
                text.parse().map(Some).map_err(|_| self.problem(column, format!("expected {what}")))
            }
        }
    }

    /// A finite number in `range`.
    pub fn number(&self, column: &str, range: std::ops::RangeInclusive<f64>) -> Result<f64, InputProblem> {
        let value: f64 = self.parse(column, "a number")?;
        if !value.is_finite() {
            return Err(self.problem(column, "expected a finite number"));
        }
        if !range.contains(&value) {
            return Err(
                self.problem(column, format!("must be between {} and {}", range.start(), range.end()))
            );
        }
        Ok(value)
    }

    /// A whole number that must not be negative.
    pub fn count(&self, column: &str) -> Result<u32, InputProblem> {
        let text = self.text(column)?;
        if text.starts_with('-') {
            return Err(self.problem(column, "must not be negative"));
        }
        text.parse().map_err(|_| self.problem(column, "expected a whole number from 0 to 4294967295"))
    }

    /// A required whole number from 0 to `max`, refused before anything is sized by it.
    pub fn count_at_most(&self, column: &str, max: u32) -> Result<u32, InputProblem> {
        let text = self.text(column)?;
        if text.starts_with('-') {
            return Err(self.problem(column, "must not be negative"));
        }
        match text.parse::<u64>() {
            Ok(n) if n <= u64::from(max) => Ok(n as u32),
            Ok(_) => Err(self.problem(column, format!("must be at most {max}"))),
            Err(_) => Err(self.problem(column, format!("expected a whole number from 0 to {max}"))),
        }
    }

    /// A required `YYYY-MM-DD` date.
    pub fn date(&self, column: &str) -> Result<Date, InputProblem> {
        Date::parse(self.text(column)?).ok_or_else(|| self.problem(column, "expected a date as YYYY-MM-DD"))
    }

    /// An optional `YYYY-MM-DD` date.
    pub fn opt_date(&self, column: &str) -> Result<Option<Date>, InputProblem> {
        self.opt_text(column)
            .map(|t| Date::parse(t).ok_or_else(|| self.problem(column, "expected a date as YYYY-MM-DD")))
            .transpose()
    }

    /// A yes/no value: `true`/`false`, `1`/`0`, `yes`/`no`, `ja`/`nej`. Empty means `default`.
    pub fn flag(&self, column: &str, default: bool) -> Result<bool, InputProblem> {
        match self.opt_text(column).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes" | "ja") => Ok(true),
            Some("false" | "0" | "no" | "nej") => Ok(false),
            Some(_) => Err(self.problem(column, "expected true or false")),
        }
    }

    /// A `;`-separated list, each item parsed by `item`; empty gives an empty list.
    pub fn list<T>(
        &self,
        column: &str,
        what: &str,
        item: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<T>, InputProblem> {
        let Some(text) = self.opt_text(column) else { return Ok(Vec::new()) };
        let max = crate::model::limits::MAX_LIST_ITEMS;
        if text.split(';').filter(|s| !s.trim().is_empty()).nth(max).is_some() {
            return Err(self.problem(column, format!("more than {max} items")));
        }
        text.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| item(s).ok_or_else(|| self.problem(column, format!("`{s}` is not {what}"))))
            .collect()
    }
}
