//! The `Models` part of a library: which image model is active, the
//! models loaded so far (each once per process), and the one way an image
//! or words become a query vector.

use std::collections::HashMap;

use super::{Embedder, Embedding, TextEmbedder};
use crate::decode::{self, Decoded};
use crate::error::Result;
use crate::models::{ModelDir, ModelSpec, ModelStatus};

/// The model whose text tower answers text queries.
pub const CLIP_MODEL: &str = "clip-vit-b32";

pub struct Models {
    files: ModelDir,
    active: String,
    /// ONNX Runtime intra-op threads per model.
    threads: usize,
    images: HashMap<String, Embedder>,
    text: Option<TextEmbedder>,
}

impl Models {
    /// `active` must name a known model.
    pub fn new(files: ModelDir, active: &str) -> Result<Models> {
        ModelDir::spec(active)?;
        Ok(Models { files, active: active.to_string(), threads: super::default_threads(), images: HashMap::new(), text: None })
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
    /// than the model).
    pub fn embed_file(&mut self, model: &str, bytes: &[u8], min_side: u32) -> Result<(Decoded, Embedding)> {
        let spec = ModelDir::spec(model)?;
        let decoded = decode::decode(bytes, spec.resize.max(min_side))?;
        let embedding = self.embedder(model)?.embed_image(&decoded.pixels)?;
        Ok((decoded, embedding))
    }

    /// The CLIP text vector of `text` (the text tower is loaded on first use).
    pub fn text_vector(&mut self, text: &str) -> Result<Vec<f32>> {
        if self.text.is_none() {
            let spec = ModelDir::spec(CLIP_MODEL)?;
            self.text = Some(TextEmbedder::load(&self.files, &spec, self.threads)?);
        }
        self.text.as_mut().expect("loaded above").embed(text)
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
