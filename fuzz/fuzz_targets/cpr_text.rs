//! CPR detection on any text (issue 15): no panic, spans on character boundaries, the two
//! entry points agree, and a masked text holds no CPR number any more (what every answer of
//! the service relies on when it stars a refused value out).
#![no_main]

use libfuzzer_sys::fuzz_target;
use matcher_core::model::cpr;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let found = cpr::find(text);
    assert_eq!(cpr::looks_like_cpr(text), !found.is_empty());
    for r in &found {
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end), "{r:?} in {text:?}");
    }
    let masked = cpr::mask(text);
    assert!(!cpr::looks_like_cpr(&masked), "{text:?} masked to {masked:?}");
});
