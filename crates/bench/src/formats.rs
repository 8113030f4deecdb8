//! Indexing by file format: the camera-sized photos of the indexing section
//! as a phone's HEIC (with its thumbnail item), a camera's DNG (with a
//! full-size JPEG preview, as Canon and Nikon write, and without one) and
//! JPEG XL, each made once with the format's own encoder and kept in the
//! work folder.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use photofinder_core::decode::{self, Need};

// The DNG writer the core's tests use: one implementation of the layout.
#[allow(dead_code)]
#[path = "../../core/tests/common/dng.rs"]
mod dng;

/// One format's photos.
pub struct FormatSet {
    pub label: &'static str,
    pub files: Vec<PathBuf>,
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().with_context(|| format!("cannot run {cmd:?} (scripts/setup-system --tests installs it)"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Each of `jpegs` (12 MP) as HEIC, DNG with and without a preview, and
/// JPEG XL, in `dir`.
pub fn make(jpegs: &[PathBuf], dir: &Path) -> Result<Vec<FormatSet>> {
    std::fs::create_dir_all(dir)?;
    let mut sets: Vec<FormatSet> = ["12 MP HEIC (320 px thumbnail)", "12 MP DNG (full-size preview)", "12 MP DNG (no preview)", "12 MP JPEG XL"]
        .into_iter()
        .map(|label| FormatSet { label, files: Vec::new() })
        .collect();
    for (i, jpeg) in jpegs.iter().enumerate() {
        let name = |ext: &str| dir.join(format!("camera-{i:03}.{ext}"));
        let wanted = [name("heic"), name("dng"), name("nopreview.dng"), name("jxl")];
        if wanted.iter().any(|p| !p.exists()) {
            eprintln!("making camera photo {} of {} in four formats ...", i + 1, jpegs.len());
            let pixels = image::open(jpeg)?.into_rgb8();
            let png = dir.join(format!("camera-{i:03}.png"));
            pixels.save(&png)?;
            // A phone's HEIC: quality 85 with a 320 x 240 thumbnail item.
            run(Command::new("heif-enc").args(["-q", "85", "-t", "320"]).arg(&png).arg("-o").arg(&wanted[0]))?;
            let spec = |preview| dng::DngSpec { preview, orientation: 1, make: "Canon", model: "Canon EOS R5", taken: "2024:06:01 12:00:00" };
            let long = pixels.width().max(pixels.height());
            std::fs::write(&wanted[1], dng::dng(&pixels, &spec(Some(long))))?;
            std::fs::write(&wanted[2], dng::dng(&pixels, &spec(None)))?;
            // libjxl's default distance (visually lossless), effort 4 to keep making them quick.
            run(Command::new("cjxl").arg(&png).arg(&wanted[3]).args(["-e", "4", "--quiet"]))?;
            std::fs::remove_file(&png)?;
        }
        for (set, file) in sets.iter_mut().zip(wanted) {
            set.files.push(file);
        }
    }
    Ok(sets)
}

/// Photos per second decoding `files` for the model (`need`) on one
/// thread, nothing else.
pub fn decode_alone(files: &[PathBuf], need: Need) -> Result<f64> {
    let bytes: Vec<Vec<u8>> = files.iter().map(std::fs::read).collect::<std::io::Result<_>>()?;
    decode::decode_for(&bytes[0], need)?; // warm-up: libraries initialise
    let started = Instant::now();
    for b in &bytes {
        decode::decode_for(b, need)?;
    }
    Ok(bytes.len() as f64 / started.elapsed().as_secs_f64())
}

/// What indexing HEIC by its thumbnail costs in retrieval, on a labelled set.
pub struct ThumbnailQuality {
    pub photos: usize,
    /// Of them, how many carried a thumbnail large enough to be used.
    pub by_thumbnail: usize,
    /// Leave-one-out precision@10 of the library indexed from full decodes,
    /// and from thumbnails where they serve.
    pub precision_full: f64,
    pub precision_fast: f64,
    /// Cosine of each photo's two vectors: mean and lowest.
    pub cosine_mean: f64,
    pub cosine_min: f64,
}

/// `n` photos of `set` as phone-like HEICs (scaled so their shorter side is
/// 768 px, a 320 px thumbnail item), indexed both ways with `model`.
pub fn thumbnail_quality(
    models: &photofinder_core::ModelDir,
    set: &crate::data::LabelledSet,
    model: &str,
    n: usize,
    work: &Path,
) -> Result<ThumbnailQuality> {
    use photofinder_core::index::PipelineOptions;
    use photofinder_core::{Cancel, Filter, Library};
    use std::collections::HashMap;

    let dir = work.join("heic-thumbnails").join(crate::quality::set_name(set));
    std::fs::create_dir_all(&dir)?;
    let label_of: HashMap<PathBuf, &str> = set.photos.iter().map(|(p, l)| (p.clone(), l.as_str())).collect();
    let mut label_of_heic: HashMap<PathBuf, &str> = HashMap::new();
    let photos = set.spread(n);
    for (i, photo) in photos.iter().enumerate() {
        let heic = dir.join(format!("{i:05}.heic"));
        if !heic.exists() {
            if i % 50 == 0 {
                eprintln!("encoding HEIC {} of {} ...", i + 1, photos.len());
            }
            let img = image::open(photo)?.into_rgb8();
            let scale = 768.0 / img.width().min(img.height()) as f64;
            let (w, h) = ((img.width() as f64 * scale).round() as u32, (img.height() as f64 * scale).round() as u32);
            let big = image::imageops::resize(&img, w, h, image::imageops::FilterType::CatmullRom);
            let png = dir.join(format!("{i:05}.png"));
            big.save(&png)?;
            run(Command::new("heif-enc").args(["-q", "85", "-t", "320"]).arg(&png).arg("-o").arg(&heic))?;
            std::fs::remove_file(&png)?;
        }
        label_of_heic.insert(heic.canonicalize()?, label_of[photo]);
    }
    let index = |previews: bool| -> Result<(HashMap<PathBuf, Vec<f32>>, f64, tempfile::TempDir)> {
        let root = tempfile::tempdir_in(work)?;
        let mut lib = Library::open(root.path().join("library"), models.clone())?;
        lib.options = PipelineOptions { previews, ..PipelineOptions::default() };
        lib.set_model(model)?;
        lib.add_folder(&dir)?;
        lib.index(&|_| {}, &Cancel::new())?;
        let (vectors, path_of) = crate::quality::library_vectors(&lib, model)?;
        let store = lib.store()?;
        let mut precision = 0.0;
        for (id, path, v) in &vectors {
            let hits = store.search(v, 10, &Filter { exclude: vec![*id], ..Default::default() })?;
            let same = hits.iter().filter(|h| path_of.get(&h.id).and_then(|p| label_of_heic.get(p)) == label_of_heic.get(path)).count();
            precision += same as f64 / 10.0;
        }
        let by_path = vectors.into_iter().map(|(_, p, v)| (p, v)).collect();
        Ok((by_path, precision / path_of.len().max(1) as f64, root))
    };
    let (full, precision_full, _a) = index(false)?;
    let (fast, precision_fast, _b) = index(true)?;
    let cosines: Vec<f64> =
        full.iter().filter_map(|(p, a)| fast.get(p).map(|b| a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum::<f64>())).collect();
    let need = Need { short_side: 256, preview: Some(224) };
    let by_thumbnail = label_of_heic
        .keys()
        .filter(|p| std::fs::read(p).ok().and_then(|b| decode::decode_for(&b, need).ok()).is_some_and(|d| d.from_preview))
        .count();
    Ok(ThumbnailQuality {
        photos: label_of_heic.len(),
        by_thumbnail,
        precision_full,
        precision_fast,
        cosine_mean: cosines.iter().sum::<f64>() / cosines.len().max(1) as f64,
        cosine_min: cosines.iter().copied().fold(f64::INFINITY, f64::min),
    })
}
