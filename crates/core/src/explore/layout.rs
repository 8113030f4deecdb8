//! A neighbour-preserving 2-D layout, UMAP's way (McInnes, Healy and
//! Melville 2018): each point's k nearest neighbours become a fuzzy graph
//! (memberships that fall off past the nearest neighbour, at a per-point
//! scale), and the points are moved on the plane by stochastic gradient
//! descent so that graph neighbours attract and random pairs repel.
//!
//! Written here rather than taken from a crate: `umap-rs` needs its
//! neighbours and start computed elsewhere, runs its descent on all cores
//! with races (a different map every run) and panics on bad input; this one
//! is deterministic for a seed, reports progress, can be cancelled, and
//! places new points into an existing map without moving the others.
//! Neighbours are found exactly, in blocks, in the PCA space the caller gives
//! (50 or so dimensions keep nearly all neighbour structure of normalised
//! embeddings and make the search cheap).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::error::{Error, Result};
use crate::progress::Cancel;

#[derive(Debug, Clone)]
pub struct LayoutOptions {
    /// Neighbours per point in the fuzzy graph.
    pub neighbours: usize,
    /// Passes of gradient descent over the graph (fewer for large sets).
    pub epochs: usize,
    /// Random (repelling) pairs per attracting one.
    pub negative_samples: usize,
    pub seed: u64,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions { neighbours: 15, epochs: 0, negative_samples: 5, seed: 7 }
    }
}

/// UMAP's curve 1 / (1 + a d^(2b)) for min_dist 0.1 and spread 1, the
/// library's defaults (fitted once, as umap-learn's `find_ab_params` does).
const A: f32 = 1.577;
const B: f32 = 0.895;

/// Points as rows of `dim` floats.
pub struct Points<'a> {
    pub data: &'a [f32],
    pub dim: usize,
}

impl Points<'_> {
    pub fn len(&self) -> usize {
        self.data.len() / self.dim.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The `k` nearest other rows of every row of `points` (indices and
/// distances, nearest first), exactly: rows are compared in blocks on every
/// core, each thread owning whole rows, so the answer does not depend on the
/// number of threads. `progress` gets the share done.
pub fn nearest_neighbours(points: &Points, k: usize, progress: &(dyn Fn(f64) + Sync), cancel: &Cancel) -> Result<Vec<Vec<(u32, f32)>>> {
    let n = points.len();
    let k = k.min(n.saturating_sub(1));
    let norms: Vec<f32> = (0..n).map(|i| points.row(i).iter().map(|x| x * x).sum()).collect();
    let threads = std::thread::available_parallelism().map(|t| t.get()).unwrap_or(1).min(16);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (t, rows) in out.chunks_mut(chunk).enumerate() {
            let (norms, done) = (&norms, &done);
            scope.spawn(move || {
                let start = t * chunk;
                for (r, slot) in rows.iter_mut().enumerate() {
                    if r % 64 == 0 && cancel.is_cancelled() {
                        return;
                    }
                    let i = start + r;
                    let q = points.row(i);
                    // The k best so far, worst first out; |q - p|^2 from dot products.
                    let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
                    let mut worst = f32::INFINITY;
                    for j in 0..n {
                        if j == i {
                            continue;
                        }
                        let p = points.row(j);
                        let dot: f32 = q.iter().zip(p).map(|(a, b)| a * b).sum();
                        let d = (norms[i] + norms[j] - 2.0 * dot).max(0.0);
                        if best.len() < k {
                            best.push((d, j as u32));
                            if best.len() == k {
                                best.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                                worst = best[k - 1].0;
                            }
                        } else if d < worst {
                            let at = best.partition_point(|b| b.0 <= d);
                            best.insert(at, (d, j as u32));
                            best.pop();
                            worst = best[k - 1].0;
                        }
                    }
                    best.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    *slot = best.into_iter().map(|(d, j)| (j, d.sqrt())).collect();
                    let all = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if t == 0 && all % 256 == 0 {
                        progress(all as f64 / n as f64);
                    }
                }
            });
        }
    });
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(out)
}

/// One point's memberships to its neighbours: 1 for the nearest, falling
/// off past it at the scale that makes them sum to log2(k) (UMAP's
/// `smooth_knn_dist`).
fn memberships(neighbours: &[(u32, f32)]) -> Vec<f32> {
    let Some(&(_, rho)) = neighbours.first() else { return Vec::new() };
    let target = (neighbours.len() as f32).log2().max(1.0);
    let (mut lo, mut hi, mut sigma) = (0.0f32, f32::INFINITY, 1.0f32);
    for _ in 0..64 {
        let sum: f32 = neighbours.iter().map(|(_, d)| (-(d - rho).max(0.0) / sigma).exp()).sum();
        if (sum - target).abs() < 1e-5 {
            break;
        }
        if sum > target {
            hi = sigma;
            sigma = (lo + hi) / 2.0;
        } else {
            lo = sigma;
            sigma = if hi.is_finite() { (lo + hi) / 2.0 } else { sigma * 2.0 };
        }
    }
    let sigma = sigma.max(1e-3 * neighbours.iter().map(|n| n.1).sum::<f32>() / neighbours.len() as f32).max(f32::MIN_POSITIVE);
    neighbours.iter().map(|(_, d)| (-(d - rho).max(0.0) / sigma).exp()).collect()
}

/// The fuzzy graph's edges (i < j, weight): memberships joined as a fuzzy
/// union, w = a + b - ab.
fn fuzzy_graph(knn: &[Vec<(u32, f32)>]) -> Vec<(u32, u32, f32)> {
    let mut directed: std::collections::HashMap<(u32, u32), (f32, f32)> = std::collections::HashMap::new();
    for (i, neighbours) in knn.iter().enumerate() {
        for (&(j, _), w) in neighbours.iter().zip(memberships(neighbours)) {
            let i = i as u32;
            let (key, forward) = if i < j { ((i, j), true) } else { ((j, i), false) };
            let e = directed.entry(key).or_default();
            if forward {
                e.0 = e.0.max(w);
            } else {
                e.1 = e.1.max(w);
            }
        }
    }
    let mut edges: Vec<(u32, u32, f32)> = directed.into_iter().map(|((i, j), (a, b))| (i, j, a + b - a * b)).collect();
    // A fixed order: the descent's result must not depend on hashing.
    edges.sort_by_key(|a| (a.0, a.1));
    edges
}

fn clip(g: f32) -> f32 {
    g.clamp(-4.0, 4.0)
}

/// Lay out the points of `knn` (from `nearest_neighbours`) on the plane,
/// starting from `start` (2 floats a point: the PCA map, say). `progress`
/// gets the share of epochs done.
pub fn layout(knn: &[Vec<(u32, f32)>], start: &[f32], options: &LayoutOptions, progress: &dyn Fn(f64), cancel: &Cancel) -> Result<Vec<f32>> {
    let n = knn.len();
    let mut y = scaled_start(start);
    if n < 3 {
        return Ok(y);
    }
    let edges = fuzzy_graph(knn);
    let max_w = edges.iter().map(|e| e.2).fold(0.0f32, f32::max).max(f32::MIN_POSITIVE);
    // Edges are sampled in proportion to their weight: a weight-1 edge every
    // epoch, a weight-0.1 edge every tenth.
    let epochs = if options.epochs > 0 { options.epochs } else if n <= 10_000 { 500 } else { 200 };
    let keep: Vec<(u32, u32, f32)> = edges.into_iter().filter(|e| e.2 >= max_w / epochs as f32).collect();
    let every: Vec<f32> = keep.iter().map(|e| max_w / e.2).collect();
    let mut next: Vec<f32> = every.clone();
    let neg_every: Vec<f32> = every.iter().map(|e| e / options.negative_samples.max(1) as f32).collect();
    let mut next_neg: Vec<f32> = neg_every.clone();
    let mut rng = StdRng::seed_from_u64(options.seed);
    for epoch in 0..epochs {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let alpha = 1.0 - epoch as f32 / epochs as f32;
        let now = epoch as f32 + 1.0;
        for (e, &(i, j, _)) in keep.iter().enumerate() {
            if next[e] > now {
                continue;
            }
            let (i, j) = (i as usize, j as usize);
            let (dx, dy) = (y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]);
            let d2 = dx * dx + dy * dy;
            if d2 > 0.0 {
                let coeff = -2.0 * A * B * d2.powf(B - 1.0) / (A * d2.powf(B) + 1.0);
                let (gx, gy) = (clip(coeff * dx) * alpha, clip(coeff * dy) * alpha);
                y[2 * i] += gx;
                y[2 * i + 1] += gy;
                y[2 * j] -= gx;
                y[2 * j + 1] -= gy;
            }
            next[e] += every[e];
            let negatives = ((now - next_neg[e]) / neg_every[e]).max(0.0) as usize;
            for _ in 0..negatives {
                let k = rng.random_range(0..n);
                if k == i {
                    continue;
                }
                let (dx, dy) = (y[2 * i] - y[2 * k], y[2 * i + 1] - y[2 * k + 1]);
                let d2 = dx * dx + dy * dy;
                let coeff = 2.0 * B / ((0.001 + d2) * (A * d2.powf(B) + 1.0));
                let (gx, gy) = if d2 > 0.0 { (clip(coeff * dx), clip(coeff * dy)) } else { (4.0, 4.0) };
                y[2 * i] += gx * alpha;
                y[2 * i + 1] += gy * alpha;
            }
            next_neg[e] += negatives as f32 * neg_every[e];
        }
        if epoch % 10 == 0 {
            progress(epoch as f64 / epochs as f64);
        }
    }
    Ok(y)
}

/// The start scaled to a box of side 20 around 0, UMAP's usual range.
fn scaled_start(start: &[f32]) -> Vec<f32> {
    let mut y = start.to_vec();
    for axis in 0..2 {
        let values = y.iter().skip(axis).step_by(2);
        let (lo, hi) = values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let span = (hi - lo).max(f32::MIN_POSITIVE);
        for v in y.iter_mut().skip(axis).step_by(2) {
            *v = (*v - lo) / span * 20.0 - 10.0;
        }
    }
    y
}

/// Where a new point goes on a finished map: the membership-weighted mean
/// of its nearest laid-out points (`neighbours`: indices into `positions`
/// and distances, nearest first). The others do not move.
pub fn place(neighbours: &[(u32, f32)], positions: &[f32]) -> (f32, f32) {
    let weights = memberships(neighbours);
    let total: f32 = weights.iter().sum::<f32>().max(f32::MIN_POSITIVE);
    let mut at = (0.0, 0.0);
    for (&(j, _), w) in neighbours.iter().zip(&weights) {
        at.0 += positions[2 * j as usize] * w / total;
        at.1 += positions[2 * j as usize + 1] * w / total;
    }
    at
}

/// The `k` nearest of `points` to `q` (indices, distances), nearest first.
pub fn nearest_to(points: &Points, q: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut all: Vec<(u32, f32)> = (0..points.len()).map(|j| (j as u32, sq_dist(q, points.row(j)))).collect();
    let k = k.min(all.len());
    if k == 0 {
        return Vec::new();
    }
    all.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.into_iter().map(|(j, d)| (j, d.sqrt())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `clusters` blobs of `per` points in `dim` dimensions, far apart, and
    /// a start that mixes them all up.
    fn blobs(clusters: usize, per: usize, dim: usize) -> (Vec<f32>, Vec<usize>, Vec<f32>) {
        let mut rng = StdRng::seed_from_u64(1);
        let centres: Vec<Vec<f32>> = (0..clusters).map(|_| (0..dim).map(|_| rng.random::<f32>() * 20.0).collect()).collect();
        let (mut data, mut label, mut start) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..clusters * per {
            let c = i % clusters;
            data.extend(centres[c].iter().map(|x| x + rng.random::<f32>() - 0.5));
            label.push(c);
            start.extend([rng.random::<f32>(), rng.random::<f32>()]);
        }
        (data, label, start)
    }

    fn agreement(y: &[f32], label: &[usize], k: usize) -> f64 {
        let points = Points { data: y, dim: 2 };
        let knn = nearest_neighbours(&points, k, &|_| {}, &Cancel::new()).unwrap();
        let same: usize = knn.iter().enumerate().map(|(i, n)| n.iter().filter(|(j, _)| label[*j as usize] == label[i]).count()).sum();
        same as f64 / (knn.len() * k) as f64
    }

    #[test]
    fn neighbours_are_exact_and_nearest_first() {
        let data = [0.0, 0.0, 1.0, 0.0, 3.0, 0.0, 10.0, 0.0];
        let knn = nearest_neighbours(&Points { data: &data, dim: 2 }, 2, &|_| {}, &Cancel::new()).unwrap();
        assert_eq!(knn[0].iter().map(|n| n.0).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(knn[3].iter().map(|n| n.0).collect::<Vec<_>>(), [2, 1]);
        assert!((knn[2][0].1 - 2.0).abs() < 1e-5);
    }

    #[test]
    fn separated_clusters_come_out_separated_and_the_same_every_time() {
        let (data, label, start) = blobs(5, 60, 16);
        let points = Points { data: &data, dim: 16 };
        let knn = nearest_neighbours(&points, 15, &|_| {}, &Cancel::new()).unwrap();
        let options = LayoutOptions { epochs: 200, ..Default::default() };
        let y = layout(&knn, &start, &options, &|_| {}, &Cancel::new()).unwrap();
        // The start mixed the clusters; the layout keeps each one together.
        assert!(agreement(&start, &label, 10) < 0.5);
        assert!(agreement(&y, &label, 10) > 0.98, "{}", agreement(&y, &label, 10));
        assert_eq!(y, layout(&knn, &start, &options, &|_| {}, &Cancel::new()).unwrap());
    }

    #[test]
    fn a_new_point_lands_beside_its_neighbours() {
        let (data, label, start) = blobs(3, 50, 8);
        let points = Points { data: &data, dim: 8 };
        let knn = nearest_neighbours(&points, 15, &|_| {}, &Cancel::new()).unwrap();
        let y = layout(&knn, &start, &LayoutOptions { epochs: 200, ..Default::default() }, &|_| {}, &Cancel::new()).unwrap();
        // A new member of cluster 1: a copy of one of its points, nudged.
        let one = label.iter().position(|&l| l == 1).unwrap();
        let q: Vec<f32> = data[one * 8..(one + 1) * 8].iter().map(|x| x + 0.1).collect();
        let (x, yy) = place(&nearest_to(&points, &q, 15), &y);
        let on_map = Points { data: &y, dim: 2 };
        let nearest = nearest_to(&on_map, &[x, yy], 5);
        assert!(nearest.iter().all(|(j, _)| label[*j as usize] == 1), "{nearest:?}");
    }

    #[test]
    fn a_layout_can_be_cancelled() {
        let (data, _, start) = blobs(2, 20, 4);
        let knn = nearest_neighbours(&Points { data: &data, dim: 4 }, 5, &|_| {}, &Cancel::new()).unwrap();
        let cancel = Cancel::new();
        cancel.cancel();
        assert!(matches!(layout(&knn, &start, &LayoutOptions::default(), &|_| {}, &cancel), Err(Error::Cancelled)));
    }
}
