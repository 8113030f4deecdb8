//! Opening a video in the desktop's own player at a moment of it.
//!
//! `xdg-open` takes no start time, so the default application for the
//! video's type is asked of `xdg-mime`, and when it is a player whose command
//! line takes one (mpv, VLC, Celluloid, SMPlayer), that player is started
//! with it. Any other player is left to `xdg-open`, from the beginning.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

/// A program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerCommand {
    pub program: String,
    pub args: Vec<OsString>,
}

impl PlayerCommand {
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args);
        c
    }
}

/// The MIME type desktops file a video container under.
pub fn mime_type(container: &str) -> &'static str {
    match container {
        "mov" => "video/quicktime",
        "mkv" => "video/x-matroska",
        "webm" => "video/webm",
        "avi" => "video/x-msvideo",
        "m4v" => "video/x-m4v",
        _ => "video/mp4",
    }
}

/// The command that starts the player of desktop entry `desktop_id` (as
/// `xdg-mime` names it, e.g. `mpv.desktop`) on `path` at `at_ms`, for the
/// players whose command line takes a start time.
pub fn start_at(desktop_id: &str, path: &Path, at_ms: i64) -> Option<PlayerCommand> {
    let id = desktop_id.to_ascii_lowercase();
    let secs = format!("{:.3}", at_ms.max(0) as f64 / 1000.0);
    let (program, start): (&str, Vec<String>) = if id.contains("celluloid") {
        ("celluloid", vec![format!("--mpv-start={secs}")])
    } else if id.contains("mpv") {
        ("mpv", vec![format!("--start={secs}")])
    } else if id.contains("vlc") {
        ("vlc", vec![format!("--start-time={secs}")])
    } else if id.contains("smplayer") {
        ("smplayer", vec!["-ss".into(), secs])
    } else {
        return None;
    };
    let mut args: Vec<OsString> = start.into_iter().map(OsString::from).collect();
    args.push(path.as_os_str().to_owned());
    Some(PlayerCommand { program: program.into(), args })
}

/// The desktop entry of the default application for `mime`, from `xdg-mime`.
pub fn default_application(mime: &str) -> Option<String> {
    let out = Command::new("xdg-mime").args(["query", "default", mime]).stderr(Stdio::null()).output().ok()?;
    let id = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !id.is_empty()).then_some(id)
}

/// Whether `program` can be run (is on the PATH).
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// How to open the video at `path` (a `container`, see [`super::sniff`]) at
/// `at_ms` in the desktop's default player, if that player can be told
/// where to start; `None` means open it the usual way, from the start.
pub fn command_at(path: &Path, container: &str, at_ms: i64) -> Option<PlayerCommand> {
    let app = default_application(mime_type(container))?;
    start_at(&app, path, at_ms).filter(|c| on_path(&c.program))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn players_that_take_a_start_time_get_it() {
        let clip = Path::new("/videos/a clip.mp4");
        let args = |c: PlayerCommand| (c.program, c.args.into_iter().map(|a| a.into_string().unwrap()).collect::<Vec<_>>());
        assert_eq!(args(start_at("mpv.desktop", clip, 4200).unwrap()), ("mpv".into(), vec!["--start=4.200".into(), "/videos/a clip.mp4".into()]));
        assert_eq!(args(start_at("io.mpv.Mpv.desktop", clip, 0).unwrap()).1[0], "--start=0.000");
        assert_eq!(args(start_at("vlc.desktop", clip, 61_500).unwrap()).1[0], "--start-time=61.500");
        assert_eq!(args(start_at("io.github.celluloid_player.Celluloid.desktop", clip, 1000).unwrap()).0, "celluloid");
        assert_eq!(args(start_at("smplayer.desktop", clip, 2000).unwrap()).1[..2], ["-ss".to_string(), "2.000".into()]);
        assert_eq!(start_at("org.gnome.Totem.desktop", clip, 1000), None, "Totem takes no start time");
        assert_eq!(mime_type("mkv"), "video/x-matroska");
    }
}
