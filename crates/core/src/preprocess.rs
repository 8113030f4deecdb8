//! From decoded pixels to a model's input tensor, and to thumbnails.
//!
//! Pixels and a model's spec in, floats out; no model is run here.

use fast_image_resize::{images::Image, images::ImageRef, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use crate::decode::{self, DecodeError};
use crate::models::{Filter, ModelSpec, ResizeMode};

/// The model input of `pixels` for `spec` (3 x crop x crop, CHW), the way
/// the model was trained: shorter side resized to `resize`, centre crop of
/// `crop` (or, for `ResizeMode::Squash`, the whole picture resized to
/// `crop` x `crop`), then mean/std normalisation. Resize and crop happen in one
/// resampling pass over the source region that the crop would keep. Every
/// photo, keyframe and query goes into a model through here.
pub fn tensor(pixels: &RgbImage, spec: &ModelSpec) -> Vec<f32> {
    let mut out = vec![0.0; 3 * (spec.crop * spec.crop) as usize];
    to_tensor(pixels, spec, &mut out);
    out
}

/// `tensor` into a buffer the caller reuses (the benchmark's loop).
pub fn to_tensor(pixels: &RgbImage, spec: &ModelSpec, out: &mut [f32]) {
    let crop = spec.crop;
    let (w, h) = (pixels.width() as f64, pixels.height() as f64);
    let (left, top, side_w, side_h) = match spec.resize_mode {
        ResizeMode::Shortest => {
            let scale = spec.resize as f64 / w.min(h);
            let side_w = (crop as f64 / scale).min(w);
            let side_h = (crop as f64 / scale).min(h);
            ((w - side_w) / 2.0, (h - side_h) / 2.0, side_w, side_h)
        }
        ResizeMode::Squash => (0.0, 0.0, w, h),
    };
    let filter = match spec.filter {
        Filter::Bilinear => FilterType::Bilinear,
        Filter::Bicubic => FilterType::CatmullRom,
    };
    let resized = resize_region(pixels, (left, top, side_w, side_h), crop, crop, filter);

    let plane = (crop * crop) as usize;
    let (r, rest) = out[..3 * plane].split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    let scale_c = |c: usize| (1.0 / (255.0 * spec.std[c]), spec.mean[c] / spec.std[c]);
    let (sr, or) = scale_c(0);
    let (sg, og) = scale_c(1);
    let (sb, ob) = scale_c(2);
    for (i, px) in resized.chunks_exact(3).enumerate() {
        r[i] = px[0] as f32 * sr - or;
        g[i] = px[1] as f32 * sg - og;
        b[i] = px[2] as f32 * sb - ob;
    }
}

/// A JPEG thumbnail whose longer side is `max_side` (never enlarged).
pub fn thumbnail_jpeg(pixels: &RgbImage, max_side: u32) -> Vec<u8> {
    let (w, h) = pixels.dimensions();
    let scale = (max_side as f64 / w.max(h) as f64).min(1.0);
    let tw = ((w as f64 * scale).round() as u32).max(1);
    let th = ((h as f64 * scale).round() as u32).max(1);
    let small;
    let rgb: &[u8] = if (tw, th) == (w, h) {
        pixels.as_raw()
    } else {
        small = resize_region(pixels, (0.0, 0.0, w as f64, h as f64), tw, th, FilterType::Lanczos3);
        &small
    };
    // libjpeg-turbo: several times faster than a pure-Rust encoder, and
    // thumbnails are written for every photo indexed.
    let image = turbojpeg::Image { pixels: rgb, width: tw as usize, pitch: 3 * tw as usize, height: th as usize, format: turbojpeg::PixelFormat::RGB };
    turbojpeg::compress(image, 85, turbojpeg::Subsamp::Sub2x2).expect("JPEG encoding of an RGB buffer").to_vec()
}

/// The photo in `bytes` as a web view can show it, with its MIME type: the
/// file itself where its format allows, else an upright JPEG whose longer
/// side is at most `max_side`.
pub fn viewable(bytes: Vec<u8>, max_side: u32) -> Result<(Vec<u8>, &'static str), DecodeError> {
    let format = decode::sniff(&bytes).ok_or(DecodeError::NotAnImage("unrecognised content"))?;
    if let Some(mime) = format.web_mime() {
        return Ok((bytes, mime));
    }
    let decoded = decode::decode(&bytes, max_side)?;
    Ok((thumbnail_jpeg(&decoded.pixels, max_side), "image/jpeg"))
}

fn resize_region(
    pixels: &RgbImage,
    (left, top, width, height): (f64, f64, f64, f64),
    out_w: u32,
    out_h: u32,
    filter: FilterType,
) -> Vec<u8> {
    let src = ImageRef::new(pixels.width(), pixels.height(), pixels.as_raw(), PixelType::U8x3)
        .expect("an RgbImage buffer matches its size");
    let mut dst = Image::new(out_w, out_h, PixelType::U8x3);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(filter))
        .crop(left, top, width, height);
    Resizer::new().resize(&src, &mut dst, &options).expect("resize between RGB8 images");
    dst.into_vec()
}

#[cfg(test)]
mod resize_mode_tests {
    use super::*;
    use crate::models::ModelDir;

    #[test]
    fn squash_keeps_the_whole_photo_and_shortest_crops_its_centre() {
        let mut spec = ModelDir::spec("clip-vit-b32-laion2b").unwrap();
        (spec.mean, spec.std) = ([0.0; 3], [1.0; 3]);
        let side = spec.crop as usize;
        // 4:1, its left quarter white, the rest black.
        let img = RgbImage::from_fn(896, 224, |x, _| if x < 224 { image::Rgb([255; 3]) } else { image::Rgb([0; 3]) });
        let left_column = |t: &[f32]| (0..side).map(|y| t[y * side]).sum::<f32>() / side as f32;
        assert!(left_column(&tensor(&img, &spec)) < 0.01, "the centre crop holds none of the white quarter");
        spec.resize_mode = ResizeMode::Squash;
        let squashed = tensor(&img, &spec);
        assert_eq!(squashed.len(), 3 * side * side);
        assert!(left_column(&squashed) > 0.99, "the squash keeps the whole width");
        let white = (0..side).take_while(|&x| squashed[x] > 0.5).count();
        assert!((side / 4 - 1..=side / 4 + 1).contains(&white), "a quarter of the input is white: {white} of {side}");
    }
}
