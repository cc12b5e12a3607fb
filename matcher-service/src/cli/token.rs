//! `matcher token`: creates, lists and revokes the service's bearer tokens in its database.

use crate::cli::out::say;
use crate::server;
use crate::server::store::{RevokedToken, StoreError};
use anyhow::{Context, bail};
use clap::Subcommand;
use matcher_core::model::ReferenceData;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (it is stored only as a hash: this is the one time it shows).
    Create {
        /// Municipality code (kommunekode), e.g. 0101.
        #[arg(long)]
        municipality: String,
        /// system, caseworker, provider, admin or auditor.
        #[arg(long)]
        role: String,
        /// For `--role provider` (and only then): the provider id the token is bound to; it
        /// reads only what concerns that provider's offers.
        #[arg(long)]
        provider: Option<String>,
        /// Who holds the token (recorded on decisions).
        #[arg(long, default_value = "unnamed")]
        user: String,
        /// Days until the token stops working (at most 3650); 0: it never expires.
        #[arg(long, value_name = "DAYS", default_value = "90", allow_hyphen_values = true, value_parser = parse_expires_in)]
        expires_in: u32,
        /// SQLite database file of the service.
        #[arg(long, env = "MATCHER_DB", default_value = "matcher.db")]
        db: PathBuf,
    },
    /// List tokens: id, municipality, role, user, created, expires, revoked (tab-separated,
    /// never the secret or its hash).
    List {
        /// Only this municipality's tokens (kommunekode).
        #[arg(long)]
        municipality: Option<String>,
        /// SQLite database file of the service.
        #[arg(long, env = "MATCHER_DB", default_value = "matcher.db")]
        db: PathBuf,
    },
    /// Revoke a token by its id (from `token list`); a running service refuses it within
    /// 5 seconds.
    Revoke {
        /// The token's id.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// SQLite database file of the service.
        #[arg(long, env = "MATCHER_DB", default_value = "matcher.db")]
        db: PathBuf,
    },
}

fn parse_expires_in(text: &str) -> Result<u32, String> {
    let max = server::auth::MAX_EXPIRES_IN_DAYS;
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| *d <= max)
        .ok_or_else(|| format!("{text}: expected whole days from 0 (never expires) to {max}"))
}

/// A municipality code that is one of the 98.
fn municipality_code(text: &str) -> anyhow::Result<u16> {
    let code: u16 = text
        .trim()
        .parse()
        .with_context(|| format!("municipality {text}: expected a kommunekode such as 0101"))?;
    let reference = ReferenceData::embedded().context("embedded reference data")?;
    if reference.municipality(matcher_core::model::MunicipalityCode(code)).is_none() {
        bail!("municipality {text}: not one of the 98 municipality codes");
    }
    Ok(code)
}

/// The store of an existing database file: listing or revoking in a mistyped path must not
/// quietly create an empty database and find nothing.
fn existing_store(db: &std::path::Path) -> anyhow::Result<server::store::Store> {
    if !db.is_file() {
        bail!("{}: no such database file", db.display());
    }
    server::store::Store::open(db).with_context(|| format!("opening {}", db.display()))
}

/// Runs one `token` subcommand.
pub(super) fn run(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { municipality, role, provider, user, expires_in, db } => {
            let code = municipality_code(&municipality)?;
            let role = server::auth::Role::parse(&role).with_context(|| {
                format!("role {role}: expected system, caseworker, provider, admin or auditor")
            })?;
            match (role, provider.as_deref()) {
                (server::auth::Role::Provider, None) => {
                    bail!("--role provider: give --provider ID, the provider the token is bound to")
                }
                (server::auth::Role::Provider, Some(id)) => {
                    if let Err(reason) = matcher_core::model::check_id(id) {
                        bail!("--provider {id}: {reason}");
                    }
                }
                (other, Some(_)) => {
                    bail!("--provider is only for --role provider, not {}", other.name())
                }
                (_, None) => {}
            }
            if user.trim().is_empty() || user.len() > 100 || matcher_core::model::looks_like_cpr(&user) {
                bail!("user: 1 to 100 characters, never a CPR number");
            }
            let expires_at = server::auth::expiry_after_days(expires_in)
                .map_err(|d| anyhow::anyhow!("--expires-in {d}: more than the allowed days"))?;
            let store =
                server::store::Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
            if let Some(id) = provider.as_deref()
                && !store.provider_known(id)?
            {
                bail!(
                    "--provider {id}: no such provider in {} (neither in the registry nor on an offer)",
                    db.display()
                );
            }
            let (token, id) = server::auth::issue_token_for(
                &store,
                code,
                role,
                user.trim(),
                expires_at,
                provider.as_deref(),
            )?;
            // stdout is the token alone (scripts read it); what it is goes to stderr.
            let expires = expires_at.map_or_else(|| "never".to_string(), server::store::rfc3339);
            let bound = provider.as_deref().map_or_else(String::new, |p| format!(", provider {p}"));
            eprintln!("token {id}: municipality {code:04}, role {}{bound}, expires {expires}", role.name());
            say!("{token}");
        }
        TokenCommand::List { municipality, db } => {
            let code = municipality.as_deref().map(municipality_code).transpose()?;
            let store = existing_store(&db)?;
            say!("id\tmunicipality\trole\tuser\tcreated\texpires\trevoked\tprovider");
            for t in store.list_tokens(code)? {
                say!(
                    "{}\t{:04}\t{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.row.municipality,
                    t.row.role,
                    t.row.user,
                    t.created_at,
                    t.row.expires_at.as_deref().unwrap_or("never"),
                    t.row.revoked_at.as_deref().unwrap_or("-"),
                    t.row.provider_id.as_deref().unwrap_or("-"),
                );
            }
        }
        TokenCommand::Revoke { id, db } => {
            let number: i64 = id.trim().parse().ok().filter(|n| *n >= 1).with_context(|| {
                format!("token id {id}: expected a positive whole number from `matcher token list`")
            })?;
            let store = existing_store(&db)?;
            match store.revoke_token(number) {
                Ok(RevokedToken { revoked_at, by_this_call: true }) => {
                    eprintln!("token {number} revoked at {revoked_at}")
                }
                Ok(RevokedToken { revoked_at, by_this_call: false }) => {
                    eprintln!("token {number} was already revoked at {revoked_at}")
                }
                Err(StoreError::NotFound(_)) => {
                    bail!("token id {number}: no such token in {}", db.display())
                }
                Err(e) => return Err(e).with_context(|| format!("revoking token {number}")),
            }
        }
    }
    Ok(())
}
