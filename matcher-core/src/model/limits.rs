//! Upper bounds on every count and size a record can carry, checked when a record is read (the
//! CSV and JSON readers, so the service's bodies too) before anything is sized by it.
//!
//! Owns the numbers only. Why they exist: a single offer with `capacity` 4,294,967,295 once
//! made the solver ask for 1.7 TB of per-place arrays and abort the process (issue 15). The
//! solver also clamps what it allocates on its own (an offer never holds more than the
//! candidates there are), so a [`crate::model::Dataset`] built in code cannot do it either.
//! The bounds are far above any real offer or caseload; raise them here if one ever is not.

/// Places of one offer (a national framework contract has a few thousand; the kill -9 test uses a million).
pub const MAX_CAPACITY: u32 = 1_000_000;
/// Places of one contract (several offers' places over its period).
pub const MAX_CONTRACT_PLACES: u32 = 10_000_000;
/// Price of one course, DKK.
pub const MAX_PRICE_DKK: u32 = 10_000_000;
/// Trials (and successes) in one evidence row.
pub const MAX_TRIALS: u32 = 10_000_000;
/// Weeks an offer can last (ten years).
pub const MAX_DURATION_WEEKS: u32 = 520;
/// Hours in a week.
pub const MAX_WEEKLY_HOURS: u32 = 168;
/// Distinct languages over all the offers a night or a catalogue holds: the scorer keeps an
/// offer's languages as the bits of one `u64` (the language test is one `and` on the hot path).
/// One offer may list up to [`MAX_LIST_ITEMS`], so a store of offers must check this itself.
pub const MAX_LANGUAGES: usize = 64;
/// Items in one `;`-separated list column (municipalities served, occupations, languages,
/// excluded offers, a caseworker's cases).
pub const MAX_LIST_ITEMS: usize = 1_000;
