//! HEIC and AVIF photos, made here with libheif from a real photo, decoded
//! through libheif with their rotation applied, and indexed like any other.

mod common;

use common::*;
use image::RgbImage;
use photofinder_core::catalog::FileState;
use photofinder_core::decode::{self, DecodeError, Format};
use photofinder_core::{preprocess, Cancel, Filter};

fn rocket() -> RgbImage {
    image::imageops::resize(&photo("rocket.jpg"), 320, 208, image::imageops::FilterType::Triangle)
}

#[test]
fn heic_and_avif_decode_upright_with_their_capture_date() {
    let tmp = tempfile::tempdir().unwrap();
    let upright = rocket();
    // Stored sideways with "rotate 90 clockwise", as a phone held upright writes it.
    let sideways = image::imageops::rotate270(&upright);
    let exif = exif_tiff(6, "2023:08:01 18:45:10");
    for (name, avif, format) in [("rocket.heic", false, Format::Heic), ("rocket.avif", true, Format::Avif)] {
        let path = tmp.path().join(name);
        save_heif(&sideways, &path, avif, 6, Some(&exif));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(decode::sniff(&bytes), Some(format), "{name}");

        let info = decode::probe(&bytes).unwrap();
        assert_eq!((info.format, info.width, info.height), (format, 320, 208), "{name}: displayed size");
        assert_eq!(info.taken_at, decode::epoch_seconds(2023, 8, 1, 18, 45, 10), "{name}: EXIF date");

        let decoded = decode::decode(&bytes, 100).unwrap();
        assert_eq!(decoded.pixels.dimensions(), (320, 208), "{name}: rotated once, by libheif");
        let right = mean_diff(&decoded.pixels, &upright);
        let wrong = mean_diff(&decoded.pixels, &image::imageops::rotate180(&upright));
        assert!(right < 12.0, "{name}: differs from the original by {right:.1} per channel");
        assert!(wrong > 3.0 * right, "{name}: upside down would differ by {wrong:.1}, right way up by {right:.1}");

        // The app's preview gets an upright JPEG, which any web view shows.
        let (jpeg, mime) = preprocess::viewable(bytes, 2560).unwrap();
        assert_eq!((mime, decode::sniff(&jpeg)), ("image/jpeg", Some(Format::Jpeg)));
        assert_eq!(image::load_from_memory(&jpeg).unwrap().into_rgb8().dimensions(), (320, 208));
    }
    // Formats web views show are served as they are.
    let png = std::fs::read(photos_dir().join("chelsea.png")).unwrap();
    assert_eq!(preprocess::viewable(png.clone(), 2560).unwrap(), (png, "image/png"));
}

#[test]
fn heic_and_avif_are_indexed_found_and_broken_ones_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    std::fs::create_dir_all(&dir).unwrap();
    write_originals(&dir, 4);
    let cat = image::imageops::resize(&photo("chelsea.png"), 300, 200, image::imageops::FilterType::Triangle);
    save_heif(&cat, &dir.join("cat.heic"), false, 1, None);
    save_heif(&cat, &dir.join("cat.avif"), true, 1, None);
    // Mislabelled: an HEIC with a JPEG's name is indexed as what it is.
    std::fs::copy(dir.join("cat.heic"), dir.join("really-heic.jpg")).unwrap();
    let full = std::fs::read(dir.join("cat.heic")).unwrap();
    std::fs::write(dir.join("truncated.heic"), &full[..full.len() / 2]).unwrap();
    let mut corrupt = full[..64].to_vec();
    corrupt.extend(std::iter::repeat_n(0x5a, 3000));
    std::fs::write(dir.join("corrupt.avif"), [&b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"[..], &corrupt[28..]].concat())
        .unwrap();

    let mut lib = library(tmp.path());
    lib.add_folder(&dir).unwrap();
    let report = lib.index(&ignore, &Cancel::new()).unwrap();
    for (name, format) in [("cat.heic", "heic"), ("cat.avif", "avif"), ("really-heic.jpg", "heic")] {
        let row = lib.catalog().file_by_path(&dir.join(name)).unwrap().unwrap();
        assert_eq!(row.state, FileState::Indexed, "{name}: {:?}", row.error);
        assert_eq!(row.format.as_deref(), Some(format), "{name}");
        assert_eq!((row.width, row.height), (Some(300), Some(200)), "{name}");
    }
    for (name, format) in [("truncated.heic", "heic"), ("corrupt.avif", "avif")] {
        let row = lib.catalog().file_by_path(&dir.join(name)).unwrap().unwrap();
        assert_eq!(row.state, FileState::Failed, "{name}");
        let err = row.error.unwrap_or_default();
        assert!(err.contains(&format!("corrupt or truncated {format}")), "{name}: {err}");
    }
    assert_eq!(report.embedding.failed, 2);

    // A JPEG of the cat finds its HEIC and AVIF copies before any other photo.
    let query = tmp.path().join("query.jpg");
    save_jpeg(&cat, &query, 90);
    let hits = lib.search_file(&query, 3, &Filter::default()).unwrap().hits;
    let mut top: Vec<String> = hits.iter().map(|h| h.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    top.sort();
    assert_eq!(top, ["cat.avif", "cat.heic", "really-heic.jpg"]);
    assert!(hits.iter().all(|h| h.distance < 0.1), "{hits:?}");
}

#[test]
fn heif_that_is_not_decodable_says_so() {
    // An ftyp box that announces HEIC and nothing after it.
    let bytes = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic";
    assert_eq!(decode::sniff(bytes), Some(Format::Heic));
    match decode::decode(bytes, 224) {
        Err(DecodeError::Corrupt { format: "heic", .. }) => {}
        other => panic!("expected a corrupt-heic error, got {:?}", other.err()),
    }
}

#[test]
fn heif_with_a_codec_libheif_lacks_is_unsupported_not_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cat.heic");
    save_heif(&rocket(), &path, false, 1, None);
    let mut bytes = std::fs::read(&path).unwrap();
    // The image item's type, in its `infe` box: HEVC becomes VVC (H.266),
    // which HEIF allows and libheif 1.15 does not decode.
    let at = bytes.windows(4).position(|w| w == b"hvc1").expect("an hvc1 item");
    bytes[at..at + 4].copy_from_slice(b"vvc1");
    match decode::decode(&bytes, 224) {
        Err(e @ DecodeError::Unsupported(_)) => assert_eq!(e.to_string(), "unsupported: heic Unsupported image type"),
        other => panic!("expected unsupported, got {:?}", other.err()),
    }
}

/// HDR phone cameras write 10-bit HEIC; libheif hands it back as 8-bit RGB.
/// (10-bit AVIF is not made here: Debian's aom encoder aborts on it through
/// libheif 1.15.)
#[test]
fn ten_bit_heic_decodes_like_its_eight_bit_original() {
    use libheif_rs::{CompressionFormat, EncoderQuality, HeifContext, LibHeif};
    let upright = rocket();
    let (w, h) = upright.dimensions();
    let image = heif_image(&upright, true);
    let lib = LibHeif::new();
    let mut ctx = HeifContext::new().unwrap();
    let mut encoder = lib.encoder_for_format(CompressionFormat::Hevc).unwrap();
    encoder.set_quality(EncoderQuality::Lossy(85)).unwrap();
    ctx.encode_image(&image, &mut encoder, None).unwrap();
    let bytes = ctx.write_to_bytes().unwrap();
    let handle = HeifContext::read_from_bytes(&bytes).unwrap().primary_image_handle().unwrap();
    assert_eq!(handle.luma_bits_per_pixel(), 10, "the test file is 10-bit");

    let decoded = decode::decode(&bytes, 100).unwrap();
    assert_eq!(decoded.pixels.dimensions(), (w, h));
    let diff = mean_diff(&decoded.pixels, &upright);
    assert!(diff < 12.0, "differs from the original by {diff:.1} per channel");
}

/// Phones store a small thumbnail item beside every photo; indexing decodes
/// it instead of the full picture when its shorter side reaches the model's
/// input, and the vector it gives is nearly the full picture's.
#[test]
fn a_heic_thumbnail_large_enough_for_the_model_is_indexed_instead_of_the_full_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let upright = image::imageops::resize(&photo("chelsea.png"), 1024, 768, image::imageops::FilterType::Triangle);
    let mut embedder = photofinder_core::embed::Embedder::load(&models(), "efficientnet-lite0", 2).unwrap();
    let mut vector = |pixels: &RgbImage| {
        let mut t = vec![0.0; embedder.input_len()];
        preprocess::to_tensor(pixels, embedder.spec(), &mut t);
        embedder.embed_batch(t).unwrap().remove(0).vector
    };
    let indexing = decode::Need { short_side: 256, preview: Some(224) };
    for (orientation, stored) in [(1, upright.clone()), (6, image::imageops::rotate270(&upright))] {
        let path = tmp.path().join(format!("cat-{orientation}.heic"));
        save_heic_with_thumbnail(&stored, &path, 320, orientation);
        let bytes = std::fs::read(&path).unwrap();

        let fast = decode::decode_for(&bytes, indexing).unwrap();
        assert!(fast.from_preview, "orientation {orientation}");
        assert_eq!(fast.pixels.dimensions(), (320, 240), "orientation {orientation}: the thumbnail, upright");
        assert_eq!((fast.info.width, fast.info.height), (1024, 768), "the photo's own size is recorded");
        let small = image::imageops::resize(&upright, 320, 240, image::imageops::FilterType::Triangle);
        let right = mean_diff(&fast.pixels, &small);
        let wrong = mean_diff(&fast.pixels, &image::imageops::rotate180(&small));
        assert!(right < 12.0 && wrong > 3.0 * right, "orientation {orientation}: {right:.1} vs upside down {wrong:.1}");

        let full = decode::decode(&bytes, 256).unwrap();
        assert!(!full.from_preview);
        assert_eq!(full.pixels.dimensions(), (1024, 768));
        let (a, b) = (vector(&fast.pixels), vector(&full.pixels));
        let cosine: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        eprintln!("orientation {orientation}: cosine of thumbnail and full-picture vectors {cosine:.4}");
        assert!(cosine > 0.9, "orientation {orientation}: cosine {cosine:.4}");
    }
    // A thumbnail smaller than the model's input is passed over.
    let path = tmp.path().join("small-thumbnail.heic");
    save_heic_with_thumbnail(&upright, &path, 200, 1);
    let decoded = decode::decode_for(&std::fs::read(&path).unwrap(), indexing).unwrap();
    assert!(!decoded.from_preview);
    assert_eq!(decoded.pixels.dimensions(), (1024, 768));
}
