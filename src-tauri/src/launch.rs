//! Photos handed to the app from outside the window: `photofinder-app
//! --query FILE` (or a file manager's "Open with", which passes the file
//! alone), and the same from a second launch while the app runs, which the
//! single-instance plugin forwards here instead of opening a second window
//! on the library; and files dropped onto the window (`dropped`).
//!
//! Such a photo is searched with as if dropped onto the window: it may be
//! outside the watched folders, so it is granted to queries. The window asks
//! for the waiting photos when it has loaded (`take_queries`) and again on
//! each `queries` event, so a photo handed over before the window listens is
//! not lost.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tauri::{AppHandle, Emitter, Manager};

use crate::options::Options;
use crate::Shell;

/// The photos waiting for the window.
#[derive(Default)]
pub struct Queries(Mutex<Vec<PathBuf>>);

impl Queries {
    pub fn push(&self, paths: impl IntoIterator<Item = PathBuf>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend(paths);
    }

    pub fn take(&self) -> Vec<PathBuf> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A second launch's arguments (`argv` with the program's name first, as it
/// was started in `cwd`): its photos go to the running window, which comes
/// forward. Its other options cannot apply to a window already open.
pub fn second_launch(app: &AppHandle, argv: Vec<String>, cwd: String) {
    let options = match Options::from_args(argv.into_iter().skip(1).map(Into::into), Path::new(&cwd)) {
        Ok(o) => o,
        Err(e) => {
            log::warn!("a second launch's arguments: {e}");
            return;
        }
    };
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
    hand_to_window(app, options.queries);
}

/// Grant the photos to queries and tell the window they wait.
pub fn hand_to_window(app: &AppHandle, paths: Vec<PathBuf>) {
    if paths.is_empty() {
        return;
    }
    let shell = app.state::<Shell>();
    shell.access.grant(paths.iter().cloned());
    shell.queries.push(paths);
    let _ = app.emit("queries", ());
}
