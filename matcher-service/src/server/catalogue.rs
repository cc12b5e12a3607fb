//! The offers as the scorer sees them: one immutable [`Catalogue`] (scorer and spatial index)
//! per version of the offers, shared through an `Arc` by every suggestion request and rebuilt
//! after each write to offers or evidence. Places taken by decisions change far more often
//! than offers, so they live in atomic counters beside the scorer rather than in it.

use crate::server::store::{EvidenceRow, Store, StoreError};
use matcher_core::graph;
use matcher_core::model::{Candidate, Dataset, Date, Evidence, Offer, Provider, ProviderId, ReferenceData};
use matcher_core::policy::PolicySet;
use matcher_core::score::Scorer;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// A candidate as stored: the core model plus its target-group codes (which outlive a change
/// of reference indices and are what decisions record).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredCandidate {
    /// The validated candidate.
    pub candidate: Candidate,
    /// Its target groups, as codes.
    pub group_codes: Vec<String>,
}

/// One version of the offers, ready to score.
pub struct Catalogue {
    /// Increases with every rebuild.
    pub version: u64,
    /// The scorer (owns the offers as a data set without candidates).
    pub scorer: Scorer,
    /// Spatial index for one-candidate look-ups.
    pub index: graph::Index,
    /// Places taken, by offer index (kept current by decisions between rebuilds).
    pub reserved: Vec<AtomicU32>,
    /// Retired offers, by offer index.
    pub retired: Vec<bool>,
}

impl Catalogue {
    /// The offers.
    pub fn offers(&self) -> &[Offer] {
        &self.scorer.data().offers
    }

    /// Places left on an offer.
    pub fn remaining(&self, offer: usize) -> u32 {
        let capacity = self.offers().get(offer).map_or(0, |o| o.capacity);
        capacity.saturating_sub(self.reserved.get(offer).map_or(0, |r| r.load(Ordering::Relaxed)))
    }
}

/// Errors building a catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored offer could not be read back.
    #[error("stored offer {id}: {source}")]
    Model {
        /// Offer id.
        id: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The core refused the offers.
    #[error("scorer: {0}")]
    Core(#[from] matcher_core::Error),
}

/// The current catalogue and what is needed to rebuild it.
pub struct Catalogues {
    current: RwLock<Arc<Catalogue>>,
    rebuild: Mutex<u64>,
    reference: Arc<ReferenceData>,
    policies: Arc<PolicySet>,
    today: RwLock<Date>,
}

impl Catalogues {
    /// Builds the first catalogue from the store. Blocking.
    ///
    /// # Errors
    /// When the store cannot be read or the core refuses the offers.
    pub fn load(
        store: &Store,
        reference: Arc<ReferenceData>,
        policies: Arc<PolicySet>,
        today: Date,
    ) -> Result<Catalogues, CatalogueError> {
        let first = build(store, &reference, &policies, today, 1)?;
        Ok(Catalogues {
            current: RwLock::new(Arc::new(first)),
            rebuild: Mutex::new(1),
            reference,
            policies,
            today: RwLock::new(today),
        })
    }

    /// The current catalogue.
    pub fn current(&self) -> Arc<Catalogue> {
        match self.current.read() {
            Ok(c) => c.clone(),
            // A panic while swapping leaves a complete Arc behind; keep serving it.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds from the store and swaps the new catalogue in. Blocking. Rebuilds are
    /// serialised so the last one to finish reflects the last write.
    ///
    /// # Errors
    /// When the store cannot be read or the core refuses the offers.
    pub fn rebuild(&self, store: &Store) -> Result<(), CatalogueError> {
        let mut version = self.rebuild.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *version += 1;
        let next = Arc::new(build(store, &self.reference, &self.policies, self.today(), *version)?);
        match self.current.write() {
            Ok(mut c) => *c = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        Ok(())
    }

    /// The reference data.
    pub fn reference(&self) -> &Arc<ReferenceData> {
        &self.reference
    }

    /// The policies.
    pub fn policies(&self) -> &Arc<PolicySet> {
        &self.policies
    }

    /// The day benefit clocks are read against.
    pub fn today(&self) -> Date {
        match self.today.read() {
            Ok(d) => *d,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// Moves to a new day and rebuilds (urgency and group validity depend on the day).
    /// Blocking. Returns whether the day changed.
    ///
    /// # Errors
    /// When the rebuild fails; the old catalogue keeps serving then.
    pub fn set_today(&self, store: &Store, day: Date) -> Result<bool, CatalogueError> {
        if self.today() == day {
            return Ok(false);
        }
        match self.today.write() {
            Ok(mut d) => *d = day,
            Err(poisoned) => *poisoned.into_inner() = day,
        }
        // Courses that ended yesterday give their places back before the new day's counts.
        store.sweep_ended(&day.to_string())?;
        self.rebuild(store)?;
        Ok(true)
    }
}

fn build(
    store: &Store,
    reference: &Arc<ReferenceData>,
    policies: &Arc<PolicySet>,
    today: Date,
    version: u64,
) -> Result<Catalogue, CatalogueError> {
    let rows = store.all_offers()?;
    let mut evidence: HashMap<String, Vec<Evidence>> = HashMap::new();
    for EvidenceRow { offer_id: offer, target_group: group, trials, successes } in store.all_evidence()? {
        // Evidence for a group the reference data no longer has cannot be scored: skip it.
        if let Some(group) = reference.group(&group) {
            evidence.entry(offer).or_default().push(Evidence {
                group,
                trials,
                successes: successes.min(trials),
            });
        }
    }
    let mut offers = Vec::with_capacity(rows.len());
    let mut reserved = Vec::with_capacity(rows.len());
    let mut retired = Vec::with_capacity(rows.len());
    let mut providers: HashMap<ProviderId, Provider> = HashMap::new();
    for row in rows {
        let mut offer: Offer = serde_json::from_str(&row.model)
            .map_err(|source| CatalogueError::Model { id: row.id.clone(), source })?;
        offer.evidence = evidence.remove(&row.id).unwrap_or_default();
        if row.retired {
            // Capacity 0 removes the offer from every suggestion (Removal::NoCapacity).
            offer.capacity = 0;
            offer.guaranteed_volume = 0;
        }
        providers.entry(offer.provider.clone()).or_insert_with(|| Provider {
            id: offer.provider.clone(),
            name: offer.provider.to_string(),
            municipality: offer.municipality,
            contact: None,
        });
        reserved.push(AtomicU32::new(row.reserved));
        retired.push(row.retired);
        offers.push(offer);
    }
    let mut providers: Vec<Provider> = providers.into_values().collect();
    providers.sort_by(|a, b| a.id.cmp(&b.id));
    let data = Dataset { offers, providers, ..Dataset::default() };
    let scorer = Scorer::new(Arc::new(data), reference.clone(), policies.clone(), today)?;
    let index = graph::Index::new(&scorer);
    Ok(Catalogue { version, scorer, index, reserved, retired })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_day_rebuilds_the_catalogue_once() {
        let dir = std::env::temp_dir().join(format!("brobygger-catalogue-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("m.db")).unwrap();
        let day = Date::parse("2026-09-01").unwrap();
        let reference = Arc::new(ReferenceData::embedded().unwrap());
        let c = Catalogues::load(&store, reference, Arc::new(PolicySet::default()), day).unwrap();
        assert!(!c.set_today(&store, day).unwrap());
        assert_eq!(c.current().version, 1);
        assert!(c.set_today(&store, day.plus_days(1)).unwrap());
        assert_eq!((c.current().version, c.today()), (2, day.plus_days(1)));
        assert_eq!(c.current().scorer.today(), day.plus_days(1));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
