//! Lyrics of library tracks: timed (LRC) or plain text, from a `.lrc` file beside a track or
//! from its tags (ID3v2 `USLT` and timed `SYLT`, Vorbis `LYRICS`/`UNSYNCEDLYRICS`, MP4 `©lyr`,
//! APE `Lyrics`).
//!
//! LRC is read with the `lrc` crate (wrapped in [`guarded`](super::guarded): it is fed files
//! from anywhere). Text it refuses, or that has no time tags, is taken as plain lines, so no
//! lyrics a user has are lost to a line the parser dislikes.

use lofty::config::ParseOptions;
use lofty::file::{AudioFile, FileType, TaggedFileExt};
use lofty::id3::v2::{Frame, SyncTextContentType, SynchronizedTextFrame, TimestampFormat};
use lofty::mpeg::MpegFile;
use lofty::prelude::ItemKey;
use lofty::probe::Probe;

/// Lyrics files larger than this are not read (a song's lyrics are a few KiB).
pub const MAX_LYRICS: u64 = 1 << 20;

/// The language of lyrics that don't say: OpenSubsonic's "not specified" (`xxx`, as taggers
/// write it).
pub const UNKNOWN_LANGUAGE: &str = "xxx";

/// One set of lyrics of a track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lyrics {
    /// An ISO 639 code where the source gives one, else [`UNKNOWN_LANGUAGE`].
    pub lang: String,
    /// Milliseconds to shift the times by (LRC's `[offset:…]`).
    pub offset_ms: i64,
    /// Whether the lines have start times.
    pub synced: bool,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// When the line starts, in milliseconds (synced lyrics only).
    pub start_ms: Option<u64>,
    pub value: String,
}

impl Lyrics {
    /// The lyrics as plain text, one line a line (`getLyrics`).
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.value.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Reads `text` as LRC if it has time tags, else as plain lines; None if it holds no words.
pub fn parse(text: &str, lang: Option<&str>) -> Option<Lyrics> {
    let text = text
        .trim_start_matches('\u{feff}')
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let lang = lang
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or(UNKNOWN_LANGUAGE)
        .to_owned();
    if let Some(Ok(lrc)) = super::guarded(|| lrc::Lyrics::from_str(&text)) {
        let timed = lrc.get_timed_lines();
        if !timed.is_empty() {
            let offset_ms = lrc
                .metadata
                .get_text("offset")
                .and_then(|o| o.trim().trim_start_matches('+').parse().ok())
                .unwrap_or(0);
            let lines = timed
                .iter()
                .map(|(time, value)| Line {
                    start_ms: Some(u64::try_from(time.get_timestamp()).unwrap_or(0)),
                    value: value.trim().to_owned(),
                })
                .collect();
            let lang = lrc
                .metadata
                .get_text("la")
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map_or(lang, str::to_owned);
            return Some(Lyrics {
                lang,
                offset_ms,
                synced: true,
                lines,
            });
        }
    }
    plain(&text, lang)
}

/// Plain lines, without the blank ones around them; None if there are no words.
fn plain(text: &str, lang: String) -> Option<Lyrics> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let first = lines.iter().position(|l| !l.trim().is_empty())?;
    let last = lines.iter().rposition(|l| !l.trim().is_empty())?;
    Some(Lyrics {
        lang,
        offset_ms: 0,
        synced: false,
        lines: lines[first..=last]
            .iter()
            .map(|l| Line {
                start_ms: None,
                value: (*l).to_owned(),
            })
            .collect(),
    })
}

/// The lyrics in a file's tags, each with its language where the tag keeps one (ID3v2's
/// `USLT` does).
pub fn embedded(path: &std::path::Path) -> Result<Vec<Lyrics>, super::tags::Unreadable> {
    let tagged = super::guarded(|| {
        Probe::open(path)?
            .options(ParseOptions::new().read_properties(false).read_cover_art(false))
            .read()
    })
    .ok_or(super::tags::Unreadable::ReaderFailed)??;
    let unsynced = ItemKey::Unknown("UNSYNCEDLYRICS".to_owned());
    let mut found = Vec::new();
    for tag in tagged.tags() {
        let items = tag.get_items(&ItemKey::Lyrics).chain(tag.get_items(&unsynced));
        for item in items {
            let Some(text) = item.value().text() else { continue };
            // ID3v2 keeps a language (three X's when unsaid, read as "xxx"); the others keep none.
            let lang = language(item.lang());
            found.extend(parse(text, lang.as_deref()));
        }
    }
    if tagged.file_type() == FileType::Mpeg {
        found.extend(synchronized(path));
    }
    Ok(found)
}

/// Timed lyrics from an MP3's ID3v2 `SYLT` frames. lofty keeps those out of its generic tag
/// (as undecoded frames), so the ID3v2 tag is read again on its own. Only lyrics timed in
/// milliseconds are taken: MPEG-frame times would need the stream's frame length.
fn synchronized(path: &std::path::Path) -> Vec<Lyrics> {
    let read = super::guarded(|| -> lofty::error::Result<_> {
        let options = ParseOptions::new().read_properties(false).read_cover_art(false);
        let file = MpegFile::read_from(&mut std::fs::File::open(path)?, options)?;
        let Some(id3) = file.id3v2() else {
            return Ok(Vec::new());
        };
        let frames = id3.into_iter().filter_map(|frame| match frame {
            Frame::Binary(binary) if binary.id().as_str() == "SYLT" => {
                SynchronizedTextFrame::parse(&binary.data, binary.flags()).ok()
            }
            _ => None,
        });
        Ok(frames.filter_map(timed).collect())
    });
    read.and_then(Result::ok).unwrap_or_default()
}

/// A `SYLT` frame's lyrics, if they are lyrics timed in milliseconds.
fn timed(frame: SynchronizedTextFrame<'_>) -> Option<Lyrics> {
    if frame.timestamp_format != TimestampFormat::MS || frame.content_type != SyncTextContentType::Lyrics {
        return None;
    }
    let mut lines: Vec<Line> = frame
        .content
        .into_iter()
        .map(|(start, value)| Line {
            start_ms: Some(u64::from(start)),
            value: value.trim().to_owned(),
        })
        .filter(|line| !line.value.is_empty())
        .collect();
    if lines.is_empty() {
        return None;
    }
    lines.sort_by_key(|line| line.start_ms);
    Some(Lyrics {
        lang: language(&frame.language).unwrap_or_else(|| UNKNOWN_LANGUAGE.to_owned()),
        offset_ms: 0,
        synced: true,
        lines,
    })
}

/// An ID3v2 language code as written (three letters; taggers write `XXX` when unsaid), in
/// lower case; None if it isn't letters.
fn language(code: &[u8]) -> Option<String> {
    std::str::from_utf8(code)
        .ok()
        .filter(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphabetic()))
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(start_ms: Option<u64>, value: &str) -> Line {
        Line {
            start_ms,
            value: value.to_owned(),
        }
    }

    #[test]
    fn lrc_is_synced_in_time_order_with_its_offset_and_repeats() {
        let lyrics = parse(
            "[ar:Someone]\r\n[offset:+250]\r\n[00:12.50]First\r\n[00:01.00][00:20.00]Chorus\r\n",
            None,
        )
        .unwrap();
        assert!(lyrics.synced);
        assert_eq!(lyrics.offset_ms, 250);
        assert_eq!(lyrics.lang, UNKNOWN_LANGUAGE);
        assert_eq!(
            lyrics.lines,
            [
                line(Some(1000), "Chorus"),
                line(Some(12500), "First"),
                line(Some(20000), "Chorus")
            ]
        );
    }

    #[test]
    fn plain_text_keeps_its_lines_and_inner_blank_ones() {
        let lyrics = parse("\n\nVerse one\n\nVerse two\n\n", Some("eng")).unwrap();
        assert!(!lyrics.synced);
        assert_eq!(lyrics.lang, "eng");
        assert_eq!(lyrics.text(), "Verse one\n\nVerse two");
        assert_eq!(parse(" \n\t\n", None), None);
    }

    #[test]
    fn text_the_lrc_parser_refuses_is_kept_as_plain_lines() {
        // A malformed time tag makes the parser refuse the whole text.
        let lyrics = parse("[00:1x.00]Broken\nStill words", None).unwrap();
        assert!(!lyrics.synced);
        assert_eq!(lyrics.text(), "[00:1x.00]Broken\nStill words");
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_lyrics_or_none_never_a_panic(text in "\\PC{0,200}") {
            if let Some(lyrics) = parse(&text, None) {
                proptest::prop_assert!(!lyrics.lines.is_empty());
            }
        }
    }
}
