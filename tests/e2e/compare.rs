//! `matcher compare`: the real binary on the committed demo data and its example scenario, the
//! comparison's files agreeing with `matcher batch` on the same night, and bad scenario input
//! named by file, line and column with nothing written.

use crate::batch::well_formed;
use crate::common::{matcher, run, temp_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const TODAY: &str = "2026-11-02";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn compare(out: &Path, extra: &[&str]) -> (Output, String, String) {
    let mut cmd = matcher();
    cmd.args(["compare", "--today", TODAY, "--quiet", "--threads", "2", "--place-values", "3", "--data"])
        .arg(root().join("data/demo"))
        .arg("--out")
        .arg(out)
        .args(extra);
    run(&mut cmd)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("valid JSON")
}

#[test]
fn the_example_scenario_is_compared_side_by_side_and_today_is_the_batch_night() {
    let dir = temp_dir("compare");
    let out = dir.join("cmp");
    let scenario = root().join("data/scenarios/aalborg-one-partner");
    let (status, stdout, stderr) =
        compare(&out, &["--scenario", scenario.to_str().expect("utf-8"), "--add-places", "course-00002=5"]);
    assert!(status.status.success(), "compare failed: {stdout}{stderr}");
    assert!(stdout.contains("suggestions change"), "{stdout}");
    for file in [
        "compare.html",
        "compare.json",
        "compare_groups.csv",
        "compare_municipalities.csv",
        "place_values.csv",
        "run.json",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let c = read_json(&out.join("compare.json"));
    assert_eq!(c["changes"]["offers_added"], 2);
    assert_eq!(c["changes"]["offers_closed"], 23);
    assert_eq!(c["changes"]["contracts_removed"], 10);
    assert_eq!(c["changes"]["contracts_replaced"], 1);
    assert_eq!(c["changes"]["places_added"], 5);

    // Today's side is the night `matcher batch` runs on the same data.
    let night = dir.join("night");
    let mut cmd = matcher();
    cmd.args(["batch", "--today", TODAY, "--quiet", "--no-baselines", "--data"])
        .arg(root().join("data/demo"))
        .arg("--out")
        .arg(&night);
    let (status, _, stderr) = run(&mut cmd);
    assert!(status.status.success(), "{stderr}");
    let report = read_json(&night.join("report.json"));
    assert_eq!(c["today"]["effect_dkk"], report["effect_dkk"]);
    assert_eq!(c["today"]["spend_dkk"], report["spend_dkk"]);
    assert_eq!(c["today"]["matched"], report["matched"]);

    // The closed providers' spend in Aalborg goes to the partner; churn adds up.
    let churn = &c["churn"];
    let changed: u64 =
        c["by_municipality"].as_array().expect("rows").iter().map(|m| m["changed"].as_u64().unwrap()).sum();
    assert_eq!(
        changed,
        churn["moved"].as_u64().unwrap()
            + churn["gained"].as_u64().unwrap()
            + churn["lost"].as_u64().unwrap()
    );
    assert!(changed > 0);
    let mut reader = csv::Reader::from_path(out.join("place_values.csv")).expect("csv");
    let mut rows = 0;
    for row in reader.deserialize::<std::collections::HashMap<String, String>>() {
        let row = row.expect("row");
        let dual: i64 = row["dual_points"].parse().unwrap();
        let gain: i64 = row["resolve_gain_points"].parse().unwrap();
        assert!(0 <= gain && gain <= dual, "{row:?}");
        rows += 1;
    }
    assert_eq!(rows, 6, "three offers on each night");
    let html = std::fs::read_to_string(out.join("compare.html")).expect("html");
    assert!(well_formed(&html) >= 2, "charts");
    assert!(html.contains("Scenariesammenligning") && html.contains("Hvad én plads mere er værd"));
    assert!(!html.contains("<script"));

    let en = dir.join("en");
    let scenario = scenario.to_str().expect("utf-8");
    let (status, _, stderr) = compare(&en, &["--scenario", scenario, "--lang", "en"]);
    assert!(status.status.success(), "{stderr}");
    let html = std::fs::read_to_string(en.join("compare.html")).expect("html");
    assert!(html.contains("Scenario comparison") && html.contains("Per municipality"));
}

/// Writes `files` into a fresh scenario directory under `dir`.
fn scenario(dir: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).expect("mkdir");
    for (file, text) in files {
        std::fs::write(path.join(file), text).expect("write");
    }
    path
}

/// The first offer of the demo with a running (locked) course, and how many run there.
fn offer_with_running_courses() -> (String, usize) {
    let mut reader = csv::Reader::from_path(root().join("data/demo/candidates.csv")).expect("csv");
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for row in reader.deserialize::<std::collections::HashMap<String, String>>() {
        let row = row.expect("row");
        if row["current_locked"] == "true" && !row["current_offer"].is_empty() {
            *counts.entry(row["current_offer"].clone()).or_default() += 1;
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).expect("running courses in the demo")
}

/// The demo's offer row of `id`, with `capacity` replaced.
fn offer_row(id: &str, capacity: &str) -> String {
    let text = std::fs::read_to_string(root().join("data/demo/offers.csv")).expect("offers");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let at = header.iter().position(|h| h == "capacity").expect("capacity column");
    let record = reader.records().map(|r| r.expect("row")).find(|r| &r[0] == id).expect("offer");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).unwrap();
    w.write_record(record.iter().enumerate().map(|(i, v)| if i == at { capacity } else { v })).unwrap();
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

#[test]
fn bad_scenario_input_is_named_by_file_line_and_column_and_nothing_is_written() {
    let dir = temp_dir("compare-bad");
    let contract_header = "id,municipality,provider_id,kind,price_dkk,places,guaranteed_volume,start,end,target_groups,offers\n";
    let (running, held) = offer_with_running_courses();
    let keep = format!("keep at least {held} places");
    let cases: Vec<(PathBuf, Vec<&str>)> = vec![
        (
            scenario(&dir, "bad-capacity", &[("offers.csv", &offer_row("course-00006", "many"))]),
            vec!["bad-capacity/offers.csv:2", "column `capacity`", "many"],
        ),
        (
            scenario(&dir, "under-running", &[("offers.csv", &offer_row(&running, "0"))]),
            vec!["under-running/offers.csv:2", "column `capacity`", "running courses", &keep],
        ),
        (
            scenario(
                &dir,
                "unknown-offer",
                &[(
                    "contracts.csv",
                    &format!(
                        "{contract_header}k-new,0851,lev-0008,strategic_partner,0,10,5,2026-01-01,2026-12-31,,course-99999\n"
                    ),
                )],
            ),
            vec!["unknown-offer/contracts.csv:2", "column `offers`", "course-99999"],
        ),
        (
            scenario(
                &dir,
                "overlap",
                &[(
                    "contracts.csv",
                    &format!(
                        "{contract_header}k-new,0851,lev-0003,specialist,0,10,0,2026-06-01,2026-12-31,cash_longterm,course-00001\n"
                    ),
                )],
            ),
            vec!["overlap/contracts.csv:2", "k-0851-lev-0003", "remove the other contract in remove.csv"],
        ),
        (
            scenario(
                &dir,
                "ends-first",
                &[(
                    "contracts.csv",
                    &format!(
                        "{contract_header}k-new,0851,lev-0008,strategic_partner,0,10,5,2026-12-31,2026-01-01,,course-00006\n"
                    ),
                )],
            ),
            vec!["ends-first/contracts.csv:2", "column `end`"],
        ),
        (
            scenario(
                &dir,
                "bad-remove",
                &[("remove.csv", "table,id,reason\nproviders,lev-0001,x\noffers,course-99999,y\n")],
            ),
            vec![
                "bad-remove/remove.csv:2: column `table`",
                "expected offers or contracts",
                "bad-remove/remove.csv:3: column `id`",
            ],
        ),
        (
            scenario(&dir, "unknown-column", &[("offers.csv", "id,places\ncourse-00006,4\n")]),
            vec!["unknown-column/offers.csv:1: column `kind`: required column is missing"],
        ),
        (scenario(&dir, "empty", &[]), vec!["empty", "no scenario table", "offers.csv"]),
    ];
    for (path, wanted) in cases {
        let out = dir.join(format!("out-{}", path.file_name().unwrap().to_string_lossy()));
        let (status, stdout, stderr) = compare(&out, &["--scenario", path.to_str().expect("utf-8")]);
        assert!(!status.status.success(), "{path:?} was accepted: {stdout}");
        for w in wanted {
            assert!(stderr.contains(w), "{path:?}: `{w}` not in: {stderr}");
        }
        assert!(!out.exists(), "{path:?}: something was written");
    }

    // Flags: a bad value, an unknown offer, nothing to compare.
    for (args, wanted) in [
        (vec!["--add-places", "course-00006"], "expected OFFER=N"),
        (vec!["--add-places", "course-00006=0"], "at least 1"),
        (vec!["--add-places", "no-such-offer=2"], "--add-places no-such-offer=2"),
        (vec![], "nothing to compare"),
    ] {
        let out = dir.join("out-flags");
        let (status, _, stderr) = compare(&out, &args);
        assert!(!status.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(wanted), "{args:?}: `{wanted}` not in: {stderr}");
        assert!(!out.exists());
    }
}

/// A CPR-like number given on the command line is refused without being printed: in an
/// offer id (clap used to echo `invalid value '0101901234=2'`) and as a number of places
/// (the flag was echoed whole as the problem's source: `--add-places course-00002=0101901234`).
#[test]
fn a_cpr_like_number_in_add_places_is_never_printed() {
    let dir = temp_dir("compare-cpr");
    for (arg, wanted) in [("0101901234=2", "looks like a CPR number"), ("course-00002=0101901234", "places")]
    {
        let out = dir.join("out");
        let (status, stdout, stderr) = compare(&out, &["--add-places", arg]);
        assert!(!status.status.success(), "{arg} was accepted");
        assert!(stderr.contains(wanted), "{arg}: `{wanted}` not in: {stderr}");
        for text in [&stdout, &stderr] {
            assert!(!text.contains("0101901234"), "{arg}: the number was printed: {text}");
        }
        assert!(!out.exists());
    }
}
