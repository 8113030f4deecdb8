//! Shared helpers for the integration tests: real photos from PyPI wheels
//! (fetched by `scripts/test`), variants and broken files made here, and a
//! library in a temporary directory with the real models.
#![allow(dead_code)]

pub mod dng;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use image::{DynamicImage, ImageEncoder, RgbImage};
use photofinder_core::{Event, Library, ModelDir};

/// `$var`, else the repository's `.cache/<name>` (where `scripts/test` installs).
fn installed_dir(var: &str, name: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache").join(name))
}

/// The real photos (`scripts/fetch-photos`). Tests never skip: without them
/// they fail and say how to get them.
pub fn photos_dir() -> PathBuf {
    let dir = installed_dir("PHOTOFINDER_TEST_PHOTOS", "photos");
    assert!(
        dir.join("chelsea.png").is_file(),
        "test photos missing in {}: run scripts/test (or scripts/fetch-photos {0})",
        dir.display()
    );
    dir
}

pub fn models() -> ModelDir {
    let dir = installed_dir("PHOTOFINDER_MODELS_DIR", "models");
    assert!(
        dir.join("efficientnet-lite0.onnx").is_file(),
        "models missing in {}: run scripts/test (or models/install.sh --dir {0} --random-test-models)",
        dir.display()
    );
    ModelDir::new(dir)
}

pub fn photo(name: &str) -> RgbImage {
    image::open(photos_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}")).into_rgb8()
}

/// The originals the near-duplicate tests use, by short name.
pub const ORIGINALS: &[(&str, &str)] = &[
    ("astronaut", "astronaut.png"),
    ("cat", "chelsea.png"),
    ("coffee", "coffee.png"),
    ("rocket", "rocket.jpg"),
    ("china", "china.jpg"),
    ("flower", "flower.jpg"),
    ("motorcycle", "motorcycle_left.png"),
    ("hubble", "hubble_deep_field.jpg"),
];

pub fn save_jpeg(img: &RgbImage, path: &Path, quality: u8) {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(img, img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    std::fs::write(path, out).unwrap();
}

pub fn save_jpeg_with_exif(img: &RgbImage, path: &Path, orientation: u16, taken: &str) {
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    enc.set_exif_metadata(exif_tiff(orientation, taken)).unwrap();
    enc.write_image(img, img.width(), img.height(), image::ExtendedColorType::Rgb8).unwrap();
    std::fs::write(path, out).unwrap();
}

/// A little-endian TIFF block with Orientation and DateTimeOriginal
/// ("YYYY:MM:DD HH:MM:SS"), as cameras write into a JPEG's APP1.
pub fn exif_tiff(orientation: u16, taken: &str) -> Vec<u8> {
    assert_eq!(taken.len(), 19);
    let mut t = Vec::new();
    t.extend_from_slice(b"II\x2a\x00\x08\x00\x00\x00");
    // IFD0 at 8: Orientation, ExifIFD pointer (-> 38).
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&orientation.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0x8769u16.to_le_bytes());
    t.extend_from_slice(&4u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    // Exif IFD at 38: DateTimeOriginal (ASCII, 20 bytes at 56).
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&0x9003u16.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&20u32.to_le_bytes());
    t.extend_from_slice(&56u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 56);
    t.extend_from_slice(taken.as_bytes());
    t.push(0);
    t
}

/// Mean absolute difference per channel between two images of one size.
pub fn mean_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| x.abs_diff(*y) as u64).sum();
    sum as f64 / a.as_raw().len() as f64
}

/// Near-duplicate variants of a photo, as people make them.
pub fn variants(img: &RgbImage) -> Vec<(&'static str, RgbImage)> {
    let (w, h) = img.dimensions();
    let d = DynamicImage::ImageRgb8(img.clone());
    let crop = d.crop_imm(w * 15 / 100, h * 15 / 100, w * 70 / 100, h * 70 / 100).into_rgb8();
    let small = d.resize(160, 160, image::imageops::FilterType::Triangle).into_rgb8();
    let flip = image::imageops::flip_horizontal(img);
    let dark = image::imageops::colorops::brighten(img, -60);
    let gray = DynamicImage::ImageLuma8(d.to_luma8()).into_rgb8();
    let rot = rotate_small(img, 8.0);
    vec![("crop70", crop), ("small160", small), ("flip", flip), ("dark", dark), ("gray", gray), ("rot8", rot)]
}

/// Rotate by `degrees` about the centre, keeping the size (corners filled grey).
fn rotate_small(img: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (s, c) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let sx = c * dx + s * dy + cx;
        let sy = -s * dx + c * dy + cy;
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            image::Rgb([128, 128, 128])
        }
    })
}

/// Write the first `n` originals into `dir` as `<short>.jpg`; returns their paths.
pub fn write_originals(dir: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    ORIGINALS
        .iter()
        .take(n)
        .map(|(short, file)| {
            let p = dir.join(format!("{short}.jpg"));
            save_jpeg(&photo(file), &p, 90);
            p
        })
        .collect()
}

/// Write each original named in `groups` (`None`: all) as `<short>.jpg` and
/// its variants as `<short>__<kind>.jpg` into `dir`.
pub fn write_with_variants(dir: &Path, groups: Option<&[&str]>) {
    std::fs::create_dir_all(dir).unwrap();
    for (short, file) in ORIGINALS.iter().filter(|(s, _)| groups.is_none_or(|g| g.contains(s))) {
        let img = photo(file);
        save_jpeg(&img, &dir.join(format!("{short}.jpg")), 90);
        for (kind, v) in variants(&img) {
            save_jpeg(&v, &dir.join(format!("{short}__{kind}.jpg")), 85);
        }
    }
}

/// A PNG whose header claims `w` x `h` pixels (a decompression bomb's
/// header) followed by a small deflate stream.
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib stream of zeros: a few KB standing for gigabytes.
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0xed, 0xc1, 0x01, 0x0d, 0x00, 0x00, 0x00, 0xc2, 0xa0]);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A JPEG whose frame header claims `w` x `h` (the rest is a real small JPEG).
pub fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    let img = RgbImage::from_pixel(16, 16, image::Rgb([10, 200, 30]));
    image::codecs::jpeg::JpegEncoder::new(&mut bytes)
        .write_image(&img, 16, 16, image::ExtendedColorType::Rgb8)
        .unwrap();
    let sof = bytes.windows(2).position(|w| w == [0xff, 0xc0]).expect("baseline JPEG has SOF0");
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

/// A library in `dir` using the installed models, small batches for quick tests.
pub fn library(dir: &Path) -> Library {
    Library::open(dir.join("library"), models()).unwrap()
}

/// A library in `tmp` watching `tmp/photos`, which `fill` writes, indexed.
pub fn indexed_library(tmp: &Path, fill: impl FnOnce(&Path)) -> (Library, PathBuf) {
    let photos = tmp.join("photos");
    fill(&photos);
    let mut lib = library(tmp);
    lib.add_folder(&photos).unwrap();
    lib.index(&ignore, &photofinder_core::Cancel::new()).unwrap();
    (lib, photos)
}

/// Collects events; `sink()` gives the closure the library wants.
#[derive(Default)]
pub struct Events(pub Mutex<Vec<Event>>);

impl Events {
    pub fn push(&self, e: Event) {
        self.0.lock().unwrap().push(e);
    }

    pub fn embedded(&self) -> usize {
        self.0.lock().unwrap().iter().filter(|e| matches!(e, Event::Added { .. })).count()
    }

    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

pub fn ignore(_: Event) {}

/// `img` as a libheif image to encode: 8-bit RGB, or 10-bit (each value
/// times 4, as HDR phone cameras write them).
pub fn heif_image(img: &RgbImage, ten_bit: bool) -> libheif_rs::Image {
    use libheif_rs::{Channel, ColorSpace, Image, RgbChroma};
    let (w, h) = img.dimensions();
    let (chroma, bits) = if ten_bit { (RgbChroma::HdrRgbLe, 10) } else { (RgbChroma::Rgb, 8) };
    let mut image = Image::new(w, h, ColorSpace::Rgb(chroma)).unwrap();
    image.create_plane(Channel::Interleaved, w, h, bits).unwrap();
    let mut planes = image.planes_mut();
    let plane = planes.interleaved.as_mut().unwrap();
    for (y, row) in img.as_raw().chunks_exact(w as usize * 3).enumerate() {
        let line = &mut plane.data[y * plane.stride..];
        if ten_bit {
            for (x, v) in row.iter().enumerate() {
                line[2 * x..2 * x + 2].copy_from_slice(&(*v as u16 * 4).to_le_bytes());
            }
        } else {
            line[..row.len()].copy_from_slice(row);
        }
    }
    image
}

/// Encode `img` as HEIC (HEVC) or AVIF (AV1) with libheif, the way a phone
/// writes it: `orientation` (EXIF numbering, 1..=8) becomes the file's
/// `irot`/`imir` properties, and `exif` (a TIFF block) its Exif item.
pub fn save_heif(img: &RgbImage, path: &Path, avif: bool, orientation: u8, exif: Option<&[u8]>) {
    use libheif_rs::{
        CompressionFormat, EncoderQuality, EncodingOptions, HeifContext, ImageOrientation, LibHeif,
    };
    let lib = LibHeif::new();
    let image = heif_image(img, false);
    let mut ctx = HeifContext::new().unwrap();
    let format = if avif { CompressionFormat::Av1 } else { CompressionFormat::Hevc };
    let mut encoder = lib.encoder_for_format(format).unwrap();
    encoder.set_quality(EncoderQuality::Lossy(85)).unwrap();
    let mut options = EncodingOptions::new().unwrap();
    let orientation = match orientation {
        1 => ImageOrientation::Normal,
        3 => ImageOrientation::Rotate180,
        6 => ImageOrientation::Rotate90Cw,
        8 => ImageOrientation::Rotate270Cw,
        o => panic!("orientation {o} not used by the tests"),
    };
    options.set_image_orientation(orientation);
    let handle = ctx.encode_image(&image, &mut encoder, Some(options)).unwrap();
    if let Some(exif) = exif {
        ctx.add_exif_metadata(&handle, exif).unwrap();
    }
    let bytes = ctx.write_to_bytes().unwrap();
    // libheif 1.15 takes the option but writes no `irot`: add it the way
    // cameras do (angle in quarter turns anticlockwise).
    let bytes = match orientation {
        ImageOrientation::Normal => bytes,
        ImageOrientation::Rotate90Cw => with_irot(&bytes, 3),
        ImageOrientation::Rotate180 => with_irot(&bytes, 2),
        _ => with_irot(&bytes, 1),
    };
    std::fs::write(path, bytes).unwrap();
}

/// ISO-BMFF boxes at one level: (type, payload).
fn bmff_boxes(mut data: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut out = Vec::new();
    while data.len() >= 8 {
        let size = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
        out.push((data[4..8].try_into().unwrap(), data[8..size].to_vec()));
        data = &data[size..];
    }
    out
}

fn bmff_write(boxes: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (kind, payload) in boxes {
        out.extend_from_slice(&(payload.len() as u32 + 8).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
    }
    out
}

fn uint(b: &[u8]) -> u64 {
    b.iter().fold(0, |v, x| v << 8 | *x as u64)
}

/// Add an `irot` property to every image item (the photo and its
/// thumbnails, as phones write them) of a HEIF file as libheif 1.15 writes
/// it (ftyp, meta, mdat), moving the data offsets along.
fn with_irot(file: &[u8], quarter_turns: u8) -> Vec<u8> {
    let mut top = bmff_boxes(file);
    let meta_at = top.iter().position(|(k, _)| k == b"meta").unwrap();
    let meta_end = top[..=meta_at].iter().map(|(_, p)| p.len() + 8).sum::<usize>() as u64;
    let (full, children) = top[meta_at].1.split_at(4);
    let (full, mut meta) = (full.to_vec(), bmff_boxes(children));
    let iprp = meta.iter_mut().find(|(k, _)| k == b"iprp").unwrap();
    let mut props = bmff_boxes(&iprp.1);
    let ipco = props.iter_mut().find(|(k, _)| k == b"ipco").unwrap();
    let mut ipco_children = bmff_boxes(&ipco.1);
    ipco_children.push((*b"irot", vec![quarter_turns]));
    let index = ipco_children.len() as u8;
    ipco.1 = bmff_write(&ipco_children);
    let ipma = props.iter_mut().find(|(k, _)| k == b"ipma").unwrap();
    assert_eq!(ipma.1[..4], [0, 0, 0, 0], "ipma version 0 with 1-byte associations");
    let mut at = 8; // version/flags, entry count
    for _ in 0..uint(&ipma.1[4..8]) {
        let count = ipma.1[at + 2] as usize;
        ipma.1[at + 2] += 1;
        ipma.1.insert(at + 3 + count, 0x80 | index); // essential
        at += 3 + count + 1;
    }
    iprp.1 = bmff_write(&props);
    let grown = (bmff_write(&meta).len() + 4 + 8) as u64 - (top[meta_at].1.len() + 8) as u64;
    // iloc offsets are absolute: data after meta moved by `grown` bytes.
    let iloc = meta.iter_mut().find(|(k, _)| k == b"iloc").unwrap();
    let p = &mut iloc.1;
    let version = p[0];
    let (offset_size, length_size, base_size) = ((p[4] >> 4) as usize, (p[4] & 15) as usize, (p[5] >> 4) as usize);
    let index_size = if version >= 1 { (p[5] & 15) as usize } else { 0 };
    let mut at = 8;
    for _ in 0..uint(&p[6..8]) {
        at += 2 + if version >= 1 { 2 } else { 0 } + 2;
        let shift = |field: &mut [u8]| {
            let v = uint(field);
            if v >= meta_end {
                let n = field.len();
                field.copy_from_slice(&(v + grown).to_be_bytes()[8 - n..]);
            }
        };
        shift(&mut p[at..at + base_size]);
        at += base_size;
        let extents = uint(&p[at..at + 2]);
        at += 2;
        for _ in 0..extents {
            at += index_size;
            shift(&mut p[at..at + offset_size]);
            at += offset_size + length_size;
        }
    }
    top[meta_at].1 = [full, bmff_write(&meta)].concat();
    bmff_write(&top)
}

/// An HEIC made by libheif's own encoder (`heif-enc`, as a phone's camera
/// would) with a thumbnail item whose longer side is `thumbnail`, turned
/// upright by `orientation` (1, 3, 6 or 8) on the photo and its thumbnail.
pub fn save_heic_with_thumbnail(img: &RgbImage, path: &Path, thumbnail: u32, orientation: u8) {
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("in.png");
    img.save(&png).unwrap();
    let out = std::process::Command::new("heif-enc")
        .args(["-q", "85", "-t", &thumbnail.to_string()])
        .arg(&png)
        .arg("-o")
        .arg(path)
        .output()
        .expect("heif-enc (Debian's libheif-examples; scripts/setup-system --tests installs it)");
    assert!(out.status.success(), "heif-enc: {}", String::from_utf8_lossy(&out.stderr));
    let quarter_turns = match orientation {
        1 => return,
        6 => 3,
        3 => 2,
        8 => 1,
        o => panic!("orientation {o} not used by the tests"),
    };
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, with_irot(&bytes, quarter_turns)).unwrap();
}

/// A slideshow: each photo for `secs` seconds at 10 frames/s, 320x240, H.264.
pub fn slideshow(photos: &[&str], secs: u32, out: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-y"]);
    let mut chain = String::new();
    for (i, name) in photos.iter().enumerate() {
        let still = tmp.path().join(format!("{i}.png"));
        image::imageops::resize(&photo(name), 320, 240, image::imageops::FilterType::Triangle).save(&still).unwrap();
        cmd.args(["-loop", "1", "-framerate", "10", "-t", &secs.to_string(), "-i"]).arg(&still);
        chain += &format!("[{i}:v]");
    }
    chain += &format!("concat=n={}:v=1:a=0,format=yuv420p[v]", photos.len());
    let status = cmd
        .args(["-filter_complex", &chain, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart"])
        .arg(out)
        .status()
        .expect("ffmpeg runs (scripts/setup-system installs it)");
    assert!(status.success());
}
