//! The `Models` part of a library: which image model is active, the
//! models loaded so far (each once per process), and the one way an image
//! or words become a query vector.

use std::collections::HashMap;

use super::sentence::{SentenceEmbedder, SENTENCE_MODEL};
use super::{Embedder, Embedding, TextEmbedder};
use crate::decode::{self, Decoded};
use crate::error::Result;
use crate::models::{ModelDir, ModelSpec, ModelStatus};

/// The CLIP model `models/install.sh` converts, and the first choice for
/// text queries where several text towers are installed.
pub const CLIP_MODEL: &str = "clip-vit-b32";

/// The largest side a photo is decoded at for a search by a part of it.
const MAX_REGION_DECODE: u32 = 4096;

/// A part of an image: (x, y, width, height) in fractions of the upright
/// image, from its top left corner.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Region {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl Region {
    /// The region if it lies within the image and is not empty.
    pub fn checked(self) -> Result<Region> {
        let Region { x, y, width, height } = self;
        let inside = [x, y, width, height].iter().all(|v| v.is_finite())
            && x >= 0.0
            && y >= 0.0
            && width > 0.0
            && height > 0.0
            && x + width <= 1.0 + 1e-4
            && y + height <= 1.0 + 1e-4;
        if !inside {
            return Err(crate::Error::BadQuery(format!(
                "the region {x},{y},{width},{height} is not a part of the image: x, y, width and height are fractions of it (0 to 1), and x + width and y + height at most 1"
            )));
        }
        Ok(self)
    }
}

impl std::str::FromStr for Region {
    type Err = String;
    /// "x,y,w,h", fractions of the image.
    fn from_str(s: &str) -> std::result::Result<Region, String> {
        let v: Vec<f32> = s.split(',').map(|p| p.trim().parse::<f32>()).collect::<std::result::Result<_, _>>().map_err(|_| format!("{s:?}: give x,y,width,height as fractions, e.g. 0.25,0.1,0.5,0.5"))?;
        match v[..] {
            [x, y, width, height] => Region { x, y, width, height }.checked().map_err(|e| e.to_string()),
            _ => Err(format!("{s:?}: give four numbers, x,y,width,height")),
        }
    }
}

pub struct Models {
    files: ModelDir,
    active: String,
    /// ONNX Runtime intra-op threads per model.
    threads: usize,
    images: HashMap<String, Embedder>,
    /// Text towers by image model name.
    text: HashMap<String, TextEmbedder>,
    sentence: Option<SentenceEmbedder>,
    /// The sentence vectors of the texts last asked for by `phrase_vectors`,
    /// with those texts' fingerprint.
    phrases: Option<([u8; 32], Vec<Vec<f32>>)>,
}

impl Models {
    /// `active` must name a known model.
    pub fn new(files: ModelDir, active: &str) -> Result<Models> {
        ModelDir::spec(active)?;
        Ok(Models { files, active: active.to_string(), threads: super::default_threads(), images: HashMap::new(), text: HashMap::new(), sentence: None, phrases: None })
    }

    /// The installed model files.
    pub fn files(&self) -> &ModelDir {
        &self.files
    }

    pub fn active(&self) -> &str {
        &self.active
    }

    pub fn active_spec(&self) -> ModelSpec {
        ModelDir::spec(&self.active).expect("the active model was validated when set")
    }

    pub fn active_status(&self) -> Result<ModelStatus> {
        self.files.status(&self.active)
    }

    /// Make `name` the active model; loaded models stay loaded.
    pub fn set_active(&mut self, name: &str) -> Result<()> {
        ModelDir::spec(name)?;
        self.active = name.to_string();
        Ok(())
    }

    /// The image model `name`, loaded on first use.
    pub fn embedder(&mut self, name: &str) -> Result<&mut Embedder> {
        if !self.images.contains_key(name) {
            let e = Embedder::load(&self.files, name, self.threads)?;
            self.images.insert(name.to_string(), e);
        }
        Ok(self.images.get_mut(name).expect("inserted above"))
    }

    /// Decode an image file's bytes and embed them with `model`: the path
    /// every single image (a query, a photo's labels) takes into a model,
    /// with the same preprocessing as the batch pipeline. `min_side` is
    /// the shortest side the decoded pixels keep (a thumbnail may want more
    /// than the model). A preview the file carries is used where the batch
    /// pipeline uses it, so a library photo given as a query gets its own vector.
    pub fn embed_file(&mut self, model: &str, bytes: &[u8], min_side: u32) -> Result<(Decoded, Embedding)> {
        let spec = ModelDir::spec(model)?;
        let need = decode::Need { short_side: spec.resize.max(min_side), preview: Some(spec.crop) };
        let decoded = decode::decode_for(bytes, need)?;
        let embedding = self.embedder(model)?.embed_image(&decoded.pixels)?;
        Ok((decoded, embedding))
    }

    /// Like `embed_file`, for a part of the image only: `region` is
    /// (x, y, width, height) in fractions of the upright image. The image is
    /// decoded large enough that the part still fills the model's input.
    pub fn embed_region(&mut self, model: &str, bytes: &[u8], region: Region) -> Result<Embedding> {
        let spec = ModelDir::spec(model)?;
        let Region { x, y, width, height } = region.checked()?;
        // A part a quarter as wide needs the photo decoded four times larger.
        let side = (spec.resize as f32 / width.min(height)).ceil().min(MAX_REGION_DECODE as f32) as u32;
        let decoded = decode::decode(bytes, side)?;
        let (w, h) = decoded.pixels.dimensions();
        let (left, top) = ((x * w as f32) as u32, (y * h as f32) as u32);
        let cw = ((width * w as f32).round() as u32).clamp(1, w - left.min(w - 1));
        let ch = ((height * h as f32).round() as u32).clamp(1, h - top.min(h - 1));
        let part = image::imageops::crop_imm(&decoded.pixels, left.min(w - 1), top.min(h - 1), cw, ch).to_image();
        self.embedder(model)?.embed_image(&part)
    }

    /// The vector of `text` in `model`'s space, by its text tower (loaded
    /// on first use).
    pub fn text_vector(&mut self, model: &str, text: &str) -> Result<Vec<f32>> {
        if !self.text.contains_key(model) {
            let spec = self.files.status(model)?.spec;
            self.text.insert(model.to_string(), TextEmbedder::load(&self.files, &spec, self.threads)?);
        }
        self.text.get_mut(model).expect("loaded above").embed(text)
    }

    /// The models whose text towers are installed, the active one first if
    /// it is one of them, then CLIP_MODEL, then the manifest's order.
    pub fn text_models(&self) -> Vec<String> {
        let mut names: Vec<String> = ModelDir::specs()
            .into_iter()
            .filter(|s| s.text_model.is_some() && self.files.require_text(s).is_ok())
            .map(|s| s.name)
            .collect();
        names.sort_by_key(|n| (n != &self.active, n != CLIP_MODEL));
        names
    }

    /// Whether the sentence model for phrases is installed.
    pub fn has_sentence_model(&self) -> bool {
        self.files.file(format!("{SENTENCE_MODEL}.onnx")).is_file()
    }

    fn sentence(&mut self) -> Result<&mut SentenceEmbedder> {
        if self.sentence.is_none() {
            self.sentence = Some(SentenceEmbedder::load(&self.files, self.threads)?);
        }
        Ok(self.sentence.as_mut().expect("loaded above"))
    }

    /// The sentence model's vector of a typed phrase.
    pub fn sentence_vector(&mut self, text: &str) -> Result<Vec<f32>> {
        let mut v = self.sentence()?.embed(&[text])?;
        Ok(v.pop().unwrap_or_default())
    }

    /// The sentence vectors of a fixed list of texts (the classes'
    /// descriptions): made once, then kept in memory and beside the models
    /// (`minilm-l6.<fingerprint>.f32`), so a query costs one phrase.
    pub fn phrase_vectors(&mut self, texts: &[String]) -> Result<&[Vec<f32>]> {
        let mut hasher = blake3::Hasher::new();
        for t in texts {
            hasher.update(t.as_bytes()).update(b"\n");
        }
        let hash = hasher.finalize();
        let fingerprint = *hash.as_bytes();
        if self.phrases.as_ref().is_none_or(|(f, _)| *f != fingerprint) {
            let name = format!("{SENTENCE_MODEL}.{}.f32", &hash.to_hex()[..16]);
            // Read where it is (the package may ship it), written to the user's folder.
            let cache = self.files.dir.join(&name);
            let dim = super::sentence::SENTENCE_DIM;
            let cached = std::fs::read(self.files.file(&name)).ok().filter(|b| b.len() == texts.len() * dim * 4);
            let vectors = match cached {
                Some(bytes) => bytes
                    .chunks_exact(4 * dim)
                    .map(|row| row.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
                    .collect(),
                None => {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    let vectors = self.sentence()?.embed(&refs)?;
                    let bytes: Vec<u8> = vectors.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
                    // A models folder one cannot write to (installed system-wide) just means no cache.
                    let tmp = cache.with_extension("tmp");
                    let written = std::fs::create_dir_all(&self.files.dir)
                        .and_then(|_| std::fs::write(&tmp, bytes))
                        .and_then(|_| std::fs::rename(&tmp, &cache));
                    if written.is_err() {
                        let _ = std::fs::remove_file(&tmp);
                        log::info!("cannot keep the phrase vectors in {}", cache.display());
                    }
                    vectors
                }
            };
            self.phrases = Some((fingerprint, vectors));
        }
        Ok(&self.phrases.as_ref().expect("set above").1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_models_become_active() {
        let tmp = tempfile::tempdir().unwrap();
        let mut models = Models::new(ModelDir::new(tmp.path()), "efficientnet-lite0").unwrap();
        assert!(Models::new(ModelDir::new(tmp.path()), "no-such-model").is_err());
        assert!(models.set_active("no-such-model").is_err());
        assert_eq!(models.active(), "efficientnet-lite0");
        models.set_active("resnet50").unwrap();
        assert_eq!(models.active_spec().name, "resnet50");
    }

    #[test]
    fn a_missing_model_is_reported_not_loaded() {
        let tmp = tempfile::tempdir().unwrap();
        let mut models = Models::new(ModelDir::new(tmp.path()), "efficientnet-lite0").unwrap();
        let err = models.embedder("efficientnet-lite0").err().expect("no model files here");
        assert!(matches!(err, crate::Error::ModelMissing { .. } | crate::Error::Runtime(_)), "{err:?}");
    }
}
