/// The app's commands. Each gets an `allow-<name>` permission; the window's
/// capability grants exactly the set in `permissions/app.toml`.
const COMMANDS: &[&str] = &[
    "overview",
    "photos",
    "pick_folder",
    "add_folder",
    "remove_folder",
    "pause",
    "resume",
    "stop",
    "rescan",
    "search_path",
    "search_photo",
    "search_pasted",
    "pick_and_search",
    "search_text",
    "search_many",
    "explore",
    "open_photo",
    "reveal_photo",
    "set_model",
    "set_store",
    "test_store",
    "set_index",
    "duplicates",
    "cancel_work",
    "trash",
    "refine",
    "video_options",
    "set_video_options",
    "media_base",
    "search_photo_region",
    "install_model",
    "cancel_download",
    "set_model_mirror",
    "take_queries",
];

fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)))
        .expect("tauri build step");
}
