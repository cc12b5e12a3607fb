//! The binary snapshot of a whole [`Dataset`]: fast to load, checked before it is trusted.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! | --- | --- |
//! | 8 | magic `BROBYGGR` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 8 | payload length in bytes |
//! | 8 | FNV-1a 64-bit hash of the payload |
//! | n | payload: the data set, bincode 2 (serde, standard configuration) |
//!
//! The header is checked before bincode sees a byte, so a truncated, damaged or foreign file
//! is refused with a reason instead of decoding into garbage or a huge allocation. bincode is
//! not self-describing: snapshot types must not use `skip_serializing_if`, `flatten`, `tag` or
//! `untagged` (bincode cannot decode them), and any change to a snapshot type needs a new
//! format version. This module must not validate rows; that is [`super::load_dir`]'s job.
//!
//! Versions: 1 had the candidates, offers and providers; 2 adds the episode history
//! (`outcomes`) after the providers; 3 adds the `declines` after the history. Version 1 and 2
//! files still read (with an empty history and/or no declines); new files are always written
//! as the current version.

use crate::error::{Error, Result};
use crate::model::{Candidate, Dataset, Episode, Offer, Provider};
use serde::Deserialize;
use std::path::Path;

/// First eight bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"BROBYGGR";
/// Version of the layout and of the encoded types; bumped on any change to either.
///
/// Version 2 added the episode history ([`Dataset::outcomes`]); version 3 adds the declines
/// after it. Versions 1 and 2 are still read (with no history and/or no declines); the
/// committed fixtures `tests/fixtures/snapshot-v{1,2,3}.bin` keep that true.
pub const FORMAT_VERSION: u32 = 3;
const HEADER_LEN: usize = 8 + 4 + 8 + 8;
/// Most memory a payload may claim while it decodes. A length prefix is trusted by bincode
/// before the bytes behind it are read, so without a limit a crafted (or checksum-colliding)
/// file could ask for any allocation and abort the process (found by `fuzz/`, target
/// `snapshot`). A national data set claims well under a tenth of this.
pub const DECODE_LIMIT: usize = 1 << 30;

/// FNV-1a, 64 bits. Not cryptographic: it detects truncation and flipped bytes, which is all a
/// snapshot needs, and it is a dozen lines that can never change under us.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

/// Encodes a data set as snapshot bytes.
///
/// # Errors
/// [`Error::Snapshot`] if bincode refuses a value (not expected for the model types).
pub fn encode(dataset: &Dataset) -> Result<Vec<u8>> {
    framed(dataset, FORMAT_VERSION)
}

/// The data set as version 2 wrote it (no declines), for the test that keeps version 2 readable.
#[cfg(test)]
pub(crate) fn encode_version_2(dataset: &Dataset) -> Result<Vec<u8>> {
    let d = dataset.clone();
    framed(
        &DatasetV2 {
            candidates: d.candidates,
            offers: d.offers,
            providers: d.providers,
            outcomes: d.outcomes,
        },
        2,
    )
}

/// `payload` encoded behind the header of format `version`.
fn framed<T: serde::Serialize>(payload: &T, version: u32) -> Result<Vec<u8>> {
    let payload = bincode::serde::encode_to_vec(payload, bincode::config::standard())
        .map_err(|e| snapshot_error(Path::new("<memory>"), format!("cannot encode: {e}")))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&fnv1a64(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// Decodes snapshot bytes; `path` is only used in error messages.
///
/// # Errors
/// [`Error::Snapshot`] for a foreign file, another format version, a truncated or damaged
/// file, or trailing bytes.
pub fn decode(bytes: &[u8], path: &Path) -> Result<Dataset> {
    let fail = |reason: String| snapshot_error(path, reason);
    if bytes.len() < HEADER_LEN {
        if bytes.len() >= 8 && bytes[..8] != MAGIC {
            return Err(fail("not a Brobygger snapshot (wrong magic bytes)".into()));
        }
        return Err(fail(format!(
            "truncated: {} bytes, shorter than the {HEADER_LEN}-byte header",
            bytes.len()
        )));
    }
    let (header, payload) = bytes.split_at(HEADER_LEN);
    if header[..8] != MAGIC {
        return Err(fail("not a Brobygger snapshot (wrong magic bytes)".into()));
    }
    let word = |range: std::ops::Range<usize>| -> [u8; 8] {
        let mut out = [0; 8];
        out[..range.len()].copy_from_slice(&header[range]);
        out
    };
    let version = u64::from_le_bytes(word(8..12));
    if !(1..=u64::from(FORMAT_VERSION)).contains(&version) {
        return Err(fail(format!(
            "format version {version}, but this build reads versions 1 to {FORMAT_VERSION}; regenerate the snapshot from the data directory"
        )));
    }
    let length = u64::from_le_bytes(word(12..20));
    let checksum = u64::from_le_bytes(word(20..28));
    if length != payload.len() as u64 {
        return Err(fail(format!(
            "truncated or padded: the header announces {length} payload bytes, the file holds {}",
            payload.len()
        )));
    }
    if fnv1a64(payload) != checksum {
        return Err(fail("damaged: the payload checksum does not match".into()));
    }
    let config = bincode::config::standard().with_limit::<DECODE_LIMIT>();
    let (dataset, used) = if version == 1 {
        bincode::serde::decode_from_slice::<DatasetV1, _>(payload, config).map(|(v1, used)| {
            let DatasetV1 { candidates, offers, providers } = v1;
            (Dataset { candidates, offers, providers, outcomes: Vec::new(), declines: Vec::new() }, used)
        })
    } else if version == 2 {
        bincode::serde::decode_from_slice::<DatasetV2, _>(payload, config).map(|(v2, used)| {
            let DatasetV2 { candidates, offers, providers, outcomes } = v2;
            (Dataset { candidates, offers, providers, outcomes, declines: Vec::new() }, used)
        })
    } else {
        bincode::serde::decode_from_slice::<Dataset, _>(payload, config)
    }
    .map_err(|e| fail(format!("cannot decode the payload: {e}")))?;
    if used != payload.len() {
        return Err(fail(format!("{} unexpected bytes after the data set", payload.len() - used)));
    }
    Ok(dataset)
}

/// The payload of format version 1: a data set before the history and the declines.
#[derive(Deserialize)]
struct DatasetV1 {
    candidates: Vec<Candidate>,
    offers: Vec<Offer>,
    providers: Vec<Provider>,
}

/// The payload of format version 2: the history but no declines.
#[derive(serde::Serialize, Deserialize)]
struct DatasetV2 {
    candidates: Vec<Candidate>,
    offers: Vec<Offer>,
    providers: Vec<Provider>,
    outcomes: Vec<Episode>,
}

/// Writes a snapshot to `path`, through a temporary file renamed into place.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn write_snapshot(dataset: &Dataset, path: &Path) -> Result<()> {
    super::write::replace(path, &encode(dataset)?)
}

/// Reads a snapshot written by [`write_snapshot`].
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Snapshot`] as in [`decode`].
pub fn read_snapshot(path: &Path) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(&bytes, path)
}

fn snapshot_error(path: &Path, reason: String) -> Error {
    Error::Snapshot { path: path.to_path_buf(), reason }
}
