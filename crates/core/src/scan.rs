//! Comparing the disk with the catalog: what is new, changed, moved or gone.
//!
//! Size and modification time decide whether a known file may have changed;
//! the content hash decides whether it did, and matches a vanished file with
//! a new one as a move (same id, same embedding, nothing re-embedded).
//!
//! Reads the disk and writes catalog rows; knows nothing of models or stores
//! (`index::sync` applies what it finds to them).

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, FileId, FileRow, FileState, Folder, Hash, NewFile};
use crate::decode;
use crate::error::{Error, Result};
use crate::progress::{Cancel, Event, Meter, Phase, Sink};

/// An image candidate found on disk.
#[derive(Debug, Clone)]
pub struct DiskFile {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
}

impl DiskFile {
    pub fn stat(path: &Path) -> std::io::Result<DiskFile> {
        let m = std::fs::metadata(path)?;
        Ok(DiskFile { path: path.to_path_buf(), size: m.len(), mtime_ns: mtime_ns(&m) })
    }
}

pub fn mtime_ns(m: &std::fs::Metadata) -> i64 {
    m.mtime() * 1_000_000_000 + m.mtime_nsec()
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// Named like a photo or a video.
pub fn has_media_extension(path: &Path) -> bool {
    decode::has_image_extension(path) || crate::video::has_video_extension(path)
}

/// Files worth cataloguing: anything named like an image (so that a broken
/// one is reported), and anything else whose first bytes are an image's.
pub fn is_candidate(path: &Path) -> bool {
    if has_media_extension(path) {
        return true;
    }
    let mut head = [0u8; 64];
    match crate::files::open_regular(path).and_then(|mut f| f.read(&mut head)) {
        Ok(n) => decode::sniff(&head[..n]).is_some() || crate::video::sniff(&head[..n]).is_some(),
        Err(_) => false,
    }
}

/// Why an entry of a folder that is not a regular file is passed over, when
/// the user would want to know: special files (FIFOs, sockets, devices),
/// symbolic link loops and links to nothing. Links to files or folders are
/// not followed (a library holds each file once), and not reported.
fn passed_over(entry: &walkdir::DirEntry) -> Option<String> {
    let file_type = entry.file_type();
    if file_type.is_symlink() {
        return match std::fs::metadata(entry.path()) {
            Ok(_) => None,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Some("symbolic link loop".into()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("symbolic link to nothing".into()),
            Err(e) => Some(format!("symbolic link: {e}")),
        };
    }
    (!file_type.is_file() && !file_type.is_dir()).then(|| crate::files::not_regular(&file_type).to_string())
}

/// Walk `dir` for image candidates. Hidden files and folders are skipped,
/// symlinks are not followed; unreadable folders are reported and skipped,
/// and so are special files and broken links (`Event::Ignored`).
pub fn walk(dir: &Path, sink: Sink, cancel: &Cancel) -> Result<Vec<DiskFile>> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(dir).follow_links(false).into_iter().filter_entry(|e| {
        e.depth() == 0 || !is_hidden(e.file_name())
    });
    for entry in walker {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
                sink(Event::Unreadable { path, error: e.to_string() });
                continue;
            }
        };
        if let Some(reason) = passed_over(&entry) {
            sink(Event::Ignored { path: entry.into_path(), reason });
            continue;
        }
        if !entry.file_type().is_file() || !is_candidate(entry.path()) {
            continue;
        }
        match entry.metadata() {
            Ok(m) => out.push(DiskFile { path: entry.into_path(), size: m.len(), mtime_ns: mtime_ns(&m) }),
            Err(e) => sink(Event::Unreadable { path: entry.into_path(), error: e.to_string() }),
        }
    }
    Ok(out)
}

pub fn hash_file(path: &Path) -> Result<Hash> {
    let mut hasher = blake3::Hasher::new();
    let file = crate::files::open_regular(path).map_err(|e| Error::io(path, e))?;
    hasher.update_reader(file).map_err(|e| Error::io(path, e))?;
    Ok(*hasher.finalize().as_bytes())
}

/// What a reconciliation changed.
#[derive(Debug, Default)]
pub struct Outcome {
    pub added: Vec<FileId>,
    pub changed: Vec<FileId>,
    /// Same content at a new path: (id, from, to).
    pub moved: Vec<(FileId, PathBuf, PathBuf)>,
    pub removed: Vec<(FileId, PathBuf)>,
    /// Vanished but kept for now (see `Vanished::Keep`).
    pub vanished: Vec<FileRow>,
    pub unchanged: usize,
    /// Special files and broken links passed over by the walk.
    pub ignored: usize,
}

impl Outcome {
    pub fn merge(&mut self, other: Outcome) {
        self.added.extend(other.added);
        self.changed.extend(other.changed);
        self.moved.extend(other.moved);
        self.removed.extend(other.removed);
        self.vanished.extend(other.vanished);
        self.unchanged += other.unchanged;
        self.ignored += other.ignored;
    }
}

/// What to do with catalogued files that are no longer on disk and matched
/// no new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vanished {
    Delete,
    /// Return them in `Outcome::vanished`: the watcher holds them a moment,
    /// since the other half of a move may come in a later batch of events.
    Keep,
}

/// Bring the catalog in line with `disk` for the part of it that `known`
/// covers: `known` are the catalogue rows in scope, `disk` what is there now.
/// Files vanished from the scope are matched by content with new ones (a
/// move); the rest are deleted from the catalog or kept, as `vanished` says.
pub fn reconcile(
    catalog: &Catalog,
    folders: &[Folder],
    known: Vec<FileRow>,
    disk: Vec<DiskFile>,
    vanished: Vanished,
    sink: Sink,
    cancel: &Cancel,
) -> Result<Outcome> {
    let mut out = Outcome::default();
    let mut meter = Meter::new(Phase::Scanning, disk.len() as u64);
    let mut by_path: HashMap<PathBuf, FileRow> = known.into_iter().map(|r| (r.path.clone(), r)).collect();
    let fresh = compare_known(catalog, &mut by_path, disk, &mut out, &mut meter, sink, cancel)?;
    // What is left in `by_path` vanished. Match it by content with the new
    // files before deleting anything.
    let mut gone = Gone::default();
    for row in by_path.into_values() {
        match row.hash {
            Some(h) => gone.by_hash.entry(h).or_default().push(row),
            None => gone.unhashed.push(row),
        }
    }
    place_fresh(catalog, folders, fresh, &mut gone, &mut out, &mut meter, sink, cancel)?;
    if meter.total > 0 {
        sink(meter.event(None));
    }
    let gone: Vec<FileRow> = gone.by_hash.into_values().flatten().chain(gone.unhashed).collect();
    if vanished == Vanished::Keep {
        out.vanished = gone;
    } else if !gone.is_empty() {
        catalog.delete_files(&gone.iter().map(|r| r.id).collect::<Vec<_>>())?;
        for row in gone {
            if row.state != FileState::Skipped {
                sink(Event::Removed { path: row.path.clone() });
            }
            out.removed.push((row.id, row.path));
        }
    }
    Ok(out)
}

/// Rows that vanished from the scope, by content where it is known.
#[derive(Default)]
struct Gone {
    by_hash: HashMap<Hash, Vec<FileRow>>,
    unhashed: Vec<FileRow>,
}

/// Compare the files on disk with the rows at their paths (taken out of
/// `by_path`): unchanged, touched but the same, or changed. Returns the
/// files no row has.
fn compare_known(
    catalog: &Catalog,
    by_path: &mut HashMap<PathBuf, FileRow>,
    disk: Vec<DiskFile>,
    out: &mut Outcome,
    meter: &mut Meter,
    sink: Sink,
    cancel: &Cancel,
) -> Result<Vec<DiskFile>> {
    let mut fresh = Vec::new();
    for file in disk {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let Some(row) = by_path.remove(&file.path) else {
            fresh.push(file);
            continue;
        };
        meter.done += 1;
        if row.size == file.size && row.mtime_ns == file.mtime_ns {
            out.unchanged += 1;
            continue;
        }
        let hash = match hash_file(&file.path) {
            Ok(h) => h,
            Err(e) => {
                sink(Event::Unreadable { path: file.path.clone(), error: e.to_string() });
                continue;
            }
        };
        if row.hash == Some(hash) {
            catalog.update_stat(row.id, file.size, file.mtime_ns)?;
            out.unchanged += 1;
        } else {
            catalog.update_content(row.id, file.size, file.mtime_ns, &hash)?;
            sink(Event::Changed { path: file.path.clone() });
            out.changed.push(row.id);
        }
    }
    Ok(fresh)
}

/// New files: a move of a vanished row with the same content, else a new
/// pending row.
#[allow(clippy::too_many_arguments)]
fn place_fresh(
    catalog: &Catalog,
    folders: &[Folder],
    fresh: Vec<DiskFile>,
    gone: &mut Gone,
    out: &mut Outcome,
    meter: &mut Meter,
    sink: Sink,
    cancel: &Cancel,
) -> Result<()> {
    let folder_of = |path: &Path| {
        folders.iter().filter(|f| path.starts_with(&f.path)).max_by_key(|f| f.path.as_os_str().len()).map(|f| f.id)
    };
    // New files are hashed here only when something vanished that they may
    // be a move of; otherwise the pipeline hashes the bytes it reads anyway,
    // on its worker threads, and a first index reads each file once.
    let may_be_moves = !gone.by_hash.is_empty();
    for file in fresh {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        meter.done += 1;
        if meter.done.is_multiple_of(256) {
            sink(meter.event(Some(file.path.clone())));
        }
        let Some(folder_id) = folder_of(&file.path) else { continue };
        let hash = if may_be_moves {
            match hash_file(&file.path) {
                Ok(h) => Some(h),
                Err(e) => {
                    sink(Event::Unreadable { path: file.path.clone(), error: e.to_string() });
                    continue;
                }
            }
        } else {
            None
        };
        let moved_from = hash.and_then(|h| gone.by_hash.get_mut(&h).and_then(|rows| rows.pop()));
        if let Some(row) = moved_from {
            catalog.move_file(row.id, folder_id, &file.path, file.mtime_ns)?;
            sink(Event::Moved { from: row.path.clone(), to: file.path.clone() });
            out.moved.push((row.id, row.path, file.path));
            continue;
        }
        let id = catalog.insert_file(&NewFile {
            folder_id,
            path: file.path.clone(),
            size: file.size,
            mtime_ns: file.mtime_ns,
            hash,
        })?;
        out.added.push(id);
    }
    Ok(())
}
