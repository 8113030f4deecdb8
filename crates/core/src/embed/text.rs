//! A CLIP-style text tower: words to a vector in its image tower's space.
//!
//! Two kinds of files: OpenAI's CLIP converted by `models/install.sh`
//! (`input_ids`, int64, CLIP's merges), and the towers Immich publishes
//! (`text`, int32, a `tokenizer.json`; M-CLIP also takes an
//! `attention_mask`). What the file wants is read from the file itself, so
//! either kind of install of the same model works.

use ort::session::{Session, SessionInputValue};
use ort::value::{Tensor, TensorElementType};

use super::hub_tokenizer::{HubTokenizer, Tokens};
use super::tokenizer::ClipTokenizer;
use super::{load_session, normalised};
use crate::error::{Error, Result};
use crate::models::{ModelDir, ModelSpec, TextTokenizerFile};

enum Tokenizer {
    Clip(ClipTokenizer),
    Hub(HubTokenizer),
}

/// A text tower with its tokenizer.
pub struct TextEmbedder {
    name: String,
    session: Session,
    tokenizer: Tokenizer,
    dim: usize,
    /// The tower's inputs: the ids and, where it takes one, the mask.
    ids_input: String,
    mask_input: Option<String>,
    int32: bool,
    output: String,
}

impl TextEmbedder {
    pub fn load(models: &ModelDir, spec: &ModelSpec, threads: usize) -> Result<TextEmbedder> {
        let files = models.require_text(spec)?;
        let name = spec.text_model.clone().unwrap_or_default();
        let tokenizer = match &files.tokenizer {
            TextTokenizerFile::ClipMerges(path) => Tokenizer::Clip(ClipTokenizer::open(path)?),
            TextTokenizerFile::Json { tokenizer, config, model_config } => {
                Tokenizer::Hub(HubTokenizer::open(tokenizer, config, model_config, spec.context, &name)?)
            }
        };
        let session = load_session(models, &name, &files.tower, threads)?;
        let bad = |message: String| Error::Model { name: name.clone(), message };
        let inputs: Vec<(String, Option<TensorElementType>)> =
            session.inputs().iter().map(|i| (i.name().to_string(), i.dtype().tensor_type())).collect();
        let mask_input = inputs.iter().find(|(n, _)| n == "attention_mask").map(|(n, _)| n.clone());
        let (ids_input, ty) = inputs
            .iter()
            .find(|(n, _)| Some(n) != mask_input.as_ref())
            .cloned()
            .ok_or_else(|| bad("the text tower has no input for token ids".into()))?;
        let int32 = match ty {
            Some(TensorElementType::Int32) => true,
            Some(TensorElementType::Int64) => false,
            other => return Err(bad(format!("the text tower's input {ids_input:?} takes {other:?}, not token ids"))),
        };
        let outputs: Vec<String> = session.outputs().iter().map(|o| o.name().to_string()).collect();
        let output = outputs
            .iter()
            .find(|o| *o == "embedding")
            .or(outputs.first())
            .cloned()
            .ok_or_else(|| bad("the text tower has no output".into()))?;
        Ok(TextEmbedder { name, session, tokenizer, dim: spec.dim, ids_input, mask_input, int32, output })
    }

    /// CLIP's own tokenizer, where the tower reads CLIP's merges.
    pub fn clip_tokenizer(&self) -> Option<&ClipTokenizer> {
        match &self.tokenizer {
            Tokenizer::Clip(t) => Some(t),
            Tokenizer::Hub(_) => None,
        }
    }

    fn tokens(&self, text: &str) -> Result<Tokens> {
        Ok(match &self.tokenizer {
            Tokenizer::Clip(t) => {
                let ids = t.tokenize(text).to_vec();
                let mask = ids.iter().map(|&i| i64::from(i != 0)).collect();
                Tokens { ids, mask }
            }
            Tokenizer::Hub(t) => t.tokenize(text)?,
        })
    }

    /// The L2-normalised embedding of `text`, in the image tower's space.
    pub fn embed(&mut self, text: &str) -> Result<Vec<f32>> {
        let Tokens { ids, mask } = self.tokens(text)?;
        let shape = [1usize, ids.len()];
        let tensor = |v: Vec<i64>, int32: bool| -> Result<SessionInputValue<'static>> {
            Ok(if int32 {
                // Token ids are below 2^31 in every vocabulary.
                Tensor::from_array((shape, v.into_iter().map(|i| i as i32).collect::<Vec<_>>()))?.into_dyn().into()
            } else {
                Tensor::from_array((shape, v))?.into_dyn().into()
            })
        };
        let mut inputs = vec![(self.ids_input.clone(), tensor(ids, self.int32)?)];
        if let Some(m) = &self.mask_input {
            inputs.push((m.clone(), tensor(mask, self.int32)?));
        }
        let outputs = self.session.run(inputs)?;
        let (_, data) = outputs[self.output.as_str()].try_extract_tensor::<f32>()?;
        if data.len() != self.dim {
            return Err(Error::Model {
                name: self.name.clone(),
                message: format!("made a {}-d vector, expected {}", data.len(), self.dim),
            });
        }
        Ok(normalised(data))
    }
}
