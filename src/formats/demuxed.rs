//! The second chance for an audio file lofty can't open (FLAC in Ogg, say, which lofty reads
//! as MPEG and rejects): symphonia's demuxers, which read the container's own metadata and
//! codec parameters. Only the demuxers are built in (no decoders): nothing here decodes audio.

use std::io::{Read, Seek, SeekFrom};

use symphonia::core::codecs::audio::well_known as codecs;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::{MetadataOptions, StandardTag};

use crate::model::{duration_ms, TrackInfo};

/// Tags and audio properties of a file in a container symphonia demuxes; `extension` (from
/// the file's name) helps it choose when the content alone does not tell.
pub fn read<R: Read + Seek + Send + Sync>(reader: R, extension: Option<&str>) -> Result<TrackInfo, Error> {
    let source = Source::new(reader)?;
    let size = source.len;
    let mut hint = Hint::new();
    if let Some(extension) = extension {
        hint.with_extension(extension);
    }
    let stream = MediaSourceStream::new(Box::new(source), Default::default());
    let mut format =
        symphonia::default::get_probe().probe(&hint, stream, FormatOptions::default(), MetadataOptions::default())?;
    let (params, seconds) = {
        let (track, params) = format
            .tracks()
            .iter()
            .find_map(|t| match &t.codec_params {
                Some(CodecParameters::Audio(params)) => Some((t, params)),
                _ => None,
            })
            .ok_or(Error::Unsupported("no audio track"))?;
        let seconds = match (track.time_base, track.duration) {
            (Some(base), Some(duration)) => base.calc_duration(duration).map(|t| t.as_secs_f64()),
            _ => None,
        };
        (params.clone(), seconds)
    };
    let mut info = TrackInfo {
        title: None,
        artist: None,
        album: None,
        album_artist: None,
        track_no: None,
        disc_no: None,
        year: None,
        genre: None,
        duration_ms: seconds.and_then(duration_ms).filter(|&ms| ms > 0),
        codec: codec_name(params.codec),
        mime: match format.format_info().short_name {
            "ogg" => "audio/ogg",
            _ => "application/octet-stream",
        },
        bitrate: None,
        sample_rate: params.sample_rate,
        channels: params.channels.as_ref().and_then(|c| u8::try_from(c.count()).ok()),
        has_picture: false,
        artists: Vec::new(),
        album_artists: Vec::new(),
    };
    info.bitrate = info.duration_ms.and_then(|ms| super::average_kbps(size, ms));
    if let Some(revision) = format.metadata().skip_to_latest() {
        for tag in revision
            .media
            .tags
            .iter()
            .chain(revision.per_track.iter().flat_map(|t| t.metadata.tags.iter()))
        {
            apply(&mut info, tag.std.as_ref());
        }
        info.has_picture = revision
            .media
            .visuals
            .iter()
            .any(|v| v.data.len() <= super::covers::MAX_COVER);
    }
    Ok(info)
}

/// Fills the field a standard tag names, if it is still empty (the first value wins).
fn apply(info: &mut TrackInfo, tag: Option<&StandardTag>) {
    fn text(field: &mut Option<String>, value: &str) {
        let value = value.trim();
        if field.is_none() && !value.is_empty() {
            *field = Some(value.to_owned());
        }
    }
    fn number(field: &mut Option<u32>, value: u64) {
        if field.is_none() {
            *field = u32::try_from(value).ok();
        }
    }
    match tag {
        Some(StandardTag::TrackTitle(v)) => text(&mut info.title, v),
        Some(StandardTag::Artist(v)) => text(&mut info.artist, v),
        Some(StandardTag::Album(v)) => text(&mut info.album, v),
        Some(StandardTag::AlbumArtist(v)) => text(&mut info.album_artist, v),
        Some(StandardTag::Genre(v)) => text(&mut info.genre, v),
        Some(StandardTag::TrackNumber(n)) => number(&mut info.track_no, *n),
        Some(StandardTag::DiscNumber(n)) => number(&mut info.disc_no, *n),
        Some(StandardTag::ReleaseYear(y) | StandardTag::RecordingYear(y)) => number(&mut info.year, (*y).into()),
        Some(StandardTag::ReleaseDate(d) | StandardTag::RecordingDate(d)) => {
            if let Some(year) = d.get(..4).and_then(|y| y.parse::<u32>().ok()) {
                number(&mut info.year, year.into());
            }
        }
        _ => {}
    }
}

fn codec_name(codec: symphonia::core::codecs::audio::AudioCodecId) -> &'static str {
    match codec {
        codecs::CODEC_ID_FLAC => "flac",
        codecs::CODEC_ID_VORBIS => "vorbis",
        codecs::CODEC_ID_OPUS => "opus",
        codecs::CODEC_ID_SPEEX => "speex",
        codecs::CODEC_ID_MP3 => "mp3",
        codecs::CODEC_ID_AAC => "aac",
        _ => "unknown",
    }
}

/// Any `Read + Seek` as the source symphonia reads, with its length found once.
struct Source<R> {
    inner: R,
    len: u64,
}

impl<R: Read + Seek> Source<R> {
    fn new(mut inner: R) -> std::io::Result<Self> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok(Source { inner, len })
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Source<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for Source<R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any bytes behind an Ogg page's capture pattern: an answer or an error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let mut bytes = b"OggS".to_vec();
            bytes.extend(body);
            let _ = read(std::io::Cursor::new(bytes), Some("oga"));
        }
    }
}
