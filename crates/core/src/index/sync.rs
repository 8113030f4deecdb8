//! The folders a library watches, and bringing the catalog (and the store)
//! in step with them: a changed path is walked and compared with the
//! catalog (`scan`); new and changed files become pending rows for the
//! pipeline, moves keep their vectors, and what vanished leaves the catalog
//! and the store. A folder that goes missing keeps its photos until it is
//! back.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::catalog::{Catalog, FileRow, FileState, Folder, FolderState};
use crate::error::{Error, Result};
use crate::lock::WriterLock;
use crate::progress::{Cancel, Event, Sink};
use crate::scan::{self, Outcome, Vanished};
use crate::store::{self, Stores};
use crate::thumbs::Thumbnails;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
pub struct FolderStatus {
    #[serde(flatten)]
    #[ts(flatten)]
    pub folder: Folder,
    pub files: u64,
    pub indexed: u64,
}

/// The parts of a library that following the disk changes.
pub struct Syncer<'a> {
    pub catalog: &'a Catalog,
    pub stores: &'a mut Stores,
    /// Thumbnails of contents that are gone are dropped.
    pub thumbs: &'a Thumbnails,
    /// The model whose store follows the catalog now (the others are
    /// reconciled when next opened).
    pub model: &'a str,
    /// Held while anything is changed: one writer per library.
    pub writer: &'a Arc<WriterLock>,
}

/// The watched folders with how many of their files are indexed.
pub fn folders(catalog: &Catalog) -> Result<Vec<FolderStatus>> {
    let mut out = Vec::new();
    for folder in catalog.folders()? {
        let files = catalog.files_in_folder(folder.id)?;
        let indexed = files.iter().filter(|f| f.state == FileState::Indexed).count() as u64;
        out.push(FolderStatus { folder, files: files.len() as u64, indexed });
    }
    Ok(out)
}

impl Syncer<'_> {

    /// Watch a folder. Its photos are indexed by the next `index` or `watch`.
    pub fn add_folder(&mut self, path: &Path) -> Result<Folder> {
        let _writing = self.writer.acquire("changing the folders of", &|_| {}, &Cancel::new())?;
        let path = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
        if !path.is_dir() {
            return Err(Error::io(&path, std::io::Error::other("not a folder")));
        }
        std::fs::read_dir(&path).map_err(|e| Error::io(&path, e))?;
        let existing = self.catalog.folders()?;
        if let Some(parent) = existing.iter().find(|f| path.starts_with(&f.path)) {
            return Ok(parent.clone());
        }
        let id = self.catalog.add_folder(&path)?;
        // Folders inside the new one fold into it: one watch, one owner per file.
        for inner in existing.iter().filter(|f| f.path.starts_with(&path)) {
            self.catalog.reparent_folder(inner.id, id)?;
        }
        Ok(self.catalog.folders()?.into_iter().find(|f| f.id == id).expect("just added"))
    }

    /// Stop watching a folder and forget its photos (the files are untouched).
    pub fn remove_folder(&mut self, path: &Path) -> Result<usize> {
        let _writing = self.writer.acquire("changing the folders of", &|_| {}, &Cancel::new())?;
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let folder = self
            .catalog
            .folders()?
            .into_iter()
            .find(|f| f.path == canonical || f.path == path)
            .ok_or_else(|| Error::NotAFolder(path.to_path_buf()))?;
        let mut ids = self.catalog.remove_folder(folder.id)?;
        let files = ids.len();
        ids.extend(self.catalog.take_orphan_frames()?);
        self.stores.write(self.catalog, self.model, &[], &ids, &|_| {})?;
        Ok(files)
    }

    /// Compare every watched folder with the catalog and apply the differences.
    pub fn scan(&mut self, sink: Sink, cancel: &Cancel) -> Result<Outcome> {
        let _writing = self.writer.acquire("indexing", sink, cancel)?;
        let mut total = Outcome::default();
        for folder in self.catalog.folders()? {
            if !self.is_present(&folder, sink)? {
                continue;
            }
            if folder.state == FolderState::Missing {
                self.catalog.set_folder_state(folder.id, FolderState::Ok)?;
                sink(Event::FolderBack { path: folder.path.clone() });
            }
            let outcome = self.sync_paths(std::slice::from_ref(&folder.path), sink, cancel)?;
            total.merge(outcome);
        }
        Ok(total)
    }

    /// Whether a watched folder is there. One that is gone (a drive
    /// unplugged, a share offline) is marked missing, once, and its photos are
    /// kept until it returns rather than deleted; the scan that finds it back
    /// marks it present again.
    pub fn is_present(&self, folder: &Folder, sink: Sink) -> Result<bool> {
        let present = folder.path.is_dir();
        if !present && folder.state != FolderState::Missing {
            self.catalog.set_folder_state(folder.id, FolderState::Missing)?;
            sink(Event::FolderMissing { path: folder.path.clone() });
        }
        Ok(present)
    }

    /// Re-examine `paths` (files or folders, present or gone) and apply what
    /// changed to the catalog and the store. Vanished and new files in one
    /// call are matched by content, so a move is never re-embedded.
    pub fn sync_paths(&mut self, paths: &[PathBuf], sink: Sink, cancel: &Cancel) -> Result<Outcome> {
        self.sync_paths_with(paths, Vec::new(), Vanished::Delete, sink, cancel)
    }

    /// `sync_paths` with rows vanished earlier (`held`) offered again as
    /// sources of moves, and a choice of what to do with what vanishes now.
    pub fn sync_paths_with(
        &mut self,
        paths: &[PathBuf],
        held: Vec<FileRow>,
        vanished: Vanished,
        sink: Sink,
        cancel: &Cancel,
    ) -> Result<Outcome> {
        let _writing = self.writer.acquire("indexing", sink, cancel)?;
        let folders = self.catalog.folders()?;
        // Special files and broken links are reported one by one as they are
        // met, and counted for the report.
        let ignored = std::sync::atomic::AtomicUsize::new(0);
        let counting = |e: Event| {
            if matches!(e, Event::Ignored { .. }) {
                ignored.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            sink(e)
        };
        let walk_sink: Sink = &counting;
        let mut seen: HashSet<i64> = held.iter().map(|r| r.id).collect();
        let mut known = held;
        let mut disk = Vec::new();
        for path in paths {
            let Some(folder) = folders.iter().filter(|f| path.starts_with(&f.path)).max_by_key(|f| f.path.as_os_str().len())
            else {
                continue;
            };
            if !self.is_present(folder, sink)? {
                continue;
            }
            for row in self.catalog.files_under(path)? {
                if seen.insert(row.id) {
                    known.push(row);
                }
            }
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => disk.extend(scan::walk(path, walk_sink, cancel)?),
                Ok(m) if m.is_file() && scan::is_candidate(path) => {
                    if let Ok(f) = scan::DiskFile::stat(path) {
                        disk.push(f);
                    }
                }
                Ok(m) if !m.is_symlink() && scan::has_media_extension(path) => {
                    walk_sink(Event::Ignored { path: path.clone(), reason: crate::files::not_regular(&m.file_type()).to_string() });
                }
                _ => {}
            }
        }
        let mut unique = HashSet::new();
        disk.retain(|f| unique.insert(f.path.clone()));
        let mut outcome = self.catalog.transaction(|c| scan::reconcile(c, &folders, known, disk, vanished, sink, cancel))?;
        outcome.ignored = ignored.load(std::sync::atomic::Ordering::Relaxed);
        self.apply_to_store(&outcome, sink)?;
        Ok(outcome)
    }

    /// Delete vanished rows for good (the watcher's held rows, once their
    /// grace period is over).
    pub fn forget(&mut self, rows: &[FileRow], sink: Sink) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let _writing = self.writer.acquire("indexing", sink, &Cancel::new())?;
        let mut ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        self.catalog.delete_files(&ids)?;
        ids.extend(self.catalog.take_orphan_frames()?);
        self.stores.write(self.catalog, self.model, &[], &ids, sink)?;
        for row in rows {
            if row.state != FileState::Skipped {
                sink(Event::Removed { path: row.path.clone() });
            }
        }
        self.collect_garbage()
    }

    /// Drop what no file of the library holds any more: embeddings, labels
    /// and thumbnails of contents that are gone (moves keep theirs: the
    /// content is still there), and temporary files a crash left behind.
    pub fn collect_garbage(&mut self) -> Result<()> {
        let _writing = self.writer.acquire("indexing", &|_| {}, &Cancel::new())?;
        self.catalog.collect_garbage()?;
        let live = self.catalog.live_hashes()?;
        self.thumbs.retain(|hash| live.contains(hash));
        Ok(())
    }

    fn apply_to_store(&mut self, outcome: &Outcome, sink: Sink) -> Result<()> {
        let model = self.model;
        let mut deletes: Vec<_> = outcome.removed.iter().map(|(id, _)| *id).collect();
        // Changed content: the old vector no longer describes the file.
        deletes.extend(&outcome.changed);
        // Frames of videos that changed or went.
        deletes.extend(self.catalog.take_orphan_frames()?);
        let mut points = Vec::new();
        for (id, _, _) in &outcome.moved {
            let Some(row) = self.catalog.file(*id)? else { continue };
            if row.state != FileState::Indexed {
                continue;
            }
            // A moved video's frames carry its path too.
            let frames = if row.duration_ms.is_some() { self.catalog.frames_of(row.id)? } else { Vec::new() };
            for row in std::iter::once(row).chain(frames) {
                if let Some(v) = row.hash.map(|h| self.catalog.embedding(&h, model)).transpose()?.flatten() {
                    points.push(store::writer::point(&row, v));
                }
            }
        }
        self.stores.write(self.catalog, model, &points, &deletes, sink)
    }
}
