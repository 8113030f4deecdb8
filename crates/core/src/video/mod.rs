//! Videos: recognising them, and their keyframes (a frame every few seconds
//! and at scene changes), which are embedded and searched like photos and
//! lead back to their video and moment.
//!
//! Knows nothing of the library: files in, frames and facts out (indexing
//! them is `index::videos`).

mod ffmpeg;
pub mod player;

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use ffmpeg::{extract, frame_at, probe, VideoInfo};

/// File name extensions of the video containers photofinder indexes.
pub const VIDEO_EXTENSIONS: &[&str] = &["mp4", "m4v", "mov", "mkv", "webm", "avi"];

/// How keyframes are picked, kept in the library's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct VideoOptions {
    /// A frame at least this often, in seconds.
    pub interval_secs: f64,
    /// A frame also where the picture changes this much (ffmpeg's scene
    /// score, 0..1), at most one a second: cuts between shots.
    pub scene_threshold: f64,
    /// At most this many frames per video (a long film at a short interval).
    pub max_frames: usize,
}

impl Default for VideoOptions {
    fn default() -> Self {
        VideoOptions { interval_secs: 5.0, scene_threshold: 0.4, max_frames: 1000 }
    }
}

impl VideoOptions {
    /// What is wrong with these options, if anything.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.interval_secs >= 0.5 && self.interval_secs <= 3600.0) {
            return Err(format!("{}: the interval must be 0.5 to 3600 seconds", self.interval_secs));
        }
        if !(0.0..=1.0).contains(&self.scene_threshold) || self.max_frames == 0 {
            return Err("the scene threshold must be 0 to 1 and max frames at least 1".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VideoError {
    #[error("ffmpeg is not installed (scripts/setup-system installs it): {0}")]
    NoFfmpeg(String),
    #[error("corrupt or unsupported video: {0}")]
    Unreadable(String),
    #[error("the video has no picture")]
    NoPicture,
    /// The caller's `Cancel` was set.
    #[error("cancelled")]
    Cancelled,
}

/// The container the first bytes of a file announce, if they are a video's.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return match &head[8..12] {
            b"qt  " => Some("mov"),
            b"isom" | b"iso2" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1" | b"M4V " | b"dash" | b"3gp4"
            | b"3gp5" | b"3g2a" => Some("mp4"),
            _ => None,
        };
    }
    if head.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        // EBML: the DocType says which.
        return Some(if head.windows(4).any(|w| w == b"webm") { "webm" } else { "mkv" });
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"AVI " {
        return Some("avi");
    }
    None
}

pub fn has_video_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Whether the file at `path` is handled as a video: by its name, or by its
/// content when the name says nothing of images.
pub fn is_video(path: &Path) -> bool {
    if has_video_extension(path) {
        return true;
    }
    if crate::decode::has_image_extension(path) {
        return false;
    }
    let mut head = [0u8; 64];
    use std::io::Read;
    crate::files::open_regular(path)
        .and_then(|mut f| f.read(&mut head))
        .is_ok_and(|n| sniff(&head[..n]).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_told_by_their_first_bytes() {
        assert_eq!(sniff(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00"), Some("mp4"));
        assert_eq!(sniff(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00"), Some("mov"));
        assert_eq!(sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), None, "HEIC is a photo");
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"), Some("webm"));
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska"), Some("mkv"));
        assert_eq!(sniff(b"RIFF\x00\x00\x00\x00AVI LIST"), Some("avi"));
        assert_eq!(sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 "), None);
        assert!(VideoOptions::default().validate().is_ok());
        assert!(VideoOptions { interval_secs: 0.0, ..Default::default() }.validate().is_err());
    }
}
