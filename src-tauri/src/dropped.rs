//! Files dropped onto the window, by their exact names.
//!
//! The web view's drop event names the dropped files by paths decoded from
//! their URIs as UTF-8, lossily: a name that is not UTF-8 arrives with
//! U+FFFD in place of its bytes, and names no file. On Linux the drop's URIs
//! are also read here, straight from GTK as the drag enters the window
//! (`listen`); when the drop comes, its paths are replaced by the exact ones
//! those URIs name (`Dropping::exact`). The dropped photos then go to the
//! window the way a second launch's do (`launch::hand_to_window`), whose
//! strings keep every byte.

use std::path::PathBuf;
use std::sync::Mutex;

/// The URIs of the files being dragged over the window.
#[derive(Default)]
pub struct Dropping(Mutex<Vec<String>>);

impl Dropping {
    /// A drag entered the window offering these URIs.
    pub fn offered(&self, uris: Vec<String>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = uris;
    }

    /// The exact paths of the files a drop names by `lossy` paths.
    pub fn exact(&self, lossy: &[PathBuf]) -> Vec<PathBuf> {
        let uris = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        exact_paths(&uris, lossy)
    }
}

/// The paths `uris` name, where they are the files `lossy` names (the same
/// paths once decoded lossily, in the same order); `lossy` as it is
/// otherwise (no URIs seen, or those of another drag).
fn exact_paths(uris: &[String], lossy: &[PathBuf]) -> Vec<PathBuf> {
    let exact: Option<Vec<PathBuf>> = uris.iter().map(|u| crate::uri::file_uri(u)).collect();
    match exact {
        Some(exact)
            if exact.len() == lossy.len()
                && exact.iter().zip(lossy).all(|(e, l)| PathBuf::from(e.to_string_lossy().into_owned()) == *l) =>
        {
            exact
        }
        _ => lossy.to_vec(),
    }
}

/// Read the URIs of each drag that enters `window`'s web view.
#[cfg(target_os = "linux")]
pub fn listen(window: &tauri::WebviewWindow) -> tauri::Result<()> {
    use gtk::prelude::WidgetExt;
    use tauri::Manager;

    let app = window.app_handle().clone();
    window.with_webview(move |webview| {
        // Connected after the web view's own handler, which reads the same
        // selection on the same signal; both run before the drop.
        webview.inner().connect_drag_data_received(move |_, _, _, _, data, _, _| {
            let uris: Vec<String> = data.uris().iter().map(|u| u.to_string()).collect();
            if !uris.is_empty() {
                app.state::<crate::Shell>().dropping.offered(uris);
            }
        });
    })
}

/// Elsewhere the web view's paths are exact already (Windows and macOS name
/// files by Unicode strings).
#[cfg(not(target_os = "linux"))]
pub fn listen(_window: &tauri::WebviewWindow) -> tauri::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn a_dropped_name_that_is_not_utf8_is_taken_from_its_uri_exactly() {
        let latin1 = PathBuf::from(std::ffi::OsString::from_vec(b"/p/caf\xe9 #1.png".to_vec()));
        let lossy = vec![PathBuf::from("/p/caf\u{fffd} #1.png"), PathBuf::from("/p/b.png")];
        let uris = vec!["file:///p/caf%E9%20%231.png".to_string(), "file:///p/b.png".to_string()];
        assert_eq!(exact_paths(&uris, &lossy), vec![latin1, PathBuf::from("/p/b.png")]);
    }

    #[test]
    fn uris_of_another_drag_or_none_leave_the_drop_as_it_is() {
        let lossy = vec![PathBuf::from("/p/a.png")];
        assert_eq!(exact_paths(&[], &lossy), lossy);
        assert_eq!(exact_paths(&["file:///p/other.png".to_string()], &lossy), lossy);
        assert_eq!(exact_paths(&["https://example.com/a.png".to_string()], &lossy), lossy);
        let dropping = Dropping::default();
        dropping.offered(vec!["file:///p/a.png".to_string()]);
        assert_eq!(dropping.exact(&lossy), lossy);
        assert_eq!(dropping.exact(&[PathBuf::from("/p/x.png")]), vec![PathBuf::from("/p/x.png")], "a drop's URIs serve it once");
    }
}
