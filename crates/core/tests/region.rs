//! Searching with a part of a photo ("find this mug"): what is in that part
//! comes first, whatever else the photo shows.

mod common;

use common::*;
use image::RgbImage;
use photofinder_core::embed::Region;
use photofinder_core::{Error, Filter};

/// Two photos side by side, each `h` high: the region of each.
fn side_by_side(a: &RgbImage, b: &RgbImage, h: u32) -> (RgbImage, Region, Region) {
    let scale = |img: &RgbImage| image::imageops::resize(img, img.width() * h / img.height(), h, image::imageops::FilterType::Triangle);
    let (a, b) = (scale(a), scale(b));
    let mut out = RgbImage::new(a.width() + b.width(), h);
    image::imageops::replace(&mut out, &a, 0, 0);
    image::imageops::replace(&mut out, &b, a.width() as i64, 0);
    let split = a.width() as f32 / out.width() as f32;
    (out, Region { x: 0.0, y: 0.0, width: split, height: 1.0 }, Region { x: split, y: 0.0, width: 1.0 - split, height: 1.0 })
}

#[test]
fn a_part_of_a_photo_finds_what_is_in_that_part() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, photos) = indexed_library(tmp.path(), |dir| {
        write_originals(dir, ORIGINALS.len());
    });
    let photos = std::fs::canonicalize(&photos).unwrap();

    let (pair, left, right) = side_by_side(&photo("chelsea.png"), &photo("rocket.jpg"), 400);
    let query = tmp.path().join("cat and rocket.jpg");
    save_jpeg(&pair, &query, 90);
    for (region, wanted) in [(left, "cat.jpg"), (right, "rocket.jpg")] {
        let r = lib.search_region(&query, region, 3, &Filter::default()).unwrap();
        assert_eq!(r.hits[0].path, photos.join(wanted), "{region:?}");
        assert_eq!(r.region, Some(region), "the answer says which part");
        assert!(r.query_hash.is_some(), "the whole photo's thumbnail is there to draw the part on");
    }
    // A part that is not inside the photo is refused, and says why.
    for bad in [Region { x: 0.8, y: 0.0, width: 0.5, height: 1.0 }, Region { x: 0.1, y: 0.1, width: 0.0, height: 0.5 }] {
        match lib.search_region(&query, bad, 3, &Filter::default()) {
            Err(Error::BadQuery(m)) => assert!(m.contains("fractions"), "{m}"),
            other => panic!("expected a bad query, got {:?}", other.map(|r| r.hits.len())),
        }
    }
    // As the command line writes it.
    assert_eq!("0.5,0,0.5,1".parse::<Region>(), Ok(Region { x: 0.5, y: 0.0, width: 0.5, height: 1.0 }));
    assert!("0.5,0.5".parse::<Region>().is_err() && "0.5,0.5,0.8,0.1".parse::<Region>().is_err());
}

/// The same from a library photo (its preview) and from a pasted image.
#[test]
fn a_part_of_a_library_photo_or_of_pasted_bytes_finds_what_is_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (pair, left, right) = side_by_side(&photo("chelsea.png"), &photo("rocket.jpg"), 400);
    let (mut lib, photos) = indexed_library(tmp.path(), |dir| {
        write_originals(dir, ORIGINALS.len());
        save_jpeg(&pair, &dir.join("cat and rocket.jpg"), 90);
    });
    let photos = std::fs::canonicalize(&photos).unwrap();
    let id = lib.catalog().file_by_path(&photos.join("cat and rocket.jpg")).unwrap().unwrap().id;
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(pair).write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    for (region, wanted) in [(left, "cat.jpg"), (right, "rocket.jpg")] {
        // The pair itself holds the part; what else comes first is the point.
        let first_other = |r: &photofinder_core::SearchResults| {
            r.hits.iter().find(|h| !h.path.ends_with("cat and rocket.jpg")).map(|h| h.path.clone())
        };
        let by_id = lib.search_photo_region(id, region, 3, &Filter::default()).unwrap();
        assert_eq!(first_other(&by_id), Some(photos.join(wanted)), "library photo, {region:?}");
        assert_eq!(by_id.region, Some(region));
        let pasted = lib.search_bytes_region(&bytes, "pasted image", region, 3, &Filter::default()).unwrap();
        assert_eq!(first_other(&pasted), Some(photos.join(wanted)), "pasted, {region:?}");
        assert_eq!(pasted.region, Some(region));
    }
    match lib.search_photo_region(987_654, left, 3, &Filter::default()) {
        Err(Error::NoSuchPhoto(987_654)) => {}
        other => panic!("expected no such photo, got {:?}", other.map(|r| r.hits.len())),
    }
}
