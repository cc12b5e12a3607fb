//! Issue 17, accountable by design: the suggestion log reproduces exactly what
//! `POST /v1/suggestions` (the widget's call) returned and every batch proposal, with who
//! asked and the versions in force; it is append-only in the database too; only an admin of
//! the same municipality reads it.

use super::common::server::*;
use serde_json::{Value, json};

/// The raw bytes of a JSON answer (the helper `call` parses; here the bytes themselves count).
fn raw_call(s: &Server, method: &str, path: &str, token: &str, body: &str) -> (u16, Vec<u8>) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, _, bytes) = raw(s.addr, req.as_bytes());
    (status, bytes)
}

#[test]
fn the_suggestion_log_reproduces_exactly_what_was_shown() {
    let s = start("suggestion-log");
    seed(&s);
    let cw = s.tokens.a_caseworker.clone();
    let admin = s.tokens.a_admin.clone();
    // What the widget asks for, and a second list later with another k.
    let (status, first) =
        raw_call(&s, "POST", "/v1/suggestions", &cw, r#"{"candidate_id": "cand-a1", "k": 2}"#);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&first));
    let (status, second) =
        raw_call(&s, "POST", "/v1/suggestions", &admin, r#"{"candidate_id": "cand-a1", "k": 1}"#);
    assert_eq!(status, 200);
    // Another candidate's list is not in cand-a1's log.
    let (status, _) = raw_call(&s, "POST", "/v1/suggestions", &cw, r#"{"candidate_id": "cand-a2"}"#);
    assert_eq!(status, 200);

    let today = matcher_service::clock::today_utc().to_string();
    let path = format!("/v1/audit/suggestions?candidate_id=cand-a1&date={today}");
    let (status, log_bytes) = raw_call(&s, "GET", &path, &admin, "");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&log_bytes));
    // Byte for byte: each served body appears unchanged inside the audit answer.
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(contains(&log_bytes, &first), "the first answer, byte for byte");
    assert!(contains(&log_bytes, &second), "the second answer, byte for byte");
    let log: Value = serde_json::from_slice(&log_bytes).expect("audit answer is JSON");
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{log}");
    let served: Value = serde_json::from_slice(&first).expect("json");
    let e = &entries[0];
    assert_eq!(e["answer"], served, "the log holds the answer as it was shown");
    assert_eq!(e["answer"]["suggestions"][0]["factors"], served["suggestions"][0]["factors"]);
    assert!(e["answer"]["suggestions"][0]["effect_dkk"].is_number(), "{e}");
    assert_eq!((e["requested_by"].as_str(), e["role"].as_str()), (Some("cw-a"), Some("caseworker")));
    assert_eq!((e["source"].as_str(), e["candidate_id"].as_str()), (Some("api"), Some("cand-a1")));
    assert_eq!(e["offers_version"], served["offers_version"]);
    assert!(e["shown_at"].as_str().is_some_and(|t| t.starts_with(&today) && t.ends_with('Z')), "{e}");
    assert!(e["engine_version"].as_str().is_some_and(|v| v.starts_with("matcher ")), "{e}");
    assert!(e["policy_name"].as_str().is_some_and(|n| !n.is_empty()), "{e}");
    for hash in ["policy_hash", "reference_hash"] {
        let h = e[hash].as_str().unwrap_or("");
        assert!(h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}: {e}");
    }
    assert_eq!(entries[1]["requested_by"], "admin-a");
    assert!(entries[0]["number"].as_i64() < entries[1]["number"].as_i64());
    assert_eq!(log["next"], Value::Null);
    // Paging: one at a time gives the same entries.
    let page = call(s.addr, "GET", "/v1/audit/suggestions?candidate_id=cand-a1&limit=1", Some(&admin), None);
    assert_eq!(page.body["entries"].as_array().map(Vec::len), Some(1));
    let after = page.body["next"].as_i64().expect("next");
    let rest = call(
        s.addr,
        "GET",
        &format!("/v1/audit/suggestions?candidate_id=cand-a1&after={after}"),
        Some(&admin),
        None,
    );
    assert_eq!(rest.body["entries"][0]["answer"], entries[1]["answer"]);
    // Another day holds nothing.
    let other =
        call(s.addr, "GET", "/v1/audit/suggestions?candidate_id=cand-a1&date=2020-01-01", Some(&admin), None);
    assert_eq!(other.body["entries"], json!([]), "{}", other.body);

    // A batch run's proposals are logged too, with the run and who started it.
    let run = batch_run(&s, &s.tokens.a_system);
    let r = call(s.addr, "GET", &format!("/v1/batch-runs/{run}/proposals"), Some(&admin), None);
    let proposal = r.body["proposals"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["candidate_id"] == "cand-a1"))
        .cloned()
        .expect("a proposal for cand-a1");
    let log = call(s.addr, "GET", "/v1/audit/suggestions?candidate_id=cand-a1", Some(&admin), None);
    let batch: Vec<&Value> =
        log.body["entries"].as_array().expect("entries").iter().filter(|e| e["source"] == "batch").collect();
    assert_eq!(batch.len(), 1, "{}", log.body);
    assert_eq!(batch[0]["answer"], proposal);
    assert_eq!(batch[0]["batch_run_id"], run);
    assert_eq!(
        (batch[0]["requested_by"].as_str(), batch[0]["role"].as_str()),
        (Some("sys-a"), Some("system"))
    );
}

/// Issue 17 (session 7): suggestions are answered on the answer pool by default, and on
/// Tokio's blocking pool with `answer_threads = 0`; both serve and log the same bytes.
#[test]
fn issue_17_the_answer_pool_and_the_blocking_pool_serve_and_log_the_same_answer() {
    let pooled = start("answer-pool");
    let blocking = start_config("answer-blocking", |c| c.answer_threads = Some(0));
    assert!(pooled.state.answer_pool.is_some() && blocking.state.answer_pool.is_none());
    let body = r#"{"candidate_id": "cand-a1", "k": 3}"#;
    let mut answers = Vec::new();
    for s in [&pooled, &blocking] {
        seed(s);
        let (status, served) = raw_call(s, "POST", "/v1/suggestions", &s.tokens.a_caseworker, body);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&served));
        let (status, log) =
            raw_call(s, "GET", "/v1/audit/suggestions?candidate_id=cand-a1", &s.tokens.a_admin, "");
        assert_eq!(status, 200);
        assert!(log.windows(served.len()).any(|w| w == served.as_slice()), "logged byte for byte");
        answers.push(served);
    }
    assert!(!answers[0].is_empty());
    assert_eq!(answers[0], answers[1], "the same answer from either pool");
}

#[test]
fn the_suggestion_log_is_for_admins_of_the_tenant_and_append_only() {
    let s = start("suggestion-log-access");
    seed(&s);
    let (status, _) =
        raw_call(&s, "POST", "/v1/suggestions", &s.tokens.a_caseworker, r#"{"candidate_id": "cand-a1"}"#);
    assert_eq!(status, 200);
    let path = "/v1/audit/suggestions?candidate_id=cand-a1";
    for token in [&s.tokens.a_caseworker, &s.tokens.a_provider, &s.tokens.a_system] {
        assert_problem(&call(s.addr, "GET", path, Some(token), None), 403);
    }
    // Another municipality's admin sees nothing, not even that there is something.
    let b_admin = matcher_service::server::auth::create_token(
        &s.state.store,
        B,
        matcher_service::server::auth::Role::Admin,
        "admin-b",
    )
    .expect("token");
    let r = call(s.addr, "GET", path, Some(&b_admin), None);
    assert_eq!((r.status, r.body["entries"].clone()), (200, json!([])), "{}", r.body);
    for (bad, field) in [
        ("date=2026-13-01&candidate_id=cand-a1", "/query/date"),
        ("candidate_id=0101901234", "/query/candidate_id"),
        ("date=2026-09-01", "/query/candidate_id"),
    ] {
        let r = call(s.addr, "GET", &format!("/v1/audit/suggestions?{bad}"), Some(&s.tokens.a_admin), None);
        assert_problem(&r, 422);
        assert!(r.body.to_string().contains(field), "{bad}: {}", r.body);
        assert!(!r.body.to_string().contains("0101901234"), "a CPR-like value is never echoed: {}", r.body);
    }
    // Append-only in the file, whatever a process with the file does.
    s.state.audit_log.flush();
    let db = crate::common::server::open_db(&s._dir.0.join("matcher.db"));
    let rows: i64 = db.query_row("SELECT count(*) FROM suggestion_log", [], |r| r.get(0)).expect("count");
    assert_eq!(rows, 1);
    let update = db.execute("UPDATE suggestion_log SET answer = '{}'", []);
    assert!(update.is_err_and(|e| e.to_string().contains("append-only")));
    let delete = db.execute("DELETE FROM suggestion_log", []);
    assert!(delete.is_err_and(|e| e.to_string().contains("append-only")));
}

// ----- persons, not labels: identity-provider tokens -----

mod jwt {
    use super::*;
    use jsonwebtoken::jwk::{Jwk, JwkSet};
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    use matcher_service::server::oidc::OidcConfig;
    use std::path::{Path, PathBuf};

    const ISSUER: &str = "https://idp.test.invalid/realms/aalborg";
    const AUDIENCE: &str = "brobygger";

    fn fixture(name: &str) -> Vec<u8> {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/fixtures/jwt-test-keys").join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn rsa() -> EncodingKey {
        EncodingKey::from_rsa_pem(&fixture("test-only-rsa-private.pem")).expect("test RSA key")
    }

    fn ec() -> EncodingKey {
        EncodingKey::from_ec_pem(&fixture("test-only-ec-private.pem")).expect("test EC key")
    }

    fn forger() -> EncodingKey {
        EncodingKey::from_rsa_pem(&fixture("test-only-rsa-other-private.pem")).expect("other RSA key")
    }

    /// A JWKS of the identity provider's two public keys (kid idp-rsa, idp-ec).
    fn jwks(dir: &Path) -> PathBuf {
        let mut keys = Vec::new();
        for (key, alg, kid) in [(rsa(), Algorithm::RS256, "idp-rsa"), (ec(), Algorithm::ES256, "idp-ec")] {
            let mut jwk = Jwk::from_encoding_key(&key, alg).expect("jwk");
            jwk.common.key_id = Some(kid.into());
            keys.push(jwk);
        }
        let path = dir.join("jwks.json");
        std::fs::write(&path, serde_json::to_string(&JwkSet { keys }).expect("json")).expect("write jwks");
        path
    }

    fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "cw-7f3a91", "exp": now() + 300, "iat": now(),
               "roles": ["caseworker"], "municipality": "0851", "employer": "Jobcenter Aalborg"})
    }

    fn token(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_string);
        encode(&header, claims, key).expect("sign")
    }

    fn b64url(bytes: &[u8]) -> String {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        out
    }

    fn server(label: &str) -> (Server, TempDir) {
        let keys = temp_dir(&format!("{label}-keys"));
        let path = jwks(&keys.0);
        let s = start_config(label, |c| c.oidc = Some(OidcConfig::new(path, ISSUER.into(), AUDIENCE.into())));
        seed(&s);
        (s, keys)
    }

    #[test]
    fn a_withdrawal_names_its_person_and_employer_and_an_erasure_releases_the_place() {
        let (s, _keys) = server("jwt-withdraws");
        let jwt = token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &claims());
        let d = decide(&s, &jwt, "cand-a1", "course-1", "accept");
        assert_eq!(d.status, 201, "{}", d.body);
        let id = d.body["id"].as_i64().expect("id");
        let body = json!({"reason": "the citizen moved"}).to_string();
        let w = call(s.addr, "POST", &format!("/v1/decisions/{id}/withdrawal"), Some(&jwt), Some(&body));
        assert_eq!(w.status, 201, "{}", w.body);
        assert_eq!(
            (w.body["action"].as_str(), w.body["decided_by"].as_str(), w.body["employer"].as_str()),
            (Some("withdrawal"), Some("cw-7f3a91"), Some("Jobcenter Aalborg"))
        );
        // A second accept holds a place; erasing the candidate gives it back and says so.
        let again = decide(&s, &jwt, "cand-a1", "course-2", "accept");
        assert_eq!(again.status, 201, "{}", again.body);
        let erased = call(s.addr, "DELETE", "/v1/candidates/cand-a1", Some(&s.tokens.a_admin), None);
        assert_eq!(erased.status, 200, "{}", erased.body);
        assert_eq!(erased.body["places_released"], 1, "{}", erased.body);
        assert!(erased.body["kept"].as_array().is_some_and(|k| !k.is_empty()), "{}", erased.body);
        let log =
            call(s.addr, "GET", "/v1/audit/access?candidate_id=cand-a1", Some(&s.tokens.a_auditor), None);
        assert_eq!(log.status, 200, "{}", log.body);
        let actions: Vec<(&str, &str)> = log.body["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| Some((e["user"].as_str()?, e["action"].as_str()?)))
            .collect();
        assert_eq!(
            actions,
            [
                ("cw-a", "write"),
                ("cw-7f3a91", "decide"),
                ("cw-7f3a91", "withdraw"),
                ("cw-7f3a91", "decide"),
                ("admin-a", "erase")
            ],
            "{}",
            log.body
        );
    }

    #[test]
    fn a_person_from_the_identity_provider_decides_and_is_named_on_the_decision() {
        let (s, _keys) = server("jwt-decides");
        let jwt = token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &claims());
        let d = decide(&s, &jwt, "cand-a1", "course-1", "accept");
        assert_eq!(d.status, 201, "{}", d.body);
        assert_eq!(
            (d.body["decided_by"].as_str(), d.body["employer"].as_str()),
            (Some("cw-7f3a91"), Some("Jobcenter Aalborg"))
        );
        // ES256 from the same provider, without an employer claim: the municipality stands in.
        let mut other = claims();
        other["sub"] = json!("cw-22b0c4");
        other.as_object_mut().map(|o| o.remove("employer"));
        let jwt_ec = token(Algorithm::ES256, Some("idp-ec"), &ec(), &other);
        assert_eq!(decide(&s, &jwt_ec, "cand-a2", "course-1", "decline").status, 201);
        // A local token still works beside them.
        assert_eq!(decide(&s, &s.tokens.a_caseworker, "cand-a2", "course-2", "decline").status, 201);
        let list = call(s.addr, "GET", "/v1/decisions", Some(&s.tokens.a_admin), None);
        let shown: Vec<(String, String)> = list.body["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .map(|d| {
                (d["decided_by"].as_str().unwrap_or("").into(), d["employer"].as_str().unwrap_or("").into())
            })
            .collect();
        let expected = [
            ("cw-7f3a91", "Jobcenter Aalborg"),
            ("cw-22b0c4", "municipality 0851"),
            ("cw-a", "municipality 0851"),
        ];
        assert_eq!(shown, expected.map(|(a, b)| (a.to_string(), b.to_string())), "{}", list.body);
        // Stored, not made up when answering.
        s.state.audit_log.flush();
        let db = rusqlite::Connection::open(s._dir.0.join("matcher.db")).expect("open");
        let stored: (String, String, String) = db
            .query_row("SELECT decided_by, employer, role FROM decisions ORDER BY id LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .expect("row");
        assert_eq!(stored, ("cw-7f3a91".into(), "Jobcenter Aalborg".into(), "caseworker".into()));
        // The person's municipality is the tenant: another municipality's candidate is unknown.
        let mut b = claims();
        b["municipality"] = json!(101);
        let jwt_b = token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &b);
        assert_problem(&call(s.addr, "GET", "/v1/candidates/cand-a1", Some(&jwt_b), None), 404);
        // A provider role from the token may not decide; its provider claim binds it to a
        // provider (issue 16), and a provider's token without one is refused outright.
        let mut p = claims();
        p["roles"] = json!("provider");
        let unbound = token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &p);
        let r = call(s.addr, "GET", "/v1/offers", Some(&unbound), None);
        assert_problem(&r, 401);
        assert!(r.body["detail"].as_str().is_some_and(|d| d.contains("`provider`")), "{}", r.body);
        p["provider"] = json!("lev-0001");
        let jwt_p = token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &p);
        assert_problem(&decide(&s, &jwt_p, "cand-a1", "course-1", "accept"), 403);
        let own = call(s.addr, "GET", "/v1/providers/lev-0001/decisions", Some(&jwt_p), None);
        assert_eq!(own.status, 200, "{}", own.body);
        assert_problem(&call(s.addr, "GET", "/v1/providers/lev-0002/decisions", Some(&jwt_p), None), 404);
    }

    #[test]
    fn bad_identity_tokens_are_refused_with_a_problem_and_nothing_leaks() {
        let (s, _keys) = server("jwt-refused");
        let base = claims();
        let with = |key: &str, value: Value| {
            let mut c = base.clone();
            c[key] = value;
            c
        };
        let none_token = format!(
            "{}.{}.",
            b64url(br#"{"alg":"none","typ":"JWT","kid":"idp-rsa"}"#),
            b64url(base.to_string().as_bytes())
        );
        let public = String::from_utf8(fixture("test-only-rsa-public.pem")).expect("pem");
        let confused = encode(
            &{
                let mut h = Header::new(Algorithm::HS256);
                h.kid = Some("idp-rsa".into());
                h
            },
            &base,
            &EncodingKey::from_secret(public.as_bytes()).expect("hmac"),
        )
        .expect("sign");
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "expired",
                token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &with("exp", json!(now() - 120))),
                "expired",
            ),
            ("wrongly signed", token(Algorithm::RS256, Some("idp-rsa"), &forger(), &base), "signature"),
            ("forged kid", token(Algorithm::RS256, Some("forged-key"), &forger(), &base), "key id"),
            ("alg none", none_token, "algorithm"),
            ("HS256 with the public key as secret", confused, "algorithm"),
            (
                "not yet valid",
                token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &with("nbf", json!(now() + 600))),
                "not valid yet",
            ),
            (
                "other issuer",
                token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &with("iss", json!("https://evil.invalid"))),
                "issuer",
            ),
            (
                "other audience",
                token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &with("aud", json!("another-app"))),
                "audience",
            ),
            (
                "no role",
                token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &with("roles", json!(["reader"]))),
                "roles",
            ),
            (
                "CPR as user",
                token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &with("sub", json!("0101901234"))),
                "CPR",
            ),
        ];
        for (what, jwt, says) in cases {
            let r = decide(&s, &jwt, "cand-a1", "course-1", "accept");
            assert_problem(&r, 401);
            assert_eq!(r.body["type"], "/problems/identity-token-refused", "{what}: {}", r.body);
            let text = r.body.to_string();
            assert!(text.contains(says), "{what}: {text}");
            assert!(!text.contains(&jwt[..20]) && !text.contains("0101901234"), "{what} leaks: {text}");
        }
        // A little clock skew is tolerated (30 s), as the issue asks.
        let skewed = token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &with("exp", json!(now() - 10)));
        assert_eq!(decide(&s, &skewed, "cand-a1", "course-1", "accept").status, 201);
        // Nothing refused was recorded.
        let list = call(s.addr, "GET", "/v1/decisions", Some(&s.tokens.a_admin), None);
        assert_eq!(list.body["decisions"].as_array().map(Vec::len), Some(1), "{}", list.body);
        // Without --jwt-keys a JWT is refused, saying why.
        let plain = start("jwt-off");
        let jwt = token(Algorithm::RS256, Some("idp-rsa"), &rsa(), &base);
        let r = call(plain.addr, "GET", "/v1/decisions", Some(&jwt), None);
        assert_problem(&r, 401);
        assert!(r.body["detail"].as_str().is_some_and(|d| d.contains("--jwt-keys")), "{}", r.body);
    }
}

// ----- protected attributes and the access log -----

#[test]
fn protected_attributes_reach_the_auditor_only_and_every_access_is_logged() {
    let s = start("protected");
    seed(&s);
    let mut record = candidate("cand-a3", "0851");
    record["gender"] = json!("female");
    record["origin"] = json!("non_western");
    let body = json!([record]).to_string();
    let r = call(s.addr, "POST", "/v1/candidates", Some(&s.tokens.a_system), Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    for (who, token) in
        [("caseworker", &s.tokens.a_caseworker), ("admin", &s.tokens.a_admin), ("system", &s.tokens.a_system)]
    {
        let one = call(s.addr, "GET", "/v1/candidates/cand-a3", Some(token), None);
        assert_eq!(one.status, 200, "{who}: {}", one.body);
        assert!(one.body.get("gender").is_none() && one.body.get("origin").is_none(), "{who}: {}", one.body);
        assert_eq!(one.body["age_band"], "40-49", "the rest is there: {}", one.body);
        let list = call(s.addr, "GET", "/v1/candidates", Some(token), None);
        let text = list.body.to_string();
        assert!(!text.contains("gender") && !text.contains("non_western"), "{who}: {text}");
    }
    // A provider never sees candidates at all.
    assert_problem(&call(s.addr, "GET", "/v1/candidates/cand-a3", Some(&s.tokens.a_provider), None), 403);
    let audit = call(s.addr, "GET", "/v1/candidates/cand-a3", Some(&s.tokens.a_auditor), None);
    assert_eq!(
        (audit.body["gender"].as_str(), audit.body["origin"].as_str()),
        (Some("female"), Some("non_western"))
    );
    // The auditor reads, never writes or decides.
    assert_problem(&call(s.addr, "POST", "/v1/candidates", Some(&s.tokens.a_auditor), Some(&body)), 403);
    assert_problem(&decide(&s, &s.tokens.a_auditor, "cand-a3", "course-1", "accept"), 403);

    // Suggest, decide, erase: each is in the access log with who, role, action and request id.
    let (status, _) =
        raw_call(&s, "POST", "/v1/suggestions", &s.tokens.a_caseworker, r#"{"candidate_id": "cand-a3"}"#);
    assert_eq!(status, 200);
    assert_eq!(decide(&s, &s.tokens.a_caseworker, "cand-a3", "course-1", "decline").status, 201);
    assert_eq!(call(s.addr, "DELETE", "/v1/candidates/cand-a3", Some(&s.tokens.a_admin), None).status, 200);
    let log = call(s.addr, "GET", "/v1/audit/access?candidate_id=cand-a3", Some(&s.tokens.a_auditor), None);
    assert_eq!(log.status, 200, "{}", log.body);
    let seen: Vec<(String, String)> = log.body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["user"].as_str().unwrap_or("").into(), e["action"].as_str().unwrap_or("").into()))
        .collect();
    let want = [
        ("sys-a", "write"),
        ("cw-a", "read"),
        ("cw-a", "list"),
        ("admin-a", "read"),
        ("admin-a", "list"),
        ("sys-a", "read"),
        ("sys-a", "list"),
        ("auditor-a", "read"),
        ("cw-a", "suggest"),
        ("cw-a", "decide"),
        ("admin-a", "erase"),
    ];
    assert_eq!(seen, want.map(|(u, a)| (u.to_string(), a.to_string())), "{}", log.body);
    let first = &log.body["entries"][0];
    assert_eq!(
        (first["role"].as_str(), first["employer"].as_str()),
        (Some("system"), Some("municipality 0851"))
    );
    assert!(first["request_id"].as_str().is_some_and(|r| !r.is_empty()), "{first}");
    // The whole log is exportable; another municipality's auditor sees none of it.
    let all = call(s.addr, "GET", "/v1/audit/access", Some(&s.tokens.a_admin), None);
    assert!(all.body["entries"].as_array().map_or(0, Vec::len) > want.len(), "{}", all.body);
    assert_problem(&call(s.addr, "GET", "/v1/audit/access", Some(&s.tokens.a_caseworker), None), 403);
    let b_auditor = matcher_service::server::auth::create_token(
        &s.state.store,
        B,
        matcher_service::server::auth::Role::Auditor,
        "auditor-b",
    )
    .expect("token");
    let other = call(s.addr, "GET", "/v1/audit/access?candidate_id=cand-a3", Some(&b_auditor), None);
    assert_eq!(other.body["entries"], json!([]), "{}", other.body);
    let db = crate::common::server::open_db(&s._dir.0.join("matcher.db"));
    let delete = db.execute("DELETE FROM access_log", []);
    assert!(delete.is_err_and(|e| e.to_string().contains("append-only")));
}

// ----- citizens' rights -----

#[test]
fn the_access_export_holds_everything_and_the_erasure_removes_the_record_from_the_file() {
    let s = start("citizen");
    seed(&s);
    let mut record = candidate("cand-a3", "0851");
    record["gender"] = json!("male");
    record["origin"] = json!("western");
    let body = json!([record]).to_string();
    assert_eq!(call(s.addr, "POST", "/v1/candidates", Some(&s.tokens.a_system), Some(&body)).status, 200);
    let (status, shown) = raw_call(
        &s,
        "POST",
        "/v1/suggestions",
        &s.tokens.a_caseworker,
        r#"{"candidate_id": "cand-a3", "k": 2}"#,
    );
    assert_eq!(status, 200);
    let d = decide(&s, &s.tokens.a_caseworker, "cand-a3", "course-1", "accept");
    assert_eq!(d.status, 201, "{}", d.body);
    let outcome = json!({"decision_id": d.body["id"], "result": "in_work"}).to_string();
    assert_eq!(
        call(s.addr, "POST", "/v1/outcomes", Some(&s.tokens.a_caseworker), Some(&outcome)).status,
        201
    );

    let export = call(s.addr, "GET", "/v1/candidates/cand-a3/export", Some(&s.tokens.a_auditor), None);
    assert_eq!(export.status, 200, "{}", export.body);
    let e = &export.body;
    assert_eq!(e["data"]["gender"], "male", "the citizen gets all their data: {e}");
    let shown: Value = serde_json::from_slice(&shown).expect("json");
    assert_eq!(e["suggestions_shown"][0]["answer"], shown);
    assert_eq!(e["decisions"][0]["decided_by"], "cw-a");
    assert_eq!(
        (e["outcomes"][0]["result"].as_str(), e["outcomes"][0]["decision_id"].clone()),
        (Some("in_work"), d.body["id"].clone())
    );
    assert!(e["accesses"].as_array().is_some_and(|a| a.iter().any(|x| x["action"] == "decide")), "{e}");
    assert!(e["explanation"]["da"]["decisions"].is_string());
    // The episode the accept started, with the case mix of its day (issue 13).
    assert_eq!(
        (e["episodes"][0]["offer_id"].as_str(), e["episodes"][0]["result"].as_str()),
        (Some("course-1"), Some("in_work")),
        "{e}"
    );
    assert!(e["explanation"]["en"]["episodes"].is_string());
    // Caseworkers do not export; another tenant's export of the id is an unknown id.
    assert_problem(
        &call(s.addr, "GET", "/v1/candidates/cand-a3/export", Some(&s.tokens.a_caseworker), None),
        403,
    );
    let b_admin = matcher_service::server::auth::create_token(
        &s.state.store,
        B,
        matcher_service::server::auth::Role::Admin,
        "admin-b",
    )
    .expect("token");
    let other = call(s.addr, "GET", "/v1/candidates/cand-a3/export", Some(&b_admin), None);
    assert_problem(&other, 404);
    assert!(!other.body.to_string().contains("male"), "{}", other.body);
    assert_problem(&call(s.addr, "GET", "/v1/candidates/nobody/export", Some(&s.tokens.a_admin), None), 404);

    // The file as text, table by table, the way the check after the erasure reads it: before
    // it, the record's personal fields are there to be found.
    let db = crate::common::server::open_db(&s._dir.0.join("matcher.db"));
    let holds_personal = |row: &str| row.contains("\"western\"") || row.contains("\"male\"");
    assert!(
        rows_as_text(&db, "SELECT * FROM candidates").iter().any(|row| holds_personal(row)),
        "the check below cannot see the personal fields in the file"
    );

    // Erasure: the record goes, the legal records stay, and the answer says which and why.
    let erased = call(s.addr, "DELETE", "/v1/candidates/cand-a3", Some(&s.tokens.a_admin), None);
    assert_eq!(erased.status, 200, "{}", erased.body);
    let kept: Vec<&str> =
        erased.body["kept"].as_array().expect("kept").iter().filter_map(|k| k["record"].as_str()).collect();
    assert_eq!(
        kept,
        ["decisions", "suggestion_log", "access_log", "episodes", "cases", "batch_runs"],
        "{}",
        erased.body
    );
    assert!(
        erased.body["kept"]
            .as_array()
            .expect("kept")
            .iter()
            .all(|k| k["why"].as_str().is_some_and(|w| !w.is_empty()))
    );
    assert_problem(&call(s.addr, "DELETE", "/v1/candidates/cand-a3", Some(&s.tokens.a_admin), None), 404);
    // In the database file: no row holds the record's personal fields any more.
    s.state.audit_log.flush();
    let left: i64 = db
        .query_row("SELECT count(*) FROM candidates WHERE id = 'cand-a3'", [], |r| r.get(0))
        .expect("count");
    assert_eq!(left, 0);
    for table in ["decisions", "suggestion_log", "access_log", "outcomes", "batch_runs", "episodes"] {
        for row in rows_as_text(&db, &format!("SELECT * FROM {table}")) {
            assert!(!holds_personal(&row), "{table} keeps personal data: {row}");
        }
    }
    let after = call(s.addr, "GET", "/v1/candidates/cand-a3/export", Some(&s.tokens.a_auditor), None);
    assert_eq!((after.status, after.body["data"].clone()), (200, Value::Null), "{}", after.body);
}
