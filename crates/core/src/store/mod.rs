//! Vector stores: where embeddings are searched.
//!
//! The catalog is the source of truth; a store holds, per model, one point
//! per indexed file (keyed by the file's stable id) and can always be rebuilt
//! from the catalog's cached embeddings without re-embedding anything.
//!
//! Stores know the catalog only to reconcile with it; they know nothing of
//! models beyond dimension and metric.

mod embedded;
pub(crate) mod int8;
pub mod milvus;
pub mod recall;
mod stores;
pub mod writer;

use std::path::PathBuf;

use serde::Serialize;

use crate::catalog::FileId;
use crate::error::Result;
use crate::models::Metric;

pub use embedded::EmbeddedStore;
pub use milvus::{IndexConfig, MilvusConfig, MilvusStore};
pub use stores::{StoreChoice, Stores, REDACTED};

/// Scalar fields stored beside each vector, for filtered search.
#[derive(Debug, Clone, PartialEq)]
pub struct PointMeta {
    pub path: PathBuf,
    pub taken_at: Option<i64>,
    /// `jpeg`, `png`, ...
    pub format: String,
}

#[derive(Debug, Clone)]
pub struct Point {
    pub id: FileId,
    /// L2-normalised.
    pub vector: Vec<f32>,
    pub meta: PointMeta,
}

/// Restricts a search. Empty means no restriction.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only photos at or below one of these directories.
    pub folders: Vec<PathBuf>,
    /// Capture time range, epoch seconds, inclusive. Photos without a capture
    /// time are excluded when either bound is set.
    pub taken_after: Option<i64>,
    pub taken_before: Option<i64>,
    /// Only these formats (`jpeg`, `png`, ...).
    pub formats: Vec<String>,
    /// Only photos in a folder of one of these names (any level, any case).
    pub folder_names: Vec<String>,
    /// Never return these ids.
    pub exclude: Vec<FileId>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.folders.is_empty()
            && self.taken_after.is_none()
            && self.taken_before.is_none()
            && self.formats.is_empty()
            && self.folder_names.is_empty()
            && self.exclude.is_empty()
    }

    /// Whether `path` is in the folders (and folder names) asked for.
    pub fn in_folders(&self, path: &std::path::Path) -> bool {
        if !self.folders.is_empty() && !self.folders.iter().any(|f| path.starts_with(f)) {
            return false;
        }
        if !self.folder_names.is_empty() {
            let parent = path.parent().unwrap_or(path);
            let named = |n: &String| parent.components().any(|c| c.as_os_str().to_string_lossy().eq_ignore_ascii_case(n));
            if !self.folder_names.iter().any(named) {
                return false;
            }
        }
        true
    }

    pub fn accepts(&self, id: FileId, meta: &PointMeta) -> bool {
        if !self.in_folders(&meta.path) {
            return false;
        }
        if self.taken_after.is_some() || self.taken_before.is_some() {
            let Some(t) = meta.taken_at else { return false };
            if self.taken_after.is_some_and(|a| t < a) || self.taken_before.is_some_and(|b| t > b) {
                return false;
            }
        }
        if !self.formats.is_empty() && !self.formats.iter().any(|f| f.eq_ignore_ascii_case(&meta.format)) {
            return false;
        }
        !self.exclude.contains(&id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    pub id: FileId,
    /// In the model's metric: cosine distance (1 - cos) or L2 distance.
    pub distance: f32,
    /// Cosine similarity, -1..1, higher is more alike, whatever the metric.
    pub similarity: f32,
}

impl Hit {
    /// Both metrics derive from the dot product of unit vectors.
    /// A photo's dot product with itself can come out a hair above 1 in
    /// f32 (int8 models' vectors often do): it is clamped, so that no
    /// distance is ever shown as -0.000.
    pub fn from_dot(id: FileId, dot: f32, metric: Metric) -> Hit {
        let dot = dot.clamp(-1.0, 1.0);
        let distance = match metric {
            Metric::Cosine => 1.0 - dot,
            Metric::L2 => (2.0 - 2.0 * dot).max(0.0).sqrt(),
        };
        Hit { id, distance, similarity: dot }
    }
}

/// A place vectors of one model live and are searched.
pub trait VectorStore: Send {
    /// A short name for messages (`embedded`, `milvus`).
    fn kind(&self) -> &'static str;
    fn metric(&self) -> Metric;
    fn dim(&self) -> usize;
    /// Insert or replace points by id.
    fn upsert(&mut self, points: &[Point]) -> Result<()>;
    fn delete(&mut self, ids: &[FileId]) -> Result<()>;
    /// The `k` nearest points that pass `filter`, nearest first.
    fn search(&self, query: &[f32], k: usize, filter: &Filter) -> Result<Vec<Hit>>;
    /// Every id held, for reconciling with the catalog.
    fn ids(&self) -> Result<Vec<FileId>>;
    fn len(&self) -> Result<usize>;
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Every pair of points whose dot product is at least `min_dot`, found
    /// approximately (callers confirm with the exact vectors), with the
    /// share of the work done reported to `progress`. `None` where the store
    /// keeps no vectors in memory (Milvus): the caller then compares the
    /// catalog's copies of them.
    fn similar_pairs(
        &self,
        _min_dot: f32,
        _progress: &(dyn Fn(f64) + Sync),
        _cancel: &crate::progress::Cancel,
    ) -> Option<Result<Vec<(FileId, FileId)>>> {
        None
    }
    /// Rebuild the store's ANN index with another type or parameters.
    fn set_index(&mut self, _index: &IndexConfig) -> Result<()> {
        Err(crate::error::Error::Config(format!(
            "the {} store searches exactly; index types apply to Milvus",
            self.kind()
        )))
    }
    /// The ANN index in use, if the store has one.
    fn index(&self) -> Option<IndexConfig> {
        None
    }
}
