//! `getPlaylists`, `getPlaylist`, `createPlaylist`, `updatePlaylist`, `deletePlaylist`, and the
//! saved play queue (`savePlayQueue`, `getPlayQueue`).

use super::render::{self, date_time};
use super::reply::{Failure, Node};
use super::Call;
use crate::catalog::play_queue::PlayQueue;
use crate::catalog::user_playlists::{Refused, Update};
use crate::model::{ListedPlaylist, PlaylistId, TrackId};

/// What owns the library's playlists, in answers.
const LIBRARY_OWNER: &str = "anyaudio";

fn playlist_node(p: &ListedPlaylist) -> Node {
    Node::new()
        .attr("id", p.id.as_str())
        .attr("name", &p.name)
        .maybe("comment", p.comment.as_deref())
        .attr("owner", p.owner.as_deref().unwrap_or(LIBRARY_OWNER))
        .attr("public", p.public)
        .attr("songCount", p.song_count)
        .attr("duration", p.duration)
        .attr("created", date_time(p.created))
        .attr("changed", date_time(p.changed))
        // OpenSubsonic: whether the caller may change it.
        .attr("readonly", p.owner.is_none())
}

pub async fn list(call: &Call<'_>) -> Result<Node, Failure> {
    let playlists = call.state.catalog.user_playlists(call.user.id).await?;
    Ok(Node::new().child(
        "playlists",
        Node::new().list("playlist", playlists.iter().map(playlist_node).collect()),
    ))
}

fn playlist_id(raw: &str) -> Result<PlaylistId, Failure> {
    PlaylistId::parse(raw).map_err(|_| Failure::not_found(format!("playlist {raw:?}")))
}

fn song_ids(values: Vec<&str>) -> Result<Vec<TrackId>, Failure> {
    values
        .into_iter()
        .map(|raw| TrackId::parse(raw).map_err(|_| Failure::not_found(format!("song {raw:?}"))))
        .collect()
}

async fn answer(call: &Call<'_>, id: PlaylistId) -> Result<Node, Failure> {
    let (playlist, songs) = call
        .state
        .catalog
        .user_playlist(call.user.id, id.clone())
        .await?
        .ok_or_else(|| Failure::not_found(format!("playlist {id}")))?;
    let marks = call.marks(songs.iter().map(|s| s.track.id.as_str())).await?;
    Ok(Node::new().child(
        "playlist",
        playlist_node(&playlist).list("entry", songs.iter().map(|s| render::song(s, &marks)).collect()),
    ))
}

pub async fn get(call: &Call<'_>) -> Result<Node, Failure> {
    answer(call, playlist_id(call.params.required("id")?)?).await
}

fn refused(refused: Refused, id: &str) -> Failure {
    match refused {
        Refused::NotFound => Failure::not_found(format!("playlist {id:?}")),
        Refused::NotOwner => Failure::not_authorized("change a playlist that is not theirs"),
        Refused::UnknownSong => Failure::not_found("a song to add"),
    }
}

/// A new playlist (`name`), or an existing one's songs replaced (`playlistId`).
pub async fn create(call: &Call<'_>) -> Result<Node, Failure> {
    let p = &call.params;
    let songs = song_ids(p.all("songId"))?;
    let catalog = &call.state.catalog;
    let id = match p.get("playlistId") {
        Some(raw) => {
            let id = playlist_id(raw)?;
            let update = Update {
                name: p.get("name").map(str::to_owned),
                songs: Some(songs),
                ..Update::default()
            };
            catalog
                .update_user_playlist(call.user.id, id.clone(), update)
                .await?
                .map_err(|r| refused(r, raw))?;
            id
        }
        None => {
            let name = p.required("name")?.trim();
            if name.is_empty() {
                return Err(Failure::generic("a playlist needs a name"));
            }
            catalog
                .create_user_playlist(call.user.id, name.to_owned(), songs)
                .await?
                .map_err(|r| refused(r, name))?
        }
    };
    answer(call, id).await
}

pub async fn update(call: &Call<'_>) -> Result<Node, Failure> {
    let p = &call.params;
    let raw = p.required("playlistId")?;
    let remove = p
        .all("songIndexToRemove")
        .into_iter()
        .map(|i| {
            i.parse::<u32>()
                .map_err(|_| Failure::generic(format!("songIndexToRemove must be a number, not {i:?}")))
        })
        .collect::<Result<_, _>>()?;
    let update = Update {
        name: p.get("name").map(str::to_owned),
        comment: p.get("comment").map(str::to_owned),
        public: p.get("public").map(|v| v.eq_ignore_ascii_case("true")),
        songs: None,
        remove,
        add: song_ids(p.all("songIdToAdd"))?,
    };
    call.state
        .catalog
        .update_user_playlist(call.user.id, playlist_id(raw)?, update)
        .await?
        .map_err(|r| refused(r, raw))?;
    Ok(Node::new())
}

pub async fn delete(call: &Call<'_>) -> Result<Node, Failure> {
    let raw = call.params.required("id")?;
    call.state
        .catalog
        .delete_user_playlist(call.user.id, playlist_id(raw)?)
        .await?
        .map_err(|r| refused(r, raw))?;
    Ok(Node::new())
}

/// `savePlayQueue`: the queue (`id`s), the playing one (`current`) and how far into it
/// (`position`, ms). No `id` clears it.
pub async fn save_queue(call: &Call<'_>) -> Result<Node, Failure> {
    let p = &call.params;
    let tracks = song_ids(p.all("id"))?;
    let current = p
        .get("current")
        .filter(|c| !c.is_empty())
        .map(|c| TrackId::parse(c).map_err(|_| Failure::not_found(format!("song {c:?}"))))
        .transpose()?;
    if current.as_ref().is_some_and(|c| !tracks.contains(c)) {
        return Err(Failure::generic("current must be one of the queue's ids"));
    }
    let queue = PlayQueue {
        tracks,
        current,
        position_ms: p.number("position")?.unwrap_or(0),
        changed_at: crate::model::unix_now(),
        changed_by: p.get("c").unwrap_or("").chars().take(64).collect(),
    };
    call.state.catalog.save_play_queue(call.user.id, queue).await?;
    Ok(Node::new())
}

/// `getPlayQueue`: what was saved, or no `playQueue` element when nothing was.
pub async fn queue(call: &Call<'_>) -> Result<Node, Failure> {
    let Some((queue, songs)) = call.state.catalog.play_queue(call.user.id).await? else {
        return Ok(Node::new());
    };
    let marks = call.marks(songs.iter().map(|s| s.track.id.as_str())).await?;
    Ok(Node::new().child(
        "playQueue",
        Node::new()
            .maybe("current", queue.current.as_ref().map(TrackId::as_str))
            .attr("position", queue.position_ms)
            .attr("username", call.user.name.as_str())
            .attr("changed", date_time(queue.changed_at))
            .attr("changedBy", queue.changed_by)
            .list("entry", songs.iter().map(|s| render::song(s, &marks)).collect()),
    ))
}
