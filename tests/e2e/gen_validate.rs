//! `matcher gen` and `matcher validate`: determinism, clean generated data, and one report
//! line per bad row with file, line, column and value.

use crate::common::{matcher, run, temp_dir};
use std::path::Path;

fn gen_demo(seed: u64, out: &Path, snapshot: Option<&Path>) {
    let mut cmd = matcher();
    cmd.args(["gen", "--scale", "demo", "--seed", &seed.to_string(), "--out"]).arg(out);
    if let Some(s) = snapshot {
        cmd.arg("--snapshot").arg(s);
    }
    let (out, stdout, stderr) = run(&mut cmd);
    assert!(out.status.success(), "{stdout}{stderr}");
}

const TABLES: [&str; 6] =
    ["providers.csv", "offers.csv", "evidence.csv", "candidates.csv", "caseworkers.csv", "contracts.csv"];

#[test]
fn same_seed_gives_identical_files_and_another_seed_other_files() {
    let (a, b, c) = (temp_dir("seed-a"), temp_dir("seed-b"), temp_dir("seed-c"));
    gen_demo(7, &a, Some(&a.join("snap")));
    gen_demo(7, &b, Some(&b.join("snap")));
    gen_demo(8, &c, None);
    for name in TABLES.iter().chain(&["snap"]) {
        let left = std::fs::read(a.join(name)).unwrap();
        assert!(left.len() > 30, "{name} is nearly empty");
        assert_eq!(left, std::fs::read(b.join(name)).unwrap(), "{name} differs for the same seed");
    }
    assert_ne!(
        std::fs::read(a.join("candidates.csv")).unwrap(),
        std::fs::read(c.join("candidates.csv")).unwrap()
    );
}

#[test]
fn generated_data_and_its_snapshot_validate_clean() {
    let dir = temp_dir("clean");
    let snap = dir.join("demo.snapshot");
    gen_demo(1, &dir, Some(&snap));
    for path in [dir.to_path_buf(), snap] {
        let (out, stdout, stderr) = run(matcher().arg("validate").arg(&path));
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(stdout.starts_with("valid: 2000 candidates, 200 offers"), "{stdout}");
    }
}

#[test]
fn the_committed_demo_data_is_valid() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/demo");
    let (out, stdout, stderr) = run(matcher().arg("validate").arg(&demo));
    assert!(out.status.success(), "{stdout}{stderr}");
    // It is exactly what `matcher gen --scale demo --seed 1` writes.
    let fresh = temp_dir("demo-fresh");
    gen_demo(1, &fresh, None);
    for name in TABLES {
        assert_eq!(
            std::fs::read(demo.join(name)).unwrap(),
            std::fs::read(fresh.join(name)).unwrap(),
            "{name}"
        );
    }
}

/// Reads a CSV table, lets `edit` change rows by column name, writes it back.
fn edit_table(dir: &Path, file: &str, edit: impl FnOnce(&[String], &mut Vec<Vec<String>>)) {
    let path = dir.join(file);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let mut rows: Vec<Vec<String>> =
        reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    edit(&headers, &mut rows);
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&headers).unwrap();
    rows.iter().for_each(|r| writer.write_record(r).unwrap());
    writer.flush().unwrap();
}

/// Sets `column` of data row `row` (0-based) and returns the file line of that row.
fn set(headers: &[String], rows: &mut [Vec<String>], row: usize, column: &str, value: &str) -> usize {
    let at = headers.iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column}"));
    rows[row][at] = value.to_string();
    row + 2
}

fn get<'a>(headers: &[String], rows: &'a [Vec<String>], row: usize, column: &str) -> &'a str {
    &rows[row][headers.iter().position(|h| h == column).unwrap()]
}

#[test]
fn every_bad_row_is_printed_with_file_line_column_and_value() {
    let dir = temp_dir("bad");
    gen_demo(1, &dir, None);
    let mut expected: Vec<String> = Vec::new();
    edit_table(&dir, "candidates.csv", |h, rows| {
        let first_id = get(h, rows, 0, "id").to_string();
        let current = h.iter().position(|c| c == "current_offer").unwrap();
        let with_current = 12 + rows.iter().skip(12).position(|r| !r[current].is_empty()).unwrap();
        // A CPR-like value is written to the file but never printed: its digits are starred.
        let mut bad = |row: usize, column: &str, value: &str, reason: &str| {
            let line = set(h, rows, row, column, value);
            let shown = matcher_core::model::cpr::mask(value);
            expected.push(format!("candidates.csv:{line}: column `{column}` = `{shown}`: {reason}"));
        };
        bad(1, "lat", "400", "latitude is outside Denmark (54.4 to 57.9)");
        bad(2, "lon", "NaN", "expected a finite number");
        bad(3, "municipality", "9999", "unknown municipality code");
        bad(4, "id", "0101901234", "id looks like a CPR number");
        bad(5, "id", &first_id, "duplicate id; first used on line 2");
        bad(6, "target_groups", "sickness;elves", "`elves` is not a known target group code");
        bad(7, "benefit_kind", "lottery", "unknown benefit kind code");
        bad(8, "wished_occupations", "9999", "`9999` is not an ISCO-08 code in the reference data");
        bad(9, "benefit_end", "2001-01-01", "benefit ends before it starts");
        bad(10, "excluded_offers", "ghost-1", "`ghost-1` is not an id in offers");
        bad(11, "excluded_offers", "010190-1234", "`******-****`: id looks like a CPR number");
        bad(with_current, "current_offer", "nobody-2", "`nobody-2` is not an id in offers");
    });
    edit_table(&dir, "offers.csv", |h, rows| {
        let contract = h.iter().position(|c| c == "contract").unwrap();
        let strategic = rows.iter().skip(2).position(|r| r[contract] == "strategic_partner").map(|i| i + 2);
        let mut bad = |row: usize, column: &str, value: &str, reason: &str| {
            let line = set(h, rows, row, column, value);
            expected.push(format!("offers.csv:{line}: column `{column}` = `{value}`: {reason}"));
        };
        bad(0, "capacity", "-4", "must not be negative");
        bad(1, "provider_id", "nobody", "`nobody` is not an id in providers");
        if let Some(s) = strategic {
            bad(s, "guaranteed_volume", "9999", "guaranteed volume exceeds the capacity");
        }
    });
    edit_table(&dir, "evidence.csv", |h, rows| {
        let line = set(h, rows, 0, "successes", "1000");
        let trials = get(h, rows, 0, "trials").to_string();
        expected.push(format!(
            "evidence.csv:{line}: column `successes` = `1000`: more successes than the {trials} trials"
        ));
    });
    let (out, stdout, stderr) = run(matcher().arg("validate").arg(&dir));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for line in &expected {
        assert!(stdout.lines().any(|l| l.starts_with(line.as_str())), "missing {line:?} in\n{stdout}");
    }
    let last = stdout.lines().last().unwrap_or("");
    assert!(last.starts_with(&format!("{} problems in", expected.len())), "{last}\n{stdout}");
    for cpr in ["0101901234", "010190-1234"] {
        assert!(!stdout.contains(cpr) && !stderr.contains(cpr), "{cpr} printed:\n{stdout}{stderr}");
    }
}

#[test]
fn missing_columns_tables_and_broken_json_are_reported() {
    let dir = temp_dir("shape");
    gen_demo(1, &dir, None);
    let text = std::fs::read_to_string(dir.join("providers.csv")).unwrap();
    std::fs::write(dir.join("providers.csv"), text.replacen("id,name,", "id,title,", 1)).unwrap();
    let (out, stdout, _) = run(matcher().arg("validate").arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("providers.csv:1: column `name`: required column is missing from the header"),
        "{stdout}"
    );
    std::fs::remove_file(dir.join("providers.csv")).unwrap();
    std::fs::write(
        dir.join("providers.json"),
        "[\n  {\"id\": \"p-1\",\n   \"name\": \"A\"\n   \"municipality\": 101}\n]",
    )
    .unwrap();
    let (out, stdout, _) = run(matcher().arg("validate").arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.starts_with("providers.json:4: not a JSON array of objects"), "{stdout}");
    std::fs::write(
        dir.join("providers.json"),
        "[\n  {\"id\": \"p-1\",\n   \"name\": \"A\",\n   \"municipality\": 9999}\n]",
    )
    .unwrap();
    let (_, stdout, _) = run(matcher().arg("validate").arg(&dir));
    assert!(
        stdout.starts_with("providers.json:4: column `municipality` = `9999`: unknown municipality code"),
        "{stdout}"
    );
    std::fs::remove_file(dir.join("candidates.csv")).unwrap();
    let (_, stdout, _) = run(matcher().arg("validate").arg(&dir));
    assert!(
        stdout.contains("candidates.csv: table is missing: expected candidates.csv or candidates.json"),
        "{stdout}"
    );
}

#[test]
fn damaged_snapshots_and_missing_paths_fail_with_a_reason() {
    let dir = temp_dir("snap");
    let snap = dir.join("demo.snapshot");
    gen_demo(1, &dir, Some(&snap));
    let bytes = std::fs::read(&snap).unwrap();
    std::fs::write(&snap, &bytes[..bytes.len() / 2]).unwrap();
    let (out, _, stderr) = run(matcher().arg("validate").arg(&snap));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("truncated"), "{stderr}");
    let (out, _, stderr) = run(matcher().arg("validate").arg(dir.join("nothing-here")));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("nothing-here"), "{stderr}");
    let (out, _, stderr) = run(matcher().args(["gen", "--scale", "galaxy", "--out"]).arg(&dir));
    assert!(!out.status.success());
    assert!(stderr.contains("expected demo, municipality, national or nordic"), "{stderr}");
}
