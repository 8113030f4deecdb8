//! A photo's way from the disk to the vector store, read top to bottom:
//!
//! 1. `sync.rs`: the watched folders, and a changed path (a watcher event,
//!    a scan) compared with the disk (`scan`): new files become pending
//!    rows, moves keep their vectors, what vanished leaves the catalog and
//!    the store.
//! 2. this file: the pending rows, photos then videos, for the active model.
//! 3. `photos.rs`: decode -> preprocess -> batched inference -> catalog ->
//!    store, with decoding on worker threads.
//! 4. `videos.rs`: keyframes out of ffmpeg through the same model call.
//!
//! The catalog is always written before the store, and every store write
//! goes through `store::Stores` to the store writer.

mod photos;
mod sync;
pub mod videos;

use serde::Serialize;

use crate::catalog::{Catalog, FileState};
use crate::embed::Models;
use crate::error::Result;
use crate::progress::{Cancel, Sink};
use crate::store::Stores;
use crate::thumbs::Thumbnails;

pub use photos::PipelineOptions;
pub use sync::{folders, FolderStatus, Syncer};

#[derive(Debug, Default, Clone, Serialize)]
pub struct IndexStats {
    pub embedded: u64,
    /// Files whose content was already embedded (copies, reverted edits).
    pub reused: u64,
    pub failed: u64,
    /// Valid files using a feature not decoded here.
    pub unsupported: u64,
    pub skipped: u64,
    /// Indexed although the decoder warned (a JPEG with stray bytes, say).
    pub recovered: u64,
    /// Video keyframes embedded (videos count once in `embedded`).
    pub frames: u64,
    pub seconds: f64,
    /// The store could not be written; the outbox holds what it lacks.
    #[serde(skip)]
    pub store_behind: bool,
}

/// The parts of a library that embedding reads and writes.
pub struct Indexer<'a> {
    pub catalog: &'a Catalog,
    pub models: &'a mut Models,
    pub stores: &'a mut Stores,
    pub thumbs: &'a Thumbnails,
    pub options: &'a PipelineOptions,
}

impl Indexer<'_> {
    /// Embed every file waiting for the active model. A store that cannot
    /// be reached does not stop this: its writes wait in the outbox.
    pub fn embed_pending(&mut self, sink: Sink, cancel: &Cancel) -> Result<IndexStats> {
        let model = self.models.active().to_string();
        self.catalog.requeue_missing(&model)?;
        if self.catalog.setting("decoder")?.as_deref() != Some(crate::decode::DECODER_VERSION) {
            self.catalog.transaction(|c| {
                c.requeue_undecoded()?;
                c.set_setting("decoder", crate::decode::DECODER_VERSION)
            })?;
        }
        if self.catalog.files_in_state(FileState::Pending)?.is_empty() {
            return Ok(IndexStats::default());
        }
        let store = self.stores.for_writing(self.catalog, &model, sink)?;
        let embedder = self.models.embedder(&model)?;
        let mut stats = photos::run(self.catalog, store, embedder, self.thumbs, self.options, sink, cancel)?;
        if stats.store_behind {
            self.stores.disconnect(&model);
        }
        let videos = videos::run(self.catalog, self.models, self.stores, self.thumbs, &model, sink, cancel)?;
        stats.embedded += videos.embedded;
        stats.failed += videos.failed;
        stats.frames += videos.frames;
        stats.seconds += videos.seconds;
        Ok(stats)
    }
}
