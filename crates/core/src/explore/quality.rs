//! How much of what the vectors know a map keeps, measured against labels:
//! the share of each point's nearest neighbours that share its label (on the
//! map, and in the full space for comparison), and the normalised mutual
//! information between clusters and labels.

use std::collections::HashMap;

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
    fn agreement_counts_neighbours_with_the_same_label() {
        // Two tight pairs far apart: each point's nearest has its label.
        let data = [0.0, 0.0, 0.1, 0.0, 10.0, 0.0, 10.1, 0.0];
        assert_eq!(neighbour_agreement(&data, 2, &[0, 0, 1, 1], 1).unwrap(), 1.0);
        assert_eq!(neighbour_agreement(&data, 2, &[0, 1, 0, 1], 1).unwrap(), 0.0);
    }
}
