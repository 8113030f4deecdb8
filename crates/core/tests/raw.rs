//! Camera RAWs: DNG files made here from a real photo (with an embedded
//! JPEG preview and without), read through LibRaw, upright, with their
//! capture date and camera, and indexed and found like any photo.

mod common;

use common::dng::{dng, DngSpec};
use common::*;
use image::RgbImage;
use photofinder_core::catalog::FileState;
use photofinder_core::decode::{self, Format, Need};
use photofinder_core::{preprocess, Cancel, Filter};

fn sized(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle)
}

fn spec(preview: Option<u32>, orientation: u16) -> DngSpec<'static> {
    DngSpec { preview, orientation, make: "Canon", model: "Canon EOS R5", taken: "2024:05:06 07:08:09" }
}

/// What the model is given: a preview whose shorter side reaches 224.
const INDEXING: Need = Need { short_side: 256, preview: Some(224) };

#[test]
fn dngs_decode_upright_with_their_date_and_camera_from_the_preview_or_the_sensor_data() {
    let upright = sized(&photo("rocket.jpg"), 640, 416);
    // Stored as the sensor saw it, with the orientation that turns it upright.
    let stored = [
        (1, upright.clone()),
        (3, image::imageops::rotate180(&upright)),
        (6, image::imageops::rotate270(&upright)),
        (8, image::imageops::rotate90(&upright)),
    ];
    for (orientation, sensor) in &stored {
        for preview in [None, Some(400)] {
            let what = format!("orientation {orientation}, preview {preview:?}");
            let bytes = dng(sensor, &spec(preview, *orientation));
            assert_eq!(decode::sniff(&bytes), Some(Format::Raw), "{what}");
            let info = decode::probe(&bytes).unwrap();
            assert_eq!((info.width, info.height), (640, 416), "{what}: displayed size");
            assert_eq!(info.taken_at, decode::epoch_seconds(2024, 5, 6, 7, 8, 9), "{what}");
            assert_eq!(info.camera.as_deref(), Some("Canon EOS R5"), "{what}");

            let decoded = decode::decode_for(&bytes, INDEXING).unwrap();
            assert_eq!(decoded.from_preview, preview.is_some(), "{what}: the preview is used when it is large enough");
            assert_eq!((decoded.info.width, decoded.info.height), (640, 416), "{what}");
            let (w, h) = decoded.pixels.dimensions();
            assert!(w > h, "{what}: upright is landscape, got {w}x{h}");
            let right = mean_diff(&decoded.pixels, &sized(&upright, w, h));
            let wrong = mean_diff(&decoded.pixels, &sized(&image::imageops::rotate180(&upright), w, h));
            assert!(right < 20.0, "{what}: differs from the photo by {right:.1} per channel");
            assert!(wrong > 2.0 * right, "{what}: upside down would differ by {wrong:.1}, right way up by {right:.1}");

            // The full picture (the app's preview) is always the sensor data.
            let full = decode::decode(&bytes, 2000).unwrap();
            assert!(!full.from_preview, "{what}");
            assert_eq!(full.pixels.dimensions(), (640, 416), "{what}");
        }
    }
    // A preview too small for the model is passed over for the sensor data.
    let bytes = dng(&upright, &spec(Some(200), 1));
    assert!(!decode::decode_for(&bytes, INDEXING).unwrap().from_preview);
    // A web view gets an upright JPEG.
    let (jpeg, mime) = preprocess::viewable(dng(&stored[2].1, &spec(Some(400), 6)), 2560).unwrap();
    assert_eq!((mime, decode::sniff(&jpeg)), ("image/jpeg", Some(Format::Jpeg)));
    assert_eq!(image::load_from_memory(&jpeg).unwrap().into_rgb8().dimensions(), (640, 416));
}

#[test]
fn raws_are_indexed_and_found_and_broken_ones_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    std::fs::create_dir_all(&dir).unwrap();
    write_originals(&dir, 4);
    let cat = sized(&photo("chelsea.png"), 480, 320);
    std::fs::write(dir.join("kitten.dng"), dng(&cat, &spec(Some(360), 1))).unwrap();
    std::fs::write(dir.join("kitten-no-preview.DNG"), dng(&cat, &spec(None, 1))).unwrap();
    // Cut off in the sensor data, with no preview to fall back on.
    let full = std::fs::read(dir.join("kitten-no-preview.DNG")).unwrap();
    std::fs::write(dir.join("truncated.dng"), &full[..full.len() / 3]).unwrap();
    std::fs::write(dir.join("not-a-raw.nef"), b"just some text, not a camera file").unwrap();

    let mut lib = library(tmp.path());
    lib.add_folder(&dir).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    for name in ["kitten.dng", "kitten-no-preview.DNG"] {
        let row = lib.catalog().file_by_path(&dir.join(name)).unwrap().unwrap();
        assert_eq!(row.state, FileState::Indexed, "{name}: {:?}", row.error);
        assert_eq!(row.format.as_deref(), Some("raw"), "{name}");
        assert_eq!((row.width, row.height), (Some(480), Some(320)), "{name}");
        assert_eq!(row.camera.as_deref(), Some("Canon EOS R5"), "{name}");
        assert_eq!(row.taken_at, decode::epoch_seconds(2024, 5, 6, 7, 8, 9), "{name}");
    }
    let row = lib.catalog().file_by_path(&dir.join("truncated.dng")).unwrap().unwrap();
    assert_eq!(row.state, FileState::Failed, "{:?}", row.error);
    assert!(row.error.as_deref().unwrap_or("").contains("raw"), "{:?}", row.error);
    let row = lib.catalog().file_by_path(&dir.join("not-a-raw.nef")).unwrap().unwrap();
    assert_eq!(row.state, FileState::Skipped, "{:?}", row.error);

    // A JPEG of the cat finds both RAWs (and the cat's own JPEG among the
    // originals) before any other photo.
    let query = tmp.path().join("query.jpg");
    save_jpeg(&cat, &query, 90);
    let hits = lib.search_file(&query, 3, &Filter::default()).unwrap().hits;
    let mut top: Vec<String> = hits.iter().map(|h| h.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    top.sort();
    assert_eq!(top, ["cat.jpg", "kitten-no-preview.DNG", "kitten.dng"]);
    assert!(hits.iter().all(|h| h.distance < 0.15), "{hits:?}");
}
