//! The principal axes of one model's vectors, learned on a random sample
//! by randomised SVD (a sketch with power iterations, Halko et al. 2011):
//! the tutorial's PCA map takes the first two, and the neighbour-preserving
//! layout finds neighbours in the first fifty.

use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::catalog::FileId;
use crate::error::Result;

/// Vectors streamed to a callback, in a stable order; called once per pass.
pub trait VectorSource {
    fn dim(&self) -> usize;
    fn for_each(&self, f: &mut dyn FnMut(FileId, &[f32])) -> Result<()>;

    /// The ids `for_each` would give, in its order.
    fn ids(&self) -> Result<Vec<FileId>> {
        let mut ids = Vec::new();
        self.for_each(&mut |id, _| ids.push(id))?;
        Ok(ids)
    }

    /// The vectors of `ids` only (a source that can look them up does so
    /// without streaming everything).
    fn for_ids(&self, ids: &[FileId], f: &mut dyn FnMut(FileId, &[f32])) -> Result<()> {
        let wanted: std::collections::HashSet<FileId> = ids.iter().copied().collect();
        self.for_each(&mut |id, v| {
            if wanted.contains(&id) {
                f(id, v)
            }
        })
    }
}

/// One vector in the fit's coordinates.
pub fn project(fit: &Fit, v: &[f32]) -> Vec<f32> {
    fit.components.iter().map(|c| c.iter().zip(v).zip(&fit.mean).map(|((w, x), mu)| w * (x - mu)).sum()).collect()
}

/// The learned axes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fit {
    pub dim: usize,
    pub mean: Vec<f32>,
    /// Rows of `dim`, strongest first.
    pub components: Vec<Vec<f32>>,
    /// Share of the sample's variance along each component.
    pub explained: Vec<f32>,
}

/// Learn up to `components` axes from a uniform sample of at most `sample`
/// vectors of `source` (deterministic for a seed). Returns the fit and how
/// many vectors the source had.
pub fn fit(source: &dyn VectorSource, sample_size: usize, components: usize, seed: u64) -> Result<(Fit, usize)> {
    let dim = source.dim();
    let mut rng = StdRng::seed_from_u64(seed);
    // Reservoir sample: uniform over the stream, deterministic for a seed.
    let mut sample: Vec<f32> = Vec::new();
    let mut seen = 0usize;
    source.for_each(&mut |_, v| {
        seen += 1;
        if seen <= sample_size {
            sample.extend_from_slice(v);
        } else {
            let j = rng.random_range(0..seen);
            if j < sample_size {
                sample[j * dim..(j + 1) * dim].copy_from_slice(v);
            }
        }
    })?;
    let m = sample.len() / dim.max(1);
    if m == 0 {
        return Ok((Fit { dim, mean: vec![0.0; dim], components: Vec::new(), explained: Vec::new() }, 0));
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
    let c = components.min(dim).min(m.saturating_sub(1)).max(1);
    let (components, explained) = randomized_pca(&a, c, &mut rng);
    Ok((Fit { dim, mean, components, explained }, seen))
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

/// Every vector of `source` in the fit's coordinates: the ids in the
/// source's order and their coordinates, `components` floats each. Vectors
/// are projected a block at a time as one matrix product.
pub fn project_all(fit: &Fit, source: &dyn VectorSource) -> Result<(Vec<FileId>, Vec<f32>)> {
    const BLOCK: usize = 1024;
    let dim = fit.dim;
    let c = fit.components.len();
    let basis = DMatrix::from_fn(dim, c, |i, j| fit.components[j][i]);
    let (mut ids, mut coords) = (Vec::new(), Vec::new());
    let mut block = Vec::with_capacity(BLOCK * dim);
    let flush = |block: &mut Vec<f32>, coords: &mut Vec<f32>| {
        if block.is_empty() {
            return;
        }
        let z = DMatrix::from_row_slice(block.len() / dim, dim, block) * &basis;
        for r in 0..z.nrows() {
            coords.extend(z.row(r).iter().copied());
        }
        block.clear();
    };
    source.for_each(&mut |id, v| {
        ids.push(id);
        block.extend(v.iter().zip(&fit.mean).map(|(x, mu)| x - mu));
        if block.len() == BLOCK * dim {
            flush(&mut block, &mut coords);
        }
    })?;
    flush(&mut block, &mut coords);
    Ok((ids, coords))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points along one direction with a little noise in the others.
    struct Line {
        n: usize,
        dim: usize,
    }

    impl VectorSource for Line {
        fn dim(&self) -> usize {
            self.dim
        }
        fn for_each(&self, f: &mut dyn FnMut(FileId, &[f32])) -> Result<()> {
            let mut rng = StdRng::seed_from_u64(1);
            for i in 0..self.n {
                let t = i as f32 / self.n as f32 - 0.5;
                let v: Vec<f32> = (0..self.dim).map(|d| if d == 3 { t * 10.0 } else { 0.01 * (rng.random::<f32>() - 0.5) }).collect();
                f(i as FileId, &v);
            }
            Ok(())
        }
    }

    #[test]
    fn the_first_axis_is_the_direction_of_most_variance() {
        let source = Line { n: 500, dim: 16 };
        let (fit, seen) = fit(&source, 300, 4, 7).unwrap();
        assert_eq!(seen, 500);
        assert!(fit.components[0][3].abs() > 0.99, "{:?}", fit.components[0]);
        assert!(fit.explained[0] > 0.99);
        let (ids, coords) = project_all(&fit, &source).unwrap();
        assert_eq!((ids.len(), coords.len()), (500, 500 * fit.components.len()));
        // Along the line, in order.
        assert!(coords[0] * coords[499 * fit.components.len()] < 0.0);
    }
}
