//! The data benchmarks run on: a labelled photo set, full-size camera photos
//! made from real photos, and synthetic embedding-like vectors.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use image::imageops::FilterType;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A folder of photos with a `labels.csv` of `path,label` (more columns allowed).
#[derive(Debug, Clone)]
pub struct LabelledSet {
    pub root: PathBuf,
    pub photos: Vec<(PathBuf, String)>,
}

impl LabelledSet {
    pub fn open(root: &Path) -> Result<LabelledSet> {
        let csv_path = root.join("labels.csv");
        let mut reader = csv::Reader::from_path(&csv_path).with_context(|| format!("cannot read {}", csv_path.display()))?;
        let headers = reader.headers()?.clone();
        let column = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (Some(p), Some(l)) = (column("path"), column("label")) else {
            bail!("{} needs the columns path and label (it has {:?})", csv_path.display(), headers);
        };
        let mut photos = Vec::new();
        for record in reader.records() {
            let record = record?;
            let (Some(path), Some(label)) = (record.get(p), record.get(l)) else { continue };
            photos.push((root.join(path.trim()), label.trim().to_string()));
        }
        if photos.is_empty() {
            bail!("{} lists no photos", csv_path.display());
        }
        Ok(LabelledSet { root: root.to_path_buf(), photos })
    }

    pub fn labels(&self) -> Vec<String> {
        let mut l: Vec<String> = self.photos.iter().map(|(_, l)| l.clone()).collect();
        l.sort();
        l.dedup();
        l
    }

    /// Every `len / n`-th photo: `n` photos spread over all labels.
    pub fn spread(&self, n: usize) -> Vec<PathBuf> {
        let step = (self.photos.len() / n.max(1)).max(1);
        self.photos.iter().step_by(step).take(n).map(|(p, _)| p.clone()).collect()
    }
}

/// Image files directly in `dir`, sorted.
pub fn photos_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| photofinder_core::decode::has_image_extension(p))
        .collect();
    v.sort();
    Ok(v)
}

/// `n` camera-sized JPEGs (4032 x 3024, 12.2 MP, quality 92) made from the
/// photos in `sources`: upscaled, with sensor-like noise so that they cost
/// what a camera's JPEG costs to decode (a smooth upscale compresses, and
/// decodes, several times faster than a real photo). Kept in `dir` and
/// reused when already there.
pub fn camera_photos(sources: &[PathBuf], n: usize, dir: &Path) -> Result<Vec<PathBuf>> {
    if sources.is_empty() {
        bail!("no source photos to make camera-sized photos from");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let path = dir.join(format!("camera-{i:03}.jpg"));
        if !path.exists() {
            let src = &sources[i % sources.len()];
            let img = image::open(src).with_context(|| format!("cannot open {}", src.display()))?.into_rgb8();
            // Alternate landscape and portrait, as a camera roll does.
            let (w, h) = if i % 4 == 3 { (3024, 4032) } else { (4032, 3024) };
            let mut big = image::imageops::resize(&img, w, h, FilterType::Triangle);
            let mut rng = StdRng::seed_from_u64(i as u64);
            for px in big.pixels_mut() {
                let n: i16 = rng.random_range(-6..=6);
                for c in px.0.iter_mut() {
                    *c = (*c as i16 + n + rng.random_range(-3..=3)).clamp(0, 255) as u8;
                }
            }
            let tmp = path.with_extension("part");
            let file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            image::codecs::jpeg::JpegEncoder::new_with_quality(file, 92).encode_image(&big)?;
            std::fs::rename(&tmp, &path)?;
        }
        out.push(path);
    }
    Ok(out)
}

/// Unit vectors clustered round `clusters` random centres, like image
/// embeddings: every vector has near neighbours, and the nearest ten are
/// not trivially separated from the next hundred.
pub fn clustered_vectors(n: usize, dim: usize, clusters: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    // The centres depend on the dimension only, so that queries made with
    // another seed fall among the same clusters as the data.
    let mut centre_rng = StdRng::seed_from_u64(dim as u64);
    let centres: Vec<f32> = (0..clusters * dim).map(|_| centre_rng.random::<f32>() - 0.5).collect();
    let mut out = Vec::with_capacity(n * dim);
    let mut v = vec![0f32; dim];
    for _ in 0..n {
        let c = rng.random_range(0..clusters);
        let centre = &centres[c * dim..(c + 1) * dim];
        for (x, m) in v.iter_mut().zip(centre) {
            *x = m + 0.35 * (rng.random::<f32>() - 0.5);
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        out.extend(v.iter().map(|x| x / norm));
    }
    out
}

/// A file's size in bytes, 0 when it cannot be read.
pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Bytes under `dir`, recursively.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return file_size(dir) };
    entries
        .filter_map(|e| e.ok())
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_size(&p)
            } else {
                file_size(&p)
            }
        })
        .sum()
}
