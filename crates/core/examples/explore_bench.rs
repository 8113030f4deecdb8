//! Time and memory of the map (PCA, neighbours, layout, clusters) over
//! synthetic vectors, and of placing 100 new photos into it.
//!
//!     cargo run --release -p photofinder-core --example explore_bench -- [N] [DIM] [umap|pca]
//!
//! Vectors are generated on the fly (clustered around 20 random centres), as
//! the catalog streams them, so the figures are the map's own cost.

use std::time::Instant;

use photofinder_core::catalog::FileId;
use photofinder_core::explore::{make, update, ExploreOptions, Layout, VectorSource};
use photofinder_core::Cancel;
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let n = numbers.first().copied().unwrap_or(100_000);
    let dim = numbers.get(1).copied().unwrap_or(1280);
    let layout = if args.iter().any(|a| a == "pca") { Layout::Pca } else { Layout::Umap };
    let options = ExploreOptions { layout, ..Default::default() };
    let source = Synthetic { n, dim };

    let t = Instant::now();
    let mut count = 0usize;
    source.for_each(&mut |_, _| count += 1).unwrap();
    let generate = t.elapsed().as_secs_f64();

    let t = Instant::now();
    // Neighbours are the first 40% of the work: say when they are done.
    let neighbours_done = std::sync::Mutex::new(None);
    let sink = |e: photofinder_core::Event| {
        if let photofinder_core::Event::Progress(p) = e {
            let mut at = neighbours_done.lock().unwrap();
            if p.done >= 40 && at.is_none() {
                *at = Some(t.elapsed().as_secs_f64());
            }
        }
    };
    let map = make(&source, &options, &sink, &Cancel::new()).unwrap();
    let make_s = t.elapsed().as_secs_f64();
    let neighbours_s = neighbours_done.lock().unwrap().unwrap_or(f64::NAN);
    let clusters = map.parts.len();
    // 100 more photos of the same kind (the stream's first n + 100).
    let grown = Synthetic { n: n + 100, dim };
    let t = Instant::now();
    let map = update(map, &grown, &options).unwrap();
    let update_s = t.elapsed().as_secs_f64();
    println!(
        "{n} x {dim}, {layout:?}: laid out with {clusters} clusters in {:.2} s (PCA and neighbours {:.2} s); \
         100 new photos placed in {:.2} s (both including {:.2} s of generating the vectors); peak RSS {:.0} MB",
        make_s - generate,
        neighbours_s - generate,
        update_s - generate,
        generate,
        peak_rss_mb(),
    );
    assert_eq!(map.ids.len(), count + 100);
}
