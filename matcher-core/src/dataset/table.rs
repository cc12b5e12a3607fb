//! A table with named columns and typed getters that report the exact place of a bad value
//! (file, line, column, value). Every CSV reader in the crate goes through it, and so do JSON
//! tables (an array of objects), which the `json` module turns into the same rows so that one set
//! of getters and messages serves both formats.
//!
//! A CSV file from bytes ([`Table::from_bytes`]) goes through [`super::encoding`] first and
//! then gets its [`Dialect`] from the header line: `,` (the default), or `;` / tab, which is
//! what Danish Excel writes; in those two a decimal comma (`57,01027`) and a Danish date
//! (`30-01-2026`) are read as well. One message per file says what is wrong with a file as a
//! whole (empty, not UTF-8, one column that looks like another separator) instead of one per
//! column or row.

use super::encoding::{self, Encoding};
use crate::FastMap;
use crate::error::{InputProblem, InputProblems};
use crate::model::Date;
use std::io::Read;
use std::str::FromStr;

/// An open table: the header has been read and the required columns checked.
pub struct Table<R: Read> {
    file: String,
    source: Source<R>,
    columns: FastMap<String, usize>,
    /// Column names in header order with the line where each first appears (1 for CSV).
    header: Vec<(String, u64)>,
    dialect: Dialect,
}

/// How the values of a CSV file are separated and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The field separator: `,`, `;` or tab.
    pub delimiter: u8,
    /// The file was read as [`Encoding`] (JSON and in-memory tables: UTF-8).
    pub encoding: Encoding,
    /// The file started with a UTF-8 byte order mark.
    pub bom: bool,
}

impl Dialect {
    /// Plain CSV: `,`, UTF-8, no byte order mark.
    pub const PLAIN: Dialect = Dialect { delimiter: b',', encoding: Encoding::Utf8, bom: false };

    /// Danish Excel's CSV: `;`-separated (or tab), so that `,` can be the decimal separator;
    /// dates may be written `DD-MM-YYYY`.
    pub fn danish(self) -> bool {
        self.delimiter != b','
    }

    /// A short description for an operator, e.g. "`;`-separated, UTF-8 with BOM".
    pub fn describe(self) -> String {
        let separator = match self.delimiter {
            b';' => "`;`-separated (Danish Excel: decimal comma read)",
            b'\t' => "tab-separated (decimal comma read)",
            _ => "`,`-separated",
        };
        let bom = if self.bom { " with BOM" } else { "" };
        format!("{separator}, {}{bom}", self.encoding.label())
    }
}

/// The separator of a CSV file from its header line: the most frequent of `,`, `;` and tab
/// outside quotes (`,` on a tie or when there is none).
pub fn sniff_delimiter(text: &str) -> u8 {
    let line = text.lines().next().unwrap_or("");
    let (mut quoted, mut counts) = (false, [0usize; 3]);
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    if counts[1] > counts[0] && counts[1] >= counts[2] {
        b';'
    } else if counts[2] > counts[0] && counts[2] > counts[1] {
        b'\t'
    } else {
        b','
    }
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
        Ok(Table {
            file: file.to_string(),
            source: Source::Csv(reader),
            columns,
            header,
            dialect: Dialect::PLAIN,
        })
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
        Ok(Table {
            file: file.to_string(),
            source: Source::Rows(rows.into_iter()),
            columns,
            header,
            dialect: Dialect::PLAIN,
        })
    }

    /// How the file was read.
    pub fn dialect(&self) -> Dialect {
        self.dialect
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
                        dialect: self.dialect,
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
                        dialect: self.dialect,
                    };
                    match f(&row) {
                        Ok(value) => accepted.push((line, value)),
                        Err(problem) => problems.push(problem),
                    }
                }
                Err(e) => {
                    let (problem, go_on) = csv_problem(&self.file, self.dialect, &e);
                    problems.push(problem);
                    if !go_on {
                        break;
                    }
                }
            }
        }
        (accepted, problems)
    }

    /// As [`Table::for_each_row`], with the work per row shared out over rayon's threads: `parse`
    /// sees each row on its own, in any order and on any thread; `settle` then gets each row
    /// with its parse in line order and makes the checks that depend on earlier rows (a
    /// repeated id, places held). Problems come in the order `for_each_row` gives. Rows are
    /// read a batch at a time, so only one batch's records are held at once.
    pub fn for_each_row_split<P: Send, T>(
        self,
        parse: impl Fn(&Row<'_>) -> P + Sync,
        mut settle: impl FnMut(&Row<'_>, P) -> Result<T, InputProblem>,
    ) -> (Vec<(u64, T)>, Vec<InputProblem>) {
        use rayon::prelude::*;
        // Large enough that the threads' hand-over is rare, small enough that a batch's
        // records stay in cache and in little memory.
        const BATCH: usize = 2048;
        let Table { file, source, columns, dialect, .. } = self;
        let mut reader = match source {
            Source::Csv(reader) => reader,
            source @ Source::Rows(_) => {
                let table = Table { file, source, columns, header: Vec::new(), dialect };
                return table.for_each_row(|r| settle(r, parse(r)));
            }
        };
        // A function, not a closure: each call borrows its record only for that call.
        fn row<'a>(
            file: &'a str,
            columns: &'a FastMap<String, usize>,
            dialect: Dialect,
            line: u64,
            record: &'a csv::StringRecord,
        ) -> Row<'a> {
            Row { file, line, record, columns, field_lines: &[], dialect }
        }
        let (mut accepted, mut problems) = (Vec::new(), Vec::new());
        let mut records: Vec<csv::StringRecord> = Vec::new();
        // Per slot of a batch: the line and record index of a row, or the problem of a row the
        // CSV reader could not split.
        let mut slots: Vec<Result<(u64, usize), InputProblem>> = Vec::with_capacity(BATCH);
        let mut more = true;
        while more {
            slots.clear();
            let mut used = 0;
            while slots.len() < BATCH {
                if records.len() == used {
                    records.push(csv::StringRecord::new());
                }
                match reader.read_record(&mut records[used]) {
                    Ok(false) => {
                        more = false;
                        break;
                    }
                    Ok(true) => {
                        let line = records[used].position().map_or(0, |p| p.line());
                        slots.push(Ok((line, used)));
                        used += 1;
                    }
                    Err(e) => {
                        let (problem, go_on) = csv_problem(&file, dialect, &e);
                        slots.push(Err(problem));
                        if !go_on {
                            more = false;
                            break;
                        }
                    }
                }
            }
            let parsed: Vec<P> = slots
                .par_iter()
                .filter_map(|slot| slot.as_ref().ok())
                .map(|&(line, k)| parse(&row(&file, &columns, dialect, line, &records[k])))
                .collect();
            let mut parsed = parsed.into_iter();
            for slot in slots.drain(..) {
                match slot {
                    Err(problem) => problems.push(problem),
                    Ok((line, k)) => {
                        // One parse per row slot, made above in the same order.
                        let Some(p) = parsed.next() else { break };
                        match settle(&row(&file, &columns, dialect, line, &records[k]), p) {
                            Ok(value) => accepted.push((line, value)),
                            Err(problem) => problems.push(problem),
                        }
                    }
                }
            }
        }
        (accepted, problems)
    }
}

impl Table<std::io::Cursor<Vec<u8>>> {
    /// Opens a CSV file from its bytes: decodes them as `encoding` says (a UTF-8 byte order
    /// mark is dropped), finds the separator from the header line, reads the header and checks
    /// the `required` columns.
    ///
    /// # Errors
    /// One problem for the whole file when it is not in the encoding, is empty, or has a header
    /// of one column that is separated by something else; otherwise one per missing column.
    pub fn from_bytes(
        file: &str,
        bytes: &[u8],
        required: &[&str],
        encoding: Encoding,
    ) -> Result<Self, InputProblems> {
        let one =
            |line: u64, reason: String| InputProblems(vec![InputProblem::new(file, line, "", "", reason)]);
        let decoded = encoding::decode(file, bytes, encoding).map_err(|p| InputProblems(vec![p]))?;
        if decoded.text.trim().is_empty() {
            let what = if decoded.text.is_empty() { "file is empty" } else { "file holds only blank lines" };
            let columns =
                if required.is_empty() { String::new() } else { format!(": {}", required.join(", ")) };
            return Err(one(0, format!("{what}; expected a header line with the columns{columns}")));
        }
        let delimiter = sniff_delimiter(&decoded.text);
        let dialect = Dialect { delimiter, encoding: decoded.encoding, bom: decoded.bom };
        // Excel ends lines with CRLF, and the csv crate (1.3) then counts record lines one
        // short; with LF the line of every message is that of the file.
        // Only line ends are changed: a CRLF inside a quoted value is data and stays.
        let text = if decoded.text.contains('\r') { line_ends_to_lf(&decoded.text) } else { decoded.text };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(std::io::Cursor::new(text.into_bytes()));
        let headers = reader.headers().map_err(|e| one(1, format!("cannot read the header: {e}")))?;
        let header: Vec<(String, u64)> = headers.iter().map(|h| (h.to_string(), 1)).collect();
        if let [(only, _)] = header.as_slice()
            && required.len() > 1
            && let Some(other) = only.chars().find(|c| !(c.is_alphanumeric() || *c == '_' || *c == ' '))
        {
            return Err(InputProblems(vec![InputProblem::new(
                file,
                1,
                "",
                only,
                format!(
                    "the header is one column, separated by `{other}`; columns must be separated by `,`, `;` or a tab"
                ),
            )]));
        }
        let columns = check_header(file, &header, required, true)?;
        Ok(Table { file: file.to_string(), source: Source::Csv(reader), columns, header, dialect })
    }
}

fn check_header(
    file: &str,
    header: &[(String, u64)],
    required: &[&str],
    check_required: bool,
) -> Result<FastMap<String, usize>, InputProblems> {
    let mut columns = FastMap::with_capacity_and_hasher(header.len(), Default::default());
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

/// The problem of a row the CSV reader could not split, and whether reading can go on after
/// it (a row of the wrong length or with bytes that are not text: yes; anything else: no).
fn csv_problem(file: &str, dialect: Dialect, e: &csv::Error) -> (InputProblem, bool) {
    let line = e.position().map_or(0, |p| p.line());
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            let hint = if *len > *expected_len && dialect.delimiter == b',' {
                "; a comma inside a value (a decimal comma such as 57,01027?) splits it: quote the value, use a decimal point, or save the file `;`-separated"
            } else {
                ""
            };
            format!("row has {len} values, the header has {expected_len} columns{hint}")
        }
        _ => format!("malformed CSV row: {e}"),
    };
    let go_on = matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. });
    (InputProblem::new(file, line, "", "", reason), go_on)
}

/// One data row of a [`Table`].
pub struct Row<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::StringRecord,
    columns: &'a FastMap<String, usize>,
    /// Line of each value (JSON, where an object spans lines); empty for CSV.
    field_lines: &'a [u64],
    dialect: Dialect,
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

    /// The value in `column` as written (trimmed), empty when absent.
    pub(crate) fn raw(&self, column: &str) -> &str {
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

    /// Parses a required decimal number. In a `;`- or tab-separated file (Danish Excel) a
    /// decimal comma is read; in a `,`-separated one it is refused with the reason, since there
    /// the comma separates values.
    pub fn decimal<T: FromStr>(&self, column: &str) -> Result<T, InputProblem> {
        let text = self.text(column)?;
        if let Ok(value) = text.parse() {
            return Ok(value);
        }
        if !text.contains(',') {
            return Err(self.problem(column, "expected a number"));
        }
        if !self.dialect.danish() {
            return Err(self.problem(
                column,
                "decimal comma in a `,`-separated file; write a decimal point (57.01027), or save the file `;`-separated as Danish Excel does",
            ));
        }
        if text.contains('.') || text.matches(',').count() > 1 {
            return Err(self.problem(column, "expected a number without thousands separators, e.g. 57,01027"));
        }
        text.replace(',', ".").parse().map_err(|_| self.problem(column, "expected a number"))
    }

    /// A finite number in `range`.
    pub fn number(&self, column: &str, range: std::ops::RangeInclusive<f64>) -> Result<f64, InputProblem> {
        let value: f64 = self.decimal(column)?;
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

    /// A required `YYYY-MM-DD` date (in a Danish Excel file also `DD-MM-YYYY` or
    /// `DD.MM.YYYY`). A well-formed date that does not exist (2026-02-30) is called that.
    pub fn date(&self, column: &str) -> Result<Date, InputProblem> {
        self.date_of(column, self.text(column)?)
    }

    /// An optional date, as [`Row::date`].
    pub fn opt_date(&self, column: &str) -> Result<Option<Date>, InputProblem> {
        self.opt_text(column).map(|t| self.date_of(column, t)).transpose()
    }

    fn date_of(&self, column: &str, text: &str) -> Result<Date, InputProblem> {
        if let Some(date) = Date::parse(text) {
            return Ok(date);
        }
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let parts: Vec<&str> = text.split(['-', '.']).collect();
        let (year, month, day) = match parts.as_slice() {
            [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 && text.as_bytes()[4] == b'-' => {
                (y, m, d)
            }
            [d, m, y] if self.dialect.danish() && y.len() == 4 && m.len() <= 2 && d.len() <= 2 => (y, m, d),
            _ => {
                let formats = if self.dialect.danish() { "YYYY-MM-DD or DD-MM-YYYY" } else { "YYYY-MM-DD" };
                return Err(self.problem(column, format!("expected a date as {formats}")));
            }
        };
        if ![year, month, day].iter().all(|s| digits(s)) {
            return Err(self.problem(column, "expected a date as YYYY-MM-DD"));
        }
        let (y, m, d) = (year.parse::<i32>(), month.parse::<u32>(), day.parse::<u32>());
        let (Ok(y), Ok(m), Ok(d)) = (y, m, d) else {
            return Err(self.problem(column, "expected a date as YYYY-MM-DD"));
        };
        Date::from_ymd(y, m, d)
            .ok_or_else(|| self.problem(column, format!("not a date that exists: {}", why_not(y, m))))
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

/// Why a day of `year`-`month` does not exist (the day is out of range or the month is).
fn why_not(year: i32, month: u32) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match MONTHS.get((month as usize).wrapping_sub(1)) {
        None => format!("there is no month {month}"),
        Some(name) => {
            let days = (28..=31).rev().find(|&d| Date::from_ymd(year, month, d).is_some()).unwrap_or(28);
            format!("{name} {year} has {days} days")
        }
    }
}

/// Turns CRLF line ends into LF outside quoted values (a `""` inside quotes toggles twice, so
/// the quote state stays right).
fn line_ends_to_lf(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == '\r' && !quoted && chars.peek() == Some(&'\n') {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_inside_a_quoted_value_is_kept_and_line_ends_become_lf() {
        assert_eq!(line_ends_to_lf("a,b\r\n\"x\r\ny\",2\r\n"), "a,b\n\"x\r\ny\",2\n");
        assert_eq!(line_ends_to_lf("a\r\n\"q\"\"\r\n\"\r\n"), "a\n\"q\"\"\r\n\"\n");
    }

    fn read(
        bytes: &[u8],
        column: &str,
        f: fn(&Row<'_>, &str) -> Result<String, InputProblem>,
    ) -> Vec<String> {
        let table =
            Table::from_bytes("t.csv", bytes, &["id"], Encoding::Utf8).map_err(|p| p.to_string()).unwrap();
        let (ok, bad) = table.for_each_row(|r| f(r, column));
        ok.into_iter().map(|(_, v)| v).chain(bad.into_iter().map(|p| p.to_string())).collect()
    }

    /// The split reader gives what the one-by-one reader gives, over several batches: the same
    /// rows accepted with their lines, the same problems in the same order, rows the CSV reader
    /// cannot split (a short row, a quoted value across lines) included, and checks against
    /// earlier rows (a repeated id) made in line order.
    #[test]
    fn the_split_reader_reads_as_the_one_by_one_reader() {
        let mut text = String::from("id,n\n");
        for k in 0..7000u32 {
            match k % 997 {
                5 => text.push_str("short\n"),
                6 => text.push_str(&format!("\"q{k}\nacross\",1\n")),
                7 => text.push_str(&format!("x{k},not a number\n")),
                8 => text.push_str(&format!("x{},{k}\n", k - 8)),
                _ => text.push_str(&format!("x{k},{k}\n")),
            }
        }
        let parse = |r: &Row<'_>| (r.raw("id").to_string(), r.parse::<u32>("n", "a whole number"));
        let settle = |seen: &mut std::collections::HashMap<String, u64>,
                      r: &Row<'_>,
                      (id, n): (String, Result<u32, InputProblem>)| {
            if let Some(first) = seen.get(&id) {
                return Err(r.problem("id", format!("duplicate of line {first}")));
            }
            seen.insert(id, r.line());
            n
        };
        let table = || Table::from_bytes("t.csv", text.as_bytes(), &["id"], Encoding::Utf8).unwrap();
        let mut seen = std::collections::HashMap::new();
        let one_by_one = table().for_each_row(|r| settle(&mut seen, r, parse(r)));
        let mut seen = std::collections::HashMap::new();
        let split = table().for_each_row_split(parse, |r, p| settle(&mut seen, r, p));
        assert_eq!(split.0, one_by_one.0);
        assert_eq!(split.1, one_by_one.1);
        let reasons: Vec<String> = split.1.iter().map(ToString::to_string).collect();
        assert_eq!(split.0.len() + split.1.len(), 7000, "{reasons:?}");
        assert!(reasons.iter().any(|p| p.contains("duplicate of line")), "{reasons:?}");
        assert!(reasons.iter().any(|p| p.contains("row has 1 values")), "{reasons:?}");
        assert!(reasons.iter().any(|p| p.contains("a whole number")), "{reasons:?}");
        assert!(split.0.iter().any(|(line, _)| *line > 6000), "the last batch is read");
    }

    #[test]
    fn danish_excel_csv_reads_decimal_commas_and_danish_dates() {
        let text =
            "\u{feff}id;lat;d\r\n1;57,01027;30-01-2026\r\n2;57.5;2026-01-31\r\n3;1.057,5;31.12.2026\r\n";
        let number = |r: &Row<'_>, c: &str| r.decimal::<f64>(c).map(|v| v.to_string());
        assert_eq!(
            read(text.as_bytes(), "lat", number),
            [
                "57.01027",
                "57.5",
                "t.csv:4: column `lat` = `1.057,5`: expected a number without thousands separators, e.g. 57,01027"
            ]
        );
        let date = |r: &Row<'_>, c: &str| r.date(c).map(|d| d.to_string());
        assert_eq!(read(text.as_bytes(), "d", date), ["2026-01-30", "2026-01-31", "2026-12-31"]);
        let table = Table::from_bytes("t.csv", text.as_bytes(), &["id"], Encoding::Utf8).ok().unwrap();
        assert_eq!(
            table.dialect().describe(),
            "`;`-separated (Danish Excel: decimal comma read), UTF-8 with BOM"
        );
        let tabs = "id\tlat\n1\t55,5\n";
        assert_eq!(read(tabs.as_bytes(), "lat", number), ["55.5"]);
    }

    #[test]
    fn a_comma_file_refuses_decimal_commas_and_danish_dates_with_the_reason() {
        let text = "id,lat,d\n1,\"57,01\",30-01-2026\n2,57.1,2026-02-30\n3,57.1,2026-13-01\n";
        let number = |r: &Row<'_>, c: &str| r.decimal::<f64>(c).map(|v| v.to_string());
        assert_eq!(
            read(text.as_bytes(), "lat", number),
            [
                "57.1",
                "57.1",
                "t.csv:2: column `lat` = `57,01`: decimal comma in a `,`-separated file; write a decimal point (57.01027), or save the file `;`-separated as Danish Excel does"
            ]
        );
        let date = |r: &Row<'_>, c: &str| r.date(c).map(|d| d.to_string());
        assert_eq!(
            read(text.as_bytes(), "d", date),
            [
                "t.csv:2: column `d` = `30-01-2026`: expected a date as YYYY-MM-DD",
                "t.csv:3: column `d` = `2026-02-30`: not a date that exists: February 2026 has 28 days",
                "t.csv:4: column `d` = `2026-13-01`: not a date that exists: there is no month 13",
            ]
        );
        let split = "id,lat\n1,57,01\n";
        let text = |r: &Row<'_>, c: &str| r.text(c).map(str::to_string);
        assert_eq!(
            read(split.as_bytes(), "lat", text),
            [
                "t.csv:2: row has 3 values, the header has 2 columns; a comma inside a value (a decimal comma such as 57,01027?) splits it: quote the value, use a decimal point, or save the file `;`-separated"
            ]
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_is_one_message() {
        let open = |bytes: &[u8]| {
            Table::from_bytes("c.csv", bytes, &["id", "name"], Encoding::Utf8).err().map(|p| p.to_string())
        };
        assert_eq!(
            open(b"").as_deref(),
            Some("c.csv: file is empty; expected a header line with the columns: id, name")
        );
        assert_eq!(
            open(b"\xEF\xBB\xBF\r\n\r\n").as_deref(),
            Some("c.csv: file holds only blank lines; expected a header line with the columns: id, name")
        );
        assert_eq!(
            open(b"id|name\n1|a\n").as_deref(),
            Some(
                "c.csv:1 = `id|name`: the header is one column, separated by `|`; columns must be separated by `,`, `;` or a tab"
            )
        );
        assert_eq!(open(b"id;name\n1;a\n"), None);
    }
}
