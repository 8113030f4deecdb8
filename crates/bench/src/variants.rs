//! Near-duplicate variants of a photo, as people make them: cropped,
//! mirrored, slightly rotated, recompressed, darker, greyscale.

use image::{imageops, DynamicImage, Rgb, RgbImage};

pub const KINDS: &[&str] = &["crop", "mirror", "rotate", "recompress", "darker", "greyscale"];

/// The variant `kind` of `img`, as JPEG bytes.
pub fn make(img: &RgbImage, kind: &str) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let (out, quality) = match kind {
        "crop" => (imageops::crop_imm(img, w / 10, h / 10, w * 8 / 10, h * 8 / 10).to_image(), 90),
        "mirror" => (imageops::flip_horizontal(img), 90),
        "rotate" => (rotate(img, 6f32.to_radians()), 90),
        "recompress" => (img.clone(), 35),
        "darker" => (RgbImage::from_fn(w, h, |x, y| Rgb(img.get_pixel(x, y).0.map(|c| (c as f32 * 0.6) as u8))), 90),
        "greyscale" => (DynamicImage::ImageLuma8(imageops::grayscale(img)).into_rgb8(), 90),
        other => panic!("unknown variant {other}"),
    };
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(&out)
        .expect("JPEG encoding into memory");
    bytes
}

/// Rotate about the centre by `angle`, bilinear, keeping the size; the
/// corners the rotation uncovers are filled from the nearest edge.
fn rotate(img: &RgbImage, angle: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (sin, cos) = angle.sin_cos();
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let sx = (cos * dx + sin * dy + cx).clamp(0.0, w as f32 - 1.001);
        let sy = (-sin * dx + cos * dy + cy).clamp(0.0, h as f32 - 1.001);
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let p = |x: u32, y: u32| img.get_pixel(x.min(w - 1), y.min(h - 1)).0;
        let (a, b, c, d) = (p(x0, y0), p(x0 + 1, y0), p(x0, y0 + 1), p(x0 + 1, y0 + 1));
        Rgb(std::array::from_fn(|i| {
            let top = a[i] as f32 * (1.0 - fx) + b[i] as f32 * fx;
            let bottom = c[i] as f32 * (1.0 - fx) + d[i] as f32 * fx;
            (top * (1.0 - fy) + bottom * fy).round() as u8
        }))
    })
}
