//! Files that are one photo: a camera RAW and the JPEG (or HEIC) the camera
//! wrote beside it at the same moment, and a Live Photo's still and its
//! moving part (a short MOV of the same name). Such files share a folder
//! and a name and differ only in extension, which is how cameras and phones
//! write them (IMG_0042.CR2 + IMG_0042.JPG, IMG_0042.HEIC + IMG_0042.MOV).
//!
//! The RAW of a pair is not shown on its own: its JPEG is, with the RAW
//! listed beside it. A Live Photo's video is not indexed as a video: its
//! still is, with a "live" badge.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

use super::{path_bytes, Catalog, FileRow, FileState};
use crate::decode::{has_image_extension, RAW_EXTENSIONS};
use crate::error::Result;

/// A Live Photo's moving part lasts about 3 s; a longer video of the same
/// name as a photo is a video of its own.
pub const LIVE_VIDEO_MAX_MS: i64 = 10_000;

fn extension_is(path: &Path, list: &[&str]) -> bool {
    path.extension().and_then(OsStr::to_str).is_some_and(|e| list.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Whether the file name says it is a camera RAW.
pub fn is_raw(path: &Path) -> bool {
    extension_is(path, RAW_EXTENSIONS)
}

/// A picture that can be the still of a pair: an image that is not a RAW.
fn is_still(path: &Path) -> bool {
    has_image_extension(path) && !is_raw(path)
}

/// What else belongs to a photo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Companions {
    /// The pair's other files (a JPEG's RAW, a RAW's JPEG).
    pub also: Vec<PathBuf>,
    /// The Live Photo's video.
    pub live_video: Option<PathBuf>,
}

/// The range of paths `dir/stem.*` that files of `path`'s name fall in:
/// one range of the path index.
fn same_name_range(path: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let name_at = path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    let dot = name_at + path[name_at..].iter().rposition(|&b| b == b'.')?;
    let lo = path[..=dot].to_vec();
    let mut hi = lo.clone();
    *hi.last_mut().expect("ends with the dot") = b'.' + 1;
    Some((lo, hi))
}

/// SQL: the `files` row is shown as part of another: a RAW beside its
/// indexed still, or a Live Photo's video. Uses the functions `register` adds.
pub(super) const SHOWN_ELSEWHERE: &str = "(files.format = 'live-video' OR (files.format = 'raw' AND EXISTS (SELECT 1 FROM files s
    WHERE s.path >= pf_name_lo(files.path) AND s.path < pf_name_hi(files.path) AND s.id != files.id
      AND s.state = 'indexed' AND s.format IS NOT NULL AND s.format NOT IN ('raw', 'live-video')
      AND s.duration_ms IS NULL
      AND (s.taken_at IS NULL OR files.taken_at IS NULL OR abs(s.taken_at - files.taken_at) <= 2))))";

/// A RAW and a JPEG of one name are one photo when they were taken at the
/// same moment (to the 2 s a camera's burst may straddle), or when either
/// does not say: a counter that wrapped round names photos years apart alike.
pub const SAME_MOMENT_S: i64 = 2;

fn same_moment(a: &FileRow, b: &FileRow) -> bool {
    match (a.taken_at, b.taken_at) {
        (Some(x), Some(y)) => (x - y).abs() <= SAME_MOMENT_S,
        _ => true,
    }
}

/// The catalog's `format` of a Live Photo's video: indexed as its still's
/// moving part, with no keyframes of its own.
pub const LIVE_VIDEO: &str = "live-video";

/// The SQL functions `SHOWN_ELSEWHERE` needs, on this connection.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    for (name, hi) in [("pf_name_lo", false), ("pf_name_hi", true)] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            let path: Vec<u8> = ctx.get(0)?;
            // A name without an extension has no companions: an empty range.
            Ok(same_name_range(&path).map(|(lo, h)| if hi { h } else { lo }).unwrap_or_default())
        })?;
    }
    Ok(())
}

impl Catalog {
    /// Catalogued files in `path`'s folder with its name and another extension.
    pub fn same_name(&self, path: &Path) -> Result<Vec<FileRow>> {
        let (Some(dir), Some(stem)) = (path.parent(), path.file_stem()) else { return Ok(Vec::new()) };
        let Some((lo, hi)) = same_name_range(path_bytes(path)) else { return Ok(Vec::new()) };
        let rows = self.files_where("path >= ?1 AND path < ?2 ORDER BY path", rusqlite::params![lo, hi])?;
        Ok(rows
            .into_iter()
            // "IMG_1.tar.gz" is not a companion of "IMG_1.jpg": one extension only.
            .filter(|r| r.path != path && r.path.file_stem() == Some(stem) && r.path.parent() == Some(dir))
            .collect())
    }

    /// The files shown together with `row`.
    pub fn companions(&self, row: &FileRow) -> Result<Companions> {
        let others = self.same_name(&row.path)?;
        let mut out = Companions::default();
        let this_raw = is_raw(&row.path);
        for other in others {
            let pair = this_raw && is_still(&other.path) || !this_raw && is_still(&row.path) && is_raw(&other.path);
            if pair && same_moment(row, &other) {
                out.also.push(other.path);
            } else if is_still(&row.path) && other.format.as_deref() == Some(LIVE_VIDEO) {
                out.live_video = Some(other.path);
            }
        }
        Ok(out)
    }

    /// Whether `row` is a RAW whose JPEG (or other still) is in the library
    /// and indexed: the photo is then shown as that still.
    pub fn is_hidden_raw(&self, row: &FileRow) -> Result<bool> {
        if row.format.as_deref() != Some("raw") {
            return Ok(false);
        }
        Ok(self
            .same_name(&row.path)?
            .iter()
            .any(|o| is_still(&o.path) && o.state == FileState::Indexed && o.format.as_deref() != Some(LIVE_VIDEO) && same_moment(row, o)))
    }

    /// Record the video `id` as the moving part of a Live Photo: done, with
    /// no keyframes of its own, and shown only as its still's badge.
    pub fn set_live_video(&self, id: super::FileId) -> Result<()> {
        self.conn.execute(
            "UPDATE files SET state = 'indexed', error = NULL, format = ?2, duration_ms = NULL WHERE id = ?1",
            rusqlite::params![id, LIVE_VIDEO],
        )?;
        Ok(())
    }

    /// The still of which the video `row` is the moving part, if any: a
    /// picture of the same name in the same folder (its length is checked by
    /// the caller, who probes the video).
    pub fn live_still_of(&self, row: &FileRow) -> Result<Option<PathBuf>> {
        if !crate::video::has_video_extension(&row.path) {
            return Ok(None);
        }
        Ok(self.same_name(&row.path)?.into_iter().find(|o| is_still(&o.path)).map(|o| o.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_range_over_their_extensions_only() {
        let (lo, hi) = same_name_range(b"/p/IMG_1.CR2").unwrap();
        assert_eq!((lo.as_slice(), hi.as_slice()), (&b"/p/IMG_1."[..], &b"/p/IMG_1/"[..]));
        assert!(b"/p/IMG_1.JPG".as_slice() >= lo.as_slice() && b"/p/IMG_1.JPG".as_slice() < hi.as_slice());
        assert!(b"/p/IMG_10.JPG".as_slice() >= hi.as_slice() || b"/p/IMG_10.JPG".as_slice() < lo.as_slice());
        assert_eq!(same_name_range(b"/p.d/README"), None, "a dot in a folder's name is no extension");
    }
}
