//! Matroska and WebM audio (`.mka`, `.webm`, `.weba`: what `yt-dlp -f bestaudio` saves for
//! Opus), which lofty does not read. The container is parsed by `matroska-demuxer` (no unsafe,
//! no panics, made for untrusted files); symphonia's demuxer was the other candidate, but it
//! drops the segment's title, which is where ffmpeg and yt-dlp write a track's title.
//!
//! What the tags mean is decided here, by the Matroska tagging rules
//! (<https://www.matroska.org/technical/tagging.html>): each tag has a target level, 50 (the
//! album) when none is given, 30 for a track. Files written by a tagger (Picard, mkvpropedit)
//! put the album's title at 50 and the track's at 30; ffmpeg and so yt-dlp put the title in
//! the segment's info and everything else (`ARTIST`, `ALBUM`, `PART_NUMBER` for the track
//! number) in one tag at the default level, meaning the track. Both read as their writers meant.

use std::io::{Read, Seek, SeekFrom};

use matroska_demuxer::{DemuxError, MatroskaFile, TrackType};

use crate::model::{duration_ms, TrackInfo};

/// Every EBML document starts with the EBML header's id.
const EBML_MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];

/// The target levels of the tagging rules this reader uses.
const ALBUM: u64 = 50;
const PART: u64 = 40;
const TRACK: u64 = 30;

/// Whether a file starting with `head` is an EBML document (Matroska or WebM).
pub fn is_matroska(head: &[u8]) -> bool {
    head.starts_with(&EBML_MAGIC)
}

#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("matroska: {0}")]
    Container(#[from] DemuxError),
    #[error("matroska: no audio track")]
    NoAudio,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Tags and audio properties of a Matroska or WebM file. A file with video as well as audio
/// (a music video) counts: players play its audio.
pub fn read<R: Read + Seek>(mut reader: R) -> Result<TrackInfo, Unreadable> {
    let size = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let file = MatroskaFile::open(reader)?;
    let audio = file
        .tracks()
        .iter()
        .find(|t| t.track_type() == TrackType::Audio)
        .ok_or(Unreadable::NoAudio)?;
    let info = file.info();
    let tags: Vec<Tagged<'_>> = file
        .tags()
        .unwrap_or_default()
        .iter()
        .filter(|tag| {
            // Tags for another track (a video's, a commentary's) are not this track's.
            let track_uid = tag.targets().and_then(|t| t.tag_track_uid()).unwrap_or(0);
            track_uid == 0 || track_uid == audio.track_uid().get()
        })
        .flat_map(|tag| {
            let level = tag.targets().and_then(|t| t.target_type_value()).unwrap_or(ALBUM);
            tag.simple_tags().iter().filter_map(move |s| {
                Some(Tagged {
                    level,
                    name: s.name(),
                    value: s.string()?.trim(),
                })
            })
        })
        .filter(|t| !t.value.is_empty())
        .collect();
    let fields = Fields::of(info.title(), &tags);
    // Info's duration counts timestamp-scale ticks (nanoseconds each, by default).
    let seconds = info
        .duration()
        .map(|ticks| ticks * info.timestamp_scale().get() as f64 / 1e9);
    let duration_ms = seconds.and_then(duration_ms).filter(|&ms| ms > 0);
    let (codec, mime) = codec_and_mime(audio.codec_id(), file.ebml_header().doc_type());
    let settings = audio.audio();
    Ok(TrackInfo {
        title: fields.title,
        artist: fields.artist,
        album: fields.album,
        album_artist: fields.album_artist,
        track_no: fields.track_no,
        disc_no: fields.disc_no,
        year: fields.year,
        genre: fields.genre,
        duration_ms,
        codec,
        mime,
        // Matroska stores no bitrate; the file's average is what a player shows.
        bitrate: duration_ms.and_then(|ms| super::average_kbps(size, ms)),
        sample_rate: settings
            .map(|a| a.sampling_frequency())
            .filter(|hz| hz.is_finite() && *hz >= 1.0 && *hz <= u32::MAX as f64)
            .map(|hz| hz.round() as u32),
        channels: settings.and_then(|a| u8::try_from(a.channels().get()).ok()),
        has_picture: false,
        artists: Vec::new(),
        album_artists: Vec::new(),
    })
}

/// The codec family of a Matroska codec id, and the Content-Type for the file: WebM is the
/// Matroska subset browsers name `audio/webm` (Opus or Vorbis); anything else is Matroska.
fn codec_and_mime(codec_id: &str, doc_type: &str) -> (&'static str, &'static str) {
    let codec = match codec_id {
        "A_OPUS" => "opus",
        "A_VORBIS" => "vorbis",
        "A_FLAC" => "flac",
        "A_MPEG/L3" => "mp3",
        "A_ALAC" => "alac",
        "A_AC3" | "A_EAC3" => "ac3",
        "A_DTS" => "dts",
        "A_WAVPACK4" => "wavpack",
        id if id.starts_with("A_AAC") => "aac",
        id if id.starts_with("A_PCM/") => "pcm",
        _ => "unknown",
    };
    let mime = if doc_type == "webm" {
        "audio/webm"
    } else {
        "audio/x-matroska"
    };
    (codec, mime)
}

/// A simple tag with the target level of the tag that holds it.
#[derive(Debug, Clone, Copy)]
struct Tagged<'a> {
    level: u64,
    name: &'a str,
    value: &'a str,
}

/// What the tags say of the track, each field read as its writer meant it (see the module
/// comment).
#[derive(Debug, Default, PartialEq)]
struct Fields {
    title: Option<String>,
    artist: Option<String>,
    album: Option<String>,
    album_artist: Option<String>,
    track_no: Option<u32>,
    disc_no: Option<u32>,
    year: Option<u32>,
    genre: Option<String>,
}

impl Fields {
    fn of(segment_title: Option<&str>, tags: &[Tagged<'_>]) -> Fields {
        let at = |level: u64, names: &[&str]| {
            tags.iter()
                .find(|t| t.level == level && names.iter().any(|n| t.name.eq_ignore_ascii_case(n)))
                .map(|t| t.value)
        };
        let any = |names: &[&str]| {
            tags.iter()
                .find(|t| names.iter().any(|n| t.name.eq_ignore_ascii_case(n)))
                .map(|t| t.value)
        };
        // A file tagged per track keeps the album's fields at level 50; a file with no track
        // level (ffmpeg's) means the track by its one tag.
        let per_track = tags.iter().any(|t| t.level == TRACK);
        let segment_title = segment_title.map(str::trim).filter(|t| !t.is_empty());
        let title = at(TRACK, &["TITLE"])
            .or(segment_title)
            .or_else(|| (!per_track).then(|| at(ALBUM, &["TITLE"])).flatten());
        let album = any(&["ALBUM"]).or_else(|| per_track.then(|| at(ALBUM, &["TITLE"])).flatten());
        let artist = at(TRACK, &["ARTIST"]).or_else(|| any(&["ARTIST"]));
        let album_artist =
            any(&["ALBUM_ARTIST", "ALBUMARTIST"]).or_else(|| per_track.then(|| at(ALBUM, &["ARTIST"])).flatten());
        let track_no = at(TRACK, &["PART_NUMBER"])
            .or_else(|| (!per_track).then(|| at(ALBUM, &["PART_NUMBER"])).flatten())
            .or_else(|| any(&["TRACKNUMBER", "TRACK"]));
        let disc_no = at(PART, &["PART_NUMBER"]).or_else(|| any(&["DISCNUMBER", "DISC"]));
        let year = any(&["DATE_RELEASED", "DATE_RECORDED", "DATE", "YEAR"]).and_then(leading_year);
        Fields {
            title: title.map(str::to_owned),
            artist: artist.map(str::to_owned),
            album: album.map(str::to_owned),
            album_artist: album_artist.map(str::to_owned),
            track_no: track_no.and_then(leading_number),
            disc_no: disc_no.and_then(leading_number),
            year,
            genre: any(&["GENRE"]).map(str::to_owned),
        }
    }
}

/// `3` of "3", "03" or "3/12".
fn leading_number(value: &str) -> Option<u32> {
    value.split('/').next()?.trim().parse().ok()
}

/// The year of a Matroska date ("2024", "2024-05-01", "2024-05-01 12:00:00").
fn leading_year(value: &str) -> Option<u32> {
    let digits = value.get(..4)?;
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| digits.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn tag(level: u64, name: &'static str, value: &'static str) -> Tagged<'static> {
        Tagged { level, name, value }
    }

    #[test]
    fn ffmpeg_tags_mean_the_track() {
        // What ffmpeg 5.1 writes for `-metadata title=… artist=… album=… track=3 date=2024`:
        // the title in the segment info, the rest in one tag at the default level.
        let tags = [
            tag(ALBUM, "DATE", "2024"),
            tag(ALBUM, "GENRE", "Test"),
            tag(ALBUM, "ARTIST", "Someone"),
            tag(ALBUM, "ALBUM", "Record"),
            tag(ALBUM, "ALBUM_ARTIST", "Band"),
            tag(ALBUM, "PART_NUMBER", "3"),
            tag(ALBUM, "ENCODER", "Lavf59.27.100"),
        ];
        let fields = Fields::of(Some("Song"), &tags);
        assert_eq!(
            fields,
            Fields {
                title: Some("Song".into()),
                artist: Some("Someone".into()),
                album: Some("Record".into()),
                album_artist: Some("Band".into()),
                track_no: Some(3),
                disc_no: None,
                year: Some(2024),
                genre: Some("Test".into()),
            }
        );
    }

    #[test]
    fn tagger_levels_separate_album_and_track() {
        let tags = [
            tag(ALBUM, "TITLE", "Record"),
            tag(ALBUM, "ARTIST", "Band"),
            tag(ALBUM, "DATE_RELEASED", "1999-04-01"),
            tag(PART, "PART_NUMBER", "2"),
            tag(TRACK, "TITLE", "Song"),
            tag(TRACK, "ARTIST", "Guest"),
            tag(TRACK, "PART_NUMBER", "7/12"),
        ];
        let fields = Fields::of(None, &tags);
        assert_eq!(fields.title.as_deref(), Some("Song"));
        assert_eq!(fields.album.as_deref(), Some("Record"));
        assert_eq!(fields.artist.as_deref(), Some("Guest"));
        assert_eq!(fields.album_artist.as_deref(), Some("Band"));
        assert_eq!(
            (fields.track_no, fields.disc_no, fields.year),
            (Some(7), Some(2), Some(1999))
        );
    }

    #[test]
    fn codecs_and_mime_follow_the_doc_type() {
        assert_eq!(codec_and_mime("A_OPUS", "webm"), ("opus", "audio/webm"));
        assert_eq!(
            codec_and_mime("A_AAC/MPEG4/LC", "matroska"),
            ("aac", "audio/x-matroska")
        );
        assert_eq!(codec_and_mime("A_PCM/INT/LIT", "matroska"), ("pcm", "audio/x-matroska"));
        assert_eq!(codec_and_mime("V_VP9", "webm").0, "unknown");
    }

    proptest! {
        /// Any bytes, a Matroska header in front or not: an answer or an error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048), magic: bool) {
            let mut bytes = if magic { EBML_MAGIC.to_vec() } else { Vec::new() };
            bytes.extend(body);
            if is_matroska(&bytes) {
                let _ = read(std::io::Cursor::new(bytes));
            }
        }

        #[test]
        fn numbers_and_years_never_panic(value in "\\PC{0,12}") {
            let _ = (leading_number(&value), leading_year(&value));
        }
    }
}
