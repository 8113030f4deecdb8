//! JPEG XL through jxl-oxide (pure Rust, so nothing to install and no C
//! decoder to contain).
//!
//! jxl-oxide renders with the file's orientation applied, so what comes out
//! is upright and its size is the displayed size. It does no colour
//! management; JPEG XL files made from sRGB photos (what cameras and
//! converters write) render as sRGB.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, Limits, RgbImage};
use jxl_oxide::integration::JxlDecoder;

use super::{check_size, corrupt, flatten_alpha, DecodeError, Format, MAX_ALLOC};

/// A bare codestream, or the ISO-BMFF container's signature box.
pub(super) fn sniff(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0x0A]) || head.starts_with(b"\0\0\0\x0CJXL \r\n\x87\n")
}

fn decoder(bytes: &[u8]) -> Result<JxlDecoder<Cursor<&[u8]>>, DecodeError> {
    JxlDecoder::new(Cursor::new(bytes)).map_err(|e| corrupt(Format::Jxl, e))
}

pub(super) fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    decoder(bytes).ok().map(|d| d.dimensions())
}

pub(super) fn decode(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    // jxl-oxide renders whatever part of a truncated file it has (JPEG XL
    // is progressive): a cut-off file is broken, not a blurry photo.
    let whole = jxl_oxide::JxlImage::builder().read(Cursor::new(bytes)).map_err(|e| corrupt(Format::Jxl, e))?;
    if !whole.is_loading_done() {
        return Err(corrupt(Format::Jxl, "the file ends before its last frame"));
    }
    let mut decoder = decoder(bytes)?;
    let (w, h) = decoder.dimensions();
    check_size(w as u64, h as u64)?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    decoder.set_limits(limits).map_err(|e| corrupt(Format::Jxl, e))?;
    let image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Unsupported(u) => DecodeError::Unsupported(format!("jxl {u}")),
        e => corrupt(Format::Jxl, e),
    })?;
    Ok(flatten_alpha(image))
}

/// The TIFF-structured EXIF the file's `Exif` box holds, if any (its date
/// is the photo's capture date; its orientation is ignored, as the JPEG XL
/// standard says, in favour of the codestream's own).
pub(super) fn exif(bytes: &[u8]) -> Option<Vec<u8>> {
    let image = jxl_oxide::JxlImage::builder().read(Cursor::new(bytes)).ok()?;
    match image.aux_boxes().first_exif().ok()? {
        jxl_oxide::AuxBoxData::Data(exif) => Some(exif.payload().to_vec()),
        _ => None,
    }
}
