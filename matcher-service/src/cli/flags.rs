//! Flags and value parsers shared by the commands that score, and loading a data set with
//! its path in the error.

use anyhow::Context;
use matcher_core::Scale;
use matcher_core::model::{Dataset, Date, ReferenceData};
use matcher_core::policy::PolicySet;
use std::path::Path;
use std::path::PathBuf;

/// Flags shared by the commands that score.
#[derive(clap::Args)]
pub(crate) struct RunFlags {
    /// Policy file (TOML). Repeat for several; a file with `municipality = CODE` applies there,
    /// one without replaces the national default.
    #[arg(long = "policy")]
    policies: Vec<PathBuf>,
    /// Day the benefit clocks are read against (YYYY-MM-DD); default: today (UTC).
    #[arg(long, value_parser = parse_date)]
    today: Option<Date>,
    /// Worker threads (0 = one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub(crate) threads: usize,
}

impl RunFlags {
    /// The policy set, each municipality's policy checked against `reference`.
    pub(crate) fn policy_set(&self, reference: &ReferenceData) -> anyhow::Result<PolicySet> {
        read_policies_for(&self.policies, reference)
    }

    pub(crate) fn today(&self) -> Date {
        self.today.unwrap_or_else(crate::clock::today_utc)
    }

    pub(crate) fn pool(&self) -> anyhow::Result<rayon::ThreadPool> {
        rayon::ThreadPoolBuilder::new().num_threads(self.threads).build().context("starting worker threads")
    }
}

pub(crate) fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| "expected a date as YYYY-MM-DD".to_string())
}

pub(crate) fn load(
    path: &Path,
    r: &ReferenceData,
    input: &super::validate_explain::DataFlags,
) -> anyhow::Result<Dataset> {
    super::validate_explain::load_data(path, r, input)
}

pub(crate) fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("expected a fraction between 0 and 1, got {text:?}")),
    }
}

pub(crate) fn parse_scale(text: &str) -> Result<Scale, String> {
    Scale::parse(text).ok_or_else(|| "expected demo, municipality, national or nordic".to_string())
}

/// The policy set of `--policy` files (read here; assembled by [`PolicySet::from_files`]),
/// for commands without reference data (the store's oversight and retention).
pub(crate) fn read_policies(paths: &[PathBuf]) -> anyhow::Result<PolicySet> {
    let files = read_policy_files(paths)?;
    Ok(PolicySet::from_files(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))?)
}

/// The policy set of `--policy` files, each `municipality` one that `reference` knows
/// ([`PolicySet::from_files_for`]): a typo must not leave a municipality on the national
/// default without a word.
pub(crate) fn read_policies_for(paths: &[PathBuf], reference: &ReferenceData) -> anyhow::Result<PolicySet> {
    let files = read_policy_files(paths)?;
    Ok(PolicySet::from_files_for(files.iter().map(|(n, t)| (n.as_str(), t.as_str())), reference)?)
}

fn read_policy_files(paths: &[PathBuf]) -> anyhow::Result<Vec<(String, String)>> {
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the policy {}", path.display()))?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}
