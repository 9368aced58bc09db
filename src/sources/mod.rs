//! Where bytes come from: each source turns where a track is (its [`Origin`](crate::model::Origin))
//! into something the stream layer can serve, a checked library path or a
//! [`Locator`](crate::upstream::Locator), and reads what a URL holds for imports.
//!
//! - `local`: files of the library, checked to lie inside it at play time; their covers and
//!   lyrics. `scaled_covers` keeps covers scaled to the sizes clients ask for.
//! - `remote`: direct media URLs (and the entries of M3U/PLS playlists and podcast feeds),
//!   probed with a one-byte range to learn size and validators.
//! - `listing`: what a URL holds (media, M3U/PLS, a feed), read for an import;
//!   `remote_tags` reads a remote file's tags through range requests.
//! - `youtube`: YouTube and every site yt-dlp supports (`ytdlp` runs the program).
//!
//! Sources reach other hosts only through `upstream`; they know nothing of the catalog, the
//! resolver's cache or HTTP handlers.

pub mod listing;
pub mod local;
pub mod remote;
pub mod remote_tags;
pub mod scaled_covers;
pub mod youtube;
pub mod ytdlp;
