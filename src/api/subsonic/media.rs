//! `stream`, `download` and `getCoverArt`: the same range-correct paths as `/stream/<token>`
//! and the artwork route, for library, remote and YouTube tracks alike.
//!
//! `maxBitRate` and `format` are accepted and the original is served (no transcoding yet);
//! `transcodeOffset` is not advertised.

use axum::http::{header, HeaderValue, Method};
use axum::response::Response;

use super::reply::Failure;
use super::Call;
use crate::api::stream::serve_track;
use crate::api::tracks::artwork_of;
use crate::model::{AlbumId, ArtistId, TrackId, Variant};

fn track_id(call: &Call<'_>) -> Result<TrackId, Failure> {
    let raw = call.params.required("id")?;
    TrackId::parse(raw).map_err(|_| Failure::not_found(format!("song {raw:?}")))
}

/// The track's bytes; `download` also names the file.
pub async fn stream(call: &Call<'_>, download: bool) -> Result<Response, Failure> {
    let id = track_id(call)?;
    let user_agent = call.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let variant = Variant::for_client(None, user_agent).unwrap_or(Variant::Opus);
    // A form POST (py-sonic's default) asks for the same bytes a GET would.
    let method = if call.method == Method::HEAD {
        Method::HEAD
    } else {
        Method::GET
    };
    let mut response = serve_track(call.state, &id, variant, &method, call.headers, call.room.clone()).await?;
    if download {
        let name = match call.state.catalog.track(id.clone()).await? {
            Some(track) => format!("{}.{}", track.title, super::render::suffix_of(&track.mime)),
            None => id.to_string(),
        };
        let ascii: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let encoded = percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC);
        if let Ok(value) =
            HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// The cover of a song, of an album (its first track with one), or of an artist (their
/// first album with one), scaled to fit `size` pixels a side when asked.
pub async fn cover_art(call: &Call<'_>) -> Result<Response, Failure> {
    let raw = call.params.required("id")?;
    let not_found = || Failure::not_found(format!("cover art {raw:?}"));
    let catalog = &call.state.catalog;
    let album_cover = |album: AlbumId| async move {
        Ok::<_, Failure>(catalog.album(album).await?.and_then(|(album, _)| album.cover_track))
    };
    let track = match raw.split_once('-') {
        Some(("al", _)) => album_cover(AlbumId::parse(raw).map_err(|_| not_found())?).await?,
        Some(("ar", _)) => {
            let artist = ArtistId::parse(raw).map_err(|_| not_found())?;
            match catalog.artist(artist).await?.and_then(|(artist, _)| artist.cover_album) {
                Some(album) => album_cover(album).await?,
                None => None,
            }
        }
        _ => TrackId::parse(raw).ok(),
    };
    let track = track.ok_or_else(not_found)?;
    // Any positive size is honoured (within the largest scaled side); 0 or none, the original.
    let size = call.params.number::<u32>("size")?.filter(|s| *s > 0);
    Ok(artwork_of(call.state, &track, size, call.headers).await?)
}
