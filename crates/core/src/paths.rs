//! Paths in machine-readable output. A Linux file name is bytes, not text,
//! and serde refuses to write a `Path` that is not UTF-8; every path the core
//! serialises goes through here instead, so output never fails on a name.
//!
//! A path is always written as a string (invalid bytes shown as U+FFFD), so
//! front ends can show it. Where that string is not the path, the result
//! types also carry `path_bytes`: the exact bytes, in hex.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::ser::{SerializeMap, Serializer};

/// The path as text, for people.
pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The exact bytes of `path` in hex when they are not valid UTF-8.
pub fn bytes_if_not_utf8(path: &Path) -> Option<String> {
    path.to_str().is_none().then(|| path.as_os_str().as_bytes().iter().map(|b| format!("{b:02x}")).collect())
}

/// The inverse of the hex in `path_bytes`.
pub fn from_hex(hex: &str) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes?)))
}

/// `#[serde(serialize_with = "paths::lossy")]`: the path as a string.
pub fn lossy<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// `#[serde(serialize_with = "paths::lossy_opt")]`.
pub fn lossy_opt<S: Serializer>(path: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match path {
        Some(p) => lossy(p, s),
        None => s.serialize_none(),
    }
}

/// `#[serde(serialize_with = "paths::lossy_vec")]`.
pub fn lossy_vec<S: Serializer>(paths: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(paths.iter().map(|p| p.to_string_lossy()))
}

/// `#[serde(serialize_with = "paths::lossy_pairs")]`: (path, reason) pairs.
pub fn lossy_pairs<S: Serializer>(pairs: &[(PathBuf, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(pairs.iter().map(|(p, r)| (p.to_string_lossy(), r)))
}

/// `#[serde(flatten, serialize_with = "paths::path_field")]` on a field named
/// `path`: writes `"path"`, and `"path_bytes"` where the name is not UTF-8.
pub fn path_field<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    let bytes = bytes_if_not_utf8(path);
    let mut map = s.serialize_map(Some(1 + bytes.is_some() as usize))?;
    map.serialize_entry("path", &path.to_string_lossy())?;
    if let Some(bytes) = bytes {
        map.serialize_entry("path_bytes", &bytes)?;
    }
    map.end()
}

/// What `path_field` writes, as the TypeScript bindings see it.
#[derive(ts_rs::TS)]
pub struct PathField {
    pub path: String,
    /// The name's bytes in hex, where it is not UTF-8.
    #[ts(optional)]
    pub path_bytes: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[derive(serde::Serialize)]
    struct Row {
        id: i64,
        #[serde(flatten, serialize_with = "path_field")]
        path: PathBuf,
    }

    #[test]
    fn a_name_that_is_not_utf8_is_written_with_its_bytes() {
        let odd = PathBuf::from(std::ffi::OsString::from_vec(b"/p/caf\xe9.jpg".to_vec()));
        let json = serde_json::to_value(Row { id: 1, path: odd.clone() }).unwrap();
        assert_eq!(json["path"], "/p/caf\u{fffd}.jpg");
        assert_eq!(from_hex(json["path_bytes"].as_str().unwrap()), Some(odd));
        let plain = serde_json::to_value(Row { id: 2, path: "/p/café.jpg".into() }).unwrap();
        assert_eq!(plain["path"], "/p/café.jpg");
        assert!(plain.get("path_bytes").is_none());
    }
}
