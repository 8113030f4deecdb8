//! Which files a window's queries may read.
//!
//! The desktop app's front end is a web page: whatever it asks for by path,
//! the core would open. A query may therefore read only files the person
//! handed over (dropped onto the window, chosen in a file picker, given on the
//! command line) and files in watched folders; any other path is refused,
//! whatever the page asks. The CLI does not use this: its user names files
//! directly.
//!
//! The rule only: the catalog says what is watched, the front end what was
//! handed over.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::refine::Example;

#[derive(Debug, Default)]
pub struct QueryAccess {
    /// Handed over by the person, as given and canonical.
    granted: Mutex<HashSet<PathBuf>>,
}

impl QueryAccess {
    pub fn new() -> QueryAccess {
        QueryAccess::default()
    }

    /// The person handed these files over (a drop, a picker, an argument).
    pub fn grant(&self, paths: impl IntoIterator<Item = PathBuf>) {
        let mut granted = self.granted.lock().unwrap_or_else(|p| p.into_inner());
        for path in paths {
            if let Ok(canonical) = std::fs::canonicalize(&path) {
                granted.insert(canonical);
            }
            granted.insert(path);
        }
    }

    fn is_granted(&self, path: &Path) -> bool {
        self.granted.lock().unwrap_or_else(|p| p.into_inner()).contains(path)
    }

    /// `Ok` when a query may read `path`.
    pub fn check(&self, catalog: &Catalog, path: &Path) -> Result<()> {
        if self.is_granted(path) {
            return Ok(());
        }
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if self.is_granted(&canonical) || catalog.folder_for(&canonical)?.is_some() {
            return Ok(());
        }
        Err(Error::NotPermitted(path.to_path_buf()))
    }

    /// What a query starts from: a library photo or moment by id, or a file
    /// the window may read.
    pub fn example(&self, catalog: &Catalog, id: Option<i64>, path: Option<PathBuf>) -> Result<Example> {
        match (id, path) {
            (Some(id), _) => Ok(Example::Id(id)),
            (None, Some(path)) => {
                self.check(catalog, &path)?;
                Ok(Example::Path(path))
            }
            (None, None) => Err(Error::BadQuery("the query names no photo".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_handed_over_files_and_watched_folders_may_be_read() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let (watched, elsewhere) = (root.join("photos"), root.join("elsewhere"));
        std::fs::create_dir_all(&watched).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        for p in [watched.join("a.jpg"), elsewhere.join("b.jpg"), elsewhere.join("c.jpg")] {
            std::fs::write(p, b"x").unwrap();
        }
        let catalog = Catalog::open_in_memory().unwrap();
        catalog.add_folder(&watched).unwrap();
        let access = QueryAccess::new();

        assert!(access.check(&catalog, &watched.join("a.jpg")).is_ok(), "in a watched folder");
        // Through `..` the path leaves the watched folder: refused.
        let sneaky = watched.join("../elsewhere/b.jpg");
        let refused = access.check(&catalog, &sneaky).unwrap_err();
        assert!(matches!(refused, Error::NotPermitted(_)));
        assert!(refused.to_string().contains("neither dropped onto the window nor is in a watched folder"));

        access.grant([elsewhere.join("b.jpg")]);
        assert!(access.check(&catalog, &sneaky).is_ok(), "granted, whichever way it is named");
        assert!(access.check(&catalog, &elsewhere.join("c.jpg")).is_err(), "only what was handed over");

        assert!(matches!(access.example(&catalog, Some(7), None), Ok(Example::Id(7))));
        assert!(matches!(access.example(&catalog, None, None), Err(Error::BadQuery(_))));
        assert!(matches!(access.example(&catalog, None, Some(elsewhere.join("c.jpg"))), Err(Error::NotPermitted(_))));
    }
}
