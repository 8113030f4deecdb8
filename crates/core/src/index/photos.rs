//! Photos: pending files -> decode -> preprocess -> batched inference ->
//! catalog -> vector store.
//!
//! Decoding runs on worker threads feeding a bounded channel, so that the
//! inference thread always has the next batch ready and memory stays bounded
//! however large the backlog. The catalog is written before the store: a crash
//! between the two leaves the store behind, never ahead, and the store is
//! reconciled from the catalog on the next start.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use crossbeam_channel::bounded;

use crate::catalog::{Catalog, FileId, FileRow, FileState, Hash};
use crate::decode::{self, DecodeError, ImageInfo, Need};
use super::IndexStats;
use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::models::ModelSpec;
use crate::preprocess;
use crate::progress::{Cancel, Event, Meter, Phase, Sink};
use crate::store::writer::{self, point, Written};
use crate::store::{Point, VectorStore};
use crate::thumbs::Thumbnails;

#[derive(Debug, Clone)]
pub struct PipelineOptions {
    pub batch: usize,
    pub decode_threads: usize,
    /// Embed (and make thumbnails from) the previews files carry where they
    /// are at least the model's input: a HEIC's thumbnail item. Measured
    /// before it became the default: see BENCHMARKS.md, "Fast HEIC".
    pub previews: bool,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        let cores = crate::embed::default_threads();
        PipelineOptions { batch: 8, decode_threads: cores.clamp(1, 8), previews: true }
    }
}

struct Job {
    id: FileId,
    path: PathBuf,
}

enum Prepared {
    Ready { id: FileId, path: PathBuf, hash: Hash, info: ImageInfo, tensor: Vec<f32>, warning: Option<String> },
    /// Content already embedded (a copy): only its header was read.
    Known { id: FileId, path: PathBuf, hash: Hash, info: ImageInfo },
    Failed { id: FileId, path: PathBuf, error: String, state: FileState },
}

fn prepare(job: Job, spec: &ModelSpec, previews: bool, thumbs: &Thumbnails, embedded: &HashSet<Hash>) -> Prepared {
    let fail = |error: String, state: FileState| Prepared::Failed { id: job.id, path: job.path.clone(), error, state };
    let bytes = match crate::files::read_regular(&job.path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => return fail(e.to_string(), FileState::Skipped),
        Err(e) => return fail(format!("cannot read: {e}"), FileState::Failed),
    };
    let hash = *blake3::hash(&bytes).as_bytes();
    if embedded.contains(&hash) && thumbs.path(&hash).exists() {
        if let Ok(info) = decode::probe(&bytes) {
            return Prepared::Known { id: job.id, path: job.path, hash, info };
        }
    }
    let need = Need { short_side: spec.resize.max(thumbs.size), preview: previews.then_some(spec.crop) };
    match decode::decode_for(&bytes, need) {
        Ok(decoded) => {
            thumbs.ensure(&hash, &decoded.pixels);
            let tensor = preprocess::tensor(&decoded.pixels, spec);
            Prepared::Ready { id: job.id, path: job.path, hash, info: decoded.info, tensor, warning: decoded.warning }
        }
        Err(e) => fail(e.to_string(), state_of(&e)),
    }
}

/// Embed every pending file for `embedder`'s model; returns counts. Stops
/// between batches when cancelled; whatever was committed stays committed.
pub(super) fn run(
    catalog: &Catalog,
    mut store: Option<&mut dyn VectorStore>,
    embedder: &mut Embedder,
    thumbs: &Thumbnails,
    options: &PipelineOptions,
    sink: Sink,
    cancel: &Cancel,
) -> Result<IndexStats> {
    let started = std::time::Instant::now();
    let spec = embedder.spec().clone();
    let mut stats = IndexStats::default();
    // Videos go through ffmpeg instead (`videos.rs`).
    let pending: Vec<FileRow> =
        catalog.files_in_state(FileState::Pending)?.into_iter().filter(|r| !crate::video::is_video(&r.path)).collect();

    let jobs = reuse_embedded(catalog, &mut store, &spec.name, pending, sink, &mut stats)?;
    let mut meter = Meter::new(Phase::Embedding, jobs.len() as u64);
    if jobs.is_empty() {
        stats.seconds = started.elapsed().as_secs_f64();
        return Ok(stats);
    }
    sink(meter.event(None));

    embed_jobs(catalog, &mut store, embedder, thumbs, options, jobs, &mut meter, &mut stats, sink, cancel)?;
    stats.seconds = started.elapsed().as_secs_f64();
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(stats)
}

/// Content embedded before (a copy, a file edited and reverted) needs no
/// inference: its vector and the description of its twin are taken. Returns
/// the files left to decode and embed.
fn reuse_embedded(
    catalog: &Catalog,
    store: &mut Option<&mut dyn VectorStore>,
    model: &str,
    pending: Vec<FileRow>,
    sink: Sink,
    stats: &mut IndexStats,
) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    let mut reused = Vec::new();
    for row in pending {
        match row.hash.map(|h| catalog.embedding(&h, model)).transpose()?.flatten() {
            Some(vector) => reused.push((row, vector)),
            None => jobs.push(Job { id: row.id, path: row.path }),
        }
    }
    if reused.is_empty() {
        return Ok(jobs);
    }
    let points = catalog.transaction(|c| {
        let mut points = Vec::new();
        for (row, vector) in &reused {
            let twin = c.files_with_hash(row.hash.as_ref().unwrap())?.into_iter().find(|t| t.format.is_some());
            if let Some(t) = twin {
                c.set_info(row.id, &info_of(&t))?;
            }
            c.set_state(row.id, FileState::Indexed, None)?;
            let row = c.file(row.id)?.unwrap_or_else(|| row.clone());
            points.push(point(&row, vector.clone()));
        }
        Ok(points)
    })?;
    write_store(catalog, model, store, &points, sink, stats)?;
    stats.reused = points.len() as u64;
    Ok(jobs)
}

/// Decode `jobs` on worker threads into a bounded channel and embed them
/// in batches as they come.
#[allow(clippy::too_many_arguments)]
fn embed_jobs(
    catalog: &Catalog,
    store: &mut Option<&mut dyn VectorStore>,
    embedder: &mut Embedder,
    thumbs: &Thumbnails,
    options: &PipelineOptions,
    jobs: Vec<Job>,
    meter: &mut Meter,
    stats: &mut IndexStats,
    sink: Sink,
    cancel: &Cancel,
) -> Result<()> {
    let spec = embedder.spec().clone();
    let workers = options.decode_threads.max(1);
    let (job_tx, job_rx) = bounded::<Job>(workers * 2);
    let (out_tx, out_rx) = bounded::<Prepared>(options.batch * 2);
    let spec = Arc::new(spec);
    let embedded = Arc::new(catalog.embedded_hashes(&spec.name)?);
    let result = thread::scope(|scope| -> Result<()> {
        for _ in 0..workers {
            let (job_rx, out_tx, spec, cancel) = (job_rx.clone(), out_tx.clone(), spec.clone(), cancel.clone());
            let embedded = embedded.clone();
            scope.spawn(move || {
                for job in job_rx {
                    if cancel.is_cancelled() {
                        break;
                    }
                    if out_tx.send(prepare(job, &spec, options.previews, thumbs, &embedded)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(out_tx);
        drop(job_rx);
        let feeder_cancel = cancel.clone();
        scope.spawn(move || {
            for job in jobs {
                if feeder_cancel.is_cancelled() || job_tx.send(job).is_err() {
                    break;
                }
            }
        });

        let mut batch: Vec<Prepared> = Vec::with_capacity(options.batch);
        let mut flush = |batch: &mut Vec<Prepared>, meter: &mut Meter, stats: &mut IndexStats| -> Result<()> {
            let n = batch.len();
            commit_batch(catalog, store, embedder, std::mem::take(batch), sink, stats)?;
            meter.done += n as u64;
            meter.errors = stats.failed;
            Ok(())
        };
        for prepared in out_rx.iter() {
            if cancel.is_cancelled() {
                break;
            }
            batch.push(prepared);
            if batch.len() >= options.batch {
                let current = last_path(&batch);
                flush(&mut batch, meter, stats)?;
                sink(meter.event(current));
            }
        }
        // What is decoded is embedded even when cancelled: a caller that
        // interrupts and resumes (the app, for a query) then always gains ground.
        if !batch.is_empty() {
            let current = last_path(&batch);
            flush(&mut batch, meter, stats)?;
            sink(meter.event(current));
        }
        // Unblock workers waiting to send, so the scope can end.
        drop(out_rx);
        Ok(())
    });
    result
}

/// How a file that does not decode is recorded.
pub(crate) fn state_of(e: &DecodeError) -> FileState {
    match e {
        // A 1x1 tracking pixel or a spacer GIF is an image, but no photo.
        DecodeError::NotAnImage(_) | DecodeError::Empty | DecodeError::TooSmall { .. } => FileState::Skipped,
        e if e.is_unsupported() => FileState::Unsupported,
        _ => FileState::Failed,
    }
}

fn last_path(batch: &[Prepared]) -> Option<PathBuf> {
    batch.last().map(|p| match p {
        Prepared::Ready { path, .. } | Prepared::Known { path, .. } | Prepared::Failed { path, .. } => path.clone(),
    })
}

fn info_of(row: &FileRow) -> ImageInfo {
    ImageInfo {
        format: row.format.as_deref().and_then(decode::Format::parse).unwrap_or(decode::Format::Jpeg),
        width: row.width.unwrap_or(0),
        height: row.height.unwrap_or(0),
        taken_at: row.taken_at,
        orientation: 1,
        camera: row.camera.clone(),
        lens: row.lens.clone(),
        motion: row.motion,
    }
}

/// A file that will not be embedded: its state and reason on its row, and
/// said through the sink.
fn record_failure(
    catalog: &Catalog,
    id: FileId,
    path: PathBuf,
    error: String,
    state: FileState,
    sink: Sink,
    stats: &mut IndexStats,
) -> Result<()> {
    catalog.set_state(id, state, Some(&error))?;
    match state {
        FileState::Skipped => {
            stats.skipped += 1;
            sink(Event::Skipped { path, reason: error });
        }
        FileState::Unsupported => {
            stats.unsupported += 1;
            sink(Event::Unsupported { path, reason: error });
        }
        _ => {
            stats.failed += 1;
            sink(Event::Failed { path, error });
        }
    }
    Ok(())
}

/// Embed a batch in one model call and record it in one transaction, then
/// write its points to the store.
fn commit_batch(
    catalog: &Catalog,
    store: &mut Option<&mut dyn VectorStore>,
    embedder: &mut Embedder,
    batch: Vec<Prepared>,
    sink: Sink,
    stats: &mut IndexStats,
) -> Result<()> {
    let model = embedder.spec().name.clone();
    let mut ready = Vec::new();
    let mut known = Vec::new();
    let mut pixels = Vec::new();
    for p in batch {
        match p {
            Prepared::Known { id, path, hash, info } => known.push((id, path, hash, info)),
            Prepared::Ready { id, path, hash, info, tensor, warning } => {
                pixels.extend_from_slice(&tensor);
                ready.push((id, path, hash, info, warning));
            }
            Prepared::Failed { id, path, error, state } => record_failure(catalog, id, path, error, state, sink, stats)?,
        }
    }
    let embeddings = if ready.is_empty() { Vec::new() } else { embedder.embed_batch(pixels)? };
    let points = catalog.transaction(|c| {
        let mut points = Vec::with_capacity(ready.len() + known.len());
        for (id, _, hash, info) in &known {
            let Some(vector) = c.embedding(hash, &model)? else { continue };
            if c.file(*id)?.is_none() {
                continue;
            }
            c.set_info(*id, info)?;
            c.set_hash(*id, hash)?;
            c.set_state(*id, FileState::Indexed, None)?;
            points.push(point(&c.file(*id)?.expect("row read above"), vector));
            stats.reused += 1;
        }
        for ((id, path, hash, info, warning), e) in ready.iter().zip(embeddings) {
            // The file may have been removed from the catalog meanwhile (its
            // folder dropped, say): then there is nothing to record.
            if c.file(*id)?.is_none() {
                continue;
            }
            // The vector is for the bytes we read. Should the file have
            // changed since the scan, its stale size and mtime make the next
            // scan hash it again and compare with this hash.
            c.put_embedding(hash, &model, &e.vector)?;
            if let Some(p) = &e.probabilities {
                c.put_labels(hash, &model, &crate::embed::top_k(p, crate::embed::TOP_LABELS))?;
            }
            c.set_info(*id, info)?;
            c.set_hash(*id, hash)?;
            // A photo recovered from a decoder warning is indexed; the
            // warning stays on its row for the status listing.
            c.set_state(*id, FileState::Indexed, warning.as_deref())?;
            let row = c.file(*id)?.expect("row read above");
            if let Some(warning) = warning {
                stats.recovered += 1;
                sink(Event::Recovered { path: path.clone(), warning: warning.clone() });
            }
            sink(Event::Added { path: path.clone() });
            points.push(point(&row, e.vector));
            stats.embedded += 1;
        }
        Ok(points)
    })?;
    write_store(catalog, &model, store, &points, sink, stats)
}

fn write_store(
    catalog: &Catalog,
    model: &str,
    store: &mut Option<&mut dyn VectorStore>,
    points: &[Point],
    sink: Sink,
    stats: &mut IndexStats,
) -> Result<()> {
    if writer::write(catalog, model, store, points, &[], sink)? == Written::Behind {
        stats.store_behind = true;
    }
    Ok(())
}
