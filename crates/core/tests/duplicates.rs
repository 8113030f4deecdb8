//! Near-duplicate groups and moving photos to the trash, with real photos,
//! real EfficientNet-Lite0 vectors and the freedesktop.org trash.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use image::{imageops, RgbImage};
use photofinder_core::duplicates::DEFAULT_MAX_DISTANCE;
use photofinder_core::{Cancel, Filter};

/// The copies people end up with: byte-for-byte, resized, recompressed,
/// lightly cropped, and shrunk to a quarter and squeezed hard (as a messenger
/// sends it), whose vector drifts but whose pixels don't.
fn near_copies(img: &RgbImage) -> Vec<(&'static str, RgbImage, u8)> {
    let (w, h) = img.dimensions();
    vec![
        ("resized", imageops::resize(img, w / 2, h / 2, imageops::FilterType::Triangle), 90),
        ("recompressed", img.clone(), 35),
        ("cropped", imageops::crop_imm(img, w / 20, h / 20, w * 9 / 10, h * 9 / 10).to_image(), 90),
        ("messenger", imageops::resize(img, w / 4, h / 4, imageops::FilterType::Triangle), 15),
    ]
}

/// Eight originals in `dir`; the first three also with an exact copy and
/// their near copies. Returns the paths of each group, original first.
fn write_library(dir: &Path) -> Vec<Vec<PathBuf>> {
    let originals = write_originals(dir, ORIGINALS.len());
    let mut groups = Vec::new();
    for (path, (short, file)) in originals.iter().zip(ORIGINALS).take(3) {
        let img = photo(file);
        let mut group = vec![path.clone()];
        let copy = dir.join(format!("{short} (copy).jpg"));
        std::fs::copy(path, &copy).unwrap();
        group.push(copy);
        for (kind, variant, quality) in near_copies(&img) {
            let p = dir.join(format!("{short}-{kind}.jpg"));
            save_jpeg(&variant, &p, quality);
            group.push(p);
        }
        groups.push(group);
    }
    groups
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn exact_and_near_copies_are_grouped_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    let (mut lib, _) = indexed_library(tmp.path(), |dir| expected = write_library(dir));

    let found = lib.duplicates(DEFAULT_MAX_DISTANCE, &ignore, &Cancel::new()).unwrap();
    assert_eq!(found.photos, ORIGINALS.len() + 3 * 5);
    let mut groups: Vec<Vec<String>> = found
        .groups
        .iter()
        .map(|g| {
            let mut names: Vec<String> = g.photos.iter().map(|p| name(&p.photo.path)).collect();
            names.sort();
            names
        })
        .collect();
    groups.sort();
    let mut want: Vec<Vec<String>> = expected
        .iter()
        .map(|g| {
            let mut names: Vec<String> = g.iter().map(|p| name(p)).collect();
            names.sort();
            names
        })
        .collect();
    want.sort();
    assert_eq!(groups, want);

    for group in &found.groups {
        // The original (most pixels, then largest file) leads; its byte-for-byte copy is exact.
        let first = &group.photos[0];
        assert!(!name(&first.photo.path).contains('-'), "{:?} leads", first.photo.path);
        assert_eq!(first.distance, 0.0);
        for p in &group.photos[1..] {
            assert_eq!(p.exact, name(&p.photo.path).contains("(copy)"), "{:?}", p.photo.path);
            let by_pixels = p.hash_bits.is_some_and(|b| b <= 5);
            assert!(p.distance <= DEFAULT_MAX_DISTANCE || by_pixels, "{:?} at {} ({:?} bits)", p.photo.path, p.distance, p.hash_bits);
            // Each kind of evidence finds what the other misses: the squeezed
            // copy's vector drifts far (0.3-0.5) but its pixels match; the
            // cropped copy's pixels move but its vector stays near.
            if name(&p.photo.path).contains("messenger") {
                assert!(p.distance > DEFAULT_MAX_DISTANCE && by_pixels, "{:?}: {} {:?}", p.photo.path, p.distance, p.hash_bits);
            }
            if name(&p.photo.path).contains("cropped") {
                assert!(!by_pixels && p.distance <= DEFAULT_MAX_DISTANCE, "{:?}: {} {:?}", p.photo.path, p.distance, p.hash_bits);
            }
            assert_eq!(p.exact, p.distance == 0.0);
            assert!(p.photo.size > 0 && p.photo.modified > 0);
        }
    }

    // Threshold 0: only byte-for-byte copies.
    let exact = lib.duplicates(0.0, &ignore, &Cancel::new()).unwrap();
    assert_eq!(exact.groups.len(), 3);
    assert!(exact.groups.iter().all(|g| g.photos.len() == 2 && g.photos[1].exact));
    // A looser threshold never splits a group.
    let loose = lib.duplicates(0.2, &ignore, &Cancel::new()).unwrap();
    assert!(loose.groups.len() <= 3 && loose.groups.iter().map(|g| g.photos.len()).sum::<usize>() >= 18);
    assert!(lib.duplicates(1.5, &ignore, &Cancel::new()).is_err(), "out-of-range threshold is refused");

    let cancel = Cancel::new();
    cancel.cancel();
    assert!(matches!(lib.duplicates(DEFAULT_MAX_DISTANCE, &ignore, &cancel), Err(photofinder_core::Error::Cancelled)));
}

#[test]
fn unwanted_copies_go_to_the_trash_and_come_back_from_it() {
    let tmp = tempfile::tempdir().unwrap();
    // The freedesktop.org home trash, inside the test's directory (one
    // filesystem with the photos, so files are moved, not copied).
    let data = tmp.path().join("data");
    std::env::set_var("XDG_DATA_HOME", &data);
    let mut expected = Vec::new();
    let (mut lib, _) = indexed_library(tmp.path(), |dir| expected = write_library(dir));

    let group = &expected[0];
    let unwanted: Vec<PathBuf> = group[1..].to_vec();
    let ids: Vec<i64> =
        unwanted.iter().map(|p| lib.catalog().file_by_path(&p.canonicalize().unwrap()).unwrap().unwrap().id).collect();
    let report = lib.move_to_trash(&ids, &ignore).unwrap();
    assert_eq!(report.trashed.len(), 5, "{:?}", report.failed);
    assert!(report.failed.is_empty());

    let trash = data.join("Trash");
    for p in &unwanted {
        assert!(!p.exists(), "{} still in its folder", p.display());
        let kept = trash.join("files").join(p.file_name().unwrap());
        assert!(kept.is_file(), "{} not in the trash", kept.display());
        let info = std::fs::read_to_string(trash.join("info").join(format!("{}.trashinfo", name(p)))).unwrap();
        assert!(info.contains("[Trash Info]") && info.contains("DeletionDate="), "{info}");
        assert!(lib.catalog().file_by_path(&p.canonicalize().unwrap_or(p.clone())).unwrap().is_none());
    }
    // Gone from search and from the groups; the original stays.
    let hits = lib.search_file(&group[0], 20, &Filter::default()).unwrap().hits;
    assert!(hits.iter().all(|h| !unwanted.iter().any(|u| name(u) == name(&h.path))));
    assert!(hits.iter().any(|h| name(&h.path) == name(&group[0])));
    let left = lib.duplicates(DEFAULT_MAX_DISTANCE, &ignore, &Cancel::new()).unwrap();
    assert_eq!(left.groups.len(), 2);

    // Undo is the trash: put one back and it is indexed again.
    let back = &unwanted[2];
    std::fs::rename(trash.join("files").join(back.file_name().unwrap()), back).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    let again = lib.duplicates(DEFAULT_MAX_DISTANCE, &ignore, &Cancel::new()).unwrap();
    assert_eq!(again.groups.len(), 3);

    // A photo the library doesn't know is refused, and nothing is moved.
    assert!(lib.move_to_trash(&[987_654], &ignore).is_err());
    assert!(group[0].exists());
}
