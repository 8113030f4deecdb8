//! Indexing throughput: model inference alone, photofinder's whole pipeline,
//! and the Python reference pipeline, on the same photos with the same model.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use photofinder_core::embed::Embedder;
use photofinder_core::index::PipelineOptions;
use photofinder_core::{decode, preprocess, Cancel, Library, ModelDir, ModelStatus};

/// Photos per second of inference alone: batches of already-prepared
/// tensors (from `photos`) run back to back for at least `min_seconds`.
pub fn inference_alone(models: &ModelDir, model: &ModelStatus, photos: &[PathBuf], min_seconds: f64) -> Result<f64> {
    let spec = &model.spec;
    let mut embedder = Embedder::load(models, &spec.name, photofinder_core::embed::default_threads())?;
    let batch = PipelineOptions::default().batch;
    let len = embedder.input_len();
    let mut tensors = Vec::new();
    for p in photos.iter().take(batch * 4) {
        let decoded = decode::decode(&std::fs::read(p)?, spec.resize)?;
        let mut t = vec![0.0; len];
        preprocess::to_tensor(&decoded.pixels, spec, &mut t);
        tensors.push(t);
    }
    let batches: Vec<Vec<f32>> = tensors.chunks(batch).map(|c| c.concat()).collect();
    embedder.embed_batch(batches[0].clone())?; // warm-up: first runs allocate
    let (mut done, started) = (0usize, Instant::now());
    while started.elapsed().as_secs_f64() < min_seconds {
        for b in &batches {
            done += embedder.embed_batch(b.clone())?.len();
        }
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}

/// Photos per second of the whole pipeline (scan, read, hash, decode,
/// thumbnail, preprocess, infer, catalog, store) indexing `photos` into a new
/// library with the embedded store.
pub fn pipeline(models: &ModelDir, model: &str, photos: &[PathBuf], work: &Path) -> Result<PipelineRun> {
    pipeline_with(models, model, photos, work, PipelineOptions::default())
}

/// `pipeline` with the given pipeline options (the full decode of files
/// that carry previews, say).
pub fn pipeline_with(models: &ModelDir, model: &str, photos: &[PathBuf], work: &Path, options: PipelineOptions) -> Result<PipelineRun> {
    let root = tempfile::tempdir_in(work)?;
    let folder = root.path().join("photos");
    std::fs::create_dir_all(&folder)?;
    for (i, p) in photos.iter().enumerate() {
        // Made before the clock starts: hard links where the file system allows.
        let link = folder.join(format!("{i:05}-{}", p.file_name().unwrap_or_default().to_string_lossy()));
        std::fs::hard_link(p, &link).or_else(|_| std::fs::copy(p, &link).map(|_| ()))?;
    }
    let mut library = Library::open(root.path().join("library"), models.clone())?;
    library.options = options;
    library.set_model(model)?;
    library.add_folder(&folder)?;
    // Load the model before the clock starts, as a running app has it loaded.
    library.embed_bytes(&std::fs::read(&photos[0])?)?;
    let started = Instant::now();
    let report = library.index(&|_| {}, &Cancel::new())?;
    let seconds = started.elapsed().as_secs_f64();
    let embedded = report.embedding.embedded as usize;
    Ok(PipelineRun { photos: embedded, seconds, library_dir: root.path().join("library"), _root: root })
}

pub struct PipelineRun {
    pub photos: usize,
    pub seconds: f64,
    pub library_dir: PathBuf,
    _root: tempfile::TempDir,
}

impl PipelineRun {
    pub fn rate(&self) -> f64 {
        self.photos as f64 / self.seconds
    }
}
