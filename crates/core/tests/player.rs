//! Opening a video moment in the desktop's default player, looked up with the
//! real `xdg-mime` (xdg-utils, which scripts/setup-system installs) in a
//! desktop configuration made here. The player itself is a stand-in script
//! named `mpv` that writes down how it was started: no real player runs
//! without a display and a sound device. Its own test binary, since it sets
//! the process's environment.

use std::path::Path;

use photofinder_core::video::player;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn desktop_entry(dir: &Path, id: &str, exec: &str, mime: &str) {
    write(&dir.join(id), &format!("[Desktop Entry]\nType=Application\nName={exec}\nExec={exec} %U\nMimeType={mime};\n"));
}

#[test]
fn a_moment_opens_in_the_default_player_at_its_time_where_it_can() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, data, bin) = (tmp.path().join("config"), tmp.path().join("data"), tmp.path().join("bin"));
    write(
        &config.join("mimeapps.list"),
        "[Default Applications]\nvideo/mp4=mpv.desktop\nvideo/webm=org.gnome.Totem.desktop\n",
    );
    let apps = data.join("applications");
    desktop_entry(&apps, "mpv.desktop", "mpv", "video/mp4");
    desktop_entry(&apps, "org.gnome.Totem.desktop", "totem", "video/webm");
    let record = tmp.path().join("started-with");
    write(&bin.join("mpv"), &format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", record.display()));
    std::process::Command::new("chmod").arg("+x").arg(bin.join("mpv")).status().unwrap();
    std::env::set_var("XDG_CONFIG_HOME", &config);
    std::env::set_var("XDG_DATA_HOME", &data);
    std::env::remove_var("XDG_CURRENT_DESKTOP");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.clone()];
    dirs.extend(std::env::split_paths(&path));
    std::env::set_var("PATH", std::env::join_paths(dirs).unwrap());

    let clip = tmp.path().join("holiday clip.mp4");
    assert_eq!(player::default_application("video/mp4").as_deref(), Some("mpv.desktop"));
    let command = player::command_at(&clip, "mp4", 4200).expect("mpv takes a start time");
    assert!(command.command().status().unwrap().success());
    let args = std::fs::read_to_string(&record).unwrap();
    assert_eq!(args, format!("--start=4.200\n{}\n", clip.display()));

    // A player that takes no start time: opened the usual way, from the start.
    assert_eq!(player::default_application("video/webm").as_deref(), Some("org.gnome.Totem.desktop"));
    assert_eq!(player::command_at(&tmp.path().join("clip.webm"), "webm", 4200), None);
    // No default player for the type at all.
    assert_eq!(player::command_at(&tmp.path().join("clip.mkv"), "mkv", 4200), None);
    // The default is mpv, but mpv is not installed: the usual way too.
    std::fs::remove_file(bin.join("mpv")).unwrap();
    assert_eq!(player::command_at(&clip, "mp4", 4200), None);
}
