//! The catalog: SQLite, the source of truth for what is on disk and what has
//! been embedded. The vector store is derived from it and can be rebuilt.
//!
//! Owns the SQLite file; knows nothing of models, stores or the disk beyond
//! the rows it is given.

mod companions;
mod frames;
mod schema;

pub use companions::{is_raw, Companions, LIVE_VIDEO, LIVE_VIDEO_MAX_MS};
pub use frames::{is_frame_id, NewFrame, FRAME_ID_BASE};

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::decode::ImageInfo;
use crate::error::{Error, Result};
use ts_rs::TS;

pub use schema::VERSION as SCHEMA_VERSION;

pub type FileId = i64;
pub type FolderId = i64;
/// BLAKE3 digest of a file's content.
pub type Hash = [u8; 32];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum FileState {
    /// Needs decoding and embedding.
    Pending,
    Indexed,
    /// Broken: could not be decoded (corrupt, truncated, a decoder failed on
    /// it); `error` says why. Retried when the file changes.
    Failed,
    /// A valid file using a feature not decoded here ("unsupported: tiff
    /// CIELab"); `error` says which. Retried when the file changes.
    Unsupported,
    /// Not an image (a text file named .jpg, say); `error` says why.
    Skipped,
}

impl FileState {
    fn as_str(self) -> &'static str {
        match self {
            FileState::Pending => "pending",
            FileState::Indexed => "indexed",
            FileState::Failed => "failed",
            FileState::Unsupported => "unsupported",
            FileState::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> FileState {
        match s {
            "indexed" => FileState::Indexed,
            "failed" => FileState::Failed,
            "unsupported" => FileState::Unsupported,
            "skipped" => FileState::Skipped,
            _ => FileState::Pending,
        }
    }
}

/// Whether a watched folder is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum FolderState {
    Ok,
    /// Gone (an unplugged drive, a share offline): its photos stay
    /// catalogued until it returns and is rescanned.
    Missing,
}

impl FolderState {
    pub fn as_str(self) -> &'static str {
        match self {
            FolderState::Ok => "ok",
            FolderState::Missing => "missing",
        }
    }

    fn parse(s: &str) -> FolderState {
        if s == "missing" {
            FolderState::Missing
        } else {
            FolderState::Ok
        }
    }
}

impl std::fmt::Display for FolderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// `folder.state == "missing"`: the state by its name, as it is stored and shown.
impl PartialEq<&str> for FolderState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Folder {
    pub id: FolderId,
    #[serde(flatten, serialize_with = "crate::paths::path_field")]
    pub path: PathBuf,
    pub state: FolderState,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FileRow {
    pub id: FileId,
    pub folder_id: FolderId,
    #[serde(flatten, serialize_with = "crate::paths::path_field")]
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
    #[serde(skip)]
    #[ts(skip)]
    pub hash: Option<Hash>,
    pub format: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub taken_at: Option<i64>,
    pub state: FileState,
    pub error: Option<String>,
    /// Videos: their length.
    pub duration_ms: Option<i64>,
    /// The camera and lens the file names.
    pub camera: Option<String>,
    pub lens: Option<String>,
    /// A motion photo: the JPEG carries a short video of the moment.
    pub motion: bool,
    /// Keyframes of a video: which, and when. `id` is then the frame's point
    /// id, `path` the video's and `hash` the frame's own.
    pub frame: Option<FrameOf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct FrameOf {
    pub video_id: FileId,
    pub at_ms: i64,
}

impl FileRow {
    pub fn hash_hex(&self) -> Option<String> {
        self.hash.map(|h| hex(&h))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a scan learned of a file on disk.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub folder_id: FolderId,
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
    /// Known when the scan needed it (to match moves); otherwise the
    /// pipeline computes it from the bytes it reads anyway.
    pub hash: Option<Hash>,
}

#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct Counts {
    /// Not written out: a `Status` lists the folders under that name.
    #[serde(skip)]
    #[ts(skip)]
    pub folders: u64,
    pub files: u64,
    pub indexed: u64,
    /// The indexed photos as they are shown: a RAW beside its JPEG is one,
    /// a Live Photo's video is part of its still.
    pub shown: u64,
    pub pending: u64,
    pub failed: u64,
    pub unsupported: u64,
    pub skipped: u64,
}

pub struct Catalog {
    conn: Connection,
}

const FILE_COLUMNS: &str =
    "id, folder_id, path, size, mtime_ns, hash, format, width, height, taken_at, state, error, duration_ms, camera, lens, motion";

/// How many columns `FILE_COLUMNS` names.
const FILE_COLUMN_COUNT: usize = 16;

fn path_bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

fn path_from(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(OsString::from_vec(bytes))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn file_row(r: &Row) -> rusqlite::Result<FileRow> {
    let hash: Option<Vec<u8>> = r.get(5)?;
    Ok(FileRow {
        id: r.get(0)?,
        folder_id: r.get(1)?,
        path: path_from(r.get(2)?),
        size: r.get::<_, i64>(3)? as u64,
        mtime_ns: r.get(4)?,
        hash: hash.and_then(|h| h.try_into().ok()),
        format: r.get(6)?,
        width: r.get(7)?,
        height: r.get(8)?,
        taken_at: r.get(9)?,
        state: FileState::parse(&r.get::<_, String>(10)?),
        error: r.get(11)?,
        duration_ms: r.get(12)?,
        camera: r.get(13)?,
        lens: r.get(14)?,
        motion: r.get::<_, Option<bool>>(FILE_COLUMN_COUNT - 1)?.unwrap_or(false),
        frame: None,
    })
}

/// The exclusive upper bound of all byte strings that start with `prefix`
/// followed by '/': paths under a directory form one range in the index.
fn under_range(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let mut lo = path_bytes(dir).to_vec();
    if lo.last() != Some(&b'/') {
        lo.push(b'/');
    }
    let mut hi = lo.clone();
    *hi.last_mut().unwrap() = b'/' + 1;
    (lo, hi)
}

pub fn vector_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn blob_to_vector(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl Catalog {
    pub fn open(path: &Path) -> Result<Catalog> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        Self::setup(Connection::open(path)?)
    }

    pub fn open_in_memory() -> Result<Catalog> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Catalog> {
        // WAL: readers (the app's queries) never wait for the indexer's writes.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::VERSION {
            return Err(Error::Config(format!(
                "the catalog has schema version {version}, newer than this photofinder understands ({}); \
                 upgrade photofinder",
                schema::VERSION
            )));
        }
        schema::migrate(&mut conn)?;
        companions::register(&conn)?;
        Ok(Catalog { conn })
    }

    /// Run `f` in one transaction: all of it lands, or none of it. Nested
    /// calls join the transaction already open.
    pub fn transaction<T>(&self, f: impl FnOnce(&Catalog) -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            return f(self);
        }
        // IMMEDIATE: take the write lock up front. A deferred transaction
        // that reads, then writes, fails at once with "database is locked"
        // when another connection wrote in between (its snapshot is stale),
        // whatever the busy timeout; an immediate one waits its turn.
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        let out = f(self)?;
        tx.commit()?;
        Ok(out)
    }

    // ---- settings

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }

    // ---- folders

    pub fn add_folder(&self, path: &Path) -> Result<FolderId> {
        self.conn.execute(
            "INSERT INTO folders(path, added_at) VALUES (?1, ?2) ON CONFLICT(path) DO NOTHING",
            params![path_bytes(path), now()],
        )?;
        Ok(self.conn.query_row("SELECT id FROM folders WHERE path = ?1", [path_bytes(path)], |r| r.get(0))?)
    }

    pub fn folders(&self) -> Result<Vec<Folder>> {
        let mut stmt = self.conn.prepare("SELECT id, path, state FROM folders ORDER BY path")?;
        let rows = stmt.query_map([], |r| {
            Ok(Folder { id: r.get(0)?, path: path_from(r.get(1)?), state: FolderState::parse(&r.get::<_, String>(2)?) })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn folder_by_path(&self, path: &Path) -> Result<Option<Folder>> {
        Ok(self.folders()?.into_iter().find(|f| f.path == path))
    }

    /// The watched folder that holds `path`, if any (the deepest, should folders nest).
    pub fn folder_for(&self, path: &Path) -> Result<Option<Folder>> {
        Ok(self
            .folders()?
            .into_iter()
            .filter(|f| path.starts_with(&f.path))
            .max_by_key(|f| f.path.as_os_str().len()))
    }

    pub fn set_folder_state(&self, id: FolderId, state: FolderState) -> Result<()> {
        self.conn.execute("UPDATE folders SET state = ?2 WHERE id = ?1", params![id, state.as_str()])?;
        Ok(())
    }

    /// Move `inner`'s files to `outer` and forget `inner` (it now lies inside `outer`).
    pub fn reparent_folder(&self, inner: FolderId, outer: FolderId) -> Result<()> {
        self.transaction(|c| {
            c.conn.execute("UPDATE files SET folder_id = ?2 WHERE folder_id = ?1", params![inner, outer])?;
            c.conn.execute("DELETE FROM folders WHERE id = ?1", [inner])?;
            Ok(())
        })
    }

    /// Forget a folder and its files; returns the ids of the files removed.
    pub fn remove_folder(&self, id: FolderId) -> Result<Vec<FileId>> {
        self.transaction(|c| {
            let ids = c.ids_where("folder_id = ?1", params![id])?;
            c.conn.execute("DELETE FROM files WHERE folder_id = ?1", [id])?;
            c.conn.execute("DELETE FROM folders WHERE id = ?1", [id])?;
            c.collect_garbage()?;
            Ok(ids)
        })
    }

    // ---- files

    fn ids_where(&self, cond: &str, p: impl rusqlite::Params) -> Result<Vec<FileId>> {
        let mut stmt = self.conn.prepare(&format!("SELECT id FROM files WHERE {cond}"))?;
        let rows = stmt.query_map(p, |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn files_where(&self, cond: &str, p: impl rusqlite::Params) -> Result<Vec<FileRow>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {FILE_COLUMNS} FROM files WHERE {cond}"))?;
        let rows = stmt.query_map(p, file_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A file, or a video frame by its point id.
    pub fn file(&self, id: FileId) -> Result<Option<FileRow>> {
        if frames::is_frame_id(id) {
            return self.frame(id);
        }
        Ok(self.files_where("id = ?1", [id])?.into_iter().next())
    }

    pub fn file_by_path(&self, path: &Path) -> Result<Option<FileRow>> {
        Ok(self.files_where("path = ?1", [path_bytes(path)])?.into_iter().next())
    }

    pub fn files_in_folder(&self, folder: FolderId) -> Result<Vec<FileRow>> {
        self.files_where("folder_id = ?1", [folder])
    }

    /// Files at or below `dir`.
    pub fn files_under(&self, dir: &Path) -> Result<Vec<FileRow>> {
        let (lo, hi) = under_range(dir);
        self.files_where("(path >= ?1 AND path < ?2) OR path = ?3", params![lo, hi, path_bytes(dir)])
    }

    pub fn files_with_hash(&self, hash: &Hash) -> Result<Vec<FileRow>> {
        self.files_where("hash = ?1", [&hash[..]])
    }

    /// One page of the indexed files, in path order (folders stay together).
    pub fn indexed_page(&self, offset: usize, limit: usize) -> Result<Vec<FileRow>> {
        self.files_where("state = 'indexed' ORDER BY path LIMIT ?1 OFFSET ?2", params![limit as i64, offset as i64])
    }

    /// Like `indexed_page`, without the RAWs shown as their JPEG.
    fn shown_page(&self, offset: usize, limit: usize) -> Result<Vec<FileRow>> {
        let cond = format!("state = 'indexed' AND NOT {} ORDER BY path LIMIT ?1 OFFSET ?2", companions::SHOWN_ELSEWHERE);
        self.files_where(&cond, params![limit as i64, offset as i64])
    }

    pub fn files_in_state(&self, state: FileState) -> Result<Vec<FileRow>> {
        self.files_where("state = ?1 ORDER BY path", [state.as_str()])
    }

    pub fn insert_file(&self, f: &NewFile) -> Result<FileId> {
        self.conn.execute(
            "INSERT INTO files(folder_id, path, size, mtime_ns, hash, state, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
            params![f.folder_id, path_bytes(&f.path), f.size as i64, f.mtime_ns, f.hash.as_ref().map(|h| &h[..]), now()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The file's content changed: new stat and hash, to be indexed again.
    pub fn update_content(&self, id: FileId, size: u64, mtime_ns: i64, hash: &Hash) -> Result<()> {
        self.conn.execute(
            "UPDATE files SET size = ?2, mtime_ns = ?3, hash = ?4, state = 'pending', error = NULL,
             format = NULL, width = NULL, height = NULL, taken_at = NULL, camera = NULL, lens = NULL,
             motion = NULL, updated_at = ?5 WHERE id = ?1",
            params![id, size as i64, mtime_ns, &hash[..], now()],
        )?;
        Ok(())
    }

    /// Only the timestamp changed (touched, or copied back): content is the same.
    pub fn update_stat(&self, id: FileId, size: u64, mtime_ns: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE files SET size = ?2, mtime_ns = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, size as i64, mtime_ns, now()],
        )?;
        Ok(())
    }

    /// A move: same content, same id, new path.
    pub fn move_file(&self, id: FileId, folder: FolderId, path: &Path, mtime_ns: i64) -> Result<()> {
        // A stale row may still hold the destination path (its file was
        // replaced by this move): the moved file wins.
        self.conn.execute("DELETE FROM files WHERE path = ?1 AND id != ?2", params![path_bytes(path), id])?;
        self.conn.execute(
            "UPDATE files SET folder_id = ?2, path = ?3, mtime_ns = ?4, updated_at = ?5 WHERE id = ?1",
            params![id, folder, path_bytes(path), mtime_ns, now()],
        )?;
        Ok(())
    }

    pub fn set_info(&self, id: FileId, info: &ImageInfo) -> Result<()> {
        self.conn.execute(
            "UPDATE files SET format = ?2, width = ?3, height = ?4, taken_at = ?5, camera = ?6, lens = ?7, motion = ?8
             WHERE id = ?1",
            params![id, info.format.as_str(), info.width, info.height, info.taken_at, info.camera, info.lens, info.motion],
        )?;
        Ok(())
    }

    pub fn set_hash(&self, id: FileId, hash: &Hash) -> Result<()> {
        self.conn.execute("UPDATE files SET hash = ?2 WHERE id = ?1", params![id, &hash[..]])?;
        Ok(())
    }

    pub fn set_state(&self, id: FileId, state: FileState, error: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE files SET state = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, state.as_str(), error, now()],
        )?;
        Ok(())
    }

    /// Mark every indexed file that lacks an embedding for `model` as pending
    /// (after switching models, or when embeddings were lost): photos without
    /// their own, videos without frames or with a frame without one.
    pub fn requeue_missing(&self, model: &str) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE files SET state = 'pending' WHERE state = 'indexed' AND CASE WHEN duration_ms IS NULL
               THEN NOT EXISTS (SELECT 1 FROM embeddings e INDEXED BY embeddings_by_model
                                WHERE e.hash = files.hash AND e.model = ?1)
               ELSE NOT EXISTS (SELECT 1 FROM frames fr WHERE fr.video_id = files.id AND fr.video_hash = files.hash)
                 OR EXISTS (SELECT 1 FROM frames fr WHERE fr.video_id = files.id AND NOT EXISTS
                              (SELECT 1 FROM embeddings e INDEXED BY embeddings_by_model
                               WHERE e.hash = fr.hash AND e.model = ?1))
             END",
            [model],
        )?)
    }

    /// Give every file that did not decode another try (a newer photofinder
    /// may read what an older one could not). Returns how many.
    pub fn requeue_undecoded(&self) -> Result<usize> {
        Ok(self.conn.execute("UPDATE files SET state = 'pending' WHERE state IN ('failed', 'unsupported')", [])?)
    }

    /// Forget files. Their embeddings stay until `collect_garbage`, so that
    /// content that comes back (a move seen as delete + create, an undo) is
    /// not embedded again.
    pub fn delete_files(&self, ids: &[FileId]) -> Result<()> {
        self.transaction(|c| {
            let mut stmt = c.conn.prepare_cached("DELETE FROM files WHERE id = ?1")?;
            for id in ids {
                stmt.execute([id])?;
            }
            Ok(())
        })
    }

    /// Every content hash a thumbnail may be named by: files' (photos and
    /// videos, whose poster frame is named by the video's hash) and frames'.
    pub fn live_hashes(&self) -> Result<std::collections::HashSet<Hash>> {
        let mut stmt = self.conn.prepare("SELECT hash FROM files WHERE hash IS NOT NULL UNION SELECT hash FROM frames")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = std::collections::HashSet::new();
        for row in rows {
            if let Ok(h) = Hash::try_from(row?.as_slice()) {
                out.insert(h);
            }
        }
        Ok(out)
    }

    /// Indexed files whose decoder warned (the warning is in `error`).
    pub fn indexed_with_warnings(&self) -> Result<Vec<FileRow>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE state = 'indexed' AND error IS NOT NULL ORDER BY path");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], file_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Drop embeddings and labels whose content no file holds any more.
    pub fn collect_garbage(&self) -> Result<()> {
        self.conn.execute_batch(
            "DELETE FROM frames WHERE NOT EXISTS
               (SELECT 1 FROM files f WHERE f.id = frames.video_id AND f.hash = frames.video_hash);
             DELETE FROM embeddings WHERE hash NOT IN (SELECT hash FROM files WHERE hash IS NOT NULL)
               AND hash NOT IN (SELECT hash FROM frames);
             DELETE FROM labels WHERE hash NOT IN (SELECT hash FROM files WHERE hash IS NOT NULL)
               AND hash NOT IN (SELECT hash FROM frames);
             DELETE FROM phashes WHERE hash NOT IN (SELECT hash FROM files WHERE hash IS NOT NULL);",
        )?;
        Ok(())
    }

    // ---- the outbox: store writes still to be made

    pub fn outbox_add(&self, model: &str, ids: &[FileId]) -> Result<()> {
        self.transaction(|c| {
            let mut stmt = c.conn.prepare_cached("INSERT OR IGNORE INTO outbox(model, id) VALUES (?1, ?2)")?;
            for id in ids {
                stmt.execute(params![model, id])?;
            }
            Ok(())
        })
    }

    pub fn outbox(&self, model: &str) -> Result<Vec<FileId>> {
        let mut stmt = self.conn.prepare("SELECT id FROM outbox WHERE model = ?1 ORDER BY id")?;
        let rows = stmt.query_map([model], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn outbox_done(&self, model: &str, ids: &[FileId]) -> Result<()> {
        self.transaction(|c| {
            let mut stmt = c.conn.prepare_cached("DELETE FROM outbox WHERE model = ?1 AND id = ?2")?;
            for id in ids {
                stmt.execute(params![model, id])?;
            }
            Ok(())
        })
    }

    // ---- embeddings, labels and perceptual hashes

    pub fn phash(&self, hash: &Hash) -> Result<Option<u64>> {
        let bits: Option<i64> =
            self.conn.query_row("SELECT bits FROM phashes WHERE hash = ?1", [&hash[..]], |r| r.get(0)).optional()?;
        Ok(bits.map(|b| b as u64))
    }

    pub fn put_phash(&self, hash: &Hash, bits: u64) -> Result<()> {
        self.conn.execute("INSERT OR REPLACE INTO phashes(hash, bits) VALUES (?1, ?2)", params![&hash[..], bits as i64])?;
        Ok(())
    }

    pub fn put_embedding(&self, hash: &Hash, model: &str, vector: &[f32]) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO embeddings(hash, model, vector) VALUES (?1, ?2, ?3)",
            params![&hash[..], model, vector_to_blob(vector)],
        )?;
        Ok(())
    }

    pub fn embedding(&self, hash: &Hash, model: &str) -> Result<Option<Vec<f32>>> {
        let blob: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT vector FROM embeddings WHERE hash = ?1 AND model = ?2",
                params![&hash[..], model],
                |r| r.get(0),
            )
            .optional()?;
        Ok(blob.map(|b| blob_to_vector(&b)))
    }

    pub fn put_labels(&self, hash: &Hash, model: &str, labels: &[(u32, f32)]) -> Result<()> {
        self.conn.execute("DELETE FROM labels WHERE hash = ?1 AND model = ?2", params![&hash[..], model])?;
        let mut stmt =
            self.conn.prepare_cached("INSERT INTO labels(hash, model, class, prob) VALUES (?1, ?2, ?3, ?4)")?;
        for (class, prob) in labels {
            stmt.execute(params![&hash[..], model, class, prob])?;
        }
        Ok(())
    }

    pub fn labels(&self, hash: &Hash, model: &str) -> Result<Vec<(u32, f32)>> {
        let mut stmt =
            self.conn.prepare("SELECT class, prob FROM labels WHERE hash = ?1 AND model = ?2 ORDER BY prob DESC")?;
        let rows = stmt.query_map(params![&hash[..], model], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// (hash, class, probability) of every stored label among `classes`.
    pub fn labels_of_classes(&self, model: &str, classes: &[u32]) -> Result<Vec<(Hash, u32, f32)>> {
        let mut stmt = self.conn.prepare_cached("SELECT hash, prob FROM labels WHERE model = ?1 AND class = ?2")?;
        let mut out = Vec::new();
        for &class in classes {
            let rows = stmt.query_map(params![model, class], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, f32>(1)?)))?;
            for row in rows {
                let (hash, prob) = row?;
                if let Ok(hash) = hash.try_into() {
                    out.push((hash, class, prob));
                }
            }
        }
        Ok(out)
    }

    /// Content hashes that have a `model` embedding.
    pub fn embedded_hashes(&self, model: &str) -> Result<std::collections::HashSet<Hash>> {
        let mut stmt = self.conn.prepare("SELECT hash FROM embeddings INDEXED BY embeddings_by_model WHERE model = ?1")?;
        let rows = stmt.query_map([model], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = std::collections::HashSet::new();
        for h in rows {
            if let Ok(h) = h?.try_into() {
                out.insert(h);
            }
        }
        Ok(out)
    }

    /// Every catalogued file that has a `model` embedding, with it: what the
    /// vector store for that model must hold.
    pub fn embedded_files(&self, model: &str, mut each: impl FnMut(FileRow, Vec<f32>) -> Result<()>) -> Result<()> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {}, e.vector FROM files f JOIN embeddings e ON e.hash = f.hash AND e.model = ?1
             WHERE f.state = 'indexed' ORDER BY f.id",
            FILE_COLUMNS.split(", ").map(|c| format!("f.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let mut rows = stmt.query([model])?;
        while let Some(r) = rows.next()? {
            let vector = blob_to_vector(&r.get::<_, Vec<u8>>(FILE_COLUMN_COUNT)?);
            each(file_row(r)?, vector)?;
        }
        drop(rows);
        self.embedded_frames(model, each)
    }

    /// `embedded_files` without the vectors, and photos only (no video frames).
    pub fn embedded_rows(&self, model: &str) -> Result<Vec<FileRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM files f JOIN embeddings e INDEXED BY embeddings_by_model ON e.hash = f.hash AND e.model = ?1
             WHERE f.state = 'indexed' ORDER BY f.id",
            FILE_COLUMNS.split(", ").map(|c| format!("f.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let rows = stmt.query_map([model], file_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Ids of the points the store for `model` must hold: photos and video frames.
    pub fn embedded_ids(&self, model: &str) -> Result<Vec<FileId>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.id FROM files f JOIN embeddings e INDEXED BY embeddings_by_model ON e.hash = f.hash AND e.model = ?1
             WHERE f.state = 'indexed' ORDER BY f.id",
        )?;
        let rows = stmt.query_map([model], |r| r.get(0))?;
        let mut ids: Vec<FileId> = rows.collect::<rusqlite::Result<_>>()?;
        ids.extend(self.embedded_frame_ids(model)?);
        Ok(ids)
    }

    /// Whether any indexed photo has a vector of `model` (one row read, not all).
    pub fn has_embeddings(&self, model: &str) -> Result<bool> {
        let found: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM files f JOIN embeddings e INDEXED BY embeddings_by_model ON e.hash = f.hash AND e.model = ?1
                 WHERE f.state = 'indexed' LIMIT 1",
                [model],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some() || !self.embedded_frame_ids(model)?.is_empty())
    }

    pub fn counts(&self) -> Result<Counts> {
        let mut c = Counts {
            folders: self.conn.query_row("SELECT count(*) FROM folders", [], |r| r.get::<_, i64>(0))? as u64,
            ..Default::default()
        };
        let mut stmt = self.conn.prepare("SELECT state, count(*) FROM files GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        for row in rows {
            let (state, n) = row?;
            c.files += n;
            match FileState::parse(&state) {
                FileState::Indexed => c.indexed = n,
                FileState::Pending => c.pending = n,
                FileState::Failed => c.failed = n,
                FileState::Unsupported => c.unsupported = n,
                FileState::Skipped => c.skipped = n,
            }
        }
        let shown = format!("SELECT count(*) FROM files WHERE state = 'indexed' AND NOT {}", companions::SHOWN_ELSEWHERE);
        c.shown = self.conn.query_row(&shown, [], |r| r.get::<_, i64>(0))? as u64;
        Ok(c)
    }
}

/// A photo of the library, for browsing.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Photo {
    pub id: i64,
    #[serde(flatten, serialize_with = "crate::paths::path_field")]
    pub path: PathBuf,
    /// Content hash (hex): names the photo's thumbnail.
    pub hash: Option<String>,
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub modified: i64,
    /// Videos: their length.
    pub duration_ms: Option<i64>,
    /// A keyframe of a video (then `id` is the frame's and `path` the video's).
    pub frame: Option<FrameOf>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub format: Option<String>,
    pub taken_at: Option<i64>,
    pub camera: Option<String>,
    pub lens: Option<String>,
    /// The other files of this photo (a JPEG's RAW, a RAW's JPEG).
    #[serde(serialize_with = "crate::paths::lossy_vec")]
    pub also: Vec<PathBuf>,
    /// A live photo: the file that holds its motion (a Live Photo's MOV,
    /// or the motion photo itself).
    #[serde(serialize_with = "crate::paths::lossy_opt")]
    pub live: Option<PathBuf>,
}

impl Catalog {
    /// The photo `row` is, with the files that belong to it.
    pub fn photo_of(&self, row: FileRow) -> Result<Photo> {
        let companions = self.companions(&row)?;
        let live = companions.live_video.or_else(|| row.motion.then(|| row.path.clone()));
        Ok(Photo { also: companions.also, live, ..Photo::from(row) })
    }

    /// Photos `offset..offset + limit` of the `shown` ones, in path order: a
    /// RAW beside its JPEG is left to that JPEG, which lists it.
    pub fn photos_page(&self, offset: usize, limit: usize) -> Result<Vec<Photo>> {
        self.shown_page(offset, limit)?.into_iter().map(|row| self.photo_of(row)).collect()
    }
}

impl From<FileRow> for Photo {
    fn from(row: FileRow) -> Photo {
        Photo {
            id: row.id,
            hash: row.hash_hex(),
            path: row.path,
            size: row.size,
            modified: row.mtime_ns.div_euclid(1_000_000_000),
            duration_ms: row.duration_ms,
            frame: row.frame,
            width: row.width,
            height: row.height,
            format: row.format,
            taken_at: row.taken_at,
            camera: row.camera,
            lens: row.lens,
            also: Vec::new(),
            live: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_column_count_matches_the_columns() {
        assert_eq!(FILE_COLUMNS.split(", ").count(), FILE_COLUMN_COUNT);
    }

    fn new_file(folder: FolderId, path: &str, hash: u8) -> NewFile {
        NewFile { folder_id: folder, path: PathBuf::from(path), size: 10, mtime_ns: 1, hash: Some([hash; 32]) }
    }

    #[test]
    fn migrates_to_the_latest_version_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        Catalog::open(&path).unwrap().add_folder(Path::new("/photos")).unwrap();
        let c = Catalog::open(&path).unwrap();
        let v: i64 = c.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        assert_eq!(c.folders().unwrap().len(), 1);
    }

    #[test]
    fn refuses_a_catalog_from_a_newer_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        Catalog::open(&path).unwrap();
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(Catalog::open(&path), Err(Error::Config(_))));
    }

    #[test]
    fn unicode_long_and_non_utf8_paths_round_trip() {
        let c = Catalog::open_in_memory().unwrap();
        let f = c.add_folder(Path::new("/p")).unwrap();
        let long = format!("/p/{}/фото 写真 📷.jpg", "d".repeat(600));
        let odd = PathBuf::from(OsString::from_vec(b"/p/caf\xe9.jpg".to_vec()));
        for p in [PathBuf::from(&long), odd.clone()] {
            let id = c.insert_file(&NewFile { path: p.clone(), ..new_file(f, "/x", 1) }).unwrap();
            assert_eq!(c.file(id).unwrap().unwrap().path, p);
            assert_eq!(c.file_by_path(&p).unwrap().unwrap().id, id);
        }
        assert!(long.len() > 512);
    }

    #[test]
    fn files_under_a_directory_are_one_range() {
        let c = Catalog::open_in_memory().unwrap();
        let f = c.add_folder(Path::new("/p")).unwrap();
        for (i, p) in ["/p/a/1.jpg", "/p/a/b/2.jpg", "/p/ab/3.jpg", "/p/a.jpg"].iter().enumerate() {
            c.insert_file(&new_file(f, p, i as u8)).unwrap();
        }
        let mut under: Vec<_> = c.files_under(Path::new("/p/a")).unwrap().into_iter().map(|r| r.path).collect();
        under.sort();
        assert_eq!(under, vec![PathBuf::from("/p/a/1.jpg"), PathBuf::from("/p/a/b/2.jpg")]);
    }

    #[test]
    fn embeddings_follow_content_and_are_collected_with_it() {
        let c = Catalog::open_in_memory().unwrap();
        let f = c.add_folder(Path::new("/p")).unwrap();
        let a = c.insert_file(&new_file(f, "/p/a.jpg", 7)).unwrap();
        let b = c.insert_file(&new_file(f, "/p/copy-of-a.jpg", 7)).unwrap();
        c.put_embedding(&[7; 32], "m", &[0.6, 0.8]).unwrap();
        c.delete_files(&[a]).unwrap();
        c.collect_garbage().unwrap();
        assert_eq!(c.embedding(&[7; 32], "m").unwrap(), Some(vec![0.6, 0.8]), "the copy still needs it");
        c.delete_files(&[b]).unwrap();
        assert_eq!(c.embedding(&[7; 32], "m").unwrap(), Some(vec![0.6, 0.8]), "kept until collected");
        c.collect_garbage().unwrap();
        assert_eq!(c.embedding(&[7; 32], "m").unwrap(), None);
    }
}
