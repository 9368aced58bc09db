//! The closed sets of the domain, with the names the API and the catalog use for them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Every name, comma-separated, for error messages.
            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// Where a track's media comes from.
    SourceKind {
        /// A file of the library.
        Local = "local",
        /// Remote media by URL (direct, or an entry of an M3U/PLS playlist or podcast feed).
        Http = "http",
        /// A YouTube video.
        YouTube = "youtube",
        /// A page of another site yt-dlp supports.
        YtDlp = "ytdlp",
    }
);

impl SourceKind {
    /// Whether the source offers several formats of a track (so a client's [`Variant`] picks
    /// one): the one place that says so.
    pub fn has_formats(self) -> bool {
        matches!(self, SourceKind::YouTube | SourceKind::YtDlp)
    }
}

named_enum!(
    /// What a playlist is.
    PlaylistKind {
        /// Smart: the tracks added last.
        Recent = "recent",
        /// Smart: a random mix.
        Mix = "mix",
        /// An album of the library.
        Album = "album",
        /// An artist's tracks.
        Artist = "artist",
        /// A genre's tracks.
        Genre = "genre",
        /// An M3U file in the library.
        M3u = "m3u",
        /// An M3U/PLS playlist added by URL.
        Remote = "remote",
        /// A podcast feed.
        Feed = "feed",
        /// A playlist read by yt-dlp (YouTube or another site).
        YouTube = "youtube",
    }
);

impl PlaylistKind {
    /// Made by the server, never stored.
    pub fn is_smart(self) -> bool {
        matches!(self, PlaylistKind::Recent | PlaylistKind::Mix)
    }

    /// Read from a URL, so it can be read again.
    pub fn is_imported(self) -> bool {
        matches!(self, PlaylistKind::Remote | PlaylistKind::Feed | PlaylistKind::YouTube)
    }
}

named_enum!(
    /// What an autocomplete suggestion completes.
    SuggestionKind {
        Artist = "artist",
        Album = "album",
        Track = "track",
        Genre = "genre",
        /// A completion from YouTube.
        YouTube = "youtube",
    }
);

named_enum!(
    /// Which audio the client can play, for sources that offer several formats.
    Variant {
        /// Opus in WebM (Chromium, Firefox, Android).
        Opus = "opus",
        /// AAC in MP4/M4A (Safari on iOS and macOS, ExoPlayer everywhere).
        M4a = "m4a",
    }
);

impl Variant {
    /// A client's name for a variant, aliases included (`webm`, `aac`, `mp4`).
    pub fn from_client_name(s: &str) -> Option<Variant> {
        match s {
            "opus" | "webm" => Some(Variant::Opus),
            "m4a" | "aac" | "mp4" => Some(Variant::M4a),
            _ => None,
        }
    }

    /// An explicit `format=` wins; else Safari and ExoPlayer get M4A, everyone else Opus.
    pub fn for_client(explicit: Option<&str>, user_agent: Option<&str>) -> Option<Variant> {
        if let Some(f) = explicit {
            return Variant::from_client_name(f);
        }
        let ua = user_agent.unwrap_or("");
        let apple = ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod");
        let safari =
            ua.contains("Safari") && !ua.contains("Chrome") && !ua.contains("Chromium") && !ua.contains("Android");
        let exo = ua.contains("ExoPlayer") || ua.contains("stagefright");
        Some(if apple || safari || exo {
            Variant::M4a
        } else {
            Variant::Opus
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_parse() {
        for kind in PlaylistKind::ALL {
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(PlaylistKind::parse(kind.as_str()), Some(*kind));
        }
        for kind in SourceKind::ALL {
            assert_eq!(
                serde_json::from_str::<SourceKind>(&format!("\"{kind}\"")).unwrap(),
                *kind
            );
        }
        assert_eq!(PlaylistKind::parse("YouTube"), None);
        assert!(PlaylistKind::names().contains("youtube"));
    }

    #[test]
    fn variants_per_client() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        let mac_safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15";
        assert_eq!(Variant::for_client(None, Some(chrome)), Some(Variant::Opus));
        assert_eq!(Variant::for_client(None, Some(iphone)), Some(Variant::M4a));
        assert_eq!(Variant::for_client(None, Some(mac_safari)), Some(Variant::M4a));
        assert_eq!(
            Variant::for_client(None, Some("ExoPlayerLib/2.19.1")),
            Some(Variant::M4a)
        );
        assert_eq!(Variant::for_client(Some("m4a"), Some(chrome)), Some(Variant::M4a));
        assert_eq!(Variant::for_client(Some("flac"), Some(chrome)), None);
        assert_eq!(Variant::for_client(None, None), Some(Variant::Opus));
    }

    #[test]
    fn only_ytdlp_sources_have_formats() {
        let with: Vec<_> = SourceKind::ALL.iter().filter(|k| k.has_formats()).collect();
        assert_eq!(with, [&SourceKind::YouTube, &SourceKind::YtDlp]);
    }
}
