//! Thumbnails cached on disk, named by content hash: a moved or copied photo
//! keeps its thumbnail, and an edited one gets a new one.
//!
//! Knows only content hashes and pixels.

use std::path::{Path, PathBuf};

use image::RgbImage;

use crate::catalog::{hex, Hash};
use crate::preprocess;

pub const DEFAULT_SIZE: u32 = 256;

/// The folder (in the library) of thumbnails of outside photos used as queries.
pub const QUERY_CACHE: &str = "query-thumbs";
/// The query cache is trimmed, oldest first, to this many bytes (about 2,000 thumbnails).
pub const QUERY_CACHE_CAP: u64 = 32 << 20;

#[derive(Debug, Clone)]
pub struct Thumbnails {
    pub dir: PathBuf,
    /// Longer side in pixels.
    pub size: u32,
}

impl Thumbnails {
    pub fn new(dir: impl Into<PathBuf>, size: u32) -> Thumbnails {
        Thumbnails { dir: dir.into(), size }
    }

    pub fn path(&self, hash: &Hash) -> PathBuf {
        let h = hex(hash);
        self.dir.join(&h[..2]).join(format!("{h}.jpg"))
    }

    /// Write the thumbnail unless it exists. Failures are not fatal: a
    /// missing thumbnail is made again the next time the photo is decoded.
    pub fn ensure(&self, hash: &Hash, pixels: &RgbImage) {
        let path = self.path(hash);
        if path.exists() {
            return;
        }
        let jpeg = preprocess::thumbnail_jpeg(pixels, self.size);
        if let Err(e) = write_atomically(&path, &jpeg) {
            log::warn!("thumbnail {}: {e}", path.display());
        }
    }
}

impl Thumbnails {
    /// Remove every thumbnail whose content `keep` refuses, and every
    /// temporary file an interrupted write left (a crash, a full disk).
    /// Only the library's writer calls this: no other process writes here.
    pub fn retain(&self, keep: impl Fn(&Hash) -> bool) {
        for (path, name) in entries(&self.dir) {
            let stale = match parse_name(&name) {
                Some(hash) => !keep(&hash),
                None => name.ends_with(".tmp"),
            };
            if stale {
                if let Err(e) = std::fs::remove_file(&path) {
                    log::warn!("{}: {e}", path.display());
                }
            }
        }
    }

    /// Keep the cache under `cap` bytes by removing its oldest thumbnails.
    pub fn trim(&self, cap: u64) {
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries(&self.dir)
            .into_iter()
            .filter_map(|(path, _)| {
                let m = std::fs::metadata(&path).ok()?;
                Some((m.modified().ok()?, m.len(), path))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= cap {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

/// The thumbnail named `name` (a content hash in hex) in the library at
/// `library_dir`: a library photo's, else an outside query's.
pub fn locate(library_dir: &Path, name: &str) -> Option<PathBuf> {
    let hash = parse_name(&format!("{name}.jpg"))?;
    [library_dir.join("thumbs"), library_dir.join(QUERY_CACHE)]
        .into_iter()
        .map(|dir| Thumbnails::new(dir, DEFAULT_SIZE).path(&hash))
        .find(|p| p.is_file())
}

/// Bytes and files under `dir`, recursively (0 when it does not exist).
pub fn usage(dir: &Path) -> (u64, u64) {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .fold((0, 0), |(bytes, files), m| (bytes + m.len(), files + 1))
}

/// Files in the cache's two-level layout (`ab/abcdef....jpg`), with their names.
fn entries(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(dir) else { return out };
    for shard in shards.flatten() {
        let Ok(files) = std::fs::read_dir(shard.path()) else { continue };
        for file in files.flatten() {
            if file.file_type().is_ok_and(|t| t.is_file()) {
                out.push((file.path(), file.file_name().to_string_lossy().into_owned()));
            }
        }
    }
    out
}

/// The content hash a thumbnail file is named by.
fn parse_name(name: &str) -> Option<Hash> {
    let hex = name.strip_suffix(".jpg")?;
    if hex.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(hash)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("thumbnail paths have a parent");
    std::fs::create_dir_all(dir)?;
    // Unique per process and thread: two workers may thumbnail identical copies at once.
    let tmp = dir.join(format!(
        ".{}.{}.{:?}.tmp",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id(),
        std::thread::current().id()
    ));
    if let Err(e) = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)) {
        // A full disk leaves a short or empty temporary file: don't keep it.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retain_removes_stale_thumbnails_and_leftovers_and_trim_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let thumbs = Thumbnails::new(dir.path(), 16);
        let pixels = RgbImage::new(8, 8);
        let (a, b) = ([1u8; 32], [2u8; 32]);
        thumbs.ensure(&a, &pixels);
        thumbs.ensure(&b, &pixels);
        let leftover = thumbs.path(&a).with_file_name(".x.jpg.1.ThreadId(1).tmp");
        std::fs::write(&leftover, b"").unwrap();
        thumbs.retain(|h| *h == a);
        assert!(thumbs.path(&a).exists() && !thumbs.path(&b).exists() && !leftover.exists());
        assert_eq!(locate(dir.path().parent().unwrap(), "zz"), None);

        thumbs.ensure(&b, &pixels);
        let one = std::fs::metadata(thumbs.path(&b)).unwrap().len();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let c = [3u8; 32];
        thumbs.ensure(&c, &pixels);
        // Make `a` the oldest for certain.
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options().write(true).open(thumbs.path(&a)).unwrap().set_modified(old).unwrap();
        thumbs.trim(2 * one);
        assert!(!thumbs.path(&a).exists(), "the oldest goes first");
        assert!(thumbs.path(&b).exists() && thumbs.path(&c).exists());
        assert_eq!(usage(dir.path()).1, 2);
    }
}
