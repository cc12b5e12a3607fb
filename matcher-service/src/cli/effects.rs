//! `matcher evaluate` and `matcher history`: glue around `matcher_core::effect`.
//!
//! `evaluate` generates test worlds with a known truth and prints how much of the oracle's
//! avoided benefit weeks the engine reaches (`docs/effects.md`); `history` prints a data
//! set's episode history in the `outcomes` table format. No logic of their own.

use anyhow::Context;
use matcher_core::dataset;
use matcher_core::effect::world::{self, Variant};
use matcher_core::model::ReferenceData;
use matcher_core::policy::{Policy, PolicySet};
use std::path::PathBuf;
use std::sync::Arc;

/// Flags of `matcher evaluate`.
#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// World families: base, scarce, noisy, large, issue, mild (comma-separated).
    #[arg(long, default_value = "base", value_delimiter = ',', value_parser = parse_variant)]
    pub world: Vec<Variant>,
    /// Seeds (comma-separated); each gives another world of the family.
    #[arg(long, default_value = "1", value_delimiter = ',')]
    pub seed: Vec<u64>,
    /// A policy file for the engine instead of the national default.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Generate this many times the family's history (how far more data would take the
    /// estimates; the figures in `docs/effects.md` use 1).
    #[arg(long, default_value_t = 1)]
    pub history_times: usize,
    /// Also write the (first) world's data set, `outcomes.csv` included, to this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn parse_variant(text: &str) -> Result<Variant, String> {
    Variant::parse(text).ok_or_else(|| "expected base, scarce, noisy, large, issue or mild".to_string())
}

/// Runs `matcher evaluate`: one Markdown table row per world, then the means.
pub fn evaluate(args: &EvaluateArgs, reference: ReferenceData) -> anyhow::Result<()> {
    let reference = Arc::new(reference);
    let policy = match &args.policy {
        None => Policy::national_default(),
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Policy::from_toml(&text, &path.display().to_string())?
        }
    };
    let policies = Arc::new(PolicySet { national: policy, municipal: Vec::new() });
    println!(
        "| world | seed | oracle weeks | with outcomes | without | estimated | plain | random | nearest |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut written = false;
    for &variant in &args.world {
        let mut sums = [0.0; 6];
        for &seed in &args.seed {
            let w = world::generate_with_history(variant, seed, &reference, args.history_times)?;
            if let (Some(dir), false) = (&args.out, written) {
                dataset::write_dir(&w.data, &reference, dir)
                    .with_context(|| format!("writing the world to {}", dir.display()))?;
                written = true;
            }
            let e = world::evaluate(&w, reference.clone(), policies.clone(), seed)?;
            let s = e.shares();
            sums.iter_mut().zip(s).for_each(|(a, b)| *a += b);
            println!(
                "| {} | {seed} | {:.0} | {:.1} % | {:.1} % | {:.1} % | {:.1} % | {:.1} % | {:.1} % |",
                variant.label(),
                e.oracle,
                100.0 * s[0],
                100.0 * s[1],
                100.0 * s[2],
                100.0 * s[5],
                100.0 * s[3],
                100.0 * s[4]
            );
        }
        let n = args.seed.len().max(1) as f64;
        println!(
            "| **{} mean** | | | **{:.1} %** | {:.1} % | {:.1} % | {:.1} % | {:.1} % | {:.1} % |",
            variant.label(),
            100.0 * sums[0] / n,
            100.0 * sums[1] / n,
            100.0 * sums[2] / n,
            100.0 * sums[5] / n,
            100.0 * sums[3] / n,
            100.0 * sums[4] / n
        );
    }
    Ok(())
}

/// `matcher history PATH`: the data set's `outcomes` table as CSV.
pub fn history(
    path: &std::path::Path,
    reference: &ReferenceData,
    input: &super::validate_explain::DataFlags,
) -> anyhow::Result<Vec<u8>> {
    let data = super::flags::load(path, reference, input)?;
    Ok(dataset::outcomes_csv(&data, reference)?)
}

/// Writes `bytes` to `out` (a temporary file renamed over it) or to stdout.
pub fn write_out(bytes: &[u8], out: Option<&std::path::Path>) -> anyhow::Result<()> {
    use std::io::Write;
    let Some(out) = out else {
        return std::io::stdout().write_all(bytes).context("writing to stdout");
    };
    let tmp = out.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("renaming {} to {}", tmp.display(), out.display()))
}
