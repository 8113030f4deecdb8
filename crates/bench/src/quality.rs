//! Retrieval quality on a labelled photo set: leave-one-out precision@10 and
//! mAP@10 of image search, text search by class name, and near-duplicate
//! recall@6 on variants made here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use photofinder_core::explore::{quality, ExploreOptions, Layout};
use photofinder_core::store::Filter;
use photofinder_core::{Cancel, Library, ModelDir, TextMethod};

use crate::data::LabelledSet;
use crate::variants;

pub const K: usize = 10;
/// Near-duplicate originals taken from the set.
const ORIGINALS: usize = 50;

#[derive(Debug, Clone)]
pub struct Quality {
    pub model: String,
    pub photos: usize,
    pub precision: f64,
    /// mAP@10 normalised by min(relevant photos, 10): the standard AP@k.
    pub map: f64,
    /// mAP@10 normalised by the relevant results retrieved.
    pub map_retrieved: f64,
    /// Per class, phrasing and method: precision@10 of text search (labels
    /// word for word, labels by words and meaning, or CLIP's text tower).
    pub text: Vec<TextScore>,
    pub near_duplicate_recall: f64,
    /// Duplicate grouping at each threshold.
    pub grouping: Vec<Grouping>,
    /// Time to find the duplicate groups at the default threshold (perceptual
    /// hashes already made), against one store search per photo (k = 16),
    /// the way it is done on Milvus, in the same run.
    pub duplicates_time: DuplicatesTime,
    /// The map, neighbour-preserving and PCA, side by side.
    pub maps: Vec<MapQuality>,
}

/// Text search for one class, one phrasing, one method.
#[derive(Debug, Clone)]
pub struct TextScore {
    pub class: String,
    /// "name", "a photo of a ..." or "plain words".
    pub phrasing: &'static str,
    pub query: String,
    pub method: TextMethod,
    pub precision: f64,
    pub millis: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct DuplicatesTime {
    pub photos: usize,
    pub groups: usize,
    pub seconds: f64,
    pub per_photo_search_seconds: f64,
}

/// How well a map keeps the set's classes apart.
#[derive(Debug, Clone)]
pub struct MapQuality {
    pub layout: Layout,
    /// Share of each labelled photo's 10 nearest labelled photos on the map
    /// that have its label.
    pub agreement: f64,
    /// The same in the model's full space.
    pub full_agreement: f64,
    /// Top-level clusters against the labels (unclustered photos as one more cluster).
    pub nmi: f64,
    /// k-means on the map with k = the number of labels (how published
    /// layouts are compared; the app does not know k).
    pub nmi_at_label_count: f64,
    pub clusters: usize,
    pub unclustered: usize,
    pub seconds: f64,
}

/// The map of `lib` (already indexed with `model`), measured on the labelled photos.
/// `full_agreement`: the full space's figure when it is known already.
fn map_quality(lib: &mut Library, model: &str, label_of: &HashMap<PathBuf, &str>, layout: Layout, full_agreement: Option<f64>) -> Result<MapQuality> {
    let started = Instant::now();
    let map = lib.explore(&ExploreOptions { layout, ..Default::default() })?;
    let seconds = started.elapsed().as_secs_f64();
    let names: Vec<&str> = {
        let mut n: Vec<&str> = label_of.values().copied().collect();
        n.sort();
        n.dedup();
        n
    };
    let label_id = |l: &str| names.iter().position(|n| *n == l).unwrap() as u32;
    let mut vectors: HashMap<i64, Vec<f32>> = HashMap::new();
    lib.catalog().embedded_files(model, |row, v| {
        if label_of.contains_key(&row.path) {
            vectors.insert(row.id, v);
        }
        Ok(())
    })?;
    let (mut xy, mut full, mut labels, mut clusters) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in &map.points {
        let (Some(label), Some(v)) = (label_of.get(&p.path), vectors.get(&p.id)) else { continue };
        xy.extend([p.x, p.y]);
        full.extend_from_slice(v);
        labels.push(label_id(label));
        clusters.push(p.cluster.map_or(u32::MAX, |c| c as u32));
    }
    let dim = full.len() / labels.len().max(1);
    Ok(MapQuality {
        layout,
        agreement: quality::neighbour_agreement(&xy, 2, &labels, K)?,
        full_agreement: match full_agreement {
            Some(f) => f,
            None => quality::neighbour_agreement(&full, dim, &labels, K)?,
        },
        nmi: quality::nmi(&labels, &clusters),
        nmi_at_label_count: quality::nmi_at_label_count(&xy, &labels, 7),
        clusters: map.clusters.iter().filter(|c| c.parent.is_none()).count(),
        unclustered: map.unclustered,
        seconds,
    })
}

/// Thresholds the grouping is scored at; the library's default is among them.
pub const GROUPING_THRESHOLDS: &[f32] = &[0.05, 0.08, 0.10, 0.12, 0.14, 0.16, 0.20];

#[derive(Debug, Clone)]
pub struct Grouping {
    /// Max cosine distance.
    pub threshold: f32,
    /// Of the pairs put in one group, the share that are one original or its variants.
    pub precision: f64,
    /// Of the pairs that are one original or its variants, the share put in one group.
    pub recall: f64,
    /// Per variant kind: the share of originals grouped with that variant.
    pub by_kind: Vec<(&'static str, f64)>,
}

/// Index `set` (and near-duplicate variants of some of its photos) with
/// `model` into a library under `work`, kept between runs, and evaluate.
pub fn evaluate(models: &ModelDir, set: &LabelledSet, model: &str, work: &Path) -> Result<Quality> {
    let root = work.join(format!("eval-{}-{model}", set_name(set)));
    let variants_dir = root.join("near-duplicates");
    let originals = set.spread(ORIGINALS);
    make_variants(&originals, &variants_dir)?;
    let mut lib = Library::open(root.join("library"), models.clone())?;
    lib.set_model(model)?;
    lib.add_folder(&set.root)?;
    lib.add_folder(&variants_dir)?;
    eprintln!("quality: indexing {} photos with {model} ...", set.photos.len() + originals.len() * variants::KINDS.len());
    lib.index(&|_| {}, &Cancel::new())?;

    let label_of: HashMap<PathBuf, &str> =
        set.photos.iter().filter_map(|(p, l)| Some((p.canonicalize().ok()?, l.as_str()))).collect();
    let (vectors, path_of) = library_vectors(&lib, model)?;

    // Leave-one-out over the labelled photos: every other photo is a candidate.
    let store = lib.store()?;
    let (mut precision, mut ap, mut ap_retrieved, mut queries) = (0.0, 0.0, 0.0, 0usize);
    let mut per_label: HashMap<&str, usize> = HashMap::new();
    for l in label_of.values() {
        *per_label.entry(l).or_default() += 1;
    }
    let only_set = Filter { folders: vec![set.root.canonicalize()?], ..Default::default() };
    for (id, path, v) in &vectors {
        let Some(label) = label_of.get(path) else { continue };
        let filter = Filter { exclude: vec![*id], ..only_set.clone() };
        let hits = store.search(v, K, &filter)?;
        let relevant: Vec<bool> = hits.iter().map(|h| path_of.get(&h.id).and_then(|p| label_of.get(p)) == Some(label)).collect();
        precision += relevant.iter().filter(|r| **r).count() as f64 / K as f64;
        let (sum, retrieved) = precision_sum(&relevant);
        let others = per_label.get(label).copied().unwrap_or(1).saturating_sub(1);
        ap += sum / others.clamp(1, K) as f64;
        ap_retrieved += if retrieved == 0 { 0.0 } else { sum / retrieved as f64 };
        queries += 1;
    }

    // Near duplicates: an original's six variants should be its six nearest.
    let vector_of: HashMap<&Path, (i64, &Vec<f32>)> = vectors.iter().map(|(id, p, v)| (p.as_path(), (*id, v))).collect();
    let (mut found, mut wanted) = (0usize, 0usize);
    let variants_canon = variants_dir.canonicalize()?;
    for (i, original) in originals.iter().enumerate() {
        let Some(&(id, v)) = original.canonicalize().ok().as_deref().and_then(|p| vector_of.get(p)) else { continue };
        let hits = store.search(v, variants::KINDS.len(), &Filter { exclude: vec![id], ..Default::default() })?;
        let prefix = format!("{i:03}-");
        found += hits
            .iter()
            .filter_map(|h| path_of.get(&h.id))
            .filter(|p| p.starts_with(&variants_canon) && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
            .count();
        wanted += variants::KINDS.len();
    }

    // The baseline for the duplicates' time below: a search per photo.
    let started = Instant::now();
    for (_, _, v) in &vectors {
        std::hint::black_box(store.search(v, 16, &Filter::default())?);
    }
    let per_photo_search_seconds = started.elapsed().as_secs_f64();

    // Duplicate groups: pairs inside one group should be one original and
    // its variants (any two of them); every other pair is a false one.
    let family = |p: &Path| -> Option<usize> {
        if p.starts_with(&variants_canon) {
            return p.file_name()?.to_string_lossy().get(..3)?.parse().ok();
        }
        originals.iter().position(|o| o.canonicalize().ok().as_deref() == Some(p))
    };
    let kind_of = |p: &Path| -> Option<usize> {
        let name = p.file_stem()?.to_string_lossy().into_owned();
        variants::KINDS.iter().position(|k| name.ends_with(&format!("-{k}")))
    };
    let mut grouping = Vec::new();
    let mut duplicates_time = DuplicatesTime { photos: 0, groups: 0, seconds: f64::NAN, per_photo_search_seconds };
    for &threshold in GROUPING_THRESHOLDS {
        let started = Instant::now();
        let groups = lib.duplicates(threshold, &|_| {}, &Cancel::new())?;
        if threshold == photofinder_core::duplicates::DEFAULT_MAX_DISTANCE {
            duplicates_time.seconds = started.elapsed().as_secs_f64();
            duplicates_time.photos = groups.photos;
            duplicates_time.groups = groups.groups.len();
        }
        let (mut right, mut pairs) = (0usize, 0usize);
        let mut by_kind = vec![0usize; variants::KINDS.len()];
        for group in &groups.groups {
            let members: Vec<(Option<usize>, Option<usize>)> = group
                .photos
                .iter()
                .map(|p| (family(&p.photo.path), p.photo.path.starts_with(&variants_canon).then(|| kind_of(&p.photo.path)).flatten()))
                .collect();
            for (i, (a, kind_a)) in members.iter().enumerate() {
                for (b, kind_b) in &members[i + 1..] {
                    pairs += 1;
                    if a.is_some() && a == b {
                        right += 1;
                        // An original grouped with one of its variants.
                        match (kind_a, kind_b) {
                            (None, Some(k)) | (Some(k), None) => by_kind[*k] += 1,
                            _ => {}
                        }
                    }
                }
            }
        }
        let kinds = variants::KINDS.len() + 1;
        let wanted = originals.len() * kinds * (kinds - 1) / 2;
        grouping.push(Grouping {
            threshold,
            precision: right as f64 / pairs.max(1) as f64,
            recall: right as f64 / wanted.max(1) as f64,
            by_kind: variants::KINDS.iter().zip(by_kind).map(|(k, n)| (*k, n as f64 / originals.len().max(1) as f64)).collect(),
        });
    }

    // Text search by each class's three phrasings, within the labelled set.
    let clip = model == "clip-vit-b32";
    let methods: Vec<TextMethod> = if clip {
        models.status(model)?.text_installed.unwrap_or(false).then_some(vec![TextMethod::Clip]).unwrap_or_default()
    } else if models.status(model)?.spec.labels.is_some() {
        vec![TextMethod::Words, TextMethod::Labels]
    } else {
        Vec::new()
    };
    let mut text = Vec::new();
    for method in methods {
        for (label, phrasing, query) in class_queries(set, clip)? {
            let results = lib.search_text(&query, K, &only_set, Some(method))?;
            let right = results.hits.iter().filter(|h| label_of.get(&h.path) == Some(&label.as_str())).count();
            text.push(TextScore { class: label, phrasing, query, method, precision: right as f64 / K as f64, millis: results.millis });
        }
    }
    let umap = map_quality(&mut lib, model, &label_of, Layout::Umap, None)?;
    let pca = map_quality(&mut lib, model, &label_of, Layout::Pca, Some(umap.full_agreement))?;
    let maps = vec![umap, pca];
    Ok(Quality {
        maps,
        model: model.to_string(),
        photos: queries,
        precision: precision / queries.max(1) as f64,
        map: ap / queries.max(1) as f64,
        map_retrieved: ap_retrieved / queries.max(1) as f64,
        text,
        near_duplicate_recall: found as f64 / wanted.max(1) as f64,
        grouping,
        duplicates_time,
    })
}

/// The sum of the precision at each relevant result, and how many were
/// relevant. AP@k divides the sum by min(relevant in the set, k); some
/// write-ups (the reverse-image-search notebook among them) divide by the
/// relevant results retrieved, which scores higher: both are reported.
pub fn precision_sum(relevant: &[bool]) -> (f64, usize) {
    let (mut hits, mut sum) = (0usize, 0.0);
    for (i, r) in relevant.iter().enumerate() {
        if *r {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    (sum, hits)
}

/// (label, query) per class: the label itself, or for CLIP "a photo of a
/// {name}" with the set's `clip_classname` from `classes.csv` when it has one.
/// Each class of `set` in three phrasings: its name, "a photo of a NAME"
/// (CLIP's own class names where the set gives them), and plain words from
/// `phrasings/<set folder>.tsv` where there is such a file.
fn class_queries(set: &LabelledSet, clip: bool) -> Result<Vec<(String, &'static str, String)>> {
    let mut names: HashMap<String, String> = HashMap::new();
    let classes = set.root.join("classes.csv");
    if clip && classes.exists() {
        let mut reader = csv::Reader::from_path(&classes)?;
        let headers = reader.headers()?.clone();
        let col = |n: &str| headers.iter().position(|h| h == n);
        if let (Some(l), Some(c)) = (col("label"), col("clip_classname")) {
            for r in reader.records() {
                let r = r?;
                names.insert(r[l].to_string(), r[c].to_string());
            }
        }
    }
    let folder = set.root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let plain_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("phrasings").join(format!("{folder}.tsv"));
    let plain: HashMap<String, String> = std::fs::read_to_string(&plain_file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(label, query)| (label.to_string(), query.to_string()))
        .collect();
    let mut out = Vec::new();
    for label in set.labels() {
        let name = names.get(&label).unwrap_or(&label).clone();
        out.push((label.clone(), "name", name.clone()));
        out.push((label.clone(), "a photo of a ...", format!("a photo of a {name}")));
        if let Some(q) = plain.get(&label) {
            out.push((label.clone(), "plain words", q.clone()));
        }
    }
    Ok(out)
}

fn make_variants(originals: &[PathBuf], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for (i, original) in originals.iter().enumerate() {
        let mut img = None;
        for kind in variants::KINDS {
            let path = dir.join(format!("{i:03}-{kind}.jpg"));
            if path.exists() {
                continue;
            }
            if img.is_none() {
                img = Some(image::open(original).with_context(|| format!("cannot open {}", original.display()))?.into_rgb8());
            }
            std::fs::write(&path, variants::make(img.as_ref().unwrap(), kind))?;
        }
    }
    Ok(())
}

/// Every vector of `model` in the library, with its point id and path, and
/// the paths by id.
pub(crate) type Vectors = Vec<(i64, PathBuf, Vec<f32>)>;
pub(crate) fn library_vectors(lib: &Library, model: &str) -> Result<(Vectors, HashMap<i64, PathBuf>)> {
    let mut vectors = Vec::new();
    lib.catalog().embedded_files(model, |row, v| {
        vectors.push((row.id, row.path, v));
        Ok(())
    })?;
    let path_of = vectors.iter().map(|(id, p, _)| (*id, p.clone())).collect();
    Ok((vectors, path_of))
}

pub(crate) fn set_name(set: &LabelledSet) -> String {
    set.root.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "set".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_sums_follow_the_ranks_of_relevant_results() {
        assert_eq!(precision_sum(&[true, true, true]), (3.0, 3));
        assert_eq!(precision_sum(&[false, false]), (0.0, 0));
        // Relevant at ranks 2 and 4: 1/2 + 2/4.
        let (sum, hits) = precision_sum(&[false, true, false, true]);
        assert!((sum - 1.0).abs() < 1e-12 && hits == 2);
    }
}
