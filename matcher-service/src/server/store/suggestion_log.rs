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

/// Deflate level of stored answers: zlib-rs's level 1 (its "quick" deflate, fixed Huffman
/// codes) packs an answer of ~12 KB to about 23 % in ~19 µs; miniz_oxide's level 1, used up
/// to session 19, packed it to 21 % in ~35 µs, and the writer's deflate was ~11 % of the
/// service's CPU at 4,000 answers a second (`docs/service.md`). Either is plain raw deflate
/// (RFC 1951): rows packed by the one read with the other.
const DEFLATE_LEVEL: u32 = 1;
/// Largest answer a stored row may unpack to (an answer is at most 50 offers, ~60 KB).
const UNPACKED_LIMIT: usize = 16 * 1024 * 1024;

/// An answer as stored: its JSON text deflated (raw deflate, RFC 1951), kept as a BLOB.
///
/// The compressor is kept per thread (the log writer's) and reset for each answer: a new one
/// allocates its window and tables (~300 KB) on every answer.
pub(super) fn pack(input: &[u8]) -> Result<Vec<u8>> {
    use flate2::{Compress, Compression};
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<Compress>> = const { std::cell::RefCell::new(None) };
    }
    let kept = COMPRESSOR.with(|cell| {
        // Busy only if this same thread is inside `pack` already; then a fresh one does.
        let mut slot = cell.try_borrow_mut().ok()?;
        let c = slot.get_or_insert_with(|| Compress::new(Compression::new(DEFLATE_LEVEL), false));
        c.reset();
        deflate(c, input).ok()
    });
    match kept {
        Some(packed) => Ok(packed),
        None => deflate(&mut Compress::new(Compression::new(DEFLATE_LEVEL), false), input),
    }
}

fn deflate(c: &mut flate2::Compress, input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 3 + 64);
    loop {
        let read = usize::try_from(c.total_in()).unwrap_or(usize::MAX).min(input.len());
        let status =
            c.compress_vec(&input[read..], &mut out, flate2::FlushCompress::Finish).map_err(|e| {
                super::StoreError::Conflict(format!("a suggestion log answer does not pack: {e}"))
            })?;
        match status {
            flate2::Status::StreamEnd => return Ok(out),
            flate2::Status::Ok | flate2::Status::BufError => out.reserve(out.capacity().max(1_024)),
        }
    }
}

/// A stored answer as text: rows from schema version 3 hold the JSON text, later rows the
/// deflated text ([`pack`]), byte for byte the same once unpacked.
pub(super) fn stored_answer(value: rusqlite::types::ValueRef<'_>) -> Result<String> {
    use rusqlite::types::ValueRef;
    use std::io::Read;
    match value {
        ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => {
            let mut bytes = Vec::with_capacity(b.len() * 5);
            flate2::read::DeflateDecoder::new(b)
                .take(UNPACKED_LIMIT as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| {
                    super::StoreError::Conflict(format!("a suggestion log answer does not unpack: {e}"))
                })?;
            if bytes.len() > UNPACKED_LIMIT {
                return Err(super::StoreError::Conflict(format!(
                    "a suggestion log answer unpacks to more than {UNPACKED_LIMIT} bytes"
                )));
            }
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
            let packed = pack(text.as_bytes()).expect("packs");
            let fresh = deflate(
                &mut flate2::Compress::new(flate2::Compression::new(DEFLATE_LEVEL), false),
                text.as_bytes(),
            )
            .expect("packs");
            assert_eq!(packed, fresh);
            let back = stored_answer(rusqlite::types::ValueRef::Blob(&packed)).expect("unpacks");
            assert_eq!(back, text);
        }
        assert!(pack(long.as_bytes()).expect("packs").len() < long.len() / 3);
    }

    /// Rows packed before session 19 (miniz_oxide's deflate, level 1; these bytes are one)
    /// read back as they were written.
    #[test]
    fn rows_packed_by_earlier_releases_unpack() {
        const OLD: [u8; 126] = [
            149, 140, 65, 10, 194, 48, 16, 69, 175, 18, 102, 29, 161, 137, 11, 53, 87, 240, 8, 34, 18, 154,
            105, 8, 173, 25, 152, 105, 86, 37, 119, 119, 42, 186, 116, 225, 223, 253, 207, 127, 111, 131, 49,
            214, 84, 82, 92, 241, 81, 18, 132, 119, 61, 12, 123, 28, 88, 144, 150, 51, 202, 90, 168, 10, 132,
            219, 6, 28, 235, 12, 193, 89, 160, 105, 66, 254, 16, 212, 88, 112, 103, 156, 87, 164, 198, 39,
            170, 231, 170, 99, 19, 83, 204, 18, 51, 178, 161, 108, 22, 202, 69, 85, 179, 126, 100, 36, 214,
            211, 217, 249, 110, 191, 82, 255, 75, 122, 84, 224, 15, 233, 233, 50, 244, 123, 127, 1,
        ];
        let text = r#"{"candidate_id":"cand-000001","suggestions":[{"rank":1,"offer_id":"course-00012","name":"Kursus i lager og logistik","score":812},{"rank":2,"offer_id":"course-00013","name":"Kursus i lager og logistik","score":790}]}"#;
        assert_eq!(stored_answer(rusqlite::types::ValueRef::Blob(&OLD)).expect("unpacks"), text);
        // Garbage is an error naming what failed, not a panic.
        let bad =
            stored_answer(rusqlite::types::ValueRef::Blob(&[0xff, 0xff, 0xff])).expect_err("not deflate");
        assert!(bad.to_string().contains("does not unpack"), "{bad}");
    }
}
