//! Time and memory of the map (PCA + clusters) over synthetic vectors.
//!
//!     cargo run --release -p photofinder-core --example explore_bench -- [N] [DIM]
//!
//! Vectors are generated on the fly (clustered around 20 random centres), as
//! the catalog streams them, so the figures are the map's own cost.

use std::time::Instant;

use photofinder_core::catalog::FileId;
use photofinder_core::explore::{fit, place, ExploreOptions, VectorSource};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

struct Synthetic {
    n: usize,
    dim: usize,
}

impl VectorSource for Synthetic {
    fn dim(&self) -> usize {
        self.dim
    }

    fn for_each(&self, f: &mut dyn FnMut(FileId, &[f32])) -> photofinder_core::Result<()> {
        let mut rng = StdRng::seed_from_u64(42);
        let centres: Vec<Vec<f32>> = (0..20).map(|_| (0..self.dim).map(|_| rng.random::<f32>() - 0.5).collect()).collect();
        let mut v = vec![0.0f32; self.dim];
        for i in 0..self.n {
            let c = &centres[rng.random_range(0..centres.len())];
            v.iter_mut().zip(c).for_each(|(x, m)| *x = m + 0.3 * (rng.random::<f32>() - 0.5));
            f(i as FileId, &v);
        }
        Ok(())
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<f64>().unwrap_or(0.0)))
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(100_000);
    let dim = args.get(1).copied().unwrap_or(2048);
    let source = Synthetic { n, dim };
    let options = ExploreOptions::default();

    let t = Instant::now();
    let mut count = 0usize;
    source.for_each(&mut |_, _| count += 1).unwrap();
    let generate = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let fitted = fit(&source, "synthetic", &options).unwrap();
    let fit_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let placed = place(&fitted, &source).unwrap();
    let place_s = t.elapsed().as_secs_f64();
    println!(
        "{n} x {dim}: fit (sample {}, PCA to {}, k = {}) {:.2} s; projecting and assigning all {:.2} s; \
         generating the vectors alone {:.2} s; peak RSS {:.0} MB; explained by the 2 map axes {:.1}%",
        options.sample.min(n),
        fitted.components.len(),
        fitted.centroids.len(),
        fit_s - generate,
        place_s - generate,
        generate,
        peak_rss_mb(),
        (fitted.explained.iter().take(2).sum::<f32>()) * 100.0
    );
    assert_eq!(placed.len(), count);
}
