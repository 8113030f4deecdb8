//! The engine runs the library on its own thread: calls are answered while
//! photos are indexed, progress counts the whole job across interruptions,
//! pause holds indexing back, and files added to a watched folder arrive.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use photofinder_core::engine::{Changes, Engine, EngineState, Notice};
use photofinder_core::{Filter, WatchOptions};

#[derive(Default)]
struct Notices(Mutex<Vec<Notice>>);

impl Notices {
    fn all(&self) -> Vec<Notice> {
        self.0.lock().unwrap().clone()
    }

    fn changes(&self) -> Changes {
        let mut total = Changes::default();
        for n in self.all() {
            if let Notice::Changed { changes } = n {
                total.added += changes.added;
                total.removed += changes.removed;
                total.recent.extend(changes.recent);
            }
        }
        total
    }
}

fn start(tmp: &Path) -> (Engine, Arc<Notices>) {
    let notices = Arc::new(Notices::default());
    let n = notices.clone();
    let dir = tmp.to_path_buf();
    let options =
        WatchOptions { debounce: Duration::from_millis(200), folder_check: Duration::from_millis(300), ..Default::default() };
    let engine = Engine::start(move || Ok(library(&dir)), options, move |notice| n.0.lock().unwrap().push(notice)).unwrap();
    (engine, notices)
}

fn wait_for(what: &str, engine: &Engine, done: impl Fn(&photofinder_core::Status) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = engine.call(|lib| lib.status()).unwrap();
        if done(&status) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {:?}", status.counts);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn calls_are_answered_while_indexing_and_progress_spans_the_interruptions() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_with_variants(&photos, None);
    let files = std::fs::read_dir(&photos).unwrap().count() as u64;
    let (engine, notices) = start(tmp.path());
    let p = photos.clone();
    engine.call(move |lib| lib.add_folder(&p)).unwrap();

    // Query the library over and over while it indexes: each call interrupts
    // the indexing step, which must resume rather than start over.
    let mut answered = 0;
    loop {
        let status = engine.call(|lib| lib.status()).unwrap();
        let photos_now = engine.call(|lib| lib.photos(0, 1000)).unwrap();
        assert_eq!(photos_now.len() as u64, status.counts.indexed.min(1000));
        answered += 1;
        if status.counts.files == files && status.counts.pending == 0 {
            break;
        }
        assert!(answered < 3000, "indexing never finished: {:?}", status.counts);
        // About as often as a person typing a query.
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = engine.call(|lib| lib.status()).unwrap();
    assert_eq!(status.counts.indexed, files, "every photo indexed once: {:?}", status.counts);

    // The job's last progress counts every photo it embedded, interruptions or not.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && !notices.all().iter().any(|n| matches!(n, Notice::State { state: EngineState::Idle }))
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let last = notices
        .all()
        .into_iter()
        .rev()
        .find_map(|n| match n {
            Notice::Progress { progress } if progress.phase == photofinder_core::progress::Phase::Embedding => {
                Some(progress)
            }
            _ => None,
        })
        .expect("embedding progress was reported");
    assert_eq!((last.done, last.total), (files, files), "progress of the whole job");
    assert_eq!(notices.changes().added, files, "each photo announced as added once");
    assert!(notices.all().iter().any(|n| matches!(n, Notice::State { state: EngineState::Indexing })));

    // A search through the engine finds the photo itself first.
    let cat = photos.join("cat.jpg");
    let hits = engine.call(move |lib| lib.search_file(&cat, 3, &Filter::default())).unwrap();
    assert!(hits.hits[0].path.ends_with("cat.jpg") && hits.hits[0].distance < 1e-4);
    assert!(hits.hits[0].hash.is_some(), "hits name their thumbnail");
    engine.shutdown();
}

#[test]
fn pause_holds_indexing_back_and_new_files_arrive_after_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_originals(&photos, 2);
    let (engine, notices) = start(tmp.path());
    let p = photos.clone();
    engine.call(move |lib| lib.add_folder(&p)).unwrap();
    wait_for("the first two photos", &engine, |s| s.counts.indexed == 2);

    engine.pause();
    let extra = tmp.path().join("extra");
    let added = write_originals(&extra, 4).into_iter().skip(2).collect::<Vec<_>>();
    for path in &added {
        std::fs::rename(path, photos.join(path.file_name().unwrap())).unwrap();
    }
    // Paused: the events are gathered, nothing is indexed. (This waits a
    // while and checks nothing happened; it cannot pass by being slow.)
    std::thread::sleep(Duration::from_secs(2));
    let status = engine.call(|lib| lib.status()).unwrap();
    assert_eq!(status.counts.files, 2, "paused: not even scanned");
    assert!(notices.all().iter().any(|n| matches!(n, Notice::State { state: EngineState::Paused })));

    engine.resume();
    wait_for("the moved-in photos", &engine, |s| s.counts.indexed == 4);
    let deadline = Instant::now() + Duration::from_secs(10);
    while notices.changes().added < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let changes = notices.changes();
    assert_eq!(changes.added, 4);
    for path in &added {
        let name = path.file_name().unwrap();
        assert!(changes.recent.iter().any(|r| r.file_name() == Some(name)), "{name:?} announced");
    }

    // Removing the folder empties the library and stops watching it.
    let p = photos.clone();
    engine.call(move |lib| lib.remove_folder(&p)).unwrap();
    write_originals(&photos, 1);
    std::thread::sleep(Duration::from_secs(1));
    let status = engine.call(|lib| lib.status()).unwrap();
    assert_eq!((status.counts.files, status.folders.len()), (0, 0));
    engine.shutdown();
}

#[test]
fn stop_ends_the_job_and_rescan_finishes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_with_variants(&photos, None);
    let files = std::fs::read_dir(&photos).unwrap().count() as u64;
    let (engine, _notices) = start(tmp.path());
    engine.pause();
    let p = photos.clone();
    engine.call(move |lib| lib.add_folder(&p)).unwrap();
    engine.stop();
    engine.resume();
    std::thread::sleep(Duration::from_secs(1));
    let status = engine.call(|lib| lib.status()).unwrap();
    assert_eq!(status.counts.indexed, 0, "stopped before it began: {:?}", status.counts);

    engine.rescan();
    wait_for("all photos after the rescan", &engine, |s| s.counts.indexed == files);
    engine.shutdown();
    // The engine is gone: calls fail cleanly instead of hanging.
    assert!(engine.call(|lib| lib.status()).is_err());
}
