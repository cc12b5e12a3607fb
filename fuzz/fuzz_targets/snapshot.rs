//! The bincode snapshot. Random bytes almost never pass the checksum, so the target fuzzes
//! the payload behind a valid header (magic, version, length and checksum filled in) as well
//! as the raw bytes; an accepted payload is then checked against the reference data, as
//! `matcher validate` does with a snapshot.
#![no_main]

use libfuzzer_sys::fuzz_target;
use matcher_core::dataset::snapshot::{FORMAT_VERSION, MAGIC, decode, fnv1a64};
use matcher_core::model::ReferenceData;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn setup() -> &'static (ReferenceData, PathBuf) {
    static SETUP: OnceLock<(ReferenceData, PathBuf)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let reference = ReferenceData::embedded().expect("embedded reference data");
        let path = std::env::temp_dir().join(format!("brobygger-fuzz-{}.snapshot", std::process::id()));
        (reference, path)
    })
}

fuzz_target!(|data: &[u8]| {
    let (reference, path) = setup();
    let _ = decode(data, Path::new("raw.snapshot"));
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(data.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&fnv1a64(data).to_le_bytes());
    bytes.extend_from_slice(data);
    if decode(&bytes, Path::new("fuzz.snapshot")).is_ok() {
        std::fs::write(path, &bytes).expect("write snapshot");
        let _ = matcher_core::dataset::load(path, reference);
    }
});
