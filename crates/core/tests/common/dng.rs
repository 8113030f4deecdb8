//! DNG files made from a photo, the way a camera's raw converter lays them
//! out: a Bayer mosaic (RGGB, 16-bit, linear light) in a sub-directory, and
//! in the first directory either a JPEG preview of the picture or the
//! mosaic itself (a DNG without a preview).
#![allow(dead_code)]

use image::RgbImage;

enum Value {
    Byte(Vec<u8>),
    Ascii(String),
    Short(Vec<u16>),
    Long(Vec<u32>),
    Rational(Vec<(u32, u32)>),
    SRational(Vec<(i32, i32)>),
}

impl Value {
    fn kind_count_bytes(&self) -> (u16, u32, Vec<u8>) {
        match self {
            Value::Byte(v) => (1, v.len() as u32, v.clone()),
            Value::Ascii(s) => {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                (2, b.len() as u32, b)
            }
            Value::Short(v) => (3, v.len() as u32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Value::Long(v) => (4, v.len() as u32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Value::Rational(v) => (5, v.len() as u32, v.iter().flat_map(|(a, b)| [a.to_le_bytes(), b.to_le_bytes()].concat()).collect()),
            Value::SRational(v) => (10, v.len() as u32, v.iter().flat_map(|(a, b)| [a.to_le_bytes(), b.to_le_bytes()].concat()).collect()),
        }
    }
}

fn align(out: &mut Vec<u8>) {
    if out.len() % 2 == 1 {
        out.push(0);
    }
}

/// Append `data`, returning its offset.
fn blob(out: &mut Vec<u8>, data: &[u8]) -> u32 {
    align(out);
    let at = out.len() as u32;
    out.extend_from_slice(data);
    at
}

/// Append a directory of `tags` (sorted here), returning its offset.
fn directory(out: &mut Vec<u8>, mut tags: Vec<(u16, Value)>) -> u32 {
    tags.sort_by_key(|(t, _)| *t);
    align(out);
    let at = out.len();
    let mut overflow_at = at + 2 + 12 * tags.len() + 4;
    let mut entries = Vec::new();
    let mut overflow = Vec::new();
    for (tag, value) in &tags {
        let (kind, count, bytes) = value.kind_count_bytes();
        entries.extend(tag.to_le_bytes());
        entries.extend(kind.to_le_bytes());
        entries.extend(count.to_le_bytes());
        if bytes.len() <= 4 {
            let mut inline = bytes.clone();
            inline.resize(4, 0);
            entries.extend(inline);
        } else {
            entries.extend((overflow_at as u32).to_le_bytes());
            overflow.extend(&bytes);
            if bytes.len() % 2 == 1 {
                overflow.push(0);
            }
            overflow_at += bytes.len() + bytes.len() % 2;
        }
    }
    out.extend((tags.len() as u16).to_le_bytes());
    out.extend(entries);
    out.extend(0u32.to_le_bytes());
    out.extend(overflow);
    at as u32
}

/// The sRGB value `v` in linear light, 16 bits.
fn linear(v: u8) -> u16 {
    let c = v as f64 / 255.0;
    let l = if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) };
    (l * 65535.0).round() as u16
}

/// What a DNG made by `dng` holds besides the picture.
pub struct DngSpec<'a> {
    /// Longer side of the embedded JPEG preview; `None`: no preview.
    pub preview: Option<u32>,
    /// TIFF orientation of the stored picture (1, 3, 6 or 8).
    pub orientation: u16,
    pub make: &'a str,
    pub model: &'a str,
    /// "YYYY:MM:DD HH:MM:SS"
    pub taken: &'a str,
}

/// A DNG of `img` as a sensor behind an RGGB filter would record it. The
/// camera's colour matrix is sRGB's, so LibRaw develops it back to about
/// the photo's own colours.
pub fn dng(img: &RgbImage, spec: &DngSpec) -> Vec<u8> {
    let (w, h) = img.dimensions();
    assert!(w % 2 == 0 && h % 2 == 0);
    let mut mosaic = Vec::with_capacity((w * h * 2) as usize);
    for y in 0..h {
        for x in 0..w {
            let p = img.get_pixel(x, y);
            let channel = match (y % 2, x % 2) {
                (0, 0) => 0,
                (1, 1) => 2,
                _ => 1,
            };
            mosaic.extend(linear(p[channel]).to_le_bytes());
        }
    }
    let jpeg = spec.preview.map(|side| {
        let (pw, ph) = if w >= h { (side, side * h / w) } else { (side * w / h, side) };
        let small = image::imageops::resize(img, pw, ph, image::imageops::FilterType::Triangle);
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&small).unwrap();
        (pw, ph, jpeg)
    });
    // The directories come first, as cameras write them, then the preview
    // and the sensor data: laid out once to learn where those start.
    let dirs = |jpeg_at: u32, raw_at: u32| {
        let mut out = b"II*\0\0\0\0\0".to_vec();
        let raw_tags = vec![
            (254, Value::Long(vec![0])),
            (256, Value::Long(vec![w])),
            (257, Value::Long(vec![h])),
            (258, Value::Short(vec![16])),
            (259, Value::Short(vec![1])),
            (262, Value::Short(vec![32803])),
            (273, Value::Long(vec![raw_at])),
            (277, Value::Short(vec![1])),
            (278, Value::Long(vec![h])),
            (279, Value::Long(vec![mosaic.len() as u32])),
            (284, Value::Short(vec![1])),
            (33421, Value::Short(vec![2, 2])),
            (33422, Value::Byte(vec![0, 1, 1, 2])),
            (50714, Value::Long(vec![0])),
            (50717, Value::Long(vec![65535])),
        ];
        // XYZ (D65) to linear sRGB, in ten-thousandths.
        let xyz_to_srgb = [32406, -15372, -4986, -9689, 18758, 415, 557, -2040, 10570];
        let camera_tags = vec![
            (271, Value::Ascii(spec.make.into())),
            (272, Value::Ascii(spec.model.into())),
            (274, Value::Short(vec![spec.orientation])),
            (306, Value::Ascii(spec.taken.into())),
            (50706, Value::Byte(vec![1, 4, 0, 0])),
            (50708, Value::Ascii(format!("{} {}", spec.make, spec.model))),
            (50721, Value::SRational(xyz_to_srgb.iter().map(|v| (*v, 10000)).collect())),
            (50728, Value::Rational(vec![(1, 1), (1, 1), (1, 1)])),
            (50778, Value::Short(vec![21])),
        ];
        let first = match &jpeg {
            None => directory(&mut out, raw_tags.into_iter().chain(camera_tags).collect()),
            Some((pw, ph, jpeg)) => {
                let sub = directory(&mut out, raw_tags);
                let preview_tags = vec![
                    (254, Value::Long(vec![1])),
                    (256, Value::Long(vec![*pw])),
                    (257, Value::Long(vec![*ph])),
                    (258, Value::Short(vec![8, 8, 8])),
                    (259, Value::Short(vec![7])),
                    (262, Value::Short(vec![6])),
                    (273, Value::Long(vec![jpeg_at])),
                    (277, Value::Short(vec![3])),
                    (278, Value::Long(vec![*ph])),
                    (279, Value::Long(vec![jpeg.len() as u32])),
                    (284, Value::Short(vec![1])),
                    (330, Value::Long(vec![sub])),
                ];
                directory(&mut out, preview_tags.into_iter().chain(camera_tags).collect())
            }
        };
        out[4..8].copy_from_slice(&first.to_le_bytes());
        align(&mut out);
        out
    };
    let start = dirs(0, 0).len() as u32;
    let jpeg_len = jpeg.as_ref().map_or(0, |(_, _, j)| (j.len() + j.len() % 2) as u32);
    let mut out = dirs(start, start + jpeg_len);
    if let Some((_, _, jpeg)) = &jpeg {
        blob(&mut out, jpeg);
    }
    assert_eq!(blob(&mut out, &mosaic), start + jpeg_len);
    out
}
