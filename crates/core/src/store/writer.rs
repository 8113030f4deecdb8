//! The only code that writes a vector store.
//!
//! The catalog is written first and is the truth; the store follows. What a
//! store cannot take now (Milvus down, a broken connection) goes to the
//! catalog's outbox, so the catalog never waits for the store, and the
//! outbox is drained when the store is next opened (`reconcile`), which also
//! repairs whatever a crash between the two writes left behind.

use std::collections::HashSet;

use crate::catalog::{Catalog, FileId, FileRow};
use crate::error::{Error, Result};
use crate::progress::{Event, Sink};

use super::{Point, PointMeta, VectorStore};

/// The store's point for a catalogued file (or video moment) and its vector.
pub fn point(row: &FileRow, vector: Vec<f32>) -> Point {
    Point {
        id: row.id,
        vector,
        meta: PointMeta { path: row.path.clone(), taken_at: row.taken_at, format: row.format.clone().unwrap_or_default() },
    }
}

/// Whether a write reached the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Stored,
    /// Queued in the outbox: there was no store, or it failed (said through
    /// the sink, and `store` is then set to `None` for the rest of the run).
    Behind,
}

/// Delete `deletes` and upsert `upserts` in `model`'s store; what it cannot
/// take goes to the outbox. Errors other than the store's own propagate.
pub fn write(
    catalog: &Catalog,
    model: &str,
    store: &mut Option<&mut dyn VectorStore>,
    upserts: &[Point],
    deletes: &[FileId],
    sink: Sink,
) -> Result<Written> {
    if upserts.is_empty() && deletes.is_empty() {
        return Ok(Written::Stored);
    }
    if let Some(s) = store.as_mut() {
        let result = (|| {
            if !deletes.is_empty() {
                s.delete(deletes)?;
            }
            if !upserts.is_empty() {
                s.upsert(upserts)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => return Ok(Written::Stored),
            Err(e @ Error::Store(_)) => {
                sink(Event::StoreBehind { error: e.to_string() });
                *store = None;
            }
            Err(e) => return Err(e),
        }
    }
    let ids: Vec<FileId> = upserts.iter().map(|p| p.id).chain(deletes.iter().copied()).collect();
    catalog.outbox_add(model, &ids)?;
    Ok(Written::Behind)
}

/// Bring `store` in line with the catalog's embedded files for `model`: add
/// what it lacks, drop what the catalog no longer has, and write again what
/// the outbox holds. Returns (added, removed).
pub fn reconcile(catalog: &Catalog, model: &str, store: &mut dyn VectorStore) -> Result<(usize, usize)> {
    let want: HashSet<FileId> = catalog.embedded_ids(model)?.into_iter().collect();
    let have: HashSet<FileId> = store.ids()?.into_iter().collect();
    // Writes that failed earlier are made again whatever the store holds for
    // them now: a point may be there with an old path or an old vector.
    let outbox = catalog.outbox(model)?;
    let extra: Vec<FileId> = have.difference(&want).copied().collect();
    let mut missing: HashSet<FileId> = want.difference(&have).copied().collect();
    missing.extend(outbox.iter().filter(|id| want.contains(id)));
    if !extra.is_empty() {
        store.delete(&extra)?;
    }
    if !missing.is_empty() {
        let mut batch = Vec::new();
        catalog.embedded_files(model, |row, vector| {
            if missing.contains(&row.id) {
                batch.push(point(&row, vector));
            }
            Ok(())
        })?;
        for chunk in batch.chunks(1000) {
            store.upsert(chunk)?;
        }
    }
    catalog.outbox_done(model, &outbox)?;
    Ok((missing.len(), extra.len()))
}
