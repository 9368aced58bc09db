//! Cover art of library tracks: the picture in a file's tags, or an image beside it named as
//! an album cover (`cover.jpg`, `folder.png`, ...).

use lofty::config::ParseOptions;
use lofty::file::TaggedFileExt;
use lofty::probe::Probe;

/// Cover images larger than this are not served (a tag can hold anything).
pub const MAX_COVER: usize = 16 << 20;

/// The cover embedded in a file's tags (the front cover if marked, else the first picture),
/// with its Content-Type; None if it has none.
pub fn embedded(path: &std::path::Path) -> Result<Option<(Vec<u8>, String)>, super::tags::Unreadable> {
    use lofty::picture::PictureType;
    let tagged = super::guarded(|| {
        Probe::open(path)?
            .options(ParseOptions::new().read_properties(false))
            .read()
    })
    .ok_or(super::tags::Unreadable::ReaderFailed)??;
    let pictures = tagged.tags().iter().flat_map(|t| t.pictures());
    let front = pictures.clone().find(|p| p.pic_type() == PictureType::CoverFront);
    Ok(front
        .or_else(|| pictures.clone().next())
        .filter(|p| p.data().len() <= MAX_COVER)
        .map(|p| {
            let mime = p.mime_type().map_or("application/octet-stream", |m| m.as_str());
            (p.data().to_vec(), mime.to_owned())
        }))
}

/// Image files beside a track that are its album's cover, best first (any case; .jpg, .jpeg,
/// .png or .webp).
const FOLDER_COVERS: &[&str] = &["cover", "folder", "front", "album"];
const IMAGE_TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("webp", "image/webp"),
];

/// If a file named `name` is an album cover: its rank (0 best) and Content-Type.
pub fn folder_cover(name: &str) -> Option<(usize, &'static str)> {
    let name = name.to_lowercase();
    let (stem, ext) = name.rsplit_once('.')?;
    let rank = FOLDER_COVERS.iter().position(|c| *c == stem)?;
    let mime = IMAGE_TYPES.iter().find(|(e, _)| *e == ext).map(|(_, m)| *m)?;
    Some((rank, mime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_covers_are_ranked_images() {
        assert_eq!(folder_cover("Cover.JPG"), Some((0, "image/jpeg")));
        assert_eq!(folder_cover("folder.webp"), Some((1, "image/webp")));
        assert_eq!(folder_cover("album.png"), Some((3, "image/png")));
        assert_eq!(folder_cover("cover.gif"), None);
        assert_eq!(folder_cover("back.jpg"), None);
        assert_eq!(folder_cover("cover"), None);
    }
}
