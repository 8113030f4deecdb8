//! Vectors as 8-bit codes: a quarter of the memory of f32 and a quarter of
//! the bytes to stream per search. Each vector keeps its own scale (its
//! largest component maps to 127), so dot products of codes are within a
//! fraction of a percent of the exact ones: good enough to pick candidates,
//! which the store then re-ranks with the exact vectors.

/// Codes of many vectors of one dimension, in one contiguous array.
#[derive(Default)]
pub struct Codes {
    dim: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    /// Sum of each vector's codes: the AVX-512 kernel multiplies unsigned
    /// bytes, and this corrects for the offset that makes the query unsigned.
    sums: Vec<i32>,
}

/// A query, quantised once per search.
pub struct Query {
    codes: Vec<i8>,
    /// The same codes plus 128, for the AVX-512 VNNI kernel.
    offset: Vec<u8>,
    scale: f32,
}

fn quantise(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    (v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect(), scale)
}

impl Query {
    pub fn new(v: &[f32]) -> Query {
        let (codes, scale) = quantise(v);
        let offset = codes.iter().map(|&c| (c as i16 + 128) as u8).collect();
        Query { codes, offset, scale }
    }
}

impl Codes {
    pub fn new(dim: usize) -> Codes {
        Codes { dim, ..Default::default() }
    }

    pub fn len(&self) -> usize {
        self.scales.len()
    }

    pub fn push(&mut self, v: &[f32]) {
        let (c, s) = quantise(v);
        self.sums.push(c.iter().map(|&x| x as i32).sum());
        self.codes.extend_from_slice(&c);
        self.scales.push(s);
    }

    pub fn set(&mut self, i: usize, v: &[f32]) {
        let (c, s) = quantise(v);
        self.sums[i] = c.iter().map(|&x| x as i32).sum();
        self.codes[i * self.dim..(i + 1) * self.dim].copy_from_slice(&c);
        self.scales[i] = s;
    }

    /// Remove vector `i`, moving the last one into its place.
    pub fn swap_remove(&mut self, i: usize) {
        let last = self.len() - 1;
        if i != last {
            let (a, b) = self.codes.split_at_mut(last * self.dim);
            a[i * self.dim..(i + 1) * self.dim].copy_from_slice(&b[..self.dim]);
        }
        self.codes.truncate(last * self.dim);
        self.scales.swap_remove(i);
        self.sums.swap_remove(i);
    }

    /// Vector `i` as a query, straight from its codes.
    pub fn query(&self, i: usize) -> Query {
        let codes = self.codes[i * self.dim..(i + 1) * self.dim].to_vec();
        let offset = codes.iter().map(|&c| (c as i16 + 128) as u8).collect();
        Query { codes, offset, scale: self.scales[i] }
    }

    /// Approximate dot products of `q` with every vector, in order.
    #[cfg(test)]
    pub fn for_each_dot(&self, q: &Query, f: impl FnMut(usize, f32)) {
        self.for_each_dot_in(0..self.len(), q, f)
    }

    /// The same over the vectors in `range`.
    pub fn for_each_dot_in(&self, range: std::ops::Range<usize>, q: &Query, mut f: impl FnMut(usize, f32)) {
        let kernel = Kernel::detect();
        let dim = self.dim.max(1);
        for i in range {
            let raw = kernel.dot(q, &self.codes[i * dim..(i + 1) * dim], self.sums[i]);
            f(i, raw as f32 * q.scale * self.scales[i]);
        }
    }
}

impl Codes {
    /// Pairs `(i, j)`, `i < j`, whose approximate dot product is at least
    /// `min_dot`, with the share of the work done reported to `progress`;
    /// `None` when cancelled.
    ///
    /// All against all, in tiles: a block of queries meets a tile of codes
    /// while it is in cache, so the codes stream from memory once per block
    /// rather than once per query. Blocks alternate between threads, which
    /// evens out the triangle.
    pub fn similar_pairs(
        &self,
        min_dot: f32,
        progress: &(dyn Fn(f64) + Sync),
        cancel: &crate::progress::Cancel,
    ) -> Option<Vec<(usize, usize)>> {
        const BLOCK: usize = 32;
        const TILE: usize = 2048;
        let n = self.len();
        let blocks = n.div_ceil(BLOCK);
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).min(4);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let work = |t: usize| {
            let mut pairs = Vec::new();
            for b in (t..blocks).step_by(threads) {
                if cancel.is_cancelled() {
                    break;
                }
                let rows = b * BLOCK..((b + 1) * BLOCK).min(n);
                let queries: Vec<(usize, Query)> = rows.clone().map(|i| (i, self.query(i))).collect();
                for tile in (rows.start..n).step_by(TILE) {
                    for (i, q) in &queries {
                        let (from, to) = (tile.max(i + 1), (tile + TILE).min(n));
                        if from < to {
                            self.for_each_dot_in(from..to, q, |j, s| {
                                if s >= min_dot {
                                    pairs.push((*i, j));
                                }
                            });
                        }
                    }
                }
                // Work in a block is the part of the triangle right of it.
                let before = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if before.is_multiple_of(64) {
                    progress(before as f64 / blocks as f64);
                }
            }
            pairs
        };
        let pairs: Vec<(usize, usize)> = std::thread::scope(|s| {
            let parts: Vec<_> = (0..threads).map(|t| s.spawn(move || work(t))).collect();
            parts.into_iter().flat_map(|p| p.join().expect("pair thread")).collect()
        });
        if cancel.is_cancelled() {
            return None;
        }
        progress(1.0);
        Some(pairs)
    }
}

#[derive(Clone, Copy)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Vnni,
}

impl Kernel {
    fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512vnni") && std::arch::is_x86_feature_detected!("avx512bw") {
            return Kernel::Vnni;
        }
        Kernel::Portable
    }

    #[inline]
    fn dot(self, q: &Query, c: &[i8], sum: i32) -> i32 {
        match self {
            Kernel::Portable => portable_dot(&q.codes, c),
            // SAFETY: chosen only when the CPU reports AVX-512 VNNI and BW.
            #[cfg(target_arch = "x86_64")]
            Kernel::Vnni => unsafe { vnni_dot(&q.offset, c) - 128 * sum },
        }
    }
}

fn portable_dot(a: &[i8], b: &[i8]) -> i32 {
    // Independent lanes of i32 accumulators let the compiler vectorise.
    let mut acc = [0i32; 16];
    let whole = a.len() / 16 * 16;
    for (x, y) in a[..whole].chunks_exact(16).zip(b[..whole].chunks_exact(16)) {
        for l in 0..16 {
            acc[l] += x[l] as i32 * y[l] as i32;
        }
    }
    let tail: i32 = a[whole..].iter().zip(&b[whole..]).map(|(&x, &y)| x as i32 * y as i32).sum();
    acc.iter().sum::<i32>() + tail
}

/// Sum of `a[i] * b[i]` with `a` unsigned: 64 byte pairs per instruction.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn vnni_dot(a: &[u8], b: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let whole = n / 64 * 64;
    let mut acc = _mm512_setzero_si512();
    let mut i = 0;
    while i < whole {
        // SAFETY: i + 64 <= n for both slices; unaligned loads.
        let x = unsafe { _mm512_loadu_si512(a.as_ptr().add(i) as *const _) };
        let y = unsafe { _mm512_loadu_si512(b.as_ptr().add(i) as *const _) };
        acc = _mm512_dpbusd_epi32(acc, x, y);
        i += 64;
    }
    let mut sum = _mm512_reduce_add_epi32(acc);
    for j in whole..n {
        sum += a[j] as i32 * b[j] as i32;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u32, dim: usize) -> Vec<f32> {
        let v: Vec<f32> = (0..dim).map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed).wrapping_mul(40503) % 2001) as f32 / 1000.0 - 1.0).collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn code_dots_are_close_to_exact_and_kernels_agree() {
        for dim in [3, 64, 100, 1280] {
            let mut codes = Codes::new(dim);
            let vs: Vec<Vec<f32>> = (0..20).map(|s| unit(s, dim)).collect();
            for v in &vs {
                codes.push(v);
            }
            let q = unit(99, dim);
            let query = Query::new(&q);
            codes.for_each_dot(&query, |i, approx| {
                let exact: f32 = vs[i].iter().zip(&q).map(|(a, b)| a * b).sum();
                assert!((approx - exact).abs() < 0.02, "dim {dim}: {approx} vs {exact}");
            });
            for (i, v) in vs.iter().enumerate() {
                let (c, _) = quantise(v);
                let portable = Kernel::Portable.dot(&query, &c, codes.sums[i]);
                assert_eq!(Kernel::detect().dot(&query, &c, codes.sums[i]), portable);
            }
        }
    }

    #[test]
    fn swap_remove_and_set_keep_codes_in_step() {
        let mut codes = Codes::new(4);
        for s in 0..3 {
            codes.push(&unit(s, 4));
        }
        codes.swap_remove(0);
        codes.set(1, &unit(7, 4));
        assert_eq!(codes.len(), 2);
        let q = Query::new(&unit(2, 4));
        let mut dots = Vec::new();
        codes.for_each_dot(&q, |_, d| dots.push(d));
        assert!((dots[0] - 1.0).abs() < 0.02, "vector 2 moved into slot 0: {dots:?}");
    }
}
