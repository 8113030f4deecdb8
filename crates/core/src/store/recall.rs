//! How good is the store's approximate search? Recall@k against exact search
//! over the same vectors, with the latency it costs.

use std::time::Instant;

use serde::Serialize;

use super::{Filter, IndexConfig, VectorStore};
use crate::catalog::Catalog;
use crate::error::Result;

#[derive(Debug, Clone, Serialize)]
pub struct RecallReport {
    pub store: &'static str,
    pub index: Option<IndexConfig>,
    pub vectors: usize,
    pub queries: usize,
    pub k: usize,
    /// Mean share of the exact top k that the store returned.
    pub recall: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// Recall@k of `model`'s `store` for `queries` of the catalog's own vectors
/// (spread evenly over the library), against exact search.
pub fn measure(catalog: &Catalog, store: &mut dyn VectorStore, model: &str, queries: usize, k: usize) -> Result<RecallReport> {
    let ids = catalog.embedded_ids(model)?;
    let step = (ids.len() / queries.max(1)).max(1);
    let chosen: std::collections::HashSet<i64> = ids.iter().step_by(step).take(queries).copied().collect();
    let mut all: Vec<(i64, Vec<f32>)> = Vec::with_capacity(ids.len());
    catalog.embedded_files(model, |row, v| {
        all.push((row.id, v));
        Ok(())
    })?;
    let query_vectors: Vec<(i64, Vec<f32>)> = all.iter().filter(|(id, _)| chosen.contains(id)).cloned().collect();
    let (kind, index) = (store.kind(), store.index());
    let mut recall_sum = 0.0;
    let mut millis = Vec::with_capacity(query_vectors.len());
    for (_, q) in &query_vectors {
        let mut exact: Vec<(f32, i64)> =
            all.iter().map(|(id, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum::<f32>(), *id)).collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let truth: std::collections::HashSet<i64> = exact.iter().take(k).map(|e| e.1).collect();
        let started = Instant::now();
        let got = store.search(q, k, &Filter::default())?;
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
        let found = got.iter().filter(|h| truth.contains(&h.id)).count();
        recall_sum += found as f64 / truth.len().max(1) as f64;
    }
    millis.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| millis.get(((millis.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    Ok(RecallReport {
        store: kind,
        index,
        vectors: all.len(),
        queries: query_vectors.len(),
        k,
        recall: if query_vectors.is_empty() { 0.0 } else { recall_sum / query_vectors.len() as f64 },
        p50_ms: pct(0.5),
        p95_ms: pct(0.95),
    })
}
