//! Bearer tokens: random, shown once, stored only as their SHA-256, each scoped to one
//! municipality (the tenant) and one role. Every route names the roles it admits; the tenant
//! filter is applied in the store's queries.
//!
//! A token may expire (an absolute UTC time chosen at creation) and may be revoked (by
//! `matcher token revoke`, another process). Both are read from the store: a running
//! service re-reads a token at most [`RECHECK`] after it last did, so a revocation takes
//! effect within that bound; an expiry takes effect on the exact second, cached or not.

use crate::server::error::ApiError;
use crate::server::store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant, SystemTime};

/// How long a token read from the store is trusted before it is read again: the most a
/// revocation waits to take effect in a running service. Re-reading on every request
/// would cost a blocking database read each time; a few seconds is well inside the time it
/// takes anyone to notice a leaked token and run `matcher token revoke`.
pub const RECHECK: Duration = Duration::from_secs(5);

/// Longest lifetime `matcher token create --expires-in` accepts, in days (ten years).
pub const MAX_EXPIRES_IN_DAYS: u32 = 3650;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An integration (the municipality's case system): reads and writes data, never decides.
    System,
    /// A caseworker of the municipality: the only kind of person who decides, with `admin`.
    Caseworker,
    /// A provider's user, bound to one provider: reads offers, quality and the registry, and of
    /// its municipality only what concerns its own offers (decisions, pseudonymous; comments;
    /// its overview rows and contracts); comments on those decisions; never sees candidates,
    /// never decides.
    Provider,
    /// The municipality's administrator.
    Admin,
    /// The municipality's auditor or data protection officer: reads candidates with their
    /// protected attributes, decisions and the audit logs; changes nothing, never decides.
    Auditor,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [Role::System, Role::Caseworker, Role::Provider, Role::Admin, Role::Auditor];

    /// The role's name in tokens and the API.
    pub fn name(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Caseworker => "caseworker",
            Role::Provider => "provider",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    /// Parses a role name.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// The caller, as its token says.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The tenant (kommunekode).
    pub municipality: u16,
    /// The role.
    pub role: Role,
    /// Who holds the token (a local token's label, or the person an identity-provider token
    /// names); recorded on decisions as `decided_by`.
    pub user: String,
    /// The caller's employer, recorded on decisions: the identity provider's claim, or
    /// "municipality NNNN" for a local token.
    pub employer: String,
    /// A `provider` caller: the provider it works for (its token is bound to it, or the
    /// identity provider's provider claim names it). A provider reads only what concerns its
    /// own offers; `None` for every other role (and for a provider token bound to no provider,
    /// which then reads nothing of its own).
    pub provider: Option<String>,
}

impl Principal {
    /// Admits the caller if its role is one of `roles`.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`] otherwise.
    pub fn require(&self, roles: &[Role], action: &'static str) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden { role: self.role.name(), action })
        }
    }
}

/// SHA-256 of a token, hex. Tokens are 256 random bits, so a fast unsalted hash is enough:
/// nothing can be guessed from it, and a lookup by hash needs a deterministic one.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random token (`bro_` and 64 hex digits).
///
/// # Errors
/// When the operating system has no randomness to give.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("bro_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// When a token made now with a lifetime of `days` stops working; 0 means never.
///
/// # Errors
/// The value, for more than [`MAX_EXPIRES_IN_DAYS`].
pub fn expiry_after_days(days: u32) -> Result<Option<SystemTime>, u32> {
    if days > MAX_EXPIRES_IN_DAYS {
        return Err(days);
    }
    Ok((days > 0).then(|| SystemTime::now() + Duration::from_secs(u64::from(days) * 86_400)))
}

/// Creates and stores a token that never expires; returns it (the only time it is seen).
/// For demo data and tests; `matcher token create` gives tokens a lifetime.
///
/// # Errors
/// On storage failure or lack of randomness.
pub fn create_token(store: &Store, municipality: u16, role: Role, user: &str) -> Result<String, StoreError> {
    issue_token(store, municipality, role, user, None).map(|(token, _)| token)
}

/// Creates and stores a `provider` token bound to `provider`, never expiring (demo data and
/// tests; `matcher token create --role provider --provider ID` gives it a lifetime).
///
/// # Errors
/// On storage failure or lack of randomness.
pub fn create_provider_token(
    store: &Store,
    municipality: u16,
    provider: &str,
    user: &str,
) -> Result<String, StoreError> {
    issue_token_for(store, municipality, Role::Provider, user, None, Some(provider)).map(|(token, _)| token)
}

/// Creates and stores a token that stops working at `expires_at` (`None`: never); returns
/// it (the only time it is seen) and its id.
///
/// # Errors
/// On storage failure or lack of randomness.
pub fn issue_token(
    store: &Store,
    municipality: u16,
    role: Role,
    user: &str,
    expires_at: Option<SystemTime>,
) -> Result<(String, i64), StoreError> {
    issue_token_for(store, municipality, role, user, expires_at, None)
}

/// [`issue_token`], bound to `provider` (a `provider` token: it reads only what concerns that
/// provider's offers).
///
/// # Errors
/// On storage failure or lack of randomness.
pub fn issue_token_for(
    store: &Store,
    municipality: u16,
    role: Role,
    user: &str,
    expires_at: Option<SystemTime>,
    provider: Option<&str>,
) -> Result<(String, i64), StoreError> {
    let token = new_token().map_err(|e| StoreError::Conflict(format!("no randomness: {e}")))?;
    let expires_at = expires_at.map(crate::server::store::rfc3339);
    let id = store.insert_token(
        &hash_token(&token),
        municipality,
        role.name(),
        user,
        expires_at.as_deref(),
        provider,
    )?;
    Ok((token, id))
}

/// A token as last read from the store.
struct Known {
    principal: Principal,
    expires_at: Option<String>,
    read_at: Instant,
}

impl Known {
    /// Usable without asking the store: read recently and not yet expired.
    fn fresh(&self, now: &str) -> bool {
        self.read_at.elapsed() < RECHECK && self.expires_at.as_deref().is_none_or(|at| at > now)
    }
}

/// Tokens read from the store by hash, each trusted for [`RECHECK`]. An unknown hash is
/// asked of the database each time (a token made by `matcher token create` while the
/// service runs works at once).
#[derive(Default)]
pub struct TokenCache {
    known: RwLock<HashMap<String, Known>>,
}

fn bearer(header: Option<&str>) -> Option<&str> {
    header
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 200)
}

impl TokenCache {
    /// The principal of an `Authorization` header value. Blocking (may read the database).
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] for a missing, malformed or unknown token,
    /// [`ApiError::TokenExpired`] and [`ApiError::TokenRevoked`] for a known one that no
    /// longer works.
    pub fn authenticate(&self, store: &Store, header: Option<&str>) -> Result<Principal, ApiError> {
        let token = bearer(header).ok_or(ApiError::Unauthorized)?;
        let hash = hash_token(token);
        let now = crate::server::store::now_rfc3339();
        if let Some(p) = self
            .known
            .read()
            .ok()
            .and_then(|k| k.get(&hash).filter(|k| k.fresh(&now)).map(|k| k.principal.clone()))
        {
            return Ok(p);
        }
        let forget = || {
            if let Ok(mut known) = self.known.write() {
                known.remove(&hash);
            }
        };
        let Some(row) = store.token(&hash).map_err(ApiError::from)? else {
            forget();
            return Err(ApiError::Unauthorized);
        };
        if row.revoked_at.is_some() {
            forget();
            return Err(ApiError::TokenRevoked);
        }
        if let Some(at) = row.expires_at.as_deref().filter(|at| *at <= now.as_str()) {
            forget();
            return Err(ApiError::TokenExpired(at.to_string()));
        }
        let role =
            Role::parse(&row.role).ok_or_else(|| ApiError::Internal(format!("stored role {}", row.role)))?;
        let employer = format!("municipality {:04}", row.municipality);
        let provider = if role == Role::Provider { row.provider_id } else { None };
        let principal =
            Principal { municipality: row.municipality, role, user: row.user, employer, provider };
        if let Ok(mut known) = self.known.write() {
            known.insert(
                hash,
                Known { principal: principal.clone(), expires_at: row.expires_at, read_at: Instant::now() },
            );
        }
        Ok(principal)
    }

    /// The principal if the token was read from the store recently and has not expired,
    /// without touching the database; `None` sends the caller to [`Self::authenticate`].
    pub fn cached(&self, header: Option<&str>) -> Option<Principal> {
        let hash = hash_token(bearer(header)?);
        let now = crate::server::store::now_rfc3339();
        let known = self.known.read().ok()?;
        known.get(&hash).filter(|k| k.fresh(&now)).map(|k| k.principal.clone())
    }
}
