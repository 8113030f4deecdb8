//! The library as a map: a 2-D PCA projection of one model's vectors, with
//! clusters.
//!
//! The fit (mean, principal directions, cluster centroids) is learned on a
//! random sample of at most `sample` vectors, so time and memory stay bounded
//! however large the library: PCA by randomised SVD (a sketch with power
//! iterations, Halko et al. 2011), k-means++ in the first `components` PCA
//! dimensions with k chosen by silhouette. Every vector is then projected and
//! assigned in one streaming pass. The fit is cached per model and reused
//! while the library has not changed by more than `refit_change`; a reused fit
//! costs only the projection pass.
//!
//! Uses the catalog and the model files' labels; never the `Library`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, FileId};
use crate::error::{Error, Result};
use crate::models::labels::LABEL_MODEL;
use crate::models::{ModelDir, ModelSpec};
use ts_rs::TS;

#[derive(Debug, Clone)]
pub struct ExploreOptions {
    /// At most this many vectors are used to fit the projection and clusters.
    pub sample: usize,
    /// PCA dimensions the clusters are found in.
    pub components: usize,
    pub max_clusters: usize,
    pub seed: u64,
    /// Refit when the number of vectors changed by more than this fraction.
    pub refit_change: f64,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        ExploreOptions { sample: 10_000, components: 32, max_clusters: 12, seed: 7, refit_change: 0.2 }
    }
}

/// The learned projection and clusters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fit {
    pub model: String,
    pub dim: usize,
    pub mean: Vec<f32>,
    /// `components` rows of `dim`, strongest first.
    pub components: Vec<Vec<f32>>,
    /// Share of the sample's variance along each component.
    pub explained: Vec<f32>,
    /// k rows of `components.len()`.
    pub centroids: Vec<Vec<f32>>,
    /// How many vectors the library had when this was fitted.
    pub fitted_on: usize,
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
    pub cluster: usize,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ClusterSummary {
    pub cluster: usize,
    pub size: usize,
    /// The most common labels of its photos, or "cluster N" without labels.
    pub name: String,
    /// (label, photos whose top label it is), most common first.
    pub labels: Vec<(String, usize)>,
    /// Centre of its points on the map.
    pub x: f32,
    pub y: f32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Map {
    pub model: String,
    pub points: Vec<MapPoint>,
    pub clusters: Vec<ClusterSummary>,
    /// Share of variance the two map axes show.
    pub explained: [f32; 2],
    /// True when the fit was (re)computed, false when the cached one served.
    pub refitted: bool,
    pub millis: f64,
}

/// Vectors streamed to a callback, in a stable order; called once per pass.
pub trait VectorSource {
    fn dim(&self) -> usize;
    fn for_each(&self, f: &mut dyn FnMut(FileId, &[f32])) -> Result<()>;
}

/// Learn the projection and clusters from (a sample of) `source`.
pub fn fit(source: &dyn VectorSource, model: &str, options: &ExploreOptions) -> Result<Fit> {
    let dim = source.dim();
    let mut rng = StdRng::seed_from_u64(options.seed);
    // Reservoir sample: uniform over the stream, deterministic for a seed.
    let mut sample: Vec<f32> = Vec::new();
    let mut seen = 0usize;
    source.for_each(&mut |_, v| {
        seen += 1;
        if seen <= options.sample {
            sample.extend_from_slice(v);
        } else {
            let j = rng.random_range(0..seen);
            if j < options.sample {
                sample[j * dim..(j + 1) * dim].copy_from_slice(v);
            }
        }
    })?;
    let m = sample.len() / dim.max(1);
    if m == 0 {
        return Ok(Fit { model: model.into(), dim, mean: vec![0.0; dim], components: Vec::new(), explained: Vec::new(), centroids: Vec::new(), fitted_on: 0 });
    }
    let mut mean = vec![0.0f32; dim];
    for row in sample.chunks_exact(dim) {
        mean.iter_mut().zip(row).for_each(|(a, x)| *a += x / m as f32);
    }
    for row in sample.chunks_exact_mut(dim) {
        row.iter_mut().zip(&mean).for_each(|(x, mu)| *x -= mu);
    }
    let a = DMatrix::from_row_slice(m, dim, &sample);
    drop(sample);
    let c = options.components.min(dim).min(m.saturating_sub(1)).max(1);
    let (components, explained) = randomized_pca(&a, c, &mut rng);
    let z = &a * DMatrix::from_fn(dim, c, |i, j| components[j][i]);
    let rows: Vec<Vec<f32>> = (0..m).map(|i| z.row(i).iter().copied().collect()).collect();
    let centroids = choose_clusters(&rows, options.max_clusters, &mut rng);
    let fitted_on = seen;
    Ok(Fit { model: model.into(), dim, mean, components, explained, centroids, fitted_on })
}

/// Top `c` principal directions of the (centred) rows of `a`, with the share
/// of variance along each.
fn randomized_pca(a: &DMatrix<f32>, c: usize, rng: &mut StdRng) -> (Vec<Vec<f32>>, Vec<f32>) {
    let (m, d) = a.shape();
    let l = (c + 8).min(m).min(d);
    let omega = DMatrix::from_fn(d, l, |_, _| rng.random::<f32>() * 2.0 - 1.0);
    let mut q = (a * omega).qr().q();
    // Power iterations sharpen the spectrum for slowly decaying singular values.
    for _ in 0..2 {
        let w = (a.transpose() * &q).qr().q();
        q = (a * w).qr().q();
    }
    let b = q.transpose() * a; // l x d
    let svd = b.svd(false, true);
    let v_t = svd.v_t.expect("asked for V^T");
    let total: f32 = a.iter().map(|x| x * x).sum::<f32>().max(f32::MIN_POSITIVE);
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&i, &j| svd.singular_values[j].total_cmp(&svd.singular_values[i]));
    let mut components = Vec::with_capacity(c);
    let mut explained = Vec::with_capacity(c);
    for &i in order.iter().take(c) {
        let mut row: Vec<f32> = v_t.row(i).iter().copied().collect();
        // A component's sign is arbitrary: fix it so maps do not flip between fits.
        let (_, big) = row.iter().enumerate().fold((0.0f32, 0usize), |(best, at), (k, x)| {
            if x.abs() > best { (x.abs(), k) } else { (best, at) }
        });
        if row[big] < 0.0 {
            row.iter_mut().for_each(|x| *x = -*x);
        }
        components.push(row);
        explained.push(svd.singular_values[i].powi(2) / total);
    }
    (components, explained)
}

fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn nearest(centroids: &[Vec<f32>], z: &[f32]) -> usize {
    let mut best = (f32::INFINITY, 0);
    for (i, c) in centroids.iter().enumerate() {
        let d = sq_dist(c, z);
        if d < best.0 {
            best = (d, i);
        }
    }
    best.1
}

/// k-means++ then Lloyd's iterations.
fn kmeans(points: &[Vec<f32>], k: usize, rng: &mut StdRng) -> Vec<Vec<f32>> {
    let mut centroids = vec![points[rng.random_range(0..points.len())].clone()];
    let mut d2: Vec<f32> = points.iter().map(|p| sq_dist(p, &centroids[0])).collect();
    while centroids.len() < k {
        let total: f32 = d2.iter().sum();
        let next = if total <= 0.0 {
            rng.random_range(0..points.len())
        } else {
            let mut r = rng.random::<f32>() * total;
            d2.iter().position(|&d| {
                r -= d;
                r <= 0.0
            })
            .unwrap_or(points.len() - 1)
        };
        centroids.push(points[next].clone());
        let c = centroids.last().unwrap();
        d2.iter_mut().zip(points).for_each(|(d, p)| *d = d.min(sq_dist(p, c)));
    }
    let dim = points[0].len();
    let mut assign = vec![usize::MAX; points.len()];
    for _ in 0..100 {
        let mut changed = false;
        for (a, p) in assign.iter_mut().zip(points) {
            let n = nearest(&centroids, p);
            if *a != n {
                *a = n;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut sums = vec![vec![0.0f32; dim]; k];
        let mut counts = vec![0usize; k];
        for (a, p) in assign.iter().zip(points) {
            counts[*a] += 1;
            sums[*a].iter_mut().zip(p).for_each(|(s, x)| *s += x);
        }
        for ((c, s), n) in centroids.iter_mut().zip(sums).zip(counts) {
            if n > 0 {
                *c = s.into_iter().map(|x| x / n as f32).collect();
            }
        }
    }
    centroids
}

/// Mean silhouette of a clustering: how much closer points are to their own
/// cluster than to the next one (-1..1).
fn silhouette(points: &[Vec<f32>], assign: &[usize], k: usize) -> f32 {
    let n = points.len();
    let mut total = 0.0;
    for i in 0..n {
        let mut sum = vec![0.0f32; k];
        let mut count = vec![0usize; k];
        for j in 0..n {
            if i != j {
                sum[assign[j]] += sq_dist(&points[i], &points[j]).sqrt();
                count[assign[j]] += 1;
            }
        }
        let own = assign[i];
        if count[own] == 0 {
            continue; // a singleton scores 0
        }
        let a = sum[own] / count[own] as f32;
        let b = (0..k).filter(|&c| c != own && count[c] > 0).map(|c| sum[c] / count[c] as f32).fold(f32::INFINITY, f32::min);
        if b.is_finite() {
            total += (b - a) / a.max(b).max(f32::MIN_POSITIVE);
        }
    }
    total / n as f32
}

/// Centroids for the k (2..=max) with the best silhouette on a subsample.
fn choose_clusters(points: &[Vec<f32>], max_k: usize, rng: &mut StdRng) -> Vec<Vec<f32>> {
    let n = points.len();
    if n < 3 {
        return vec![points.first().cloned().unwrap_or_default()];
    }
    let check: Vec<Vec<f32>> = if n > 1500 {
        (0..1500).map(|_| points[rng.random_range(0..n)].clone()).collect()
    } else {
        points.to_vec()
    };
    let mut best: Option<(f32, Vec<Vec<f32>>)> = None;
    for k in 2..=max_k.min(n - 1) {
        let centroids = kmeans(points, k, rng);
        let assign: Vec<usize> = check.iter().map(|p| nearest(&centroids, p)).collect();
        let score = silhouette(&check, &assign, k);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, centroids));
        }
    }
    best.map(|(_, c)| c).unwrap_or_default()
}

/// A vector's coordinates in the fit's PCA space.
pub fn project(fit: &Fit, v: &[f32]) -> Vec<f32> {
    fit.components
        .iter()
        .map(|c| c.iter().zip(v).zip(&fit.mean).map(|((w, x), mu)| w * (x - mu)).sum())
        .collect()
}

/// Every vector of `source` on the map: (id, x, y, cluster). Vectors are
/// projected a block at a time as one matrix product.
pub fn place(fit: &Fit, source: &dyn VectorSource) -> Result<Vec<(FileId, f32, f32, usize)>> {
    const BLOCK: usize = 1024;
    let dim = fit.dim;
    let c = fit.components.len();
    let basis = DMatrix::from_fn(dim, c, |i, j| fit.components[j][i]);
    let mut out = Vec::new();
    let mut ids = Vec::with_capacity(BLOCK);
    let mut block = Vec::with_capacity(BLOCK * dim);
    let flush = |ids: &mut Vec<FileId>, block: &mut Vec<f32>, out: &mut Vec<(FileId, f32, f32, usize)>| {
        if ids.is_empty() {
            return;
        }
        let z = DMatrix::from_row_slice(ids.len(), dim, block) * &basis;
        for (r, id) in ids.iter().enumerate() {
            let row: Vec<f32> = z.row(r).iter().copied().collect();
            let cluster = if fit.centroids.is_empty() { 0 } else { nearest(&fit.centroids, &row) };
            out.push((*id, row.first().copied().unwrap_or(0.0), row.get(1).copied().unwrap_or(0.0), cluster));
        }
        ids.clear();
        block.clear();
    };
    source.for_each(&mut |id, v| {
        ids.push(id);
        block.extend(v.iter().zip(&fit.mean).map(|(x, mu)| x - mu));
        if ids.len() == BLOCK {
            flush(&mut ids, &mut block, &mut out);
        }
    })?;
    flush(&mut ids, &mut block, &mut out);
    Ok(out)
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
}

fn cache_path(dir: &Path, model: &str) -> PathBuf {
    dir.join("explore").join(format!("{model}.json"))
}

/// The parts of a library the map reads.
pub struct Explorer<'a> {
    pub catalog: &'a Catalog,
    /// For the ImageNet class names clusters are named by.
    pub models: &'a ModelDir,
    /// Where fits are cached (the library's folder).
    pub dir: &'a Path,
}

impl Explorer<'_> {
    /// The map of `spec`'s vectors, from the cached fit when it still
    /// describes the library.
    pub fn explore(&self, spec: &ModelSpec, options: &ExploreOptions) -> Result<Map> {
        let started = Instant::now();
        let source = CatalogVectors { catalog: self.catalog, model: &spec.name, dim: spec.dim };
        let count = self.catalog.embedded_ids(&spec.name)?.len();
        let cache = cache_path(self.dir, &spec.name);
        let cached: Option<Fit> = std::fs::read(&cache).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let usable = cached.filter(|f| {
            f.dim == spec.dim
                && f.fitted_on > 0
                && (count as f64 - f.fitted_on as f64).abs() <= options.refit_change * f.fitted_on as f64
        });
        let (fit, refitted) = match usable {
            Some(f) => (f, false),
            None => {
                let f = fit(&source, &spec.name, options)?;
                std::fs::create_dir_all(cache.parent().unwrap()).map_err(|e| Error::io(&cache, e))?;
                let json = serde_json::to_vec(&f).map_err(Error::internal)?;
                std::fs::write(&cache, json).map_err(|e| Error::io(&cache, e))?;
                (f, true)
            }
        };
        let placed = place(&fit, &source)?;
        let explained = [fit.explained.first().copied().unwrap_or(0.0), fit.explained.get(1).copied().unwrap_or(0.0)];
        self.name_clusters(&spec.name, fit.centroids.len().max(1), placed, explained, refitted, started)
    }

    fn name_clusters(
        &self,
        model: &str,
        k: usize,
        placed: Vec<(FileId, f32, f32, usize)>,
        explained: [f32; 2],
        refitted: bool,
        started: Instant,
    ) -> Result<Map> {
        let classes = self.models.labels(&ModelDir::spec(LABEL_MODEL)?).ok().flatten();
        let mut points = Vec::with_capacity(placed.len());
        let mut label_counts: Vec<HashMap<String, usize>> = vec![HashMap::new(); k];
        let mut sums = vec![(0.0f32, 0.0f32, 0usize); k];
        for (id, x, y, cluster) in placed {
            let Some(row) = self.catalog.file(id)? else { continue };
            if let (Some(classes), Some(hash)) = (&classes, row.hash) {
                if let Some((class, _)) = self.catalog.labels(&hash, LABEL_MODEL)?.first() {
                    if let Some(c) = classes.get(*class as usize) {
                        *label_counts[cluster].entry(c.name().to_string()).or_default() += 1;
                    }
                }
            }
            let s = &mut sums[cluster];
            *s = (s.0 + x, s.1 + y, s.2 + 1);
            points.push(MapPoint { id, hash: row.hash_hex(), path: row.path, x, y, cluster });
        }
        let clusters = (0..k)
            .filter(|&c| sums[c].2 > 0)
            .map(|c| {
                let mut labels: Vec<(String, usize)> = label_counts[c].drain().collect();
                labels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let name = if labels.is_empty() {
                    format!("cluster {}", c + 1)
                } else {
                    labels.iter().take(3).map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(" / ")
                };
                let (x, y, n) = sums[c];
                ClusterSummary { cluster: c, size: n, name, labels, x: x / n as f32, y: y / n as f32 }
            })
            .collect();
        Ok(Map {
            model: model.to_string(),
            points,
            clusters,
            explained,
            refitted,
            millis: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gaussian-ish blobs around random centres, deterministic.
    struct Blobs {
        n: usize,
        dim: usize,
        centres: usize,
    }

    impl VectorSource for Blobs {
        fn dim(&self) -> usize {
            self.dim
        }
        fn for_each(&self, f: &mut dyn FnMut(FileId, &[f32])) -> Result<()> {
            let mut rng = StdRng::seed_from_u64(1);
            let centres: Vec<Vec<f32>> =
                (0..self.centres).map(|_| (0..self.dim).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect()).collect();
            let mut v = vec![0.0; self.dim];
            for i in 0..self.n {
                let c = &centres[i % self.centres];
                v.iter_mut().zip(c).for_each(|(x, m)| *x = m + 0.05 * (rng.random::<f32>() - 0.5));
                f(i as FileId, &v);
            }
            Ok(())
        }
    }

    #[test]
    fn finds_the_blobs_and_is_deterministic() {
        let source = Blobs { n: 600, dim: 64, centres: 4 };
        let options = ExploreOptions { sample: 400, ..Default::default() };
        let a = place(&fit(&source, "m", &options).unwrap(), &source).unwrap();
        let b = place(&fit(&source, "m", &options).unwrap(), &source).unwrap();
        assert_eq!(a, b, "same seed, same map");
        let mut cluster_of_blob = HashMap::new();
        for (id, _, _, cluster) in &a {
            let blob = *id as usize % 4;
            assert_eq!(*cluster_of_blob.entry(blob).or_insert(*cluster), *cluster, "a blob stays in one cluster");
        }
        let distinct: std::collections::HashSet<_> = cluster_of_blob.values().collect();
        assert_eq!(distinct.len(), 4, "k = 4 chosen from the data");
    }
}
