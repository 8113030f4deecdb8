//! Camera RAW files (DNG, CR2, CR3, NEF, ARW, ORF, RAF, RW2, PEF, ...)
//! through LibRaw, by way of the small C shim in `csrc/raw_shim.c`.
//!
//! Nearly every RAW carries a JPEG the camera made of it. Where that preview
//! is large enough for what is asked, it is what gets decoded: it is a JPEG,
//! so libjpeg-turbo's DCT scaling applies, and no demosaicing is needed.
//! Otherwise LibRaw develops the sensor data with the camera's white balance
//! (at half size when that still gives enough pixels). Either way the
//! picture is turned upright by the RAW's own orientation, not by the
//! preview's.

use std::ffi::{c_char, c_int, c_longlong, c_uchar, c_void, CStr};

use image::RgbImage;

use super::{corrupt, jpeg, DecodeError, Format, Need};

#[repr(C)]
struct Info {
    width: c_int,
    height: c_int,
    flip: c_int,
    timestamp: c_longlong,
    make: [c_char; 64],
    model: [c_char; 64],
    lens: [c_char; 128],
}

#[repr(C)]
struct Processed {
    _private: [u8; 0],
}

extern "C" {
    fn pf_raw_open(bytes: *const c_void, len: usize, err: *mut c_int) -> *mut c_void;
    fn pf_raw_info_of(raw: *mut c_void, out: *mut Info);
    fn pf_raw_preview(raw: *mut c_void, data: *mut *const c_uchar, len: *mut usize, w: *mut c_int, h: *mut c_int) -> c_int;
    fn pf_raw_develop(raw: *mut c_void, half_size: c_int, err: *mut c_int) -> *mut Processed;
    fn pf_raw_pixels(image: *mut Processed, w: *mut c_int, h: *mut c_int, colors: *mut c_int, bits: *mut c_int) -> *const c_uchar;
    fn pf_raw_free(image: *mut Processed);
    fn pf_raw_close(raw: *mut c_void);
    fn pf_raw_strerror(err: c_int) -> *const c_char;
}

/// LibRaw's error codes that mean "a file of a kind LibRaw does not know".
const FILE_UNSUPPORTED: c_int = -2;

fn message(err: c_int) -> String {
    // SAFETY: libraw_strerror returns a static C string for any code.
    unsafe { CStr::from_ptr(pf_raw_strerror(err)) }.to_string_lossy().into_owned()
}

/// What a RAW file says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawInfo {
    /// The developed picture's size, upright.
    pub width: u32,
    pub height: u32,
    /// The EXIF orientation (1..=8) equivalent to the RAW's own.
    pub orientation: u8,
    /// Capture time as the camera's clock showed it, as seconds since the
    /// epoch read as UTC (what the rest of the catalog stores).
    pub taken_at: Option<i64>,
    pub camera: Option<String>,
    pub lens: Option<String>,
}

/// An open RAW file; closed on drop.
struct Raw {
    handle: *mut c_void,
}

impl Raw {
    fn open(bytes: &[u8]) -> Result<Raw, DecodeError> {
        let mut err = 0;
        // SAFETY: LibRaw reads `bytes` only while the handle lives, and the
        // handle never outlives this borrow (it is dropped in this module).
        let handle = unsafe { pf_raw_open(bytes.as_ptr().cast(), bytes.len(), &mut err) };
        if handle.is_null() {
            return Err(if err == FILE_UNSUPPORTED {
                DecodeError::Unsupported("raw: a camera format LibRaw does not read".into())
            } else {
                corrupt(Format::Raw, message(err))
            });
        }
        Ok(Raw { handle })
    }

    fn info(&self) -> RawInfo {
        let mut info = std::mem::MaybeUninit::<Info>::zeroed();
        // SAFETY: the shim fills every field of the struct it is given.
        let info = unsafe {
            pf_raw_info_of(self.handle, info.as_mut_ptr());
            info.assume_init()
        };
        let text = |chars: &[c_char]| {
            // SAFETY: the shim NUL-terminates every string field.
            let s = unsafe { CStr::from_ptr(chars.as_ptr()) }.to_string_lossy().trim().to_string();
            (!s.is_empty()).then_some(s)
        };
        let orientation = match info.flip {
            3 => 3,
            5 => 8,
            6 => 6,
            _ => 1,
        };
        let (w, h) = (info.width.max(0) as u32, info.height.max(0) as u32);
        let (width, height) = if matches!(orientation, 5..=8) { (h, w) } else { (w, h) };
        let camera = super::camera_name(text(&info.make), text(&info.model));
        RawInfo { width, height, orientation, taken_at: camera_clock(info.timestamp), camera, lens: text(&info.lens) }
    }

    /// The embedded preview, if it is a JPEG or an RGB bitmap.
    fn preview(&self) -> Option<Preview<'_>> {
        let (mut data, mut len, mut w, mut h) = (std::ptr::null(), 0usize, 0, 0);
        // SAFETY: the preview's bytes stay valid until the handle is closed,
        // which the returned borrow of `self` guarantees.
        let kind = unsafe { pf_raw_preview(self.handle, &mut data, &mut len, &mut w, &mut h) };
        if data.is_null() || len == 0 {
            return None;
        }
        let bytes = unsafe { std::slice::from_raw_parts(data, len) };
        match kind {
            1 => Some(Preview::Jpeg(bytes)),
            2 if w > 0 && h > 0 && len >= w as usize * h as usize * 3 => Some(Preview::Rgb(w as u32, h as u32, bytes)),
            _ => None,
        }
    }

    /// The sensor data demosaiced to 8-bit RGB, upright.
    fn develop(&self, half_size: bool) -> Result<RgbImage, DecodeError> {
        let mut err = 0;
        // SAFETY: the processed image is LibRaw's allocation, copied out and
        // freed before returning.
        unsafe {
            let image = pf_raw_develop(self.handle, half_size as c_int, &mut err);
            if image.is_null() {
                return Err(corrupt(Format::Raw, message(err)));
            }
            let (mut w, mut h, mut colors, mut bits) = (0, 0, 0, 0);
            let data = pf_raw_pixels(image, &mut w, &mut h, &mut colors, &mut bits);
            let size = w as usize * h as usize * 3;
            let pixels = (colors == 3 && bits == 8 && !data.is_null()).then(|| std::slice::from_raw_parts(data, size).to_vec());
            pf_raw_free(image);
            let pixels = pixels.ok_or_else(|| DecodeError::Unsupported(format!("raw: {colors} colours of {bits} bits")))?;
            RgbImage::from_raw(w as u32, h as u32, pixels).ok_or_else(|| corrupt(Format::Raw, "bad pixel buffer"))
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: opened by pf_raw_open, closed once.
        unsafe { pf_raw_close(self.handle) }
    }
}

enum Preview<'a> {
    Jpeg(&'a [u8]),
    Rgb(u32, u32, &'a [u8]),
}

/// LibRaw turns the EXIF date into seconds with `mktime`, i.e. as local
/// time; the catalog stores the camera's clock read as UTC, so the local
/// offset is taken back out.
fn camera_clock(timestamp: i64) -> Option<i64> {
    if timestamp <= 0 {
        return None;
    }
    let t = timestamp as libc::time_t;
    let mut tm = std::mem::MaybeUninit::<libc::tm>::zeroed();
    // SAFETY: localtime_r writes the struct it is given and keeps no pointer.
    let tm = unsafe {
        if libc::localtime_r(&t, tm.as_mut_ptr()).is_null() {
            return None;
        }
        tm.assume_init()
    };
    super::epoch_seconds(
        tm.tm_year as i64 + 1900,
        tm.tm_mon as i64 + 1,
        tm.tm_mday as i64,
        tm.tm_hour as u8,
        tm.tm_min as u8,
        tm.tm_sec as u8,
    )
}

/// Whether the first bytes are a camera RAW that no other decoder here
/// reads: the formats with signatures of their own, and TIFF-structured
/// files that say they are DNG or come from a camera's RAW writer (see
/// `is_tiff_raw`).
pub(super) fn sniff(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(16)];
    head.starts_with(b"FUJIFILMCCD-RAW")
        || (head.len() >= 12 && &head[4..12] == b"ftypcrx ")
        || head.starts_with(b"IIRO")
        || head.starts_with(b"IIRS")
        || head.starts_with(b"MMOR")
        || head.starts_with(b"IIU\0")
        || (head.len() >= 10 && (head.starts_with(b"II*\0") && &head[8..10] == b"CR"))
        || is_tiff_raw(bytes)
}

/// TIFF-structured RAWs (DNG, NEF, ARW, PEF, SRW, ...): the first directory
/// holds a DNGVersion tag, or names a camera maker and points to
/// sub-directories (where those formats keep the sensor data). A TIFF an
/// editor exported keeps the camera's make but has no sub-directories.
fn is_tiff_raw(bytes: &[u8]) -> bool {
    let tags = tiff_tags(bytes);
    let has = |tag: u16| tags.contains(&tag);
    has(0xC612) || (has(0x010F) && has(0x014A))
}

/// The tag numbers of a TIFF file's first directory (empty if it is none).
fn tiff_tags(bytes: &[u8]) -> Vec<u16> {
    let little = match bytes.get(..4) {
        Some(b"II*\0") => true,
        Some(b"MM\0*") => false,
        _ => return Vec::new(),
    };
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| if little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) });
    let u32_at = |at: usize| {
        bytes.get(at..at + 4).map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) }
        })
    };
    let Some(ifd) = u32_at(4).map(|o| o as usize) else { return Vec::new() };
    let count = u16_at(ifd).unwrap_or(0) as usize;
    (0..count.min(512)).map_while(|i| u16_at(ifd + 2 + i * 12)).collect()
}

pub(super) fn probe(bytes: &[u8]) -> Result<RawInfo, DecodeError> {
    Ok(Raw::open(bytes)?.info())
}

/// Decode a RAW for `need`: its preview where that is large enough (and
/// `need` allows one), else its sensor data developed. Returns the pixels,
/// still to be turned by `RawInfo::orientation`, and whether they are the
/// preview.
pub(super) fn decode(bytes: &[u8], need: Need) -> Result<(RawInfo, RgbImage, bool), DecodeError> {
    let raw = Raw::open(bytes)?;
    let info = raw.info();
    super::check_size(info.width as u64, info.height as u64)?;
    if let Some(least) = need.preview {
        if let Some(pixels) = raw.preview().and_then(|p| preview_pixels(p, least, need.short_side)) {
            return Ok((info, pixels, true));
        }
    }
    // Half size is a 2x2 block of the sensor per pixel: enough wherever the
    // caller needs at most half the picture.
    let half = need.short_side > 0 && need.short_side * 2 <= info.width.min(info.height);
    let pixels = raw.develop(half)?;
    // LibRaw's developed image is already upright.
    Ok((RawInfo { orientation: 1, ..info }, pixels, false))
}

/// The preview's pixels, unturned, if its shorter side is at least `least`.
fn preview_pixels(preview: Preview<'_>, least: u32, short_side: u32) -> Option<RgbImage> {
    let pixels = match preview {
        Preview::Jpeg(bytes) => jpeg::decode(bytes, short_side.max(least)).ok()?.pixels,
        Preview::Rgb(w, h, bytes) => RgbImage::from_raw(w, h, bytes[..(w * h * 3) as usize].to_vec())?,
    };
    (pixels.width().min(pixels.height()) >= least).then_some(pixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_signatures_and_tiff_raws_are_told_from_plain_tiffs() {
        assert!(sniff(b"FUJIFILMCCD-RAW 0201FF383501"));
        assert!(sniff(b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom"));
        assert!(sniff(b"IIRO\x08\0\0\0"));
        assert!(sniff(b"II*\0\x10\0\0\0CR\x02\0"));
        // A little-endian TIFF whose first directory holds `tags`.
        let tiff = |tags: &[u16]| {
            let mut b = b"II*\0\x08\0\0\0".to_vec();
            b.extend((tags.len() as u16).to_le_bytes());
            for t in tags {
                b.extend(t.to_le_bytes());
                b.extend([3, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
            }
            b.extend([0; 4]);
            b
        };
        assert!(sniff(&tiff(&[0x0100, 0x0101, 0xC612])), "DNG");
        assert!(sniff(&tiff(&[0x0100, 0x010F, 0x014A])), "a camera's TIFF-structured RAW");
        assert!(!sniff(&tiff(&[0x0100, 0x0101, 0x010F])), "an exported TIFF that names its camera");
        assert!(!sniff(b"II*\0\xff\xff\xff\xff"), "a directory offset out of the file");
    }

    #[test]
    fn a_file_libraw_does_not_know_is_unsupported_not_a_crash() {
        match probe(b"II*\0\x08\0\0\0\0\0\0\0\0\0") {
            Err(DecodeError::Unsupported(_) | DecodeError::Corrupt { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
