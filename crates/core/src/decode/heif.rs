//! HEIC and AVIF through libheif (Debian's `libheif1`, with libde265 for
//! HEVC and dav1d/aom for AV1).
//!
//! libheif applies the file's rotation and mirroring (`irot`, `imir`) while
//! decoding, so what comes out is upright and the handle's size is the
//! displayed size.

use std::sync::OnceLock;

use image::{DynamicImage, RgbImage, RgbaImage};
use libheif_rs::{ColorSpace, HeifContext, HeifError, HeifErrorCode, ImageHandle, LibHeif, RgbChroma};

use super::{check_size, corrupt, flatten_alpha, DecodeError, Format};

/// libheif's global state, initialised once for the process.
fn libheif() -> &'static LibHeif {
    static LIB: OnceLock<LibHeif> = OnceLock::new();
    LIB.get_or_init(LibHeif::new)
}

/// HEIF-family files start with an ISO-BMFF `ftyp` box naming brands.
pub(super) fn sniff(head: &[u8]) -> Option<Format> {
    if head.len() < 16 || &head[4..8] != b"ftyp" {
        return None;
    }
    let box_len = (u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize).clamp(16, head.len());
    // The major brand, then (after a 4-byte version) the compatible brands.
    let brands = std::iter::once(&head[8..12]).chain(head[16..box_len].chunks_exact(4));
    let mut heif = false;
    for brand in brands {
        match brand {
            b"avif" | b"avis" => return Some(Format::Avif),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => heif = true,
            _ => {}
        }
    }
    heif.then_some(Format::Heic)
}

fn primary(ctx: &HeifContext, format: Format) -> Result<ImageHandle, DecodeError> {
    ctx.primary_image_handle().map_err(|e| heif_error(format, e))
}

/// libheif says itself when a valid file uses something it does not
/// implement (a codec plugin not installed, an image type, a colour
/// conversion): that is "unsupported", not "corrupt".
fn heif_error(format: Format, e: HeifError) -> DecodeError {
    match e.code {
        HeifErrorCode::UnsupportedFeature | HeifErrorCode::UnsupportedFileType => {
            let what = e.message.trim_start_matches("Unsupported feature: ").trim_start_matches("Unsupported file-type: ");
            DecodeError::Unsupported(format!("{} {what}", format.as_str()))
        }
        _ => corrupt(format, e),
    }
}

pub(super) fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let ctx = HeifContext::read_from_bytes(bytes).ok()?;
    let handle = ctx.primary_image_handle().ok()?;
    Some((handle.width(), handle.height()))
}

/// Decode the primary image, or, where `preview` asks for it, the smallest
/// thumbnail item the file carries whose shorter side is at least that
/// (phones store one of about 240 x 320 beside every photo: decoding it
/// instead of 12 MP of HEVC tiles is what makes indexing HEIC fast).
/// Returns the pixels and whether they came from a thumbnail.
pub(super) fn decode(bytes: &[u8], format: Format, preview: Option<u32>) -> Result<(RgbImage, bool), DecodeError> {
    let _ = libheif();
    let ctx = HeifContext::read_from_bytes(bytes).map_err(|e| heif_error(format, e))?;
    let handle = primary(&ctx, format)?;
    check_size(handle.width() as u64, handle.height() as u64)?;
    if let Some(thumbnail) = preview.and_then(|least| thumbnail(&handle, least)) {
        // A thumbnail that does not decode is no reason to fail the photo.
        if let Ok(pixels) = decode_handle(&thumbnail, format) {
            return Ok((pixels, true));
        }
    }
    Ok((decode_handle(&handle, format)?, false))
}

/// The smallest thumbnail of `handle` whose shorter side is at least `least`.
/// One whose shape disagrees with the photo's (landscape for a portrait) was
/// written without the photo's rotation: it is passed over for the photo.
fn thumbnail(handle: &ImageHandle, least: u32) -> Option<ImageHandle> {
    let mut ids = vec![0; handle.number_of_thumbnails()];
    let count = handle.thumbnail_ids(&mut ids);
    ids.truncate(count);
    let landscape = |w: u32, h: u32| w > h;
    ids.into_iter()
        .filter_map(|id| handle.thumbnail(id).ok())
        .filter(|t| t.width().min(t.height()) >= least)
        .filter(|t| handle.width() == handle.height() || landscape(t.width(), t.height()) == landscape(handle.width(), handle.height()))
        .min_by_key(|t| t.width() as u64 * t.height() as u64)
}

fn decode_handle(handle: &ImageHandle, format: Format) -> Result<RgbImage, DecodeError> {
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha { RgbChroma::Rgba } else { RgbChroma::Rgb };
    let image = libheif().decode(handle, ColorSpace::Rgb(chroma), None).map_err(|e| heif_error(format, e))?;
    let planes = image.planes();
    let plane = planes.interleaved.ok_or_else(|| corrupt(format, "libheif returned no interleaved plane"))?;
    let channels = if alpha { 4 } else { 3 };
    let row = plane.width as usize * channels;
    // libheif converts 10- and 12-bit images to the 8-bit interleaved RGB
    // asked for (tested); anything else it might hand back is refused.
    if plane.storage_bits_per_pixel as usize != channels * 8 || plane.stride < row {
        return Err(DecodeError::Unsupported(format!(
            "{}-bit {}",
            plane.bits_per_pixel / channels as u8,
            format.as_str().to_uppercase()
        )));
    }
    let mut pixels = Vec::with_capacity(row * plane.height as usize);
    for line in plane.data.chunks(plane.stride).take(plane.height as usize) {
        pixels.extend_from_slice(&line[..row]);
    }
    let bad_buffer = || corrupt(format, "bad pixel buffer");
    if alpha {
        let rgba = RgbaImage::from_raw(plane.width, plane.height, pixels).ok_or_else(bad_buffer)?;
        Ok(flatten_alpha(DynamicImage::ImageRgba8(rgba)))
    } else {
        RgbImage::from_raw(plane.width, plane.height, pixels).ok_or_else(bad_buffer)
    }
}
