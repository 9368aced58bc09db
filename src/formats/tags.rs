//! Tags and audio properties, read from any `Read + Seek` (a library file, or a remote file
//! read through range requests): with lofty; Matroska and WebM, which lofty does not read, with
//! [`matroska`](super::matroska); what lofty fails on gets a second chance with
//! [`demuxed`](super::demuxed) (symphonia). Every reader runs [`guarded`](super::guarded).
//!
//! Pictures are read only when asked (`pictures`), to learn whether a file has one: lofty skips
//! them otherwise (a FLAC picture block is seeked over, not read), and has no cheaper way to
//! tell. The scan asks only for files with no cover image beside them, where the answer
//! decides whether the track has artwork. [`covers::embedded`](super::covers::embedded) reads
//! one to serve it.

use std::io::{BufRead, Read, Seek};

use lofty::config::ParseOptions;
use lofty::file::{AudioFile, FileType, TaggedFile, TaggedFileExt};
use lofty::prelude::{Accessor, ItemKey};
use lofty::probe::Probe;

pub use crate::model::TrackInfo;

/// Why a file's tags could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error(transparent)]
    Tags(#[from] lofty::error::LoftyError),
    #[error(transparent)]
    Matroska(#[from] super::matroska::Unreadable),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A reader panicked on the file (a bug of its own: see [`super::guarded`]).
    #[error("the tag reader failed on this file")]
    ReaderFailed,
}

/// Reads `reader`; `extension` (of the file's name) is the hint used if the content does not tell.
/// With `pictures`, [`TrackInfo::has_picture`] says whether it holds one that can be served.
pub fn read<R: Read + Seek + Send + Sync>(
    reader: R,
    extension: Option<&str>,
    pictures: bool,
) -> Result<TrackInfo, Unreadable> {
    super::guarded(|| read_any(reader, extension, pictures)).unwrap_or(Err(Unreadable::ReaderFailed))
}

fn read_any<R: Read + Seek + Send + Sync>(
    reader: R,
    extension: Option<&str>,
    pictures: bool,
) -> Result<TrackInfo, Unreadable> {
    // One buffer for every reader: the look at the first bytes costs no extra read or seek.
    let mut reader = std::io::BufReader::new(reader);
    if super::matroska::is_matroska(reader.fill_buf()?) {
        return Ok(super::matroska::read(reader)?);
    }
    match read_tags(&mut reader, extension.and_then(FileType::from_ext), pictures) {
        Ok(info) => Ok(info),
        Err(e) => {
            // What lofty can't open may still be audio in a container symphonia demuxes; if
            // not, lofty's reason is the one to report.
            reader.seek(std::io::SeekFrom::Start(0))?;
            super::demuxed::read(&mut reader, extension).map_err(|_| e.into())
        }
    }
}

fn read_tags<R: BufRead + Seek>(reader: R, hint: Option<FileType>, pictures: bool) -> lofty::error::Result<TrackInfo> {
    let mut probe = Probe::new(reader)
        .options(ParseOptions::new().read_cover_art(pictures))
        .guess_file_type()?;
    if probe.file_type().is_none() {
        if let Some(hint) = hint {
            probe = probe.set_file_type(hint);
        }
    }
    Ok(describe(&probe.read()?))
}

pub fn read_path(path: &std::path::Path, pictures: bool) -> Result<TrackInfo, Unreadable> {
    let extension = path.extension().and_then(|e| e.to_str());
    read(std::fs::File::open(path)?, extension, pictures)
}

/// The separate values of a tag's field: several fields of one name (Vorbis comments, APE),
/// or an ID3v2.4 list (lofty splits it at its NULs), each trimmed, without blanks or repeats.
fn values(tag: &lofty::tag::Tag, key: &ItemKey) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for value in tag.get_strings(key).map(str::trim).filter(|v| !v.is_empty()) {
        if !values.iter().any(|v| v == value) {
            values.push(value.to_owned());
        }
    }
    values
}

/// A track's artists (or album artists) from its tags: the one name to show, and each name
/// when there are several. The list is the tag's own several values, else the plural tag
/// taggers write beside it (`ARTISTS`, `ALBUMARTISTS`: MusicBrainz Picard's), whose names the
/// one to show may join in its own way ("A feat. B"). Names are never split on characters
/// (`&`, `/`, `,`): "Simon & Garfunkel" is one artist.
fn artists_of(tag: &lofty::tag::Tag, key: &ItemKey, plural: &ItemKey) -> (Option<String>, Vec<String>) {
    let own = values(tag, key);
    let listed = if own.len() > 1 {
        own.clone()
    } else {
        values(tag, plural)
    };
    let shown = match own.len() {
        0 => (!listed.is_empty()).then(|| listed.join(", ")),
        1 => own.into_iter().next(),
        _ => Some(own.join(", ")),
    };
    let listed = if listed.len() > 1 { listed } else { Vec::new() };
    (shown, listed)
}

fn describe(tagged: &TaggedFile) -> TrackInfo {
    let props = tagged.properties();
    let tag = tagged.primary_tag().or_else(|| tagged.first_tag());
    let text = |v: Option<std::borrow::Cow<'_, str>>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (codec, mime) = codec_and_mime(tagged.file_type());
    let duration = props.duration();
    let (artist, artists) = tag.map_or_else(Default::default, |t| {
        artists_of(t, &ItemKey::TrackArtist, &ItemKey::TrackArtists)
    });
    let (album_artist, album_artists) = tag.map_or_else(Default::default, |t| {
        artists_of(t, &ItemKey::AlbumArtist, &ItemKey::Unknown("ALBUMARTISTS".to_owned()))
    });
    TrackInfo {
        title: tag.and_then(|t| text(t.title())),
        artist,
        artists,
        album: tag.and_then(|t| text(t.album())),
        album_artist,
        album_artists,
        track_no: tag.and_then(|t| t.track()),
        disc_no: tag.and_then(|t| t.disk()),
        year: tag.and_then(|t| t.year()),
        genre: tag.and_then(|t| text(t.genre())),
        duration_ms: i64::try_from(duration.as_millis()).ok().filter(|&ms| ms > 0),
        codec,
        mime,
        bitrate: props.audio_bitrate().or(props.overall_bitrate()),
        sample_rate: props.sample_rate(),
        channels: props.channels(),
        has_picture: tagged
            .tags()
            .iter()
            .flat_map(|t| t.pictures())
            .any(|p| p.data().len() <= super::covers::MAX_COVER),
    }
}

/// Codec family and the Content-Type browsers and ExoPlayer expect for it.
pub fn codec_and_mime(file_type: FileType) -> (&'static str, &'static str) {
    match file_type {
        FileType::Mpeg => ("mp3", "audio/mpeg"),
        FileType::Flac => ("flac", "audio/flac"),
        FileType::Opus => ("opus", "audio/ogg"),
        FileType::Vorbis => ("vorbis", "audio/ogg"),
        FileType::Speex => ("speex", "audio/ogg"),
        FileType::Mp4 => ("aac", "audio/mp4"),
        FileType::Aac => ("aac", "audio/aac"),
        FileType::Wav => ("pcm", "audio/wav"),
        FileType::Aiff => ("pcm", "audio/aiff"),
        FileType::Ape => ("ape", "audio/x-ape"),
        FileType::WavPack => ("wavpack", "audio/x-wavpack"),
        FileType::Mpc => ("musepack", "audio/x-musepack"),
        _ => ("unknown", "application/octet-stream"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn tag_of(items: &[(ItemKey, &str)]) -> lofty::tag::Tag {
        let mut tag = lofty::tag::Tag::new(lofty::tag::TagType::VorbisComments);
        for (key, value) in items {
            tag.push(lofty::tag::TagItem::new(
                key.clone(),
                lofty::tag::ItemValue::Text((*value).to_owned()),
            ));
        }
        tag
    }

    fn of(items: &[(ItemKey, &str)]) -> (Option<String>, Vec<String>) {
        artists_of(&tag_of(items), &ItemKey::TrackArtist, &ItemKey::TrackArtists)
    }

    #[test]
    fn several_artist_fields_are_each_an_artist_and_shown_together() {
        let (shown, listed) = of(&[(ItemKey::TrackArtist, "Ana"), (ItemKey::TrackArtist, " Bo ")]);
        assert_eq!(shown.as_deref(), Some("Ana, Bo"));
        assert_eq!(listed, ["Ana", "Bo"]);
    }

    #[test]
    fn a_plural_tag_lists_the_artists_of_the_one_shown() {
        let (shown, listed) = of(&[
            (ItemKey::TrackArtist, "Ana feat. Bo"),
            (ItemKey::TrackArtists, "Ana"),
            (ItemKey::TrackArtists, "Bo"),
        ]);
        assert_eq!(shown.as_deref(), Some("Ana feat. Bo"));
        assert_eq!(listed, ["Ana", "Bo"]);
        let (shown, listed) = of(&[(ItemKey::TrackArtists, "Ana"), (ItemKey::TrackArtists, "Bo")]);
        assert_eq!((shown.as_deref(), listed.len()), (Some("Ana, Bo"), 2));
    }

    #[test]
    fn one_name_is_never_split_and_repeats_and_blanks_are_not_artists() {
        let (shown, listed) = of(&[(ItemKey::TrackArtist, "Simon & Garfunkel")]);
        assert_eq!(
            (shown.as_deref(), listed),
            (Some("Simon & Garfunkel"), Vec::<String>::new())
        );
        let (shown, listed) = of(&[
            (ItemKey::TrackArtist, "Ana"),
            (ItemKey::TrackArtist, "Ana"),
            (ItemKey::TrackArtist, " "),
        ]);
        assert_eq!((shown.as_deref(), listed), (Some("Ana"), Vec::<String>::new()));
        assert_eq!(of(&[]), (None, Vec::new()));
    }

    /// The real files of every format the library reads (tests/fixtures/formats).
    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e != "md"))
            .map(|p| {
                (
                    p.extension().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn every_fixture_reads() {
        for (extension, bytes) in fixtures() {
            let info = read(std::io::Cursor::new(bytes), Some(&extension), true)
                .unwrap_or_else(|e| panic!("{extension}: {e}"));
            assert!(info.duration_ms.is_some(), "{extension}: {info:?}");
        }
    }

    /// Found by `damaged_files_never_panic`: lofty multiplies a Speex file's sample count by
    /// 1000 unchecked (a panic with overflow checks on, a wrong length without).
    #[test]
    fn a_speex_file_claiming_a_huge_length_is_an_error_or_an_answer() {
        let (_, mut bytes) = fixtures().into_iter().find(|(e, _)| e == "spx").unwrap();
        let last_page = bytes.windows(4).rposition(|w| w == b"OggS").unwrap();
        bytes[last_page + 6..last_page + 14].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        if let Ok(info) = read(std::io::Cursor::new(bytes), Some("spx"), false) {
            assert!(info.duration_ms.is_none_or(|ms| ms >= 0));
        }
    }

    proptest! {
        /// A real file of any format, damaged (bytes overwritten, cut short): an answer or an
        /// error, never a panic.
        #[test]
        fn damaged_files_never_panic(
            pick in any::<prop::sample::Index>(),
            damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
            keep in any::<prop::sample::Index>(),
        ) {
            let files = fixtures();
            let (extension, mut bytes) = files[pick.index(files.len())].clone();
            for (at, byte) in damage {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            // Usually whole, sometimes cut short anywhere.
            let keep = if keep.index(4) == 0 { keep.index(bytes.len()) } else { bytes.len() };
            bytes.truncate(keep);
            let _ = read(std::io::Cursor::new(bytes), Some(&extension), true);
        }
    }
}
