//! Turning pixels and words into vectors with ONNX Runtime: the image
//! [`Embedder`], CLIP's text tower ([`text`]) with its tokenizer, the
//! sentence model that reads typed phrases for label search ([`sentence`]), and the
//! [`Models`] part that loads them once and is the one way a photo, a video
//! frame or a query becomes a vector. Knows model files (`models`), decoded
//! pixels (`decode`, `preprocess`); knows nothing of catalogs or stores.

mod hub_tokenizer;
mod loaded;
pub mod sentence;
pub mod text;
pub mod tokenizer;

pub use loaded::{Models, Region, CLIP_MODEL};
pub use text::TextEmbedder;

use std::sync::OnceLock;

use ort::{environment::Environment, session::Session, value::Tensor};

use crate::error::{Error, Result};
use crate::models::{ModelDir, ModelSpec, ModelStatus};

static ENVIRONMENT: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();

/// ONNX Runtime, loaded once per process from the installed library.
fn environment(models: &ModelDir) -> Result<&'static Environment> {
    let lib = models.runtime_library()?;
    ENVIRONMENT
        .get_or_init(|| {
            let builder = ort::init_from(&lib).map_err(|e| format!("cannot load {}: {e}", lib.display()))?;
            builder.with_name("photofinder").build().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Runtime(e.clone()))
}

/// Threads ONNX Runtime may use inside one inference: all cores. Decoding
/// runs alongside on the same cores, and inference is the longer half, so
/// giving it every core keeps the machine busy while decode threads fill
/// the gaps.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// An ONNX Runtime session for the model file at `path`.
pub(crate) fn load_session(models: &ModelDir, name: &str, path: &std::path::Path, threads: usize) -> Result<Session> {
    let env = environment(models)?;
    Session::builder(env)?
        .with_intra_threads(threads.max(1))?
        .with_inter_threads(1)?
        // Decode threads share the cores: idle inference threads must
        // sleep, not spin, or they steal the time decoding needs.
        .with_intra_op_spinning(false)?
        .commit_from_file(path)
        .map_err(|e| Error::Model { name: name.into(), message: e.to_string() })
}

/// The output of one image: its L2-normalised vector and, for classifying
/// models, its class probabilities.
#[derive(Debug, Clone)]
pub struct Embedding {
    pub vector: Vec<f32>,
    pub probabilities: Option<Vec<f32>>,
}

/// A loaded image model.
pub struct Embedder {
    pub status: ModelStatus,
    session: Session,
    /// The pixels' input and the vector's output, as the file names them.
    input: String,
    output: String,
}

impl Embedder {
    pub fn load(models: &ModelDir, name: &str, threads: usize) -> Result<Embedder> {
        let status = models.require(name)?;
        let session = load_session(models, name, &status.path, threads)?;
        // The manifest's names; a file with one input (or one output) may
        // call it otherwise: the same model installed from the hub reads `image`.
        let pick = |names: Vec<&str>, wanted: &str| {
            if names.len() == 1 && !names.contains(&wanted) { names[0].to_string() } else { wanted.to_string() }
        };
        let input = pick(session.inputs().iter().map(|i| i.name()).collect(), &status.spec.input);
        let output = pick(session.outputs().iter().map(|o| o.name()).collect(), &status.spec.output);
        let embedder = Embedder { status, session, input, output };
        embedder.check_outputs()?;
        Ok(embedder)
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.status.spec
    }

    /// Floats in one preprocessed image.
    pub fn input_len(&self) -> usize {
        3 * (self.spec().crop * self.spec().crop) as usize
    }

    fn check_outputs(&self) -> Result<()> {
        let spec = self.spec();
        let names: Vec<&str> = self.session.outputs().iter().map(|o| o.name()).collect();
        for wanted in std::iter::once(&self.output).chain(spec.logits.iter()) {
            if !names.contains(&wanted.as_str()) {
                return Err(Error::Model {
                    name: spec.name.clone(),
                    message: format!("the ONNX file has no output {wanted:?} (it has {names:?})"),
                });
            }
        }
        Ok(())
    }

    /// Embed one decoded image (a query, a photo's labels): the same
    /// preprocessing and model call as the batch pipeline's.
    pub fn embed_image(&mut self, pixels: &image::RgbImage) -> Result<Embedding> {
        let tensor = crate::preprocess::tensor(pixels, &self.status.spec);
        let mut out = self.embed_batch(tensor)?;
        out.pop().ok_or_else(|| Error::Runtime("the model returned no output".into()))
    }

    /// Run a batch of preprocessed images (`n * input_len()` floats, CHW each).
    pub fn embed_batch(&mut self, pixels: Vec<f32>) -> Result<Vec<Embedding>> {
        let spec = self.status.spec.clone();
        let n = pixels.len() / self.input_len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let side = spec.crop as usize;
        let input = Tensor::from_array(([n, 3, side, side], pixels))?;
        let outputs = self.session.run(ort::inputs![self.input.as_str() => input])?;
        let (shape, data) = outputs[self.output.as_str()].try_extract_tensor::<f32>()?;
        let dim = *shape.last().unwrap_or(&0) as usize;
        if dim != spec.dim || data.len() != n * dim {
            return Err(Error::Model {
                name: spec.name.clone(),
                message: format!("output {:?} has shape {shape:?}, expected [{n}, {}]", self.output, spec.dim),
            });
        }
        let mut result: Vec<Embedding> = data
            .chunks_exact(dim)
            .map(|v| Embedding { vector: normalised(v), probabilities: None })
            .collect();
        if let Some(logits) = &spec.logits {
            let (_, data) = outputs[logits.as_str()].try_extract_tensor::<f32>()?;
            let classes = data.len() / n;
            for (e, row) in result.iter_mut().zip(data.chunks_exact(classes)) {
                e.probabilities = Some(softmax(row));
            }
        }
        Ok(result)
    }
}

/// How many labels per photo are kept from a classifying model.
pub const TOP_LABELS: usize = 5;

/// The `k` most probable classes, best first.
pub fn top_k(p: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut idx: Vec<u32> = (0..p.len() as u32).collect();
    idx.sort_by(|a, b| p[*b as usize].total_cmp(&p[*a as usize]));
    idx.into_iter().take(k).map(|i| (i, p[i as usize])).collect()
}

pub fn normalised(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter().map(|x| x / norm).collect()
    } else {
        v.to_vec()
    }
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|x| (x - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|x| x / sum).collect()
}
