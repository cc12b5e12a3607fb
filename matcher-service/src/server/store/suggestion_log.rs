//! The suggestion log (EU AI Act Art. 12, automatic logging): one append-only row per
//! suggestion list served (`POST /v1/suggestions`, which the widget uses) and per batch
//! proposal, with who asked, when, for which candidate (the pseudonymous case id, never a CPR
//! number: ids are checked at the boundary), the answer exactly as it was served, and the
//! versions it was made with. Owns the `suggestion_log` table's rows; must not log anything a
//! tenant did not itself ask for, and never updates or deletes a row (triggers refuse it).

use super::{Result, Store};
use rusqlite::params;
use serde::Serialize;

/// One suggestion list or batch proposal to append.
#[derive(Debug, Clone)]
pub struct NewSuggestionLogEntry {
    /// The tenant.
    pub municipality: u16,
    /// When it was shown (RFC 3339, milliseconds, UTC).
    pub shown_at: String,
    /// `api` (a suggestion list served) or `batch` (a batch run's proposal).
    pub source: &'static str,
    /// Who asked: the caller's user (token holder or verified person).
    pub requested_by: String,
    /// The caller's role.
    pub role: String,
    /// The candidate's pseudonymous id.
    pub candidate_id: String,
    /// The offers' version the answer was scored on.
    pub offers_version: i64,
    /// The batch run whose prices applied (the tenant's number), if any.
    pub batch_run_id: Option<i64>,
    /// The engine: `matcher` and its version.
    pub engine_version: String,
    /// The policy in force for the candidate: its name.
    pub policy_name: String,
    /// SHA-256 of that policy's canonical JSON.
    pub policy_hash: String,
    /// SHA-256 of the reference data's canonical JSON.
    pub reference_hash: String,
    /// The answer exactly as served (JSON text): offers with score, factors, expected effect.
    /// Shared with the HTTP answer (`Bytes` is counted, not copied); the log writer packs it.
    pub answer: bytes::Bytes,
    /// The offers the answer shows, in order, space-separated (ids never hold spaces).
    pub offer_ids: String,
}

/// One row of the log, as the audit route shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SuggestionLogRow {
    /// The tenant's number for the row (ids of other tenants' rows never show).
    pub number: i64,
    /// When it was shown.
    pub shown_at: String,
    /// `api` or `batch`.
    pub source: String,
    /// Who asked.
    pub requested_by: String,
    /// Their role.
    pub role: String,
    /// The candidate's pseudonymous id.
    pub candidate_id: String,
    /// Offers' version.
    pub offers_version: i64,
    /// Batch run whose prices applied.
    pub batch_run_id: Option<i64>,
    /// Engine version.
    pub engine_version: String,
    /// Policy name.
    pub policy_name: String,
    /// Policy hash.
    pub policy_hash: String,
    /// Reference data hash.
    pub reference_hash: String,
    /// The answer as served, JSON text (not re-serialised, so it is byte for byte what was
    /// sent).
    #[serde(skip)]
    pub answer: String,
}

impl Store {
    /// Appends entries in one transaction.
    ///
    /// # Errors
    /// On storage failure; then nothing of the lot is written.
    pub fn append_suggestions(&self, entries: &[NewSuggestionLogEntry]) -> Result<()> {
        self.append_audit(entries, &[])
    }

    /// The tenant's log rows for a candidate, in the order they were written, optionally only
    /// those shown on `date` (`YYYY-MM-DD`, UTC), at most `limit` after row `after`.
    ///
    /// # Errors
    /// On storage failure.
    pub fn suggestion_log(
        &self,
        municipality: u16,
        candidate_id: &str,
        date: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SuggestionLogRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT number, shown_at, source, requested_by, role, candidate_id, offers_version, batch_run_id,
                        engine_version, policy_name, policy_hash, reference_hash, answer
                 FROM suggestion_log
                 WHERE municipality = ?1 AND candidate_id = ?2 AND number > ?3
                   AND (?4 IS NULL OR substr(shown_at, 1, 10) = ?4)
                 ORDER BY number LIMIT ?5",
            )?;
            let rows = stmt.query_map(params![municipality, candidate_id, after, date, limit], |r| {
                Ok(SuggestionLogRow {
                    number: r.get(0)?,
                    shown_at: r.get(1)?,
                    source: r.get(2)?,
                    requested_by: r.get(3)?,
                    role: r.get(4)?,
                    candidate_id: r.get(5)?,
                    offers_version: r.get(6)?,
                    batch_run_id: r.get(7)?,
                    engine_version: r.get(8)?,
                    policy_name: r.get(9)?,
                    policy_hash: r.get(10)?,
                    reference_hash: r.get(11)?,
                    answer: stored_answer(r.get_ref(12)?).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(12, rusqlite::types::Type::Blob, Box::new(e))
                    })?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

/// Deflate level of stored answers: 1 (fastest) packs an answer to about a fifth; higher
/// levels gain a few percent for several times the CPU, which the 2-core service needs.
const DEFLATE_LEVEL: u8 = 1;
/// Largest answer a stored row may unpack to (an answer is at most 50 offers, ~60 KB).
const UNPACKED_LIMIT: usize = 16 * 1024 * 1024;

/// An answer as stored: its JSON text deflated (raw deflate, RFC 1951), kept as a BLOB.
///
/// The compressor is kept per thread (the log writer's) and reset for each answer:
/// `compress_to_vec` allocates and zeroes ~300 KB of tables per call, which for an answer of
/// ~12 KB cost about a fifth of the deflate.
pub(super) fn pack(input: &[u8]) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        CompressorOxide, TDEFLFlush, TDEFLStatus, compress, create_comp_flags_from_zip_params,
    };
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<Box<CompressorOxide>>> = const { std::cell::RefCell::new(None) };
    }
    let packed = COMPRESSOR.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        // Raw deflate (window bits -15), as `compress_to_vec` writes.
        let c = slot.get_or_insert_with(|| {
            Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
                i32::from(DEFLATE_LEVEL),
                -15,
                0,
            )))
        });
        c.reset();
        let mut out = vec![0u8; input.len() / 2 + 64];
        let (mut read, mut written) = (0, 0);
        loop {
            let (status, r, w) = compress(c, &input[read..], &mut out[written..], TDEFLFlush::Finish);
            read += r;
            written += w;
            match status {
                TDEFLStatus::Done => break,
                TDEFLStatus::Okay => out.resize(out.len() * 2, 0),
                _ => return None,
            }
        }
        out.truncate(written);
        Some(out)
    });
    // A compressor that failed (or is in use by this same thread) falls back to a fresh one.
    packed.unwrap_or_else(|| miniz_oxide::deflate::compress_to_vec(input, DEFLATE_LEVEL))
}

/// A stored answer as text: rows from schema version 3 hold the JSON text, later rows the
/// deflated text ([`pack`]), byte for byte the same once unpacked.
pub(super) fn stored_answer(value: rusqlite::types::ValueRef<'_>) -> Result<String> {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => {
            let bytes =
                miniz_oxide::inflate::decompress_to_vec_with_limit(b, UNPACKED_LIMIT).map_err(|e| {
                    super::StoreError::Conflict(format!("a suggestion log answer does not unpack: {e}"))
                })?;
            String::from_utf8(bytes)
                .map_err(|_| super::StoreError::Conflict("a suggestion log answer is not UTF-8".into()))
        }
        _ => Err(super::StoreError::Conflict("a suggestion log answer that is not text".into())),
    }
}

/// Inserts entries inside the caller's transaction, each with its answer packed by [`pack`]
/// (`packed[i]` for `entries[i]`, done before the transaction so the lock is held briefly).
pub(super) fn insert(
    tx: &rusqlite::Transaction<'_>,
    entries: &[NewSuggestionLogEntry],
    packed: &[Vec<u8>],
) -> Result<()> {
    let mut stmt = tx.prepare_cached(concat!(
        "INSERT INTO suggestion_log (municipality, number, shown_at, source, requested_by, role,
            candidate_id, offers_version, batch_run_id, engine_version, policy_name, policy_hash,
            reference_hash, answer, offer_ids)
         VALUES (?1, ",
        next_number!("suggestion_log"),
        ",
            ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))?;
    for (e, answer) in entries.iter().zip(packed) {
        stmt.execute(params![
            e.municipality,
            e.shown_at,
            e.source,
            e.requested_by,
            e.role,
            e.candidate_id,
            e.offers_version,
            e.batch_run_id,
            e.engine_version,
            e.policy_name,
            e.policy_hash,
            e.reference_hash,
            answer,
            e.offer_ids,
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept compressor gives the same bytes as a fresh one, answer after answer (the reset
    /// leaves nothing of the previous answer behind), and they unpack to the text.
    #[test]
    fn pack_reuses_its_compressor_without_changing_the_bytes() {
        let long: String =
            (0..3_000).map(|i| format!("{{\"rank\":{i},\"score\":{}}}", i * 7 % 113)).collect();
        for text in ["", "{}", long.as_str(), "{\"suggestions\":[]}", long.as_str()] {
            let packed = pack(text.as_bytes());
            assert_eq!(packed, miniz_oxide::deflate::compress_to_vec(text.as_bytes(), DEFLATE_LEVEL));
            let back = stored_answer(rusqlite::types::ValueRef::Blob(&packed)).expect("unpacks");
            assert_eq!(back, text);
        }
    }
}
