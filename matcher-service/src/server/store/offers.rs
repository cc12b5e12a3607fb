//! Offers and their evidence (shared by every municipality).

use super::{Result, Store, StoreError, now_rfc3339};
use matcher_core::model::{Language, limits};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::{HashMap, HashSet};

/// A stored offer as the catalogue needs it.
#[derive(Debug, Clone)]
pub struct OfferRow {
    /// Offer id.
    pub id: String,
    /// The core model (serde JSON of `matcher_core::model::Offer`).
    pub model: String,
    /// Places taken by accepted decisions.
    pub reserved: u32,
    /// Retired offers stay (decisions point at them) but take no one new.
    pub retired: bool,
}

/// An offer of a page ([`Store::list_offers`]).
#[derive(Debug, Clone)]
pub struct ListedOffer {
    /// The offer's record and the state of its places.
    pub state: OfferState,
    /// Courses under way on it that only candidates' records claim.
    pub recorded: u32,
}

/// An offer and its places on a day ([`Store::offer_on`]).
#[derive(Debug, Clone)]
pub struct OfferOnDay {
    /// The offer's record and the state of its places.
    pub state: OfferState,
    /// Its places on the day, counted from the ledger.
    pub places: crate::server::ledger::OfferPlaces,
}

/// What a full build of the catalogue reads ([`Store::catalogue_rows`]).
#[derive(Debug, Clone)]
pub struct CatalogueRows {
    /// Every offer, in id order.
    pub offers: Vec<OfferRow>,
    /// Courses under way that only candidates' records claim, by offer id.
    pub recorded: HashMap<String, u32>,
    /// The provider registry, in id order.
    pub providers: Vec<super::ProviderRow>,
    /// The evidence and the finished episodes.
    pub learning: LearningRows,
}

/// What the catalogue's estimates learn from ([`Store::learning_rows`]).
#[derive(Debug, Clone)]
pub struct LearningRows {
    /// Every evidence row.
    pub evidence: Vec<EvidenceRow>,
    /// Every municipality's finished episodes, in number order.
    pub history: Vec<super::HistoryRow>,
}

/// An offer to insert or replace.
#[derive(Debug, Clone)]
pub struct NewOffer {
    /// Offer id.
    pub id: String,
    /// The provider's id.
    pub provider_id: String,
    /// The offer record as the API shows it (JSON).
    pub record: String,
    /// The core model (serde JSON of `matcher_core::model::Offer`).
    pub model: String,
    /// Places in total.
    pub capacity: u32,
}

/// Evidence counts of one offer for one target group; added to what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    /// Offer id.
    pub offer_id: String,
    /// Target group code.
    pub target_group: String,
    /// Placements seen.
    pub trials: u32,
    /// Of those, the successful ones.
    pub successes: u32,
}

/// Evidence of one offer (whose id the caller knows) for one target group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEvidence {
    /// Target group code.
    pub target_group: String,
    /// Placements seen.
    pub trials: u32,
    /// Of those, the successful ones.
    pub successes: u32,
}

/// An offer's record and the state of its places.
#[derive(Debug, Clone)]
pub struct OfferState {
    /// The offer's id.
    pub id: String,
    /// The offer record as the API shows it (JSON).
    pub record: String,
    /// Places in total.
    pub capacity: u32,
    /// Places taken by accepted decisions.
    pub reserved: u32,
    /// Retired offers stay (decisions point at them) but take no one new.
    pub retired: bool,
}

/// One offer of a provider and its places.
#[derive(Debug, Clone)]
pub struct ProviderOfferRow {
    /// Offer id.
    pub id: String,
    /// Places in total.
    pub capacity: u32,
    /// Places taken by accepted decisions.
    pub reserved: u32,
}

/// An offer's quality figures as stored, read from one snapshot ([`Store::offer_quality`]).
#[derive(Debug, Clone)]
pub struct OfferQualityRows {
    /// Its record and places.
    pub state: OfferState,
    /// Its evidence, in target group order.
    pub evidence: Vec<GroupEvidence>,
    /// Its courses under way that only candidates' records claim.
    pub recorded: u32,
}

/// A provider's quality figures as stored, read from one snapshot ([`Store::provider_quality`]).
#[derive(Debug, Clone)]
pub struct ProviderQualityRows {
    /// Its offers, in id order.
    pub offers: Vec<ProviderOfferRow>,
    /// The evidence of every one of its offers (a group once per offer that has it).
    pub evidence: Vec<GroupEvidence>,
    /// The courses under way on its offers that only candidates' records claim.
    pub recorded: u32,
}

impl Store {
    /// Inserts or replaces offers.
    /// Places already reserved are kept; an update un-retires nothing.
    ///
    /// # Errors
    /// On storage failure, a capacity below the places taken, or
    /// [`StoreError::TooManyLanguages`]; nothing is written then.
    pub fn upsert_offers(&self, offers: &[NewOffer]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            upsert_offers_in(&tx, None, None, offers)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// [`Store::upsert_offers`] on behalf of `municipality`: an offer already stored must be
    /// owned by it (its model's `municipality`, the one that contracts it); the caller checks
    /// that new ones name it. All or nothing.
    ///
    /// # Errors
    /// [`StoreError::NotOwner`] for another municipality's offer, [`StoreError::Conflict`] for
    /// a capacity below the places taken on `today` (the ledger's and the courses under way that
    /// candidates' records claim), [`StoreError::TooManyLanguages`] for offers that would
    /// use more languages than the scorer keeps; nothing is written then.
    pub fn upsert_offers_as(&self, municipality: u16, today: &str, offers: &[NewOffer]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            upsert_offers_in(&tx, Some(municipality), Some(today), offers)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Adds evidence counts (used by the demo loader and by outcomes).
    ///
    /// # Errors
    /// On storage failure.
    pub fn add_evidence(&self, rows: &[EvidenceRow]) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            add_evidence_in(&tx, rows)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Marks an offer retired.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown offer.
    pub fn retire_offer(&self, id: &str) -> Result<()> {
        self.retire_offer_as(None, id)
    }

    /// Retires an offer on behalf of `municipality` (`None`: the operator), which must own it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown offer, [`StoreError::NotOwner`] for another
    /// municipality's.
    pub fn retire_offer_as(&self, municipality: Option<u16>, id: &str) -> Result<()> {
        self.write(|c| {
            if let Some(m) = municipality {
                let owner: Option<Option<i64>> = c
                    .query_row(
                        "SELECT json_extract(model, '$.municipality') FROM offers WHERE id = ?1",
                        [id],
                        |r| r.get(0),
                    )
                    .optional()?;
                match owner {
                    None => return Err(StoreError::NotFound("offer")),
                    Some(owner) => check_owner(id, m, owner)?,
                }
            }
            let n = c.execute(
                "UPDATE offers SET retired = 1, updated_at = ?2 WHERE id = ?1",
                params![id, now_rfc3339()],
            )?;
            if n == 0 { Err(StoreError::NotFound("offer")) } else { Ok(()) }
        })
    }

    /// What a full build of the catalogue reads, from one snapshot (`Store::read_snapshot`):
    /// every offer in id order with its reserved places, the courses under way that only
    /// candidates' records claim on `today` (`ledger::recorded_locks`), the provider registry,
    /// the evidence and every finished episode. An accept turns a record lock into a reserved
    /// place in one transaction; read apart, a build between the two reads counted that place
    /// twice or not at all (the catalogue then showed one free place too many until the next
    /// recount), and an outcome's evidence could be read without its episode.
    ///
    /// # Errors
    /// On storage failure.
    pub fn catalogue_rows(&self, today: &str) -> Result<CatalogueRows> {
        self.read_snapshot(|c| {
            let mut stmt = c.prepare("SELECT id, model, reserved, retired FROM offers ORDER BY id")?;
            let offers = stmt.query_map([], offer_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(CatalogueRows {
                offers,
                recorded: crate::server::ledger::recorded_locks(c, today)?,
                providers: super::providers::all_providers_in(c)?,
                learning: learning_in(c)?,
            })
        })
    }

    /// The evidence and every finished episode, from one snapshot: what the catalogue's
    /// estimates learn from. An outcome adds to both in one transaction, and the core takes
    /// the episodes back out of the evidence once, so the two must be read together.
    ///
    /// # Errors
    /// On storage failure.
    pub fn learning_rows(&self) -> Result<LearningRows> {
        self.read_snapshot(learning_in)
    }

    /// These offers, as [`Store::catalogue_rows`] reads them, in id order; ids not stored are
    /// left out (one primary-key look-up each).
    ///
    /// # Errors
    /// On storage failure.
    pub fn offers_by_id(&self, ids: &[&str]) -> Result<Vec<OfferRow>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT id, model, reserved, retired FROM offers WHERE id = ?1")?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                let row = stmt.query_row([id], offer_row).optional()?;
                rows.extend(row);
            }
            rows.sort_by(|a, b| a.id.cmp(&b.id));
            rows.dedup_by(|a, b| a.id == b.id);
            Ok(rows)
        })
    }

    /// Whether the evidence or the episode history names any of these offer ids: a record of
    /// a new offer's own, which only an estimate of every offer takes in
    /// (`Catalogues::offers_written`). One look-up of an index each.
    ///
    /// # Errors
    /// On storage failure.
    pub fn learning_names_any(&self, ids: &[&str]) -> Result<bool> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM evidence WHERE offer_id = ?1)
                     OR EXISTS (SELECT 1 FROM episodes WHERE offer_id = ?1)",
            )?;
            for id in ids {
                if stmt.query_row([id], |r| r.get::<_, bool>(0))? {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    /// Every evidence row.
    ///
    /// # Errors
    /// On storage failure.
    pub fn all_evidence(&self) -> Result<Vec<EvidenceRow>> {
        self.read(all_evidence_in)
    }

    /// An offer's record and state.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown offer.
    pub fn offer(&self, id: &str) -> Result<OfferState> {
        self.read(|c| offer_in(c, id))
    }

    /// A page of offer records in id order, each with the courses under way that only
    /// candidates' records claim on `today` (one look-up of the partial index per offer of
    /// the page), read from one snapshot: an accept moves a record lock into `reserved` in
    /// one transaction, so read apart one row could count that place twice or not at all.
    ///
    /// # Errors
    /// On storage failure.
    pub fn list_offers(&self, limit: u32, offset: u32, today: &str) -> Result<Vec<ListedOffer>> {
        self.read_snapshot(|c| {
            let mut stmt = c.prepare(
                "SELECT record, capacity, reserved, retired, id FROM offers ORDER BY id LIMIT ?1 OFFSET ?2",
            )?;
            let rows =
                stmt.query_map(params![limit, offset], offer_state)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|state| {
                    let recorded = crate::server::ledger::recorded_locks_on(c, &state.id, today, None)?;
                    Ok(ListedOffer { state, recorded })
                })
                .collect()
        })
    }

    /// An offer's record and its places on `today` (reserved, running, recorded, free), from
    /// one snapshot, so that the places add up as they stood at one moment.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown offer.
    pub fn offer_on(&self, id: &str, today: &str) -> Result<OfferOnDay> {
        self.read_snapshot(|c| {
            Ok(OfferOnDay {
                state: offer_in(c, id)?,
                places: crate::server::ledger::offer_places(c, id, today)?,
            })
        })
    }

    /// What an offer's quality answer counts, read from one snapshot (`Store::read_snapshot`):
    /// its record and places, its evidence and its courses under way that only candidates'
    /// records claim on `today` (`ledger::recorded_locks_on`). An accept moves a record lock
    /// into `reserved` (and an outcome releases a place as it adds its trial) in one
    /// transaction; read apart, one answer could count such a place twice.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown offer.
    pub fn offer_quality(&self, id: &str, today: &str) -> Result<OfferQualityRows> {
        self.read_snapshot(|c| {
            Ok(OfferQualityRows {
                state: offer_in(c, id)?,
                evidence: offer_evidence_in(c, id)?,
                recorded: crate::server::ledger::recorded_locks_on(c, id, today, None)?,
            })
        })
    }

    /// [`Store::offer_quality`] for every offer of a provider, from one snapshot; no offers
    /// for an unknown provider.
    ///
    /// # Errors
    /// On storage failure.
    pub fn provider_quality(&self, provider: &str, today: &str) -> Result<ProviderQualityRows> {
        self.read_snapshot(|c| {
            let offers = provider_offers_in(c, provider)?;
            let mut evidence = Vec::new();
            let mut recorded = 0u32;
            for offer in &offers {
                evidence.extend(offer_evidence_in(c, &offer.id)?);
                recorded = recorded
                    .saturating_add(crate::server::ledger::recorded_locks_on(c, &offer.id, today, None)?);
            }
            Ok(ProviderQualityRows { offers, evidence, recorded })
        })
    }
}

/// [`Store::all_evidence`] on a connection the caller holds.
fn all_evidence_in(c: &Connection) -> Result<Vec<EvidenceRow>> {
    let mut stmt = c.prepare("SELECT offer_id, target_group, trials, successes FROM evidence")?;
    let rows = stmt.query_map([], |r| {
        Ok(EvidenceRow {
            offer_id: r.get(0)?,
            target_group: r.get(1)?,
            trials: r.get(2)?,
            successes: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The evidence and every municipality's finished episodes (inside the caller's snapshot).
fn learning_in(c: &Connection) -> Result<LearningRows> {
    Ok(LearningRows {
        evidence: all_evidence_in(c)?,
        history: super::history::history_in(c, None, 0, u32::MAX)?,
    })
}

/// An offer's record and state.
fn offer_in(c: &Connection, id: &str) -> Result<OfferState> {
    c.query_row("SELECT record, capacity, reserved, retired, id FROM offers WHERE id = ?1", [id], offer_state)
        .optional()?
        .ok_or(StoreError::NotFound("offer"))
}

/// Offers of a provider, in id order.
fn provider_offers_in(c: &Connection, provider: &str) -> Result<Vec<ProviderOfferRow>> {
    let mut stmt =
        c.prepare("SELECT id, capacity, reserved FROM offers WHERE provider_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([provider], |r| {
        Ok(ProviderOfferRow { id: r.get(0)?, capacity: r.get(1)?, reserved: r.get(2)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Evidence of one offer, in target group order.
fn offer_evidence_in(c: &Connection, offer: &str) -> Result<Vec<GroupEvidence>> {
    let mut stmt = c.prepare_cached(
        "SELECT target_group, trials, successes FROM evidence WHERE offer_id = ?1 ORDER BY target_group",
    )?;
    let rows = stmt.query_map([offer], |r| {
        Ok(GroupEvidence { target_group: r.get(0)?, trials: r.get(1)?, successes: r.get(2)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Reads `record, capacity, reserved, retired, id` (in that order).
/// An [`OfferRow`] from `SELECT id, model, reserved, retired`.
fn offer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OfferRow> {
    Ok(OfferRow { id: r.get(0)?, model: r.get(1)?, reserved: r.get(2)?, retired: r.get(3)? })
}

fn offer_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<OfferState> {
    Ok(OfferState {
        record: r.get(0)?,
        capacity: r.get(1)?,
        reserved: r.get(2)?,
        retired: r.get(3)?,
        id: r.get(4)?,
    })
}

pub(super) fn add_evidence_in(tx: &rusqlite::Transaction<'_>, rows: &[EvidenceRow]) -> Result<()> {
    let mut stmt = tx.prepare(
        "INSERT INTO evidence (offer_id, target_group, trials, successes) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (offer_id, target_group) DO UPDATE SET trials = trials + excluded.trials,
            successes = successes + excluded.successes",
    )?;
    for row in rows {
        stmt.execute(params![row.offer_id, row.target_group, row.trials, row.successes])?;
    }
    Ok(())
}

/// Writes offers in `tx`; with `owner`, refuses another municipality's stored offer. A capacity
/// below the places already taken is refused either way (issue 15, item 3: it left
/// `capacity 1, reserved 2, utilisation 2.0`); with `today`, the courses under way that
/// candidates' records claim count as taken (`ledger::recorded_locks_on`, as the accept's guard
/// counts them: a capacity of 1 under 2 such records left `recorded 2, overbooked 1`).
fn upsert_offers_in(
    tx: &rusqlite::Transaction<'_>,
    owner: Option<u16>,
    today: Option<&str>,
    offers: &[NewOffer],
) -> Result<()> {
    let mut existing =
        tx.prepare("SELECT json_extract(model, '$.municipality'), reserved FROM offers WHERE id = ?1")?;
    let mut stmt = tx.prepare(
        "INSERT INTO offers (id, provider_id, record, model, capacity, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET provider_id = excluded.provider_id,
            record = excluded.record, model = excluded.model,
            capacity = excluded.capacity, updated_at = excluded.updated_at",
    )?;
    let now = now_rfc3339();
    for NewOffer { id, provider_id, record, model, capacity } in offers {
        let stored: Option<(Option<i64>, u32)> =
            existing.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        if let Some((stored_owner, reserved)) = stored {
            if let Some(m) = owner {
                check_owner(id, m, stored_owner)?;
            }
            let recorded = match today {
                Some(day) => crate::server::ledger::recorded_locks_on(tx, id, day, None)?,
                None => 0,
            };
            let taken = reserved.saturating_add(recorded);
            if *capacity < taken {
                return Err(StoreError::Conflict(format!(
                    "offer {id} has {taken} places taken ({recorded} of them by courses under way that only candidates' records claim); its capacity cannot go below that (retire it instead)"
                )));
            }
        }
        stmt.execute(params![id, provider_id, record, model, capacity, now])?;
    }
    check_languages(tx, offers)
}

/// Refuses a write that takes the offers over the distinct languages the scorer keeps
/// (`limits::MAX_LANGUAGES`, bits of one word), retired offers included (the catalogue holds
/// them too). Without it such a write was stored, then the catalogue could not be built from
/// the store any more: that write and every later offer write answered 500, while suggestions
/// and batch runs went on with the offers as they were before, and the service could not
/// start again on its file. Read inside the write's transaction, so two writes never pass it
/// together; the error names the first offer of the write that goes over.
/// Every distinct language list of the offers with the number of offers that have it, read
/// from the index `offers_languages` (schema version 9); a unit test checks the plan.
pub(super) const LANGUAGE_LISTS: &str = "SELECT json_extract(model, '$.languages'), count(*) FROM offers GROUP BY json_extract(model, '$.languages')";

fn check_languages(tx: &rusqlite::Transaction<'_>, offers: &[NewOffer]) -> Result<()> {
    /// The one field read of a model (serde ignores the others).
    #[derive(serde::Deserialize)]
    struct Languages {
        #[serde(default)]
        languages: Vec<Language>,
    }
    let json = |source| StoreError::Json { table: "offers", source };
    // Every distinct language list with the number of offers that have it, read from the
    // `offers_languages` index (a covering scan, no model parsed); the written offers' own
    // rows are taken out again, as they are added one by one below to name the first that
    // goes over.
    let mut lists: HashMap<Option<String>, u32> = HashMap::new();
    let mut stmt = tx.prepare(LANGUAGE_LISTS)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        lists.insert(row.get(0)?, row.get(1)?);
    }
    let written: HashSet<&str> = offers.iter().map(|o| o.id.as_str()).collect();
    let mut own = tx.prepare("SELECT json_extract(model, '$.languages') FROM offers WHERE id = ?1")?;
    for id in &written {
        let list: Option<Option<String>> = own.query_row([id], |r| r.get(0)).optional()?;
        if let Some(count) = list.and_then(|l| lists.get_mut(&l)) {
            *count = count.saturating_sub(1);
        }
    }
    let mut used: HashSet<Language> = HashSet::new();
    for (list, _) in lists.iter().filter(|(_, n)| **n > 0) {
        if let Some(text) = list {
            used.extend(serde_json::from_str::<Vec<Language>>(text).map_err(json)?);
        }
    }
    for (index, offer) in offers.iter().enumerate() {
        let Languages { languages } = serde_json::from_str(&offer.model).map_err(json)?;
        used.extend(languages.iter().copied());
        if used.len() > limits::MAX_LANGUAGES {
            return Err(StoreError::TooManyLanguages {
                index,
                offer: offer.id.clone(),
                languages: languages.iter().map(ToString::to_string).collect::<Vec<_>>().join(";"),
                count: used.len(),
                max: limits::MAX_LANGUAGES,
            });
        }
    }
    Ok(())
}

fn check_owner(id: &str, municipality: u16, owner: Option<i64>) -> Result<()> {
    if owner == Some(i64::from(municipality)) {
        return Ok(());
    }
    let owner = owner.map_or_else(|| "no municipality".to_string(), |o| format!("municipality {o:04}"));
    Err(StoreError::NotOwner(format!(
        "offer {id} belongs to {owner}, which contracts it; only its admin or system may change it"
    )))
}
