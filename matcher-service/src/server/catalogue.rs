//! The offers as the scorer sees them: one immutable [`Catalogue`] (scorer and spatial index)
//! per version of the offers, shared through an `Arc` by every suggestion request and rebuilt
//! after each write to offers, evidence or the episode history. Places taken by decisions change far more often
//! than offers, so they live in atomic counters beside the scorer rather than in it; so do the
//! courses under way that only candidates' records claim (`ledger::recorded_locks`), read whole
//! at a rebuild and recounted per offer after a write about such a candidate
//! ([`Catalogues::recount_recorded`]).
//!
//! Four kinds of new version (issue 18), none of which re-reads more than it must:
//! - a write to a few stored offers (an upsert of known ids, a retirement) reads only those
//!   back (and the registry entries of their providers, derived again as a build derives
//!   them) and patches the current scorer ([`Catalogues::offers_written`],
//!   `Scorer::with_changed_offers`: the effect estimates and the other offers' layout are
//!   kept) and lays the spatial index out again (a few milliseconds);
//! - a write of new offers reads only those back, asks the store whether its evidence or
//!   history already names them (then it rebuilds: a record of their own moves the
//!   estimates), puts them in their places in the id order with their providers, keeps the
//!   other offers' estimates (`Scorer::with_new_offers`) and copies the place counters into
//!   the new order: a new layout, without reading every offer back or estimating again;
//! - an outcome changes only evidence, so [`Catalogues::refresh_evidence`] (also after a
//!   no-offer record, which changes only the history) keeps the offers, the spatial index and
//!   the place counters of the current catalogue (shared, not copied) and builds only a new
//!   scorer. That refresh runs beside the request, coalesced: however many outcomes arrive
//!   while one runs, one more follows and covers them all ([`Catalogues::evidence_changed`]).
//!   The place an outcome releases goes back into the shared counter at once, in the request;
//! - everything else (a write of new and stored offers at once, a provider's registry entry,
//!   a new day, the start) reads every offer back from the store ([`Catalogues::rebuild`]).

use crate::server::store::{
    CatalogueRows, EvidenceRow, HistoryRow, LearningRows, ProviderRow, Store, StoreError,
};
use matcher_core::graph;
use matcher_core::model::{Candidate, Dataset, Date, Evidence, Offer, Provider, ProviderId, ReferenceData};
use matcher_core::policy::PolicySet;
use matcher_core::score::Scorer;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
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
    /// The version that fixed the offers' indices, a build from the store or the addition of
    /// new offers: a patch for written offers and an evidence refresh keep it (caches by offer
    /// index key on it).
    pub layout: u64,
    /// The scorer (owns the offers as a data set without candidates).
    pub scorer: Scorer,
    /// Spatial index for one-candidate look-ups (shared by the versions that differ only in
    /// evidence: it depends on places, keys and service areas, never on evidence).
    pub index: Arc<graph::Index>,
    /// Places taken, by offer index (kept current by decisions between rebuilds; shared by
    /// the versions that differ only in evidence, so no decision's count is lost in a swap).
    pub reserved: Arc<Vec<AtomicU32>>,
    /// Courses under way that only candidates' records claim (`ledger::recorded_locks`), by
    /// offer index: read whole at a rebuild (and so on a new day), recounted per offer after a
    /// write about a candidate whose record claims one ([`Catalogues::recount_recorded`]);
    /// shared like `reserved`.
    pub recorded: Arc<Vec<AtomicU32>>,
    /// Retired offers, by offer index.
    pub retired: Vec<bool>,
}

impl Catalogue {
    /// The offers.
    pub fn offers(&self) -> &[Arc<Offer>] {
        &self.scorer.data().offers
    }

    /// Places left on an offer: its capacity less the places the ledger holds and the courses
    /// under way that only candidates' records claim (as the accept's guard counts them).
    pub fn remaining(&self, offer: usize) -> u32 {
        let capacity = self.offers().get(offer).map_or(0, |o| o.capacity);
        let count = |v: &[AtomicU32]| v.get(offer).map_or(0, |r| r.load(Ordering::Relaxed));
        capacity.saturating_sub(count(&self.reserved).saturating_add(count(&self.recorded)))
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

/// Evidence refreshes since start ([`Catalogues::refresh_totals`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshTotals {
    /// Refreshes made.
    pub count: u64,
    /// Their time in all.
    pub time: std::time::Duration,
}

/// The least time between two evidence refreshes while outcomes keep coming.
const EVIDENCE_REFRESH_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// While outcomes keep coming, the pause after a refresh is at least this many times the
/// refresh's own time: refreshes take at most an eleventh of one core, whatever the data set's
/// size, and the evidence a suggestion sees is at most ~11 refreshes' time old (under a
/// second at national scale). At national scale, 250 ms apart, they took a third of a core at
/// 100 outcomes/s from the suggestions beside them; at 4 times their time, a fifth (4 s of
/// refreshes in 20 s, `/metrics`); at 10 times, 1.9 s, and the outcome writes beside 5,000
/// suggestions/s answered in p99 10.7–14.8 ms against 16.9–23.7 ms (`docs/performance.md`,
/// session 20).
const EVIDENCE_REFRESH_DUTY: u32 = 10;

/// The current catalogue and what is needed to rebuild it.
pub struct Catalogues {
    current: RwLock<Arc<Catalogue>>,
    rebuild: Mutex<u64>,
    /// Held while a count of record locks is read and stored, so that an older count is never
    /// stored over a newer one.
    recount: Mutex<()>,
    /// An evidence refresh is wanted (set by a write, cleared by the refresh that covers it).
    evidence_dirty: AtomicBool,
    /// An evidence refresh is running.
    refreshing: AtomicBool,
    /// Evidence refreshes made, and their time in all (nanoseconds), for `/metrics`.
    refreshes: AtomicU64,
    refresh_nanos: AtomicU64,
    /// A write to offers committed but its catalogue update failed: the next write to offers
    /// rebuilds from the store instead of patching (a patch reads back only its own offers).
    offers_stale: AtomicBool,
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
            recount: Mutex::new(()),
            evidence_dirty: AtomicBool::new(false),
            refreshing: AtomicBool::new(false),
            refreshes: AtomicU64::new(0),
            refresh_nanos: AtomicU64::new(0),
            offers_stale: AtomicBool::new(false),
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
        self.rebuild_holding(store, &mut version)
    }

    /// [`Catalogues::rebuild`] with the rebuild lock held.
    fn rebuild_holding(&self, store: &Store, version: &mut u64) -> Result<(), CatalogueError> {
        let next = Arc::new(build(store, &self.reference, &self.policies, self.today(), *version + 1)?);
        *version += 1;
        self.swap(next);
        self.offers_stale.store(false, Ordering::SeqCst);
        Ok(())
    }

    fn swap(&self, next: Arc<Catalogue>) {
        let old = match self.current.write() {
            Ok(mut c) => std::mem::replace(&mut *c, next),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), next),
        };
        drop_beside(old);
    }

    /// After a committed write to the stored offers `ids` (upserted or retired): a new
    /// catalogue in which only they changed, swapped in. Blocking; serialised with the other
    /// rebuilds. Reads only those offers back (and the registry entries of their providers);
    /// keeps the others, the evidence, the history and the place counters of the current
    /// catalogue (a write to offers changes none of them), derives their providers again (one
    /// outside the registry takes its home from its first offer, `provider_of`), and patches
    /// the scorer (`Scorer::with_changed_offers`). A write of offers the catalogue does not
    /// have yet adds them instead (`Catalogues::add_holding`). Falls back to
    /// [`Catalogues::rebuild`] when the write names more than an eighth of the offers, names
    /// both new and stored offers, names an id that is not stored, or names another provider
    /// than before for a stored offer (the registry's entry is read at a rebuild), and after a
    /// write whose own update failed (its offers committed, so only a read of every offer
    /// brings them in).
    ///
    /// # Errors
    /// When the store cannot be read or the core refuses the offers.
    pub fn offers_written(&self, store: &Store, ids: &[&str]) -> Result<(), CatalogueError> {
        let mut version = self.rebuild.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let result = if self.offers_stale.load(Ordering::SeqCst) {
            self.rebuild_holding(store, &mut version)
        } else {
            self.patch_holding(store, &mut version, ids)
        };
        self.offers_stale.store(result.is_err(), Ordering::SeqCst);
        result
    }

    /// [`Catalogues::offers_written`]'s patch, with the rebuild lock held.
    fn patch_holding(&self, store: &Store, version: &mut u64, ids: &[&str]) -> Result<(), CatalogueError> {
        let current = self.current();
        // A bulk load of most offers reads faster as one scan than as a look-up per id.
        if ids.len() > current.offers().len() / 8 {
            return self.rebuild_holding(store, version);
        }
        let rows = store.offers_by_id(ids)?;
        let old = current.scorer.data();
        let mut unique: Vec<&str> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        // A write of new offers only takes them in as new; one that also changes stored offers
        // is rare (a bulk load) and rebuilds.
        let known = rows.iter().filter(|row| current.scorer.offer_index(&row.id).is_some()).count();
        if known == 0 && rows.len() == unique.len() {
            return self.add_holding(store, version, current, rows);
        }
        let mut written = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(i) = current.scorer.offer_index(&row.id) else {
                return self.rebuild_holding(store, version);
            };
            let i = i as usize;
            let offer = parse_row(row)?;
            if offer.provider != old.offers[i].provider {
                return self.rebuild_holding(store, version);
            }
            written.push((i, offer, row.retired));
        }
        if written.len() != unique.len() {
            return self.rebuild_holding(store, version);
        }
        // The offers are shared, not copied: a write replaces its own and points at the rest.
        let (mut offers, mut providers, outcomes) =
            (old.offers.clone(), old.providers.clone(), old.outcomes.clone());
        let mut retired = current.retired.clone();
        let mut changed = Vec::with_capacity(written.len());
        for (i, mut offer, is_retired) in written {
            // A write to an offer carries no evidence: the store's stays the offer's.
            offer.evidence = offers[i].evidence.clone();
            offers[i] = Arc::new(offer);
            retired[i] = is_retired;
            changed.push(i);
        }
        // A provider outside the registry takes its home from its first offer, which this
        // write may have moved: its providers are derived again, as a build derives them.
        let mut touched: Vec<&ProviderId> = changed.iter().map(|&i| &offers[i].provider).collect();
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            let (Some(first), Ok(at)) =
                (offers.iter().find(|o| o.provider == *id), providers.binary_search_by(|p| p.id.cmp(id)))
            else {
                // Not reached (a patch keeps each offer's provider, and a build lists every
                // provider of its offers); a rebuild is the safe answer all the same.
                return self.rebuild_holding(store, version);
            };
            let entry = match store.provider(id.as_str()) {
                Ok(entry) => Some(entry),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
            providers[at] = provider_of(first, entry.as_ref());
        }
        let data = Dataset { offers, providers, outcomes, ..Dataset::default() };
        let scorer = current.scorer.with_changed_offers(Arc::new(data), &changed)?;
        let index = Arc::new(graph::Index::new(&scorer));
        *version += 1;
        self.swap(Arc::new(Catalogue {
            version: *version,
            layout: current.layout,
            scorer,
            index,
            reserved: current.reserved.clone(),
            recorded: current.recorded.clone(),
            retired,
        }));
        // This write's own hold on the old catalogue goes too, or it would free it here.
        drop_beside(current);
        Ok(())
    }

    /// [`Catalogues::offers_written`] for offers the catalogue does not have yet (`rows`, in
    /// id order), with the rebuild lock held: they take their places in the id order, the
    /// other offers and their estimates are kept (`Scorer::with_new_offers`), and the place
    /// counters are copied into the new order. Rebuilds instead where the evidence or the
    /// history already names a new id: that record of its own enters only by estimating
    /// every offer.
    fn add_holding(
        &self,
        store: &Store,
        version: &mut u64,
        current: Arc<Catalogue>,
        rows: Vec<crate::server::store::OfferRow>,
    ) -> Result<(), CatalogueError> {
        let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
        if store.learning_names_any(&ids)? {
            return self.rebuild_holding(store, version);
        }
        let today = self.today().to_string();
        let old = current.scorer.data();
        let n = old.offers.len() + rows.len();
        let (mut offers, mut retired, mut new) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::new());
        // (place, reserved, courses under way that records claim) of each new offer.
        let mut counts = Vec::with_capacity(rows.len());
        let mut rest = old.offers.iter().zip(&current.retired).peekable();
        for row in &rows {
            while let Some((offer, &is_retired)) = rest.next_if(|(o, _)| o.id.as_str() < row.id.as_str()) {
                offers.push(offer.clone());
                retired.push(is_retired);
            }
            let mut offer = parse_row(row)?;
            offer.evidence = Vec::new();
            new.push(offers.len());
            counts.push((offers.len(), row.reserved, store.recorded_locks_on(&row.id, &today)?));
            offers.push(Arc::new(offer));
            retired.push(row.retired);
        }
        for (offer, &is_retired) in rest {
            offers.push(offer.clone());
            retired.push(is_retired);
        }
        // A new offer's provider may be new too, or take its home from it (its first offer).
        let mut providers = old.providers.clone();
        let mut touched: Vec<&ProviderId> = new.iter().map(|&i| &offers[i].provider).collect();
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            let Some(first) = offers.iter().find(|o| o.provider == *id) else { continue };
            let entry = match store.provider(id.as_str()) {
                Ok(entry) => Some(entry),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
            let derived = provider_of(first, entry.as_ref());
            match providers.binary_search_by(|p| p.id.cmp(id)) {
                Ok(at) => providers[at] = derived,
                Err(at) => providers.insert(at, derived),
            }
        }
        let data = Dataset { offers, providers, outcomes: old.outcomes.clone(), ..Dataset::default() };
        let scorer = current.scorer.with_new_offers(Arc::new(data), &new)?;
        let index = Arc::new(graph::Index::new(&scorer));
        // The counters are copied last, with recounts held off, so that a decision's count
        // lands in the old ones only in the moment between the copy and the swap (a rebuild
        // reads them from the store a whole build before its swap).
        let _one = self.recount.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (mut reserved, mut recorded) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let load =
            |v: &[AtomicU32], j: usize| AtomicU32::new(v.get(j).map_or(0, |c| c.load(Ordering::Relaxed)));
        let (mut j, mut counts) = (0, counts.into_iter().peekable());
        for i in 0..n {
            if let Some((_, taken, claimed)) = counts.next_if(|c| c.0 == i) {
                reserved.push(AtomicU32::new(taken));
                recorded.push(AtomicU32::new(claimed));
            } else {
                reserved.push(load(&current.reserved, j));
                recorded.push(load(&current.recorded, j));
                j += 1;
            }
        }
        *version += 1;
        self.swap(Arc::new(Catalogue {
            version: *version,
            layout: *version,
            scorer,
            index,
            reserved: Arc::new(reserved),
            recorded: Arc::new(recorded),
            retired,
        }));
        drop_beside(current);
        Ok(())
    }

    /// Builds a new scorer from the current catalogue's offers and the store's evidence, and
    /// swaps it in; the offers, the spatial index and the place counters are shared with the
    /// current catalogue. Blocking. Serialised with [`Catalogues::rebuild`].
    ///
    /// # Errors
    /// When the store cannot be read or the core refuses the offers.
    pub fn refresh_evidence(&self, store: &Store) -> Result<(), CatalogueError> {
        let mut version = self.rebuild.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.current();
        let mut offers = current.scorer.data().offers.clone();
        let LearningRows { evidence, history } = store.learning_rows()?;
        let mut evidence = evidence_by_offer(evidence, &self.reference);
        for offer in &mut offers {
            let fresh = evidence.remove(offer.id.as_str()).unwrap_or_default();
            // Only an offer whose evidence changed is copied; the rest stay shared.
            if offer.evidence != fresh {
                Arc::make_mut(offer).evidence = fresh;
            }
        }
        let outcomes = episodes_of(&history, &self.reference, &offers);
        let data = Dataset {
            offers,
            providers: current.scorer.data().providers.clone(),
            outcomes,
            ..Dataset::default()
        };
        // The offers' places, records and indices stay: only the estimates and the uplift
        // rows are made again.
        let scorer = current.scorer.with_new_evidence(Arc::new(data))?;
        *version += 1;
        let next = Arc::new(Catalogue {
            version: *version,
            layout: current.layout,
            scorer,
            index: current.index.clone(),
            reserved: current.reserved.clone(),
            recorded: current.recorded.clone(),
            retired: current.retired.clone(),
        });
        self.swap(next);
        Ok(())
    }

    /// Recounts the courses under way that only candidates' records claim on these offers
    /// (one look-up of the partial index each), after a write that can change them: a
    /// candidate's record written or deleted (the offers its old and new record name), or a
    /// place of a candidate whose record claims a course taken or released (that offer).
    /// Blocking. A failure is logged, not returned: the write committed, the accept's guard
    /// counts from the store, and the next rebuild reads every count again.
    pub fn recount_recorded(&self, store: &Store, offers: &[String]) {
        if offers.is_empty() {
            return;
        }
        let _one = self.recount.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let cat = self.current();
        let today = self.today().to_string();
        for offer in offers {
            let Some(i) = cat.scorer.offer_index(offer) else { continue };
            match store.recorded_locks_on(offer, &today) {
                Ok(n) => {
                    if let Some(r) = cat.recorded.get(i as usize) {
                        r.store(n, Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "counting courses under way from candidates' records failed")
                }
            }
        }
    }

    /// Says that evidence changed in the store: returns at once, and the calling thread
    /// becomes the refresher if none is running ([`Catalogues::refresh_evidence`] until no
    /// write is left uncovered). Call it from a blocking thread after the write committed.
    ///
    /// # Errors
    /// When a refresh this call ran failed; the old catalogue keeps serving, and the next
    /// write tries again.
    pub fn evidence_changed(&self, store: &Store) -> Result<(), CatalogueError> {
        self.evidence_dirty.store(true, Ordering::SeqCst);
        loop {
            if self.refreshing.swap(true, Ordering::SeqCst) {
                // The running refresher sees `evidence_dirty` after its refresh and goes again.
                return Ok(());
            }
            let mut result = Ok(());
            let mut last: Option<std::time::Duration> = None;
            while self.evidence_dirty.load(Ordering::SeqCst) {
                // Back-to-back refreshes under a steady stream of outcomes would keep a core
                // busy for estimates that one more episode hardly moves: wait, and the next
                // refresh covers every write of the pause.
                if let Some(took) = last {
                    std::thread::sleep(EVIDENCE_REFRESH_PAUSE.max(took * EVIDENCE_REFRESH_DUTY));
                }
                self.evidence_dirty.store(false, Ordering::SeqCst);
                let started = std::time::Instant::now();
                result = self.refresh_evidence(store);
                let took = started.elapsed();
                self.refreshes.fetch_add(1, Ordering::Relaxed);
                self.refresh_nanos
                    .fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
                last = Some(took);
                if result.is_err() {
                    break;
                }
            }
            self.refreshing.store(false, Ordering::SeqCst);
            // A write that set the flag between the last swap and the release found the
            // refresher still running: take its turn.
            if result.is_err() || !self.evidence_dirty.load(Ordering::SeqCst) {
                return result;
            }
        }
    }

    /// Evidence refreshes made since start, and their time in all: how stale the evidence a
    /// suggestion sees can be, and what the refreshes cost (`/metrics`).
    pub fn refresh_totals(&self) -> RefreshTotals {
        RefreshTotals {
            count: self.refreshes.load(Ordering::Relaxed),
            time: std::time::Duration::from_nanos(self.refresh_nanos.load(Ordering::Relaxed)),
        }
    }

    /// Waits until no evidence refresh is running or wanted (tests and orderly shutdown).
    pub fn settle(&self, store: &Store) -> Result<(), CatalogueError> {
        while self.refreshing.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if self.evidence_dirty.load(Ordering::SeqCst) {
            return self.evidence_changed(store);
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

/// Lets go of a catalogue that was swapped out on one of rayon's threads rather than in the
/// write that swapped it: freeing a national catalogue's data set (~5 ms of `free`) is no part
/// of the answer. Whoever holds it last (a suggestion still reading it) frees it then.
fn drop_beside(old: Arc<Catalogue>) {
    rayon::spawn(move || drop(old));
}

fn build(
    store: &Store,
    reference: &Arc<ReferenceData>,
    policies: &Arc<PolicySet>,
    today: Date,
    version: u64,
) -> Result<Catalogue, CatalogueError> {
    let CatalogueRows { offers: rows, recorded: recorded_by_offer, providers: registry, learning } =
        store.catalogue_rows(&today.to_string())?;
    // The registry's names, homes and contacts (issue 16) for the providers the offers name.
    let registry: HashMap<String, ProviderRow> = registry.into_iter().map(|p| (p.id.clone(), p)).collect();
    let LearningRows { evidence, history } = learning;
    let mut evidence = evidence_by_offer(evidence, reference);
    let mut offers = Vec::with_capacity(rows.len());
    let mut reserved = Vec::with_capacity(rows.len());
    let mut recorded = Vec::with_capacity(rows.len());
    let mut retired = Vec::with_capacity(rows.len());
    let mut providers: HashMap<ProviderId, Provider> = HashMap::new();
    for row in rows {
        let mut offer = parse_row(&row)?;
        offer.evidence = evidence.remove(&row.id).unwrap_or_default();
        // The rows come in id order: the first offer of a provider is the one that counts.
        providers
            .entry(offer.provider.clone())
            .or_insert_with(|| provider_of(&offer, registry.get(offer.provider.as_str())));
        reserved.push(AtomicU32::new(row.reserved));
        recorded.push(AtomicU32::new(recorded_by_offer.get(&row.id).copied().unwrap_or(0)));
        retired.push(row.retired);
        offers.push(Arc::new(offer));
    }
    let mut providers: Vec<Provider> = providers.into_values().collect();
    providers.sort_by(|a, b| a.id.cmp(&b.id));
    let outcomes = episodes_of(&history, reference, &offers);
    let data = Dataset { offers, providers, outcomes, ..Dataset::default() };
    let scorer = Scorer::new(Arc::new(data), reference.clone(), policies.clone(), today)?;
    let index = Arc::new(graph::Index::new(&scorer));
    Ok(Catalogue {
        version,
        layout: version,
        scorer,
        index,
        reserved: Arc::new(reserved),
        recorded: Arc::new(recorded),
        retired,
    })
}

/// A provider as the catalogue holds it, from its first offer in id order and its registry
/// entry. The registry's entry names it and gives its home; a provider without one still has
/// to be named and placed: the id stands for the name (what the quality routes show) and its
/// first offer gives the municipality. A full build and a patch both derive it here, so a
/// patch of that first offer moves the provider as a rebuild would.
fn provider_of(first_offer: &Offer, entry: Option<&ProviderRow>) -> Provider {
    match entry {
        Some(entry) => Provider {
            id: first_offer.provider.clone(),
            name: entry.name.clone(),
            municipality: matcher_core::model::MunicipalityCode(entry.municipality),
            contact: entry.contact.clone(),
        },
        None => Provider {
            id: first_offer.provider.clone(),
            name: first_offer.provider.to_string(),
            municipality: first_offer.municipality,
            contact: None,
        },
    }
}

/// A stored offer's model, as scored: a retired one has no places.
fn parse_row(row: &crate::server::store::OfferRow) -> Result<Offer, CatalogueError> {
    let mut offer: Offer = serde_json::from_str(&row.model)
        .map_err(|source| CatalogueError::Model { id: row.id.clone(), source })?;
    if row.retired {
        // Capacity 0 removes the offer from every suggestion (Removal::NoCapacity).
        offer.capacity = 0;
        offer.guaranteed_volume = 0;
    }
    Ok(offer)
}

/// Every tenant's finished episodes as the core's history: offers and their quality are shared
/// by design, like the evidence. The offers' evidence keeps the counts those outcomes added:
/// like a data set's `evidence` table it counts every course of the offer, and the core takes
/// the history's episodes out of it once (`effect::beyond_history`), so an outcome counts once.
/// Taking them out here too took one trial of the offer's own record off per outcome.
fn episodes_of(
    history: &[HistoryRow],
    reference: &ReferenceData,
    offers: &[Arc<Offer>],
) -> Vec<matcher_core::model::Episode> {
    let (outcomes, skipped) = crate::server::history::episodes(history, reference, offers);
    if skipped > 0 {
        tracing::warn!(skipped, "episodes the reference data or the offers no longer read were left out");
    }
    outcomes
}

/// The store's evidence by offer id; evidence for a group the reference data no longer has
/// cannot be scored and is skipped.
fn evidence_by_offer(rows: Vec<EvidenceRow>, reference: &ReferenceData) -> HashMap<String, Vec<Evidence>> {
    let mut evidence: HashMap<String, Vec<Evidence>> = HashMap::new();
    for EvidenceRow { offer_id: offer, target_group: group, trials, successes } in rows {
        if let Some(group) = reference.group(&group) {
            evidence.entry(offer).or_default().push(Evidence {
                group,
                trials,
                successes: successes.min(trials),
            });
        }
    }
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store in a fresh directory holding the demo data set's offers (seed 1), with that
    /// data set and the embedded reference.
    fn demo_store(label: &str) -> (std::path::PathBuf, Store, Arc<ReferenceData>, Dataset) {
        let dir = std::env::temp_dir().join(format!("brobygger-catalogue-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("m.db")).unwrap();
        let reference = Arc::new(ReferenceData::embedded().unwrap());
        let data = matcher_core::r#gen::generate(matcher_core::r#gen::Scale::Demo, 1, &reference);
        store.upsert_offers(&data.offers.iter().map(|o| stored(o)).collect::<Vec<_>>()).unwrap();
        (dir, store, reference, data)
    }

    /// Every fifth candidate's best 8 offers (with their counts) from `after` are `fresh`'s.
    fn assert_same_rows(after: &Catalogue, fresh: &Catalogue, data: &Dataset) {
        for i in (0..data.candidates.len()).step_by(5) {
            let view = |cat: &Catalogue| cat.scorer.view(&data.candidates[i]).unwrap();
            let (a, b) = (view(after), view(fresh));
            assert_eq!(
                after.index.top_k(&after.scorer, &a, 8),
                fresh.index.top_k(&fresh.scorer, &b, 8),
                "{i}"
            );
        }
    }

    /// An offer as a write stores it.
    fn stored(o: &Offer) -> crate::server::store::NewOffer {
        crate::server::store::NewOffer {
            id: o.id.to_string(),
            provider_id: o.provider.to_string(),
            record: "{}".into(),
            model: serde_json::to_string(o).unwrap(),
            capacity: o.capacity,
        }
    }

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

    #[test]
    fn an_evidence_refresh_builds_a_new_scorer_and_shares_the_rest() {
        let (dir, store, reference, data) = demo_store("ev");
        let day = matcher_core::r#gen::AS_OF;
        let c = Catalogues::load(&store, reference.clone(), Arc::new(PolicySet::default()), day).unwrap();
        let before = c.current();
        before.reserved[3].store(2, Ordering::Relaxed);
        let group = reference.target_groups[0].code.clone();
        let uplift = |cat: &Catalogue| cat.scorer.effects().uplift(3, 0, 0).mean;
        store
            .add_evidence(&[EvidenceRow {
                offer_id: data.offers[3].id.to_string(),
                target_group: group,
                trials: 400,
                successes: 390,
            }])
            .unwrap();
        c.evidence_changed(&store).unwrap();
        c.settle(&store).unwrap();
        let after = c.current();
        assert_eq!(after.version, before.version + 1);
        // One refresh, counted for `/metrics` with its time.
        let totals = c.refresh_totals();
        assert!(totals.count == 1 && totals.time > std::time::Duration::ZERO, "{totals:?}");
        assert!(uplift(&after) > uplift(&before), "{} → {}", uplift(&before), uplift(&after));
        assert!(Arc::ptr_eq(&after.index, &before.index));
        assert!(Arc::ptr_eq(&after.reserved, &before.reserved));
        assert_eq!(after.remaining(3), data.offers[3].capacity.saturating_sub(2));
        // The same evidence through a full rebuild gives the same scorer.
        c.rebuild(&store).unwrap();
        assert_eq!(uplift(&c.current()), uplift(&after));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn new_offers_are_added_as_a_rebuild_would_read_them() {
        let (dir, store, reference, data) = demo_store("new");
        let day = matcher_core::r#gen::AS_OF;
        let policies = Arc::new(PolicySet::default());
        // A record for offer 3's provider, which its new course starts from.
        let group = reference.target_groups[0].code.clone();
        let evidence = |offer: &str, trials| EvidenceRow {
            offer_id: offer.to_string(),
            target_group: group.clone(),
            trials,
            successes: trials - 2,
        };
        store.add_evidence(&[evidence(data.offers[3].id.as_str(), 40)]).unwrap();
        let c = Catalogues::load(&store, reference.clone(), policies.clone(), day).unwrap();
        let before = c.current();
        // Held in the counters only (a decision's count between a rebuild's read and now): a
        // rebuild would read 0 from the store, an addition carries it over.
        before.reserved[3].store(2, Ordering::Relaxed);
        before.recorded[5].store(1, Ordering::Relaxed);
        // First, last and between two ids; a course of offer 3's provider, and one of a
        // provider nobody has heard of.
        let like = |i: usize, id: &str| {
            let mut o = Offer::clone(&data.offers[i]);
            o.id = matcher_core::model::OfferId::new(id).unwrap();
            o.evidence.clear();
            o
        };
        let between = format!("{}-b", data.offers[10].id);
        let mut stranger = like(20, "zzz-last");
        stranger.provider = matcher_core::model::ProviderId::new("ny-udbyder").unwrap();
        let new = [like(3, "aaa-first"), like(12, &between), stranger];
        store.upsert_offers(&new.iter().map(stored).collect::<Vec<_>>()).unwrap();
        let ids: Vec<&str> = new.iter().map(|o| o.id.as_str()).collect();
        c.offers_written(&store, &ids).unwrap();
        let after = c.current();
        assert_eq!((after.version, after.layout), (2, 2), "a new layout");
        assert_eq!(after.offers().len(), data.offers.len() + 3);
        let at = |id: &str| after.scorer.offer_index(id).unwrap() as usize;
        assert_eq!((at("aaa-first"), at(&between), at("zzz-last")), (0, 12, data.offers.len() + 2));
        // The counters moved with their offers: carried over, not read again.
        assert_eq!(
            after.remaining(at(data.offers[3].id.as_str())),
            data.offers[3].capacity.saturating_sub(2)
        );
        assert_eq!(after.recorded[at(data.offers[5].id.as_str())].load(Ordering::Relaxed), 1);
        assert_eq!(after.reserved[at("aaa-first")].load(Ordering::Relaxed), 0);
        assert!(!after.retired[at("zzz-last")]);
        assert!(after.scorer.data().providers.iter().any(|p| p.id.as_str() == "ny-udbyder"));
        // The same store read whole gives the same catalogue: offers, providers, estimates and
        // every suggestion row.
        let fresh = Catalogues::load(&store, reference.clone(), policies.clone(), day).unwrap().current();
        assert_eq!(after.offers(), fresh.offers());
        assert_eq!(after.scorer.data().providers, fresh.scorer.data().providers);
        let n_groups = reference.target_groups.len();
        for o in 0..after.offers().len() {
            for g in 0..n_groups {
                assert_eq!(
                    after.scorer.effects().uplift(o, g, 1),
                    fresh.scorer.effects().uplift(o, g, 1),
                    "{o} {g}"
                );
            }
        }
        let (known, first) = (at(data.offers[3].id.as_str()), at("aaa-first"));
        let g = reference.group(&group).unwrap().0 as usize;
        assert!(after.scorer.effects().offer_uplift(first, g).mean > 0.0, "the provider's record");
        assert!(
            after.scorer.effects().offer_uplift(first, g).mean
                < after.scorer.effects().offer_uplift(known, g).mean
        );
        assert_same_rows(&after, &fresh, &data);
        // A new offer the evidence already names brings a record of its own: the catalogue is
        // read whole (the counter held only in memory goes back to the store's).
        store.add_evidence(&[evidence("aab-recorded", 20)]).unwrap();
        store.upsert_offers(&[stored(&like(4, "aab-recorded"))]).unwrap();
        c.offers_written(&store, &["aab-recorded"]).unwrap();
        let read = c.current();
        assert_eq!(read.remaining(at(data.offers[3].id.as_str()) + 1), data.offers[3].capacity);
        let recorded = read.scorer.offer_index("aab-recorded").unwrap() as usize;
        assert_eq!(read.offers()[recorded].evidence.len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_write_to_a_few_offers_patches_the_catalogue_as_a_rebuild_would() {
        let (dir, store, reference, mut data) = demo_store("ow");
        let day = matcher_core::r#gen::AS_OF;
        let policies = Arc::new(PolicySet::default());
        let c = Catalogues::load(&store, reference.clone(), policies.clone(), day).unwrap();
        let before = c.current();
        before.reserved[3].store(2, Ordering::Relaxed);
        // New places, a move to another town, another target group; then a retirement.
        std::sync::Arc::make_mut(&mut data.offers[3]).capacity += 4;
        std::sync::Arc::make_mut(&mut data.offers[5]).location = data.offers[40].location;
        std::sync::Arc::make_mut(&mut data.offers[7]).target_groups = data.offers[20].target_groups;
        let written = [3, 5, 7];
        store.upsert_offers(&written.iter().map(|&i| stored(&data.offers[i])).collect::<Vec<_>>()).unwrap();
        let ids: Vec<String> = written.iter().map(|&i| data.offers[i].id.to_string()).collect();
        c.offers_written(&store, &ids.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
        store.retire_offer_as(None, data.offers[9].id.as_str()).unwrap();
        c.offers_written(&store, &[data.offers[9].id.as_str()]).unwrap();
        let after = c.current();
        assert_eq!(after.version, before.version + 2);
        assert!(Arc::ptr_eq(&after.reserved, &before.reserved), "the place counters are kept, not re-read");
        assert_eq!(after.remaining(3), data.offers[3].capacity - 2);
        assert_eq!((after.retired[9], after.remaining(9)), (true, 0));
        // The same store read whole gives the same catalogue: every suggestion row agrees.
        let fresh = Catalogues::load(&store, reference, policies, day).unwrap().current();
        assert_eq!(after.offers(), fresh.offers());
        assert_same_rows(&after, &fresh, &data);
        // A run's prices by offer index hold through patches (the indices stay)...
        let id3 = data.offers[3].id.to_string();
        let prices = crate::server::batch::Prices::new(1, HashMap::from([(id3.clone(), 500)]));
        let at = after.scorer.offer_index(&id3).unwrap() as usize;
        let by_index = prices.by_index(&after);
        assert_eq!((by_index[at], by_index.iter().sum::<i64>()), (500, 500));
        c.offers_written(&store, &[id3.as_str()]).unwrap();
        assert!(Arc::ptr_eq(&prices.by_index(&c.current()), &by_index), "a patch keeps the layout");
        // ...and an offer new to the catalogue takes a place in the ids' order: the layout
        // moves, and the prices by index with it.
        let mut new = Offer::clone(&data.offers[3]);
        new.id = matcher_core::model::OfferId::new("aaa-first").unwrap();
        store.upsert_offers(&[stored(&new)]).unwrap();
        c.offers_written(&store, &["aaa-first"]).unwrap();
        assert_eq!(c.current().offers().len(), data.offers.len() + 1);
        assert_eq!(c.current().offers()[0].id.as_str(), "aaa-first");
        let moved = prices.by_index(&c.current());
        assert_eq!(c.current().scorer.offer_index(&id3), Some(at as u32 + 1));
        assert_eq!((moved[at + 1], moved[at], moved.iter().sum::<i64>()), (500, 0, 500));
        // A write whose catalogue update failed (here: a model the core cannot read) leaves the
        // next write to rebuild, so that the first one's offer does not stay stale.
        let id11 = data.offers[11].id.to_string();
        let db = rusqlite::Connection::open(store.path()).unwrap();
        db.execute("UPDATE offers SET model = '{}' WHERE id = ?1", [&id11]).unwrap();
        assert!(c.offers_written(&store, &[id11.as_str()]).is_err());
        std::sync::Arc::make_mut(&mut data.offers[11]).capacity += 5;
        store.upsert_offers(&[stored(&data.offers[11])]).unwrap();
        c.offers_written(&store, &[data.offers[12].id.as_str()]).unwrap();
        let i11 = c.current().scorer.offer_index(&id11).unwrap() as usize;
        assert_eq!(c.current().offers()[i11].capacity, data.offers[11].capacity);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A provider outside the registry takes its home from its first offer (in id order); a
    /// patch that moves that offer moves the provider as a rebuild would (it kept the old
    /// municipality until the next rebuild, and a batch run read it from the catalogue).
    #[test]
    fn a_patch_to_a_provider_s_first_offer_moves_it_as_a_rebuild_would() {
        let (dir, store, reference, mut data) = demo_store("home");
        let day = matcher_core::r#gen::AS_OF;
        let policies = Arc::new(PolicySet::default());
        // The first offers (in id order) of two providers that have several.
        let mut ids: Vec<usize> = (0..data.offers.len()).collect();
        ids.sort_by(|&a, &b| data.offers[a].id.cmp(&data.offers[b].id));
        let mut firsts = ids.iter().copied().filter(|&i| {
            let p = &data.offers[i].provider;
            let of_p: Vec<usize> = ids.iter().copied().filter(|&j| data.offers[j].provider == *p).collect();
            of_p.len() > 1 && of_p[0] == i
        });
        let (first, registered) = (firsts.next().unwrap(), firsts.next().unwrap());
        // The second provider is in the registry, with a home none of its offers has.
        let registered_home = 101;
        assert!(
            data.offers
                .iter()
                .all(|o| o.provider != data.offers[registered].provider || o.municipality.0 != 101)
        );
        store
            .upsert_providers(
                None,
                &[ProviderRow {
                    id: data.offers[registered].provider.to_string(),
                    name: "Registreret".into(),
                    municipality: registered_home,
                    contact: None,
                }],
            )
            .unwrap();
        let c = Catalogues::load(&store, reference.clone(), policies.clone(), day).unwrap();
        let provider_ids: Vec<ProviderId> = data.offers.iter().map(|o| o.provider.clone()).collect();
        let home = |cat: &Catalogue, i: usize| {
            cat.scorer.data().providers.iter().find(|p| p.id == provider_ids[i]).map(|p| p.municipality.0)
        };
        let before = home(&c.current(), first).expect("the provider is in the catalogue");
        assert_eq!(before, data.offers[first].municipality.0);
        assert_eq!(home(&c.current(), registered), Some(registered_home));
        let elsewhere = data
            .offers
            .iter()
            .map(|o| o.municipality)
            .find(|&m| m.0 != before && m.0 != registered_home)
            .expect("offers in another municipality");
        for i in [first, registered] {
            std::sync::Arc::make_mut(&mut data.offers[i]).municipality = elsewhere;
        }
        store.upsert_offers(&[stored(&data.offers[first]), stored(&data.offers[registered])]).unwrap();
        let version = c.current().version;
        c.offers_written(&store, &[data.offers[first].id.as_str(), data.offers[registered].id.as_str()])
            .unwrap();
        let patched = c.current();
        assert_eq!(patched.layout, 1, "a patch, not a rebuild");
        assert_eq!(patched.version, version + 1);
        let fresh = Catalogues::load(&store, reference, policies, day).unwrap().current();
        assert_eq!(home(&fresh, first), Some(elsewhere.0));
        assert_eq!(home(&patched, first), home(&fresh, first));
        // The registry's home stands, whatever the offers say.
        assert_eq!(home(&patched, registered), Some(registered_home));
        assert_eq!(patched.scorer.data().providers, fresh.scorer.data().providers);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
