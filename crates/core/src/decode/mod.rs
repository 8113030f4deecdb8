//! Turning image files into pixels: content sniffing, EXIF, bounded decoding.
//!
//! Decoding is the expensive half of indexing, so it never produces more
//! pixels than the model and the thumbnail need: JPEGs are decoded by libjpeg-turbo with
//! DCT scaling (1/8, 1/4, 1/2 ... of full size straight out of the decoder).

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits, RgbImage};

mod heif;
use serde::{Deserialize, Serialize};

/// Images above this many pixels are refused instead of decoded: a
/// decompression bomb of 50000 x 50000 would need 7.5 GB as RGB.
pub const MAX_PIXELS: u64 = 200_000_000;
/// Memory the non-JPEG decoders may allocate for one image.
const MAX_ALLOC: u64 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
    Bmp,
    Tiff,
    /// HEIF with HEVC inside: what phones save as `.heic`.
    Heic,
    Avif,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Heic => "heic",
            Format::Avif => "avif",
        }
    }

    /// The MIME type of formats that web views show as they are; `None` for
    /// those (HEIC, AVIF, TIFF) that have to be shown as a JPEG made from them.
    pub fn web_mime(self) -> Option<&'static str> {
        Some(match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
            Format::Bmp => "image/bmp",
            Format::Tiff | Format::Heic | Format::Avif => return None,
        })
    }

    /// Whether libheif decodes it (rather than the image crate or libjpeg-turbo).
    fn is_heif(self) -> bool {
        matches!(self, Format::Heic | Format::Avif)
    }

    pub fn parse(s: &str) -> Option<Format> {
        Some(match s.to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Format::Jpeg,
            "png" => Format::Png,
            "webp" => Format::Webp,
            "gif" => Format::Gif,
            "bmp" => Format::Bmp,
            "tiff" | "tif" => Format::Tiff,
            "heic" | "heif" => Format::Heic,
            "avif" => Format::Avif,
            _ => return None,
        })
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::Webp => ImageFormat::WebP,
            Format::Gif => ImageFormat::Gif,
            Format::Bmp => ImageFormat::Bmp,
            Format::Tiff => ImageFormat::Tiff,
            Format::Heic | Format::Avif => unreachable!("libheif formats never reach the image crate"),
        }
    }
}

/// File name extensions that announce an image. Files with these are
/// catalogued even when their content turns out not to be one, so that the
/// user sees why they were skipped.
pub const IMAGE_EXTENSIONS: &[&str] =
    &["jpg", "jpeg", "jpe", "png", "webp", "gif", "bmp", "tif", "tiff", "heic", "heif", "hif", "avif"];

pub fn has_image_extension(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The image format the first bytes of a file announce, whatever its name says.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if let Some(format) = heif::sniff(head) {
        return Some(format);
    }
    match image::guess_format(head).ok()? {
        ImageFormat::Jpeg => Some(Format::Jpeg),
        ImageFormat::Png => Some(Format::Png),
        ImageFormat::WebP => Some(Format::Webp),
        ImageFormat::Gif => Some(Format::Gif),
        ImageFormat::Bmp => Some(Format::Bmp),
        ImageFormat::Tiff => Some(Format::Tiff),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty file")]
    Empty,
    #[error("not an image: {0}")]
    NotAnImage(&'static str),
    #[error("{0} images are not supported")]
    Unsupported(String),
    #[error("image is {width}x{height} pixels, above the limit of {} megapixels", MAX_PIXELS / 1_000_000)]
    TooLarge { width: u64, height: u64 },
    #[error("image is {width}x{height} pixels, too small to use")]
    TooSmall { width: u32, height: u32 },
    #[error("corrupt or truncated {format} image: {message}")]
    Corrupt { format: &'static str, message: String },
}

/// What the file says about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageInfo {
    pub format: Format,
    /// Pixel size as displayed, EXIF orientation applied.
    pub width: u32,
    pub height: u32,
    /// EXIF DateTimeOriginal as seconds since the epoch (the camera's clock, read as UTC).
    pub taken_at: Option<i64>,
    /// EXIF orientation, 1..=8.
    pub orientation: u8,
}

/// An image decoded at (at least) the size asked for, upright.
pub struct Decoded {
    pub info: ImageInfo,
    pub pixels: RgbImage,
}

/// Decode `bytes` so that the shorter side of the result is at least
/// `min_short_side` where the source allows, using the cheapest decoder path.
pub fn decode(bytes: &[u8], min_short_side: u32) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = sniff(bytes).ok_or_else(|| DecodeError::NotAnImage(describe_non_image(bytes)))?;
    let exif = read_exif(bytes);
    let orientation = orientation(format, &exif);

    let pixels = match format {
        Format::Jpeg => decode_jpeg(bytes, min_short_side)?,
        Format::Heic | Format::Avif => heif::decode(bytes, format)?,
        _ => decode_generic(bytes, format)?,
    };
    let (sw, sh) = dimensions_hint(bytes, format).unwrap_or((pixels.width(), pixels.height()));
    let mut image = DynamicImage::ImageRgb8(pixels);
    if let Some(o) = image::metadata::Orientation::from_exif(orientation) {
        image.apply_orientation(o);
    }
    let swapped = matches!(orientation, 5..=8);
    let (width, height) = if swapped { (sh, sw) } else { (sw, sh) };
    let pixels = image.into_rgb8();
    if pixels.width() < 2 || pixels.height() < 2 {
        return Err(DecodeError::TooSmall { width, height });
    }
    Ok(Decoded {
        info: ImageInfo { format, width, height, taken_at: exif.taken_at, orientation },
        pixels,
    })
}

/// Header-only look at a file: format, size and EXIF, without decoding pixels.
pub fn probe(bytes: &[u8]) -> Result<ImageInfo, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = sniff(bytes).ok_or_else(|| DecodeError::NotAnImage(describe_non_image(bytes)))?;
    let (w, h) = dimensions_hint(bytes, format).ok_or_else(|| DecodeError::Corrupt {
        format: format.as_str(),
        message: "unreadable header".into(),
    })?;
    let exif = read_exif(bytes);
    let orientation = orientation(format, &exif);
    let (width, height) = if matches!(orientation, 5..=8) { (h, w) } else { (w, h) };
    Ok(ImageInfo { format, width, height, taken_at: exif.taken_at, orientation })
}

fn describe_non_image(bytes: &[u8]) -> &'static str {
    let head = &bytes[..bytes.len().min(512)];
    let texty = head.iter().filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()).count();
    if texty * 10 >= head.len() * 9 {
        "the file holds text"
    } else {
        "unrecognised content"
    }
}

pub(crate) fn check_size(width: u64, height: u64) -> Result<(), DecodeError> {
    if width * height > MAX_PIXELS {
        return Err(DecodeError::TooLarge { width, height });
    }
    Ok(())
}

/// The EXIF orientation still to apply after decoding. HEIF files carry
/// their rotation and mirroring as `irot`/`imir` properties, which libheif
/// applies while decoding and which take precedence over EXIF by the
/// standard, so their EXIF orientation must not be applied a second time.
fn orientation(format: Format, exif: &Exif) -> u8 {
    if format.is_heif() {
        1
    } else {
        exif.orientation.unwrap_or(1)
    }
}

fn dimensions_hint(bytes: &[u8], format: Format) -> Option<(u32, u32)> {
    if format.is_heif() {
        return heif::dimensions(bytes);
    }
    ImageReader::with_format(Cursor::new(bytes), format.image_format()).into_dimensions().ok()
}

pub(crate) fn corrupt(format: Format, e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt { format: format.as_str(), message: e.to_string() }
}

fn decode_jpeg(bytes: &[u8], min_short_side: u32) -> Result<RgbImage, DecodeError> {
    let mut decompressor = turbojpeg::Decompressor::new().map_err(|e| corrupt(Format::Jpeg, e))?;
    let header = decompressor.read_header(bytes).map_err(|e| corrupt(Format::Jpeg, e))?;
    check_size(header.width as u64, header.height as u64)?;
    // The smallest DCT scale (1/8, 1/4, 3/8, 1/2 ... 1) that keeps the short
    // side >= min_short_side: a 12 MP photo decodes straight to 1/8 size,
    // skipping most of the inverse DCT and all the full-size pixels.
    let short = header.width.min(header.height).max(1);
    let want = (min_short_side.max(1) as usize).min(short);
    let scale = turbojpeg::Decompressor::supported_scaling_factors()
        .iter()
        .copied()
        .filter(|f| f.num() <= f.denom() && f.scale(short) >= want)
        .min_by_key(|f| f.scale(short))
        .unwrap_or(turbojpeg::ScalingFactor::ONE);
    decompressor.set_scaling_factor(scale).map_err(|e| corrupt(Format::Jpeg, e))?;
    let (w, h) = (scale.scale(header.width), scale.scale(header.height));
    let cmyk = matches!(header.colorspace, turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK);
    let format = if cmyk { turbojpeg::PixelFormat::CMYK } else { turbojpeg::PixelFormat::RGB };
    let channels = format.size();
    let mut image = turbojpeg::Image { pixels: vec![0u8; channels * w * h], width: w, pitch: channels * w, height: h, format };
    decompressor.decompress(bytes, image.as_deref_mut()).map_err(|e| corrupt(Format::Jpeg, e))?;
    let rgb = if cmyk {
        image
            .pixels
            .chunks_exact(4)
            .flat_map(|c| {
                // Adobe CMYK JPEGs store inverted values: each channel is already 255 - ink.
                let k = c[3] as u32;
                [(c[0] as u32 * k / 255) as u8, (c[1] as u32 * k / 255) as u8, (c[2] as u32 * k / 255) as u8]
            })
            .collect()
    } else {
        image.pixels
    };
    RgbImage::from_raw(w as u32, h as u32, rgb).ok_or_else(|| corrupt(Format::Jpeg, "bad pixel buffer"))
}

fn decode_generic(bytes: &[u8], format: Format) -> Result<RgbImage, DecodeError> {
    let (w, h) = dimensions_hint(bytes, format).ok_or_else(|| corrupt(format, "unreadable header"))?;
    check_size(w as u64, h as u64)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| corrupt(format, e))?;
    Ok(flatten_alpha(image))
}

/// Transparent pixels are composed over white, as a viewer shows them.
pub(crate) fn flatten_alpha(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = p[3] as u32;
        for c in 0..3 {
            o[c] = ((p[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    out
}

#[derive(Default)]
struct Exif {
    orientation: Option<u8>,
    taken_at: Option<i64>,
}

fn read_exif(bytes: &[u8]) -> Exif {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return Exif::default();
    };
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .filter(|v| (1..=8).contains(v))
        .map(|v| v as u8);
    let taken_at = [exif::Tag::DateTimeOriginal, exif::Tag::DateTimeDigitized, exif::Tag::DateTime]
        .iter()
        .find_map(|tag| {
            let field = exif.get_field(*tag, exif::In::PRIMARY)?;
            let exif::Value::Ascii(ref parts) = field.value else { return None };
            let dt = exif::DateTime::from_ascii(parts.first()?).ok()?;
            epoch_seconds(dt.year as i64, dt.month as i64, dt.day as i64, dt.hour, dt.minute, dt.second)
        });
    Exif { orientation, taken_at }
}

/// Seconds since 1970-01-01 for a civil date and time (proleptic Gregorian).
pub fn epoch_seconds(y: i64, m: i64, d: i64, hh: u8, mm: u8, ss: u8) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y < 1800 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + hh as i64 * 3600 + mm as i64 * 60 + ss as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_matches_known_dates() {
        assert_eq!(epoch_seconds(1970, 1, 1, 0, 0, 0), Some(0));
        assert_eq!(epoch_seconds(2000, 3, 1, 0, 0, 0), Some(951_868_800));
        assert_eq!(epoch_seconds(2024, 2, 29, 12, 30, 15), Some(1_709_209_815));
    }

    #[test]
    fn sniffing_ignores_names_and_rejects_text() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n0000"), Some(Format::Png));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0"), Some(Format::Jpeg));
        assert_eq!(sniff(b"hello, I am text"), None);
        assert_eq!(decode(b"hello, I am text, not a photo", 224).err(), Some(DecodeError::NotAnImage("the file holds text")));
        assert_eq!(decode(b"", 224).err(), Some(DecodeError::Empty));
    }
}
