//! Keeping the library in step with the disk while it runs.
//!
//! File system events are debounced (a burst of thousands of events becomes a
//! few batches), turned into the set of paths they touch, and handed to
//! `Library::sync_paths`, which compares those paths with the catalog. Events
//! are only hints: whatever they say, the disk is re-read, so a lost or
//! reordered event cannot corrupt the index, and an overflow falls back to a
//! full rescan.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::event::{ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult};

use crate::catalog::FileRow;
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

impl Library {
    /// Catch up with what changed while nothing watched (scan + index), then
    /// follow the watched folders until `cancel` is set.
    pub fn watch(&mut self, options: &WatchOptions, sink: Sink, cancel: &Cancel) -> Result<()> {
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let mut debouncer = new_debouncer(options.debounce, None, tx)?;
        let mut watched: BTreeSet<PathBuf> = BTreeSet::new();

        let mut refresh_watches = |lib: &mut Library, debouncer: &mut notify_debouncer_full::Debouncer<_, _>| -> Result<Vec<PathBuf>> {
            let mut returned = Vec::new();
            for folder in lib.catalog.folders()? {
                let present = folder.path.is_dir();
                if present && !watched.contains(&folder.path) {
                    match debouncer.watch(&folder.path, RecursiveMode::Recursive) {
                        Ok(()) => {
                            watched.insert(folder.path.clone());
                            if folder.state == "missing" {
                                returned.push(folder.path.clone());
                            }
                        }
                        Err(e) => sink(Event::Unreadable { path: folder.path.clone(), error: e.to_string() }),
                    }
                } else if !present && watched.contains(&folder.path) {
                    let _ = debouncer.unwatch(&folder.path);
                    watched.remove(&folder.path);
                }
                if !present && folder.state != "missing" {
                    lib.catalog.set_folder_state(folder.id, "missing")?;
                    sink(Event::FolderMissing { path: folder.path.clone() });
                }
            }
            // Folders removed from the library meanwhile.
            let current: BTreeSet<PathBuf> = lib.catalog.folders()?.into_iter().map(|f| f.path).collect();
            for gone in watched.iter().filter(|p| !current.contains(*p)).cloned().collect::<Vec<_>>() {
                let _ = debouncer.unwatch(&gone);
                watched.remove(&gone);
            }
            Ok(returned)
        };

        // Watch first, then scan: a change made during the catch-up scan is
        // then seen by one or the other.
        refresh_watches(self, &mut debouncer)?;
        self.index(sink, cancel)?;
        let mut last_check = Instant::now();
        // Vanished files waiting out `move_grace`, by id, with when they vanished.
        let mut held: HashMap<i64, (FileRow, Instant)> = HashMap::new();

        while !cancel.is_cancelled() {
            let mut work = Work::default();
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(result) => {
                    collect(result, &mut work);
                    while let Ok(more) = rx.try_recv() {
                        collect(more, &mut work);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Config("the file watcher stopped".into()));
                }
            }
            if last_check.elapsed() >= options.folder_check {
                last_check = Instant::now();
                for back in refresh_watches(self, &mut debouncer)? {
                    sink(Event::FolderBack { path: back.clone() });
                    work.paths.insert(back);
                }
                if self.catalog.folders()?.iter().any(|f| f.state == "missing" && f.path.is_dir()) {
                    work.rescan.get_or_insert_with(|| "a folder came back".into());
                }
            }
            let result = if let Some(reason) = work.rescan.take() {
                sink(Event::Rescan { reason });
                // The full scan settles held rows itself.
                held.clear();
                self.index(sink, cancel).map(|_| ())
            } else if !work.paths.is_empty() {
                let paths = outermost(std::mem::take(&mut work.paths));
                self.sync_held(&paths, &mut held, sink, cancel)
                    .and_then(|_| self.embed_pending(sink, cancel).map(|_| ()))
            } else {
                Ok(())
            };
            let expired: Vec<FileRow> = {
                let (old, young): (Vec<_>, Vec<_>) =
                    held.drain().partition(|(_, (_, since))| since.elapsed() >= options.move_grace);
                held.extend(young);
                old.into_iter().map(|(_, (row, _))| row).collect()
            };
            let result = result.and_then(|_| self.forget(&expired, sink));
            match result {
                Ok(()) | Err(Error::Cancelled) => {}
                // A model or store failure is not the watcher's to swallow.
                Err(e @ (Error::ModelMissing { .. } | Error::Runtime(_) | Error::Model { .. })) => return Err(e),
                Err(e) => log::warn!("watch: {e}"),
            }
        }
        let rows: Vec<FileRow> = held.into_values().map(|(row, _)| row).collect();
        self.forget(&rows, sink)
    }

    /// Sync `paths`, offering the held rows as move sources and holding
    /// what vanishes now.
    fn sync_held(
        &mut self,
        paths: &[PathBuf],
        held: &mut HashMap<i64, (FileRow, Instant)>,
        sink: Sink,
        cancel: &Cancel,
    ) -> Result<()> {
        let rows: Vec<FileRow> = held.values().map(|(row, _)| row.clone()).collect();
        let outcome = self.sync_paths_with(paths, rows, Vanished::Keep, sink, cancel)?;
        let now = Instant::now();
        let mut next = HashMap::new();
        for row in outcome.vanished {
            let since = held.get(&row.id).map_or(now, |(_, t)| *t);
            next.insert(row.id, (row, since));
        }
        *held = next;
        Ok(())
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
