//! One photo, several files: a RAW beside the JPEG the camera wrote with it,
//! an iPhone Live Photo (a HEIC and a short MOV of the same name) and an
//! Android motion photo (a JPEG carrying an MP4). Each is one item: the RAW
//! is listed with its JPEG and never proposed as its "copy" unless asked,
//! the Live Photo's video is not indexed as a video of its own, and both
//! kinds of live photo carry a "live" badge and are found by their still.

mod common;

use std::path::Path;

use common::dng::{dng, DngSpec};
use common::*;
use photofinder_core::catalog::FileState;
use photofinder_core::duplicates::DEFAULT_MAX_DISTANCE;
use photofinder_core::{Cancel, Filter};

/// A JPEG that says in its XMP that it is a motion photo, with an MP4 after
/// its picture, as Google's and Samsung's cameras write them.
fn motion_photo(still: &Path, video: &Path) -> Vec<u8> {
    let jpeg = std::fs::read(still).unwrap();
    let xmp = br#"http://ns.adobe.com/xap/1.0/ <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" GCamera:MotionPhoto="1" GCamera:MotionPhotoVersion="1"/></rdf:RDF></x:xmpmeta>"#;
    let mut xmp = xmp.to_vec();
    xmp[28] = 0; // the namespace's NUL terminator
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((xmp.len() + 2) as u16).to_be_bytes());
    out.extend(&xmp);
    out.extend(&jpeg[2..]);
    out.extend(std::fs::read(video).unwrap());
    out
}

#[test]
fn a_raw_and_its_jpeg_and_live_photos_are_each_one_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    std::fs::create_dir_all(&dir).unwrap();
    write_originals(&dir, 3);
    let cat = image::imageops::resize(&photo("chelsea.png"), 480, 320, image::imageops::FilterType::Triangle);
    let spec = DngSpec { preview: Some(360), orientation: 1, make: "NIKON CORPORATION", model: "NIKON D850", taken: "2024:01:02 03:04:05" };
    std::fs::write(dir.join("IMG_0001.DNG"), dng(&cat, &spec)).unwrap();
    save_jpeg_with_exif(&cat, &dir.join("IMG_0001.JPG"), 1, "2024:01:02 03:04:06");
    // The same name, years apart (the camera's counter wrapped round): two photos.
    let other = DngSpec { taken: "2019:07:08 09:10:11", ..spec };
    std::fs::write(dir.join("IMG_0009.DNG"), dng(&cat, &other)).unwrap();
    save_jpeg_with_exif(&cat, &dir.join("IMG_0009.JPG"), 1, "2024:01:02 03:04:05");
    let coffee = image::imageops::resize(&photo("coffee.png"), 400, 300, image::imageops::FilterType::Triangle);
    save_heic_with_thumbnail(&coffee, &dir.join("IMG_0002.HEIC"), 320, 1);
    slideshow(&["coffee.png"], 2, &dir.join("IMG_0002.MOV"));
    // A video longer than a Live Photo's that shares a photo's name is a video.
    save_jpeg(&photo("astronaut.png"), &dir.join("IMG_0004.JPG"), 90);
    slideshow(&["astronaut.png"], 12, &dir.join("IMG_0004.MP4"));
    let rocket_jpg = tmp.path().join("rocket-small.jpg");
    save_jpeg(&image::imageops::resize(&photo("rocket.jpg"), 400, 260, image::imageops::FilterType::Triangle), &rocket_jpg, 90);
    let clip = tmp.path().join("clip.mp4");
    slideshow(&["rocket.jpg"], 2, &clip);
    std::fs::write(dir.join("PXL_0003.MP.jpg"), motion_photo(&rocket_jpg, &clip)).unwrap();

    let mut lib = library(tmp.path());
    lib.add_folder(&dir).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();

    // The RAW is indexed, and shown as its JPEG, which lists it.
    let raw = lib.catalog().file_by_path(&dir.join("IMG_0001.DNG")).unwrap().unwrap();
    assert_eq!(raw.state, FileState::Indexed, "{:?}", raw.error);
    assert_eq!(raw.camera.as_deref(), Some("NIKON D850"));
    let status = lib.status().unwrap();
    // The RAW and the Live Photo's video are indexed, and shown as part of another.
    assert_eq!(status.counts.shown, status.counts.indexed - 2, "{:?}", status.counts);
    assert_eq!(status.counts.indexed, status.counts.files, "nothing is left unindexed: {:?}", status.counts);
    let photos = lib.photos(0, 100).unwrap();
    assert!(photos.iter().any(|p| p.path == dir.join("IMG_0009.DNG")), "a RAW of another moment is a photo of its own");
    assert!(photos.iter().find(|p| p.path == dir.join("IMG_0009.JPG")).unwrap().also.is_empty());
    assert_eq!(photos.len() as u64, status.counts.shown);
    assert!(photos.iter().all(|p| p.path != dir.join("IMG_0001.DNG")), "the RAW is not shown on its own");
    let jpeg = photos.iter().find(|p| p.path == dir.join("IMG_0001.JPG")).unwrap();
    assert_eq!(jpeg.also, [dir.join("IMG_0001.DNG")]);

    // Found as one photo.
    let query = tmp.path().join("query.jpg");
    save_jpeg(&cat, &query, 80);
    let hits = lib.search_file(&query, 4, &Filter::default()).unwrap().hits;
    assert_eq!(hits.len(), 4, "a RAW shown as its JPEG takes no result's place");
    assert!(hits.iter().all(|h| h.path != dir.join("IMG_0001.DNG")), "{hits:?}");
    let hit = hits.iter().find(|h| h.path == dir.join("IMG_0001.JPG")).expect("the JPEG is found");
    assert_eq!(hit.also, [dir.join("IMG_0001.DNG")]);

    // Never each other's "copy", unless asked.
    let pair = |groups: &[photofinder_core::duplicates::DuplicateGroup]| {
        groups.iter().any(|g| g.photos.iter().any(|p| p.photo.path == dir.join("IMG_0001.DNG")))
    };
    assert!(!pair(&lib.duplicates(DEFAULT_MAX_DISTANCE, &ignore, &Cancel::new()).unwrap().groups));
    assert!(pair(&lib.duplicates_with_raw_pairs(DEFAULT_MAX_DISTANCE, &ignore, &Cancel::new()).unwrap().groups));

    // The Live Photo: its video is its still's moving part, not a video.
    let mov = lib.catalog().file_by_path(&dir.join("IMG_0002.MOV")).unwrap().unwrap();
    assert_eq!((mov.state, mov.format.as_deref()), (FileState::Indexed, Some(photofinder_core::catalog::LIVE_VIDEO)));
    assert!(lib.catalog().frames_of(mov.id).unwrap().is_empty(), "no keyframes of its own");
    let heic = photos.iter().find(|p| p.path == dir.join("IMG_0002.HEIC")).unwrap();
    assert_eq!(heic.live.as_deref(), Some(dir.join("IMG_0002.MOV").as_path()));
    assert!(photos.iter().all(|p| p.path != dir.join("IMG_0002.MOV")), "no video item for it");
    let long = lib.catalog().file_by_path(&dir.join("IMG_0004.MP4")).unwrap().unwrap();
    assert_eq!(long.state, FileState::Indexed, "{:?}", long.error);

    // The motion photo is a photo with a badge, found by its still.
    let motion = photos.iter().find(|p| p.path == dir.join("PXL_0003.MP.jpg")).expect("indexed as a photo");
    assert_eq!(motion.live.as_deref(), Some(dir.join("PXL_0003.MP.jpg").as_path()));
    let hits = lib.search_file(&rocket_jpg, 1, &Filter::default()).unwrap().hits;
    assert_eq!(hits[0].path, dir.join("PXL_0003.MP.jpg"));
    assert!(hits[0].live.is_some());

    // Each moment plays: the Live Photo's whole MOV, the motion photo's MP4
    // from its first box to its end, and a plain photo has none.
    let moment = lib.moment(heic.id).unwrap().expect("the Live Photo's moment");
    assert_eq!((moment.path.as_path(), moment.start, moment.mime), (dir.join("IMG_0002.MOV").as_path(), 0, "video/quicktime"));
    assert_eq!(moment.len, std::fs::metadata(dir.join("IMG_0002.MOV")).unwrap().len());
    let moment = lib.moment(motion.id).unwrap().expect("the motion photo's moment");
    let carried = std::fs::read(dir.join("PXL_0003.MP.jpg")).unwrap();
    let start = moment.start as usize;
    assert_eq!(&carried[start..start + moment.len as usize], std::fs::read(&clip).unwrap().as_slice(), "exactly the MP4 it carries");
    assert_eq!(moment.mime, "video/mp4");
    let plain = photos.iter().find(|p| p.path == dir.join("IMG_0004.JPG")).unwrap();
    assert_eq!(lib.moment(plain.id).unwrap(), None);
}
