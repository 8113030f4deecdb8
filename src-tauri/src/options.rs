//! Command-line options of the app.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use photofinder_core::{library, ModelDir};

pub const USAGE: &str = "usage: photofinder-app [--library DIR] [--models DIR] [--add-folder DIR]... [--query] [FILE]...

  --library DIR      the library (default: $PHOTOFINDER_LIBRARY or ~/.local/share/photofinder/library)
  --models DIR       installed models (default: $PHOTOFINDER_MODELS_DIR or ~/.local/share/photofinder/models,
                     then the ones installed with the app)
  --add-folder DIR   watch this folder too, as if picked with \"Add folder\"
  --query FILE       search with this photo, as if dropped onto the window (so does a FILE on its own)
  --version          the app's version and its models'

When photofinder is running already, it comes forward and searches with FILE instead.";

pub struct Options {
    pub library: PathBuf,
    pub models: ModelDir,
    pub add_folders: Vec<PathBuf>,
    /// Photos to search with, absolute.
    pub queries: Vec<PathBuf>,
}

impl Options {
    /// The app's arguments (without the program's name); relative paths are
    /// taken from `cwd`, which for a second launch is that launch's folder.
    pub fn from_args(args: impl Iterator<Item = OsString>, cwd: &Path) -> Result<Options, String> {
        let mut options =
            Options { library: library::default_dir(), models: ModelDir::from_env(), add_folders: vec![], queries: vec![] };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let mut value = |name: &str, what: &str| {
                args.next().map(|v| path_arg(&v, cwd)).ok_or_else(|| format!("{name} needs {what}"))
            };
            match arg.to_str() {
                Some("--library") => options.library = value("--library", "a folder")?,
                Some("--models") => options.models = ModelDir::new(value("--models", "a folder")?),
                Some("--add-folder") => options.add_folders.push(value("--add-folder", "a folder")?),
                Some("--query") => options.queries.push(value("--query", "a photo")?),
                Some("-h" | "--help") => return Err("help".into()),
                Some("-V" | "--version") => return Err("version".into()),
                // A file manager's "Open with" passes the files alone.
                Some(a) if !a.starts_with('-') => options.queries.push(path_arg(&arg, cwd)),
                None if !arg.as_encoded_bytes().starts_with(b"-") => options.queries.push(path_arg(&arg, cwd)),
                _ => return Err(format!("unknown argument {arg:?}")),
            }
        }
        Ok(options)
    }
}

/// A path given on the command line: a path (relative to `cwd`) or a
/// `file://` URI, as some file managers pass and as `utf8_args` writes.
fn path_arg(arg: &OsStr, cwd: &Path) -> PathBuf {
    arg.to_str().and_then(crate::uri::file_uri).unwrap_or_else(|| cwd.join(arg))
}

/// `args` with each one that is not UTF-8 (a file name in another
/// encoding) written as its `file://` URI, which keeps every byte; `None`
/// when all are UTF-8. A second launch hands its arguments to the running
/// window as strings (D-Bus carries UTF-8 only), so such a name would
/// otherwise arrive mangled.
pub fn utf8_args(args: &[OsString], cwd: &Path) -> Option<Vec<OsString>> {
    if args.iter().all(|a| a.to_str().is_some()) {
        return None;
    }
    Some(args.iter().map(|a| if a.to_str().is_some() { a.clone() } else { crate::uri::to_string(&cwd.join(a)).into() }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::from_args(args.iter().map(OsString::from), Path::new("/home/u/Pictures"))
    }

    #[test]
    fn a_file_alone_or_after_query_is_a_query_taken_from_the_launch_folder() {
        let o = parse(&["--library", "/lib", "--query", "cat.jpg", "/tmp/dog.png", "--add-folder", "trip"]).unwrap();
        assert_eq!(o.library, PathBuf::from("/lib"));
        assert_eq!(o.queries, [PathBuf::from("/home/u/Pictures/cat.jpg"), PathBuf::from("/tmp/dog.png")]);
        assert_eq!(o.add_folders, [PathBuf::from("/home/u/Pictures/trip")]);
        assert!(parse(&[]).unwrap().queries.is_empty());
    }

    #[test]
    fn a_missing_value_or_an_unknown_flag_is_an_error() {
        assert_eq!(parse(&["--query"]).err().unwrap(), "--query needs a photo");
        assert!(parse(&["--frobnicate"]).err().unwrap().contains("unknown argument"));
        assert_eq!(parse(&["--version"]).err().unwrap(), "version");
    }

    #[test]
    fn a_file_name_that_is_not_utf8_travels_as_a_uri_and_comes_back_byte_for_byte() {
        use std::os::unix::ffi::OsStringExt;
        let cwd = Path::new("/home/u/Pictures");
        let latin1 = OsString::from_vec(b"caf\xe9 #1%.png".to_vec());
        let args = vec![OsString::from("--library"), OsString::from("/lib"), latin1.clone()];
        let written = utf8_args(&args, cwd).expect("one is not UTF-8");
        assert!(written.iter().all(|a| a.to_str().is_some()), "{written:?}");
        assert_eq!(written[..2], args[..2], "UTF-8 arguments stay as they are");
        let options = Options::from_args(written.into_iter(), Path::new("/elsewhere")).unwrap();
        assert_eq!(options.queries, [cwd.join(&latin1)]);
        assert_eq!(utf8_args(&args[..2], cwd), None);
        // As a file manager passes it (%U).
        assert_eq!(parse(&["file:///tmp/a%20b.jpg"]).unwrap().queries, [PathBuf::from("/tmp/a b.jpg")]);
    }
}
