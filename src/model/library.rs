//! The library as albums and artists: what the Subsonic API browses by tags.
//!
//! Albums are filed under their album artist, not the track artist, so a compilation is one
//! album by "Various Artists" rather than one per track artist.

use super::{AlbumId, ArtistId, FolderId, Track};

/// The album artist of compilations that name none.
pub const VARIOUS_ARTISTS: &str = "Various Artists";
/// What files without an artist tag are filed under.
pub const UNKNOWN_ARTIST: &str = "[Unknown Artist]";
/// What files without an album tag are filed under.
pub const UNKNOWN_ALBUM: &str = "[Unknown Album]";

/// A track with its place in the library.
#[derive(Debug, Clone, PartialEq)]
pub struct Song {
    pub track: Track,
    pub album_id: Option<AlbumId>,
    /// The track artist's entity (its first listed artist's).
    pub artist_id: Option<ArtistId>,
    /// Each artist, when its tags name several; else empty.
    pub artists: Vec<String>,
    /// When it was added (unix seconds).
    pub created: u64,
    /// Which library folder holds it (1-based, as `getMusicFolders` lists them); None for
    /// remote media.
    pub music_folder: Option<u32>,
    /// Its path inside that library folder (`Artist/Album/01 Song.flac`); None for remote media.
    pub path: Option<String>,
    /// The folder that holds it; None for remote media.
    pub folder_id: Option<FolderId>,
}

/// A folder of the library that holds audio files (directly or below): the Subsonic API's
/// browsing by folders.
#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    pub id: FolderId,
    pub name: String,
    /// Its absolute path, with a trailing slash: for the catalog's queries, never shown.
    pub path: String,
    /// The folder above it; None for `/`.
    pub parent: Option<FolderId>,
    /// A track in it (or in a folder right below it) with a cover.
    pub cover_track: Option<super::TrackId>,
}

/// An album: tracks of one album name and album artist.
#[derive(Debug, Clone, PartialEq)]
pub struct Album {
    pub id: AlbumId,
    pub name: String,
    /// The album artist, as shown.
    pub artist: String,
    /// Its (first) album artist's entity.
    pub artist_id: ArtistId,
    /// Each album artist, when its tags name several (it is listed under each); else empty.
    pub artists: Vec<String>,
    pub year: Option<u32>,
    pub genre: Option<String>,
    pub song_count: u32,
    /// Seconds, summed over the songs.
    pub duration: u64,
    /// When its first track was added (unix seconds).
    pub created: u64,
    /// A track of it that has a cover, whose cover is the album's.
    pub cover_track: Option<super::TrackId>,
}

/// An artist: a name that is the album artist of at least one album.
#[derive(Debug, Clone, PartialEq)]
pub struct Artist {
    pub id: ArtistId,
    pub name: String,
    pub album_count: u32,
    /// An album of theirs with a cover.
    pub cover_album: Option<AlbumId>,
}

/// A genre and how much of the library has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Genre {
    pub name: String,
    pub song_count: u32,
    pub album_count: u32,
}

/// What one user marked of a song, album or artist, and how often they played it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotation {
    /// When they starred it (unix seconds).
    pub starred: Option<u64>,
    /// 1 to 5.
    pub rating: Option<u8>,
    pub play_count: u64,
    /// When they last played it (unix seconds).
    pub played: Option<u64>,
}

/// A playlist as the Subsonic API lists it: a user's own, or one of the library's (an M3U
/// file, an imported feed or YouTube playlist), which nobody owns and everyone sees.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedPlaylist {
    pub id: super::PlaylistId,
    pub name: String,
    pub comment: Option<String>,
    /// The owner's name; None for the library's.
    pub owner: Option<String>,
    pub public: bool,
    pub song_count: u32,
    /// Seconds.
    pub duration: u64,
    pub created: u64,
    pub changed: u64,
}
