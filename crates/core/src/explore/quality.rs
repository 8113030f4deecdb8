//! How much of what the vectors know a map keeps, measured against labels:
//! the share of each point's nearest neighbours that share its label (on the
//! map, and in the full space for comparison), and the normalised mutual
//! information between clusters and labels.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::clusters::{kmeans_best, nearest};
use super::layout::{nearest_neighbours, Points};
use crate::error::Result;
use crate::progress::Cancel;

/// The share of each point's `k` nearest other points (rows of `dim` floats)
/// that have its label.
pub fn neighbour_agreement(data: &[f32], dim: usize, labels: &[u32], k: usize) -> Result<f64> {
    let knn = nearest_neighbours(&Points { data, dim }, k, &|_| {}, &Cancel::new())?;
    let (mut same, mut all) = (0usize, 0usize);
    for (i, near) in knn.iter().enumerate() {
        same += near.iter().filter(|(j, _)| labels[*j as usize] == labels[i]).count();
        all += near.len();
    }
    Ok(same as f64 / all.max(1) as f64)
}

/// Normalised mutual information of two labellings (arithmetic-mean
/// normalisation, as scikit-learn's default): 1 when they agree up to
/// renaming, near 0 when independent.
pub fn nmi(a: &[u32], b: &[u32]) -> f64 {
    let n = a.len() as f64;
    if a.is_empty() {
        return 0.0;
    }
    let count = |xs: &[u32]| {
        let mut m: HashMap<u32, f64> = HashMap::new();
        for x in xs {
            *m.entry(*x).or_default() += 1.0;
        }
        m
    };
    let (ca, cb) = (count(a), count(b));
    let mut joint: HashMap<(u32, u32), f64> = HashMap::new();
    for (x, y) in a.iter().zip(b) {
        *joint.entry((*x, *y)).or_default() += 1.0;
    }
    let entropy = |m: &HashMap<u32, f64>| -m.values().map(|c| c / n * (c / n).ln()).sum::<f64>();
    let mi: f64 = joint.iter().map(|((x, y), c)| c / n * ((c * n) / (ca[x] * cb[y])).ln()).sum();
    let (ha, hb) = (entropy(&ca), entropy(&cb));
    if ha + hb <= 0.0 {
        return 1.0;
    }
    (2.0 * mi / (ha + hb)).clamp(0.0, 1.0)
}

/// NMI of k-means on the map's points (2 floats a point) with k the number
/// of distinct labels, best of 10 seeded starts by inertia. The app never
/// knows that k, so this is not how its clusters are made: it is the figure
/// published neighbour-preserving layouts are compared by (k-means with the
/// classes' count on the 2-D layout), which separates the layout's quality
/// from the choice of k.
pub fn nmi_at_label_count(xy: &[f32], labels: &[u32], seed: u64) -> f64 {
    let points: Vec<Vec<f32>> = xy.chunks_exact(2).map(|p| p.to_vec()).collect();
    let mut k: Vec<u32> = labels.to_vec();
    k.sort_unstable();
    k.dedup();
    let k = k.len().min(points.len());
    if k < 2 {
        return nmi(labels, &vec![0; labels.len()]);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let centroids = kmeans_best(&points, k, 10, &mut rng);
    let assign: Vec<u32> = points.iter().map(|p| nearest(&centroids, p) as u32).collect();
    nmi(labels, &assign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmi_is_one_for_a_renaming_and_low_for_noise() {
        let a = [0, 0, 1, 1, 2, 2];
        assert!((nmi(&a, &[5, 5, 3, 3, 9, 9]) - 1.0).abs() < 1e-9);
        assert!(nmi(&a, &[0, 1, 0, 1, 0, 1]) < 0.1);
    }

    #[test]
    fn kmeans_at_the_label_count_finds_separate_groups() {
        // Three tight groups on the plane, labelled by group: k = 3 finds them.
        let mut xy = Vec::new();
        let mut labels = Vec::new();
        for (g, (cx, cy)) in [(0.0, 0.0), (20.0, 0.0), (0.0, 20.0)].into_iter().enumerate() {
            for i in 0..20 {
                xy.extend([cx + (i % 5) as f32 * 0.1, cy + (i / 5) as f32 * 0.1]);
                labels.push(g as u32);
            }
        }
        assert!((nmi_at_label_count(&xy, &labels, 1) - 1.0).abs() < 1e-9);
        // Labels that cut across the groups are not found.
        let crossing: Vec<u32> = (0..labels.len() as u32).map(|i| i % 3).collect();
        assert!(nmi_at_label_count(&xy, &crossing, 1) < 0.2);
    }

    #[test]
    fn agreement_counts_neighbours_with_the_same_label() {
        // Two tight pairs far apart: each point's nearest has its label.
        let data = [0.0, 0.0, 0.1, 0.0, 10.0, 0.0, 10.1, 0.0];
        assert_eq!(neighbour_agreement(&data, 2, &[0, 0, 1, 1], 1).unwrap(), 1.0);
        assert_eq!(neighbour_agreement(&data, 2, &[0, 1, 0, 1], 1).unwrap(), 0.0);
    }
}
