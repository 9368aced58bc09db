//! Tags and audio properties, read with lofty from any `Read + Seek` (a library file, or a
//! remote file read through range requests).
//!
//! Pictures are read only when asked (`pictures`), to learn whether a file has one: lofty skips
//! them otherwise (a FLAC picture block is seeked over, not read), and has no cheaper way to
//! tell. The scan asks only for files with no cover image beside them, where the answer
//! decides whether the track has artwork. [`covers::embedded`](super::covers::embedded) reads
//! one to serve it.

use std::io::{Read, Seek};

use lofty::config::ParseOptions;
use lofty::file::{AudioFile, FileType, TaggedFile, TaggedFileExt};
use lofty::prelude::{Accessor, ItemKey};
use lofty::probe::Probe;

pub use crate::model::TrackInfo;

/// Reads `reader`; `hint` is the file type guessed from a name, used if the content does not tell.
/// With `pictures`, [`TrackInfo::has_picture`] says whether it holds one that can be served.
pub fn read<R: Read + Seek>(reader: R, hint: Option<FileType>, pictures: bool) -> lofty::error::Result<TrackInfo> {
    let mut probe = Probe::new(std::io::BufReader::new(reader))
        .options(ParseOptions::new().read_cover_art(pictures))
        .guess_file_type()?;
    if probe.file_type().is_none() {
        if let Some(hint) = hint {
            probe = probe.set_file_type(hint);
        }
    }
    Ok(describe(&probe.read()?))
}

pub fn read_path(path: &std::path::Path, pictures: bool) -> lofty::error::Result<TrackInfo> {
    read(std::fs::File::open(path)?, FileType::from_path(path), pictures)
}

fn describe(tagged: &TaggedFile) -> TrackInfo {
    let props = tagged.properties();
    let tag = tagged.primary_tag().or_else(|| tagged.first_tag());
    let text = |v: Option<std::borrow::Cow<'_, str>>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (codec, mime) = codec_and_mime(tagged.file_type());
    let duration = props.duration();
    TrackInfo {
        title: tag.and_then(|t| text(t.title())),
        artist: tag.and_then(|t| text(t.artist())),
        album: tag.and_then(|t| text(t.album())),
        album_artist: tag.and_then(|t| text(t.get_string(&ItemKey::AlbumArtist).map(Into::into))),
        track_no: tag.and_then(|t| t.track()),
        disc_no: tag.and_then(|t| t.disk()),
        year: tag.and_then(|t| t.year()),
        genre: tag.and_then(|t| text(t.genre())),
        duration_ms: (!duration.is_zero()).then_some(duration.as_millis() as i64),
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
