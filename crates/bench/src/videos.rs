//! Video indexing: keyframes of a 1080p H.264 video against ffmpeg decoding
//! the same video alone, in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use photofinder_core::{Cancel, Library, ModelDir};

/// One video of `clips` photos, `seconds_each` seconds each, at `height`p and
/// 30 frames/s, with temporal noise so that every frame costs a real decode
/// (a still slideshow decodes almost for free). Made once into `dir`.
pub fn make_video(photos: &[PathBuf], seconds_each: u32, height: u32, dir: &Path) -> Result<PathBuf> {
    let out = dir.join(format!("clip-{}x{seconds_each}s-{height}p.mp4", photos.len()));
    if out.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(dir)?;
    let width = height * 16 / 9;
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-y"]);
    let mut chain = String::new();
    for (i, p) in photos.iter().enumerate() {
        cmd.args(["-loop", "1", "-framerate", "30", "-t", &seconds_each.to_string(), "-i"]).arg(p);
        chain += &format!(
            "[{i}:v]scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},setsar=1,noise=alls=8:allf=t[v{i}];"
        );
    }
    chain += &(0..photos.len()).map(|i| format!("[v{i}]")).collect::<String>();
    chain += &format!("concat=n={}:v=1,format=yuv420p[v]", photos.len());
    let partial = dir.join("partial.mp4");
    let status = cmd
        .args(["-filter_complex", &chain, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23"])
        .arg(&partial)
        .status()
        .context("ffmpeg (scripts/setup-system installs it)")?;
    if !status.success() {
        bail!("ffmpeg could not make the benchmark video");
    }
    std::fs::rename(&partial, &out)?;
    Ok(out)
}

/// Seconds ffmpeg takes to decode the whole video and throw the frames away.
pub fn decode_alone(video: &Path) -> Result<f64> {
    let started = Instant::now();
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(video)
        .args(["-an", "-f", "null", "-"])
        .status()?;
    if !status.success() {
        bail!("ffmpeg could not decode {}", video.display());
    }
    Ok(started.elapsed().as_secs_f64())
}

pub struct VideoRun {
    pub seconds: f64,
    pub frames: u64,
}

/// A new library indexing the video with `model` (loaded beforehand).
pub fn index(models: &ModelDir, model: &str, video: &Path, still: &Path, work: &Path) -> Result<VideoRun> {
    let root = tempfile::tempdir_in(work)?;
    let folder = root.path().join("videos");
    std::fs::create_dir_all(&folder)?;
    std::fs::hard_link(video, folder.join("clip.mp4")).or_else(|_| std::fs::copy(video, folder.join("clip.mp4")).map(|_| ()))?;
    let mut library = Library::open(root.path().join("library"), models.clone())?;
    library.set_model(model)?;
    library.add_folder(&folder)?;
    library.embed_bytes(&std::fs::read(still)?)?;
    let started = Instant::now();
    let report = library.index(&|_| {}, &Cancel::new())?;
    let seconds = started.elapsed().as_secs_f64();
    if report.embedding.failed > 0 {
        bail!("the benchmark video failed to index");
    }
    Ok(VideoRun { seconds, frames: report.embedding.frames })
}
