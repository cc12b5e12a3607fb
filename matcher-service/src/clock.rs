//! The one clock read of the day: today in UTC, for the command line's and the service's
//! default `--today`. The core takes the day as a parameter and never reads the clock for it.

use matcher_core::model::Date;

/// Today in UTC.
pub fn today_utc() -> Date {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    Date(i32::try_from(days).unwrap_or(i32::MAX))
}
