//! The provider registry and the municipalities' contracts (issue 16).
//!
//! Owns the `providers`, `contracts` and `contract_offers` tables. A provider is shared by
//! every municipality to read, like offers, and written only by its home municipality; a
//! contract belongs to the municipality that holds it, and every query of contracts filters on
//! that municipality. `contract_offers` repeats each covered offer with the contract's period,
//! price and kind, so that spend is priced by an indexed look-up; it is rewritten in the same
//! transaction as its contract. Must not: validate a contract's fields (the API does that
//! with the core's rules), or decide who may call it.

use super::{Result, Store, StoreError, now_rfc3339};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// A provider in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRow {
    /// Provider id (as offers name it).
    pub id: String,
    /// Name.
    pub name: String,
    /// Home municipality (the one that writes its entry).
    pub municipality: u16,
    /// Whom to contact: a role, a phone number or a shared mailbox, never a person's private data.
    pub contact: Option<String>,
}

/// A contract as stored (and as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRow {
    /// The municipality that holds it (the tenant).
    pub municipality: u16,
    /// The municipality's id for it.
    pub id: String,
    /// The provider contracted.
    pub provider_id: String,
    /// `buffer`, `specialist` or `strategic_partner`.
    pub kind: String,
    /// Offers it covers.
    pub offer_ids: Vec<String>,
    /// Specialists: the target-group codes its offers take; empty for the others.
    pub target_groups: Vec<String>,
    /// Price per course, DKK; 0: the offers keep their own prices.
    pub price_dkk: u32,
    /// Places bought.
    pub places: u32,
    /// Places the municipality promises to fill.
    pub guaranteed_volume: u32,
    /// First day (`YYYY-MM-DD`).
    pub starts_on: String,
    /// Last day (`YYYY-MM-DD`).
    pub ends_on: String,
    /// Who wrote it last.
    pub written_by: String,
    /// When (UTC).
    pub updated_at: String,
}

/// A covered offer's contract terms, as spend is priced by them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractTerms {
    /// The municipality holding the contract.
    pub municipality: u16,
    /// The offer.
    pub offer_id: String,
    /// First day.
    pub starts_on: String,
    /// Last day.
    pub ends_on: String,
    /// Price per course, DKK; `None` when the contract keeps the offer's own price.
    pub price_dkk: Option<u32>,
    /// The contract's kind.
    pub kind: String,
}

/// The filters of a contract list.
#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    /// Only this provider's.
    pub provider_id: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
}

impl Store {
    /// Inserts or updates providers. With `owner`, a provider already stored must have that
    /// home municipality (the caller checks new ones name it). A `contact` of `None` keeps
    /// the stored one. All or nothing.
    ///
    /// # Errors
    /// [`StoreError::NotOwner`] for another municipality's provider; nothing is written then.
    pub fn upsert_providers(&self, owner: Option<u16>, rows: &[ProviderRow]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut home = tx.prepare("SELECT municipality FROM providers WHERE id = ?1")?;
                let mut put = tx.prepare(
                    "INSERT INTO providers (id, name, municipality, contact, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, municipality = excluded.municipality,
                        contact = COALESCE(excluded.contact, providers.contact), updated_at = excluded.updated_at",
                )?;
                let now = now_rfc3339();
                for row in rows {
                    if let Some(m) = owner {
                        let stored: Option<u16> = home.query_row([&row.id], |r| r.get(0)).optional()?;
                        if let Some(stored) = stored.filter(|s| *s != m) {
                            return Err(StoreError::NotOwner(format!(
                                "provider {} has home municipality {stored:04}; only its admin or system may change its entry",
                                row.id
                            )));
                        }
                    }
                    put.execute(params![row.id, row.name, row.municipality, row.contact, now])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Every provider in the registry, in id order.
    ///
    /// # Errors
    /// On storage failure.
    pub fn all_providers(&self) -> Result<Vec<ProviderRow>> {
        self.read(all_providers_in)
    }

    /// One provider of the registry.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown one.
    pub fn provider(&self, id: &str) -> Result<ProviderRow> {
        self.read(|c| {
            c.query_row(
                "SELECT id, name, municipality, contact FROM providers WHERE id = ?1",
                [id],
                provider_row,
            )
            .optional()?
            .ok_or(StoreError::NotFound("provider"))
        })
    }

    /// Whether a provider id is known: in the registry or named by an offer.
    ///
    /// # Errors
    /// On storage failure.
    pub fn provider_known(&self, id: &str) -> Result<bool> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM providers WHERE id = ?1)
                     OR EXISTS (SELECT 1 FROM offers WHERE provider_id = ?1)",
                [id],
                |r| r.get(0),
            )?)
        })
    }

    /// Inserts or replaces one of the municipality's contracts (by its id), with its covered
    /// offers, in one transaction. Returns true when it was new.
    ///
    /// # Errors
    /// On storage failure; nothing is written then.
    pub fn put_contract(&self, contract: &ContractRow) -> Result<bool> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let existed: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM contracts WHERE municipality = ?1 AND id = ?2)",
                params![contract.municipality, contract.id],
                |r| r.get(0),
            )?;
            let offers = serde_json::to_string(&contract.offer_ids)
                .map_err(|source| StoreError::Json { table: "contracts", source })?;
            tx.execute(
                "INSERT OR REPLACE INTO contracts (municipality, id, provider_id, kind, offer_ids, price_dkk, places,
                    guaranteed_volume, starts_on, ends_on, written_by, updated_at, target_groups)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    contract.municipality,
                    contract.id,
                    contract.provider_id,
                    contract.kind,
                    offers,
                    contract.price_dkk,
                    contract.places,
                    contract.guaranteed_volume,
                    contract.starts_on,
                    contract.ends_on,
                    contract.written_by,
                    contract.updated_at,
                    contract.target_groups.join(";")
                ],
            )?;
            tx.execute(
                "DELETE FROM contract_offers WHERE municipality = ?1 AND contract_id = ?2",
                params![contract.municipality, contract.id],
            )?;
            {
                let mut put = tx.prepare(
                    "INSERT OR REPLACE INTO contract_offers (municipality, contract_id, offer_id, starts_on, ends_on, price_dkk, kind)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for offer in &contract.offer_ids {
                    put.execute(params![
                        contract.municipality,
                        contract.id,
                        offer,
                        contract.starts_on,
                        contract.ends_on,
                        (contract.price_dkk > 0).then_some(contract.price_dkk),
                        contract.kind
                    ])?;
                }
            }
            tx.commit()?;
            Ok(!existed)
        })
    }

    /// A page of the municipality's contracts in id order, filtered.
    ///
    /// # Errors
    /// On storage failure.
    pub fn contracts(
        &self,
        municipality: u16,
        filter: &ContractFilter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ContractRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT municipality, id, provider_id, kind, offer_ids, price_dkk, places, guaranteed_volume,
                    starts_on, ends_on, written_by, updated_at, target_groups
                 FROM contracts WHERE municipality = ?1 AND (?2 IS NULL OR provider_id = ?2) AND (?3 IS NULL OR kind = ?3)
                 ORDER BY id LIMIT ?4 OFFSET ?5",
            )?;
            let rows = stmt.query_map(
                params![municipality, filter.provider_id, filter.kind, limit, offset],
                |r| {
                    let offers: String = r.get(4)?;
                    Ok(ContractRow {
                        municipality: r.get(0)?,
                        id: r.get(1)?,
                        provider_id: r.get(2)?,
                        kind: r.get(3)?,
                        offer_ids: serde_json::from_str(&offers).unwrap_or_default(),
                        price_dkk: r.get(5)?,
                        places: r.get(6)?,
                        guaranteed_volume: r.get(7)?,
                        starts_on: r.get(8)?,
                        ends_on: r.get(9)?,
                        written_by: r.get(10)?,
                        updated_at: r.get(11)?,
                        target_groups: r
                            .get::<_, String>(12)?
                            .split(';')
                            .filter(|g| !g.is_empty())
                            .map(str::to_string)
                            .collect(),
                    })
                },
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The terms of every covered offer, of one municipality's contracts or of all.
    ///
    /// # Errors
    /// On storage failure.
    pub fn contract_terms(&self, municipality: Option<u16>) -> Result<Vec<ContractTerms>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT municipality, offer_id, starts_on, ends_on, price_dkk, kind FROM contract_offers
                 WHERE ?1 IS NULL OR municipality = ?1 ORDER BY municipality, offer_id, starts_on",
            )?;
            let rows = stmt.query_map([municipality], |r| {
                Ok(ContractTerms {
                    municipality: r.get(0)?,
                    offer_id: r.get(1)?,
                    starts_on: r.get(2)?,
                    ends_on: r.get(3)?,
                    price_dkk: r.get(4)?,
                    kind: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

impl ContractRow {
    /// The contract as the core's [`matcher_core::model::Contract`]; `None` for a row the
    /// reference data can no longer read (a target group since removed), which then takes no
    /// part in a night or an overlap check.
    pub fn to_core(
        &self,
        reference: &matcher_core::model::ReferenceData,
    ) -> Option<matcher_core::model::Contract> {
        use matcher_core::model::{
            ContractId, ContractKind, Date, GroupSet, MunicipalityCode, OfferId, ProviderId,
        };
        let mut groups = GroupSet::EMPTY;
        for code in &self.target_groups {
            groups.insert(reference.group(code)?);
        }
        Some(matcher_core::model::Contract {
            id: ContractId::new(&self.id).ok()?,
            municipality: MunicipalityCode(self.municipality),
            provider: ProviderId::new(&self.provider_id).ok()?,
            kind: ContractKind::parse(&self.kind)?,
            price_dkk: self.price_dkk,
            places: self.places,
            guaranteed_volume: self.guaranteed_volume,
            start: Date::parse(&self.starts_on)?,
            end: Date::parse(&self.ends_on)?,
            target_groups: groups,
            offers: self.offer_ids.iter().map(|o| OfferId::new(o).ok()).collect::<Option<_>>()?,
        })
    }
}

/// [`Store::all_providers`] on a connection the caller holds (inside its snapshot).
pub(super) fn all_providers_in(c: &Connection) -> Result<Vec<ProviderRow>> {
    let mut stmt = c.prepare("SELECT id, name, municipality, contact FROM providers ORDER BY id")?;
    let rows = stmt.query_map([], provider_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn provider_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProviderRow> {
    Ok(ProviderRow { id: r.get(0)?, name: r.get(1)?, municipality: r.get(2)?, contact: r.get(3)? })
}
