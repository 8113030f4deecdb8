//! The default store: in-process, persisted in its own SQLite file.
//!
//! Memory holds each vector as 8-bit codes (see `int8`) in one contiguous
//! array: a search is a single pass over a quarter of the bytes f32 would
//! take, and a library of 100k photos stays small. The pass picks the best
//! candidates; they are re-ranked with their exact vectors, read from the
//! SQLite file, so the distances returned are exact and the order is exact
//! among the candidates. The file makes every change durable and is read
//! back at start.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use super::int8::{Codes, Query};
use super::{Filter, Hit, Point, PointMeta, VectorStore};
use crate::catalog::{blob_to_vector, vector_to_blob, FileId};
use crate::error::{Error, Result};
use crate::models::Metric;

pub struct EmbeddedStore {
    conn: Connection,
    metric: Metric,
    dim: usize,
    ids: Vec<FileId>,
    metas: Vec<PointMeta>,
    codes: Codes,
    slot: HashMap<FileId, usize>,
}

/// Candidates re-ranked exactly per search: the code pass's error is far
/// below the gaps between near neighbours, so a few dozen beyond `k` keep
/// recall at (measured) 1.0; see BENCHMARKS.md.
fn candidates(k: usize) -> usize {
    (2 * k).max(k + 40)
}

/// Stores this large are scanned on several threads: the scan is bound by
/// arithmetic and memory bandwidth, and the threads cost ~50 us to start.
const PARALLEL_FROM: usize = 32_768;

impl EmbeddedStore {
    /// Open (or create) the store at `path` for vectors of `dim` dimensions.
    pub fn open(path: &Path, dim: usize, metric: Metric) -> Result<EmbeddedStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS points (
                 id INTEGER PRIMARY KEY, path BLOB NOT NULL, taken_at INTEGER,
                 format TEXT NOT NULL, vector BLOB NOT NULL);",
        )?;
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('dim', ?1)", [dim.to_string()])?;
        let stored: String = conn.query_row("SELECT value FROM meta WHERE key = 'dim'", [], |r| r.get(0))?;
        if stored != dim.to_string() {
            return Err(Error::Store(format!(
                "{} holds {stored}-d vectors, the model makes {dim}-d ones",
                path.display()
            )));
        }
        let mut store = EmbeddedStore {
            conn,
            metric,
            dim,
            ids: Vec::new(),
            metas: Vec::new(),
            codes: Codes::new(dim),
            slot: HashMap::new(),
        };
        store.load()?;
        Ok(store)
    }

    fn load(&mut self) -> Result<()> {
        let mut stmt = self.conn.prepare("SELECT id, path, taken_at, format, vector FROM points")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let vector = blob_to_vector(&r.get::<_, Vec<u8>>(4)?);
            if vector.len() != self.dim {
                continue; // a torn write from an older crash: reconcile restores it
            }
            let meta = PointMeta {
                path: PathBuf::from(OsString::from_vec(r.get(1)?)),
                taken_at: r.get(2)?,
                format: r.get(3)?,
            };
            let id: FileId = r.get(0)?;
            self.slot.insert(id, self.ids.len());
            self.ids.push(id);
            self.metas.push(meta);
            self.codes.push(&vector);
        }
        Ok(())
    }

    fn put_in_memory(&mut self, p: &Point) {
        match self.slot.get(&p.id) {
            Some(&i) => {
                self.codes.set(i, &p.vector);
                self.metas[i] = p.meta.clone();
            }
            None => {
                self.slot.insert(p.id, self.ids.len());
                self.ids.push(p.id);
                self.metas.push(p.meta.clone());
                self.codes.push(&p.vector);
            }
        }
    }

    fn remove_in_memory(&mut self, id: FileId) {
        let Some(i) = self.slot.remove(&id) else { return };
        let last = self.ids.len() - 1;
        if i != last {
            let moved = self.ids[last];
            self.ids.swap(i, last);
            self.metas.swap(i, last);
            self.slot.insert(moved, i);
        }
        self.codes.swap_remove(i);
        self.ids.pop();
        self.metas.pop();
    }
}

/// Min-heap entry for top-k selection: the worst of the best k sits on top.
#[derive(PartialEq)]
struct Scored(f32, FileId);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed so that BinaryHeap (a max-heap) keeps the smallest score on top;
        // ties broken by id for a stable order.
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent accumulators let the compiler vectorise the loop.
    let mut acc = [0.0f32; 8];
    let chunks = a.len() / 8 * 8;
    for (x, y) in a[..chunks].chunks_exact(8).zip(b[..chunks].chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for i in chunks..a.len() {
        sum += a[i] * b[i];
    }
    sum
}

impl VectorStore for EmbeddedStore {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    fn metric(&self) -> Metric {
        self.metric
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn upsert(&mut self, points: &[Point]) -> Result<()> {
        for p in points {
            if p.vector.len() != self.dim {
                return Err(Error::Store(format!("a {}-d vector for a {}-d store", p.vector.len(), self.dim)));
            }
        }
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO points(id, path, taken_at, format, vector) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for p in points {
                stmt.execute(params![
                    p.id,
                    p.meta.path.as_os_str().as_bytes(),
                    p.meta.taken_at,
                    p.meta.format,
                    vector_to_blob(&p.vector)
                ])?;
            }
        }
        tx.commit()?;
        for p in points {
            self.put_in_memory(p);
        }
        Ok(())
    }

    fn delete(&mut self, ids: &[FileId]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM points WHERE id = ?1")?;
            for id in ids {
                stmt.execute([id])?;
            }
        }
        tx.commit()?;
        for &id in ids {
            self.remove_in_memory(id);
        }
        Ok(())
    }

    fn search(&self, query: &[f32], k: usize, filter: &Filter) -> Result<Vec<Hit>> {
        if query.len() != self.dim {
            return Err(Error::Store(format!("a {}-d query for a {}-d store", query.len(), self.dim)));
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        // Pass 1: approximate scores from the codes, best `candidates(k)`
        // kept; large stores are scanned in parallel halves.
        let want = candidates(k);
        let query_codes = Query::new(query);
        // Only these are shared with the scan threads (the connection is not Sync).
        let (codes, ids, metas) = (&self.codes, &self.ids, &self.metas);
        let scan = |range: std::ops::Range<usize>| {
            let mut heap = BinaryHeap::with_capacity(want + 1);
            let check = !filter.is_empty();
            codes.for_each_dot_in(range, &query_codes, |i, s| {
                if check && !filter.accepts(ids[i], &metas[i]) {
                    return;
                }
                if heap.len() < want {
                    heap.push(Scored(s, ids[i]));
                } else if heap.peek().is_some_and(|w| s > w.0) {
                    heap.pop();
                    heap.push(Scored(s, ids[i]));
                }
            });
            heap.into_vec()
        };
        let n = self.ids.len();
        let threads = if n >= PARALLEL_FROM { std::thread::available_parallelism().map_or(1, |t| t.get()).min(4) } else { 1 };
        let mut found: Vec<Scored> = if threads > 1 {
            let chunk = n.div_ceil(threads);
            std::thread::scope(|s| {
                let parts: Vec<_> = (0..threads).map(|t| s.spawn(move || scan(t * chunk..((t + 1) * chunk).min(n)))).collect();
                parts.into_iter().flat_map(|p| p.join().expect("scan thread")).collect()
            })
        } else {
            scan(0..n)
        };
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        found.truncate(want);
        // Pass 2: exact scores for the candidates, from the file.
        let mut stmt = self.conn.prepare_cached("SELECT vector FROM points WHERE id = ?1")?;
        let mut best = Vec::with_capacity(found.len());
        for Scored(_, id) in found {
            let blob: Option<Vec<u8>> = stmt.query_row([id], |r| r.get(0)).map(Some).or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?;
            let Some(vector) = blob.map(|b| blob_to_vector(&b)).filter(|v| v.len() == self.dim) else { continue };
            best.push(Scored(dot(query, &vector), id));
        }
        best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        best.truncate(k);
        Ok(best.into_iter().map(|Scored(s, id)| Hit::from_dot(id, s, self.metric)).collect())
    }

    fn similar_pairs(
        &self,
        min_dot: f32,
        progress: &(dyn Fn(f64) + Sync),
        cancel: &crate::progress::Cancel,
    ) -> Option<Result<Vec<(FileId, FileId)>>> {
        Some(match self.codes.similar_pairs(min_dot, progress, cancel) {
            Some(pairs) => Ok(pairs.into_iter().map(|(i, j)| (self.ids[i], self.ids[j])).collect()),
            None => Err(Error::Cancelled),
        })
    }

    fn ids(&self) -> Result<Vec<FileId>> {
        let mut ids = self.ids.clone();
        ids.sort_unstable();
        Ok(ids)
    }

    fn len(&self) -> Result<usize> {
        Ok(self.ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(id: FileId, v: [f32; 3], path: &str, taken: Option<i64>, format: &str) -> Point {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        Point {
            id,
            vector: v.iter().map(|x| x / n).collect(),
            meta: PointMeta { path: path.into(), taken_at: taken, format: format.into() },
        }
    }

    fn sample(dir: &Path) -> EmbeddedStore {
        let mut s = EmbeddedStore::open(&dir.join("s.db"), 3, Metric::Cosine).unwrap();
        s.upsert(&[
            point(1, [1.0, 0.0, 0.0], "/a/1.jpg", Some(100), "jpeg"),
            point(2, [0.9, 0.1, 0.0], "/a/2.png", Some(200), "png"),
            point(3, [0.0, 1.0, 0.0], "/b/3.jpg", None, "jpeg"),
            point(4, [0.7, 0.7, 0.0], "/b/4.jpg", Some(300), "jpeg"),
        ])
        .unwrap();
        s
    }

    #[test]
    fn exact_top_k_in_order_with_both_metrics() {
        let dir = tempfile::tempdir().unwrap();
        let s = sample(dir.path());
        let hits = s.search(&[1.0, 0.0, 0.0], 3, &Filter::default()).unwrap();
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 2, 4]);
        assert!(hits[0].distance.abs() < 1e-6 && (hits[0].similarity - 1.0).abs() < 1e-6);
        let l2 = Hit::from_dot(9, 0.5, Metric::L2);
        assert!((l2.distance - 1.0).abs() < 1e-6, "unit vectors at 60 degrees are 1 apart");
        // A photo against itself, with f32 rounding above 1: 0, never -0.000.
        for metric in [Metric::Cosine, Metric::L2] {
            let own = Hit::from_dot(9, 1.0 + 3e-7, metric);
            assert!(own.distance == 0.0 && own.distance.is_sign_positive() && own.similarity == 1.0, "{own:?}");
        }
    }

    #[test]
    fn filters_by_folder_date_format_and_exclusion() {
        let dir = tempfile::tempdir().unwrap();
        let s = sample(dir.path());
        let q = [1.0, 0.0, 0.0];
        let ids = |f: Filter| s.search(&q, 10, &f).unwrap().into_iter().map(|h| h.id).collect::<Vec<_>>();
        assert_eq!(ids(Filter { folders: vec!["/b".into()], ..Default::default() }), vec![4, 3]);
        assert_eq!(ids(Filter { taken_after: Some(150), ..Default::default() }), vec![2, 4]);
        assert_eq!(ids(Filter { taken_before: Some(150), ..Default::default() }), vec![1]);
        assert_eq!(ids(Filter { formats: vec!["PNG".into()], ..Default::default() }), vec![2]);
        assert_eq!(ids(Filter { exclude: vec![1, 2], ..Default::default() }), vec![4, 3]);
        // A folder by its name, any case; a file's own name is not a folder.
        assert_eq!(ids(Filter { folder_names: vec!["B".into()], ..Default::default() }), vec![4, 3]);
        assert!(ids(Filter { folder_names: vec!["3.jpg".into()], ..Default::default() }).is_empty());
    }

    #[test]
    fn persists_deletes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sample(dir.path());
        s.delete(&[1]).unwrap();
        s.upsert(&[point(2, [0.0, 0.0, 1.0], "/a/2.png", None, "png")]).unwrap();
        drop(s);
        let s = EmbeddedStore::open(&dir.path().join("s.db"), 3, Metric::Cosine).unwrap();
        assert_eq!(s.ids().unwrap(), vec![2, 3, 4]);
        assert_eq!(s.search(&[0.0, 0.0, 1.0], 1, &Filter::default()).unwrap()[0].id, 2);
        assert!(EmbeddedStore::open(&dir.path().join("s.db"), 4, Metric::Cosine).is_err());
    }

    #[test]
    fn code_pass_and_exact_rerank_find_the_exact_top_k() {
        use rand::{rngs::StdRng, RngExt, SeedableRng};
        let dim = 256;
        let mut rng = StdRng::seed_from_u64(5);
        let centres: Vec<Vec<f32>> = (0..10).map(|_| (0..dim).map(|_| rng.random::<f32>() - 0.5).collect()).collect();
        let mut unit = |c: &Vec<f32>| {
            let v: Vec<f32> = c.iter().map(|m| m + 0.3 * (rng.random::<f32>() - 0.5)).collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect::<Vec<f32>>()
        };
        let vectors: Vec<Vec<f32>> = (0..3000).map(|i| unit(&centres[i % 10])).collect();
        let dir = tempfile::tempdir().unwrap();
        let mut s = EmbeddedStore::open(&dir.path().join("s.db"), dim, Metric::Cosine).unwrap();
        let points: Vec<Point> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| Point { id: i as i64, vector: v.clone(), meta: PointMeta { path: format!("/p/{i}").into(), taken_at: None, format: "jpeg".into() } })
            .collect();
        s.upsert(&points).unwrap();
        for q in (0..20).map(|i| unit(&centres[i % 10])) {
            let mut exact: Vec<(f32, i64)> = vectors.iter().enumerate().map(|(i, v)| (dot(&q, v), i as i64)).collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let hits = s.search(&q, 10, &Filter::default()).unwrap();
            assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), exact[..10].iter().map(|e| e.1).collect::<Vec<_>>());
            assert!((hits[0].similarity - exact[0].0).abs() < 1e-6, "distances come from the exact vectors");
        }
    }
}
