//! Video keyframes in the catalog. A frame is searched like a photo: the
//! store holds it under `FRAME_ID_BASE + frames.id`, and reading it back
//! gives a `FileRow` with the video's path and the frame's own hash and
//! size, so every search path shows it without knowing about videos.

use rusqlite::params;

use super::{file_row, Catalog, FileId, FileRow, FrameOf, Hash, FILE_COLUMNS};
use crate::error::Result;

/// Point ids of frames start here: far above any file id, inside i64 (and
/// Milvus's int64 keys).
pub const FRAME_ID_BASE: FileId = 1 << 40;

pub fn is_frame_id(id: FileId) -> bool {
    id >= FRAME_ID_BASE
}

/// A keyframe extracted from a video: its time, hash and pixel size.
#[derive(Debug, Clone, Copy)]
pub struct NewFrame {
    pub at_ms: i64,
    pub hash: Hash,
    pub width: u32,
    pub height: u32,
}

/// The video row's columns, with the frame's id, hash and size in their place.
fn frame_columns() -> String {
    FILE_COLUMNS
        .split(", ")
        .map(|c| match c {
            "id" => format!("{FRAME_ID_BASE} + fr.id"),
            "hash" | "width" | "height" => format!("fr.{c}"),
            _ => format!("f.{c}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Frames whose video still holds the content they were taken from.
const CURRENT: &str = "frames fr JOIN files f ON f.id = fr.video_id AND f.hash = fr.video_hash";

/// Where the frame's own columns start: after every file column.
const FRAME_EXTRA: usize = super::FILE_COLUMN_COUNT;

fn frame_row(r: &rusqlite::Row, extra: usize) -> rusqlite::Result<FileRow> {
    let mut row = file_row(r)?;
    row.frame = Some(FrameOf { video_id: r.get(extra)?, at_ms: r.get(extra + 1)? });
    Ok(row)
}

impl Catalog {
    pub(super) fn frame(&self, point_id: FileId) -> Result<Option<FileRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {}, fr.video_id, fr.at_ms FROM {CURRENT} WHERE fr.id = ?1", frame_columns()))?;
        let mut rows = stmt.query_map([point_id - FRAME_ID_BASE], |r| frame_row(r, FRAME_EXTRA))?;
        Ok(rows.next().transpose()?)
    }

    /// The current keyframes of a video, in time order.
    pub fn frames_of(&self, video_id: FileId) -> Result<Vec<FileRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {}, fr.video_id, fr.at_ms FROM {CURRENT} WHERE fr.video_id = ?1 ORDER BY fr.at_ms",
            frame_columns()
        ))?;
        let rows = stmt.query_map([video_id], |r| frame_row(r, FRAME_EXTRA))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Current keyframes with this hash (label search finds content by hash).
    pub fn frames_with_hash(&self, hash: &Hash) -> Result<Vec<FileRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {}, fr.video_id, fr.at_ms FROM {CURRENT} WHERE fr.hash = ?1",
            frame_columns()
        ))?;
        let rows = stmt.query_map([&hash[..]], |r| frame_row(r, FRAME_EXTRA))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Files and current keyframes holding any of these contents, at most
    /// 500 hashes a call (label search reads its candidates in blocks).
    pub fn rows_with_hashes(&self, hashes: &[Hash]) -> Result<Vec<FileRow>> {
        let marks = vec!["?"; hashes.len()].join(", ");
        let params = rusqlite::params_from_iter(hashes.iter().map(|h| &h[..]));
        let mut out = self.files_where(&format!("hash IN ({marks})"), params)?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {}, fr.video_id, fr.at_ms FROM {CURRENT} WHERE fr.hash IN ({marks})",
            frame_columns()
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(hashes.iter().map(|h| &h[..])), |r| frame_row(r, FRAME_EXTRA))?;
        out.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
        Ok(out)
    }

    pub(super) fn embedded_frames(&self, model: &str, mut each: impl FnMut(FileRow, Vec<f32>) -> Result<()>) -> Result<()> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {}, e.vector, fr.video_id, fr.at_ms FROM {CURRENT}
             JOIN embeddings e ON e.hash = fr.hash AND e.model = ?1
             WHERE f.state = 'indexed' ORDER BY fr.id",
            frame_columns()
        ))?;
        let mut rows = stmt.query([model])?;
        while let Some(r) = rows.next()? {
            let vector = super::blob_to_vector(&r.get::<_, Vec<u8>>(FRAME_EXTRA)?);
            each(frame_row(r, FRAME_EXTRA + 1)?, vector)?;
        }
        Ok(())
    }

    pub(super) fn embedded_frame_ids(&self, model: &str) -> Result<Vec<FileId>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {FRAME_ID_BASE} + fr.id FROM {CURRENT}
             JOIN embeddings e INDEXED BY embeddings_by_model ON e.hash = fr.hash AND e.model = ?1
             WHERE f.state = 'indexed' ORDER BY fr.id"
        ))?;
        let rows = stmt.query_map([model], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Replace a video's keyframes. Returns the point ids of the frames it
    /// had (for the store to drop) and the new frames' rows.
    pub fn replace_frames(&self, video_id: FileId, video_hash: &Hash, frames: &[NewFrame]) -> Result<(Vec<FileId>, Vec<FileRow>)> {
        let old = self.frame_point_ids("video_id = ?1", [video_id])?;
        self.conn.execute("DELETE FROM frames WHERE video_id = ?1", [video_id])?;
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO frames(video_id, video_hash, at_ms, hash, width, height) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for f in frames {
            stmt.execute(params![video_id, &video_hash[..], f.at_ms, &f.hash[..], f.width, f.height])?;
        }
        Ok((old, self.frames_of(video_id)?))
    }

    /// Forget the frames of videos that changed or are gone; returns their
    /// point ids, for the store to drop.
    pub fn take_orphan_frames(&self) -> Result<Vec<FileId>> {
        let orphan = "NOT EXISTS (SELECT 1 FROM files f WHERE f.id = frames.video_id AND f.hash = frames.video_hash)";
        let ids = self.frame_point_ids(orphan, [])?;
        if !ids.is_empty() {
            self.conn.execute(&format!("DELETE FROM frames WHERE {orphan}"), [])?;
        }
        Ok(ids)
    }

    fn frame_point_ids(&self, cond: &str, p: impl rusqlite::Params) -> Result<Vec<FileId>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {FRAME_ID_BASE} + id FROM frames WHERE {cond}"))?;
        let rows = stmt.query_map(p, |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Indexed videos, shortest first.
    pub fn videos(&self) -> Result<Vec<FileRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE state = 'indexed' AND duration_ms IS NOT NULL ORDER BY duration_ms, id"
        ))?;
        let rows = stmt.query_map([], file_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Record what ffprobe said of a video.
    pub fn set_video_info(&self, id: FileId, container: &str, width: u32, height: u32, duration_ms: i64, created_at: Option<i64>) -> Result<()> {
        self.conn.execute(
            "UPDATE files SET format = ?2, width = ?3, height = ?4, duration_ms = ?5, taken_at = ?6 WHERE id = ?1",
            params![id, container, width, height, duration_ms, created_at],
        )?;
        Ok(())
    }

    /// Queue every indexed video again (after the keyframe settings change).
    pub fn requeue_videos(&self) -> Result<usize> {
        Ok(self.conn.execute("UPDATE files SET state = 'pending' WHERE duration_ms IS NOT NULL AND state = 'indexed'", [])?)
    }
}
