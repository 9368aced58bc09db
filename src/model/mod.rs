//! The domain's vocabulary, shared by every layer and depending on none: ids, tracks and
//! playlists as the API shows them, the kinds of sources and playlists, what an import adds,
//! and where a track's bytes are ([`Origin`]).
//!
//! Nothing here does I/O. The catalog stores these types, the sources make them, the API
//! serialises them.

mod account;
mod epoch;
mod ids;
mod import;
mod kinds;
mod library;
mod track;

pub use account::{ApiKey, User, UserId};
pub use epoch::{from_unix, unix, unix_nanos, unix_now};
pub use ids::{stable_id, AlbumId, ArtistId, FolderId, IdError, PlaylistId, TrackId};
pub use import::{Import, NewPlaylist, NewRemoteTrack, SkippedEntry};
pub use kinds::{PlaylistKind, SourceKind, SuggestionKind, Variant};
pub use library::{
    Album, Annotation, Artist, Folder, Genre, ListedPlaylist, Song, UNKNOWN_ALBUM, UNKNOWN_ARTIST, VARIOUS_ARTISTS,
};
pub use track::{
    duration_ms, duration_ms_of_secs, Live, Origin, Playlist, PlaylistSummary, Suggestion, Track, TrackInfo,
};
