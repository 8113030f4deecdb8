//! Keeping the library in step with the disk while it runs.
//!
//! File system events are debounced (a burst of thousands of events becomes a
//! few batches), turned into the set of paths they touch, and handed to
//! `Library::sync_paths`, which compares those paths with the catalog. Events
//! are only hints: whatever they say, the disk is re-read, so a lost or
//! reordered event cannot corrupt the index, and an overflow falls back to a
//! full rescan.
//!
//! Sits above the `Library` it drives: it decides when to look, the library
//! what changed.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::event::{ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult};

use crate::catalog::{FileRow, FolderState};
use crate::error::{Error, Result};
use crate::library::Library;
use crate::scan::Vanished;
use crate::progress::{Cancel, Event, Sink};

#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// How long events for a file are gathered before it is looked at.
    pub debounce: Duration,
    /// How often vanished or returned folders are checked for.
    pub folder_check: Duration,
    /// How long a vanished file is held before it is deleted, waiting for
    /// the other half of a move whose events came apart.
    pub move_grace: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(300),
            folder_check: Duration::from_secs(2),
            move_grace: Duration::from_secs(2),
        }
    }
}

/// What one batch of events asks for.
#[derive(Debug, Default)]
struct Work {
    paths: BTreeSet<PathBuf>,
    rescan: Option<String>,
    /// Files were found that may wait for embedding.
    embed: bool,
}

fn collect(result: DebounceEventResult, work: &mut Work) {
    match result {
        Ok(events) => {
            for e in events {
                if e.need_rescan() {
                    work.rescan = Some("the watcher reported lost events".into());
                }
                match e.kind {
                    EventKind::Access(_) => {}
                    // Both ends of a rename: the old path is gone, the new one
                    // is read; sync_paths pairs them by content as a move.
                    EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => work.paths.extend(e.paths.iter().cloned()),
                    _ => work.paths.extend(e.paths.iter().cloned()),
                }
            }
        }
        Err(errors) => {
            work.rescan = Some(errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "));
        }
    }
}

/// Drop paths below other paths in the set: syncing a folder covers its content.
fn outermost(paths: BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in paths {
        if !out.iter().any(|o| p.starts_with(o)) {
            out.retain(|o| !o.starts_with(&p));
            out.push(p);
        }
    }
    out
}

type Debouncer = notify_debouncer_full::Debouncer<notify::RecommendedWatcher, notify_debouncer_full::RecommendedCache>;

/// Follows the library's folders on disk. The owner of the `Library` drives
/// it: `wait` gathers events, `step` does what they ask. The two are apart
/// so that a front end can answer queries between steps, and a step stopped
/// by its `Cancel` leaves its work queued for the next one.
pub struct Watcher {
    options: WatchOptions,
    debouncer: Debouncer,
    rx: mpsc::Receiver<DebounceEventResult>,
    watched: BTreeSet<PathBuf>,
    /// Work gathered but not done yet.
    work: Work,
    /// Vanished files waiting out `move_grace`, by id, with when they vanished.
    held: HashMap<i64, (FileRow, Instant)>,
    last_check: Instant,
}

impl Watcher {
    /// Watches the library's folders and queues a catch-up scan of what
    /// changed while nothing watched.
    pub fn new(lib: &mut Library, options: WatchOptions, sink: Sink) -> Result<Watcher> {
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let debouncer = new_debouncer(options.debounce, None, tx)?;
        let mut w = Watcher {
            options,
            debouncer,
            rx,
            watched: BTreeSet::new(),
            work: Work::default(),
            held: HashMap::new(),
            last_check: Instant::now(),
        };
        // Watch first, then scan: a change made during the catch-up scan is
        // then seen by one or the other.
        w.refresh(lib, sink)?;
        w.work.rescan = Some("catching up with changes made while not watching".into());
        Ok(w)
    }

    /// Queue a full scan of every folder.
    pub fn request_rescan(&mut self, reason: &str) {
        self.work.rescan.get_or_insert_with(|| reason.to_string());
    }

    /// Drop the queued work (a cancelled index); the files stay pending in
    /// the catalog and are picked up by the next scan.
    pub fn clear(&mut self) {
        self.work = Work::default();
    }

    /// Whether files are waiting to be scanned or embedded.
    pub fn has_queued(&self) -> bool {
        self.work.rescan.is_some() || !self.work.paths.is_empty() || self.work.embed
    }

    /// Whether a `step` has something to do now: queued work, held files
    /// whose grace ran out, or the periodic check for vanished and returning
    /// folders. Files still within their grace are not work: the caller goes
    /// on gathering events, which is how their return is seen as a move.
    pub fn has_work(&self) -> bool {
        self.has_queued()
            || self.held.values().any(|(_, since)| since.elapsed() >= self.options.move_grace)
            || self.last_check.elapsed() >= self.options.folder_check
    }

    /// Start or stop watching as folders were added, removed, vanished or came
    /// back. New and returning folders are queued for a scan.
    pub fn refresh(&mut self, lib: &mut Library, sink: Sink) -> Result<()> {
        self.last_check = Instant::now();
        for folder in lib.catalog().folders()? {
            let present = lib.is_present(&folder, sink)?;
            if present && !self.watched.contains(&folder.path) {
                match self.debouncer.watch(&folder.path, RecursiveMode::Recursive) {
                    Ok(()) => {
                        self.watched.insert(folder.path.clone());
                        if folder.state == FolderState::Missing {
                            sink(Event::FolderBack { path: folder.path.clone() });
                            self.request_rescan("a folder came back");
                        } else {
                            self.work.paths.insert(folder.path.clone());
                        }
                    }
                    Err(e) => sink(Event::Unreadable { path: folder.path.clone(), error: e.to_string() }),
                }
            } else if !present && self.watched.contains(&folder.path) {
                let _ = self.debouncer.unwatch(&folder.path);
                self.watched.remove(&folder.path);
            }
            if present && folder.state == FolderState::Missing {
                self.request_rescan("a folder came back");
            }
        }
        // Folders removed from the library meanwhile.
        let current: BTreeSet<PathBuf> = lib.catalog().folders()?.into_iter().map(|f| f.path).collect();
        for gone in self.watched.iter().filter(|p| !current.contains(*p)).cloned().collect::<Vec<_>>() {
            let _ = self.debouncer.unwatch(&gone);
            self.watched.remove(&gone);
            self.work.paths.retain(|p| !p.starts_with(&gone));
        }
        Ok(())
    }

    /// Gather file system events for up to `timeout` (less when some arrive).
    pub fn wait(&mut self, timeout: Duration) -> Result<()> {
        match self.rx.recv_timeout(timeout) {
            Ok(result) => {
                collect(result, &mut self.work);
                while let Ok(more) = self.rx.try_recv() {
                    collect(more, &mut self.work);
                }
                Ok(())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(()),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::Closed("the file watcher stopped".into())),
        }
    }

    /// Do the queued work: a full scan or the changed paths, then the
    /// embedding they call for, then settle vanished files whose grace ran
    /// out. Stopped by `cancel`, it keeps what it did not finish queued (a
    /// scan that completed is not repeated) and returns `Error::Cancelled`.
    pub fn step(&mut self, lib: &mut Library, sink: Sink, cancel: &Cancel) -> Result<()> {
        if self.last_check.elapsed() >= self.options.folder_check {
            self.refresh(lib, sink)?;
        }
        let result = self.scan_and_embed(lib, sink, cancel);
        let expired: Vec<FileRow> = {
            let (old, young): (Vec<_>, Vec<_>) =
                self.held.drain().partition(|(_, (_, since))| since.elapsed() >= self.options.move_grace);
            self.held.extend(young);
            old.into_iter().map(|(_, (row, _))| row).collect()
        };
        lib.forget(&expired, sink)?;
        result
    }

    fn scan_and_embed(&mut self, lib: &mut Library, sink: Sink, cancel: &Cancel) -> Result<()> {
        if let Some(reason) = self.work.rescan.take() {
            sink(Event::Rescan { reason: reason.clone() });
            // The full scan settles held rows itself.
            self.held.clear();
            self.work.paths.clear();
            if let Err(e) = lib.scan(sink, cancel) {
                self.work.rescan = Some(reason);
                return Err(e);
            }
            lib.collect_garbage()?;
            self.work.embed = true;
        } else if !self.work.paths.is_empty() {
            let paths = outermost(std::mem::take(&mut self.work.paths));
            if let Err(e) = self.sync_held(lib, &paths, sink, cancel) {
                // sync_paths compares disk and catalog, so doing it again is safe.
                self.work.paths.extend(paths);
                return Err(e);
            }
            self.work.embed = true;
        }
        if self.work.embed {
            lib.embed_pending(sink, cancel)?;
            self.work.embed = false;
            crate::memory::release_free();
        }
        Ok(())
    }

    /// Settle every held row now (the watcher is going away).
    pub fn finish(mut self, lib: &mut Library, sink: Sink) -> Result<()> {
        let rows: Vec<FileRow> = self.held.drain().map(|(_, (row, _))| row).collect();
        lib.forget(&rows, sink)
    }

    /// Sync `paths`, offering the held rows as move sources and holding
    /// what vanishes now.
    fn sync_held(&mut self, lib: &mut Library, paths: &[PathBuf], sink: Sink, cancel: &Cancel) -> Result<()> {
        let rows: Vec<FileRow> = self.held.values().map(|(row, _)| row.clone()).collect();
        let outcome = lib.sync_paths_with(paths, rows, Vanished::Keep, sink, cancel)?;
        let now = Instant::now();
        let mut next = HashMap::new();
        for row in outcome.vanished {
            let since = self.held.get(&row.id).map_or(now, |(_, t)| *t);
            next.insert(row.id, (row, since));
        }
        self.held = next;
        Ok(())
    }
}

/// Whether a watcher should go on after this error: a model or store
/// failure is not the watcher's to swallow; a file-level one is.
pub fn is_fatal(e: &Error) -> bool {
    matches!(e, Error::ModelMissing { .. } | Error::Runtime(_) | Error::Model { .. })
}

impl Library {
    /// Catch up with what changed while nothing watched (scan + index), then
    /// follow the watched folders until `cancel` is set.
    pub fn watch(&mut self, options: &WatchOptions, sink: Sink, cancel: &Cancel) -> Result<()> {
        let mut watcher = Watcher::new(self, options.clone(), sink)?;
        while !cancel.is_cancelled() {
            if !watcher.has_work() {
                watcher.wait(Duration::from_millis(200))?;
            }
            match watcher.step(self, sink, cancel) {
                Ok(()) | Err(Error::Cancelled) => {}
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => log::warn!("watch: {e}"),
            }
        }
        watcher.finish(self, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, Flag};
    use notify_debouncer_full::DebouncedEvent;

    #[test]
    fn lost_events_and_watcher_errors_ask_for_a_rescan() {
        let created = notify::Event::new(EventKind::Create(CreateKind::File)).add_path("/p/a.jpg".into());
        let mut work = Work::default();
        collect(Ok(vec![DebouncedEvent::new(created, Instant::now())]), &mut work);
        assert!(work.rescan.is_none());
        assert_eq!(work.paths.iter().collect::<Vec<_>>(), [&PathBuf::from("/p/a.jpg")]);

        let overflow = notify::Event::new(EventKind::Other).set_flag(Flag::Rescan);
        collect(Ok(vec![DebouncedEvent::new(overflow, Instant::now())]), &mut work);
        assert!(work.rescan.is_some());

        let mut work = Work::default();
        collect(Err(vec![notify::Error::generic("inotify queue overflow")]), &mut work);
        assert!(work.rescan.unwrap().contains("overflow"));
    }

    #[test]
    fn outermost_paths_cover_their_content() {
        let set: BTreeSet<PathBuf> =
            ["/a/b/c.jpg", "/a/b", "/a/bc.jpg", "/d/e.jpg"].iter().map(PathBuf::from).collect();
        assert_eq!(
            outermost(set),
            vec![PathBuf::from("/a/b"), PathBuf::from("/a/bc.jpg"), PathBuf::from("/d/e.jpg")]
        );
    }
}
