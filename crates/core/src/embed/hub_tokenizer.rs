//! The tokenizer of a hub model's text tower, from its `tokenizer.json`.
//!
//! Hugging Face's `tokenizers` reads the file (BPE for OpenCLIP's models,
//! SentencePiece for SigLIP 2's Gemma and for XLM-RoBERTa); what the file
//! does not say comes from the model's configs, as the models were trained:
//! the context length (`config.json` `text_cfg.context_length`), the padding
//! token (`tokenizer_config.json` `pad_token`), and whether text is
//! canonicalised first (`text_cfg.tokenizer_kwargs.clean`, SigLIP's lower
//! case without punctuation).

use std::path::Path;

use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::error::{Error, Result};

pub struct HubTokenizer {
    tokenizer: Tokenizer,
    context: usize,
    canonicalize: bool,
}

/// A tower's token ids and attention mask, `context` long.
pub struct Tokens {
    pub ids: Vec<i64>,
    pub mask: Vec<i64>,
}

impl HubTokenizer {
    /// `tokenizer.json` with its `tokenizer_config.json` beside it (same
    /// stem), and the model's `config.json`; `context` is the manifest's
    /// length, used where the config names none.
    pub fn open(tokenizer: &Path, tokenizer_config: &Path, model_config: &Path, context: usize, name: &str) -> Result<HubTokenizer> {
        let bad = |message: String| Error::Model { name: name.to_string(), message };
        let json = |p: &Path| -> Result<serde_json::Value> {
            match std::fs::read(p) {
                Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| bad(format!("{}: {e}", p.display()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::Value::Null),
                Err(e) => Err(Error::io(p, e)),
            }
        };
        let config = json(model_config)?;
        let text_cfg = &config["text_cfg"];
        let context = text_cfg["context_length"].as_u64().map_or(context, |c| c as usize);
        let canonicalize = text_cfg["tokenizer_kwargs"]["clean"].as_str() == Some("canonicalize");
        let mut tokenizer = Tokenizer::from_file(tokenizer).map_err(|e| bad(format!("{}: {e}", tokenizer.display())))?;
        let pad_token = match &json(tokenizer_config)?["pad_token"] {
            serde_json::Value::String(s) => Some(s.clone()),
            // Some configs spell it as an added-token object.
            v => v["content"].as_str().map(str::to_string),
        };
        let (pad_token, pad_id) = match pad_token.as_deref().and_then(|t| Some((t, tokenizer.token_to_id(t)?))) {
            Some((t, id)) => (t.to_string(), id),
            None => ("<pad>".to_string(), 0),
        };
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::Fixed(context),
            pad_id,
            pad_token,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: context, ..Default::default() }))
            .map_err(|e| bad(format!("tokenizer truncation: {e}")))?;
        Ok(HubTokenizer { tokenizer, context, canonicalize })
    }

    /// The tower's input for `text`: whitespace collapsed (and, for models
    /// trained so, lower case without punctuation), special tokens added as
    /// the file says, cut or padded to the context length.
    pub fn tokenize(&self, text: &str) -> Result<Tokens> {
        let mut clean = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if self.canonicalize {
            clean = clean.chars().filter(|c| !c.is_ascii_punctuation()).collect::<String>().to_lowercase();
            clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        let encoding = self
            .tokenizer
            .encode(clean, true)
            .map_err(|e| Error::BadQuery(format!("cannot tokenize {text:?}: {e}")))?;
        let mut ids: Vec<i64> = encoding.get_ids().iter().map(|&i| i as i64).collect();
        let mut mask: Vec<i64> = encoding.get_attention_mask().iter().map(|&m| m as i64).collect();
        // Padding and truncation make it `context` long already; a file
        // that overrides them must not change the tower's input shape.
        ids.resize(self.context, 0);
        mask.resize(self.context, 0);
        Ok(Tokens { ids, mask })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real tokenizer.json from a registry (all-MiniLM-L6-v2's BERT
    /// WordPiece, installed by models/install.sh) with configs as the hub
    /// ships them.
    fn tokenizer(dir: &Path, config: serde_json::Value, pad: &str) -> HubTokenizer {
        let models = std::env::var_os("PHOTOFINDER_MODELS_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/models"));
        let json = models.join("minilm-l6.tokenizer.json");
        assert!(json.is_file(), "run scripts/test: models/install.sh installs {}", json.display());
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        std::fs::write(dir.join("tokenizer_config.json"), serde_json::json!({ "pad_token": pad }).to_string()).unwrap();
        HubTokenizer::open(&json, &dir.join("tokenizer_config.json"), &dir.join("config.json"), 77, "test").unwrap()
    }

    #[test]
    fn the_configs_context_and_padding_token_shape_the_input() {
        let dir = tempfile::tempdir().unwrap();
        // SigLIP 2's layout: 64 tokens, text canonicalised.
        let t = tokenizer(dir.path(), serde_json::json!({"text_cfg": {"context_length": 64, "tokenizer_kwargs": {"clean": "canonicalize"}}}), "[PAD]");
        let a = t.tokenize("A photo of a CAT!").unwrap();
        assert_eq!(a.ids.len(), 64);
        assert_eq!(a.mask.len(), 64);
        let pad = t.tokenizer.token_to_id("[PAD]").unwrap() as i64;
        let used = a.mask.iter().filter(|&&m| m == 1).count();
        // [CLS] a photo of a cat [SEP]
        assert_eq!(used, 7, "{:?}", a.ids);
        assert!(a.ids[used..].iter().all(|&i| i == pad), "padded with the config's token");
        assert_eq!(a.ids, t.tokenize("a   photo of a cat").unwrap().ids, "canonical: case, punctuation and spaces do not matter");

        // Long text is cut to the context.
        let long = t.tokenize(&"many words ".repeat(100)).unwrap();
        assert_eq!(long.ids.len(), 64);
        assert!(long.mask.iter().all(|&m| m == 1));
    }

    #[test]
    fn without_a_context_in_the_config_the_manifests_is_used_and_text_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let t = tokenizer(dir.path(), serde_json::json!({"text_cfg": {}}), "[PAD]");
        let a = t.tokenize("A photo of a CAT!").unwrap();
        assert_eq!(a.ids.len(), 77);
        // Punctuation kept: one more token than the canonical form.
        assert_eq!(a.mask.iter().filter(|&&m| m == 1).count(), 8, "{:?}", a.ids);
    }
}
