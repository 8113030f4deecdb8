//! Queries: by an image file (dropped onto the window, from anywhere) or by
//! a photo already in the library. A [`Searcher`] borrows the parts of a
//! library a query reads; the other query features (`text`, `refine`) build
//! on it.
//!
//! Uses the parts (catalog, models, stores, thumbnails); never the `Library`
//! that lends them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::catalog::{Catalog, FileId, FileRow, FileState, Hash};
use crate::embed::{Models, Region};
use crate::error::{Error, Result};
use crate::store::{Filter, Stores};
use crate::thumbs::Thumbnails;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
pub struct SearchHit {
    pub id: FileId,
    #[serde(flatten, serialize_with = "crate::paths::path_field")]
    pub path: PathBuf,
    /// Content hash (hex): names the photo's thumbnail.
    pub hash: Option<String>,
    pub distance: f32,
    pub similarity: f32,
    /// This result is the query photo itself (or an exact copy of it).
    pub is_query: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub format: Option<String>,
    pub taken_at: Option<i64>,
    #[serde(serialize_with = "crate::paths::lossy_opt")]
    pub thumbnail: Option<PathBuf>,
    /// A moment of a video: `path` is the video, `hash` and the thumbnail
    /// the frame's.
    pub frame: Option<crate::catalog::FrameOf>,
    pub duration_ms: Option<i64>,
    pub camera: Option<String>,
    pub lens: Option<String>,
    /// The other files of this photo (a JPEG's RAW, a RAW's JPEG).
    #[serde(serialize_with = "crate::paths::lossy_vec")]
    pub also: Vec<PathBuf>,
    /// A live photo: the file that holds its motion (a Live Photo's MOV,
    /// or the motion photo itself).
    #[serde(serialize_with = "crate::paths::lossy_opt")]
    pub live: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SearchResults {
    pub model: String,
    pub metric: crate::models::Metric,
    pub store: &'static str,
    #[serde(serialize_with = "crate::paths::lossy")]
    pub query: PathBuf,
    /// The library's id for the query photo, when it is in the library.
    pub query_id: Option<FileId>,
    /// Content hash (hex) of the query photo: names its thumbnail, which is
    /// cached for outside photos too.
    pub query_hash: Option<String>,
    /// The part of the query photo searched with, where only a part was.
    pub region: Option<Region>,
    pub hits: Vec<SearchHit>,
    pub millis: f64,
}

/// The parts of a library a query reads.
pub struct Searcher<'a> {
    pub catalog: &'a Catalog,
    pub models: &'a mut Models,
    pub stores: &'a mut Stores,
    /// The library's thumbnails, shown with results.
    pub thumbs: &'a Thumbnails,
    /// Thumbnails of query photos from outside the library: kept apart, and
    /// trimmed to a size cap.
    pub query_thumbs: &'a Thumbnails,
}

impl Searcher<'_> {
    /// The photos most like the image at `path`, which need not be in the library.
    pub fn search_file(&mut self, path: &Path, k: usize, filter: &Filter) -> Result<SearchResults> {
        let started = Instant::now();
        // Already embedded when the photo (or a copy of it) is in the library.
        let (vector, hash) = self.vector_of(path)?;
        let model = self.models.active().to_string();
        self.search_vector(&model, path, &[hash], &vector, k, filter, started)
    }

    /// The photos most like a part of the image at `path` ("find this mug").
    pub fn search_region(&mut self, path: &Path, region: Region, k: usize, filter: &Filter) -> Result<SearchResults> {
        let bytes = crate::files::read_regular(path).map_err(|e| Error::io(path, e))?;
        self.search_region_of(&bytes, path, region, k, filter)
    }

    /// `search_region` for an image given as bytes (pasted), named `name`.
    pub fn search_bytes_region(&mut self, bytes: &[u8], name: &str, region: Region, k: usize, filter: &Filter) -> Result<SearchResults> {
        self.search_region_of(bytes, Path::new(name), region, k, filter)
    }

    fn search_region_of(&mut self, bytes: &[u8], query: &Path, region: Region, k: usize, filter: &Filter) -> Result<SearchResults> {
        let started = Instant::now();
        let hash = *blake3::hash(bytes).as_bytes();
        let model = self.models.active().to_string();
        let vector = self.models.embed_region(&model, bytes, region)?.vector;
        // The whole photo's thumbnail, for the window to draw the part on.
        if self.catalog.embedding(&hash, &model)?.is_none() {
            self.embed_image(&model, bytes, Some(&hash))?;
        }
        let mut results = self.search_vector(&model, query, &[hash], &vector, k, filter, started)?;
        results.region = Some(region);
        Ok(results)
    }

    /// The photos most like a photo of the library.
    pub fn search_library(&mut self, path: &Path, k: usize, filter: &Filter) -> Result<SearchResults> {
        let started = Instant::now();
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let row = self.catalog
            .file_by_path(&canonical)?
            .ok_or_else(|| Error::NotInLibrary(path.to_path_buf()))?;
        if row.duration_ms.is_some() {
            return Err(Error::NotAPhoto(format!(
                "{} is a video: search with a photo of the moment, or a moment from its results",
                path.display()
            )));
        }
        let vector = match (row.state, row.hash) {
            (FileState::Indexed, Some(h)) => self.catalog.embedding(&h, self.models.active())?,
            _ => None,
        }
        .ok_or_else(|| {
            Error::NotInLibrary(PathBuf::from(format!(
                "{} (not indexed yet{})",
                path.display(),
                row.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
            )))
        })?;
        let model = self.models.active().to_string();
        self.search_vector(&model, &canonical, &row.hash.into_iter().collect::<Vec<_>>(), &vector, k, filter, started)
    }

    /// "More like these": photos like all of `like` and unlike `unlike`.
    ///
    /// The query is the normalised mean of the liked photos' vectors minus
    /// half the mean of the disliked ones (Rocchio's update). One search with
    /// the centroid finds what the photos have in common, which is what
    /// "more like these" asks; merging per-photo result lists instead would
    /// favour whatever sits close to any single one of them. Photos may be
    /// in the library or anywhere else.
    pub fn search_many(
        &mut self,
        like: &[PathBuf],
        unlike: &[PathBuf],
        k: usize,
        filter: &Filter,
    ) -> Result<SearchResults> {
        let started = Instant::now();
        if like.is_empty() {
            return Err(Error::BadQuery("more like these needs at least one photo".into()));
        }
        let mut query = vec![0.0f32; self.models.active_spec().dim];
        let mut like_hashes = Vec::new();
        for path in like {
            let (v, h) = self.vector_of(path)?;
            query.iter_mut().zip(&v).for_each(|(q, x)| *q += x / like.len() as f32);
            like_hashes.push(h);
        }
        let mut filter = filter.clone();
        for path in unlike {
            let (v, h) = self.vector_of(path)?;
            query.iter_mut().zip(&v).for_each(|(q, x)| *q -= 0.5 * x / unlike.len() as f32);
            filter.exclude.extend(self.catalog.files_with_hash(&h)?.iter().map(|r| r.id));
        }
        let query = crate::embed::normalised(&query);
        let model = self.models.active().to_string();
        self.search_vector(&model, &like[0], &like_hashes, &query, k, &filter, started)
    }

    /// The active model's vector for the image at `path` (cached when its
    /// content is in the library) and its content hash.
    fn vector_of(&mut self, path: &Path) -> Result<(Vec<f32>, Hash)> {
        let model = self.models.active().to_string();
        self.vector_in(&model, path)
    }

    /// `model`'s vector for the image at `path`, and its content hash.
    pub fn vector_in(&mut self, model: &str, path: &Path) -> Result<(Vec<f32>, Hash)> {
        let bytes = crate::files::read_regular(path).map_err(|e| Error::io(path, e))?;
        // A video opened or dropped as the query ("Open with" takes videos too).
        if crate::decode::sniff(&bytes).is_none() && crate::video::sniff(&bytes).is_some() {
            return Err(Error::NotAPhoto(format!(
                "{} is a video: search with a photo, and the moments of videos that look like it are found",
                path.display()
            )));
        }
        self.vector_of_bytes_in(model, &bytes)
    }

    fn vector_of_bytes(&mut self, bytes: &[u8]) -> Result<(Vec<f32>, Hash)> {
        let model = self.models.active().to_string();
        self.vector_of_bytes_in(&model, bytes)
    }

    fn vector_of_bytes_in(&mut self, model: &str, bytes: &[u8]) -> Result<(Vec<f32>, Hash)> {
        let hash = *blake3::hash(bytes).as_bytes();
        let v = match self.catalog.embedding(&hash, model)? {
            Some(v) => v,
            None => self.embed_image(model, bytes, Some(&hash))?,
        };
        Ok((v, hash))
    }

    /// The photos most like an image given as bytes (pasted, say).
    pub fn search_bytes(&mut self, bytes: &[u8], name: &str, k: usize, filter: &Filter) -> Result<SearchResults> {
        let started = Instant::now();
        let (vector, hash) = self.vector_of_bytes(bytes)?;
        let model = self.models.active().to_string();
        self.search_vector(&model, Path::new(name), &[hash], &vector, k, filter, started)
    }

    /// Embed an image that is not in the library.
    pub fn embed_bytes(&mut self, bytes: &[u8]) -> Result<Vec<f32>> {
        let model = self.models.active().to_string();
        self.embed_image(&model, bytes, None)
    }

    /// Embed an image with `model`; with its hash, also cache its thumbnail
    /// so a front end can show the query next to its results.
    fn embed_image(&mut self, model: &str, bytes: &[u8], thumbnail_for: Option<&Hash>) -> Result<Vec<f32>> {
        let min_side = if thumbnail_for.is_some() { self.thumbs.size } else { 0 };
        let (decoded, embedding) = self.models.embed_file(model, bytes, min_side)?;
        if let Some(hash) = thumbnail_for {
            // A library photo's thumbnail belongs with the library's; an
            // outside photo's goes to the capped query cache, so queries never
            // grow the library.
            if self.catalog.files_with_hash(hash)?.is_empty() {
                self.query_thumbs.ensure(hash, &decoded.pixels);
                self.query_thumbs.trim(crate::thumbs::QUERY_CACHE_CAP);
            } else {
                self.thumbs.ensure(hash, &decoded.pixels);
            }
        }
        Ok(embedding.vector)
    }

    pub fn hit(&self, row: FileRow, distance: f32, similarity: f32, is_query: bool) -> SearchHit {
        // A lookup by name; a failure to read it only leaves the badges off.
        let companions = self.catalog.companions(&row).unwrap_or_default();
        SearchHit {
            also: companions.also,
            live: companions.live_video.or_else(|| row.motion.then(|| row.path.clone())),
            id: row.id,
            thumbnail: row.hash.map(|h| self.thumbs.path(&h)).filter(|p| p.exists()),
            hash: row.hash_hex(),
            path: row.path,
            distance,
            similarity,
            is_query,
            width: row.width,
            height: row.height,
            format: row.format,
            taken_at: row.taken_at,
            frame: row.frame,
            duration_ms: row.duration_ms,
            camera: row.camera,
            lens: row.lens,
        }
    }

    /// Search `model`'s store with `vector`; results whose content is one of
    /// `query_hashes` are flagged as the query.
    #[allow(clippy::too_many_arguments)]
    pub fn search_vector(
        &mut self,
        model: &str,
        query: &Path,
        query_hashes: &[Hash],
        vector: &[f32],
        k: usize,
        filter: &Filter,
        started: Instant,
    ) -> Result<SearchResults> {
        let store = self.stores.get(self.catalog, model)?;
        let (kind, metric) = (store.kind(), store.metric());
        // A RAW shown as its JPEG takes no place of its own: a few more
        // are asked for, and the list cut to `k` after.
        let hits = store.search(vector, k + k / 2 + 2, filter)?;
        let mut out = Vec::with_capacity(hits.len());
        let mut query_id = None;
        for hit in hits {
            // The store follows the catalog; a row missing here was removed
            // between the two reads and is simply not shown.
            let Some(row) = self.catalog.file(hit.id)? else { continue };
            if self.catalog.is_hidden_raw(&row)? {
                continue;
            }
            let is_query = row.hash.is_some_and(|h| query_hashes.contains(&h));
            if is_query && (query_id.is_none() || row.path == query) {
                query_id = Some(row.id);
            }
            out.push(self.hit(row, hit.distance, hit.similarity, is_query));
        }
        out.truncate(k);
        if query_id.is_none() {
            if let Some(h) = query_hashes.first() {
                query_id = self.catalog.files_with_hash(h)?.first().map(|r| r.id);
            }
        }
        Ok(SearchResults {
            region: None,
            model: model.to_string(),
            metric,
            store: kind,
            query: query.to_path_buf(),
            query_id,
            query_hash: query_hashes.first().map(|h| crate::catalog::hex(h)),
            hits: out,
            millis: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}
