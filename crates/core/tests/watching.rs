//! The watcher keeps the index in step with the disk: creates, edits,
//! renames, moves between folders, deletes, bursts, vanishing folders.
//!
//! Each test runs `Library::watch` on a thread over real inotify and checks
//! the catalog through a second connection until the expected state appears
//! (within a generous deadline: the machine may be busy).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use photofinder_core::catalog::{Catalog, FileState};
use photofinder_core::{Cancel, Event, WatchOptions};

struct Watching {
    cancel: Cancel,
    thread: Option<JoinHandle<()>>,
    events: Arc<Events>,
    catalog: Catalog,
}

impl Watching {
    fn start(tmp: &Path, folders: &[&Path]) -> Watching {
        let mut lib = library(tmp);
        for f in folders {
            lib.add_folder(f).unwrap();
        }
        let cancel = Cancel::new();
        let events = Arc::new(Events::default());
        let (c, e) = (cancel.clone(), events.clone());
        let options = WatchOptions {
            debounce: Duration::from_millis(200),
            folder_check: Duration::from_millis(300),
            move_grace: Duration::from_secs(5),
        };
        let thread = std::thread::spawn(move || {
            lib.watch(&options, &|ev| e.push(ev), &c).expect("watch runs until cancelled");
        });
        let catalog = Catalog::open(&tmp.join("library/catalog.db")).unwrap();
        let w = Watching { cancel, thread: Some(thread), events, catalog };
        // The catch-up index is done when everything present is indexed.
        w.wait("initial index", |c| c.counts().unwrap().pending == 0 && c.counts().unwrap().files > 0 || folders_empty(folders));
        w
    }

    fn wait(&self, what: &str, done: impl Fn(&Catalog) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if done(&self.catalog) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for: {what}; catalog {:?}", self.catalog.counts().unwrap());
    }

    fn indexed(&self, path: &Path) -> bool {
        self.catalog.file_by_path(path).unwrap().is_some_and(|r| r.state == FileState::Indexed)
    }

    fn id(&self, path: &Path) -> i64 {
        self.catalog.file_by_path(path).unwrap().unwrap().id
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.thread.take() {
            let result = t.join();
            if !std::thread::panicking() {
                result.expect("the watcher thread ended cleanly");
            }
        }
    }
}

fn folders_empty(folders: &[&Path]) -> bool {
    folders.iter().all(|f| std::fs::read_dir(f).map(|mut d| d.next().is_none()).unwrap_or(true))
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap()
}

#[test]
fn create_modify_rename_and_delete_are_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    save_jpeg(&photo("rocket.jpg"), &photos.join("rocket.jpg"), 85);
    let photos = canonical(&photos);
    let w = Watching::start(tmp.path(), &[&photos]);

    // Create.
    save_jpeg(&photo("chelsea.png"), &photos.join("cat.jpg"), 85);
    w.wait("created file indexed", |_| w.indexed(&photos.join("cat.jpg")));

    // Modify: new content replaces the old vector.
    let id = w.id(&photos.join("cat.jpg"));
    let before = w.catalog.file(id).unwrap().unwrap().hash;
    save_jpeg(&photo("coffee.png"), &photos.join("cat.jpg"), 85);
    w.wait("modified file re-indexed", |c| {
        let r = c.file(id).unwrap().unwrap();
        r.state == FileState::Indexed && r.hash != before
    });

    // Rename: same id, no re-embedding.
    let embedded = w.events.embedded();
    std::fs::rename(photos.join("cat.jpg"), photos.join("coffee.jpg")).unwrap();
    w.wait("renamed file follows", |c| c.file_by_path(&photos.join("coffee.jpg")).unwrap().is_some());
    assert_eq!(w.id(&photos.join("coffee.jpg")), id);
    assert!(w.catalog.file_by_path(&photos.join("cat.jpg")).unwrap().is_none());
    assert_eq!(w.events.embedded(), embedded, "a rename is not re-embedded");

    // Delete.
    std::fs::remove_file(photos.join("coffee.jpg")).unwrap();
    w.wait("deleted file forgotten", |c| c.file(id).unwrap().is_none());
    assert_eq!(w.catalog.counts().unwrap().files, 1);
}

#[test]
fn a_video_arriving_in_a_watched_folder_gets_its_keyframes_and_loses_them_when_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let media = tmp.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    save_jpeg(&photo("rocket.jpg"), &media.join("rocket.jpg"), 85);
    let media = canonical(&media);
    let w = Watching::start(tmp.path(), &[&media]);

    // Written elsewhere, then moved in whole (as a download or a copy finishes).
    let outside = tmp.path().join("clip.mp4");
    slideshow(&["chelsea.png", "coffee.png"], 3, &outside);
    std::fs::rename(&outside, media.join("clip.mp4")).unwrap();
    w.wait("video indexed", |_| w.indexed(&media.join("clip.mp4")));
    let id = w.id(&media.join("clip.mp4"));
    let frames = w.catalog.frames_of(id).unwrap();
    assert!(frames.len() >= 2, "a frame for each picture: {frames:?}");

    std::fs::remove_file(media.join("clip.mp4")).unwrap();
    w.wait("video forgotten", |c| c.file(id).unwrap().is_none());
    assert!(w.catalog.frames_of(id).unwrap().is_empty());
}

#[test]
fn moves_between_watched_folders_and_folder_renames_keep_embeddings() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(a.join("trip")).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    for (short, file) in &ORIGINALS[..4] {
        save_jpeg(&photo(file), &a.join("trip").join(format!("{short}.jpg")), 85);
    }
    let (a, b) = (canonical(&a), canonical(&b));
    let w = Watching::start(tmp.path(), &[&a, &b]);
    let cat_id = w.id(&a.join("trip/cat.jpg"));
    let embedded = w.events.embedded();

    std::fs::rename(a.join("trip/cat.jpg"), b.join("cat.jpg")).unwrap();
    w.wait("moved to the other folder", |c| c.file_by_path(&b.join("cat.jpg")).unwrap().is_some());
    let row = w.catalog.file(cat_id).unwrap().unwrap();
    assert_eq!(row.path, b.join("cat.jpg"));
    let b_folder = w.catalog.folder_by_path(&b).unwrap().unwrap();
    assert_eq!(row.folder_id, b_folder.id, "it now belongs to the folder it is in");

    std::fs::rename(a.join("trip"), a.join("holiday")).unwrap();
    w.wait("renamed folder follows", |c| {
        c.files_under(&a.join("holiday")).unwrap().len() == 3 && c.files_under(&a.join("trip")).unwrap().is_empty()
    });
    assert_eq!(w.events.embedded(), embedded, "moves are never re-embedded");
    assert_eq!(w.catalog.counts().unwrap().indexed, 4);
}

#[test]
fn a_file_moved_out_and_back_in_moments_later_keeps_its_id_and_embedding() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(photos.join("sub")).unwrap();
    save_jpeg(&photo("chelsea.png"), &photos.join("cat.jpg"), 85);
    let photos = canonical(&photos);
    let w = Watching::start(tmp.path(), &[&photos]);
    let id = w.id(&photos.join("cat.jpg"));
    w.events.take();

    // Two separate events, in separate batches: gone, then (elsewhere) back.
    let outside = tmp.path().join("outside.jpg");
    std::fs::rename(photos.join("cat.jpg"), &outside).unwrap();
    std::thread::sleep(Duration::from_millis(800));
    std::fs::rename(&outside, photos.join("sub/cat-again.jpg")).unwrap();
    w.wait("file back", |c| c.file_by_path(&photos.join("sub/cat-again.jpg")).unwrap().is_some());
    assert_eq!(w.id(&photos.join("sub/cat-again.jpg")), id);
    // SQLite gives a new row the largest id + 1, so a forgotten and re-added
    // file can come back with its old id: only the events tell a move.
    let events = w.events.take();
    assert!(!events.iter().any(|e| matches!(e, Event::Removed { .. })), "held through its absence, not forgotten: {events:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::Added { .. })), "and not embedded again: {events:?}");
    assert_eq!(w.catalog.counts().unwrap().files, 1);
}

#[test]
fn a_burst_of_thousands_of_files_is_indexed_and_deleted() {
    const N: usize = 2000;
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let photos = canonical(&photos);
    let w = Watching::start(tmp.path(), &[&photos]);

    // Twenty distinct small pictures, each copied a hundred times: the burst
    // tests event handling; identical content is embedded once.
    let base = image::imageops::resize(&photo("astronaut.png"), 64, 64, image::imageops::FilterType::Triangle);
    let mut encoded = Vec::new();
    for i in 0..20u8 {
        let p = tmp.path().join(format!("src{i}.jpg"));
        save_jpeg(&image::imageops::brighten(&base, i as i32 * 5), &p, 80);
        encoded.push(std::fs::read(&p).unwrap());
    }
    let burst = photos.join("burst");
    std::fs::create_dir_all(&burst).unwrap();
    for i in 0..N {
        std::fs::write(burst.join(format!("img{i:04}.jpg")), &encoded[i % 20]).unwrap();
    }
    w.wait("burst indexed", |c| {
        let n = c.counts().unwrap();
        n.files as usize == N && n.indexed as usize == N
    });
    assert!(w.events.embedded() <= N);

    for i in 0..N {
        std::fs::remove_file(burst.join(format!("img{i:04}.jpg"))).unwrap();
    }
    w.wait("burst deleted", |c| c.counts().unwrap().files == 0);
}

#[test]
fn a_folder_that_vanishes_keeps_its_photos_and_is_rescanned_when_it_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("card");
    std::fs::create_dir_all(&photos).unwrap();
    save_jpeg(&photo("chelsea.png"), &photos.join("cat.jpg"), 85);
    save_jpeg(&photo("coffee.png"), &photos.join("coffee.jpg"), 85);
    let photos = canonical(&photos);
    let w = Watching::start(tmp.path(), &[&photos]);

    // The card is unplugged: the folder disappears.
    let aside = tmp.path().join("card-unplugged");
    std::fs::rename(&photos, &aside).unwrap();
    w.wait("folder marked missing", |c| c.folders().unwrap()[0].state == "missing");
    assert_eq!(w.catalog.counts().unwrap().indexed, 2, "photos of a missing folder are kept");

    // While it was away one photo was deleted and one added.
    std::fs::remove_file(aside.join("coffee.jpg")).unwrap();
    save_jpeg(&photo("rocket.jpg"), &aside.join("rocket.jpg"), 85);
    std::fs::rename(&aside, &photos).unwrap();
    w.wait("folder back and rescanned", |c| {
        c.folders().unwrap()[0].state == "ok"
            && c.file_by_path(&photos.join("coffee.jpg")).unwrap().is_none()
            && w.indexed(&photos.join("rocket.jpg"))
    });
    assert!(w.events.take().iter().any(|e| matches!(e, Event::FolderMissing { .. })));

    // And it is watched again.
    save_jpeg(&photo("china.jpg"), &photos.join("china.jpg"), 85);
    w.wait("new file after return indexed", |_| w.indexed(&photos.join("china.jpg")));
}
