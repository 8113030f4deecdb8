//! A large library without hours of indexing: real files on disk and real
//! catalog rows, with synthetic (clustered) embeddings and labels in place of
//! what the models would compute. Everything that reads a library (scans,
//! stores, queries, startup) does the same work as on a real one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use photofinder_core::catalog::{FileState, NewFile};
use photofinder_core::decode::{Format, ImageInfo};
use photofinder_core::{Library, ModelDir};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::data::clustered_vectors;

/// Models whose vectors the big library holds: the default model and the
/// one text-to-image search uses. (ResNet50's 2048-d vectors would double
/// the build time and disk for no query the benchmarks make.)
pub const MODELS: &[&str] = &["efficientnet-lite0", "clip-vit-b32"];

/// A library of `n` photos under `work`, built once and reused. Returns the
/// library directory; its photos are under `<work>/library-<n>/photos`.
pub fn big_library(work: &Path, models: &ModelDir, n: usize) -> Result<PathBuf> {
    let root = work.join(format!("library-{n}"));
    let library_dir = root.join("library");
    let stamp = root.join("ready");
    if stamp.exists() {
        return Ok(library_dir);
    }
    eprintln!("building a library of {n} photos in {} (once) ...", root.display());
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    // Catalogued paths are absolute, as the scan finds them.
    let photos = root.canonicalize()?.join("photos");
    let files = write_photos(&photos, n)?;

    let mut library = Library::open(&library_dir, models.clone())?;
    let folder = library.add_folder(&photos)?;
    let mut rng = StdRng::seed_from_u64(7);
    let vectors: Vec<(String, usize, Vec<f32>)> = MODELS
        .iter()
        .map(|m| {
            let dim = ModelDir::spec(m).map(|s| s.dim).unwrap_or(512);
            (m.to_string(), dim, clustered_vectors(n, dim, 100, 11))
        })
        .collect();
    library.catalog().transaction(|c| {
        for (i, path) in files.iter().enumerate() {
            let meta = std::fs::metadata(path).map_err(|e| photofinder_core::Error::io(path, e))?;
            let bytes = std::fs::read(path).map_err(|e| photofinder_core::Error::io(path, e))?;
            let hash = *blake3::hash(&bytes).as_bytes();
            let id = c.insert_file(&NewFile {
                folder_id: folder.id,
                path: path.clone(),
                size: meta.len(),
                mtime_ns: photofinder_core::scan::mtime_ns(&meta),
                hash: Some(hash),
            })?;
            let taken_at = Some(1_500_000_000 + rng.random_range(0..200_000_000i64));
            c.set_info(id, &ImageInfo { format: Format::Png, width: 16, height: 16, taken_at, orientation: 1, camera: None, lens: None, motion: false })?;
            c.set_state(id, FileState::Indexed, None)?;
            for (model, dim, v) in &vectors {
                c.put_embedding(&hash, model, &v[i * dim..(i + 1) * dim])?;
            }
            let first = rng.random_range(0..1000u32);
            let labels: Vec<(u32, f32)> = (0..5).map(|j| ((first + 199 * j) % 1000, 0.5 / (j + 1) as f32)).collect();
            c.put_labels(&hash, MODELS[0], &labels)?;
        }
        Ok(())
    })?;
    drop(vectors);
    // Opening each model's store fills it from the catalog (the same
    // reconciliation that repairs a store after a crash).
    for m in MODELS {
        library.use_model(m)?;
        library.store()?;
    }
    // The files on disk must be exactly what the catalog holds, or every
    // figure measured on this library would include indexing.
    let outcome = library.scan(&|_| {}, &photofinder_core::Cancel::new())?;
    if !outcome.added.is_empty() || !outcome.changed.is_empty() || outcome.unchanged != n {
        anyhow::bail!(
            "the synthetic library does not match its files: {} new, {} changed, {} unchanged",
            outcome.added.len(),
            outcome.changed.len(),
            outcome.unchanged
        );
    }
    std::fs::write(&stamp, n.to_string())?;
    Ok(library_dir)
}

/// `n` small distinct PNGs (lossless, so no two share content), 1000 per folder as a camera roll's years are.
fn write_photos(dir: &Path, n: usize) -> Result<Vec<PathBuf>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let sub = dir.join(format!("{:03}", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&sub).with_context(|| format!("cannot create {}", sub.display()))?;
        }
        let path = sub.join(format!("IMG_{i:06}.png"));
        let colour = [(i % 251) as u8, (i / 251 % 251) as u8, (i / 63001 % 251) as u8];
        let img = image::RgbImage::from_pixel(16, 16, image::Rgb(colour));
        img.save(&path).with_context(|| format!("cannot write {}", path.display()))?;
        out.push(path);
    }
    Ok(out)
}
