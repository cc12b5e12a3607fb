//! Round trips of the CSV, JSON and snapshot forms, and one test per kind of bad input.

use super::*;
use crate::error::{Error, InputProblem};
use crate::r#gen::{Scale, generate};
use crate::model::{ContractKind, OfferKind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh, empty directory under the system's temporary directory, unique to this process
/// and call, removed again when dropped.
pub(crate) struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn temp_dir(label: &str) -> TempDir {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("brobygger-core-{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    TempDir(dir)
}

fn reference() -> ReferenceData {
    ReferenceData::embedded().unwrap()
}

/// A small valid data set: the demo with fewer rows, without its history (whose episodes
/// name offers this keeps out).
fn small(reference: &ReferenceData) -> Dataset {
    let mut d = generate(Scale::Demo, 5, reference);
    d.outcomes.clear();
    d.candidates.truncate(40);
    let keep: std::collections::BTreeSet<_> = d
        .candidates
        .iter()
        .flat_map(|c| c.current.iter().map(|a| a.offer.clone()).chain(c.excluded_offers.iter().cloned()))
        .collect();
    let mut kept = std::collections::BTreeMap::new();
    d.offers.retain(|o| {
        let n = kept.entry(o.kind).or_insert(0);
        *n += 1;
        *n <= 8 || keep.contains(&o.id)
    });
    let providers: std::collections::BTreeSet<_> = d.offers.iter().map(|o| o.provider.clone()).collect();
    d.providers.retain(|p| providers.contains(&p.id));
    let offers: std::collections::BTreeSet<_> = d.offers.iter().map(|o| o.id.clone()).collect();
    d.contracts.retain(|c| c.offers.iter().all(|o| offers.contains(o)));
    d
}

#[test]
fn csv_round_trip_is_exact_and_byte_stable() {
    let r = reference();
    let d = generate(Scale::Demo, 1, &r);
    let (a, b) = (temp_dir("rt-a"), temp_dir("rt-b"));
    write_dir(&d, &r, &a).unwrap();
    let back = load_dir(&a, &r).unwrap();
    assert_eq!(back, d);
    write_dir(&back, &r, &b).unwrap();
    for name in ["providers.csv", "offers.csv", "evidence.csv", "candidates.csv"] {
        assert_eq!(std::fs::read(a.join(name)).unwrap(), std::fs::read(b.join(name)).unwrap(), "{name}");
    }
    assert!(
        std::fs::read_dir(&a).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    );
}

#[test]
fn the_municipality_scale_validates_clean_and_round_trips() {
    let r = reference();
    let d = generate(Scale::Municipality, 11, &r);
    let dir = temp_dir("rt-municipality");
    write_dir(&d, &r, &dir).unwrap();
    assert_eq!(load_dir(&dir, &r).unwrap(), d);
}

/// Rewrites a CSV table as a JSON array of objects, numbers as numbers where they parse.
fn csv_to_json(dir: &Path, stem: &str) {
    let csv_path = dir.join(format!("{stem}.csv"));
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let mut object = serde_json::Map::new();
        for (h, v) in headers.iter().zip(record.iter()) {
            let value = match v.parse::<i64>() {
                Ok(n) if !v.starts_with('0') || v == "0" => serde_json::Value::from(n),
                _ => serde_json::Value::from(v),
            };
            object.insert(h.to_string(), value);
        }
        rows.push(serde_json::Value::Object(object));
    }
    std::fs::write(dir.join(format!("{stem}.json")), serde_json::to_string_pretty(&rows).unwrap()).unwrap();
    std::fs::remove_file(csv_path).unwrap();
}

#[test]
fn json_tables_load_like_csv_tables() {
    let r = reference();
    let d = small(&r);
    let dir = temp_dir("json");
    write_dir(&d, &r, &dir).unwrap();
    for stem in ["providers", "offers", "evidence", "candidates"] {
        csv_to_json(&dir, stem);
    }
    assert_eq!(load_dir(&dir, &r).unwrap(), d);
}

#[test]
fn json_problems_name_the_line_of_the_field() {
    let r = reference();
    let dir = temp_dir("json-bad");
    write_dir(&small(&r), &r, &dir).unwrap();
    csv_to_json(&dir, "providers");
    let text = std::fs::read_to_string(dir.join("providers.json")).unwrap();
    let line = text.lines().position(|l| l.contains("\"municipality\"")).unwrap() as u64 + 1;
    let bad = text.replacen("\"municipality\": ", "\"municipality\": 9999, \"x_\": ", 1);
    std::fs::write(dir.join("providers.json"), bad).unwrap();
    let problems = problems_of(&dir, &r);
    let p = &problems[0];
    assert_eq!((p.file.as_str(), p.line, p.column.as_str()), ("providers.json", line, "x_"), "{problems:?}");
    std::fs::write(
        dir.join("providers.json"),
        text.replacen("\"municipality\": \"0", "\"municipality\": \"9", 1),
    )
    .unwrap();
    let problems = problems_of(&dir, &r);
    let p = &problems[0];
    assert_eq!(
        (p.line, p.column.as_str(), p.reason.as_str()),
        (line, "municipality", "unknown municipality code")
    );
    std::fs::write(dir.join("providers.json"), "[{\"id\": \"a\",\n \"name\": \"x\",\n ]").unwrap();
    let problems = problems_of(&dir, &r);
    assert_eq!((problems[0].file.as_str(), problems[0].line), ("providers.json", 3), "{problems:?}");
}

fn problems_of(dir: &Path, r: &ReferenceData) -> Vec<InputProblem> {
    match load_dir(dir, r) {
        Err(Error::InvalidData(p)) => p.0,
        other => panic!("expected invalid data, got {other:?}"),
    }
}

/// Replaces one cell of a CSV table (row 0 is the first data row) and returns its line.
fn set_cell(dir: &Path, file: &str, row: usize, column: &str, value: &str) -> u64 {
    let path = dir.join(file);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let mut records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let at = headers.iter().position(|h| h == column).unwrap();
    let mut fields: Vec<String> = records[row].iter().map(str::to_string).collect();
    fields[at] = value.to_string();
    records[row] = fields.into_iter().collect();
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&headers).unwrap();
    records.iter().for_each(|r| writer.write_record(r).unwrap());
    writer.flush().unwrap();
    row as u64 + 2
}

#[test]
fn every_kind_of_bad_value_is_reported_with_its_place() {
    let r = reference();
    let d = small(&r);
    let locked_row = d.candidates.iter().position(|c| c.current.is_none()).unwrap();
    let strategic = d.offers.iter().position(|o| o.contract == Some(ContractKind::StrategicPartner));
    let provider_offer = d.offers.iter().position(|o| o.kind == OfferKind::Provider).unwrap();
    let job = d.offers.iter().position(|o| o.kind == OfferKind::Job).unwrap();
    let first_offer = d.offers[0].id.to_string();
    let first_provider = d.providers[0].id.to_string();
    let first_candidate = d.candidates[0].id.to_string();
    // (file, row, column, value, expected words in the reason)
    let mut cases: Vec<(&str, usize, &str, String, &str)> = vec![
        ("candidates.csv", 1, "municipality", "9999".into(), "unknown municipality"),
        ("candidates.csv", 1, "municipality", "abc".into(), "expected a municipality code"),
        ("candidates.csv", 1, "lat", "400".into(), "outside Denmark"),
        ("candidates.csv", 1, "lat", "NaN".into(), "finite"),
        ("candidates.csv", 1, "lon", "12,5".into(), "decimal comma in a `,`-separated file"),
        ("candidates.csv", 1, "id", "0101901234".into(), "CPR"),
        ("candidates.csv", 1, "id", first_candidate.clone(), "first used on line 2"),
        (
            "candidates.csv",
            1,
            "target_groups",
            "sickness;elves".into(),
            "`elves` is not a known target group",
        ),
        ("candidates.csv", 1, "target_groups", "".into(), "at least one target group"),
        ("candidates.csv", 1, "benefit_kind", "lottery".into(), "unknown benefit kind"),
        (
            "candidates.csv",
            1,
            "benefit_start",
            "2024-02-30".into(),
            "not a date that exists: February 2024 has 29 days",
        ),
        ("candidates.csv", 1, "benefit_end", "1999-01-01".into(), "ends before it starts"),
        ("candidates.csv", 1, "wished_occupations", "9999".into(), "not an ISCO-08 code"),
        ("candidates.csv", 1, "max_travel_km", "-3".into(), "between 0 and 500"),
        ("candidates.csv", 1, "hours_available", "200".into(), "at most 168"),
        ("candidates.csv", 1, "age_band", "31-35".into(), "expected 15-17"),
        ("candidates.csv", 1, "languages", "dansk".into(), "language code"),
        ("candidates.csv", 1, "driving_licence", "maybe".into(), "true or false"),
        ("candidates.csv", 1, "preferred_kinds", "cruise".into(), "`cruise` is not"),
        ("candidates.csv", 1, "current_offer", "nope-1".into(), "not an id in offers"),
        ("candidates.csv", 1, "current_offer", "010190-1234".into(), "CPR"),
        ("candidates.csv", 1, "excluded_offers", format!("{first_offer};0101901234"), "CPR"),
        ("candidates.csv", 1, "excluded_offers", "ghost".into(), "not an id in offers"),
        ("candidates.csv", locked_row, "current_locked", "true".into(), "current_offer is empty"),
        ("candidates.csv", 1, "gender", "f".into(), "female, male or other"),
        ("candidates.csv", 1, "origin", "mars".into(), "danish, western or non_western"),
        ("offers.csv", 1, "capacity", "-5".into(), "must not be negative"),
        // Issue 15, item 2: this one row made `matcher batch` abort (exit 134).
        ("offers.csv", 1, "capacity", "4294967295".into(), "at most 1000000"),
        ("offers.csv", 1, "capacity", "99999999999999999999".into(), "whole number from 0 to 1000000"),
        ("offers.csv", 1, "price_dkk", "4294967295".into(), "at most 10000000"),
        ("evidence.csv", 0, "trials", "4294967295".into(), "at most 10000000"),
        ("providers.csv", 1, "name", "Kursus 01.02.03-1234".into(), "CPR"),
        ("offers.csv", 1, "name", "Forløb for 010203\u{2011}1234".into(), "CPR"),
        ("offers.csv", 1, "provider_id", "nobody".into(), "not an id in providers"),
        ("offers.csv", 1, "id", first_offer.clone(), "first used on line 2"),
        ("offers.csv", 1, "kind", "party".into(), "expected provider, job"),
        ("offers.csv", 1, "serves_municipalities", "0101;12".into(), "`12` is not a known municipality"),
        ("offers.csv", 1, "occupations", "12345".into(), "not an ISCO-08 code"),
        ("offers.csv", job, "contract", "buffer".into(), "only provider offers"),
        ("offers.csv", job, "poster_weeks_saved", "3".into(), "only reciprocal_help"),
        ("offers.csv", provider_offer, "contract", "friends".into(), "expected buffer"),
        ("offers.csv", 1, "duration_weeks", "9999".into(), "at most 520"),
        ("offers.csv", 1, "lat", "".into(), "lon is given"),
        ("offers.csv", 1, "next_start", "2026-02-30".into(), "not a date that exists"),
        ("offers.csv", 1, "address_postcode", "9999".into(), "unknown postcode"),
        ("offers.csv", 1, "address_postcode", "0900".into(), "special"),
        ("offers.csv", 1, "contact", "Ring til 010190-1234".into(), "CPR"),
        ("offers.csv", 1, "contact", "x".repeat(71), "longer than 70"),
        ("providers.csv", 1, "id", first_provider, "first used on line 2"),
        ("providers.csv", 1, "name", "".into(), "value is required"),
        ("evidence.csv", 0, "successes", "1000000".into(), "more successes than"),
        ("evidence.csv", 0, "target_group", "elves".into(), "unknown target group"),
        ("evidence.csv", 0, "offer_id", "ghost".into(), "not an id in offers"),
        ("evidence.csv", 0, "trials", "x".into(), "whole number"),
    ];
    if let Some(s) = strategic {
        let over = (d.offers[s].capacity + 1).to_string();
        cases.push(("offers.csv", s, "guaranteed_volume", over, "exceeds the capacity"));
    }
    let youth =
        d.candidates.iter().position(|c| c.target_groups.contains(r.group("youth_psychosocial").unwrap()));
    if let Some(y) = youth {
        cases.push(("candidates.csv", y, "age_band", "40-49".into(), "outside the ages 15 to 29"));
    }
    for (file, row, column, value, reason) in cases {
        let dir = temp_dir("bad");
        write_dir(&d, &r, &dir).unwrap();
        let line = set_cell(&dir, file, row, column, &value);
        let problems = problems_of(&dir, &r);
        let found = problems.iter().find(|p| p.file == file && p.line == line && p.column == column);
        let Some(p) = found else {
            panic!("{file}:{line} `{column}` = `{value}`: no problem reported in {problems:?}")
        };
        assert!(
            p.reason.contains(reason),
            "{file}:{line} `{column}`: reason {:?} lacks {reason:?}",
            p.reason
        );
        if reason.contains("CPR") {
            assert!(!p.to_string().contains(&value), "a CPR-like value is never echoed: {p}");
            assert!(p.value.is_empty() || p.value == crate::model::cpr::mask(&value), "{p}");
        } else if !value.is_empty() && column != "lat" {
            // As read, but with any ten digits starred (a capacity of 4294967295 reads as a
            // possible CPR number; the reason still states the bound).
            assert_eq!(p.value, crate::model::cpr::mask(&value), "{p}");
        }
    }
}

#[test]
fn locked_assignments_beyond_capacity_are_refused() {
    let r = reference();
    let mut d = small(&r);
    let offer = d.offers[0].id.clone();
    std::sync::Arc::make_mut(&mut d.offers[0]).capacity = 2;
    for c in d.candidates.iter_mut() {
        c.current = None;
        c.excluded_offers.clear();
    }
    for c in d.candidates.iter_mut().take(3) {
        c.current = Some(crate::model::CurrentAssignment { offer: offer.clone(), locked: true });
    }
    d.candidates[0].current.as_mut().unwrap().locked = false;
    let dir = temp_dir("locked");
    write_dir(&d, &r, &dir).unwrap();
    assert!(load_dir(&dir, &r).is_ok(), "two locked in two places is fine");
    d.candidates[0].current.as_mut().unwrap().locked = true;
    write_dir(&d, &r, &dir).unwrap();
    let problems = problems_of(&dir, &r);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!((problems[0].line, problems[0].column.as_str()), (4, "current_locked"));
    assert!(problems[0].reason.contains("has 2 places"), "{}", problems[0]);
}

#[test]
fn special_postcodes_are_refused_and_ordinary_ones_give_a_location() {
    let r = reference();
    let d = small(&r);
    let dir = temp_dir("postcode");
    write_dir(&d, &r, &dir).unwrap();
    set_cell(&dir, "candidates.csv", 0, "lat", "");
    set_cell(&dir, "candidates.csv", 0, "lon", "");
    set_cell(&dir, "candidates.csv", 0, "postcode", "8000");
    let loaded = load_dir(&dir, &r).unwrap();
    assert_eq!(loaded.candidates[0].home, r.postcode(8000).unwrap().location);
    set_cell(&dir, "candidates.csv", 0, "postcode", "0900");
    let p = &problems_of(&dir, &r)[0];
    assert!(p.reason.contains("special"), "{p}");
    set_cell(&dir, "candidates.csv", 0, "postcode", "");
    let p = &problems_of(&dir, &r)[0];
    assert!(p.reason.contains("give lat and lon, or a postcode"), "{p}");
}

#[test]
fn missing_and_unknown_columns_and_tables_are_reported() {
    let r = reference();
    let d = small(&r);
    let dir = temp_dir("columns");
    write_dir(&d, &r, &dir).unwrap();
    let text = std::fs::read_to_string(dir.join("providers.csv")).unwrap();
    std::fs::write(
        dir.join("providers.csv"),
        text.replacen("id,name,municipality", "id,nme,municipality", 1),
    )
    .unwrap();
    let problems = problems_of(&dir, &r);
    assert!(problems.iter().any(|p| p.line == 1 && p.column == "name" && p.reason.contains("missing")));
    std::fs::write(
        dir.join("providers.csv"),
        text.replacen("id,name,municipality", "id,name,municipality,x", 1),
    )
    .unwrap();
    let problems = problems_of(&dir, &r);
    assert!(problems.iter().any(|p| p.column == "x" && p.reason.contains("unknown column")), "{problems:?}");
    std::fs::remove_file(dir.join("providers.csv")).unwrap();
    let problems = problems_of(&dir, &r);
    assert!(problems[0].reason.contains("table is missing"), "{problems:?}");
    // Without the providers table no offer or contract is blamed for naming an unknown
    // provider: one line each says those checks were suppressed.
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[1].reason.starts_with("provider_id not checked against providers"), "{problems:?}");
    assert!(problems[2].reason.starts_with("provider_id and offers not checked"), "{problems:?}");
    std::fs::write(dir.join("providers.csv"), &text).unwrap();
    std::fs::write(dir.join("providers.json"), "[]").unwrap();
    assert!(problems_of(&dir, &r)[0].reason.contains("keep one"));
    std::fs::remove_file(dir.join("providers.json")).unwrap();
    std::fs::remove_file(dir.join("evidence.csv")).unwrap();
    let mut without = d.clone();
    without.offers.iter_mut().for_each(|o| std::sync::Arc::make_mut(o).evidence.clear());
    assert_eq!(load_dir(&dir, &r).unwrap(), without, "evidence is optional");
}

#[test]
fn every_bad_row_is_reported_not_just_the_first() {
    let r = reference();
    let d = small(&r);
    let dir = temp_dir("many");
    write_dir(&d, &r, &dir).unwrap();
    for row in [0, 3, 7] {
        set_cell(&dir, "candidates.csv", row, "lat", "400");
    }
    set_cell(&dir, "offers.csv", 2, "capacity", "-1");
    let problems = problems_of(&dir, &r);
    let lines: Vec<(&str, u64)> = problems.iter().map(|p| (p.file.as_str(), p.line)).collect();
    assert_eq!(
        lines,
        [("offers.csv", 4), ("candidates.csv", 2), ("candidates.csv", 5), ("candidates.csv", 9)]
    );
}

#[test]
fn garbage_files_give_problems_not_panics() {
    let r = reference();
    let d = small(&r);
    for garbage in [&b"\xff\xfe\x00garbage"[..], b"", b"id\n\"unterminated", b"a,b\n1,2,3\n"] {
        for file in ["providers.csv", "offers.csv", "evidence.csv", "candidates.csv"] {
            let dir = temp_dir("garbage");
            write_dir(&d, &r, &dir).unwrap();
            std::fs::write(dir.join(file), garbage).unwrap();
            let _ = load_dir(&dir, &r);
        }
    }
}

#[test]
fn snapshot_round_trips_and_refuses_damage() {
    let r = reference();
    let d = generate(Scale::Demo, 1, &r);
    let dir = temp_dir("snap");
    let path = dir.join("demo.snapshot");
    write_snapshot(&d, &path).unwrap();
    assert_eq!(read_snapshot(&path).unwrap(), d);
    assert_eq!(load(&path, &r).unwrap(), d);
    let bytes = std::fs::read(&path).unwrap();
    let reason = |bytes: &[u8]| match snapshot::decode(bytes, &path) {
        Err(Error::Snapshot { reason, .. }) => reason,
        other => panic!("expected a snapshot error, got {:?}", other.map(|d| d.candidates.len())),
    };
    assert!(reason(&bytes[..bytes.len() - 1]).contains("truncated"));
    assert!(reason(&bytes[..10]).contains("truncated"));
    assert!(reason(&[]).contains("truncated"));
    let mut wrong = bytes.clone();
    wrong[0] = b'X';
    assert!(reason(&wrong).contains("magic"));
    let mut wrong = bytes.clone();
    let next = snapshot::FORMAT_VERSION + 1;
    wrong[8..12].copy_from_slice(&next.to_le_bytes());
    assert!(reason(&wrong).contains(&format!("format version {next}")));
    wrong[8..12].copy_from_slice(&0u32.to_le_bytes());
    assert!(reason(&wrong).contains("format version 0"));
    let mut wrong = bytes.clone();
    let middle = wrong.len() / 2;
    wrong[middle] ^= 0x40;
    assert!(reason(&wrong).contains("checksum"));
    // Damage that also breaks the decode (the first length prefix, right after the 28-byte
    // header) is named as damage: the checksum, taken beside the decode, decides.
    let mut wrong = bytes.clone();
    wrong[28] ^= 0xff;
    assert!(reason(&wrong).contains("checksum"), "{}", reason(&wrong));
    let mut wrong = bytes.clone();
    wrong.push(0);
    assert!(reason(&wrong).contains("padded"));
    std::fs::write(&path, b"hello").unwrap();
    assert!(matches!(load(&path, &r), Err(Error::Snapshot { .. })));
}

/// Found by `fuzz/` (target `snapshot`): a payload behind a valid header whose length prefix
/// claims `u64::MAX` bytes aborted the process with "capacity overflow". The same prefix in
/// a version-6 section, and a section that claims more bytes than the payload holds, are
/// refused too.
#[test]
fn a_snapshot_payload_cannot_claim_any_allocation() {
    let framed = |version: u32, payload: &[u8]| -> Vec<u8> {
        let mut bytes = snapshot::MAGIC.to_vec();
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&snapshot::fnv1a64(payload).to_le_bytes());
        bytes.extend_from_slice(payload);
        bytes
    };
    let reason = |bytes: &[u8]| match snapshot::decode(bytes, std::path::Path::new("crafted.snapshot")) {
        Err(Error::Snapshot { reason, .. }) => reason,
        other => panic!("expected a snapshot error, got {:?}", other.map(|d| d.candidates.len())),
    };
    let mut claim = vec![0x18, 0xfd];
    claim.extend([0xff; 19]);
    assert!(reason(&framed(5, &claim)).contains("cannot decode"));
    let mut sections = 1u64.to_le_bytes().to_vec();
    sections.extend_from_slice(&(claim.len() as u64).to_le_bytes());
    sections.extend_from_slice(&claim);
    assert!(reason(&framed(6, &sections)).contains("cannot decode the payload's offers"));
    let mut long = 2u64.to_le_bytes().to_vec();
    long.extend_from_slice(&u64::MAX.to_le_bytes());
    long.extend_from_slice(&claim);
    let why = reason(&framed(6, &long));
    assert!(why.contains("section 1 announces 18446744073709551615 bytes, 21 are left"), "{why}");
}

#[test]
fn a_snapshot_with_indices_outside_the_reference_is_refused() {
    let r = reference();
    let mut d = small(&r);
    d.candidates[0].target_groups = crate::model::GroupSet(1 << 40);
    let dir = temp_dir("snap-ref");
    let path = dir.join("x.snapshot");
    write_snapshot(&d, &path).unwrap();
    let err = load(&path, &r).unwrap_err().to_string();
    assert!(err.contains("reference data"), "{err}");
}

mod props {
    use super::*;
    use crate::model::{Date, LatLon};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Any text, coordinate, fraction or date the model allows survives the CSV form.
        #[test]
        fn csv_round_trip_keeps_arbitrary_values(
            name in "[^\\s\u{0}][^\u{0}]{0,30}[^\\s\u{0}]",
            lat in 54.4f64..57.9,
            lon in 7.9f64..15.3,
            travel in 0.0f32..500.0,
            saved in 0.0f32..520.0,
            days in -40_000i32..40_000,
        ) {
            let r = reference();
            let mut d = small(&r);
            d.providers[0].name = name.clone();
            std::sync::Arc::make_mut(&mut d.offers[0]).name = name;
            std::sync::Arc::make_mut(&mut d.offers[0]).location = LatLon::new(lat, lon).unwrap();
            let help = d.offers.iter().position(|o| o.kind == OfferKind::ReciprocalHelp);
            if let Some(h) = help { std::sync::Arc::make_mut(&mut d.offers[h]).poster_weeks_saved = saved; }
            d.candidates[0].home = LatLon::new(lat, lon).unwrap();
            d.candidates[0].max_travel_km = travel;
            d.candidates[0].benefit.start = Date(days);
            d.candidates[0].benefit.end = Some(Date(days + 10));
            d.candidates[0].benefit.reassessment = None;
            let dir = temp_dir("prop");
            write_dir(&d, &r, &dir).unwrap();
            let back = load_dir(&dir, &r);
            prop_assert_eq!(back.unwrap(), d);
        }
    }
}

/// Reads a committed snapshot fixture, checks its version word and that it is a valid data set
/// (written as CSV and read back unchanged), and that writing it again gives the current
/// version, which reads back to the same data set.
fn read_fixture(name: &str, version: u32) -> (Vec<u8>, Dataset) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let r = reference();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes[8..12], version.to_le_bytes(), "{name}");
    let d = load(&path, &r).unwrap();
    let again = snapshot::encode(&d).unwrap();
    assert_eq!(again[8..12], snapshot::FORMAT_VERSION.to_le_bytes());
    assert_eq!(snapshot::decode(&again, &path).unwrap(), d);
    let dir = temp_dir(&format!("fixture-v{version}"));
    write_dir(&d, &r, &dir).unwrap();
    assert_eq!(load_dir(&dir, &r).unwrap(), d, "{name} is a valid data set");
    (bytes, d)
}

/// Format version 1 (no episode history, offers without a time and place) must stay
/// readable: an empty history, offers as continuous intake without address or contact.
#[test]
fn snapshot_fixture_of_version_1_still_reads() {
    let (_, d) = read_fixture("snapshot-v1.bin", 1);
    assert_eq!(d.candidates.len(), 40);
    assert!(!d.offers.is_empty());
    assert!(d.outcomes.is_empty());
    assert!(d.offers.iter().all(|o| o.time_and_place == crate::model::TimeAndPlace::default()));
}

/// Format version 2 (the episode history; offers still without a time and place) must stay
/// readable. Its fixture was written by main's encoder of version 2 (commit 36e6e46): 40
/// candidates, 16 offers and 30 episodes of `effect::world`.
#[test]
fn snapshot_fixture_of_version_2_still_reads() {
    let (_, d) = read_fixture("snapshot-v2.bin", 2);
    assert_eq!((d.candidates.len(), d.offers.len(), d.outcomes.len()), (40, 16, 30));
    assert!(d.offers.iter().all(|o| o.time_and_place == crate::model::TimeAndPlace::default()));
}

/// Format version 3 (history, offers with a time and place, no declines) must stay readable.
/// Its fixture is the version-2 one with a time and place on its offers, written by the
/// version-3 encoder.
#[test]
fn snapshot_fixture_of_version_3_still_reads() {
    let (_, d) = read_fixture("snapshot-v3.bin", 3);
    assert_eq!((d.candidates.len(), d.outcomes.len()), (40, 30));
    assert!(d.declines.is_empty(), "version 3 had no declines");
    assert!(d.offers.iter().any(|o| o.time_and_place.next_start.is_some()));
    assert!(d.offers.iter().any(|o| o.time_and_place.contact.is_some()));
    assert!(d.offers.iter().all(|o| o.time_and_place.address_postcode == Some(8000)));
}

/// Format version 4 (declines, providers without a contact, no contracts) must stay readable.
/// Its fixture is the version-3 one with two declines, written by the encoder of version 4.
#[test]
fn snapshot_fixture_of_version_4_still_reads() {
    let (_, d) = read_fixture("snapshot-v4.bin", 4);
    assert_eq!((d.candidates.len(), d.outcomes.len(), d.declines.len()), (40, 30, 2));
    assert!(d.offers.iter().any(|o| o.time_and_place.next_start.is_some()));
    assert!(d.providers.iter().all(|p| p.contact.is_none()));
    assert!(d.contracts.is_empty());
}

/// Format version 5 (today's types in one piece, before the payload was split into sections)
/// must stay readable. The fixture is the version-4 one with a contact on its first provider
/// and the contracts of [`with_contracts`], written by the encoder of version 5.
#[test]
fn snapshot_fixture_of_version_5_still_reads() {
    let (_, d) = read_fixture("snapshot-v5.bin", 5);
    assert_eq!((d.candidates.len(), d.outcomes.len(), d.declines.len()), (40, 30, 2));
    assert!(d.providers[0].contact.is_some());
    assert_eq!(d.contracts.len(), 2);
}

/// Format version 6 must stay readable and encode byte for byte as it did. The fixture is the
/// version-5 data set written in sections (8 runs of 5 candidates); if this test fails after a
/// change to a model type or the layout, the snapshot layout changed: bump
/// [`snapshot::FORMAT_VERSION`], keep a reader for version 6, and add a new fixture (write
/// this one again with `BROBYGGER_WRITE_FIXTURES=1 cargo test -p matcher-core snapshot_fixture`).
#[test]
fn snapshot_fixture_of_version_6_still_reads_and_encodes_identically() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    if std::env::var_os("BROBYGGER_WRITE_FIXTURES").is_some() {
        let d = load(&fixtures.join("snapshot-v5.bin"), &reference()).unwrap();
        write_snapshot(&d, &fixtures.join("snapshot-v6.bin")).unwrap();
    }
    let (bytes, d) = read_fixture("snapshot-v6.bin", 6);
    let (_, v5) = read_fixture("snapshot-v5.bin", 5);
    assert_eq!(d, v5, "the same data set as version 5's fixture");
    assert_eq!(snapshot::encode(&d).unwrap(), bytes, "the encoding of version 6 changed");
    // The header's count of sections: everything but the candidates, then 8 runs.
    assert_eq!(bytes[28..36], 9u64.to_le_bytes());
}

/// `d` with two contracts on the first provider that has provider offers: a strategic partner
/// with a guaranteed volume over the offers that serve the provider's first offer's
/// municipality, and a specialist for the first of them in the following year. The covered
/// offers' own contract columns are cleared (the contracts give them).
fn with_contracts(mut d: Dataset) -> Dataset {
    use crate::model::{Contract, ContractId, Date};
    let first = d.offers.iter().position(|o| o.kind == OfferKind::Provider).unwrap();
    let (provider, home) = (d.offers[first].provider.clone(), d.offers[first].municipality);
    let covered: Vec<usize> = (0..d.offers.len())
        .filter(|&j| {
            let o = &d.offers[j];
            o.kind == OfferKind::Provider
                && o.provider == provider
                && (o.municipality == home
                    || o.serves_municipalities.is_empty()
                    || o.serves_municipalities.contains(&home))
        })
        .collect();
    for &j in &covered {
        std::sync::Arc::make_mut(&mut d.offers[j]).contract = None;
        std::sync::Arc::make_mut(&mut d.offers[j]).guaranteed_volume = 0;
    }
    let places: u32 = covered.iter().map(|&j| d.offers[j].capacity).sum();
    let mut groups = d.offers[first].target_groups;
    if groups.is_empty() {
        groups.insert(crate::model::GroupId(0));
    }
    let partner = Contract {
        id: ContractId::new("kontrakt-1").unwrap(),
        municipality: home,
        provider: provider.clone(),
        kind: ContractKind::StrategicPartner,
        price_dkk: 18_500,
        places,
        guaranteed_volume: places / 2,
        start: Date::parse("2026-01-01").unwrap(),
        end: Date::parse("2026-12-31").unwrap(),
        target_groups: crate::model::GroupSet::EMPTY,
        offers: covered.iter().map(|&j| d.offers[j].id.clone()).collect(),
    };
    let specialist = Contract {
        id: ContractId::new("kontrakt-2").unwrap(),
        kind: ContractKind::Specialist,
        price_dkk: 0,
        places: d.offers[first].capacity,
        guaranteed_volume: 0,
        start: Date::parse("2027-01-01").unwrap(),
        end: Date::parse("2027-12-31").unwrap(),
        target_groups: groups,
        offers: vec![d.offers[first].id.clone()],
        ..partner.clone()
    };
    d.contracts = vec![partner, specialist];
    d
}

#[test]
fn contracts_round_trip_and_every_bad_row_names_its_place() {
    let r = reference();
    let d = with_contracts(small(&r));
    let dir = temp_dir("contracts");
    write_dir(&d, &r, &dir).unwrap();
    assert_eq!(load_dir(&dir, &r).unwrap(), d);
    csv_to_json(&dir, "contracts");
    assert_eq!(load_dir(&dir, &r).unwrap(), d, "contracts.json reads like contracts.csv");
    let other_provider = d.providers.iter().find(|p| p.id != d.contracts[0].provider).unwrap().id.to_string();
    let job = d.offers.iter().find(|o| o.kind == OfferKind::Job).unwrap().id.to_string();
    let places = d.contracts[0].places;
    // (row, column, value, words in the reason)
    let cases: Vec<(usize, &str, String, &str)> = vec![
        (0, "provider_id", "ghost".into(), "not a known provider"),
        (0, "provider_id", other_provider, "belongs to provider"),
        (0, "offers", "ghost-offer".into(), "not a known offer"),
        (0, "offers", job, "not a provider course"),
        (0, "guaranteed_volume", (places + 1).to_string(), "above the"),
        (1, "guaranteed_volume", "1".into(), "only a strategic_partner"),
        (0, "end", "2025-12-31".into(), "ends"),
        (0, "municipality", "9999".into(), "unknown municipality"),
        (0, "kind", "partner".into(), "expected buffer"),
        (1, "target_groups", "".into(), "names the target groups"),
        (1, "start", "2026-06-01".into(), "overlapping period"),
        (1, "id", "kontrakt-1".into(), "duplicate id"),
        (0, "places", "-1".into(), ""),
    ];
    for (row, column, value, reason) in cases {
        let dir = temp_dir("contracts-bad");
        write_dir(&d, &r, &dir).unwrap();
        let line = set_cell(&dir, "contracts.csv", row, column, &value);
        let problems = problems_of(&dir, &r);
        assert_eq!(problems.len(), 1, "{column} = {value}: {problems:?}");
        let p = &problems[0];
        let expected_column = match reason {
            "overlapping period" | "belongs to provider" => "offers",
            _ => column,
        };
        assert_eq!(
            (p.file.as_str(), p.line, p.column.as_str()),
            ("contracts.csv", line, expected_column),
            "{p}"
        );
        assert!(p.reason.contains(reason), "{column} = {value}: {}", p.reason);
    }
    // An offer that says another kind than the contract covering it.
    let dir = temp_dir("contracts-kind");
    let mut bad = d.clone();
    let covered = bad.offers.iter().position(|o| o.id == bad.contracts[0].offers[0]).unwrap();
    std::sync::Arc::make_mut(&mut bad.offers[covered]).contract = Some(ContractKind::Buffer);
    write_dir(&bad, &r, &dir).unwrap();
    let problems = problems_of(&dir, &r);
    assert!(
        problems.iter().any(|p| p.file == "contracts.csv" && p.reason.contains("says contract buffer")),
        "{problems:?}"
    );
    // A provider's contact: kept, and a CPR number in it is refused without being echoed.
    let dir = temp_dir("providers-contact");
    let mut with_contact = d.clone();
    with_contact.providers[0].contact = Some("Kontraktansvarlig, tlf. 70 00 00 00".into());
    write_dir(&with_contact, &r, &dir).unwrap();
    assert_eq!(load_dir(&dir, &r).unwrap(), with_contact);
    set_cell(&dir, "providers.csv", 0, "contact", "ring 010190-1234");
    let problems = problems_of(&dir, &r);
    assert!(problems[0].reason.contains("CPR") && !problems[0].to_string().contains("010190-1234"));
    // Without contracts, writing removes an old contracts.csv.
    let mut none = d.clone();
    none.contracts.clear();
    write_dir(&none, &r, &dir).unwrap();
    assert!(!dir.join("contracts.csv").exists());
}

/// [`small`] with two declines, one with a reason that needs CSV quoting.
fn small_with_declines(r: &ReferenceData) -> Dataset {
    let mut d = small(r);
    let until = crate::model::Date::parse("2026-12-31").unwrap();
    for (i, reason) in [(0usize, "Borgeren har prøvet forløbet, uden effekt"), (3, "")] {
        let candidate = d.candidates[i].id.clone();
        let current = d.candidates[i].current.as_ref().map(|a| a.offer.clone());
        let offer = d.offers.iter().map(|o| o.id.clone()).find(|o| Some(o) != current.as_ref()).unwrap();
        d.declines.push(crate::model::Decline { candidate, offer, until, reason: reason.into() });
    }
    d
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Overwriting any part of any table with arbitrary bytes gives problems, never a panic.
        #[test]
        fn damaged_tables_never_panic(
            table in 0usize..4,
            at in 0.0f64..1.0,
            junk in proptest::collection::vec(any::<u8>(), 1..40),
            json in any::<bool>(),
        ) {
            let r = reference();
            let dir = temp_dir("fuzz");
            write_dir(&small(&r), &r, &dir).unwrap();
            let stem = ["providers", "offers", "evidence", "candidates"][table];
            if json {
                csv_to_json(&dir, stem);
            }
            let path = dir.join(format!("{stem}.{}", if json { "json" } else { "csv" }));
            let mut bytes = std::fs::read(&path).unwrap();
            let start = ((bytes.len() as f64) * at) as usize;
            let end = (start + junk.len()).min(bytes.len());
            bytes.splice(start..end, junk);
            std::fs::write(&path, bytes).unwrap();
            let _ = load_dir(&dir, &r);
        }
    }
}

#[test]
fn json_bodies_parse_like_json_tables_and_refuse_unknown_fields() {
    let r = ReferenceData::embedded().unwrap();
    let offers = "[\n{\"id\": \"o-1\", \"kind\": \"job\", \"name\": \"Driver\", \"provider_id\": \"p-1\", \"municipality\": 851, \"postcode\": \"9000\", \"capacity\": 2, \"duration_weeks\": 4}\n]";
    let parsed = offers_from_json("body", offers, &r).unwrap();
    assert_eq!((parsed[0].0, parsed[0].1.capacity), (2, 2));
    let unknown = offers.replace("\"capacity\"", "\"colour\": 1, \"capacity\"");
    let err = offers_from_json("body", &unknown, &r).unwrap_err();
    assert_eq!((err.0[0].line, err.0[0].column.as_str()), (2, "colour"));
    let candidates = "[\n{\"id\": \"c-1\", \"municipality\": \"0851\", \"lat\": \"NaN\", \"lon\": 10, \"age_band\": \"30-39\", \"target_groups\": [\"sickness\"], \"benefit_kind\": \"sickness_benefit\", \"benefit_start\": \"2026-01-01\", \"max_travel_km\": 20, \"current_offer\": \"not-checked-here\"}\n]";
    let err = candidates_from_json("body", candidates, &r).unwrap_err();
    assert_eq!(err.0[0].column, "lat");
    let ok = candidates.replace("\"NaN\"", "57.0");
    assert_eq!(candidates_from_json("body", &ok, &r).unwrap().len(), 1);
}

#[test]
fn declines_round_trip_and_bad_rows_name_their_place() {
    let r = reference();
    let d = small_with_declines(&r);
    let dir = temp_dir("declines");
    write_dir(&d, &r, &dir).unwrap();
    assert_eq!(load_dir(&dir, &r).unwrap(), d);
    let cases: [(&str, &str, &str); 5] = [
        ("candidate_id", "ghost-1", "not an id in candidates"),
        ("offer_id", "ghost-2", "not an id in offers"),
        ("until", "2026-13-01", "month 13"),
        ("until", "", "value is required"),
        ("reason", "ring på 010190-1234", "CPR"),
    ];
    for (column, value, reason) in cases {
        let dir = temp_dir("declines-bad");
        write_dir(&d, &r, &dir).unwrap();
        let line = set_cell(&dir, "declines.csv", 1, column, value);
        let problems = problems_of(&dir, &r);
        assert_eq!(problems.len(), 1, "{column} = {value}: {problems:?}");
        let p = &problems[0];
        assert_eq!((p.file.as_str(), p.line, p.column.as_str()), ("declines.csv", line, column));
        assert!(p.reason.contains(reason), "{column} = {value}: {}", p.reason);
        assert!(!p.to_string().contains("010190-1234"), "a CPR-like reason is never echoed: {p}");
    }
    // Writing a data set without declines removes an old declines.csv.
    let mut none = d.clone();
    none.declines.clear();
    write_dir(&none, &r, &dir).unwrap();
    assert!(!dir.join("declines.csv").exists());
    assert_eq!(load_dir(&dir, &r).unwrap(), none);
}

/// A small data set with an episode history: two episodes without an offer, one with.
fn with_history(r: &ReferenceData) -> Dataset {
    let mut d = small(r);
    let text = format!(
        "id,municipality,target_groups,age_band,benefit_kind,weeks_on_benefit,offer_id,started,success,weeks_to_exit\n\
         e-1,0101,sickness,40-49,sickness_benefit,3,,2025-01-06,yes,12\n\
         e-2,0101,sickness;psychiatric,30-39,sickness_benefit,20.5,,2025-02-03,no,\n\
         e-3,0101,cash_longterm,50-59,cash_benefit,120,{},2025-03-03,no,30\n",
        d.offers[0].id
    );
    let dir = temp_dir("history-src");
    write_dir(&d, r, &dir).unwrap();
    std::fs::write(dir.join("outcomes.csv"), text).unwrap();
    d = load_dir(&dir, r).unwrap();
    d
}

#[test]
fn outcomes_round_trip_through_csv_and_the_snapshot() {
    let r = reference();
    let d = with_history(&r);
    assert_eq!(d.outcomes.len(), 3);
    assert_eq!(d.outcomes[1].target_groups.len(), 2);
    assert_eq!(d.outcomes[0].offer, None);
    assert_eq!(d.outcomes[2].offer.as_ref(), Some(&d.offers[0].id));
    assert_eq!(d.outcomes[1].weeks_on_benefit, 20.5);
    let dir = temp_dir("history");
    write_dir(&d, &r, &dir).unwrap();
    assert_eq!(load_dir(&dir, &r).unwrap(), d);
    let bytes = snapshot::encode(&d).unwrap();
    assert_eq!(snapshot::decode(&bytes, Path::new("x.bin")).unwrap(), d);
    // A data set without a history writes no outcomes table.
    let dir = temp_dir("no-history");
    write_dir(&small(&r), &r, &dir).unwrap();
    assert!(!dir.join("outcomes.csv").exists());
}

#[test]
fn bad_outcome_rows_are_reported_with_their_place_and_refuse_the_data_set() {
    let r = reference();
    let d = with_history(&r);
    let cases: [(usize, &str, &str, &str); 6] = [
        (0, "offer_id", "no-such-offer", "not an id in offers"),
        (0, "weeks_to_exit", "60", "within the follow-up"),
        (0, "weeks_on_benefit", "-2", "must not be negative"),
        (2, "weeks_to_exit", "-1", "must not be negative"),
        (0, "success", "", "required"),
        (1, "target_groups", "", "at least one"),
    ];
    for (row, column, value, reason) in cases {
        let dir = temp_dir("bad-outcome");
        write_dir(&d, &r, &dir).unwrap();
        let line = set_cell(&dir, "outcomes.csv", row, column, value);
        let problems = problems_of(&dir, &r);
        assert_eq!(problems.len(), 1, "{column}={value}: {problems:?}");
        let p = &problems[0];
        assert_eq!((p.file.as_str(), p.line, p.column.as_str()), ("outcomes.csv", line, column));
        assert_eq!(p.value, value);
        assert!(p.reason.contains(reason), "{column}={value}: {}", p.reason);
    }
    // A success without its exit week is refused too.
    let dir = temp_dir("bad-outcome");
    write_dir(&d, &r, &dir).unwrap();
    set_cell(&dir, "outcomes.csv", 0, "weeks_to_exit", "");
    assert!(problems_of(&dir, &r)[0].reason.contains("weeks_to_exit is required"));
    // A CPR-like id is refused and its digits are not echoed.
    let dir = temp_dir("bad-outcome");
    write_dir(&d, &r, &dir).unwrap();
    set_cell(&dir, "outcomes.csv", 1, "id", "0101901234");
    let p = &problems_of(&dir, &r)[0];
    assert_eq!(p.column, "id");
    assert!(p.reason.contains("CPR"));
    assert!(!p.value.contains("0101901234") && !p.to_string().contains("0101901234"), "{p}");
}

/// Candidates and the episode history are read side by side; their problems still come in the
/// order of a one-by-one read (candidates, then outcomes, then declines that name them), each
/// table's rows in line order, and a repeated id still names the line that first had it.
#[test]
fn problems_of_tables_read_side_by_side_come_in_file_and_line_order() {
    let r = reference();
    let d = with_history(&r);
    let dir = temp_dir("side-by-side");
    write_dir(&d, &r, &dir).unwrap();
    let second = d.candidates[1].id.to_string();
    set_cell(&dir, "outcomes.csv", 2, "weeks_to_exit", "-1");
    set_cell(&dir, "outcomes.csv", 0, "weeks_on_benefit", "-2");
    let late = set_cell(&dir, "candidates.csv", 3, "id", &second);
    set_cell(&dir, "candidates.csv", 0, "max_travel_km", "-5");
    std::fs::write(dir.join("declines.csv"), "candidate_id,offer_id,until,reason\nnobody,x,2026-01-01,\n")
        .unwrap();
    let problems = problems_of(&dir, &r);
    let places: Vec<(&str, u64, &str)> =
        problems.iter().map(|p| (p.file.as_str(), p.line, p.column.as_str())).collect();
    assert_eq!(
        places,
        [
            ("candidates.csv", 2, "max_travel_km"),
            ("candidates.csv", late, "id"),
            ("outcomes.csv", 2, "weeks_on_benefit"),
            ("outcomes.csv", 4, "weeks_to_exit"),
            ("declines.csv", 2, "candidate_id"),
        ],
        "{problems:?}"
    );
    assert!(problems[1].reason.contains("line 3"), "{}", problems[1].reason);
}
