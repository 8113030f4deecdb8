//! Planar TIFFs ("PlanarConfiguration = 2": all the reds, then all the greens,
//! then all the blues, each in its own strips or tiles), read chunk by chunk.
//!
//! The image crate reads TIFFs through `tiff::Decoder::read_image`, which
//! panics on tiled planar files (tiff 0.11.3: `assertion failed: buf.len() >=
//! layout.row_stride * ...` in `expand_chunk`) and mis-sizes planar ones in
//! general. Each chunk on its own decodes fine with `read_chunk` (which also
//! undoes compression and predictors), so this module asks for every chunk of
//! every plane and places its samples itself.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::ColorType;

use super::{check_size, corrupt, flatten_alpha, DecodeError, Format, MAX_ALLOC};

/// Whether the file is a planar TIFF (then `decode` reads it).
pub(super) fn is_planar(bytes: &[u8]) -> bool {
    let Ok(mut decoder) = Decoder::new(Cursor::new(bytes)) else { return false };
    matches!(decoder.find_tag_unsigned::<u16>(Tag::PlanarConfiguration), Ok(Some(2)))
}

fn tiff_error(e: tiff::TiffError) -> DecodeError {
    match e {
        tiff::TiffError::UnsupportedError(u) => DecodeError::Unsupported(format!("tiff {u}")),
        e => corrupt(Format::Tiff, e),
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    let mut limits = Limits::default();
    limits.decoding_buffer_size = MAX_ALLOC as usize;
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(tiff_error)?.with_limits(limits);
    let (width, height) = decoder.dimensions().map_err(tiff_error)?;
    check_size(width as u64, height as u64)?;
    let (planes, bits) = match decoder.colortype().map_err(tiff_error)? {
        ColorType::Gray(b) => (1, b),
        ColorType::GrayA(b) => (2, b),
        ColorType::RGB(b) => (3, b),
        ColorType::RGBA(b) => (4, b),
        other => return Err(DecodeError::Unsupported(format!("planar tiff {other:?}"))),
    };
    if bits != 8 && bits != 16 {
        return Err(DecodeError::Unsupported(format!("planar tiff with {bits}-bit samples")));
    }
    let (chunk_w, chunk_h) = decoder.chunk_dimensions();
    if chunk_w == 0 || chunk_h == 0 {
        return Err(corrupt(Format::Tiff, "zero-sized tiles or strips"));
    }
    let across = width.div_ceil(chunk_w);
    let per_plane = across * height.div_ceil(chunk_h);
    let (w, h) = (width as usize, height as usize);
    let mut samples = vec![0u8; w * h * planes];
    for plane in 0..planes {
        for chunk in 0..per_plane {
            let index = plane as u32 * per_plane + chunk;
            let data = decoder.read_chunk(index).map_err(tiff_error)?;
            let (data_w, data_h) = decoder.chunk_data_dimensions(index);
            let values: Vec<u8> = match data {
                DecodingResult::U8(v) => v,
                // Only 8 bits per channel go on to the model.
                DecodingResult::U16(v) => v.into_iter().map(|x| (x >> 8) as u8).collect(),
                _ => return Err(DecodeError::Unsupported("planar tiff with non-integer samples".into())),
            };
            let (x0, y0) = ((chunk % across * chunk_w) as usize, (chunk / across * chunk_h) as usize);
            let (data_w, data_h) = (data_w as usize, data_h as usize);
            if values.len() < data_w * data_h {
                return Err(corrupt(Format::Tiff, format!("chunk {index} holds {} samples, not {}", values.len(), data_w * data_h)));
            }
            for y in 0..data_h.min(h.saturating_sub(y0)) {
                let row = &values[y * data_w..(y + 1) * data_w];
                for (x, &value) in row.iter().enumerate().take(w.saturating_sub(x0)) {
                    samples[((y0 + y) * w + x0 + x) * planes + plane] = value;
                }
            }
        }
    }
    let bad = || corrupt(Format::Tiff, "bad pixel buffer");
    let image = match planes {
        1 => DynamicImage::ImageLuma8(GrayImage::from_raw(width, height, samples).ok_or_else(bad)?),
        2 => DynamicImage::ImageLumaA8(image::ImageBuffer::from_raw(width, height, samples).ok_or_else(bad)?),
        3 => DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, samples).ok_or_else(bad)?),
        _ => DynamicImage::ImageRgba8(RgbaImage::from_raw(width, height, samples).ok_or_else(bad)?),
    };
    Ok(flatten_alpha(image))
}
