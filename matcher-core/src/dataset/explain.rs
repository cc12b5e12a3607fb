//! What a data set holds, for an operator who wants to see the shape of the files before a
//! night runs on them (`matcher validate --explain`): how each file was read, counts per table,
//! per municipality, per target group and benefit kind, the date ranges, and the problems
//! grouped by kind (the first few of each, with a count of the rest).
//!
//! Plain data out; the binary prints it. It must not change or judge the data beyond counting.

use super::ReadOptions;
use super::table::Table;
use crate::error::InputProblem;
use crate::model::{Dataset, Date, MunicipalityCode, ReferenceData};
use std::collections::BTreeMap;
use std::path::Path;

/// How one file of a data set directory reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts {
    /// File name.
    pub file: String,
    /// Separator, encoding and byte order mark, e.g. "`;`-separated, UTF-8 with BOM"; or why
    /// the file cannot be read at all.
    pub format: String,
    /// Data rows (lines after the header that split into values), when it could be read.
    pub rows: Option<usize>,
}

/// The files of a data set directory (CSV only; JSON tables are named with their row count
/// left out), in name order.
pub fn describe_files(dir: &Path, options: &ReadOptions) -> Vec<FileFacts> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> =
        entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
        .into_iter()
        .filter(|n| n.ends_with(".csv") || n.ends_with(".json"))
        .map(|file| {
            if file.ends_with(".json") {
                return FileFacts { file, format: "JSON".to_string(), rows: None };
            }
            let bytes = std::fs::read(dir.join(&file)).unwrap_or_default();
            match Table::from_bytes(&file, &bytes, &[], options.encoding) {
                Ok(table) => {
                    let format = table.dialect().describe();
                    let (rows, _) = table.for_each_row(|_| Ok(()));
                    FileFacts { file, format, rows: Some(rows.len()) }
                }
                Err(problems) => {
                    let format =
                        problems.0.first().map_or_else(|| "cannot be read".to_string(), |p| p.reason.clone());
                    FileFacts { file, format, rows: None }
                }
            }
        })
        .collect()
}

/// Counts of one slice of the data set (a municipality, a target group, a benefit kind).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SliceCounts {
    /// Candidates.
    pub candidates: usize,
    /// Offers.
    pub offers: usize,
    /// Places (sum of capacities) of those offers.
    pub places: u64,
}

/// The first and last of a set of dates, and how many there were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// Earliest.
    pub first: Date,
    /// Latest.
    pub last: Date,
    /// Number of values.
    pub count: usize,
}

fn widen(range: &mut Option<DateRange>, date: Date) {
    match range {
        None => *range = Some(DateRange { first: date, last: date, count: 1 }),
        Some(r) => {
            r.first = r.first.min(date);
            r.last = r.last.max(date);
            r.count += 1;
        }
    }
}

/// What a valid data set holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    /// Rows per table: providers, offers, evidence, candidates.
    pub tables: [(&'static str, usize); 4],
    /// Per municipality code, with its name.
    pub by_municipality: BTreeMap<MunicipalityCode, (String, SliceCounts)>,
    /// Per target group code (a candidate or offer in two groups counts in both), with the
    /// group's validity period as `valid_from..valid_to`.
    pub by_group: BTreeMap<String, (String, SliceCounts)>,
    /// Candidates per benefit kind code.
    pub by_benefit_kind: BTreeMap<String, usize>,
    /// `benefit_start` of the candidates.
    pub benefit_start: Option<DateRange>,
    /// `benefit_end` of the candidates that have one.
    pub benefit_end: Option<DateRange>,
    /// `reassessment_date` of the candidates that have one.
    pub reassessment: Option<DateRange>,
}

/// Counts a valid data set.
pub fn overview(data: &Dataset, reference: &ReferenceData) -> Overview {
    let evidence = data.offers.iter().map(|o| o.evidence.len()).sum();
    let mut by_municipality: BTreeMap<MunicipalityCode, (String, SliceCounts)> = BTreeMap::new();
    let mut by_group: BTreeMap<String, (String, SliceCounts)> = BTreeMap::new();
    let mut by_benefit_kind = BTreeMap::new();
    let name =
        |code: MunicipalityCode| reference.municipality(code).map_or_else(String::new, |m| m.name.clone());
    // The code and validity period of each group, by index.
    let groups: Vec<(String, String)> = reference
        .target_groups
        .iter()
        .map(|g| {
            (
                g.code.clone(),
                format!("{}..{}", g.valid_from, g.valid_to.map_or_else(String::new, |d| d.to_string())),
            )
        })
        .collect();
    let (mut start, mut end, mut reassessment) = (None, None, None);
    for c in &data.candidates {
        by_municipality
            .entry(c.municipality)
            .or_insert_with(|| (name(c.municipality), SliceCounts::default()))
            .1
            .candidates += 1;
        for g in c.target_groups.iter() {
            group(&mut by_group, &groups, g).candidates += 1;
        }
        let kind = reference
            .benefit_kinds
            .get(usize::from(c.benefit.kind))
            .map_or_else(|| format!("#{}", c.benefit.kind), |k| k.code.clone());
        *by_benefit_kind.entry(kind).or_insert(0) += 1;
        widen(&mut start, c.benefit.start);
        if let Some(d) = c.benefit.end {
            widen(&mut end, d);
        }
        if let Some(d) = c.benefit.reassessment {
            widen(&mut reassessment, d);
        }
    }
    for o in &data.offers {
        let slice = &mut by_municipality
            .entry(o.municipality)
            .or_insert_with(|| (name(o.municipality), SliceCounts::default()))
            .1;
        slice.offers += 1;
        slice.places += u64::from(o.capacity);
        for g in o.target_groups.iter() {
            let counts = group(&mut by_group, &groups, g);
            counts.offers += 1;
            counts.places += u64::from(o.capacity);
        }
    }
    Overview {
        tables: [
            ("providers", data.providers.len()),
            ("offers", data.offers.len()),
            ("evidence", evidence),
            ("candidates", data.candidates.len()),
        ],
        by_municipality,
        by_group,
        by_benefit_kind,
        benefit_start: start,
        benefit_end: end,
        reassessment,
    }
}

/// The counts of group `g` in `by_group`, added on first use with the group's period.
fn group<'a>(
    by_group: &'a mut BTreeMap<String, (String, SliceCounts)>,
    groups: &[(String, String)],
    g: crate::model::GroupId,
) -> &'a mut SliceCounts {
    let (code, period) =
        groups.get(usize::from(g.0)).cloned().unwrap_or_else(|| (format!("#{}", g.0), String::new()));
    &mut by_group.entry(code).or_insert_with(|| (period, SliceCounts::default())).1
}

/// Problems of one kind: the same file, column and reason (values and numbers aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemKind {
    /// The first problems of this kind, in file order.
    pub first: Vec<InputProblem>,
    /// How many there are in all.
    pub count: usize,
}

/// Groups problems by kind (file, column, and the reason with quoted values and numbers left
/// out), keeping the first `keep` of each, kinds in order of first appearance.
pub fn problem_kinds(problems: &[InputProblem], keep: usize) -> Vec<ProblemKind> {
    let mut order: Vec<ProblemKind> = Vec::new();
    let mut index: std::collections::HashMap<(String, String, String), usize> =
        std::collections::HashMap::new();
    for p in problems {
        let key = (p.file.clone(), p.column.clone(), shape(&p.reason));
        let i = *index.entry(key).or_insert_with(|| {
            order.push(ProblemKind { first: Vec::new(), count: 0 });
            order.len() - 1
        });
        let kind = &mut order[i];
        kind.count += 1;
        if kind.first.len() < keep {
            kind.first.push(p.clone());
        }
    }
    order
}

/// A reason with `quoted` parts and digits removed, so that "`a` is not an id in offers" and
/// "`b` is not an id in offers" are one kind.
fn shape(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut quoted = false;
    for c in reason.chars() {
        match c {
            '`' => {
                quoted = !quoted;
                out.push('`');
            }
            _ if quoted || c.is_ascii_digit() => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_of_one_kind_are_counted_and_the_first_kept() {
        let p = |line, value: &str, reason: &str| {
            InputProblem::new("offers.csv", line, "provider_id", value, reason)
        };
        let problems = vec![
            p(2, "a", "`a` is not an id in providers"),
            p(3, "b", "`b` is not an id in providers"),
            p(4, "c", "`c` is not an id in providers"),
            p(5, "", "value is required"),
        ];
        let kinds = problem_kinds(&problems, 2);
        assert_eq!(kinds.len(), 2);
        assert_eq!((kinds[0].count, kinds[0].first.len(), kinds[0].first[1].line), (3, 2, 3));
        assert_eq!((kinds[1].count, kinds[1].first[0].line), (1, 5));
    }

    #[test]
    fn an_overview_counts_the_demo_by_municipality_and_group() {
        let reference = ReferenceData::embedded().unwrap();
        let data = crate::generate(crate::Scale::Demo, 1, &reference);
        let o = overview(&data, &reference);
        assert_eq!(o.tables[3], ("candidates", data.candidates.len()));
        let candidates: usize = o.by_municipality.values().map(|(_, c)| c.candidates).sum();
        assert_eq!(candidates, data.candidates.len());
        let in_groups: usize = o.by_group.values().map(|(_, c)| c.candidates).sum();
        let memberships: usize = data.candidates.iter().map(|c| c.target_groups.len() as usize).sum();
        assert_eq!(in_groups, memberships);
        let start = o.benefit_start.unwrap();
        assert_eq!(start.count, data.candidates.len());
        assert!(
            data.candidates.iter().all(|c| start.first <= c.benefit.start && c.benefit.start <= start.last)
        );
    }
}
