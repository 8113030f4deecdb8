//! The window's commands: each is one engine call, run off the UI thread.

use std::path::PathBuf;

use photofinder_core::duplicates::{Duplicates, TrashReport};
use photofinder_core::embed::Region;
use photofinder_core::explore::{ExploreOptions, Map};
use photofinder_core::video::VideoOptions;
use photofinder_core::library::StoreChoice;
use photofinder_core::models::ModelStatus;
use photofinder_core::store::IndexConfig;
use photofinder_core::{Cancel, EngineState, Event, Example, Feedback, Filter, Library, Photo, SearchResults, Status, TextResults};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::Shell;

/// What a command answers on failure: the core's error kind (`bad_query`,
/// `not_permitted`, `cancelled`, ... see `Error::kind`) for the window to
/// react to, and the message to show.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CommandError {
    kind: &'static str,
    message: String,
}

impl From<photofinder_core::Error> for CommandError {
    fn from(e: photofinder_core::Error) -> Self {
        CommandError { kind: e.kind(), message: e.to_string() }
    }
}

/// The shell's own failures (a dialog, the opener, a thread): no kind to act on.
impl From<String> for CommandError {
    fn from(message: String) -> Self {
        CommandError { kind: "other", message }
    }
}

impl From<&str> for CommandError {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

type Answer<T> = Result<T, CommandError>;

/// Run `f` on the engine thread without holding up the window.
async fn on_engine<R: Send + 'static>(
    shell: &Shell,
    f: impl FnOnce(&mut Library) -> photofinder_core::Result<R> + Send + 'static,
) -> Answer<R> {
    let engine = shell.engine.clone();
    Ok(tauri::async_runtime::spawn_blocking(move || engine.call(f)).await.map_err(|e| e.to_string())??)
}

#[derive(Serialize, TS)]
pub struct Overview {
    status: Status,
    models: Vec<ModelStatus>,
    /// Where models download from (Hugging Face, or the mirror set).
    model_hub: String,
    /// Whether PHOTOFINDER_MODEL_MIRROR sets it (the setting is then not used).
    model_hub_from_env: bool,
    store: StoreChoice,
    engine: EngineState,
    videos: VideoOptions,
    /// photofinder's version, the runtime's and the installed models' (Settings, About).
    about: Vec<String>,
    /// What stops the library's model from working here (runtime or model
    /// missing) and what to do about it; None when photos can be indexed.
    setup_problem: Option<String>,
}

#[tauri::command]
pub async fn overview(shell: State<'_, Shell>) -> Answer<Overview> {
    let engine = shell.engine.state();
    on_engine(&shell, move |lib| {
        let status = lib.status()?;
        Ok(Overview {
            setup_problem: lib.models().missing_for(&status.model),
            status,
            models: lib.models().all(),
            model_hub: lib.model_hub()?,
            model_hub_from_env: std::env::var_os(photofinder_core::models::hub::MIRROR_ENV).is_some_and(|v| !v.is_empty()),
            store: lib.store_choice()?.redacted(),
            engine,
            videos: lib.video_options()?,
            about: lib.models().versions(),
        })
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

/// Search with an image file that was dropped onto the window or is in the
/// library; with `region`, with that part of it only.
#[tauri::command]
pub async fn search_path(shell: State<'_, Shell>, path: String, k: usize, region: Option<Region>) -> Answer<SearchResults> {
    let (access, path) = (shell.access.clone(), crate::uri::path(&path));
    on_engine(&shell, move |lib| {
        access.check(lib.catalog(), &path)?;
        match region {
            Some(region) => lib.search_region(&path, region, k, &Filter::default()),
            None => lib.search_file(&path, k, &Filter::default()),
        }
    })
    .await
}

/// Photos like one of the library (or a moment of a video), by id.
#[tauri::command]
pub async fn search_photo(shell: State<'_, Shell>, id: i64, k: usize) -> Answer<SearchResults> {
    on_engine(&shell, move |lib| lib.refine_photo(&Example::Id(id), &Feedback::default(), k, &Filter::default())).await
}

/// A part of a library photo (dragged on its preview, or on it as the query).
#[tauri::command]
pub async fn search_photo_region(shell: State<'_, Shell>, id: i64, k: usize, region: Region) -> Answer<SearchResults> {
    on_engine(&shell, move |lib| lib.search_photo_region(id, region, k, &Filter::default())).await
}

/// An image pasted into the window: the raw bytes are the request body;
/// a `region` header ("x,y,w,h", fractions) searches with that part of it.
#[tauri::command]
pub async fn search_pasted(shell: State<'_, Shell>, request: Request<'_>) -> Answer<SearchResults> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err("paste sends the image bytes as the request body".into());
    };
    let bytes = bytes.clone();
    let k = request.headers().get("k").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(24);
    let region = match request.headers().get("region").and_then(|v| v.to_str().ok()) {
        Some(r) => Some(r.parse::<Region>().map_err(|e| CommandError { kind: "bad_query", message: e })?),
        None => None,
    };
    on_engine(&shell, move |lib| match region {
        Some(region) => lib.search_bytes_region(&bytes, "pasted image", region, k, &Filter::default()),
        None => lib.search_bytes(&bytes, "pasted image", k, &Filter::default()),
    })
    .await
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
    // Chosen by the person, like a dropped file: refining may read it again.
    shell.access.grant([path.clone()]);
    on_engine(&shell, move |lib| lib.search_file(&path, k, &Filter::default())).await.map(Some)
}

#[tauri::command]
pub async fn search_text(shell: State<'_, Shell>, query: String, k: usize) -> Answer<TextResults> {
    on_engine(&shell, move |lib| lib.search_text(&query, k, &Filter::default(), None)).await
}

/// "More like these": the selected photos, by id.
#[tauri::command]
pub async fn search_many(shell: State<'_, Shell>, ids: Vec<i64>, k: usize) -> Answer<SearchResults> {
    on_engine(&shell, move |lib| lib.search_many_ids(&ids, k, &Filter::default())).await
}

/// The map, at once. Where a new layout is due it is made in the background
/// (the answer is then the old map, or an empty one, marked `pending`):
/// progress goes to the window as `work` events, `cancel_work` stops it, and
/// `map_ready` says it is in place (with the error, where it failed).
#[tauri::command]
pub async fn explore(app: AppHandle, shell: State<'_, Shell>) -> Answer<Map> {
    let engine = shell.engine.clone();
    let progress_app = app.clone();
    let progress = move |e: Event| {
        if let Event::Progress(p) = e {
            let _ = progress_app.emit("work", p);
        }
    };
    let ready = move |result: photofinder_core::Result<()>| {
        let _ = app.emit("map_ready", result.err().map(CommandError::from));
    };
    Ok(tauri::async_runtime::spawn_blocking(move || engine.map(ExploreOptions::default(), progress, ready))
        .await
        .map_err(|e| e.to_string())??)
}

async fn photo_path(shell: &Shell, id: i64) -> Answer<PathBuf> {
    Ok(on_engine(shell, move |lib| lib.photo(id)).await?.map(|p| p.path).ok_or(photofinder_core::Error::NoSuchPhoto(id))?)
}

/// Open a photo or video in the desktop's application for it; a moment of a
/// video opens its video there, at that moment where the player can be told.
#[tauri::command]
pub async fn open_photo(app: AppHandle, shell: State<'_, Shell>, id: i64) -> Answer<()> {
    let (photo, player) = on_engine(&shell, move |lib| lib.opening(id)).await?;
    if let Some(player) = player {
        let mut child = player.command().spawn().map_err(|e| format!("cannot start {}: {e}", player.program))?;
        // Reaped when the player closes, so it leaves no zombie behind.
        std::thread::spawn(move || child.wait());
        return Ok(());
    }
    Ok(app
        .opener()
        .open_path(photo.path.to_string_lossy(), None::<&str>)
        .map_err(|e| format!("No application on this desktop opens {} ({e})", photo.path.display()))?)
}

#[tauri::command]
pub async fn reveal_photo(app: AppHandle, shell: State<'_, Shell>, id: i64) -> Answer<()> {
    let path = photo_path(&shell, id).await?;
    Ok(app.opener().reveal_item_in_dir(path).map_err(|e| e.to_string())?)
}

/// Make `name` the library's model (kept for the next start) and embed the
/// library with it in the background; other models' vectors are kept.
#[tauri::command]
pub async fn set_model(shell: State<'_, Shell>, name: String) -> Answer<()> {
    on_engine(&shell, move |lib| {
        lib.models().require(&name)?;
        lib.set_model(&name)
    })
    .await?;
    shell.engine.rescan();
    Ok(())
}

/// Download, verify and install a hub model. It runs beside the engine,
/// not on it, so searching and indexing go on during a long download;
/// progress goes to the window as `download` events, `cancel_download`
/// stops it (the next install resumes).
#[tauri::command]
pub async fn install_model(app: AppHandle, shell: State<'_, Shell>, name: String) -> Answer<ModelStatus> {
    let (models, hub) = on_engine(&shell, |lib| Ok((lib.models().clone(), lib.model_hub()?))).await?;
    let cancel = Cancel::new();
    *shell.download.lock().unwrap() = cancel.clone();
    let install = move || {
        let progress = |e: Event| {
            if let Event::Download(p) = e {
                let _ = app.emit("download", p);
            }
        };
        photofinder_core::models::hub::install(&models, &name, &hub, &progress, &cancel)
    };
    Ok(tauri::async_runtime::spawn_blocking(install).await.map_err(|e| e.to_string())??)
}

#[tauri::command]
pub fn cancel_download(shell: State<'_, Shell>) {
    shell.download.lock().unwrap().cancel();
}

/// Set (or, with an empty string, clear) the mirror models download from;
/// answers where they download from now.
#[tauri::command]
pub async fn set_model_mirror(shell: State<'_, Shell>, url: String) -> Answer<String> {
    on_engine(&shell, move |lib| {
        lib.set_model_mirror(Some(&url))?;
        lib.model_hub()
    })
    .await
}

#[tauri::command]
pub async fn set_store(shell: State<'_, Shell>, choice: StoreChoice) -> Answer<()> {
    on_engine(&shell, move |lib| lib.set_store(&choice)).await
}

/// Connect to a Milvus server and list its collections; changes nothing.
#[tauri::command]
pub async fn test_store(choice: StoreChoice) -> Answer<Vec<String>> {
    Ok(tauri::async_runtime::spawn_blocking(move || choice.check()).await.map_err(|e| e.to_string())??)
}

#[tauri::command]
pub async fn set_index(shell: State<'_, Shell>, index: IndexConfig) -> Answer<()> {
    on_engine(&shell, move |lib| lib.set_index(&index)).await
}

/// Near-duplicate groups; progress goes to the window as `work` events and
/// `cancel_work` stops it.
#[tauri::command]
pub async fn duplicates(app: AppHandle, shell: State<'_, Shell>, max_distance: f32) -> Answer<Duplicates> {
    let cancel = Cancel::new();
    *shell.work.lock().unwrap() = cancel.clone();
    on_engine(&shell, move |lib| {
        let progress = |e: Event| {
            if let Event::Progress(p) = e {
                let _ = app.emit("work", p);
            }
        };
        lib.duplicates(max_distance, &progress, &cancel)
    })
    .await
}

#[tauri::command]
pub fn cancel_work(shell: State<'_, Shell>) {
    shell.work.lock().unwrap().cancel();
    shell.engine.stop_map();
}

/// Move photos to the system trash (never a hard delete).
#[tauri::command]
pub async fn trash(shell: State<'_, Shell>, ids: Vec<i64>) -> Answer<TrashReport> {
    on_engine(&shell, move |lib| lib.move_to_trash(&ids, &|_| {})).await
}

/// What a query started from, so that marked results can move it.
#[derive(Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(tag = "kind", rename_all = "snake_case")]
pub enum Seed {
    /// A library photo (by id) or a dropped file (by path).
    Photo {
        #[ts(optional = nullable)]
        id: Option<i64>,
        #[ts(optional, type = "string | null")]
        #[serde(default, deserialize_with = "crate::uri::optional_path")]
        path: Option<PathBuf>,
    },
    Text { query: String },
    /// A photo and words, with CLIP.
    Combined {
        #[ts(optional = nullable)]
        id: Option<i64>,
        #[ts(optional, type = "string | null")]
        #[serde(default, deserialize_with = "crate::uri::optional_path")]
        path: Option<PathBuf>,
        text: String,
        weight: f32,
    },
}

#[derive(Serialize, TS)]
#[serde(untagged)]
#[ts(untagged)]
pub enum Refined {
    Photo(SearchResults),
    Text(TextResults),
}

/// A query again, moved toward the results marked good and away from the bad.
#[tauri::command]
pub async fn refine(shell: State<'_, Shell>, seed: Seed, feedback: Feedback, k: usize) -> Answer<Refined> {
    let access = shell.access.clone();
    on_engine(&shell, move |lib| {
        let filter = Filter::default();
        Ok(match seed {
            Seed::Photo { id, path } => {
                let example = access.example(lib.catalog(), id, path)?;
                Refined::Photo(lib.refine_photo(&example, &feedback, k, &filter)?)
            }
            Seed::Text { query } => Refined::Text(lib.refine_text(&query, &feedback, k, &filter, None)?),
            Seed::Combined { id, path, text, weight } => {
                let example = access.example(lib.catalog(), id, path)?;
                Refined::Photo(lib.search_photo_and_text(&example, &text, weight, &feedback, k, &filter)?)
            }
        })
    })
    .await
}

#[tauri::command]
pub async fn video_options(shell: State<'_, Shell>) -> Answer<VideoOptions> {
    on_engine(&shell, |lib| lib.video_options()).await
}

/// New keyframe settings; the videos are indexed again with them.
#[tauri::command]
pub async fn set_video_options(shell: State<'_, Shell>, options: VideoOptions) -> Answer<usize> {
    let requeued = on_engine(&shell, move |lib| lib.set_video_options(&options)).await?;
    if requeued > 0 {
        shell.engine.rescan();
    }
    Ok(requeued)
}

/// The photos handed to the app (`--query FILE`, "Open with", a second
/// launch) not yet searched with; each is asked for once.
#[tauri::command]
pub fn take_queries(shell: State<'_, Shell>) -> Vec<String> {
    // Exact: a name that is not UTF-8 goes as its file:// URI, which
    // `search_path` takes back.
    shell.queries.take().iter().map(|p| crate::uri::to_string(p)).collect()
}

/// Base URL of the loopback server that gives the video player its videos.
#[tauri::command]
pub fn media_base(shell: State<'_, Shell>) -> String {
    shell.media_base.clone()
}
