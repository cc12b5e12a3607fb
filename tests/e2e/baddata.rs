//! Data as municipalities have it (issue 19): the broken files of `fixtures/baddata/`, each
//! with the exact message `matcher validate` prints; Danish Excel CSV in and out; reference
//! tables from a directory.

use crate::common::{matcher, run, temp_dir};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/fixtures/baddata").join(name)
}

fn example_reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/reference-2027-example")
}

/// `matcher validate ARGS FIXTURE`: exit code and stdout, with the fixture's path shortened.
fn validate(name: &str, args: &[&str]) -> (Option<i32>, String) {
    let path = fixture(name);
    let (out, stdout, _) = run(matcher().arg("validate").args(args).arg(&path));
    (out.status.code(), stdout.replace(&path.display().to_string(), name))
}

const VALID: &str = "valid: 3 candidates, 2 offers (2 provider, 0 job, 0 work trial, 0 reciprocal help), 2 providers, 0 evidence rows\n";

const LATIN1: &str = "file is not UTF-8: it looks like Windows-1252 (Latin-1), which Danish Excel writes as “CSV (semikolonsepareret)”";

#[test]
fn a_windows_1252_file_is_one_message_naming_the_encoding_and_its_knock_on_checks_are_suppressed() {
    let (code, stdout) = validate("latin1-providers", &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stdout,
        format!(
            "providers.csv:2: {LATIN1}: byte 0xE5 is `å` in Windows-1252. Save it in Excel as “CSV UTF-8”, or read it as it is with --encoding windows-1252\n\
             offers.csv: provider_id not checked against providers, because providers could not be read (see above); errors they would give are suppressed\n\
             2 problems in latin1-providers\n"
        )
    );
    // Read as the user says it is: the other files are UTF-8 and are read as such.
    assert_eq!(validate("latin1-providers", &["--encoding", "windows-1252"]), (Some(0), VALID.to_string()));
}

#[test]
fn danish_excel_csv_with_semicolons_decimal_commas_and_danish_dates_is_read() {
    assert_eq!(validate("semicolon", &[]), (Some(0), VALID.to_string()));
    let (code, stdout) = validate("semicolon-windows-1252", &[]);
    assert_eq!(code, Some(1));
    assert!(stdout.starts_with(&format!("providers.csv:2: {LATIN1}: byte 0xE5 is `å`")), "{stdout}");
    assert!(stdout.ends_with("3 problems in semicolon-windows-1252\n"), "{stdout}");
    assert_eq!(
        validate("semicolon-windows-1252", &["--encoding", "windows-1252"]),
        (Some(0), VALID.to_string())
    );
    // The same data as the plain comma files: same overview.
    let (_, excel) = validate("semicolon", &["--explain"]);
    let (_, plain) = validate("valid", &["--explain"]);
    let tail = |s: &str| s[s.find("\nvalid: ").unwrap()..].to_string();
    assert_eq!(tail(&excel), tail(&plain));
    assert!(
        excel.contains(
            "  offers.csv: `;`-separated (Danish Excel: decimal comma read), UTF-8 with BOM, 2 rows\n"
        ),
        "{excel}"
    );
}

#[test]
fn an_empty_file_says_it_is_empty() {
    assert_eq!(
        validate("empty-candidates", &[]),
        (
            Some(1),
            "candidates.csv: file is empty; expected a header line with the columns: id, municipality, age_band, target_groups, benefit_kind, benefit_start, max_travel_km\n\
             1 problem in empty-candidates\n"
                .to_string()
        )
    );
}

#[test]
fn another_separator_is_named() {
    let (code, stdout) = validate("pipe-separated", &[]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.starts_with("providers.csv:1 = `id|name|municipality`: the header is one column, separated by `|`; columns must be separated by `,`, `;` or a tab\n"),
        "{stdout}"
    );
}

#[test]
fn a_date_that_does_not_exist_is_called_that() {
    assert_eq!(
        validate("impossible-date", &[]),
        (
            Some(1),
            "candidates.csv:3: column `benefit_start` = `2026-02-30`: not a date that exists: February 2026 has 28 days\n\
             1 problem in impossible-date\n"
                .to_string()
        )
    );
}

#[test]
fn a_decimal_comma_in_a_comma_file_is_refused_with_the_reason() {
    assert_eq!(
        validate("decimal-comma", &[]),
        (
            Some(1),
            "offers.csv:2: column `lat` = `57,01027`: decimal comma in a `,`-separated file; write a decimal point (57.01027), or save the file `;`-separated as Danish Excel does\n\
             1 problem in decimal-comma\n"
                .to_string()
        )
    );
    assert_eq!(
        validate("decimal-comma-unquoted", &[]),
        (
            Some(1),
            "offers.csv:2: row has 15 values, the header has 13 columns; a comma inside a value (a decimal comma such as 57,01027?) splits it: quote the value, use a decimal point, or save the file `;`-separated\n\
             1 problem in decimal-comma-unquoted\n"
                .to_string()
        )
    );
}

#[test]
fn a_missing_directory_is_said_once() {
    let path = fixture("no-such-dir");
    for command in [
        &["validate"][..],
        &["batch", "--quiet", "--today", "2026-09-01", "--out", "/nonexistent/out", "--data"],
    ] {
        let (out, stdout, stderr) = run(matcher().args(command).arg(&path));
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            format!(
                "error: {}: does not exist; expected a data set directory or a snapshot file\n",
                path.display()
            )
        );
    }
}

#[test]
fn explain_counts_the_data_set_and_groups_problems_by_kind() {
    let (code, stdout) = validate("valid", &["--explain"]);
    assert_eq!(code, Some(0));
    for line in [
        "files in valid:",
        "  providers.csv: `,`-separated, UTF-8, 2 rows",
        "rows: providers 2, offers 2, evidence 0, candidates 3",
        "  0851 Aalborg: 3, 2, 10",
        "  youth_psychosocial: 1, 1, 5; 2020-01-01..",
        "by benefit kind: cash_benefit 1, education_benefit 1, sickness_benefit 1",
        "benefit_start: 2019-05-01 to 2026-02-01 (3 values)",
        "reassessment_date: none",
    ] {
        assert!(stdout.lines().any(|l| l == line), "no {line:?} in\n{stdout}");
    }
    // Five bad rows of one kind: the first three, and a count of the rest.
    let dir = temp_dir("explain");
    for name in ["providers.csv", "offers.csv", "candidates.csv"] {
        std::fs::copy(fixture("valid").join(name), dir.join(name)).unwrap();
    }
    let mut text = std::fs::read_to_string(dir.join("candidates.csv")).unwrap();
    for i in 4..=8 {
        text.push_str(&format!("cand-00{i},0851,57.05,9.93,18-24,elves,cash_benefit,2026-01-15,,25,da\n"));
    }
    std::fs::write(dir.join("candidates.csv"), text).unwrap();
    let (out, stdout, _) = run(matcher().args(["validate", "--explain"]).arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    let problems = &stdout[stdout.find("problems by kind").unwrap()..];
    assert_eq!(
        problems.replace(&dir.display().to_string(), "DIR"),
        "problems by kind (1 kinds):\n\
         \x20 candidates.csv:5: column `target_groups` = `elves`: `elves` is not a known target group code\n\
         \x20 candidates.csv:6: column `target_groups` = `elves`: `elves` is not a known target group code\n\
         \x20 candidates.csv:7: column `target_groups` = `elves`: `elves` is not a known target group code\n\
         \x20   … and 2 more of this kind\n\
         5 problems in DIR\n"
    );
}

/// The `valid` fixture with one candidate and one offer in a group of the 2027 example.
fn data_with_a_2027_group() -> crate::common::TempDir {
    let dir = temp_dir("ref2027");
    std::fs::copy(fixture("valid").join("providers.csv"), dir.join("providers.csv")).unwrap();
    let offers = std::fs::read_to_string(fixture("valid").join("offers.csv")).unwrap()
        + "course-003,provider,Unge 2027 (invented),lev-0001,0851,57.05,9.93,4,9000,specialist,young_2027,da,10\n";
    std::fs::write(dir.join("offers.csv"), offers).unwrap();
    let candidates = std::fs::read_to_string(fixture("valid").join("candidates.csv"))
        .unwrap()
        .replace("18-24,youth_psychosocial,", "18-24,youth_psychosocial;young_2027,");
    std::fs::write(dir.join("candidates.csv"), candidates).unwrap();
    dir
}

#[test]
fn reference_tables_from_a_directory_extend_the_embedded_ones_for_validate_and_batch() {
    let data = data_with_a_2027_group();
    let (out, stdout, _) = run(matcher().arg("validate").arg(&data));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("`young_2027` is not a known target group code"), "{stdout}");
    let reference = example_reference();
    let (out, stdout, _) =
        run(matcher().args(["validate", "--explain", "--reference"]).arg(&reference).arg(&data));
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.lines().any(|l| l == "  young_2027: 1, 1, 4; 2027-01-01.."), "{stdout}");
    assert!(stdout.lines().any(|l| l == "  youth_psychosocial: 1, 1, 5; 2020-01-01..2026-12-31"), "{stdout}");

    // The first night of 2027: the new group's offer is suggested, the old group's is not.
    let out_dir = temp_dir("ref2027-out");
    let run_dir = out_dir.join("run");
    let (out, _, stderr) = run(matcher()
        .args(["batch", "--quiet", "--today", "2027-01-04", "--excel", "--reference"])
        .arg(&reference)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&run_dir));
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("report.json")).unwrap()).unwrap();
    let groups = report["by_group"].as_array().unwrap();
    let young = groups.iter().find(|g| g["key"] == "young_2027").expect("young_2027 in the report");
    assert_eq!(
        (young["name"].as_str(), young["candidates"].as_u64()),
        (Some("Young people under 30 (example 2027)"), Some(1))
    );
    let proposals = std::fs::read_to_string(run_dir.join("proposals.csv")).unwrap();
    let cand = proposals.lines().find(|l| l.starts_with("cand-001,")).unwrap();
    assert!(cand.contains(",course-003,"), "{cand}");

    // The Excel copies: BOM, `;`, decimal comma, and the overview table with the new group.
    let excel = std::fs::read(run_dir.join("proposals.excel.csv")).unwrap();
    assert!(excel.starts_with(b"\xEF\xBB\xBFcandidate_id;municipality;offer_id;"));
    let excel = String::from_utf8(excel).unwrap();
    let row = excel.lines().find(|l| l.starts_with("cand-001;")).unwrap();
    let distance = row
        .split(';')
        .nth(excel.lines().next().unwrap().split(';').position(|h| h == "distance_km").unwrap())
        .unwrap();
    assert!(distance.contains(',') && !distance.contains('.'), "{row}");
    let overview = std::fs::read_to_string(run_dir.join("overview.excel.csv")).unwrap();
    assert!(
        overview.contains("\r\ntarget_group;young_2027;Young people under 30 (example 2027);1;1;1,0000;"),
        "{overview}"
    );
    assert!(run_dir.join("providers.excel.csv").is_file() && run_dir.join("prices.excel.csv").is_file());

    // Without --reference the same data set is refused before anything is written.
    let (out, _, stderr) = run(matcher()
        .args(["batch", "--quiet", "--today", "2027-01-04", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(out_dir.join("other")));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("young_2027"), "{stderr}");
    assert!(!out_dir.join("other").exists());
}

#[test]
fn a_bad_reference_directory_names_file_line_column_and_value() {
    let dir = temp_dir("badref");
    std::fs::write(
        dir.join("target_groups.csv"),
        "code,name_da,name_en,valid_from,valid_to,prior_success_rate,prior_strength\n\
         young_2027,Unge,Young,2027-01-01,2026-12-31,0.3,20\n",
    )
    .unwrap();
    let (out, _, stderr) = run(matcher().args(["validate", "--reference"]).arg(&dir).arg(fixture("valid")));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr,
        format!(
            "error: reference directory {}:\ntarget_groups.csv:2: column `valid_to` = `2026-12-31`: the group ends before it starts (2027-01-01)\n",
            dir.display()
        )
    );
}

#[test]
fn the_service_uses_the_reference_directory_and_refuses_a_bad_one_before_it_listens() {
    let reference = matcher_core::dataset::load_reference(&example_reference(), &Default::default()).unwrap();
    let dir = temp_dir("serve-ref");
    let config = matcher_service::server::Config {
        db: dir.join("matcher.db"),
        today: matcher_core::model::Date::parse("2027-01-04"),
        reference: Some(std::sync::Arc::new(reference)),
        ..matcher_service::server::Config::default()
    };
    let state = matcher_service::server::AppState::open(config).unwrap();
    let r = state.catalogues.reference();
    let young = r.group("young_2027").expect("the example's group");
    assert!(r.group_valid_on(young, matcher_core::model::Date::parse("2027-01-04").unwrap()));

    let bad = temp_dir("serve-badref");
    std::fs::write(bad.join("municipalities.csv"), "kommunekode\n").unwrap();
    let (out, stdout, stderr) = run(matcher()
        .args(["serve", "--bind", "127.0.0.1:0", "--db"])
        .arg(dir.join("other.db"))
        .arg("--reference")
        .arg(&bad));
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(stderr.contains("municipalities.csv: not a reference table that can be replaced"), "{stderr}");
}
