//! Store search alone: latency and recall@10 against exact search, for the
//! embedded store and Milvus's index types, on synthetic clustered vectors.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use photofinder_core::models::Metric;
use photofinder_core::store::{EmbeddedStore, IndexConfig, MilvusConfig, MilvusStore, Point, PointMeta};
use photofinder_core::{Filter, VectorStore};

use crate::data::clustered_vectors;
use crate::stats::percentile;

pub const K: usize = 10;
/// Largest set Milvus builds an HNSW index for in the benchmark.
pub const HNSW_UP_TO: usize = 200_000;
const QUERIES: usize = 100;

/// One store configuration's figures at one size.
pub struct Measured {
    pub store: String,
    pub params: String,
    pub load_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub recall: f64,
}

pub struct Dataset {
    pub n: usize,
    pub dim: usize,
    data: Vec<f32>,
    queries: Vec<f32>,
    truth: Vec<HashSet<i64>>,
}

impl Dataset {
    pub fn new(n: usize, dim: usize) -> Dataset {
        let clusters = (n / 500).clamp(20, 2000);
        let data = clustered_vectors(n, dim, clusters, 1);
        let queries = clustered_vectors(QUERIES, dim, clusters, 2);
        let truth = queries.chunks_exact(dim).map(|q| exact_top(&data, dim, q)).collect();
        Dataset { n, dim, data, queries, truth }
    }

    fn points(&self, range: std::ops::Range<usize>) -> Vec<Point> {
        range
            .map(|i| Point {
                id: i as i64 + 1,
                vector: self.data[i * self.dim..(i + 1) * self.dim].to_vec(),
                meta: PointMeta { path: format!("/bench/{i}.jpg").into(), taken_at: None, format: "jpeg".into() },
            })
            .collect()
    }

    fn load(&self, store: &mut dyn VectorStore) -> Result<f64> {
        let started = Instant::now();
        for start in (0..self.n).step_by(5000) {
            store.upsert(&self.points(start..(start + 5000).min(self.n)))?;
        }
        Ok(started.elapsed().as_secs_f64())
    }

    fn measure(&self, store: &dyn VectorStore) -> Result<(f64, f64, f64)> {
        let mut ms = Vec::with_capacity(QUERIES);
        let mut found = 0usize;
        for (q, truth) in self.queries.chunks_exact(self.dim).zip(&self.truth) {
            let t = Instant::now();
            let hits = store.search(q, K, &Filter::default())?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            found += hits.iter().filter(|h| truth.contains(&h.id)).count();
        }
        Ok((percentile(&ms, 0.5), percentile(&ms, 0.95), found as f64 / (K * QUERIES) as f64))
    }
}

fn exact_top(data: &[f32], dim: usize, q: &[f32]) -> HashSet<i64> {
    let mut scored: Vec<(f32, i64)> = data
        .chunks_exact(dim)
        .enumerate()
        .map(|(i, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum(), i as i64 + 1))
        .collect();
    scored.select_nth_unstable_by(K, |a, b| b.0.total_cmp(&a.0));
    scored[..K].iter().map(|x| x.1).collect()
}

pub fn embedded(set: &Dataset, dir: &Path) -> Result<Vec<Measured>> {
    let path = dir.join(format!("embedded-{}-{}.db", set.n, set.dim));
    let _ = std::fs::remove_file(&path);
    let mut store = EmbeddedStore::open(&path, set.dim, Metric::Cosine)?;
    let load_s = set.load(&mut store)?;
    let mut out = Vec::new();
    for (label, index) in embedded_configs(set.n) {
        if let Some(index) = &index {
            store.set_index(index)?;
        }
        let (p50_ms, p95_ms, recall) = set.measure(&store)?;
        out.push(Measured { store: "embedded".into(), params: label, load_s, p50_ms, p95_ms, recall });
    }
    drop(store);
    let _ = std::fs::remove_file(&path);
    Ok(out)
}

/// The embedded store's own choice first, then exact search for comparison.
fn embedded_configs(_n: usize) -> Vec<(String, Option<IndexConfig>)> {
    vec![("int8 scan, exact re-rank".into(), None)]
}

fn kv(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

pub fn milvus(set: &Dataset, uri: &str) -> Result<Vec<Measured>> {
    let config = MilvusConfig {
        uri: uri.into(),
        prefix: format!("bench{}", std::process::id()),
        timeout_secs: 600,
        ..Default::default()
    };
    let mut store = MilvusStore::open(&config, "vectors", set.dim, Metric::Cosine)?;
    let result = (|| -> Result<Vec<Measured>> {
        let load_s = set.load(&mut store)?;
        store.flush()?;
        let nlist = ((set.n as f64).sqrt() * 4.0).round().clamp(16.0, 16384.0) as usize;
        let mut configs = vec![("FLAT", kv(&[]), kv(&[]))];
        for nprobe in [16, 64] {
            configs.push(("IVF_FLAT", kv(&[("nlist", nlist.to_string())]), kv(&[("nprobe", nprobe.to_string())])));
        }
        // HNSW's graph takes over 20 minutes to build at 1M on 2 cores.
        for ef in if set.n < HNSW_UP_TO { vec![64, 256] } else { vec![] } {
            configs.push(("HNSW", kv(&[("M", "16".into()), ("efConstruction", "200".into())]), kv(&[("ef", ef.to_string())])));
        }
        let mut out = Vec::new();
        let mut built = String::new();
        for (kind, build, search) in configs {
            let index = IndexConfig { kind: kind.into(), build: build.clone(), search: search.clone() };
            let started = Instant::now();
            store.set_index(&index)?;
            let build_s = started.elapsed().as_secs_f64();
            let mut params: Vec<String> = build.iter().chain(search.iter()).map(|(k, v)| format!("{k}={v}")).collect();
            params.sort();
            // Only a change of index (type or build parameters) builds anew.
            let mut build_key: Vec<String> = build.iter().map(|(k, v)| format!("{k}={v}")).collect();
            build_key.sort();
            let key = format!("{kind} {}", build_key.join(","));
            let fresh = built != key;
            built = key;
            let (p50_ms, p95_ms, recall) = set.measure(&store)?;
            out.push(Measured {
                store: format!("Milvus {kind}"),
                params: params.join(", "),
                load_s: if fresh { load_s + build_s } else { 0.0 },
                p50_ms,
                p95_ms,
                recall,
            });
        }
        Ok(out)
    })();
    let _ = store.drop_collection();
    result
}
