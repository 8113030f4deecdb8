//! Videos: keyframes extracted with ffmpeg (Debian's), embedded with the
//! real Lite0 model, found by photo and by text, and kept in step with the
//! video file. The videos are made here with ffmpeg from real photos.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use photofinder_core::catalog::FileState;
use photofinder_core::duplicates::DEFAULT_MAX_DISTANCE;
use photofinder_core::video::VideoOptions;
use photofinder_core::{Cancel, Example, Feedback, Filter, Library, SearchHit};

fn frame_hits<'a>(hits: &'a [SearchHit], video: &str) -> Vec<&'a SearchHit> {
    hits.iter().filter(|h| h.frame.is_some() && h.path.file_name().unwrap() == video).collect()
}

fn index(lib: &mut Library) {
    lib.index(&ignore, &Cancel::new()).unwrap();
}

/// Originals that are not in the slideshow, as JPEGs, and the slideshow
/// (astronaut 0-4 s, cat 4-8 s, rocket 8-12 s).
fn library_with_video(tmp: &Path) -> (Library, PathBuf) {
    let dir = tmp.join("media");
    std::fs::create_dir_all(&dir).unwrap();
    for (short, file) in &ORIGINALS[4..] {
        save_jpeg(&photo(file), &dir.join(format!("{short}.jpg")), 90);
    }
    slideshow(&["astronaut.png", "chelsea.png", "rocket.jpg"], 4, &dir.join("holiday.mp4"));
    let mut lib = library(tmp);
    lib.add_folder(&dir).unwrap();
    index(&mut lib);
    (lib, dir.canonicalize().unwrap())
}

#[test]
fn keyframes_are_taken_embedded_and_found_by_photo_and_text() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, dir) = library_with_video(tmp.path());
    let video = lib.catalog().file_by_path(&dir.join("holiday.mp4")).unwrap().unwrap();
    assert_eq!(video.state, FileState::Indexed, "{:?}", video.error);
    assert_eq!(video.format.as_deref(), Some("mp4"));
    assert_eq!((video.width, video.height), (Some(320), Some(240)));
    assert!((11_900..=12_100).contains(&video.duration_ms.unwrap()), "{:?}", video.duration_ms);

    // Every 5 s, and at the two cuts (4 s, 8 s) found by scene detection.
    let frames = lib.catalog().frames_of(video.id).unwrap();
    let times: Vec<i64> = frames.iter().map(|f| f.frame.unwrap().at_ms).collect();
    assert_eq!(times[0], 0, "{times:?}");
    for cut in [4000, 8000] {
        assert!(times.iter().any(|t| (cut..cut + 250).contains(t)), "a frame at the cut at {cut} ms: {times:?}");
    }
    assert!(times.len() <= 6, "{times:?}");
    let thumbs = tmp.path().join("library/thumbs");
    for f in &frames {
        let h = f.hash_hex().unwrap();
        assert!(thumbs.join(&h[..2]).join(format!("{h}.jpg")).is_file(), "frame thumbnail");
    }

    // A photo of the cat finds the cat's moment of the video first.
    let query = tmp.path().join("cat.jpg");
    save_jpeg(&image::imageops::flip_horizontal(&photo("chelsea.png")), &query, 85);
    let hits = lib.search_file(&query, 5, &Filter::default()).unwrap().hits;
    let top = &hits[0];
    assert_eq!(top.path, dir.join("holiday.mp4"), "{hits:?}");
    let at = top.frame.unwrap().at_ms;
    assert!((4000..8000).contains(&at), "the cat is on screen 4-8 s, found at {at} ms");
    assert_eq!(top.duration_ms, video.duration_ms);
    assert_eq!(top.frame.unwrap().video_id, video.id);

    // "Find similar to this one" on the moment: it leads its own results.
    let similar = lib.refine_photo(&Example::Id(top.id), &Feedback::default(), 3, &Filter::default()).unwrap();
    assert_eq!(similar.hits[0].id, top.id);
    assert!(similar.hits[0].is_query);
    assert_eq!(similar.query, dir.join("holiday.mp4"));
    // On the video itself: like its first moment (the astronaut).
    let whole = lib.refine_photo(&Example::Id(video.id), &Feedback::default(), 1, &Filter::default()).unwrap();
    assert_eq!(whole.hits[0].frame.unwrap().at_ms, 0);
    // Dropped or opened as the query file, a video is said to be one (not "text").
    let err = lib.search_file(&dir.join("holiday.mp4"), 3, &Filter::default()).unwrap_err();
    assert!(matches!(err, photofinder_core::Error::NotAPhoto(_)) && err.to_string().contains("is a video"), "{err}");

    // Text finds it too (ImageNet labels of the frames).
    let text = lib.search_text("rocket", 3, &Filter::default(), None).unwrap();
    let rocket = frame_hits(&text.hits, "holiday.mp4");
    assert!(!rocket.is_empty(), "{:?}", text.hits);
    assert!(rocket[0].frame.unwrap().at_ms >= 8000);

    // After a restart the store still holds the frames (reconciled with the catalog).
    drop(lib);
    let mut lib = library(tmp.path());
    let again = lib.search_file(&query, 5, &Filter::default()).unwrap().hits;
    assert_eq!(again[0].id, top.id);
    assert_eq!(lib.store().unwrap().len().unwrap(), 4 + frames.len());

    // The preview's full-size frame.
    let full = lib.frame_image(top.id, 1280).unwrap();
    assert_eq!(full.dimensions(), (320, 240));
}

#[test]
fn changing_moving_and_deleting_a_video_updates_its_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, dir) = library_with_video(tmp.path());
    let id = lib.catalog().file_by_path(&dir.join("holiday.mp4")).unwrap().unwrap().id;
    let photos = 4;

    // Moved: same id, frames follow with the new path.
    std::fs::rename(dir.join("holiday.mp4"), dir.join("summer.mp4")).unwrap();
    index(&mut lib);
    let query = tmp.path().join("astronaut.jpg");
    save_jpeg(&photo("astronaut.png"), &query, 85);
    let hits = lib.search_file(&query, 3, &Filter::default()).unwrap().hits;
    assert_eq!(hits[0].path, dir.join("summer.mp4"));
    assert_eq!(hits[0].frame.unwrap().video_id, id);

    // Changed: now only the coffee, 3 s. The old frames go with the old content.
    slideshow(&["coffee.png"], 3, &dir.join("summer.mp4"));
    index(&mut lib);
    let frames = lib.catalog().frames_of(id).unwrap();
    assert_eq!(frames.len(), 1, "one frame for 3 s of one picture");
    assert_eq!(lib.store().unwrap().len().unwrap(), photos + 1);
    let hits = lib.search_file(&query, 3, &Filter::default()).unwrap().hits;
    assert!(frame_hits(&hits, "summer.mp4").iter().all(|h| h.frame.unwrap().at_ms == 0));
    let coffee = lib.search_text("espresso", 1, &Filter::default(), None).unwrap();
    assert_eq!(coffee.hits[0].path, dir.join("summer.mp4"));

    // Keyframe settings: a frame every second now; the video is done again.
    let requeued = lib.set_video_options(&VideoOptions { interval_secs: 1.0, ..Default::default() }).unwrap();
    assert_eq!(requeued, 1);
    index(&mut lib);
    assert_eq!(lib.catalog().frames_of(id).unwrap().len(), 3);
    assert_eq!(lib.store().unwrap().len().unwrap(), photos + 3);

    // Deleted: no frames anywhere.
    std::fs::remove_file(dir.join("summer.mp4")).unwrap();
    index(&mut lib);
    assert!(lib.catalog().file(id).unwrap().is_none());
    assert!(lib.catalog().frames_of(id).unwrap().is_empty());
    assert_eq!(lib.store().unwrap().len().unwrap(), photos);
    let hits = lib.search_file(&query, 10, &Filter::default()).unwrap().hits;
    assert!(hits.iter().all(|h| h.frame.is_none()));
}

#[test]
fn copies_of_a_video_are_grouped_as_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    // The trash is the test's own (no other test of this file uses one).
    std::env::set_var("XDG_DATA_HOME", tmp.path().join("data"));
    let (mut lib, dir) = library_with_video(tmp.path());
    // Another video as long, of other pictures: never a copy.
    slideshow(&["coffee.png", "motorcycle_left.png", "hubble_deep_field.jpg"], 4, &dir.join("other.mp4"));
    index(&mut lib);
    let none = lib.duplicates(DEFAULT_MAX_DISTANCE, &ignore, &Cancel::new()).unwrap();
    assert!(none.groups.is_empty(), "{:?}", none.groups);

    // A byte-for-byte copy, and a smaller, recompressed one (what sending a
    // video "as a smaller file" makes).
    std::fs::copy(dir.join("holiday.mp4"), dir.join("holiday (copy).mp4")).unwrap();
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(dir.join("holiday.mp4"))
        .args(["-vf", "scale=160:120", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "32"])
        .arg(dir.join("holiday-small.mp4"))
        .status()
        .unwrap();
    assert!(status.success());
    index(&mut lib);
    let found = lib.duplicates(DEFAULT_MAX_DISTANCE, &ignore, &Cancel::new()).unwrap();
    assert_eq!((found.photos, found.videos), (4, 4));
    assert_eq!(found.groups.len(), 1, "{:?}", found.groups);
    let group = &found.groups[0].photos;
    let names: Vec<_> = group.iter().map(|p| p.photo.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    // Most pixels first, then the older of the two full-size files.
    assert_eq!(names, ["holiday.mp4", "holiday (copy).mp4", "holiday-small.mp4"]);
    assert_eq!(group.iter().map(|p| p.exact).collect::<Vec<_>>(), [false, true, false]);
    assert_eq!(group[1].distance, 0.0);
    // A quarter of the pixels at a lower quality: its frames' vectors drift
    // (about 0.2 here), and their perceptual hashes join it.
    assert!(group[2].distance > 0.0 && group[2].distance < 0.5, "{}", group[2].distance);
    assert!(group.iter().all(|p| p.photo.duration_ms.is_some() && p.photo.frame.is_none()));
    // Strictness 0: byte-for-byte copies only.
    let exact = lib.duplicates(0.0, &ignore, &Cancel::new()).unwrap();
    assert_eq!(exact.groups.len(), 1);
    assert_eq!(exact.groups[0].photos.len(), 2);

    let ids: Vec<i64> = group[1..].iter().map(|p| p.photo.id).collect();
    let report = lib.move_to_trash(&ids, &ignore).unwrap();
    assert_eq!(report.trashed.len(), 2, "{:?}", report.failed);
    assert!(tmp.path().join("data/Trash/files/holiday (copy).mp4").is_file());
    assert!(lib.duplicates(DEFAULT_MAX_DISTANCE, &ignore, &Cancel::new()).unwrap().groups.is_empty());
}

#[test]
fn broken_videos_are_recorded_with_a_clear_error_and_the_rest_indexed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("media");
    std::fs::create_dir_all(&dir).unwrap();
    slideshow(&["rocket.jpg", "coffee.png"], 2, &dir.join("good.mp4"));
    let bytes = std::fs::read(dir.join("good.mp4")).unwrap();
    std::fs::write(dir.join("truncated.mp4"), &bytes[..bytes.len() / 3]).unwrap();
    std::fs::write(dir.join("notes.mov"), b"not a video, just words\n").unwrap();
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac"])
        .arg(dir.join("song.mp4"))
        .status()
        .unwrap();
    assert!(status.success());
    save_jpeg(&photo("chelsea.png"), &dir.join("cat.jpg"), 90);

    let mut lib = library(tmp.path());
    lib.add_folder(&dir).unwrap();
    let report = lib.index(&ignore, &Cancel::new()).unwrap();
    let state = |name: &str| {
        let row = lib.catalog().file_by_path(&dir.canonicalize().unwrap().join(name)).unwrap().unwrap();
        (row.state, row.error.unwrap_or_default())
    };
    assert_eq!(state("good.mp4").0, FileState::Indexed);
    assert_eq!(state("cat.jpg").0, FileState::Indexed);
    for (name, words) in [("truncated.mp4", "corrupt or unsupported video"), ("notes.mov", "corrupt or unsupported video"), ("song.mp4", "no picture")] {
        let (s, error) = state(name);
        assert_eq!(s, FileState::Failed, "{name}");
        assert!(error.contains(words), "{name}: {error}");
    }
    assert_eq!(report.embedding.failed, 3);
}
