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
//! | n | payload: the data set, bincode 2 (serde, standard configuration), in sections |
//!
//! The payload (version 6) is a count of sections (8 bytes), then each section as its length
//! (8 bytes) and its bytes: first everything but the candidates (offers, providers, history,
//! declines, contracts), then the candidates in [`CANDIDATE_SECTIONS`] runs of equal length
//! (the last shorter). The sections decode side by side on the pool's threads (the national
//! data set's one decode was a sixth of a second on one core, before anything else of the
//! night could start); the bytes do not depend on the number of threads.
//!
//! The header is checked before bincode sees a byte, so a truncated or foreign file is refused
//! with a reason; the checksum is taken beside the decode, and a damaged payload is refused as
//! damaged whatever it decoded to (the decode limit bounds what it may allocate meanwhile). bincode is
//! not self-describing: snapshot types must not use `skip_serializing_if`, `flatten`, `tag` or
//! `untagged` (bincode cannot decode them), and any change to a snapshot type needs a new
//! format version. This module must not validate rows; that is [`super::load_dir`]'s job.
//!
//! Versions: 1 had the candidates, offers and providers; 2 adds the episode history
//! (`outcomes`) after the providers; 3 appends each offer's time and place; 4 adds the
//! `declines` after the history; 5 appends each provider's contact and the `contracts` after
//! the declines; 6 splits the payload into sections (the same types). Files of versions 1 to 5
//! still read (without what they lacked); new files are always written as the current
//! version.

use crate::error::{Error, Result};
use crate::model::Dataset;
use rayon::prelude::*;
use std::path::Path;

/// First eight bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"BROBYGGR";
/// Version of the layout and of the encoded types; bumped on any change to either. Older
/// versions stay readable (see [`v1`], [`v2`], [`v3`] and [`v4`]; version 5 is today's types
/// in one piece); a committed fixture per version (`tests/fixtures/snapshot-vN.bin`) keeps
/// that true.
///
/// - 2: the episode history ([`Dataset::outcomes`]); version 1 reads with an empty history.
/// - 3: `Offer::time_and_place` (next start, address postcode, contact) appended to each
///   offer; versions 1 and 2 read as continuous intake without address or contact.
/// - 4: the declines ([`Dataset::declines`]) after the history; versions 1 to 3 read with none.
/// - 5: `Provider::contact` appended to each provider, and the contracts
///   ([`Dataset::contracts`]) after the declines; versions 1 to 4 read without contacts and
///   with no contracts.
/// - 6: the payload in sections, decoded side by side (the module's header); the same types.
pub const FORMAT_VERSION: u32 = 6;
/// Runs of candidates a version-6 payload holds (fixed, so that the bytes do not depend on
/// the machine that wrote them).
pub const CANDIDATE_SECTIONS: usize = 8;
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
    let Dataset { candidates, offers, providers, outcomes, declines, contracts } = dataset;
    let mut sections = vec![section(&RestOf { offers, providers, outcomes, declines, contracts })?];
    let run = candidates.len().div_ceil(CANDIDATE_SECTIONS).max(1);
    for part in candidates.chunks(run) {
        sections.push(section(part)?);
    }
    let mut payload = Vec::with_capacity(8 + sections.iter().map(|s| 8 + s.len()).sum::<usize>());
    payload.extend_from_slice(&(sections.len() as u64).to_le_bytes());
    for section in &sections {
        payload.extend_from_slice(&(section.len() as u64).to_le_bytes());
        payload.extend_from_slice(section);
    }
    Ok(framed(&payload, FORMAT_VERSION))
}

/// One section's bytes.
fn section<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| snapshot_error(Path::new("<memory>"), format!("cannot encode: {e}")))
}

/// The first section of a version-6 payload: the data set but its candidates, as written.
#[derive(serde::Serialize)]
struct RestOf<'a> {
    offers: &'a [std::sync::Arc<crate::model::Offer>],
    providers: &'a [crate::model::Provider],
    outcomes: &'a [crate::model::Episode],
    declines: &'a [crate::model::Decline],
    contracts: &'a [crate::model::Contract],
}

/// The first section of a version-6 payload, as read.
#[derive(serde::Deserialize)]
struct Rest {
    offers: Vec<std::sync::Arc<crate::model::Offer>>,
    providers: Vec<crate::model::Provider>,
    outcomes: Vec<crate::model::Episode>,
    declines: Vec<crate::model::Decline>,
    contracts: Vec<crate::model::Contract>,
}

/// `payload` (already encoded) behind the header of format `version`.
fn framed(payload: &[u8], version: u32) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&fnv1a64(payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
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
    // The checksum is taken beside the decode (a national payload: ~35 ms of one core each
    // way), and a payload whose checksum fails is refused whatever it decoded to. Decoding
    // bytes not yet checked is safe: bincode reads them as untrusted input, and the limit
    // bounds what a length prefix may claim (the fuzz target decodes arbitrary payloads).
    let config = bincode::config::standard().with_limit::<DECODE_LIMIT>();
    let (intact, decoded) =
        rayon::join(|| fnv1a64(payload) == checksum, || decode_payload(version, payload, config));
    if !intact {
        return Err(fail("damaged: the payload checksum does not match".into()));
    }
    decoded.map_err(fail)
}

/// The payload of a snapshot of format `version` as today's data set; the reason in words
/// when it cannot be read.
fn decode_payload<C: bincode::config::Config + Sync>(
    version: u64,
    payload: &[u8],
    config: C,
) -> std::result::Result<Dataset, String> {
    if version < 6 {
        let (dataset, used) =
            decode_whole(version, payload, config).map_err(|e| format!("cannot decode the payload: {e}"))?;
        if used != payload.len() {
            return Err(format!("{} unexpected bytes after the data set", payload.len() - used));
        }
        return Ok(dataset);
    }
    let sections = split_sections(payload)?;
    let Some((rest, runs)) = sections.split_first() else {
        return Err("the payload has no sections".into());
    };
    // Exactly the bytes of its section, or it is refused as damaged.
    fn whole<T: serde::de::DeserializeOwned, C: bincode::config::Config>(
        bytes: &[u8],
        config: C,
        what: &str,
    ) -> std::result::Result<T, String> {
        let (value, used) = bincode::serde::decode_from_slice::<T, _>(bytes, config)
            .map_err(|e| format!("cannot decode the payload's {what}: {e}"))?;
        if used != bytes.len() {
            return Err(format!("{} unexpected bytes after the payload's {what}", bytes.len() - used));
        }
        Ok(value)
    }
    let (rest, runs) = rayon::join(
        || whole::<Rest, C>(rest, config, "offers and history"),
        || {
            runs.par_iter()
                .enumerate()
                .map(|(k, bytes)| {
                    whole::<Vec<crate::model::Candidate>, C>(
                        bytes,
                        config,
                        &format!("candidates (run {})", k + 1),
                    )
                })
                .collect::<std::result::Result<Vec<_>, String>>()
        },
    );
    let (rest, runs) = (rest?, runs?);
    let mut candidates = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    for run in runs {
        candidates.extend(run);
    }
    let Rest { offers, providers, outcomes, declines, contracts } = rest;
    Ok(Dataset { candidates, offers, providers, outcomes, declines, contracts })
}

/// A version-6 payload's sections: its count, then each one's length and bytes.
fn split_sections(payload: &[u8]) -> std::result::Result<Vec<&[u8]>, String> {
    let word = |at: usize| -> Option<u64> {
        let bytes: [u8; 8] = payload.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(u64::from_le_bytes(bytes))
    };
    let count = word(0).ok_or("truncated: no count of sections")?;
    let mut at = 8usize;
    let mut sections = Vec::new();
    for k in 0..count {
        let length = word(at).ok_or_else(|| format!("truncated: section {} has no length", k + 1))?;
        at += 8;
        let left = payload.len() - at;
        let length = usize::try_from(length).ok().filter(|&l| l <= left).ok_or_else(|| {
            format!("truncated: section {} announces {length} bytes, {left} are left", k + 1)
        })?;
        sections.push(&payload[at..at + length]);
        at += length;
    }
    if at != payload.len() {
        return Err(format!("{} unexpected bytes after the data set", payload.len() - at));
    }
    Ok(sections)
}

/// The payload of a snapshot of format `version` (1 to 5: one piece) as today's data set, and
/// the bytes it took.
fn decode_whole<C: bincode::config::Config>(
    version: u64,
    payload: &[u8],
    config: C,
) -> std::result::Result<(Dataset, usize), bincode::error::DecodeError> {
    match version {
        1 => bincode::serde::decode_from_slice::<v1::Dataset, _>(payload, config)
            .map(|(d, used)| (d.into(), used)),
        2 => bincode::serde::decode_from_slice::<v2::Dataset, _>(payload, config)
            .map(|(d, used)| (d.into(), used)),
        3 => bincode::serde::decode_from_slice::<v3::Dataset, _>(payload, config)
            .map(|(d, used)| (d.into(), used)),
        4 => bincode::serde::decode_from_slice::<v4::Dataset, _>(payload, config)
            .map(|(d, used)| (d.into(), used)),
        _ => bincode::serde::decode_from_slice::<Dataset, _>(payload, config),
    }
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

/// The types of format version 1, as they were encoded, and their conversion to today's.
/// Version 1 had no episode history and offers without a time and place; they read as an
/// empty history and continuous intake with no address or contact.
pub mod v1 {
    use super::v4::Provider;
    use crate::model::{
        Candidate, ContractKind, Evidence, GroupSet, Language, LatLon, MunicipalityCode, Occupation, OfferId,
        OfferKind, ProviderId, TimeAndPlace,
    };
    use serde::Deserialize;

    /// A version-1 data set.
    #[derive(Deserialize)]
    pub struct Dataset {
        candidates: Vec<Candidate>,
        offers: Vec<Offer>,
        providers: Vec<Provider>,
    }

    /// An offer of versions 1 and 2: today's fields up to `evidence`, in the same order.
    #[derive(Deserialize)]
    pub struct Offer {
        id: OfferId,
        kind: OfferKind,
        name: String,
        provider: ProviderId,
        municipality: MunicipalityCode,
        location: LatLon,
        serves_municipalities: Vec<MunicipalityCode>,
        capacity: u32,
        price_dkk: u32,
        contract: Option<ContractKind>,
        guaranteed_volume: u32,
        target_groups: GroupSet,
        occupations: Vec<Occupation>,
        languages: Vec<Language>,
        requires_driving_licence: bool,
        min_hours: u8,
        duration_weeks: u16,
        poster_weeks_saved: f32,
        evidence: Vec<Evidence>,
    }

    impl From<Offer> for crate::model::Offer {
        fn from(o: Offer) -> Self {
            crate::model::Offer {
                id: o.id,
                kind: o.kind,
                name: o.name,
                provider: o.provider,
                municipality: o.municipality,
                location: o.location,
                serves_municipalities: o.serves_municipalities,
                capacity: o.capacity,
                price_dkk: o.price_dkk,
                contract: o.contract,
                guaranteed_volume: o.guaranteed_volume,
                target_groups: o.target_groups,
                occupations: o.occupations,
                languages: o.languages,
                requires_driving_licence: o.requires_driving_licence,
                min_hours: o.min_hours,
                duration_weeks: o.duration_weeks,
                poster_weeks_saved: o.poster_weeks_saved,
                evidence: o.evidence,
                time_and_place: TimeAndPlace::default(),
            }
        }
    }

    impl From<Dataset> for crate::model::Dataset {
        fn from(d: Dataset) -> Self {
            crate::model::Dataset {
                candidates: d.candidates,
                offers: d.offers.into_iter().map(|o| std::sync::Arc::new(o.into())).collect(),
                providers: d.providers.into_iter().map(Into::into).collect(),
                outcomes: Vec::new(),
                declines: Vec::new(),
                contracts: Vec::new(),
            }
        }
    }
}

/// The types of format version 2 (the episode history, offers still without a time and
/// place), and their conversion to today's.
pub mod v2 {
    use super::v4::Provider;
    use crate::model::{Candidate, Episode};
    use serde::Deserialize;

    /// A version-2 data set.
    #[derive(Deserialize)]
    pub struct Dataset {
        candidates: Vec<Candidate>,
        offers: Vec<super::v1::Offer>,
        providers: Vec<Provider>,
        outcomes: Vec<Episode>,
    }

    impl From<Dataset> for crate::model::Dataset {
        fn from(d: Dataset) -> Self {
            crate::model::Dataset {
                candidates: d.candidates,
                offers: d.offers.into_iter().map(|o| std::sync::Arc::new(o.into())).collect(),
                providers: d.providers.into_iter().map(Into::into).collect(),
                outcomes: d.outcomes,
                declines: Vec::new(),
                contracts: Vec::new(),
            }
        }
    }
}

/// The types of format version 3 (history and offers with a time and place, no declines), and
/// their conversion to today's.
pub mod v3 {
    use super::v4::Provider;
    use crate::model::{Candidate, Episode, Offer};
    use serde::Deserialize;

    /// A version-3 data set.
    #[derive(Deserialize)]
    pub struct Dataset {
        candidates: Vec<Candidate>,
        offers: Vec<Offer>,
        providers: Vec<Provider>,
        outcomes: Vec<Episode>,
    }

    impl From<Dataset> for crate::model::Dataset {
        fn from(d: Dataset) -> Self {
            crate::model::Dataset {
                candidates: d.candidates,
                offers: d.offers.into_iter().map(std::sync::Arc::new).collect(),
                providers: d.providers.into_iter().map(Into::into).collect(),
                outcomes: d.outcomes,
                declines: Vec::new(),
                contracts: Vec::new(),
            }
        }
    }
}

/// The types of format version 4 (providers without a contact, no contracts), and their
/// conversion to today's.
pub mod v4 {
    use crate::model::{Candidate, Decline, Episode, MunicipalityCode, Offer, ProviderId};
    use serde::Deserialize;

    /// A provider of versions 1 to 4: id, name, home municipality.
    #[derive(Deserialize)]
    pub struct Provider {
        id: ProviderId,
        name: String,
        municipality: MunicipalityCode,
    }

    impl From<Provider> for crate::model::Provider {
        fn from(p: Provider) -> Self {
            crate::model::Provider { id: p.id, name: p.name, municipality: p.municipality, contact: None }
        }
    }

    /// A version-4 data set.
    #[derive(Deserialize)]
    pub struct Dataset {
        candidates: Vec<Candidate>,
        offers: Vec<Offer>,
        providers: Vec<Provider>,
        outcomes: Vec<Episode>,
        declines: Vec<Decline>,
    }

    impl From<Dataset> for crate::model::Dataset {
        fn from(d: Dataset) -> Self {
            crate::model::Dataset {
                candidates: d.candidates,
                offers: d.offers.into_iter().map(std::sync::Arc::new).collect(),
                providers: d.providers.into_iter().map(Into::into).collect(),
                outcomes: d.outcomes,
                declines: d.declines,
                contracts: Vec::new(),
            }
        }
    }
}
