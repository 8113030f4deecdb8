//! Paths through strings without losing a byte.
//!
//! A Linux file name is bytes and need not be UTF-8, but the window's
//! messages (and D-Bus, which hands a second launch's arguments over) carry
//! strings. A path that is UTF-8 travels as itself; one that is not travels
//! as its `file://` URI, whose percent-escapes keep every byte. Whatever
//! takes a path from a string takes both.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

/// `path` as a string that `path` turns back into it exactly.
pub fn to_string(path: &Path) -> String {
    match path.to_str() {
        Some(s) => s.to_string(),
        None => url::Url::from_file_path(path).map(String::from).unwrap_or_else(|()| path.to_string_lossy().into_owned()),
    }
}

/// The path a string names: a `file://` URI decoded, anything else as it is.
pub fn path(s: &str) -> PathBuf {
    file_uri(s).unwrap_or_else(|| PathBuf::from(s))
}

/// The path of a `file://` URI (as file managers pass with `%U`, and as
/// `to_string` writes), or `None` if `s` is not one.
pub fn file_uri(s: &str) -> Option<PathBuf> {
    s.starts_with("file://").then(|| url::Url::parse(s).ok()?.to_file_path().ok()).flatten()
}

/// For serde: an optional path sent by the window.
pub fn optional_path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| path(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn a_path_that_is_not_utf8_survives_a_string_and_utf8_ones_stay_as_they_are() {
        let latin1 = PathBuf::from(std::ffi::OsString::from_vec(b"/p/caf\xe9 #1%.png".to_vec()));
        let s = to_string(&latin1);
        assert!(s.starts_with("file:///p/caf%E9"), "{s}");
        assert_eq!(path(&s), latin1);
        assert_eq!(to_string(Path::new("/p/café.png")), "/p/café.png");
        assert_eq!(path("/p/a%20b.png"), PathBuf::from("/p/a%20b.png"), "a plain path is not decoded");
        assert_eq!(path("file:///p/a%20b.png"), PathBuf::from("/p/a b.png"));
    }
}
