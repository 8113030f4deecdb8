//! Finding photos by typing: CLIP's text tower where it is installed, the
//! photos' ImageNet labels otherwise, matched to the query by its words,
//! WordNet's kinds and the sentence model's sense of meaning (`meaning`).
//! Every answer says which one it used and, for labels, which classes
//! answered.
//! Builds on `search` (the parts a query reads); the text tower itself is
//! in `embed`.
//!
//! Uses `search` for the parts and results; knows nothing of the `Library`.

mod meaning;
pub mod query;

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;

use crate::catalog::FileState;
use crate::error::{Error, Result};
use crate::models::labels::{self, ImageNetClass};
use crate::models::ModelDir;
use crate::search::{SearchHit, Searcher};
use crate::catalog::{FileId, FileRow};
use crate::store::{Filter, PointMeta};
use query::{Kind, Shape};
use ts_rs::TS;

pub use crate::embed::CLIP_MODEL;
pub use crate::models::labels::LABEL_MODEL;


#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum TextMethod {
    /// CLIP: text and photos in one embedding space.
    Clip,
    /// ImageNet labels from EfficientNet-Lite0, matched by words, kinds and
    /// (with the sentence model) meaning.
    Labels,
    /// ImageNet labels matched word for word only (names and definitions):
    /// label search as it first was, kept for comparison.
    Words,
}

impl std::str::FromStr for TextMethod {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "clip" => Ok(TextMethod::Clip),
            "labels" => Ok(TextMethod::Labels),
            "words" => Ok(TextMethod::Words),
            _ => Err(format!("{s:?}: use clip, labels or words")),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TextResults {
    pub query: String,
    pub method: TextMethod,
    pub model: String,
    /// For label search: the classes that answered, strongest first.
    pub matched: Vec<MatchedClass>,
    /// Why this method answered when the caller did not choose, e.g. how to
    /// get CLIP text search.
    pub note: Option<String>,
    /// What the query's operators asked for, in words ("without people",
    /// "taken 2023-01-01 to 2023-12-31", "type: heic"), for the window to show.
    pub understood: Vec<String>,
    pub hits: Vec<SearchHit>,
    pub millis: f64,
}

/// An ImageNet class that answered a label search.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MatchedClass {
    pub name: String,
    /// How much its probability counts in a photo's score (0..1).
    pub weight: f32,
    /// How near the query it is in meaning, where the sentence model chose it.
    pub similarity: Option<f32>,
}

/// Photos matching `input` (see `query` for its operators), by `method` or,
/// without one, by CLIP when the library has CLIP vectors and the text tower
/// is installed, else by labels.
pub fn search_text(
    searcher: &mut Searcher<'_>,
    input: &str,
    k: usize,
    filter: &Filter,
    method: Option<TextMethod>,
) -> Result<TextResults> {
    let started = Instant::now();
    let parsed = query::parse(input);
    let narrowing = Narrowing::new(filter, &parsed);
    let mut note = None;
    let mut clip = None;
    let method = match method {
        Some(TextMethod::Clip) => {
            clip = Some(clip_model(searcher)?);
            TextMethod::Clip
        }
        Some(m) => m,
        None => match answering_text_model(searcher)? {
            Ok(name) => {
                clip = Some(name);
                TextMethod::Clip
            }
            Err(why) => {
                note = Some(format!("answered by labels: {why}"));
                TextMethod::Labels
            }
        },
    };
    let mut results = if !parsed.has_meaning() {
        // Operators alone list what they let through; an empty query, nothing.
        let k = if parsed.narrows() { k } else { 0 };
        only_narrowed(searcher, k, &narrowing, method)?
    } else {
        match method {
            TextMethod::Clip => {
                let model = clip.clone().expect("chosen with the method");
                search_text_clip(searcher, &model, &parsed, k, &narrowing)?
            }
            TextMethod::Labels => search_text_labels(searcher, &parsed, k, &narrowing, true)?,
            TextMethod::Words => search_text_labels(searcher, &parsed, k, &narrowing, false)?,
        }
    };
    if method == TextMethod::Labels && !searcher.models.has_sentence_model() {
        let missing = "phrases are matched word for word: the sentence model is not installed (models/install.sh)";
        note = Some(match note {
            Some(n) => format!("{n}; {missing}"),
            None => missing.to_string(),
        });
    }
    results.query = input.to_string();
    results.note = note;
    results.understood = understood(&parsed);
    results.millis = started.elapsed().as_secs_f64() * 1000.0;
    Ok(results)
}

/// What a query asks of a photo beside its meaning: the store's filter
/// (dates, types, folders) and what only the catalog row says (shape, video).
struct Narrowing {
    filter: Filter,
    shape: Option<Shape>,
    kind: Option<Kind>,
}

impl Narrowing {
    fn new(base: &Filter, q: &query::Query) -> Narrowing {
        let mut filter = base.clone();
        filter.taken_after = [filter.taken_after, q.after].into_iter().flatten().max();
        filter.taken_before = [filter.taken_before, q.before].into_iter().flatten().min();
        filter.formats.extend(q.formats.iter().cloned());
        filter.folder_names.extend(q.folders.iter().cloned());
        Narrowing { filter, shape: q.shape, kind: q.kind }
    }

    /// True when some of it is checked on the results (so more are asked for).
    fn checks_results(&self) -> bool {
        self.shape.is_some() || self.kind.is_some()
    }

    fn keeps_shape_and_kind(&self, id: FileId, width: Option<u32>, height: Option<u32>) -> bool {
        let shape_ok = self.shape.is_none_or(|s| matches!((width, height), (Some(w), Some(h)) if Shape::of(w, h) == s));
        let kind_ok = self.kind.is_none_or(|k| (k == Kind::Video) == crate::catalog::is_frame_id(id));
        shape_ok && kind_ok
    }

    fn keeps(&self, row: &FileRow) -> bool {
        let meta = PointMeta { path: row.path.clone(), taken_at: row.taken_at, format: row.format.clone().unwrap_or_default() };
        row.state == FileState::Indexed
            && self.filter.accepts(row.id, &meta)
            && self.keeps_shape_and_kind(row.id, row.width, row.height)
    }
}

/// The operators of `q`, in words.
fn understood(q: &query::Query) -> Vec<String> {
    let day = query::day;
    let mut out = Vec::new();
    if !q.not.is_empty() {
        out.push(format!("without {}", q.not.join(", ")));
    }
    match (q.after, q.before) {
        (Some(a), Some(b)) => out.push(format!("taken {} to {}", day(a), day(b))),
        (Some(a), None) => out.push(format!("taken from {}", day(a))),
        (None, Some(b)) => out.push(format!("taken until {}", day(b))),
        (None, None) => {}
    }
    if !q.formats.is_empty() {
        out.push(format!("type: {}", q.formats.join(", ")));
    }
    if !q.folders.is_empty() {
        out.push(format!("in a folder named {}", q.folders.join(" or ")));
    }
    match q.shape {
        Some(Shape::Portrait) => out.push("portrait".into()),
        Some(Shape::Landscape) => out.push("landscape".into()),
        Some(Shape::Square) => out.push("square".into()),
        None => {}
    }
    match q.kind {
        Some(Kind::Video) => out.push("moments of videos".into()),
        Some(Kind::Photo) => out.push("photos, not videos".into()),
        None => {}
    }
    out
}

/// A query of operators only ("2023 type:heic"): the photos it lets
/// through, newest first.
fn only_narrowed(searcher: &mut Searcher<'_>, k: usize, narrowing: &Narrowing, method: TextMethod) -> Result<TextResults> {
    let mut kept = Vec::new();
    let mut offset = 0;
    const PAGE: usize = 10_000;
    while k > 0 {
        let page = searcher.catalog.indexed_page(offset, PAGE)?;
        let n = page.len();
        kept.extend(page.into_iter().filter(|r| narrowing.keeps(r)));
        if n < PAGE {
            break;
        }
        offset += n;
    }
    kept.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then(a.path.cmp(&b.path)));
    let hits = kept.into_iter().take(k).map(|row| searcher.hit(row, 0.0, 1.0, false)).collect();
    Ok(TextResults {
        query: String::new(),
        method,
        model: String::new(),
        matched: Vec::new(),
        note: None,
        understood: Vec::new(),
        hits,
        millis: 0.0,
    })
}

/// The model whose text tower answers a CLIP-style query here: the first
/// installed text tower (the active model's first) whose photos' vectors
/// the library holds. `Err` says, for the answer's note, why none can.
pub(crate) fn answering_text_model(searcher: &Searcher<'_>) -> Result<std::result::Result<String, String>> {
    let installed = searcher.models.text_models();
    let Some(first) = installed.first() else {
        let why = match searcher.models.files().require_text(&ModelDir::spec(CLIP_MODEL)?) {
            Err(e) => e.to_string(),
            Ok(_) => "no text tower is installed".to_string(),
        };
        return Ok(Err(format!("CLIP text search is not available: {why}")));
    };
    for name in &installed {
        if searcher.catalog.has_embeddings(name)? {
            return Ok(Ok(name.clone()));
        }
    }
    Ok(Err(format!("the library has no {first} vectors yet (photofinder models use {first}, then photofinder index)")))
}

/// The text model to use when CLIP-style search is asked for by name: the
/// answering one, else the first installed (it finds nothing until the
/// library is embedded with it), else an error saying how to install one.
pub(crate) fn clip_model(searcher: &Searcher<'_>) -> Result<String> {
    if let Ok(name) = answering_text_model(searcher)? {
        return Ok(name);
    }
    match searcher.models.text_models().into_iter().next() {
        Some(name) => Ok(name),
        None => {
            searcher.models.files().require_text(&ModelDir::spec(CLIP_MODEL)?)?;
            Ok(CLIP_MODEL.to_string())
        }
    }
}

fn search_text_clip(searcher: &mut Searcher<'_>, model: &str, q: &query::Query, k: usize, narrowing: &Narrowing) -> Result<TextResults> {
    let started = Instant::now();
    let mut vector = searcher.models.text_vector(model, &q.meaning())?;
    // "-people": away from what the words not wanted mean (Rocchio's way, as for marked results).
    if !q.not.is_empty() {
        let mut away = vec![0.0f32; vector.len()];
        for term in &q.not {
            for (a, x) in away.iter_mut().zip(searcher.models.text_vector(model, term)?) {
                *a += x / q.not.len() as f32;
            }
        }
        vector = crate::embed::normalised(&vector.iter().zip(&away).map(|(v, a)| v - 0.5 * a).collect::<Vec<_>>());
    }
    let wanted = if narrowing.checks_results() { k * 5 } else { k };
    let results = searcher.search_vector(model, std::path::Path::new(""), &[], &vector, wanted, &narrowing.filter, started)?;
    let hits = results.hits.into_iter().filter(|h| narrowing.keeps_shape_and_kind(h.id, h.width, h.height)).take(k).collect();
    Ok(TextResults {
        query: String::new(),
        method: TextMethod::Clip,
        model: model.into(),
        matched: Vec::new(),
        note: None,
        understood: Vec::new(),
        hits,
        millis: 0.0,
    })
}

fn label_classes(searcher: &Searcher<'_>) -> Result<Vec<ImageNetClass>> {
    let spec = ModelDir::spec(LABEL_MODEL)?;
    searcher.models.files().labels(&spec)?.ok_or_else(|| Error::ModelMissing {
        name: "ImageNet labels".into(),
        hint: "run models/install.sh".into(),
    })
}

/// The classes `query` matches, with their weights: by words, kinds and
/// (where `by_meaning` and the sentence model is installed) meaning; or
/// word for word only.
fn class_matches(searcher: &mut Searcher<'_>, classes: &[ImageNetClass], query: &str, by_meaning: bool) -> Result<Vec<meaning::ClassMatch>> {
    if !by_meaning {
        return Ok(labels::matching_classes(classes, query)
            .into_iter()
            .map(|(class, weight)| meaning::ClassMatch { class, weight, similarity: None })
            .collect());
    }
    let related = searcher.models.files().related_kinds(&ModelDir::spec(LABEL_MODEL)?);
    if !searcher.models.has_sentence_model() {
        return Ok(meaning::matching(classes, query, None, &related));
    }
    let texts: Vec<String> = classes.iter().map(meaning::class_text).collect();
    let q = searcher.models.sentence_vector(query)?;
    let class_vectors = searcher.models.phrase_vectors(&texts)?;
    Ok(meaning::matching(classes, query, Some((&q, class_vectors)), &related))
}

/// The classes a parsed query means: its free words by words, kinds and
/// meaning, its quoted phrases word for word (names and kinds), the
/// strongest reason kept for a class met twice.
fn query_classes(searcher: &mut Searcher<'_>, classes: &[ImageNetClass], q: &query::Query, by_meaning: bool) -> Result<Vec<meaning::ClassMatch>> {
    let mut all = if q.text.is_empty() { Vec::new() } else { class_matches(searcher, classes, &q.text, by_meaning)? };
    for phrase in &q.exact {
        all.extend(meaning::matching(classes, phrase, None, &HashMap::new()));
    }
    let mut best: HashMap<u32, meaning::ClassMatch> = HashMap::new();
    for m in all {
        let keep = best.get(&m.class).is_none_or(|b| b.weight < m.weight);
        if keep {
            best.insert(m.class, m);
        }
    }
    let mut out: Vec<meaning::ClassMatch> = best.into_values().collect();
    out.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.class.cmp(&b.class)));
    Ok(out)
}

fn search_text_labels(searcher: &mut Searcher<'_>, q: &query::Query, k: usize, narrowing: &Narrowing, by_meaning: bool) -> Result<TextResults> {
    let label_model = crate::models::labels::label_model(searcher.models.active()).to_string();
    let classes = label_classes(searcher)?;
    let matches = query_classes(searcher, &classes, q, by_meaning)?;
    let weight: HashMap<u32, f32> = matches.iter().map(|m| (m.class, m.weight)).collect();
    let mut score: HashMap<crate::catalog::Hash, f32> = HashMap::new();
    for (hash, class, prob) in searcher.catalog.labels_of_classes(&label_model, &weight.keys().copied().collect::<Vec<_>>())? {
        *score.entry(hash).or_default() += prob * weight[&class];
    }
    // "-people": a photo that shows what is not wanted (that much of its
    // label mass, weighted) is left out; one that barely does ranks lower.
    const SHOWS_IT: f32 = 0.2;
    let mut against: HashMap<crate::catalog::Hash, f32> = HashMap::new();
    for term in &q.not {
        let matches = class_matches(searcher, &classes, term, by_meaning)?;
        let weight: HashMap<u32, f32> = matches.iter().map(|m| (m.class, m.weight)).collect();
        for (hash, class, prob) in searcher.catalog.labels_of_classes(&label_model, &weight.keys().copied().collect::<Vec<_>>())? {
            *against.entry(hash).or_default() += prob * weight[&class];
        }
    }
    for (hash, not_wanted) in against {
        if not_wanted >= SHOWS_IT {
            score.remove(&hash);
        } else if let Some(s) = score.get_mut(&hash) {
            *s -= not_wanted;
        }
    }
    // Below this the match is noise: a class that barely registered.
    const MIN_SCORE: f32 = 0.005;
    // Best first, and files looked up only until k are certain: a broad
    // word ("dog": 120 breeds) scores tens of thousands of photos.
    let mut ranked: Vec<(crate::catalog::Hash, f32)> = score.into_iter().filter(|(_, s)| *s >= MIN_SCORE).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut scored: Vec<(f32, crate::catalog::FileRow)> = Vec::new();
    // Candidates are read in blocks, best first, until k are certain.
    'blocks: for block in ranked.chunks(256) {
        let hashes: Vec<crate::catalog::Hash> = block.iter().map(|(h, _)| *h).collect();
        let mut rows_of: HashMap<crate::catalog::Hash, Vec<FileRow>> = HashMap::new();
        for row in searcher.catalog.rows_with_hashes(&hashes)? {
            if let Some(h) = row.hash {
                rows_of.entry(h).or_default().push(row);
            }
        }
        for (hash, s) in block {
            // Ties with the k-th are still read, so the order by id below
            // is the same as if every file had been read. (Scores come in
            // falling order: the last one kept is the lowest.)
            if scored.len() >= k && scored.last().is_some_and(|x| x.0 > *s) {
                break 'blocks;
            }
            let rows = rows_of.remove(hash).unwrap_or_default();
            scored.extend(rows.into_iter().filter(|row| narrowing.keeps(row)).map(|row| (*s, row)));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    let hits = scored.into_iter().take(k).map(|(s, row)| searcher.hit(row, 1.0 - s, s, false)).collect();
    let matched = matches
        .iter()
        .map(|m| MatchedClass { name: classes[m.class as usize].name().to_string(), weight: m.weight, similarity: m.similarity })
        .collect();
    Ok(TextResults {
        query: String::new(),
        method: if by_meaning { TextMethod::Labels } else { TextMethod::Words },
        model: label_model,
        matched,
        note: None,
        understood: Vec::new(),
        hits,
        millis: 0.0,
    })
}

/// The ImageNet labels of a photo with their probabilities, best first:
/// stored ones for a library photo, computed for any other image.
pub fn labels_of(searcher: &mut Searcher<'_>, path: &std::path::Path) -> Result<Vec<(String, f32)>> {
    let classes = label_classes(searcher)?;
    let bytes = crate::files::read_regular(path).map_err(|e| Error::io(path, e))?;
    let hash = *blake3::hash(&bytes).as_bytes();
    let label_model = crate::models::labels::label_model(searcher.models.active()).to_string();
    let mut top = searcher.catalog.labels(&hash, &label_model)?;
    if top.is_empty() {
        let (_, out) = searcher.models.embed_file(&label_model, &bytes, 0)?;
        top = crate::embed::top_k(out.probabilities.as_deref().unwrap_or(&[]), crate::embed::TOP_LABELS);
    }
    Ok(top.into_iter().map(|(c, p)| (classes.get(c as usize).map(|k| k.names.join(", ")).unwrap_or_default(), p)).collect())
}
