//! The data flags every command that reads a data set shares (`--encoding`, `--reference`),
//! `matcher validate` with `--explain`, and the Danish Excel files `matcher batch --excel`
//! writes. Glue only: reading, validating and re-writing CSV are `matcher_core::dataset`'s
//! job; this file turns their answers into lines on a terminal and files in a run directory.

use crate::cli::out::say;
use anyhow::Context;
use matcher_core::Error;
use matcher_core::batch::report::{Report, Slice};
use matcher_core::dataset::{self, Encoding, ReadOptions, excel, explain};
use matcher_core::model::{Dataset, ReferenceData};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How the input files are read: their encoding, and the reference tables they are checked
/// against.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct DataFlags {
    /// Encoding of CSV files without a byte order mark: utf-8 (default) or windows-1252
    /// (Danish Excel's plain "CSV"). A file with a UTF-8 byte order mark is always UTF-8.
    #[arg(long, env = "MATCHER_ENCODING", default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: Encoding,
    /// A directory with target_groups.csv, benefit_kinds.csv and/or synthetic_regions.csv that
    /// replace or extend the embedded tables (new groups and weekly rates without a new
    /// release; synthetic regions for `gen --scale nordic`: data/reference-nordic;
    /// data/README.md).
    #[arg(long, env = "MATCHER_REFERENCE")]
    pub reference: Option<PathBuf>,
}

fn parse_encoding(text: &str) -> Result<Encoding, String> {
    Encoding::parse(text).ok_or_else(|| "expected utf-8 or windows-1252".to_string())
}

impl DataFlags {
    /// The read options of the data files.
    pub fn options(&self) -> ReadOptions {
        ReadOptions { encoding: self.encoding }
    }

    /// The embedded reference data, with `--reference` applied.
    ///
    /// # Errors
    /// Every bad row of the reference directory, one per line, under the directory's name.
    pub fn reference(&self) -> anyhow::Result<ReferenceData> {
        let Some(dir) = &self.reference else {
            return ReferenceData::embedded().context("embedded reference data");
        };
        dataset::load_reference(dir, &self.options()).map_err(|e| match e {
            Error::InvalidData(problems) => {
                let lines: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
                anyhow::anyhow!("reference directory {}:\n{}", dir.display(), lines.join("\n"))
            }
            other => anyhow::Error::from(other),
        })
    }
}

/// Loads a data set. The core's errors already name the path; only bad rows get the data
/// set's path in front, so nothing is said twice.
pub fn load_data(path: &Path, reference: &ReferenceData, flags: &DataFlags) -> anyhow::Result<Dataset> {
    dataset::load_with(path, reference, &flags.options()).map_err(|e| match e {
        Error::InvalidData(_) => anyhow::Error::from(e).context(format!("loading {}", path.display())),
        other => anyhow::Error::from(other),
    })
}

/// Problems shown per kind with `--explain`.
const FIRST_OF_EACH_KIND: usize = 3;

/// `matcher validate [--explain]`: exit code 1 when the data set has bad rows.
pub fn validate(
    path: &Path,
    max_problems: usize,
    explain: bool,
    flags: &DataFlags,
    summary: fn(&Dataset) -> String,
) -> anyhow::Result<ExitCode> {
    let reference = flags.reference()?;
    let started = std::time::Instant::now();
    if explain && path.is_dir() {
        say!("files in {}:", path.display());
        for f in explain::describe_files(path, &flags.options()) {
            let rows = f.rows.map_or_else(String::new, |n| format!(", {n} rows"));
            say!("  {}: {}{rows}", f.file, f.format);
        }
    }
    match dataset::load_with(path, &reference, &flags.options()) {
        Ok(data) => {
            say!("valid: {}", summary(&data));
            if explain {
                print_overview(&explain::overview(&data, &reference));
            }
            eprintln!("checked in {} ms", started.elapsed().as_millis());
            Ok(ExitCode::SUCCESS)
        }
        Err(Error::InvalidData(problems)) => {
            let n = problems.0.len();
            if explain {
                let kinds = explain::problem_kinds(&problems.0, FIRST_OF_EACH_KIND);
                say!("problems by kind ({} kinds):", kinds.len());
                for kind in &kinds {
                    for problem in &kind.first {
                        say!("  {problem}");
                    }
                    if kind.count > kind.first.len() {
                        say!("    … and {} more of this kind", kind.count - kind.first.len());
                    }
                }
            } else {
                let shown = if max_problems == 0 { n } else { n.min(max_problems) };
                for problem in &problems.0[..shown] {
                    say!("{problem}");
                }
                if shown < n {
                    say!("… {} more not listed (--max-problems 0 lists all)", n - shown);
                }
            }
            say!("{n} {} in {}", if n == 1 { "problem" } else { "problems" }, path.display());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

fn print_overview(o: &explain::Overview) {
    let tables: Vec<String> = o.tables.iter().map(|(name, n)| format!("{name} {n}")).collect();
    say!("rows: {}", tables.join(", "));
    say!("by municipality (candidates, offers, places):");
    for (code, (name, c)) in &o.by_municipality {
        say!("  {code} {name}: {}, {}, {}", c.candidates, c.offers, c.places);
    }
    say!("by target group (candidates, offers, places; valid from..to):");
    for (code, (period, c)) in &o.by_group {
        say!("  {code}: {}, {}, {}; {period}", c.candidates, c.offers, c.places);
    }
    let kinds: Vec<String> = o.by_benefit_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    say!("by benefit kind: {}", kinds.join(", "));
    for (label, range) in [
        ("benefit_start", o.benefit_start),
        ("benefit_end", o.benefit_end),
        ("reassessment_date", o.reassessment),
    ] {
        match range {
            Some(r) => say!("{label}: {} to {} ({} values)", r.first, r.last, r.count),
            None => say!("{label}: none"),
        }
    }
}

/// Columns with decimal numbers in the run files, written with a decimal comma for Excel.
const DECIMAL_RUN_COLUMNS: &[&str] = &["distance_km", "match_rate", "effect_dkk", "mean_effect_dkk"];

/// The Danish Excel versions of a run's CSV files (`NAME.excel.csv`) and of the report's
/// overview tables (`overview.excel.csv`, `providers.excel.csv`).
pub fn excel_files(csv_files: &[(&str, &[u8])], report: &Report) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for (name, bytes) in csv_files {
        let stem = name.trim_end_matches(".csv");
        files.push((format!("{stem}.excel.csv"), excel::to_excel_csv(name, bytes, DECIMAL_RUN_COLUMNS)?));
    }
    let mut overview = csv::WriterBuilder::new().from_writer(Vec::new());
    overview.write_record([
        "table",
        "key",
        "name",
        "candidates",
        "matched",
        "match_rate",
        "effect_dkk",
        "mean_effect_dkk",
    ])?;
    let tables: [(&str, &[Slice]); 4] = [
        ("target_group", &report.by_group),
        ("municipality", &report.by_municipality),
        ("age_band", &report.by_age_band),
        ("region", &report.by_region),
    ];
    for (table, slices) in tables {
        for s in slices {
            overview.write_record([
                table.to_string(),
                s.key.clone(),
                s.name.clone(),
                s.candidates.to_string(),
                s.matched.to_string(),
                format!("{:.4}", s.match_rate),
                format!("{:.0}", s.effect_dkk),
                format!("{:.0}", s.mean_effect_dkk),
            ])?;
        }
    }
    let overview = overview.into_inner().context("finishing overview.excel.csv")?;
    files.push((
        "overview.excel.csv".to_string(),
        excel::to_excel_csv("overview.excel.csv", &overview, DECIMAL_RUN_COLUMNS)?,
    ));
    let mut providers = csv::WriterBuilder::new().from_writer(Vec::new());
    providers.write_record(["provider_id", "name", "courses", "places", "spend_dkk"])?;
    for p in &report.providers {
        providers.write_record([
            p.provider.clone(),
            p.name.clone(),
            p.courses.to_string(),
            p.places.to_string(),
            p.spend_dkk.to_string(),
        ])?;
    }
    let providers = providers.into_inner().context("finishing providers.excel.csv")?;
    files.push((
        "providers.excel.csv".to_string(),
        excel::to_excel_csv("providers.excel.csv", &providers, &[])?,
    ));
    Ok(files)
}
