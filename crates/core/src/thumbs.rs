//! Thumbnails cached on disk, named by content hash: a moved or copied photo
//! keeps its thumbnail, and an edited one gets a new one.

use std::path::{Path, PathBuf};

use image::RgbImage;

use crate::catalog::{hex, Hash};
use crate::preprocess;

pub const DEFAULT_SIZE: u32 = 256;

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
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
