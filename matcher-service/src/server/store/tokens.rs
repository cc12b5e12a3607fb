//! Bearer tokens: their rows, issue, lookup, list and revocation.

use super::{Result, Store, StoreError, now_rfc3339};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// A bearer token's row.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Municipality code.
    pub municipality: u16,
    /// Role name.
    pub role: String,
    /// Who holds it (a caseworker's initials, a system's name).
    pub user: String,
    /// When it stops working (UTC, `YYYY-MM-DDTHH:MM:SSZ`); `None`: never.
    pub expires_at: Option<String>,
    /// When it was revoked; `None`: it was not.
    pub revoked_at: Option<String>,
    /// A `provider` token: the provider it is bound to (issue 16); `None` for other roles.
    pub provider_id: Option<String>,
}

/// A token as `matcher token list` shows it: everything but the secret and its hash.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// The id `matcher token revoke` takes.
    pub id: i64,
    /// When it was created.
    pub created_at: String,
    /// Whose it is, until when, and whether it was revoked.
    pub row: TokenRow,
}

/// What [`Store::revoke_token`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedToken {
    /// When the token was revoked (the first revoke's time).
    pub revoked_at: String,
    /// True when this call revoked it; false when it already was.
    pub by_this_call: bool,
}

impl TokenRow {
    /// The row from the columns `municipality, role, user, expires_at, revoked_at,
    /// provider_id`, starting at column `at`.
    fn from_columns(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(TokenRow {
            municipality: r.get(at)?,
            role: r.get(at + 1)?,
            user: r.get(at + 2)?,
            expires_at: r.get(at + 3)?,
            revoked_at: r.get(at + 4)?,
            provider_id: r.get(at + 5)?,
        })
    }
}

impl Store {
    /// Stores a token hash that stops working at `expires_at` (`None`: never), bound to
    /// `provider` for a provider's token; returns the token's id.
    ///
    /// # Errors
    /// On storage failure.
    pub fn insert_token(
        &self,
        hash: &str,
        municipality: u16,
        role: &str,
        user: &str,
        expires_at: Option<&str>,
        provider: Option<&str>,
    ) -> Result<i64> {
        self.write(|c| {
            // Ids are handed out here, not by rowid: a VACUUM may renumber rowids, and an id
            // written down for a later `token revoke` must keep naming the same token. The
            // statement runs under SQLite's write lock, so two processes cannot take one id.
            Ok(c.query_row(
                "INSERT INTO tokens (id, hash, municipality, role, user, created_at, expires_at, provider_id) \
                 VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM tokens), ?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                params![hash, municipality, role, user, now_rfc3339(), expires_at, provider],
                |r| r.get(0),
            )?)
        })
    }

    /// Looks a token hash up.
    ///
    /// # Errors
    /// On storage failure.
    pub fn token(&self, hash: &str) -> Result<Option<TokenRow>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT municipality, role, user, expires_at, revoked_at, provider_id FROM tokens WHERE hash = ?1",
                [hash],
                |r| TokenRow::from_columns(r, 0),
            )
            .optional()?)
        })
    }

    /// Every token (of one municipality when given), by id; never the hash.
    ///
    /// # Errors
    /// On storage failure.
    pub fn list_tokens(&self, municipality: Option<u16>) -> Result<Vec<TokenInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, created_at, municipality, role, user, expires_at, revoked_at, provider_id FROM tokens \
                 WHERE ?1 IS NULL OR municipality = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([municipality], |r| {
                Ok(TokenInfo { id: r.get(0)?, created_at: r.get(1)?, row: TokenRow::from_columns(r, 2)? })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Revokes the token `id` now (a second revoke keeps the first time).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub fn revoke_token(&self, id: i64) -> Result<RevokedToken> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let before: Option<Option<String>> =
                tx.query_row("SELECT revoked_at FROM tokens WHERE id = ?1", [id], |r| r.get(0)).optional()?;
            let out = match before {
                None => return Err(StoreError::NotFound("token")),
                Some(Some(at)) => RevokedToken { revoked_at: at, by_this_call: false },
                Some(None) => {
                    let at = now_rfc3339();
                    tx.execute("UPDATE tokens SET revoked_at = ?1 WHERE id = ?2", params![at, id])?;
                    RevokedToken { revoked_at: at, by_this_call: true }
                }
            };
            tx.commit()?;
            Ok(out)
        })
    }
}
