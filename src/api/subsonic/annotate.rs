//! `star`, `unstar`, `setRating`, `scrobble`: what a user marks and plays, kept per user.

use super::reply::{Failure, Node};
use super::Call;
use crate::catalog::annotations::Mark;
use crate::model::{unix_now, AlbumId, ArtistId, TrackId};

/// Every id of `id`, `albumId` and `artistId`, each checked to be an id of its kind.
fn items(call: &Call<'_>) -> Result<Vec<String>, Failure> {
    let p = &call.params;
    let mut items = Vec::new();
    for (name, well_formed) in [
        (
            "id",
            (|s| TrackId::parse(s).is_ok() || AlbumId::parse(s).is_ok()) as fn(&str) -> bool,
        ),
        ("albumId", |s| AlbumId::parse(s).is_ok()),
        ("artistId", |s| ArtistId::parse(s).is_ok()),
    ] {
        for value in p.all(name) {
            if !well_formed(value) {
                return Err(Failure::not_found(format!("{name} {value:?}")));
            }
            items.push(value.to_owned());
        }
    }
    if items.is_empty() {
        return Err(Failure::missing("id"));
    }
    Ok(items)
}

pub async fn star(call: &Call<'_>, starred: bool) -> Result<Node, Failure> {
    let items = items(call)?;
    let mark = if starred { Mark::Star(unix_now()) } else { Mark::Unstar };
    call.state.catalog.mark(call.user.id, items, mark).await?;
    Ok(Node::new())
}

pub async fn set_rating(call: &Call<'_>) -> Result<Node, Failure> {
    let id = call.params.required("id")?;
    let rating: u8 = call
        .params
        .number("rating")?
        .filter(|r| *r <= 5)
        .ok_or_else(|| Failure::generic("rating must be 0 (none) to 5"))?;
    if TrackId::parse(id).is_err() {
        return Err(Failure::not_found(format!("id {id:?}")));
    }
    call.state
        .catalog
        .mark(call.user.id, vec![id.to_owned()], Mark::Rate(rating))
        .await?;
    Ok(Node::new())
}

/// A play: with `submission` (the default) a finished one, counted at `time` (ms) or now; a
/// "now playing" notice otherwise, which is not stored.
pub async fn scrobble(call: &Call<'_>) -> Result<Node, Failure> {
    let p = &call.params;
    let ids = p.all("id");
    if ids.is_empty() {
        return Err(Failure::missing("id"));
    }
    let submission = p.get("submission").is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    if !submission {
        return Ok(Node::new());
    }
    let times = p.all("time");
    for (i, raw) in ids.iter().enumerate() {
        let id = TrackId::parse(raw).map_err(|_| Failure::not_found(format!("song {raw:?}")))?;
        let at = match times.get(i) {
            Some(ms) => {
                ms.parse::<u64>()
                    .map_err(|_| Failure::generic(format!("time must be milliseconds since 1970, not {ms:?}")))?
                    / 1000
            }
            None => unix_now(),
        };
        if !call.state.catalog.record_play(call.user.id, id, at).await? {
            return Err(Failure::not_found(format!("song {raw:?}")));
        }
    }
    Ok(Node::new())
}
