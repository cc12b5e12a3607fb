//! JSON tables: the first byte picks the reader, the rest is the text. 0: offers as a request
//! body (`offers_from_json`), 1: candidates as a request body (`candidates_from_json`),
//! otherwise a data set directory whose tables are JSON (split at 0x1E like `dataset_csv`).
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
        let dir = std::env::temp_dir().join(format!("brobygger-fuzz-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        (reference, dir)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let (reference, dir) = setup();
    match which {
        0 | 1 => {
            let Ok(text) = std::str::from_utf8(rest) else { return };
            if which == 0 {
                let _ = matcher_core::dataset::offers_from_json("body", text, reference);
            } else {
                let _ = matcher_core::dataset::candidates_from_json("body", text, reference);
            }
        }
        _ => {
            let mut parts = rest.split(|&b| b == 0x1e);
            for stem in TABLES {
                let path = dir.join(format!("{stem}.json"));
                match parts.next() {
                    Some(bytes) => std::fs::write(&path, bytes).expect("write table"),
                    None => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            let _ = matcher_core::dataset::load_dir(dir, reference);
        }
    }
});
