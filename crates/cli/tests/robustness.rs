//! Real-world files and real-world use: a hostile corpus nobody here wrote,
//! JPEGs other viewers show, special files and odd names, two processes on
//! one library, kill -9 while indexing, and nothing left behind.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{dir_from_env, photos_dir, Env};

/// Pillow's `Tests/images` (`scripts/fetch-hostile`).
fn hostile_dir() -> PathBuf {
    let dir = dir_from_env("PHOTOFINDER_HOSTILE", ".cache/hostile");
    assert!(dir.join(".complete").is_file(), "run scripts/test (or scripts/fetch-hostile {})", dir.display());
    // The catalog holds canonical paths.
    dir.canonicalize().unwrap()
}

/// A catalog row: path bytes, size, content hash, state, error.
type Row = (Vec<u8>, i64, Option<Vec<u8>>, String, Option<String>);

/// The catalog's rows, read with SQLite itself rather than through photofinder.
fn catalog_rows(library: &Path) -> Vec<Row> {
    let conn = rusqlite::Connection::open(library.join("catalog.db")).unwrap();
    let mut stmt = conn.prepare("SELECT path, size, hash, state, error FROM files ORDER BY path").unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Every file under `dirs` as (path, size, BLAKE3), as the catalog should hold them.
fn disk_files(dirs: &[PathBuf]) -> BTreeSet<(Vec<u8>, i64, Vec<u8>)> {
    let mut out = BTreeSet::new();
    for dir in dirs {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            out.insert((path.as_os_str().as_bytes().to_vec(), bytes.len() as i64, blake3::hash(&bytes).as_bytes().to_vec()));
        }
    }
    out
}

fn assert_catalog_equals_disk(library: &Path, dirs: &[PathBuf]) {
    let rows = catalog_rows(library);
    assert!(rows.iter().all(|r| r.3 == "indexed"), "every photo indexed: {:?}", rows.iter().find(|r| r.3 != "indexed"));
    let catalog: BTreeSet<_> = rows.into_iter().map(|(p, s, h, _, _)| (p, s, h.expect("indexed files have a hash"))).collect();
    assert_eq!(catalog, disk_files(dirs), "the catalog holds exactly the files on disk, with their sizes and hashes");
}

/// The store holds exactly the catalog's photos: opening it found nothing to repair.
fn assert_store_equals_catalog(env: &Env) {
    let status = env.json(&["status"]);
    assert_eq!(status["store_repaired"], serde_json::json!([0, 0]), "the store was already in step: {status}");
    assert_eq!(status["store_points"], status["indexed"], "{status}");
}

fn wait_with_deadline(child: &mut Child, secs: u64, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `n` distinct small JPEGs made from the real photos (crops and exposures).
fn make_photos(dir: &Path, n: usize, prefix: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let originals: Vec<image::RgbImage> = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "china.jpg", "flower.jpg"]
        .iter()
        .map(|name| image::open(photos_dir().join(name)).unwrap().thumbnail(200, 200).into_rgb8())
        .collect();
    for i in 0..n {
        let base = &originals[i % originals.len()];
        let k = (i / originals.len()) as u32;
        let (w, h) = base.dimensions();
        let crop = image::imageops::crop_imm(base, k % 7 * 3, k / 7 % 7 * 3, w - 24, h - 24).to_image();
        let img = image::DynamicImage::ImageRgb8(crop).brighten((k % 5) as i32 * 6 - 12).into_rgb8();
        img.save(dir.join(format!("{prefix}{i:04}.jpg"))).unwrap();
    }
}

/// A folder of `n` generated photos in `env`, watched but not indexed yet.
fn watched_photos(env: &Env, name: &str, n: usize, prefix: &str) -> PathBuf {
    let dir = env.tmp.path().join(name);
    make_photos(&dir, n, prefix);
    env.json(&["folders", "add", "--no-index", dir.to_str().unwrap()]);
    dir
}

#[test]
fn pillows_hostile_corpus_indexes_to_the_end_and_a_second_run_does_nothing() {
    let env = Env::new();
    let corpus = hostile_dir();
    let (code, out, err) = env.run(&["folders", "add", corpus.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "indexing the corpus ends normally: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let index = &report["index"];
    assert!(index["added"].as_u64().unwrap() > 600, "{index}");
    assert!(index["embedded"].as_u64().unwrap() > 500, "{index}");

    let rows = catalog_rows(&env.tmp.path().join("library"));
    assert_eq!(rows.len() as u64, index["added"].as_u64().unwrap());
    for (path, _, _, state, error) in &rows {
        let name = String::from_utf8_lossy(path);
        match state.as_str() {
            "indexed" => {}
            "failed" | "unsupported" | "skipped" => assert!(error.as_deref().is_some_and(|e| !e.is_empty()), "{name}: no reason"),
            other => panic!("{name} left {other}"),
        }
    }
    // Every file named like a photo is catalogued: none was lost on the way.
    let named: BTreeSet<Vec<u8>> = walk(&corpus)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| ["jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "avif", "heic"].contains(&e.to_string_lossy().to_lowercase().as_str())))
        .map(|p| p.as_os_str().as_bytes().to_vec())
        .collect();
    let catalogued: BTreeSet<Vec<u8>> = rows.iter().map(|r| r.0.clone()).collect();
    let lost: Vec<_> = named.difference(&catalogued).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    assert!(lost.is_empty(), "{} not catalogued, such as {:?}", lost.len(), &lost[..lost.len().min(5)]);
    // Valid files the tiff crate panics on are read.
    for name in ["tiff_tiled_planar_raw.tif", "tiff_tiled_planar_lzw.tiff", "tiff_tiled_planar_16bit_RGB.tiff", "tiff_tiled_planar_16bit_RGBa.tiff"] {
        let path = corpus.join(name);
        let row = rows.iter().find(|r| r.0 == path.as_os_str().as_bytes()).unwrap_or_else(|| panic!("{name} not catalogued"));
        assert_eq!(row.3, "indexed", "{name}: {:?}", row.4);
    }
    // Unsupported features are said as such, not as corruption.
    let lab = rows.iter().find(|r| r.0.ends_with(b"/lab.tif")).unwrap();
    assert_eq!((lab.3.as_str(), lab.4.as_deref().is_some_and(|e| e.starts_with("unsupported: "))), ("unsupported", true), "{lab:?}");

    let again = env.json(&["index"]);
    for key in ["added", "changed", "removed", "embedded", "failed", "unsupported", "skipped"] {
        assert_eq!(again[key], 0, "a second run does no work: {again}");
    }
    let status = env.json(&["status"]);
    assert_eq!(status["pending"], 0);
    assert!(status["unsupported"].as_u64().unwrap() > 0 && status["failed"].as_u64().unwrap() > 0, "{status}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.as_bytes().starts_with(b".") {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&entry.path()));
        } else if entry.file_type().unwrap().is_file() {
            out.push(entry.path());
        }
    }
    out
}

/// A JPEG's bytes with `insert` placed before the first marker `marker` (0xFF, marker).
fn insert_before_marker(jpeg: &[u8], marker: u8, insert: &[u8]) -> Vec<u8> {
    let at = jpeg.windows(2).position(|w| w == [0xff, marker]).expect("marker present");
    [&jpeg[..at], insert, &jpeg[at..]].concat()
}

#[test]
fn jpegs_that_other_viewers_show_are_indexed_and_the_report_says_what_was_wrong() {
    let env = Env::new();
    let photos = env.photos();
    let good = std::fs::read(photos.join("cat.jpg")).unwrap();
    // Stray bytes between segments, as some phone apps write.
    std::fs::write(photos.join("stray.jpg"), insert_before_marker(&good, 0xdb, b"\x00\x00\x00\x00")).unwrap();
    // An ICC profile segment with an impossible sequence number (0 of 0).
    let mut icc = b"\xff\xe2\x00\x1aICC_PROFILE\x00\x00\x00".to_vec();
    icc.extend_from_slice(&[0u8; 10]);
    std::fs::write(photos.join("icc.jpg"), [&good[..2], &icc[..], &good[2..]].concat()).unwrap();
    // The end missing: a copy interrupted, a card pulled out.
    let coffee = std::fs::read(photos.join("coffee.jpg")).unwrap();
    std::fs::write(photos.join("truncated.jpg"), &coffee[..coffee.len() * 2 / 3]).unwrap();

    let added = env.json(&["folders", "add", photos.to_str().unwrap()]);
    assert_eq!(added["index"]["embedded"], 7, "{added}");
    assert_eq!(added["index"]["failed"], 0, "{added}");
    let status = env.json(&["status"]);
    assert_eq!(status["indexed"], 7, "{status}");
    let recovered: Vec<(String, String)> = status["recovered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string(), r["error"].as_str().unwrap().to_string()))
        .collect();
    let warning = |name: &str| recovered.iter().find(|r| r.0 == name).map(|r| r.1.clone()).unwrap_or_default();
    assert!(warning("stray.jpg").contains("extraneous bytes"), "{recovered:?}");
    assert!(warning("truncated.jpg").contains("Premature end"), "{recovered:?}");
    assert!(warning("icc.jpg").contains("ICC"), "{recovered:?}");
    // The truncated photo is still found by its complete original.
    let results = env.json(&["search", photos.join("coffee.jpg").to_str().unwrap(), "-k", "2"]);
    let names: Vec<&str> = results["hits"].as_array().unwrap().iter().map(|h| h["path"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.ends_with("truncated.jpg")), "{names:?}");
}

#[test]
fn special_files_are_counted_and_never_opened_and_odd_names_survive_json() {
    let env = Env::new();
    let photos = env.photos();
    let fifo = photos.join("x.jpg");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let _socket = std::os::unix::net::UnixListener::bind(photos.join("s.jpg")).unwrap();
    std::os::unix::fs::symlink("loop.jpg", photos.join("loop.jpg")).unwrap();
    std::os::unix::fs::symlink("nowhere.jpg", photos.join("gone.jpg")).unwrap();
    let odd = photos.join(OsString::from_vec(b"caf\xe9 \xff.jpg".to_vec()));
    std::fs::rename(photos.join("coffee.jpg"), &odd).unwrap();

    let mut add = env.cmd().args(["folders", "add", photos.to_str().unwrap(), "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let status = wait_with_deadline(&mut add, 300, "indexing a folder with a FIFO in it");
    let out = add.wait_with_output().unwrap();
    assert!(status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["index"]["ignored"], 4, "FIFO, socket, loop and dangling link counted: {report}");
    assert_eq!(report["index"]["embedded"], 4, "{report}");
    let said = String::from_utf8_lossy(&out.stderr);
    for (name, reason) in [("x.jpg", "not a regular file (a FIFO)"), ("s.jpg", "not a regular file (a socket)"), ("loop.jpg", "symbolic link loop"), ("gone.jpg", "symbolic link to nothing")] {
        assert!(said.contains(&format!("{name}: {reason}")), "{name} reported: {said}");
    }

    // The odd name: lossless in JSON, as a display string plus its bytes.
    let out = env.cmd().arg("search").arg(&odd).args(["-k", "1", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hit = &results["hits"][0];
    assert_eq!(hit["path"].as_str().unwrap(), odd.to_string_lossy());
    let hex: String = odd.as_os_str().as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hit["path_bytes"].as_str().unwrap(), hex, "the exact bytes, in hex");
    assert!(env.json(&["explore"]).to_string().contains(&hex));
    let (code, text, _) = env.run(&["status"]);
    assert_eq!(code, 0);
    assert!(text.contains("4 indexed"), "{text}");

    // A query on the FIFO returns at once with a clear error.
    for command in ["search", "labels"] {
        let started = Instant::now();
        let mut child = env.cmd().arg(command).arg(&fifo).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let status = wait_with_deadline(&mut child, 20, &format!("{command} on a FIFO"));
        let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
        assert_eq!(status.code(), Some(5), "{err}");
        assert!(err.contains("not a regular file (a FIFO)"), "{err}");
        eprintln!("{command} on a FIFO answered in {:?}", started.elapsed());
    }
}

#[test]
fn writing_to_a_closed_pipe_ends_quietly() {
    let env = Env::new();
    env.json(&["folders", "add", env.photos().to_str().unwrap()]);
    for args in [&["status"][..], &["explore", "--csv"], &["status", "--json"]] {
        let mut child = env.cmd().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // Like `| head -0`: the reader is gone before the first line is written.
        drop(child.stdout.take());
        let status = wait_with_deadline(&mut child, 60, "a command writing to a closed pipe");
        let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn two_processes_share_a_library_without_a_single_failure() {
    let env = Env::new();
    let main = watched_photos(&env, "watched", 600, "p");
    let mut watch = env.cmd().args(["watch", "--quiet"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();

    let extra: Vec<PathBuf> = (0..20).map(|i| env.tmp.path().join(format!("extra{i:02}"))).collect();
    for (i, dir) in extra.iter().enumerate() {
        make_photos(dir, 1, &format!("e{i:02}-"));
    }
    let query = env.tmp.path().join("query.jpg");
    make_photos(&env.tmp.path().join("q"), 1, "q");
    std::fs::rename(env.tmp.path().join("q/q0000.jpg"), &query).unwrap();

    let failures = std::sync::Mutex::new(Vec::new());
    let run = |args: Vec<String>| {
        let out = env.cmd().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() || err.contains("locked") || err.contains("panicked") {
            failures.lock().unwrap().push(format!("{args:?}: {:?} {err}", out.status.code()));
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| (0..20).for_each(|_| run(vec!["index".into()])));
        s.spawn(|| extra.iter().for_each(|d| run(vec!["folders".into(), "add".into(), d.to_string_lossy().into_owned()])));
        s.spawn(|| (0..20).for_each(|_| run(vec!["search".into(), query.to_string_lossy().into_owned(), "-k".into(), "3".into()])));
        s.spawn(|| (0..20).for_each(|_| run(vec!["status".into()])));
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} failures: {failures:#?}", failures.len());

    let deadline = Instant::now() + Duration::from_secs(300);
    while env.json(&["status"])["indexed"] != 620 {
        assert!(Instant::now() < deadline, "not all indexed: {}", env.json(&["status"]));
        std::thread::sleep(Duration::from_millis(300));
    }
    Command::new("kill").args(["-INT", &watch.id().to_string()]).status().unwrap();
    let status = wait_with_deadline(&mut watch, 60, "watch after Ctrl-C");
    let err = std::io::read_to_string(watch.stderr.take().unwrap()).unwrap();
    assert!(status.success() && !err.contains("locked"), "{err}");

    let mut dirs = vec![main];
    dirs.extend(extra);
    assert_catalog_equals_disk(&env.tmp.path().join("library"), &dirs);
    assert_store_equals_catalog(&env);
}

#[test]
fn kill_dash_9_while_indexing_then_index_leaves_the_library_exact() {
    let env = Env::new();
    let photos = watched_photos(&env, "many", 240, "k");
    // Moments spread over start-up, scanning and embedding (a fixed sequence:
    // the test is the same on every run, the moments differ in what they hit).
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(150 + seed % 2500);
        let mut child = env.cmd().args(["index", "--quiet"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Between kills the folder changes too: a rename and a new photo.
        let from = photos.join(format!("k{:04}.jpg", round));
        std::fs::rename(&from, photos.join(format!("renamed{round}.jpg"))).unwrap();
    }
    // And a photo of its own (the generated ones repeat across folders).
    image::open(photos_dir().join("motorcycle_left.png")).unwrap().thumbnail(200, 200).save(photos.join("late.jpg")).unwrap();
    let report = env.json(&["index"]);
    assert_eq!(report["failed"], 0, "{report}");
    assert_catalog_equals_disk(&env.tmp.path().join("library"), std::slice::from_ref(&photos));
    assert_store_equals_catalog(&env);
    // Every photo finds itself first (a sample across the folder).
    for name in ["renamed0.jpg", "renamed9.jpg", "k0100.jpg", "k0239.jpg", "late.jpg"] {
        let results = env.json(&["similar", photos.join(name).to_str().unwrap(), "-k", "1"]);
        assert!(results["hits"][0]["path"].as_str().unwrap().ends_with(name), "{name}: {results}");
        assert!(results["hits"][0]["distance"].as_f64().unwrap().abs() < 1e-4, "{results}");
    }
}

#[test]
fn thumbnails_follow_the_catalog_and_outside_queries_stay_outside() {
    let env = Env::new();
    let photos = env.photos();
    let library = env.tmp.path().join("library");
    env.json(&["folders", "add", photos.to_str().unwrap()]);
    let count = |dir: &str| walk(&library.join(dir)).len();
    assert_eq!(count("thumbs"), 4);

    // Renamed (same content), deleted, edited (new content), copied.
    std::fs::rename(photos.join("cat.jpg"), photos.join("kitten.jpg")).unwrap();
    std::fs::remove_file(photos.join("rocket.jpg")).unwrap();
    image::open(photos.join("coffee.jpg")).unwrap().fliph().save(photos.join("coffee.jpg")).unwrap();
    std::fs::copy(photos.join("astronaut.jpg"), photos.join("astronaut copy.jpg")).unwrap();
    // What a crash or a full disk leaves behind.
    let shard = walk(&library.join("thumbs"))[0].parent().unwrap().to_path_buf();
    std::fs::write(shard.join(".leftover.jpg.123.ThreadId(2).tmp"), b"").unwrap();
    env.json(&["index"]);

    let distinct: BTreeSet<Vec<u8>> = catalog_rows(&library).into_iter().filter_map(|r| r.2).collect();
    assert_eq!(distinct.len(), 3, "kitten (the cat moved), coffee edited, astronaut and its copy");
    assert_eq!(count("thumbs"), distinct.len(), "one thumbnail per distinct content, no leftovers");

    // Outside photos used as queries go to the query cache, not the library's thumbnails.
    for (i, name) in ["flower.jpg", "china.jpg"].iter().enumerate() {
        let outside = env.tmp.path().join(format!("outside{i}.jpg"));
        image::open(photos_dir().join(name)).unwrap().save(&outside).unwrap();
        env.json(&["search", outside.to_str().unwrap(), "-k", "1"]);
    }
    assert_eq!(count("thumbs"), distinct.len());
    assert_eq!(count("query-thumbs"), 2);
    let status = env.json(&["status"]);
    assert_eq!(status["disk"]["thumbnail_files"], 3, "{status}");
    assert!(status["disk"]["query_cache"].as_u64().unwrap() > 0, "{status}");
    assert!(status["disk"]["catalog"].as_u64().unwrap() > 0 && status["disk"]["store"].as_u64().unwrap() > 0, "{status}");
}
