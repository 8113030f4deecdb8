//! photofinder's desktop app: a thin Tauri shell over `photofinder-core`.
//!
//! The core's `Engine` owns the library on a thread of its own; each command
//! here is one call on it, run off the UI thread. The engine's notices are
//! forwarded to the window as `engine` events. Files reach the web view only
//! through `thumb:` (the thumbnail cache, by content hash), `photo:` (a
//! catalogued photo or video frame, by id) and, for the video player, a
//! loopback HTTP server with a secret path (a catalogued video, by id): so
//! nothing else on disk is readable.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[cfg(test)]
mod bindings;
mod commands;
mod dropped;
mod launch;
mod media;
mod options;
mod protocols;
mod uri;

use std::path::PathBuf;
use std::sync::Mutex;

use photofinder_core::{Cancel, Engine, Library, WatchOptions};
use tauri::{DragDropEvent, Emitter, Manager, WindowEvent};

/// What the commands share.
pub struct Shell {
    pub engine: Engine,
    pub library_dir: PathBuf,
    /// Which files queries may read: those dropped onto (or chosen in) the
    /// window, and the watched folders' (the rule is the core's).
    pub access: std::sync::Arc<photofinder_core::access::QueryAccess>,
    /// Cancels the long command running now (finding duplicates).
    pub work: Mutex<Cancel>,
    /// Cancels the model download running now.
    pub download: Mutex<Cancel>,
    /// Where the video player gets videos (`media.rs`); empty if the server could not start.
    pub media_base: String,
    /// Photos handed to the app from outside, waiting for the window.
    pub queries: launch::Queries,
    /// The exact names of the files being dragged over the window.
    pub dropping: dropped::Dropping,
}

fn main() {
    let cwd = std::env::current_dir().unwrap_or_default();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    // The single-instance plugin reads a second launch's arguments as
    // strings: one that is not UTF-8 (a file name from an old camera or
    // another system) is made a file:// URI first, by starting again with
    // it written so. That start finds only UTF-8 and goes on.
    #[cfg(unix)]
    if let (Some(utf8), Ok(exe)) = (options::utf8_args(&args, &cwd), std::env::current_exe()) {
        use std::os::unix::process::CommandExt;
        let error = std::process::Command::new(exe).args(utf8).exec();
        eprintln!("photofinder-app: cannot start again with the file names as URIs: {error}");
    }
    let options = match options::Options::from_args(args.into_iter(), &cwd) {
        Ok(o) => o,
        Err(e) if e == "version" => {
            println!("{}", photofinder_core::ModelDir::from_env().versions().join("\n"));
            return;
        }
        Err(e) if e == "help" => {
            println!("{}", options::USAGE);
            return;
        }
        Err(e) => {
            eprintln!("photofinder-app: {e}\n\n{}", options::USAGE);
            std::process::exit(2);
        }
    };
    tauri::Builder::default()
        // First: a second launch hands its photos to this window and exits
        // before it opens anything (without a session bus it runs on; the
        // library's writer lock still keeps two from writing it at once).
        .plugin(tauri_plugin_single_instance::init(launch::second_launch))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .register_asynchronous_uri_scheme_protocol("thumb", protocols::thumbnail)
        .register_asynchronous_uri_scheme_protocol("photo", protocols::photo)
        .setup(move |app| {
            app.manage(start(app.handle().clone(), &options)?);
            if let Some(window) = app.get_webview_window("main") {
                dropped::listen(&window)?;
            }
            launch::hand_to_window(app.handle(), options.queries.clone());
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // Searched as photos handed over from outside are (their names exact).
            WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) => {
                let exact = window.state::<Shell>().dropping.exact(paths);
                launch::hand_to_window(window.app_handle(), exact);
            }
            WindowEvent::Destroyed => window.state::<Shell>().engine.shutdown(),
            _ => {}
        })
        .invoke_handler(tauri::generate_handler![
            commands::overview,
            commands::photos,
            commands::pick_folder,
            commands::add_folder,
            commands::remove_folder,
            commands::pause,
            commands::resume,
            commands::stop,
            commands::rescan,
            commands::search_path,
            commands::search_photo,
            commands::search_pasted,
            commands::search_photo_region,
            commands::pick_and_search,
            commands::search_text,
            commands::search_many,
            commands::explore,
            commands::open_photo,
            commands::reveal_photo,
            commands::set_model,
            commands::set_store,
            commands::test_store,
            commands::set_index,
            commands::duplicates,
            commands::cancel_work,
            commands::trash,
            commands::refine,
            commands::video_options,
            commands::set_video_options,
            commands::media_base,
            commands::take_queries,
            commands::install_model,
            commands::cancel_download,
            commands::set_model_mirror,
        ])
        .run(tauri::generate_context!())
        .expect("the photofinder window could not start");
}

/// The engine on its thread, the folders asked for on the command line, and
/// the video player's server: what the commands share.
fn start(handle: tauri::AppHandle, options: &options::Options) -> Result<Shell, Box<dyn std::error::Error>> {
    let (dir, models) = (options.library.clone(), options.models.clone());
    let engine = Engine::start(
        move || Library::open(dir, models),
        WatchOptions::default(),
        move |notice| {
            let _ = handle.emit("engine", notice);
        },
    )?;
    for folder in &options.add_folders {
        let folder = folder.clone();
        engine.call(move |lib| lib.add_folder(&folder))?;
    }
    let media_base = match media::MediaServer::start(engine.clone()) {
        Ok(server) => server.base,
        Err(e) => {
            eprintln!("photofinder-app: no video playback in the window: {e}");
            String::new()
        }
    };
    Ok(Shell {
        media_base,
        queries: Default::default(),
        dropping: Default::default(),
        engine,
        library_dir: options.library.clone(),
        access: Default::default(),
        work: Mutex::new(Cancel::new()),
        download: Mutex::new(Cancel::new()),
    })
}
