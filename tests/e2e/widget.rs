//! The caseworker widget in a real browser: starts the real `matcher serve --demo` on an
//! ephemeral port and runs `tests/browser/widget.test.mjs` (node, playwright-core, Debian's
//! chromium, axe-core) against it. Screenshots go to `test-output/widget/` (git-ignored).
//!
//! Missing node, node_modules or chromium fail the test with how to install them: a browser
//! test that quietly skips would let the widget break unnoticed.

use crate::common::{matcher, temp_dir};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

const INSTALL: &str = "install the browser test's tools with `apt-get install -y chromium nodejs npm` and \
     `npm ci --prefix tests/browser` (`.ci/run` does both)";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn chromium() -> PathBuf {
    std::env::var_os("BROBYGGER_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Everything the browser test needs, or a panic that says how to get it.
fn require_tools(browser_dir: &Path) {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "the browser test needs `node` (18 or newer) on PATH: {INSTALL}"
    );
    for package in ["playwright-core", "axe-core"] {
        assert!(
            browser_dir.join("node_modules").join(package).join("package.json").is_file(),
            "tests/browser/node_modules/{package} is missing: {INSTALL}"
        );
    }
    assert!(
        chromium().is_file(),
        "no browser at {} (set BROBYGGER_CHROMIUM to use another): {INSTALL}",
        chromium().display()
    );
}

#[test]
fn widget_works_in_a_real_browser() {
    let browser_dir = root().join("tests/browser");
    require_tools(&browser_dir);
    let dir = temp_dir("widget");
    // A port for the mock host case system on another origin, admitted by CORS.
    let host_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    // The browser test shows a course that starts after a citizen's benefit ends; the national
    // course limit refuses such a course (it avoids no weeks, so it cannot pay), so the demo
    // runs here with that limit off. Everything else is the national default.
    let policy = dir.join("no-course-limit.toml");
    std::fs::write(
        &policy,
        "name = \"no-course-limit\"\n[limits]\nmin_course_effect_high_dkk = -1000000000\n",
    )
    .expect("write the policy");
    let mut child = matcher()
        .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--policy"])
        .arg(&policy)
        .arg("--db")
        .arg(dir.join("matcher.db"))
        .arg("--cors-origin")
        .arg(format!("http://127.0.0.1:{host_port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn matcher serve --demo");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    // Demo tokens come first, then the line with the port.
    let mut admin = None;
    let mut caseworker = None;
    let mut addr = None;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("read the server's stdout");
        if line.contains("role=admin") {
            admin = line.split_whitespace().last().map(str::to_string);
        }
        if line.contains("user=demo-caseworker ") {
            caseworker = line.split_whitespace().last().map(str::to_string);
        }
        if let Some(a) = line.strip_prefix("listening on ") {
            addr = Some(a.trim().to_string());
            break;
        }
    }
    // Keep reading what the server prints, so that its stdout never closes under it.
    std::thread::spawn(move || lines.for_each(drop));
    let addr = addr.expect("the server printed its address");
    let admin = admin.expect("the server printed a demo admin token");
    let caseworker = caseworker.expect("the server printed a demo caseworker token");
    // A caseworker token that expired an hour ago, written to the running server's file: the
    // widget's expired state is checked against a really expired token, not only an unknown one.
    let store =
        matcher_service::server::store::Store::open(&dir.join("matcher.db")).expect("open the server's db");
    let an_hour_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
    let (expired, _) = matcher_service::server::auth::issue_token(
        &store,
        101,
        matcher_service::server::auth::Role::Caseworker,
        "widget-expired",
        Some(an_hour_ago),
    )
    .expect("an expired token");
    drop(store);
    let output = root().join("test-output/widget");
    let started = SystemTime::now();
    // The script has its own 90 s deadline, after which it exits (and playwright closes chromium).
    let run = Command::new("node")
        .arg("widget.test.mjs")
        .current_dir(&browser_dir)
        .env("BROBYGGER_URL", &addr)
        .env("BROBYGGER_ADMIN_TOKEN", &admin)
        .env("BROBYGGER_CASEWORKER_TOKEN", &caseworker)
        .env("BROBYGGER_EXPIRED_TOKEN", &expired)
        .env("BROBYGGER_HOST_PORT", host_port.to_string())
        .env("BROBYGGER_SERVER_PID", server.0.id().to_string())
        .env("BROBYGGER_OUTPUT", &output)
        .env("BROBYGGER_CHROMIUM", chromium())
        .output()
        .expect("run node");
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    println!("{out}");
    assert!(run.status.success(), "the browser test failed ({}):\n{out}\n{err}", run.status);
    assert!(out.contains("browser test passed"), "{out}");
    for shot in ["widget-da-desktop.png", "widget-en-desktop.png", "widget-da-320.png", "widget-en-320.png"] {
        let modified = std::fs::metadata(output.join(shot)).and_then(|m| m.modified());
        assert!(
            modified.is_ok_and(|m| m >= started),
            "screenshot {shot} was not written in {} by this run",
            output.display()
        );
    }
    drop(server);
}
