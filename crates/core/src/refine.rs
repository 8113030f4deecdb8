//! "More like this" that learns: results the user marks good or bad move the
//! next query (Rocchio's relevance feedback), for photo and text queries;
//! and "combine": a photo plus words ("like this, but at night") with CLIP.
//!
//! Uses `search` and `text`; knows nothing of the `Library`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::catalog::FileId;
use crate::embed::normalised;
use crate::error::{Error, Result};
use crate::search::{SearchResults, Searcher};
use crate::store::Filter;
use crate::text::{TextMethod, TextResults};
use ts_rs::TS;

/// Rocchio's weights: the query itself, the mean of the good results, the
/// mean of the bad ones. These are the textbook values (Manning, Raghavan
/// and Schütze, ch. 9) with a slightly stronger push away from the bad.
pub const ALPHA: f32 = 1.0;
pub const BETA: f32 = 0.75;
pub const GAMMA: f32 = 0.25;
/// Results of a label text search that stand for the text in image space.
const PSEUDO_RELEVANT: usize = 10;

/// A query photo: any image file, or a photo (or video keyframe) of the
/// library by id, whose stored vector is used.
#[derive(Debug, Clone)]
pub enum Example {
    Path(PathBuf),
    Id(FileId),
}

/// The user's marks on results, kept by the front end for one query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct Feedback {
    pub good: Vec<FileId>,
    pub bad: Vec<FileId>,
}

impl Feedback {
    pub fn is_empty(&self) -> bool {
        self.good.is_empty() && self.bad.is_empty()
    }
}

/// `ALPHA q + BETA mean(good) - GAMMA mean(bad)`, normalised.
pub fn rocchio(query: &[f32], good: &[Vec<f32>], bad: &[Vec<f32>]) -> Vec<f32> {
    let mut q: Vec<f32> = query.iter().map(|x| ALPHA * x).collect();
    for (set, weight) in [(good, BETA), (bad, -GAMMA)] {
        for v in set {
            q.iter_mut().zip(v).for_each(|(q, x)| *q += weight * x / set.len() as f32);
        }
    }
    normalised(&q)
}

/// `model`'s vectors of the photos `ids` (those with one).
fn vectors_of(s: &Searcher<'_>, model: &str, ids: &[FileId]) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let hash = s.catalog.file(id)?.and_then(|r| r.hash);
        if let Some(v) = hash.map(|h| s.catalog.embedding(&h, model)).transpose()?.flatten() {
            out.push(v);
        }
    }
    Ok(out)
}

/// The query moved by `feedback`; bad photos are excluded from results.
fn refined(s: &Searcher<'_>, model: &str, query: &[f32], feedback: &Feedback, filter: &Filter) -> Result<(Vec<f32>, Filter)> {
    let good = vectors_of(s, model, &feedback.good)?;
    let bad = vectors_of(s, model, &feedback.bad)?;
    let mut filter = filter.clone();
    filter.exclude.extend(&feedback.bad);
    Ok((rocchio(query, &good, &bad), filter))
}

/// `model`'s vector for a query photo, its content hash and its path.
fn example_vector(s: &mut Searcher<'_>, model: &str, example: &Example) -> Result<(Vec<f32>, crate::catalog::Hash, PathBuf)> {
    match example {
        Example::Path(path) => {
            let (v, h) = s.vector_in(model, path)?;
            Ok((v, h, path.clone()))
        }
        Example::Id(id) => {
            let mut row = s.catalog.file(*id)?.ok_or(Error::NoSuchPhoto(*id))?;
            if row.duration_ms.is_some() && row.frame.is_none() {
                // A whole video: it is searched by its first moment.
                row = s.catalog.frames_of(row.id)?.into_iter().next().ok_or_else(|| {
                    Error::NotAPhoto(format!("{} has no keyframes yet", row.path.display()))
                })?;
            }
            let hash = row.hash.ok_or_else(|| Error::NotInLibrary(row.path.clone()))?;
            match s.catalog.embedding(&hash, model)? {
                Some(v) => Ok((v, hash, row.path)),
                // A video keyframe has no file of its own to embed.
                None if row.frame.is_some() => Err(Error::NotAPhoto(format!(
                    "this moment of {} has no {model} vector yet: index the library with {model} first",
                    row.path.display()
                ))),
                None => {
                    let (v, h) = s.vector_in(model, &row.path)?;
                    Ok((v, h, row.path))
                }
            }
        }
    }
}

/// Photos like the query photo, moved toward the `good` results and
/// away from the `bad` ones.
pub fn refine_photo(s: &mut Searcher<'_>, example: &Example, feedback: &Feedback, k: usize, filter: &Filter) -> Result<SearchResults> {
    let started = Instant::now();
    let model = s.models.active().to_string();
    let (vector, hash, path) = example_vector(s, &model, example)?;
    let (query, filter) = refined(s, &model, &vector, feedback, filter)?;
    s.search_vector(&model, &path, &[hash], &query, k, &filter, started)
}

/// A text search moved by the user's marks. With CLIP the text's own
/// vector is the query; with labels, the mean of its best results stands
/// for it (pseudo-relevance feedback) in the label model's space.
pub fn refine_text(
    s: &mut Searcher<'_>,
    text: &str,
    feedback: &Feedback,
    k: usize,
    filter: &Filter,
    method: Option<TextMethod>,
) -> Result<TextResults> {
    let started = Instant::now();
    let first = crate::text::search_text(s, text, PSEUDO_RELEVANT.max(k), filter, method)?;
    if feedback.is_empty() {
        let mut first = first;
        first.hits.truncate(k);
        return Ok(first);
    }
    // The model that answered: CLIP's text tower, or the one whose labels did.
    let model = first.model.clone();
    let model = model.as_str();
    let seed = match first.method {
        TextMethod::Clip => s.models.text_vector(model, text)?,
        TextMethod::Labels | TextMethod::Words => {
            let ids: Vec<FileId> = first.hits.iter().take(PSEUDO_RELEVANT).map(|h| h.id).collect();
            let vectors = vectors_of(s, model, &ids)?;
            mean(&vectors).unwrap_or_else(|| vec![0.0; crate::models::ModelDir::spec(model).map(|s| s.dim).unwrap_or(0)])
        }
    };
    let (query, filter) = refined(s, model, &seed, feedback, filter)?;
    let results = s.search_vector(model, Path::new(""), &[], &query, k, &filter, started)?;
    Ok(TextResults { hits: results.hits, millis: started.elapsed().as_secs_f64() * 1000.0, ..first })
}

/// Photos like the image at `path` and like `text` ("like this photo,
/// but at night"): the normalised sum of the photo's and the text's CLIP
/// vectors, with `text_weight` on the text. Needs CLIP (both towers) and
/// the library's CLIP vectors.
pub fn search_photo_and_text(
    s: &mut Searcher<'_>,
    example: &Example,
    text: &str,
    text_weight: f32,
    feedback: &Feedback,
    k: usize,
    filter: &Filter,
) -> Result<SearchResults> {
    let started = Instant::now();
    let model = match crate::text::answering_text_model(s)? {
        Ok(model) => model,
        Err(why) => {
            return Err(Error::BadQuery(format!(
                "combining a photo with text needs a CLIP-style model's vectors: {why}"
            )))
        }
    };
    let model = model.as_str();
    let (image, hash, path) = example_vector(s, model, example)?;
    let words = s.models.text_vector(model, text)?;
    let combined: Vec<f32> = image.iter().zip(&words).map(|(i, t)| i + text_weight * t).collect();
    let (query, filter) = refined(s, model, &normalised(&combined), feedback, filter)?;
    let mut results = s.search_vector(model, &path, &[hash], &query, k, &filter, started)?;
    results.query = PathBuf::from(format!("{} + \"{text}\"", path.display()));
    Ok(results)
}

fn mean(vectors: &[Vec<f32>]) -> Option<Vec<f32>> {
    let first = vectors.first()?;
    let mut m = vec![0.0; first.len()];
    for v in vectors {
        m.iter_mut().zip(v).for_each(|(m, x)| *m += x / vectors.len() as f32);
    }
    Some(normalised(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn rocchio_moves_toward_good_and_away_from_bad() {
        let q = vec![1.0, 0.0, 0.0];
        let good = vec![vec![0.0, 1.0, 0.0]];
        let bad = vec![vec![0.0, 0.0, 1.0]];
        let moved = rocchio(&q, &good, &bad);
        assert!((dot(&moved, &moved) - 1.0).abs() < 1e-5, "unit length");
        assert!(dot(&moved, &good[0]) > 0.5, "{moved:?}");
        assert!(dot(&moved, &bad[0]) < 0.0, "{moved:?}");
        assert!(dot(&moved, &q) > dot(&moved, &good[0]), "the query still leads");
        assert_eq!(rocchio(&q, &[], &[]), q, "no marks, no change");
    }
}
