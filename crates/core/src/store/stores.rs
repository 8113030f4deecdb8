//! The `Stores` part of a library: which store its vectors live in (a
//! setting in the catalog), the stores opened so far (one per model), and
//! keeping each in step with the catalog. Every write goes through
//! [`writer`](super::writer); this part only decides which store it goes to.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::writer::{self, Written};
use super::{EmbeddedStore, IndexConfig, MilvusConfig, MilvusStore, Point, VectorStore};
use crate::catalog::{Catalog, FileId};
use crate::error::{Error, Result};
use crate::lock::WriterLock;
use crate::models::ModelDir;
use crate::progress::{Event, Sink};
use ts_rs::TS;

/// How secrets are shown.
pub const REDACTED: &str = "***";

/// The catalog setting that holds the choice of store.
const SETTING: &str = "store";

/// Where vectors live: the embedded store (default) or a Milvus server.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, TS)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[ts(tag = "kind", rename_all = "lowercase")]
pub enum StoreChoice {
    Embedded,
    Milvus(Box<MilvusConfig>),
}

impl StoreChoice {
    /// For display: secrets blanked.
    pub fn redacted(&self) -> StoreChoice {
        match self {
            StoreChoice::Milvus(c) => StoreChoice::Milvus(Box::new(MilvusConfig {
                token: c.token.as_ref().map(|_| REDACTED.into()),
                password: c.password.as_ref().map(|_| REDACTED.into()),
                ..(**c).clone()
            })),
            other => other.clone(),
        }
    }

    /// Whether this store can be reached: a Milvus server's collections
    /// (changes nothing); the embedded store is always there.
    pub fn check(&self) -> Result<Vec<String>> {
        match self {
            StoreChoice::Embedded => Ok(Vec::new()),
            StoreChoice::Milvus(config) => MilvusStore::check(config),
        }
    }

    /// The choice saved in `catalog`; the embedded store when none is.
    pub fn saved(catalog: &Catalog) -> Result<StoreChoice> {
        match catalog.setting(SETTING)? {
            None => Ok(StoreChoice::Embedded),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| Error::CorruptSetting { what: "store setting", message: e.to_string() }),
        }
    }

    fn save(&self, catalog: &Catalog) -> Result<()> {
        let json = serde_json::to_string(self).map_err(Error::internal)?;
        catalog.set_setting(SETTING, &json)
    }
}

pub struct Stores {
    /// Where embedded stores keep their files.
    dir: PathBuf,
    open: HashMap<String, Box<dyn VectorStore>>,
    /// Only the library's writer repairs a store (see `get`).
    writer: Arc<WriterLock>,
    /// What opening each model's store repaired: (added, removed).
    repaired: HashMap<String, (usize, usize)>,
}

impl Stores {
    pub fn new(dir: PathBuf, writer: Arc<WriterLock>) -> Stores {
        Stores { dir, open: HashMap::new(), writer, repaired: HashMap::new() }
    }

    /// What opening `model`'s store had to repair to match the catalog;
    /// `None` before it was opened, or when another process was writing.
    pub fn repaired(&self, model: &str) -> Option<(usize, usize)> {
        self.repaired.get(model).copied()
    }

    /// `model`'s store, opened on first use and reconciled with the catalog
    /// (a crash or an outage may have left it behind).
    pub fn get(&mut self, catalog: &Catalog, model: &str) -> Result<&mut dyn VectorStore> {
        if !self.open.contains_key(model) {
            let mut store = self.connect(catalog, model)?;
            // Only the writer repairs the store: a reader reconciling while
            // another process writes could undo a point written a moment ago.
            // The writer keeps the store in step with what it changes.
            if let Some(_writing) = self.writer.try_acquire("reconciling the vector store of")? {
                let repaired = writer::reconcile(catalog, model, store.as_mut())?;
                self.repaired.insert(model.to_string(), repaired);
            }
            self.open.insert(model.to_string(), store);
        }
        Ok(self.open.get_mut(model).expect("inserted above").as_mut())
    }

    /// `model`'s store for a run of writes, or `None` when it cannot be
    /// reached now (said through `sink`: its writes wait in the outbox).
    pub fn for_writing(&mut self, catalog: &Catalog, model: &str, sink: Sink) -> Result<Option<&mut dyn VectorStore>> {
        match self.get(catalog, model) {
            Ok(_) => Ok(self.open.get_mut(model).map(|s| s.as_mut() as &mut dyn VectorStore)),
            Err(e @ Error::Store(_)) => {
                sink(Event::StoreBehind { error: e.to_string() });
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Forget `model`'s connection after a failed run of writes: the next
    /// use reconnects and drains the outbox.
    pub fn disconnect(&mut self, model: &str) {
        self.open.remove(model);
    }

    /// Write `upserts` and `deletes` to `model`'s store through the store
    /// writer: what the store cannot take now waits in the outbox, so the
    /// catalog never waits for the store.
    pub fn write(&mut self, catalog: &Catalog, model: &str, upserts: &[Point], deletes: &[FileId], sink: Sink) -> Result<()> {
        if upserts.is_empty() && deletes.is_empty() {
            return Ok(());
        }
        let mut store = self.for_writing(catalog, model, sink)?;
        if writer::write(catalog, model, &mut store, upserts, deletes, sink)? == Written::Behind {
            self.disconnect(model);
        }
        Ok(())
    }

    /// Make `model`'s store hold exactly the catalog's embedded files.
    pub fn reconcile(&mut self, catalog: &Catalog, model: &str) -> Result<(usize, usize)> {
        let store = self.get(catalog, model)?;
        writer::reconcile(catalog, model, store)
    }

    /// Move the library to another store. Nothing is re-embedded: the new
    /// store is filled from the catalog's vectors when it is first opened.
    ///
    /// A secret given as `***` (what `redacted` shows) keeps the stored one,
    /// so a front end can save other changes without asking for it again.
    pub fn set_choice(&mut self, catalog: &Catalog, choice: &StoreChoice) -> Result<()> {
        let mut choice = choice.clone();
        if let (StoreChoice::Milvus(new), Ok(StoreChoice::Milvus(old))) = (&mut choice, StoreChoice::saved(catalog)) {
            if new.token.as_deref() == Some(REDACTED) {
                new.token = old.token.clone();
            }
            if new.password.as_deref() == Some(REDACTED) {
                new.password = old.password.clone();
            }
        }
        choice.save(catalog)?;
        self.open.clear();
        Ok(())
    }

    /// Rebuild `model`'s Milvus index with another type or parameters (kept
    /// for the library); nothing is re-embedded.
    pub fn set_index(&mut self, catalog: &Catalog, model: &str, index: &IndexConfig) -> Result<()> {
        let StoreChoice::Milvus(mut config) = StoreChoice::saved(catalog)? else {
            return Err(Error::Config("the embedded store searches exactly; index types apply to Milvus".into()));
        };
        self.get(catalog, model)?.set_index(index)?;
        config.index = index.clone();
        StoreChoice::Milvus(config).save(catalog)
    }

    fn connect(&self, catalog: &Catalog, model: &str) -> Result<Box<dyn VectorStore>> {
        let spec = ModelDir::spec(model)?;
        Ok(match StoreChoice::saved(catalog)? {
            StoreChoice::Embedded => {
                let path = self.dir.join(format!("{}.db", spec.name));
                Box::new(EmbeddedStore::open(&path, spec.dim, spec.metric)?)
            }
            StoreChoice::Milvus(mut config) => {
                let expected = catalog.embedded_ids(&spec.name)?.len();
                let store = MilvusStore::open_sized(&config, &spec.name, spec.dim, spec.metric, expected)?;
                if let Some(resolved) = store.index().filter(|i| *i != config.index) {
                    // Keep what AUTO chose, so later opens search with its parameters.
                    config.index = resolved;
                    StoreChoice::Milvus(config).save(catalog)?;
                }
                Box::new(store)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PointMeta;

    fn point(id: FileId) -> Point {
        let mut vector = vec![0.0; 1280];
        vector[id as usize] = 1.0;
        Point { id, vector, meta: PointMeta { path: format!("/p/{id}.jpg").into(), taken_at: None, format: "jpeg".into() } }
    }

    #[test]
    fn a_redacted_secret_keeps_the_stored_one() {
        let tmp = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
        let mut stores = Stores::new(tmp.path().join("store"), WriterLock::new(tmp.path()));
        let config = MilvusConfig { token: Some("secret".into()), ..Default::default() };
        stores.set_choice(&catalog, &StoreChoice::Milvus(Box::new(config.clone()))).unwrap();
        let shown = StoreChoice::saved(&catalog).unwrap().redacted();
        let StoreChoice::Milvus(mut edited) = shown else { panic!("milvus expected") };
        assert_eq!(edited.token.as_deref(), Some(REDACTED));
        edited.uri = "http://other:19530".into();
        stores.set_choice(&catalog, &StoreChoice::Milvus(edited)).unwrap();
        let StoreChoice::Milvus(saved) = StoreChoice::saved(&catalog).unwrap() else { panic!("milvus expected") };
        assert_eq!((saved.uri.as_str(), saved.token.as_deref()), ("http://other:19530", Some("secret")));
        // A new secret replaces it; none removes it.
        stores.set_choice(&catalog, &StoreChoice::Milvus(Box::new(MilvusConfig { token: None, ..config }))).unwrap();
        let StoreChoice::Milvus(saved) = StoreChoice::saved(&catalog).unwrap() else { panic!("milvus expected") };
        assert_eq!(saved.token, None);
    }

    #[test]
    fn writes_to_an_unreachable_store_wait_in_the_outbox() {
        let tmp = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
        let mut stores = Stores::new(tmp.path().join("store"), WriterLock::new(tmp.path()));
        // Nothing listens on port 9 of this machine.
        let down = MilvusConfig { uri: "http://127.0.0.1:9".into(), ..Default::default() };
        stores.set_choice(&catalog, &StoreChoice::Milvus(Box::new(down))).unwrap();
        let behind = std::sync::atomic::AtomicBool::new(false);
        let sink = |e: Event| {
            if matches!(e, Event::StoreBehind { .. }) {
                behind.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        };
        stores.write(&catalog, "efficientnet-lite0", &[point(1), point(2)], &[3], &sink).unwrap();
        assert!(behind.load(std::sync::atomic::Ordering::Relaxed));
        let mut waiting = catalog.outbox("efficientnet-lite0").unwrap();
        waiting.sort();
        assert_eq!(waiting, vec![1, 2, 3]);
    }

    #[test]
    fn the_embedded_store_is_opened_once_per_model() {
        let tmp = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
        let mut stores = Stores::new(tmp.path().join("store"), WriterLock::new(tmp.path()));
        stores.write(&catalog, "efficientnet-lite0", &[point(1)], &[], &|_| {}).unwrap();
        assert_eq!(stores.get(&catalog, "efficientnet-lite0").unwrap().len().unwrap(), 1);
        assert!(tmp.path().join("store/efficientnet-lite0.db").exists());
        assert!(catalog.outbox("efficientnet-lite0").unwrap().is_empty());
    }
}
