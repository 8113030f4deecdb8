//! Milvus index types on synthetic vectors: insert throughput, index build
//! time, search latency and recall@10 against exact search, beside the
//! embedded store's exact search.
//!
//!     MILVUS_URI=http://127.0.0.1:19530 cargo run --release -p photofinder-core --example milvus_bench -- [N] [DIM]

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use photofinder_core::models::Metric;
use photofinder_core::store::{EmbeddedStore, Filter, IndexConfig, MilvusConfig, MilvusStore, Point, PointMeta, VectorStore};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

/// Clustered unit vectors, like image embeddings (many near neighbours).
fn vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> = (0..200).map(|_| (0..dim).map(|_| rng.random::<f32>() - 0.5).collect()).collect();
    (0..n)
        .map(|_| {
            let c = &centres[rng.random_range(0..centres.len())];
            unit(c.iter().map(|m| m + 0.35 * (rng.random::<f32>() - 0.5)).collect())
        })
        .collect()
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn measure(store: &dyn VectorStore, queries: &[Vec<f32>], truth: &[HashSet<i64>]) -> (f64, f64, f64) {
    let mut ms = Vec::new();
    let mut recall = 0.0;
    for (q, t) in queries.iter().zip(truth) {
        let s = Instant::now();
        let hits = store.search(q, 10, &Filter::default()).unwrap();
        ms.push(s.elapsed().as_secs_f64() * 1000.0);
        recall += hits.iter().filter(|h| t.contains(&h.id)).count() as f64 / 10.0;
    }
    (recall / queries.len() as f64, percentile(ms.clone(), 0.5), percentile(ms, 0.95))
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(100_000);
    let dim = args.get(1).copied().unwrap_or(2048);
    let uri = std::env::var("MILVUS_URI").unwrap_or_else(|_| "http://127.0.0.1:19530".into());
    let data = vectors(n, dim, 1);
    let queries: Vec<Vec<f32>> = vectors(100, dim, 2);
    let points: Vec<Point> = data
        .iter()
        .enumerate()
        .map(|(i, v)| Point {
            id: i as i64 + 1,
            vector: v.clone(),
            meta: PointMeta { path: format!("/bench/{i}.jpg").into(), taken_at: None, format: "jpeg".into() },
        })
        .collect();
    let truth: Vec<HashSet<i64>> = queries
        .iter()
        .map(|q| {
            let mut s: Vec<(f32, i64)> = data.iter().enumerate().map(|(i, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum(), i as i64 + 1)).collect();
            s.sort_by(|a, b| b.0.total_cmp(&a.0));
            s.iter().take(10).map(|x| x.1).collect()
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let mut embedded = EmbeddedStore::open(&dir.path().join("s.db"), dim, Metric::Cosine).unwrap();
    let t = Instant::now();
    embedded.upsert(&points).unwrap();
    let rate = n as f64 / t.elapsed().as_secs_f64();
    let (r, p50, p95) = measure(&embedded, &queries, &truth);
    println!("| embedded (exact) | {rate:.0} | - | {p50:.2} | {p95:.2} | {r:.3} |");

    let config = MilvusConfig { uri, prefix: format!("bench{}", std::process::id()), timeout_secs: 60, ..Default::default() };
    let mut milvus = MilvusStore::open(&config, "bench", dim, Metric::Cosine).unwrap();
    let t = Instant::now();
    milvus.upsert(&points).unwrap();
    milvus.flush().unwrap();
    let rate = n as f64 / t.elapsed().as_secs_f64();
    println!("Milvus insert + flush of {n} x {dim}: {rate:.0} vectors/s");
    let kv = |pairs: &[(&str, &str)]| -> HashMap<String, String> { pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
    let nlist = ((n as f64).sqrt() * 4.0).round().to_string();
    for (kind, build, search) in [
        ("FLAT", kv(&[]), kv(&[])),
        ("IVF_FLAT", kv(&[("nlist", &nlist)]), kv(&[("nprobe", "16")])),
        ("IVF_SQ8", kv(&[("nlist", &nlist)]), kv(&[("nprobe", "16")])),
        ("IVF_PQ", kv(&[("nlist", &nlist), ("m", "64"), ("nbits", "8")]), kv(&[("nprobe", "16")])),
        ("HNSW", kv(&[("M", "16"), ("efConstruction", "200")]), kv(&[("ef", "64")])),
    ] {
        let index = IndexConfig { kind: kind.into(), build: build.clone(), search: search.clone() };
        let t = Instant::now();
        milvus.set_index(&index).unwrap();
        let build_s = t.elapsed().as_secs_f64();
        let (r, p50, p95) = measure(&milvus, &queries, &truth);
        println!("| Milvus {kind} {build:?} {search:?} | - | {build_s:.1} | {p50:.2} | {p95:.2} | {r:.3} |");
    }
    milvus.drop_collection().unwrap();
}
