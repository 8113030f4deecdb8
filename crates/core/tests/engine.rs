//! The engine runs the library on its own thread: calls are answered while
//! photos are indexed, progress counts the whole job across interruptions,
//! pause holds indexing back, and files added to a watched folder arrive.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use photofinder_core::engine::{Changes, Engine, EngineState, Notice};
use photofinder_core::explore::ExploreOptions;
use photofinder_core::progress::Phase;
use photofinder_core::{Event, Filter, WatchOptions};

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

/// A progress sink that holds the layout at its first mapping event until
/// the test lets it go, and says when it got there.
fn held_layout() -> (impl Fn(Event) + Send + Sync + 'static, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (reached_tx, reached_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let gate = Mutex::new(Some((reached_tx, release_rx)));
    let sink = move |e: Event| {
        if let Event::Progress(p) = e {
            if p.phase == Phase::Mapping {
                if let Some((reached, release)) = gate.lock().unwrap().take() {
                    reached.send(()).unwrap();
                    let _ = release.recv();
                }
            }
        }
    };
    (sink, reached_rx, release_tx)
}

#[test]
fn the_map_is_laid_out_in_the_background_while_the_engine_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_with_variants(&photos, None);
    let (engine, _) = start(tmp.path());
    let p = photos.clone();
    engine.call(move |lib| lib.add_folder(&p)).unwrap();
    wait_for("indexing", &engine, |s| s.counts.pending == 0 && s.counts.indexed > 10);
    let indexed = engine.call(|lib| lib.status()).unwrap().counts.indexed as usize;

    // No map yet: the answer comes at once, empty and pending, and the layout runs elsewhere.
    let (sink, reached, release) = held_layout();
    let (done_tx, done_rx) = mpsc::channel();
    let first = engine.map(ExploreOptions::default(), sink, move |r| done_tx.send(r.map_err(|e| e.to_string())).unwrap()).unwrap();
    assert!(first.pending && first.points.is_empty());
    reached.recv_timeout(Duration::from_secs(60)).expect("the layout started");
    // Held half-way, the layout does not hold up the engine: calls are answered,
    // and asking for the map again does not start a second layout.
    let hits = engine.call(|lib| lib.search_many_ids(&[1], 3, &Filter::default())).unwrap();
    assert!(!hits.hits.is_empty());
    let second_done = Arc::new(AtomicBool::new(false));
    let flag = second_done.clone();
    let again = engine.map(ExploreOptions::default(), |_| {}, move |_| flag.store(true, Ordering::SeqCst)).unwrap();
    assert!(again.pending);
    release.send(()).unwrap();
    done_rx.recv_timeout(Duration::from_secs(120)).unwrap().expect("the layout is in place");
    let map = engine.map(ExploreOptions::default(), |_| {}, |_| panic!("no layout is due")).unwrap();
    assert!(!map.pending && !map.refitted);
    assert_eq!(map.points.len(), indexed);
    assert!(!second_done.load(Ordering::SeqCst), "one layout at a time");

    // A layout stopped half-way leaves the map there was.
    std::fs::remove_dir_all(tmp.path().join("library").join("explore")).unwrap();
    let (sink, reached, release) = held_layout();
    let (done_tx, done_rx) = mpsc::channel();
    let pending = engine.map(ExploreOptions::default(), sink, move |r| done_tx.send(r.map_err(|e| e.to_string())).unwrap()).unwrap();
    assert!(pending.pending);
    reached.recv_timeout(Duration::from_secs(60)).unwrap();
    engine.stop_map();
    release.send(()).unwrap();
    let stopped = done_rx.recv_timeout(Duration::from_secs(120)).unwrap();
    assert!(stopped.is_err(), "a stopped layout says so: {stopped:?}");
    assert!(!tmp.path().join("library").join("explore").join("efficientnet-lite0.map.json").exists());
    engine.shutdown();
}
