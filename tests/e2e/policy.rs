//! `matcher serve --policy`: a municipality's policy file changes the suggestions of that
//! municipality, and only of that one.

use super::common::server::{Child, call, candidate, cli_token, offer, temp_dir};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;

fn spawn_with(db: &Path, policies: &[&Path]) -> (Child, SocketAddr) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_matcher"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--today", "2026-09-01", "--db"]).arg(db);
    for p in policies {
        cmd.arg("--policy").arg(p);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn matcher serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the listening line");
    let addr = line.trim().trim_start_matches("listening on http://").parse().expect("address");
    (Child(child), addr)
}

/// The suggested offer ids of candidates a1 (Aalborg, 0851) and b1 (København, 0101), both
/// about 5 km from the one course, from a fresh server with the given policy files.
fn suggestions_with(label: &str, policies: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
    let dir = temp_dir(label);
    let db = dir.0.join("matcher.db");
    let files: Vec<_> = policies
        .iter()
        .map(|(name, text)| {
            let path = dir.0.join(name);
            std::fs::write(&path, text).expect("write policy");
            path
        })
        .collect();
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let a = cli_token(&db, "0851", "system");
    let b = cli_token(&db, "0101", "system");
    let (_child, addr) = spawn_with(&db, &paths);
    let offers = json!([offer("course-1", 10)]).to_string();
    assert_eq!(call(addr, "POST", "/v1/offers", Some(&a), Some(&offers)).status, 200);
    for (token, id, m) in [(&a, "cand-a1", "0851"), (&b, "cand-b1", "0101")] {
        let body = json!([candidate(id, m)]).to_string();
        assert_eq!(call(addr, "POST", "/v1/candidates", Some(token), Some(&body)).status, 200);
    }
    let ids = |token: &str, id: &str| -> Vec<String> {
        let r = call(
            addr,
            "POST",
            "/v1/suggestions",
            Some(token),
            Some(&json!({"candidate_id": id}).to_string()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["suggestions"]
            .as_array()
            .expect("suggestions")
            .iter()
            .map(|s| s["offer_id"].as_str().expect("offer_id").to_string())
            .collect()
    };
    (ids(&a, "cand-a1"), ids(&b, "cand-b1"))
}

#[test]
fn serve_policy_changes_suggestions_for_that_municipality_only() {
    let (a_default, b_default) = suggestions_with("policy-none", &[]);
    assert_eq!(a_default, ["course-1"]);
    assert_eq!(b_default, ["course-1"]);
    // Aalborg's own limit of 1 km removes the course (about 5 km away) for Aalborg only; the
    // code is written as people write it, with its leading zero, as a bare TOML value.
    let strict = "name = \"Aalborg\"\nmunicipality = 0851\n[limits]\nmax_distance_km = 1.0\n";
    let (a_strict, b_strict) = suggestions_with("policy-aalborg", &[("aalborg.toml", strict)]);
    assert!(a_strict.is_empty(), "Aalborg's policy should remove the course: {a_strict:?}");
    assert_eq!(b_strict, b_default, "another municipality's suggestions must not change");
}

#[test]
fn serve_refuses_two_policies_for_one_municipality_naming_the_file() {
    let dir = temp_dir("policy-twice");
    let one = dir.0.join("one.toml");
    let two = dir.0.join("two.toml");
    std::fs::write(&one, "municipality = \"0851\"\n").expect("write");
    std::fs::write(&two, "municipality = 851\n").expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_matcher"))
        .args(["serve", "--bind", "127.0.0.1:0", "--db"])
        .arg(dir.0.join("matcher.db"))
        .arg("--policy")
        .arg(&one)
        .arg("--policy")
        .arg(&two)
        .output()
        .expect("run matcher serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("two.toml") && stderr.contains("second policy"), "{stderr}");
}

/// A policy is for a municipality of the reference data. A code that is none of them (a typo:
/// 815 for Aalborg's 851) used to be accepted and applied to nobody, so the night ran the
/// municipality on the national default without a word; and a synthetic region's code (1751
/// with `--reference data/reference-nordic`, where "policies work as in Denmark") was refused
/// as "not a municipality code" by a fixed range 101..=999.
#[test]
fn a_policy_for_a_municipality_the_reference_data_does_not_know_is_refused_naming_file_and_key() {
    use crate::common::{matcher, run};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = temp_dir("policy-municipality");
    let batch = |policy: &str, reference: Option<&str>, out: &str| {
        let path = dir.0.join(format!("{out}.toml"));
        std::fs::write(&path, policy).expect("write policy");
        let mut cmd = matcher();
        cmd.args(["batch", "--quiet", "--no-baselines", "--today", "2026-11-02", "--data"])
            .arg(root.join("data/demo"))
            .arg("--out")
            .arg(dir.0.join(out))
            .arg("--policy")
            .arg(&path);
        if let Some(reference) = reference {
            cmd.arg("--reference").arg(root.join(reference));
        }
        let (output, _, stderr) = run(&mut cmd);
        (output.status.code(), stderr, path.display().to_string())
    };
    let (code, stderr, path) = batch("municipality = 815\n[weights]\nurgency = 4.0\n", None, "typo");
    assert_eq!(code, Some(1), "a policy for no municipality must stop the night: {stderr}");
    assert!(
        stderr.contains(&path) && stderr.contains("key `municipality`") && stderr.contains("815"),
        "{stderr}"
    );
    let (code, stderr, _) = batch("municipality = 1751\n", Some("data/reference-nordic"), "nordic");
    assert_eq!(code, Some(0), "a synthetic region's municipality takes a policy: {stderr}");
}
