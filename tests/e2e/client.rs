//! A real client generated from the live `/openapi.json`: `openapi-python-client` (pinned in
//! `tests/client/requirements.txt`) generates a Python package from the document the real
//! `matcher serve` answers (loopback, real SQLite file), and `tests/client/flow.py` runs
//! suggestions → decision (accept) → outcome, then a batch run and its proposals, through it,
//! parsing every answer into the generated models. A document that is wrong for the answers
//! fails here.
//!
//! A missing generator fails the test with how to install it (`.ci/run` does), never skips.

use super::common::server::{call, cli_token, spawn_server, temp_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL: &str = "install the generated-client test's tools with `python3 -m venv tests/client/.venv && \
     tests/client/.venv/bin/pip install -r tests/client/requirements.txt` (`.ci/run` does both)";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The virtual environment holding the generator and the client's run-time packages.
fn venv() -> PathBuf {
    std::env::var_os("BROBYGGER_CLIENT_VENV").map_or_else(|| repo().join("tests/client/.venv"), PathBuf::from)
}

#[test]
fn a_client_generated_from_openapi_json_runs_suggestion_decision_outcome() {
    let (generator, python) = (venv().join("bin/openapi-python-client"), venv().join("bin/python"));
    assert!(generator.is_file() && python.is_file(), "{} not found: {INSTALL}", generator.display());
    let dir = temp_dir("client");
    let db = dir.0.join("matcher.db");
    let system = cli_token(&db, "0851", "system");
    let caseworker = cli_token(&db, "0851", "caseworker");
    let (_server, addr) = spawn_server(&db);

    let document = call(addr, "GET", "/openapi.json", None, None);
    assert_eq!(document.status, 200, "{}", document.body);
    let spec = dir.0.join("openapi.json");
    std::fs::write(&spec, document.body.to_string()).expect("write openapi.json");

    let package = dir.0.join("generated/matcher_client");
    let out = Command::new(&generator)
        .args(["generate", "--meta", "none", "--path"])
        .arg(&spec)
        .arg("--config")
        .arg(repo().join("tests/client/generator.yml"))
        .arg("--output-path")
        .arg(&package)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}: {INSTALL}", generator.display()));
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "generation failed:\n{log}");
    // The generator still writes a client when it cannot read part of the document: refuse that.
    assert!(!log.contains("Warning"), "the generator warned about the document:\n{log}");

    let out = Command::new(&python)
        .arg(repo().join("tests/client/flow.py"))
        .arg(format!("http://{addr}"))
        .args([&system, &caseworker])
        .env("PYTHONPATH", dir.0.join("generated"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run tests/client/flow.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "flow.py failed:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for step in ["suggestions: 200", "decision: 201", "outcome: 201", "proposals: 200", "ok"] {
        assert!(stdout.lines().any(|l| l == step), "no `{step}` in:\n{stdout}");
    }
}
