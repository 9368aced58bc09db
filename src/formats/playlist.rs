//! Playlist file formats: M3U/M3U8 (with `#EXTINF` and `#PLAYLIST`) and PLS.
//! Entries are returned as written; resolving them (paths, URLs) is the caller's business.

/// One playlist entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub location: String,
    /// From `#EXTINF:<secs>,<title>` or `TitleN=`.
    pub title: Option<String>,
    /// Seconds; negative (live streams) is dropped.
    pub duration: Option<u64>,
}

/// A playlist's name (if it has one) and entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlaylistFile {
    pub name: Option<String>,
    pub entries: Vec<Entry>,
}

/// HLS media playlists are M3U8 too, but they list segments of one stream, not tracks.
pub fn is_hls(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with("#EXT-X-"))
}

pub fn parse_m3u(text: &str) -> PlaylistFile {
    let mut playlist = PlaylistFile::default();
    let mut pending: Option<(Option<u64>, Option<String>)> = None;
    for line in text.lines().map(|l| l.trim_start_matches('\u{feff}').trim()) {
        if let Some(name) = line.strip_prefix("#PLAYLIST:") {
            playlist.name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
        } else if let Some(info) = line.strip_prefix("#EXTINF:") {
            let (duration, title) = info.split_once(',').unwrap_or((info, ""));
            // The duration may be followed by attributes (`-1 tvg-id="x"`).
            let duration = duration.split_whitespace().next().and_then(|d| d.parse::<f64>().ok());
            let duration = duration
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map(|d| d.round() as u64);
            pending = Some((duration, Some(title.trim().to_owned()).filter(|t| !t.is_empty())));
        } else if !line.is_empty() && !line.starts_with('#') {
            let (duration, title) = pending.take().unwrap_or((None, None));
            playlist.entries.push(Entry {
                location: line.to_owned(),
                title,
                duration,
            });
        }
    }
    playlist
}

pub fn parse_pls(text: &str) -> PlaylistFile {
    let mut entries: std::collections::BTreeMap<u32, Entry> = Default::default();
    let mut name = None;
    for line in text.lines().map(str::trim) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
        if key == "x-playlistname" || key == "playlistname" {
            name = Some(value.to_owned()).filter(|v| !v.is_empty());
            continue;
        }
        let split = key.find(|c: char| c.is_ascii_digit()).unwrap_or(key.len());
        let (field, number) = key.split_at(split);
        let Ok(n) = number.parse::<u32>() else { continue };
        let entry = entries.entry(n).or_default();
        match field {
            "file" => entry.location = value.to_owned(),
            "title" => entry.title = Some(value.to_owned()).filter(|v| !v.is_empty()),
            "length" => entry.duration = value.parse::<i64>().ok().filter(|d| *d >= 0).map(|d| d as u64),
            _ => {}
        }
    }
    PlaylistFile {
        name,
        entries: entries.into_values().filter(|e| !e.location.is_empty()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Lines as playlists have them, and as damaged or hostile ones do.
    fn m3u_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("#EXTM3U".to_owned()),
            "#EXTINF:(-?[0-9]{0,25}(\\.[0-9]{0,5})?|1e[0-9]{1,3}|NaN|inf|-inf|\\PC{0,8})( [a-z-]+=\"[^\"]*\")?,\\PC{0,20}",
            "#PLAYLIST:\\PC{0,20}",
            "#EXT-X-[A-Z]{1,10}(:\\PC{0,10})?",
            "[ \t\u{feff}]*(https?://[a-z.]{1,10}/)?[^\n\r#]{1,30}",
            "\\PC{0,40}",
        ]
    }

    fn pls_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("[playlist]".to_owned()),
            "(File|Title|Length|file|TITLE)[0-9]{0,12}=\\PC{0,20}",
            "Length[0-9]{1,3}=-?[0-9]{0,25}",
            "(X-)?PlaylistName=\\PC{0,20}",
            "NumberOfEntries=[0-9]{0,12}",
            "\\PC{0,40}",
        ]
    }

    proptest! {
        /// Any M3U text: entries that are the file's lines, never a panic.
        #[test]
        fn any_m3u_parses(lines in proptest::collection::vec(m3u_line(), 0..40), crlf: bool) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let playlist = parse_m3u(&text);
            prop_assert!(playlist.entries.len() <= text.lines().count());
            for entry in &playlist.entries {
                prop_assert!(!entry.location.is_empty() && !entry.location.starts_with('#'));
                prop_assert_eq!(entry.location.trim(), entry.location.as_str());
            }
            let _ = is_hls(&text);
        }

        /// Any PLS text: entries in number order with a location each, never a panic.
        #[test]
        fn any_pls_parses(lines in proptest::collection::vec(pls_line(), 0..40)) {
            let text = lines.join("\n");
            let playlist = parse_pls(&text);
            prop_assert!(playlist.entries.len() <= text.lines().count());
            prop_assert!(playlist.entries.iter().all(|e| !e.location.is_empty()));
        }
    }

    #[test]
    fn m3u_with_extinf() {
        let text = "\u{feff}#EXTM3U\n#PLAYLIST: Road trip \n#EXTINF:123,Artist - Song\nA/b.mp3\n\n#EXTINF:-1,Live radio\nhttp://x/live\n  C\\d.flac \n";
        let p = parse_m3u(text);
        assert_eq!(p.name.as_deref(), Some("Road trip"));
        assert_eq!(
            p.entries,
            vec![
                Entry {
                    location: "A/b.mp3".into(),
                    title: Some("Artist - Song".into()),
                    duration: Some(123)
                },
                Entry {
                    location: "http://x/live".into(),
                    title: Some("Live radio".into()),
                    duration: None
                },
                Entry {
                    location: "C\\d.flac".into(),
                    title: None,
                    duration: None
                },
            ]
        );
    }

    #[test]
    fn pls_entries_in_number_order() {
        let text = "[playlist]\nFile2=http://b/2.mp3\nTitle2=Two\nFile1=http://a/1.mp3\nTitle1=One\nLength1=61\nLength2=-1\nNumberOfEntries=2\nVersion=2\n";
        let p = parse_pls(text);
        assert_eq!(
            p.entries,
            vec![
                Entry {
                    location: "http://a/1.mp3".into(),
                    title: Some("One".into()),
                    duration: Some(61)
                },
                Entry {
                    location: "http://b/2.mp3".into(),
                    title: Some("Two".into()),
                    duration: None
                },
            ]
        );
    }

    #[test]
    fn hls_is_recognised() {
        assert!(is_hls("#EXTM3U\n#EXT-X-TARGETDURATION:10\nseg1.ts\n"));
        assert!(!is_hls("#EXTM3U\n#EXTINF:10,x\nsong.mp3\n"));
    }
}
