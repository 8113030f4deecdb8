//! The catalog's schema, one migration per version.
//!
//! `PRAGMA user_version` holds the version a database is at; opening a catalog
//! applies the migrations it lacks, in one transaction each. Never edit a
//! released migration: add the next one.

use rusqlite::Connection;

use crate::error::Result;

const MIGRATIONS: &[&str] = &[
    // 1: folders, files, embeddings keyed by content, labels, settings.
    r#"
    CREATE TABLE folders (
        id        INTEGER PRIMARY KEY,
        path      BLOB NOT NULL UNIQUE,       -- raw OS bytes: paths need not be UTF-8
        state     TEXT NOT NULL DEFAULT 'ok', -- ok | missing
        added_at  INTEGER NOT NULL
    );
    CREATE TABLE files (
        id        INTEGER PRIMARY KEY,        -- stable: survives moves; the vector store's key
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        path      BLOB NOT NULL UNIQUE,
        size      INTEGER NOT NULL,
        mtime_ns  INTEGER NOT NULL,
        hash      BLOB,                       -- BLAKE3 of the content
        format    TEXT,
        width     INTEGER,
        height    INTEGER,
        taken_at  INTEGER,                    -- EXIF DateTimeOriginal, epoch seconds
        state     TEXT NOT NULL,              -- pending | indexed | failed | skipped
        error     TEXT,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX files_folder ON files(folder_id);
    CREATE INDEX files_hash ON files(hash);
    CREATE INDEX files_state ON files(state);
    -- Embeddings belong to content, not to a path: moved files and exact
    -- copies are never embedded twice, and a store can be rebuilt from here.
    CREATE TABLE embeddings (
        hash   BLOB NOT NULL,
        model  TEXT NOT NULL,
        vector BLOB NOT NULL,                 -- little-endian f32, L2-normalised
        PRIMARY KEY (hash, model)
    ) WITHOUT ROWID;
    CREATE TABLE labels (
        hash  BLOB NOT NULL,
        model TEXT NOT NULL,
        class INTEGER NOT NULL,
        prob  REAL NOT NULL,
        PRIMARY KEY (hash, model, class)
    ) WITHOUT ROWID;
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: text search by label looks labels up by class.
    r#"
    CREATE INDEX labels_class ON labels(model, class);
    "#,
    // 3: store writes not confirmed yet (the store was down), per model.
    r#"
    CREATE TABLE outbox (
        model TEXT NOT NULL,
        id    INTEGER NOT NULL,
        PRIMARY KEY (model, id)
    ) WITHOUT ROWID;
    "#,
    // 4: which photos have a model's embedding, answered from a small index:
    // the table's own key sits beside 5-8 KB vectors, so reading it for 100k
    // photos at every start read the whole table (3.4 s; 0.2 s with this).
    r#"
    CREATE INDEX embeddings_by_model ON embeddings(model, hash);
    "#,
    // 5: videos and their keyframes. A frame is searched like a photo: its
    // embedding is keyed by its own hash, its point in the vector store by
    // FRAME_ID_BASE + its id. Frames belong to one content of their video
    // (video_hash): when the video changes or goes, they are orphans and go.
    r#"
    ALTER TABLE files ADD COLUMN duration_ms INTEGER;  -- set for videos
    CREATE TABLE frames (
        id         INTEGER PRIMARY KEY,
        video_id   INTEGER NOT NULL,
        video_hash BLOB NOT NULL,
        at_ms      INTEGER NOT NULL,
        hash       BLOB NOT NULL,                 -- BLAKE3 of video hash and time
        width      INTEGER NOT NULL,
        height     INTEGER NOT NULL
    );
    CREATE INDEX frames_video ON frames(video_id, at_ms);
    CREATE INDEX frames_hash ON frames(hash);
    "#,
    // 6: perceptual hashes (dHash) by content, made on first use by duplicate groups.
    r#"
    CREATE TABLE phashes (
        hash BLOB PRIMARY KEY,
        bits INTEGER NOT NULL                     -- 64-bit dHash, as a signed integer
    ) WITHOUT ROWID;
    "#,
    // 7: the camera and lens a photo names (EXIF, or LibRaw for RAWs), and
    // whether it is a motion photo (a JPEG that carries a video of the moment).
    r#"
    ALTER TABLE files ADD COLUMN camera TEXT;
    ALTER TABLE files ADD COLUMN lens TEXT;
    ALTER TABLE files ADD COLUMN motion INTEGER;
    "#,
];

pub const VERSION: i64 = MIGRATIONS.len() as i64;

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
