//! Track and playlist ids: short, URL-safe strings, checked once where they enter (a path, a
//! query, a token) so that the rest of the code never sees a malformed one.
//!
//! The scheme: library files and remote media have [`stable_id`]s (hex of a hash of where
//! they are); yt-dlp tracks have `yt-<video id>` (YouTube: playable from the id alone) or
//! `x-<hash of the page URL>`; playlists have `<kind>-<hash>` or a smart name (`recent`).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::SourceKind;

/// An id that is not short and URL-safe: a bad request, not an unknown id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed {0} id")]
pub struct IdError(pub &'static str);

fn well_formed(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(value_type = String)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, IdError> {
                if well_formed(s) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(IdError($what))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                if well_formed(&s) {
                    Ok($name(s))
                } else {
                    Err(IdError($what))
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A track's id.
    TrackId,
    "track"
);
id_type!(
    /// A playlist's id.
    PlaylistId,
    "playlist"
);

id_type!(
    /// An album of the library (its name and album artist): `al-<hash>`.
    AlbumId,
    "album"
);
id_type!(
    /// An artist of the library, by name: `ar-<hash>`.
    ArtistId,
    "artist"
);
id_type!(
    /// A folder of the library, by its path: `fo-<hash>`.
    FolderId,
    "folder"
);

impl AlbumId {
    /// An album id read back from the catalog.
    pub fn from_trusted(id: String) -> AlbumId {
        debug_assert!(well_formed(&id), "{id}");
        AlbumId(id)
    }
}

impl ArtistId {
    /// The id of the artist of this name (the catalog makes the same in SQL).
    pub fn named(name: &str) -> ArtistId {
        ArtistId(format!("ar-{}", &stable_id(&["artist", name])[..12]))
    }

    /// An artist id read back from the catalog.
    pub fn from_trusted(id: String) -> ArtistId {
        debug_assert!(well_formed(&id), "{id}");
        ArtistId(id)
    }
}

impl FolderId {
    /// The id of the folder that holds the file at `path` (absolute, `/`-separated): the catalog
    /// makes the same in SQL from a folder's path with its trailing slash.
    pub fn holding(path: &str) -> FolderId {
        let folder = path.rfind('/').map_or("", |end| &path[..=end]);
        FolderId(format!("fo-{}", &stable_id(&["folder", folder])[..12]))
    }

    /// A folder id read back from the catalog.
    pub fn from_trusted(id: String) -> FolderId {
        debug_assert!(well_formed(&id), "{id}");
        FolderId(id)
    }
}

impl TrackId {
    /// A library file's or remote medium's id, from where it is.
    pub fn stable(source: SourceKind, location: &str) -> TrackId {
        TrackId(stable_id(&[source.as_str(), location]))
    }

    /// The id of a YouTube video (11 URL-safe characters): enough to play it with no stored state.
    pub fn youtube(video_id: &str) -> Option<TrackId> {
        let valid = video_id.len() == 11
            && video_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| TrackId(format!("yt-{video_id}")))
    }

    /// The id of a page another yt-dlp site serves.
    pub fn ytdlp_page(url: &str) -> TrackId {
        TrackId(format!("x-{}", stable_id(&["ytdlp", url])))
    }

    /// The video of a `yt-` id.
    pub fn youtube_video(&self) -> Option<&str> {
        let video = self.0.strip_prefix("yt-")?;
        TrackId::youtube(video).map(|_| video)
    }

    /// The watch page of a `yt-` id.
    pub fn youtube_url(&self) -> Option<String> {
        self.youtube_video()
            .map(|v| format!("https://www.youtube.com/watch?v={v}"))
    }

    /// The source the id scheme names, where it names one (yt-dlp ids do; the hashes of library
    /// files and remote media don't, the catalog knows those).
    pub fn scheme_source(&self) -> Option<SourceKind> {
        if self.youtube_video().is_some() {
            Some(SourceKind::YouTube)
        } else if self.0.starts_with("x-") {
            Some(SourceKind::YtDlp)
        } else {
            None
        }
    }
}

impl PlaylistId {
    /// The id of a playlist read from a file or a URL (`location`): its kind and a hash of both.
    pub fn read_from(kind: super::PlaylistKind, location: &str) -> PlaylistId {
        PlaylistId(format!(
            "{}-{}",
            kind.as_str(),
            &stable_id(&[kind.as_str(), location])[..12]
        ))
    }

    /// A playlist id made by the catalog from trusted parts (`album-<hash>`, a smart name).
    pub fn from_trusted(id: String) -> PlaylistId {
        debug_assert!(well_formed(&id), "{id}");
        PlaylistId(id)
    }
}

impl TrackId {
    /// A track id read back from the catalog, which only stores well-formed ones.
    pub fn from_trusted(id: String) -> TrackId {
        debug_assert!(well_formed(&id), "{id}");
        TrackId(id)
    }
}

/// A stable, URL-safe id: hex of SHA-256 over the parts, NUL-separated, cut to 20 digits (80 bits).
pub fn stable_id(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    digest.iter().take(10).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_short_and_url_safe() {
        assert!(TrackId::parse("yt-dQw4w9WgXcQ").is_ok());
        assert!(TrackId::parse("0123abcdef_-").is_ok());
        for bad in ["", "a/b", "a b", "é", &"a".repeat(129), "..", "a%2F"] {
            assert_eq!(TrackId::parse(bad), Err(IdError("track")), "{bad:?}");
        }
        assert_eq!(
            PlaylistId::parse("x.y").unwrap_err().to_string(),
            "malformed playlist id"
        );
    }

    #[test]
    fn youtube_ids_round_trip_and_name_their_source() {
        let id = TrackId::youtube("dQw4w9WgXcQ").unwrap();
        assert_eq!(id.as_str(), "yt-dQw4w9WgXcQ");
        assert_eq!(
            id.youtube_url().as_deref(),
            Some("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
        );
        assert_eq!(id.scheme_source(), Some(SourceKind::YouTube));
        assert_eq!(TrackId::youtube("short"), None);
        assert_eq!(TrackId::parse("yt-short").unwrap().youtube_url(), None);
        assert_eq!(
            TrackId::ytdlp_page("https://x.test/a").scheme_source(),
            Some(SourceKind::YtDlp)
        );
        assert_eq!(
            TrackId::stable(SourceKind::Http, "https://x.test/a.mp3").scheme_source(),
            None
        );
    }

    #[test]
    fn serde_checks_ids() {
        let id: TrackId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abc\"");
        assert!(serde_json::from_str::<TrackId>("\"a/b\"").is_err());
    }

    proptest! {
        #[test]
        fn stable_ids_are_well_formed_and_differ(a in ".*", b in ".*") {
            let id = TrackId::stable(SourceKind::Http, &a);
            prop_assert!(TrackId::parse(id.as_str()).is_ok());
            prop_assert_eq!(id.as_str().len(), 20);
            if a != b {
                prop_assert_ne!(id, TrackId::stable(SourceKind::Http, &b));
            }
        }
    }
}
