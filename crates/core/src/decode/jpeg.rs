//! JPEG through libjpeg-turbo, tolerant as libjpeg's own tools are.
//!
//! The `turbojpeg` crate turns every non-zero return into an error, but
//! libjpeg-turbo also returns -1 for *warnings* ("N extraneous bytes before
//! marker", "bad ICC marker", "premature end of data segment") after it has
//! decoded all it could, exactly as `djpeg` does when it prints the warning
//! and writes the picture. Telling the two apart needs `tj3GetErrorCode`,
//! which the crate does not expose, so this module drives the TurboJPEG 3 API
//! (the same library the crate builds) through its raw bindings.

use std::ffi::CStr;

use image::RgbImage;
use turbojpeg::raw;

use super::{check_size, corrupt, DecodeError, Format};

/// A progressive JPEG may hold any number of scans, each a full pass over the
/// picture: fuzzer-made files use that to take minutes. Real cameras and
/// encoders write fewer than 20; libjpeg-turbo's own fuzzers stop at 500.
const SCAN_LIMIT: i32 = 500;

/// Pixels as decoded, and the warning libjpeg-turbo gave while decoding them.
pub(super) struct Jpeg {
    pub pixels: RgbImage,
    /// The picture's full size, before DCT scaling.
    pub source_size: Option<(u32, u32)>,
    pub warning: Option<String>,
}

struct Handle(raw::tjhandle);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tj3Init and is destroyed once.
        unsafe { raw::tj3Destroy(self.0) }
    }
}

enum Outcome {
    Ok,
    Warning(String),
}

impl Handle {
    fn new() -> Result<Handle, DecodeError> {
        // SAFETY: plain constructor; null on failure.
        let handle = unsafe { raw::tj3Init(raw::TJINIT_TJINIT_DECOMPRESS as libc::c_int) };
        if handle.is_null() {
            return Err(corrupt(Format::Jpeg, "libjpeg-turbo could not start"));
        }
        Ok(Handle(handle))
    }

    fn message(&self) -> String {
        // SAFETY: the string is owned by the handle and valid until its next call.
        unsafe { CStr::from_ptr(raw::tj3GetErrorStr(self.0)) }.to_string_lossy().into_owned()
    }

    /// A return value of libjpeg-turbo: fine, a warning, or a fatal error.
    fn check(&self, status: libc::c_int) -> Result<Outcome, DecodeError> {
        if status == 0 {
            return Ok(Outcome::Ok);
        }
        // SAFETY: valid handle.
        let code = unsafe { raw::tj3GetErrorCode(self.0) };
        if code == raw::TJERR_TJERR_WARNING as libc::c_int {
            Ok(Outcome::Warning(self.message()))
        } else {
            Err(corrupt(Format::Jpeg, self.message()))
        }
    }

    fn get(&self, param: raw::TJPARAM) -> i32 {
        // SAFETY: valid handle; unknown parameters answer -1.
        unsafe { raw::tj3Get(self.0, param as libc::c_int) }
    }

    fn set(&self, param: raw::TJPARAM, value: i32) {
        // SAFETY: valid handle; a refused value leaves the default in place.
        unsafe { raw::tj3Set(self.0, param as libc::c_int, value) };
    }
}

/// Decode `bytes` at the smallest DCT scale (1/8, 1/4, 3/8, 1/2 ... 1) that
/// keeps the short side >= `min_short_side`: a 12 MP photo decodes straight
/// to 1/8 size, skipping most of the inverse DCT and all full-size pixels.
pub(super) fn decode(bytes: &[u8], min_short_side: u32) -> Result<Jpeg, DecodeError> {
    let handle = Handle::new()?;
    handle.set(raw::TJPARAM_TJPARAM_SCANLIMIT, SCAN_LIMIT);
    // SAFETY: `bytes` outlives the call; the header is read into the handle.
    let status = unsafe { raw::tj3DecompressHeader(handle.0, bytes.as_ptr(), bytes.len() as raw::size_t) };
    let mut warning = match handle.check(status)? {
        Outcome::Ok => None,
        Outcome::Warning(w) => Some(w),
    };
    let (width, height) = (handle.get(raw::TJPARAM_TJPARAM_JPEGWIDTH), handle.get(raw::TJPARAM_TJPARAM_JPEGHEIGHT));
    if width <= 0 || height <= 0 {
        return Err(corrupt(Format::Jpeg, warning.unwrap_or_else(|| "no picture size in the header".into())));
    }
    check_size(width as u64, height as u64)?;

    let short = width.min(height) as usize;
    let want = (min_short_side.max(1) as usize).min(short);
    let scale = turbojpeg::Decompressor::supported_scaling_factors()
        .iter()
        .copied()
        .filter(|f| f.num() <= f.denom() && f.scale(short) >= want)
        .min_by_key(|f| f.scale(short))
        .unwrap_or(turbojpeg::ScalingFactor::ONE);
    let factor = raw::tjscalingfactor { num: scale.num() as libc::c_int, denom: scale.denom() as libc::c_int };
    // SAFETY: valid handle; the factor is one libjpeg-turbo listed.
    handle.check(unsafe { raw::tj3SetScalingFactor(handle.0, factor) })?;
    let (w, h) = (scale.scale(width as usize), scale.scale(height as usize));

    let colorspace = handle.get(raw::TJPARAM_TJPARAM_COLORSPACE);
    let cmyk = colorspace == raw::TJCS_TJCS_CMYK as i32 || colorspace == raw::TJCS_TJCS_YCCK as i32;
    let (pixel_format, channels) = if cmyk { (raw::TJPF_TJPF_CMYK, 4) } else { (raw::TJPF_TJPF_RGB, 3) };
    let mut pixels = vec![0u8; channels * w * h];
    // SAFETY: `pixels` holds exactly pitch * h bytes for the scaled size the
    // handle was given; libjpeg-turbo writes no more than that.
    let status = unsafe {
        raw::tj3Decompress8(
            handle.0,
            bytes.as_ptr(),
            bytes.len() as raw::size_t,
            pixels.as_mut_ptr(),
            (channels * w) as libc::c_int,
            pixel_format as libc::c_int,
        )
    };
    if let Outcome::Warning(w) = handle.check(status)? {
        warning = Some(w);
    }
    let rgb = if cmyk {
        pixels
            .chunks_exact(4)
            .flat_map(|c| {
                // Adobe CMYK JPEGs store inverted values: each channel is already 255 - ink.
                let k = c[3] as u32;
                [(c[0] as u32 * k / 255) as u8, (c[1] as u32 * k / 255) as u8, (c[2] as u32 * k / 255) as u8]
            })
            .collect()
    } else {
        pixels
    };
    let pixels = RgbImage::from_raw(w as u32, h as u32, rgb).ok_or_else(|| corrupt(Format::Jpeg, "bad pixel buffer"))?;
    Ok(Jpeg { pixels, source_size: Some((width as u32, height as u32)), warning })
}
