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
