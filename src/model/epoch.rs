//! Seconds since the Unix epoch: how the catalog stores times and the API shows them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `t` in whole seconds since the epoch (0 for times before it).
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `t` in nanoseconds since the epoch (0 for times before it): file modification times.
pub fn unix_nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Now, in whole seconds since the epoch.
pub fn unix_now() -> u64 {
    unix(SystemTime::now())
}

/// The time `secs` seconds after the epoch.
pub fn from_unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}
