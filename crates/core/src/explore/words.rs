//! Cluster names in CLIP words, for maps of a CLIP-style model's vectors:
//! the ImageNet class names read by the model's own text tower ("a photo
//! of a tabby cat."), and each cluster named by the names nearest its mean
//! vector, most particular to it first. A library embedded with CLIP alone
//! has no ImageNet labels to name its islands by; these words do it.
//!
//! The thousand prompts cost the text tower a thousand runs (some seconds):
//! they run once per model, in the background layout, and are kept beside
//! the models (`<model>.classwords.<fingerprint>.f32`).

use std::path::Path;

use crate::embed::TextEmbedder;
use crate::error::{Error, Result};
use crate::models::labels::LABEL_MODEL;
use crate::models::{ModelDir, ModelSpec};
use crate::progress::{Cancel, Meter, Phase, Sink};

/// The class names and their text vectors (`names.len() * dim` floats, L2-normalised).
pub struct ClassWords {
    names: Vec<String>,
    vectors: Vec<f32>,
    dim: usize,
}

impl ClassWords {
    /// The words for `spec`'s space, from the cache or made now; `None`
    /// when the model has no text tower installed or the class names are
    /// not installed.
    pub fn for_model(models: &ModelDir, spec: &ModelSpec, sink: Sink, cancel: &Cancel) -> Result<Option<ClassWords>> {
        let Ok(files) = models.require_text(spec) else { return Ok(None) };
        let Some(classes) = models.labels(&ModelDir::spec(LABEL_MODEL)?).ok().flatten() else { return Ok(None) };
        let names: Vec<String> = classes.iter().map(|c| c.name().to_string()).collect();
        let cache = cache_path(models, spec, &names, &files.tower);
        let dim = spec.dim;
        if let Some(vectors) = read_floats(&cache).filter(|v| v.len() == names.len() * dim) {
            return Ok(Some(ClassWords { names, vectors, dim }));
        }
        let mut tower = TextEmbedder::load(models, spec, crate::embed::default_threads())?;
        let mut vectors = Vec::with_capacity(names.len() * dim);
        let mut meter = Meter::new(Phase::Mapping, names.len() as u64);
        for name in &names {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            vectors.extend(tower.embed(&format!("a photo of a {name}."))?);
            meter.done += 1;
            if meter.done % 50 == 0 {
                sink(meter.event(None));
            }
        }
        let bytes: Vec<u8> = vectors.iter().flat_map(|x| x.to_le_bytes()).collect();
        let tmp = cache.with_extension("tmp");
        // A models folder one cannot write to only means no cache.
        if std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, &cache)).is_err() {
            let _ = std::fs::remove_file(&tmp);
            log::info!("cannot keep the class words in {}", cache.display());
        }
        Ok(Some(ClassWords { names, vectors, dim }))
    }

    /// The `n` names that describe `centroid` best and `reference` (the
    /// whole map's, or the island's for a part) least, with their scores.
    pub fn name(&self, centroid: &[f32], reference: &[f32], n: usize) -> Vec<(String, f32)> {
        let unit = |v: &[f32]| {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            v.iter().map(|x| x / norm).collect::<Vec<f32>>()
        };
        let (c, r) = (unit(centroid), unit(reference));
        let mut scored: Vec<(usize, f32)> = self
            .vectors
            .chunks_exact(self.dim)
            .enumerate()
            .map(|(i, w)| {
                let dot = |v: &[f32]| v.iter().zip(w).map(|(a, b)| a * b).sum::<f32>();
                // Near the cluster first; what the whole map is near anyway counts half against.
                (i, dot(&c) - 0.5 * dot(&r))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.into_iter().take(n).map(|(i, s)| (self.names[i].clone(), s)).collect()
    }
}

fn cache_path(models: &ModelDir, spec: &ModelSpec, names: &[String], tower: &Path) -> std::path::PathBuf {
    let mut h = blake3::Hasher::new();
    for n in names {
        h.update(n.as_bytes()).update(b"\n");
    }
    // Another tower file (a new install) makes other vectors.
    if let Ok(m) = std::fs::metadata(tower) {
        h.update(&m.len().to_le_bytes());
        if let Ok(t) = m.modified().map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos()) {
            h.update(&t.to_le_bytes());
        }
    }
    models.dir.join(format!("{}.classwords.{}.f32", spec.name, &h.finalize().to_hex()[..16]))
}

fn read_floats(path: &Path) -> Option<Vec<f32>> {
    let bytes = std::fs::read(path).ok()?;
    Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

/// Names for every cluster of a map, tops then parts, as `describe` numbers
/// them: the two best words of each, joined; empty for an empty cluster.
pub fn cluster_names(
    words: &ClassWords,
    dim: usize,
    vectors: &mut dyn FnMut(&mut dyn FnMut(usize, &[f32])) -> Result<()>,
    cluster: &[Option<usize>],
    part: &[Option<usize>],
    parts: &[usize],
) -> Result<Vec<String>> {
    let tops = parts.len();
    let mut first_part = Vec::with_capacity(tops);
    let mut total = tops;
    for &p in parts {
        first_part.push(total);
        total += p;
    }
    let mut sums = vec![0.0f32; total * dim];
    let mut all = vec![0.0f32; dim];
    let mut sizes = vec![0usize; total];
    vectors(&mut |i, v| {
        for (a, x) in all.iter_mut().zip(v) {
            *a += x;
        }
        let top = cluster.get(i).copied().flatten();
        let sub = match (top, part.get(i).copied().flatten()) {
            (Some(c), Some(p)) => Some(first_part[c] + p),
            _ => None,
        };
        for c in [top, sub].into_iter().flatten() {
            sizes[c] += 1;
            for (a, x) in sums[c * dim..(c + 1) * dim].iter_mut().zip(v) {
                *a += x;
            }
        }
    })?;
    let parent_of = |c: usize| first_part.iter().rposition(|&f| f <= c);
    Ok((0..total)
        .map(|c| {
            if sizes[c] == 0 {
                return String::new();
            }
            let reference = if c < tops { &all[..] } else { &sums[parent_of(c).expect("a part has an island") * dim..][..dim] };
            words.name(&sums[c * dim..(c + 1) * dim], reference, 2).into_iter().map(|(n, _)| n).collect::<Vec<_>>().join(" / ")
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> ClassWords {
        // Three words along three axes of a 4-d space.
        let names = ["cat", "rocket", "coffee"].map(String::from).to_vec();
        let vectors = vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        ClassWords { names, vectors, dim: 4 }
    }

    #[test]
    fn a_cluster_is_named_by_the_words_nearest_it_that_set_it_apart() {
        let w = words();
        // Near "cat" and a little near "coffee", on a map that is all about coffee.
        let named = w.name(&[0.9, 0.0, 0.4, 0.1], &[0.0, 0.0, 1.0, 0.0], 2);
        assert_eq!(named[0].0, "cat");
        assert_eq!(named.len(), 2);
    }

    #[test]
    fn every_cluster_and_part_gets_its_name() {
        let w = words();
        let points: Vec<[f32; 4]> = vec![[1.0, 0.1, 0.0, 0.0], [0.9, 0.0, 0.1, 0.0], [0.0, 1.0, 0.1, 0.0], [0.1, 0.9, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
        let cluster = [Some(0), Some(0), Some(1), Some(1), None];
        // The first island has one part, the second none.
        let part = [Some(0), Some(0), None, None, None];
        let mut each = |f: &mut dyn FnMut(usize, &[f32])| {
            for (i, p) in points.iter().enumerate() {
                f(i, p);
            }
            Ok(())
        };
        let names = cluster_names(&w, 4, &mut each, &cluster, &part, &[1, 0]).unwrap();
        assert_eq!(names.len(), 3);
        assert!(names[0].starts_with("cat"), "{names:?}");
        assert!(names[1].starts_with("rocket"), "{names:?}");
        assert!(!names[2].is_empty(), "the part is named too: {names:?}");
    }
}
