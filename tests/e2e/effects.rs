//! `matcher evaluate` and `matcher history`, and what a run with an `outcomes` history adds:
//! `quality.csv`, the uplift and the negative-effect flag of each suggestion.

use crate::common::{matcher, run, temp_dir};

#[test]
fn a_world_with_a_history_evaluates_runs_and_exports_its_history() {
    let dir = temp_dir("effects-world");
    let world = dir.join("world");
    let (out, stdout, stderr) =
        run(matcher().args(["evaluate", "--world", "base", "--seed", "1", "--out"]).arg(&world));
    assert!(out.status.success(), "{stdout}{stderr}");
    // One row and the mean; the engine with the history beats random and nearest. Columns:
    // with outcomes, without, estimated, plain estimator, random, nearest.
    let row = stdout.lines().find(|l| l.starts_with("| base | 1 |")).expect("a row for seed 1");
    let shares: Vec<f64> =
        row.split('|').filter_map(|c| c.trim().strip_suffix(" %")).filter_map(|c| c.parse().ok()).collect();
    assert_eq!(shares.len(), 6, "{row}");
    assert!(shares[0] > shares[4] + 10.0 && shares[0] > shares[5] + 10.0, "{row}");

    let (out, history, stderr) = run(matcher().arg("history").arg(&world));
    assert!(out.status.success(), "{stderr}");
    assert!(
        history.starts_with("id,municipality,target_groups,age_band,benefit_kind,weeks_on_benefit,offer_id")
    );
    assert_eq!(history.lines().count(), 6_001);

    let runs = dir.join("run");
    let (out, stdout, stderr) = run(matcher()
        .args(["batch", "--quiet", "--today", "2026-11-02", "--data"])
        .arg(&world)
        .arg("--out")
        .arg(&runs));
    assert!(out.status.success(), "{stdout}{stderr}");
    let quality = std::fs::read_to_string(runs.join("quality.csv")).expect("quality.csv");
    assert!(quality.starts_with(
        "level,id,name,target_group,episodes,observed_rate,expected_rate,adjusted_rate,uplift,uplift_low,uplift_high"
    ));
    assert!(quality.lines().any(|l| l.starts_with("provider,p-000,")));
    let proposals = std::fs::read_to_string(runs.join("proposals.csv")).expect("proposals.csv");
    assert!(proposals.lines().next().expect("header").ends_with(",uplift,effect_flag"));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(runs.join("report.json")).expect("report")).expect("json");
    let negative = &report["negative_effect"];
    let flagged = proposals
        .lines()
        .filter(|l| l.ends_with(",small_effect_for_price") || l.ends_with(",too_uncertain"))
        .count();
    assert_eq!(
        negative["small_for_price"].as_u64().unwrap_or(0) + negative["too_uncertain"].as_u64().unwrap_or(0),
        flagged as u64
    );
}

#[test]
fn a_bad_outcome_row_refuses_the_data_set_with_its_place() {
    let dir = temp_dir("effects-bad");
    let world = dir.join("world");
    let (out, _, stderr) =
        run(matcher().args(["evaluate", "--world", "base", "--seed", "2", "--out"]).arg(&world));
    assert!(out.status.success(), "{stderr}");
    let path = world.join("outcomes.csv");
    let text = std::fs::read_to_string(&path).expect("outcomes");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[3] = "e-x,0751,sickness,40-49,sickness_benefit,3,no-such-offer,2025-01-06,yes,12".into();
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let (out, stdout, stderr) = run(matcher().arg("validate").arg(&world));
    assert!(!out.status.success());
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("outcomes.csv:4") && all.contains("offer_id") && all.contains("no-such-offer"),
        "{all}"
    );
}
