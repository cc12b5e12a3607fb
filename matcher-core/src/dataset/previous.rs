//! Reading a previous run directory (`matcher batch --previous RUN_DIR`): what each candidate
//! was suggested and what each offer looked like, so that tonight's run can compare with it.
//!
//! Reads `proposals.csv` and `prices.csv` through the same [`Table`] reader as every data set
//! table, so a bad value is reported with its file, line, column and value. Columns this module
//! does not know are ignored (a run's files carry many for people); the fingerprint columns
//! are optional, because runs written before they existed must still warm-start a night.
//! Must not: compare, score or decide anything (that is `batch::stability`).

use super::table::{Row, Table};
use crate::error::{Error, InputProblem, InputProblems, Result};
use crate::model::{CandidateId, OfferId};
use std::path::Path;

/// One candidate's row of a previous run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousProposal {
    /// The candidate.
    pub candidate: CandidateId,
    /// The offer suggested, if any.
    pub offer: Option<OfferId>,
    /// Score of the suggested pair, points.
    pub score: Option<i64>,
    /// Fingerprint of the candidate's scored data that night (`candidate_fingerprint`).
    pub fingerprint: Option<u64>,
}

/// One offer's row of a previous run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousOffer {
    /// The offer.
    pub offer: OfferId,
    /// Its dual price, points.
    pub price: i64,
    /// Fingerprint of the offer's data that night (`offer_fingerprint`).
    pub fingerprint: Option<u64>,
}

/// What tonight needs to know of the previous run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreviousRun {
    /// One per candidate of that run, in file order.
    pub proposals: Vec<PreviousProposal>,
    /// One per offer of that run, in file order.
    pub offers: Vec<PreviousOffer>,
}

/// A fingerprint as written in run files: 16 lower-case hex digits.
pub fn fingerprint_text(fingerprint: u64) -> String {
    format!("{fingerprint:016x}")
}

fn fingerprint(r: &Row<'_>, column: &str) -> Result<Option<u64>, InputProblem> {
    match r.opt_text(column) {
        None => Ok(None),
        Some(text) if text.len() == 16 => u64::from_str_radix(text, 16)
            .map(Some)
            .map_err(|_| r.problem(column, "expected 16 hexadecimal digits")),
        Some(_) => Err(r.problem(column, "expected 16 hexadecimal digits")),
    }
}

fn open(path: &Path, required: &[&str]) -> Result<Table<std::fs::File>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Table::new(&path.display().to_string(), file, required).map_err(Error::InvalidData)
}

/// The column of `prices.csv` with an offer's dual value: what one more place there would add
/// to the night's optimum, in score points (not kroner).
pub const PRICE_COLUMN: &str = "value_of_one_more_place_points";

/// Reads `proposals.csv` and `prices.csv` of the run in `dir`.
///
/// # Errors
/// [`Error::Io`] when a file cannot be read; [`Error::InvalidData`] listing every bad row
/// (file, line, column, value).
pub fn load_previous_run(dir: &Path) -> Result<PreviousRun> {
    let mut problems = Vec::new();
    let table = open(&dir.join("proposals.csv"), &["candidate_id", "offer_id"])?;
    let (proposals, bad) = table.for_each_row(|r| {
        let candidate =
            CandidateId::new(r.text("candidate_id")?).map_err(|e| r.problem("candidate_id", e))?;
        let offer = r
            .opt_text("offer_id")
            .map(|t| OfferId::new(t).map_err(|e| r.problem("offer_id", e)))
            .transpose()?;
        let score = r.opt_parse::<i64>("score", "a whole number of points")?;
        Ok(PreviousProposal {
            candidate,
            offer,
            score,
            fingerprint: fingerprint(r, "candidate_fingerprint")?,
        })
    });
    problems.extend(bad);
    // Runs before issue 20 called the dual value `price`; both names read.
    let mut table = open(&dir.join("prices.csv"), &["offer_id"])?;
    let column = if table.has_column(PRICE_COLUMN) { PRICE_COLUMN } else { "price" };
    if !table.has_column(column) {
        table = open(&dir.join("prices.csv"), &["offer_id", PRICE_COLUMN])?;
    }
    let (offers, bad) = table.for_each_row(|r| {
        let offer = OfferId::new(r.text("offer_id")?).map_err(|e| r.problem("offer_id", e))?;
        let price = r.parse::<i64>(column, "a whole number of points")?;
        Ok(PreviousOffer { offer, price, fingerprint: fingerprint(r, "offer_fingerprint")? })
    });
    problems.extend(bad);
    if !problems.is_empty() {
        return Err(Error::InvalidData(InputProblems(problems)));
    }
    Ok(PreviousRun {
        proposals: proposals.into_iter().map(|(_, p)| p).collect(),
        offers: offers.into_iter().map(|(_, o)| o).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(label: &str, proposals: &str, prices: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("brobygger-previous-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("proposals.csv"), proposals).expect("write");
        std::fs::write(dir.join("prices.csv"), prices).expect("write");
        dir
    }

    #[test]
    fn a_run_with_fingerprints_reads_back() {
        let d = dir(
            "ok",
            "candidate_id,offer_id,score,candidate_fingerprint,extra\nc-1,o-1,1200,00000000000000ff,x\nc-2,,,,\n",
            "offer_id,price,offer_fingerprint\no-1,7,0000000000000001\n",
        );
        let run = load_previous_run(&d).expect("reads");
        assert_eq!(run.proposals.len(), 2);
        assert_eq!(run.proposals[0].fingerprint, Some(255));
        assert_eq!(run.proposals[0].score, Some(1200));
        assert_eq!(run.proposals[1].offer, None);
        assert_eq!(run.offers[0].fingerprint, Some(1));
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn an_old_run_without_fingerprints_still_reads() {
        let d = dir("old", "candidate_id,offer_id\nc-1,o-1\n", "offer_id,price\no-1,3\n");
        let run = load_previous_run(&d).expect("reads");
        assert_eq!(run.proposals[0].fingerprint, None);
        assert_eq!(run.offers[0].price, 3);
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn bad_values_name_file_line_column_and_value() {
        let d = dir(
            "bad",
            "candidate_id,offer_id,score,candidate_fingerprint\nc-1,o-1,many,00000000000000ff\nc-2,o-1,3,xyz\n",
            "offer_id,price\no-1,cheap\n",
        );
        let Err(Error::InvalidData(problems)) = load_previous_run(&d) else { panic!("expected bad rows") };
        let text = problems.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(
            text.contains("proposals.csv:2") && text.contains("score") && text.contains("many"),
            "{text}"
        );
        assert!(text.contains("proposals.csv:3") && text.contains("candidate_fingerprint"), "{text}");
        assert!(text.contains("prices.csv:2") && text.contains("cheap"), "{text}");
        let _ = std::fs::remove_dir_all(d);
    }
}
