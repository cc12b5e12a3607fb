//! Persons, not labels: bearer tokens from the municipality's identity provider (OpenID
//! Connect ID or access tokens, i.e. JWTs) beside the service's own tokens. A JWT is accepted
//! only when signed with RS256 or ES256 by one of the configured keys (a PEM file of public
//! keys or a JWKS file), with the configured issuer and audience, unexpired (30 s leeway for
//! clock skew), and with the configured claims for the person, the role and the municipality.
//!
//! Architecture invariant: the algorithm is never taken from the token. Each configured key
//! has one algorithm; a token whose header names another (`none`, `HS256`, ...) or a key id
//! that is not configured is refused before any signature is checked.
//!
//! Owns key loading and token verification; must not read or write the store, and never puts
//! any part of a refused token into an error message.

use crate::server::auth::{Principal, Role};
use crate::server::error::ApiError;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, errors::ErrorKind};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// Leeway for `exp` and `nbf`, seconds: clocks of the identity provider and this server may
/// differ a little, not more.
pub const LEEWAY_SECONDS: u64 = 30;

/// `matcher serve --jwt-*`: where the keys are and which claims say what.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// PEM file of public keys, or a JWKS (JSON) file.
    pub keys_file: PathBuf,
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must include.
    pub audience: String,
    /// Claim naming the person (stable id); recorded as `decided_by`.
    pub user_claim: String,
    /// Claim with the role (a string or an array of strings; the first role name counts).
    pub role_claim: String,
    /// Claim with the municipality code (`"0851"` or `851`).
    pub municipality_claim: String,
    /// Claim with the person's employer (optional in the token; default "municipality NNNN").
    pub employer_claim: String,
    /// Claim naming the provider a `provider` user works for (its provider id); required in
    /// a token whose role is `provider`, ignored for other roles.
    pub provider_claim: String,
}

impl OidcConfig {
    /// The configuration with the usual claim names (`sub`, `roles`, `municipality`, `employer`).
    pub fn new(keys_file: PathBuf, issuer: String, audience: String) -> OidcConfig {
        OidcConfig {
            keys_file,
            issuer,
            audience,
            user_claim: "sub".into(),
            role_claim: "roles".into(),
            municipality_claim: "municipality".into(),
            employer_claim: "employer".into(),
            provider_claim: "provider".into(),
        }
    }
}

/// A key file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct KeyFileError {
    /// The file.
    pub file: String,
    /// What is wrong, naming the key (by position or `kid`).
    pub reason: String,
}

struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Verifies identity-provider tokens against the configured keys.
pub struct Verifier {
    config: OidcConfig,
    keys: Vec<Key>,
}

/// Whether a bearer value looks like a JWT (three base64url parts) rather than a local token.
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.bytes().filter(|b| *b == b'.').count() == 2
}

impl Verifier {
    /// Reads the key file.
    ///
    /// # Errors
    /// When the file cannot be read, holds no usable key, or holds a key of another kind than
    /// RSA or P-256.
    pub fn load(config: OidcConfig) -> Result<Verifier, KeyFileError> {
        let file = config.keys_file.display().to_string();
        let err = |reason: String| KeyFileError { file: file.clone(), reason };
        let text = std::fs::read_to_string(&config.keys_file).map_err(|e| err(e.to_string()))?;
        let mut keys = Vec::new();
        if text.trim_start().starts_with('{') {
            let set: JwkSet = serde_json::from_str(&text).map_err(|e| err(format!("not a JWKS: {e}")))?;
            for (i, jwk) in set.keys.iter().enumerate() {
                let name = jwk.common.key_id.clone().unwrap_or_else(|| format!("key {}", i + 1));
                let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
                    (Some(KeyAlgorithm::RS256) | None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
                    (Some(KeyAlgorithm::ES256) | None, AlgorithmParameters::EllipticCurve(p))
                        if p.curve == EllipticCurve::P256 =>
                    {
                        Algorithm::ES256
                    }
                    _ => {
                        return Err(err(format!(
                            "{name}: only RS256 (RSA) and ES256 (P-256) keys are accepted"
                        )));
                    }
                };
                let key = DecodingKey::from_jwk(jwk).map_err(|e| err(format!("{name}: {e}")))?;
                keys.push(Key { kid: jwk.common.key_id.clone(), algorithm, key });
            }
        } else {
            let mut rest = text.as_str();
            let mut n = 0;
            while let Some(start) = rest.find("-----BEGIN ") {
                n += 1;
                let after = &rest[start..];
                let end_marker =
                    after.find("-----END ").ok_or_else(|| err(format!("PEM block {n} has no END line")))?;
                let end = after[end_marker..].find("\n").map_or(after.len(), |e| end_marker + e + 1);
                let block = &after[..end];
                if block.contains("PRIVATE KEY") {
                    return Err(err(format!("PEM block {n} is a private key: give public keys only")));
                }
                let (algorithm, key) = match DecodingKey::from_rsa_pem(block.as_bytes()) {
                    Ok(k) => (Algorithm::RS256, k),
                    Err(_) => match DecodingKey::from_ec_pem(block.as_bytes()) {
                        Ok(k) => (Algorithm::ES256, k),
                        Err(_) => {
                            return Err(err(format!(
                                "PEM block {n} is neither an RSA nor a P-256 public key"
                            )));
                        }
                    },
                };
                keys.push(Key { kid: None, algorithm, key });
                rest = &after[end..];
            }
        }
        if keys.is_empty() {
            return Err(err("no public key in the file (PEM blocks or a JWKS `keys` array)".into()));
        }
        Ok(Verifier { config, keys })
    }

    /// The person a JWT names, after checking signature, algorithm, key id, issuer, audience,
    /// expiry and claims. Cheap enough for an async worker (one signature check, ~0.1 ms).
    ///
    /// # Errors
    /// [`ApiError::IdentityToken`] saying which check failed, never quoting the token.
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let refuse = |why: &str| ApiError::IdentityToken(why.to_string());
        let header = decode_header(token).map_err(|_| {
            refuse("the token header is malformed or names an algorithm not accepted (RS256, ES256)")
        })?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(refuse("the token's algorithm is not accepted (RS256, ES256)"));
        }
        let keys: Vec<&Key> = self
            .keys
            .iter()
            .filter(|k| k.algorithm == header.alg)
            .filter(|k| header.kid.is_none() || k.kid == header.kid)
            .collect();
        if keys.is_empty() {
            return Err(if header.kid.is_some() {
                refuse("the token's key id (kid) is not one of the configured keys")
            } else {
                refuse("no configured key has the token's algorithm")
            });
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let mut last = refuse("the signature does not verify against the configured keys");
        for key in keys {
            match decode::<Map<String, Value>>(token, &key.key, &validation) {
                Ok(data) => return self.principal(&data.claims),
                Err(e) => {
                    let why = match e.kind() {
                        ErrorKind::InvalidSignature => continue,
                        ErrorKind::ExpiredSignature => "the token has expired",
                        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
                        ErrorKind::InvalidIssuer => "the token's issuer (iss) is not the configured one",
                        ErrorKind::InvalidAudience => "the token's audience (aud) is not this service",
                        ErrorKind::MissingRequiredClaim(_) => "the token lacks one of exp, iss, aud",
                        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match the key",
                        _ => "the token is malformed",
                    };
                    last = refuse(why);
                }
            }
        }
        Err(last)
    }

    fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, ApiError> {
        let c = &self.config;
        let missing = |claim: &str, what: &str| {
            ApiError::IdentityToken(format!("claim `{claim}` ({what}) is missing or invalid"))
        };
        let user = claims
            .get(&c.user_claim)
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty() && u.len() <= 200)
            .ok_or_else(|| missing(&c.user_claim, "the person"))?;
        if matcher_core::model::looks_like_cpr(user) {
            return Err(ApiError::IdentityToken(format!(
                "claim `{}` looks like a CPR number: configure a pseudonymous claim (--jwt-user-claim)",
                c.user_claim
            )));
        }
        let role = match claims.get(&c.role_claim) {
            Some(Value::String(s)) => Role::parse(s),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).find_map(Role::parse),
            _ => None,
        }
        .ok_or_else(|| missing(&c.role_claim, "a role: system, caseworker, provider or admin"))?;
        let municipality = match claims.get(&c.municipality_claim) {
            Some(Value::String(s)) if s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            _ => None,
        }
        .filter(|m| (1..=9999).contains(m))
        .ok_or_else(|| missing(&c.municipality_claim, "a kommunekode"))?;
        let employer = claims
            .get(&c.employer_claim)
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty() && e.len() <= 200)
            .map_or_else(|| format!("municipality {municipality:04}"), str::to_string);
        // A provider's user is bound to its provider, as a local provider token is: without the
        // claim it could read nothing of its own, so the token is refused outright.
        let provider = if role == Role::Provider {
            let id = claims
                .get(&c.provider_claim)
                .and_then(Value::as_str)
                .filter(|p| matcher_core::model::check_id(p).is_ok())
                .ok_or_else(|| missing(&c.provider_claim, "the provider id of a provider's user"))?;
            Some(id.to_string())
        } else {
            None
        };
        Ok(Principal { municipality, role, user: user.to_string(), employer, provider })
    }
}
