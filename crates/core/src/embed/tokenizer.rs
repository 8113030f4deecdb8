//! CLIP's byte-pair tokenizer, run by Hugging Face's `tokenizers`.
//!
//! Text is cleaned here as CLIP's own tokenizer does (HTML entities twice,
//! whitespace, lower case); `tokenizers` then splits it by CLIP's pattern,
//! maps each piece's bytes to printable characters (byte level) and merges
//! them by the vocabulary's ranked byte pairs, each word ending in `</w>`.
//! A query is `<start>` + tokens + `<end>`, cut to 77 with `<end>` kept last,
//! padded with 0. The vocabulary and merges are built from CLIP's own
//! `bpe_simple_vocab_16e6.txt.gz`, so the ids are CLIP's (tested against
//! OpenAI's reference tokenizer).

use std::io::Read;
use std::path::Path;

use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{SplitDelimiterBehavior, Tokenizer};

use crate::error::{Error, Result};

pub const CONTEXT: usize = 77;
pub const START: u32 = 49406;
pub const END: u32 = 49407;
/// Merges used from the vocabulary file: 49152 - 256 - 2 lines after its header.
const MERGES: usize = 49152 - 256 - 2;
/// CLIP's pre-split pattern (clip/simple_tokenizer.py), on lower-cased text.
const PATTERN: &str = r"(?i)<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

pub struct ClipTokenizer {
    tokenizer: Tokenizer,
}

/// GPT-2's reversible map from bytes to printable characters, in the order
/// CLIP's vocabulary lists them (printable bytes first).
fn bytes_to_unicode() -> Vec<char> {
    let mut order: Vec<u32> = (b'!' as u32..=b'~' as u32).collect();
    order.extend(0xA1..=0xAC);
    order.extend(0xAE..=0xFF);
    let printable = order.len();
    let mut chars: Vec<char> = order.iter().map(|&b| char::from_u32(b).expect("valid code point")).collect();
    for b in 0..256u32 {
        if !order[..printable].contains(&b) {
            chars.push(char::from_u32(256 + (order.len() - printable) as u32).expect("valid code point"));
            order.push(b);
        }
    }
    chars
}

fn model_error(e: impl std::fmt::Display) -> Error {
    Error::Model { name: "clip-vit-b32-text".into(), message: format!("the CLIP tokenizer: {e}") }
}

impl ClipTokenizer {
    /// Load the gzipped merges file (`bpe_simple_vocab_16e6.txt.gz`).
    pub fn open(path: &Path) -> Result<ClipTokenizer> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(file).read_to_string(&mut text).map_err(|e| Error::io(path, e))?;
        Self::from_merges(&text)
    }

    pub fn from_merges(text: &str) -> Result<ClipTokenizer> {
        let merges: Vec<(String, String)> = text
            .lines()
            .skip(1)
            .take(MERGES)
            .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect();
        // The vocabulary as CLIP builds it: the bytes, the bytes ending a
        // word, every merge, then the two special tokens.
        let bytes = bytes_to_unicode();
        let mut tokens: Vec<String> = bytes.iter().map(|c| c.to_string()).collect();
        tokens.extend(bytes.iter().map(|c| format!("{c}</w>")));
        tokens.extend(merges.iter().map(|(a, b)| format!("{a}{b}")));
        tokens.push("<|startoftext|>".into());
        tokens.push("<|endoftext|>".into());
        let vocab: Vocab = tokens.into_iter().enumerate().map(|(i, t)| (t, i as u32)).collect();
        let bpe = BPE::builder().vocab_and_merges(vocab, merges).end_of_word_suffix("</w>".into()).build().map_err(model_error)?;
        let split = Split::new(SplitPattern::Regex(PATTERN.into()), SplitDelimiterBehavior::Removed, true).map_err(model_error)?;
        let mut tokenizer = Tokenizer::new(bpe);
        tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![split.into(), ByteLevel::new(false, false, false).into()])));
        Ok(ClipTokenizer { tokenizer })
    }

    /// Token ids of `text`, without start, end or padding.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let once = html_escape::decode_html_entities(text);
        let twice = html_escape::decode_html_entities(&once);
        let clean = twice.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        // Byte-level BPE over a vocabulary holding every byte cannot fail on any text.
        self.tokenizer.encode(clean, false).map(|e| e.get_ids().to_vec()).unwrap_or_default()
    }

    /// The model's input: 77 ids, start and end included, zero padded; long
    /// text is cut with the end token kept.
    pub fn tokenize(&self, text: &str) -> [i64; CONTEXT] {
        let mut ids = vec![START];
        ids.extend(self.encode(text));
        ids.truncate(CONTEXT - 1);
        ids.push(END);
        let mut out = [0i64; CONTEXT];
        for (o, id) in out.iter_mut().zip(ids) {
            *o = id as i64;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenizer() -> ClipTokenizer {
        let dir = std::env::var_os("PHOTOFINDER_MODELS_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/models"));
        ClipTokenizer::open(&dir.join("clip-bpe-vocab.txt.gz"))
            .expect("the CLIP vocabulary: run scripts/test (models/install.sh installs it)")
    }

    fn ids(t: &ClipTokenizer, text: &str) -> Vec<i64> {
        t.tokenize(text).into_iter().filter(|&i| i != 0).collect()
    }

    /// Expected ids come from OpenAI's reference tokenizer (clip/simple_tokenizer.py).
    #[test]
    fn matches_the_reference_tokenizer() {
        let t = tokenizer();
        let cases: &[(&str, &[i64])] = &[
            ("a photo of a cat", &[49406, 320, 1125, 539, 320, 2368, 49407]),
            ("A Photo of a CAT!!", &[49406, 320, 1125, 539, 320, 2368, 748, 49407]),
            (
                "Hello, world... (really?) 123 4567",
                &[49406, 3306, 267, 1002, 678, 263, 1414, 9626, 272, 273, 274, 275, 276, 277, 278, 49407],
            ),
            ("an emoji \u{1f408}\u{200d}\u{2b1b} and \u{1f4f7}", &[49406, 550, 16327, 2074, 230, 4244, 7930, 505, 537, 5551, 49407]),
            ("caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e", &[49406, 15304, 1075, 12138, 614, 711, 127, 119, 75, 13489, 49407]),
            ("&amp; &lt;tag&gt;", &[49406, 261, 283, 3640, 285, 49407]),
            ("it's the dog's ball, isn't it", &[49406, 585, 568, 518, 1929, 568, 1069, 267, 2923, 713, 585, 49407]),
            ("   lots   of\tspace\n", &[49406, 2958, 539, 2138, 49407]),
            ("", &[49406, 49407]),
        ];
        for (text, want) in cases {
            assert_eq!(ids(&t, text), *want, "{text:?}");
        }
        let full = t.tokenize("a photo of a cat");
        assert_eq!(full.len(), CONTEXT);
        assert!(full[7..].iter().all(|&i| i == 0), "zero padded");
    }

    #[test]
    fn long_text_is_cut_to_77_with_the_end_token_last() {
        let t = tokenizer();
        let long = "a very long caption about photos ".repeat(20);
        let out = t.tokenize(&long);
        assert_eq!(out[0], START as i64);
        assert_eq!(out[CONTEXT - 1], END as i64);
        assert!(out.iter().all(|&i| i != 0));
        // The reference: the sentence's six tokens repeated, cut at 75.
        let sentence = [320, 1070, 1538, 11327, 781, 2479];
        for (i, id) in out[1..CONTEXT - 1].iter().enumerate() {
            assert_eq!(*id, sentence[i % 6]);
        }
    }
}
