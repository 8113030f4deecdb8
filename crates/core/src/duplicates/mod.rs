//! Near-duplicate groups: exact copies (same content hash) first, then near
//! copies (resized, recompressed, lightly cropped or edited versions) whose
//! vectors are within a strict distance of each other.
//!
//! Vectors are compared all against all as int8 codes (the embedded store's
//! own, or for Milvus codes made from the catalog's copies of the vectors),
//! and the pairs found are confirmed with the exact vectors. Perceptual hashes of
//! the thumbnails are compared too (64-bit popcounts, all pairs: 100k photos
//! in seconds): they catch the heavily recompressed or resized copies whose
//! vectors drift. Pairs under either threshold are joined into groups
//! (union-find), so a group is every photo reachable through near-copy links.
//!
//! Videos are grouped by their keyframes (`videos.rs`).
//!
//! Uses the catalog, the stores and the thumbnails; trashing leaves the
//! catalog to the caller.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::catalog::{Catalog, FileId, FileRow, Hash, Photo};
use crate::error::{Error, Result};
use crate::progress::{Cancel, Meter, Phase, Sink};
use crate::store::int8::Codes;
use crate::store::Stores;
use crate::thumbs::Thumbnails;
use ts_rs::TS;

mod videos;

/// Cosine distance (1 - cos) under which two photos count as near copies
/// when no other is given (with it, up to 5 of 64 perceptual-hash bits may
/// differ). Chosen from the grouping's precision and recall on variants
/// (BENCHMARKS.md, "Duplicate groups"), with EfficientNet-Lite0: at 0.12,
/// 99.5% of grouped pairs are right and every mirrored, rotated,
/// recompressed, darker and greyscale copy is grouped; at 0.16 precision
/// falls to 59%, as different photos of one subject start to join.
pub const DEFAULT_MAX_DISTANCE: f32 = 0.12;
/// Slack on the codes' approximate dot products: their error is a fraction
/// of a percent, so no pair within the threshold is missed before the exact
/// check.
const APPROXIMATION: f32 = 0.02;

#[derive(Debug, Clone, Serialize, TS)]
pub struct DuplicatePhoto {
    #[serde(flatten)]
    #[ts(flatten)]
    pub photo: Photo,
    /// Cosine distance to the group's first photo (0 for exact copies).
    pub distance: f32,
    /// Bits of the perceptual hash (of 64) that differ from the first photo's.
    pub hash_bits: Option<u32>,
    /// Same content, byte for byte, as the group's first photo.
    pub exact: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DuplicateGroup {
    /// Most pixels first, then largest file, then oldest: the first is the
    /// one to keep when nothing else says otherwise.
    pub photos: Vec<DuplicatePhoto>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Duplicates {
    pub model: String,
    pub max_distance: f32,
    /// Photos compared (those with a vector of the model).
    pub photos: usize,
    /// Videos compared (by content, and by their keyframes moment by moment).
    pub videos: usize,
    pub groups: Vec<DuplicateGroup>,
}

#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct TrashReport {
    #[serde(serialize_with = "crate::paths::lossy_vec")]
    pub trashed: Vec<PathBuf>,
    /// Photos that could not be moved, with the reason; they stay indexed.
    #[serde(serialize_with = "crate::paths::lossy_pairs")]
    pub failed: Vec<(PathBuf, String)>,
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind((0..n).collect())
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

/// The order within a group: most pixels, then the largest file, then the
/// oldest, so the first is the one to keep.
fn keeper_first(f: &FileRow) -> impl Ord {
    let pixels = f.width.unwrap_or(0) as u64 * f.height.unwrap_or(0) as u64;
    (std::cmp::Reverse(pixels), std::cmp::Reverse(f.size), f.mtime_ns, f.id)
}

/// Distinct contents, each with the files that hold it.
struct Contents {
    all: Vec<(Hash, Vec<FileRow>)>,
    /// A file's content, by the file's id.
    of_id: HashMap<FileId, usize>,
}

impl Contents {
    fn of(rows: Vec<FileRow>) -> Contents {
        let mut index: HashMap<Hash, usize> = HashMap::new();
        let mut contents = Contents { all: Vec::new(), of_id: HashMap::new() };
        for row in rows {
            let Some(hash) = row.hash else { continue };
            let i = *index.entry(hash).or_insert_with(|| {
                contents.all.push((hash, Vec::new()));
                contents.all.len() - 1
            });
            contents.of_id.insert(row.id, i);
            contents.all[i].1.push(row);
        }
        contents
    }
}

/// What joins contents: the groups so far, the distances of vector pairs
/// within the threshold, and each content's perceptual hash.
struct Links {
    groups: UnionFind,
    near: HashMap<(usize, usize), f32>,
    phash: HashMap<usize, u64>,
}

/// The parts of a library that finding duplicates reads.
pub struct Finder<'a> {
    pub catalog: &'a Catalog,
    pub stores: &'a mut Stores,
    /// Perceptual hashes are made from thumbnails.
    pub thumbs: &'a Thumbnails,
    /// Whose vectors are compared.
    pub model: &'a str,
    /// Whether a RAW beside its JPEG counts as a copy of it (else the pair
    /// is one photo, shown as its JPEG).
    pub raw_pairs: bool,
}

impl Finder<'_> {
    /// Groups of exact and near copies among the indexed photos, by the
    /// active model's vectors. `max_distance` is a cosine distance.
    pub fn duplicates(&mut self, max_distance: f32, sink: Sink, cancel: &Cancel) -> Result<Duplicates> {
        if !(0.0..=1.0).contains(&max_distance) {
            return Err(Error::BadQuery(format!("{max_distance}: the distance must be between 0 and 1")));
        }
        let model = self.model.to_string();
        let contents = Contents::of(self.catalog.embedded_rows(&model)?);
        let mut links = Links { groups: UnionFind::new(contents.all.len()), near: HashMap::new(), phash: HashMap::new() };
        self.link_vectors(&contents, max_distance, &mut links, sink, cancel)?;
        if max_distance > 0.0 {
            self.link_phashes(&contents, max_distance, &mut links, cancel)?;
        }
        let mut out = self.groups_of(&contents, &mut links)?;
        let (videos, video_groups) = self.video_groups(&model, max_distance)?;
        out.extend(video_groups);
        // Largest groups first, then by their first photo's path.
        out.sort_by(|a, b| b.photos.len().cmp(&a.photos.len()).then_with(|| a.photos[0].photo.path.cmp(&b.photos[0].photo.path)));
        Ok(Duplicates { model, max_distance, photos: contents.of_id.len(), videos, groups: out })
    }

    /// Join contents whose vectors are near: pairs all against all over
    /// int8 codes (a hundred times faster than a search per photo),
    /// confirmed with the exact vectors. The embedded store has the codes in
    /// memory; for any other store (Milvus) they are made from the
    /// catalog's copies of the vectors.
    fn link_vectors(&mut self, contents: &Contents, max_distance: f32, links: &mut Links, sink: Sink, cancel: &Cancel) -> Result<()> {
        let mut meter = Meter::new(Phase::Comparing, contents.all.len() as u64);
        let progress = |share: f64| {
            let mut at = meter.clone();
            at.done = (share * at.total as f64) as u64;
            sink(at.event(None));
        };
        let min_dot = 1.0 - max_distance - APPROXIMATION;
        let in_store = match self.stores.get(self.catalog, self.model) {
            Ok(store) => store.similar_pairs(min_dot, &progress, cancel),
            // A Milvus that can't be reached: the catalog has the vectors.
            Err(Error::Store(_)) => None,
            Err(e) => return Err(e),
        };
        let pairs = match in_store {
            Some(pairs) => pairs?,
            None => self.catalog_pairs(self.model, &contents.of_id, min_dot, &progress, cancel)?,
        };
        let mut vectors: HashMap<usize, Option<Vec<f32>>> = HashMap::new();
        for (a, b) in pairs {
            let (Some(&i), Some(&j)) = (contents.of_id.get(&a), contents.of_id.get(&b)) else { continue };
            if i == j {
                continue;
            }
            for k in [i, j] {
                if let std::collections::hash_map::Entry::Vacant(e) = vectors.entry(k) {
                    e.insert(self.catalog.embedding(&contents.all[k].0, self.model)?);
                }
            }
            let (Some(Some(x)), Some(Some(y))) = (vectors.get(&i), vectors.get(&j)) else { continue };
            let distance = (1.0 - x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>()).max(0.0);
            if distance <= max_distance {
                links.groups.union(i, j);
                links.near.insert((i.min(j), i.max(j)), distance);
            }
        }
        meter.done = meter.total;
        sink(meter.event(None));
        Ok(())
    }

    /// Join contents whose perceptual hashes are near: from the catalog,
    /// else made from the thumbnail once.
    fn link_phashes(&self, contents: &Contents, max_distance: f32, links: &mut Links, cancel: &Cancel) -> Result<()> {
        let bits = crate::phash::max_bits(max_distance);
        let mut hashes: Vec<(usize, u64)> = Vec::with_capacity(contents.all.len());
        for (i, (hash, _)) in contents.all.iter().enumerate() {
            hashes.extend(self.perceptual_hash(hash)?.map(|b| (i, b)));
        }
        links.phash.extend(hashes.iter().copied());
        for (n, &(i, a)) in hashes.iter().enumerate() {
            if n % 4096 == 0 && cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            for &(j, b) in &hashes[n + 1..] {
                if crate::phash::distance(a, b) <= bits {
                    links.groups.union(i, j);
                }
            }
        }
        Ok(())
    }

    /// The groups of two files or more, each in keeper-first order with
    /// every member's distance to the first.
    fn groups_of(&self, contents: &Contents, links: &mut Links) -> Result<Vec<DuplicateGroup>> {
        let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
        for i in 0..contents.all.len() {
            members.entry(links.groups.find(i)).or_default().push(i);
        }
        let mut out = Vec::new();
        for (_, group) in members {
            let mut files: Vec<(usize, &FileRow)> =
                group.iter().flat_map(|&i| contents.all[i].1.iter().map(move |f| (i, f))).collect();
            if !self.raw_pairs {
                let mut kept = Vec::with_capacity(files.len());
                for (i, f) in files {
                    if !self.catalog.is_hidden_raw(f)? {
                        kept.push((i, f));
                    }
                }
                files = kept;
            }
            if files.len() < 2 {
                continue;
            }
            files.sort_by_key(|(_, f)| keeper_first(f));
            let (first, first_hash, first_id) = (files[0].0, contents.all[files[0].0].0, files[0].1.id);
            let first_vector = self.catalog.embedding(&first_hash, self.model)?;
            let mut photos = Vec::with_capacity(files.len());
            for (i, f) in files {
                let distance = if i == first {
                    0.0
                } else if let Some(d) = links.near.get(&(i.min(first), i.max(first))) {
                    *d
                } else {
                    // Joined through another member: measure it directly.
                    let v = self.catalog.embedding(&contents.all[i].0, self.model)?;
                    match (&first_vector, v) {
                        (Some(a), Some(b)) => (1.0 - a.iter().zip(&b).map(|(x, y)| x * y).sum::<f32>()).max(0.0),
                        _ => f32::NAN,
                    }
                };
                let hash_bits = match (links.phash.get(&first), links.phash.get(&i)) {
                    (Some(a), Some(b)) => Some(crate::phash::distance(*a, *b)),
                    _ => None,
                };
                let photo = self.catalog.photo_of(f.clone())?;
                photos.push(DuplicatePhoto { photo, distance, hash_bits, exact: i == first && f.id != first_id });
            }
            out.push(DuplicateGroup { photos });
        }
        Ok(out)
    }

    /// The perceptual hash of a content: from the catalog, else made from
    /// its thumbnail once and kept there.
    fn perceptual_hash(&self, hash: &Hash) -> Result<Option<u64>> {
        if let Some(bits) = self.catalog.phash(hash)? {
            return Ok(Some(bits));
        }
        let made = crate::phash::of_file(&self.thumbs.path(hash));
        if let Some(bits) = made {
            self.catalog.put_phash(hash, bits)?;
        }
        Ok(made)
    }

    /// `similar_pairs` over codes made from the catalog's vectors, one per
    /// distinct content (ids of the first file of each).
    fn catalog_pairs(
        &self,
        model: &str,
        content_of_id: &HashMap<FileId, usize>,
        min_dot: f32,
        progress: &(dyn Fn(f64) + Sync),
        cancel: &Cancel,
    ) -> Result<Vec<(FileId, FileId)>> {
        let mut codes: Option<Codes> = None;
        let mut ids = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.catalog.embedded_files(model, |row, vector| {
            if content_of_id.get(&row.id).is_some_and(|&c| seen.insert(c)) {
                codes.get_or_insert_with(|| Codes::new(vector.len())).push(&vector);
                ids.push(row.id);
            }
            Ok(())
        })?;
        let Some(codes) = codes else { return Ok(Vec::new()) };
        let pairs = codes.similar_pairs(min_dot, progress, cancel).ok_or(Error::Cancelled)?;
        Ok(pairs.into_iter().map(|(i, j)| (ids[i], ids[j])).collect())
    }
}

/// Move photos of the library to the system trash (never a hard delete:
/// undo is restoring them from the trash, after which they are indexed
/// again). The caller drops the trashed ones from the catalog and the store.
pub fn trash(catalog: &Catalog, ids: &[FileId]) -> Result<TrashReport> {
    let mut report = TrashReport::default();
    let mut rows = Vec::with_capacity(ids.len());
    for &id in ids {
        rows.push(catalog.file(id)?.ok_or(Error::NoSuchPhoto(id))?);
    }
    for row in rows {
        match trash::delete(&row.path) {
            Ok(()) => report.trashed.push(row.path),
            Err(e) => report.failed.push((row.path, e.to_string())),
        }
    }
    Ok(report)
}

