//! Readers of file formats, reading only the file or reader they are given: audio tags
//! and properties (`tags`, with lofty; `matroska` and `demuxed` for what lofty can't read), cover art (`covers`) and playlist files (`playlist`:
//! M3U, M3U8, PLS).
//! The catalog's scan and the sources' imports both use them; they depend on `model` only.

pub mod covers;
pub mod demuxed;
pub mod lyrics;
pub mod matroska;
pub mod playlist;
pub mod tags;

/// Runs a third-party parser on untrusted bytes; None if it panicked. Parsers have bugs a
/// file or feed can reach (feed-rs 2.4 and 3.0 unwrap an overflowing `<itunes:duration>`;
/// lofty 0.22 overflows on a Speex file claiming a huge length): one such input must fail
/// alone, not take down the scan or the request.
pub fn guarded<T>(parse: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).ok()
}

/// Kilobits per second of `bytes` played over `ms` milliseconds: the bitrate of a container
/// that stores none.
fn average_kbps(bytes: u64, ms: i64) -> Option<u32> {
    let ms = u64::try_from(ms).ok().filter(|&ms| ms > 0)?;
    u32::try_from(bytes.checked_mul(8)? / ms).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn average_bitrate_is_checked() {
        use super::average_kbps;
        assert_eq!(average_kbps(8_000, 1_000), Some(64));
        assert_eq!(average_kbps(u64::MAX, 1), None);
        assert_eq!(average_kbps(1, 0), None);
        assert_eq!(average_kbps(1, -5), None);
    }
}
