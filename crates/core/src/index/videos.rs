//! Indexing videos: keyframes out of ffmpeg (`video`), through the same
//! preprocessing and model call as photos, written to the catalog in one
//! transaction with the video's state, then to the store. A crash before the
//! commit leaves the video pending, to be done again.

use super::IndexStats;
use crate::catalog::{Catalog, FileId, FileRow, FileState, Hash, NewFrame};
use crate::embed::{self, Embedder, Models};
use crate::error::{Error, Result};
use crate::models::ModelSpec;
use crate::preprocess;
use crate::progress::{Cancel, Event, Meter, Phase, Sink};
use crate::store::{self, Point, Stores};
use crate::thumbs::Thumbnails;
use crate::video::{self, VideoOptions};

const SETTING: &str = "video";

/// A frame's hash: its video's content and its time, so the same video
/// gives the same frames (and reuses their embeddings) after a move or a
/// switch of models.
fn frame_hash(video: &Hash, at_ms: i64) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"photofinder keyframe");
    h.update(video);
    h.update(&at_ms.to_le_bytes());
    *h.finalize().as_bytes()
}

/// A keyframe's new vector, with its ImageNet labels when the model has them.
type FrameVector = (Hash, Vec<f32>, Option<Vec<(u32, f32)>>);

/// What indexing one video produced.
struct Indexed {
    dropped: Vec<FileId>,
    points: Vec<Point>,
}

/// How keyframes are picked (a setting of the library).
pub fn options(catalog: &Catalog) -> Result<VideoOptions> {
    Ok(match catalog.setting(SETTING)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| Error::CorruptSetting { what: "video settings", message: e.to_string() })?,
        None => VideoOptions::default(),
    })
}

/// Change how keyframes are picked; videos already indexed are done again
/// with the new settings by the next `index` (or the watcher). Returns how
/// many were queued.
pub fn set_options(catalog: &Catalog, options: &VideoOptions) -> Result<usize> {
    options.validate().map_err(Error::Config)?;
    if *options == self::options(catalog)? {
        return Ok(0);
    }
    let json = serde_json::to_string(options).map_err(Error::internal)?;
    catalog.set_setting(SETTING, &json)?;
    catalog.requeue_videos()
}

/// Index the pending videos with `model`: keyframes, their vectors, the store.
pub(super) fn run(
    catalog: &Catalog,
    models: &mut Models,
    stores: &mut Stores,
    thumbs: &Thumbnails,
    model: &str,
    sink: Sink,
    cancel: &Cancel,
) -> Result<IndexStats> {
    let started = std::time::Instant::now();
    let mut stats = IndexStats::default();
    let videos: Vec<FileRow> =
        catalog.files_in_state(FileState::Pending)?.into_iter().filter(|r| video::is_video(&r.path)).collect();
    if videos.is_empty() {
        return Ok(stats);
    }
    let options = options(catalog)?;
    // The installed model's own preprocessing (a hub model's may differ from the manifest's).
    let spec = models.embedder(model)?.spec().clone();
    let mut meter = Meter::new(Phase::Embedding, videos.len() as u64);
    sink(meter.event(None));
    for row in videos {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        if live_still(catalog, &row)?.is_some() {
            // Found by its still, which carries the "live" badge.
            catalog.set_live_video(row.id)?;
            meter.done += 1;
            sink(meter.event(Some(row.path)));
            continue;
        }
        let embedder = models.embedder(model)?;
        match index_video(catalog, embedder, thumbs, &spec, &row, &options, cancel) {
            Ok(done) => {
                stats.embedded += 1;
                stats.frames += done.points.len() as u64;
                stores.write(catalog, model, &done.points, &done.dropped, sink)?;
                sink(Event::Added { path: row.path.clone() });
            }
            Err(Error::Cancelled) => return Err(Error::Cancelled),
            Err(e @ (Error::Video(_) | Error::Io { .. })) => {
                let error = e.to_string();
                catalog.set_state(row.id, FileState::Failed, Some(&error))?;
                stats.failed += 1;
                meter.errors += 1;
                sink(Event::Failed { path: row.path.clone(), error });
            }
            Err(e) => return Err(e),
        }
        meter.done += 1;
        sink(meter.event(Some(row.path)));
    }
    stats.seconds = started.elapsed().as_secs_f64();
    Ok(stats)
}

/// The still whose Live Photo video `row` is: a picture of the same name
/// beside it, and the video no longer than a Live Photo's.
fn live_still(catalog: &Catalog, row: &FileRow) -> Result<Option<std::path::PathBuf>> {
    let Some(still) = catalog.live_still_of(row)? else { return Ok(None) };
    let short = video::probe(&row.path).is_ok_and(|info| info.duration_ms <= crate::catalog::LIVE_VIDEO_MAX_MS);
    Ok(short.then_some(still))
}

/// A frame of a library video at full size (up to `max_side`), for the
/// preview: keyframes are kept only as small thumbnails.
pub fn frame_image(catalog: &Catalog, point_id: FileId, max_side: u32) -> Result<image::RgbImage> {
    let row = catalog.file(point_id)?.ok_or(Error::NoSuchPhoto(point_id))?;
    let frame = row.frame.ok_or_else(|| Error::NotAPhoto(format!("{point_id} is not a video frame")))?;
    let info = video::probe(&row.path)?;
    Ok(video::frame_at(&row.path, &info, frame.at_ms, max_side)?)
}

fn index_video(
    catalog: &Catalog,
    embedder: &mut Embedder,
    thumbs: &Thumbnails,
    spec: &ModelSpec,
    row: &FileRow,
    options: &VideoOptions,
    cancel: &Cancel,
) -> Result<Indexed> {
    let video_hash = crate::scan::hash_file(&row.path)?;
    let info = video::probe(&row.path)?;
    let short_side = spec.resize.max(thumbs.size);
    let batch_size = 8;
    let (mut frames, mut tensors, mut waiting) = (Vec::new(), Vec::new(), Vec::new());
    let mut vectors: Vec<FrameVector> = Vec::new();
    let mut flush = |tensors: &mut Vec<f32>, waiting: &mut Vec<Hash>| -> Result<()> {
        if waiting.is_empty() {
            return Ok(());
        }
        let out = embedder.embed_batch(std::mem::take(tensors))?;
        for (hash, e) in waiting.drain(..).zip(out) {
            let labels = e.probabilities.as_deref().map(|p| embed::top_k(p, embed::TOP_LABELS));
            vectors.push((hash, e.vector, labels));
        }
        Ok(())
    };
    video::extract::<Error>(&row.path, &info, options, short_side, cancel, |at_ms, pixels| {
        let hash = frame_hash(&video_hash, at_ms);
        if frames.is_empty() {
            thumbs.ensure(&video_hash, &pixels);
        }
        frames.push(NewFrame { at_ms, hash, width: pixels.width(), height: pixels.height() });
        thumbs.ensure(&hash, &pixels);
        if catalog.embedding(&hash, &spec.name)?.is_none() {
            tensors.extend_from_slice(&preprocess::tensor(&pixels, spec));
            waiting.push(hash);
            if waiting.len() >= batch_size {
                flush(&mut tensors, &mut waiting)?;
            }
        }
        Ok(())
    })?;
    flush(&mut tensors, &mut waiting)?;

    catalog.transaction(|c| {
        if c.file(row.id)?.is_none() {
            // Removed from the catalog meanwhile: nothing to record.
            return Ok(Indexed { dropped: Vec::new(), points: Vec::new() });
        }
        for (hash, vector, labels) in &vectors {
            c.put_embedding(hash, &spec.name, vector)?;
            if let Some(labels) = labels {
                c.put_labels(hash, &spec.name, labels)?;
            }
        }
        c.set_hash(row.id, &video_hash)?;
        c.set_video_info(row.id, &info.container, info.width, info.height, info.duration_ms, info.created_at)?;
        let (dropped, rows) = c.replace_frames(row.id, &video_hash, &frames)?;
        c.set_state(row.id, FileState::Indexed, None)?;
        let mut points = Vec::with_capacity(rows.len());
        for frame in rows {
            if let Some(v) = frame.hash.map(|h| c.embedding(&h, &spec.name)).transpose()?.flatten() {
                points.push(store::writer::point(&frame, v));
            }
        }
        Ok(Indexed { dropped, points })
    })
}
