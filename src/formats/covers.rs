//! Cover art of library tracks: the picture in a file's tags, or an image beside it named as
//! an album cover (`cover.jpg`, `folder.png`, ...).

use lofty::config::ParseOptions;
use lofty::file::TaggedFileExt;
use lofty::probe::Probe;

/// Cover images larger than this are not served (a tag can hold anything).
pub const MAX_COVER: usize = 16 << 20;

/// The largest side a cover is scaled to; a client asking for more gets at most this.
pub const MAX_SCALED_SIDE: u32 = 2048;

/// The memory one decoded cover may take (a small file can claim huge dimensions).
const MAX_DECODED: u64 = 128 << 20;

/// A cover scaled down to fit `side` × `side` pixels (its shape kept): a JPEG, or a PNG when
/// it has transparency. None when it is no larger than that already (the original will do).
pub fn scaled(bytes: &[u8], side: u32) -> anyhow::Result<Option<(Vec<u8>, &'static str)>> {
    use image::{ImageFormat, ImageReader};
    let side = side.clamp(1, MAX_SCALED_SIDE);
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODED);
    reader.limits(limits);
    let image = super::guarded(|| reader.decode()).ok_or_else(|| anyhow::anyhow!("the image decoder failed"))??;
    if image.width() <= side && image.height() <= side {
        return Ok(None);
    }
    let small = image.resize(side, side, image::imageops::FilterType::Lanczos3);
    let mut out = std::io::Cursor::new(Vec::new());
    let mime = if small.color().has_alpha() {
        small.write_to(&mut out, ImageFormat::Png)?;
        "image/png"
    } else {
        let rgb = small.into_rgb8();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&rgb)?;
        "image/jpeg"
    };
    Ok(Some((out.into_inner(), mime)))
}

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

#[cfg(test)]
mod scaling_tests {
    use super::*;

    fn png(width: u32, height: u32, alpha: bool) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let image: image::DynamicImage = if alpha {
            image::RgbaImage::from_pixel(width, height, image::Rgba([200, 10, 10, 128])).into()
        } else {
            image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])).into()
        };
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_cover_is_scaled_to_fit_keeping_its_shape() {
        let (bytes, mime) = scaled(&png(600, 300, false), 100).unwrap().unwrap();
        assert_eq!(mime, "image/jpeg");
        let small = image::load_from_memory(&bytes).unwrap();
        assert_eq!((small.width(), small.height()), (100, 50));
        let (bytes, mime) = scaled(&png(300, 600, true), 64).unwrap().unwrap();
        assert_eq!(mime, "image/png");
        let small = image::load_from_memory(&bytes).unwrap();
        assert_eq!((small.width(), small.height()), (32, 64));
    }

    #[test]
    fn a_small_cover_is_left_as_it_is_and_garbage_is_an_error() {
        assert_eq!(scaled(&png(80, 80, false), 100).unwrap(), None);
        assert!(scaled(b"not an image at all", 100).is_err());
        let mut cut = png(600, 300, false);
        cut.truncate(cut.len() / 2);
        assert!(scaled(&cut, 100).is_err());
    }
}
