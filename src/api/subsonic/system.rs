//! `ping`, `getLicense`, `getOpenSubsonicExtensions`, `getUser`, `getMusicFolders`,
//! `getScanStatus`, `startScan`.

use super::reply::{Failure, Node};
use super::Call;
use crate::model::User;

pub fn ping() -> Node {
    Node::new()
}

/// Free software: always licensed.
pub fn license() -> Node {
    Node::new().child("license", Node::new().attr("valid", true))
}

/// The OpenSubsonic extensions served, each with the versions of it.
pub fn extensions() -> Node {
    let extensions = [("apiKeyAuthentication", 1u32), ("formPost", 1), ("songLyrics", 1)];
    Node::new().list(
        "openSubsonicExtensions",
        extensions
            .iter()
            .map(|(name, version)| {
                Node::new()
                    .attr("name", *name)
                    .list("versions", vec![Node::text(*version)])
            })
            .collect(),
    )
}

/// The library folders as music folders, numbered from 1 in the order they were given.
pub fn music_folders(call: &Call<'_>) -> Node {
    let folders = call
        .state
        .catalog
        .roots()
        .iter()
        .enumerate()
        .map(|(i, root)| {
            Node::new()
                .attr("id", (i + 1) as u32)
                .attr("name", super::folders::music_folder_name(root))
        })
        .collect();
    Node::new().child("musicFolders", Node::new().list("musicFolder", folders))
}

/// A user and what they may do: everyone listens, downloads and keeps playlists; admins also
/// scan and manage users.
fn user_node(user: &User, folders: usize) -> Node {
    let everyone = [
        "streamRole",
        "downloadRole",
        "playlistRole",
        "coverArtRole",
        "scrobblingEnabled",
    ];
    let nobody = [
        "settingsRole",
        "uploadRole",
        "commentRole",
        "podcastRole",
        "jukeboxRole",
        "shareRole",
        "videoConversionRole",
    ];
    let mut node = Node::new().attr("username", user.name.as_str());
    node = node.attr("scrobblingEnabled", true).attr("adminRole", user.admin);
    for role in everyone.iter().filter(|r| **r != "scrobblingEnabled") {
        node = node.attr(role, true);
    }
    for role in nobody {
        node = node.attr(role, false);
    }
    node.list("folder", (1..=folders as u32).map(Node::text).collect())
}

pub async fn user(call: &Call<'_>) -> Result<Node, Failure> {
    let name = call.params.required("username")?;
    let folders = call.state.catalog.roots().len();
    if name.eq_ignore_ascii_case(&call.user.name) {
        return Ok(Node::new().child("user", user_node(&call.user, folders)));
    }
    if !call.user.admin {
        return Err(Failure::not_authorized("see other users"));
    }
    let user = call
        .state
        .catalog
        .user_by_name(name.to_owned())
        .await?
        .ok_or_else(|| Failure::not_found(format!("user {name:?}")))?;
    Ok(Node::new().child("user", user_node(&user, folders)))
}

pub async fn scan_status(call: &Call<'_>) -> Result<Node, Failure> {
    let report = call.state.catalog.scan_status().await?;
    let (tracks, _, _) = call.state.catalog.stats().await?;
    let scanning = report.as_ref().is_some_and(|r| r.running);
    let count = if scanning {
        report.as_ref().map_or(0, |r| r.files_seen)
    } else {
        tracks
    };
    let node = Node::new()
        .attr("scanning", scanning)
        .attr("count", count)
        .attr("folderCount", call.state.catalog.roots().len() as u64)
        .maybe(
            "lastScan",
            report.and_then(|r| r.finished_at).map(super::render::date_time),
        );
    Ok(Node::new().child("scanStatus", node))
}

pub async fn start_scan(call: &Call<'_>) -> Result<Node, Failure> {
    if !call.user.admin {
        return Err(Failure::not_authorized("start a scan"));
    }
    // A scan already running is the one asked for.
    call.state.catalog.start_scan();
    scan_status(call).await
}
