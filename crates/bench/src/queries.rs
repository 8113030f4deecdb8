//! Query latency on a big library: a photo dropped on the window (read,
//! hash, decode, thumbnail, embed, search), text queries, and the store's
//! search alone.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use photofinder_core::{Filter, Library, ModelDir, TextMethod};

use crate::stats::percentile;

pub struct Latency {
    pub p50_ms: f64,
    pub p95_ms: f64,
}

impl Latency {
    fn of(samples: &[f64]) -> Latency {
        Latency { p50_ms: percentile(samples, 0.5), p95_ms: percentile(samples, 0.95) }
    }
}

fn timed(repeat: usize, mut f: impl FnMut(usize) -> Result<()>) -> Result<Latency> {
    f(0)?; // warm-up: loads the model and the store
    let mut samples = Vec::with_capacity(repeat);
    for i in 0..repeat {
        let t = Instant::now();
        f(i + 1)?;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Latency::of(&samples))
}

/// Drop-a-photo latency: `search_file` on each of `photos` in turn (files the
/// library does not hold, as a dragged-in photo is).
pub fn drop_photo(library: &Path, models: &ModelDir, model: &str, photos: &[PathBuf], repeat: usize) -> Result<Latency> {
    let mut lib = Library::open(library, models.clone())?;
    lib.use_model(model)?;
    timed(repeat, |i| lib.search_file(&photos[i % photos.len()], 10, &Filter::default()).map(|_| ()).map_err(Into::into))
}

/// Store search alone, for the vector of each photo.
pub fn store_only(library: &Path, models: &ModelDir, model: &str, photos: &[PathBuf], repeat: usize) -> Result<Latency> {
    let mut lib = Library::open(library, models.clone())?;
    lib.use_model(model)?;
    let mut vectors = Vec::new();
    for p in photos {
        vectors.push(lib.embed_bytes(&std::fs::read(p)?)?);
    }
    let store = lib.store()?;
    timed(repeat, |i| store.search(&vectors[i % vectors.len()], 10, &Filter::default()).map(|_| ()).map_err(Into::into))
}

/// Text query latency with `method`, cycling through `queries`.
pub fn text(library: &Path, models: &ModelDir, model: &str, method: TextMethod, queries: &[&str], repeat: usize) -> Result<Latency> {
    let mut lib = Library::open(library, models.clone())?;
    lib.use_model(model)?;
    timed(repeat, |i| {
        lib.search_text(queries[i % queries.len()], 10, &Filter::default(), Some(method)).map(|_| ()).map_err(Into::into)
    })
}
