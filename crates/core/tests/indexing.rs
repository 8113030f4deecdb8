//! Indexing, searching and keeping the catalog right, with real photos, the
//! real EfficientNet-Lite0 weights, real ONNX Runtime and real SQLite.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use image::ImageEncoder;
use photofinder_core::catalog::FileState;
use photofinder_core::decode;
use photofinder_core::progress::Phase;
use photofinder_core::{Cancel, Error, Event, Filter, Library};

/// The originals written to `tmp/photos` and indexed in a library in `tmp`.
fn indexed_originals(tmp: &Path) -> (Library, PathBuf) {
    indexed_library(tmp, |photos| {
        write_originals(photos, ORIGINALS.len());
    })
}

fn state_of(lib: &Library, path: &Path) -> (FileState, Option<String>) {
    let row = lib.catalog().file_by_path(path).unwrap().unwrap_or_else(|| panic!("{} not catalogued", path.display()));
    (row.state, row.error)
}

#[test]
fn indexes_a_folder_and_finds_near_duplicates_of_each_original_first() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_originals(&photos, ORIGINALS.len());
    let mut lib = library(tmp.path());
    lib.add_folder(&photos).unwrap();
    let report = lib.index(&ignore, &Cancel::new()).unwrap();
    assert_eq!(report.added, ORIGINALS.len());
    assert_eq!(report.embedding.embedded as usize, ORIGINALS.len());
    assert_eq!(lib.store().unwrap().len().unwrap(), ORIGINALS.len());

    let queries = tmp.path().join("queries");
    std::fs::create_dir_all(&queries).unwrap();
    let mut misses = Vec::new();
    for (short, file) in ORIGINALS {
        for (kind, variant) in variants(&photo(file)) {
            let q = queries.join(format!("{short}__{kind}.jpg"));
            save_jpeg(&variant, &q, 80);
            let results = lib.search_file(&q, 3, &Filter::default()).unwrap();
            let top = results.hits[0].path.file_stem().unwrap().to_string_lossy().into_owned();
            if top != *short {
                misses.push(format!("{short}__{kind} -> {top}"));
            }
            assert!(!results.hits[0].is_query, "a variant is not the query photo itself");
        }
    }
    assert!(misses.is_empty(), "variants whose original was not first: {misses:?}");
}

#[test]
fn query_photo_in_the_library_is_flagged_and_results_are_unique_and_ordered() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lib, photos) = indexed_originals(tmp.path());
    let cat = &photos.join("cat.jpg");
    for results in [
        lib.search_file(cat, 5, &Filter::default()).unwrap(),
        lib.search_library(cat, 5, &Filter::default()).unwrap(),
    ] {
        assert_eq!(results.hits.len(), 5);
        assert!(results.hits[0].is_query && results.hits[0].path.ends_with("cat.jpg"));
        assert!(results.hits[0].similarity > 0.999);
        assert_eq!(results.hits.iter().filter(|h| h.is_query).count(), 1);
        assert!(results.query_id.is_some());
        let ids: std::collections::HashSet<_> = results.hits.iter().map(|h| h.id).collect();
        assert_eq!(ids.len(), results.hits.len(), "no duplicates");
        assert!(results.hits.windows(2).all(|w| w[0].distance <= w[1].distance), "best first");
        assert!(results.hits[0].thumbnail.as_ref().is_some_and(|t| t.is_file()));
    }
    let outside = tmp.path().join("not-in-library.jpg");
    save_jpeg(&photo("coffee.png"), &outside, 70);
    assert!(matches!(lib.search_library(&outside, 5, &Filter::default()), Err(Error::NotInLibrary(_))));
}

#[test]
fn every_supported_format_is_indexed_and_broken_files_get_a_recorded_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    std::fs::create_dir_all(&dir).unwrap();
    let cat = photo("chelsea.png");
    let small = image::imageops::resize(&cat, 120, 80, image::imageops::FilterType::Triangle);
    let ok = |name: &str| dir.join(name);
    for (name, fmt) in [
        ("cat.png", image::ImageFormat::Png),
        ("cat.webp", image::ImageFormat::WebP),
        ("cat.gif", image::ImageFormat::Gif),
        ("cat.bmp", image::ImageFormat::Bmp),
        ("cat.tiff", image::ImageFormat::Tiff),
    ] {
        small.save_with_format(ok(name), fmt).unwrap();
    }
    save_jpeg(&small, &ok("cat.jpg"), 90);
    // A PNG that claims to be a JPEG by its name: indexed as what it is.
    std::fs::copy(ok("cat.png"), ok("really-a-png.jpg")).unwrap();
    // A picture without an extension is found by its content.
    std::fs::copy(ok("cat.jpg"), ok("no-extension")).unwrap();

    let broken = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    broken("notes.jpg", b"shopping list: eggs, milk, a new camera\n");
    broken("empty.jpg", b"");
    let full = std::fs::read(ok("cat.jpg")).unwrap();
    broken("truncated.jpg", &full[..full.len() / 3]);
    let mut garbage = full[..600].to_vec();
    garbage.extend(std::iter::repeat_n(0x5a, 4000));
    broken("corrupt.jpg", &garbage);
    let mut one = Vec::new();
    image::codecs::png::PngEncoder::new(&mut one)
        .write_image(&[255, 0, 0], 1, 1, image::ExtendedColorType::Rgb8)
        .unwrap();
    broken("one-pixel.png", &one);
    broken("bomb.png", &png_bomb(50_000, 50_000));
    broken("bomb.jpg", &jpeg_claiming(60_000, 60_000));
    // Not named like an image and not one: ignored altogether.
    broken("README.txt", b"my holiday photos");

    let mut lib = library(tmp.path());
    lib.add_folder(&dir).unwrap();
    let events = Events::default();
    let report = lib.index(&|e| events.push(e), &Cancel::new()).unwrap();

    for name in ["cat.png", "cat.webp", "cat.gif", "cat.bmp", "cat.tiff", "cat.jpg", "really-a-png.jpg", "no-extension"] {
        assert_eq!(state_of(&lib, &ok(name)).0, FileState::Indexed, "{name}");
    }
    let row = lib.catalog().file_by_path(&ok("really-a-png.jpg")).unwrap().unwrap();
    assert_eq!(row.format.as_deref(), Some("png"));
    assert_eq!((row.width, row.height), (Some(120), Some(80)));

    let expect = |name: &str, state: FileState, words: &str| {
        let (s, err) = state_of(&lib, &dir.join(name));
        assert_eq!(s, state, "{name}");
        let err = err.unwrap_or_default();
        assert!(err.contains(words), "{name}: {err:?} should mention {words:?}");
    };
    expect("notes.jpg", FileState::Skipped, "holds text");
    expect("empty.jpg", FileState::Skipped, "empty");
    // What libjpeg-turbo decodes with a warning is indexed, as viewers show
    // it; the warning stays on the row.
    expect("truncated.jpg", FileState::Indexed, "Premature end of JPEG file");
    expect("corrupt.jpg", FileState::Failed, "corrupt or truncated jpeg");
    expect("one-pixel.png", FileState::Skipped, "not a photo: 1x1 pixels");
    // Too many pixels is a limit of ours, not a fault of the file.
    expect("bomb.png", FileState::Unsupported, "50000x50000");
    expect("bomb.jpg", FileState::Unsupported, "60000x60000");
    assert!(lib.catalog().file_by_path(&dir.join("README.txt")).unwrap().is_none());

    assert_eq!(report.embedding.failed, 1);
    assert_eq!(report.embedding.unsupported, 2);
    assert_eq!(report.embedding.skipped, 3);
    assert_eq!(report.embedding.recovered, 1);
    let events = events.take();
    let count = |f: fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
    assert_eq!(count(|e| matches!(e, Event::Failed { .. })), 1, "each failure is reported as it happens");
    assert_eq!(count(|e| matches!(e, Event::Unsupported { .. })), 2);
    assert_eq!(count(|e| matches!(e, Event::Recovered { .. })), 1);
    // The good ones are searchable despite the bad ones.
    let hits = lib.search_file(&ok("cat.jpg"), 20, &Filter::default()).unwrap().hits;
    assert_eq!(hits.len(), 9, "the eight good ones and the recovered truncated one");
}

#[test]
fn exif_orientation_and_capture_date_are_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    std::fs::create_dir_all(&dir).unwrap();
    let img = image::imageops::resize(&photo("rocket.jpg"), 300, 200, image::imageops::FilterType::Triangle);
    // Stored sideways with "rotate 90" in EXIF, as a phone held upright writes it.
    let sideways = image::imageops::rotate270(&img);
    save_jpeg_with_exif(&sideways, &dir.join("rotated.jpg"), 6, "2021:06:15 10:30:00");

    let bytes = std::fs::read(dir.join("rotated.jpg")).unwrap();
    let decoded = decode::decode(&bytes, 100).unwrap();
    assert_eq!((decoded.info.width, decoded.info.height), (300, 200), "displayed upright");
    assert!(decoded.pixels.width() > decoded.pixels.height());
    assert_eq!(decoded.info.orientation, 6);
    assert_eq!(decoded.info.taken_at, decode::epoch_seconds(2021, 6, 15, 10, 30, 0));

    let mut lib = library(tmp.path());
    lib.add_folder(&dir).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    let row = lib.catalog().file_by_path(&dir.join("rotated.jpg")).unwrap().unwrap();
    assert_eq!((row.width, row.height), (Some(300), Some(200)));
    assert_eq!(row.taken_at, decode::epoch_seconds(2021, 6, 15, 10, 30, 0));
}

#[test]
fn large_jpegs_decode_only_as_large_as_the_model_needs() {
    let big = image::imageops::resize(&photo("china.jpg"), 4000, 3000, image::imageops::FilterType::Triangle);
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .write_image(&big, 4000, 3000, image::ExtendedColorType::Rgb8)
        .unwrap();
    let decoded = decode::decode(&bytes, 256).unwrap();
    assert_eq!((decoded.info.width, decoded.info.height), (4000, 3000));
    assert_eq!(decoded.pixels.dimensions(), (500, 375), "DCT scaling at 1/8: short side still >= 256");
}

#[test]
fn filters_by_folder_date_and_type() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("photos");
    let (a, b) = (root.join("2019"), root.join("2023"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let cat = image::imageops::resize(&photo("chelsea.png"), 200, 150, image::imageops::FilterType::Triangle);
    save_jpeg_with_exif(&cat, &a.join("cat-2019.jpg"), 1, "2019:05:01 12:00:00");
    save_jpeg_with_exif(&image::imageops::flip_horizontal(&cat), &b.join("cat-2023.jpg"), 1, "2023:08:20 09:00:00");
    image::imageops::brighten(&cat, 20).save(b.join("cat-undated.png")).unwrap();

    let mut lib = library(tmp.path());
    lib.add_folder(&root).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    let q = a.join("cat-2019.jpg");
    let root = std::fs::canonicalize(&root).unwrap();
    let names = |lib: &mut Library, f: Filter| -> Vec<String> {
        lib.search_file(&q, 10, &f).unwrap().hits.iter().map(|h| h.path.file_name().unwrap().to_string_lossy().into_owned()).collect()
    };
    assert_eq!(names(&mut lib, Filter::default()).len(), 3);
    assert_eq!(names(&mut lib, Filter { folders: vec![root.join("2023")], ..Default::default() }).len(), 2);
    assert_eq!(
        names(&mut lib, Filter { taken_after: decode::epoch_seconds(2020, 1, 1, 0, 0, 0), ..Default::default() }),
        vec!["cat-2023.jpg"]
    );
    assert_eq!(
        names(&mut lib, Filter { taken_before: decode::epoch_seconds(2020, 1, 1, 0, 0, 0), ..Default::default() }),
        vec!["cat-2019.jpg"]
    );
    assert_eq!(names(&mut lib, Filter { formats: vec!["png".into()], ..Default::default() }), vec!["cat-undated.png"]);
}

#[test]
fn restart_catches_up_with_adds_changes_moves_and_deletes() {
    let tmp = tempfile::tempdir().unwrap();
    let (lib, photos) = indexed_originals(tmp.path());
    drop(lib);
    let moved_id = {
        let lib = library(tmp.path());
        lib.catalog().file_by_path(&std::fs::canonicalize(photos.join("rocket.jpg")).unwrap()).unwrap().unwrap().id
    };
    // While photofinder is not running:
    std::fs::create_dir_all(photos.join("sub")).unwrap();
    std::fs::rename(photos.join("rocket.jpg"), photos.join("sub/rocket-moved.jpg")).unwrap();
    std::fs::remove_file(photos.join("china.jpg")).unwrap();
    save_jpeg(&image::imageops::flip_vertical(&photo("coffee.png")), &photos.join("coffee.jpg"), 85);
    save_jpeg(&photo("retina.jpg"), &photos.join("retina.jpg"), 85);

    let mut lib = library(tmp.path());
    let events = Events::default();
    let report = lib.index(&|e| events.push(e), &Cancel::new()).unwrap();
    assert_eq!((report.added, report.changed, report.moved, report.removed), (1, 1, 1, 1));
    assert_eq!(report.embedding.embedded, 2, "only the new and the changed photo are embedded");
    let photos = std::fs::canonicalize(&photos).unwrap();
    let moved = lib.catalog().file_by_path(&photos.join("sub/rocket-moved.jpg")).unwrap().unwrap();
    assert_eq!(moved.id, moved_id, "a move keeps the file's id");
    assert_eq!(moved.state, FileState::Indexed);
    assert!(lib.catalog().file_by_path(&photos.join("china.jpg")).unwrap().is_none());

    let n = ORIGINALS.len();
    assert_eq!(lib.store().unwrap().len().unwrap(), n);
    let hits = lib.search_file(&photos.join("sub/rocket-moved.jpg"), 1, &Filter::default()).unwrap().hits;
    assert_eq!(hits[0].path, photos.join("sub/rocket-moved.jpg"), "the store knows the new path");
    // A second run finds nothing to do.
    let again = lib.index(&ignore, &Cancel::new()).unwrap();
    assert_eq!((again.added, again.changed, again.moved, again.removed, again.unchanged), (0, 0, 0, 0, n));
}

#[test]
fn cancelled_indexing_keeps_what_it_did_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let mut total = 0;
    for (short, file) in ORIGINALS {
        for (kind, v) in variants(&photo(file)) {
            save_jpeg(&v, &photos.join(format!("{short}-{kind}.jpg")), 85);
            total += 1;
        }
    }
    let mut lib = library(tmp.path());
    lib.options.batch = 4;
    lib.add_folder(&photos).unwrap();
    let cancel = Cancel::new();
    let sink = |e: Event| {
        if let Event::Progress(p) = e {
            if p.phase == Phase::Embedding && p.done >= 8 {
                cancel.cancel();
            }
        }
    };
    assert!(matches!(lib.index(&sink, &cancel), Err(Error::Cancelled)));
    let counts = lib.catalog().counts().unwrap();
    assert_eq!(counts.files as usize, total, "the scan completed before embedding started");
    assert!(counts.indexed >= 8 && (counts.indexed as usize) < total, "stopped part way: {counts:?}");
    assert_eq!(lib.store().unwrap().len().unwrap() as u64, counts.indexed, "the store matches the catalog");

    let report = lib.index(&ignore, &Cancel::new()).unwrap();
    assert_eq!(report.embedding.embedded, counts.pending, "the second run does only what was left");
    assert_eq!(lib.catalog().counts().unwrap().indexed as usize, total);
}

#[test]
fn progress_reports_scanning_then_embedding_up_to_the_total() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_originals(&photos, ORIGINALS.len());
    let mut lib = library(tmp.path());
    lib.options.batch = 2;
    lib.add_folder(&photos).unwrap();
    let events = Events::default();
    lib.index(&|e| events.push(e), &Cancel::new()).unwrap();
    let progress: Vec<_> = events
        .take()
        .into_iter()
        .filter_map(|e| if let Event::Progress(p) = e { Some(p) } else { None })
        .collect();
    let n = ORIGINALS.len() as u64;
    let scanning: Vec<_> = progress.iter().filter(|p| p.phase == Phase::Scanning).collect();
    let embedding: Vec<_> = progress.iter().filter(|p| p.phase == Phase::Embedding).collect();
    assert_eq!(scanning.last().map(|p| (p.done, p.total)), Some((n, n)));
    assert!(embedding.len() >= 3, "a start and one event per batch: {embedding:?}");
    assert!(embedding.windows(2).all(|w| w[0].done <= w[1].done && w[1].total == n));
    let last = embedding.last().unwrap();
    assert_eq!((last.done, last.errors), (n, 0));
    assert!(last.rate > 0.0 && last.current.is_some());
}

#[test]
fn removing_a_folder_forgets_its_photos_in_catalog_and_store() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write_originals(&a, ORIGINALS.len());
    std::fs::create_dir_all(&b).unwrap();
    save_jpeg(&photo("camera.png"), &b.join("camera.jpg"), 90);
    let mut lib = library(tmp.path());
    lib.add_folder(&a).unwrap();
    lib.add_folder(&b).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    assert_eq!(lib.store().unwrap().len().unwrap(), ORIGINALS.len() + 1);
    assert_eq!(lib.remove_folder(&a).unwrap(), ORIGINALS.len());
    assert_eq!(lib.store().unwrap().len().unwrap(), 1);
    assert_eq!(lib.folders().unwrap().len(), 1);
    assert!(a.join("cat.jpg").is_file(), "files on disk are untouched");
    assert!(matches!(lib.remove_folder(&a), Err(Error::NotAFolder(_))));
}

#[test]
fn the_store_is_rebuilt_from_the_catalog_without_re_embedding() {
    let tmp = tempfile::tempdir().unwrap();
    let (lib, _) = indexed_originals(tmp.path());
    drop(lib);
    std::fs::remove_dir_all(tmp.path().join("library/store")).unwrap();
    let mut lib = library(tmp.path());
    assert_eq!(lib.store().unwrap().len().unwrap(), ORIGINALS.len());
    let report = lib.index(&ignore, &Cancel::new()).unwrap();
    assert_eq!(report.embedding.embedded, 0);
}

#[test]
fn unicode_and_very_long_paths_are_indexed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut deep = tmp.path().join("photos");
    let root = deep.clone();
    for i in 0..6 {
        deep = deep.join(format!("{i}-{}", "ü".repeat(45)));
    }
    std::fs::create_dir_all(&deep).unwrap();
    let file = deep.join("Ferien 2024 – 猫 🐈.jpg");
    save_jpeg(&photo("chelsea.png"), &file, 85);
    assert!(file.as_os_str().len() > 512);
    let mut lib = library(tmp.path());
    lib.add_folder(&root).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();
    let hits = lib.search_file(&file, 1, &Filter::default()).unwrap().hits;
    assert_eq!(hits[0].path, std::fs::canonicalize(&file).unwrap());
    assert!(hits[0].is_query);
}

#[test]
fn an_unreadable_folder_never_stops_the_run_and_is_reported() {
    // Run as root, permissions do not apply and the folder is simply read;
    // the report is then only checked for ordinary users.
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_originals(&photos, ORIGINALS.len());
    let locked = photos.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    save_jpeg(&photo("camera.png"), &locked.join("secret.jpg"), 80);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut lib = library(tmp.path());
    lib.add_folder(&photos).unwrap();
    let events = Events::default();
    let report = lib.index(&|e| events.push(e), &Cancel::new());
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let report = report.unwrap();
    assert!(report.embedding.embedded as usize >= ORIGINALS.len());
    if !running_as_root() {
        assert!(events.take().iter().any(|e| matches!(e, Event::Unreadable { .. })));
    }
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}
