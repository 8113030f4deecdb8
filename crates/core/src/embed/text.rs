//! CLIP's text tower: words to a vector in the image tower's space.

use ort::{session::Session, value::Tensor};

use super::tokenizer::{ClipTokenizer, CONTEXT};
use super::{load_session, normalised};
use crate::error::{Error, Result};
use crate::models::{ModelDir, ModelSpec};

/// CLIP's text tower with its tokenizer.
pub struct TextEmbedder {
    session: Session,
    tokenizer: ClipTokenizer,
    dim: usize,
}

impl TextEmbedder {
    pub fn load(models: &ModelDir, spec: &ModelSpec, threads: usize) -> Result<TextEmbedder> {
        let (model, vocab) = models.require_text(spec)?;
        let name = spec.text_model.clone().unwrap_or_default();
        Ok(TextEmbedder {
            session: load_session(models, &name, &model, threads)?,
            tokenizer: ClipTokenizer::open(&vocab)?,
            dim: spec.dim,
        })
    }

    pub fn tokenizer(&self) -> &ClipTokenizer {
        &self.tokenizer
    }

    /// The L2-normalised embedding of `text`, in the image tower's space.
    pub fn embed(&mut self, text: &str) -> Result<Vec<f32>> {
        let ids = self.tokenizer.tokenize(text).to_vec();
        let input = Tensor::from_array(([1usize, CONTEXT], ids))?;
        let outputs = self.session.run(ort::inputs!["input_ids" => input])?;
        let (_, data) = outputs["embedding"].try_extract_tensor::<f32>()?;
        if data.len() != self.dim {
            return Err(Error::Model {
                name: "clip-vit-b32-text".into(),
                message: format!("made a {}-d vector, expected {}", data.len(), self.dim),
            });
        }
        Ok(normalised(data))
    }
}
