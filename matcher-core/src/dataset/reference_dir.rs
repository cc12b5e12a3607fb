//! A municipality's reference directory (`--reference DIR`): `target_groups.csv` and
//! `benefit_kinds.csv` that replace or extend the embedded tables, so that new target groups
//! and this year's weekly rates need no new release; and `synthetic_regions.csv`, the invented
//! regions outside Denmark of generated Nordic-scale data (`data/reference-nordic/`).
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
    BENEFIT_KIND_COLUMNS, BENEFIT_KIND_REQUIRED, SYNTHETIC_REGION_COLUMNS, TARGET_GROUP_COLUMNS,
    TARGET_GROUP_REQUIRED, benefit_kind_rows, synthetic_region_rows, target_group_rows,
};
use std::path::Path;

/// The files a reference directory may hold.
pub const REFERENCE_FILES: &[&str] = &["target_groups.csv", "benefit_kinds.csv", "synthetic_regions.csv"];

/// The embedded reference data with the tables of `dir` applied over it.
///
/// # Errors
/// [`Error::Input`] when `dir` is not a directory; [`Error::InvalidData`] listing every bad
/// row, a file that cannot be read, an unknown column, a CSV file other than the three, or a
/// directory that holds none of them; [`Error::Io`] when a file cannot be read.
pub fn load_reference(dir: &Path, options: &ReadOptions) -> Result<ReferenceData> {
    let mut reference = ReferenceData::embedded()?;
    if !dir.is_dir() {
        return Err(Error::Input(InputProblem::new(
            dir.display().to_string(),
            0,
            "",
            "",
            "reference directory does not exist; expected a directory with target_groups.csv, benefit_kinds.csv and/or synthetic_regions.csv",
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
                "not a reference table that can be replaced; a reference directory holds target_groups.csv, benefit_kinds.csv and synthetic_regions.csv (municipalities, postcodes and ISCO-08 groups are embedded)",
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
    let regions = read("synthetic_regions.csv", &SYNTHETIC_REGION_COLUMNS[..5], SYNTHETIC_REGION_COLUMNS)?;
    if !names.iter().any(|n| REFERENCE_FILES.contains(&n.as_str())) {
        problems.push(InputProblem::new(
            dir.display().to_string(),
            0,
            "",
            "",
            "holds none of target_groups.csv, benefit_kinds.csv and synthetic_regions.csv",
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
    let regions = regions.map(|t| {
        let (rows, bad) = synthetic_region_rows(t);
        problems.extend(bad);
        rows
    });
    if problems.is_empty() {
        problems
            .extend(reference.add_synthetic_regions("synthetic_regions.csv", regions.unwrap_or_default()));
    }
    if problems.is_empty() {
        problems.extend(reference.apply_overrides(
            ("target_groups.csv", groups.unwrap_or_default()),
            ("benefit_kinds.csv", kinds.unwrap_or_default()),
        ));
    }
    if problems.is_empty() { Ok(reference) } else { Err(Error::InvalidData(InputProblems(problems))) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{self, BatchOptions};
    use crate::model::{AgeBand, Date, GroupSet, OfferId};
    use crate::policy::PolicySet;
    use crate::score::{Removal, Scorer};
    use std::sync::Arc;

    fn temp_dir(label: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("brobygger-ref-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The 2027 change as a municipality would write it: the young people's group ends on
    /// 2026-12-31, a new group starts on 2027-01-01, and cash benefit gets a new weekly rate.
    fn reference_2027(dir: &Path) -> ReferenceData {
        std::fs::write(
            dir.join("target_groups.csv"),
            "\u{feff}code;name_da;name_en;valid_from;valid_to;min_age;max_age;prior_success_rate;prior_strength\r\n\
             youth_psychosocial;Unge under 30 med psykosociale udfordringer;Young people under 30 with psychosocial needs;2020-01-01;31-12-2026;15;29;0,30;20\r\n\
             youth_2027;Unge under 30 (2027);Young people under 30 (2027);01-01-2027;;15;29;0,35;20\r\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("benefit_kinds.csv"),
            "code,name_da,name_en,weekly_rate_dkk,has_end_date,valid_from,valid_to\n\
             cash_benefit,Kontanthjælp,Cash benefit,2900,false,2024-01-01,2026-12-31\n\
             cash_benefit,Kontanthjælp,Cash benefit,3010,false,2027-01-01,\n",
        )
        .unwrap();
        load_reference(dir, &ReadOptions::default()).unwrap()
    }

    #[test]
    fn a_new_group_with_validity_dates_is_used_by_scoring_and_the_report() {
        let dir = temp_dir("2027");
        let reference = reference_2027(&dir);
        let embedded = ReferenceData::embedded().unwrap();
        let old = reference.group("youth_psychosocial").unwrap();
        let new = reference.group("youth_2027").unwrap();
        assert_eq!(old, embedded.group("youth_psychosocial").unwrap(), "a replaced group keeps its id");
        assert_eq!(usize::from(new.0), embedded.target_groups.len(), "a new group is added at the end");
        let cash = reference.benefit_kind("cash_benefit").unwrap();
        assert_eq!(reference.weekly_rate_on(cash, Date::parse("2026-12-31").unwrap()), 2900);
        assert_eq!(reference.weekly_rate_on(cash, Date::parse("2027-01-01").unwrap()), 3010);

        // A candidate in both groups (the job centre tagged the new group ahead of the change)
        // and an offer for each group, at the candidate's home.
        let mut data = crate::generate(crate::Scale::Demo, 1, &embedded);
        let c = &mut data.candidates[0];
        c.target_groups = GroupSet::EMPTY;
        c.target_groups.insert(old);
        c.target_groups.insert(new);
        c.age_band = AgeBand::From18To24;
        c.current = None;
        c.excluded_offers.clear();
        let home = c.home;
        let mut offers = Vec::new();
        for (id, group) in [("course-old", old), ("course-2027", new)] {
            let mut o = crate::model::Offer::clone(&data.offers[0]);
            o.id = OfferId::new(id).unwrap();
            o.location = home;
            o.serves_municipalities.clear();
            o.capacity = 3;
            o.target_groups = GroupSet::EMPTY;
            o.target_groups.insert(group);
            o.languages.clear();
            o.requires_driving_licence = false;
            o.min_hours = 0;
            offers.push(data.offers.len());
            data.offers.push(std::sync::Arc::new(o));
        }
        let data = Arc::new(data);
        let reference = Arc::new(reference);
        // Validity dates, not money: the course limit is off (these courses avoid few weeks).
        let mut policies = PolicySet::default();
        policies.national.limits.min_course_effect_high_dkk = None;
        let policies = Arc::new(policies);
        let served = |day: &str| -> Vec<bool> {
            let scorer =
                Scorer::new(data.clone(), reference.clone(), policies.clone(), Date::parse(day).unwrap())
                    .unwrap();
            offers
                .iter()
                .map(|&o| match scorer.explain(0, o).unwrap() {
                    Ok(_) => true,
                    Err(Removal::GroupNotServed) => false,
                    Err(other) => panic!("{day}: removed by {other:?}"),
                })
                .collect()
        };
        // The night that spans the change: the last day of the old group, the first of the new.
        assert_eq!(served("2026-12-31"), [true, false]);
        assert_eq!(served("2027-01-01"), [false, true]);

        let options = BatchOptions { today: Date::parse("2027-01-04"), ..BatchOptions::default() };
        let result = batch::run(data.clone(), reference.clone(), policies, &options).unwrap();
        let report = batch::report::build(&data, &reference, &result);
        let slice =
            report.by_group.iter().find(|s| s.key == "youth_2027").expect("the new group is in the report");
        assert_eq!(slice.name, "Young people under 30 (2027)");
        assert!(slice.candidates >= 1, "{slice:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bad_reference_directory_names_file_line_column_and_value() {
        let dir = temp_dir("bad");
        std::fs::write(
            dir.join("benefit_kinds.csv"),
            "code,name_da,name_en,weekly_rate_dkk,has_end_date,valid_from,valid_to\n\
             cash_benefit,K,Cash,2900,false,2024-01-01,2027-06-30\n\
             cash_benefit,K,Cash,3010,false,2027-01-01,\n\
             new_benefit,N,New,12.5,false,2027-01-01,\n",
        )
        .unwrap();
        std::fs::write(dir.join("postcodes.csv"), "postnr\n").unwrap();
        let err = load_reference(&dir, &ReadOptions::default()).unwrap_err();
        let Error::InvalidData(problems) = err else { panic!("{err}") };
        let lines: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "postcodes.csv: not a reference table that can be replaced; a reference directory holds target_groups.csv, benefit_kinds.csv and synthetic_regions.csv (municipalities, postcodes and ISCO-08 groups are embedded)",
                "benefit_kinds.csv:4: column `weekly_rate_dkk` = `12.5`: expected a whole number from 0 to 4294967295",
            ]
        );
        std::fs::remove_file(dir.join("postcodes.csv")).unwrap();
        let text = std::fs::read_to_string(dir.join("benefit_kinds.csv")).unwrap();
        std::fs::write(dir.join("benefit_kinds.csv"), text.replace("12.5", "1250")).unwrap();
        let err = load_reference(&dir, &ReadOptions::default()).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid data: benefit_kinds.csv:3: column `valid_from` = `2027-01-01`: the period overlaps the one of `cash_benefit` on line 2"
        );
        let missing = load_reference(&dir.join("nope"), &ReadOptions::default()).unwrap_err().to_string();
        assert!(missing.ends_with("nope: reference directory does not exist; expected a directory with target_groups.csv, benefit_kinds.csv and/or synthetic_regions.csv"), "{missing}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_nordic_directory_adds_synthetic_regions_and_bad_rows_are_named() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/reference-nordic");
        let r = load_reference(&root, &ReadOptions::default()).unwrap();
        assert_eq!(r.synthetic_regions.len(), 3);
        assert_eq!(r.municipalities.len(), 4 * 98);
        assert_eq!(r.postcodes, ReferenceData::embedded().unwrap().postcodes);
        let tromso_ish = r.municipality(crate::model::MunicipalityCode(3101)).unwrap();
        assert!(tromso_ish.centre.lat > 68.0 && r.accepts(tromso_ish.centre.lat, tromso_ish.centre.lon));
        let dir = temp_dir("nordic-bad");
        std::fs::write(
            dir.join("synthetic_regions.csv"),
            "tile,name,country,lat_shift,lon_centre\n\
             1,syntetisk A,SE,3.5,15.5\n\
             1,syntetisk B,FI,6.5,25.5\n\
             0,syntetisk C,NO,12.5,20\n\
             4,Rigtig kommune,IS,8,-19\n",
        )
        .unwrap();
        let all = |e: Error| match e {
            Error::InvalidData(problems) => {
                problems.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
            }
            other => other.to_string(),
        };
        let text = all(load_reference(&dir, &ReadOptions::default()).unwrap_err());
        assert!(text.contains("synthetic_regions.csv:4: column `tile`"), "{text}");
        assert!(text.contains("synthetic_regions.csv:5: column `name`"), "{text}");
        let dir2 = temp_dir("nordic-twice");
        std::fs::write(
            dir2.join("synthetic_regions.csv"),
            "tile,name,country,lat_shift,lon_centre\n1,syntetisk A,SE,3.5,15.5\n1,syntetisk B,FI,6.5,25.5\n",
        )
        .unwrap();
        let text = all(load_reference(&dir2, &ReadOptions::default()).unwrap_err());
        assert!(
            text.contains("synthetic_regions.csv:3: column `tile`") && text.contains("tile listed twice"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&dir2);
    }
}
