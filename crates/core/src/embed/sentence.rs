//! The sentence model (all-MiniLM-L6-v2): typed phrases to unit vectors
//! whose dot product says how alike their meanings are. It answers label
//! search offline: a query is matched against the ImageNet classes' names
//! and definitions by meaning, not only word for word ("a beach at sunset"
//! finds seashore and lakeside).
//!
//! Tokenized by Hugging Face's `tokenizers` from the model's own
//! `tokenizer.json` (WordPiece, lower case), run by ONNX Runtime.

use ort::{session::Session, value::Tensor};
use tokenizers::Tokenizer;

use super::load_session;
use crate::error::{Error, Result};
use crate::models::ModelDir;

pub use crate::models::SENTENCE_MODEL;
/// Its vectors' length.
pub const SENTENCE_DIM: usize = 384;
/// Phrases longer than this (in tokens) are cut: class definitions are far shorter.
const MAX_TOKENS: usize = 128;

pub struct SentenceEmbedder {
    session: Session,
    tokenizer: Tokenizer,
}

impl SentenceEmbedder {
    pub fn load(models: &ModelDir, threads: usize) -> Result<SentenceEmbedder> {
        let model = models.file(format!("{SENTENCE_MODEL}.onnx"));
        let vocab = models.file(format!("{SENTENCE_MODEL}.tokenizer.json"));
        for p in [&model, &vocab] {
            if !p.is_file() {
                return Err(Error::ModelMissing {
                    name: SENTENCE_MODEL.into(),
                    hint: format!("no {} ; install it with models/install.sh", p.display()),
                });
            }
        }
        let mut tokenizer = Tokenizer::from_file(&vocab).map_err(|e| Error::Model {
            name: SENTENCE_MODEL.into(),
            message: format!("cannot read {}: {e}", vocab.display()),
        })?;
        // The file pads every phrase to 128 tokens; a batch is padded to its longest instead.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| Error::Model { name: SENTENCE_MODEL.into(), message: e.to_string() })?;
        Ok(SentenceEmbedder { session: load_session(models, SENTENCE_MODEL, &model, threads)?, tokenizer })
    }

    /// The token ids of `text`, with the model's [CLS] and [SEP] around them.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::Model { name: SENTENCE_MODEL.into(), message: e.to_string() })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// One unit vector per text, in order.
    pub fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        // Batches of similar work: the batch is padded to its longest phrase.
        for batch in texts.chunks(32) {
            let ids: Vec<Vec<u32>> = batch.iter().map(|t| self.token_ids(t)).collect::<Result<_>>()?;
            let width = ids.iter().map(Vec::len).max().unwrap_or(0).max(1);
            let mut input = Vec::with_capacity(batch.len() * width);
            let mut mask = Vec::with_capacity(batch.len() * width);
            for row in &ids {
                input.extend(row.iter().map(|&i| i as i64));
                mask.extend(std::iter::repeat_n(1i64, row.len()));
                input.extend(std::iter::repeat_n(0i64, width - row.len()));
                mask.extend(std::iter::repeat_n(0i64, width - row.len()));
            }
            let n = batch.len();
            let outputs = self.session.run(ort::inputs![
                "input_ids" => Tensor::from_array(([n, width], input))?,
                "attention_mask" => Tensor::from_array(([n, width], mask))?,
            ])?;
            let (_, data) = outputs["embedding"].try_extract_tensor::<f32>()?;
            if data.len() != n * SENTENCE_DIM {
                return Err(Error::Model {
                    name: SENTENCE_MODEL.into(),
                    message: format!("made {} floats for {n} phrases, expected {}-d vectors", data.len(), SENTENCE_DIM),
                });
            }
            out.extend(data.chunks_exact(SENTENCE_DIM).map(|v| v.to_vec()));
        }
        Ok(out)
    }
}
