//! ffmpeg and ffprobe (Debian's `ffmpeg` package), run as programs: their
//! command line is a stable interface, and a crash or hang in a decoder for
//! a broken file stays in a child process that is killed, not in ours.
//!
//! Frames come out as raw RGB at a size computed here, so nothing is encoded
//! and decoded again on the way; their times come from the `showinfo` filter
//! on stderr, one line per frame, in the same order.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use image::RgbImage;
use serde_json::Value;

use super::{VideoError, VideoOptions};
use crate::progress::Cancel;

fn program(name: &str) -> String {
    let var = format!("PHOTOFINDER_{}", name.to_uppercase());
    std::env::var(var).unwrap_or_else(|_| name.to_string())
}

fn spawn(cmd: &mut Command) -> Result<Child, VideoError> {
    cmd.stdin(Stdio::null()).spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => VideoError::NoFfmpeg(format!("{:?} not found", cmd.get_program())),
        _ => VideoError::NoFfmpeg(e.to_string()),
    })
}

/// What ffprobe says of a video.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// `mp4`, `mov`, `mkv`, `webm`, `avi`.
    pub container: String,
    pub duration_ms: i64,
    /// As displayed (rotation applied).
    pub width: u32,
    pub height: u32,
    /// The container's creation time, seconds since the epoch.
    pub created_at: Option<i64>,
}

pub fn probe(path: &Path) -> Result<VideoInfo, VideoError> {
    let out = spawn(
        Command::new(program("ffprobe"))
            .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
            .arg(path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?
    .wait_with_output()
    .map_err(|e| VideoError::Unreadable(e.to_string()))?;
    let first_line = |b: &[u8]| String::from_utf8_lossy(b).lines().last().unwrap_or("").trim().to_string();
    if !out.status.success() {
        return Err(VideoError::Unreadable(first_line(&out.stderr)));
    }
    let json: Value = serde_json::from_slice(&out.stdout).map_err(|e| VideoError::Unreadable(e.to_string()))?;
    let stream = json["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "video" && s["disposition"]["attached_pic"] != 1))
        .ok_or(VideoError::NoPicture)?;
    let (w, h) = (stream["width"].as_u64().unwrap_or(0) as u32, stream["height"].as_u64().unwrap_or(0) as u32);
    if w == 0 || h == 0 {
        return Err(VideoError::Unreadable("the video stream has no size".into()));
    }
    let rotation = stream["side_data_list"]
        .as_array()
        .and_then(|l| l.iter().find_map(|d| d["rotation"].as_i64()))
        .or_else(|| stream["tags"]["rotate"].as_str().and_then(|r| r.parse().ok()))
        .unwrap_or(0);
    let (width, height) = if rotation.rem_euclid(180) == 90 { (h, w) } else { (w, h) };
    let seconds = |v: &Value| v.as_str().and_then(|s| s.parse::<f64>().ok());
    let duration = seconds(&json["format"]["duration"]).or_else(|| seconds(&stream["duration"])).unwrap_or(0.0);
    let format_name = json["format"]["format_name"].as_str().unwrap_or("");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let container = match format_name {
        f if f.contains("matroska") => if ext == "webm" || f == "webm" { "webm" } else { "mkv" },
        f if f.contains("avi") => "avi",
        f if f.contains("mov") || f.contains("mp4") => if ext == "mov" { "mov" } else { "mp4" },
        _ => "video",
    };
    let created_at = json["format"]["tags"]["creation_time"].as_str().and_then(parse_time);
    Ok(VideoInfo { container: container.into(), duration_ms: (duration * 1000.0).round() as i64, width, height, created_at })
}

/// `2023-08-01T18:45:10.000000Z` as seconds since the epoch.
fn parse_time(s: &str) -> Option<i64> {
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let t = crate::decode::epoch_seconds(n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)? as u8, n(14..16)? as u8, n(17..19)? as u8)?;
    // ffmpeg writes 1904-01-01 (QuickTime's zero) or 1970 for "unknown".
    (t > 0).then_some(t)
}

/// Frame size for a short side of `short` (never enlarged), even numbers.
fn scaled(width: u32, height: u32, short: u32) -> (u32, u32) {
    let s = (short as f64 / width.min(height) as f64).min(1.0);
    let even = |x: f64| ((x / 2.0).round() as u32 * 2).max(2);
    (even(width as f64 * s), even(height as f64 * s))
}

/// ffmpeg's stderr (with `-loglevel level+info`), read by a thread so that
/// the pipe never fills: frame times, errors, and whether it has ended.
#[derive(Default)]
struct Log {
    times: Vec<i64>,
    errors: Vec<String>,
    ended: bool,
}

struct Stderr {
    state: Arc<(Mutex<Log>, Condvar)>,
}

impl Stderr {
    fn collect(child: &mut Child) -> Stderr {
        let state = Arc::new((Mutex::new(Log::default()), Condvar::new()));
        let pipe = child.stderr.take().expect("stderr is piped");
        let shared = state.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(|l| l.ok()) {
                let (lock, ready) = &*shared;
                let mut s = lock.lock().unwrap();
                if let Some(rest) = line.split("pts_time:").nth(1).filter(|_| line.contains("showinfo")) {
                    let secs: f64 = rest.split_whitespace().next().and_then(|t| t.parse().ok()).unwrap_or(0.0);
                    s.times.push((secs * 1000.0).round() as i64);
                } else if let Some(at) = line.find("[error] ").or_else(|| line.find("[fatal] ")) {
                    s.errors.push(line[at + 8..].trim().to_string());
                }
                ready.notify_all();
            }
            let (lock, ready) = &*shared;
            lock.lock().unwrap().ended = true;
            ready.notify_all();
        });
        Stderr { state }
    }

    /// The time of frame `n`, waiting for its line.
    fn time_of(&self, n: usize) -> Option<i64> {
        let (lock, ready) = &*self.state;
        let mut s = lock.lock().unwrap();
        loop {
            if let Some(t) = s.times.get(n) {
                return Some(*t);
            }
            if s.ended {
                return None;
            }
            s = ready.wait_timeout(s, Duration::from_secs(30)).unwrap().0;
        }
    }

    /// The errors ffmpeg reported, once it has ended: the last one is the
    /// most telling ("partial file" after a run of decoding errors).
    fn error(&self) -> Option<String> {
        let (lock, ready) = &*self.state;
        let mut s = lock.lock().unwrap();
        while !s.ended {
            s = ready.wait_timeout(s, Duration::from_secs(5)).unwrap().0;
        }
        s.errors.last().cloned()
    }
}

/// Decode `path` and hand each keyframe to `each` as (milliseconds, pixels
/// whose short side is `short_side`): the first frame, then one every
/// `interval_secs`, and one at each scene change at most once a second.
/// Returns how many frames were handed over.
pub fn extract<E: From<VideoError>>(
    path: &Path,
    info: &VideoInfo,
    options: &VideoOptions,
    short_side: u32,
    cancel: &Cancel,
    mut each: impl FnMut(i64, RgbImage) -> Result<(), E>,
) -> Result<usize, E> {
    let (w, h) = scaled(info.width, info.height, short_side);
    let mut select = format!("isnan(prev_selected_t)+gte(t-prev_selected_t\\,{})", options.interval_secs);
    if options.scene_threshold > 0.0 {
        select += &format!("+gt(scene\\,{})*gte(t-prev_selected_t\\,1)", options.scene_threshold);
    }
    let filter = format!("select='{select}',scale={w}:{h},showinfo");
    let mut child = spawn(
        Command::new(program("ffmpeg"))
            .args(["-hide_banner", "-nostats", "-loglevel", "level+info", "-i"])
            .arg(path)
            .args(["-an", "-sn", "-vf", &filter, "-fps_mode", "vfr"])
            .args(["-frames:v", &options.max_frames.to_string()])
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?;
    let stderr = Stderr::collect(&mut child);
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let frame_len = (w * h * 3) as usize;
    let mut n = 0;
    let result = loop {
        if cancel.is_cancelled() {
            break Err(VideoError::Cancelled.into());
        }
        let mut buf = vec![0u8; frame_len];
        match read_full(&mut stdout, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(k) if k < frame_len => break Err(VideoError::Unreadable("ffmpeg stopped mid-frame".into()).into()),
            Ok(_) => {}
            Err(e) => break Err(VideoError::Unreadable(e.to_string()).into()),
        }
        let Some(at_ms) = stderr.time_of(n) else {
            break Err(VideoError::Unreadable("ffmpeg gave a frame without its time".into()).into());
        };
        let pixels = RgbImage::from_raw(w, h, buf).expect("buffer sized for the frame");
        if let Err(e) = each(at_ms, pixels) {
            break Err(e);
        }
        n += 1;
    };
    if result.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| VideoError::Unreadable(e.to_string()))?;
    result?;
    // A video that decodes only in part (truncated, damaged) is reported as
    // broken, like a truncated photo, rather than indexed by halves.
    if let Some(error) = stderr.error() {
        return Err(VideoError::Unreadable(error).into());
    }
    if !status.success() {
        return Err(VideoError::Unreadable(format!("ffmpeg exited with {status}")).into());
    }
    if n == 0 {
        return Err(VideoError::NoPicture.into());
    }
    Ok(n)
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            k => filled += k,
        }
    }
    Ok(filled)
}

/// One frame at `at_ms`, its longer side at most `max_side` (a preview).
pub fn frame_at(path: &Path, info: &VideoInfo, at_ms: i64, max_side: u32) -> Result<RgbImage, VideoError> {
    let long = info.width.max(info.height) as f64;
    let short = ((max_side as f64 / long).min(1.0) * info.width.min(info.height) as f64) as u32;
    let (w, h) = scaled(info.width, info.height, short.max(2));
    let out = spawn(
        Command::new(program("ffmpeg"))
            .args(["-hide_banner", "-nostats", "-loglevel", "error", "-ss", &format!("{:.3}", at_ms as f64 / 1000.0), "-i"])
            .arg(path)
            .args(["-an", "-frames:v", "1", "-vf", &format!("scale={w}:{h}"), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?
    .wait_with_output()
    .map_err(|e| VideoError::Unreadable(e.to_string()))?;
    RgbImage::from_raw(w, h, out.stdout).ok_or_else(|| {
        VideoError::Unreadable(String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("no frame").to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times() {
        assert_eq!(scaled(1920, 1080, 256), (456, 256));
        assert_eq!(scaled(1080, 1920, 256), (256, 456));
        assert_eq!(scaled(160, 120, 256), (160, 120), "never enlarged");
        assert_eq!(parse_time("2023-08-01T18:45:10.000000Z"), crate::decode::epoch_seconds(2023, 8, 1, 18, 45, 10));
        assert_eq!(parse_time("1970-01-01T00:00:00.000000Z"), None);
        assert_eq!(parse_time("garbage"), None);
    }
}
