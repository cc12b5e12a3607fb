//! Writing the suggestion log and the access log off the hot path. `POST /v1/suggestions` hands each answer to a
//! bounded channel; one background thread lets entries gather for a few milliseconds, then
//! drains it and appends them in one transaction (one commit for many answers), so logging costs the request a copy of its answer
//! and a channel send. A full channel makes the sender wait (backpressure) rather than drop an
//! entry: an answer that was served is logged. What is not guaranteed: an answer served in the
//! last moment before a crash (`kill -9`, power loss) may be missing, since the answer is sent
//! before its batch commits; a clean shutdown flushes (`serve` calls [`AuditLog::flush`]).
//!
//! The access log (`store::access_log`: who read or changed which candidate) goes the same
//! way, in the same transactions.
//!
//! Owns the versions an entry records (engine, policy hash per policy, reference data hash),
//! computed once at start. Must not decide what is logged beyond the caller's entry, and never
//! reads the log (the audit route reads through the store).

use crate::server::store::{NewAccess, NewSuggestionLogEntry, Store};
use matcher_core::model::{MunicipalityCode, ReferenceData};
use matcher_core::policy::PolicySet;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Entries waiting at most; more make the request threads wait for the writer.
const QUEUE: usize = 16_384;
/// Entries written in one transaction at most.
const BATCH: usize = 2_048;
/// How long the writer lets entries gather after the first one arrives before it writes them.
/// Without it the writer woke for nearly every answer under load (a futex wake and two
/// context switches per request, taken from the 2 cores that answer) and committed a
/// transaction of one or two rows; 5 ms gathers ~25 answers at 5,000/s. A flush is not kept
/// waiting: it ends the gathering.
const GATHER: std::time::Duration = std::time::Duration::from_millis(5);

/// The engine that made a suggestion.
pub const ENGINE_VERSION: &str = concat!("matcher ", env!("CARGO_PKG_VERSION"));

/// What an entry records of the versions in force.
#[derive(Debug, Clone)]
pub struct LogVersions {
    /// SHA-256 of the reference data's JSON.
    pub reference_hash: String,
    /// Name and SHA-256 of each policy's JSON, by `PolicySet::index_for` index.
    pub policies: Vec<(String, String)>,
}

impl LogVersions {
    /// Hashes the reference data and each policy of `policies`.
    pub fn new(reference: &ReferenceData, policies: &PolicySet) -> LogVersions {
        let hash =
            |bytes: &[u8]| -> String { Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect() };
        // Serialising plain data to JSON cannot fail; an empty text would still hash.
        let reference_hash = hash(&serde_json::to_vec(reference).unwrap_or_default());
        let policies = (0..=policies.municipal.len())
            .map(|i| {
                let p = policies.get(i);
                (p.name.clone(), hash(&serde_json::to_vec(p).unwrap_or_default()))
            })
            .collect();
        LogVersions { reference_hash, policies }
    }

    /// Name and hash of the policy in force for `municipality`.
    pub fn policy(&self, policies: &PolicySet, municipality: u16) -> (String, String) {
        let i = policies.index_for(MunicipalityCode(municipality));
        self.policies.get(i).cloned().unwrap_or_default()
    }
}

enum Message {
    Entry(Box<NewSuggestionLogEntry>),
    Access(Box<NewAccess>),
    Flush(std::sync::mpsc::Sender<()>),
}

/// The background writer of the suggestion log.
pub struct AuditLog {
    sender: Mutex<Option<SyncSender<Message>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    failed: Arc<AtomicU64>,
    /// Versions recorded with every entry.
    pub versions: LogVersions,
}

impl AuditLog {
    /// Starts the writer thread over `store`.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn start(store: Arc<Store>, versions: LogVersions) -> std::io::Result<AuditLog> {
        let (sender, receiver) = sync_channel(QUEUE);
        let failed = Arc::new(AtomicU64::new(0));
        let counter = failed.clone();
        let thread = std::thread::Builder::new()
            .name("suggestion-log".into())
            .spawn(move || write_loop(&store, &receiver, &counter))?;
        Ok(AuditLog { sender: Mutex::new(Some(sender)), thread: Mutex::new(Some(thread)), failed, versions })
    }

    /// Queues an entry; waits while the queue is full. Blocking: call from blocking code.
    pub fn record(&self, entry: NewSuggestionLogEntry) {
        let sender = self.sender.lock().ok().and_then(|s| s.clone());
        let sent = sender.is_some_and(|s| s.send(Message::Entry(Box::new(entry))).is_ok());
        if !sent {
            self.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!("suggestion log writer has stopped: an entry was not logged");
        }
    }

    /// Queues an access-log row; waits while the queue is full. Blocking: call from blocking
    /// code.
    pub fn record_access(&self, access: NewAccess) {
        let sender = self.sender.lock().ok().and_then(|s| s.clone());
        let sent = sender.is_some_and(|s| s.send(Message::Access(Box::new(access))).is_ok());
        if !sent {
            self.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!("audit log writer has stopped: an access was not logged");
        }
    }

    /// Waits until every entry queued before this call is committed (or failed). Blocking.
    pub fn flush(&self) {
        let (done, wait) = std::sync::mpsc::channel();
        let sender = self.sender.lock().ok().and_then(|s| s.clone());
        if sender.is_some_and(|s| s.send(Message::Flush(done)).is_ok()) {
            let _ = wait.recv();
        }
    }

    /// Entries that could not be written since start (logged as errors as they happen).
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Writes what is queued and stops the writer. Blocking.
    pub fn close(&self) {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        self.close();
    }
}

fn write_loop(store: &Store, receiver: &Receiver<Message>, failed: &AtomicU64) {
    let mut entries = Vec::with_capacity(BATCH);
    let mut accesses = Vec::new();
    let mut flushes = Vec::new();
    while let Ok(first) = receiver.recv() {
        // Sleeping (not blocking in `recv`) means the senders meanwhile only enqueue: no wake.
        if !matches!(first, Message::Flush(_)) {
            std::thread::sleep(GATHER);
        }
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Entry(e) => entries.push(*e),
                Message::Access(a) => accesses.push(*a),
                Message::Flush(done) => flushes.push(done),
            }
            if entries.len() + accesses.len() < BATCH {
                next = receiver.try_recv().ok();
            }
        }
        if let Err(e) = store.append_audit(&entries, &accesses) {
            failed.fetch_add((entries.len() + accesses.len()) as u64, Ordering::Relaxed);
            tracing::error!(error = %e, entries = entries.len(), accesses = accesses.len(), "writing the audit logs failed");
        }
        entries.clear();
        accesses.clear();
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Now as RFC 3339 UTC with milliseconds (`YYYY-MM-DDTHH:MM:SS.mmmZ`): fixed width, so the
/// times compare as text, and fine enough to order what one caseworker saw.
pub fn now_millis() -> String {
    let now = std::time::SystemTime::now();
    let millis = now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_millis());
    let seconds = crate::server::store::rfc3339(now);
    format!("{}.{millis:03}Z", seconds.trim_end_matches('Z'))
}
