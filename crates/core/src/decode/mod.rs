//! Turning image files into pixels: content sniffing, EXIF, bounded decoding.
//!
//! Decoding is the expensive half of indexing, so it never produces more
//! pixels than the model and the thumbnail need: JPEGs are decoded by libjpeg-turbo with
//! DCT scaling (1/8, 1/4, 1/2 ... of full size straight out of the decoder).
//!
//! Knows nothing of the library: bytes in, pixels (or a reason) out.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits, RgbImage};

mod contain;
mod heif;
mod jpeg;
mod jxl;
mod planar;
mod raw;
use raw::RawInfo;
use serde::{Deserialize, Serialize};

/// Changes whenever this module learns to read files it could not before
/// (or reads them differently): files recorded as broken or unsupported by an
/// older version are then tried again by the next index.
pub const DECODER_VERSION: &str = "3";

/// Images above this many pixels are refused instead of decoded: a
/// decompression bomb of 50000 x 50000 would need 7.5 GB as RGB.
pub const MAX_PIXELS: u64 = 200_000_000;
/// Memory the non-JPEG decoders may allocate for one image.
pub(crate) const MAX_ALLOC: u64 = 1 << 30;

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
    /// JPEG XL.
    Jxl,
    /// A camera RAW (DNG, CR2, CR3, NEF, ARW, ORF, RAF, RW2, ...), read by LibRaw.
    Raw,
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
            Format::Jxl => "jxl",
            Format::Raw => "raw",
        }
    }

    /// The MIME type of formats that web views show as they are; `None` for
    /// those (HEIC, AVIF, TIFF, JPEG XL) that have to be shown as a JPEG made from them.
    pub fn web_mime(self) -> Option<&'static str> {
        Some(match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
            Format::Bmp => "image/bmp",
            Format::Tiff | Format::Heic | Format::Avif | Format::Jxl | Format::Raw => return None,
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
            "jxl" => Format::Jxl,
            "raw" => Format::Raw,
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
            Format::Heic | Format::Avif | Format::Jxl | Format::Raw => {
                unreachable!("decoded by libheif, jxl-oxide or LibRaw, never the image crate")
            }
        }
    }
}

/// File name extensions that announce an image. Files with these are
/// catalogued even when their content turns out not to be one, so that the
/// user sees why they were skipped.
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "png", "webp", "gif", "bmp", "tif", "tiff", "heic", "heif", "hif", "avif", "jxl",
    // Camera RAWs, as LibRaw reads them.
    "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "orf", "raf", "rw2", "rwl", "pef", "srw", "erf",
    "3fr", "iiq", "mos", "mef", "mrw", "x3f", "kdc", "dcr",
];

/// The RAW extensions among `IMAGE_EXTENSIONS`: a RAW beside a JPEG of
/// the same name is one photo taken once.
pub const RAW_EXTENSIONS: &[&str] = &[
    "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "orf", "raf", "rw2", "rwl", "pef", "srw", "erf",
    "3fr", "iiq", "mos", "mef", "mrw", "x3f", "kdc", "dcr",
];

pub fn has_image_extension(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The image format the first bytes of a file announce, whatever its name says.
pub fn sniff(head: &[u8]) -> Option<Format> {
    // Before HEIF (CR3 is ISO-BMFF) and TIFF (most RAWs are TIFF-structured).
    if raw::sniff(head) {
        return Some(Format::Raw);
    }
    if let Some(format) = heif::sniff(head) {
        return Some(format);
    }
    if jxl::sniff(head) {
        return Some(Format::Jxl);
    }
    // BigTIFF (64-bit offsets, for files over 4 GB and scanners' output):
    // the tiff crate reads it, but the image crate's sniffer knows only classic TIFF.
    if head.starts_with(b"II+\0") || head.starts_with(b"MM\0+") {
        return Some(Format::Tiff);
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
    /// A valid file using a feature no decoder here implements: distinct from
    /// a broken file, which no program could show either.
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("image is {width}x{height} pixels, above the limit of {} megapixels", MAX_PIXELS / 1_000_000)]
    TooLarge { width: u64, height: u64 },
    #[error("not a photo: {width}x{height} pixels")]
    TooSmall { width: u32, height: u32 },
    #[error("corrupt or truncated {format} image: {message}")]
    Corrupt { format: &'static str, message: String },
    /// The decoder panicked on this file: contained, and the file recorded.
    #[error("the {format} decoder failed on this file: {message}")]
    Crashed { format: &'static str, message: String },
}

impl DecodeError {
    /// Valid as far as anyone can tell, but not readable here (as opposed to broken).
    pub fn is_unsupported(&self) -> bool {
        // Too many pixels is a limit of ours, not a fault of the file.
        matches!(self, DecodeError::Unsupported(_) | DecodeError::TooLarge { .. })
    }
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
    /// The camera's make and model ("NIKON D850"), as the file names them.
    #[serde(default)]
    pub camera: Option<String>,
    /// The lens, where the file names it.
    #[serde(default)]
    pub lens: Option<String>,
    /// A motion photo (Android's, Samsung's): the JPEG carries a short MP4
    /// of the moment after its picture.
    #[serde(default)]
    pub motion: bool,
}

/// An image decoded at (at least) the size asked for, upright.
pub struct Decoded {
    pub info: ImageInfo,
    pub pixels: RgbImage,
    /// What the decoder recovered from ("2 extraneous bytes before marker
    /// 0xd9"): the picture is shown, as other viewers show it, and the
    /// report says what was wrong.
    pub warning: Option<String>,
    /// The pixels are a preview the file carries (see `Need::preview`),
    /// not its full picture.
    pub from_preview: bool,
}

/// How much of the picture a caller needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The shorter side to decode at, at least, where the source allows.
    pub short_side: u32,
    /// A preview the file itself carries (a HEIC's thumbnail item) will do
    /// instead of the full picture when its shorter side is at least this.
    /// `None`: always the full picture (previews, region searches).
    pub preview: Option<u32>,
}

impl Need {
    /// The full picture, its shorter side at least `short_side`.
    pub fn full(short_side: u32) -> Need {
        Need { short_side, preview: None }
    }
}

/// Decode `bytes` so that the shorter side of the result is at least
/// `min_short_side` where the source allows, using the cheapest decoder path.
///
/// Whatever a decoder does on a hostile file (a panic included) ends here as
/// a `DecodeError` for this one file.
pub fn decode(bytes: &[u8], min_short_side: u32) -> Result<Decoded, DecodeError> {
    decode_for(bytes, Need::full(min_short_side))
}

/// Decode `bytes` for `need`: like `decode`, but a preview the file
/// carries is taken where `need` allows it.
pub fn decode_for(bytes: &[u8], need: Need) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = sniff(bytes).ok_or_else(|| DecodeError::NotAnImage(describe_non_image(bytes)))?;
    contain::contained(format, || decode_as(bytes, format, need))
}

fn decode_as(bytes: &[u8], format: Format, need: Need) -> Result<Decoded, DecodeError> {
    let mut exif = read_exif(bytes);
    let mut orientation = orientation(format, &exif);

    let mut warning = None;
    let mut source_size = None;
    let mut from_preview = false;
    let pixels = match format {
        Format::Jpeg => {
            let jpeg = decode_jpeg(bytes, need.short_side)?;
            warning = jpeg.warning;
            source_size = jpeg.source_size;
            jpeg.pixels
        }
        Format::Heic | Format::Avif => {
            let (pixels, preview) = heif::decode(bytes, format, need.preview)?;
            from_preview = preview;
            pixels
        }
        Format::Jxl => jxl::decode(bytes)?,
        Format::Raw => {
            let (raw, pixels, preview) = raw::decode(bytes, need)?;
            from_preview = preview;
            orientation = raw.orientation;
            source_size = Some(if matches!(raw.orientation, 5..=8) { (raw.height, raw.width) } else { (raw.width, raw.height) });
            exif.fill_from(&raw);
            pixels
        }
        _ => decode_generic(bytes, format)?,
    };
    let (sw, sh) = source_size.or_else(|| dimensions_hint(bytes, format)).unwrap_or((pixels.width(), pixels.height()));
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
        info: ImageInfo { format, width, height, taken_at: exif.taken_at, orientation, camera: exif.camera, lens: exif.lens, motion: is_motion_photo(format, bytes) },
        pixels,
        warning,
        from_preview,
    })
}

/// Header-only look at a file: format, size and EXIF, without decoding pixels.
pub fn probe(bytes: &[u8]) -> Result<ImageInfo, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = sniff(bytes).ok_or_else(|| DecodeError::NotAnImage(describe_non_image(bytes)))?;
    contain::contained(format, || probe_as(bytes, format))
}

fn probe_as(bytes: &[u8], format: Format) -> Result<ImageInfo, DecodeError> {
    let mut exif = read_exif(bytes);
    if format == Format::Raw {
        let raw = raw::probe(bytes)?;
        exif.fill_from(&raw);
        let RawInfo { width, height, orientation, .. } = raw;
        let (camera, lens) = (exif.camera, exif.lens);
        return Ok(ImageInfo { format, width, height, taken_at: exif.taken_at, orientation, camera, lens, motion: false });
    }
    let (w, h) = dimensions_of(bytes, format)?;
    let orientation = orientation(format, &exif);
    let (width, height) = if matches!(orientation, 5..=8) { (h, w) } else { (w, h) };
    let motion = is_motion_photo(format, bytes);
    Ok(ImageInfo { format, width, height, taken_at: exif.taken_at, orientation, camera: exif.camera, lens: exif.lens, motion })
}

/// Whether a JPEG says in its XMP that it is a motion photo (Google's
/// `MotionPhoto` or the older `MicroVideo`, both of which Samsung writes
/// too) and an MP4 does follow its picture.
fn is_motion_photo(format: Format, bytes: &[u8]) -> bool {
    if format != Format::Jpeg {
        return false;
    }
    // The XMP packet sits in an APP1 segment near the start.
    let head = &bytes[..bytes.len().min(256 << 10)];
    let says = [&b"MotionPhoto=\"1\""[..], b"MicroVideo=\"1\"", b"<GCamera:MotionPhoto>1<"]
        .iter()
        .any(|flag| head.windows(flag.len()).any(|w| w == *flag));
    // An MP4's `ftyp` box after the picture: the video really is there.
    says && motion_video_start(bytes).is_some()
}

/// Where the MP4 of a motion photo starts in its bytes: at the first `ftyp`
/// box (a 4-byte big-endian size of 8 to 256, then `ftyp` and an ASCII
/// brand). Google's and Samsung's writers append the video after the JPEG.
pub fn motion_video_start(bytes: &[u8]) -> Option<usize> {
    bytes.windows(12).enumerate().skip(2).find_map(|(at, w)| {
        let size = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        let is_box = &w[4..8] == b"ftyp" && (8..=256).contains(&size) && w[8..12].iter().all(|b| b.is_ascii_graphic() || *b == b' ');
        is_box.then_some(at)
    })
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
/// JPEG XL's codestream orientation, which jxl-oxide applies, likewise wins.
fn orientation(format: Format, exif: &Exif) -> u8 {
    if format.is_heif() || format == Format::Jxl {
        1
    } else {
        exif.orientation.unwrap_or(1)
    }
}

fn dimensions_hint(bytes: &[u8], format: Format) -> Option<(u32, u32)> {
    if format.is_heif() {
        return heif::dimensions(bytes);
    }
    if format == Format::Jxl {
        return jxl::dimensions(bytes);
    }
    ImageReader::with_format(Cursor::new(bytes), format.image_format()).into_dimensions().ok()
}

/// The header's pixel size, or why it cannot be read.
fn dimensions_of(bytes: &[u8], format: Format) -> Result<(u32, u32), DecodeError> {
    if format.is_heif() {
        return heif::dimensions(bytes).ok_or_else(|| corrupt(format, "unreadable header"));
    }
    if format == Format::Jxl {
        return jxl::dimensions(bytes).ok_or_else(|| corrupt(format, "unreadable header"));
    }
    ImageReader::with_format(Cursor::new(bytes), format.image_format()).into_dimensions().map_err(|e| match e {
        image::ImageError::Unsupported(_) => image_error(format, e),
        e => corrupt(format, format!("unreadable header: {e}")),
    })
}

pub(crate) fn corrupt(format: Format, e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt { format: format.as_str(), message: e.to_string() }
}

/// libjpeg-turbo first, recovering from its warnings; where it gives up,
/// zune-jpeg (through the image crate), which accepts some files turbo refuses.
fn decode_jpeg(bytes: &[u8], min_short_side: u32) -> Result<jpeg::Jpeg, DecodeError> {
    match jpeg::decode(bytes, min_short_side) {
        Ok(decoded) => Ok(decoded),
        Err(e @ DecodeError::TooLarge { .. }) => Err(e),
        Err(turbo) => match decode_generic(bytes, Format::Jpeg) {
            Ok(pixels) => Ok(jpeg::Jpeg {
                source_size: Some(pixels.dimensions()),
                pixels,
                warning: Some(format!("libjpeg-turbo: {turbo}; read by zune-jpeg")),
            }),
            Err(_) => Err(turbo),
        },
    }
}

fn decode_generic(bytes: &[u8], format: Format) -> Result<RgbImage, DecodeError> {
    if format == Format::Tiff && planar::is_planar(bytes) {
        return planar::decode(bytes);
    }
    let (w, h) = dimensions_of(bytes, format)?;
    check_size(w as u64, h as u64)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| image_error(format, e))?;
    Ok(flatten_alpha(image))
}

/// The image crate's errors in the user's terms: a feature it lacks is
/// "unsupported", anything else about the content is "corrupt".
fn image_error(format: Format, e: image::ImageError) -> DecodeError {
    match e {
        image::ImageError::Unsupported(u) => DecodeError::Unsupported(format!("{} {}", format.as_str(), unsupported_feature(&u))),
        image::ImageError::Limits(l) => corrupt(format, format!("needs more memory than allowed ({l})")),
        other => corrupt(format, other),
    }
}

fn unsupported_feature(u: &image::error::UnsupportedError) -> String {
    match u.kind() {
        // The tiff crate names colour layouts it has no type for by their bits per pixel.
        image::error::UnsupportedErrorKind::Color(image::ExtendedColorType::Unknown(bits)) => format!("{bits}-bit pixels"),
        image::error::UnsupportedErrorKind::Color(c) => format!("colour type {c:?}"),
        image::error::UnsupportedErrorKind::GenericFeature(f) => f,
        _ => u.to_string(),
    }
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
    camera: Option<String>,
    lens: Option<String>,
}

impl Exif {
    /// What LibRaw read where EXIF said nothing (CR3 and RAF keep no TIFF EXIF).
    fn fill_from(&mut self, raw: &RawInfo) {
        self.taken_at = self.taken_at.or(raw.taken_at);
        self.camera = self.camera.take().or_else(|| raw.camera.clone());
        self.lens = self.lens.take().or_else(|| raw.lens.clone());
    }
}

fn read_exif(bytes: &[u8]) -> Exif {
    let read = if jxl::sniff(bytes) {
        jxl::exif(bytes).ok_or(()).and_then(|raw| exif::Reader::new().read_raw(raw).map_err(|_| ()))
    } else {
        exif::Reader::new().read_from_container(&mut Cursor::new(bytes)).map_err(|_| ())
    };
    let Ok(exif) = read else {
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
    let text = |tag: exif::Tag, ifd: exif::In| {
        let field = exif.get_field(tag, ifd)?;
        let exif::Value::Ascii(ref parts) = field.value else { return None };
        exif_text(parts.first()?)
    };
    let camera = camera_name(text(exif::Tag::Make, exif::In::PRIMARY), text(exif::Tag::Model, exif::In::PRIMARY));
    let lens = text(exif::Tag::LensModel, exif::In::PRIMARY);
    Exif { orientation, taken_at, camera, lens }
}

/// An EXIF text field as a name to show: bytes that are no text (a make of
/// stray bytes, as some scanners write) are dropped, not shown as `�`.
fn exif_text(bytes: &[u8]) -> Option<String> {
    let s: String = String::from_utf8_lossy(bytes).chars().filter(|c| !c.is_control() && *c != '\u{FFFD}').collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// "Make Model", or the model alone where it repeats the make ("Canon" /
/// "Canon EOS R5", "NIKON CORPORATION" / "NIKON D850").
fn camera_name(make: Option<String>, model: Option<String>) -> Option<String> {
    let brand = |make: &str| make.split_whitespace().next().unwrap_or("").to_lowercase();
    match (make, model) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&brand(&make)) => Some(model),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model),
    }
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
    fn camera_names_leave_out_what_is_no_text() {
        assert_eq!(exif_text(b"\xff\x01"), None);
        assert_eq!(exif_text(b"\xffHP \0"), Some("HP".into()));
        let name = camera_name(exif_text(b"\xfe"), exif_text(b"Photosmart Plus B210 series\0"));
        assert_eq!(name.as_deref(), Some("Photosmart Plus B210 series"));
        assert_eq!(camera_name(exif_text(b"NIKON CORPORATION"), exif_text(b"NIKON D850")).as_deref(), Some("NIKON D850"));
    }

    #[test]
    fn epoch_matches_known_dates() {
        assert_eq!(epoch_seconds(1970, 1, 1, 0, 0, 0), Some(0));
        assert_eq!(epoch_seconds(2000, 3, 1, 0, 0, 0), Some(951_868_800));
        assert_eq!(epoch_seconds(2024, 2, 29, 12, 30, 15), Some(1_709_209_815));
    }

    #[test]
    fn bigtiff_is_read() {
        let (w, h) = (40u32, 30u32);
        let pixels: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        let mut file = std::io::Cursor::new(Vec::new());
        tiff::encoder::TiffEncoder::new_big(&mut file)
            .unwrap()
            .write_image::<tiff::encoder::colortype::RGB8>(w, h, &pixels)
            .unwrap();
        let bytes = file.into_inner();
        assert_eq!(&bytes[..4], b"II+\0", "a BigTIFF header");
        let decoded = decode(&bytes, 16).unwrap();
        assert_eq!((decoded.info.format, decoded.info.width, decoded.info.height), (Format::Tiff, w, h));
        assert_eq!(decoded.pixels.as_raw(), &pixels);
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
