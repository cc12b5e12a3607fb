use std::process::Command;

fn matcher() -> Command {
    Command::new(env!("CARGO_BIN_EXE_matcher"))
}

fn instance(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("brobygger-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write instance");
    path
}

#[test]
fn solve_prints_one_json_line_with_the_optimum_and_gap_zero() {
    let path = instance("example.txt", "p 2 2 3\nr 1 2\ne 0 0 5\ne 0 1 3\ne 1 1 4\n");
    for mode in ["exact", "stable", "greedy"] {
        let out = matcher()
            .args(["solve", path.to_str().unwrap(), "--threads", "2", "--mode", mode])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.lines().count(), 1, "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["objective"], 9);
        assert_eq!(v["matched"], 2);
        assert_eq!(v["threads"], 2);
        assert!(v["solve_seconds"].as_f64().is_some() && v["parse_seconds"].as_f64().is_some());
        for part in ["bids", "repairs", "patches", "rescans", "keeps", "least_prices", "canonical"] {
            assert!(v["parts"][part].as_f64().is_some_and(|s| s >= 0.0), "{part}: {text}");
        }
        assert_eq!(v["gap"], if mode == "exact" { serde_json::json!("0") } else { serde_json::Value::Null });
    }
}

#[test]
fn solve_names_the_line_and_token_of_a_malformed_instance() {
    let path = instance("bad.txt", "p 2 2 2\ne 0 0 5\ne 0 9 3\n");
    let out = matcher().args(["solve", path.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.txt:3") && err.contains("right_index") && err.contains("out of range"),
        "{err}"
    );
}

#[test]
fn solve_reads_an_instance_from_a_pipe() {
    use std::io::Write;
    let mut child = matcher()
        .args(["solve", "/dev/stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"p 2 2 3\nr 1 2\ne 0 0 5\ne 0 1 3\ne 1 1 4\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["objective"], 9);
}
