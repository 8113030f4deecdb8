//! One contract for every `VectorStore`: the embedded store and a real Milvus
//! server (started by `scripts/test`, address in `MILVUS_URI`).

use std::path::Path;

use photofinder_core::models::Metric;
use photofinder_core::store::{EmbeddedStore, Filter, MilvusConfig, MilvusStore, Point, PointMeta, VectorStore};

const DIM: usize = 8;

fn unit(seed: u64) -> Vec<f32> {
    // A deterministic pseudo-random unit vector.
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let v: Vec<f32> = (0..DIM)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 2000) as f32 / 1000.0 - 1.0
        })
        .collect();
    let n = v.iter().map(|a| a * a).sum::<f32>().sqrt();
    v.iter().map(|a| a / n).collect()
}

fn point(id: i64, path: &str, taken: Option<i64>, format: &str) -> Point {
    Point { id, vector: unit(id as u64), meta: PointMeta { path: path.into(), taken_at: taken, format: format.into() } }
}

fn sample() -> Vec<Point> {
    vec![
        point(1, "/photos/2019/a.jpg", Some(1_560_000_000), "jpeg"),
        point(2, "/photos/2019/b.png", Some(1_565_000_000), "png"),
        point(3, "/photos/2023/c.jpg", Some(1_690_000_000), "jpeg"),
        point(4, "/photos/2023/d.jpg", None, "jpeg"),
        point(5, "/other/e_1%.webp", Some(1_700_000_000), "webp"),
    ]
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The contract. `open` opens the same store again (a restart).
fn contract(open: &dyn Fn() -> Box<dyn VectorStore>) {
    let mut store = open();
    assert_eq!(store.dim(), DIM);
    store.upsert(&sample()).unwrap();
    assert_eq!(store.ids().unwrap(), vec![1, 2, 3, 4, 5]);
    assert_eq!(store.len().unwrap(), 5);

    // Top-k, best first, with distances from the exact dot products.
    let q = unit(1);
    let hits = store.search(&q, 5, &Filter::default()).unwrap();
    let mut exact: Vec<(i64, f32)> = sample().iter().map(|p| (p.id, dot(&q, &p.vector))).collect();
    exact.sort_by(|a, b| b.1.total_cmp(&a.1));
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), exact.iter().map(|e| e.0).collect::<Vec<_>>());
    for (h, (_, d)) in hits.iter().zip(&exact) {
        assert!((h.similarity - d).abs() < 1e-4, "{} vs {d}", h.similarity);
        assert!((h.distance - (1.0 - d)).abs() < 1e-4);
    }
    assert_eq!(store.search(&q, 2, &Filter::default()).unwrap().len(), 2);

    // Filters.
    let ids = |store: &dyn VectorStore, f: Filter| {
        let mut v: Vec<i64> = store.search(&q, 10, &f).unwrap().iter().map(|h| h.id).collect();
        v.sort();
        v
    };
    assert_eq!(ids(store.as_ref(), Filter { folders: vec!["/photos/2023".into()], ..Default::default() }), [3, 4]);
    assert_eq!(ids(store.as_ref(), Filter { folders: vec!["/other".into(), "/photos/2019".into()], ..Default::default() }), [1, 2, 5]);
    assert_eq!(ids(store.as_ref(), Filter { taken_after: Some(1_600_000_000), ..Default::default() }), [3, 5]);
    assert_eq!(ids(store.as_ref(), Filter { taken_before: Some(1_600_000_000), ..Default::default() }), [1, 2]);
    assert_eq!(ids(store.as_ref(), Filter { formats: vec!["png".into(), "webp".into()], ..Default::default() }), [2, 5]);
    assert_eq!(ids(store.as_ref(), Filter { exclude: vec![1, 3], ..Default::default() }), [2, 4, 5]);
    assert!(ids(store.as_ref(), Filter { folders: vec!["/nowhere".into()], ..Default::default() }).is_empty());

    // Upsert replaces, delete removes.
    let mut moved = point(2, "/photos/2023/b.png", Some(1_565_000_000), "png");
    moved.vector = q.clone();
    store.upsert(&[moved]).unwrap();
    store.delete(&[1, 42]).unwrap();
    assert_eq!(store.ids().unwrap(), vec![2, 3, 4, 5]);
    let top = store.search(&q, 1, &Filter::default()).unwrap();
    assert_eq!(top[0].id, 2);
    assert!(top[0].similarity > 0.9999);
    assert_eq!(ids(store.as_ref(), Filter { folders: vec!["/photos/2023".into()], ..Default::default() }), [2, 3, 4]);

    // Everything survives a restart.
    drop(store);
    let mut store = open();
    assert_eq!(store.ids().unwrap(), vec![2, 3, 4, 5]);
    assert_eq!(store.search(&q, 1, &Filter::default()).unwrap()[0].id, 2);

    // Folder names are taken literally, wildcard characters included.
    store.upsert(&[point(6, "/photos/my_trip/f.jpg", None, "jpeg"), point(7, "/photos/myXtrip/g.jpg", None, "jpeg")]).unwrap();
    assert_eq!(ids(store.as_ref(), Filter { folders: vec!["/photos/my_trip".into()], ..Default::default() }), [6]);
}

#[test]
fn embedded_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    contract(&|| Box::new(EmbeddedStore::open(&path, DIM, Metric::Cosine).unwrap()));
}

pub fn milvus_config(prefix: &str) -> MilvusConfig {
    let uri = std::env::var("MILVUS_URI")
        .expect("MILVUS_URI: the Milvus tests need the server scripts/test starts (scripts/milvus-server start)");
    MilvusConfig { uri, prefix: prefix.into(), timeout_secs: 60, ..Default::default() }
}

#[test]
fn milvus_store_keeps_the_contract() {
    let config = milvus_config(&format!("contract{}", std::process::id()));
    contract(&|| Box::new(MilvusStore::open(&config, "m", DIM, Metric::Cosine).unwrap()));
}

#[test]
fn milvus_down_is_a_clear_error_not_a_hang() {
    let config = MilvusConfig { uri: "http://127.0.0.1:1".into(), timeout_secs: 2, ..Default::default() };
    let started = std::time::Instant::now();
    let err = MilvusStore::open(&config, "m", DIM, Metric::Cosine).err().expect("nothing listens on port 1");
    let text = err.to_string();
    assert!(text.contains("Milvus") && text.contains("127.0.0.1:1"), "{text}");
    assert!(started.elapsed().as_secs() < 60, "gave up in bounded time");
    let _ = Path::new("");
}
