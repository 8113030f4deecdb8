//! `Library`: the one handle front ends use. It ties the catalog, the vector
//! store, the model and the thumbnail cache together; the CLI and the app call
//! the same methods and so give the same answers.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::{Catalog, Counts, FileRow, FileState, Folder, FolderState};
use crate::embed::{self, Embedder};
use crate::error::{Error, Result};
use crate::index::{self, IndexStats, PipelineOptions};
use crate::lock::{WriteGuard, WriterLock};
use crate::models::{ModelDir, ModelSpec, ModelStatus};
use crate::progress::{Cancel, Event, Sink};
use crate::scan::{self, Outcome, Vanished};
use crate::store::{self, EmbeddedStore, MilvusConfig, MilvusStore, Point, VectorStore};
use crate::text::TextEmbedder;
use crate::thumbs::{self, Thumbnails};

pub const DEFAULT_MODEL: &str = "efficientnet-lite0";

/// How secrets are shown.
pub const REDACTED: &str = "***";

/// Where vectors live: the embedded store (default) or a Milvus server.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StoreChoice {
    Embedded,
    Milvus(Box<MilvusConfig>),
}

impl StoreChoice {
    /// For display: secrets blanked.
    pub fn redacted(&self) -> StoreChoice {
        match self {
            StoreChoice::Milvus(c) => StoreChoice::Milvus(Box::new(MilvusConfig {
                token: c.token.as_ref().map(|_| REDACTED.into()),
                password: c.password.as_ref().map(|_| REDACTED.into()),
                ..(**c).clone()
            })),
            other => other.clone(),
        }
    }
}

/// `$PHOTOFINDER_LIBRARY`, else `~/.local/share/photofinder/library`.
pub fn default_dir() -> PathBuf {
    std::env::var_os("PHOTOFINDER_LIBRARY").map(PathBuf::from).unwrap_or_else(|| {
        dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("photofinder/library")
    })
}

pub struct Library {
    pub dir: PathBuf,
    pub(crate) catalog: Catalog,
    pub(crate) models: ModelDir,
    model: String,
    /// Open stores and loaded models, by model name.
    stores: HashMap<String, Box<dyn VectorStore>>,
    pub(crate) embedders: HashMap<String, Embedder>,
    pub(crate) text: Option<TextEmbedder>,
    pub thumbs: Thumbnails,
    /// Thumbnails of photos from outside the library that were used as
    /// queries: kept apart, and trimmed to a size cap.
    pub query_thumbs: Thumbnails,
    /// Held while this library is being changed (see `lock`).
    writer: std::sync::Arc<WriterLock>,
    /// What opening the active model's store had to repair: (added, removed).
    store_repaired: Option<(usize, usize)>,
    pub options: PipelineOptions,
    /// ONNX Runtime intra-op threads.
    pub threads: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FolderStatus {
    #[serde(flatten)]
    pub folder: Folder,
    pub files: u64,
    pub indexed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    #[serde(serialize_with = "crate::paths::lossy")]
    pub library: PathBuf,
    pub model: String,
    pub store: &'static str,
    pub store_points: usize,
    /// What opening the store repaired to match the catalog (points added,
    /// removed): non-zero only after a crash or an outage. `None` when another
    /// process was writing, which keeps the store in step itself.
    pub store_repaired: Option<(usize, usize)>,
    #[serde(flatten)]
    pub counts: Counts,
    pub folders: Vec<FolderStatus>,
    /// Files that could not be indexed, with the reason: broken (`failed`),
    /// `unsupported` and not images (`skipped`).
    pub problems: Vec<FileRow>,
    /// Indexed photos whose decoder warned, with the warning.
    pub recovered: Vec<FileRow>,
    /// What the library takes on disk.
    pub disk: DiskUsage,
}

/// Bytes the library takes on disk, by part.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiskUsage {
    pub catalog: u64,
    pub store: u64,
    pub thumbnails: u64,
    pub thumbnail_files: u64,
    pub query_cache: u64,
}

impl DiskUsage {
    pub fn total(&self) -> u64 {
        self.catalog + self.store + self.thumbnails + self.query_cache
    }
}

/// A photo of the library, for browsing.
#[derive(Debug, Clone, Serialize)]
pub struct Photo {
    pub id: i64,
    #[serde(flatten, serialize_with = "crate::paths::path_field")]
    pub path: PathBuf,
    /// Content hash (hex): names the photo's thumbnail.
    pub hash: Option<String>,
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub modified: i64,
    /// Videos: their length.
    pub duration_ms: Option<i64>,
    /// A keyframe of a video (then `id` is the frame's and `path` the video's).
    pub frame: Option<crate::catalog::FrameOf>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub format: Option<String>,
    pub taken_at: Option<i64>,
}

impl From<FileRow> for Photo {
    fn from(row: FileRow) -> Photo {
        Photo {
            id: row.id,
            hash: row.hash_hex(),
            path: row.path,
            size: row.size,
            modified: row.mtime_ns.div_euclid(1_000_000_000),
            duration_ms: row.duration_ms,
            frame: row.frame,
            width: row.width,
            height: row.height,
            format: row.format,
            taken_at: row.taken_at,
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct IndexReport {
    pub added: usize,
    pub changed: usize,
    pub moved: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// Special files and broken symbolic links passed over.
    pub ignored: usize,
    #[serde(flatten)]
    pub embedding: IndexStats,
}

impl Library {
    /// Open (or create) the library in `dir`, with models from `models`.
    pub fn open(dir: impl Into<PathBuf>, models: ModelDir) -> Result<Library> {
        let dir = dir.into();
        let catalog = Catalog::open(&dir.join("catalog.db"))?;
        let model = catalog.setting("model")?.unwrap_or_else(|| DEFAULT_MODEL.to_string());
        ModelDir::spec(&model)?;
        Ok(Library {
            thumbs: Thumbnails::new(dir.join("thumbs"), thumbs::DEFAULT_SIZE),
            query_thumbs: Thumbnails::new(dir.join(thumbs::QUERY_CACHE), thumbs::DEFAULT_SIZE),
            writer: WriterLock::new(&dir),
            store_repaired: None,
            dir,
            catalog,
            models,
            model,
            stores: HashMap::new(),
            embedders: HashMap::new(),
            text: None,
            options: PipelineOptions::default(),
            threads: embed::default_threads(),
        })
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Become the one process changing this library, for `activity`
    /// ("indexing"), waiting for another that is (said through `sink`).
    /// Every method that changes the library takes it itself; a front end
    /// takes it around a series of changes so the wait is said once.
    pub fn lock_for_writing(&self, activity: &str, sink: Sink, cancel: &Cancel) -> Result<WriteGuard> {
        self.writer.acquire(activity, sink, cancel)
    }

    pub fn models(&self) -> &ModelDir {
        &self.models
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn model_spec(&self) -> ModelSpec {
        ModelDir::spec(&self.model).expect("the active model was validated when set")
    }

    pub fn model_status(&self) -> Result<ModelStatus> {
        self.models.status(&self.model)
    }

    /// Switch the active model (persisted). Files lacking its embeddings are
    /// embedded by the next `index`; embeddings of other models are kept.
    pub fn set_model(&mut self, name: &str) -> Result<()> {
        ModelDir::spec(name)?;
        if name != self.model {
            self.catalog.set_setting("model", name)?;
            self.model = name.to_string();
        }
        Ok(())
    }

    /// Use `name` for this session only.
    pub fn use_model(&mut self, name: &str) -> Result<()> {
        ModelDir::spec(name)?;
        if name != self.model {
            self.model = name.to_string();
        }
        Ok(())
    }

    /// The store of the active model, opened on first use and reconciled with
    /// the catalog (a crash may have left it behind).
    pub fn store(&mut self) -> Result<&mut dyn VectorStore> {
        let model = self.model.clone();
        self.store_for(&model)
    }

    /// The store of any model.
    pub fn store_for(&mut self, model: &str) -> Result<&mut dyn VectorStore> {
        if !self.stores.contains_key(model) {
            let spec = ModelDir::spec(model)?;
            let mut store: Box<dyn VectorStore> = match self.store_choice()? {
                StoreChoice::Embedded => {
                    let path = self.dir.join("store").join(format!("{}.db", spec.name));
                    Box::new(EmbeddedStore::open(&path, spec.dim, spec.metric)?)
                }
                StoreChoice::Milvus(mut config) => {
                    let expected = self.catalog.embedded_ids(&spec.name)?.len();
                    let store = MilvusStore::open_sized(&config, &spec.name, spec.dim, spec.metric, expected)?;
                    if let Some(resolved) = store.index().filter(|i| *i != config.index) {
                        // Keep what AUTO chose, so later opens search with its parameters.
                        config.index = resolved;
                        let json = serde_json::to_string(&StoreChoice::Milvus(config)).map_err(Error::internal)?;
                        self.catalog.set_setting("store", &json)?;
                    }
                    Box::new(store)
                }
            };
            // Only the writer repairs the store: a reader reconciling while
            // another process writes could undo a point written a moment ago.
            // The writer keeps the store in step with what it changes.
            if let Some(_writing) = self.writer.try_acquire("reconciling the vector store of")? {
                let repaired = store::writer::reconcile(&self.catalog, &spec.name, store.as_mut())?;
                if model == self.model {
                    self.store_repaired = Some(repaired);
                }
            }
            self.stores.insert(model.to_string(), store);
        }
        Ok(self.stores.get_mut(model).expect("inserted above").as_mut())
    }

    /// The store that vectors go to (persisted in the catalog's settings).
    pub fn store_choice(&self) -> Result<StoreChoice> {
        match self.catalog.setting("store")? {
            None => Ok(StoreChoice::Embedded),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| Error::CorruptSetting { what: "store setting", message: e.to_string() }),
        }
    }

    /// Move the library to another store. Nothing is re-embedded: the new
    /// store is filled from the catalog's vectors when it is first opened.
    ///
    /// A secret given as `***` (what `redacted` shows) keeps the stored one,
    /// so a front end can save other changes without asking for it again.
    pub fn set_store(&mut self, choice: &StoreChoice) -> Result<()> {
        let mut choice = choice.clone();
        if let (StoreChoice::Milvus(new), Ok(StoreChoice::Milvus(old))) = (&mut choice, self.store_choice()) {
            if new.token.as_deref() == Some(REDACTED) {
                new.token = old.token.clone();
            }
            if new.password.as_deref() == Some(REDACTED) {
                new.password = old.password.clone();
            }
        }
        let json = serde_json::to_string(&choice).map_err(Error::internal)?;
        self.catalog.set_setting("store", &json)?;
        self.stores.clear();
        Ok(())
    }

    /// Rebuild the active model's Milvus index with another type or
    /// parameters (kept for the library); nothing is re-embedded.
    pub fn set_index(&mut self, index: &crate::store::IndexConfig) -> Result<()> {
        let StoreChoice::Milvus(mut config) = self.store_choice()? else {
            return Err(Error::Config("the embedded store searches exactly; index types apply to Milvus".into()));
        };
        self.store()?.set_index(index)?;
        config.index = index.clone();
        let json = serde_json::to_string(&StoreChoice::Milvus(config)).map_err(Error::internal)?;
        self.catalog.set_setting("store", &json)
    }

    /// Write `upserts` and `deletes` to `model`'s store (opening it if
    /// need be) through the store writer: what the store cannot take now
    /// waits in the outbox, so the catalog never waits for the store.
    pub(crate) fn write_store(&mut self, model: &str, upserts: &[Point], deletes: &[i64], sink: Sink) -> Result<()> {
        if upserts.is_empty() && deletes.is_empty() {
            return Ok(());
        }
        match self.store_for(model) {
            Ok(_) => {}
            Err(e @ Error::Store(_)) => sink(Event::StoreBehind { error: e.to_string() }),
            Err(e) => return Err(e),
        }
        let mut store = self.stores.get_mut(model).map(|s| s.as_mut() as &mut dyn VectorStore);
        if store::writer::write(&self.catalog, model, &mut store, upserts, deletes, sink)? == store::writer::Written::Behind {
            // Drop a broken connection: the next use reconnects and reconciles.
            self.stores.remove(model);
        }
        Ok(())
    }

    /// Load the active model and its store now rather than at the first
    /// query (a front end calls this once it has shown its window).
    pub fn warm(&mut self) -> Result<()> {
        self.store()?;
        self.embedder()?;
        crate::memory::release_free();
        Ok(())
    }

    pub(crate) fn embedder(&mut self) -> Result<&mut Embedder> {
        let model = self.model.clone();
        self.embedder_for(&model)
    }

    pub(crate) fn embedder_for(&mut self, model: &str) -> Result<&mut Embedder> {
        if !self.embedders.contains_key(model) {
            let e = Embedder::load(&self.models, model, self.threads)?;
            self.embedders.insert(model.to_string(), e);
        }
        Ok(self.embedders.get_mut(model).expect("inserted above"))
    }

    // ---- folders

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
        let model = self.model.clone();
        self.write_store(&model, &[], &ids, &|_| {})?;
        Ok(files)
    }

    pub fn folders(&self) -> Result<Vec<FolderStatus>> {
        let mut out = Vec::new();
        for folder in self.catalog.folders()? {
            let files = self.catalog.files_in_folder(folder.id)?;
            let indexed = files.iter().filter(|f| f.state == FileState::Indexed).count() as u64;
            out.push(FolderStatus { folder, files: files.len() as u64, indexed });
        }
        Ok(out)
    }

    // ---- indexing

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
    pub(crate) fn is_present(&self, folder: &Folder, sink: Sink) -> Result<bool> {
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
    pub(crate) fn sync_paths_with(
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
        let mut outcome = self
            .catalog
            .transaction(|c| scan::reconcile(c, &folders, known, disk, vanished, sink, cancel))?;
        outcome.ignored = ignored.load(std::sync::atomic::Ordering::Relaxed);
        self.apply_to_store(&outcome, sink)?;
        Ok(outcome)
    }

    /// Delete vanished rows for good (the watcher's held rows, once their
    /// grace period is over).
    pub(crate) fn forget(&mut self, rows: &[FileRow], sink: Sink) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let _writing = self.writer.acquire("indexing", sink, &Cancel::new())?;
        let mut ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        self.catalog.delete_files(&ids)?;
        ids.extend(self.catalog.take_orphan_frames()?);
        let model = self.model.clone();
        self.write_store(&model, &[], &ids, sink)?;
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
    pub(crate) fn collect_garbage(&mut self) -> Result<()> {
        let _writing = self.writer.acquire("indexing", &|_| {}, &Cancel::new())?;
        self.catalog.collect_garbage()?;
        let live = self.catalog.live_hashes()?;
        self.thumbs.retain(|hash| live.contains(hash));
        Ok(())
    }

    fn apply_to_store(&mut self, outcome: &Outcome, sink: Sink) -> Result<()> {
        let model = self.model.clone();
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
                if let Some(v) = row.hash.map(|h| self.catalog.embedding(&h, &model)).transpose()?.flatten() {
                    points.push(store::writer::point(&row, v));
                }
            }
        }
        self.write_store(&model, &points, &deletes, sink)
    }

    /// Embed every file waiting for the active model. A store that cannot
    /// be reached does not stop this: its writes wait in the outbox.
    pub fn embed_pending(&mut self, sink: Sink, cancel: &Cancel) -> Result<IndexStats> {
        let _writing = self.writer.acquire("indexing", sink, cancel)?;
        self.catalog.requeue_missing(&self.model)?;
        if self.catalog.setting("decoder")?.as_deref() != Some(crate::decode::DECODER_VERSION) {
            self.catalog.transaction(|c| {
                c.requeue_undecoded()?;
                c.set_setting("decoder", crate::decode::DECODER_VERSION)
            })?;
        }
        if self.catalog.files_in_state(FileState::Pending)?.is_empty() {
            return Ok(IndexStats::default());
        }
        let model = self.model.clone();
        match self.store() {
            Ok(_) => {}
            Err(e @ Error::Store(_)) => sink(Event::StoreBehind { error: e.to_string() }),
            Err(e) => return Err(e),
        }
        self.embedder()?;
        let store = self.stores.get_mut(&model).map(|s| s.as_mut() as &mut dyn VectorStore);
        let embedder = self.embedders.get_mut(&model).expect("loaded above");
        let mut stats = index::run(&self.catalog, store, embedder, &self.thumbs, &self.options, sink, cancel)?;
        if stats.store_behind {
            self.stores.remove(&model);
        }
        let videos = self.embed_videos(sink, cancel)?;
        stats.embedded += videos.embedded;
        stats.failed += videos.failed;
        stats.frames += videos.frames;
        stats.seconds += videos.seconds;
        Ok(stats)
    }

    /// Scan all folders, then embed what is new or changed. Safe to interrupt:
    /// the next call resumes with what is still pending.
    pub fn index(&mut self, sink: Sink, cancel: &Cancel) -> Result<IndexReport> {
        let _writing = self.writer.acquire("indexing", sink, cancel)?;
        let outcome = self.scan(sink, cancel)?;
        let embedding = self.embed_pending(sink, cancel)?;
        self.collect_garbage()?;
        Ok(IndexReport {
            added: outcome.added.len(),
            changed: outcome.changed.len(),
            moved: outcome.moved.len(),
            removed: outcome.removed.len(),
            unchanged: outcome.unchanged,
            ignored: outcome.ignored,
            embedding,
        })
    }

    /// Indexed photos `offset..offset + limit`, in path order.
    pub fn photos(&self, offset: usize, limit: usize) -> Result<Vec<Photo>> {
        Ok(self.catalog.indexed_page(offset, limit)?.into_iter().map(Photo::from).collect())
    }

    /// A photo of the library by id.
    pub fn photo(&self, id: i64) -> Result<Option<Photo>> {
        Ok(self.catalog.file(id)?.map(Photo::from))
    }

    /// Make the store hold exactly the catalog's embedded files.
    pub fn reconcile_store(&mut self) -> Result<(usize, usize)> {
        let _writing = self.writer.acquire("reconciling the vector store of", &|_| {}, &Cancel::new())?;
        let model = self.model.clone();
        self.store()?;
        store::writer::reconcile(&self.catalog, &model, self.stores.get_mut(&model).expect("opened above").as_mut())
    }

    pub fn status(&mut self) -> Result<Status> {
        let store = self.store()?;
        let (kind, points) = (store.kind(), store.len()?);
        let mut problems = self.catalog.files_in_state(FileState::Failed)?;
        problems.extend(self.catalog.files_in_state(FileState::Unsupported)?);
        problems.extend(self.catalog.files_in_state(FileState::Skipped)?);
        Ok(Status {
            recovered: self.catalog.indexed_with_warnings()?,
            disk: self.disk_usage(),
            library: self.dir.clone(),
            model: self.model.clone(),
            store: kind,
            store_points: points,
            store_repaired: self.store_repaired,
            counts: self.catalog.counts()?,
            folders: self.folders()?,
            problems,
        })
    }
}

impl Library {
    /// What the library's parts take on disk (the catalog with its WAL).
    pub fn disk_usage(&self) -> DiskUsage {
        let catalog = ["catalog.db", "catalog.db-wal", "catalog.db-shm"]
            .iter()
            .filter_map(|name| std::fs::metadata(self.dir.join(name)).ok())
            .map(|m| m.len())
            .sum();
        let (thumbnails, thumbnail_files) = thumbs::usage(&self.thumbs.dir);
        DiskUsage {
            catalog,
            store: thumbs::usage(&self.dir.join("store")).0,
            thumbnails,
            thumbnail_files,
            query_cache: thumbs::usage(&self.query_thumbs.dir).0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redacted_secret_keeps_the_stored_one() {
        let tmp = tempfile::tempdir().unwrap();
        let mut lib = Library::open(tmp.path(), ModelDir::new(tmp.path())).unwrap();
        let config = MilvusConfig { token: Some("secret".into()), ..Default::default() };
        lib.set_store(&StoreChoice::Milvus(Box::new(config.clone()))).unwrap();
        let shown = lib.store_choice().unwrap().redacted();
        let StoreChoice::Milvus(mut edited) = shown else { panic!("milvus expected") };
        assert_eq!(edited.token.as_deref(), Some(REDACTED));
        edited.uri = "http://other:19530".into();
        lib.set_store(&StoreChoice::Milvus(edited)).unwrap();
        let StoreChoice::Milvus(saved) = lib.store_choice().unwrap() else { panic!("milvus expected") };
        assert_eq!((saved.uri.as_str(), saved.token.as_deref()), ("http://other:19530", Some("secret")));
        // A new secret replaces it; none removes it.
        lib.set_store(&StoreChoice::Milvus(Box::new(MilvusConfig { token: None, ..config }))).unwrap();
        let StoreChoice::Milvus(saved) = lib.store_choice().unwrap() else { panic!("milvus expected") };
        assert_eq!(saved.token, None);
    }
}
