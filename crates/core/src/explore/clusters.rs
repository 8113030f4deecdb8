//! Clusters, found with k-means on the map (k-means++ start), with k chosen
//! by how well the clusters separate the photos in the model's own space
//! (silhouette there, not on the map: a neighbour-preserving map keeps who
//! is near whom, but not how far apart its islands are, so two islands that
//! happen to lie side by side would look like one cluster to a silhouette
//! taken on the map), and a second level of them: each cluster that itself falls into clearly
//! separate parts on the map is split into those (a few big islands when
//! zoomed out, their parts when zoomed in). A point whose neighbours in the
//! embedding space mostly lie in other clusters sits between islands and is
//! left unclustered rather than forced into one.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

pub(super) fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

pub(super) fn nearest(centroids: &[Vec<f32>], z: &[f32]) -> usize {
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
pub(super) fn kmeans(points: &[Vec<f32>], k: usize, rng: &mut StdRng) -> Vec<Vec<f32>> {
    let mut centroids = vec![points[rng.random_range(0..points.len())].clone()];
    let mut d2: Vec<f32> = points.iter().map(|p| sq_dist(p, &centroids[0])).collect();
    while centroids.len() < k {
        let total: f32 = d2.iter().sum();
        let next = if total <= 0.0 {
            rng.random_range(0..points.len())
        } else {
            let mut r = rng.random::<f32>() * total;
            d2.iter()
                .position(|&d| {
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

/// The best of `starts` k-means runs, by inertia (the sum of squared
/// distances to the nearest centroid): one run can settle in a poor local
/// optimum, such as two centroids on one island and one between two others.
pub(super) fn kmeans_best(points: &[Vec<f32>], k: usize, starts: usize, rng: &mut StdRng) -> Vec<Vec<f32>> {
    let mut best: Option<(f32, Vec<Vec<f32>>)> = None;
    for _ in 0..starts.max(1) {
        let centroids = kmeans(points, k, rng);
        let inertia: f32 = points.iter().map(|p| sq_dist(p, &centroids[nearest(&centroids, p)])).sum();
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, centroids));
        }
    }
    best.map(|(_, c)| c).unwrap_or_default()
}

/// k-means starts tried for each k.
const STARTS: usize = 4;

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

/// Centroids for the k (2..=max) whose clusters (k-means on `points`) have
/// the best silhouette in `judge`'s space, measured on a subsample, with
/// that silhouette. `judge(i)` gives point i's coordinates in that space.
pub(super) fn choose_clusters(points: &[Vec<f32>], judge: &dyn Fn(usize) -> Vec<f32>, max_k: usize, rng: &mut StdRng) -> (Vec<Vec<f32>>, f32) {
    let n = points.len();
    if n < 3 || max_k < 2 {
        return (vec![points.first().cloned().unwrap_or_default()], 0.0);
    }
    let check: Vec<usize> = if n > 1500 { (0..1500).map(|_| rng.random_range(0..n)).collect() } else { (0..n).collect() };
    let judged: Vec<Vec<f32>> = check.iter().map(|&i| judge(i)).collect();
    let mut best: Option<(f32, Vec<Vec<f32>>)> = None;
    for k in 2..=max_k.min(n - 1) {
        let centroids = kmeans_best(points, k, STARTS, rng);
        let assign: Vec<usize> = check.iter().map(|&i| nearest(&centroids, &points[i])).collect();
        let score = silhouette(&judged, &assign, k);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, centroids));
        }
    }
    best.map(|(s, c)| (c, s)).unwrap_or_default()
}

/// What every point of a map belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// Top-level cluster of each point; `None`: unclustered.
    pub cluster: Vec<Option<usize>>,
    /// Its part within that cluster, for clusters that split.
    pub part: Vec<Option<usize>>,
    /// How many parts each top-level cluster has (0: it does not split).
    pub parts: Vec<usize>,
}

/// A part must be at least this many points, and the split this clear
/// (silhouette), for a cluster to be shown split.
const MIN_PART: usize = 12;
const CLEAR_SPLIT: f32 = 0.5;

/// Cluster the map's `positions` (2 floats a point) into at most `max_k`
/// islands, each split into its parts where they are clearly apart on the
/// map. `space` holds the points in the embedding space (`space_dim` floats
/// a point, e.g. its PCA coordinates; empty: judge on the map itself), where
/// the number of islands is chosen. `neighbours` are each point's nearest in
/// the embedding space: a point most of whose neighbours lie in other
/// clusters is left unclustered.
pub fn cluster(positions: &[f32], space: &[f32], space_dim: usize, neighbours: &[Vec<(u32, f32)>], max_k: usize, seed: u64) -> Clustering {
    let n = positions.len() / 2;
    let mut rng = StdRng::seed_from_u64(seed);
    let points: Vec<Vec<f32>> = positions.chunks_exact(2).map(|p| p.to_vec()).collect();
    if n == 0 {
        return Clustering { cluster: Vec::new(), part: Vec::new(), parts: Vec::new() };
    }
    let judge = |i: usize| match space_dim {
        0 => points[i].clone(),
        d => space[i * d..(i + 1) * d].to_vec(),
    };
    let (centroids, _) = choose_clusters(&points, &judge, max_k, &mut rng);
    let top: Vec<usize> = points.iter().map(|p| nearest(&centroids, p)).collect();
    let tops = centroids.len();
    let kept: Vec<Option<usize>> = (0..n)
        .map(|i| {
            let near = neighbours.get(i).map(|v| v.as_slice()).unwrap_or(&[]);
            let agree = near.iter().filter(|(j, _)| top[*j as usize] == top[i]).count();
            (near.is_empty() || 3 * agree >= near.len()).then_some(top[i])
        })
        .collect();
    // A cluster all of whose points sit between islands is no cluster: the
    // others are numbered again, in order.
    let mut number = vec![None; tops];
    let mut used = 0;
    for c in kept.iter().flatten() {
        if number[*c].is_none() {
            number[*c] = Some(used);
            used += 1;
        }
    }
    let cluster: Vec<Option<usize>> = kept.iter().map(|c| c.and_then(|c| number[c])).collect();
    let tops = used;
    let mut part = vec![None; n];
    let mut parts = vec![0; tops];
    for (c, count) in parts.iter_mut().enumerate() {
        let members: Vec<usize> = (0..n).filter(|&i| cluster[i] == Some(c)).collect();
        if members.len() < 2 * MIN_PART {
            continue;
        }
        let own: Vec<Vec<f32>> = members.iter().map(|&i| points[i].clone()).collect();
        let (sub, score) = choose_clusters(&own, &|i| own[i].clone(), 6, &mut rng);
        let assign: Vec<usize> = own.iter().map(|p| nearest(&sub, p)).collect();
        let smallest = (0..sub.len()).map(|s| assign.iter().filter(|&&a| a == s).count()).min().unwrap_or(0);
        if sub.len() < 2 || score < CLEAR_SPLIT || smallest < MIN_PART {
            continue;
        }
        *count = sub.len();
        for (&i, a) in members.iter().zip(assign) {
            part[i] = Some(a);
        }
    }
    Clustering { cluster, part, parts }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Islands on the plane, each of `parts` well separated blobs.
    fn islands(islands: usize, parts: usize, per: usize) -> (Vec<f32>, Vec<(usize, usize)>) {
        let mut rng = StdRng::seed_from_u64(3);
        let (mut pos, mut truth) = (Vec::new(), Vec::new());
        for i in 0..islands {
            for p in 0..parts {
                for _ in 0..per {
                    let (cx, cy) = (i as f32 * 100.0 + p as f32 * 12.0, (i % 2) as f32 * 100.0);
                    pos.extend([cx + rng.random::<f32>() * 2.0, cy + rng.random::<f32>() * 2.0]);
                    truth.push((i, p));
                }
            }
        }
        (pos, truth)
    }

    #[test]
    fn islands_are_clusters_and_their_separate_parts_are_parts() {
        let (pos, truth) = islands(3, 2, 40);
        let c = cluster(&pos, &[], 0, &[], 8, 1);
        assert!(c.cluster.iter().all(Option::is_some));
        // Points of one island share a cluster, different islands do not.
        for i in 0..truth.len() {
            for j in 0..truth.len() {
                assert_eq!(truth[i].0 == truth[j].0, c.cluster[i] == c.cluster[j], "{i} {j}");
            }
        }
        // Each island splits into its two blobs.
        assert!(c.parts.iter().all(|&p| p == 2), "{:?}", c.parts);
        for i in 0..truth.len() {
            for j in 0..truth.len() {
                if truth[i].0 == truth[j].0 {
                    assert_eq!(truth[i].1 == truth[j].1, c.part[i] == c.part[j]);
                }
            }
        }
    }

    #[test]
    fn the_number_of_islands_is_chosen_in_the_embedding_space_not_on_the_map() {
        // Four groups, all equally far apart in the embedding space, laid
        // out on the map as two pairs: the pairs are far apart on the map,
        // the groups of a pair side by side (a neighbour-preserving map keeps
        // neighbours, not the distances between islands).
        let mut rng = StdRng::seed_from_u64(5);
        let (mut map, mut space, mut truth) = (Vec::new(), Vec::new(), Vec::new());
        let dim = 8;
        for g in 0..4 {
            for _ in 0..7 {
                let (pair, side) = ((g / 2) as f32, (g % 2) as f32);
                map.extend([pair * 40.0 + side * 4.0 + rng.random::<f32>(), rng.random::<f32>()]);
                space.extend((0..dim).map(|d| if d == g { 1.0 } else { 0.0 } + rng.random::<f32>() * 0.05));
                truth.push(g);
            }
        }
        // Judged on the map alone, the two pairs win.
        let flat = cluster(&map, &[], 0, &[], 8, 1);
        assert_eq!(flat.parts.len(), 2, "{flat:?}");
        // Judged in the embedding space, each group is its own cluster.
        let c = cluster(&map, &space, dim, &[], 8, 1);
        assert_eq!(c.parts.len(), 4, "{c:?}");
        for i in 0..truth.len() {
            for j in 0..truth.len() {
                assert_eq!(truth[i] == truth[j], c.cluster[i] == c.cluster[j], "{i} {j}");
            }
        }
    }

    #[test]
    fn a_point_whose_neighbours_are_elsewhere_is_unclustered() {
        let (pos, truth) = islands(2, 1, 30);
        // Point 0's neighbours in the embedding space are all on the other island.
        let mut neighbours: Vec<Vec<(u32, f32)>> = (0..truth.len())
            .map(|i| (0..truth.len()).filter(|&j| j != i && truth[j].0 == truth[i].0).take(5).map(|j| (j as u32, 1.0)).collect())
            .collect();
        neighbours[0] = (0..truth.len()).filter(|&j| truth[j].0 != truth[0].0).take(5).map(|j| (j as u32, 1.0)).collect();
        let c = cluster(&pos, &[], 0, &neighbours, 4, 1);
        assert_eq!(c.cluster[0], None);
        assert!(c.cluster[1..].iter().all(Option::is_some));
        // Every cluster left has points.
        for k in 0..c.parts.len() {
            assert!(c.cluster.contains(&Some(k)), "cluster {k} is empty");
        }
    }
}
