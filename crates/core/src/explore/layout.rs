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
/// distances, nearest first), exactly. Distances come from dot products
/// computed as matrix products (a block of rows against a tile of all rows,
/// sgemm through nalgebra), which is what makes 100,000 rows affordable; each
/// thread owns whole blocks of rows, so the answer does not depend on the
/// number of threads. `progress` gets the share done.
pub fn nearest_neighbours(points: &Points, k: usize, progress: &(dyn Fn(f64) + Sync), cancel: &Cancel) -> Result<Vec<Vec<(u32, f32)>>> {
    const ROWS: usize = 256;
    const TILE: usize = 4096;
    let (n, dim) = (points.len(), points.dim);
    let k = k.min(n.saturating_sub(1));
    if k == 0 {
        return Ok(vec![Vec::new(); n]);
    }
    let norms: Vec<f32> = (0..n).map(|i| points.row(i).iter().map(|x| x * x).sum()).collect();
    let threads = std::thread::available_parallelism().map(|t| t.get()).unwrap_or(1).min(16);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    let blocks: Vec<&mut [Vec<(u32, f32)>]> = out.chunks_mut(ROWS).collect();
    // Blocks of rows (numbered), dealt out to the threads in turn.
    type Block<'a> = (usize, &'a mut [Vec<(u32, f32)>]);
    let mut per_thread: Vec<Vec<Block>> = (0..threads).map(|_| Vec::new()).collect();
    for (b, block) in blocks.into_iter().enumerate() {
        per_thread[b % threads].push((b, block));
    }
    std::thread::scope(|scope| {
        for mine in per_thread {
            let (norms, done) = (&norms, &done);
            scope.spawn(move || {
                for (b, slots) in mine {
                    if cancel.is_cancelled() {
                        return;
                    }
                    let first = b * ROWS;
                    let rows = slots.len();
                    // Columns are points: `dim` x `rows`.
                    let q = nalgebra::DMatrix::from_column_slice(dim, rows, &points.data[first * dim..(first + rows) * dim]);
                    let mut best: Vec<Vec<(f32, u32)>> = vec![Vec::with_capacity(k + 1); rows];
                    let mut worst = vec![f32::INFINITY; rows];
                    for t0 in (0..n).step_by(TILE) {
                        let t1 = (t0 + TILE).min(n);
                        let p = nalgebra::DMatrix::from_column_slice(dim, t1 - t0, &points.data[t0 * dim..t1 * dim]);
                        let dots = q.tr_mul(&p); // rows x tile
                        for (t, j) in (t0..t1).enumerate() {
                            let column = dots.column(t);
                            for r in 0..rows {
                                let i = first + r;
                                let d = (norms[i] + norms[j] - 2.0 * column[r]).max(0.0);
                                if d >= worst[r] || i == j {
                                    continue;
                                }
                                keep(&mut best[r], &mut worst[r], k, d, j as u32);
                            }
                        }
                    }
                    for (slot, mut b) in slots.iter_mut().zip(best) {
                        b.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
                        *slot = b.into_iter().map(|(d, j)| (j, d.sqrt())).collect();
                    }
                    let all = done.fetch_add(rows, std::sync::atomic::Ordering::Relaxed) + rows;
                    progress(all as f64 / n as f64);
                }
            });
        }
    });
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(out)
}

/// Keep `(d, j)` among the `k` best of `best` (sorted once full), with
/// `worst` the distance a newcomer must beat.
fn keep(best: &mut Vec<(f32, u32)>, worst: &mut f32, k: usize, d: f32, j: u32) {
    if best.len() < k {
        best.push((d, j));
        if best.len() == k {
            best.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            *worst = best[k - 1].0;
        }
        return;
    }
    let at = best.partition_point(|b| (b.0, b.1) <= (d, j));
    best.insert(at, (d, j));
    best.pop();
    *worst = best[k - 1].0;
}

/// One point's neighbourhood in a round of NN-descent: every pair of its
/// new neighbours, and each new one with each old one, is tried as
/// neighbours of each other. Returns how many lists changed.
fn try_pairs(points: &Points, lists: &mut [Vec<(f32, u32, bool)>], k: usize, mut fresh: Vec<u32>, mut seen: Vec<u32>) -> usize {
    fn insert(list: &mut Vec<(f32, u32, bool)>, k: usize, d: f32, j: u32) -> bool {
        if list.len() == k && d >= list[k - 1].0 || list.iter().any(|e| e.1 == j) {
            return false;
        }
        let at = list.partition_point(|e| (e.0, e.1) <= (d, j));
        list.insert(at, (d, j, true));
        list.truncate(k);
        true
    }
    fresh.sort_unstable();
    fresh.dedup();
    seen.sort_unstable();
    seen.dedup();
    let mut changes = 0;
    for (x, &a) in fresh.iter().enumerate() {
        for &b in fresh[x + 1..].iter().chain(seen.iter()) {
            if a == b {
                continue;
            }
            let d = sq_dist(points.row(a as usize), points.row(b as usize));
            changes += insert(&mut lists[a as usize], k, d, b) as usize;
            changes += insert(&mut lists[b as usize], k, d, a) as usize;
        }
    }
    changes
}

/// Above this many points, neighbours are found by NN-descent instead of
/// exactly: the exact search grows with the square of the library (80 s at
/// 100,000 here), NN-descent about linearly.
pub const EXACT_UP_TO: usize = 20_000;

/// Each point's `k` nearest neighbours: exactly for up to `EXACT_UP_TO`
/// points, by NN-descent above.
pub fn neighbours(points: &Points, k: usize, seed: u64, progress: &(dyn Fn(f64) + Sync), cancel: &Cancel) -> Result<Vec<Vec<(u32, f32)>>> {
    if points.len() <= EXACT_UP_TO {
        nearest_neighbours(points, k, progress, cancel)
    } else {
        nn_descent(points, k, seed, progress, cancel)
    }
}

/// Approximate nearest neighbours by NN-descent (Dong, Charikar and Li
/// 2011): start from random neighbours and, again and again, try each
/// point's neighbours' neighbours, until hardly any list changes. A
/// neighbour of my neighbour is likely my neighbour, so each round costs a
/// few hundred distances per point and a dozen rounds suffice. Sequential
/// and seeded: the same answer every time.
pub fn nn_descent(points: &Points, k: usize, seed: u64, progress: &(dyn Fn(f64) + Sync), cancel: &Cancel) -> Result<Vec<Vec<(u32, f32)>>> {
    const ROUNDS: usize = 12;
    let n = points.len();
    let k = k.min(n.saturating_sub(1));
    let mut rng = StdRng::seed_from_u64(seed);
    // Per point: (squared distance, neighbour, not yet tried), nearest first.
    let mut lists: Vec<Vec<(f32, u32, bool)>> = vec![Vec::with_capacity(k + 1); n];
    for (i, list) in lists.iter_mut().enumerate() {
        while list.len() < k {
            let j = rng.random_range(0..n);
            if j != i && !list.iter().any(|e| e.1 == j as u32) {
                list.push((sq_dist(points.row(i), points.row(j)), j as u32, true));
            }
        }
        list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    for round in 0..ROUNDS {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        // Who is new in each list (then marked tried), and who each point is a neighbour of.
        let mut new: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut old: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, list) in lists.iter_mut().enumerate() {
            for e in list.iter_mut() {
                if e.2 {
                    new[i].push(e.1);
                    e.2 = false;
                } else {
                    old[i].push(e.1);
                }
            }
        }
        let (mut new_rev, mut old_rev): (Vec<Vec<u32>>, Vec<Vec<u32>>) = (vec![Vec::new(); n], vec![Vec::new(); n]);
        for i in 0..n {
            for &j in &new[i] {
                if new_rev[j as usize].len() < k {
                    new_rev[j as usize].push(i as u32);
                }
            }
            for &j in &old[i] {
                if old_rev[j as usize].len() < k {
                    old_rev[j as usize].push(i as u32);
                }
            }
        }
        let mut changes = 0usize;
        for i in 0..n {
            let mut fresh = std::mem::take(&mut new[i]);
            fresh.extend(&new_rev[i]);
            let mut seen = std::mem::take(&mut old[i]);
            seen.extend(&old_rev[i]);
            changes += try_pairs(points, &mut lists, k, fresh, seen);
        }
        progress((round + 1) as f64 / ROUNDS as f64);
        if changes < n * k / 1000 {
            break;
        }
    }
    Ok(lists.into_iter().map(|l| l.into_iter().map(|(d, j, _)| (j, d.sqrt())).collect()).collect())
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
    fn nn_descent_finds_nearly_all_exact_neighbours() {
        let (data, _, _) = blobs(8, 250, 16);
        let points = Points { data: &data, dim: 16 };
        let exact = nearest_neighbours(&points, 15, &|_| {}, &Cancel::new()).unwrap();
        let approx = nn_descent(&points, 15, 3, &|_| {}, &Cancel::new()).unwrap();
        let found: usize = exact
            .iter()
            .zip(&approx)
            .map(|(e, a)| e.iter().filter(|(j, _)| a.iter().any(|(x, _)| x == j)).count())
            .sum();
        let recall = found as f64 / (exact.len() * 15) as f64;
        assert!(recall > 0.9, "recall {recall}");
        assert_eq!(approx, nn_descent(&points, 15, 3, &|_| {}, &Cancel::new()).unwrap(), "the same every time");
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
