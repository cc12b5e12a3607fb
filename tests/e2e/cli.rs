use std::process::Command;

fn matcher() -> Command {
    Command::new(env!("CARGO_BIN_EXE_matcher"))
}

#[test]
fn reference_summary_lists_the_98_municipalities() {
    let out = matcher().arg("reference").output().expect("run matcher");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("98 municipalities, 1159 postcodes"), "{text}");
}

/// Issue 17, item 6: the model card follows the policy file and the municipality asked for.
#[test]
fn describe_writes_the_model_card_of_the_policy_in_force() {
    let dir = std::env::temp_dir().join(format!("matcher-describe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let policy = dir.join("aalborg.toml");
    std::fs::write(&policy, "name = \"aalborg-test\"\nmunicipality = \"0851\"\n[weights]\nurgency = 4.0\n")
        .expect("write");
    let card = dir.join("card.html");
    let output = matcher()
        .args(["describe", "--lang", "en", "--format", "html", "--municipality", "851", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&card)
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let html = std::fs::read_to_string(&card).expect("card");
    assert!(
        html.contains("aalborg-test") && html.contains("<td><code>urgency</code></td><td>4</td>"),
        "{html}"
    );
    assert!(html.contains("TO BE FILLED IN BY THE MUNICIPALITY"));
    let output = matcher().args(["describe", "--municipality", "9999"]).output().expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--municipality 9999"));
    let md = matcher().args(["describe"]).output().expect("run");
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(text.starts_with("# Modelkort: Brobygger") && text.contains("| `effect` | 6 |"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
