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

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20x20 uncompressed 8-bit RGB TIFF stored planar in 16x16 tiles (so
    /// the right and bottom tiles are padded), written by hand: nothing here
    /// writes tiled or planar TIFFs.
    fn tiled_planar(pixel: impl Fn(u32, u32, usize) -> u8) -> Vec<u8> {
        let (size, tile) = (20u32, 16u32);
        let tiles_across = size.div_ceil(tile);
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        let header = 8u32;
        for plane in 0..3 {
            for t in 0..tiles_across * tiles_across {
                offsets.push(header + data.len() as u32);
                let (x0, y0) = (t % tiles_across * tile, t / tiles_across * tile);
                for y in y0..y0 + tile {
                    for x in x0..x0 + tile {
                        data.push(if x < size && y < size { pixel(x, y, plane) } else { 0 });
                    }
                }
            }
        }
        let counts = vec![tile * tile; offsets.len()];
        let mut extra = Vec::new();
        let at = |extra: &Vec<u8>, data_len: usize| header + data_len as u32 + extra.len() as u32;
        let bits_at = at(&extra, data.len());
        extra.extend([8u16, 8, 8].iter().flat_map(|v| v.to_le_bytes()));
        let offsets_at = at(&extra, data.len());
        extra.extend(offsets.iter().flat_map(|v| v.to_le_bytes()));
        let counts_at = at(&extra, data.len());
        extra.extend(counts.iter().flat_map(|v| v.to_le_bytes()));
        let ifd_at = at(&extra, data.len());
        let n = offsets.len() as u32;
        // (tag, type: 3 SHORT / 4 LONG, count, value or offset)
        let entries: [(u16, u16, u32, u32); 11] = [
            (256, 4, 1, size),
            (257, 4, 1, size),
            (258, 3, 3, bits_at),
            (259, 3, 1, 1),
            (262, 3, 1, 2),
            (277, 3, 1, 3),
            (284, 3, 1, 2),
            (322, 3, 1, tile),
            (323, 3, 1, tile),
            (324, 4, n, offsets_at),
            (325, 4, n, counts_at),
        ];
        let mut out = b"II*\0".to_vec();
        out.extend(ifd_at.to_le_bytes());
        out.extend(&data);
        out.extend(&extra);
        out.extend((entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            out.extend(tag.to_le_bytes());
            out.extend(kind.to_le_bytes());
            out.extend(count.to_le_bytes());
            out.extend(value.to_le_bytes());
        }
        out.extend(0u32.to_le_bytes());
        out
    }

    #[test]
    fn tiled_planar_tiffs_are_assembled_plane_by_plane_tile_by_tile() {
        let value = |x: u32, y: u32, plane: usize| [x * 12, y * 12, 100 + x + y][plane] as u8;
        let bytes = tiled_planar(value);
        assert!(is_planar(&bytes));
        let image = super::super::decode(&bytes, 16).expect("decodes").pixels;
        assert_eq!(image.dimensions(), (20, 20));
        for (x, y, p) in image.enumerate_pixels() {
            assert_eq!(p.0, [value(x, y, 0), value(x, y, 1), value(x, y, 2)], "pixel {x},{y}");
        }
    }
}
