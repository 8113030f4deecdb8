//! The moving part of a still: a Live Photo's video beside it, or the MP4 a
//! motion photo carries after its picture. Either is a byte range of a file,
//! which the app's player is given as a video of its own.

use std::path::PathBuf;

use crate::catalog::{Catalog, FileId};
use crate::error::{Error, Result};

/// Where a still's moment is: `len` bytes of `path` from `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    pub path: PathBuf,
    pub start: u64,
    pub len: u64,
    /// The video's media type, for the player.
    pub mime: &'static str,
}

/// The moment of the photo `id`; `None` for a photo that has none.
pub fn of(catalog: &Catalog, id: FileId) -> Result<Option<Moment>> {
    let Some(row) = catalog.file(id)? else { return Ok(None) };
    if let Some(video) = catalog.companions(&row)?.live_video {
        let len = std::fs::metadata(&video).map_err(|e| Error::io(&video, e))?.len();
        let quicktime = video.extension().is_some_and(|e| e.eq_ignore_ascii_case("mov"));
        let mime = if quicktime { "video/quicktime" } else { "video/mp4" };
        return Ok(Some(Moment { path: video, start: 0, len, mime }));
    }
    if !row.motion {
        return Ok(None);
    }
    // A motion photo: the file is read once to find where its MP4 begins.
    let bytes = std::fs::read(&row.path).map_err(|e| Error::io(&row.path, e))?;
    Ok(crate::decode::motion_video_start(&bytes).map(|start| Moment {
        path: row.path.clone(),
        start: start as u64,
        len: (bytes.len() - start) as u64,
        mime: "video/mp4",
    }))
}
