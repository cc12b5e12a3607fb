//! Reading a scenario directory for `matcher compare` (a procurement analysis): the rows that
//! replace or add to a data set, checked against the data set they change.
//!
//! A scenario directory holds up to four tables, each optional, each as `NAME.csv` or
//! `NAME.json`, in the data set's own columns (`data/README.md`): `providers`, `offers`,
//! `contracts` (a row with an id the data set has replaces that row, a new id adds one), and
//! `remove` (`table`, `id`, `reason`: `table` is `offers`, for an offer closed to new
//! candidates, or `contracts`). A contract of the scenario sets the kind of the offers it
//! covers: their own `contract` and `guaranteed_volume` columns are cleared, as an offer under
//! a contract takes its terms from it.
//!
//! Every bad row is named by the scenario file (with the directory), line, column and value;
//! nothing of a bad scenario is used. Owns the reading and the checks that need the data set;
//! applying the scenario is [`crate::batch::scenario::apply`].

use super::ReadOptions;
use super::Seen;
use super::read::{World, contract, offer, open, provider, rows};
use super::{
    CONTRACT_COLUMNS, CONTRACT_REQUIRED, OFFER_COLUMNS, OFFER_REQUIRED, PROVIDER_COLUMNS, PROVIDER_REQUIRED,
};
use crate::batch::scenario::Scenario;
use crate::error::{Error, InputProblem, InputProblems, Result};
use crate::model::{Contract, ContractId, Dataset, Offer, OfferId, ReferenceData};
use std::collections::HashMap;
use std::path::Path;

/// Columns of a scenario's `remove.csv`.
pub const REMOVE_COLUMNS: &[&str] = &["table", "id", "reason"];

/// Columns every row of `remove.csv` must have.
pub const REMOVE_REQUIRED: &[&str] = &["table", "id"];

/// The scenario tables, in reading order.
pub const SCENARIO_TABLES: &[&str] = &["providers", "offers", "contracts", "remove"];

/// Reads the scenario directory `dir` against `base` (see the module documentation).
///
/// # Errors
/// [`Error::InvalidData`] listing every bad row (file as `DIR/NAME.csv`, line, column, value,
/// reason), including a directory with none of the tables; [`Error::Io`] when a file cannot be
/// read; [`Error::Input`] when `dir` is not a directory.
pub fn load_scenario(
    dir: &Path,
    base: &Dataset,
    reference: &ReferenceData,
    options: &ReadOptions,
) -> Result<Scenario> {
    if !dir.is_dir() {
        return Err(Error::Input(InputProblem::new(
            dir.display().to_string(),
            0,
            "",
            "",
            "is not a directory; expected a scenario directory with offers.csv, contracts.csv, providers.csv or remove.csv",
        )));
    }
    let mut problems = Vec::new();
    let enc = options.encoding;
    let mut scenario = Scenario {
        name: dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned()),
        ..Scenario::default()
    };
    let mut found = 0;

    // Providers: the data set's ids are known; the file's own ids must be unique in the file.
    let mut known_providers: Seen = base.providers.iter().map(|p| (p.id.to_string(), 0)).collect();
    if let Some(table) =
        open(dir, "providers", PROVIDER_COLUMNS, PROVIDER_REQUIRED, false, enc, &mut problems)?
    {
        found += 1;
        let mut seen = Seen::default();
        scenario.providers = rows(table, &mut problems, |r| provider(r, reference, &mut seen));
        known_providers.extend(seen);
    }

    // Offers: their providers from the data set or the scenario.
    let mut offer_lines: HashMap<String, u64> = HashMap::new();
    if let Some(table) = open(dir, "offers", OFFER_COLUMNS, OFFER_REQUIRED, false, enc, &mut problems)? {
        found += 1;
        let mut seen = Seen::default();
        scenario.offers =
            rows(table, &mut problems, |r| offer(r, reference, Some(&known_providers), &mut seen));
        offer_lines = seen.into_iter().collect();
    }
    // The offer set as the scenario leaves it (before closures and contracts).
    let mut merged: Vec<Offer> = base.offers.iter().map(|o| Offer::clone(o)).collect();
    for o in &scenario.offers {
        match merged.iter_mut().find(|m| m.id == o.id) {
            Some(m) => *m = o.clone(),
            None => merged.push(o.clone()),
        }
    }
    // A changed offer must keep room for the courses running there.
    let mut locked: HashMap<&str, u32> = HashMap::new();
    for c in &base.candidates {
        if let Some(a) = c.current.as_ref().filter(|a| a.locked) {
            *locked.entry(a.offer.as_str()).or_default() += 1;
        }
    }
    for o in &scenario.offers {
        let running = locked.get(o.id.as_str()).copied().unwrap_or(0);
        if o.capacity < running {
            problems.push(InputProblem::new(
                "offers.csv",
                offer_lines.get(o.id.as_str()).copied().unwrap_or(0),
                "capacity",
                o.capacity.to_string(),
                format!(
                    "{running} candidates are in running courses at {} (locked); a scenario cannot pull them home: keep at least {running} places, or close the offer in remove.csv",
                    o.id
                ),
            ));
        }
    }

    // Removals: an offer or a contract of the data set or the scenario.
    if let Some(table) = open(dir, "remove", REMOVE_COLUMNS, REMOVE_REQUIRED, false, enc, &mut problems)? {
        found += 1;
        let contract_ids: Vec<&str> = base.contracts.iter().map(|c| c.id.as_str()).collect();
        let mut seen = Seen::default();
        let removed = rows(table, &mut problems, |r| {
            let id = r.text("id")?;
            let key = format!("{}\u{0}{id}", r.text("table")?);
            if let Some(first) = seen.get(&key) {
                return Err(r.problem("id", format!("removed twice; first on line {first}")));
            }
            seen.insert(key, r.line());
            match r.text("table")? {
                "offers" => {
                    if !merged.iter().any(|o| o.id.as_str() == id) {
                        return Err(r.problem("id", "no offer with this id in the data set or the scenario"));
                    }
                    let id = OfferId::new(id).map_err(|reason| r.problem("id", reason))?;
                    Ok(Removal::Offer(id))
                }
                "contracts" => {
                    if !contract_ids.contains(&id) {
                        return Err(r.problem("id", "no contract with this id in the data set"));
                    }
                    let id = ContractId::new(id).map_err(|reason| r.problem("id", reason))?;
                    Ok(Removal::Contract(id))
                }
                _ => Err(r.problem("table", "expected offers or contracts")),
            }
        });
        for removal in removed {
            match removal {
                Removal::Offer(id) => scenario.close_offers.push(id),
                Removal::Contract(id) => scenario.remove_contracts.push(id),
            }
        }
    }

    // Contracts: their terms first, then against the offer set as the scenario leaves it, with
    // the covered offers' own contract columns cleared (the contract sets them).
    if let Some(table) =
        open(dir, "contracts", CONTRACT_COLUMNS, CONTRACT_REQUIRED, false, enc, &mut problems)?
    {
        found += 1;
        let file = table.file().to_string();
        let mut seen = Seen::default();
        let (accepted, bad) = table.for_each_row(|r| contract(r, reference, None, &mut seen));
        problems.extend(bad);
        let mut covered: Vec<&OfferId> = accepted.iter().flat_map(|(_, c)| &c.offers).collect();
        covered.sort();
        covered.dedup();
        let mut cleared = Vec::new();
        for o in merged.iter_mut().filter(|o| covered.binary_search(&&o.id).is_ok()) {
            if o.contract.is_some() || o.guaranteed_volume > 0 {
                o.contract = None;
                o.guaranteed_volume = 0;
                cleared.push(o.clone());
            }
        }
        let offer_ids: Seen = merged.iter().map(|o| (o.id.to_string(), 0)).collect();
        let world = World {
            reference,
            providers: Some(&known_providers),
            offers: merged.iter().map(|o| (o.id.as_str(), o)).collect(),
            offer_ids: Some(&offer_ids),
        };
        for (line, c) in &accepted {
            if let Err(problem) = c.validate(&world) {
                problems.push(InputProblem::new(
                    &file,
                    *line,
                    problem.field(),
                    c.id.as_str(),
                    problem.to_string(),
                ));
            }
        }
        // Overlaps with the data set's contracts the scenario keeps, and among its own.
        let kept: Vec<Contract> = base
            .contracts
            .iter()
            .filter(|c| {
                !scenario.remove_contracts.contains(&c.id) && !accepted.iter().any(|(_, s)| s.id == c.id)
            })
            .cloned()
            .collect();
        let n_kept = kept.len();
        let mut all = kept;
        all.extend(accepted.iter().map(|(_, c)| c.clone()));
        for (i, problem) in crate::model::contract::check_overlaps(&all) {
            if i >= n_kept {
                let (line, c) = &accepted[i - n_kept];
                let reason = format!(
                    "{problem}; remove the other contract in remove.csv, or end it before this starts"
                );
                problems.push(InputProblem::new(&file, *line, problem.field(), c.id.as_str(), reason));
            }
        }
        for o in cleared {
            match scenario.offers.iter_mut().find(|s| s.id == o.id) {
                Some(s) => *s = o,
                None => scenario.offers.push(o),
            }
        }
        scenario.contracts = accepted.into_iter().map(|(_, c)| c).collect();
    }

    if found == 0 && problems.is_empty() {
        problems.push(InputProblem::new(
            dir.display().to_string(),
            0,
            "",
            "",
            format!(
                "no scenario table; expected one or more of {}",
                SCENARIO_TABLES.iter().map(|t| format!("{t}.csv")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    if !problems.is_empty() {
        for p in &mut problems {
            if !p.file.starts_with(&*dir.display().to_string()) {
                p.file = dir.join(&p.file).display().to_string();
            }
        }
        return Err(Error::InvalidData(InputProblems(problems)));
    }
    Ok(scenario)
}

/// One row of `remove.csv`.
enum Removal {
    Offer(OfferId),
    Contract(ContractId),
}
