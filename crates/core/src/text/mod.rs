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

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;

use crate::catalog::FileState;
use crate::error::{Error, Result};
use crate::models::labels::{self, ImageNetClass};
use crate::models::ModelDir;
use crate::search::{SearchHit, Searcher};
use crate::store::{Filter, PointMeta};
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

/// Photos matching `query`, by `method` or, without one, by CLIP when
/// the library has CLIP vectors and the text tower is installed, else by labels.
pub fn search_text(
    searcher: &mut Searcher<'_>,
    query: &str,
    k: usize,
    filter: &Filter,
    method: Option<TextMethod>,
) -> Result<TextResults> {
    let mut note = None;
    let method = match method {
        Some(m) => m,
        None => {
            let clip = ModelDir::spec(CLIP_MODEL)?;
            let has_vectors = !searcher.catalog.embedded_ids(CLIP_MODEL)?.is_empty();
            match searcher.models.files().require_text(&clip) {
                Ok(_) if has_vectors => TextMethod::Clip,
                Ok(_) => {
                    note = Some(format!(
                        "answered by labels: the library has no {CLIP_MODEL} vectors yet \
                         (photofinder models use {CLIP_MODEL}, then photofinder index)"
                    ));
                    TextMethod::Labels
                }
                Err(e) => {
                    note = Some(format!("answered by labels: CLIP text search is not available: {e}"));
                    TextMethod::Labels
                }
            }
        }
    };
    let mut results = match method {
        TextMethod::Clip => search_text_clip(searcher, query, k, filter)?,
        TextMethod::Labels => search_text_labels(searcher, query, k, filter, true)?,
        TextMethod::Words => search_text_labels(searcher, query, k, filter, false)?,
    };
    if method == TextMethod::Labels && !searcher.models.has_sentence_model() {
        let missing = "phrases are matched word for word: the sentence model is not installed (models/install.sh)";
        note = Some(match note {
            Some(n) => format!("{n}; {missing}"),
            None => missing.to_string(),
        });
    }
    results.note = note;
    Ok(results)
}

fn search_text_clip(searcher: &mut Searcher<'_>, query: &str, k: usize, filter: &Filter) -> Result<TextResults> {
    let started = Instant::now();
    let vector = searcher.models.text_vector(query)?;
    let results = searcher.search_vector(CLIP_MODEL, std::path::Path::new(""), &[], &vector, k, filter, started)?;
    Ok(TextResults {
        query: query.to_string(),
        method: TextMethod::Clip,
        model: CLIP_MODEL.into(),
        matched: Vec::new(),
        note: None,
        hits: results.hits,
        millis: started.elapsed().as_secs_f64() * 1000.0,
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
    if !searcher.models.has_sentence_model() {
        return Ok(meaning::matching(classes, query, None));
    }
    let texts: Vec<String> = classes.iter().map(meaning::class_text).collect();
    let q = searcher.models.sentence_vector(query)?;
    let class_vectors = searcher.models.phrase_vectors(&texts)?;
    Ok(meaning::matching(classes, query, Some((&q, class_vectors))))
}

fn search_text_labels(searcher: &mut Searcher<'_>, query: &str, k: usize, filter: &Filter, by_meaning: bool) -> Result<TextResults> {
    let started = Instant::now();
    let classes = label_classes(searcher)?;
    let matches = class_matches(searcher, &classes, query, by_meaning)?;
    let weight: HashMap<u32, f32> = matches.iter().map(|m| (m.class, m.weight)).collect();
    let mut score: HashMap<crate::catalog::Hash, f32> = HashMap::new();
    for (hash, class, prob) in searcher.catalog.labels_of_classes(LABEL_MODEL, &weight.keys().copied().collect::<Vec<_>>())? {
        *score.entry(hash).or_default() += prob * weight[&class];
    }
    // Below this the match is noise: a class that barely registered.
    const MIN_SCORE: f32 = 0.005;
    // Best first, and files looked up only until k are certain: a broad
    // word ("dog": 120 breeds) scores tens of thousands of photos.
    let mut ranked: Vec<(crate::catalog::Hash, f32)> = score.into_iter().filter(|(_, s)| *s >= MIN_SCORE).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut scored: Vec<(f32, crate::catalog::FileRow)> = Vec::new();
    for (hash, s) in ranked {
        // Ties with the k-th are still read, so the order by id below
        // is the same as if every file had been read.
        if scored.len() >= k && scored.iter().map(|x| x.0).fold(f32::INFINITY, f32::min) > s {
            break;
        }
        let rows = searcher.catalog.files_with_hash(&hash)?.into_iter().chain(searcher.catalog.frames_with_hash(&hash)?);
        for row in rows {
            let meta = PointMeta {
                path: row.path.clone(),
                taken_at: row.taken_at,
                format: row.format.clone().unwrap_or_default(),
            };
            if row.state == FileState::Indexed && filter.accepts(row.id, &meta) {
                scored.push((s, row));
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    let hits = scored.into_iter().take(k).map(|(s, row)| searcher.hit(row, 1.0 - s, s, false)).collect();
    let matched = matches
        .iter()
        .map(|m| MatchedClass { name: classes[m.class as usize].name().to_string(), weight: m.weight, similarity: m.similarity })
        .collect();
    Ok(TextResults {
        query: query.to_string(),
        method: if by_meaning { TextMethod::Labels } else { TextMethod::Words },
        model: LABEL_MODEL.into(),
        matched,
        note: None,
        hits,
        millis: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The ImageNet labels of a photo with their probabilities, best first:
/// stored ones for a library photo, computed for any other image.
pub fn labels_of(searcher: &mut Searcher<'_>, path: &std::path::Path) -> Result<Vec<(String, f32)>> {
    let classes = label_classes(searcher)?;
    let bytes = crate::files::read_regular(path).map_err(|e| Error::io(path, e))?;
    let hash = *blake3::hash(&bytes).as_bytes();
    let mut top = searcher.catalog.labels(&hash, LABEL_MODEL)?;
    if top.is_empty() {
        let (_, out) = searcher.models.embed_file(LABEL_MODEL, &bytes, 0)?;
        top = crate::embed::top_k(out.probabilities.as_deref().unwrap_or(&[]), crate::embed::TOP_LABELS);
    }
    Ok(top.into_iter().map(|(c, p)| (classes.get(c as usize).map(|k| k.names.join(", ")).unwrap_or_default(), p)).collect())
}
