//! The window's commands: each is one engine call, run off the UI thread.

use std::path::{Path, PathBuf};

use photofinder_core::explore::{ExploreOptions, Map};
use photofinder_core::library::StoreChoice;
use photofinder_core::models::ModelStatus;
use photofinder_core::store::{IndexConfig, MilvusStore};
use photofinder_core::{EngineState, Filter, Library, Photo, SearchResults, Status, TextResults};
use serde::Serialize;
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::Shell;

type Answer<T> = Result<T, String>;

/// Run `f` on the engine thread without holding up the window.
async fn on_engine<R: Send + 'static>(
    shell: &Shell,
    f: impl FnOnce(&mut Library) -> photofinder_core::Result<R> + Send + 'static,
) -> Answer<R> {
    let engine = shell.engine.clone();
    tauri::async_runtime::spawn_blocking(move || engine.call(f)).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())
}

#[derive(Serialize)]
pub struct Overview {
    status: Status,
    models: Vec<ModelStatus>,
    store: StoreChoice,
    engine: EngineState,
}

#[tauri::command]
pub async fn overview(shell: State<'_, Shell>) -> Answer<Overview> {
    let engine = shell.engine.state();
    on_engine(&shell, move |lib| {
        Ok(Overview { status: lib.status()?, models: lib.models().all(), store: lib.store_choice()?.redacted(), engine })
    })
    .await
}

#[tauri::command]
pub async fn photos(shell: State<'_, Shell>, offset: usize, limit: usize) -> Answer<Vec<Photo>> {
    on_engine(&shell, move |lib| lib.photos(offset, limit.min(5000))).await
}

/// The native folder picker, then the folder is watched and indexed.
#[tauri::command]
pub async fn pick_folder(app: AppHandle, shell: State<'_, Shell>) -> Answer<Option<PathBuf>> {
    let picked = tauri::async_runtime::spawn_blocking(move || {
        app.dialog().file().set_title("Add a folder of photos").blocking_pick_folder()
    })
    .await
    .map_err(|e| e.to_string())?;
    let Some(folder) = picked else { return Ok(None) };
    let folder = folder.into_path().map_err(|e| e.to_string())?;
    add_folder(shell, folder.clone()).await?;
    Ok(Some(folder))
}

#[tauri::command]
pub async fn add_folder(shell: State<'_, Shell>, path: PathBuf) -> Answer<()> {
    on_engine(&shell, move |lib| lib.add_folder(&path).map(|_| ())).await
}

#[tauri::command]
pub async fn remove_folder(shell: State<'_, Shell>, path: PathBuf) -> Answer<usize> {
    on_engine(&shell, move |lib| lib.remove_folder(&path)).await
}

#[tauri::command]
pub fn pause(shell: State<'_, Shell>) {
    shell.engine.pause()
}

#[tauri::command]
pub fn resume(shell: State<'_, Shell>) {
    shell.engine.resume()
}

#[tauri::command]
pub fn stop(shell: State<'_, Shell>) {
    shell.engine.stop()
}

#[tauri::command]
pub fn rescan(shell: State<'_, Shell>) {
    shell.engine.rescan()
}

/// Search with an image file that was dropped onto the window or is in the library.
#[tauri::command]
pub async fn search_path(shell: State<'_, Shell>, path: PathBuf, k: usize) -> Answer<SearchResults> {
    let dropped = shell.dropped.lock().unwrap().contains(&path);
    on_engine(&shell, move |lib| {
        if !dropped && !in_library_folder(lib, &path)? {
            return Err(photofinder_core::Error::Config(format!(
                "{} was neither dropped onto the window nor is in a watched folder",
                path.display()
            )));
        }
        lib.search_file(&path, k, &Filter::default())
    })
    .await
}

fn in_library_folder(lib: &Library, path: &Path) -> photofinder_core::Result<bool> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(lib.catalog().folder_for(&path)?.is_some())
}

#[tauri::command]
pub async fn search_photo(shell: State<'_, Shell>, id: i64, k: usize) -> Answer<SearchResults> {
    on_engine(&shell, move |lib| {
        let photo = lib.photo(id)?.ok_or_else(|| photofinder_core::Error::Config(format!("no photo {id}")))?;
        lib.search_library(&photo.path, k, &Filter::default())
    })
    .await
}

/// An image pasted into the window: the raw bytes are the request body.
#[tauri::command]
pub async fn search_pasted(shell: State<'_, Shell>, request: Request<'_>) -> Answer<SearchResults> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err("paste sends the image bytes as the request body".into());
    };
    let bytes = bytes.clone();
    let k = request.headers().get("k").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(24);
    on_engine(&shell, move |lib| lib.search_bytes(&bytes, "pasted image", k, &Filter::default())).await
}

/// The native file picker for a query photo, then the search.
#[tauri::command]
pub async fn pick_and_search(app: AppHandle, shell: State<'_, Shell>, k: usize) -> Answer<Option<SearchResults>> {
    let picked = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_title("Find photos like…")
            .add_filter("Images", photofinder_core::decode::IMAGE_EXTENSIONS)
            .blocking_pick_file()
    })
    .await
    .map_err(|e| e.to_string())?;
    let Some(file) = picked else { return Ok(None) };
    let path = file.into_path().map_err(|e| e.to_string())?;
    on_engine(&shell, move |lib| lib.search_file(&path, k, &Filter::default())).await.map(Some)
}

#[tauri::command]
pub async fn search_text(shell: State<'_, Shell>, query: String, k: usize) -> Answer<TextResults> {
    on_engine(&shell, move |lib| lib.search_text(&query, k, &Filter::default(), None)).await
}

/// "More like these": the selected photos, by id.
#[tauri::command]
pub async fn search_many(shell: State<'_, Shell>, ids: Vec<i64>, k: usize) -> Answer<SearchResults> {
    on_engine(&shell, move |lib| {
        let mut paths = Vec::new();
        for id in ids {
            paths.extend(lib.photo(id)?.map(|p| p.path));
        }
        lib.search_many(&paths, &[], k, &Filter::default())
    })
    .await
}

#[tauri::command]
pub async fn explore(shell: State<'_, Shell>) -> Answer<Map> {
    on_engine(&shell, |lib| lib.explore(&ExploreOptions::default())).await
}

async fn photo_path(shell: &Shell, id: i64) -> Answer<PathBuf> {
    on_engine(shell, move |lib| lib.photo(id))
        .await?
        .map(|p| p.path)
        .ok_or_else(|| format!("no photo {id} in the library"))
}

#[tauri::command]
pub async fn open_photo(app: AppHandle, shell: State<'_, Shell>, id: i64) -> Answer<()> {
    let path = photo_path(&shell, id).await?;
    app.opener().open_path(path.to_string_lossy(), None::<&str>).map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn reveal_photo(app: AppHandle, shell: State<'_, Shell>, id: i64) -> Answer<()> {
    let path = photo_path(&shell, id).await?;
    app.opener().reveal_item_in_dir(path).map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn set_model(shell: State<'_, Shell>, name: String) -> Answer<()> {
    on_engine(&shell, move |lib| lib.use_model(&name)).await
}

#[tauri::command]
pub async fn set_store(shell: State<'_, Shell>, choice: StoreChoice) -> Answer<()> {
    on_engine(&shell, move |lib| lib.set_store(&choice)).await
}

/// Connect to a Milvus server and list its collections; changes nothing.
#[tauri::command]
pub async fn test_store(choice: StoreChoice) -> Answer<Vec<String>> {
    match choice {
        StoreChoice::Embedded => Ok(vec![]),
        StoreChoice::Milvus(config) => tauri::async_runtime::spawn_blocking(move || MilvusStore::check(&config))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string()),
    }
}

#[tauri::command]
pub async fn set_index(shell: State<'_, Shell>, index: IndexConfig) -> Answer<()> {
    on_engine(&shell, move |lib| lib.set_index(&index)).await
}
