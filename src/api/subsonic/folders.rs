//! Browsing by folders: `getIndexes` and `getMusicDirectory`, over the library folders as they
//! are on disk (DSub, Ultrasonic and other apps browse this way). A directory is a folder of
//! the library (`fo-…`), a library folder itself by its music-folder number, or an album
//! (`al-…`) or artist (`ar-…`), as the folder-style answers (`getAlbumList`, `search2`,
//! `getStarred`) show them.

use std::path::{Path, PathBuf};

use super::render::{self, IGNORED_ARTICLES};
use super::reply::{Failure, Node};
use super::Call;
use crate::model::{unix_now, AlbumId, ArtistId, Folder, FolderId};

/// A library folder's name as `getMusicFolders` shows it.
pub fn music_folder_name(root: &Path) -> String {
    root.file_name()
        .map_or("Music".into(), |n| n.to_string_lossy().into_owned())
}

/// The catalog's path of a library folder (absolute, with its trailing slash).
fn folder_path(root: &Path) -> Option<String> {
    let path = root.to_str()?;
    Some(if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    })
}

/// The library folders a call names with `musicFolderId` (all of them without it), with their
/// numbers.
fn music_folders(call: &Call<'_>) -> Result<Vec<(u32, PathBuf)>, Failure> {
    let roots = call.state.catalog.roots().iter().cloned().zip(1u32..);
    let all = roots.map(|(root, n)| (n, root));
    match call.params.get("musicFolderId") {
        None | Some("") => Ok(all.collect()),
        Some(raw) => {
            let chosen: Vec<_> = all.filter(|(n, _)| raw == n.to_string()).collect();
            if chosen.is_empty() {
                return Err(Failure::not_found(format!("music folder {raw:?}")));
            }
            Ok(chosen)
        }
    }
}

/// When the library last changed, in milliseconds (now while a scan runs).
async fn last_modified(call: &Call<'_>) -> Result<u64, Failure> {
    let report = call.state.catalog.scan_status().await?;
    let seconds = match report {
        Some(r) if r.running => unix_now(),
        Some(r) => r.finished_at.unwrap_or(r.started_at),
        None => 0,
    };
    Ok(seconds.saturating_mul(1000))
}

/// `getIndexes`: the folders at the top of each library folder, by letter, and the songs that
/// lie in a library folder itself. With `ifModifiedSince` (ms) at or after the last change,
/// the index is empty: the client's copy is current.
pub async fn indexes(call: &Call<'_>) -> Result<Node, Failure> {
    let last_modified = last_modified(call).await?;
    let node = Node::new()
        .attr("lastModified", last_modified)
        .attr("ignoredArticles", IGNORED_ARTICLES);
    let since: Option<u64> = call.params.number("ifModifiedSince")?;
    if since.is_some_and(|since| since >= last_modified) {
        return Ok(Node::new().child("indexes", node));
    }
    let mut folders = Vec::new();
    let mut songs = Vec::new();
    for (_, root) in music_folders(call)? {
        let Some(top) = top_folder(call, &root).await? else {
            continue;
        };
        let (below, own) = call.state.catalog.folder_contents(top.id).await?;
        folders.extend(below);
        songs.extend(own);
    }
    let marks = call
        .marks(
            folders
                .iter()
                .map(|f| f.id.as_str())
                .chain(songs.iter().map(|s| s.track.id.as_str())),
        )
        .await?;
    let index = render::indexed(
        folders
            .iter()
            .map(|f| (f.name.as_str(), render::folder_artist(f, &marks))),
    );
    let songs = songs.iter().map(|s| in_folder(render::song(s, &marks), s)).collect();
    Ok(Node::new().child(
        "indexes",
        node.list("shortcut", Vec::new())
            .list("index", index)
            .list("child", songs),
    ))
}

/// The catalog's folder of a library folder; None while it holds no audio file.
async fn top_folder(call: &Call<'_>, root: &Path) -> Result<Option<Folder>, Failure> {
    let Some(path) = folder_path(root) else {
        return Ok(None);
    };
    Ok(call.state.catalog.folder_at(path).await?)
}

/// A song of a folder listing: its parent is its folder (in the ID3 answers, its album).
fn in_folder(node: Node, song: &crate::model::Song) -> Node {
    match &song.folder_id {
        Some(folder) => node.set("parent", folder.as_str()),
        None => node,
    }
}

/// `getMusicDirectory`.
pub async fn directory(call: &Call<'_>) -> Result<Node, Failure> {
    let raw = call.params.required("id")?;
    let not_found = || Failure::not_found(format!("directory {raw:?}"));
    let directory = match raw.split_once('-') {
        Some(("fo", _)) => {
            let id = FolderId::parse(raw).map_err(|_| not_found())?;
            let folder = call.state.catalog.folder(id).await?.ok_or_else(not_found)?;
            folder_directory(call, folder, None).await?
        }
        Some(("al", _)) => album_directory(call, AlbumId::parse(raw).map_err(|_| not_found())?).await?,
        Some(("ar", _)) => artist_directory(call, ArtistId::parse(raw).map_err(|_| not_found())?).await?,
        _ => {
            let (number, root) = music_folders(call)?
                .into_iter()
                .find(|(n, _)| raw == n.to_string())
                .ok_or_else(not_found)?;
            match top_folder(call, &root).await? {
                Some(top) => folder_directory(call, top, Some(number)).await?,
                None => Node::new()
                    .attr("id", number)
                    .attr("name", music_folder_name(&root))
                    .list("child", Vec::new()),
            }
        }
    };
    Ok(Node::new().child("directory", directory))
}

/// A folder's listing, if it is inside a library folder (others are not the client's to see);
/// `number` names a library folder asked for by its music-folder number.
async fn folder_directory(call: &Call<'_>, folder: Folder, number: Option<u32>) -> Result<Node, Failure> {
    let roots = call.state.catalog.roots();
    let tops: Vec<String> = roots.iter().filter_map(|root| folder_path(root)).collect();
    let is_top = tops.contains(&folder.path);
    if !tops.iter().any(|top| folder.path.starts_with(top.as_str())) {
        return Err(Failure::not_found(format!("directory {:?}", folder.id.as_str())));
    }
    let (folders, songs) = call.state.catalog.folder_contents(folder.id.clone()).await?;
    let marks = call
        .marks(
            std::iter::once(folder.id.as_str())
                .chain(folders.iter().map(|f| f.id.as_str()))
                .chain(songs.iter().map(|s| s.track.id.as_str())),
        )
        .await?;
    let name = match number {
        Some(n) => music_folder_name(&roots[n as usize - 1]),
        None => folder.name.clone(),
    };
    let node = match number {
        Some(n) => Node::new().attr("id", n),
        None => Node::new().attr("id", folder.id.as_str()),
    };
    let parent = if is_top { None } else { folder.parent.as_ref() };
    let node = marks.on(
        node.maybe("parent", parent.map(|p| p.as_str())).attr("name", name),
        folder.id.as_str(),
        false,
    );
    let children = folders
        .iter()
        .map(|f| render::folder_child(f, &marks))
        .chain(songs.iter().map(|s| in_folder(render::song(s, &marks), s)))
        .collect();
    Ok(node.list("child", children))
}

async fn album_directory(call: &Call<'_>, id: AlbumId) -> Result<Node, Failure> {
    let (album, songs) = call
        .state
        .catalog
        .album(id.clone())
        .await?
        .ok_or_else(|| Failure::not_found(format!("directory {id}")))?;
    let marks = call
        .marks(std::iter::once(album.id.as_str()).chain(songs.iter().map(|s| s.track.id.as_str())))
        .await?;
    let node = Node::new()
        .attr("id", album.id.as_str())
        .attr("parent", album.artist_id.as_str())
        .attr("name", &album.name);
    Ok(marks
        .on(node, album.id.as_str(), false)
        .list("child", songs.iter().map(|s| render::song(s, &marks)).collect()))
}

async fn artist_directory(call: &Call<'_>, id: ArtistId) -> Result<Node, Failure> {
    let (artist, albums) = call
        .state
        .catalog
        .artist(id.clone())
        .await?
        .ok_or_else(|| Failure::not_found(format!("directory {id}")))?;
    let marks = call
        .marks(std::iter::once(artist.id.as_str()).chain(albums.iter().map(|a| a.id.as_str())))
        .await?;
    let node = Node::new().attr("id", artist.id.as_str()).attr("name", &artist.name);
    Ok(marks
        .on(node, artist.id.as_str(), false)
        .list("child", albums.iter().map(|a| render::album_child(a, &marks)).collect()))
}
