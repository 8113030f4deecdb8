//! Command-line options of the app.

use std::ffi::OsString;
use std::path::PathBuf;

use photofinder_core::{library, ModelDir};

pub const USAGE: &str = "usage: photofinder-app [--library DIR] [--models DIR] [--add-folder DIR]...

  --library DIR      the library (default: $PHOTOFINDER_LIBRARY or ~/.local/share/photofinder/library)
  --models DIR       installed models (default: $PHOTOFINDER_MODELS_DIR or ~/.local/share/photofinder/models)
  --add-folder DIR   watch this folder too, as if picked with \"Add folder\"";

pub struct Options {
    pub library: PathBuf,
    pub models: ModelDir,
    pub add_folders: Vec<PathBuf>,
}

impl Options {
    pub fn from_args(args: impl Iterator<Item = OsString>) -> Result<Options, String> {
        let mut options = Options { library: library::default_dir(), models: ModelDir::from_env(), add_folders: vec![] };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().map(PathBuf::from).ok_or_else(|| format!("{name} needs a folder"));
            match arg.to_str() {
                Some("--library") => options.library = value("--library")?,
                Some("--models") => options.models = ModelDir::new(value("--models")?),
                Some("--add-folder") => options.add_folders.push(value("--add-folder")?),
                Some("-h" | "--help") => return Err("help".into()),
                _ => return Err(format!("unknown argument {arg:?}")),
            }
        }
        Ok(options)
    }
}
