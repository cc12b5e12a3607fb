//! A municipality's policy file: any text gives a validated policy or an `Error::Policy`.
//! An accepted policy must also pass its own validation again (parse and validate agree).
#![no_main]

use libfuzzer_sys::fuzz_target;
use matcher_core::policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(policy) = Policy::from_toml(text, "fuzz.toml") {
        assert!(policy.validate("fuzz.toml").is_ok(), "an accepted policy fails validation");
    }
});
