//! `Library`: the one handle front ends use, a small facade over the parts
//! of a library, each in its own module:
//!
//! - the catalog (`catalog`): files, folders, vectors, settings; the truth;
//! - `models` (`embed::Models`): the active model and the loaded ones;
//! - `stores` (`store::Stores`): where the vectors are searched;
//! - the thumbnails (`thumbs`), and the writer lock (`lock`);
//!
//! and the features that borrow the parts they need: following the disk and
//! embedding (`index`), queries (`search`, `text`, `refine`), `duplicates`,
//! the map (`explore`) and recall (`store::recall`). The CLI and the app call
//! the same methods and so give the same answers. Nothing here decides
//! anything a part or a feature could: each method says which part answers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::catalog::{Catalog, Counts, FileId, FileRow, FileState, Folder};
use crate::duplicates::{self, Duplicates, Finder, TrashReport};
use crate::embed::{Models, Region};
use crate::error::{Error, Result};
use crate::explore::{ExploreOptions, Explorer, LaidOut, Map, MapJob, Plan};
use crate::index::{videos, IndexStats, Indexer, PipelineOptions, Syncer};
use crate::lock::{WriteGuard, WriterLock};
use crate::models::{ModelDir, ModelSpec, ModelStatus};
use crate::progress::{Cancel, Sink};
use crate::refine::{self, Example, Feedback};
use crate::scan::{Outcome, Vanished};
use crate::search::{SearchResults, Searcher};
use crate::store::recall::{self, RecallReport};
use crate::store::{Filter, IndexConfig, Stores, VectorStore};
use crate::text::{self, TextMethod, TextResults};
use crate::thumbs::{self, Thumbnails};
use crate::video::player::{self, PlayerCommand};
use crate::video::VideoOptions;
use ts_rs::TS;

pub use crate::catalog::Photo;
pub use crate::index::FolderStatus;
pub use crate::store::{StoreChoice, REDACTED};

/// The model of libraries made before int8 was the default, and of new ones
/// where the int8 build is not installed.
pub const DEFAULT_MODEL: &str = "efficientnet-lite0";
/// The model of a new library where it is installed: EfficientNet-Lite0 in
/// int8, about twice as fast as fp32 and within 0.005 precision@10 of it on
/// the labelled set (BENCHMARKS.md).
pub const FAST_MODEL: &str = "efficientnet-lite0-int8";

/// The model a library starts with: the int8 build for a new (empty)
/// library where it is installed; fp32 for a library that has photos but
/// no model recorded (made before int8 was the default: its vectors are fp32).
fn first_model(catalog: &Catalog, models: &ModelDir) -> Result<&'static str> {
    let is_new = catalog.counts()?.files == 0;
    let fast = models.status(FAST_MODEL).is_ok_and(|s| s.installed);
    Ok(if is_new && fast { FAST_MODEL } else { DEFAULT_MODEL })
}

/// `$PHOTOFINDER_LIBRARY`, else `~/.local/share/photofinder/library`.
pub fn default_dir() -> PathBuf {
    std::env::var_os("PHOTOFINDER_LIBRARY").map(PathBuf::from).unwrap_or_else(|| {
        dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("photofinder/library")
    })
}

pub struct Library {
    pub dir: PathBuf,
    catalog: Catalog,
    models: Models,
    stores: Stores,
    pub thumbs: Thumbnails,
    /// Thumbnails of photos from outside the library that were used as
    /// queries: kept apart, and trimmed to a size cap.
    pub query_thumbs: Thumbnails,
    /// Held while this library is being changed (see `lock`).
    writer: Arc<WriterLock>,
    pub options: PipelineOptions,
}

#[derive(Debug, Clone, Serialize, TS)]
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
    #[ts(flatten)]
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
#[derive(Debug, Clone, Default, Serialize, TS)]
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
        let model = match catalog.setting("model")? {
            Some(model) => model,
            None => {
                // Recorded now, so that the library keeps it whatever is
                // installed or uninstalled later.
                let model = first_model(&catalog, &models)?;
                catalog.set_setting("model", model)?;
                model.to_string()
            }
        };
        let writer = WriterLock::new(&dir);
        Ok(Library {
            thumbs: Thumbnails::new(dir.join("thumbs"), thumbs::DEFAULT_SIZE),
            query_thumbs: Thumbnails::new(dir.join(thumbs::QUERY_CACHE), thumbs::DEFAULT_SIZE),
            stores: Stores::new(dir.join("store"), writer.clone()),
            models: Models::new(models, &model)?,
            writer,
            dir,
            catalog,
            options: PipelineOptions::default(),
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

    // ---- the parts, borrowed by the features

    fn searcher(&mut self) -> Searcher<'_> {
        Searcher {
            catalog: &self.catalog,
            models: &mut self.models,
            stores: &mut self.stores,
            thumbs: &self.thumbs,
            query_thumbs: &self.query_thumbs,
        }
    }

    fn syncer(&mut self) -> Syncer<'_> {
        Syncer {
            catalog: &self.catalog,
            stores: &mut self.stores,
            thumbs: &self.thumbs,
            model: self.models.active(),
            writer: &self.writer,
        }
    }

    fn indexer(&mut self) -> Indexer<'_> {
        Indexer {
            catalog: &self.catalog,
            models: &mut self.models,
            stores: &mut self.stores,
            thumbs: &self.thumbs,
            options: &self.options,
        }
    }

    // ---- models

    pub fn models(&self) -> &ModelDir {
        self.models.files()
    }

    pub fn model(&self) -> &str {
        self.models.active()
    }

    pub fn model_spec(&self) -> ModelSpec {
        self.models.active_spec()
    }

    pub fn model_status(&self) -> Result<ModelStatus> {
        self.models.active_status()
    }

    /// Switch the active model (persisted). Files lacking its embeddings are
    /// embedded by the next `index`; embeddings of other models are kept.
    pub fn set_model(&mut self, name: &str) -> Result<()> {
        ModelDir::spec(name)?;
        if name != self.models.active() {
            self.catalog.set_setting("model", name)?;
            self.models.set_active(name)?;
        }
        Ok(())
    }

    /// Use `name` for this session only.
    pub fn use_model(&mut self, name: &str) -> Result<()> {
        self.models.set_active(name)
    }

    /// Load the active model and its store now rather than at the first
    /// query (a front end calls this once it has shown its window).
    pub fn warm(&mut self) -> Result<()> {
        self.store()?;
        let model = self.models.active().to_string();
        self.models.embedder(&model)?;
        crate::memory::release_free();
        Ok(())
    }

    // ---- stores

    /// The store of the active model, opened on first use and reconciled with
    /// the catalog (a crash may have left it behind).
    pub fn store(&mut self) -> Result<&mut dyn VectorStore> {
        self.stores.get(&self.catalog, self.models.active())
    }

    /// The store of any model.
    pub fn store_for(&mut self, model: &str) -> Result<&mut dyn VectorStore> {
        self.stores.get(&self.catalog, model)
    }

    /// The store that vectors go to (persisted in the catalog's settings).
    pub fn store_choice(&self) -> Result<StoreChoice> {
        StoreChoice::saved(&self.catalog)
    }

    /// Move the library to another store (see `Stores::set_choice`).
    pub fn set_store(&mut self, choice: &StoreChoice) -> Result<()> {
        self.stores.set_choice(&self.catalog, choice)
    }

    /// Rebuild the active model's Milvus index with another type or
    /// parameters (kept for the library); nothing is re-embedded.
    pub fn set_index(&mut self, index: &IndexConfig) -> Result<()> {
        self.stores.set_index(&self.catalog, self.models.active(), index)
    }

    /// Make the store hold exactly the catalog's embedded files.
    pub fn reconcile_store(&mut self) -> Result<(usize, usize)> {
        let _writing = self.writer.acquire("reconciling the vector store of", &|_| {}, &Cancel::new())?;
        self.stores.reconcile(&self.catalog, self.models.active())
    }

    /// Recall@k of the active model's store for `queries` of its own vectors
    /// (spread evenly over the library), against exact search.
    pub fn recall(&mut self, queries: usize, k: usize) -> Result<RecallReport> {
        let model = self.models.active().to_string();
        let store = self.stores.get(&self.catalog, &model)?;
        recall::measure(&self.catalog, store, &model, queries, k)
    }

    // ---- folders and following the disk

    /// Watch a folder. Its photos are indexed by the next `index` or `watch`.
    pub fn add_folder(&mut self, path: &Path) -> Result<Folder> {
        self.syncer().add_folder(path)
    }

    /// Stop watching a folder and forget its photos (the files are untouched).
    pub fn remove_folder(&mut self, path: &Path) -> Result<usize> {
        self.syncer().remove_folder(path)
    }

    pub fn folders(&self) -> Result<Vec<FolderStatus>> {
        crate::index::folders(&self.catalog)
    }

    /// Compare every watched folder with the catalog and apply the differences.
    pub fn scan(&mut self, sink: Sink, cancel: &Cancel) -> Result<Outcome> {
        self.syncer().scan(sink, cancel)
    }

    /// Whether a watched folder is there (see `Syncer::is_present`).
    pub(crate) fn is_present(&mut self, folder: &Folder, sink: Sink) -> Result<bool> {
        self.syncer().is_present(folder, sink)
    }

    /// Re-examine `paths` (files or folders, present or gone) and apply what
    /// changed to the catalog and the store. Vanished and new files in one
    /// call are matched by content, so a move is never re-embedded.
    pub fn sync_paths(&mut self, paths: &[PathBuf], sink: Sink, cancel: &Cancel) -> Result<Outcome> {
        self.syncer().sync_paths(paths, sink, cancel)
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
        self.syncer().sync_paths_with(paths, held, vanished, sink, cancel)
    }

    /// Delete vanished rows for good (the watcher's held rows, once their
    /// grace period is over).
    pub(crate) fn forget(&mut self, rows: &[FileRow], sink: Sink) -> Result<()> {
        self.syncer().forget(rows, sink)
    }

    /// Drop what no file of the library holds any more (see `Syncer`).
    pub(crate) fn collect_garbage(&mut self) -> Result<()> {
        self.syncer().collect_garbage()
    }

    // ---- embedding

    /// Embed every file waiting for the active model. A store that cannot
    /// be reached does not stop this: its writes wait in the outbox.
    pub fn embed_pending(&mut self, sink: Sink, cancel: &Cancel) -> Result<IndexStats> {
        let _writing = self.writer.acquire("indexing", sink, cancel)?;
        self.indexer().embed_pending(sink, cancel)
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

    // ---- models to download

    /// The hub models download from: `PHOTOFINDER_MODEL_MIRROR`, else this
    /// library's `model_mirror` setting, else Hugging Face.
    pub fn model_hub(&self) -> Result<String> {
        Ok(crate::models::hub::hub_base(self.catalog.setting("model_mirror")?.as_deref()))
    }

    /// Set (or, with `None` or an empty string, clear) the mirror models
    /// download from: a server with Hugging Face's API, such as a company
    /// proxy or a local copy.
    pub fn set_model_mirror(&mut self, url: Option<&str>) -> Result<()> {
        let url = url.map(str::trim).unwrap_or("");
        if !url.is_empty() && !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::Config(format!("{url:?}: a mirror is an http:// or https:// address")));
        }
        self.catalog.set_setting("model_mirror", url)
    }

    /// Download, verify and install the hub model `name` (see
    /// `models::hub`), reporting `Event::Download`. The library's active
    /// model is not changed.
    pub fn install_model(&mut self, name: &str, sink: Sink, cancel: &Cancel) -> Result<ModelStatus> {
        let base = self.model_hub()?;
        crate::models::hub::install(self.models.files(), name, &base, sink, cancel)
    }

    pub fn video_options(&self) -> Result<VideoOptions> {
        videos::options(&self.catalog)
    }

    /// Change how keyframes are picked; videos already indexed are done
    /// again with the new settings by the next `index` (or the watcher).
    pub fn set_video_options(&mut self, options: &VideoOptions) -> Result<usize> {
        videos::set_options(&self.catalog, options)
    }

    /// A frame of a library video at full size (up to `max_side`), for the
    /// preview: keyframes are kept only as small thumbnails.
    pub fn frame_image(&self, point_id: FileId, max_side: u32) -> Result<image::RgbImage> {
        videos::frame_image(&self.catalog, point_id, max_side)
    }

    /// How to open a photo of the library (by id) in the desktop's own
    /// application: a moment of a video in its player at that moment, where
    /// the player can be told (`None`: open the file as it is).
    pub fn opening(&self, id: FileId) -> Result<(Photo, Option<PlayerCommand>)> {
        let photo = self.photo(id)?.ok_or(Error::NoSuchPhoto(id))?;
        let player = match (&photo.frame, photo.format.as_deref()) {
            (Some(frame), Some(container)) => player::command_at(&photo.path, container, frame.at_ms),
            _ => None,
        };
        Ok((photo, player))
    }

    // ---- browsing

    /// Indexed photos `offset..offset + limit`, in path order.
    pub fn photos(&self, offset: usize, limit: usize) -> Result<Vec<Photo>> {
        self.catalog.photos_page(offset, limit)
    }

    /// A photo of the library by id.
    pub fn photo(&self, id: i64) -> Result<Option<Photo>> {
        self.catalog.file(id)?.map(|row| self.catalog.photo_of(row)).transpose()
    }

    /// The moving part of a Live Photo or motion photo, for a player.
    pub fn moment(&self, id: FileId) -> Result<Option<crate::moment::Moment>> {
        crate::moment::of(&self.catalog, id)
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
            model: self.model().to_string(),
            store: kind,
            store_points: points,
            store_repaired: self.stores.repaired(self.models.active()),
            counts: self.catalog.counts()?,
            folders: self.folders()?,
            problems,
        })
    }

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

    // ---- queries

    /// The photos most like the image at `path`, which need not be in the library.
    pub fn search_file(&mut self, path: &Path, k: usize, filter: &Filter) -> Result<SearchResults> {
        self.searcher().search_file(path, k, filter)
    }

    /// The photos most like a part of the image at `path` (see `Region`).
    pub fn search_region(&mut self, path: &Path, region: Region, k: usize, filter: &Filter) -> Result<SearchResults> {
        self.searcher().search_region(path, region, k, filter)
    }

    /// The photos most like a part of a library photo, by id (its preview,
    /// its place as a query).
    pub fn search_photo_region(&mut self, id: FileId, region: Region, k: usize, filter: &Filter) -> Result<SearchResults> {
        let row = self.catalog.file(id)?.ok_or(Error::NoSuchPhoto(id))?;
        if row.duration_ms.is_some() {
            return Err(Error::NotAPhoto(format!("{} is a video: a part of it is searched from one of its moments", row.path.display())));
        }
        self.search_region(&row.path, region, k, filter)
    }

    /// The photos most like a part of an image given as bytes (pasted).
    pub fn search_bytes_region(&mut self, bytes: &[u8], name: &str, region: Region, k: usize, filter: &Filter) -> Result<SearchResults> {
        self.searcher().search_bytes_region(bytes, name, region, k, filter)
    }

    /// The photos most like a photo of the library.
    pub fn search_library(&mut self, path: &Path, k: usize, filter: &Filter) -> Result<SearchResults> {
        self.searcher().search_library(path, k, filter)
    }

    /// "More like these" (see `Searcher::search_many`).
    pub fn search_many(&mut self, like: &[PathBuf], unlike: &[PathBuf], k: usize, filter: &Filter) -> Result<SearchResults> {
        self.searcher().search_many(like, unlike, k, filter)
    }

    /// "More like these" for photos of the library, by id; ids that are
    /// gone (deleted since they were shown) are passed over.
    pub fn search_many_ids(&mut self, ids: &[FileId], k: usize, filter: &Filter) -> Result<SearchResults> {
        let mut paths = Vec::with_capacity(ids.len());
        for &id in ids {
            paths.extend(self.catalog.file(id)?.map(|row| row.path));
        }
        self.search_many(&paths, &[], k, filter)
    }

    /// The photos most like an image given as bytes (pasted, say).
    pub fn search_bytes(&mut self, bytes: &[u8], name: &str, k: usize, filter: &Filter) -> Result<SearchResults> {
        self.searcher().search_bytes(bytes, name, k, filter)
    }

    /// Embed an image that is not in the library.
    pub fn embed_bytes(&mut self, bytes: &[u8]) -> Result<Vec<f32>> {
        self.searcher().embed_bytes(bytes)
    }

    /// Photos matching `query` (see `text::search_text`).
    pub fn search_text(&mut self, query: &str, k: usize, filter: &Filter, method: Option<TextMethod>) -> Result<TextResults> {
        text::search_text(&mut self.searcher(), query, k, filter, method)
    }

    /// The ImageNet labels of a photo with their probabilities, best first.
    pub fn labels_of(&mut self, path: &Path) -> Result<Vec<(String, f32)>> {
        text::labels_of(&mut self.searcher(), path)
    }

    /// Photos like the query photo, moved by the user's marks.
    pub fn refine_photo(&mut self, example: &Example, feedback: &Feedback, k: usize, filter: &Filter) -> Result<SearchResults> {
        refine::refine_photo(&mut self.searcher(), example, feedback, k, filter)
    }

    /// A text search moved by the user's marks.
    pub fn refine_text(
        &mut self,
        text: &str,
        feedback: &Feedback,
        k: usize,
        filter: &Filter,
        method: Option<TextMethod>,
    ) -> Result<TextResults> {
        refine::refine_text(&mut self.searcher(), text, feedback, k, filter, method)
    }

    /// Photos like a photo and like words, with CLIP.
    pub fn search_photo_and_text(
        &mut self,
        example: &Example,
        text: &str,
        text_weight: f32,
        feedback: &Feedback,
        k: usize,
        filter: &Filter,
    ) -> Result<SearchResults> {
        refine::search_photo_and_text(&mut self.searcher(), example, text, text_weight, feedback, k, filter)
    }

    // ---- duplicates and the map

    /// Groups of exact and near copies among the indexed photos, by the
    /// active model's vectors. `max_distance` is a cosine distance.
    /// A RAW and the JPEG beside it are one photo, never each other's copy.
    pub fn duplicates(&mut self, max_distance: f32, sink: Sink, cancel: &Cancel) -> Result<Duplicates> {
        self.finder(false).duplicates(max_distance, sink, cancel)
    }

    /// Like `duplicates`, with a RAW beside its JPEG counted as a copy of it
    /// (to free the space of one of them).
    pub fn duplicates_with_raw_pairs(&mut self, max_distance: f32, sink: Sink, cancel: &Cancel) -> Result<Duplicates> {
        self.finder(true).duplicates(max_distance, sink, cancel)
    }

    fn finder(&mut self, raw_pairs: bool) -> Finder<'_> {
        Finder { catalog: &self.catalog, stores: &mut self.stores, thumbs: &self.thumbs, model: self.models.active(), raw_pairs }
    }

    /// Move photos of the library to the system trash (never a hard delete:
    /// undo is restoring them from the trash, after which they are indexed
    /// again) and drop them from the catalog and the store at once.
    pub fn move_to_trash(&mut self, ids: &[FileId], sink: Sink) -> Result<TrashReport> {
        let _writing = self.lock_for_writing("moving to the trash photos of", sink, &Cancel::new())?;
        let report = duplicates::trash(&self.catalog, ids)?;
        if !report.trashed.is_empty() {
            self.sync_paths(&report.trashed, sink, &Cancel::new())?;
        }
        Ok(report)
    }

    /// The map of the active model's vectors, from the cached one when it
    /// still describes the library.
    pub fn explore(&mut self, options: &ExploreOptions) -> Result<Map> {
        self.explore_with(options, &|_| {}, &Cancel::new())
    }

    /// `explore`, with progress (while a map is laid out) and a way to stop.
    pub fn explore_with(&mut self, options: &ExploreOptions, sink: Sink, cancel: &Cancel) -> Result<Map> {
        self.explorer().explore(&self.models.active_spec(), options, sink, cancel)
    }

    /// The map as it can be shown now, and the layout to make where a new
    /// one is due (to run away from this thread: `MapJob::run`, then
    /// `adopt_map`).
    pub fn plan_map(&mut self, options: &ExploreOptions) -> Result<(Plan, MapJob)> {
        let spec = self.models.active_spec();
        let plan = self.explorer().plan(&spec, options)?;
        Ok((plan, MapJob { catalog: self.dir.join("catalog.db"), models: self.models.files().clone(), spec, options: options.clone() }))
    }

    /// Make the map `job` laid out the library's map.
    pub fn adopt_map(&mut self, job: &MapJob, laid: LaidOut) -> Result<Map> {
        self.explorer().adopt(&job.spec, laid, &job.options)
    }

    fn explorer(&self) -> Explorer<'_> {
        Explorer { catalog: &self.catalog, models: self.models.files(), dir: &self.dir }
    }
}
