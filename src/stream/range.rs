//! Range arithmetic (RFC 9110 §14): which bytes of a representation of `len` bytes a `Range`
//! header asks for. `http-range-header` parses the syntax; the semantics are ours, because the
//! crate's `validate` rejects what the RFC accepts (a suffix longer than the file means the whole
//! file, §14.1.2) and rejects overlapping ranges that we coalesce instead.

use http_range_header::{EndPosition, StartPosition};

/// Bytes `start..=end` of a representation; never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    #[allow(clippy::len_without_is_empty)] // a ByteRange is never empty
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// The `Content-Range` value for this range of a `total`-byte representation.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, total)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeAnswer {
    /// No usable Range header (absent, malformed, or several disjoint ranges): send all, 200.
    Full,
    /// One range: 206 with Content-Range.
    Partial(ByteRange),
    /// Well-formed but no range overlaps the representation: 416 with `bytes */len`.
    Unsatisfiable,
}

/// Decides how to answer `range` for a representation of `len` bytes.
///
/// Several ranges are coalesced when they overlap or touch; if they still leave a gap we answer
/// the whole representation with a 200 (allowed by §14.2) rather than `multipart/byteranges`,
/// which no audio player asks for.
pub fn answer(range: Option<&str>, len: u64) -> RangeAnswer {
    let Some(value) = range else {
        return RangeAnswer::Full;
    };
    let Ok(parsed) = http_range_header::parse_range_header(value.trim()) else {
        return RangeAnswer::Full; // malformed: ignored, per §14.2
    };
    let mut satisfiable: Vec<ByteRange> = Vec::with_capacity(parsed.ranges.len());
    for spec in &parsed.ranges {
        let (start, end) = match (spec.start, spec.end) {
            (StartPosition::Index(first), EndPosition::Index(last)) => {
                if last < first {
                    return RangeAnswer::Full; // an invalid range-spec makes the header invalid
                }
                (first, last.min(len.saturating_sub(1)))
            }
            (StartPosition::Index(first), EndPosition::LastByte) => (first, len.saturating_sub(1)),
            (StartPosition::FromLast(suffix), _) => (len.saturating_sub(suffix), len.saturating_sub(1)),
        };
        if len > 0 && start < len {
            satisfiable.push(ByteRange { start, end });
        }
    }
    if satisfiable.is_empty() {
        return RangeAnswer::Unsatisfiable;
    }
    match coalesce(satisfiable).as_slice() {
        [one] => RangeAnswer::Partial(*one),
        _ => RangeAnswer::Full,
    }
}

/// Merges overlapping or adjacent ranges, in ascending order.
fn coalesce(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(1) => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn partial(start: u64, end: u64) -> RangeAnswer {
        RangeAnswer::Partial(ByteRange { start, end })
    }

    #[test]
    fn no_header_is_full() {
        assert_eq!(answer(None, 100), RangeAnswer::Full);
    }

    #[test]
    fn closed_range() {
        assert_eq!(answer(Some("bytes=0-9"), 100), partial(0, 9));
        assert_eq!(answer(Some("bytes=10-10"), 100), partial(10, 10));
    }

    #[test]
    fn end_past_length_is_clamped() {
        assert_eq!(answer(Some("bytes=90-1000"), 100), partial(90, 99));
    }

    #[test]
    fn open_range_runs_to_the_end() {
        assert_eq!(answer(Some("bytes=40-"), 100), partial(40, 99));
    }

    #[test]
    fn suffix_range() {
        assert_eq!(answer(Some("bytes=-10"), 100), partial(90, 99));
    }

    #[test]
    fn long_suffix_means_whole_file() {
        assert_eq!(answer(Some("bytes=-500"), 100), partial(0, 99));
    }

    #[test]
    fn start_past_end_is_unsatisfiable() {
        assert_eq!(answer(Some("bytes=100-"), 100), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=200-300"), 100), RangeAnswer::Unsatisfiable);
    }

    #[test]
    fn empty_representation_satisfies_nothing() {
        assert_eq!(answer(Some("bytes=0-"), 0), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=-5"), 0), RangeAnswer::Unsatisfiable);
    }

    #[test]
    fn zero_suffix_is_malformed_and_ignored() {
        assert_eq!(answer(Some("bytes=-0"), 100), RangeAnswer::Full);
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for bad in [
            "bytes=abc",
            "bytes=5-2",
            "items=0-5",
            "bytes=",
            "bytes=--1",
            "0-5",
            "bytes=1-2-3",
            "bytes=+1-2",
        ] {
            assert_eq!(answer(Some(bad), 100), RangeAnswer::Full, "{bad}");
        }
    }

    #[test]
    fn overlapping_ranges_coalesce() {
        assert_eq!(answer(Some("bytes=0-10,5-20"), 100), partial(0, 20));
        assert_eq!(answer(Some("bytes=0-9,10-19"), 100), partial(0, 19));
    }

    #[test]
    fn disjoint_ranges_get_the_whole_file() {
        assert_eq!(answer(Some("bytes=0-9,50-59"), 100), RangeAnswer::Full);
    }

    #[test]
    fn unsatisfiable_parts_of_a_set_are_dropped() {
        assert_eq!(answer(Some("bytes=0-9,500-600"), 100), partial(0, 9));
    }

    #[test]
    fn content_range_renders() {
        assert_eq!(ByteRange { start: 0, end: 9 }.content_range(100), "bytes 0-9/100");
    }

    proptest! {
        #[test]
        fn partial_is_always_in_bounds(start in 0u64..20_000, end in proptest::option::of(0u64..20_000), len in 0u64..10_000) {
            let header = match end { Some(e) => format!("bytes={start}-{e}"), None => format!("bytes={start}-") };
            match answer(Some(&header), len) {
                RangeAnswer::Partial(r) => {
                    prop_assert!(r.start <= r.end && r.end < len);
                    prop_assert_eq!(r.start, start);
                }
                RangeAnswer::Unsatisfiable => prop_assert!(start >= len),
                RangeAnswer::Full => prop_assert!(matches!(end, Some(e) if e < start)),
            }
        }

        #[test]
        fn suffix_is_the_tail(n in 1u64..20_000, len in 1u64..10_000) {
            match answer(Some(&format!("bytes=-{n}")), len) {
                RangeAnswer::Partial(r) => {
                    prop_assert_eq!(r.end, len - 1);
                    prop_assert_eq!(r.len(), n.min(len));
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }

        #[test]
        fn any_header_never_panics(s in "\\PC{0,40}", len in 0u64..1000) {
            let _ = answer(Some(&s), len);
        }
    }
}
