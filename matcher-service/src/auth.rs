//! Bearer tokens: random, shown once, stored only as their SHA-256, each scoped to one
//! municipality (the tenant) and one role. Every route names the roles it admits; the tenant
//! filter is applied in the store's queries.

use crate::error::ApiError;
use crate::store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::RwLock;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// An integration (the municipality's case system): reads and writes data, never decides.
    System,
    /// A caseworker of the municipality: the only kind of person who decides, with `admin`.
    Caseworker,
    /// A provider's user: reads offers and quality; never sees candidates, never decides.
    Provider,
    /// The municipality's administrator.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::System, Role::Caseworker, Role::Provider, Role::Admin];

    /// The role's name in tokens and the API.
    pub fn name(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Caseworker => "caseworker",
            Role::Provider => "provider",
            Role::Admin => "admin",
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
    /// Who holds the token; recorded on decisions.
    pub user: String,
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

/// Creates and stores a token; returns it (the only time it is seen).
///
/// # Errors
/// On storage failure or lack of randomness.
pub fn create_token(store: &Store, municipality: u16, role: Role, user: &str) -> Result<String, StoreError> {
    let token = new_token().map_err(|e| StoreError::Conflict(format!("no randomness: {e}")))?;
    store.insert_token(&hash_token(&token), municipality, role.name(), user)?;
    Ok(token)
}

/// Known tokens by hash. Tokens are never revoked in this version, so a positive answer can
/// be kept; an unknown hash is asked of the database each time (a token made by
/// `matcher token create` while the service runs works at once).
#[derive(Default)]
pub struct TokenCache {
    known: RwLock<HashMap<String, Principal>>,
}

impl TokenCache {
    /// The principal of an `Authorization` header value. Blocking (may read the database).
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] for a missing, malformed or unknown token.
    pub fn authenticate(&self, store: &Store, header: Option<&str>) -> Result<Principal, ApiError> {
        let token = header
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or(ApiError::Unauthorized)?;
        let hash = hash_token(token);
        if let Some(p) = self.known.read().ok().and_then(|k| k.get(&hash).cloned()) {
            return Ok(p);
        }
        let row = store.token(&hash).map_err(ApiError::from)?.ok_or(ApiError::Unauthorized)?;
        let role =
            Role::parse(&row.role).ok_or_else(|| ApiError::Internal(format!("stored role {}", row.role)))?;
        let principal = Principal { municipality: row.municipality, role, user: row.user };
        if let Ok(mut known) = self.known.write() {
            known.insert(hash, principal.clone());
        }
        Ok(principal)
    }

    /// The principal if the token is already known, without touching the database.
    pub fn cached(&self, header: Option<&str>) -> Option<Principal> {
        let token = header?.strip_prefix("Bearer ")?.trim();
        self.known.read().ok()?.get(&hash_token(token)).cloned()
    }
}
