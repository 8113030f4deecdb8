//! The library as a map: one model's vectors laid out on the plane so that
//! photos alike lie together, in clusters with names.
//!
//! The vectors are first projected on their fifty principal axes (`pca`,
//! learned on a sample). The default map is neighbour-preserving
//! (`layout`: each photo's nearest neighbours in that space pulled together,
//! UMAP's way), started from the PCA map; the tutorial's PCA map (the first
//! two axes) stays available. Clusters are found on the map (`clusters`):
//! islands, their parts, and points between islands left unclustered; each
//! is named by the ImageNet labels most particular to it, or, for a model
//! with a text tower, in its own words (`words`).
//!
//! The map is cached per model and layout. While the library has changed by
//! less than `refit_change`, new photos are placed among their neighbours
//! without moving the others, and photos gone are dropped; past it, the map
//! is laid out again.
//!
//! Uses the catalog and the model files' labels; never the `Library`.

pub mod clusters;
pub mod layout;
mod pca;
pub mod quality;
mod words;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalog::{Catalog, FileId};
use crate::error::{Error, Result};
use crate::models::labels::LABEL_MODEL;
use crate::models::{ModelDir, ModelSpec};
use crate::progress::{Cancel, Meter, Phase, Sink};
use clusters::Clustering;
use layout::{LayoutOptions, Points};
pub use pca::VectorSource;

/// How the map is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum Layout {
    /// Neighbour-preserving (UMAP-style): what is alike lies together.
    Umap,
    /// The first two principal axes: the tutorial's view.
    Pca,
}

impl std::str::FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "umap" => Ok(Layout::Umap),
            "pca" => Ok(Layout::Pca),
            _ => Err(format!("{s:?}: use umap or pca")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExploreOptions {
    pub layout: Layout,
    /// At most this many vectors are used to learn the principal axes.
    pub sample: usize,
    /// Principal axes neighbours are found in.
    pub components: usize,
    pub max_clusters: usize,
    pub seed: u64,
    /// Lay out again when the number of photos changed by more than this
    /// fraction since the map was made.
    pub refit_change: f64,
    pub neighbours: usize,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        ExploreOptions { layout: Layout::Umap, sample: 10_000, components: 50, max_clusters: 12, seed: 7, refit_change: 0.2, neighbours: 15 }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct MapPoint {
    pub id: FileId,
    #[serde(flatten, serialize_with = "crate::paths::path_field")]
    pub path: PathBuf,
    /// Content hash (hex): names the photo's thumbnail.
    pub hash: Option<String>,
    pub x: f32,
    pub y: f32,
    /// Its top-level cluster (an index into `clusters`); `None` for a photo
    /// between islands.
    pub cluster: Option<usize>,
    /// Its part of that cluster (an index into `clusters`), where it splits.
    pub part: Option<usize>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ClusterSummary {
    /// Its index in `clusters`.
    pub cluster: usize,
    /// The cluster it is a part of (`None` for a top-level one).
    pub parent: Option<usize>,
    /// "3" for the third island, "3.2" for its second part.
    pub label_path: String,
    pub size: usize,
    /// Its most particular labels, or "cluster 3" without labels.
    pub name: String,
    /// (label, photos whose top label it is), most particular first.
    pub labels: Vec<(String, usize)>,
    /// Centre of its points on the map.
    pub x: f32,
    pub y: f32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Map {
    pub model: String,
    pub layout: Layout,
    pub points: Vec<MapPoint>,
    /// Top-level clusters first, then their parts.
    pub clusters: Vec<ClusterSummary>,
    /// Photos between islands, in no cluster.
    pub unclustered: usize,
    /// Share of variance the two PCA axes show (for the PCA layout).
    pub explained: [f32; 2],
    /// True when the map was laid out now, false when the cached one served.
    pub refitted: bool,
    /// True while a new layout is being made: this is the old map (new
    /// photos placed on it) or, before the first layout, an empty one.
    pub pending: bool,
    pub millis: f64,
}

impl Map {
    /// No points yet: the first layout is being made.
    pub fn pending(model: &str, layout: Layout) -> Map {
        Map {
            model: model.to_string(),
            layout,
            points: Vec::new(),
            clusters: Vec::new(),
            unclustered: 0,
            explained: [0.0; 2],
            refitted: false,
            pending: true,
            millis: 0.0,
        }
    }
}

/// What a library's map needs (`Explorer::plan`).
pub enum Plan {
    /// The cached map serves, brought up to date.
    Current(Map),
    /// A new layout is due: there is none yet, or the library changed by
    /// more than `refit_change` since the last one. `stale` is the old map
    /// brought up to date, to show until the new one is ready.
    Due { stale: Option<Map> },
}

/// A layout to be made away from the library's thread: it reads the
/// catalog through a connection of its own, so the library goes on
/// answering (and indexing) meanwhile.
pub struct MapJob {
    pub catalog: PathBuf,
    /// For the class words clusters are named by (CLIP-style models).
    pub models: ModelDir,
    pub spec: ModelSpec,
    pub options: ExploreOptions,
}

impl MapJob {
    pub fn run(&self, sink: Sink, cancel: &Cancel) -> Result<LaidOut> {
        let catalog = Catalog::open(&self.catalog)?;
        lay_out(&catalog, &self.models, &self.spec, &self.options, sink, cancel)
    }
}

/// Lay out `spec`'s vectors in `catalog` anew.
pub fn lay_out(catalog: &Catalog, models: &ModelDir, spec: &ModelSpec, options: &ExploreOptions, sink: Sink, cancel: &Cancel) -> Result<LaidOut> {
    let source = CatalogVectors { catalog, model: &spec.name, dim: spec.dim };
    let mut laid = make(&source, options, sink, cancel)?;
    // A model with a text tower names its clusters in its own words.
    if let Some(words) = words::ClassWords::for_model(models, spec, sink, cancel)? {
        let index: HashMap<FileId, usize> = laid.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut each = |f: &mut dyn FnMut(usize, &[f32])| source.for_each(&mut |id, v| {
            if let Some(&i) = index.get(&id) {
                f(i, v);
            }
        });
        laid.words = words::cluster_names(&words, spec.dim, &mut each, &laid.cluster, &laid.part, &laid.parts)?;
    }
    Ok(laid)
}

/// The catalog's vectors of one model.
struct CatalogVectors<'a> {
    catalog: &'a Catalog,
    model: &'a str,
    dim: usize,
}

impl VectorSource for CatalogVectors<'_> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn for_each(&self, f: &mut dyn FnMut(FileId, &[f32])) -> Result<()> {
        self.catalog.embedded_files(self.model, |row, v| {
            f(row.id, &v);
            Ok(())
        })
    }

    fn ids(&self) -> Result<Vec<FileId>> {
        self.catalog.embedded_ids(self.model)
    }

    fn for_ids(&self, ids: &[FileId], f: &mut dyn FnMut(FileId, &[f32])) -> Result<()> {
        for &id in ids {
            let Some(hash) = self.catalog.file(id)?.and_then(|r| r.hash) else { continue };
            if let Some(v) = self.catalog.embedding(&hash, self.model)? {
                f(id, &v);
            }
        }
        Ok(())
    }
}

/// A laid-out map (kept between runs): every photo's place and cluster.
#[derive(Clone, Serialize, Deserialize)]
pub struct LaidOut {
    pub layout: Layout,
    fit: pca::Fit,
    pub ids: Vec<FileId>,
    /// Two floats a photo, in `ids` order.
    pub xy: Vec<f32>,
    pub cluster: Vec<Option<usize>>,
    pub part: Vec<Option<usize>>,
    /// How many parts each top-level cluster has.
    pub parts: Vec<usize>,
    /// How many photos the map had when it was last laid out from scratch.
    laid_out_on: usize,
    /// Each cluster's name in the model's own words (tops, then parts), for
    /// models with a text tower; empty otherwise.
    #[serde(default)]
    words: Vec<String>,
    /// How its clusters were found (`CLUSTERING`): a map clustered by an
    /// older rule is laid out again (and shown meanwhile).
    #[serde(default)]
    clustering: u32,
    /// Each photo's PCA coordinates, in `ids` order: new photos find their
    /// neighbours among them without the library's vectors being read again.
    /// Kept in a file of its own, as raw floats.
    #[serde(skip)]
    coords: Vec<f32>,
    /// How long the layout took (not kept).
    #[serde(skip)]
    millis: f64,
}

impl LaidOut {
    fn read(json: &Path, coords: &Path) -> Option<LaidOut> {
        let mut map: LaidOut = serde_json::from_slice(&std::fs::read(json).ok()?).ok()?;
        let bytes = std::fs::read(coords).unwrap_or_default();
        map.coords = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Some(map)
    }

    fn write(&self, json: &Path, coords: &Path) -> Result<()> {
        std::fs::create_dir_all(json.parent().unwrap()).map_err(|e| Error::io(json, e))?;
        std::fs::write(json, serde_json::to_vec(self).map_err(Error::internal)?).map_err(|e| Error::io(json, e))?;
        let bytes: Vec<u8> = self.coords.iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(coords, bytes).map_err(|e| Error::io(coords, e))
    }
}

/// The rule clusters are found by; raised when it changes. 1: the number of
/// islands chosen in the embedding space rather than on the map.
const CLUSTERING: u32 = 1;

/// The map's file and its coordinates' file.
fn cache_paths(dir: &Path, model: &str, layout: Layout) -> (PathBuf, PathBuf) {
    let stem = match layout {
        Layout::Umap => format!("{model}.map"),
        Layout::Pca => format!("{model}.pca"),
    };
    (dir.join("explore").join(format!("{stem}.json")), dir.join("explore").join(format!("{stem}.coords")))
}

/// The parts of a library the map reads.
pub struct Explorer<'a> {
    pub catalog: &'a Catalog,
    /// For the ImageNet class names clusters are named by.
    pub models: &'a ModelDir,
    /// Where maps are cached (the library's folder).
    pub dir: &'a Path,
}

impl Explorer<'_> {
    /// The map of `spec`'s vectors, from the cached one when it still
    /// describes the library, else laid out now. Progress goes to `sink`.
    pub fn explore(&self, spec: &ModelSpec, options: &ExploreOptions, sink: Sink, cancel: &Cancel) -> Result<Map> {
        match self.plan(spec, options)? {
            Plan::Current(map) => Ok(map),
            Plan::Due { .. } => {
                let laid = lay_out(self.catalog, self.models, spec, options, sink, cancel)?;
                self.adopt(spec, laid, options)
            }
        }
    }

    /// What the map needs now, without laying anything out: the cached map
    /// brought up to date, or word that a new layout is due (with the old
    /// map, new photos placed on it, to show meanwhile).
    pub fn plan(&self, spec: &ModelSpec, options: &ExploreOptions) -> Result<Plan> {
        let started = Instant::now();
        let source = CatalogVectors { catalog: self.catalog, model: &spec.name, dim: spec.dim };
        let count = self.catalog.embedded_ids(&spec.name)?.len();
        let (json, coords) = cache_paths(self.dir, &spec.name, options.layout);
        let cached = LaidOut::read(&json, &coords).filter(|c| c.layout == options.layout && c.fit.dim == spec.dim);
        let Some(cached) = cached else { return Ok(Plan::Due { stale: None }) };
        let current = cached.laid_out_on > 0
            && cached.clustering == CLUSTERING
            && (count as f64 - cached.laid_out_on as f64).abs() <= options.refit_change * cached.laid_out_on as f64;
        let before = cached.ids.clone();
        let map = update(cached, &source, options)?;
        let mut out = self.describe(&spec.name, &map)?;
        out.millis = started.elapsed().as_secs_f64() * 1000.0;
        if !current {
            out.pending = true;
            return Ok(Plan::Due { stale: Some(out) });
        }
        if map.ids != before {
            map.write(&json, &coords)?;
        }
        Ok(Plan::Current(out))
    }

    /// Take a map laid out by `lay_out` (perhaps on another thread, while
    /// the library went on changing): photos indexed or removed since are
    /// placed or dropped, and it becomes the cached map.
    pub fn adopt(&self, spec: &ModelSpec, laid: LaidOut, options: &ExploreOptions) -> Result<Map> {
        let started = Instant::now();
        let source = CatalogVectors { catalog: self.catalog, model: &spec.name, dim: spec.dim };
        let took = laid.millis;
        let map = update(laid, &source, options)?;
        let (json, coords) = cache_paths(self.dir, &spec.name, map.layout);
        map.write(&json, &coords)?;
        let mut out = self.describe(&spec.name, &map)?;
        out.refitted = true;
        out.millis = took + started.elapsed().as_secs_f64() * 1000.0;
        Ok(out)
    }

    /// The points and named clusters of a laid-out map.
    fn describe(&self, model: &str, map: &LaidOut) -> Result<Map> {
        let classes = self.models.labels(&ModelDir::spec(LABEL_MODEL)?).ok().flatten();
        let tops = map.parts.len();
        // Clusters: the top-level ones, then each one's parts.
        let mut first_part = Vec::with_capacity(tops);
        let mut total = tops;
        for &p in &map.parts {
            first_part.push(total);
            total += p;
        }
        let mut clusters: Vec<ClusterSummary> = (0..total)
            .map(|c| {
                let (parent, label_path) = if c < tops {
                    (None, format!("{}", c + 1))
                } else {
                    let top = first_part.iter().rposition(|&f| f <= c).expect("a part has a parent");
                    (Some(top), format!("{}.{}", top + 1, c - first_part[top] + 1))
                };
                ClusterSummary { cluster: c, parent, label_path, size: 0, name: String::new(), labels: Vec::new(), x: 0.0, y: 0.0 }
            })
            .collect();
        let mut label_counts: Vec<HashMap<String, usize>> = vec![HashMap::new(); total];
        let mut overall: HashMap<String, usize> = HashMap::new();
        let mut points = Vec::with_capacity(map.ids.len());
        for (i, &id) in map.ids.iter().enumerate() {
            let Some(row) = self.catalog.file(id)? else { continue };
            let (x, y) = (map.xy[2 * i], map.xy[2 * i + 1]);
            let cluster = map.cluster[i];
            let part = match (cluster, map.part[i]) {
                (Some(c), Some(p)) => Some(first_part[c] + p),
                _ => None,
            };
            let label = match (&classes, row.hash) {
                (Some(classes), Some(hash)) => self
                    .catalog
                    .labels(&hash, crate::models::labels::label_model(model))?
                    .first()
                    .and_then(|(class, _)| classes.get(*class as usize))
                    .map(|c| c.name().to_string()),
                _ => None,
            };
            for c in [cluster, part].into_iter().flatten() {
                let s = &mut clusters[c];
                s.size += 1;
                s.x += x;
                s.y += y;
                if let Some(l) = &label {
                    *label_counts[c].entry(l.clone()).or_default() += 1;
                }
            }
            if let Some(l) = label {
                *overall.entry(l).or_default() += 1;
            }
            points.push(MapPoint { id, hash: row.hash_hex(), path: row.path, x, y, cluster, part });
        }
        let parent_counts: Vec<HashMap<String, usize>> = label_counts[..tops].to_vec();
        for (c, s) in clusters.iter_mut().enumerate() {
            if s.size > 0 {
                s.x /= s.size as f32;
                s.y /= s.size as f32;
            }
            // A part is named by what sets it apart within its island.
            let against = match s.parent {
                Some(parent) => parent_counts[parent].clone(),
                None => overall.clone(),
            };
            s.labels = particular(std::mem::take(&mut label_counts[c]), &against);
            s.name = if let Some(word) = map.words.get(c).filter(|w| !w.is_empty() && map.words.len() == total) {
                word.clone()
            } else if s.labels.is_empty() {
                format!("cluster {}", s.label_path)
            } else {
                s.labels.iter().take(2).map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(" / ")
            };
        }
        distinguish_names(&mut clusters);
        let unclustered = points.iter().filter(|p| p.cluster.is_none()).count();
        let explained = [map.fit.explained.first().copied().unwrap_or(0.0), map.fit.explained.get(1).copied().unwrap_or(0.0)];
        Ok(Map { model: model.to_string(), layout: map.layout, points, clusters, unclustered, explained, refitted: false, pending: false, millis: 0.0 })
    }
}

/// Clusters of one island (or islands) named alike, as two parts whose most
/// particular labels are the same two, each gain their next label that their
/// name lacks; those still alike gain their place ("3.2"), so that no two in
/// the legend read the same.
fn distinguish_names(clusters: &mut [ClusterSummary]) {
    let alike = |clusters: &[ClusterSummary]| {
        let mut groups: HashMap<(Option<usize>, String), Vec<usize>> = HashMap::new();
        for (i, c) in clusters.iter().enumerate() {
            groups.entry((c.parent, c.name.clone())).or_default().push(i);
        }
        let mut alike: Vec<usize> = groups.into_values().filter(|g| g.len() > 1).flatten().collect();
        alike.sort_unstable();
        alike
    };
    for i in alike(clusters) {
        let c = &mut clusters[i];
        let named: Vec<&str> = c.name.split(" / ").collect();
        if let Some((next, _)) = c.labels.iter().find(|(l, _)| !named.contains(&l.as_str())) {
            c.name = format!("{} / {next}", c.name);
        }
    }
    for i in alike(clusters) {
        let c = &mut clusters[i];
        c.name = format!("{} ({})", c.name, c.label_path);
    }
}

/// A cluster's labels, most particular to it first: by how many of its
/// photos have the label, times the share of all photos with that label
/// that are in it ("tabby" for the cats' island, not "web site" that is
/// everywhere).
fn particular(counts: HashMap<String, usize>, overall: &HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut labels: Vec<(String, usize)> = counts.into_iter().collect();
    let score = |(l, n): &(String, usize)| *n as f64 * *n as f64 / overall.get(l).copied().unwrap_or(1).max(1) as f64;
    labels.sort_by(|a, b| score(b).total_cmp(&score(a)).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    labels
}

/// Lay out every vector of `source` anew.
pub fn make(source: &dyn VectorSource, options: &ExploreOptions, sink: Sink, cancel: &Cancel) -> Result<LaidOut> {
    let started = Instant::now();
    let mut meter = Meter::new(Phase::Mapping, 100);
    sink(meter.event(None));
    let (fit, _) = pca::fit(source, options.sample, options.components, options.seed)?;
    let (ids, coords) = pca::project_all(&fit, source)?;
    let c = fit.components.len().max(1);
    let points = Points { data: &coords, dim: c };
    let start: Vec<f32> = coords.chunks_exact(c).flat_map(|r| [r[0], r.get(1).copied().unwrap_or(0.0)]).collect();
    // Shares of the work: neighbours 0-40%, the layout 40-95%.
    let report = |from: f64, span: f64| {
        let meter = meter.clone();
        move |share: f64| {
            let mut at = meter.clone();
            at.done = ((from + span * share) * 100.0) as u64;
            sink(at.event(None));
        }
    };
    let knn = layout::neighbours(&points, options.neighbours, options.seed, &report(0.0, 0.4), cancel)?;
    let xy = match options.layout {
        Layout::Pca => start,
        Layout::Umap => {
            let layout_options = LayoutOptions { neighbours: options.neighbours, seed: options.seed, ..Default::default() };
            layout::layout(&knn, &start, &layout_options, &report(0.4, 0.55), cancel)?
        }
    };
    let Clustering { cluster, part, parts } = clusters::cluster(&xy, &coords, c, &knn, options.max_clusters, options.seed);
    meter.done = meter.total;
    sink(meter.event(None));
    let laid_out_on = ids.len();
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    Ok(LaidOut { layout: options.layout, fit, ids, xy, cluster, part, parts, laid_out_on, words: Vec::new(), clustering: CLUSTERING, coords, millis })
}

/// The cached map brought up to date: photos gone are dropped, new ones
/// placed beside their nearest neighbours (and given their cluster), the
/// others stay where they are. Only the new photos' vectors are read when
/// the cached coordinates are there.
pub fn update(cached: LaidOut, source: &dyn VectorSource, options: &ExploreOptions) -> Result<LaidOut> {
    let c = cached.fit.components.len().max(1);
    let old: HashMap<FileId, usize> = cached.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let (ids, coords) = if cached.coords.len() == cached.ids.len() * c {
        let ids = source.ids()?;
        let new: Vec<FileId> = ids.iter().filter(|id| !old.contains_key(id)).copied().collect();
        let mut fresh: HashMap<FileId, Vec<f32>> = HashMap::new();
        source.for_ids(&new, &mut |id, v| {
            fresh.insert(id, pca::project(&cached.fit, v));
        })?;
        let mut coords = Vec::with_capacity(ids.len() * c);
        let mut present = Vec::with_capacity(ids.len());
        for id in ids {
            match (old.get(&id), fresh.get(&id)) {
                (Some(&o), _) => coords.extend_from_slice(&cached.coords[o * c..(o + 1) * c]),
                (None, Some(v)) => coords.extend_from_slice(v),
                (None, None) => continue, // gone between the two reads
            }
            present.push(id);
        }
        (present, coords)
    } else {
        pca::project_all(&cached.fit, source)?
    };
    // The laid-out photos still in the library: in PCA space, and on the map.
    let kept: Vec<usize> = ids.iter().filter_map(|id| old.get(id).copied()).collect();
    let kept_coords: Vec<f32> =
        ids.iter().enumerate().filter(|(_, id)| old.contains_key(id)).flat_map(|(i, _)| coords[i * c..(i + 1) * c].iter().copied()).collect();
    let kept_xy: Vec<f32> = kept.iter().flat_map(|&o| [cached.xy[2 * o], cached.xy[2 * o + 1]]).collect();
    let kept_points = Points { data: &kept_coords, dim: c };
    let (mut xy, mut cluster, mut part) = (Vec::with_capacity(2 * ids.len()), Vec::new(), Vec::new());
    for (i, id) in ids.iter().enumerate() {
        if let Some(&o) = old.get(id) {
            xy.extend([cached.xy[2 * o], cached.xy[2 * o + 1]]);
            cluster.push(cached.cluster[o]);
            part.push(cached.part[o]);
            continue;
        }
        let q = &coords[i * c..(i + 1) * c];
        let near = layout::nearest_to(&kept_points, q, options.neighbours);
        let at = match cached.layout {
            Layout::Pca => (q[0], q.get(1).copied().unwrap_or(0.0)),
            Layout::Umap => layout::place(&near, &kept_xy),
        };
        xy.extend([at.0, at.1]);
        // Its neighbours' cluster and part, by majority.
        let of = |j: u32| kept[j as usize];
        let top = majority(near.iter().map(|(j, _)| cached.cluster[of(*j)]));
        let within = majority(near.iter().filter(|(j, _)| cached.cluster[of(*j)] == top).map(|(j, _)| cached.part[of(*j)]));
        cluster.push(top);
        part.push(within);
    }
    Ok(LaidOut { xy, cluster, part, coords, ids, ..cached })
}

/// The most frequent value (the smallest of those tied); `None` for none.
fn majority(values: impl Iterator<Item = Option<usize>>) -> Option<usize> {
    let mut counts: HashMap<Option<usize>, usize> = HashMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).and_then(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// Normalised vectors around `centres` random directions; ids from `first`.
    struct Blobs {
        n: usize,
        dim: usize,
        centres: usize,
        first: FileId,
    }

    impl VectorSource for Blobs {
        fn dim(&self) -> usize {
            self.dim
        }
        fn for_each(&self, f: &mut dyn FnMut(FileId, &[f32])) -> Result<()> {
            let mut rng = StdRng::seed_from_u64(1);
            let centres: Vec<Vec<f32>> =
                (0..self.centres).map(|_| (0..self.dim).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect()).collect();
            for i in 0..self.n {
                let c = &centres[i % self.centres];
                let v: Vec<f32> = c.iter().map(|m| m + 0.15 * (rng.random::<f32>() - 0.5)).collect();
                f(self.first + i as FileId, &crate::embed::normalised(&v));
            }
            Ok(())
        }
    }

    fn blob_of(id: FileId, centres: usize) -> usize {
        id as usize % centres
    }

    #[test]
    fn the_map_keeps_blobs_apart_and_is_the_same_every_time() {
        let source = Blobs { n: 400, dim: 64, centres: 4, first: 0 };
        let options = ExploreOptions::default();
        let a = make(&source, &options, &|_| {}, &Cancel::new()).unwrap();
        let b = make(&source, &options, &|_| {}, &Cancel::new()).unwrap();
        assert_eq!((a.xy.clone(), a.cluster.clone()), (b.xy, b.cluster), "same seed, same map");
        let mut cluster_of_blob = HashMap::new();
        for (id, c) in a.ids.iter().zip(&a.cluster) {
            let Some(c) = c else { continue };
            assert_eq!(*cluster_of_blob.entry(blob_of(*id, 4)).or_insert(*c), *c, "a blob stays in one cluster");
        }
        let distinct: std::collections::HashSet<_> = cluster_of_blob.values().collect();
        assert_eq!(distinct.len(), 4, "one cluster per blob");
        let labels: Vec<u32> = a.ids.iter().map(|id| blob_of(*id, 4) as u32).collect();
        assert!(quality::neighbour_agreement(&a.xy, 2, &labels, 10).unwrap() > 0.95);
    }

    #[test]
    fn new_photos_join_their_blob_and_the_others_stay_put() {
        let source = Blobs { n: 300, dim: 32, centres: 3, first: 0 };
        let options = ExploreOptions::default();
        let before = make(&source, &options, &|_| {}, &Cancel::new()).unwrap();
        let old_xy: HashMap<FileId, (f32, f32)> = before.ids.iter().enumerate().map(|(i, id)| (*id, (before.xy[2 * i], before.xy[2 * i + 1]))).collect();
        let cluster_of_blob: HashMap<usize, Option<usize>> = before.ids.iter().zip(&before.cluster).map(|(id, c)| (blob_of(*id, 3), *c)).collect();
        // Thirty more, drawn from the same blobs (same seed: the first 330 of the same stream).
        let grown = Blobs { n: 330, ..source };
        // Without the cached coordinates every vector is read again: the same answer.
        let slow = update(LaidOut { coords: Vec::new(), ..before.clone() }, &grown, &options).unwrap();
        let after = update(before, &grown, &options).unwrap();
        // (one vector at a time or a block as a matrix product: rounding apart)
        assert_eq!((&after.ids, &after.cluster, &after.part), (&slow.ids, &slow.cluster, &slow.part));
        let close = |a: &[f32], b: &[f32]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-3);
        assert!(close(&after.xy, &slow.xy) && close(&after.coords, &slow.coords));
        assert_eq!(after.ids.len(), 330);
        for (i, id) in after.ids.iter().enumerate() {
            let at = (after.xy[2 * i], after.xy[2 * i + 1]);
            match old_xy.get(id) {
                Some(old) => assert_eq!(*old, at, "an old photo does not move"),
                None => assert_eq!(after.cluster[i], cluster_of_blob[&blob_of(*id, 3)], "a new photo joins its blob"),
            }
        }
    }

    #[test]
    fn the_pca_map_is_still_there() {
        let source = Blobs { n: 200, dim: 16, centres: 2, first: 0 };
        let map = make(&source, &ExploreOptions { layout: Layout::Pca, ..Default::default() }, &|_| {}, &Cancel::new()).unwrap();
        assert_eq!(map.layout, Layout::Pca);
        assert!(map.fit.explained[0] > 0.3, "two blobs: the first axis separates them");
    }

    #[test]
    fn parts_named_alike_are_told_apart_by_their_next_label_or_their_place() {
        let part = |cluster: usize, parent: Option<usize>, path: &str, name: &str, labels: &[&str]| ClusterSummary {
            cluster,
            parent,
            label_path: path.to_string(),
            size: 10,
            name: name.to_string(),
            labels: labels.iter().map(|l| (l.to_string(), 1)).collect(),
            x: 0.0,
            y: 0.0,
        };
        let mut clusters = vec![
            part(0, None, "1", "tench / barracouta", &["tench", "barracouta"]),
            part(1, Some(0), "1.1", "tench / barracouta", &["tench", "barracouta", "gar"]),
            part(2, Some(0), "1.2", "tench / barracouta", &["barracouta", "tench", "sturgeon"]),
            part(3, Some(0), "1.3", "tench", &["tench"]),
            part(4, None, "2", "tabby", &["tabby"]),
            part(5, None, "3", "tabby", &["tabby"]),
        ];
        distinguish_names(&mut clusters);
        let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
        // An island and its parts may share a name: the legend shows the parts under it.
        assert_eq!(names, ["tench / barracouta", "tench / barracouta / gar", "tench / barracouta / sturgeon", "tench", "tabby (2)", "tabby (3)"]);
    }

    #[test]
    fn labels_particular_to_a_cluster_name_it() {
        let counts: HashMap<String, usize> = [("web site".to_string(), 5), ("tabby".to_string(), 4)].into_iter().collect();
        let overall: HashMap<String, usize> = [("web site".to_string(), 100), ("tabby".to_string(), 4)].into_iter().collect();
        assert_eq!(particular(counts, &overall)[0].0, "tabby");
    }
}
