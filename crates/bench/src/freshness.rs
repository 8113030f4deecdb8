//! Freshness: from a photo appearing in a watched folder to a search
//! returning it, with the engine the desktop app runs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use photofinder_core::{Engine, EngineState, Filter, Library, ModelDir, WatchOptions};

/// Seconds from each of `photos` being moved into a watched folder (a
/// complete file appearing at once, as a photo import's rename does) to
/// `search_library` finding it as its own nearest photo. One at a time.
pub fn measure(models: &ModelDir, model: &str, photos: &[PathBuf], work: &Path) -> Result<Vec<f64>> {
    let root = tempfile::tempdir_in(work)?;
    let (folder, staging) = (root.path().join("photos"), root.path().join("staging"));
    std::fs::create_dir_all(&folder)?;
    std::fs::create_dir_all(&staging)?;
    let folder = folder.canonicalize()?;
    let library_dir = root.path().join("library");
    {
        let mut lib = Library::open(&library_dir, models.clone())?;
        lib.set_model(model)?;
        lib.add_folder(&folder)?;
    }
    let state = Arc::new(Mutex::new(EngineState::Idle));
    let seen = state.clone();
    let (models, dir) = (models.clone(), library_dir.clone());
    let engine = Engine::start(
        move || Library::open(&dir, models),
        WatchOptions::default(),
        move |notice| {
            if let photofinder_core::Notice::State { state } = notice {
                *seen.lock().unwrap() = state;
            }
        },
    )?;
    // The model is loaded before the first photo, as in a running app.
    let warm = photos[0].clone();
    engine.call(move |lib| lib.embed_bytes(&std::fs::read(&warm).map_err(|e| photofinder_core::Error::io(&warm, e))?))?;

    let mut seconds = Vec::with_capacity(photos.len());
    for (i, src) in photos.iter().enumerate() {
        let name = format!("{i:04}-{}", src.file_name().unwrap_or_default().to_string_lossy());
        let (staged, target) = (staging.join(&name), folder.join(&name));
        std::fs::copy(src, &staged)?;
        let started = Instant::now();
        std::fs::rename(&staged, &target)?;
        loop {
            let path = target.clone();
            let found = engine.call(move |lib| {
                let indexed = lib.catalog().file_by_path(&path)?.is_some_and(|f| f.state == photofinder_core::catalog::FileState::Indexed);
                if !indexed {
                    return Ok(false);
                }
                let results = lib.search_library(&path, 1, &Filter::default())?;
                Ok(results.hits.first().is_some_and(|h| h.path == path))
            })?;
            if found {
                seconds.push(started.elapsed().as_secs_f64());
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("{} was not searchable after 60 s (engine: {:?})", target.display(), state.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    engine.shutdown();
    Ok(seconds)
}
