//! The data set directory reader on CSV tables: the input is split at ASCII record separators
//! (0x1E) into `providers.csv`, `offers.csv`, `evidence.csv` and `candidates.csv`; a missing
//! part leaves its table absent. Any input must give a data set or an `Error`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use matcher_core::model::ReferenceData;
use std::path::PathBuf;
use std::sync::OnceLock;

const TABLES: [&str; 4] = ["providers", "offers", "evidence", "candidates"];

fn setup() -> &'static (ReferenceData, PathBuf) {
    static SETUP: OnceLock<(ReferenceData, PathBuf)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let reference = ReferenceData::embedded().expect("embedded reference data");
        let dir = std::env::temp_dir().join(format!("brobygger-fuzz-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        (reference, dir)
    })
}

fuzz_target!(|data: &[u8]| {
    let (reference, dir) = setup();
    let mut parts = data.split(|&b| b == 0x1e);
    for stem in TABLES {
        let path = dir.join(format!("{stem}.csv"));
        match parts.next() {
            Some(bytes) => std::fs::write(&path, bytes).expect("write table"),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let _ = matcher_core::dataset::load_dir(dir, reference);
});
