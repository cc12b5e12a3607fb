//! Reference data: municipalities, postcodes, the ISCO-08 hierarchy, target groups and
//! benefit kinds. Groups and benefit kinds are data with validity dates, not enums, because
//! the law changes them (13 target groups today, 5 planned from 2027).
//!
//! The files under `data/reference/` are embedded in the binary, so a fresh machine needs no
//! set-up; [`ReferenceData::from_texts`] reads replacements of the same shape.

use super::{Date, GroupId, LatLon, MunicipalityCode, Occupation};
use crate::dataset::table::Table;
use crate::error::{Error, InputProblem, InputProblems, Result};
use serde::{Deserialize, Serialize};

/// One of the 98 municipalities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Municipality {
    /// Official code.
    pub code: MunicipalityCode,
    /// Short name, e.g. "København".
    pub name: String,
    /// Region code (1081–1085).
    pub region_code: u16,
    /// Region name.
    pub region: String,
    /// Population (Eurostat LAU 2020).
    pub population: u32,
    /// Area in km² (Eurostat LAU 2020); with the population it tells urban from rural.
    pub area_km2: f64,
    /// Mean of the municipality's postcode points (a stand-in for its centre).
    pub centre: LatLon,
}

/// A Danish postcode with a place point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Postcode {
    /// Postcode (postnummer).
    pub code: u16,
    /// Town name.
    pub town: String,
    /// Primary municipality.
    pub municipality: MunicipalityCode,
    /// Place point.
    pub location: LatLon,
    /// Codes below 1000 are non-geographic (PO boxes, bulk mail); never used for distances.
    pub special: bool,
}

/// A target group, as defined by law for a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroup {
    /// Code used in data files, e.g. `youth_psychosocial`.
    pub code: String,
    /// Danish name.
    pub name_da: String,
    /// English name.
    pub name_en: String,
    /// First day the group exists.
    pub valid_from: Date,
    /// Last day, if the group has been abolished or replaced.
    pub valid_to: Option<Date>,
    /// Youngest age of programme eligibility, if any.
    pub min_age: Option<u8>,
    /// Oldest age of programme eligibility, if any.
    pub max_age: Option<u8>,
    /// Prior mean success rate of offers for this group (the shrinkage target).
    pub prior_success_rate: f64,
    /// Weight of the prior, in pseudo-trials.
    pub prior_strength: f64,
}

/// A kind of benefit and its weekly rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenefitKind {
    /// Code used in data files, e.g. `sickness_benefit`.
    pub code: String,
    /// Danish name.
    pub name_da: String,
    /// English name.
    pub name_en: String,
    /// Weekly rate in DKK (used for expected effects).
    pub weekly_rate_dkk: u32,
    /// The benefit has a legal end date.
    pub has_end_date: bool,
    /// First day of validity.
    pub valid_from: Date,
    /// Last day of validity.
    pub valid_to: Option<Date>,
}

/// One ISCO-08 group with its titles: English from ESCO (every group), Danish from DISCO-08
/// where Danmarks Statistik has the code (14 ISCO-08 codes have no Danish title).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OccupationTitle {
    /// The group.
    pub code: Occupation,
    /// English title (ESCO v1.1.1).
    pub title_en: String,
    /// Danish title (DISCO-08, Danmarks Statistik), if the code is in DISCO-08.
    pub title_da: Option<String>,
}

impl OccupationTitle {
    /// The Danish title, falling back to the English one.
    pub fn title_da_or_en(&self) -> &str {
        self.title_da.as_deref().unwrap_or(&self.title_en)
    }
}

/// All reference tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceData {
    /// Municipalities, sorted by code.
    pub municipalities: Vec<Municipality>,
    /// Postcodes, sorted by code.
    pub postcodes: Vec<Postcode>,
    /// ISCO-08 groups at every level with their English and Danish titles, sorted by code.
    pub occupations: Vec<OccupationTitle>,
    /// Target groups; a [`GroupId`] is an index into this list.
    pub target_groups: Vec<TargetGroup>,
    /// Benefit kinds; [`crate::model::Benefit::kind`] is an index into this list.
    pub benefit_kinds: Vec<BenefitKind>,
    /// Synthetic regions outside Denmark (generated test data at Nordic scale only; empty in
    /// the embedded tables): each adds a copy of the Danish municipalities, moved, to
    /// [`ReferenceData::municipalities`]. Left out of the serialised form when empty, so the
    /// reference data's hash is unchanged without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synthetic_regions: Vec<SyntheticRegion>,
}

/// A synthetic region: the geography of Denmark's 98 municipalities, moved north by
/// `lat_shift` degrees and centred on `lon_centre`, with every point's east-west offset from
/// Denmark's middle stretched by `cos(lat) / cos(lat + lat_shift)`, so distances in km (and
/// therefore densities, travel circles and the graph's shape) stay those of Denmark.
///
/// Invented, for load tests of the Nordic countries' scale (`matcher gen --scale nordic`);
/// never real municipalities. Its municipality codes are `1000 × tile + the Danish code`
/// (e.g. 1751 is tile 1's copy of Aarhus, 751), its region codes `1000 × tile + the Danish
/// region code` (2081–2085 for tile 1): both at or above 1000, where no Danish code is, and
/// names say "syntetisk".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticRegion {
    /// 1 to 9; the thousands digit of its municipality codes.
    pub tile: u8,
    /// Name, e.g. "syntetisk Midtsverige".
    pub name: String,
    /// The country it stands in for (ISO 3166 alpha-2, e.g. SE), for the reader only.
    pub country: String,
    /// Degrees added to every latitude.
    pub lat_shift: f64,
    /// The longitude Denmark's middle ([`SyntheticRegion::DENMARK_MIDDLE_LON`]) moves to.
    pub lon_centre: f64,
}

impl SyntheticRegion {
    /// The middle of the Denmark box's longitudes.
    pub const DENMARK_MIDDLE_LON: f64 = (crate::geo::LON_MIN + crate::geo::LON_MAX) / 2.0;

    /// Where a Danish point lies in this region.
    pub fn place(&self, point: LatLon) -> LatLon {
        let lat = point.lat + self.lat_shift;
        let stretch = point.lat.to_radians().cos() / lat.to_radians().cos();
        LatLon { lat, lon: self.lon_centre + (point.lon - Self::DENMARK_MIDDLE_LON) * stretch }
    }

    /// The region's box: the Denmark box's corners, placed (the stretch is monotone in
    /// latitude, so the corners bound every placed point).
    pub fn bounds(&self) -> (std::ops::RangeInclusive<f64>, std::ops::RangeInclusive<f64>) {
        use crate::geo::{LAT_MAX, LAT_MIN, LON_MAX, LON_MIN};
        let corners = [(LAT_MIN, LON_MIN), (LAT_MIN, LON_MAX), (LAT_MAX, LON_MIN), (LAT_MAX, LON_MAX)]
            .map(|(lat, lon)| self.place(LatLon { lat, lon }).lon);
        let west = corners.iter().copied().fold(f64::INFINITY, f64::min);
        let east = corners.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (LAT_MIN + self.lat_shift..=LAT_MAX + self.lat_shift, west..=east)
    }

    /// The region's copy of a Danish municipality.
    fn municipality(&self, m: &Municipality) -> Municipality {
        Municipality {
            code: MunicipalityCode(1000 * u16::from(self.tile) + m.code.0),
            name: format!("{} ({})", m.name, self.name),
            region_code: 1000 * u16::from(self.tile) + m.region_code,
            region: format!("{} ({})", m.region, self.name),
            population: m.population,
            area_km2: m.area_km2,
            centre: self.place(m.centre),
        }
    }
}

/// Columns of `synthetic_regions.csv`: the first five required, `note` (free text, not used)
/// optional.
pub const SYNTHETIC_REGION_COLUMNS: &[&str] = &["tile", "name", "country", "lat_shift", "lon_centre", "note"];

/// Reads the rows of a `synthetic_regions.csv` table, each with its line.
pub fn synthetic_region_rows<R: std::io::Read>(
    table: Table<R>,
) -> (Vec<(u64, SyntheticRegion)>, Vec<InputProblem>) {
    table.for_each_row(|r| {
        let tile: u8 = r.parse("tile", "a tile number from 1 to 9")?;
        if !(1..=9).contains(&tile) {
            return Err(r.problem("tile", "expected a tile number from 1 to 9"));
        }
        let region = SyntheticRegion {
            tile,
            name: r.text("name")?.to_string(),
            country: r.text("country")?.to_string(),
            lat_shift: r.number("lat_shift", -20.0..=15.0)?,
            lon_centre: r.number("lon_centre", -60.0..=60.0)?,
        };
        if !region.name.contains("syntetisk") {
            return Err(r.problem("name", "a synthetic region's name must say \"syntetisk\""));
        }
        Ok(region)
    })
}

/// The text of each reference file, with the name used in error messages.
#[derive(Debug, Clone, Copy)]
pub struct ReferenceTexts<'a> {
    /// `municipalities.csv`.
    pub municipalities: &'a str,
    /// `postcodes.csv`.
    pub postcodes: &'a str,
    /// `isco08_groups.csv`.
    pub occupations: &'a str,
    /// `isco08_titles_da.csv` (Danish DISCO-08 titles by ISCO-08 code).
    pub occupation_titles_da: &'a str,
    /// `target_groups.csv`.
    pub target_groups: &'a str,
    /// `benefit_kinds.csv`.
    pub benefit_kinds: &'a str,
}

impl ReferenceTexts<'static> {
    /// The files shipped in `data/reference/`, embedded at build time.
    pub const EMBEDDED: ReferenceTexts<'static> = ReferenceTexts {
        municipalities: include_str!("../../../data/reference/municipalities.csv"),
        postcodes: include_str!("../../../data/reference/postcodes.csv"),
        occupations: include_str!("../../../data/reference/isco08_groups.csv"),
        occupation_titles_da: include_str!("../../../data/reference/isco08_titles_da.csv"),
        target_groups: include_str!("../../../data/reference/target_groups.csv"),
        benefit_kinds: include_str!("../../../data/reference/benefit_kinds.csv"),
    };
}

/// Required columns of `target_groups.csv`.
pub const TARGET_GROUP_REQUIRED: &[&str] =
    &["code", "name_da", "name_en", "valid_from", "valid_to", "prior_success_rate", "prior_strength"];

/// Every column `target_groups.csv` may have (`note` is free text for the reader, not used).
pub const TARGET_GROUP_COLUMNS: &[&str] = &[
    "code",
    "name_da",
    "name_en",
    "valid_from",
    "valid_to",
    "min_age",
    "max_age",
    "prior_success_rate",
    "prior_strength",
    "note",
];

/// Required columns of `benefit_kinds.csv`.
pub const BENEFIT_KIND_REQUIRED: &[&str] =
    &["code", "name_da", "name_en", "weekly_rate_dkk", "has_end_date", "valid_from"];

/// Every column `benefit_kinds.csv` may have (`note` is free text for the reader, not used).
pub const BENEFIT_KIND_COLUMNS: &[&str] =
    &["code", "name_da", "name_en", "weekly_rate_dkk", "has_end_date", "valid_from", "valid_to", "note"];

/// Reads the rows of a `target_groups.csv` table, each with its line.
pub fn target_group_rows<R: std::io::Read>(table: Table<R>) -> (Vec<(u64, TargetGroup)>, Vec<InputProblem>) {
    table.for_each_row(|r| {
        Ok(TargetGroup {
            code: code(r)?,
            name_da: r.text("name_da")?.to_string(),
            name_en: r.text("name_en")?.to_string(),
            valid_from: r.date("valid_from")?,
            valid_to: r.opt_date("valid_to")?,
            min_age: r.opt_parse("min_age", "an age")?,
            max_age: r.opt_parse("max_age", "an age")?,
            prior_success_rate: r.number("prior_success_rate", 0.0..=1.0)?,
            prior_strength: r.number("prior_strength", 0.0..=1e6)?,
        })
    })
}

/// Reads the rows of a `benefit_kinds.csv` table, each with its line.
pub fn benefit_kind_rows<R: std::io::Read>(table: Table<R>) -> (Vec<(u64, BenefitKind)>, Vec<InputProblem>) {
    table.for_each_row(|r| {
        Ok(BenefitKind {
            code: code(r)?,
            name_da: r.text("name_da")?.to_string(),
            name_en: r.text("name_en")?.to_string(),
            weekly_rate_dkk: r.count("weekly_rate_dkk")?,
            has_end_date: r.flag("has_end_date", false)?,
            valid_from: r.date("valid_from")?,
            valid_to: r.opt_date("valid_to")?,
        })
    })
}

/// A code of a group or benefit kind: lower-case letters, digits and `_`, as data files use.
fn code(r: &crate::dataset::table::Row<'_>) -> Result<String, InputProblem> {
    let text = r.text("code")?;
    let ok = text.len() <= 40
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && text.as_bytes()[0].is_ascii_lowercase();
    if !ok {
        return Err(r.problem("code", "expected a code of lower-case letters, digits and _, e.g. youth_2027"));
    }
    Ok(text.to_string())
}

fn collect<T>(results: (Vec<(u64, T)>, Vec<InputProblem>), problems: &mut Vec<InputProblem>) -> Vec<T> {
    problems.extend(results.1);
    results.0.into_iter().map(|(_, v)| v).collect()
}

fn open<'a>(
    name: &str,
    text: &'a str,
    required: &[&str],
    problems: &mut Vec<InputProblem>,
) -> Option<Table<&'a [u8]>> {
    Table::new(name, text.as_bytes(), required).map_err(|p| problems.extend(p.0)).ok()
}

fn latlon(row: &crate::dataset::table::Row<'_>, lat: &str, lon: &str) -> Result<LatLon, InputProblem> {
    let (la, lo) = (row.number(lat, -90.0..=90.0)?, row.number(lon, -180.0..=180.0)?);
    LatLon::new(la, lo).map_err(|reason| row.problem(lat, reason))
}

fn kommunekode(row: &crate::dataset::table::Row<'_>, column: &str) -> Result<MunicipalityCode, InputProblem> {
    let code: u16 = row.parse(column, "a municipality code")?;
    Ok(MunicipalityCode(code))
}

impl ReferenceData {
    /// The reference data shipped with Brobygger.
    ///
    /// # Errors
    /// Only if the embedded files were edited into something invalid (a test guards this).
    pub fn embedded() -> Result<ReferenceData> {
        Self::from_texts(&ReferenceTexts::EMBEDDED)
    }

    /// Parses the five reference tables.
    ///
    /// # Errors
    /// [`Error::InvalidData`] listing every bad row of every table.
    pub fn from_texts(texts: &ReferenceTexts<'_>) -> Result<ReferenceData> {
        let mut problems = Vec::new();
        let mut municipalities = Vec::new();
        if let Some(t) = open(
            "municipalities.csv",
            texts.municipalities,
            &[
                "kommunekode",
                "navn",
                "regionskode",
                "region",
                "population_2020",
                "area_km2",
                "postcode_mean_lat",
                "postcode_mean_lon",
            ],
            &mut problems,
        ) {
            municipalities = collect(
                t.for_each_row(|r| {
                    Ok(Municipality {
                        code: kommunekode(r, "kommunekode")?,
                        name: r.text("navn")?.to_string(),
                        region_code: r.parse("regionskode", "a region code")?,
                        region: r.text("region")?.to_string(),
                        population: r.count("population_2020")?,
                        area_km2: r.number("area_km2", 0.1..=1e5)?,
                        centre: latlon(r, "postcode_mean_lat", "postcode_mean_lon")?,
                    })
                }),
                &mut problems,
            );
        }
        let mut postcodes = Vec::new();
        if let Some(t) = open(
            "postcodes.csv",
            texts.postcodes,
            &["postnr", "by", "kommunekode", "lat", "lon", "special"],
            &mut problems,
        ) {
            postcodes = collect(
                t.for_each_row(|r| {
                    Ok(Postcode {
                        code: r.parse("postnr", "a postcode")?,
                        town: r.text("by")?.to_string(),
                        municipality: kommunekode(r, "kommunekode")?,
                        location: latlon(r, "lat", "lon")?,
                        special: r.flag("special", false)?,
                    })
                }),
                &mut problems,
            );
        }
        let mut occupations = Vec::new();
        if let Some(t) =
            open("isco08_groups.csv", texts.occupations, &["code", "level", "title_en"], &mut problems)
        {
            occupations = collect(
                t.for_each_row(|r| {
                    let code = Occupation::parse(r.text("code")?)
                        .ok_or_else(|| r.problem("code", "expected an ISCO-08 code of 1 to 4 digits"))?;
                    let level: u8 = r.parse("level", "a level from 1 to 4")?;
                    if level != code.level {
                        return Err(
                            r.problem("level", "level does not match the number of digits in the code")
                        );
                    }
                    Ok(OccupationTitle { code, title_en: r.text("title_en")?.to_string(), title_da: None })
                }),
                &mut problems,
            );
        }
        occupations.sort();
        if let Some(t) = open(
            "isco08_titles_da.csv",
            texts.occupation_titles_da,
            &["isco08_code", "title_da"],
            &mut problems,
        ) {
            let danish = collect(
                t.for_each_row(|r| {
                    let code = Occupation::parse(r.text("isco08_code")?).ok_or_else(|| {
                        r.problem("isco08_code", "expected an ISCO-08 code of 1 to 4 digits")
                    })?;
                    let Ok(i) = occupations.binary_search_by_key(&code, |o| o.code) else {
                        return Err(r.problem("isco08_code", "not an ISCO-08 group in isco08_groups.csv"));
                    };
                    Ok((i, r.text("title_da")?.to_string()))
                }),
                &mut problems,
            );
            for (i, title) in danish {
                occupations[i].title_da = Some(title);
            }
        }
        let mut target_groups = Vec::new();
        if let Some(t) = open("target_groups.csv", texts.target_groups, TARGET_GROUP_REQUIRED, &mut problems)
        {
            let (rows, bad) = target_group_rows(t);
            problems.extend(bad);
            target_groups = rows;
        }
        let mut benefit_kinds = Vec::new();
        if let Some(t) = open("benefit_kinds.csv", texts.benefit_kinds, BENEFIT_KIND_REQUIRED, &mut problems)
        {
            let (rows, bad) = benefit_kind_rows(t);
            problems.extend(bad);
            benefit_kinds = rows;
        }
        let mut data = ReferenceData {
            municipalities,
            postcodes,
            occupations,
            target_groups: Vec::new(),
            benefit_kinds: Vec::new(),
            synthetic_regions: Vec::new(),
        };
        problems.extend(
            data.apply_overrides(("target_groups.csv", target_groups), ("benefit_kinds.csv", benefit_kinds)),
        );
        if !problems.is_empty() {
            return Err(Error::InvalidData(InputProblems(problems)));
        }
        data.municipalities.sort_by_key(|m| m.code);
        data.postcodes.sort_by_key(|p| p.code);
        Ok(data)
    }

    /// Replaces or extends the target groups and benefit kinds with rows read elsewhere (a
    /// municipality's reference directory), each with its file name and lines.
    ///
    /// A target group whose code exists is replaced in place (its [`GroupId`] stays); a new
    /// code is added at the end. The rows of a benefit-kind code replace every existing row of
    /// that code: several rows of one code are that benefit's weekly rate in successive
    /// periods (see [`ReferenceData::weekly_rate_on`]), and they must not overlap.
    ///
    /// Returns the problems found (validity periods that end before they start or overlap,
    /// a group's ages the wrong way round, duplicate group codes, too many rows); nothing is
    /// changed when there are any.
    pub fn apply_overrides(
        &mut self,
        groups: (&str, Vec<(u64, TargetGroup)>),
        kinds: (&str, Vec<(u64, BenefitKind)>),
    ) -> Vec<InputProblem> {
        let mut problems = Vec::new();
        let (group_file, groups) = groups;
        let (kind_file, kinds) = kinds;
        let mut new_groups = self.target_groups.clone();
        let mut seen: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for (line, g) in &groups {
            let problem = |column: &str, value: String, reason: String| {
                InputProblem::new(group_file, *line, column, value, reason)
            };
            if let Some(first) = seen.insert(&g.code, *line) {
                problems.push(problem(
                    "code",
                    g.code.clone(),
                    format!("duplicate code; first on line {first}"),
                ));
                continue;
            }
            if let Some(end) = g.valid_to.filter(|end| *end < g.valid_from) {
                problems.push(problem(
                    "valid_to",
                    end.to_string(),
                    format!("the group ends before it starts ({})", g.valid_from),
                ));
            }
            if let (Some(min), Some(max)) = (g.min_age, g.max_age)
                && min > max
            {
                problems.push(problem("max_age", max.to_string(), format!("below min_age {min}")));
            }
            match new_groups.iter_mut().find(|old| old.code == g.code) {
                Some(old) => *old = g.clone(),
                None => new_groups.push(g.clone()),
            }
        }
        if new_groups.len() > 64 {
            problems.push(InputProblem::new(
                group_file,
                0,
                "",
                "",
                format!("{} target groups; at most 64 are supported", new_groups.len()),
            ));
        }
        let mut new_kinds = self.benefit_kinds.clone();
        let mut codes: Vec<&str> = kinds.iter().map(|(_, k)| k.code.as_str()).collect();
        codes.dedup();
        let mut done = std::collections::HashSet::new();
        for code in codes {
            if !done.insert(code) {
                continue;
            }
            let rows: Vec<&(u64, BenefitKind)> = kinds.iter().filter(|(_, k)| k.code == code).collect();
            for (i, (line, k)) in rows.iter().enumerate() {
                if let Some(end) = k.valid_to.filter(|end| *end < k.valid_from) {
                    problems.push(InputProblem::new(
                        kind_file,
                        *line,
                        "valid_to",
                        end.to_string(),
                        format!("the period ends before it starts ({})", k.valid_from),
                    ));
                }
                for (other_line, other) in &rows[..i] {
                    let overlaps = k.valid_from <= other.valid_to.unwrap_or(Date(i32::MAX))
                        && other.valid_from <= k.valid_to.unwrap_or(Date(i32::MAX));
                    if overlaps {
                        problems.push(InputProblem::new(
                            kind_file,
                            *line,
                            "valid_from",
                            k.valid_from.to_string(),
                            format!("the period overlaps the one of `{code}` on line {other_line}"),
                        ));
                    }
                }
            }
            let first = new_kinds.iter().position(|old| old.code == code);
            let mut replacement = rows.iter().map(|(_, k)| k.clone());
            match first {
                Some(at) => {
                    if let Some(k) = replacement.next() {
                        new_kinds[at] = k;
                    }
                    let mut index = 0;
                    new_kinds.retain(|old| {
                        index += 1;
                        index - 1 == at || old.code != code
                    });
                    new_kinds.extend(replacement);
                }
                None => new_kinds.extend(replacement),
            }
        }
        if new_kinds.len() > 255 {
            problems.push(InputProblem::new(
                kind_file,
                0,
                "",
                "",
                format!("{} benefit-kind rows; at most 255 are supported", new_kinds.len()),
            ));
        }
        if problems.is_empty() {
            self.target_groups = new_groups;
            self.benefit_kinds = new_kinds;
        }
        problems
    }

    /// The weekly rate of the benefit kind `kind` on `day`: the rate of the row of the same
    /// code whose period holds the day, else the rate of the row `kind` itself.
    pub fn weekly_rate_on(&self, kind: u8, day: Date) -> u32 {
        let Some(base) = self.benefit_kinds.get(usize::from(kind)) else { return 0 };
        self.benefit_kinds
            .iter()
            .find(|k| k.code == base.code && k.valid_from <= day && k.valid_to.is_none_or(|end| day <= end))
            .unwrap_or(base)
            .weekly_rate_dkk
    }

    /// True if the target group `group` exists on `day`.
    pub fn group_valid_on(&self, group: GroupId, day: Date) -> bool {
        self.target_groups
            .get(usize::from(group.0))
            .is_some_and(|g| g.valid_from <= day && g.valid_to.is_none_or(|end| day <= end))
    }

    /// Adds synthetic regions (read from `file`, each row with its line): each region's copy
    /// of the Danish municipalities joins [`ReferenceData::municipalities`] (postcodes stay
    /// Danish: a synthetic municipality has none). Returns the problems found (a tile listed
    /// twice); nothing is changed when there are any.
    pub fn add_synthetic_regions(
        &mut self,
        file: &str,
        rows: Vec<(u64, SyntheticRegion)>,
    ) -> Vec<InputProblem> {
        let mut problems = Vec::new();
        let mut tiles: Vec<u8> = self.synthetic_regions.iter().map(|s| s.tile).collect();
        for (line, region) in &rows {
            if tiles.contains(&region.tile) {
                problems.push(InputProblem::new(
                    file,
                    *line,
                    "tile",
                    region.tile.to_string(),
                    "tile listed twice",
                ));
            }
            tiles.push(region.tile);
        }
        if !problems.is_empty() {
            return problems;
        }
        let danish: Vec<Municipality> =
            self.municipalities.iter().filter(|m| m.code.0 < 1000).cloned().collect();
        for (_, region) in rows {
            self.municipalities.extend(danish.iter().map(|m| region.municipality(m)));
            self.synthetic_regions.push(region);
        }
        self.municipalities.sort_by_key(|m| m.code);
        self.synthetic_regions.sort_by_key(|s| s.tile);
        problems
    }

    /// The synthetic region of a municipality code at or above 1000, if the reference data
    /// has it.
    pub fn synthetic_region(&self, code: MunicipalityCode) -> Option<&SyntheticRegion> {
        let tile = code.0 / 1000;
        (tile > 0).then(|| self.synthetic_regions.iter().find(|s| u16::from(s.tile) == tile)).flatten()
    }

    /// Whether a point may be a candidate's home or an offer's place: inside the Denmark box
    /// ([`crate::geo::LAT_RANGE`], [`crate::geo::LON_RANGE`]), or inside a synthetic region's
    /// box. A point outside is almost always swapped columns or a unit error.
    pub fn accepts(&self, lat: f64, lon: f64) -> bool {
        let inside = |(la, lo): (std::ops::RangeInclusive<f64>, std::ops::RangeInclusive<f64>)| {
            la.contains(&lat) && lo.contains(&lon)
        };
        // The latitude band first: `bounds` places four corners (eight cosines), and this runs
        // for every row read.
        inside((crate::geo::LAT_RANGE, crate::geo::LON_RANGE))
            || self.synthetic_regions.iter().any(|s| {
                (crate::geo::LAT_MIN + s.lat_shift..=crate::geo::LAT_MAX + s.lat_shift).contains(&lat)
                    && inside(s.bounds())
            })
    }

    /// The municipality with this code.
    pub fn municipality(&self, code: MunicipalityCode) -> Option<&Municipality> {
        self.municipalities.binary_search_by_key(&code, |m| m.code).ok().map(|i| &self.municipalities[i])
    }

    /// The postcode, if it exists.
    pub fn postcode(&self, code: u16) -> Option<&Postcode> {
        self.postcodes.binary_search_by_key(&code, |p| p.code).ok().map(|i| &self.postcodes[i])
    }

    /// True if the ISCO-08 group exists.
    pub fn occupation_exists(&self, occupation: Occupation) -> bool {
        self.occupation(occupation).is_some()
    }

    /// The ISCO-08 group with its titles, if it exists.
    pub fn occupation(&self, occupation: Occupation) -> Option<&OccupationTitle> {
        self.occupations.binary_search_by_key(&occupation, |o| o.code).ok().map(|i| &self.occupations[i])
    }

    /// The target group with this code.
    pub fn group(&self, code: &str) -> Option<GroupId> {
        self.target_groups.iter().position(|g| g.code == code).map(|i| GroupId(i as u8))
    }

    /// The benefit kind with this code.
    pub fn benefit_kind(&self, code: &str) -> Option<u8> {
        self.benefit_kinds.iter().position(|b| b.code == code).map(|i| i as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_reference_data_is_complete() {
        let r = ReferenceData::embedded().expect("embedded reference data parses");
        assert_eq!(r.municipalities.len(), 98);
        assert_eq!(r.municipalities.iter().map(|m| u64::from(m.population)).sum::<u64>(), 5_822_679);
        assert_eq!(r.municipality(MunicipalityCode(101)).map(|m| m.name.as_str()), Some("København"));
        assert_eq!(r.postcodes.len(), 1159);
        assert_eq!(r.occupations.len(), 619);
        assert!(r.occupation_exists(Occupation::parse("8322").unwrap()));
        assert!(r.group("sickness").is_some());
        assert_eq!(
            r.benefit_kind("sickness_benefit").map(|k| r.benefit_kinds[k as usize].weekly_rate_dkk),
            Some(4695)
        );
    }

    #[test]
    fn occupations_have_danish_titles_with_english_fallback() {
        let r = ReferenceData::embedded().expect("embedded reference data parses");
        let titled = r.occupations.iter().filter(|o| o.title_da.is_some()).count();
        assert_eq!(titled, 605, "every DISCO-08 row is attached to its ISCO-08 group");
        let cleaners = r.occupation(Occupation::parse("9112").expect("code")).expect("9112 exists");
        assert_eq!(cleaners.title_en, "Cleaners and helpers in offices, hotels and other establishments");
        assert!(cleaners.title_da.as_deref().is_some_and(|t| t.contains("Rengøring")), "{cleaners:?}");
        // 6310 (subsistence crop farmers) is left out of DISCO-08: English is the fallback.
        let farmers = r.occupation(Occupation::parse("6310").expect("code")).expect("6310 exists");
        assert_eq!(farmers.title_da, None);
        assert_eq!(farmers.title_da_or_en(), farmers.title_en);
    }

    #[test]
    fn a_danish_title_for_an_unknown_code_is_refused_with_its_line() {
        let mut texts = ReferenceTexts::EMBEDDED;
        let broken = format!("{}9999,Opdigtet arbejde\n", texts.occupation_titles_da);
        texts.occupation_titles_da = &broken;
        let err = ReferenceData::from_texts(&texts).unwrap_err().to_string();
        assert!(err.contains("isco08_titles_da.csv:607: column `isco08_code` = `9999`"), "{err}");
    }

    #[test]
    fn a_bad_reference_row_names_file_line_and_column() {
        let mut texts = ReferenceTexts::EMBEDDED;
        let broken = texts.target_groups.replace("0.55,20", "1.55,20");
        texts.target_groups = &broken;
        let err = ReferenceData::from_texts(&texts).unwrap_err().to_string();
        assert!(err.contains("target_groups.csv:5: column `prior_success_rate` = `1.55`"), "{err}");
    }
}
